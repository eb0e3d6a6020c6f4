/*
 * session.c - the conversation object: creation on a knowledge base or a hub,
 * reset, profile variables, human mode, feedback, the message that
 * csbot_session_errmsg() returns (csbot__session_err, which every failing
 * session call sets), the transcript ring and the reply accessors. The
 * reply flow itself is in reply.c.
 *
 * A session allocates with the allocator of the knowledge base it was
 * created with. Its transcript is a ring of transcript_turns + 1 entries: the
 * spare entry holds the turn being built, so that a turn can be shown to the
 * handoff callback and still be dropped if the callback refuses it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "hub.h"
#include "session.h"
#include "stats.h"

void csbot__session_err(csbot_session *s, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    csbot__buf_clear(&s->err);
    /* out of memory: the message stays "", the code still tells */
    (void)csbot__buf_puts(&s->alloc, &s->err, tmp);
}

int64_t csbot__session_now(const csbot_session *s) {
    if (s->opt.clock)
        return s->opt.clock(s->opt.clock_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int csbot__pair_set(const csbot__alloc *a, csbot__pair **arr, size_t *n,
                    size_t *cap, const char *key, size_t klen,
                    const char *val, size_t vlen) {
    size_t i;
    for (i = 0; i < *n; i++)
        if ((*arr)[i].key.len == klen && memcmp((*arr)[i].key.data, key, klen) == 0)
            break;
    if (i == *n) {
        if (!val)
            return CSBOT_OK;
        if (*n == *cap) {
            void *p = *arr;
            size_t oc = *cap;
            int rc = csbot__grow(a, &p, cap, *n + 1, sizeof **arr);
            if (rc)
                return rc;
            *arr = p;
            memset(*arr + oc, 0, (*cap - oc) * sizeof **arr);
        }
        csbot__pair *e = &(*arr)[i];
        csbot__buf_clear(&e->key);
        if (csbot__buf_append(a, &e->key, key, klen))
            return CSBOT_ENOMEM;
        csbot__buf_clear(&e->val);
        if (csbot__buf_append(a, &e->val, val, vlen))
            return CSBOT_ENOMEM;
        (*n)++;
        return CSBOT_OK;
    }
    if (!val) {
        /* remove: swap with last, keep buffers */
        csbot__pair t = (*arr)[i];
        (*arr)[i] = (*arr)[*n - 1];
        (*arr)[*n - 1] = t;
        (*n)--;
        return CSBOT_OK;
    }
    /* make room first, so that on failure the old value is still there */
    csbot__buf *v = &(*arr)[i].val;
    if (vlen > v->len && csbot__buf_reserve(a, v, vlen - v->len))
        return CSBOT_ENOMEM;
    csbot__buf_clear(v);
    return csbot__buf_append(a, v, val, vlen);
}

const char *csbot__pair_get(const csbot__pair *arr, size_t n, const char *key,
                            size_t klen) {
    for (size_t i = 0; i < n; i++)
        if (arr[i].key.len == klen && memcmp(arr[i].key.data, key, klen) == 0)
            return arr[i].val.data ? arr[i].val.data : "";
    return NULL;
}

void csbot__pairs_free(const csbot__alloc *a, csbot__pair *arr, size_t n) {
    for (size_t i = 0; i < n; i++) {
        csbot__buf_free(a, &arr[i].key);
        csbot__buf_free(a, &arr[i].val);
    }
    csbot__free(a, arr);
}

void csbot__turn_free(const csbot__alloc *a, csbot__turn *t) {
    csbot__buf_free(a, &t->user);
    csbot__buf_free(a, &t->bot);
    csbot__buf_free(a, &t->intent);
    csbot__buf_free(a, &t->cands);
}

size_t csbot__session_turn_count(const csbot_session *s, int with_pending) {
    return s->count + (with_pending ? 1 : 0);
}

const csbot__turn *csbot__session_turn(const csbot_session *s, size_t i,
                                       int with_pending) {
    if (i >= csbot__session_turn_count(s, with_pending))
        return NULL;
    return &s->ring[(s->head + i) % s->ringcap];
}

csbot__turn *csbot__session_pending_turn(csbot_session *s) {
    return &s->ring[(s->head + s->count) % s->ringcap];
}

void csbot__session_commit_turn(csbot_session *s) {
    if (s->count + 1 < s->ringcap)
        s->count++;
    else
        s->head = (s->head + 1) % s->ringcap;
}

static int session_init(csbot_session *s, const csbot_kb *kb,
                        const csbot_session_options *opts) {
    if (opts)
        s->opt = *opts;
    else {
        csbot_session_options d = CSBOT_SESSION_OPTIONS_INIT;
        s->opt = d;
    }
    if (s->opt.transcript_turns == 0)
        s->opt.transcript_turns = CSBOT__TRANSCRIPT_DEFAULT;
    if (s->opt.transcript_turns > CSBOT__TRANSCRIPT_MAX)
        s->opt.transcript_turns = CSBOT__TRANSCRIPT_MAX;
    s->kb = kb;
    s->stats = s->opt.stats;
    s->ringcap = s->opt.transcript_turns + 1;
    s->ring = csbot__calloc(&s->alloc, s->ringcap, sizeof *s->ring);
    if (!s->ring)
        return CSBOT_ENOMEM;
    int rc = csbot__scratch_init(kb, &s->scr);
    if (!rc)
        rc = csbot__stats_bind(s, kb);
    s->last_lang = CSBOT_LANG_UNKNOWN;
    return rc;
}

static int check_sopts(const csbot_session_options *opts) {
    return opts && opts->version != CSBOT_SESSION_OPTIONS_VERSION;
}

CSBOT_API int csbot_session_new(csbot_session **out, const csbot_kb *kb,
                                const csbot_session_options *opts) {
    if (out)
        *out = NULL;
    if (!out || !kb || check_sopts(opts))
        return CSBOT_EINVAL;
    csbot_session *s = csbot__calloc(&kb->alloc, 1, sizeof *s);
    if (!s)
        return CSBOT_ENOMEM;
    s->alloc = kb->alloc;
    int rc = session_init(s, kb, opts);
    if (rc) {
        csbot_session_free(s);
        return rc;
    }
    *out = s;
    return CSBOT_OK;
}

CSBOT_API int csbot_session_new_hub(csbot_session **out, csbot_hub *hub,
                                    const csbot_session_options *opts) {
    if (out)
        *out = NULL;
    if (!out || !hub || check_sopts(opts))
        return CSBOT_EINVAL;
    unsigned long gen;
    const csbot_kb *kb = csbot__hub_acquire(hub, &gen);
    csbot_session *s = csbot__calloc(&kb->alloc, 1, sizeof *s);
    if (!s) {
        csbot__hub_release(hub, kb);
        return CSBOT_ENOMEM;
    }
    s->alloc = kb->alloc;
    s->hub = hub;
    s->hub_gen = gen;
    int rc = session_init(s, kb, opts);
    if (rc) {
        csbot_session_free(s);
        return rc;
    }
    *out = s;
    return CSBOT_OK;
}

CSBOT_API void csbot_session_free(csbot_session *s) {
    if (!s)
        return;
    csbot__alloc a = s->alloc;
    if (s->kb) {
        csbot__stats_flush(s);
        csbot__stats_local_free(s);
        csbot__scratch_free(s->kb, &s->scr);
    }
    for (size_t i = 0; s->ring && i < s->ringcap; i++)
        csbot__turn_free(&a, &s->ring[i]);
    csbot__free(&a, s->ring);
    csbot__pairs_free(&a, s->slots, s->slotcap);
    csbot__pairs_free(&a, s->profile, s->profcap);
    csbot__pairs_free(&a, s->newslots, s->newcap);
    csbot__buf_free(&a, &s->err);
    csbot__buf_free(&a, &s->ctx_intent);
    csbot__buf_free(&a, &s->pend_intent);
    csbot__buf_free(&a, &s->last_answer);
    csbot__buf_free(&a, &s->out);
    csbot__buf_free(&a, &s->tmp);
    csbot__buf_free(&a, &s->explain_norm);
    if (s->hub && s->kb)
        csbot__hub_release(s->hub, s->kb);
    csbot__free(&a, s);
}

/* Clear the conversation; keep profile, callbacks, buffers. */
static void clear_conversation(csbot_session *s) {
    s->turn = 0;
    s->misses_row = s->misses_total = 0;
    s->human = 0;
    s->last_activity_ms = 0;
    csbot__buf_clear(&s->ctx_intent);
    csbot__buf_clear(&s->pend_intent);
    csbot__buf_clear(&s->last_answer);
    s->nfprint = 0;
    s->nslots = 0;
    s->head = s->count = 0;
    s->conv_handoff = 0;
    memset(&s->reply, 0, sizeof s->reply);
    memset(&s->last, 0, sizeof s->last);
}

CSBOT_API void csbot_session_reset(csbot_session *s) {
    if (!s || s->busy)
        return;
    /* no statistics flush: the counts stay in the session until the next
     * one is due (stats.c lists when), so that a host which resets its
     * session after every short conversation does not write shared memory
     * each time */
    clear_conversation(s);
    csbot__buf_clear(&s->err);
}

CSBOT_API const char *csbot_session_errmsg(const csbot_session *s) {
    if (!s)
        return "NULL session";
    return s->err.data ? s->err.data : "";
}

CSBOT_API void csbot_session_set_handoff(csbot_session *s, csbot_handoff_cb cb,
                                         void *ud) {
    if (!s)
        return;
    s->opt.handoff = cb;
    s->opt.handoff_ud = ud;
}

CSBOT_API void csbot_session_get_handoff(const csbot_session *s,
                                         csbot_handoff_cb *cb, void **ud) {
    if (cb)
        *cb = s ? s->opt.handoff : NULL;
    if (ud)
        *ud = s ? s->opt.handoff_ud : NULL;
}

CSBOT_API void csbot_session_set_stats(csbot_session *s, csbot_stats *st) {
    if (!s || s->busy)
        return;
    csbot__stats_flush(s);
    s->stats = st;
}

CSBOT_API void csbot_session_flush_stats(csbot_session *s) {
    if (s && !s->busy)
        csbot__stats_flush(s);
}

CSBOT_API int csbot_session_set_profile(csbot_session *s, const char *key,
                                        const char *value) {
    if (!s)
        return CSBOT_EINVAL;
    if (s->busy) {
        csbot__session_err(s, "csbot_session_set_profile called from inside "
                              "a callback of the same session");
        return CSBOT_EINVAL;
    }
    if (!key || !*key) {
        csbot__session_err(s, "profile key is %s", key ? "empty" : "NULL");
        return CSBOT_EINVAL;
    }
    size_t kl = strlen(key), vl = value ? strlen(value) : 0;
    if (kl > CSBOT__PROFILE_MAX_KEY) {
        csbot__session_err(s, "profile key of %zu bytes is over the limit of "
                              "%d bytes", kl, CSBOT__PROFILE_MAX_KEY);
        return CSBOT_ETOOBIG;
    }
    if (vl > CSBOT__PROFILE_MAX_VALUE) {
        csbot__session_err(s, "profile value of %zu bytes is over the limit "
                              "of %d bytes", vl, CSBOT__PROFILE_MAX_VALUE);
        return CSBOT_ETOOBIG;
    }
    size_t bad = 0;
    if (csbot__utf8_check(key, kl, &bad)) {
        csbot__session_err(s, "profile key: invalid UTF-8 at byte %zu", bad);
        return CSBOT_EUTF8;
    }
    if (value && csbot__utf8_check(value, vl, &bad)) {
        csbot__session_err(s, "profile value: invalid UTF-8 at byte %zu", bad);
        return CSBOT_EUTF8;
    }
    int rc = csbot__pair_set(&s->alloc, &s->profile, &s->nprofile,
                             &s->profcap, key, kl, value, vl);
    if (rc)
        csbot__session_err(s, "out of memory");
    return rc;
}

CSBOT_API const char *csbot_session_get_profile(const csbot_session *s,
                                                const char *key) {
    if (!s || !key)
        return NULL;
    return csbot__pair_get(s->profile, s->nprofile, key, strlen(key));
}

CSBOT_API int csbot_session_in_human_mode(const csbot_session *s) {
    return s ? s->human : 0;
}

CSBOT_API void csbot_session_resume(csbot_session *s) {
    if (!s || s->busy)
        return;
    s->human = 0;
    s->misses_row = 0;
    csbot__buf_clear(&s->pend_intent);
}

CSBOT_API int csbot_session_feedback(csbot_session *s, unsigned turn,
                                     int rating) {
    if (!s)
        return CSBOT_EINVAL;
    if (s->busy) {
        csbot__session_err(s, "csbot_session_feedback called from inside a "
                              "callback of the same session");
        return CSBOT_EINVAL;
    }
    if (rating < 1 || rating > 5) {
        csbot__session_err(s, "rating %d is not between 1 and 5", rating);
        return CSBOT_EINVAL;
    }
    for (size_t i = 0; i < s->count; i++) {
        csbot__turn *t = &s->ring[(s->head + i) % s->ringcap];
        if (t->turn != turn)
            continue;
        if (t->action != CSBOT_ACTION_ANSWER && t->action != CSBOT_ACTION_ASK) {
            csbot__session_err(s, "turn %u was not answered by the bot (%s): "
                                  "only answers and questions for a detail "
                                  "can be rated",
                               turn, csbot_action_name(t->action));
            return CSBOT_ERANGE;
        }
        if (t->rating) { /* replace an earlier rating of the same turn */
            s->ls.ratings--;
            s->ls.rating_sum -= (uint64_t)t->rating;
            s->ls.helpful -= (uint64_t)(t->rating >= 4);
            s->ls.not_helpful -= (uint64_t)(t->rating <= 2);
        }
        t->rating = rating;
        s->ls.ratings++;
        s->ls.rating_sum += (uint64_t)rating;
        s->ls.helpful += (uint64_t)(rating >= 4);
        s->ls.not_helpful += (uint64_t)(rating <= 2);
        return CSBOT_OK;
    }
    csbot__session_err(s, "turn %u is not in the transcript (%zu turn%s kept)",
                       turn, s->count, s->count == 1 ? "" : "s");
    return CSBOT_ERANGE;
}

CSBOT_API void csbot_session_set_data(csbot_session *s, void *data) {
    if (s)
        s->data = data;
}

CSBOT_API void *csbot_session_get_data(const csbot_session *s) {
    return s ? s->data : NULL;
}

CSBOT_API const csbot_kb *csbot_session_kb(const csbot_session *s) {
    return s ? s->kb : NULL;
}

/* ---- reply accessors ---- */

CSBOT_API const char *csbot_reply_text(const csbot_reply *r) {
    return r && r->text ? r->text : "";
}
CSBOT_API const char *csbot_reply_intent(const csbot_reply *r) {
    return r ? r->intent : NULL;
}
CSBOT_API csbot_action csbot_reply_action(const csbot_reply *r) {
    return r ? r->action : CSBOT_ACTION_NONE;
}
CSBOT_API double csbot_reply_confidence(const csbot_reply *r) {
    return r ? r->conf : 0.0;
}
CSBOT_API csbot_lang csbot_reply_lang(const csbot_reply *r) {
    return r ? r->lang : CSBOT_LANG_UNKNOWN;
}
CSBOT_API unsigned csbot_reply_turn(const csbot_reply *r) {
    return r ? r->turn : 0;
}
CSBOT_API csbot_handoff_reason csbot_reply_handoff_reason(const csbot_reply *r) {
    return r ? r->reason : CSBOT_HANDOFF_NONE;
}
CSBOT_API double csbot_reply_sentiment(const csbot_reply *r) {
    return r ? r->sentiment : 0.0;
}
CSBOT_API size_t csbot_reply_candidate_count(const csbot_reply *r) {
    return r ? r->ncand : 0;
}
CSBOT_API size_t csbot_reply_suggestion_count(const csbot_reply *r) {
    return r ? r->nsuggest : 0;
}
CSBOT_API int csbot_reply_candidate(const csbot_reply *r, size_t i,
                                    const char **intent, double *score) {
    if (!r || i >= r->ncand)
        return CSBOT_ERANGE;
    if (intent)
        *intent = r->cand_id[i];
    if (score)
        *score = r->cand_score[i];
    return CSBOT_OK;
}

/* The reply's slots are the session's slots (committed at the end of the
 * turn). The reply is embedded in its session, so the session is found from
 * the reply's address. */
static const csbot_session *session_of(const csbot_reply *r) {
    return (const csbot_session *)((const char *)r -
                                   offsetof(csbot_session, reply));
}

CSBOT_API size_t csbot_reply_slot_count(const csbot_reply *r) {
    return r ? session_of(r)->nslots : 0;
}

CSBOT_API int csbot_reply_slot(const csbot_reply *r, size_t i,
                               const char **name, const char **value) {
    if (!r)
        return CSBOT_ERANGE;
    const csbot_session *s = session_of(r);
    if (i >= s->nslots)
        return CSBOT_ERANGE;
    if (name)
        *name = s->slots[i].key.data;
    if (value)
        *value = s->slots[i].val.data ? s->slots[i].val.data : "";
    return CSBOT_OK;
}
