/*
 * index.c - builds the nearest-example index (index.h) at load time: for
 * each informative feature (one found in at most dfmax examples) the list
 * of examples that have it, and every example's own word-level features
 * (its sub-vector, normalised on its own) for the exact cosine of the best
 * candidates. match.c reads both at reply time (similarities()).
 */
#include <math.h>

#include "index.h"

int csbot__index_build(const csbot__alloc *a, csbot__index *ix,
                       const csbot__rows *rows, size_t nfeat,
                       const uint8_t *use) {
    memset(ix, 0, sizeof *ix);
    size_t nnz = rows->n ? rows->rowptr[rows->n] : 0, m = 0;
    for (size_t i = 0; i < nnz; i++)
        m += use[rows->col[i]] != 0;
    ix->nfeat = nfeat;
    ix->nrows = rows->n;
    ix->dfmax = (uint32_t)CSBOT_MAX(32u, rows->n / 64);
    ix->start = csbot__calloc(a, nfeat + 2, sizeof(uint32_t));
    ix->label = csbot__malloc(a, (rows->n + 1) * sizeof(uint32_t));
    ix->rowptr = csbot__malloc(a, (rows->n + 1) * sizeof(uint32_t));
    ix->col = csbot__malloc(a, (m + 1) * sizeof(uint32_t));
    ix->rval = csbot__malloc(a, (m + 1) * sizeof(float));
    uint32_t *df = csbot__calloc(a, nfeat + 1, sizeof(uint32_t));
    if (!ix->start || !ix->label || !ix->rowptr || !ix->col || !ix->rval ||
        !df)
        goto nomem;
    /* the sub-vectors, normalised */
    m = 0;
    ix->rowptr[0] = 0;
    for (size_t r = 0; r < rows->n; r++) {
        size_t b = m;
        float ss = 0.0f;
        for (uint32_t k = rows->rowptr[r]; k < rows->rowptr[r + 1]; k++)
            if (use[rows->col[k]]) {
                ix->col[m] = rows->col[k];
                ix->rval[m] = rows->val[k];
                ss += rows->val[k] * rows->val[k];
                df[rows->col[k]]++;
                m++;
            }
        float inv = ss > 0.0f ? 1.0f / sqrtf(ss) : 0.0f;
        for (size_t k = b; k < m; k++)
            ix->rval[k] *= inv;
        ix->rowptr[r + 1] = (uint32_t)m;
        ix->label[r] = rows->label[r];
    }
    size_t total = 0;
    for (size_t f = 0; f < nfeat; f++) {
        ix->start[f] = (uint32_t)total;
        if (df[f] <= ix->dfmax)
            total += df[f];
    }
    ix->start[nfeat] = (uint32_t)total;
    ix->row = csbot__malloc(a, (total + 1) * sizeof(uint32_t));
    ix->val = csbot__malloc(a, (total + 1) * sizeof(float));
    if (!ix->row || !ix->val)
        goto nomem;
    /* df becomes the fill position */
    for (size_t f = 0; f < nfeat; f++)
        df[f] = ix->start[f];
    for (size_t r = 0; r < rows->n; r++)
        for (uint32_t k = ix->rowptr[r]; k < ix->rowptr[r + 1]; k++) {
            uint32_t f = ix->col[k];
            if (df[f] < ix->start[f + 1]) {
                ix->row[df[f]] = (uint32_t)r;
                ix->val[df[f]] = ix->rval[k];
                df[f]++;
            }
        }
    csbot__free(a, df);
    return CSBOT_OK;
nomem:
    csbot__free(a, df);
    csbot__index_free(a, ix);
    return CSBOT_ENOMEM;
}

void csbot__index_free(const csbot__alloc *a, csbot__index *ix) {
    csbot__free(a, ix->start);
    csbot__free(a, ix->row);
    csbot__free(a, ix->val);
    csbot__free(a, ix->label);
    csbot__free(a, ix->rowptr);
    csbot__free(a, ix->col);
    csbot__free(a, ix->rval);
    csbot__free(a, ix->patint);
    memset(ix, 0, sizeof *ix);
}
