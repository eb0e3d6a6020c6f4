/*
 * featurize.c - turns normalised text into hashed features for the matcher.
 *
 * Chinese has no spaces, so it is read as characters, character bigrams and
 * trigrams; English as words reduced to their stems by libstemmer (Snowball),
 * word bigrams, and character n-grams of "<word>" so that typos still share
 * most features with the right word. Both kinds can appear in one message.
 * Numbers of five digits or more become a shape feature (an order number
 * says "this is about an order", its digits say nothing). Features are 64-bit
 * hashes, so no strings are built; they are sorted and merged so that each
 * appears once with a sub-linear count weight.
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
    cfg->weight[CSBOT__F_CHAR] = 0.35f;
    cfg->weight[CSBOT__F_HAN1] = 0.6f;
    cfg->weight[CSBOT__F_HAN2] = 1.0f;
    cfg->weight[CSBOT__F_HAN3] = 0.6f;
    cfg->weight[CSBOT__F_NUM] = 0.5f;
    cfg->char_min = 3;
    cfg->char_max = 5;
}

struct sb_stemmer *csbot__stemmer_new(void) {
    return sb_stemmer_new("english", "UTF_8");
}

void csbot__stemmer_free(struct sb_stemmer *st) {
    if (st)
        sb_stemmer_delete(st);
}

static int push(const csbot__alloc *a, csbot__feats *f, uint64_t h, int kind,
                const csbot__featcfg *cfg) {
    if (cfg->weight[kind] <= 0.0f)
        return CSBOT_OK;
    if (f->n == f->cap) {
        size_t c1 = f->cap, c2 = f->cap, c3 = f->cap;
        void *p1 = f->h, *p2 = f->v, *p3 = f->kind;
        int rc = csbot__grow(a, &p1, &c1, f->n + 1, sizeof(uint64_t));
        f->h = p1;
        if (!rc)
            rc = csbot__grow(a, &p2, &c2, f->n + 1, sizeof(float));
        f->v = p2;
        if (!rc)
            rc = csbot__grow(a, &p3, &c3, f->n + 1, 1);
        f->kind = p3;
        if (rc)
            return rc;
        f->cap = c1;
    }
    f->h[f->n] = csbot__hash_mix(h, (uint64_t)kind + 1);
    f->v[f->n] = 1.0f;
    f->kind[f->n] = (uint8_t)kind;
    f->n++;
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
        *prev = 0;
        if ((rc = push(a, f, h, CSBOT__F_NUM, cfg)))
            return rc;
        return push_unit(a, f, h);
    }
    uint64_t sh;
    if ((rc = stem_of(a, st, c, learn, w, n, &sh)))
        return rc;
    if ((rc = push(a, f, sh, CSBOT__F_WORD, cfg)))
        return rc;
    if ((rc = push_unit(a, f, csbot__hash_mix(sh, CSBOT__F_WORD + 1))))
        return rc;
    if (*prev && (rc = push(a, f, csbot__hash_mix(*prev, sh),
                            CSBOT__F_WBIGRAM, cfg)))
        return rc;
    *prev = sh;
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

static int cmp_u32_by_hash(const void *x, const void *y, void *ctx) {
    const uint64_t *h = ctx;
    uint64_t a = h[*(const uint32_t *)x], b = h[*(const uint32_t *)y];
    return a < b ? -1 : a > b;
}

/* Small insertion sort of indices by hash (feature lists are short). */
static void sort_idx(uint32_t *idx, size_t n, const uint64_t *h) {
    for (size_t i = 1; i < n; i++) {
        uint32_t x = idx[i];
        size_t j = i;
        while (j > 0 && cmp_u32_by_hash(&idx[j - 1], &x, (void *)h) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
}

static void heap_sift(uint32_t *idx, size_t n, size_t i, const uint64_t *h) {
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[idx[l]] > h[idx[m]]) m = l;
        if (l + 1 < n && h[idx[l + 1]] > h[idx[m]]) m = l + 1;
        if (m == i) return;
        uint32_t t = idx[i]; idx[i] = idx[m]; idx[m] = t;
        i = m;
    }
}

static void sort_any(uint32_t *idx, size_t n, const uint64_t *h) {
    if (n < 64) {
        sort_idx(idx, n, h);
        return;
    }
    for (size_t i = n / 2; i-- > 0;)
        heap_sift(idx, n, i, h);
    for (size_t e = n; e-- > 1;) {
        uint32_t t = idx[0]; idx[0] = idx[e]; idx[e] = t;
        heap_sift(idx, e, 0, h);
    }
}

