/* Decodes a RESP reply stream from a file with hiredis' reply reader, fed in chunks as a
 * socket read would hand them over; prints bytes/s and replies/s. Usage: hiredis_decode FILE CHUNK REPEAT */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s FILE CHUNK REPEAT\n", argv[0]); return 2; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 1; }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc(size);
    if (fread(data, 1, size, file) != (size_t)size) { perror("read"); return 1; }
    fclose(file);
    size_t chunk = (size_t)atol(argv[2]);
    int repeat = atoi(argv[3]);

    double best = 1e30;
    long replies = 0;
    for (int round = 0; round < repeat; round++) {
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        redisReader *reader = redisReaderCreate();
        replies = 0;
        for (long offset = 0; offset < size; offset += chunk) {
            size_t length = (size_t)(size - offset) < chunk ? (size_t)(size - offset) : chunk;
            if (redisReaderFeed(reader, data + offset, length) != REDIS_OK) { fprintf(stderr, "feed failed\n"); return 1; }
            void *reply;
            for (;;) {
                if (redisReaderGetReply(reader, &reply) != REDIS_OK) { fprintf(stderr, "error: %s\n", reader->errstr); return 1; }
                if (reply == NULL) break;
                replies++;
                freeReplyObject(reply);
            }
        }
        redisReaderFree(reader);
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
        if (seconds < best) best = seconds;
    }
    printf("hiredis %d.%d.%d: %ld replies, %.1f MB in %.3f s (best of %d): %.0f MB/s, %.2f M replies/s\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, replies,
           size / 1e6, best, repeat, size / 1e6 / best, replies / 1e6 / best);
    free(data);
    return 0;
}
