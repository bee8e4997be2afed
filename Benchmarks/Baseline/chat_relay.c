/*
 * chat_relay.c - raw-C libuv baseline chat relay.
 *
 * Every LF-terminated line a client sends is written, byte for byte (CR and
 * all), to every OTHER connected client.  One uv_write per recipient per line;
 * the line's bytes live in one refcounted buffer shared by all recipients and
 * freed when the last write completes (or is cancelled).
 *
 * Reads go into one static buffer (handed out by on_alloc and consumed before
 * the next read), so an idle client costs only its struct client.  Only an
 * unfinished line at the end of a read is copied into a per-client buffer.
 *
 * Lines longer than MAX_LINE bytes (terminator included) are discarded up to
 * and including the next LF (chat_lines.h).
 */
#include "chat_lines.h"

struct client {
    uv_tcp_t tcp;               /* first member: (struct client *)handle */
    struct client *prev, *next;
    struct line_splitter lines;
};

struct write_req {
    uv_write_t req;
    struct line *line;
};

static struct client *clients;  /* doubly-linked list of live clients */

static void on_close(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    splitter_free(&c->lines);
    free(c);
}

/* Unlink (so no new writes are queued to it) and close.  Pending writes are
 * cancelled by libuv; their callbacks still run and drop their references. */
static void client_drop(struct client *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *wr = (struct write_req *)req;
    line_unref(wr->line);
    if (status < 0 && status != UV_ECANCELED)
        client_drop((struct client *)req->handle);
    free(wr);
}

/* Writes l to every client but sender; takes ownership of l (refs must be 1). */
static void broadcast(void *sender, struct line *l)
{
    uv_buf_t buf = uv_buf_init(l->data, l->len);
    struct client *c, *next;

    for (c = clients; c != NULL; c = next) {
        next = c->next;
        if (c == sender)
            continue;
        struct write_req *wr = xmalloc(sizeof *wr);
        wr->line = l;
        if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) == 0) {
            l->refs++;
        } else {
            free(wr);
            client_drop(c);
        }
    }
    line_unref(l);   /* our own reference */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = (struct client *)s;
    if (nread < 0) {                    /* UV_EOF or an error */
        client_drop(c);
        return;
    }
    split_lines(&c->lines, buf->base, (size_t)nread, broadcast, c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) {
        fprintf(stderr, "accept: %s\n", uv_strerror(status));
        return;
    }
    struct client *c = xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    if (server_accept(srv, &c->tcp, on_read, on_close) != 0)
        return;
    c->next = clients;
    if (clients)
        clients->prev = c;
    clients = c;
}

int main(int argc, char **argv)
{
    server_start(argc, argv, "ChatServer", 3000, NULL, on_connection);
    return uv_run(loop, UV_RUN_DEFAULT);
}
