/*
 * kb.c - the knowledge base object: loading from a file or a buffer (the
 * parse itself is kb_load.c), defaults, accessors and freeing. A load either
 * returns a complete knowledge base or frees everything it built.
 */

#include "kb.h"

const char *csbot__text3_get(const csbot__text3 *t, int lang) {
    static const int order[CSBOT__NLANG][CSBOT__NLANG] = {
        {CSBOT__ZHS, CSBOT__ZHT, CSBOT__EN},
        {CSBOT__ZHT, CSBOT__ZHS, CSBOT__EN},
        {CSBOT__EN, CSBOT__ZHS, CSBOT__ZHT}};
    if (lang < 0 || lang >= CSBOT__NLANG)
        lang = CSBOT__ZHS;
    for (int i = 0; i < CSBOT__NLANG; i++)
        if (t->t[order[lang][i]])
            return t->t[order[lang][i]];
    return NULL;
}

void csbot__text3_free(const csbot__alloc *a, csbot__text3 *t) {
    for (int i = 0; i < CSBOT__NLANG; i++) {
        csbot__free(a, t->t[i]);
        t->t[i] = NULL;
    }
}

int csbot__intent_find(const csbot_kb *kb, const char *id, size_t len) {
    uint32_t v;
    if (!csbot__dict_get(&kb->idmap, csbot__hash(id, len, 17), &v))
        return -1;
    if (v < kb->nintents && kb->intents[v].id &&
        strlen(kb->intents[v].id) == len &&
        memcmp(kb->intents[v].id, id, len) == 0)
        return (int)v;
    /* a 64-bit hash collision: astronomically rare, so a scan is fine */
    for (size_t i = 0; i < kb->nintents; i++)
        if (kb->intents[i].id && strlen(kb->intents[i].id) == len &&
            memcmp(kb->intents[i].id, id, len) == 0)
            return (int)i;
    return -1;
}

