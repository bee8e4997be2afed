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
    tls_accept(srv, c, on_read, on_close);
}

int main(int argc, char **argv)
{
    tls_server_start(argc, argv, "EchoServer", on_connection);
    return uv_run(loop, UV_RUN_DEFAULT);
}
