/*
 * encoder.h - the sentence encoder's internals: the scratch memory a
 * session keeps for it (so that a reply does not allocate once warm), and
 * what tests reach (the public API is in csbot.h).
 */
#ifndef CSBOT_ENCODER_H
#define CSBOT_ENCODER_H

#include "internal.h"
#include "utf8.h"

/* The width of the vectors. */
#define CSBOT__ENC_DIM 512

/* Scratch memory for encoding, grown as needed and kept (at most about
 * 2.6 MB, for a text of 128 tokens). */
typedef struct csbot__encscratch {
    csbot__normbuf nb;
    csbot__buf nf, s;  /* NFKC text; with the word-start marks */
    void *tok;         /* the tokenizer's per code point arrays */
    size_t tokcap;
    const int32_t *ids; /* token ids (inside tok) */
    float *net;        /* the network's activations */
    size_t netcap;
} csbot__encscratch;

/* Encode valid UTF-8 text (no NUL, at most CSBOT_ENCODER_MAX_BYTES) into
 * out[CSBOT__ENC_DIM], with scratch memory from allocator a. */
int csbot__encoder_run(const csbot_encoder *e, const csbot__alloc *a,
                       csbot__encscratch *sc, const char *text, size_t len,
                       float *out);
void csbot__encscratch_free(const csbot__alloc *a, csbot__encscratch *sc);

/* The model's token ids for text (valid UTF-8, no NUL), at most 128; *ids
 * is NULL when *n is 0, else freed with csbot__encoder_ids_free(). */
int csbot__encoder_tokenize(const csbot_encoder *e, const char *text,
                            size_t len, int32_t **ids, size_t *n);
void csbot__encoder_ids_free(const csbot_encoder *e, int32_t *ids);

#endif
