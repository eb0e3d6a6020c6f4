/*
 * index.h - the nearest-example index, built from the examples at load time
 * (index.c) and read at reply time by match.c's similarities.
 */
#ifndef CSBOT_INDEX_H
#define CSBOT_INDEX_H

#include "rows.h"

/* Nearest examples by the cosine of their word-level features (words, word
 * pairs, numbers, Chinese characters and character pairs: the features in
 * use[]), each example's sub-vector normalised on its own. The inverted
 * index lists, for each such feature found in at most dfmax examples, the
 * examples that have it; the examples' sub-vectors (sorted by feature id)
 * give the exact cosine of the best candidates. */
typedef struct csbot__index {
    size_t nfeat, nrows;
    uint32_t *start; /* nfeat + 1; empty lists for features not indexed */
    uint32_t *row;
    float *val;
    uint32_t *label; /* class of each example */
    uint32_t *rowptr; /* nrows + 1: the examples' sub-vectors */
    uint32_t *col;
    float *rval;
    uint32_t dfmax;
    float unk;        /* the share of words (and Chinese character pairs)
                         a new message is expected to have that no example
                         has (set by match.c) */
    float idfmax;     /* IDF of a feature no example has (set by match.c) */
    uint32_t *patint; /* intents that have patterns (filled by match.c) */
    size_t npatint;
} csbot__index;

int csbot__index_build(const csbot__alloc *a, csbot__index *ix,
                       const csbot__rows *rows, size_t nfeat,
                       const uint8_t *use);
void csbot__index_free(const csbot__alloc *a, csbot__index *ix);

#endif
