/*
 * model.h - the linear intent classifier learned from the examples at load
 * time (model.c): its training settings, the stored quantised model, the
 * logits of a message; and csbot__quantile, which vectors.c also uses.
 */
#ifndef CSBOT_MODEL_H
#define CSBOT_MODEL_H

#include "rows.h"

/* Per-class arrays are padded to a multiple of this many floats so that the
 * loops over classes run in whole blocks the compiler vectorises. */
#define CSBOT__CBLOCK 8

#define CSBOT__MAXTRY 8

typedef struct csbot__traincfg {
    int epochs;      /* of the final model */
    float lr;        /* initial learning rate (when none is selected) */
    float l2;        /* L2 penalty per example, when l2_total is 0 */
    float l2_total;  /* if > 0: L2 penalty on the sum of the losses (per
                        example: l2_total / number of examples) */
    int neg_class;   /* the hidden out-of-scope class, or -1 */
    float scale;     /* inputs are multiplied by this (logit scale) */
    float bias_lr;   /* learning rate of the intercepts, relative */
    float dropout;   /* share of an example's features dropped at a step */
    float eps;       /* classes whose gradient is under this (in blocks of
                        CSBOT__CBLOCK) are not updated */
    float centroid;  /* weight of the class centroids added to the model
                        (when none is selected) */
    /* selection on held-out examples */
    float holdout;   /* share of each intent's examples held out (0: off) */
    size_t select_min; /* fewest examples for a selection */
    int select_epochs;
    int nlr, ncent;  /* learning rates and centroid weights tried; the
                        first of each is the default */
    float lrs[CSBOT__MAXTRY], cents[CSBOT__MAXTRY];
    /* the logit of the background ("none of these"): this quantile of the
     * top logits of the held-out examples answered right, minus margin */
    float bg_quantile, bg_margin;
    float temp;      /* temperature when there are too few examples to
                        hold some out */
} csbot__traincfg;

void csbot__traincfg_default(csbot__traincfg *cfg);

/* The q-quantile of v[0..n) (sorts v); -1e30 when n is 0. */
float csbot__quantile(float *v, size_t n, float q);

/* The stored weights: one signed integer per feature and class, with one
 * float scale per feature (symmetric: the row's largest magnitude becomes
 * CSBOT__QMAX). */
typedef int8_t csbot__qweight;
#define CSBOT__QMAX 127
/* Bytes before a stored row's weights: its scale, then padding. */
#define CSBOT__QHEAD 8

typedef struct csbot__model {
    size_t nfeat, nclass;
    size_t stride; /* nclass rounded up to CSBOT__CBLOCK */
    /* nfeat rows of rowsize bytes, feature-major (row f holds all classes),
     * 64-byte aligned: at offset 0 the row's scale (a float), at
     * CSBOT__QHEAD stride csbot__qweight (the classes' weights, padding
     * zero); rowsize is a multiple of 32, so that a row spans as few cache
     * lines as its size allows */
    const unsigned char *w;
    size_t rowsize;
    void *wblock;  /* the allocation that holds w */
    float *b; /* stride */
    float scale;
    float temp;     /* temperature (already folded into w and b) */
    float bg;       /* logit of the background */
    /* what the selection chose (for diagnostics) */
    float sel_lr, sel_centroid, sel_acc;
    size_t nheld;
} csbot__model;

int csbot__model_train(const csbot__alloc *a, csbot__model *m,
                       const csbot__rows *rows, size_t nfeat, size_t nclass,
                       const csbot__traincfg *cfg, uint64_t seed);
/* Logits into out[stride] (entries nclass.. are padding). */
void csbot__model_logits(const csbot__model *m, const uint32_t *ids,
                         const float *vals, size_t n, float *out);
void csbot__model_free(const csbot__alloc *a, csbot__model *m);

#endif
