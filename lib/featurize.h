/*
 * featurize.h - from normalised text to hashed features: English words
 * (stemmed with libstemmer), word pairs (neighbours and with one word
 * between), character n-grams inside words (for typos), Chinese characters
 * and character pairs (and trigrams, off by default), number shapes. Works
 * on mixed Chinese/English text without spaces.
 */
#ifndef CSBOT_FEATURIZE_H
#define CSBOT_FEATURIZE_H

#include "dict.h"

struct sb_stemmer;

/* Feature kinds; each has a weight in csbot__featcfg. At most 8: the kind
 * is kept in the low 3 bits of a feature's hash. */
enum {
    CSBOT__F_WORD = 0,
    CSBOT__F_WBIGRAM,
    CSBOT__F_CHAR,
    CSBOT__F_HAN1,
    CSBOT__F_HAN2,
    CSBOT__F_HAN3,  /* weight 0 by default */
    CSBOT__F_NUM,
    CSBOT__F_WSKIP, /* word pairs with one word between */
    CSBOT__F_KINDS
};

typedef struct csbot__featcfg {
    float weight[CSBOT__F_KINDS];
    int char_min, char_max; /* character n-gram lengths inside "<word>" */
} csbot__featcfg;

void csbot__featcfg_default(csbot__featcfg *cfg);

/* Surface word -> stem hash, filled at load time, read at reply time. */
typedef struct csbot__stemcache {
    csbot__dict map; /* surface hash -> index into stem[] */
    uint64_t *stem;
    size_t n, cap;
} csbot__stemcache;

/* Extracted features: sorted by hash, duplicates merged. A feature's hash
 * carries its kind in the low 3 bits. */
typedef struct csbot__feats {
    uint64_t *h;
    float *v;      /* kind weight * (1 + log count) */
    uint8_t *kind;
    size_t n, cap; /* cap: of h */
    size_t vcap, kindcap;
    uint64_t *unit;   /* hashes of the "units" (words, Han bigrams) */
    size_t nunit, unitcap;
    uint32_t *tmp;    /* scratch for the sort */
    size_t tmpcap;
    uint64_t *h2;     /* second buffer for the sort */
    size_t h2cap;
} csbot__feats;

/* Extract the features of normalised text. cache may be NULL; when
 * learn is non-zero new stems are added to it (load time only). */
int csbot__features_extract(const csbot__alloc *a, const csbot__featcfg *cfg,
                            struct sb_stemmer *st, csbot__stemcache *cache,
                            int learn, const char *text, size_t len,
                            csbot__feats *f);
void csbot__feats_free(const csbot__alloc *a, csbot__feats *f);
void csbot__stemcache_free(const csbot__alloc *a, csbot__stemcache *c);

struct sb_stemmer *csbot__stemmer_new(void);
void csbot__stemmer_free(struct sb_stemmer *st);

#endif
