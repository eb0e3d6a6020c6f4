/*
 * match.c - the matcher. At load time every example is normalised, turned
 * into features and added to a sparse matrix; the features are numbered in
 * hash order, get IDF weights, the rows are L2-normalised, the classifier
 * (model.c) is trained and the nearest-example index built. At reply time a
 * message goes the same way (features no example has count in its length,
 * so that a message of mostly unknown words is weak evidence) and gets:
 *
 *   - p(intent): the classifier's probability, calibrated at load on
 *     held-out examples, with a background "none of these" in the softmax
 *     (and, if the knowledge base has negative examples, their hidden
 *     out-of-scope class) taking its share;
 *   - sim(intent): the cosine of the message's word-level features (words,
 *     word pairs, Chinese characters and pairs) with the nearest example of
 *     the intent, found through the inverted index (with a classifier, only
 *     the lists of the message's 4 rarest features are read: enough to find
 *     near-duplicates; the 3 best get their exact cosine; in FAQ mode the
 *     rarest features' lists up to a fixed number of postings, so that the
 *     cost of a reply does not grow with the number of entries);
 *   - coverage: the share of the message's words (English) and character
 *     pairs (Chinese) that occur in some example;
 *   - with a sentence encoder attached (vectors.c), for an English message
 *     (no Chinese characters): the cosine of its sentence vector with each
 *     intent's nearest English example. Before the softmax, each intent's
 *     logit moves by CSBOT__VEC_WEIGHT (25) times how far that cosine is
 *     below the best intent's (an intent without English examples counts
 *     as cosine 0), so meaning can outvote shared words, and the
 *     background keeps its place relative to the intent nearest in
 *     meaning; when even that cosine is under the knowledge base's
 *     reference (the 5th percentile of the examples' cosines with their
 *     nearest peer, vectors.c), every intent also loses 25 times the
 *     shortfall, so a message unlike all examples tends to fall back.
 *
 * What the confidence means (README): roughly the probability that the
 * intent is the right answer, lowered for messages made of words the
 * knowledge base has never seen and for very short messages with no close
 * example. In detail:
 *
 *   confidence = p(intent) * min(1, coverage / 0.5)
 *
 * times 0.6 + 0.8 sim for a message of one word (or character pair) with
 * no example within cosine 0.5; at least sim * (0.5 + 0.5 p) when the
 * message is nearly one of the intent's examples (sim > 0.9); the pattern
 * confidence (+ 0.05 p) when one of the intent's patterns fires. Knowledge
 * bases with too many intents for a classifier (FAQ-style, thousands of
 * entries of one or two questions each) rank by similarity over all the
 * informative features and use sim in place of p, lowered when a negative
 * example is nearer than the intent's.
 */
#include <math.h>
#include <stdlib.h>

#include "match.h"
#include "utf8.h"

/* Largest classifier: intents x features weights. */
#define MAX_WEIGHTS (48u * 1024u * 1024u)
#define MAX_CLASSES 4000u
/* see vectorize() */
#define UNKNOWN_WEIGHT 0.2f
#define COVERAGE_FULL 0.5f

int csbot__scratch_init(const csbot_kb *kb, csbot__scratch *s) {
    memset(s, 0, sizeof *s);
    s->stemmer = csbot__stemmer_new();
    if (!s->stemmer)
        return CSBOT_ENOMEM;
    if (kb->rectx && csbot__rematch_new(&kb->alloc, kb->rectx, &s->rm)) {
        csbot__stemmer_free(s->stemmer);
        s->stemmer = NULL;
        return CSBOT_ENOMEM;
    }
    return CSBOT_OK;
}

void csbot__scratch_free(const csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    csbot__normbuf_free(a, &s->nb);
    csbot__buf_free(a, &s->norm0);
    csbot__buf_free(a, &s->norm);
    csbot__feats_free(a, &s->feats);
    csbot__stemmer_free(s->stemmer);
    csbot__free(a, s->ids);
    csbot__free(a, s->vals);
    csbot__free(a, s->logits);
    csbot__encscratch_free(a, &s->enc);
    csbot__free(a, s->vbest);
    csbot__free(a, s->acc);
    csbot__free(a, s->touched);
    csbot__free(a, s->isim);
    csbot__free(a, s->tint);
    csbot__free(a, s->irow);
    csbot__free(a, s->qids);
    csbot__free(a, s->qvals);
    csbot__rematch_free(a, s->rm);
    csbot__rows_free(a, &s->rows);
    csbot__free(a, s->df);
    csbot__free(a, s->fkind);
    memset(s, 0, sizeof *s);
}

