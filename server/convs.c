/*
 * convs.c - live conversations and the operations on them (see convs.h).
 *
 * Every operation follows the same steps: lock the conversation, let the
 * library act on the session, save the session's state, store the messages
 * and the state in one transaction, and only then keep the new state in
 * memory and wake the long polls of the conversation. If the store fails,
 * the session is restored from the last stored state, so memory and disk
 * never disagree and the client gets an error for a turn that is not kept.
 *
 * On a shared store (Redis, several processes) the conversation in memory
 * is a cache: it carries the version it was loaded or last written at. A
 * write computed from the session names that version; when another process
 * has written meanwhile the store refuses it (STORE_STALE), and the
 * operation loads the conversation again and starts over. The store's
 * events (another process wrote) mark a cached conversation stale ahead of
 * time and wake its long polls.
 */
#include "convs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "wait.h"

enum { NBUCKETS = 4096 };

struct conv {
    char id[33];
    pthread_mutex_t mu;
    csbot_session *s;
    unsigned char *state; /* as last stored */
    size_t state_len;
    long seq;
    conv_status status;
    long ticket;
    char agent[64];
    char lang[8];
    long v;    /* the store's version of what is in memory (shared stores) */
    int stale; /* the store has a newer version: load it before acting */
    /* the handoff packet the library gave during the current operation */
    char *packet;
    const char *reason;
    /* under the table's lock */
    unsigned refs;
    int64_t last_used;
    conv *next;
};

struct convs {
    app *a;
    pthread_mutex_t mu;
    conv *tab[NBUCKETS];
    size_t n;
};

/* --- the table ------------------------------------------------------------ */

static size_t bucket(const char *id) {
    size_t h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % NBUCKETS;
}

int convs_new(convs **out, app *a) {
    convs *cv = calloc(1, sizeof *cv);
    if (!cv)
        return -1;
    cv->a = a;
    pthread_mutex_init(&cv->mu, NULL);
    *out = cv;
    return 0;
}

static void conv_free(conv *c) {
    if (!c)
        return;
    csbot_session_free(c->s);
    free(c->state);
    free(c->packet);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void convs_free(convs *cv) {
    if (!cv)
        return;
    for (size_t b = 0; b < NBUCKETS; b++)
        for (conv *c = cv->tab[b], *next; c; c = next) {
            next = c->next;
            conv_free(c);
        }
    pthread_mutex_destroy(&cv->mu);
    free(cv);
}

size_t convs_count(convs *cv) {
    pthread_mutex_lock(&cv->mu);
    size_t n = cv->n;
    pthread_mutex_unlock(&cv->mu);
    return n;
}

/* The library's handoff callback: keep the packet for the store. */
static int on_handoff(const csbot_handoff *h, void *ud) {
    conv *c = ud;
    size_t n = csbot_handoff_json(h, NULL, 0);
    char *p = malloc(n + 1);
    if (!p)
        return 1; /* the turn fails with CSBOT_ECALLBACK, nothing changes */
    csbot_handoff_json(h, p, n + 1);
    free(c->packet);
    c->packet = p;
    c->reason = csbot_handoff_reason_name(csbot_handoff_reason_of(h));
    return 0;
}

static conv *conv_alloc(convs *cv, const char *id) {
    conv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->id, sizeof c->id, "%s", id);
    pthread_mutex_init(&c->mu, NULL);
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.handoff = on_handoff;
    o.handoff_ud = c;
    /* the store keeps the whole transcript; the session's copy is for the
     * handoff packet and is saved on every turn, so keep it short */
    o.transcript_turns = SRV_TRANSCRIPT_TURNS;
    if (csbot_session_new_hub(&c->s, cv->a->hub, &o)) {
        conv_free(c);
        return NULL;
    }
    csbot_session_set_data(c->s, c);
    return c;
}

