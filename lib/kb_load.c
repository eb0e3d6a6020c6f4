/*
 * kb_load.c - reads a knowledge base's JSON (the only module that includes
 * cJSON) into the kb structures, validating every key, type and reference
 * against intents/SCHEMA.md. Errors name the JSON path of the bad value and,
 * by re-scanning the text along that path (jsondiag.c), its line and column.
 * Templates (read by template.c, the scanner render.c uses at reply time)
 * get the shop variables filled in and a Traditional copy made with OpenCC here,
 * so that nothing of this is done when replying. The cJSON tree exists only
 * during this call.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>

#include "jsondiag.h"
#include "kb.h"
#include "lexicon.h"
#include "match.h"
#include "template.h"

typedef struct loader {
    csbot_kb *kb;
    const csbot__alloc *a;
    const char *json;
    size_t len;
    csbot_error *err;
    csbot__jpath path;
    csbot__scratch scr; /* for normalising examples and phrases */
    csbot__dict seen;   /* lint: normalised example -> intent + 1 */
    unsigned *pathits;  /* lint: examples each pattern of an intent matches */
    size_t pathitcap;
    int lang;           /* each_text: 0 "zh", 1 "en" */
    /* stored example vectors, when an encoder is attached */
    csbot__dict vecdict; /* hash of the example text -> index into vecitem */
    const cJSON **vecitem;
    size_t nvecitem;
    size_t nencoded;     /* English examples encoded during the load */
    const cJSON *shop;   /* the shop variables, NULL none */
} loader;

static int fail(loader *L, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(loader *L, int code, const char *fmt, ...) {
    if (L->err) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        csbot__error_set(L->err, code, L->path.s[0] ? L->path.s : "$", "%s", msg);
        size_t off = csbot__json_locate(L->json, L->len, L->path.s);
        csbot__error_locate(L->err, L->json, L->len, off);
    }
    return code;
}

static void warn(loader *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void warn(loader *L, const char *fmt, ...) {
    if (!L->kb->warn)
        return;
    csbot_error w = CSBOT_ERROR_INIT;
    csbot__copy_out(w.source, sizeof w.source, L->kb->source,
                    strlen(L->kb->source));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.message, sizeof w.message, fmt, ap);
    va_end(ap);
    csbot__copy_out(w.json_path, sizeof w.json_path, L->path.s, L->path.len);
    csbot__error_locate(&w, L->json, L->len,
                        csbot__json_locate(L->json, L->len, L->path.s));
    w.code = CSBOT_OK;
    L->kb->warn(&w, L->kb->warn_ud);
}

static int check_nul_escapes(loader *L) {
    int rc = CSBOT_OK;
    if (csbot__json_find_nul(L->json, L->len, &L->path))
        rc = fail(L, CSBOT_EUTF8, "a NUL character (\\u0000) in a string");
    csbot__jpath_pop(&L->path, 1);
    return rc;
}

/* ---- duplicate keys ---- */

/* cJSON keeps both members of {"intents": [...], "intents": [...]} and the
 * loader reads the first, so the second would be dropped without a word:
 * the keys of every object must be unique. */

static int dup_key(loader *L, const char *key) {
    size_t obj = csbot__json_locate(L->json, L->len, L->path.s);
    size_t old = csbot__jpath_push_key(&L->path, key);
    if (L->err) {
        csbot__error_set(L->err, CSBOT_ESCHEMA, L->path.s,
                         "duplicate key \"%s\"", key);
        csbot__error_locate(L->err, L->json, L->len,
                            csbot__json_nth_member(L->json, L->len, obj, key, 2));
    }
    csbot__jpath_pop(&L->path, old);
    return CSBOT_ESCHEMA;
}

/* Is the key of member c also the key of a member before it? Objects of
 * more than 32 members use a hash set (*seen, reused) instead of comparing
 * every pair. */
static int seen_before(loader *L, const cJSON *obj, const cJSON *c, size_t k,
                       size_t nmembers, csbot__dict *seen, int *rc) {
    if (nmembers <= 32) {
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return 1;
        return 0;
    }
    uint32_t first;
    uint64_t h = csbot__hash(c->string, strlen(c->string), 41);
    if (csbot__dict_get(seen, h, &first)) {
        const cJSON *d = obj->child;
        for (uint32_t i = 0; i < first; i++)
            d = d->next;
        if (strcmp(d->string, c->string) == 0)
            return 1; /* else a 64-bit hash collision: not a duplicate */
        return 0;
    }
    *rc = csbot__dict_put(L->a, seen, h, (uint32_t)k, NULL);
    return 0;
}

static int check_dup_keys(loader *L, const cJSON *v) {
    int rc = CSBOT_OK, obj = cJSON_IsObject(v);
    size_t n = 0, k = 0;
    for (const cJSON *c = v->child; c; c = c->next)
        n++;
    csbot__dict seen;
    memset(&seen, 0, sizeof seen);
    if (obj && n > 32)
        rc = csbot__dict_init(L->a, &seen, n);
    for (const cJSON *c = v->child; c && !rc; c = c->next, k++) {
        if (obj && seen_before(L, v, c, k, n, &seen, &rc))
            rc = dup_key(L, c->string);
        if (!rc && c->child) {
            size_t old = obj ? csbot__jpath_push_key(&L->path, c->string)
                             : csbot__jpath_push_idx(&L->path, k);
            rc = check_dup_keys(L, c);
            csbot__jpath_pop(&L->path, old);
        }
    }
    csbot__dict_free(L->a, &seen);
    return rc;
}

/* ---- typed getters ---- */

static int check_keys(loader *L, const cJSON *obj, const char *const *allowed) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *k = allowed; *k; k++)
            if (strcmp(*k, it->string) == 0)
                ok = 1;
        if (!ok) {
            size_t old = csbot__jpath_push_key(&L->path, it->string);
            int rc = fail(L, CSBOT_ESCHEMA, "unknown key \"%s\"", it->string);
            csbot__jpath_pop(&L->path, old);
            return rc;
        }
    }
    return CSBOT_OK;
}