int csbot__match_normalize(const csbot_kb *kb, csbot__scratch *s,
                           const char *text, size_t len, csbot__buf *out,
                           int synonyms) {
    csbot__buf_clear(out);
    if (!synonyms)
        return csbot__utf8_normalize(&kb->alloc, &s->nb, text, len,
                                     &kb->conv.t2s, &kb->conv.s2t_chars, out,
                                     &s->sc);
    csbot__buf_clear(&s->norm0);
    int rc = csbot__utf8_normalize(&kb->alloc, &s->nb, text, len,
                                   &kb->conv.t2s, &kb->conv.s2t_chars,
                                   &s->norm0, &s->sc);
    if (!rc)
        rc = csbot__phrases_replace(&kb->alloc, &kb->synonyms, s->norm0.data,
                                    s->norm0.len, out);
    return rc;
}

/* Room for n entries in a pair of arrays of feature ids and values that
 * share the capacity *cap. */
static int grow_pair(const csbot__alloc *a, uint32_t **ids, float **vals,
                     size_t *cap, size_t n) {
    size_t c1 = *cap, c2 = *cap;
    void *p1 = *ids, *p2 = *vals;
    int rc = csbot__grow(a, &p1, &c1, n, sizeof(uint32_t));
    *ids = p1;
    if (!rc)
        rc = csbot__grow(a, &p2, &c2, n, sizeof(float));
    *vals = p2;
    if (!rc)
        *cap = c1;
    return rc;
}

static int reserve_ids(const csbot__alloc *a, csbot__scratch *s, size_t n) {
    return grow_pair(a, &s->ids, &s->vals, &s->idcap, n);
}

int csbot__match_learn(csbot_kb *kb, csbot__scratch *s, const char *text,
                       size_t len, uint32_t label) {
    const csbot__alloc *a = &kb->alloc;
    int rc = csbot__match_normalize(kb, s, text, len, &s->norm, 1);
    if (!rc)
        rc = csbot__features_extract(a, &kb->fcfg, s->stemmer, &kb->stems, 1,
                                     s->norm.data ? s->norm.data : "",
                                     s->norm.len, &s->feats);
    if (rc)
        return rc;
    if (s->feats.n == 0)
        return CSBOT_EEMPTY;
    if (!kb->vocab.keys && (rc = csbot__dict_init(a, &kb->vocab, 4096)))
        return rc;
    if ((rc = reserve_ids(a, s, s->feats.n)))
        return rc;
    for (size_t i = 0; i < s->feats.n; i++) {
        uint32_t id;
        rc = csbot__dict_put(a, &kb->vocab, s->feats.h[i],
                             (uint32_t)kb->vocab.count, &id);
        if (rc)
            return rc;
        void *p = s->df;
        if ((rc = csbot__grow(a, &p, &s->dfcap, (size_t)id + 1, sizeof(uint32_t))))
            return rc;
        s->df = p;
        p = s->fkind;
        if ((rc = csbot__grow(a, &p, &s->fkindcap, (size_t)id + 1, 1)))
            return rc;
        s->fkind = p;
        if (id == kb->vocab.count - 1) {
            s->df[id] = 0;
            s->fkind[id] = s->feats.kind[i];
        }
        s->df[id]++;
        s->ids[i] = id;
        s->vals[i] = s->feats.v[i];
    }
    kb->nexamples++;
    return csbot__rows_add(a, &s->rows, s->ids, s->vals, s->feats.n, label);
}

/* Divide v[0..n) by sqrt(ss). */
static void scale_to(float *v, size_t n, float ss) {
    if (ss > 0) {
        float inv = 1.0f / sqrtf(ss);
        for (size_t i = 0; i < n; i++)
            v[i] *= inv;
    }
}

/* Scale v[0..n) to unit length. */
static void l2norm(float *v, size_t n) {
    float ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += v[i] * v[i];
    scale_to(v, n, ss);
}

typedef struct hash_id {
    uint64_t h;
    uint32_t id;
} hash_id;

