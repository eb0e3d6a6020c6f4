/*
 * model.c - learns the intent classifier from the knowledge base's examples
 * while it loads, and builds the inverted index used to find the examples
 * nearest to a message.
 *
 * The classifier is multinomial logistic regression over the TF-IDF features
 * of featurize.c, trained by stochastic gradient descent with a decaying
 * learning rate and L2 weight decay, in a fixed pseudo-random order (so a load
 * is reproducible). Its weights are stored feature-major: scoring a message
 * adds, for each of its few dozen features, one contiguous row of per-intent
 * weights, which the compiler vectorises. The softmax of the logits gives
 * probabilities, which are the basis of the reply's confidence.
 */
#include <math.h>

#include "model.h"

void csbot__traincfg_default(csbot__traincfg *cfg) {
    cfg->epochs = 12;
    cfg->lr = 0.5f;
    cfg->l2 = 1e-5f;
    cfg->scale = 4.0f;
}

int csbot__rows_add(const csbot__alloc *a, csbot__rows *r, const uint32_t *ids,
                    const float *vals, size_t n, uint32_t label) {
    size_t nnz = r->n ? r->rowptr[r->n] : 0;
    void *p1 = r->col, *p2 = r->val;
    size_t c1 = r->cap_nnz, c2 = r->cap_nnz;
    int rc = csbot__grow(a, &p1, &c1, nnz + n + 1, sizeof(uint32_t));
    r->col = p1;
    if (!rc)
        rc = csbot__grow(a, &p2, &c2, nnz + n + 1, sizeof(float));
    r->val = p2;
    if (rc)
        return rc;
    r->cap_nnz = c1;
    void *p3 = r->rowptr, *p4 = r->label;
    size_t c3 = r->cap_n, c4 = r->cap_n;
    rc = csbot__grow(a, &p3, &c3, r->n + 2, sizeof(uint32_t));
    r->rowptr = p3;
    if (!rc)
        rc = csbot__grow(a, &p4, &c4, r->n + 2, sizeof(uint32_t));
    r->label = p4;
    if (rc)
        return rc;
    r->cap_n = c3;
    if (r->n == 0)
        r->rowptr[0] = 0;
    memcpy(r->col + nnz, ids, n * sizeof *ids);
    memcpy(r->val + nnz, vals, n * sizeof *vals);
    r->label[r->n] = label;
    r->n++;
    r->rowptr[r->n] = (uint32_t)(nnz + n);
    return CSBOT_OK;
}

void csbot__rows_free(const csbot__alloc *a, csbot__rows *r) {
    csbot__free(a, r->rowptr);
    csbot__free(a, r->col);
    csbot__free(a, r->val);
    csbot__free(a, r->label);
    memset(r, 0, sizeof *r);
}

void csbot__model_logits(const csbot__model *m, const uint32_t *ids,
                         const float *vals, size_t n, float *out) {
    size_t C = m->nclass;
    memcpy(out, m->b, C * sizeof *out);
    for (size_t k = 0; k < n; k++) {
        const float *row = m->w + (size_t)ids[k] * C;
        float x = vals[k] * m->scale;
        for (size_t c = 0; c < C; c++)
            out[c] += x * row[c];
    }
}

static void softmax(float *z, size_t n) {
    float mx = z[0];
    for (size_t i = 1; i < n; i++)
        if (z[i] > mx)
            mx = z[i];
    float s = 0;
    for (size_t i = 0; i < n; i++) {
        z[i] = expf(z[i] - mx);
        s += z[i];
    }
    for (size_t i = 0; i < n; i++)
        z[i] /= s;
}

