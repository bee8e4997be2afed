#ifndef UVLOOP_CLIBUV_SHIM_H
#define UVLOOP_CLIBUV_SHIM_H
// Headers only: the libuv API, plus the POSIX bits UVLoop needs beside it.
#include <uv.h>
#include <signal.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/epoll.h>

// glibc declares accept4(2) only under _GNU_SOURCE, which Swift's Glibc module is built without.
int accept4(int fd, struct sockaddr *restrict address, socklen_t *restrict length, int flags);
#endif