static int cmp_hash_id(const void *x, const void *y) {
    uint64_t a = ((const hash_id *)x)->h, b = ((const hash_id *)y)->h;
    return a < b ? -1 : a > b;
}

/* Feature kinds that take part in the nearest-example similarity. */
static int sim_kind(int kind) {
    return kind == CSBOT__F_WORD || kind == CSBOT__F_WBIGRAM ||
           kind == CSBOT__F_NUM || kind == CSBOT__F_HAN1 ||
           kind == CSBOT__F_HAN2;
}

/* Number the features in the order of their hashes. Features are extracted
 * sorted by hash, so every example's row and every message's vector then
 * comes out sorted by feature id, which lets two of them be merged. */
static int renumber(csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    size_t n = kb->nfeat;
    hash_id *t = csbot__malloc(a, (n + 1) * sizeof *t);
    uint32_t *map = csbot__malloc(a, (n + 1) * sizeof *map);
    uint32_t *df = csbot__malloc(a, (n + 1) * sizeof *df);
    if (!t || !map || !df) {
        csbot__free(a, t);
        csbot__free(a, map);
        csbot__free(a, df);
        return CSBOT_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i <= kb->vocab.mask; i++)
        if (kb->vocab.keys[i]) {
            t[k].h = kb->vocab.keys[i];
            t[k].id = kb->vocab.vals[i];
            k++;
        }
    CSBOT_ASSERT(k == n);
    qsort(t, n, sizeof *t, cmp_hash_id);
    for (size_t r = 0; r < n; r++)
        map[t[r].id] = (uint32_t)r;
    for (size_t i = 0; i <= kb->vocab.mask; i++)
        if (kb->vocab.keys[i])
            kb->vocab.vals[i] = map[kb->vocab.vals[i]];
    for (size_t f = 0; f < n; f++)
        df[map[f]] = s->df[f];
    memcpy(s->df, df, n * sizeof *df);
    uint8_t *kind = (uint8_t *)t; /* t is no longer needed */
    for (size_t f = 0; f < n; f++)
        kind[map[f]] = s->fkind[f];
    memcpy(s->fkind, kind, n);
    size_t nnz = s->rows.n ? s->rows.rowptr[s->rows.n] : 0;
    for (size_t i = 0; i < nnz; i++)
        s->rows.col[i] = map[s->rows.col[i]];
    csbot__free(a, t);
    csbot__free(a, map);
    csbot__free(a, df);
    return CSBOT_OK;
}

/* The intents that have patterns, so a reply need not visit the others. */
static int list_patterned(csbot_kb *kb) {
    csbot__index *ix = &kb->index;
    size_t n = 0;
    for (size_t i = 0; i < kb->nintents; i++)
        n += kb->intents[i].npatterns > 0;
    ix->npatint = 0;
    if (!n)
        return CSBOT_OK;
    ix->patint = csbot__malloc(&kb->alloc, n * sizeof *ix->patint);
    if (!ix->patint)
        return CSBOT_ENOMEM;
    for (size_t i = 0; i < kb->nintents; i++)
        if (kb->intents[i].npatterns)
            ix->patint[ix->npatint++] = (uint32_t)i;
    return CSBOT_OK;
}

