/*
 * model.h - the linear intent classifier learned from the examples at load
 * time, and the inverted index used for nearest-example similarity.
 */
#ifndef CSBOT_MODEL_H
#define CSBOT_MODEL_H

#include "internal.h"

/* Sparse rows: example i has features col[rowptr[i] .. rowptr[i+1]). */
typedef struct csbot__rows {
    size_t n;
    uint32_t *rowptr; /* n + 1 */
    uint32_t *col;
    float *val;       /* L2-normalised per row */
    uint32_t *label;  /* class of each row */
    size_t cap_nnz, cap_n;
} csbot__rows;

typedef struct csbot__traincfg {
    int epochs;
    float lr;        /* initial learning rate */
    float l2;        /* L2 penalty per example */
    float scale;     /* inputs are multiplied by this (logit scale) */
} csbot__traincfg;

void csbot__traincfg_default(csbot__traincfg *cfg);

typedef struct csbot__model {
    size_t nfeat, nclass;
    float *w; /* nfeat * nclass, feature-major: row f holds all classes */
    float *b; /* nclass */
    float scale;
} csbot__model;

int csbot__model_train(const csbot__alloc *a, csbot__model *m,
                       const csbot__rows *rows, size_t nfeat, size_t nclass,
                       const csbot__traincfg *cfg, uint64_t seed);
/* Logits into out[nclass]. */
void csbot__model_logits(const csbot__model *m, const uint32_t *ids,
                         const float *vals, size_t n, float *out);
void csbot__model_free(const csbot__alloc *a, csbot__model *m);

/* Inverted index: for each feature, the examples that have it. */
typedef struct csbot__index {
    size_t nfeat, nrows;
    uint32_t *start; /* nfeat + 1 */
    uint32_t *row;
    float *val;
    uint32_t *label; /* copy of rows->label */
} csbot__index;

int csbot__index_build(const csbot__alloc *a, csbot__index *ix,
                       const csbot__rows *rows, size_t nfeat);
void csbot__index_free(const csbot__alloc *a, csbot__index *ix);

int csbot__rows_add(const csbot__alloc *a, csbot__rows *r, const uint32_t *ids,
                    const float *vals, size_t n, uint32_t label);
void csbot__rows_free(const csbot__alloc *a, csbot__rows *r);

#endif