/* The session's state as a malloc'd buffer. */
static int save_state(const conv *c, unsigned char **buf, size_t *len) {
    size_t need = 0;
    csbot_session_save(c->s, NULL, 0, &need);
    unsigned char *p = malloc(need ? need : 1);
    if (!p || csbot_session_save(c->s, p, need, &need)) {
        free(p);
        return -1;
    }
    *buf = p;
    *len = need;
    return 0;
}

/* A conversation in the table, with a reference (NULL when not there). */
static conv *lookup(convs *cv, const char *id) {
    size_t b = bucket(id);
    pthread_mutex_lock(&cv->mu);
    conv *c = cv->tab[b];
    while (c && strcmp(c->id, id) != 0)
        c = c->next;
    if (c)
        c->refs++;
    pthread_mutex_unlock(&cv->mu);
    return c;
}

/* Insert c (refs 1) unless id is there already; returns the one in use. */
static conv *insert(convs *cv, conv *c) {
    size_t b = bucket(c->id);
    pthread_mutex_lock(&cv->mu);
    for (conv *o = cv->tab[b]; o; o = o->next)
        if (strcmp(o->id, c->id) == 0) {
            o->refs++;
            o->last_used = srv_now_ms();
            pthread_mutex_unlock(&cv->mu);
            conv_free(c);
            return o;
        }
    c->refs = 1;
    c->last_used = srv_now_ms();
    c->next = cv->tab[b];
    cv->tab[b] = c;
    cv->n++;
    pthread_mutex_unlock(&cv->mu);
    return c;
}

int convs_create(convs *cv, const cJSON *profile, char id[33], char *err,
                 size_t errlen) {
    char hex[33];
    if (srv_random_hex(hex, 16)) {
        snprintf(err, errlen, "no random bytes");
        return CV_ESTORE;
    }
    conv *c = conv_alloc(cv, hex);
    if (!c)
        return CV_ENOMEM;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, profile) {
        int rc = csbot_session_set_profile(c->s, kv->string, kv->valuestring);
        if (rc) {
            snprintf(err, errlen, "profile.%s: %s", kv->string,
                     *csbot_session_errmsg(c->s) ? csbot_session_errmsg(c->s)
                                                 : csbot_strerror(rc));
            conv_free(c);
            return CV_EINPUT;
        }
    }
    char *pj = profile ? cJSON_PrintUnformatted(profile) : NULL;
    int rc = save_state(c, &c->state, &c->state_len);
    if (!rc)
        rc = store_conv_create(cv->a->st, c->id, srv_now_ms(), pj, c->state,
                               c->state_len);
    free(pj);
    if (rc) {
        snprintf(err, errlen, "%s", store_errmsg());
        conv_free(c);
        return CV_ESTORE;
    }
    long seq;
    store_last_write(cv->a->st, &c->v, &seq);
    memcpy(id, c->id, 33);
    convs_put(cv, insert(cv, c));
    return 0;
}

/* Load the stored conversation into c (under its lock, or before anyone
 * else knows c). */
static int refresh(convs *cv, conv *c) {
    conv_row row;
    int rc = store_conv_load(cv->a->st, c->id, &row);
    if (rc)
        return rc == STORE_NOT_FOUND ? CV_ENOTFOUND : CV_ESTORE;
    if (row.state && csbot_session_restore(c->s, row.state, row.state_len)) {
        srv_log("error", "conv=%.8s msg=\"stored state does not restore: %s\"",
                c->id, csbot_session_errmsg(c->s));
        free(row.state);
        return CV_ESTORE;
    }
    free(c->state);
    c->state = row.state;
    c->state_len = row.state_len;
    c->seq = row.seq;
    c->status = row.status;
    c->ticket = row.ticket;
    c->v = row.version;
    c->stale = 0;
    snprintf(c->agent, sizeof c->agent, "%s", row.agent);
    snprintf(c->lang, sizeof c->lang, "%s", row.lang);
    return 0;
}

