/*
 * chat_lines.h - the chat relays' lines: refcounted line buffers, the line
 * splitter every relay reads with, and the per-recipient queue and dirty list
 * of the batched relays.
 *
 * Lines: every LF-terminated line is relayed byte for byte (CR and all).
 * Reads are split in place; only an unfinished line at the end of a read is
 * copied into the sender's splitter.  A line longer than MAX_LINE bytes,
 * terminator included, is dropped up to and including the next LF.
 */
#ifndef CHAT_LINES_H
#define CHAT_LINES_H

#include "server_common.h"

#define MAX_LINE (64 * 1024)

struct line {
    unsigned refs;
    unsigned len;
    char data[];
};

static inline struct line *line_new(unsigned cap)
{
    struct line *l = xmalloc(sizeof *l + cap);
    l->refs = 1;
    l->len = 0;
    return l;
}

static inline void line_unref(struct line *l)
{
    if (--l->refs == 0)
        free(l);
}

/* One sender's unfinished line. */
struct line_splitter {
    struct line *part;          /* unfinished line, NULL if none */
    unsigned part_cap;
    int discarding;             /* dropping an over-long line until LF */
};

static inline void splitter_free(struct line_splitter *s)
{
    free(s->part);
    s->part = NULL;
}

/* Splits n bytes read from a sender into lines and hands each complete one to
 * on_line (which takes ownership: refs is 1).  Static and called from one
 * place per relay, so the compiler inlines it and on_line is a direct call. */
static inline void split_lines(struct line_splitter *s, const char *p, size_t len,
                               void (*on_line)(void *sender, struct line *l), void *sender)
{
    const char *end = p + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

        if (s->discarding) {
            if (nl)
                s->discarding = 0;
            p += n;
            continue;
        }

        size_t have = s->part ? s->part->len : 0;
        if (have + n > MAX_LINE || (!nl && have + n == MAX_LINE)) {
            /* Over-long: drop what we have and what follows up to LF. */
            free(s->part);
            s->part = NULL;
            s->part_cap = 0;
            s->discarding = (nl == NULL);
            p += n;
            continue;
        }

        if (nl) {
            struct line *l;
            if (s->part) {
                l = s->part;
                if (l->len + n > s->part_cap)
                    l = xrealloc(l, sizeof *l + l->len + n);
                s->part = NULL;
                s->part_cap = 0;
            } else {
                l = line_new((unsigned)n);
            }
            memcpy(l->data + l->len, p, n);
            l->len += (unsigned)n;
            on_line(sender, l);
        } else {
            /* Unfinished line at the end of the read: keep a copy. */
            if (s->part == NULL) {
                unsigned cap = n < 256 ? 256 : (unsigned)n;
                s->part = line_new(cap);
                s->part_cap = cap;
            } else if (s->part->len + n > s->part_cap) {
                unsigned cap = s->part_cap * 2;
                while (cap < s->part->len + n)
                    cap *= 2;
                if (cap > MAX_LINE)
                    cap = MAX_LINE;
                s->part = xrealloc(s->part, sizeof *s->part + cap);
                s->part_cap = cap;
            }
            memcpy(s->part->data + s->part->len, p, n);
            s->part->len += (unsigned)n;
        }
        p += n;
    }
}

/* The batched relays: the lines queued on one recipient this loop iteration.
 * Its array is allocated on the first delivery. */
struct outbox {
    struct line **lines;
    unsigned n, cap;
    int dirty;                  /* on the dirty list */
};

/* Recipients with queued lines, flushed in the check phase (opaque to this
 * header: each relay's own struct client). */
static void **dirty;
static unsigned ndirty, dirty_cap;

/* Queues l (one more reference) on recipient, whose outbox is o. */
static inline void outbox_push(struct outbox *o, void *recipient, struct line *l)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->lines = xrealloc(o->lines, sizeof *o->lines * o->cap);
    }
    o->lines[o->n++] = l;
    l->refs++;
    if (!o->dirty) {
        if (ndirty == dirty_cap) {
            dirty_cap = dirty_cap ? dirty_cap * 2 : 1024;
            dirty = xrealloc(dirty, sizeof *dirty * dirty_cap);
        }
        dirty[ndirty++] = recipient;
        o->dirty = 1;
    }
}

/* Drops the outbox's references to its queued lines. */
static inline void outbox_release(struct outbox *o)
{
    for (unsigned i = 0; i < o->n; i++)
        line_unref(o->lines[i]);
    o->n = 0;
}

#endif
