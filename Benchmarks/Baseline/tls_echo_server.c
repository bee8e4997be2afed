/*
 * tls_echo_server.c - raw-C libuv + OpenSSL baseline echo server over TLS.
 *
 * echo_server.c behind TLS 1.2/1.3: every byte of plaintext received is
 * written back on the same connection.  libuv does the I/O and OpenSSL runs
 * over two memory BIOs (tls_conn.h): each libuv read is decrypted, each
 * plaintext chunk is encrypted with one SSL_write and its ciphertext leaves
 * in one uv_write.
 */
#include "tls_conn.h"

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
static SSL_CTX *ctx;
static char read_buf[READ_BUF_SIZE];

static void on_close(uv_handle_t *h)
{
    struct tls_conn *c = (struct tls_conn *)h;
    SSL_free(c->ssl);           /* frees both BIOs */
    free(c);
}

static void drop(struct tls_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_plain(struct tls_conn *c, const char *data, size_t n)
{
    if (tls_send(c, data, n) != 0)
        drop(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tls_conn *c = (struct tls_conn *)s;
    if (nread < 0) {                    /* UV_EOF or an error */
        drop(c);
        return;
    }
    if (nread == 0 || c->finishing)
        return;
    int r = tls_feed(c, buf->base, (size_t)nread, NULL, on_plain);
    if (r < 0)
        drop(c);
    else if (r > 0)
        tls_finish(c, on_close);
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) {
        fprintf(stderr, "accept: %s\n", uv_strerror(status));
        return;
    }
    struct tls_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 || tls_conn_init(c, ctx) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        uv_close((uv_handle_t *)&c->tcp, on_close);
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
    fprintf(stderr, "usage: %s --cert FILE --key FILE [--host ADDR] [--port N]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "0.0.0.0", *cert = NULL, *key = NULL;
    int port = 3443;
    struct sockaddr_in addr;
    int r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
            cert = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
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
    if (cert == NULL || key == NULL)
        usage(argv[0]);

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    ctx = tls_server_ctx(cert, key);

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

    printf("EchoServer starting up on port %d (TLS)\n", port);
    fflush(stdout);

    return uv_run(loop, UV_RUN_DEFAULT);
}
