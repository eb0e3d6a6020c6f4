/*
 * model.c - the intent classifier: learned from the knowledge base's
 * examples while it loads, stored quantised, and giving a message's logits
 * at reply time.
 *
 * The classifier is multinomial logistic regression over the TF-IDF features
 * of featurize.c, trained by stochastic gradient descent in a fixed
 * pseudo-random order (so a load is reproducible): a decaying learning rate;
 * an L2 penalty on the sum of the losses (so a knowledge base of a handful
 * of examples gets a cautious model), applied as one global scale factor so
 * that a step costs only the example's own features; feature dropout (each
 * step sees a random 70 % of the example's features, which keeps the model
 * from leaning on a few); updates only for the blocks of intents with a
 * noticeable gradient. Examples of the hidden out-of-scope class (the
 * knowledge base's "negatives") weigh less when they outnumber an average
 * intent's examples.
 *
 * How closely the model should follow each example depends on the examples:
 * in a clean knowledge base every example is worth learning, in one where
 * many sit under the wrong intent a softer fit and the intents' centroids
 * (their examples' average, which a few wrong examples hardly move) do
 * better. So a load holds out 20 % of each intent's examples, trains the
 * candidate models (three learning rates, four centroid weights) on the
 * rest and keeps the default, the firmest fit, unless another candidate is
 * clearly more accurate on the held-out examples (by more than 0.5 /
 * sqrt(n), the largest standard error of an accuracy measured on n). The
 * held-out examples also give the temperature that makes the probabilities
 * honest, and the logit of a background ("none of these") class: 2 under
 * the top logit of all but the lowest 5 % of the held-out examples answered
 * right. The final model is trained on all the examples, with the
 * temperature folded into its weights. A knowledge base with too few
 * examples to hold some out gets the default fit, a softening temperature
 * of 0.5, and the background from its own examples.
 *
 * Training works on float weights, feature-major with the classes padded
 * to a multiple of CSBOT__CBLOCK. The stored model keeps them quantised
 * (model.h): each feature's row of per-intent weights becomes int8 in steps
 * of 1/127 of the row's largest magnitude (symmetric, no offset), and the
 * row's float scale sits at its head, so that a feature costs one
 * contiguous run of cache lines (two for up to 120 classes): rows are
 * padded to a multiple of 32 bytes from a 64-byte-aligned base. The
 * intercepts stay float. The float weights are freed after training; the
 * stored ones take about a third of their memory (up to half with a
 * handful of intents). Scoring a message adds, for each of its features,
 * its row times its value times the row's scale, in fixed-size blocks the
 * compiler turns into vector instructions, with the next rows prefetched.
 * Rounding moves each weight by at most half a step, so a logit by at most
 * half a step times the feature's value for each of the message's
 * features.
 *
 * The examples arrive as the sparse rows of rows.c; the nearest-example
 * index built from the same rows is index.c.
 */
#include <math.h>
#include <stdlib.h>

#include "model.h"

void csbot__traincfg_default(csbot__traincfg *cfg) {
    static const float lrs[] = {1.0f, 0.3f, 0.1f};
    static const float cents[] = {0.0f, 2.0f, 5.0f, 10.0f};
    cfg->epochs = 8;
    cfg->lr = 1.0f;
    cfg->l2 = 1e-4f;
    cfg->scale = 4.0f;
    cfg->bias_lr = 0.1f;
    cfg->dropout = 0.3f;
    cfg->eps = 1e-3f;
    cfg->centroid = 0.0f;
    cfg->holdout = 0.2f;
    cfg->select_min = 200;
    cfg->select_epochs = 3;
    cfg->temp = 0.5f;
    cfg->l2_total = 1.0f;
    cfg->neg_class = -1;
    cfg->bg_quantile = 0.05f;
    cfg->bg_margin = 2.0f;
    cfg->nlr = (int)(sizeof lrs / sizeof *lrs);
    memcpy(cfg->lrs, lrs, sizeof lrs);
    cfg->ncent = (int)(sizeof cents / sizeof *cents);
    memcpy(cfg->cents, cents, sizeof cents);
}