int csbot__match_build(csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    kb->nfeat = kb->vocab.count;
    if (kb->nexamples == 0)
        return list_patterned(kb); /* patterns only */
    int rc = renumber(kb, s);
    if (rc)
        return rc;
    kb->idf = csbot__malloc(a, (kb->nfeat + 1) * sizeof(float));
    if (!kb->idf)
        return CSBOT_ENOMEM;
    float N = (float)s->rows.n;
    for (size_t f = 0; f < kb->nfeat; f++)
        kb->idf[f] = logf((1.0f + N) / (1.0f + (float)s->df[f])) + 1.0f;
    for (size_t r = 0; r < s->rows.n; r++) {
        uint32_t b = s->rows.rowptr[r], e = s->rows.rowptr[r + 1];
        for (uint32_t k = b; k < e; k++)
            s->rows.val[k] *= kb->idf[s->rows.col[k]];
        l2norm(s->rows.val + b, e - b);
    }
    if (kb->vecs.n && (rc = csbot__vecs_finish(a, &kb->vecs)))
        return rc;
    /* negative examples (kb->nnegatives) form the hidden class nintents */
    size_t C = kb->nintents + (kb->nnegatives ? 1 : 0);
    if (C >= 2 && C <= MAX_CLASSES && kb->nfeat * C <= MAX_WEIGHTS) {
        csbot__traincfg tc;
        csbot__traincfg_default(&tc);
        if (kb->nnegatives)
            tc.neg_class = (int)kb->nintents;
        rc = csbot__model_train(a, &kb->model, &s->rows, kb->nfeat, C, &tc,
                                kb->seed);
    }
    /* Good-Turing: the chance that a new message's word is one no example
     * has is about the share of word occurrences whose word is in just one
     * example */
    double once = 0.0, all = 0.0;
    for (size_t f = 0; f < kb->nfeat; f++)
        if (s->fkind[f] == CSBOT__F_WORD || s->fkind[f] == CSBOT__F_HAN2) {
            all += s->df[f];
            once += s->df[f] == 1;
        }
    if (!rc) {
        /* the similarity's features: the word level */
        for (size_t f = 0; f < kb->nfeat; f++)
            s->fkind[f] = sim_kind(s->fkind[f]);
        rc = csbot__index_build(a, &kb->index, &s->rows, kb->nfeat, s->fkind);
        kb->index.unk = all > 0.0 ? (float)(once / all) : 0.5f;
        kb->index.idfmax = logf(1.0f + N) + 1.0f;
    }
    csbot__rows_free(a, &s->rows);
    if (!rc)
        rc = list_patterned(kb);
    return rc;
}

/* Vectorise the features of s->feats through the vocabulary (ids come out
 * increasing, see renumber()). */
static int vectorize(const csbot_kb *kb, csbot__scratch *s) {
    int rc = reserve_ids(&kb->alloc, s, s->feats.n + 1);
    if (!rc)
        rc = grow_pair(&kb->alloc, &s->qids, &s->qvals, &s->qcap,
                       s->feats.n + 1);
    if (rc)
        return rc;
    s->nids = 0;
    s->nq = 0;
#if defined(__GNUC__)
    /* the vocabulary is larger than the caches: ask for the slots where
     * each feature's lookup starts (dict.h's probe sequence) */
    if (kb->vocab.keys)
        for (size_t i = 0; i < s->feats.n; i++) {
            uint64_t key = s->feats.h[i];
            size_t slot = (size_t)(key ^ (key >> 29)) & kb->vocab.mask;
            __builtin_prefetch(kb->vocab.keys + slot);
            __builtin_prefetch(kb->vocab.vals + slot);
        }
#endif
    /* Features no example has carry no weight in the scores, but they
     * count in the message's length: a message of mostly unknown words is
     * then a short vector, weak evidence for any intent, as it should be
     * (normalising the known features alone would make it look like a
     * perfect match of the one word it shares with an example). They count
     * with the largest IDF, times a weight that is near 1 when the
     * knowledge base's examples rarely bring a word no other example has
     * (then an unknown word suggests a message about something else) and
     * smaller when they often do (small knowledge bases, chatty examples). */
    float uw = UNKNOWN_WEIGHT;
    float w = uw / (kb->index.unk + uw);
    float ss = 0.0f, sq = 0.0f;
    float unk = kb->index.idfmax * kb->index.idfmax * w * w;
    for (size_t i = 0; i < s->feats.n; i++) {
        uint32_t id;
        int sk = sim_kind(s->feats.kind[i]);
        if (csbot__dict_get(&kb->vocab, s->feats.h[i], &id)) {
            float v = s->feats.v[i] * kb->idf[id];
            s->ids[s->nids] = id;
            s->vals[s->nids] = v;
            s->nids++;
            ss += v * v;
            if (sk) {
                s->qids[s->nq] = id;
                s->qvals[s->nq] = v;
                s->nq++;
                sq += v * v;
            }
        } else {
            float v2 = s->feats.v[i] * s->feats.v[i] * unk;
            ss += v2;
            if (sk)
                sq += v2;
        }
    }
    scale_to(s->vals, s->nids, ss);
    scale_to(s->qvals, s->nq, sq);
    s->units = (unsigned)s->feats.nunit;
    s->known = 0;
    for (size_t i = 0; i < s->feats.nunit; i++) {
        uint32_t id;
        s->known += (unsigned)csbot__dict_get(&kb->vocab, s->feats.unit[i], &id);
    }
    s->coverage = s->units ? (float)s->known / (float)s->units : 0.0f;
    /* a message most of whose words no example has is hardly one the
     * knowledge base answers, whatever the classifier makes of the rest */
    s->covfactor = s->coverage < COVERAGE_FULL ? s->coverage / COVERAGE_FULL
                                               : 1.0f;
    return CSBOT_OK;
}

