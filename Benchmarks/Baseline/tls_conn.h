/*
 * tls_conn.h - the TLS plumbing shared by tls_echo_server.c and tls_chat_relay.c.
 *
 * libuv owns the socket; OpenSSL never sees it.  Each connection's SSL has
 * two memory BIOs (SSL_set_bio with two BIO_s_mem()):
 *
 *   libuv read -> BIO_write(rbio, ciphertext) -> SSL_do_handshake / SSL_read -> plaintext
 *   plaintext  -> SSL_write -> BIO_read(wbio)  -> one uv_write of the ciphertext
 *
 * After every step that can produce output (handshake, read, write, shutdown)
 * the write BIO is drained into one heap buffer and handed to libuv, so one
 * SSL_write of a batch of lines costs one uv_write.  OpenSSL's own record
 * buffers are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS),
 * and once the handshake is done both memory BIOs are replaced by empty ones:
 * their buffers keep the capacity of the handshake's flights otherwise.
 *
 * It also holds what both servers' main()s share beyond server_common.h:
 * the --cert and --key options, the context, accepting a connection.
 */
#ifndef TLS_CONN_H
#define TLS_CONN_H

#include "server_common.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#define TLS_PLAIN_BUF (64 * 1024)

/* The first member of each server's connection struct: (struct tls_conn *)handle. */
struct tls_conn {
    uv_tcp_t tcp;               /* first member */
    SSL *ssl;                   /* owns rbio and wbio */
    BIO *rbio, *wbio;
    int established;            /* the handshake has finished */
    int finishing;              /* close_notify seen: shutting down, reads stopped */
};

struct tls_write {
    uv_write_t req;
    char data[];
};

typedef void (*tls_plain_cb)(struct tls_conn *c, const char *data, size_t n);
typedef void (*tls_established_cb)(struct tls_conn *c);

static char tls_plain_buf[TLS_PLAIN_BUF];
static SSL_CTX *ctx;

static void tls_fail(const char *what)
{
    fprintf(stderr, "%s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* A server context: TLS 1.2 and 1.3, certificate chain and key from PEM files. */
static SSL_CTX *tls_server_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        tls_fail("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        tls_fail("loading --cert");
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        tls_fail("loading --key");
    if (SSL_CTX_check_private_key(ctx) != 1)
        tls_fail("matching --cert and --key");
    return ctx;
}

/* A memory BIO that reports "retry" rather than end of file when empty. */
static BIO *tls_mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b != NULL)
        BIO_set_mem_eof_return(b, -1);
    return b;
}

/* Replaces each empty memory BIO of c by a fresh one, freeing the buffer
 * the handshake's flights left it (up to a few KB per connection). */
static void tls_release_bios(struct tls_conn *c)
{
    BIO *b;
    if (BIO_ctrl_pending(c->rbio) == 0 && (b = tls_mem_bio()) != NULL) {
        SSL_set0_rbio(c->ssl, b);
        c->rbio = b;
    }
    if (BIO_ctrl_pending(c->wbio) == 0 && (b = tls_mem_bio()) != NULL) {
        SSL_set0_wbio(c->ssl, b);
        c->wbio = b;
    }
}

/* Gives c a server-side SSL over two fresh memory BIOs.  Returns 0 or -1. */
static int tls_conn_init(struct tls_conn *c, SSL_CTX *ctx)
{
    c->ssl = SSL_new(ctx);
    c->rbio = tls_mem_bio();
    c->wbio = tls_mem_bio();
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        SSL_free(c->ssl);
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->ssl = NULL;
        return -1;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    return 0;
}

static void tls_on_write(uv_write_t *req, int status)
{
    (void)status;               /* a failed write also fails the next read: closed there */
    free(req);
}

/* Hands whatever ciphertext OpenSSL produced to libuv as one uv_write.  Returns 0 or -1. */
static int tls_flush(struct tls_conn *c)
{
    size_t n = BIO_ctrl_pending(c->wbio);
    if (n == 0)
        return 0;
    struct tls_write *w = malloc(sizeof *w + n);
    if (w == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    if (BIO_read(c->wbio, w->data, (int)n) != (int)n) {
        free(w);
        return -1;
    }
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, tls_on_write) != 0) {
        free(w);
        return -1;
    }
    return 0;
}

