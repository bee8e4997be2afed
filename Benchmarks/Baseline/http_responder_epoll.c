/*
 * http_responder_epoll.c - http_responder.c without libuv: one epoll set, level- or
 * edge-triggered, so that the two can be compared with everything else equal. Every
 * "\r\n\r\n" read is answered at once with the same fixed `hello\n` response.
 *
 *   http_responder_epoll PORT [level|edge] [SPIN_NS]
 *
 * level: the sockets stay in the set level-triggered, as libuv keeps them; edge: EPOLLET,
 * as nginx does. SPIN_NS busy-waits that long per request. Loopback only; a floor for
 * wrk runs, not a server.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spin.h"

static const char response[] =
    "HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 00:00:00 GMT\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\nhello\n";
static char read_buffer[65536];
static unsigned char tails[1 << 16]; /* per descriptor: bytes of "\r\n\r\n" matched so far */
static long spin_ns;

/* Reads what fd holds (until EAGAIN, or a short read: a later arrival raises a new edge)
 * and answers each request in it; closes fd at its end or on an error. */
static void serve(int fd)
{
    static const char end[] = "\r\n\r\n";
    for (;;) {
        ssize_t n = recv(fd, read_buffer, sizeof read_buffer, 0);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) close(fd);
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            unsigned char t = tails[fd];
            t = read_buffer[i] == end[t] ? t + 1 : (read_buffer[i] == '\r');
            if (t == 4) {
                t = 0;
                spin(spin_ns);
                if (send(fd, response, sizeof response - 1, MSG_NOSIGNAL) < 0) {
                    close(fd);
                    return;
                }
            }
            tails[fd] = t;
        }
        if ((size_t)n < sizeof read_buffer) return;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_responder_epoll PORT [level|edge] [SPIN_NS]\n");
        return 2;
    }
    unsigned mode = argc > 2 && strcmp(argv[2], "edge") == 0 ? EPOLLET : 0;
    spin_ns = argc > 3 ? atol(argv[3]) : 0;
    int one = 1;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) {
        fprintf(stderr, "http_responder_epoll: listen on 127.0.0.1:%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int set = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(set, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[512];
    for (;;) {
        int ready = epoll_wait(set, events, 512, -1);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd != listener) {
                serve(fd);
                continue;
            }
            int client;
            while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                if (client >= (int)sizeof tails) {
                    close(client);
                    continue;
                }
                tails[client] = 0;
                setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event watch = {.events = EPOLLIN | mode, .data.fd = client};
                epoll_ctl(set, EPOLL_CTL_ADD, client, &watch);
            }
        }
    }
}