/* Exact cosine of the message with example r (both sorted by feature id). */
static float row_cosine(const csbot__index *ix, const csbot__scratch *s,
                        uint32_t r) {
    const uint32_t *col = ix->col + ix->rowptr[r];
    const float *val = ix->rval + ix->rowptr[r];
    size_t n = ix->rowptr[r + 1] - ix->rowptr[r], i = 0, j = 0;
    float dot = 0.0f;
    while (i < s->nq && j < n) {
        uint32_t x = s->qids[i], y = col[j];
        if (x == y)
            dot += s->qvals[i++] * val[j++];
        else if (x < y)
            i++;
        else
            j++;
    }
    return dot;
}

#define RESCORE 8
#define RESCORE_CLS 3
#define RAREST 4
#define FAQ_RAREST 24
#define FAQ_BUDGET 1024

/* The length of feature f's list of examples. */
static inline uint32_t plen(const csbot__index *ix, uint32_t f) {
    return ix->start[f + 1] - ix->start[f];
}

/* Per-intent similarity to the nearest example, into s->isim (0 for the
 * intents not in s->tint). The inverted index holds only the informative
 * features, so the accumulated scores are lower bounds of the cosines; the
 * nearest examples of the RESCORE best intents get their exact cosine. */
static int similarities(const csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    const csbot__index *ix = &kb->index;
    size_t nint = kb->nintents + 1; /* with the hidden class */
    size_t old = s->acccap;
    void *p = s->acc;
    int rc = csbot__grow(a, &p, &s->acccap, ix->nrows + 1, sizeof(float));
    s->acc = p;
    if (rc)
        return rc;
    if (s->acccap > old)
        memset(s->acc + old, 0, (s->acccap - old) * sizeof(float));
    old = s->isimcap;
    p = s->isim;
    rc = csbot__grow(a, &p, &s->isimcap, nint, sizeof(float));
    s->isim = p;
    if (!rc && s->isimcap > old) {
        /* zeroed at once: if a grow below fails, the next message must not
         * find this memory uninitialised */
        memset(s->isim, 0, s->isimcap * sizeof(float));
        s->ntint = 0;
    }
    if (!rc) {
        p = s->irow;
        rc = csbot__grow(a, &p, &s->irowcap, nint, sizeof(uint32_t));
        s->irow = p;
    }
    if (!rc) {
        p = s->tint;
        rc = csbot__grow(a, &p, &s->tintcap, nint, sizeof(uint32_t));
        s->tint = p;
    }
    if (rc)
        return rc;
    for (size_t t = 0; t < s->ntint; t++)
        s->isim[s->tint[t]] = 0.0f;
    s->ntint = 0;
    s->ntouched = 0;
    /* With a classifier the similarity only has to find near-duplicates
     * of the message: those share its rarest features, so only the lists
     * of the RAREST rarest ones are read. Without one (FAQ mode) it ranks
     * the answers: the lists of up to FAQ_RAREST features, rarest first,
     * as long as they stay within FAQ_BUDGET postings in all (the RAREST
     * rarest are always read). A feature whose list is long says little
     * about which entry is meant, and the budget keeps the cost of a reply
     * from growing with the number of entries; the features not read still
     * count in the exact cosine of the best candidates. */
    uint32_t pick[FAQ_RAREST];
    size_t npick = 0, maxpick = kb->model.nclass ? RAREST : FAQ_RAREST;
    for (size_t k = 0; k < s->nq; k++) {
        uint32_t len = plen(ix, s->qids[k]);
        if (len == 0)
            continue;
        if (npick < maxpick) {
            pick[npick++] = (uint32_t)k;
            continue;
        }
        size_t w = 0; /* replace the longest list picked so far */
        for (size_t i = 1; i < npick; i++)
            if (plen(ix, s->qids[pick[i]]) > plen(ix, s->qids[pick[w]]))
                w = i;
        if (len < plen(ix, s->qids[pick[w]]))
            pick[w] = (uint32_t)k;
    }
    /* rarest first */
    for (size_t i = 1; i < npick; i++) {
        uint32_t x = pick[i];
        size_t j = i;
        while (j > 0 && plen(ix, s->qids[pick[j - 1]]) > plen(ix, s->qids[x])) {
            pick[j] = pick[j - 1];
            j--;
        }
        pick[j] = x;
    }
    size_t nread = 0, posted = 0;
    while (nread < npick) {
        size_t len = plen(ix, s->qids[pick[nread]]);
        if (nread >= RAREST && posted + len > FAQ_BUDGET)
            break;
        posted += len;
        nread++;
    }
    for (size_t kk = 0; kk < nread; kk++) {
        size_t k = pick[kk];
        uint32_t f = s->qids[k];
        float q = s->qvals[k];
        for (uint32_t j = ix->start[f]; j < ix->start[f + 1]; j++) {
            uint32_t r = ix->row[j];
            if (s->acc[r] == 0.0f) {
                if (s->ntouched == s->touchcap) {
                    p = s->touched;
                    rc = csbot__grow(a, &p, &s->touchcap, s->ntouched + 1,
                                     sizeof(uint32_t));
                    s->touched = p;
                    if (rc) {
                        /* leave the accumulators clean for the next
                         * message: they are only cleared through touched */
                        for (size_t t = 0; t < s->ntouched; t++)
                            s->acc[s->touched[t]] = 0.0f;
                        s->ntouched = 0;
                        return rc;
                    }
                }
                s->touched[s->ntouched++] = r;
            }
            s->acc[r] += q * ix->val[j];
            if (s->acc[r] == 0.0f)
                s->acc[r] = 1e-30f;
        }
    }
    for (size_t t = 0; t < s->ntouched; t++) {
        uint32_t r = s->touched[t];
        float v = s->acc[r];
        uint32_t c = ix->label[r];
        s->acc[r] = 0.0f;
        if (v > s->isim[c]) {
            if (s->isim[c] == 0.0f)
                s->tint[s->ntint++] = c;
            s->isim[c] = v;
            s->irow[c] = r;
        }
    }
    s->ntouched = 0;
    /* the best intents so far */
    uint32_t best[RESCORE];
    float bestv[RESCORE];
    size_t nbest = 0;
    for (size_t t = 0; t < s->ntint; t++) {
        uint32_t c = s->tint[t];
        float v = s->isim[c];
        if (nbest < RESCORE || v > bestv[nbest - 1]) {
            size_t pos = nbest < RESCORE ? nbest++ : RESCORE - 1;
            while (pos > 0 && bestv[pos - 1] < v) {
                best[pos] = best[pos - 1];
                bestv[pos] = bestv[pos - 1];
                pos--;
            }
            best[pos] = c;
            bestv[pos] = v;
        }
    }
    if (kb->model.nclass) {
        /* near-duplicates only: their rarest features alone already give
         * a fair share of the cosine */
        if (nbest > RESCORE_CLS)
            nbest = RESCORE_CLS;
        while (nbest > 0 && bestv[nbest - 1] < 0.2f)
            nbest--;
    }
    for (size_t i = 0; i < nbest; i++) {
        uint32_t c = best[i];
        float v = row_cosine(ix, s, s->irow[c]);
        if (v > s->isim[c])
            s->isim[c] = v;
    }
    return CSBOT_OK;
}

