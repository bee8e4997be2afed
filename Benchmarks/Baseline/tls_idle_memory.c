/*
 * tls_idle_memory.c - what an idle server-side TLS connection keeps allocated
 * inside OpenSSL, by allocation site.
 *
 *     tls_idle_memory --cert FILE --key FILE [--conns N] [--tls 1.2|1.3]
 *                     [--tickets N] [--no-release-buffers] [--keep-bios]
 *
 * Runs N client/server pairs in one process over memory BIOs (no sockets): each
 * pair does a full handshake and exchanges one line each way, as a chat
 * participant does, then goes idle.  OpenSSL's allocator is replaced
 * (CRYPTO_set_mem_functions) by one that tags every block with the side that
 * allocated it and the source line that asked, so the table printed is exactly
 * the server side's live heap per idle connection, grouped by OpenSSL source
 * line and by block size.  Blocks freed before the end do not count.
 *
 * By default the server is configured as UVLoopTLS and the C baselines are:
 * SSL_MODE_RELEASE_BUFFERS, and after the handshake the memory BIOs, whose
 * buffers kept the capacity of the handshake flight, are replaced by empty
 * ones (--keep-bios skips that).
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every block gets a header: its size, the side that made it, where. */
struct header {
    size_t size;
    const char *file;
    int line;
    int server;
    long long pad;              /* keeps the payload 16-byte aligned */
};

static int server_side;         /* 1 while the server's SSL works */
static long long live_bytes[2], live_blocks[2];

#define SITES 4096
struct site {
    const char *file;
    int line;
    long long bytes, blocks;
};
static struct site sites[SITES];

static struct site *site_for(const char *file, int line)
{
    unsigned h = (unsigned)line * 2654435761u ^ (unsigned)(size_t)file;
    for (unsigned i = 0; i < SITES; i++) {
        struct site *s = &sites[(h + i) % SITES];
        if (s->file == NULL) {
            s->file = file;
            s->line = line;
        }
        if (s->file == file && s->line == line)
            return s;
    }
    abort();
}

static void account(struct header *h, int sign)
{
    live_bytes[h->server] += sign * (long long)h->size;
    live_blocks[h->server] += sign;
    if (h->server) {
        struct site *s = site_for(h->file, h->line);
        s->bytes += sign * (long long)h->size;
        s->blocks += sign;
    }
}

static void *tagged_malloc(size_t n, const char *file, int line)
{
    struct header *h = malloc(sizeof *h + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    h->file = file ? file : "?";
    h->line = line;
    h->server = server_side;
    account(h, 1);
    return h + 1;
}

static void tagged_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (p == NULL)
        return;
    struct header *h = (struct header *)p - 1;
    account(h, -1);
    free(h);
}

static void *tagged_realloc(void *p, size_t n, const char *file, int line)
{
    if (p == NULL)
        return tagged_malloc(n, file, line);
    if (n == 0) {
        tagged_free(p, file, line);
        return NULL;
    }
    struct header *old = (struct header *)p - 1;
    void *q = tagged_malloc(n, file, line);
    if (q != NULL) {
        memcpy(q, p, old->size < n ? old->size : n);
        tagged_free(p, file, line);
    }
    return q;
}

static void die(const char *what)
{
    fprintf(stderr, "%s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

struct pair {
    SSL *client, *server;
    BIO *c_in, *c_out, *s_in, *s_out;
};

/* Moves whatever `from` wrote into `to`'s input. */
static void move(BIO *from, BIO *to)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        BIO_write(to, buf, n);
}

/* Carries each side's output to the other: the server's input BIO grows on the server's account. */
static void pump(struct pair *p)
{
    server_side = 1;
    move(p->c_out, p->s_in);
    server_side = 0;
    move(p->s_out, p->c_in);
}

static BIO *mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        die("BIO_new");
    BIO_set_mem_eof_return(b, -1);
    return b;
}

