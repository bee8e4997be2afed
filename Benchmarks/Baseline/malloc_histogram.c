/*
 * malloc_histogram.c - an LD_PRELOAD library that keeps a histogram of a
 * process's live heap blocks by size, to see what an idle connection keeps.
 *
 *     MALLOC_HISTOGRAM_FILE=/tmp/h LD_PRELOAD=.../malloc_histogram.so ./server ...
 *     kill -USR2 <pid>      # appends a snapshot to /tmp/h (at the next allocation)
 *
 * Each snapshot is one line per size class with live blocks:
 *     snapshot N
 *     <usable size rounded up to 16> <live blocks> <live bytes>
 * Take one before and one after opening N idle connections and subtract
 * (scripts/tls_idle_breakdown.py does that).  Sizes are malloc_usable_size's,
 * i.e. what the block really occupies minus glibc's 8-byte header.  Blocks of
 * 64 KiB and more share the last class.  Forwarding goes to glibc's __libc_*
 * functions (no dlsym, so no recursion); the counters are relaxed atomics.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define CLASSES 4097            /* 16-byte classes up to 64 KiB, then one for the rest */
static int64_t live[CLASSES];
static volatile sig_atomic_t dump_requested;
static int snapshots;

static size_t class_of(size_t usable)
{
    size_t c = (usable + 15) / 16;
    return c < CLASSES - 1 ? c : CLASSES - 1;
}

static void dump(void)
{
    const char *path = getenv("MALLOC_HISTOGRAM_FILE");
    dump_requested = 0;
    if (path == NULL)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return;
    char line[96];
    int n = snprintf(line, sizeof line, "snapshot %d\n", ++snapshots);
    if (write(fd, line, (size_t)n) < 0)
        goto out;
    for (size_t c = 1; c < CLASSES; c++) {
        int64_t blocks = __atomic_load_n(&live[c], __ATOMIC_RELAXED);
        if (blocks == 0)
            continue;
        n = snprintf(line, sizeof line, "%zu %lld %lld\n", c * 16, (long long)blocks, (long long)(blocks * (int64_t)c * 16));
        if (write(fd, line, (size_t)n) < 0)
            break;
    }
out:
    close(fd);
}

static void on_usr2(int signum)
{
    (void)signum;
    dump_requested = 1;
}

__attribute__((constructor)) static void malloc_histogram_init(void)
{
    signal(SIGUSR2, on_usr2);
}

static void *counted(void *p)
{
    if (p != NULL)
        __atomic_fetch_add(&live[class_of(malloc_usable_size(p))], 1, __ATOMIC_RELAXED);
    if (dump_requested)
        dump();
    return p;
}

static void uncount(void *p)
{
    if (p != NULL)
        __atomic_fetch_sub(&live[class_of(malloc_usable_size(p))], 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n) { return counted(__libc_malloc(n)); }
void *calloc(size_t n, size_t m) { return counted(__libc_calloc(n, m)); }
void *memalign(size_t a, size_t n) { return counted(__libc_memalign(a, n)); }
void *aligned_alloc(size_t a, size_t n) { return counted(__libc_memalign(a, n)); }
void *valloc(size_t n) { return counted(__libc_memalign((size_t)sysconf(_SC_PAGESIZE), n)); }

int posix_memalign(void **out, size_t a, size_t n)
{
    void *p = __libc_memalign(a, n);
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = counted(p);
    return 0;
}

void free(void *p)
{
    uncount(p);
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    if (p != NULL && n == 0) {          /* glibc frees p */
        free(p);
        return NULL;
    }
    size_t before = p ? class_of(malloc_usable_size(p)) : 0;
    void *q = __libc_realloc(p, n);
    if (q == NULL)
        return NULL;                    /* p is untouched */
    if (p != NULL)
        __atomic_fetch_sub(&live[before], 1, __ATOMIC_RELAXED);
    return counted(q);
}