/* e^x for -87 <= x <= 0, to a relative error of about 2e-5: 2^(x log2 e)
 * split into an integer power, built in the exponent bits, and a
 * polynomial for the fraction in (0, 1]; written so that the compiler
 * vectorises the block. */
static void exp_block(float *restrict z) {
    for (int j = 0; j < CSBOT__CBLOCK; j++) {
        float t = z[j] * 1.44269504f;
        int32_t i = (int32_t)t - 1; /* t <= 0: truncation is the ceiling */
        float f = t - (float)i;
        float p = 1.0f + f * (0.69314718f + f * (0.24022650f +
                  f * (0.05550411f + f * (0.00961813f + f * (0.00133336f +
                  f * 0.00015404f)))));
        int32_t bits = (i + 127) * (1 << 23);
        float scale;
        memcpy(&scale, &bits, sizeof scale);
        z[j] = p * scale;
    }
}

/* Softmax of z[0..M) in place, with a background logit bg in the sum;
 * z has S entries (a multiple of CSBOT__CBLOCK). */
static void softmax_bg(float *z, size_t M, size_t S, float bg) {
    float mx = bg;
    for (size_t c = 0; c < M; c++)
        mx = z[c] > mx ? z[c] : mx;
    for (size_t c = 0; c < M; c++) {
        float x = z[c] - mx;
        z[c] = x < -87.0f ? -87.0f : x;
    }
    for (size_t c = M; c < S; c++)
        z[c] = -87.0f;
    for (size_t c = 0; c < S; c += CSBOT__CBLOCK)
        exp_block(z + c);
    float sum = expf(bg - mx);
    for (size_t c = 0; c < M; c++)
        sum += z[c];
    float inv = 1.0f / sum;
    for (size_t c = 0; c < M; c++)
        z[c] *= inv;
}

