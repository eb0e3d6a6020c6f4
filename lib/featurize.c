/*
 * featurize.c - turns normalised text into hashed features for the matcher.
 *
 * Chinese has no spaces, so it is read as characters and character pairs
 * (trigrams can be switched on by their weight); English as words reduced
 * to their stems by libstemmer (Snowball), pairs of neighbouring words,
 * pairs of words with one word between, and the character trigrams of
 * "<word>", so that typos still share most features with the right word.
 * Both kinds can appear in one message. Numbers of five digits or more
 * become a shape feature (an order number says "this is about an order",
 * its digits say nothing), and shorter numbers do not count as words the
 * knowledge base should know (the coverage, see match.c).
 *
 * Features are 64-bit hashes with the kind in the low 3 bits, so no strings
 * are built; they are sorted (a bucket pass on the top bits, the hashes
 * being uniform, then an insertion pass) and merged so that each appears
 * once with a sub-linear count weight.
 */
#include <libstemmer.h>
#include <math.h>
#include <stdlib.h>

#include "featurize.h"
#include "utf8.h"

#define MAXWORD 64

void csbot__featcfg_default(csbot__featcfg *cfg) {
    cfg->weight[CSBOT__F_WORD] = 1.0f;
    cfg->weight[CSBOT__F_WBIGRAM] = 0.7f;
    cfg->weight[CSBOT__F_CHAR] = 0.5f;
    cfg->weight[CSBOT__F_HAN1] = 1.0f;
    cfg->weight[CSBOT__F_HAN2] = 1.0f;
    cfg->weight[CSBOT__F_HAN3] = 0.0f;
    cfg->weight[CSBOT__F_NUM] = 0.5f;
    cfg->weight[CSBOT__F_WSKIP] = 0.5f;
    cfg->char_min = 3;
    cfg->char_max = 3;
}

struct sb_stemmer *csbot__stemmer_new(void) {
    return sb_stemmer_new("english", "UTF_8");
}

void csbot__stemmer_free(struct sb_stemmer *st) {
    if (st)
        sb_stemmer_delete(st);
}

/* The hash of a feature: its kind in the low bits, so that sorting the
 * hashes keeps the kind with each one. Never 0. */
static inline uint64_t fhash(uint64_t h, int kind) {
    uint64_t x = (csbot__hash_mix(h, (uint64_t)kind + 1) & ~(uint64_t)7) |
                 (uint64_t)kind;
    return x ? x : 8;
}

static int push(const csbot__alloc *a, csbot__feats *f, uint64_t h, int kind,
                const csbot__featcfg *cfg) {
    if (cfg->weight[kind] <= 0.0f)
        return CSBOT_OK;
    if (f->n == f->cap) {
        void *p = f->h;
        int rc = csbot__grow(a, &p, &f->cap, f->n + 1, sizeof(uint64_t));
        f->h = p;
        if (rc)
            return rc;
    }
    f->h[f->n++] = fhash(h, kind);
    return CSBOT_OK;
}

static int push_unit(const csbot__alloc *a, csbot__feats *f, uint64_t h) {
    void *p = f->unit;
    int rc = csbot__grow(a, &p, &f->unitcap, f->nunit + 1, sizeof(uint64_t));
    f->unit = p;
    if (!rc)
        f->unit[f->nunit++] = h;
    return rc;
}

/* Stem hash of a word, from the cache or computed. */
static int stem_of(const csbot__alloc *a, struct sb_stemmer *st,
                   csbot__stemcache *c, int learn, const char *w, size_t n,
                   uint64_t *out) {
    uint64_t sh = csbot__hash(w, n, 7);
    uint32_t idx;
    if (c && csbot__dict_get(&c->map, sh, &idx)) {
        *out = c->stem[idx];
        return CSBOT_OK;
    }
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] >= 0x80 || (w[i] >= '0' && w[i] <= '9'))
            ascii = 0;
    const char *s = w;
    size_t sn = n;
    if (st && ascii && n > 2) {
        const sb_symbol *r = sb_stemmer_stem(st, (const sb_symbol *)w, (int)n);
        if (r) {
            s = (const char *)r;
            sn = (size_t)sb_stemmer_length(st);
        }
    }
    *out = csbot__hash(s, sn, 11);
    if (c && learn) {
        void *p = c->stem;
        if (csbot__grow(a, &p, &c->cap, c->n + 1, sizeof(uint64_t)))
            return CSBOT_ENOMEM;
        c->stem = p;
        if (!c->map.keys && csbot__dict_init(a, &c->map, 1024))
            return CSBOT_ENOMEM;
        if (csbot__dict_put(a, &c->map, sh, (uint32_t)c->n, NULL))
            return CSBOT_ENOMEM;
        c->stem[c->n++] = *out;
    }
    return CSBOT_OK;
}