int convs_get(convs *cv, const char *id, conv **out) {
    *out = NULL;
    if (!srv_is_conv_id(id))
        return CV_ENOTFOUND;
    size_t b = bucket(id);
    pthread_mutex_lock(&cv->mu);
    for (conv *c = cv->tab[b]; c; c = c->next)
        if (strcmp(c->id, id) == 0) {
            c->refs++;
            c->last_used = srv_now_ms();
            pthread_mutex_unlock(&cv->mu);
            *out = c;
            return 0;
        }
    pthread_mutex_unlock(&cv->mu);

    conv *c = conv_alloc(cv, id);
    if (!c)
        return CV_ENOMEM;
    int rc = refresh(cv, c);
    if (rc) {
        conv_free(c);
        return rc;
    }
    *out = insert(cv, c);
    return 0;
}

int conv_sync(convs *cv, conv *c) {
    return c->stale && store_shared(cv->a->st) ? refresh(cv, c) : 0;
}

/* After a successful write: the conversation's seq (local_seq is what it
 * is on SQLite) and, on a shared store, its version as the write left it.
 * bumped: whether the write moved the version on; if it moved further,
 * another process wrote meanwhile and the cache is stale. */
static void wrote(convs *cv, conv *c, long local_seq, int bumped) {
    long v, seq;
    store_last_write(cv->a->st, &v, &seq);
    if (!v) {
        c->seq = local_seq;
        return;
    }
    c->seq = seq;
    if (v == c->v + (bumped ? 1 : 0))
        c->v = v;
    else
        c->stale = 1;
}

void convs_event(convs *cv, const char *id, long version, long seq) {
    conv *c = lookup(cv, id);
    if (!c)
        return;
    conv_lock(c);
    if (version > c->v)
        c->stale = 1;
    if (seq > c->seq)
        c->seq = seq;
    conv_unlock(c);
    waiters_wake_key(cv->a->wt, c);
    convs_put(cv, c);
}

void convs_reset(convs *cv) {
    pthread_mutex_lock(&cv->mu);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (conv *c = cv->tab[b]; c; c = c->next) {
            pthread_mutex_lock(&c->mu);
            c->stale = 1;
            pthread_mutex_unlock(&c->mu);
            waiters_wake_key(cv->a->wt, c);
        }
    pthread_mutex_unlock(&cv->mu);
}

void convs_put(convs *cv, conv *c) {
    if (!c)
        return;
    pthread_mutex_lock(&cv->mu);
    if (c->refs)
        c->refs--;
    c->last_used = srv_now_ms();
    pthread_mutex_unlock(&cv->mu);
}

size_t convs_evict(convs *cv, int64_t idle_ms) {
    int64_t limit = srv_now_ms() - idle_ms;
    size_t n = 0;
    pthread_mutex_lock(&cv->mu);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (conv **pp = &cv->tab[b]; *pp;) {
            conv *c = *pp;
            if (c->refs == 0 && c->last_used <= limit) {
                *pp = c->next;
                conv_free(c);
                cv->n--;
                n++;
            } else {
                pp = &c->next;
            }
        }
    pthread_mutex_unlock(&cv->mu);
    return n;
}

void conv_lock(conv *c) { pthread_mutex_lock(&c->mu); }
void conv_unlock(conv *c) { pthread_mutex_unlock(&c->mu); }
const char *conv_id(const conv *c) { return c->id; }
long conv_seq(const conv *c) { return c->seq; }
conv_status conv_get_status(const conv *c) { return c->status; }
long conv_ticket(const conv *c) { return c->ticket; }

/* --- helpers for the operations ------------------------------------------- */

static void drop_packet(conv *c) {
    free(c->packet);
    c->packet = NULL;
    c->reason = NULL;
}

/* Keep a newly stored state. */
static void keep_state(conv *c, unsigned char *state, size_t len) {
    free(c->state);
    c->state = state;
    c->state_len = len;
}