int csbot__model_train(const csbot__alloc *a, csbot__model *m,
                       const csbot__rows *rows, size_t nfeat, size_t nclass,
                       const csbot__traincfg *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (nclass == 0 || nfeat == 0 || rows->n == 0)
        return CSBOT_EINVAL;
    if (nfeat > SIZE_MAX / sizeof(float) / nclass)
        return CSBOT_ENOMEM;
    m->nfeat = nfeat;
    m->nclass = nclass;
    m->scale = cfg->scale;
    m->w = csbot__calloc(a, nfeat * nclass, sizeof(float));
    m->b = csbot__calloc(a, nclass, sizeof(float));
    float *p = csbot__malloc(a, nclass * sizeof(float));
    uint32_t *order = csbot__malloc(a, rows->n * sizeof(uint32_t));
    /* Lazy L2: each feature row remembers the step it was last decayed at. */
    uint32_t *last = csbot__calloc(a, nfeat, sizeof(uint32_t));
    float *decay_log = NULL;
    size_t total = rows->n * (size_t)(cfg->epochs > 0 ? cfg->epochs : 1);
    if (total > UINT32_MAX - 2)
        total = UINT32_MAX - 2;
    /* cumulative log(1 - lr_t * l2), to apply many decay steps at once */
    decay_log = csbot__malloc(a, (total + 1) * sizeof(float));
    if (!m->w || !m->b || !p || !order || !last || !decay_log) {
        csbot__free(a, p);
        csbot__free(a, order);
        csbot__free(a, last);
        csbot__free(a, decay_log);
        csbot__model_free(a, m);
        return CSBOT_ENOMEM;
    }
    for (size_t i = 0; i < rows->n; i++)
        order[i] = (uint32_t)i;
    uint64_t rs = seed ? seed : 0x5eed;
    size_t C = nclass;
    size_t step = 0;
    decay_log[0] = 0.0f;
    for (int ep = 0; ep < cfg->epochs; ep++) {
        for (size_t i = rows->n; i > 1; i--) {
            size_t j = (size_t)(csbot__rand(&rs) % i);
            uint32_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t oi = 0; oi < rows->n && step < total; oi++, step++) {
            uint32_t r = order[oi];
            float lr = cfg->lr / (1.0f + (float)step / (float)rows->n);
            decay_log[step + 1] = decay_log[step] + logf(1.0f - lr * cfg->l2);
            const uint32_t *ids = rows->col + rows->rowptr[r];
            const float *vals = rows->val + rows->rowptr[r];
            size_t n = rows->rowptr[r + 1] - rows->rowptr[r];
            /* bring touched rows up to date with the decay */
            for (size_t k = 0; k < n; k++) {
                uint32_t f = ids[k];
                if (last[f] != step) {
                    float d = expf(decay_log[step] - decay_log[last[f]]);
                    float *row = m->w + (size_t)f * C;
                    for (size_t c = 0; c < C; c++)
                        row[c] *= d;
                    last[f] = (uint32_t)step;
                }
            }
            csbot__model_logits(m, ids, vals, n, p);
            softmax(p, C);
            p[rows->label[r]] -= 1.0f; /* gradient of the loss wrt logits */
            for (size_t k = 0; k < n; k++) {
                float *row = m->w + (size_t)ids[k] * C;
                float g = lr * vals[k] * m->scale;
                for (size_t c = 0; c < C; c++)
                    row[c] -= g * p[c];
            }
            for (size_t c = 0; c < C; c++)
                m->b[c] -= lr * 0.1f * p[c];
        }
    }
    /* final decay for all rows */
    for (size_t f = 0; f < nfeat; f++) {
        if (last[f] != step) {
            float d = expf(decay_log[step] - decay_log[last[f]]);
            float *row = m->w + f * C;
            for (size_t c = 0; c < C; c++)
                row[c] *= d;
        }
    }
    csbot__free(a, p);
    csbot__free(a, order);
    csbot__free(a, last);
    csbot__free(a, decay_log);
    return CSBOT_OK;
}

void csbot__model_free(const csbot__alloc *a, csbot__model *m) {
    csbot__free(a, m->w);
    csbot__free(a, m->b);
    memset(m, 0, sizeof *m);
}

int csbot__index_build(const csbot__alloc *a, csbot__index *ix,
                       const csbot__rows *rows, size_t nfeat) {
    memset(ix, 0, sizeof *ix);
    size_t nnz = rows->n ? rows->rowptr[rows->n] : 0;
    ix->nfeat = nfeat;
    ix->nrows = rows->n;
    ix->start = csbot__calloc(a, nfeat + 1, sizeof(uint32_t));
    ix->row = csbot__malloc(a, (nnz + 1) * sizeof(uint32_t));
    ix->val = csbot__malloc(a, (nnz + 1) * sizeof(float));
    ix->label = csbot__malloc(a, (rows->n + 1) * sizeof(uint32_t));
    if (!ix->start || !ix->row || !ix->val || !ix->label) {
        csbot__index_free(a, ix);
        return CSBOT_ENOMEM;
    }
    for (size_t i = 0; i < nnz; i++)
        ix->start[rows->col[i] + 1]++;
    for (size_t f = 0; f < nfeat; f++)
        ix->start[f + 1] += ix->start[f];
    uint32_t *fill = csbot__malloc(a, (nfeat + 1) * sizeof(uint32_t));
    if (!fill) {
        csbot__index_free(a, ix);
        return CSBOT_ENOMEM;
    }
    memcpy(fill, ix->start, (nfeat + 1) * sizeof(uint32_t));
    for (size_t r = 0; r < rows->n; r++)
        for (uint32_t k = rows->rowptr[r]; k < rows->rowptr[r + 1]; k++) {
            uint32_t f = rows->col[k];
            ix->row[fill[f]] = (uint32_t)r;
            ix->val[fill[f]] = rows->val[k];
            fill[f]++;
        }
    csbot__free(a, fill);
    if (rows->n)
        memcpy(ix->label, rows->label, rows->n * sizeof(uint32_t));
    return CSBOT_OK;
}

void csbot__index_free(const csbot__alloc *a, csbot__index *ix) {
    csbot__free(a, ix->start);
    csbot__free(a, ix->row);
    csbot__free(a, ix->val);
    csbot__free(a, ix->label);
    memset(ix, 0, sizeof *ix);
}
