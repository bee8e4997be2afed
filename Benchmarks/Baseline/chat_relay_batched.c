/*
 * chat_relay_batched.c - raw-C libuv baseline chat relay that batches writes.
 *
 * Same protocol, reads and limits as chat_relay.c: every LF-terminated line a
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
#include <uv.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_LINE (64 * 1024)
#define READ_BUF_SIZE (64 * 1024)
#define BACKLOG 4096
#define POOL_LIMIT 4096         /* write requests kept for reuse */

struct line {
    unsigned refs;
    unsigned len;
    char data[];
};

struct client {
    uv_tcp_t tcp;               /* first member: (struct client *)handle */
    struct client *prev, *next;
    struct line *part;          /* unfinished line, NULL if none */
    unsigned part_cap;
    int discarding;             /* dropping an over-long line until LF */
    struct line **pending;      /* lines queued this iteration */
    unsigned npending, pending_cap;
    int dirty;                  /* on the dirty list */
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

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_check_t flusher;
static uv_signal_t sig_int, sig_term;
static struct client *clients;  /* doubly-linked list of live clients */
static char read_buf[READ_BUF_SIZE];

static struct client **dirty;   /* clients with pending lines, flushed in check */
static unsigned ndirty, dirty_cap;

static struct write_req *free_reqs;
static unsigned nfree_reqs;

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static void line_unref(struct line *l)
{
    if (--l->refs == 0)
        free(l);
}

static void release_pending(struct client *c)
{
    for (unsigned i = 0; i < c->npending; i++)
        line_unref(c->pending[i]);
    c->npending = 0;
}

static void on_close(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    release_pending(c);
    free(c->pending);
    free(c->part);
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
    c->dirty = 0;
    if (c->npending == 0)
        return;
    if (uv_is_closing((uv_handle_t *)&c->tcp)) {
        release_pending(c);
        return;
    }
    struct write_req *wr = req_take();
    /* Swap arrays: the request takes the pending lines, the client gets the
     * request's old (empty) array for the next iteration. */
    struct line **lines = wr->lines;
    unsigned cap = wr->cap;
    wr->lines = c->pending;
    wr->cap = c->pending_cap;
    wr->n = c->npending;
    c->pending = lines;
    c->pending_cap = cap;
    c->npending = 0;

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
static void broadcast(struct client *sender, struct line *l)
{
    for (struct client *c = clients; c != NULL; c = c->next) {
        if (c == sender)
            continue;
        if (c->npending == c->pending_cap) {
            c->pending_cap = c->pending_cap ? c->pending_cap * 2 : 16;
            c->pending = xrealloc(c->pending, sizeof *c->pending * c->pending_cap);
        }
        c->pending[c->npending++] = l;
        l->refs++;
        if (!c->dirty) {
            if (ndirty == dirty_cap) {
                dirty_cap = dirty_cap ? dirty_cap * 2 : 1024;
                dirty = xrealloc(dirty, sizeof *dirty * dirty_cap);
            }
            dirty[ndirty++] = c;
            c->dirty = 1;
        }
    }
    line_unref(l);   /* our own reference */
}

static struct line *line_new(unsigned cap)
{
    struct line *l = xmalloc(sizeof *l + cap);
    l->refs = 1;
    l->len = 0;
    return l;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof read_buf);
}

/* Line splitting: identical to chat_relay.c. */
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = (struct client *)s;
    const char *p = buf->base, *end = buf->base + (nread > 0 ? nread : 0);

    if (nread < 0) {                    /* UV_EOF or an error */
        client_drop(c);
        return;
    }

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

        if (c->discarding) {
            if (nl)
                c->discarding = 0;
            p += n;
            continue;
        }

        size_t have = c->part ? c->part->len : 0;
        if (have + n > MAX_LINE || (!nl && have + n == MAX_LINE)) {
            free(c->part);
            c->part = NULL;
            c->part_cap = 0;
            c->discarding = (nl == NULL);
            p += n;
            continue;
        }

        if (nl) {
            struct line *l;
            if (c->part) {
                l = c->part;
                if (l->len + n > c->part_cap)
                    l = xrealloc(l, sizeof *l + l->len + n);
                c->part = NULL;
                c->part_cap = 0;
            } else {
                l = line_new((unsigned)n);
            }
            memcpy(l->data + l->len, p, n);
            l->len += (unsigned)n;
            broadcast(c, l);
        } else {
            if (c->part == NULL) {
                unsigned cap = n < 256 ? 256 : (unsigned)n;
                c->part = line_new(cap);
                c->part_cap = cap;
            } else if (c->part->len + n > c->part_cap) {
                unsigned cap = c->part_cap * 2;
                while (cap < c->part->len + n)
                    cap *= 2;
                if (cap > MAX_LINE)
                    cap = MAX_LINE;
                c->part = xrealloc(c->part, sizeof *c->part + cap);
                c->part_cap = cap;
            }
            memcpy(c->part->data + c->part->len, p, n);
            c->part->len += (unsigned)n;
        }
        p += n;
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
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    c->next = clients;
    if (clients)
        clients->prev = c;
    clients = c;
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    printf("ChatServer exiting.\n");
    fflush(stdout);
    exit(0);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            perror("setrlimit(RLIMIT_NOFILE)");
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--host ADDR] [--port N]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "0.0.0.0";
    int port = 3000;
    struct sockaddr_in addr;
    int r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *e;
            long v = strtol(argv[++i], &e, 10);
            if (*e != '\0' || v < 0 || v > 65535)
                usage(argv[0]);
            port = (int)v;
        } else {
            usage(argv[0]);
        }
    }

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    loop = uv_default_loop();
    if ((r = uv_ip4_addr(host, port, &addr)) != 0) {
        fprintf(stderr, "bad address %s: %s\n", host, uv_strerror(r));
        return 2;
    }
    uv_tcp_init(loop, &server);
    if ((r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&server, BACKLOG, on_connection)) != 0) {
        fprintf(stderr, "listen on %s:%d: %s\n", host, port, uv_strerror(r));
        return 1;
    }

    uv_check_init(loop, &flusher);
    uv_check_start(&flusher, on_check);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);

    printf("ChatServer starting up on port %d\n", port);
    fflush(stdout);

    return uv_run(loop, UV_RUN_DEFAULT);
}
