/*
 * match.h - from a message to ranked intent candidates with confidences
 * (match.c: the session's scratch memory, learning the examples at load,
 * matching at reply time).
 */
#ifndef CSBOT_MATCH_H
#define CSBOT_MATCH_H

#include "kb.h"


typedef struct csbot__cand {
    uint32_t intent;
    float conf;  /* final confidence in [0,1] */
    float prob;  /* classifier probability (calibrated, with a background
                    class taking its share; 0 in FAQ mode) */
    float sim;   /* cosine of the word-level features with the nearest
                    example of the intent (a lower bound for intents other
                    than the best few) */
    int pattern; /* index of the pattern that fired, or -1 */
} csbot__cand;

/* Scratch memory and the result of the last match. One per session (and
 * one per load). Grown as needed and kept. */
typedef struct csbot__scratch {
    csbot__normbuf nb;
    csbot__buf norm0; /* normalised text */
    csbot__buf norm;  /* ... with synonyms replaced */
    csbot__script sc;
    csbot__feats feats;
    struct sb_stemmer *stemmer;
    uint32_t *ids;
    float *vals;
    size_t nids, idcap;
    unsigned units, known;
    float *logits;
    size_t logcap;
    float *acc;        /* per example similarity accumulator */
    size_t acccap;
    uint32_t *touched;
    size_t ntouched, touchcap;
    float *isim;       /* per intent best similarity (0 for the others) */
    size_t isimcap;
    uint32_t *tint;    /* intents with isim > 0 */
    size_t ntint, tintcap;
    uint32_t *irow;    /* per intent: its nearest example found */
    size_t irowcap;
    uint32_t *qids;    /* the message's word-level features, */
    float *qvals;      /* normalised on their own (for the similarity) */
    size_t nq, qcap;
    csbot__rematch *rm;
    csbot__encscratch enc; /* the sentence encoder's */
    float qvec[CSBOT__ENC_DIM]; /* the message's vector */
    int8_t qq[CSBOT__ENC_DIM];
    float *vbest;      /* per class: cosine with the nearest example */
    size_t vbestcap;
    /* load time only */
    csbot__rows rows;
    uint32_t *df;
    size_t dfcap;
    uint8_t *fkind;    /* feature kind per feature id */
    size_t fkindcap;
    /* result */
    csbot__cand cand[CSBOT__MAXCAND];
    size_t ncand;
    float coverage;
    float covfactor;   /* what the coverage does to the confidence */
    float negsim;      /* FAQ mode: similarity to the nearest negative */
    int limited; /* a pattern hit the match limit */
    int by_meaning;    /* vbest holds this message's cosines, vmax the best */
    float vmax;
} csbot__scratch;

int csbot__scratch_init(const csbot_kb *kb, csbot__scratch *s);
void csbot__scratch_free(const csbot_kb *kb, csbot__scratch *s);

/* Normalise text (and replace synonyms if asked) into out (cleared first). */
int csbot__match_normalize(const csbot_kb *kb, csbot__scratch *s,
                           const char *text, size_t len, csbot__buf *out,
                           int synonyms);
/* Load time: add an example of intent `label`. CSBOT_EEMPTY when the text
 * has nothing to match on. */
int csbot__match_learn(csbot_kb *kb, csbot__scratch *s, const char *text,
                       size_t len, uint32_t label);
/* Load time: weight features, train the classifier, build the index. */
int csbot__match_build(csbot_kb *kb, csbot__scratch *s);
/* Match a (validated) message: fills s->cand, s->ncand, s->coverage, and
 * s->norm0/s->norm/s->sc. */
int csbot__match(const csbot_kb *kb, csbot__scratch *s, const char *text,
                 size_t len);
/* Confidence of one intent for the last matched message (for context). */
float csbot__match_conf_of(const csbot_kb *kb, const csbot__scratch *s,
                           uint32_t intent);

#endif