/* ---- vector kernels over padded class arrays ---- */

/* out[0..n) += x * row[0..n), n a multiple of CSBOT__CBLOCK */
static inline void axpy(float *restrict out, const float *restrict row,
                        float x, size_t n) {
    for (size_t c = 0; c < n; c += CSBOT__CBLOCK)
        for (size_t j = 0; j < CSBOT__CBLOCK; j++)
            out[c + j] += x * row[c + j];
}

static inline void scal(float *restrict v, float x, size_t n) {
    for (size_t c = 0; c < n; c += CSBOT__CBLOCK)
        for (size_t j = 0; j < CSBOT__CBLOCK; j++)
            v[c + j] *= x;
}

/* Ask for the cache lines of the n bytes at p ahead of their use (the rows
 * of a message's features are scattered over the whole weight matrix), up
 * to the last one, which steps of 64 from an address not on a line boundary
 * can miss. */
static inline void prefetch_bytes(const void *p, size_t n) {
#if defined(__GNUC__)
    const unsigned char *b = p;
    for (size_t c = 0; c < n; c += 64)
        __builtin_prefetch(b + c);
    __builtin_prefetch(b + n - 1);
#else
    CSBOT_UNUSED(p);
    CSBOT_UNUSED(n);
#endif
}

#define AHEAD 4

static void dot_rows(const float *restrict w, size_t stride,
                     const uint32_t *ids, const float *vals, size_t n,
                     float x0, float *restrict out) {
    memset(out, 0, stride * sizeof *out);
    for (size_t k = 0; k < n && k < AHEAD; k++)
        prefetch_bytes(w + (size_t)ids[k] * stride, stride * sizeof *w);
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n)
            prefetch_bytes(w + (size_t)ids[k + AHEAD] * stride,
                           stride * sizeof *w);
        axpy(out, w + (size_t)ids[k] * stride, vals[k] * x0, stride);
    }
}

/* ---- the stored model: quantised weights (see model.h) ---- */

/* Weights converted per block in axpy_q: 16 int8 fill one 16-byte vector,
 * which the compiler widens to floats in whole registers (blocks of 8 would
 * be converted two floats at a time). */
#define QBLOCK 16

/* out[0..n) += x * q[0..n), n a multiple of CSBOT__CBLOCK */
static inline void axpy_q(float *restrict out,
                          const csbot__qweight *restrict q, float x,
                          size_t n) {
    size_t c = 0;
    for (; c + QBLOCK <= n; c += QBLOCK)
        for (size_t j = 0; j < QBLOCK; j++)
            out[c + j] += x * (float)q[c + j];
    for (; c < n; c += CSBOT__CBLOCK)
        for (size_t j = 0; j < CSBOT__CBLOCK; j++)
            out[c + j] += x * (float)q[c + j];
}

void csbot__model_logits(const csbot__model *m, const uint32_t *ids,
                         const float *vals, size_t n, float *out) {
    size_t S = m->stride, R = m->rowsize;
    memset(out, 0, S * sizeof *out);
    for (size_t k = 0; k < n && k < AHEAD; k++)
        prefetch_bytes(m->w + (size_t)ids[k] * R, R);
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n)
            prefetch_bytes(m->w + (size_t)ids[k + AHEAD] * R, R);
        const unsigned char *row = m->w + (size_t)ids[k] * R;
        float rs;
        memcpy(&rs, row, sizeof rs);
        axpy_q(out, (const csbot__qweight *)(row + CSBOT__QHEAD),
               vals[k] * m->scale * rs, S);
    }
    axpy(out, m->b, 1.0f, S);
}

/* Stores the weights v (nfeat rows of S floats, padding zero) in m as
 * model.h describes: each row rounded to CSBOT__QMAX steps of its largest
 * magnitude. */
