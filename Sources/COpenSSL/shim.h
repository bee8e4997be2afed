#ifndef UVLOOP_COPENSSL_SHIM_H
#define UVLOOP_COPENSSL_SHIM_H

// The system's OpenSSL 3 (libssl-dev), and small wrappers for what Swift cannot import:
// function-like macros, and option bits built from macros. No logic beyond one call each,
// except the ALPN selection callback, which OpenSSL calls with a list Swift laid out, and the
// output BIO below, which OpenSSL calls with each record it writes.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>

static inline int uvtls_ctx_set_min_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int uvtls_ctx_set_max_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline void uvtls_ctx_set_mode(SSL_CTX *ctx, long mode) { SSL_CTX_set_mode(ctx, mode); }

static inline void uvtls_ctx_disable_session_cache(SSL_CTX *ctx) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

/// The options every context sets: no renegotiation, no compression, server's cipher order.
static inline void uvtls_ctx_set_default_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

static inline void uvtls_ctx_disable_tickets(SSL_CTX *ctx) { SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET); }

static inline long uvtls_mode_release_buffers(void) { return SSL_MODE_RELEASE_BUFFERS; }

static inline int uvtls_ctx_set_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *), void *arg) {
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
    return (int)SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}

static inline int uvtls_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }

static inline void uvtls_bio_set_mem_eof_return(BIO *bio, int value) { BIO_set_mem_eof_return(bio, value); }

/// The bytes a memory BIO holds allocated (its high-water mark), 0 if unknown.
static inline size_t uvtls_bio_mem_capacity(BIO *bio) {
    BUF_MEM *memory = NULL;
    BIO_get_mem_ptr(bio, &memory);
    return memory ? memory->max : 0;
}

/// ALPN selection on the server: `arg` is the server's protocols in wire format (each a length
/// byte then the name) preceded by their total length in two big-endian bytes. A client that
/// offers none of them gets a `no_application_protocol` alert (RFC 7301 §3.2).
static inline int uvtls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                    const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    const unsigned char *list = (const unsigned char *)arg;
    unsigned int length = ((unsigned int)list[0] << 8) | list[1];
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, list + 2, length, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void uvtls_ctx_set_alpn_select(SSL_CTX *ctx, const unsigned char *list) {
    SSL_CTX_set_alpn_select_cb(ctx, uvtls_alpn_select, (void *)list);
}

/// Where an engine's output BIO puts the records OpenSSL writes: first into `base` (a buffer
/// Swift lent for one operation, sized for it: no copy), past its `capacity` into `spill`
/// (malloc'd here, taken and freed by Swift). Between operations both are empty, so an idle
/// connection keeps no output buffer.
typedef struct {
    unsigned char *base;
    size_t length;
    size_t capacity;
    unsigned char *spill;
    size_t spill_length;
    size_t spill_capacity;
} uvtls_output;

static inline int uvtls_output_write(BIO *bio, const char *data, int count) {
    uvtls_output *out = (uvtls_output *)BIO_get_data(bio);
    if (count <= 0) return 0;
    size_t n = (size_t)count;
    if (out->spill_length == 0 && out->capacity - out->length >= n) {
        memcpy(out->base + out->length, data, n);
        out->length += n;
        return count;
    }
    if (out->spill_capacity - out->spill_length < n) {
        size_t capacity = out->spill_capacity * 2;
        if (capacity < out->spill_length + n) capacity = out->spill_length + n;
        if (capacity < 1024) capacity = 1024;
        unsigned char *grown = (unsigned char *)realloc(out->spill, capacity);
        if (grown == NULL) return -1;
        out->spill = grown;
        out->spill_capacity = capacity;
    }
    memcpy(out->spill + out->spill_length, data, n);
    out->spill_length += n;
    return count;
}

static inline long uvtls_output_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio;
    (void)number;
    (void)pointer;
    switch (command) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

static inline int uvtls_output_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

/// The method of the output BIOs; make it once per process.
static inline BIO_METHOD *uvtls_output_method_new(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "UVLoopTLS output");
    if (method == NULL) return NULL;
    BIO_meth_set_write(method, uvtls_output_write);
    BIO_meth_set_ctrl(method, uvtls_output_ctrl);
    BIO_meth_set_create(method, uvtls_output_create);
    return method;
}

#endif
