/*
 * echo_server.c - raw-C libuv baseline echo server.
 *
 * Writes every byte received back on the same connection, as received.
 * Reads go into one static buffer; each read is copied into a single
 * allocation holding both the uv_write_t and the bytes, freed in the write
 * callback.
 */
#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define READ_BUF_SIZE (64 * 1024)
#define BACKLOG 4096

struct write_req {
    uv_write_t req;
    char data[];
};

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_int, sig_term;
static char read_buf[READ_BUF_SIZE];

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void drop(uv_stream_t *s)
{
    if (!uv_is_closing((uv_handle_t *)s))
        uv_close((uv_handle_t *)s, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    if (status < 0 && status != UV_ECANCELED)
        drop(req->handle);
    free(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread < 0) {                    /* UV_EOF or an error */
        drop(s);
        return;
    }
    if (nread == 0)
        return;
    struct write_req *wr = malloc(sizeof *wr + (size_t)nread);
    if (wr == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    memcpy(wr->data, buf->base, (size_t)nread);
    uv_buf_t out = uv_buf_init(wr->data, (unsigned)nread);
    if (uv_write(&wr->req, s, &out, 1, on_write) != 0) {
        free(wr);
        drop(s);
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) {
        fprintf(stderr, "accept: %s\n", uv_strerror(status));
        return;
    }
    uv_tcp_t *c = malloc(sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    uv_tcp_init(loop, c);
    if (uv_accept(srv, (uv_stream_t *)c) != 0) {
        uv_close((uv_handle_t *)c, on_close);
        return;
    }
    uv_tcp_nodelay(c, 1);
    if (uv_read_start((uv_stream_t *)c, on_alloc, on_read) != 0)
        uv_close((uv_handle_t *)c, on_close);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    printf("EchoServer exiting.\n");
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
    int port = 3001;
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

    printf("EchoServer starting up on port %d\n", port);
    fflush(stdout);

    return uv_run(loop, UV_RUN_DEFAULT);
}
