/*
 * tls_chat_relay.c - raw-C libuv + OpenSSL baseline chat relay over TLS,
 * batched like chat_relay_batched.c.
 *
 * Same protocol, reads, line splitting and limits as chat_relay_batched.c
 * (chat_lines.h),
 * behind TLS 1.2/1.3: every LF-terminated line of plaintext a client sends is
 * relayed, byte for byte, to every OTHER client whose handshake has finished;
 * lines longer than MAX_LINE bytes are dropped up to and including the next
 * LF.  A client joins the room when its handshake finishes.
 *
 * Writes are batched per loop iteration as in chat_relay_batched.c: a line is
 * queued (by reference) on each recipient, and a uv_check handle -- after
 * every read callback of the iteration -- gives each recipient with pending
 * lines ONE SSL_write of all of them (copied into one plaintext buffer, so
 * they share TLS records) and ONE uv_write of the resulting ciphertext.
 *
 * OpenSSL runs over two memory BIOs per connection (tls_conn.h); its record
 * buffers are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS).
 */
#include "chat_lines.h"
#include "tls_conn.h"

struct client {
    struct tls_conn tls;        /* first member: (struct client *)handle */
    struct client *prev, *next;
    int linked;                 /* in the room (handshake finished, not dropped) */
    struct line_splitter lines;
    struct outbox out;          /* lines queued this iteration */
};

static uv_check_t flusher;
static struct client *clients;  /* doubly-linked list of clients in the room */

static char *batch;             /* one recipient's pending lines, as one plaintext */
static size_t batch_cap;

static void on_close(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    outbox_release(&c->out);
    free(c->out.lines);
    splitter_free(&c->lines);
    SSL_free(c->tls.ssl);       /* frees both BIOs */
    free(c);
}

/* Takes c out of the room, so no new lines are queued to it. */
static void client_unlink(struct client *c)
{
    if (!c->linked)
        return;
    c->linked = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Unlink and close.  Pending writes are cancelled by libuv; lines still
 * pending on the client are released by the flush (it skips closing clients)
 * or by on_close, which runs after this iteration's check. */
static void client_drop(struct client *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tls.tcp))
        return;
    client_unlink(c);
    uv_close((uv_handle_t *)&c->tls.tcp, on_close);
}

/* Encrypts one client's pending lines with one SSL_write and hands the
 * ciphertext to libuv as one uv_write. */
static void flush_client(struct client *c)
{
    c->out.dirty = 0;
    if (c->out.n == 0)
        return;
    if (uv_is_closing((uv_handle_t *)&c->tls.tcp) || c->tls.finishing) {
        outbox_release(&c->out);
        return;
    }
    size_t n = 0;
    for (unsigned i = 0; i < c->out.n; i++)
        n += c->out.lines[i]->len;
    if (n > batch_cap) {
        batch_cap = n * 2;
        batch = xrealloc(batch, batch_cap);
    }
    n = 0;
    for (unsigned i = 0; i < c->out.n; i++) {
        memcpy(batch + n, c->out.lines[i]->data, c->out.lines[i]->len);
        n += c->out.lines[i]->len;
    }
    outbox_release(&c->out);
    if (tls_send(&c->tls, batch, n) != 0)
        client_drop(c);
}

/* The check phase runs right after poll, i.e. after this iteration's reads. */
static void on_check(uv_check_t *h)
{
    (void)h;
    for (unsigned i = 0; i < ndirty; i++)
        flush_client(dirty[i]);
    ndirty = 0;
}

/* Queues l to every client but sender; takes ownership of l (refs must be 1). */
static void broadcast(void *sender, struct line *l)
{
    for (struct client *c = clients; c != NULL; c = c->next) {
        if (c != sender)
            outbox_push(&c->out, c, l);
    }
    line_unref(l);   /* our own reference */
}

/* The handshake finished: the client joins the room. */
static void on_established(struct tls_conn *t)
{
    struct client *c = (struct client *)t;
    c->linked = 1;
    c->next = clients;
    if (clients)
        clients->prev = c;
    clients = c;
}

/* Plaintext from one client: split into lines as chat_relay_batched.c does. */
static void on_plain(struct tls_conn *t, const char *data, size_t len)
{
    struct client *c = (struct client *)t;
    split_lines(&c->lines, data, len, broadcast, c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = (struct client *)s;
    if (nread < 0) {                    /* UV_EOF or an error */
        client_drop(c);
        return;
    }
    if (nread == 0 || c->tls.finishing)
        return;
    int r = tls_feed(&c->tls, buf->base, (size_t)nread, on_established, on_plain);
    if (r < 0) {
        client_drop(c);
    } else if (r > 0) {                 /* close_notify: leave the room, answer, close */
        client_unlink(c);
        outbox_release(&c->out);
        tls_finish(&c->tls, on_close);
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) {
        fprintf(stderr, "accept: %s\n", uv_strerror(status));
        return;
    }
    struct client *c = xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    tls_accept(srv, &c->tls, on_read, on_close);
}

int main(int argc, char **argv)
{
    tls_server_start(argc, argv, "ChatServer", on_connection);
    uv_check_init(loop, &flusher);
    uv_check_start(&flusher, on_check);
    return uv_run(loop, UV_RUN_DEFAULT);
}
