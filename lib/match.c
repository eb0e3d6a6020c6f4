/*
 * match.c - the matcher. At load time every example is normalised, turned
 * into features and added to a sparse matrix; then features get IDF weights,
 * rows are L2-normalised, the classifier (model.c) is trained and the
 * inverted index built. At reply time a message goes the same way and gets:
 *
 *   - p(intent): the classifier's softmax probability;
 *   - sim(intent): cosine similarity to the nearest example of the intent;
 *   - coverage: the share of the message's words (English) and character
 *     pairs (Chinese) that occur anywhere in the knowledge base.
 *
 * The confidence of an intent combines them (see README "What the confidence
 * means"): confidence = p * coverage^0.5, raised to the nearest-example
 * similarity when the message is nearly one of the examples, and to the
 * pattern confidence when one of the intent's patterns fires. Knowledge bases
 * with too many intents for a classifier (FAQ-style, thousands of entries
 * of one or two questions each) rank by similarity alone.
 */
#include <math.h>

#include "match.h"
#include "utf8.h"

/* Largest classifier: intents x features weights. */
#define MAX_WEIGHTS (48u * 1024u * 1024u)
#define MAX_CLASSES 4000u

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
    csbot__free(a, s->acc);
    csbot__free(a, s->touched);
    csbot__free(a, s->isim);
    csbot__rematch_free(a, s->rm);
    csbot__rows_free(a, &s->rows);
    csbot__free(a, s->df);
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

static int reserve_ids(const csbot__alloc *a, csbot__scratch *s, size_t n) {
    size_t c1 = s->idcap, c2 = s->idcap;
    void *p1 = s->ids, *p2 = s->vals;
    int rc = csbot__grow(a, &p1, &c1, n, sizeof(uint32_t));
    s->ids = p1;
    if (!rc)
        rc = csbot__grow(a, &p2, &c2, n, sizeof(float));
    s->vals = p2;
    if (!rc)
        s->idcap = c1;
    return rc;
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
        if (id == kb->vocab.count - 1)
            s->df[id] = 0;
        s->df[id]++;
        s->ids[i] = id;
        s->vals[i] = s->feats.v[i];
    }
    kb->nexamples++;
    return csbot__rows_add(a, &s->rows, s->ids, s->vals, s->feats.n, label);
}

static void l2norm(float *v, size_t n) {
    float ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += v[i] * v[i];
    if (ss > 0) {
        float inv = 1.0f / sqrtf(ss);
        for (size_t i = 0; i < n; i++)
            v[i] *= inv;
    }
}

int csbot__match_build(csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    kb->nfeat = kb->vocab.count;
    if (kb->nexamples == 0)
        return CSBOT_OK; /* patterns only */
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
    int rc = csbot__index_build(a, &kb->index, &s->rows, kb->nfeat);
    if (rc)
        return rc;
    /* negatives train one more, hidden, class: "out of scope" */
    size_t C = kb->nintents + (kb->nnegatives ? 1 : 0);
    if (C >= 2 && C <= MAX_CLASSES && kb->nfeat * C <= MAX_WEIGHTS) {
        csbot__traincfg tc;
        csbot__traincfg_default(&tc);
        rc = csbot__model_train(a, &kb->model, &s->rows, kb->nfeat, C, &tc,
                                kb->seed);
    }
    csbot__rows_free(a, &s->rows);
    return rc;
}

/* Vectorise the features of s->feats through the vocabulary. */
static int vectorize(const csbot_kb *kb, csbot__scratch *s) {
    int rc = reserve_ids(&kb->alloc, s, s->feats.n + 1);
    if (rc)
        return rc;
    s->nids = 0;
    for (size_t i = 0; i < s->feats.n; i++) {
        uint32_t id;
        if (csbot__dict_get(&kb->vocab, s->feats.h[i], &id)) {
            s->ids[s->nids] = id;
            s->vals[s->nids] = s->feats.v[i] * kb->idf[id];
            s->nids++;
        }
    }
    l2norm(s->vals, s->nids);
    s->units = (unsigned)s->feats.nunit;
    s->known = 0;
    for (size_t i = 0; i < s->feats.nunit; i++) {
        uint32_t id;
        s->known += (unsigned)csbot__dict_get(&kb->vocab, s->feats.unit[i], &id);
    }
    s->coverage = s->units ? (float)s->known / (float)s->units : 0.0f;
    return CSBOT_OK;
}

