/*
 * dict.h - open-addressing hash map from 64-bit keys to 32-bit values.
 */
#ifndef CSBOT_DICT_H
#define CSBOT_DICT_H

#include "internal.h"

typedef struct csbot__dict {
    uint64_t *keys; /* 0 = empty slot (hashes are never 0) */
    uint32_t *vals;
    size_t mask;    /* capacity - 1, capacity a power of two */
    size_t count;
} csbot__dict;

int csbot__dict_init(const csbot__alloc *a, csbot__dict *d, size_t hint);
/* Insert key if absent with value val; *out receives the stored value. */
int csbot__dict_put(const csbot__alloc *a, csbot__dict *d, uint64_t key,
                    uint32_t val, uint32_t *out);
/* Returns 1 and sets *val when found. */
static inline int csbot__dict_get(const csbot__dict *d, uint64_t key,
                                  uint32_t *val) {
    if (!d->keys)
        return 0;
    size_t i = (size_t)(key ^ (key >> 29)) & d->mask;
    for (;;) {
        uint64_t k = d->keys[i];
        if (k == key) {
            *val = d->vals[i];
            return 1;
        }
        if (k == 0)
            return 0;
        i = (i + 1) & d->mask;
    }
}
void csbot__dict_free(const csbot__alloc *a, csbot__dict *d);

#endif