static int merge(const csbot__alloc *a, const csbot__featcfg *cfg,
                 csbot__feats *f) {
    if (f->n == 0)
        return CSBOT_OK;
    void *p = f->tmp;
    int rc = csbot__grow(a, &p, &f->tmpcap, f->n * 2, sizeof(uint32_t));
    f->tmp = p;
    if (rc)
        return rc;
    uint32_t *idx = f->tmp;
    for (size_t i = 0; i < f->n; i++)
        idx[i] = (uint32_t)i;
    sort_any(idx, f->n, f->h);
    /* Write merged output into the second half of tmp as indices first,
     * then compact in place through a copy of the hashes. */
    size_t out = 0;
    uint64_t *h = f->h;
    float *v = f->v;
    uint8_t *k = f->kind;
    /* Because the output is never ahead of the input in sorted order but is
     * in a different order than storage, gather into temporary arrays laid
     * over tmp's second half would need 13 bytes each; use a two-pass swap:
     * collect (hash, count, kind) of unique features at the front. */
    size_t i = 0;
    uint32_t *cnt = idx + f->n;
    while (i < f->n) {
        size_t j = i + 1;
        while (j < f->n && h[idx[j]] == h[idx[i]])
            j++;
        cnt[out] = (uint32_t)(j - i);
        idx[out] = idx[i];
        out++;
        i = j;
    }
    /* idx[0..out) are original positions of unique features in sorted
     * order; permute them to the front. Each original position is used once,
     * and idx is increasing in hash, so copy via a cycle-free scheme: first
     * copy to tail storage in the arrays beyond n (grow them). */
    size_t need = f->n + out;
    if (need > f->cap) {
        size_t c1 = f->cap, c2 = f->cap, c3 = f->cap;
        void *p1 = f->h, *p2 = f->v, *p3 = f->kind;
        rc = csbot__grow(a, &p1, &c1, need, sizeof(uint64_t));
        f->h = p1;
        if (!rc) rc = csbot__grow(a, &p2, &c2, need, sizeof(float));
        f->v = p2;
        if (!rc) rc = csbot__grow(a, &p3, &c3, need, 1);
        f->kind = p3;
        if (rc)
            return rc;
        f->cap = c1;
        h = f->h; v = f->v; k = f->kind;
    }
    for (size_t u = 0; u < out; u++) {
        h[f->n + u] = h[idx[u]];
        k[f->n + u] = k[idx[u]];
        v[f->n + u] = cfg->weight[k[idx[u]]] *
                      (1.0f + logf((float)cnt[u]));
    }
    memmove(h, h + f->n, out * sizeof *h);
    memmove(v, v + f->n, out * sizeof *v);
    memmove(k, k + f->n, out);
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
    uint64_t prev_stem = 0;
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
            rc = flush_word(a, cfg, st, cache, learn, word, wn, &prev_stem, f);
            wn = 0;
        }
        if (han) {
            run++;
            rc = rc ? rc : push(a, f, cp, CSBOT__F_HAN1, cfg);
            if (h1 && !rc) {
                uint64_t b = csbot__hash_mix(h1, cp);
                rc = push(a, f, b, CSBOT__F_HAN2, cfg);
                if (!rc)
                    rc = push_unit(a, f, csbot__hash_mix(b, CSBOT__F_HAN2 + 1));
                if (h2 && !rc)
                    rc = push(a, f, csbot__hash_mix(csbot__hash_mix(h2, h1), cp),
                              CSBOT__F_HAN3, cfg);
            }
            h2 = h1;
            h1 = cp;
        } else {
            if (run == 1 && !rc)
                rc = push_unit(a, f, csbot__hash_mix(csbot__hash_mix(h1, 0),
                                                     CSBOT__F_HAN1 + 1));
            run = 0;
            h1 = h2 = 0;
        }
        if (cp != ' ' && !han)
            prev_stem = 0; /* punctuation breaks word bigrams */
    }
    if (!rc)
        rc = merge(a, cfg, f);
    return rc;
}

void csbot__feats_free(const csbot__alloc *a, csbot__feats *f) {
    csbot__free(a, f->h);
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
