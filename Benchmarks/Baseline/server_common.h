/*
 * server_common.h - what every baseline server shares: allocation that aborts
 * on failure, the static read buffer, the options, the listener and the exit
 * on SIGINT/SIGTERM.
 *
 *     int main(int argc, char **argv)
 *     {
 *         server_start(argc, argv, "EchoServer", 3001, NULL, on_connection);
 *         return uv_run(loop, UV_RUN_DEFAULT);
 *     }
 *
 * Every server: --host ADDR (default 0.0.0.0) and --port N; SIGPIPE ignored;
 * the soft RLIMIT_NOFILE raised to the hard limit; prints "<name> starting up
 * on port N" and, on SIGINT or SIGTERM, "<name> exiting." and exits 0.
 */
#ifndef SERVER_COMMON_H
#define SERVER_COMMON_H

#include <uv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define READ_BUF_SIZE (64 * 1024)
#define BACKLOG 4096

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_int, sig_term;
static const char *server_name;         /* "EchoServer", "ChatServer": the exit message */
static char read_buf[READ_BUF_SIZE];    /* every read lands here and is consumed at once */

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

static inline void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return p;
}

/* Hands out the one static read buffer: a read is consumed before the next. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    printf("%s exiting.\n", server_name);
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

/* A server's own options: "--cert FILE" and the like.  Takes an option and its
 * value; returns 1 if it knows the option, 0 if not. */
struct server_options {
    const char *usage;                  /* the options it adds, for the usage line */
    const char *banner_suffix;          /* after "starting up on port N", e.g. " (TLS)" */
    int (*option)(const char *name, const char *value);
    int (*complete)(void);              /* 1 if every option it needs was given */
};

static void server_usage(const char *argv0, const struct server_options *extra)
{
    fprintf(stderr, "usage: %s %s[--host ADDR] [--port N]\n", argv0, extra ? extra->usage : "");
    exit(2);
}

/* Parses the options, listens on the default loop with on_connection and
 * handles SIGINT/SIGTERM; prints the banner.  Exits on a bad option or a
 * failure; the caller then adds its own handles and runs the loop.  A
 * server's own options come through extra (NULL if none). */
static void server_start(int argc, char **argv, const char *name, int port,
                         const struct server_options *extra, uv_connection_cb on_connection)
{
    const char *host = "0.0.0.0";
    struct sockaddr_in addr;
    int r;

    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            server_usage(argv[0], extra);
        } else if (strcmp(argv[i], "--host") == 0) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0) {
            char *e;
            long v = strtol(argv[++i], &e, 10);
            if (*e != '\0' || v < 0 || v > 65535)
                server_usage(argv[0], extra);
            port = (int)v;
        } else if (extra != NULL && extra->option(argv[i], argv[i + 1])) {
            i++;
        } else {
            server_usage(argv[0], extra);
        }
    }
    if (extra != NULL && extra->complete != NULL && !extra->complete())
        server_usage(argv[0], extra);

    server_name = name;
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    loop = uv_default_loop();
    if ((r = uv_ip4_addr(host, port, &addr)) != 0) {
        fprintf(stderr, "bad address %s: %s\n", host, uv_strerror(r));
        exit(2);
    }
    uv_tcp_init(loop, &server);
    if ((r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) != 0 ||
        (r = uv_listen((uv_stream_t *)&server, BACKLOG, on_connection)) != 0) {
        fprintf(stderr, "listen on %s:%d: %s\n", host, port, uv_strerror(r));
        exit(1);
    }
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);

    printf("%s starting up on port %d%s\n", name, port, extra ? extra->banner_suffix : "");
    fflush(stdout);
}

/* Accepts a connection into tcp (its struct zeroed by the caller), sets
 * TCP_NODELAY and starts reading.  On failure tcp is closed with close_cb;
 * returns 0 or -1. */
static inline int server_accept(uv_stream_t *srv, uv_tcp_t *tcp, uv_read_cb on_read, uv_close_cb close_cb)
{
    uv_tcp_init(loop, tcp);
    if (uv_accept(srv, (uv_stream_t *)tcp) != 0) {
        uv_close((uv_handle_t *)tcp, close_cb);
        return -1;
    }
    uv_tcp_nodelay(tcp, 1);
    if (uv_read_start((uv_stream_t *)tcp, on_alloc, on_read) != 0) {
        uv_close((uv_handle_t *)tcp, close_cb);
        return -1;
    }
    return 0;
}

#endif