static int flush_word(const csbot__alloc *a, const csbot__featcfg *cfg,
                      struct sb_stemmer *st, csbot__stemcache *c, int learn,
                      const char *w, size_t n, uint64_t *prev,
                      csbot__feats *f) {
    int rc;
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += (w[i] >= '0' && w[i] <= '9');
    if (digits == n && n >= 5) {
        uint64_t h = csbot__hash("#num", 4, n > 12 ? 13 : n);
        prev[1] = prev[0];
        prev[0] = 0;
        if ((rc = push(a, f, h, CSBOT__F_NUM, cfg)))
            return rc;
        return push_unit(a, f, fhash(h, CSBOT__F_NUM));
    }
    uint64_t sh;
    if ((rc = stem_of(a, st, c, learn, w, n, &sh)))
        return rc;
    if ((rc = push(a, f, sh, CSBOT__F_WORD, cfg)))
        return rc;
    /* numbers are not words the knowledge base should know */
    if (digits < n && (rc = push_unit(a, f, fhash(sh, CSBOT__F_WORD))))
        return rc;
    if (prev[0] && (rc = push(a, f, csbot__hash_mix(prev[0], sh),
                              CSBOT__F_WBIGRAM, cfg)))
        return rc;
    if (prev[1] && (rc = push(a, f, csbot__hash_mix(prev[1], sh),
                              CSBOT__F_WSKIP, cfg)))
        return rc;
    prev[1] = prev[0];
    prev[0] = sh;
    /* character n-grams of "<word>" (bytes; words are short) */
    if (cfg->weight[CSBOT__F_CHAR] > 0.0f && digits < n) {
        char b[MAXWORD + 2];
        size_t m = 0;
        b[m++] = '<';
        for (size_t i = 0; i < n && m < MAXWORD + 1; i++)
            b[m++] = w[i];
        b[m++] = '>';
        for (int g = cfg->char_min; g <= cfg->char_max; g++)
            for (size_t i = 0; i + (size_t)g <= m; i++) {
                if (g >= (int)m && !(i == 0))
                    continue;
                if ((rc = push(a, f, csbot__hash(b + i, (size_t)g, 3),
                               CSBOT__F_CHAR, cfg)))
                    return rc;
            }
    }
    return CSBOT_OK;
}

/* 1 + log(count) for small counts */
static const float LOG1[17] = {
    0.0f,        1.0f,        1.69314718f, 2.09861229f, 2.38629436f,
    2.60943791f, 2.79175947f, 2.94591015f, 3.07944154f, 3.19722458f,
    3.30258509f, 3.39789527f, 3.48490665f, 3.56494936f, 3.63905733f,
    3.70805020f, 3.77258872f};

/* Sort the hashes: scatter by their top bits (they are uniformly spread),
 * then an insertion sort mends the few inversions left in each bucket. */
static int sort_hashes(const csbot__alloc *a, csbot__feats *f) {
    size_t n = f->n;
    int bits = 8;
    while (bits < 12 && ((size_t)1 << bits) < n)
        bits++;
    size_t nb = (size_t)1 << bits;
    void *p = f->tmp;
    int rc = csbot__grow(a, &p, &f->tmpcap, nb + 1, sizeof(uint32_t));
    f->tmp = p;
    if (!rc) {
        p = f->h2;
        rc = csbot__grow(a, &p, &f->h2cap, n, sizeof(uint64_t));
        f->h2 = p;
    }
    if (rc)
        return rc;
    uint32_t *cnt = f->tmp;
    memset(cnt, 0, (nb + 1) * sizeof *cnt);
    int sh = 64 - bits;
    for (size_t i = 0; i < n; i++)
        cnt[(f->h[i] >> sh) + 1]++;
    for (size_t b = 0; b < nb; b++)
        cnt[b + 1] += cnt[b];
    uint64_t *o = f->h2;
    for (size_t i = 0; i < n; i++)
        o[cnt[f->h[i] >> sh]++] = f->h[i];
    for (size_t i = 1; i < n; i++) {
        uint64_t x = o[i];
        size_t j = i;
        while (j > 0 && o[j - 1] > x) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = x;
    }
    /* swap the buffers: the sorted hashes become f->h */
    f->h2 = f->h;
    f->h = o;
    size_t c = f->cap;
    f->cap = f->h2cap;
    f->h2cap = c;
    return CSBOT_OK;
}

