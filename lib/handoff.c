/*
 * handoff.c - the packet given to the handoff callback: why, the message,
 * the best intent and its confidence, the transcript with the bot's decisions
 * and candidates, the slots, the profile and the counters, readable through
 * accessors or as one JSON object that a host can queue for an agent.
 */
#include "session.h"

CSBOT_API csbot_session *csbot_handoff_session(const csbot_handoff *h) {
    return h ? h->s : NULL;
}
CSBOT_API csbot_handoff_reason csbot_handoff_reason_of(const csbot_handoff *h) {
    return h ? h->reason : CSBOT_HANDOFF_NONE;
}
CSBOT_API const char *csbot_handoff_text(const csbot_handoff *h) {
    return h && h->text ? h->text : "";
}
CSBOT_API const char *csbot_handoff_intent(const csbot_handoff *h) {
    return h ? h->intent : NULL;
}
CSBOT_API double csbot_handoff_confidence(const csbot_handoff *h) {
    return h ? h->conf : 0.0;
}
CSBOT_API csbot_lang csbot_handoff_lang(const csbot_handoff *h) {
    return h ? h->lang : CSBOT_LANG_UNKNOWN;
}

CSBOT_API size_t csbot_handoff_turn_count(const csbot_handoff *h) {
    return h ? csbot__session_turn_count(h->s, h->with_pending) : 0;
}

CSBOT_API int csbot_handoff_turn(const csbot_handoff *h, size_t i,
                                 const char **user_text, const char **bot_text,
                                 const char **intent, csbot_action *action,
                                 double *confidence) {
    const csbot__turn *t = h ? csbot__session_turn(h->s, i, h->with_pending)
                             : NULL;
    if (!t)
        return CSBOT_ERANGE;
    if (user_text)
        *user_text = t->user.data ? t->user.data : "";
    if (bot_text)
        *bot_text = t->bot.data ? t->bot.data : "";
    if (intent)
        *intent = t->intent.len ? t->intent.data : NULL;
    if (action)
        *action = t->action;
    if (confidence)
        *confidence = t->conf;
    return CSBOT_OK;
}

/* Slots: the session's, then those found in the current message. */
CSBOT_API size_t csbot_handoff_slot_count(const csbot_handoff *h) {
    if (!h)
        return 0;
    size_t n = h->s->nslots;
    if (h->with_pending)
        for (size_t i = 0; i < h->s->nnew; i++)
            if (!csbot__pair_get(h->s->slots, h->s->nslots,
                                 h->s->newslots[i].key.data,
                                 h->s->newslots[i].key.len))
                n++;
    return n;
}

CSBOT_API int csbot_handoff_slot(const csbot_handoff *h, size_t i,
                                 const char **name, const char **value) {
    if (!h)
        return CSBOT_ERANGE;
    const csbot_session *s = h->s;
    const csbot__pair *p = NULL;
    if (i < s->nslots) {
        p = &s->slots[i];
        const char *nv = h->with_pending
                             ? csbot__pair_get(s->newslots, s->nnew, p->key.data,
                                               p->key.len)
                             : NULL;
        if (name)
            *name = p->key.data;
        if (value)
            *value = nv ? nv : (p->val.data ? p->val.data : "");
        return CSBOT_OK;
    }
    i -= s->nslots;
    for (size_t k = 0; h->with_pending && k < s->nnew; k++) {
        if (csbot__pair_get(s->slots, s->nslots, s->newslots[k].key.data,
                            s->newslots[k].key.len))
            continue;
        if (i-- == 0) {
            if (name)
                *name = s->newslots[k].key.data;
            if (value)
                *value = s->newslots[k].val.data;
            return CSBOT_OK;
        }
    }
    return CSBOT_ERANGE;
}

CSBOT_API void csbot_handoff_counters(const csbot_handoff *h, unsigned *turns,
                                      unsigned *misses_in_row,
                                      unsigned *misses_total) {
    const csbot_session *s = h ? h->s : NULL;
    if (turns)
        *turns = s ? s->turn + (unsigned)(h->with_pending != 0) : 0;
    /* like turns, the misses count the pending turn */
    unsigned pend = s && h->with_pending && h->pending_miss ? 1u : 0u;
    if (misses_in_row)
        *misses_in_row = s ? s->misses_row + pend : 0;
    if (misses_total)
        *misses_total = s ? s->misses_total + pend : 0;
}