/* Per-intent best cosine similarity to an example, into s->isim. */
static int similarities(const csbot_kb *kb, csbot__scratch *s) {
    const csbot__alloc *a = &kb->alloc;
    const csbot__index *ix = &kb->index;
    void *p = s->acc;
    int rc = csbot__grow(a, &p, &s->acccap, ix->nrows + 1, sizeof(float));
    s->acc = p;
    if (rc)
        return rc;
    if (s->acccap && s->ntouched == 0 && !s->touched) {
        memset(s->acc, 0, s->acccap * sizeof(float));
    }
    p = s->isim;
    size_t old = s->isimcap;
    rc = csbot__grow(a, &p, &s->isimcap, kb->nintents + 1, sizeof(float));
    s->isim = p;
    if (rc)
        return rc;
    CSBOT_UNUSED(old);
    for (size_t i = 0; i <= kb->nintents; i++) /* [nintents]: negatives */
        s->isim[i] = 0.0f;
    s->ntouched = 0;
    for (size_t k = 0; k < s->nids; k++) {
        uint32_t f = s->ids[k];
        float q = s->vals[k];
        for (uint32_t j = ix->start[f]; j < ix->start[f + 1]; j++) {
            uint32_t r = ix->row[j];
            if (s->acc[r] == 0.0f) {
                p = s->touched;
                rc = csbot__grow(a, &p, &s->touchcap, s->ntouched + 1,
                                 sizeof(uint32_t));
                s->touched = p;
                if (rc)
                    return rc;
                s->touched[s->ntouched++] = r;
            }
            s->acc[r] += q * ix->val[j];
            if (s->acc[r] == 0.0f)
                s->acc[r] = 1e-30f;
        }
    }
    for (size_t t = 0; t < s->ntouched; t++) {
        uint32_t r = s->touched[t];
        uint32_t c = ix->label[r];
        if (s->acc[r] > s->isim[c])
            s->isim[c] = s->acc[r];
        s->acc[r] = 0.0f;
    }
    s->ntouched = 0;
    return CSBOT_OK;
}

static float combine(const csbot_kb *kb, const csbot__scratch *s, float prob,
                     float sim) {
    float cov = s->coverage;
    float conf;
    if (kb->model.nclass)
        conf = prob * sqrtf(cov);
    else
        conf = sim * sqrtf(cov);
    /* The message is (nearly) one of the examples. */
    if (sim > 0.9f && sim * prob > conf && kb->model.nclass)
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
        s->nids = 0;
    }
    if (kb->model.nclass) {
        size_t M = kb->model.nclass; /* C, or C + 1 with negatives */
        void *p = s->logits;
        if ((rc = csbot__grow(a, &p, &s->logcap, M, sizeof(float))))
            return rc;
        s->logits = p;
        csbot__model_logits(&kb->model, s->ids, s->vals, s->nids, s->logits);
        float mx = s->logits[0], sum = 0;
        for (size_t c = 1; c < M; c++)
            mx = CSBOT_MAX(mx, s->logits[c]);
        for (size_t c = 0; c < M; c++) {
            s->logits[c] = expf(s->logits[c] - mx);
            sum += s->logits[c];
        }
        for (size_t c = 0; c < M; c++)
            s->logits[c] /= sum;
    }
    /* candidates: by combined confidence */
    if (s->nids) {
        for (size_t c = 0; c < C; c++) {
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
    for (size_t i = 0; i < C; i++) {
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
