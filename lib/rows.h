/*
 * rows.h - the knowledge base's examples as a sparse matrix, one row of
 * feature ids and values per example with its class. Built while a
 * knowledge base loads (learn.c), read by the classifier's training
 * (model.c) and the nearest-example index (index.c), freed before the load
 * returns.
 */
#ifndef CSBOT_ROWS_H
#define CSBOT_ROWS_H

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

/* Append a row of n features (ids[], vals[], copied) of class `label`;
 * CSBOT_ETOOBIG past 2^32 features in all. */
int csbot__rows_add(const csbot__alloc *a, csbot__rows *r, const uint32_t *ids,
                    const float *vals, size_t n, uint32_t label);
void csbot__rows_free(const csbot__alloc *a, csbot__rows *r);

#endif