static int quantise(const csbot__alloc *a, csbot__model *m, const float *v,
                    size_t nfeat, size_t S) {
    size_t R = (CSBOT__QHEAD + S * sizeof(csbot__qweight) + 31) / 32 * 32;
    if (nfeat > (SIZE_MAX - 64) / R)
        return CSBOT_ENOMEM;
    unsigned char *blk = csbot__malloc(a, nfeat * R + 63);
    if (!blk)
        return CSBOT_ENOMEM;
    unsigned char *w = blk + (64 - (uintptr_t)blk % 64) % 64;
    for (size_t f = 0; f < nfeat; f++) {
        const float *row = v + f * S;
        unsigned char *dst = w + f * R;
        csbot__qweight *q = (csbot__qweight *)(dst + CSBOT__QHEAD);
        float mx = 0.0f;
        for (size_t c = 0; c < S; c++)
            mx = fabsf(row[c]) > mx ? fabsf(row[c]) : mx;
        float scale = mx / (float)CSBOT__QMAX;
        float inv = mx > 0.0f ? (float)CSBOT__QMAX / mx : 0.0f;
        memset(dst, 0, R);
        memcpy(dst, &scale, sizeof scale);
        for (size_t c = 0; c < S; c++) {
            float x = roundf(row[c] * inv);
            x = x > (float)CSBOT__QMAX ? (float)CSBOT__QMAX : x;
            x = x < -(float)CSBOT__QMAX ? -(float)CSBOT__QMAX : x;
            q[c] = (csbot__qweight)x;
        }
    }
    m->w = w;
    m->wblock = blk;
    m->rowsize = R;
    return CSBOT_OK;
}

/* The index of the largest of z[0..n), the first one on ties. */
static size_t argmax(const float *z, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (z[i] > z[best])
            best = i;
    return best;
}

/* Softmax over the first n entries (in place); returns the largest
 * probability's index. */
static size_t softmax(float *z, size_t n) {
    size_t best = argmax(z, n);
    float mx = z[best], s = 0;
    for (size_t i = 0; i < n; i++) {
        z[i] = expf(z[i] - mx);
        s += z[i];
    }
    float inv = 1.0f / s;
    for (size_t i = 0; i < n; i++)
        z[i] *= inv;
    return best;
}

typedef struct trainer {
    const csbot__rows *rows;
    const csbot__traincfg *cfg;
    size_t C, stride, nfeat;
    float *v;     /* weights / alpha */
    float alpha;  /* global scale of v (L2 decay) */
    float *b;
    float *p;     /* stride */
    uint32_t *act; /* blocks of classes updated by a step */
    uint64_t rs;  /* random state */
    uint32_t negclass; /* the hidden out-of-scope class, or UINT32_MAX */
    float negweight;   /* weight of its examples */
    uint32_t *dids; /* the kept features of an example (dropout) */
    float *dvals;
    uint32_t *order; /* the examples of an SGD run, N + 1 */
    float *cen;      /* the class centroids (nfeat x stride), or NULL */
    float *cnorm;    /* stride: centroids' scratch */
} trainer;

/* One SGD run from zero over the examples order[0..n) (shuffled in place);
 * leaves the weights in t->v, t->b. */