CSBOT_API size_t csbot_handoff_json(const csbot_handoff *h, char *buf,
                                    size_t size) {
    if (!h)
        return csbot__copy_out(buf, size, "{}", 2);
    const csbot_session *s = h->s;
    const csbot__alloc *a = &s->alloc;
    csbot__buf b = {0};
    int rc = csbot__buf_printf(a, &b, "{\"reason\":\"%s\",\"text\":",
                               csbot_handoff_reason_name(h->reason));
    rc = rc ? rc : csbot__buf_json_str(a, &b, h->text ? h->text : "");
    rc = rc ? rc : csbot__buf_puts(a, &b, ",\"intent\":");
    rc = rc ? rc : csbot__buf_json_str(a, &b, h->intent);
    rc = rc ? rc : csbot__buf_printf(a, &b,
                                     ",\"confidence\":%.4f,\"threshold\":%.4f,"
                                     "\"lang\":\"%s\",\"sentiment\":%.4f,"
                                     "\"transcript\":[",
                                     h->conf, h->threshold,
                                     csbot_lang_name(h->lang), h->sentiment);
    size_t nt = csbot_handoff_turn_count(h);
    for (size_t i = 0; i < nt && !rc; i++) {
        const csbot__turn *t = csbot__session_turn(s, i, h->with_pending);
        rc = csbot__buf_printf(a, &b, "%s{\"turn\":%u,\"time_ms\":%lld,\"user\":",
                               i ? "," : "", t->turn, (long long)t->time_ms);
        rc = rc ? rc : csbot__buf_json_str(a, &b, t->user.data ? t->user.data : "");
        rc = rc ? rc : csbot__buf_puts(a, &b, ",\"bot\":");
        rc = rc ? rc : csbot__buf_json_str(a, &b, t->bot.data ? t->bot.data : "");
        rc = rc ? rc : csbot__buf_printf(a, &b, ",\"action\":\"%s\",\"intent\":",
                                         csbot_action_name(t->action));
        rc = rc ? rc : csbot__buf_json_str(a, &b, t->intent.len ? t->intent.data : NULL);
        rc = rc ? rc : csbot__buf_printf(a, &b, ",\"confidence\":%.4f,\"candidates\":[",
                                         t->conf);
        const char *c = t->cands.data;
        for (unsigned k = 0; k < t->ncand && !rc && c; k++) {
            rc = csbot__buf_printf(a, &b, "%s{\"intent\":", k ? "," : "");
            rc = rc ? rc : csbot__buf_json_str(a, &b, c);
            rc = rc ? rc : csbot__buf_printf(a, &b, ",\"score\":%.4f}", t->cscore[k]);
            c += strlen(c) + 1;
        }
        rc = rc ? rc : csbot__buf_puts(a, &b, "]}");
    }
    rc = rc ? rc : csbot__buf_puts(a, &b, "],\"slots\":{");
    size_t ns = csbot_handoff_slot_count(h);
    for (size_t i = 0; i < ns && !rc; i++) {
        const char *k, *v;
        csbot_handoff_slot(h, i, &k, &v);
        rc = i ? csbot__buf_putc(a, &b, ',') : CSBOT_OK;
        rc = rc ? rc : csbot__buf_json_str(a, &b, k);
        rc = rc ? rc : csbot__buf_putc(a, &b, ':');
        rc = rc ? rc : csbot__buf_json_str(a, &b, v);
    }
    rc = rc ? rc : csbot__buf_puts(a, &b, "},\"profile\":{");
    for (size_t i = 0; i < s->nprofile && !rc; i++) {
        rc = i ? csbot__buf_putc(a, &b, ',') : CSBOT_OK;
        rc = rc ? rc : csbot__buf_json_str(a, &b, s->profile[i].key.data);
        rc = rc ? rc : csbot__buf_putc(a, &b, ':');
        rc = rc ? rc : csbot__buf_json_str(a, &b, s->profile[i].val.data ? s->profile[i].val.data : "");
    }
    unsigned turns, mr, mt;
    csbot_handoff_counters(h, &turns, &mr, &mt);
    rc = rc ? rc : csbot__buf_printf(a, &b,
                                     "},\"counters\":{\"turns\":%u,"
                                     "\"misses_in_row\":%u,\"misses_total\":%u}}",
                                     turns, mr, mt);
    size_t n = rc ? csbot__copy_out(buf, size, "{}", 2)
                  : csbot__copy_out(buf, size, b.data, b.len);
    csbot__buf_free(a, &b);
    return n;
}
