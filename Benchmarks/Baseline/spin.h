/* spin.h - busy CPU on purpose, for the HTTP responders' SPIN_NS: user-space cost per request
 * added to see how the p99 under wrk moves with it. */
#ifndef SPIN_H
#define SPIN_H
#include <time.h>

/* Busy-waits `ns` nanoseconds (nothing for 0). */
static void spin(long ns)
{
    if (ns <= 0) return;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < ns);
}
#endif
