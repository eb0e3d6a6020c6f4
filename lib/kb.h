/*
 * kb.h - the compiled, immutable knowledge base shared by all sessions:
 * struct csbot_kb and what it holds, with the functions of kb_load.c (the
 * parse) and kb.c (allocation, lookups).
 */
#ifndef CSBOT_KB_H
#define CSBOT_KB_H

#include "convert.h"
#include "featurize.h"
#include "index.h"
#include "model.h"
#include "pattern.h"
#include "phrases.h"
#include "vectors.h"

/* Languages of stored texts: 0 Simplified, 1 Traditional, 2 English. */
enum { CSBOT__ZHS = 0, CSBOT__ZHT = 1, CSBOT__EN = 2, CSBOT__NLANG = 3 };

typedef struct csbot__text3 {
    char *t[CSBOT__NLANG]; /* any may be NULL (then another is used) */
} csbot__text3;

typedef struct csbot__kv {
    char *key;
    char *val;
} csbot__kv;

typedef struct csbot__response {
    csbot__kv *when; /* profile conditions */
    size_t nwhen;
    csbot__text3 text; /* templates, shop variables already filled in */
} csbot__response;

typedef struct csbot__intent {
    char *id;
    csbot__text3 title;
    csbot__re **patterns;
    char **pattern_src;
    size_t npatterns;
    csbot__response *responses;
    size_t nresponses;
    uint32_t *slots;   /* indices into kb->slots */
    size_t nslots;
    uint32_t *require; /* indices into kb->slots */
    size_t nrequire;
    int handoff; /* 0, 1 (always), 2 (an explicit request for a person) */
    size_t nexamples;
} csbot__intent;

typedef struct csbot__slot {
    char *name;
    char *pattern_src;
    csbot__re *re;
    csbot__text3 prompt;
} csbot__slot;

typedef struct csbot__settings {
    double answer, suggest, margin, pattern_conf, sentiment, handoff_below;
    unsigned max_misses, context_turns, context_seconds;
    int handoff_on_repeat;
    int handoff_on_request; /* the request phrases hand off */
    char traditional[8];
} csbot__settings;

enum {
    CSBOT__MSG_FALLBACK,
    CSBOT__MSG_SUGGEST,
    CSBOT__MSG_HANDOFF,
    CSBOT__MSG_HUMAN,
    CSBOT__MSG_WELCOME,     /* for channels: a new follower */
    CSBOT__MSG_UNSUPPORTED, /* for channels: a picture, a sticker... */
    CSBOT__MSG_COUNT
};
/* The messages' names in the file, by CSBOT__MSG_*, then NULL. */
extern const char *const csbot__msg_names[CSBOT__MSG_COUNT + 1];

struct csbot_kb {
    csbot__alloc alloc;
    char *name;
    char *source;
    size_t max_message;
    csbot__settings set;
    csbot__text3 msg[CSBOT__MSG_COUNT];
    csbot__intent *intents;
    size_t nintents;
    csbot__slot *slots;
    size_t nslots;
    csbot__phrases synonyms;
    csbot__phrases sentiment;
    csbot__phrases request; /* asking for a person */
    size_t nexamples;
    size_t nnegatives; /* examples of the hidden out-of-scope class,
                          whose label is nintents */

    csbot__rectx *rectx;
    csbot__convert conv;

    /* matcher */
    csbot__featcfg fcfg;
    csbot__stemcache stems;
    csbot__dict vocab;    /* feature hash -> feature id */
    float *idf;           /* per feature id */
    size_t nfeat;
    csbot__model model;   /* nclass == 0 when not trained (FAQ mode) */
    csbot__index index;
    csbot__vecs vecs;     /* English examples' vectors (with an encoder) */
    uint64_t seed;
    csbot__dict idmap; /* hash of intent id -> index */
    csbot_warn_cb warn; /* during load only */
    void *warn_ud;
};

/* --- kb_load.c --- */
int csbot__kb_parse(csbot_kb *kb, const char *json, size_t len,
                    csbot_error *err);

/* --- kb.c --- */
csbot_kb *csbot__kb_alloc(const csbot_kb_options *opts);
/* Pick the text for a language, falling back to the others. */
const char *csbot__text3_get(const csbot__text3 *t, int lang);
void csbot__text3_free(const csbot__alloc *a, csbot__text3 *t);
int csbot__intent_find(const csbot_kb *kb, const char *id, size_t len);
int csbot__slot_find(const csbot_kb *kb, const char *name, size_t len);

#endif
