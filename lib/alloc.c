/*
 * alloc.c - the allocation choke point. Every byte libcsbot allocates goes
 * through csbot__malloc/realloc/free here, which call the host's
 * realloc-style allocator (Lua's contract) or the C library's. Blocks carry a
 * small header with their size so that callers need not remember it and the
 * host's allocator always gets the right old size.
 */
#include <stdlib.h>

#include "internal.h"

#define HDR 16 /* keeps the payload 16-byte aligned */

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

void csbot__alloc_init(csbot__alloc *a, csbot_alloc_fn fn, void *ud) {
    a->fn = fn ? fn : default_alloc;
    a->ud = fn ? ud : NULL;
}

void *csbot__realloc(const csbot__alloc *a, void *p, size_t n) {
    char *old = p ? (char *)p - HDR : NULL;
    size_t osize = 0;
    if (old)
        memcpy(&osize, old, sizeof osize);
    if (n == 0) {
        if (old)
            a->fn(a->ud, old, osize + HDR, 0);
        return NULL;
    }
    if (n > SIZE_MAX - HDR)
        return NULL;
    char *blk = a->fn(a->ud, old, old ? osize + HDR : 0, n + HDR);
    if (!blk)
        return NULL;
    memcpy(blk, &n, sizeof n);
    return blk + HDR;
}

void *csbot__malloc(const csbot__alloc *a, size_t n) {
    return csbot__realloc(a, NULL, n ? n : 1);
}

void *csbot__calloc(const csbot__alloc *a, size_t count, size_t n) {
    if (n && count > SIZE_MAX / n)
        return NULL;
    void *p = csbot__malloc(a, count * n);
    if (p)
        memset(p, 0, count * n);
    return p;
}

void csbot__free(const csbot__alloc *a, void *p) {
    if (p)
        csbot__realloc(a, p, 0);
}

char *csbot__strndup(const csbot__alloc *a, const char *s, size_t n) {
    char *d = csbot__malloc(a, n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *csbot__strdup(const csbot__alloc *a, const char *s) {
    return csbot__strndup(a, s, strlen(s));
}

int csbot__grow(const csbot__alloc *a, void **p, size_t *cap, size_t need,
                size_t elem) {
    if (need <= *cap)
        return CSBOT_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return CSBOT_ENOMEM;
        ncap *= 2;
    }
    void *np = csbot__realloc(a, *p, ncap * elem);
    if (!np)
        return CSBOT_ENOMEM;
    *p = np;
    *cap = ncap;
    return CSBOT_OK;
}