/* Put the session back to the stored state after a failed store. */
static void roll_back(conv *c) {
    if (c->state && csbot_session_restore(c->s, c->state, c->state_len))
        srv_log("error", "conv=%.8s msg=\"cannot roll back: %s\"", c->id,
                csbot_session_errmsg(c->s));
    drop_packet(c);
}

static csbot_lang conv_lang(const conv *c) {
    if (strcmp(c->lang, "en") == 0)
        return CSBOT_LANG_EN;
    if (strcmp(c->lang, "zh-Hant") == 0)
        return CSBOT_LANG_ZH_HANT;
    if (!*c->lang) {
        const char *p = csbot_session_get_profile(c->s, "lang");
        if (p && strcmp(p, "en") == 0)
            return CSBOT_LANG_EN;
        if (p && strcmp(p, "zh-Hant") == 0)
            return CSBOT_LANG_ZH_HANT;
    }
    return CSBOT_LANG_ZH_HANS;
}

static void add_str_or_null(cJSON *o, const char *key, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* The suggestions the reply's text lists, with their titles. */
static cJSON *suggestions(const csbot_reply *r, const csbot_kb *kb,
                          csbot_lang lang) {
    cJSON *arr = cJSON_CreateArray();
    size_t n = csbot_reply_suggestion_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *id;
        size_t idx;
        if (csbot_reply_candidate(r, i, &id, NULL) || csbot_kb_intent_find(kb, id, &idx))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "intent", id);
        cJSON_AddStringToObject(o, "title", csbot_kb_intent_title(kb, idx, lang));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *reply_json(const conv *c, const csbot_reply *r, long seq,
                         long ticket) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    csbot_lang lang = csbot_reply_lang(r);
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddNumberToObject(o, "turn", csbot_reply_turn(r));
    cJSON_AddStringToObject(o, "text", csbot_reply_text(r));
    cJSON_AddStringToObject(o, "action", csbot_action_name(csbot_reply_action(r)));
    add_str_or_null(o, "intent", csbot_reply_intent(r));
    cJSON_AddNumberToObject(o, "confidence", csbot_reply_confidence(r));
    cJSON_AddStringToObject(o, "lang", csbot_lang_name(lang));
    cJSON_AddStringToObject(o, "status", conv_status_name(c->status));
    cJSON_AddItemToObject(o, "suggestions",
                          suggestions(r, csbot_session_kb(c->s), lang));
    cJSON *slots = cJSON_AddObjectToObject(o, "slots");
    for (size_t i = 0; i < csbot_reply_slot_count(r); i++) {
        const char *name, *value;
        if (!csbot_reply_slot(r, i, &name, &value))
            cJSON_AddStringToObject(slots, name, value);
    }
    if (ticket > 0 && csbot_reply_action(r) == CSBOT_ACTION_HANDOFF) {
        cJSON *h = cJSON_AddObjectToObject(o, "handoff");
        cJSON_AddStringToObject(
            h, "reason", csbot_handoff_reason_name(csbot_reply_handoff_reason(r)));
        cJSON_AddNumberToObject(h, "ticket", (double)ticket);
    } else {
        cJSON_AddNullToObject(o, "handoff");
    }
    return o;
}

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- customer turns -------------------------------------------------------- */

/* An operation found the conversation changed by another process: it has
 * been marked stale and is tried again (at most STALE_TRIES times). */
enum { CV_ESTALE = -199, STALE_TRIES = 4 };

/* The store refused a write: give the session back its stored state. */
static int store_refused(conv *c, int src) {
    if (src == STORE_STALE) {
        drop_packet(c);
        c->stale = 1; /* the next try loads what the store has */
        return CV_ESTALE;
    }
    roll_back(c);
    return CV_ESTORE;
}

