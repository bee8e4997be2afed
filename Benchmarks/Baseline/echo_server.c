/*
 * echo_server.c - raw-C libuv baseline echo server.
 *
 * Writes every byte received back on the same connection, as received.
 * Reads go into one static buffer; each read is copied into a single
 * allocation holding both the uv_write_t and the bytes, freed in the write
 * callback.
 */
#include "server_common.h"

struct write_req {
    uv_write_t req;
    char data[];
};

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

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread < 0) {                    /* UV_EOF or an error */
        drop(s);
        return;
    }
    if (nread == 0)
        return;
    struct write_req *wr = xmalloc(sizeof *wr + (size_t)nread);
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
    uv_tcp_t *c = xmalloc(sizeof *c);
    server_accept(srv, c, on_read, on_close);
}

int main(int argc, char **argv)
{
    server_start(argc, argv, "EchoServer", 3001, NULL, on_connection);
    return uv_run(loop, UV_RUN_DEFAULT);
}
