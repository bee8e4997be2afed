/*
 * chat_relay_batched.c - raw-C libuv baseline chat relay that batches writes.
 *
 * Same protocol, reads and limits as chat_relay.c (chat_lines.h): every LF-terminated line a
 * client sends is written, byte for byte (CR and all), to every OTHER
 * connected client, and lines longer than MAX_LINE bytes are dropped up to
 * and including the next LF.
 *
 * The difference is the write path, which is what UVLoop does: a line is not
 * written at once.  A reference to it is appended to each recipient's pending
 * list, and once per loop iteration -- in a uv_check handle, i.e. right after
 * poll has run every read callback -- each recipient with pending lines gets
 * ONE uv_write with one buffer per line (a writev).  So 10 senders' lines to
 * one recipient in the same iteration cost one system call, not 10.
 *
 * Allocations, in the steady state: one per line (the refcounted line), plus
 * whatever libuv allocates for a uv_write of more than 4 buffers.  Write
 * requests come from a free list and keep their arrays; a client's pending
 * array is swapped into the request, not copied.
 *
 * An idle client costs its struct client (uv_tcp_t plus ~64 bytes); its
 * pending array is allocated on its first delivery.
 */
#include "chat_lines.h"

#define POOL_LIMIT 4096         /* write requests kept for reuse */

struct client {
    uv_tcp_t tcp;               /* first member: (struct client *)handle */
    struct client *prev, *next;
    struct line_splitter lines;
    struct outbox out;          /* lines queued this iteration */
};

/* One uv_write of n lines.  Pooled: its arrays are kept between uses. */
struct write_req {
    uv_write_t req;
    struct write_req *next_free;
    struct line **lines;
    unsigned n, cap;            /* cap: capacity of lines (swapped with clients) */
    uv_buf_t *bufs;
    unsigned bufs_cap;
};

static uv_check_t flusher;
static struct client *clients;  /* doubly-linked list of live clients */

static struct write_req *free_reqs;
static unsigned nfree_reqs;

static void on_close(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    outbox_release(&c->out);
    free(c->out.lines);
    splitter_free(&c->lines);
    free(c);
}

/* Unlink (so no new lines are queued to it) and close.  Pending writes are
 * cancelled by libuv; their callbacks still run and drop their references.
 * Lines still pending on the client are released by the flush (it skips
 * closing clients) or by on_close, which runs after this iteration's check. */
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

static struct write_req *req_take(void)
{
    struct write_req *wr = free_reqs;
    if (wr != NULL) {
        free_reqs = wr->next_free;
        nfree_reqs--;
        return wr;
    }
    wr = xmalloc(sizeof *wr);
    memset(wr, 0, sizeof *wr);
    return wr;
}

static void req_give(struct write_req *wr)
{
    if (nfree_reqs >= POOL_LIMIT) {
        free(wr->lines);
        free(wr->bufs);
        free(wr);
        return;
    }
    wr->next_free = free_reqs;
    free_reqs = wr;
    nfree_reqs++;
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *wr = (struct write_req *)req;
    for (unsigned i = 0; i < wr->n; i++)
        line_unref(wr->lines[i]);
    wr->n = 0;
    if (status < 0 && status != UV_ECANCELED)
        client_drop((struct client *)req->handle);
    req_give(wr);
}

/* Hands one client's pending lines to libuv as one uv_write. */
static void flush_client(struct client *c)
{
    c->out.dirty = 0;
    if (c->out.n == 0)
        return;
    if (uv_is_closing((uv_handle_t *)&c->tcp)) {
        outbox_release(&c->out);
        return;
    }
    struct write_req *wr = req_take();
    /* Swap arrays: the request takes the pending lines, the client gets the
     * request's old (empty) array for the next iteration. */
    struct line **lines = wr->lines;
    unsigned cap = wr->cap;
    wr->lines = c->out.lines;
    wr->cap = c->out.cap;
    wr->n = c->out.n;
    c->out.lines = lines;
    c->out.cap = cap;
    c->out.n = 0;

    if (wr->bufs_cap < wr->n) {
        free(wr->bufs);
        wr->bufs_cap = wr->cap;
        wr->bufs = xmalloc(sizeof *wr->bufs * wr->bufs_cap);
    }
    for (unsigned i = 0; i < wr->n; i++)
        wr->bufs[i] = uv_buf_init(wr->lines[i]->data, wr->lines[i]->len);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, wr->bufs, wr->n, on_write) != 0) {
        for (unsigned i = 0; i < wr->n; i++)
            line_unref(wr->lines[i]);
        wr->n = 0;
        req_give(wr);
        client_drop(c);
    }
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
    uv_check_init(loop, &flusher);
    uv_check_start(&flusher, on_check);
    return uv_run(loop, UV_RUN_DEFAULT);
}
