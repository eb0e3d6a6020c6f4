/*
 * lexicon.h - the built-in anger and frustration lexicon and the phrases
 * asking for a person, and the sentiment score of a message (lexicon.c).
 */
#ifndef CSBOT_LEXICON_H
#define CSBOT_LEXICON_H

#include "match.h"

/* Add the built-in lexicon to kb->sentiment and kb->request (before the
 * knowledge base's own phrases; s normalises them). */
int csbot__sentiment_defaults(csbot_kb *kb, csbot__scratch *s);
/* Negative-sentiment score in [0,1] of a message already matched in s
 * (uses s->norm0 and s->sc), with the raw text for shouting and emoji. */
float csbot__sentiment_score(const csbot_kb *kb, const csbot__scratch *s,
                             const char *raw, size_t len);

#endif