static const cJSON *member(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int want(loader *L, const cJSON *v, int (*is)(const cJSON *),
                const char *what) {
    if (!is(v))
        return fail(L, CSBOT_ESCHEMA, "expected %s", what);
    return CSBOT_OK;
}

static int is_obj(const cJSON *v) { return cJSON_IsObject(v); }
static int is_arr(const cJSON *v) { return cJSON_IsArray(v); }
static int is_str(const cJSON *v) { return cJSON_IsString(v) && v->valuestring; }
static int is_num(const cJSON *v) { return cJSON_IsNumber(v); }
static int is_bool(const cJSON *v) { return cJSON_IsBool(v); }

/* A string that is valid UTF-8 and not too long. */
static int str_ok(loader *L, const char *s) {
    size_t n = strlen(s), bad;
    if (csbot__utf8_check(s, n, &bad))
        return fail(L, CSBOT_EUTF8, "invalid UTF-8 at byte %zu of the string",
                    bad);
    if (n > 65536)
        return fail(L, CSBOT_ETOOBIG, "string longer than 65536 bytes");
    return CSBOT_OK;
}

static int get_number(loader *L, const cJSON *obj, const char *key, double lo,
                      double hi, double *out) {
    const cJSON *v = member(obj, key);
    if (!v)
        return CSBOT_OK;
    size_t old = csbot__jpath_push_key(&L->path, key);
    int rc = want(L, v, is_num, "a number");
    if (!rc && (!(v->valuedouble >= lo) || !(v->valuedouble <= hi)))
        rc = fail(L, CSBOT_ESCHEMA, "must be between %g and %g", lo, hi);
    if (!rc)
        *out = v->valuedouble;
    csbot__jpath_pop(&L->path, old);
    return rc;
}

static int get_bool(loader *L, const cJSON *obj, const char *key, int *out) {
    const cJSON *v = member(obj, key);
    if (!v)
        return CSBOT_OK;
    size_t old = csbot__jpath_push_key(&L->path, key);
    int rc = want(L, v, is_bool, "true or false");
    if (!rc)
        *out = cJSON_IsTrue(v);
    csbot__jpath_pop(&L->path, old);
    return rc;
}

static int get_uint(loader *L, const cJSON *obj, const char *key,
                    unsigned hi, unsigned *out) {
    double d = *out;
    int rc = get_number(L, obj, key, 0, hi, &d);
    if (!rc && d != floor(d)) {
        size_t old = csbot__jpath_push_key(&L->path, key);
        rc = fail(L, CSBOT_ESCHEMA, "must be a whole number");
        csbot__jpath_pop(&L->path, old);
    }
    if (!rc)
        *out = (unsigned)d;
    return rc;
}

/* The "zh" and/or "en" strings of object v into t (other keys are the
 * caller's to check). */
static int read_text3(loader *L, const cJSON *v, csbot__text3 *t) {
    static const char *const keys[] = {"zh", "en"};
    int rc = CSBOT_OK;
    for (int i = 0; i < 2 && !rc; i++) {
        const cJSON *s = member(v, keys[i]);
        if (!s)
            continue;
        size_t old = csbot__jpath_push_key(&L->path, keys[i]);
        rc = want(L, s, is_str, "a string");
        if (!rc)
            rc = str_ok(L, s->valuestring);
        if (!rc) {
            char **dst = &t->t[i == 0 ? CSBOT__ZHS : CSBOT__EN];
            *dst = csbot__strdup(L->a, s->valuestring);
            if (!*dst)
                rc = CSBOT_ENOMEM;
        }
        csbot__jpath_pop(&L->path, old);
    }
    if (!rc && !t->t[CSBOT__ZHS] && !t->t[CSBOT__EN])
        rc = fail(L, CSBOT_ESCHEMA, "needs \"zh\" or \"en\"");
    return rc;
}

/* {"zh": "...", "en": "..."} into a text3 (Traditional derived later). */
static int get_text3(loader *L, const cJSON *v, csbot__text3 *t) {
    static const char *const keys[] = {"zh", "en", NULL};
    int rc = want(L, v, is_obj, "an object with \"zh\" and/or \"en\" strings");
    if (!rc)
        rc = check_keys(L, v, keys);
    return rc ? rc : read_text3(L, v, t);
}

static int make_trad(loader *L, csbot__text3 *t) {
    if (t->t[CSBOT__ZHS] && !t->t[CSBOT__ZHT])
        return csbot__convert_s2t(L->a, &L->kb->conv, t->t[CSBOT__ZHS],
                                  &t->t[CSBOT__ZHT]);
    return CSBOT_OK;
}

/* ---- sections ---- */

static int load_settings(loader *L, const cJSON *v) {
    static const char *const keys[] = {
        "answer_threshold", "suggest_threshold", "ambiguity_margin",
        "pattern_confidence", "max_misses", "context_turns",
        "context_seconds", "sentiment_threshold", "handoff_threshold",
        "handoff_on_repeat", "handoff_on_request", "traditional", NULL};
    csbot__settings *s = &L->kb->set;
    int rc = want(L, v, is_obj, "an object");
    if (!rc) rc = check_keys(L, v, keys);
    if (!rc) rc = get_number(L, v, "answer_threshold", 0, 1, &s->answer);
    if (!rc) rc = get_number(L, v, "suggest_threshold", 0, 1, &s->suggest);
    if (!rc) rc = get_number(L, v, "ambiguity_margin", 0, 1, &s->margin);
    if (!rc) rc = get_number(L, v, "pattern_confidence", 0, 1, &s->pattern_conf);
    if (!rc) rc = get_number(L, v, "sentiment_threshold", 0, 2, &s->sentiment);
    if (!rc) rc = get_number(L, v, "handoff_threshold", 0, 1, &s->handoff_below);
    if (!rc) rc = get_uint(L, v, "max_misses", 100, &s->max_misses);
    if (!rc) rc = get_uint(L, v, "context_turns", 100, &s->context_turns);
    if (!rc) rc = get_uint(L, v, "context_seconds", 86400 * 7, &s->context_seconds);
    if (!rc) rc = get_bool(L, v, "handoff_on_repeat", &s->handoff_on_repeat);
    if (!rc) rc = get_bool(L, v, "handoff_on_request", &s->handoff_on_request);
    const cJSON *t = member(v, "traditional");
    if (!rc && t) {
        size_t old = csbot__jpath_push_key(&L->path, "traditional");
        rc = want(L, t, is_str, "a string");
        if (!rc && strcmp(t->valuestring, "s2t") && strcmp(t->valuestring, "s2tw") &&
            strcmp(t->valuestring, "s2twp") && strcmp(t->valuestring, "s2hk"))
            rc = fail(L, CSBOT_ESCHEMA,
                      "must be \"s2t\", \"s2tw\", \"s2twp\" or \"s2hk\"");
        if (!rc)
            snprintf(s->traditional, sizeof s->traditional, "%s", t->valuestring);
        csbot__jpath_pop(&L->path, old);
    }
    if (!rc && s->suggest > s->answer)
        rc = fail(L, CSBOT_ESCHEMA,
                  "suggest_threshold must not exceed answer_threshold");
    return rc;
}

static int check_shop(loader *L, const cJSON *v) {
    int rc = want(L, v, is_obj, "an object of strings");
    for (const cJSON *it = v ? v->child : NULL; it && !rc; it = it->next) {
        size_t old = csbot__jpath_push_key(&L->path, it->string);
        if (!is_str(it) && !is_num(it))
            rc = fail(L, CSBOT_ESCHEMA, "expected a string or a number");
        else if (is_str(it))
            rc = str_ok(L, it->valuestring);
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

/* A shop variable's value into b: a string as it is, whole numbers in full
 * (a phone number 4008201234, not 4.0082e+09), others with up to 15
 * significant digits. */
static int put_shop_value(loader *L, csbot__buf *b, const cJSON *v) {
    if (is_str(v))
        return csbot__buf_puts(L->a, b, v->valuestring);
    double d = v->valuedouble;
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        return csbot__buf_printf(L->a, b, "%.0f", d);
    return csbot__buf_printf(L->a, b, "%.15g", d);
}

/* {shop.key} or {shop.key|default}: the value, else the default, else an
 * error. (The key is cut at 127 bytes.) */
static int fill_shop(loader *L, const cJSON *shop, const csbot__tmpl_tok *t,
                     const char *k, size_t klen, csbot__buf *b) {
    char key[128];
    size_t kl = CSBOT_MIN(klen, sizeof key - 1);
    memcpy(key, k, kl);
    key[kl] = '\0';
    const cJSON *v = shop ? member(shop, key) : NULL;
    if (v && (is_str(v) || is_num(v)))
        return put_shop_value(L, b, v);
    if (t->def)
        return csbot__buf_append(L->a, b, t->def, t->dlen);
    return fail(L, CSBOT_ESCHEMA, "unknown shop variable \"%s\"", key);
}

/* {slot} or {slot|default}, kept for reply time: the slot must exist, and
 * becomes one the intent uses. */
static int check_slot(loader *L, const csbot__tmpl_tok *t, csbot__intent *it,
                      csbot__buf *b) {
    int si = csbot__slot_find(L->kb, t->name, t->nlen);
    if (si < 0)
        return fail(L, CSBOT_ESCHEMA, "unknown slot \"%.*s\" in template",
                    (int)t->nlen, t->name);
    int have = 0;
    for (size_t k = 0; it && k < it->nslots; k++)
        have |= it->slots[k] == (uint32_t)si;
    if (it && !have) {
        void *pp = it->slots;
        size_t cap = it->nslots;
        int rc = csbot__grow(L->a, &pp, &cap, it->nslots + 1, sizeof(uint32_t));
        it->slots = pp;
        if (rc)
            return rc;
        it->slots[it->nslots++] = (uint32_t)si;
    }
    return csbot__buf_append(L->a, b, t->s, t->len);
}

/* Fill {shop.key} and {shop.key|default} in a template (read by
 * template.c, as render.c reads it at reply time); check that the other
 * placeholders name a known slot or profile.*, and keep them as written. */
static int fill_template(loader *L, const cJSON *shop, const char *in,
                         char **out, csbot__intent *it) {
    csbot__buf b = {0};
    int rc = CSBOT_OK;
    const char *p = in, *key;
    size_t klen;
    csbot__tmpl_tok t;
    while (!rc && csbot__tmpl_next(&p, &t)) {
        if (t.kind == CSBOT__TMPL_TEXT)
            rc = csbot__buf_append(L->a, &b, t.s, t.len);
        else if (t.kind == CSBOT__TMPL_UNCLOSED)
            rc = fail(L, CSBOT_ESCHEMA, "unclosed '{' in template");
        else if (csbot__tmpl_scoped(&t, "shop.", &key, &klen))
            rc = fill_shop(L, shop, &t, key, klen, &b);
        else if (csbot__tmpl_scoped(&t, "profile.", &key, &klen))
            rc = csbot__buf_append(L->a, &b, t.s, t.len);
        else
            rc = check_slot(L, &t, it, &b);
    }
    if (!rc && !b.data)
        rc = csbot__buf_puts(L->a, &b, "");
    if (rc) {
        csbot__buf_free(L->a, &b);
        return rc;
    }
    *out = b.data;
    return CSBOT_OK;
}

static int fill_text3(loader *L, const cJSON *shop, csbot__text3 *t,
                      csbot__intent *it) {
    int rc = CSBOT_OK;
    for (int i = 0; i < CSBOT__NLANG && !rc; i++) {
        if (!t->t[i])
            continue;
        size_t old = csbot__jpath_push_key(&L->path, i == CSBOT__EN ? "en" : "zh");
        char *n = NULL;
        rc = fill_template(L, shop, t->t[i], &n, it);
        csbot__jpath_pop(&L->path, old);
        if (!rc) {
            csbot__free(L->a, t->t[i]);
            t->t[i] = n;
        }
    }
    if (!rc)
        rc = make_trad(L, t);
    return rc;
}

static int load_messages(loader *L, const cJSON *v, const cJSON *shop) {
    const char *const *keys = csbot__msg_names;
    int rc = want(L, v, is_obj, "an object");
    if (!rc)
        rc = check_keys(L, v, keys);
    for (int i = 0; keys[i] && !rc; i++) {
        const cJSON *m = member(v, keys[i]);
        if (!m)
            continue;
        size_t old = csbot__jpath_push_key(&L->path, keys[i]);
        csbot__text3_free(L->a, &L->kb->msg[i]);
        rc = get_text3(L, m, &L->kb->msg[i]);
        if (!rc)
            rc = fill_text3(L, shop, &L->kb->msg[i], NULL);
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

static const struct {
    const char *zh, *en;
} default_msgs[CSBOT__MSG_COUNT] = {
    {"抱歉，我没有理解您的问题，可以换个说法吗？",
     "Sorry, I didn't understand that. Could you say it another way?"},
    {"您是想问：", "Did you mean:"},
    {"正在为您转接人工客服，请稍候。",
     "I'm connecting you to a human agent. One moment, please."},
    {"", ""},
    {"您好，我是智能客服，有什么可以帮您？",
     "Hello! I'm the shop's assistant. How can I help?"},
    {"暂时只能看懂文字消息，请用文字描述您的问题。",
     "I can only read text for now; please type your question."},
};

static int default_messages(loader *L) {
    for (int i = 0; i < CSBOT__MSG_COUNT; i++) {
        csbot__text3 *t = &L->kb->msg[i];
        if (t->t[CSBOT__ZHS] || t->t[CSBOT__EN])
            continue;
        t->t[CSBOT__ZHS] = csbot__strdup(L->a, default_msgs[i].zh);
        t->t[CSBOT__EN] = csbot__strdup(L->a, default_msgs[i].en);
        if (!t->t[CSBOT__ZHS] || !t->t[CSBOT__EN])
            return CSBOT_ENOMEM;
        int rc = make_trad(L, t);
        if (rc)
            return rc;
    }
    return CSBOT_OK;
}

/* A phrase list entry: normalise `from` like a message is normalised. */
static int add_phrase(loader *L, csbot__phrases *ph, size_t *cap,
                      const char *from, const char *to, float weight) {
    csbot__buf nf = {0}, nt = {0};
    int rc = csbot__match_normalize(L->kb, &L->scr, from, strlen(from), &nf, 0);
    if (!rc)
        rc = csbot__match_normalize(L->kb, &L->scr, to, strlen(to), &nt, 0);
    if (!rc && nf.len == 0)
        rc = fail(L, CSBOT_ESCHEMA, "empty phrase");
    if (!rc) {
        void *p = ph->p;
        rc = csbot__grow(L->a, &p, cap, ph->n + 1, sizeof(csbot__phrase));
        ph->p = p;
    }
    if (rc) {
        csbot__buf_free(L->a, &nf);
        csbot__buf_free(L->a, &nt);
        return rc;
    }
    csbot__phrase *e = &ph->p[ph->n++];
    e->from = nf.data;
    e->fromlen = nf.len;
    e->to = nt.data ? nt.data : csbot__strdup(L->a, "");
    e->tolen = nt.len;
    e->weight = weight;
    e->latin = !((unsigned char)nf.data[0] >= 0x80);
    return e->to ? CSBOT_OK : CSBOT_ENOMEM;
}

static int load_synonyms(loader *L, const cJSON *v) {
    size_t cap = 0;
    int rc = want(L, v, is_arr, "an array of arrays of strings");
    size_t gi = 0;
    for (const cJSON *g = v ? v->child : NULL; g && !rc; g = g->next, gi++) {
        size_t old = csbot__jpath_push_idx(&L->path, gi);
        rc = want(L, g, is_arr, "an array of strings");
        if (!rc && cJSON_GetArraySize(g) < 2)
            rc = fail(L, CSBOT_ESCHEMA, "a synonym group needs two or more");
        const cJSON *head = g ? g->child : NULL;
        size_t k = 0;
        for (const cJSON *s = head; s && !rc; s = s->next, k++) {
            size_t o2 = csbot__jpath_push_idx(&L->path, k);
            rc = want(L, s, is_str, "a string");
            if (!rc)
                rc = str_ok(L, s->valuestring);
            if (!rc && k > 0 && is_str(head))
                rc = add_phrase(L, &L->kb->synonyms, &cap, s->valuestring,
                                head->valuestring, 0);
            csbot__jpath_pop(&L->path, o2);
        }
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

/* {"zh": [...], "en": [...]}: call fn for each string (valid UTF-8), with
 * the JSON path pointing at it. */
typedef int (*text_fn)(loader *L, const char *text, void *ctx);

static int each_text(loader *L, const cJSON *v, text_fn fn, void *ctx) {
    static const char *const keys[] = {"zh", "en", NULL};
    int rc = want(L, v, is_obj, "an object with \"zh\" and/or \"en\" arrays");
    if (!rc)
        rc = check_keys(L, v, keys);
    for (int i = 0; keys[i] && !rc; i++) {
        const cJSON *arr = member(v, keys[i]);
        if (!arr)
            continue;
        size_t old = csbot__jpath_push_key(&L->path, keys[i]);
        L->lang = i;
        rc = want(L, arr, is_arr, "an array of strings");
        size_t k = 0;
        for (const cJSON *s = arr->child; s && !rc; s = s->next, k++) {
            size_t o2 = csbot__jpath_push_idx(&L->path, k);
            rc = want(L, s, is_str, "a string");
            if (!rc)
                rc = str_ok(L, s->valuestring);
            if (!rc)
                rc = fn(L, s->valuestring, ctx);
            csbot__jpath_pop(&L->path, o2);
        }
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

typedef struct lexicon_ctx {
    csbot__phrases *ph;
    size_t cap;
} lexicon_ctx;

static int add_lexicon_phrase(loader *L, const char *text, void *ctx) {
    lexicon_ctx *c = ctx;
    return add_phrase(L, c->ph, &c->cap, text, text, 1.0f);
}

/* "sentiment" and "handoff_phrases": extra phrases for a built-in list. */
static int load_lexicon(loader *L, const cJSON *v, csbot__phrases *ph) {
    lexicon_ctx c = {ph, ph->n};
    return each_text(L, v, add_lexicon_phrase, &c);
}

static int compile(loader *L, const char *src, csbot__re **out) {
    char msg[200];
    size_t off = 0;
    int rc = csbot__regex_compile(L->a, L->kb->rectx, src, out, &off, msg,
                                  sizeof msg);
    if (rc == CSBOT_EREGEX)
        return fail(L, rc, "%s", msg);
    return rc;
}

static int valid_name(const char *s) {
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.' || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}

/* Intent ids: labels from a shop's own data ("reverted_card_payment?",
 * "退货 退款") are welcome; only what would break line- and tab-separated
 * output is refused. (UTF-8 validity is checked with every string.)
 * `csbot import` warns by the same rule (cli/import.c, which sees only the
 * public API): change both together. */
static int valid_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int load_slots(loader *L, const cJSON *v) {
    static const char *const keys[] = {"pattern", "prompt", NULL};
    csbot_kb *kb = L->kb;
    int rc = want(L, v, is_obj, "an object of slots");
    size_t n = 0;
    for (const cJSON *s = v ? v->child : NULL; s; s = s->next)
        n++;
    if (!rc && n) {
        kb->slots = csbot__calloc(L->a, n, sizeof *kb->slots);
        if (!kb->slots)
            return CSBOT_ENOMEM;
    }
    for (const cJSON *s = v ? v->child : NULL; s && !rc; s = s->next) {
        size_t old = csbot__jpath_push_key(&L->path, s->string);
        csbot__slot *sl = &kb->slots[kb->nslots];
        if (!valid_name(s->string))
            rc = fail(L, CSBOT_ESCHEMA, "slot names use [A-Za-z0-9_.-]");
        if (!rc)
            rc = want(L, s, is_obj, "an object with \"pattern\"");
        if (!rc)
            rc = check_keys(L, s, keys);
        if (!rc) {
            sl->name = csbot__strdup(L->a, s->string);
            kb->nslots++;
            if (!sl->name)
                rc = CSBOT_ENOMEM;
        }
        const cJSON *pat = s ? member(s, "pattern") : NULL;
        if (!rc) {
            size_t o2 = csbot__jpath_push_key(&L->path, "pattern");
            if (!pat)
                rc = fail(L, CSBOT_ESCHEMA, "missing \"pattern\"");
            else
                rc = want(L, pat, is_str, "a string");
            if (!rc)
                rc = str_ok(L, pat->valuestring);
            if (!rc) {
                sl->pattern_src = csbot__strdup(L->a, pat->valuestring);
                rc = sl->pattern_src ? compile(L, pat->valuestring, &sl->re)
                                     : CSBOT_ENOMEM;
            }
            csbot__jpath_pop(&L->path, o2);
        }
        const cJSON *pr = member(s, "prompt");
        if (!rc && pr) {
            size_t o2 = csbot__jpath_push_key(&L->path, "prompt");
            rc = get_text3(L, pr, &sl->prompt);
            if (!rc)
                rc = make_trad(L, &sl->prompt);
            csbot__jpath_pop(&L->path, o2);
        }
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

static int slot_list(loader *L, const cJSON *v, uint32_t **out, size_t *n) {
    int rc = want(L, v, is_arr, "an array of slot names");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (!rc && cnt) {
        *out = csbot__calloc(L->a, cnt, sizeof **out);
        if (!*out)
            return CSBOT_ENOMEM;
    }
    size_t k = 0;
    for (const cJSON *s = v ? v->child : NULL; s && !rc; s = s->next, k++) {
        size_t old = csbot__jpath_push_idx(&L->path, k);
        rc = want(L, s, is_str, "a slot name");
        int si = rc ? -1 : csbot__slot_find(L->kb, s->valuestring,
                                            strlen(s->valuestring));
        if (!rc && si < 0)
            rc = fail(L, CSBOT_ESCHEMA, "unknown slot \"%s\"", s->valuestring);
        if (!rc)
            (*out)[(*n)++] = (uint32_t)si;
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

static int load_responses(loader *L, const cJSON *v, const cJSON *shop,
                          csbot__intent *it) {
    static const char *const keys[] = {"zh", "en", "when", NULL};
    int rc = want(L, v, is_arr, "an array of responses");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (!rc && cnt == 0)
        rc = fail(L, CSBOT_ESCHEMA, "needs at least one response");
    if (!rc) {
        it->responses = csbot__calloc(L->a, cnt, sizeof *it->responses);
        if (!it->responses)
            return CSBOT_ENOMEM;
    }
    size_t k = 0;
    for (const cJSON *r = v ? v->child : NULL; r && !rc; r = r->next, k++) {
        size_t old = csbot__jpath_push_idx(&L->path, k);
        csbot__response *re = &it->responses[it->nresponses];
        rc = want(L, r, is_obj, "an object with \"zh\" and/or \"en\"");
        if (!rc)
            rc = check_keys(L, r, keys);
        if (!rc) {
            it->nresponses++;
            rc = read_text3(L, r, &re->text);
        }
        if (!rc)
            rc = fill_text3(L, shop, &re->text, it);
        const cJSON *w = rc ? NULL : member(r, "when");
        if (w) {
            size_t o2 = csbot__jpath_push_key(&L->path, "when");
            rc = want(L, w, is_obj, "an object of profile conditions");
            size_t nw = (size_t)cJSON_GetArraySize(w);
            if (!rc && nw) {
                re->when = csbot__calloc(L->a, nw, sizeof *re->when);
                if (!re->when)
                    rc = CSBOT_ENOMEM;
            }
            for (const cJSON *c = w->child; c && !rc; c = c->next) {
                size_t o3 = csbot__jpath_push_key(&L->path, c->string);
                rc = want(L, c, is_str, "a string");
                if (!rc) {
                    csbot__kv *kv = &re->when[re->nwhen++];
                    const char *key = c->string;
                    if (strncmp(key, "profile.", 8) == 0)
                        key += 8;
                    kv->key = csbot__strdup(L->a, key);
                    kv->val = csbot__strdup(L->a, c->valuestring);
                    if (!kv->key || !kv->val)
                        rc = CSBOT_ENOMEM;
                }
                csbot__jpath_pop(&L->path, o3);
            }
            csbot__jpath_pop(&L->path, o2);
        }
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

/* Lint: the example just learned (normalised text in L->scr). */
static int lint_example(loader *L, csbot__intent *it, uint32_t label) {
    const csbot__buf *n = &L->scr.norm;
    uint64_t h = csbot__hash(n->data ? n->data : "", n->len, 31);
    uint32_t prev;
    int rc = CSBOT_OK;
    if (!L->seen.keys && (rc = csbot__dict_init(L->a, &L->seen, 1024)))
        return rc;
    if (csbot__dict_get(&L->seen, h, &prev)) {
        if (prev != label + 1)
            warn(L, "the same (after normalisation) as an example of intent "
                    "\"%s\"", L->kb->intents[prev - 1].id);
        else
            warn(L, "duplicate example within the intent");
    } else if ((rc = csbot__dict_put(L->a, &L->seen, h, label + 1, NULL))) {
        return rc;
    }
    const csbot__buf *n0 = &L->scr.norm0;
    for (size_t p = 0; p < it->npatterns; p++) {
        size_t so, eo;
        int lim;
        int m = csbot__regex_match(it->patterns[p], L->kb->rectx, L->scr.rm,
                                   n0->data ? n0->data : "", n0->len, 0, &so,
                                   &eo, &lim);
        if (m > 0)
            L->pathits[p]++;
        if (lim)
            warn(L, "pattern %zu hits the match limit on this example "
                    "(catastrophic backtracking?)", p);
    }
    return CSBOT_OK;
}

typedef struct example_ctx {
    csbot__intent *it; /* NULL for negative examples */
    uint32_t label;
} example_ctx;

/* An English example's vector: the stored one, else encoded now. */
static int add_vector(loader *L, const char *text, uint32_t label) {
    csbot__vecs *vs = &L->kb->vecs;
    size_t len = strlen(text);
    int8_t q[CSBOT__ENC_DIM];
    uint32_t k;
    if (L->vecitem && csbot__dict_get(&L->vecdict, csbot__hash(text, len, 41),
                                      &k) &&
        strcmp(L->vecitem[k]->string, text) == 0) {
        const char *b = L->vecitem[k]->valuestring;
        (void)csbot__vec_decode(b, strlen(b), q); /* checked by load_vectors */
    } else {
        float v[CSBOT__ENC_DIM];
        int rc = csbot__encoder_run(vs->enc, L->a, &L->scr.enc, text, len, v);
        if (rc)
            return rc;
        csbot__vec_quantize(v, q);
        L->nencoded++;
    }
    return csbot__vecs_add(L->a, vs, q, label);
}

static int add_example(loader *L, const char *text, void *ctx) {
    example_ctx *c = ctx;
    int rc = csbot__match_learn(L->kb, &L->scr, text, strlen(text), c->label);
    if (rc == CSBOT_EEMPTY)
        return fail(L, CSBOT_ESCHEMA,
                    "example has no words or characters to match");
    if (!rc && L->lang == 1 && L->kb->vecs.enc)
        rc = add_vector(L, text, c->label);
    if (rc)
        return rc;
    if (!c->it) {
        L->kb->nnegatives++;
        return CSBOT_OK;
    }
    c->it->nexamples++;
    return L->kb->warn ? lint_example(L, c->it, c->label) : CSBOT_OK;
}

/* The examples of intent `it` (label its index), or, with it NULL, the
 * negative examples: what the shop does not answer, the hidden class
 * nintents. */
static int load_examples(loader *L, const cJSON *v, uint32_t label,
                         csbot__intent *it) {
    example_ctx c = {it, label};
    return each_text(L, v, add_example, &c);
}

/* "vectors": {"encoder": NAME, "examples": {TEXT: VECTOR, ...}}, the
 * English examples' vectors (intents/SCHEMA.md). Checked whether or not an
 * encoder is attached; kept (as an index on the JSON) only when one is. */
static int load_vectors(loader *L, const cJSON *v) {
    static const char *const keys[] = {"encoder", "examples", NULL};
    const csbot_encoder *enc = L->kb->vecs.enc;
    int rc = want(L, v, is_obj, "an object with \"encoder\" and \"examples\"");
    if (!rc)
        rc = check_keys(L, v, keys);
    const cJSON *name = rc ? NULL : member(v, "encoder");
    const cJSON *ex = rc ? NULL : member(v, "examples");
    if (!rc && (!name || !ex))
        rc = fail(L, CSBOT_ESCHEMA, "missing \"%s\"",
                  name ? "examples" : "encoder");
    if (!rc) {
        size_t old = csbot__jpath_push_key(&L->path, "encoder");
        rc = want(L, name, is_str, "a string");
        if (!rc && enc && strcmp(name->valuestring, csbot_encoder_name(enc)))
            rc = fail(L, CSBOT_ESCHEMA,
                      "vectors of encoder \"%.64s\", but the attached "
                      "encoder is \"%s\"",
                      name->valuestring, csbot_encoder_name(enc));
        csbot__jpath_pop(&L->path, old);
    }
    if (rc)
        return rc;
    size_t old = csbot__jpath_push_key(&L->path, "examples");
    rc = want(L, ex, is_obj, "an object of example text -> vector");
    size_t n = 0;
    for (const cJSON *c = rc ? NULL : ex->child; c; c = c->next)
        n++;
    if (!rc && enc && n) {
        L->vecitem = csbot__malloc(L->a, n * sizeof *L->vecitem);
        if (!L->vecitem || csbot__dict_init(L->a, &L->vecdict, n))
            rc = CSBOT_ENOMEM;
    }
    for (const cJSON *c = rc ? NULL : ex->child; c && !rc; c = c->next) {
        size_t o2 = csbot__jpath_push_key(&L->path, c->string);
        int8_t q[CSBOT__ENC_DIM];
        rc = want(L, c, is_str, "a string");
        if (!rc && csbot__vec_decode(c->valuestring, strlen(c->valuestring), q))
            rc = fail(L, CSBOT_ESCHEMA,
                      "not a stored vector (%d characters of base64)",
                      (int)CSBOT__VEC_B64);
        if (!rc && L->vecitem) {
            uint64_t h = csbot__hash(c->string, strlen(c->string), 41);
            rc = csbot__dict_put(L->a, &L->vecdict, h, (uint32_t)L->nvecitem,
                                 NULL);
            L->vecitem[L->nvecitem++] = c;
        }
        csbot__jpath_pop(&L->path, o2);
    }
    csbot__jpath_pop(&L->path, old);
    return rc;
}

static int load_intents(loader *L, const cJSON *v, const cJSON *shop) {
    static const char *const keys[] = {"id", "title", "examples", "patterns",
                                       "responses", "slots", "require",
                                       "handoff", NULL};
    csbot_kb *kb = L->kb;
    int rc = want(L, v, is_arr, "an array of intents");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (!rc && cnt == 0)
        rc = fail(L, CSBOT_ESCHEMA, "needs at least one intent");
    if (!rc && cnt > 1000000)
        rc = fail(L, CSBOT_ETOOBIG, "too many intents");
    if (!rc) {
        kb->intents = csbot__calloc(L->a, cnt, sizeof *kb->intents);
        if (!kb->intents)
            return CSBOT_ENOMEM;
    }
    size_t k = 0;
    for (const cJSON *o = v ? v->child : NULL; o && !rc; o = o->next, k++) {
        size_t old = csbot__jpath_push_idx(&L->path, k);
        csbot__intent *it = &kb->intents[kb->nintents++];
        rc = want(L, o, is_obj, "an intent object");
        if (!rc)
            rc = check_keys(L, o, keys);
        const cJSON *id = rc ? NULL : member(o, "id");
        if (!rc) {
            size_t o2 = csbot__jpath_push_key(&L->path, "id");
            if (!id)
                rc = fail(L, CSBOT_ESCHEMA, "missing \"id\"");
            else
                rc = want(L, id, is_str, "a string");
            if (!rc && !valid_id(id->valuestring))
                rc = fail(L, CSBOT_ESCHEMA,
                          "ids are 1-128 bytes of printable text (no control "
                          "characters, tabs or line breaks, no space at "
                          "either end)");
            if (!rc && csbot__intent_find(kb, id->valuestring,
                                          strlen(id->valuestring)) >= 0)
                rc = fail(L, CSBOT_ESCHEMA, "duplicate intent id \"%s\"",
                          id->valuestring);
            if (!rc) {
                it->id = csbot__strdup(L->a, id->valuestring);
                if (!it->id)
                    rc = CSBOT_ENOMEM;
            }
            if (!rc && !kb->idmap.keys)
                rc = csbot__dict_init(L->a, &kb->idmap, cnt);
            if (!rc)
                rc = csbot__dict_put(L->a, &kb->idmap,
                                     csbot__hash(it->id, strlen(it->id), 17),
                                     (uint32_t)(kb->nintents - 1), NULL);
            csbot__jpath_pop(&L->path, o2);
        }
        const cJSON *x;
        if (!rc && (x = member(o, "title"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "title");
            rc = get_text3(L, x, &it->title);
            if (!rc)
                rc = make_trad(L, &it->title);
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc && (x = member(o, "slots"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "slots");
            rc = slot_list(L, x, &it->slots, &it->nslots);
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc && (x = member(o, "require"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "require");
            rc = slot_list(L, x, &it->require, &it->nrequire);
            csbot__jpath_pop(&L->path, o2);
            /* a required slot is also one the intent uses */
            for (size_t r = 0; r < it->nrequire && !rc; r++) {
                int have = 0;
                for (size_t s = 0; s < it->nslots; s++)
                    have |= it->slots[s] == it->require[r];
                if (!have) {
                    void *pp = it->slots;
                    size_t cap = it->nslots;
                    rc = csbot__grow(L->a, &pp, &cap, it->nslots + 1,
                                     sizeof(uint32_t));
                    it->slots = pp;
                    if (!rc)
                        it->slots[it->nslots++] = it->require[r];
                }
            }
        }
        if (!rc && (x = member(o, "handoff"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "handoff");
            if (is_str(x) && strcmp(x->valuestring, "request") == 0)
                it->handoff = 2;
            else
                rc = want(L, x, is_bool, "true, false or \"request\"");
            if (!rc && is_bool(x))
                it->handoff = cJSON_IsTrue(x);
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc && (x = member(o, "patterns"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "patterns");
            rc = want(L, x, is_arr, "an array of strings");
            size_t np = rc ? 0 : (size_t)cJSON_GetArraySize(x);
            if (np) {
                it->patterns = csbot__calloc(L->a, np, sizeof *it->patterns);
                it->pattern_src = csbot__calloc(L->a, np, sizeof(char *));
                if (!it->patterns || !it->pattern_src)
                    rc = CSBOT_ENOMEM;
            }
            size_t pi = 0;
            for (const cJSON *p = x->child; p && !rc; p = p->next, pi++) {
                size_t o3 = csbot__jpath_push_idx(&L->path, pi);
                rc = want(L, p, is_str, "a string");
                if (!rc)
                    rc = str_ok(L, p->valuestring);
                if (!rc) {
                    it->pattern_src[it->npatterns] =
                        csbot__strdup(L->a, p->valuestring);
                    if (!it->pattern_src[it->npatterns])
                        rc = CSBOT_ENOMEM;
                }
                if (!rc)
                    rc = compile(L, p->valuestring, &it->patterns[it->npatterns]);
                if (!rc)
                    it->npatterns++;
                else if (it->pattern_src && it->pattern_src[it->npatterns]) {
                    csbot__free(L->a, it->pattern_src[it->npatterns]);
                    it->pattern_src[it->npatterns] = NULL;
                }
                csbot__jpath_pop(&L->path, o3);
            }
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc) {
            size_t o2 = csbot__jpath_push_key(&L->path, "responses");
            x = member(o, "responses");
            if (!x)
                rc = fail(L, CSBOT_ESCHEMA, "missing \"responses\"");
            else
                rc = load_responses(L, x, shop, it);
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc && L->kb->warn && it->npatterns) {
            void *pp = L->pathits;
            rc = csbot__grow(L->a, &pp, &L->pathitcap, it->npatterns,
                             sizeof(unsigned));
            L->pathits = pp;
            if (!rc)
                memset(L->pathits, 0, it->npatterns * sizeof(unsigned));
        }
        if (!rc && (x = member(o, "examples"))) {
            size_t o2 = csbot__jpath_push_key(&L->path, "examples");
            rc = load_examples(L, x, (uint32_t)(kb->nintents - 1), it);
            csbot__jpath_pop(&L->path, o2);
        }
        if (!rc && L->kb->warn) {
            if (it->nexamples && it->nexamples < 5) {
                size_t o2 = csbot__jpath_push_key(&L->path, "examples");
                warn(L, "only %zu example%s: write at least 5 varied ways "
                        "customers ask this", it->nexamples,
                     it->nexamples == 1 ? "" : "s");
                csbot__jpath_pop(&L->path, o2);
            }
            for (size_t p = 0; it->nexamples && p < it->npatterns; p++)
                if (L->pathits[p] == 0) {
                    size_t o2 = csbot__jpath_push_key(&L->path, "patterns");
                    size_t o3 = csbot__jpath_push_idx(&L->path, p);
                    warn(L, "pattern matches none of the intent's examples");
                    csbot__jpath_pop(&L->path, o3);
                    csbot__jpath_pop(&L->path, o2);
                }
        }
        if (!rc && it->nexamples == 0 && it->npatterns == 0)
            rc = fail(L, CSBOT_ESCHEMA,
                      "an intent needs at least one example or pattern");
        csbot__jpath_pop(&L->path, old);
    }
    return rc;
}

/* ---- the top level ---- */

static int read_version(loader *L, const cJSON *v) {
    if (!is_num(v) || v->valuedouble != 1)
        return fail(L, CSBOT_ESCHEMA, "unsupported format version (want 1)");
    return CSBOT_OK;
}

static int read_name(loader *L, const cJSON *v) {
    int rc = want(L, v, is_str, "a string");
    if (!rc)
        rc = str_ok(L, v->valuestring);
    if (!rc) {
        csbot__free(L->a, L->kb->name);
        L->kb->name = csbot__strdup(L->a, v->valuestring);
        if (!L->kb->name)
            rc = CSBOT_ENOMEM;
    }
    return rc;
}

/* The OpenCC maps that settings.traditional chose (no key of its own). */
static int open_convert(loader *L, const cJSON *v) {
    CSBOT_UNUSED(v);
    char cmsg[256] = "";
    int rc = csbot__convert_open(L->a, &L->kb->conv, L->kb->set.traditional,
                                 cmsg, sizeof cmsg);
    if (rc == CSBOT_ECONVERT)
        csbot__error_set(L->err, rc, "", "%s", cmsg);
    return rc;
}

static int read_messages(loader *L, const cJSON *v) {
    return load_messages(L, v, L->shop);
}

static int read_default_messages(loader *L, const cJSON *v) {
    CSBOT_UNUSED(v);
    return default_messages(L);
}

/* The built-in lexicon, then the file's own phrases, indexed. */
static int read_sentiment(loader *L, const cJSON *v) {
    int rc = csbot__sentiment_defaults(L->kb, &L->scr);
    if (!rc && v)
        rc = load_lexicon(L, v, &L->kb->sentiment);
    return rc ? rc : csbot__phrases_index(L->a, &L->kb->sentiment);
}

static int read_handoff_phrases(loader *L, const cJSON *v) {
    int rc = v ? load_lexicon(L, v, &L->kb->request) : CSBOT_OK;
    return rc ? rc : csbot__phrases_index(L->a, &L->kb->request);
}

static int read_synonyms(loader *L, const cJSON *v) {
    int rc = v ? load_synonyms(L, v) : CSBOT_OK;
    return rc ? rc : csbot__phrases_index(L->a, &L->kb->synonyms);
}

static int read_intents(loader *L, const cJSON *v) {
    return load_intents(L, v, L->shop);
}

/* examples of a hidden out-of-scope class, numbered after the intents */
static int read_negatives(loader *L, const cJSON *v) {
    return load_examples(L, v, (uint32_t)L->kb->nintents, NULL);
}

/* The top-level keys (any other is refused) ... */
static const char *const top_keys[] = {"csbot", "name", "settings", "shop",
                                       "messages", "synonyms", "sentiment",
                                       "slots", "intents", "negatives",
                                       "handoff_phrases", "vectors", NULL};

/* ... and the order they are read in, as intents/SCHEMA.md describes them.
 * A reader runs with its key's value pushed on the JSON path; a key that
 * is absent is an error with the message `missing`, or skipped, or, for
 * the readers marked `always` and for the steps without a key, the reader
 * runs with NULL. Sections read after settings see the settings; messages
 * and intents see the shop variables (L->shop). */
typedef struct section {
    const char *key;
    int (*read)(loader *L, const cJSON *v);
    const char *missing; /* required: the error when absent */
    int always;          /* run even when absent (with NULL) */
} section;

static const section sections[] = {
    {"csbot", read_version, "missing \"csbot\": 1 (format version)", 0},
    {"name", read_name, NULL, 0},
    {"settings", load_settings, NULL, 0},
    {NULL, open_convert, NULL, 1},
    {"shop", check_shop, NULL, 0},
    {"slots", load_slots, NULL, 0},
    {"messages", read_messages, NULL, 0},
    {NULL, read_default_messages, NULL, 1},
    {"sentiment", read_sentiment, NULL, 1},
    {"handoff_phrases", read_handoff_phrases, NULL, 1},
    {"synonyms", read_synonyms, NULL, 1},
    {"vectors", load_vectors, NULL, 0},
    {"intents", read_intents, "missing \"intents\"", 0},
    {"negatives", read_negatives, NULL, 0},
};

static int read_section(loader *L, const cJSON *root, const section *sec) {
    if (!sec->key)
        return sec->read(L, NULL);
    const cJSON *v = member(root, sec->key);
    if (!v && !sec->missing && !sec->always)
        return CSBOT_OK;
    if (!v && sec->always)
        return sec->read(L, NULL);
    size_t old = csbot__jpath_push_key(&L->path, sec->key);
    int rc = v ? sec->read(L, v) : fail(L, CSBOT_ESCHEMA, "%s", sec->missing);
    csbot__jpath_pop(&L->path, old);
    return rc;
}

int csbot__kb_parse(csbot_kb *kb, const char *json, size_t len,
                    csbot_error *err) {
    loader L;
    memset(&L, 0, sizeof L);
    L.kb = kb;
    L.a = &kb->alloc;
    L.json = json;
    L.len = len;
    L.err = err;
    memcpy(L.path.s, "$", 2);
    L.path.len = 1;

    size_t bad;
    if (csbot__utf8_check(json, len, &bad)) {
        if (err) {
            csbot__error_set(err, CSBOT_EUTF8, "", "invalid UTF-8 or NUL byte");
            csbot__error_locate(err, json, len, bad);
        }
        return CSBOT_EUTF8;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        if (err) {
            size_t off = end ? (size_t)(end - json) : 0;
            csbot__error_set(err, CSBOT_EJSON, "", "JSON syntax error");
            off = csbot__json_syntax_offset(json, len, off);
            csbot__error_locate(err, json, len, off);
        }
        return CSBOT_EJSON;
    }
    /* cJSON stops after the first value: anything but white space after it
     * (a second object, a stray brace) is an error, not silently dropped */
    size_t tail = csbot__json_skip_ws(json, len, end ? (size_t)(end - json) : len);
    if (tail < len) {
        cJSON_Delete(root);
        if (err) {
            csbot__error_set(err, CSBOT_EJSON, "",
                             "JSON syntax error: text after the end of the "
                             "document");
            csbot__error_locate(err, json, len, tail);
        }
        return CSBOT_EJSON;
    }
    int rc = check_nul_escapes(&L);
    if (!rc)
        rc = csbot__scratch_init(kb, &L.scr);
    if (!rc) {
        rc = want(&L, root, is_obj, "an object at the top level");
    }
    if (!rc)
        rc = check_dup_keys(&L, root);
    if (!rc)
        rc = check_keys(&L, root, top_keys);
    L.shop = rc ? NULL : member(root, "shop");
    for (size_t i = 0; i < sizeof sections / sizeof sections[0] && !rc; i++)
        rc = read_section(&L, root, &sections[i]);
    if (!rc && L.nencoded) {
        size_t old = csbot__jpath_push_key(&L.path, "vectors");
        warn(&L, "%zu English example%s no stored vector and %s encoded "
                 "during the load (`csbot vectors` stores them)",
             L.nencoded, L.nencoded == 1 ? " has" : "s have",
             L.nencoded == 1 ? "was" : "were");
        csbot__jpath_pop(&L.path, old);
    }
    if (!rc) {
        rc = csbot__match_build(kb, &L.scr);
        if (rc && err)
            csbot__error_set(err, rc, "", "cannot build the matcher: %s",
                             csbot_strerror(rc));
    }
    if (rc && err && err->code == CSBOT_OK)
        csbot__error_set(err, rc, "", "%s", csbot_strerror(rc));
    csbot__scratch_free(kb, &L.scr);
    csbot__dict_free(L.a, &L.seen);
    csbot__dict_free(L.a, &L.vecdict);
    csbot__free(L.a, L.vecitem);
    csbot__free(L.a, L.pathits);
    cJSON_Delete(root);
    if (!rc)
        csbot__convert_close_opencc(&kb->conv);
    return rc;
}