/* Sort and merge duplicates; fill v and kind. */
static int merge(const csbot__alloc *a, const csbot__featcfg *cfg,
                 csbot__feats *f) {
    if (f->n == 0)
        return CSBOT_OK;
    int rc = sort_hashes(a, f);
    if (!rc) {
        void *p = f->v;
        rc = csbot__grow(a, &p, &f->vcap, f->n, sizeof(float));
        f->v = p;
    }
    if (!rc) {
        void *p = f->kind;
        rc = csbot__grow(a, &p, &f->kindcap, f->n, 1);
        f->kind = p;
    }
    if (rc)
        return rc;
    uint64_t *h = f->h;
    size_t out = 0, i = 0, n = f->n;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && h[j] == h[i])
            j++;
        size_t cnt = j - i;
        int kind = (int)(h[i] & 7);
        h[out] = h[i];
        f->kind[out] = (uint8_t)kind;
        f->v[out] = cfg->weight[kind] *
                    (cnt < 17 ? LOG1[cnt] : 1.0f + logf((float)cnt));
        out++;
        i = j;
    }
    f->n = out;
    return CSBOT_OK;
}

int csbot__features_extract(const csbot__alloc *a, const csbot__featcfg *cfg,
                            struct sb_stemmer *st, csbot__stemcache *cache,
                            int learn, const char *text, size_t len,
                            csbot__feats *f) {
    f->n = 0;
    f->nunit = 0;
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *e = p + len;
    char word[MAXWORD];
    size_t wn = 0;
    int rc = CSBOT_OK;
    uint64_t prev_stem[2] = {0, 0}; /* the two previous words' stems */
    uint32_t h1 = 0, h2 = 0; /* previous Han characters in the run */
    size_t run = 0;
    while (p <= e && rc == CSBOT_OK) {
        uint32_t cp = 0;
        if (p < e)
            p += csbot__utf8_next(p, &cp);
        else
            p++; /* one extra round to flush */
        int han = cp && csbot__is_han(cp);
        int wc = cp && !han && csbot__is_wordchar(cp);
        if (cp == '\'' || cp == 0x2019) /* don't -> dont */
            continue;
        if (wc) {
            /* append UTF-8 bytes of cp */
            const unsigned char *s = p;
            size_t k = 1;
            while (k < 4 && s - k > (const unsigned char *)text &&
                   (s[-(long)k] & 0xC0) == 0x80)
                k++;
            if ((s[-(long)k] & 0xC0) == 0x80)
                k = 1;
            if (wn + k <= MAXWORD)
                memcpy(word + wn, s - k, k), wn += k;
            continue;
        }
        if (wn) {
            rc = flush_word(a, cfg, st, cache, learn, word, wn, prev_stem, f);
            wn = 0;
        }
        if (han) {
            run++;
            rc = rc ? rc : push(a, f, cp, CSBOT__F_HAN1, cfg);
            if (h1 && !rc) {
                uint64_t b = csbot__hash_mix(h1, cp);
                rc = push(a, f, b, CSBOT__F_HAN2, cfg);
                if (!rc)
                    rc = push_unit(a, f, fhash(b, CSBOT__F_HAN2));
                if (h2 && !rc)
                    rc = push(a, f, csbot__hash_mix(csbot__hash_mix(h2, h1), cp),
                              CSBOT__F_HAN3, cfg);
            }
            h2 = h1;
            h1 = cp;
        } else {
            if (run == 1 && !rc)
                rc = push_unit(a, f, fhash(h1, CSBOT__F_HAN1));
            run = 0;
            h1 = h2 = 0;
        }
        if (cp != ' ' && !han)
            prev_stem[0] = prev_stem[1] = 0; /* punctuation breaks pairs */
    }
    if (!rc)
        rc = merge(a, cfg, f);
    return rc;
}

void csbot__feats_free(const csbot__alloc *a, csbot__feats *f) {
    csbot__free(a, f->h);
    csbot__free(a, f->h2);
    csbot__free(a, f->v);
    csbot__free(a, f->kind);
    csbot__free(a, f->unit);
    csbot__free(a, f->tmp);
    memset(f, 0, sizeof *f);
}

void csbot__stemcache_free(const csbot__alloc *a, csbot__stemcache *c) {
    csbot__dict_free(a, &c->map);
    csbot__free(a, c->stem);
    memset(c, 0, sizeof *c);
}