static int by_bytes(const void *a, const void *b)
{
    long long x = ((const struct site *)a)->bytes, y = ((const struct site *)b)->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int conns = 1000, version = TLS1_3_VERSION, tickets = 1, release = 1, keep_bios = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(k, "--no-release-buffers")) { release = 0; continue; }
        if (!strcmp(k, "--keep-bios")) { keep_bios = 1; continue; }
        i++;
        if (!strcmp(k, "--cert")) cert = v;
        else if (!strcmp(k, "--key")) key = v;
        else if (!strcmp(k, "--conns")) conns = atoi(v);
        else if (!strcmp(k, "--tickets")) tickets = atoi(v);
        else if (!strcmp(k, "--tls")) version = !strcmp(v, "1.2") ? TLS1_2_VERSION : TLS1_3_VERSION;
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    if (cert == NULL || key == NULL || conns < 1) {
        fprintf(stderr, "usage: %s --cert FILE --key FILE [--conns N] [--tls 1.2|1.3] [--tickets N] "
                        "[--no-release-buffers] [--keep-bios]\n", argv[0]);
        return 2;
    }
    if (!CRYPTO_set_mem_functions(tagged_malloc, tagged_realloc, tagged_free))
        die("CRYPTO_set_mem_functions");

    server_side = 1;
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    if (sctx == NULL)
        die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(sctx, version);
    SSL_CTX_set_max_proto_version(sctx, version);
    SSL_CTX_set_options(sctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(sctx, (size_t)tickets);
    if (release)
        SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(sctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1)
        die("loading the certificate and key");
    server_side = 0;
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    if (cctx == NULL)
        die("SSL_CTX_new");
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);

    struct pair *pairs = calloc((size_t)conns, sizeof *pairs);
    long long before[2] = {0, 0}, blocks_before = 0;
    /* One warm-up pair first (k == -1): one-time allocations are not counted. */
    for (int k = -1; k < conns; k++) {
        struct pair warm, *p = k < 0 ? &warm : &pairs[k];
        if (k == 0) {
            before[0] = live_bytes[0];
            before[1] = live_bytes[1];
            blocks_before = live_blocks[1];
            for (int i = 0; i < SITES; i++)
                sites[i].bytes = sites[i].blocks = 0;
        }
        p->client = SSL_new(cctx);
        p->c_in = mem_bio();
        p->c_out = mem_bio();
        SSL_set_bio(p->client, p->c_in, p->c_out);
        SSL_set_connect_state(p->client);
        server_side = 1;
        p->server = SSL_new(sctx);
        p->s_in = mem_bio();
        p->s_out = mem_bio();
        SSL_set_bio(p->server, p->s_in, p->s_out);
        SSL_set_accept_state(p->server);
        server_side = 0;
        int done = 0;
        for (int round = 0; round < 10 && done != 3; round++) {
            if (SSL_do_handshake(p->client) == 1)
                done |= 1;
            pump(p);
            server_side = 1;
            if (SSL_do_handshake(p->server) == 1)
                done |= 2;
            server_side = 0;
            pump(p);
        }
        if (done != 3)
            die("handshake");
        /* One line each way, as a chat participant's first exchange. */
        char line[64];
        SSL_write(p->client, "hello\n", 6);
        pump(p);
        server_side = 1;
        if (SSL_read(p->server, line, sizeof line) != 6)
            die("server read");
        SSL_write(p->server, "hello\n", 6);
        server_side = 0;
        pump(p);
        if (SSL_read(p->client, line, sizeof line) != 6)
            die("client read");
        server_side = 1;
        /* The server reads once more (wants input), as an idle connection waits. */
        if (SSL_read(p->server, line, sizeof line) > 0)
            die("idle read");
        ERR_clear_error();
        if (!keep_bios) {
            p->s_in = mem_bio();
            p->s_out = mem_bio();
            SSL_set0_rbio(p->server, p->s_in);
            SSL_set0_wbio(p->server, p->s_out);
        }
        server_side = 0;
        if (k < 0) {
            SSL_free(warm.client);
            server_side = 1;
            SSL_free(warm.server);
            server_side = 0;
        }
    }
    double per = (double)(live_bytes[1] - before[1]) / conns;
    printf("tls_idle_memory conns=%d tls=%s tickets=%d release_buffers=%d replace_bios=%d "
           "server_bytes_per_conn=%.0f server_blocks_per_conn=%.1f\n",
           conns, version == TLS1_3_VERSION ? "1.3" : "1.2", tickets, release, !keep_bios, per,
           (double)(live_blocks[1] - blocks_before) / conns);
    qsort(sites, SITES, sizeof sites[0], by_bytes);
    printf("%8s %7s  %s\n", "bytes", "blocks", "allocated at (per connection, server side)");
    for (int i = 0; i < SITES && sites[i].bytes > conns / 2; i++)
        printf("%8.0f %7.1f  %s:%d\n", (double)sites[i].bytes / conns, (double)sites[i].blocks / conns,
               sites[i].file, sites[i].line);
    return 0;
}
