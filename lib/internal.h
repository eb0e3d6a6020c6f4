/*
 * internal.h - definitions shared by the modules of lib/: the allocator
 * handle, growable buffers, hashing and small helpers. Nothing here is part
 * of the public API; internal functions used across files are named
 * csbot__<module>_<name> and are not exported (-fvisibility=hidden).
 */
#ifndef CSBOT_INTERNAL_H
#define CSBOT_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csbot.h"
#include "limits.h"

#define CSBOT_ASSERT(x) assert(x)
#define CSBOT_UNUSED(x) ((void)(x))
#define CSBOT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CSBOT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- alloc.c: the one place that calls malloc/realloc/free ---- */

typedef struct csbot__alloc {
    csbot_alloc_fn fn; /* never NULL after csbot__alloc_init */
    void *ud;
} csbot__alloc;

void csbot__alloc_init(csbot__alloc *a, csbot_alloc_fn fn, void *ud);
/* The blocks carry their size, so free and realloc need no size. */
void *csbot__malloc(const csbot__alloc *a, size_t n);
void *csbot__calloc(const csbot__alloc *a, size_t count, size_t n);
void *csbot__realloc(const csbot__alloc *a, void *p, size_t n);
void csbot__free(const csbot__alloc *a, void *p);
char *csbot__strndup(const csbot__alloc *a, const char *s, size_t n);
char *csbot__strdup(const csbot__alloc *a, const char *s);
/* Grow *p (an array of *cap elements of size elem) to hold at least need. */
int csbot__grow(const csbot__alloc *a, void **p, size_t *cap, size_t need,
                size_t elem);

/* ---- buf.c: growable byte buffer, kept between uses ---- */

typedef struct csbot__buf {
    char *data; /* always NUL-terminated when len > 0 or after reserve */
    size_t len;
    size_t cap;
} csbot__buf;

int csbot__buf_reserve(const csbot__alloc *a, csbot__buf *b, size_t extra);
int csbot__buf_append(const csbot__alloc *a, csbot__buf *b, const char *s,
                      size_t n);
int csbot__buf_puts(const csbot__alloc *a, csbot__buf *b, const char *s);
int csbot__buf_putc(const csbot__alloc *a, csbot__buf *b, char c);
int csbot__buf_printf(const csbot__alloc *a, csbot__buf *b, const char *fmt,
                      ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Append s as a JSON string literal, quotes included. */
int csbot__buf_json_str(const csbot__alloc *a, csbot__buf *b, const char *s);
void csbot__buf_clear(csbot__buf *b);
void csbot__buf_free(const csbot__alloc *a, csbot__buf *b);
/* Append the whole file at path to b (at most max bytes). On failure sets
 * err's message (what names the file's kind, for "... over N MiB") and
 * returns CSBOT_EIO, CSBOT_ETOOBIG or CSBOT_ENOMEM. */
int csbot__buf_read_file(const csbot__alloc *a, csbot__buf *b, const char *path,
                         size_t max, const char *what, csbot_error *err);
/* Copy src into dst[size] snprintf-style; returns strlen(src). */
size_t csbot__copy_out(char *dst, size_t size, const char *src, size_t len);

/* ---- error.c ---- */

/* Clear err (keeping its version) and set its source; NULL err: no-op. */
void csbot__error_reset(csbot_error *err, const char *source);

void csbot__error_set(csbot_error *err, int code, const char *path,
                      const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Fill line/column from a byte offset into text. */
void csbot__error_locate(csbot_error *err, const char *text, size_t len,
                         size_t offset);

/* ---- hashing ---- */

static inline uint64_t csbot__hash(const void *p, size_t n, uint64_t seed) {
    /* FNV-1a 64 with a final avalanche; good enough for feature hashing. */
    const unsigned char *s = (const unsigned char *)p;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static inline uint64_t csbot__hash_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

/* Small deterministic PRNG (splitmix64), state owned by the caller. */
static inline uint64_t csbot__rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Bit sets: arrays of uint64_t, bit i in word i / 64. */
static inline void csbot__bit_set(uint64_t *bits, size_t i) {
    bits[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline int csbot__bit_get(const uint64_t *bits, size_t i) {
    return (int)((bits[i >> 6] >> (i & 63)) & 1);
}

#endif
