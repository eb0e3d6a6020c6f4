/*
 * dict.c - the hash map used for the knowledge base's feature vocabulary and
 * word cache: open addressing with linear probing, load factor at most 1/2.
 * Built at load time, only read afterwards (so it is safe to share).
 */
#include "dict.h"

int csbot__dict_init(const csbot__alloc *a, csbot__dict *d, size_t hint) {
    size_t cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    d->keys = csbot__calloc(a, cap, sizeof *d->keys);
    d->vals = csbot__calloc(a, cap, sizeof *d->vals);
    if (!d->keys || !d->vals) {
        csbot__dict_free(a, d);
        return CSBOT_ENOMEM;
    }
    d->mask = cap - 1;
    d->count = 0;
    return CSBOT_OK;
}

static void insert_raw(csbot__dict *d, uint64_t key, uint32_t val) {
    size_t i = (size_t)(key ^ (key >> 29)) & d->mask;
    while (d->keys[i])
        i = (i + 1) & d->mask;
    d->keys[i] = key;
    d->vals[i] = val;
}

int csbot__dict_put(const csbot__alloc *a, csbot__dict *d, uint64_t key,
                    uint32_t val, uint32_t *out) {
    uint32_t v;
    CSBOT_ASSERT(key != 0);
    if (csbot__dict_get(d, key, &v)) {
        if (out)
            *out = v;
        return CSBOT_OK;
    }
    if ((d->count + 1) * 2 > d->mask + 1) {
        csbot__dict nd;
        if (csbot__dict_init(a, &nd, (d->mask + 1)))
            return CSBOT_ENOMEM;
        for (size_t i = 0; i <= d->mask; i++)
            if (d->keys[i])
                insert_raw(&nd, d->keys[i], d->vals[i]);
        nd.count = d->count;
        csbot__dict_free(a, d);
        *d = nd;
    }
    insert_raw(d, key, val);
    d->count++;
    if (out)
        *out = val;
    return CSBOT_OK;
}

void csbot__dict_free(const csbot__alloc *a, csbot__dict *d) {
    csbot__free(a, d->keys);
    csbot__free(a, d->vals);
    d->keys = NULL;
    d->vals = NULL;
    d->mask = d->count = 0;
}
