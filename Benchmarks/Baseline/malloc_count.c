/*
 * malloc_count.c - an LD_PRELOAD library that counts a process's heap allocations,
 * so a C server and a Swift server can be compared by the same yardstick.
 *
 *     MALLOC_COUNT_FILE=/tmp/counts LD_PRELOAD=.../malloc_count.so ./server ...
 *
 * It counts calls to malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign and valloc -- every call that asks the allocator for a new
 * block -- and forwards them to glibc's own __libc_* functions (no dlsym, so no
 * recursion).  The count lives in the first 8 bytes of MALLOC_COUNT_FILE, which
 * the library creates and maps shared, so another process reads it at any time
 * (little-endian uint64) without signalling the server:
 *
 *     python3 -c 'import struct;print(struct.unpack("<Q",open("/tmp/counts","rb").read(8))[0])'
 *
 * Allocations made before the constructor runs are counted in a static counter
 * and carried over.  The increment is one relaxed atomic add.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t early_count;
static uint64_t *counter = &early_count;

static inline void count(void)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void malloc_count_init(void)
{
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (path == NULL)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    if (ftruncate(fd, 4096) == 0) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            uint64_t *shared = p;
            *shared = __atomic_load_n(&early_count, __ATOMIC_RELAXED);
            __atomic_store_n(&counter, shared, __ATOMIC_RELEASE);
        }
    }
    close(fd);
}

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    count();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

void *memalign(size_t alignment, size_t n)
{
    count();
    return __libc_memalign(alignment, n);
}

void *aligned_alloc(size_t alignment, size_t n)
{
    count();
    return __libc_memalign(alignment, n);
}

void *valloc(size_t n)
{
    count();
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

int posix_memalign(void **out, size_t alignment, size_t n)
{
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    count();
    void *p = __libc_memalign(alignment, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}