int csbot__slot_find(const csbot_kb *kb, const char *name, size_t len) {
    for (size_t i = 0; i < kb->nslots; i++)
        if (kb->slots[i].name && strlen(kb->slots[i].name) == len &&
            memcmp(kb->slots[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

csbot_kb *csbot__kb_alloc(const csbot_kb_options *opts) {
    csbot__alloc a;
    csbot__alloc_init(&a, opts ? opts->alloc : NULL, opts ? opts->alloc_ud : NULL);
    csbot_kb *kb = csbot__calloc(&a, 1, sizeof *kb);
    if (!kb)
        return NULL;
    kb->alloc = a;
    kb->set.answer = 0.5;
    kb->set.suggest = 0.3;
    kb->set.margin = 0.1;
    kb->set.pattern_conf = 0.9;
    kb->set.sentiment = 0.6;
    kb->set.handoff_below = 0.0;
    kb->set.max_misses = 2;
    kb->set.context_turns = 3;
    kb->set.context_seconds = 600;
    kb->set.handoff_on_repeat = 1;
    kb->set.handoff_on_request = 1;
    memcpy(kb->set.traditional, "s2t", 4);
    kb->max_message = opts && opts->max_message ? opts->max_message
                                                        : CSBOT__MAX_MESSAGE_DEFAULT;
    kb->seed = opts && opts->seed ? opts->seed : 0x5eed;
    kb->warn = opts ? opts->warn : NULL;
    kb->warn_ud = opts ? opts->warn_ud : NULL;
    kb->vecs.enc = opts && opts->version >= 2 ? opts->encoder : NULL;
    csbot__featcfg_default(&kb->fcfg);
    return kb;
}

static void free_intent(const csbot__alloc *a, csbot__intent *it) {
    csbot__free(a, it->id);
    csbot__text3_free(a, &it->title);
    for (size_t i = 0; i < it->npatterns; i++) {
        csbot__regex_free(it->patterns[i]);
        csbot__free(a, it->pattern_src[i]);
    }
    csbot__free(a, it->patterns);
    csbot__free(a, it->pattern_src);
    for (size_t i = 0; i < it->nresponses; i++) {
        csbot__response *r = &it->responses[i];
        for (size_t k = 0; k < r->nwhen; k++) {
            csbot__free(a, r->when[k].key);
            csbot__free(a, r->when[k].val);
        }
        csbot__free(a, r->when);
        csbot__text3_free(a, &r->text);
    }
    csbot__free(a, it->responses);
    csbot__free(a, it->slots);
    csbot__free(a, it->require);
}

CSBOT_API void csbot_kb_free(csbot_kb *kb) {
    if (!kb)
        return;
    csbot__alloc a = kb->alloc;
    for (size_t i = 0; i < kb->nintents; i++)
        free_intent(&a, &kb->intents[i]);
    csbot__free(&a, kb->intents);
    for (size_t i = 0; i < kb->nslots; i++) {
        csbot__slot *s = &kb->slots[i];
        csbot__free(&a, s->name);
        csbot__free(&a, s->pattern_src);
        csbot__regex_free(s->re);
        csbot__text3_free(&a, &s->prompt);
    }
    csbot__free(&a, kb->slots);
    for (int i = 0; i < CSBOT__MSG_COUNT; i++)
        csbot__text3_free(&a, &kb->msg[i]);
    csbot__phrases_free(&a, &kb->synonyms);
    csbot__phrases_free(&a, &kb->sentiment);
    csbot__phrases_free(&a, &kb->request);
    csbot__regex_ctx_free(&a, kb->rectx);
    csbot__convert_free(&a, &kb->conv);
    csbot__stemcache_free(&a, &kb->stems);
    csbot__dict_free(&a, &kb->vocab);
    csbot__dict_free(&a, &kb->idmap);
    csbot__free(&a, kb->idf);
    csbot__model_free(&a, &kb->model);
    csbot__index_free(&a, &kb->index);
    csbot__vecs_free(&a, &kb->vecs);
    csbot__free(&a, kb->name);
    csbot__free(&a, kb->source);
    csbot__free(&a, kb);
}

static int finish(csbot_kb *kb, const csbot_kb_options *opts) {
    if (opts && opts->answer_threshold >= 0)
        kb->set.answer = opts->answer_threshold;
    if (opts && opts->suggest_threshold >= 0)
        kb->set.suggest = opts->suggest_threshold;
    if (opts && opts->ambiguity_margin >= 0)
        kb->set.margin = opts->ambiguity_margin;
    if (kb->set.suggest > kb->set.answer)
        kb->set.suggest = kb->set.answer;
    if (!kb->name && !(kb->name = csbot__strdup(&kb->alloc, "")))
        return CSBOT_ENOMEM;
    return CSBOT_OK;
}

static int check_opts(const csbot_kb_options *opts, csbot_error *err) {
    /* version 1 is the same structure without `encoder` */
    if (opts && (opts->version < 1 || opts->version > CSBOT_KB_OPTIONS_VERSION)) {
        csbot__error_set(err, CSBOT_EINVAL, "", "unsupported options version");
        return CSBOT_EINVAL;
    }
    if (opts && (opts->answer_threshold > 1 || opts->suggest_threshold > 1 ||
                 opts->ambiguity_margin > 1)) {
        csbot__error_set(err, CSBOT_EINVAL, "", "thresholds must be in [0,1]");
        return CSBOT_EINVAL;
    }
    return CSBOT_OK;
}

CSBOT_API int csbot_kb_load_buffer(csbot_kb **out, const char *json,
                                   size_t len, const char *name,
                                   const csbot_kb_options *opts,
                                   csbot_error *err) {
    if (out)
        *out = NULL;
    csbot__error_reset(err, name ? name : "<buffer>");
    if (!out || !json) {
        csbot__error_set(err, CSBOT_EINVAL, "", "NULL argument");
        return CSBOT_EINVAL;
    }
    int rc = check_opts(opts, err);
    if (rc)
        return rc;
    if (len == CSBOT_NUL_TERMINATED)
        len = strlen(json);
    if (len > CSBOT__MAX_FILE) {
        csbot__error_set(err, CSBOT_ETOOBIG, "", "knowledge base over " CSBOT__MAX_FILE_TEXT);
        return CSBOT_ETOOBIG;
    }
    csbot_kb *kb = csbot__kb_alloc(opts);
    if (!kb) {
        csbot__error_set(err, CSBOT_ENOMEM, "", "out of memory");
        return CSBOT_ENOMEM;
    }
    kb->source = csbot__strdup(&kb->alloc, name ? name : "<buffer>");
    rc = kb->source ? csbot__regex_ctx_new(&kb->alloc, &kb->rectx) : CSBOT_ENOMEM;
    if (!rc)
        rc = csbot__kb_parse(kb, json, len, err);
    if (!rc)
        rc = finish(kb, opts);
    kb->warn = NULL; /* the callback is for the load only */
    if (rc) {
        if (err && err->code == CSBOT_OK)
            csbot__error_set(err, rc, "", "%s", csbot_strerror(rc));
        csbot_kb_free(kb);
        return rc;
    }
    *out = kb;
    return CSBOT_OK;
}

CSBOT_API int csbot_kb_load_file(csbot_kb **out, const char *path,
                                 const csbot_kb_options *opts,
                                 csbot_error *err) {
    if (out)
        *out = NULL;
    csbot__error_reset(err, path);
    if (!out || !path) {
        csbot__error_set(err, CSBOT_EINVAL, "", "NULL argument");
        return CSBOT_EINVAL;
    }
    int rc = check_opts(opts, err);
    if (rc)
        return rc;
    csbot__alloc a;
    csbot__alloc_init(&a, opts ? opts->alloc : NULL, opts ? opts->alloc_ud : NULL);
    csbot__buf b = {0};
    rc = csbot__buf_read_file(&a, &b, path, CSBOT__MAX_FILE, "knowledge base",
                              err);
    if (!rc)
        rc = csbot_kb_load_buffer(out, b.data ? b.data : "", b.len, path, opts,
                                  err);
    csbot__buf_free(&a, &b);
    return rc;
}

CSBOT_API size_t csbot_kb_intent_count(const csbot_kb *kb) {
    return kb ? kb->nintents : 0;
}

CSBOT_API const char *csbot_kb_intent_id(const csbot_kb *kb, size_t i) {
    return kb && i < kb->nintents ? kb->intents[i].id : NULL;
}

static int text_lang(csbot_lang l) {
    return l == CSBOT_LANG_EN ? CSBOT__EN
           : l == CSBOT_LANG_ZH_HANT ? CSBOT__ZHT : CSBOT__ZHS;
}

CSBOT_API const char *csbot_kb_intent_title(const csbot_kb *kb, size_t i,
                                            csbot_lang lang) {
    if (!kb || i >= kb->nintents)
        return NULL;
    const char *t = csbot__text3_get(&kb->intents[i].title, text_lang(lang));
    return t ? t : kb->intents[i].id;
}

CSBOT_API int csbot_kb_intent_find(const csbot_kb *kb, const char *id,
                                   size_t *index) {
    if (!kb || !id)
        return CSBOT_EINVAL;
    for (size_t i = 0; i < kb->nintents; i++)
        if (strcmp(kb->intents[i].id, id) == 0) {
            if (index)
                *index = i;
            return CSBOT_OK;
        }
    return CSBOT_ERANGE;
}

const char *const csbot__msg_names[CSBOT__MSG_COUNT + 1] = {
    [CSBOT__MSG_FALLBACK] = "fallback",   [CSBOT__MSG_SUGGEST] = "suggest",
    [CSBOT__MSG_HANDOFF] = "handoff",     [CSBOT__MSG_HUMAN] = "human_mode",
    [CSBOT__MSG_WELCOME] = "welcome",     [CSBOT__MSG_UNSUPPORTED] = "unsupported",
    [CSBOT__MSG_COUNT] = NULL};

CSBOT_API const char *csbot_kb_message(const csbot_kb *kb, const char *name,
                                       csbot_lang lang) {
    if (!kb || !name)
        return NULL;
    for (int m = 0; m < CSBOT__MSG_COUNT; m++)
        if (strcmp(csbot__msg_names[m], name) == 0)
            return csbot__text3_get(&kb->msg[m], text_lang(lang));
    return NULL;
}

CSBOT_API const char *csbot_kb_name(const csbot_kb *kb) {
    return kb && kb->name ? kb->name : "";
}

CSBOT_API size_t csbot_kb_example_count(const csbot_kb *kb) {
    return kb ? kb->nexamples : 0;
}

CSBOT_API void csbot_kb_thresholds(const csbot_kb *kb, double *answer,
                                   double *suggest, double *margin) {
    /* a NULL kb gives zeros rather than leaving the outputs unset */
    if (answer)
        *answer = kb ? kb->set.answer : 0.0;
    if (suggest)
        *suggest = kb ? kb->set.suggest : 0.0;
    if (margin)
        *margin = kb ? kb->set.margin : 0.0;
}