/* An English message (no Chinese characters, some Latin letters) and a
 * knowledge base with example vectors: each class's logit moves by
 * CSBOT__VEC_WEIGHT times how far its nearest example's cosine with the
 * message is below the best class's, so that the background ("none of
 * these") keeps its place relative to the class nearest in meaning. */
static int by_meaning(const csbot_kb *kb, csbot__scratch *s, const char *text,
                      size_t len, size_t M) {
    if (!kb->vecs.n || s->sc.han || !s->sc.latin || !s->nids)
        return CSBOT_OK;
    void *p = s->vbest;
    int rc = csbot__grow(&kb->alloc, &p, &s->vbestcap, M, sizeof(float));
    if (rc)
        return rc;
    s->vbest = p;
    /* the model reads 128 tokens: the start of a longer message will do */
    if (len > CSBOT_ENCODER_MAX_BYTES) {
        len = CSBOT_ENCODER_MAX_BYTES;
        while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    if ((rc = csbot__encoder_run(kb->vecs.enc, &kb->alloc, &s->enc, text, len,
                                 s->qvec)))
        return rc;
    float mx = csbot__vecs_nearest(&kb->vecs, s->qvec, s->qq, s->vbest, M);
    s->by_meaning = 1;
    s->vmax = mx;
    /* a message farther from every example than all but 5 % of the
     * examples are from their nearest peer: all intents lose ground */
    float top = mx < kb->vecs.ref ? kb->vecs.ref : mx;
    for (size_t c = 0; c < M; c++)
        s->logits[c] += CSBOT__VEC_WEIGHT * (s->vbest[c] - top);
    return CSBOT_OK;
}

static float combine(const csbot_kb *kb, const csbot__scratch *s, float prob,
                     float sim) {
    float conf = (kb->model.nclass ? prob : sim) * s->covfactor;
    /* FAQ mode: a negative example is nearer than the intent's */
    if (s->negsim > sim)
        conf *= sim * sim / (s->negsim * s->negsim);
    /* one word, and no example close to it: little to go on */
    if (s->units <= 1 && sim < 0.5f)
        conf *= 0.6f + 0.8f * sim;
    /* the message is (nearly) one of the intent's examples */
    if (kb->model.nclass && sim > 0.9f)
        conf = CSBOT_MAX(conf, sim * (0.5f + 0.5f * prob));
    if (conf > 1.0f)
        conf = 1.0f;
    if (!(conf >= 0.0f))
        conf = 0.0f;
    return conf;
}

static void insert_cand(csbot__scratch *s, const csbot__cand *c) {
    size_t n = s->ncand;
    size_t pos = n;
    while (pos > 0 && s->cand[pos - 1].conf < c->conf)
        pos--;
    if (pos >= CSBOT__MAXCAND)
        return;
    if (n == CSBOT__MAXCAND)
        n--;
    memmove(&s->cand[pos + 1], &s->cand[pos], (n - pos) * sizeof *c);
    s->cand[pos] = *c;
    s->ncand = n + 1;
}

float csbot__match_conf_of(const csbot_kb *kb, const csbot__scratch *s,
                           uint32_t intent) {
    float prob = 0.0f, sim = 0.0f;
    if (kb->model.nclass && s->logits)
        prob = s->logits[intent];
    if (s->isim && intent < kb->nintents)
        sim = s->isim[intent];
    return combine(kb, s, prob, sim);
}

int csbot__match(const csbot_kb *kb, csbot__scratch *s, const char *text,
                 size_t len) {
    const csbot__alloc *a = &kb->alloc;
    s->ncand = 0;
    s->limited = 0;
    s->coverage = 0;
    s->covfactor = 0;
    s->units = s->known = 0;
    s->nids = s->nq = 0;
    s->negsim = 0;
    s->by_meaning = 0;
    int rc = csbot__match_normalize(kb, s, text, len, &s->norm, 1);
    if (!rc)
        rc = csbot__features_extract(a, &kb->fcfg, s->stemmer,
                                     (csbot__stemcache *)&kb->stems, 0,
                                     s->norm.data ? s->norm.data : "",
                                     s->norm.len, &s->feats);
    if (rc)
        return rc;
    size_t C = kb->nintents;
    if (kb->nexamples) {
        if ((rc = vectorize(kb, s)) || (rc = similarities(kb, s)))
            return rc;
    } else {
        void *p = s->isim;
        if ((rc = csbot__grow(a, &p, &s->isimcap, C + 1, sizeof(float))))
            return rc;
        s->isim = p;
        memset(s->isim, 0, (C + 1) * sizeof(float));
        s->ntint = 0;
    }
    if (kb->nnegatives && !kb->model.nclass)
        s->negsim = s->isim[C]; /* FAQ mode: the nearest negative example */
    if (kb->model.nclass) {
        size_t M = kb->model.nclass; /* C, or C + 1 with negatives */
        void *p = s->logits;
        if ((rc = csbot__grow(a, &p, &s->logcap, kb->model.stride,
                              sizeof(float))))
            return rc;
        s->logits = p;
        csbot__model_logits(&kb->model, s->ids, s->vals, s->nids, s->logits);
        if ((rc = by_meaning(kb, s, text, len, M)))
            return rc;
        softmax_bg(s->logits, M, kb->model.stride, kb->model.bg);
    }
    /* candidates: by combined confidence */
    if (s->nids) {
        size_t nc = kb->model.nclass ? C : s->ntint;
        for (size_t i = 0; i < nc; i++) {
            size_t c = kb->model.nclass ? i : s->tint[i];
            if (c >= C)
                continue; /* the hidden out-of-scope class */
            csbot__cand cd;
            cd.intent = (uint32_t)c;
            cd.prob = kb->model.nclass ? s->logits[c] : 0.0f;
            cd.sim = s->isim[c];
            cd.pattern = -1;
            if (cd.prob < 1e-4f && cd.sim <= 0.0f)
                continue;
            cd.conf = combine(kb, s, cd.prob, cd.sim);
            if (s->ncand < CSBOT__MAXCAND ||
                cd.conf > s->cand[s->ncand - 1].conf)
                insert_cand(s, &cd);
        }
    }
    /* patterns, on the normalised text before synonyms */
    const char *t0 = s->norm0.data ? s->norm0.data : "";
    for (size_t pi = 0; pi < kb->index.npatint; pi++) {
        size_t i = kb->index.patint[pi];
        const csbot__intent *it = &kb->intents[i];
        for (size_t p = 0; p < it->npatterns; p++) {
            size_t so, eo;
            int lim = 0;
            int m = csbot__regex_match(it->patterns[p], kb->rectx, s->rm, t0,
                                       s->norm0.len, 0, &so, &eo, &lim);
            s->limited |= lim;
            if (m < 0)
                return m;
            if (m == 0)
                continue;
            /* raise (or add) this intent's candidate */
            float prob = kb->model.nclass ? s->logits[i] : 0.0f;
            float conf = (float)kb->set.pattern_conf + 0.05f * prob;
            if (conf > 1.0f)
                conf = 1.0f;
            size_t k;
            for (k = 0; k < s->ncand && s->cand[k].intent != i; k++)
                ;
            csbot__cand cd = {(uint32_t)i, conf, prob, s->isim[i], (int)p};
            if (k < s->ncand) {
                if (s->cand[k].conf >= conf) {
                    s->cand[k].pattern = (int)p;
                    break;
                }
                memmove(&s->cand[k], &s->cand[k + 1],
                        (s->ncand - k - 1) * sizeof cd);
                s->ncand--;
            }
            insert_cand(s, &cd);
            break;
        }
    }
    return CSBOT_OK;
}