static void sgd(trainer *t, uint32_t *order, size_t N, int epochs, float lr0) {
    const csbot__rows *rows = t->rows;
    const csbot__traincfg *cfg = t->cfg;
    size_t C = t->C, S = t->stride;
    float scale = cfg->scale;
    size_t step = 0;
    /* the penalty is on the sum of the losses: per example, it shrinks as
     * the examples grow in number */
    float l2 = cfg->l2_total > 0.0f ? cfg->l2_total / (float)N : cfg->l2;
    if (l2 > 0.5f / lr0)
        l2 = 0.5f / lr0;
    memset(t->v, 0, t->nfeat * S * sizeof(float));
    memset(t->b, 0, S * sizeof(float));
    t->alpha = 1.0f;
    for (int ep = 0; ep < epochs; ep++) {
        for (size_t i = N; i > 1; i--) {
            size_t j = (size_t)(csbot__rand(&t->rs) % i);
            uint32_t x = order[i - 1];
            order[i - 1] = order[j];
            order[j] = x;
        }
        for (size_t oi = 0; oi < N; oi++, step++) {
            uint32_t r = order[oi];
            float lr = lr0 / (1.0f + (float)step / (float)N);
            const uint32_t *ids = rows->col + rows->rowptr[r];
            const float *vals = rows->val + rows->rowptr[r];
            size_t n = rows->rowptr[r + 1] - rows->rowptr[r];
            if (cfg->dropout > 0.0f && n > 1) {
                /* feature dropout: train on a random part of the example */
                uint32_t th = (uint32_t)(cfg->dropout * 4294967296.0);
                float up = 1.0f / (1.0f - cfg->dropout);
                size_t m = 0;
                for (size_t k = 0; k < n; k++) {
                    uint64_t x = csbot__rand(&t->rs);
                    if ((uint32_t)x < th)
                        continue;
                    t->dids[m] = ids[k];
                    t->dvals[m++] = vals[k] * up;
                }
                ids = t->dids;
                vals = t->dvals;
                n = m;
            }
            float *p = t->p;
            dot_rows(t->v, S, ids, vals, n, scale * t->alpha, p);
            axpy(p, t->b, 1.0f, S);
            softmax(p, C);
            p[rows->label[r]] -= 1.0f; /* gradient of the loss wrt logits */
            for (size_t c = C; c < S; c++)
                p[c] = 0.0f;
            if (rows->label[r] == t->negclass)
                scal(p, t->negweight, S);
            t->alpha *= 1.0f - lr * l2;
            float g = -lr * scale / t->alpha;
            /* only the blocks of classes with a noticeable gradient */
            size_t nact = 0;
            for (size_t c = 0; c < S; c += CSBOT__CBLOCK) {
                float mx = 0.0f;
                for (size_t j = 0; j < CSBOT__CBLOCK; j++) {
                    float x = p[c + j] < 0.0f ? -p[c + j] : p[c + j];
                    mx = x > mx ? x : mx;
                }
                if (mx >= cfg->eps)
                    t->act[nact++] = (uint32_t)c;
            }
            if (nact * CSBOT__CBLOCK * 2 > S) {
                for (size_t k = 0; k < n; k++)
                    axpy(t->v + (size_t)ids[k] * S, p, g * vals[k], S);
            } else {
                for (size_t k = 0; k < n; k++) {
                    float *row = t->v + (size_t)ids[k] * S;
                    float x = g * vals[k];
                    for (size_t i = 0; i < nact; i++)
                        axpy(row + t->act[i], p + t->act[i], x,
                             CSBOT__CBLOCK);
                }
            }
            axpy(t->b, p, -lr * cfg->bias_lr, S);
            if (t->alpha < 1e-3f) {
                scal(t->v, t->alpha, t->nfeat * S);
                t->alpha = 1.0f;
            }
        }
    }
    scal(t->v, t->alpha, t->nfeat * S);
    t->alpha = 1.0f;
}

/* Class centroids of the examples order[0..n): cen (nfeat x stride) gets,
 * per class, the sum of its examples scaled to unit length. */
static void centroids(const trainer *t, const uint32_t *order, size_t N,
                      float *cen, float *norm) {
    const csbot__rows *rows = t->rows;
    size_t S = t->stride;
    memset(cen, 0, t->nfeat * S * sizeof(float));
    memset(norm, 0, S * sizeof(float));
    for (size_t i = 0; i < N; i++) {
        uint32_t e = order[i];
        for (uint32_t k = rows->rowptr[e]; k < rows->rowptr[e + 1]; k++)
            cen[(size_t)rows->col[k] * S + rows->label[e]] += rows->val[k];
    }
    for (size_t f = 0; f < t->nfeat; f++) {
        const float *row = cen + f * S;
        for (size_t c = 0; c < S; c++)
            norm[c] += row[c] * row[c];
    }
    for (size_t c = 0; c < S; c++)
        norm[c] = norm[c] > 0.0f ? 1.0f / sqrtf(norm[c]) : 0.0f;
    for (size_t f = 0; f < t->nfeat; f++) {
        float *row = cen + f * S;
        for (size_t c = 0; c < S; c++)
            row[c] *= norm[c];
    }
}

