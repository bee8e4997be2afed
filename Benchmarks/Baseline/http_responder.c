/*
 * http_responder.c - the least a libuv HTTP/1.1 keep-alive server can do, as a floor for
 * scripts/bench_http.sh-style runs: every "\r\n\r\n" read is answered with one fixed
 * `hello\n` response, written at once with uv_try_write (or, with "flush", at the end of the
 * loop iteration from a uv_check handle, as UVLoop's streams do). No parsing beyond that;
 * not a server to expose to anything but wrk on loopback.
 *
 *   http_responder PORT [now|flush] [SPIN_NS]
 *
 * SPIN_NS busy-waits that long per request: user-space cost added on purpose, to see how
 * the p99 under wrk moves with CPU per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "spin.h"

static const char response[] =
    "HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 00:00:00 GMT\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\nhello\n";
enum { max_conns = 20000, max_batch = 64 };

typedef struct {
    uv_tcp_t handle;
    int unanswered; /* requests read, answers not yet written */
    int tail;       /* how many bytes of "\r\n\r\n" ended the last read */
} conn;

static char read_buffer[65536];
static int flush_at_end;
static long spin_ns;
static conn *waiting[max_conns];
static int waiting_count;

static void answer(conn *c)
{
    uv_buf_t bufs[max_batch];
    while (c->unanswered > 0) {
        int n = c->unanswered < max_batch ? c->unanswered : max_batch;
        for (int i = 0; i < n; i++) bufs[i] = uv_buf_init((char *)response, sizeof response - 1);
        if (uv_try_write((uv_stream_t *)&c->handle, bufs, (unsigned)n) < 0) break;
        c->unanswered -= n;
    }
    c->unanswered = 0;
}

static void on_close(uv_handle_t *h) { free(h); }

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    (void)size;
    *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn *c = (conn *)s;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    static const char end[] = "\r\n\r\n";
    int found = 0;
    for (ssize_t i = 0; i < n; i++) {
        c->tail = buf->base[i] == end[c->tail] ? c->tail + 1 : (buf->base[i] == '\r');
        if (c->tail == 4) {
            found++;
            c->tail = 0;
        }
    }
    if (found == 0) return;
    for (int i = 0; i < found && spin_ns > 0; i++) spin(spin_ns);
    if (flush_at_end && c->unanswered == 0 && waiting_count < max_conns) waiting[waiting_count++] = c;
    c->unanswered += found;
    if (!flush_at_end) answer(c);
}

static void on_check(uv_check_t *h)
{
    (void)h;
    for (int i = 0; i < waiting_count; i++) answer(waiting[i]);
    waiting_count = 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) return;
    conn *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->handle);
    if (uv_accept(server, (uv_stream_t *)&c->handle) != 0) {
        uv_close((uv_handle_t *)&c->handle, on_close);
        return;
    }
    uv_tcp_nodelay(&c->handle, 1);
    uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_responder PORT [now|flush] [SPIN_NS]\n");
        return 2;
    }
    flush_at_end = argc > 2 && strcmp(argv[2], "flush") == 0;
    spin_ns = argc > 3 ? atol(argv[3]) : 0;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in address;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &address);
    int status = uv_tcp_bind(&server, (const struct sockaddr *)&address, 0);
    if (status == 0) status = uv_listen((uv_stream_t *)&server, 4096, on_connection);
    if (status != 0) {
        fprintf(stderr, "http_responder: listen on 127.0.0.1:%s: %s\n", argv[1], uv_strerror(status));
        return 1;
    }
    uv_check_t check;
    uv_check_init(loop, &check);
    uv_check_start(&check, on_check);
    return uv_run(loop, UV_RUN_DEFAULT);
}