/* Encrypts n bytes of plaintext and writes them.  Returns 0 or -1 (then close c). */
static int tls_send(struct tls_conn *c, const char *data, size_t n)
{
    if (n > 0 && SSL_write(c->ssl, data, (int)n) <= 0) {
        ERR_clear_error();
        return -1;
    }
    return tls_flush(c);
}

struct tls_shutdown {
    uv_shutdown_t req;
    uv_close_cb close_cb;
};

static void tls_on_shutdown(uv_shutdown_t *req, int status)
{
    struct tls_shutdown *sd = (struct tls_shutdown *)req;
    uv_handle_t *h = (uv_handle_t *)req->handle;
    (void)status;
    if (!uv_is_closing(h))
        uv_close(h, sd->close_cb);
    free(sd);
}

/* The peer said close_notify: answer it, stop reading, and close c once the
 * pending writes are out (a TCP half-close first, so the peer sees both). */
static void tls_finish(struct tls_conn *c, uv_close_cb close_cb)
{
    struct tls_shutdown *sd = malloc(sizeof *sd);
    c->finishing = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    SSL_shutdown(c->ssl);
    if (sd == NULL || tls_flush(c) != 0 ||
        uv_shutdown(&sd->req, (uv_stream_t *)&c->tcp, tls_on_shutdown) != 0) {
        free(sd);
        if (!uv_is_closing((uv_handle_t *)&c->tcp))
            uv_close((uv_handle_t *)&c->tcp, close_cb);
        return;
    }
    sd->close_cb = close_cb;
}

/* Feeds n bytes of ciphertext from libuv: runs the handshake (calling
 * established once it finishes), then hands every plaintext chunk to plain.
 * Returns 0 to go on, 1 when the peer sent close_notify (call tls_finish), or
 * -1 on a TLS error (close c). */
static int tls_feed(struct tls_conn *c, const char *data, size_t n,
                    tls_established_cb established, tls_plain_cb plain)
{
    if (n > 0 && BIO_write(c->rbio, data, (int)n) != (int)n)
        return -1;
    if (!c->established) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            ERR_clear_error();
            tls_flush(c);       /* the next flight, or an alert */
            return e == SSL_ERROR_WANT_READ ? 0 : -1;
        }
        c->established = 1;
        if (tls_flush(c) != 0)
            return -1;
        tls_release_bios(c);
        if (established != NULL)
            established(c);
    }
    for (;;) {
        if (uv_is_closing((uv_handle_t *)&c->tcp))
            return 0;
        int r = SSL_read(c->ssl, tls_plain_buf, sizeof tls_plain_buf);
        if (r > 0) {
            plain(c, tls_plain_buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ)
            break;
        return e == SSL_ERROR_ZERO_RETURN ? 1 : -1;
    }
    return tls_flush(c);        /* e.g. the answer to a key update */
}

/* Accepts a connection into c (zeroed, its uv_tcp_t first) and starts reading.
 * On failure c is closed with close_cb, which must accept c->ssl == NULL. */
static void tls_accept(uv_stream_t *srv, struct tls_conn *c, uv_read_cb on_read, uv_close_cb close_cb)
{
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 || tls_conn_init(c, ctx) != 0) {
        uv_close((uv_handle_t *)&c->tcp, close_cb);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        uv_close((uv_handle_t *)&c->tcp, close_cb);
}

static const char *tls_cert, *tls_key;

static int tls_option(const char *name, const char *value)
{
    if (strcmp(name, "--cert") == 0)
        tls_cert = value;
    else if (strcmp(name, "--key") == 0)
        tls_key = value;
    else
        return 0;
    return 1;
}

/* Both files given: loads the context (before the server listens). */
static int tls_options_complete(void)
{
    if (tls_cert == NULL || tls_key == NULL)
        return 0;
    ctx = tls_server_ctx(tls_cert, tls_key);
    return 1;
}

/* server_start with --cert and --key (both required; default port 3443), the
 * context loaded before listening; prints "<name> starting up on port N (TLS)". */
static void tls_server_start(int argc, char **argv, const char *name, uv_connection_cb on_connection)
{
    static const struct server_options options = {
        "--cert FILE --key FILE ", " (TLS)", tls_option, tls_options_complete,
    };
    server_start(argc, argv, name, 3443, &options, on_connection);
}

#endif
