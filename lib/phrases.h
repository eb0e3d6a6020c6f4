/*
 * phrases.h - lists of normalised phrases found by longest match
 * (phrases.c): synonyms, the sentiment lexicon, the requests for a person.
 */
#ifndef CSBOT_PHRASES_H
#define CSBOT_PHRASES_H

#include "dict.h"

/* Synonym phrases, normalised, mapped to the canonical phrase. */
typedef struct csbot__phrase {
    char *from;
    size_t fromlen;
    char *to;
    size_t tolen;
    int latin; /* needs word boundaries */
    float weight; /* for sentiment phrases */
} csbot__phrase;

typedef struct csbot__phrases {
    csbot__phrase *p;
    size_t n;
    csbot__dict first; /* first code point -> index of first phrase with it
                          (phrases sorted by first code point, then length
                          descending) */
    uint64_t firstbits[64]; /* bit (cp mod 4096): some phrase starts with a
                               code point of that residue */
    uint64_t inword[64];    /* the same for the phrases that match inside
                               words too (not latin) */
} csbot__phrases;

int csbot__phrases_index(const csbot__alloc *a, csbot__phrases *ph);
void csbot__phrases_free(const csbot__alloc *a, csbot__phrases *ph);
/* Replace every synonym in text with its canonical form; appends to out. */
int csbot__phrases_replace(const csbot__alloc *a, const csbot__phrases *ph,
                           const char *text, size_t len, csbot__buf *out);
/* Sum of the weights of the phrases found in text, and their count. */
float csbot__phrases_score(const csbot__phrases *ph, const char *text,
                           size_t len, unsigned *hits);

#endif
