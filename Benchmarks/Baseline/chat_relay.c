/*
 * chat_relay.c - raw-C libuv baseline chat relay.
 *
 * Every LF-terminated line a client sends is written, byte for byte (CR and
 * all), to every OTHER connected client.  One uv_write per recipient per line;
 * the line's bytes live in one refcounted buffer shared by all recipients and
 * freed when the last write completes (or is cancelled).
 *
 * Reads go into one static buffer (handed out by alloc_cb and consumed before
 * the next read), so an idle client costs only its struct client.  Only an
 * unfinished line at the end of a read is copied into a per-client buffer.
 *
 * Lines longer than MAX_LINE bytes (terminator included) are discarded up to
 * and including the next LF.
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
};

struct write_req {
    uv_write_t req;
    struct line *line;
};

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_int, sig_term;
static struct client *clients;  /* doubly-linked list of live clients */
static char read_buf[READ_BUF_SIZE];

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
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

static void on_close(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    free(c->part);
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

/* Write l to every client but sender; takes ownership of l (refs must be 1). */
static void broadcast(struct client *sender, struct line *l)
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
            /* Over-long: drop what we have and what follows up to LF. */
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
                    l = realloc(l, sizeof *l + l->len + n);
                if (l == NULL) {
                    fprintf(stderr, "out of memory\n");
                    abort();
                }
                c->part = NULL;
                c->part_cap = 0;
            } else {
                l = line_new((unsigned)n);
            }
            memcpy(l->data + l->len, p, n);
            l->len += (unsigned)n;
            broadcast(c, l);
        } else {
            /* Unfinished line at the end of the read: keep a copy. */
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
                struct line *l = realloc(c->part, sizeof *l + cap);
                if (l == NULL) {
                    fprintf(stderr, "out of memory\n");
                    abort();
                }
                c->part = l;
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

    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);

    printf("ChatServer starting up on port %d\n", port);
    fflush(stdout);

    return uv_run(loop, UV_RUN_DEFAULT);
}