/* Scores of example r into out[stride]: logits when b is given. */
static void score(const trainer *t, const float *w, const float *b, uint32_t r,
                  float x0, float *out) {
    const csbot__rows *rows = t->rows;
    dot_rows(w, t->stride, rows->col + rows->rowptr[r],
             rows->val + rows->rowptr[r], rows->rowptr[r + 1] - rows->rowptr[r],
             x0, out);
    if (b)
        axpy(out, b, 1.0f, t->stride);
}

static int cmp_float(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

float csbot__quantile(float *v, size_t n, float q) {
    if (n == 0)
        return -1e30f;
    qsort(v, n, sizeof *v, cmp_float);
    return v[(size_t)(q * (float)(n - 1))];
}

/* ---- training: the phases of csbot__model_train ---- */

/* What a training settles before the final model (the defaults of cfg
 * unless the selection on held-out examples chooses). */
typedef struct fit {
    float lr;    /* learning rate */
    float gamma; /* weight of the class centroids added */
    float temp;  /* temperature folded into the weights */
    float bg;    /* logit of the background */
} fit;

/* The selection's held-out examples and their scores, H x stride each. */
typedef struct heldout {
    uint32_t *held; /* the held-out examples, held[0..H) */
    size_t H, ntr;  /* held out; trained on (t->order[0..ntr)) */
    float *hc;      /* scores on the centroids of the training part */
    float *hl;      /* logits of the candidate being tried */
    float *best;    /* scores of the best candidate so far */
    float *deflt;   /* scores of the default candidate */
} heldout;

/* The out-of-scope examples weigh less when there are more of them than an
 * average intent has examples (by the square root of the ratio): how many
 * of them the author wrote says little about how often customers ask
 * off-topic questions. */
static void weigh_negatives(trainer *t) {
    const csbot__rows *rows = t->rows;
    const csbot__traincfg *cfg = t->cfg;
    size_t N = rows->n, nclass = t->C;
    t->negclass = UINT32_MAX;
    t->negweight = 1.0f;
    if (cfg->neg_class < 0 || (size_t)cfg->neg_class >= nclass || nclass <= 1)
        return;
    size_t nneg = 0;
    for (size_t i = 0; i < N; i++)
        nneg += rows->label[i] == (uint32_t)cfg->neg_class;
    float avg = (float)(N - nneg) / (float)(nclass - 1);
    t->negclass = (uint32_t)cfg->neg_class;
    if (nneg > 0 && avg < (float)nneg)
        t->negweight = sqrtf(avg / (float)nneg);
}

/* The trainer's arrays: weights, intercepts, a class-sized scratch, the
 * active blocks, an example's kept features, the order of the examples and
 * (when cent) the centroids. */
static int trainer_alloc(const csbot__alloc *a, trainer *t, int cent) {
    const csbot__rows *rows = t->rows;
    size_t N = rows->n, S = t->stride, nfeat = t->nfeat;
    t->v = csbot__malloc(a, nfeat * S * sizeof(float));
    t->b = csbot__malloc(a, S * sizeof(float));
    t->p = csbot__malloc(a, S * sizeof(float));
    t->act = csbot__malloc(a, (S / CSBOT__CBLOCK + 1) * sizeof(uint32_t));
    size_t mx = 1;
    for (size_t i = 0; i < N; i++)
        mx = CSBOT_MAX(mx, (size_t)(rows->rowptr[i + 1] - rows->rowptr[i]));
    t->dids = csbot__malloc(a, mx * sizeof(uint32_t));
    t->dvals = csbot__malloc(a, mx * sizeof(float));
    t->order = csbot__malloc(a, (N + 1) * sizeof(uint32_t));
    t->cen = cent ? csbot__malloc(a, nfeat * S * sizeof(float)) : NULL;
    t->cnorm = csbot__malloc(a, S * sizeof(float));
    if (!t->v || !t->b || !t->p || !t->act || !t->order || !t->cnorm ||
        (cent && !t->cen) || !t->dids || !t->dvals)
        return CSBOT_ENOMEM;
    return CSBOT_OK;
}

static void trainer_free(const csbot__alloc *a, trainer *t) {
    csbot__free(a, t->v);
    csbot__free(a, t->b);
    csbot__free(a, t->p);
    csbot__free(a, t->act);
    csbot__free(a, t->dids);
    csbot__free(a, t->dvals);
    csbot__free(a, t->order);
    csbot__free(a, t->cen);
    csbot__free(a, t->cnorm);
}

static void heldout_free(const csbot__alloc *a, heldout *ho) {
    csbot__free(a, ho->held);
    csbot__free(a, ho->hc);
    csbot__free(a, ho->hl);
    csbot__free(a, ho->best);
    csbot__free(a, ho->deflt);
}

/* Hold out cfg->holdout of each intent's examples (of those with at least
 * 3), chosen at random: ho->held[0..H) are held out, t->order[0..ntr) the
 * rest. */
static int split_holdout(const csbot__alloc *a, trainer *t, heldout *ho) {
    const csbot__rows *rows = t->rows;
    size_t N = rows->n, S = t->stride;
    uint32_t *held = ho->held = csbot__malloc(a, (N + 1) * sizeof(uint32_t));
    if (!held)
        return CSBOT_ENOMEM;
    for (size_t i = 0; i < N; i++)
        held[i] = (uint32_t)i;
    for (size_t i = N; i > 1; i--) {
        size_t j = (size_t)(csbot__rand(&t->rs) % i);
        uint32_t x = held[i - 1];
        held[i - 1] = held[j];
        held[j] = x;
    }
    float *cnt = t->p;
    memset(cnt, 0, S * sizeof(float));
    for (size_t i = 0; i < N; i++)
        cnt[rows->label[i]] += 1.0f;
    for (size_t c = 0; c < t->C; c++)
        cnt[c] = cnt[c] >= 3.0f ? floorf(cnt[c] * t->cfg->holdout + 0.5f)
                                : 0.0f;
    size_t k = 0, h = 0;
    for (size_t i = 0; i < N; i++) {
        uint32_t e = held[i];
        if (cnt[rows->label[e]] >= 1.0f) {
            cnt[rows->label[e]] -= 1.0f;
            held[h++] = e;
        } else {
            t->order[k++] = e;
        }
    }
    ho->ntr = k;
    ho->H = N - k;
    return CSBOT_OK;
}

/* Pick the learning rate (how closely the model follows each example: far
 * for clean examples, less for noisy ones) and the weight of the centroids
 * by accuracy on the held-out examples: the most accurate candidate, unless
 * the default (the first) is within what chance would make of the
 * difference. Leaves the chosen candidate's held-out scores in ho->best
 * and returns its accuracy. */
static float choose_candidate(trainer *t, heldout *ho, fit *f) {
    const csbot__traincfg *cfg = t->cfg;
    const uint32_t *label = t->rows->label;
    size_t H = ho->H, S = t->stride, nclass = t->C;
    centroids(t, t->order, ho->ntr, t->cen, t->cnorm);
    for (size_t h = 0; h < H; h++)
        score(t, t->cen, NULL, ho->held[h], cfg->scale, ho->hc + h * S);
    float bestacc = -1.0f, defacc = 0.0f;
    float margin = 0.5f / sqrtf((float)H);
    for (int i = 0; i < cfg->nlr; i++) {
        sgd(t, t->order, ho->ntr, cfg->select_epochs, cfg->lrs[i]);
        for (size_t h = 0; h < H; h++)
            score(t, t->v, t->b, ho->held[h], cfg->scale, ho->hl + h * S);
        for (int g = 0; g < cfg->ncent; g++) {
            size_t ok = 0;
            float gm = cfg->cents[g];
            for (size_t h = 0; h < H; h++) {
                const float *z = ho->hl + h * S, *y = ho->hc + h * S;
                size_t bc = 0;
                float bv = z[0] + gm * y[0];
                for (size_t c = 1; c < nclass; c++)
                    if (z[c] + gm * y[c] > bv) {
                        bv = z[c] + gm * y[c];
                        bc = c;
                    }
                ok += bc == label[ho->held[h]];
            }
            float acc = (float)ok / (float)H;
            int first = i == 0 && g == 0;
            if (first)
                defacc = acc;
            if (first || acc > bestacc) {
                bestacc = acc;
                f->lr = cfg->lrs[i];
                f->gamma = gm;
                for (size_t h = 0; h < H * S; h++)
                    ho->best[h] = ho->hl[h] + gm * ho->hc[h];
                if (first)
                    memcpy(ho->deflt, ho->best, H * S * sizeof(float));
            }
        }
    }
    if (bestacc - defacc <= margin) {
        f->lr = cfg->lrs[0];
        f->gamma = cfg->cents[0];
        bestacc = defacc;
        memcpy(ho->best, ho->deflt, H * S * sizeof(float));
    }
    return bestacc;
}

/* The temperature that makes the held-out labels most likely, on a
 * geometric grid. */
static float fit_temperature(const trainer *t, const heldout *ho) {
    const uint32_t *label = t->rows->label;
    size_t S = t->stride, nclass = t->C;
    double bestll = -1e300;
    float temp = t->cfg->temp;
    for (int k = -12; k <= 12; k++) {
        float T = powf(1.2f, (float)k);
        double ll = 0.0;
        for (size_t h = 0; h < ho->H; h++) {
            const float *z = ho->best + h * S;
            float mx = z[argmax(z, nclass)];
            double sum = 0.0;
            for (size_t c = 0; c < nclass; c++)
                sum += exp((double)(T * (z[c] - mx)));
            ll += (double)(T * (z[label[ho->held[h]]] - mx)) - log(sum);
        }
        if (ll > bestll) {
            bestll = ll;
            temp = T;
        }
    }
    return temp;
}

/* The background from the held-out examples answered right: their top
 * logits (at temperature temp), 5th percentile, minus the margin (ho->hl
 * is reused for the logits). */
static float heldout_background(const trainer *t, heldout *ho, float temp) {
    size_t S = t->stride, nok = 0;
    for (size_t h = 0; h < ho->H; h++) {
        const float *z = ho->best + h * S;
        size_t bc = argmax(z, t->C);
        if (bc == t->rows->label[ho->held[h]])
            ho->hl[nok++] = temp * z[bc];
    }
    return csbot__quantile(ho->hl, nok, t->cfg->bg_quantile) -
           t->cfg->bg_margin;
}

/* The selection on held-out examples: the fit (learning rate, centroid
 * weight, temperature, background) and, for diagnostics, what it chose in
 * m. *select becomes 0 when no example can be held out (or none is left to
 * train on). */
static int select_fit(const csbot__alloc *a, trainer *t, heldout *ho, fit *f,
                      csbot__model *m, int *select) {
    int rc = split_holdout(a, t, ho);
    if (rc)
        return rc;
    size_t H = ho->H, S = t->stride;
    if (H == 0 || ho->ntr == 0) {
        *select = 0;
        return CSBOT_OK;
    }
    ho->hc = csbot__malloc(a, H * S * sizeof(float));
    ho->hl = csbot__malloc(a, H * S * sizeof(float));
    ho->best = csbot__malloc(a, H * S * sizeof(float));
    ho->deflt = csbot__malloc(a, H * S * sizeof(float));
    if (!ho->hc || !ho->hl || !ho->best || !ho->deflt)
        return CSBOT_ENOMEM;
    float acc = choose_candidate(t, ho, f);
    f->temp = fit_temperature(t, ho);
    f->bg = heldout_background(t, ho, f->temp);
    m->sel_lr = f->lr;
    m->sel_centroid = f->gamma;
    m->sel_acc = acc;
    m->nheld = H;
    return CSBOT_OK;
}

/* The final model: trained on all the examples, plus the weighted class
 * centroids, with the temperature folded into the weights. */
static void train_final(trainer *t, const fit *f) {
    size_t N = t->rows->n, S = t->stride, nfeat = t->nfeat;
    for (size_t i = 0; i < N; i++)
        t->order[i] = (uint32_t)i;
    sgd(t, t->order, N, t->cfg->epochs, f->lr);
    if (f->gamma > 0.0f) {
        /* the normalised class centroids: a blunt classifier, but one that
         * examples under the wrong intent hardly move */
        centroids(t, t->order, N, t->cen, t->cnorm);
        scal(t->cen, f->gamma, nfeat * S);
        axpy(t->v, t->cen, 1.0f, nfeat * S);
    }
    if (f->temp != 1.0f) {
        scal(t->v, f->temp, nfeat * S);
        scal(t->b, f->temp, S);
    }
}

/* No held-out examples: the background from the training examples' own
 * top logits (a model is surer of what it was trained on, so this errs
 * high). */
static int train_background(const csbot__alloc *a, trainer *t, float *bg) {
    const csbot__rows *rows = t->rows;
    size_t N = rows->n, nok = 0;
    float *buf = csbot__malloc(a, (N + 1) * sizeof(float));
    if (!buf)
        return CSBOT_ENOMEM;
    for (size_t r = 0; r < N; r++) {
        score(t, t->v, t->b, (uint32_t)r, t->cfg->scale, t->p);
        size_t bc = argmax(t->p, t->C);
        if (bc == rows->label[r])
            buf[nok++] = t->p[bc];
    }
    *bg = csbot__quantile(buf, nok, t->cfg->bg_quantile) - t->cfg->bg_margin;
    csbot__free(a, buf);
    return CSBOT_OK;
}

/* The stored model: the weights quantised (the float ones are freed by
 * the caller), the intercepts taken over from the trainer. */
static int store(const csbot__alloc *a, csbot__model *m, trainer *t,
                 const fit *f) {
    int rc = quantise(a, m, t->v, t->nfeat, t->stride);
    if (rc)
        return rc;
    m->nfeat = t->nfeat;
    m->nclass = t->C;
    m->stride = t->stride;
    m->scale = t->cfg->scale;
    m->temp = f->temp;
    m->bg = f->bg;
    m->b = t->b;
    t->b = NULL;
    return CSBOT_OK;
}

/* Training, phase by phase (the top comment says why): weigh the negative
 * examples; with enough examples, select the fit on held-out ones; train
 * the final model on all of them; without a selection, take the background
 * from the training examples; store the model quantised. */
int csbot__model_train(const csbot__alloc *a, csbot__model *m,
                       const csbot__rows *rows, size_t nfeat, size_t nclass,
                       const csbot__traincfg *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (nclass == 0 || nfeat == 0 || rows->n == 0)
        return CSBOT_EINVAL;
    size_t S = (nclass + CSBOT__CBLOCK - 1) / CSBOT__CBLOCK * CSBOT__CBLOCK;
    if (nfeat > SIZE_MAX / sizeof(float) / S / 2)
        return CSBOT_ENOMEM;
    trainer t;
    memset(&t, 0, sizeof t);
    t.rows = rows;
    t.cfg = cfg;
    t.C = nclass;
    t.stride = S;
    t.nfeat = nfeat;
    t.rs = seed ? seed : 0x5eed;
    weigh_negatives(&t);
    int select = cfg->holdout > 0.0f && rows->n >= cfg->select_min &&
                 (cfg->nlr > 1 || cfg->ncent > 1);
    fit f = {cfg->lr, cfg->centroid, cfg->temp, -1e30f};
    heldout ho;
    memset(&ho, 0, sizeof ho);
    int rc = trainer_alloc(a, &t, select || cfg->centroid > 0.0f);
    if (!rc && select)
        rc = select_fit(a, &t, &ho, &f, m, &select);
    if (!rc)
        train_final(&t, &f);
    if (!rc && !select)
        rc = train_background(a, &t, &f.bg);
    if (!rc)
        rc = store(a, m, &t, &f);
    heldout_free(a, &ho);
    trainer_free(a, &t);
    return rc;
}

void csbot__model_free(const csbot__alloc *a, csbot__model *m) {
    csbot__free(a, m->wblock);
    csbot__free(a, m->b);
    memset(m, 0, sizeof *m);
}
