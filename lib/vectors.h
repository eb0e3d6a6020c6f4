/*
 * vectors.h - the knowledge base's example vectors from the optional
 * sentence encoder: their stored form, and the nearest example of each
 * intent by meaning.
 */
#ifndef CSBOT_VECTORS_H
#define CSBOT_VECTORS_H

#include "encoder.h"

/* A stored vector: CSBOT__ENC_DIM signed bytes (the unit vector scaled so
 * that its largest component is 127, rounded), in base64. */
#define CSBOT__VEC_B64 ((CSBOT__ENC_DIM + 2) / 3 * 4)

/* How much the nearest-example cosine counts: this many logits per unit of
 * cosine (5-fold cross-validation of BANKING77's train split,
 * docs/ACCURACY.md). */
#ifndef CSBOT__VEC_WEIGHT
#define CSBOT__VEC_WEIGHT 25.0f
#endif

typedef struct csbot__vecs {
    const csbot_encoder *enc; /* borrowed (csbot_kb_options.encoder) */
    size_t n, cap;
    int8_t *v;       /* n rows of CSBOT__ENC_DIM */
    float *inv;      /* n: 1 / the row's length */
    uint32_t *label; /* n: the example's class */
    float ref;       /* a low nearest cosine for an in-scope message (see
                        csbot__vecs_finish) */
} csbot__vecs;

/* Quantise a vector to the stored form's bytes. */
void csbot__vec_quantize(const float *v, int8_t *q);
/* Decode a stored vector; -1 if it is not CSBOT__VEC_B64 characters of
 * base64 (no padding inside, the right length). */
int csbot__vec_decode(const char *b64, size_t len, int8_t *q);
/* Add a vector (bytes) of class label. Vectors are added class by class
 * (the loader's order: intent by intent, then the negatives), so that each
 * class's rows are contiguous, which csbot__vecs_finish relies on. */
int csbot__vecs_add(const csbot__alloc *a, csbot__vecs *vs, const int8_t *q,
                    uint32_t label);
/* For each class c < nclass, the cosine of q (a unit vector) with its
 * nearest example into best[c], or 0 when that is lower (also for classes
 * without vectors); qq is scratch of CSBOT__ENC_DIM bytes. Returns the
 * largest. */
float csbot__vecs_nearest(const csbot__vecs *vs, const float *q, int8_t *qq,
                          float *best, size_t nclass);
/* After the last add: ref, the 5th percentile over the examples of each
 * one's cosine with the nearest other example of its class (classes with
 * one example left out; at most CSBOT__VEC_PEERS peers compared, every
 * (count / CSBOT__VEC_PEERS)th). */
#define CSBOT__VEC_PEERS 256
int csbot__vecs_finish(const csbot__alloc *a, csbot__vecs *vs);
void csbot__vecs_free(const csbot__alloc *a, csbot__vecs *vs);

#endif