/* One try of a customer turn (under the lock). */
static int turn_once(convs *cv, conv *c, const char *text, size_t len,
                     const turn_opts *o, cJSON **reply, int *code, char *err,
                     size_t errlen, csbot_action *act, const char **reason) {
    int rc = conv_sync(cv, c);
    if (rc) {
        snprintf(err, errlen, "%s", store_errmsg());
        return rc;
    }
    const csbot_reply *r;
    rc = csbot_session_reply(c->s, text, len, &r);
    if (rc) {
        *code = rc;
        snprintf(err, errlen, "%s", *csbot_session_errmsg(c->s)
                                        ? csbot_session_errmsg(c->s)
                                        : csbot_strerror(rc));
        drop_packet(c);
        return rc == CSBOT_ENOMEM || rc == CSBOT_ECALLBACK ? CV_ENOMEM : CV_EINPUT;
    }
    *act = csbot_reply_action(r);
    const char *lang = csbot_lang_name(csbot_reply_lang(r));
    unsigned turn = csbot_reply_turn(r);
    msg_rec m[2] = {
        {.seq = c->seq + 1, .role = "customer", .text = NULL, .lang = lang,
         .turn = turn},
        {.seq = c->seq + 2, .role = "bot", .text = csbot_reply_text(r),
         .action = csbot_action_name(*act), .intent = csbot_reply_intent(r),
         .confidence = csbot_reply_confidence(r), .lang = lang, .turn = turn}};
    /* the text as the store wants it: NUL-terminated */
    char *copy = malloc(len + 1);
    unsigned char *state = NULL;
    size_t state_len = 0;
    if (!copy || save_state(c, &state, &state_len)) {
        free(copy);
        roll_back(c);
        return CV_ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    m[0].text = copy;
    conv_status status = *act == CSBOT_ACTION_HANDOFF ? CONV_WAITING
                         : !csbot_session_in_human_mode(c->s) ? CONV_BOT
                                                              : c->status;
    *reason = c->packet ? c->reason : NULL;
    turn_rec t = {.conv = c->id, .now = srv_now_ms(), .msgs = m,
                  .nmsgs = *act == CSBOT_ACTION_SILENT ? 1 : 2,
                  .state = state, .state_len = state_len, .status = status,
                  .lang = lang, .handoff_reason = *reason,
                  .handoff_text = copy, .handoff_packet = c->packet,
                  .handoff_status = o ? o->handoff_status : NULL,
                  .msg_channel = o ? o->msg_channel : NULL,
                  .msg_id = o ? o->msg_id : NULL, .version = c->v};
    long ticket = 0;
    int src = store_turn(cv->a->st, &t, &ticket);
    free(copy);
    if (src) {
        free(state);
        if (src != STORE_STALE) {
            snprintf(err, errlen, "%s", store_errmsg());
            srv_log("error", "conv=%.8s msg=\"turn not stored: %s\"", c->id, err);
        }
        return store_refused(c, src);
    }
    keep_state(c, state, state_len);
    wrote(cv, c, c->seq + (long)t.nmsgs, 1);
    c->status = status;
    if (ticket > 0)
        c->ticket = ticket;
    snprintf(c->lang, sizeof c->lang, "%s", lang);
    *reply = reply_json(c, r, c->seq, ticket);
    drop_packet(c);
    return *reply ? 0 : CV_ENOMEM;
}

int conv_turn(convs *cv, conv *c, const char *text, size_t len,
              const turn_opts *o, cJSON **reply, int *code, char *err,
              size_t errlen) {
    *reply = NULL;
    *code = 0;
    double t0 = mono_seconds();
    csbot_action act = CSBOT_ACTION_SILENT;
    const char *reason = NULL;
    conv_lock(c);
    int rc = CV_ESTALE;
    for (int i = 0; i < STALE_TRIES && rc == CV_ESTALE; i++)
        rc = turn_once(cv, c, text, len, o, reply, code, err, errlen, &act, &reason);
    if (rc == CV_ESTALE) {
        snprintf(err, errlen, "the conversation kept changing; try again");
        rc = CV_ESTORE;
    }
    conv_unlock(c);
    if (rc)
        return rc;
    waiters_wake_key(cv->a->wt, c);
    metrics_reply(cv->a->m, act, mono_seconds() - t0);
    if (reason)
        metrics_handoff(cv->a->m, reason);
    return 0;
}

/* --- the "talk to a person" button ----------------------------------------- */

/* One try (under the lock). */
static int human_once(convs *cv, conv *c, cJSON **out) {
    int rc = conv_sync(cv, c);
    if (rc)
        return rc;
    if (c->status != CONV_BOT || csbot_session_in_human_mode(c->s))
        return CV_ECONFLICT;
    rc = csbot_session_handoff(c->s);
    if (rc) {
        drop_packet(c);
        return rc == CSBOT_EHUMAN ? CV_ECONFLICT : CV_ENOMEM;
    }
    /* the library calls it a host handoff; for the agent it is what it is,
     * the customer's explicit request */
    cJSON *pk = c->packet ? cJSON_Parse(c->packet) : NULL;
    if (pk) {
        cJSON_ReplaceItemInObjectCaseSensitive(pk, "reason",
                                               cJSON_CreateString("explicit_request"));
        char *p = cJSON_PrintUnformatted(pk);
        if (p) {
            free(c->packet);
            c->packet = p;
        }
        cJSON_Delete(pk);
    }
    const csbot_kb *kb = csbot_hub_acquire(cv->a->hub, NULL);
    csbot_lang lang = conv_lang(c);
    const char *text = csbot_kb_message(kb, "handoff", lang);
    char *say = strdup(text ? text : "");
    csbot_hub_release(cv->a->hub, kb);
    unsigned char *state = NULL;
    size_t state_len = 0;
    if (!say || save_state(c, &state, &state_len)) {
        free(say);
        roll_back(c);
        return CV_ENOMEM;
    }
    msg_rec m = {.seq = c->seq + 1, .role = "system", .text = say,
                 .lang = csbot_lang_name(lang)};
    turn_rec t = {.conv = c->id, .now = srv_now_ms(), .msgs = &m, .nmsgs = 1,
                  .state = state, .state_len = state_len,
                  .status = CONV_WAITING, .handoff_reason = "explicit_request",
                  .handoff_text = "", .handoff_packet = c->packet,
                  .version = c->v};
    long ticket = 0;
    int src = store_turn(cv->a->st, &t, &ticket);
    if (src) {
        free(say);
        free(state);
        return store_refused(c, src);
    }
    keep_state(c, state, state_len);
    wrote(cv, c, c->seq + 1, 1);
    c->status = CONV_WAITING;
    c->ticket = ticket;
    drop_packet(c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "waiting");
    cJSON_AddNumberToObject(o, "ticket", (double)ticket);
    cJSON_AddStringToObject(o, "text", say);
    cJSON_AddNumberToObject(o, "seq", (double)c->seq);
    free(say);
    *out = o;
    return o ? 0 : CV_ENOMEM;
}

int conv_request_human(convs *cv, conv *c, cJSON **out) {
    *out = NULL;
    conv_lock(c);
    int rc = CV_ESTALE;
    for (int i = 0; i < STALE_TRIES && rc == CV_ESTALE; i++)
        rc = human_once(cv, c, out);
    conv_unlock(c);
    if (rc)
        return rc == CV_ESTALE ? CV_ESTORE : rc;
    waiters_wake_key(cv->a->wt, c);
    metrics_handoff(cv->a->m, "explicit_request");
    return 0;
}

int conv_rate(convs *cv, conv *c, long turn, int rating, char *err,
              size_t errlen) {
    if (rating < 1 || rating > 5) {
        snprintf(err, errlen, "rating must be 1 to 5");
        return CV_EINPUT;
    }
    conv_lock(c);
    if (turn > 0) {
        int rc = csbot_session_feedback(c->s, (unsigned)turn, rating);
        if (rc) {
            snprintf(err, errlen, "turn %ld: %s", turn,
                     rc == CSBOT_ERANGE ? "no answer of the bot to rate"
                                        : csbot_strerror(rc));
            conv_unlock(c);
            return CV_EINPUT;
        }
    }
    int rc = store_rate(cv->a->st, c->id, turn, rating, srv_now_ms());
    conv_unlock(c);
    return rc ? CV_ESTORE : 0;
}

/* --- the agent side ----------------------------------------------------- */

/* "<before> agent <after>" in the customer's language. */
typedef struct sys_text {
    const char *hans[2], *hant[2], *en[2];
} sys_text;

static const sys_text JOINED = {{"客服 ", " 已接入，为您服务。"},
                                {"客服 ", " 已接入，為您服務。"},
                                {"Agent ", " has joined the chat."}};
static const sys_text LEFT = {
    {"客服 ", " 已结束本次服务，有问题可以继续问我。"},
    {"客服 ", " 已結束本次服務，有問題可以繼續問我。"},
    {"Agent ", " has left the chat; I'm here if you need anything else."}};

static const sys_text BACK = {
    {"", "人工客服会话已结束，有问题可以继续问我。"},
    {"", "人工客服會話已結束，有問題可以繼續問我。"},
    {"", "The chat with an agent has ended; I'm here if you need anything else."}};

static void system_text(char *buf, size_t size, csbot_lang lang,
                        const sys_text *t, const char *agent) {
    const char *const *p = lang == CSBOT_LANG_EN        ? t->en
                           : lang == CSBOT_LANG_ZH_HANT ? t->hant
                                                        : t->hans;
    snprintf(buf, size, "%s%s%s", p[0], agent, p[1]);
}

int conv_claim(convs *cv, conv *c, long ticket, const char *agent) {
    char text[256];
    conv_lock(c);
    int rc = conv_sync(cv, c);
    if (rc) {
        conv_unlock(c);
        return rc;
    }
    csbot_lang lang = conv_lang(c);
    system_text(text, sizeof text, lang, &JOINED, agent);
    msg_rec m = {.seq = c->seq + 1, .role = "system", .text = text,
                 .lang = csbot_lang_name(lang)};
    rc = store_claim(cv->a->st, ticket, c->id, agent, srv_now_ms(), &m);
    if (rc == 0) {
        wrote(cv, c, c->seq + 1, 1);
        c->status = CONV_AGENT;
        c->ticket = ticket;
        snprintf(c->agent, sizeof c->agent, "%s", agent);
    }
    conv_unlock(c);
    if (rc == 0)
        waiters_wake_key(cv->a->wt, c);
    return rc == 0 || rc == STORE_ALREADY ? 0
           : rc == STORE_CONFLICT         ? CV_ECONFLICT
           : rc == STORE_NOT_FOUND        ? CV_ENOTFOUND
                                          : CV_ESTORE;
}

int conv_agent_say(convs *cv, conv *c, long ticket, const char *agent,
                   const char *text, long *seq) {
    conv_lock(c);
    msg_rec m = {.seq = c->seq + 1, .role = "agent", .text = text,
                 .agent = agent, .lang = c->lang};
    int rc = store_agent_message(cv->a->st, ticket, c->id, agent, srv_now_ms(),
                                 &m);
    if (rc == 0) {
        wrote(cv, c, c->seq + 1, 0);
        *seq = c->seq;
    }
    conv_unlock(c);
    if (rc == 0)
        waiters_wake_key(cv->a->wt, c);
    return rc == 0                 ? 0
           : rc == STORE_CONFLICT  ? CV_ECONFLICT
           : rc == STORE_NOT_FOUND ? CV_ENOTFOUND
                                   : CV_ESTORE;
}

/* The bot takes the conversation back (under the lock): the session
 * resumed, its new state and the system message that says so, in the
 * customer's language. -1: out of memory (rolled back). */
static int take_back(conv *c, const sys_text *t, const char *agent, char *text,
                     size_t size, msg_rec *m, unsigned char **state, size_t *len) {
    csbot_session_resume(c->s);
    if (save_state(c, state, len)) {
        roll_back(c);
        return -1;
    }
    csbot_lang lang = conv_lang(c);
    system_text(text, size, lang, t, agent);
    *m = (msg_rec){.seq = c->seq + 1, .role = "system", .text = text,
                   .lang = csbot_lang_name(lang)};
    return 0;
}

/* One try of giving the conversation back to the bot (under the lock):
 * agent's resolve (agent set), or the end of a handoff to WeChat's
 * customer service (agent NULL). */
static int back_once(convs *cv, conv *c, long ticket, const char *agent,
                     const char *note) {
    /* on a shared store another process may have moved the conversation
     * on: what is checked here is what the store has */
    int rc = store_shared(cv->a->st) ? refresh(cv, c) : 0;
    if (rc)
        return rc;
    if (agent ? c->ticket != ticket || c->status != CONV_AGENT ||
                    strcmp(c->agent, agent) != 0
              : c->status == CONV_BOT || c->ticket <= 0 || c->agent[0])
        return CV_ECONFLICT;
    char text[256];
    unsigned char *state;
    size_t state_len;
    msg_rec m;
    if (take_back(c, agent ? &LEFT : &BACK, agent ? agent : "", text, sizeof text,
                  &m, &state, &state_len))
        return CV_ENOMEM;
    int src = agent ? store_resolve(cv->a->st, ticket, c->id, agent, srv_now_ms(),
                                    &m, state, state_len, note, c->v)
                    : store_handback(cv->a->st, c->ticket, c->id, srv_now_ms(), &m,
                                     state, state_len, c->v);
    if (src) {
        free(state);
        rc = store_refused(c, src);
        return src == STORE_CONFLICT ? CV_ECONFLICT : rc;
    }
    keep_state(c, state, state_len);
    wrote(cv, c, c->seq + 1, 1);
    c->status = CONV_BOT;
    c->ticket = 0;
    c->agent[0] = '\0';
    return 0;
}

static int give_back(convs *cv, conv *c, long ticket, const char *agent,
                     const char *note) {
    conv_lock(c);
    int rc = CV_ESTALE;
    for (int i = 0; i < STALE_TRIES && rc == CV_ESTALE; i++)
        rc = back_once(cv, c, ticket, agent, note);
    conv_unlock(c);
    if (rc)
        return rc == CV_ESTALE ? CV_ESTORE : rc;
    waiters_wake_key(cv->a->wt, c);
    return 0;
}

int conv_resolve(convs *cv, conv *c, long ticket, const char *agent,
                 const char *note) {
    return give_back(cv, c, ticket, agent, note);
}

int conv_system_say(convs *cv, conv *c, const char *text, long *seq) {
    conv_lock(c);
    msg_rec m = {.seq = c->seq + 1, .role = "system", .text = text, .lang = c->lang};
    int rc = store_system_message(cv->a->st, c->id, srv_now_ms(), &m);
    if (rc == 0) {
        wrote(cv, c, c->seq + 1, 0);
        *seq = c->seq;
    }
    conv_unlock(c);
    if (rc == 0)
        waiters_wake_key(cv->a->wt, c);
    return rc ? CV_ESTORE : 0;
}

csbot_lang conv_get_lang(const conv *c) { return conv_lang(c); }

/* --- a handoff to WeChat's customer service ends ------------------------ */

int conv_handback(convs *cv, conv *c) {
    return give_back(cv, c, 0, NULL, NULL);
}
