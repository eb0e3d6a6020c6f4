/*
 * reply.c - one turn of a conversation: validate the message, match it,
 * extract slots, read the context, decide, write the answer, hand off when
 * needed, and only then change the session's state.
 *
 * Decision order:
 *   1. Human mode: the bot is silent (the message is still recorded).
 *   2. An explicit request for a person, at any point: hand off.
 *   3. Negative sentiment at or above the threshold: hand off.
 *   4. A pick by number ("2", "第二个") from the suggestions just listed;
 *      or a pending question for a slot that this message answers, unless
 *      the message is clearly about something else.
 *   5. A clear intent: confidence >= answer threshold and ahead of the second
 *      by the ambiguity margin. Intents marked "handoff" hand off; the same
 *      question right after its answer hands off; a missing required slot is
 *      asked for; otherwise the answer.
 *   6. A short or elliptical follow-up ("那M码呢", "what about blue?") within
 *      the context window: read as the previous intent.
 *   7. Otherwise a suggestion (confidence in the suggestion band, or
 *      ambiguous) or a fallback; these are misses, and max_misses misses in a
 *      row, or a confidence under handoff_threshold, hand off.
 * If the handoff callback refuses (non-zero), the call fails with
 * CSBOT_ECALLBACK and the session is as it was before the message.
 *
 * turn() follows this order: silent_turn (1), read_message (match, slots,
 * language, sentiment, context), decide (person_requested 2,
 * sentiment_handoff 3, choose_intent 4-6 then act_on_intent 5 or
 * no_intent 7, handoff_text), then record_turn and prepare_commit reserve,
 * call_handoff asks the host, and commit_turn, fill_reply and count_turn
 * write the session, the reply and the statistics.
 */
#include <time.h>

#include "hub.h"
#include "lexicon.h"
#include "render.h"
#include "session.h"
#include "stats.h"
#include "utf8.h"

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static csbot_lang detect_lang(const csbot_session *s) {
    const csbot__script *sc = &s->scr.sc;
    if (sc->han && sc->han >= sc->words)
        return sc->trad > sc->simp ? CSBOT_LANG_ZH_HANT : CSBOT_LANG_ZH_HANS;
    if (sc->words)
        return CSBOT_LANG_EN;
    if (s->last_lang != CSBOT_LANG_UNKNOWN)
        return s->last_lang;
    const char *p = csbot__pair_get(s->profile, s->nprofile, "lang", 4);
    if (p && strcmp(p, "en") == 0)
        return CSBOT_LANG_EN;
    if (p && strcmp(p, "zh-Hant") == 0)
        return CSBOT_LANG_ZH_HANT;
    return CSBOT_LANG_ZH_HANS;
}

static int lang_index(csbot_lang l) {
    return l == CSBOT_LANG_EN ? CSBOT__EN
           : l == CSBOT_LANG_ZH_HANT ? CSBOT__ZHT : CSBOT__ZHS;
}

/* Whether a message that is not clear on its own reads as a follow-up of
 * the context intent ctx: it starts with a follow-up marker, or it is short
 * and the context intent is among its candidates. Either way it must contain
 * something the knowledge base knows ("zzz" is not a follow-up). */
static int is_followup(const csbot_session *s, int ctx) {
    static const char *const markers[] = {
        "那", "那么", "还有", "另外", "如果", "要是", "and ", "what about",
        "how about", "also", "what if", "and if", "same for", NULL};
    const char *t = s->scr.norm0.data ? s->scr.norm0.data : "";
    while (*t == ' ')
        t++;
    /* known features, not known word/character pairs: in "那M码呢" only
     * single characters are known, and the documented follow-ups must work */
    if (s->scr.nids == 0)
        return 0;
    for (const char *const *m = markers; *m; m++)
        if (strncmp(t, *m, strlen(*m)) == 0)
            return 1;
    if (s->scr.units > 4 || s->scr.sc.han > 6)
        return 0;
    for (size_t i = 0; i < s->scr.ncand; i++)
        if ((int)s->scr.cand[i].intent == ctx && s->scr.cand[i].conf >= 0.02f)
            return 1;
    return 0;
}

static int slot_known(const csbot_session *s, const char *name) {
    size_t n = strlen(name);
    const char *v = csbot__pair_get(s->newslots, s->nnew, name, n);
    if (!v)
        v = csbot__pair_get(s->slots, s->nslots, name, n);
    return v && *v;
}

/* Jaccard overlap of the message's features with the previous message's. */
static float repeat_overlap(const csbot_session *s) {
    const csbot__feats *f = &s->scr.feats;
    size_t n = CSBOT_MIN(f->n, (size_t)CSBOT__FPRINT), inter = 0;
    if (!n || !s->nfprint)
        return 0;
    size_t i = 0, j = 0;
    while (i < n && j < s->nfprint) {
        if (f->h[i] == s->fprint[j]) {
            inter++;
            i++;
            j++;
        } else if (f->h[i] < s->fprint[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (float)inter / (float)(n + s->nfprint - inter);
}

/* Slots are matched on the NFKC form of the message, so that full-width
 * digits and letters typed with a Chinese input method ("２０２４…") match
 * patterns such as [0-9], and the values come out half-width. */
static int extract_slots(csbot_session *s, const char *text, size_t len) {
    const csbot_kb *kb = s->kb;
    s->nnew = 0;
    if (!kb->nslots)
        return CSBOT_OK;
    csbot__buf_clear(&s->tmp);
    int rc = csbot__utf8_nfkc(&s->alloc, &s->scr.nb, text, len, &s->tmp);
    if (rc)
        return rc;
    const char *t = s->tmp.data ? s->tmp.data : "";
    size_t tlen = s->tmp.len;
    for (size_t i = 0; i < kb->nslots; i++) {
        const csbot__slot *sl = &kb->slots[i];
        size_t so, eo;
        int lim;
        int m = csbot__regex_match(sl->re, kb->rectx, s->scr.rm, t, tlen, 0,
                                   &so, &eo, &lim);
        if (m < 0)
            return m;
        if (m == 0 || eo <= so)
            continue;
        rc = csbot__pair_set(&s->alloc, &s->newslots, &s->nnew, &s->newcap,
                             sl->name, strlen(sl->name), t + so, eo - so);
        if (rc)
            return rc;
    }
    return CSBOT_OK;
}

/* Whether a suggestion lists the candidate at position n (0 = best) with
 * confidence conf: at most CSBOT__TURN_CANDS, and after the first only those
 * with some confidence. */
static int listed(size_t n, float conf) {
    return n < CSBOT__TURN_CANDS && (n == 0 || conf >= 0.05f);
}

/* How many of the best candidates a suggestion lists. */
static size_t suggestion_count(const csbot__scratch *sc) {
    size_t n = 0;
    while (n < sc->ncand && listed(n, sc->cand[n].conf))
        n++;
    return n;
}

static int add_suggestions(csbot_session *s, int li) {
    const csbot_kb *kb = s->kb;
    int rc = csbot__render(s, csbot__text3_get(&kb->msg[CSBOT__MSG_SUGGEST], li),
                           &s->out);
    size_t n = suggestion_count(&s->scr);
    for (size_t i = 0; i < n && !rc; i++) {
        const csbot__intent *it = &kb->intents[s->scr.cand[i].intent];
        const char *title = csbot__text3_get(&it->title, li);
        rc = csbot__buf_printf(&s->alloc, &s->out, "\n%zu. %s", i + 1,
                               title ? title : it->id);
    }
    return rc;
}

/* Fill the pending transcript entry for this turn. */
static int record_turn(csbot_session *s, csbot__turn *t, const char *text,
                       size_t len, const char *intent, csbot_action action,
                       csbot_handoff_reason reason, float conf, int64_t now,
                       unsigned variant) {
    const csbot__alloc *a = &s->alloc;
    csbot__buf_clear(&t->user);
    csbot__buf_clear(&t->bot);
    csbot__buf_clear(&t->intent);
    csbot__buf_clear(&t->cands);
    int rc = csbot__buf_append(a, &t->user, text, len);
    if (!rc)
        rc = csbot__buf_append(a, &t->bot, s->out.data ? s->out.data : "",
                               s->out.len);
    if (!rc)
        rc = csbot__buf_puts(a, &t->intent, intent ? intent : "");
    t->ncand = 0;
    for (size_t i = 0; i < s->scr.ncand && i < CSBOT__TURN_CANDS && !rc; i++) {
        const char *id = s->kb->intents[s->scr.cand[i].intent].id;
        rc = csbot__buf_append(a, &t->cands, id, strlen(id) + 1);
        t->cscore[i] = s->scr.cand[i].conf;
        t->ncand++;
    }
    t->action = action;
    t->reason = reason;
    t->conf = conf;
    t->time_ms = now;
    t->turn = s->turn + 1;
    t->rating = 0;
    t->variant = variant;
    return rc;
}

/* Grow, without changing what they hold, every buffer the commit of a turn
 * writes: the slot table and the slots' buffers, and the context strings. */
static int prepare_commit(csbot_session *s, const char *intent_id) {
    const csbot__alloc *a = &s->alloc;
    size_t need = s->nslots;
    for (size_t i = 0; i < s->nnew; i++)
        if (!csbot__pair_get(s->slots, s->nslots, s->newslots[i].key.data,
                             s->newslots[i].key.len))
            need++;
    if (need > s->slotcap) {
        void *p = s->slots;
        size_t oc = s->slotcap;
        if (csbot__grow(a, &p, &s->slotcap, need, sizeof *s->slots))
            return CSBOT_ENOMEM;
        s->slots = p;
        memset(s->slots + oc, 0, (s->slotcap - oc) * sizeof *s->slots);
    }
    size_t fresh = s->nslots;
    for (size_t i = 0; i < s->nnew; i++) {
        const csbot__pair *n = &s->newslots[i];
        size_t k;
        for (k = 0; k < s->nslots; k++)
            if (s->slots[k].key.len == n->key.len &&
                memcmp(s->slots[k].key.data, n->key.data, n->key.len) == 0)
                break;
        if (k == s->nslots)
            k = fresh++;
        csbot__pair *d = &s->slots[k];
        if (csbot__buf_reserve(a, &d->key, n->key.len + (k >= s->nslots ? 0 : d->key.len)) ||
            csbot__buf_reserve(a, &d->val, n->val.len + d->val.len))
            return CSBOT_ENOMEM;
    }
    size_t il = intent_id ? strlen(intent_id) : 0;
    if (csbot__buf_reserve(a, &s->ctx_intent, il + s->ctx_intent.len) ||
        csbot__buf_reserve(a, &s->pend_intent, il + s->pend_intent.len) ||
        csbot__buf_reserve(a, &s->last_answer, il + s->last_answer.len))
        return CSBOT_ENOMEM;
    return CSBOT_OK;
}

/* text: the customer's message NUL-terminated (the turn's own copy: the
 * caller's text may be a (pointer, length) without a NUL). */
static int call_handoff(csbot_session *s, csbot_handoff_reason reason,
                        const char *text, const char *intent, float conf,
                        csbot_lang lang, float senti, int miss) {
    if (!s->opt.handoff)
        return CSBOT_OK;
    struct csbot_handoff h;
    h.s = s;
    h.pending_miss = miss;
    h.reason = reason;
    h.text = text;
    h.intent = intent;
    h.conf = conf;
    h.threshold = s->kb->set.answer;
    h.lang = lang;
    h.sentiment = senti;
    h.with_pending = 1;
    int r = s->opt.handoff(&h, s->opt.handoff_ud);
    if (r) {
        csbot__session_err(s, "the handoff callback returned %d", r);
        return CSBOT_ECALLBACK;
    }
    return CSBOT_OK;
}

/* Count a reply in the messages-by-hour and reply-time figures. */
static void count_time(csbot_session *s, int64_t now, int64_t t0) {
    csbot__local_stats *ls = &s->ls;
    if (s->stats) {
        int64_t local = now / 1000 + (int64_t)csbot__stats_offset(s->stats) * 60;
        ls->hour[((local / 3600) % CSBOT__HOURS + CSBOT__HOURS) % CSBOT__HOURS]++;
    }
    int64_t ns = mono_ns() - t0;
    int64_t us = ns / 1000;
    unsigned b = 0;
    while (b + 1 < CSBOT__LAT_BUCKETS && us >= ((int64_t)1 << b))
        b++;
    ls->lat[b]++;
    ls->lat_ns_total += (uint64_t)ns;
}

/* After a reply: add the session's counts to its csbot_stats when a flush
 * is due (stats.c's top comment lists when): every CSBOT__FLUSH_REPLIES
 * replies, when the decided intents kept fill their table, on a handoff, or
 * CSBOT__FLUSH_MS after the last flush. */
static void flush_if_due(csbot_session *s, csbot_action action, int64_t now) {
    csbot__local_stats *ls = &s->ls;
    if (s->stats &&
        (++ls->since_flush >= CSBOT__FLUSH_REPLIES ||
         ls->nhit == CSBOT__FLUSH_REPLIES || action == CSBOT_ACTION_HANDOFF ||
         now - ls->last_flush_ms >= CSBOT__FLUSH_MS))
        csbot__stats_flush(s);
}

/* Move to the hub's newest knowledge base, if it changed. */
static int follow_hub(csbot_session *s) {
    if (!s->hub || csbot_hub_generation(s->hub) == s->hub_gen)
        return CSBOT_OK;
    unsigned long gen;
    const csbot_kb *nkb = csbot__hub_acquire(s->hub, &gen);
    if (nkb == s->kb) {
        csbot__hub_release(s->hub, nkb);
        s->hub_gen = gen;
        return CSBOT_OK;
    }
    csbot__scratch ns;
    int rc = csbot__scratch_init(nkb, &ns);
    if (rc) {
        csbot__scratch_free(nkb, &ns);
        csbot__hub_release(s->hub, nkb);
        return rc;
    }
    csbot__stats_flush(s);
    csbot__stats_local_free(s);
    csbot__scratch_free(s->kb, &s->scr);
    csbot__hub_release(s->hub, s->kb);
    s->scr = ns;
    s->kb = nkb;
    s->hub_gen = gen;
    return csbot__stats_bind(s, nkb);
}

/* A bare choice of one of the suggestions the bot just listed: "2", "2.",
 * "第二个", "选2", "the second one", "#2"... in the normalised text; the
 * choice's 1-based number, or 0. */
static unsigned choice_number(const char *t, size_t n) {
    static const char *const pre[] = {"option ", "number ", "no. ", "no.", "#",
                                      "选择", "选", "選擇", "選", "第", "the ", NULL};
    static const char *const post[] = {"个", "個", "条", "條", "项", "項", "吧", "号", "號",
                                       " one", ".", "、", ")", "!", "！", " please", NULL};
    static const struct {
        const char *word;
        unsigned n;
    } words[] = {{"1", 1}, {"2", 2}, {"3", 3}, {"一", 1}, {"二", 2}, {"三", 3},
                 {"first", 1}, {"second", 2}, {"third", 3}, {"one", 1}, {"two", 2},
                 {"three", 3}};
    while (n && (*t == ' ' || *t == '\t'))
        t++, n--;
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    for (int again = 1; again;) { /* "选第2个": prefixes in a row */
        again = 0;
        for (size_t i = 0; pre[i]; i++) {
            size_t l = strlen(pre[i]);
            if (n > l && memcmp(t, pre[i], l) == 0) {
                t += l, n -= l, again = 1;
            }
        }
    }
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; post[i]; i++) {
            size_t l = strlen(post[i]);
            if (n > l && memcmp(t + n - l, post[i], l) == 0) {
                n -= l, again = 1;
            }
        }
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].word) == n && memcmp(words[i].word, t, n) == 0)
            return words[i].n;
    return 0;
}

/* The intent the customer picks by number from the suggestions of the
 * previous turn (as many as its list had: listed()), or -1. */
static int chosen_suggestion(const csbot_session *s, const csbot__scratch *sc) {
    size_t count = csbot__session_turn_count(s, 0);
    if (!count || !sc->norm0.data)
        return -1;
    const csbot__turn *t = csbot__session_turn(s, count - 1, 0);
    if (t->action != CSBOT_ACTION_SUGGEST || t->turn != s->turn || !t->cands.data)
        return -1;
    unsigned k = choice_number(sc->norm0.data, sc->norm0.len);
    unsigned n = 0; /* the turn keeps the scores of its first ones */
    while (n < t->ncand && n < CSBOT__TURN_CANDS && listed(n, t->cscore[n]))
        n++;
    if (k == 0 || k > n)
        return -1;
    const char *id = t->cands.data;
    for (unsigned i = 1; i < k; i++)
        id += strlen(id) + 1;
    return csbot__intent_find(s->kb, id, strlen(id));
}

/* What a turn reads of the message and the conversation before deciding. */
typedef struct reading {
    csbot_lang lang;
    int li;             /* lang_index(lang) */
    float senti;        /* csbot__sentiment_score */
    float conf0, conf1; /* the confidences of the best two candidates */
    int top;            /* the best candidate's intent, -1 none */
    int clear;          /* top at or above the answer threshold, by the margin */
    int explicit_req;   /* the customer asks for a person */
    int ctx;            /* the context intent for a follow-up, -1 none */
    int pend;           /* the intent waiting for a slot, -1 none */
} reading;

/* What the turn decided. */
typedef struct decision {
    csbot_action action;
    csbot_handoff_reason reason;
    int decided;      /* the intent, -1 none */
    float conf;       /* its confidence (conf0 unless read another way) */
    unsigned variant; /* response variant shown, for rotation */
    const char *why;
} decision;

/* 1. Human mode, unless it has lasted auto_resume_seconds since the last
 * message. */
static int in_human_mode(const csbot_session *s, int64_t now) {
    return s->human &&
           !(s->opt.auto_resume_seconds && s->last_activity_ms &&
             now - s->last_activity_ms >= (int64_t)s->opt.auto_resume_seconds * 1000);
}

/* 1. A person has the conversation: the human_mode message, recorded as a
 * silent turn; nothing else of the conversation changes. */
static int silent_turn(csbot_session *s, const char *text, size_t len,
                       int64_t now, int64_t t0) {
    const csbot_kb *kb = s->kb;
    csbot__turn *pt = csbot__session_pending_turn(s);
    struct csbot_reply *r = &s->reply;
    csbot_lang lang = s->last_lang ? s->last_lang : CSBOT_LANG_ZH_HANS;
    int rc = csbot__render(s, csbot__text3_get(&kb->msg[CSBOT__MSG_HUMAN],
                                               lang_index(lang)), &s->out);
    if (!rc)
        rc = record_turn(s, pt, text, len, NULL, CSBOT_ACTION_SILENT,
                         CSBOT_HANDOFF_NONE, 0, now, 0);
    if (rc)
        return rc;
    s->turn++;
    s->last_activity_ms = now;
    csbot__session_commit_turn(s);
    r->text = s->out.data;
    r->action = CSBOT_ACTION_SILENT;
    r->lang = lang;
    r->turn = s->turn;
    s->last.why = "human mode: a person has the conversation";
    s->last.decided = -1;
    s->ls.replies++;
    s->ls.by_action[CSBOT_ACTION_SILENT]++;
    count_time(s, now, t0); /* a customer message like any other */
    flush_if_due(s, CSBOT_ACTION_SILENT, now);
    return CSBOT_OK;
}

/* Match the message, extract its slots, and read its language, sentiment,
 * request for a person and the context it comes in. */
static int read_message(csbot_session *s, const char *text, size_t len,
                        int64_t now, reading *m) {
    const csbot_kb *kb = s->kb;
    const csbot__settings *set = &kb->set;
    int rc;
    if ((rc = csbot__match(kb, &s->scr, text, len)))
        return rc;
    if ((rc = extract_slots(s, text, len)))
        return rc;
    m->lang = detect_lang(s);
    m->li = lang_index(m->lang);
    m->senti = csbot__sentiment_score(kb, &s->scr, text, len);
    float req = set->handoff_on_request
                    ? csbot__phrases_score(&kb->request,
                                           s->scr.norm0.data ? s->scr.norm0.data : "",
                                           s->scr.norm0.len, NULL)
                    : 0.0f;
    const csbot__scratch *sc = &s->scr;
    m->conf0 = sc->ncand ? sc->cand[0].conf : 0.0f;
    m->conf1 = sc->ncand > 1 ? sc->cand[1].conf : 0.0f;
    m->top = sc->ncand ? (int)sc->cand[0].intent : -1;
    m->clear = m->top >= 0 && m->conf0 >= set->answer &&
               m->conf0 - m->conf1 >= set->margin;
    /* a request phrase hands off, unless it is only a noun phrase (weight 1)
     * in a question clearly about something else ("人工客服几点上班") */
    m->explicit_req = req >= 2.0f ||
                      (req > 0.0f && !(m->clear && !kb->intents[m->top].handoff));
    m->ctx = m->pend = -1;
    if (s->ctx_intent.len && s->turn - s->ctx_turn < set->context_turns &&
        now - s->ctx_time_ms <= (int64_t)set->context_seconds * 1000)
        m->ctx = csbot__intent_find(kb, s->ctx_intent.data, s->ctx_intent.len);
    if (s->pend_intent.len && s->turn - s->pend_turn < set->context_turns + 1)
        m->pend = csbot__intent_find(kb, s->pend_intent.data, s->pend_intent.len);
    return CSBOT_OK;
}

/* 2. An explicit request for a person hands off, in the words of a handoff
 * intent only if it is clearly the one meant, not a weak guess such as a
 * complaint. */
static void person_requested(const csbot_kb *kb, const reading *m, decision *d) {
    d->action = CSBOT_ACTION_HANDOFF;
    d->reason = CSBOT_HANDOFF_EXPLICIT_REQUEST;
    if (m->clear && kb->intents[m->top].handoff)
        d->decided = m->top;
    d->why = "the customer asked for a person";
}

/* 3. Negative sentiment at or above the threshold hands off. */
static void sentiment_handoff(decision *d) {
    d->action = CSBOT_ACTION_HANDOFF;
    d->reason = CSBOT_HANDOFF_SENTIMENT;
    d->why = "negative sentiment at or above the threshold";
}

/* Whether the message gives a required slot of the pending intent. */
static int supplies_pending(const csbot_session *s, int pend) {
    const csbot_kb *kb = s->kb;
    int supplies = 0;
    if (pend >= 0) {
        const csbot__intent *pi = &kb->intents[pend];
        for (size_t k = 0; k < pi->nrequire; k++)
            supplies |= csbot__pair_get(s->newslots, s->nnew,
                                        kb->slots[pi->require[k]].name,
                                        strlen(kb->slots[pi->require[k]].name)) != NULL;
    }
    return supplies;
}

/* 4 to 6: the intent the message is about, if any: a pick by number from
 * the suggestions just listed; the pending intent whose slot it gives,
 * unless it is clearly about something else; a clear intent; a follow-up
 * in the context window. An intent read another way than by its own
 * confidence gets at least the answer threshold. */
static void choose_intent(csbot_session *s, const reading *m, decision *d) {
    const csbot_kb *kb = s->kb;
    const csbot__settings *set = &kb->set;
    const csbot__scratch *sc = &s->scr;
    int supplies = supplies_pending(s, m->pend);
    int chosen = chosen_suggestion(s, sc);
    int read_as = -1;
    if (chosen >= 0) {
        read_as = chosen;
        d->why = "the customer picked one of the suggestions by its number";
    } else if (supplies && (!m->clear || m->top == m->pend)) {
        read_as = m->pend;
        d->why = "the message gives the detail the bot asked for";
    } else if (m->clear) {
        d->decided = m->top;
        d->why = "confidence at or above the answer threshold and clear of "
                 "the second candidate";
    } else if (m->ctx >= 0 && is_followup(s, m->ctx) &&
               (m->top < 0 || m->conf0 < set->answer || m->top == m->ctx)) {
        read_as = m->ctx;
        d->why = "a short follow-up read in the context of the previous "
                 "question";
    }
    if (read_as >= 0) {
        d->decided = read_as;
        d->conf = CSBOT_MAX(csbot__match_conf_of(kb, sc, (uint32_t)read_as),
                            (float)set->answer);
    }
}

/* 5. What to do with the decided intent: an intent marked "handoff" hands
 * off; the same question right after its answer hands off; a missing
 * required slot is asked for; otherwise the answer. */
static int act_on_intent(csbot_session *s, const reading *m, decision *d) {
    const csbot_kb *kb = s->kb;
    const csbot__settings *set = &kb->set;
    const csbot__intent *it = &kb->intents[d->decided];
    int missing = -1;
    for (size_t k = 0; k < it->nrequire && missing < 0; k++)
        if (!slot_known(s, kb->slots[it->require[k]].name))
            missing = (int)it->require[k];
    if (it->handoff) {
        d->action = CSBOT_ACTION_HANDOFF;
        d->reason = it->handoff == 2 ? CSBOT_HANDOFF_EXPLICIT_REQUEST
                                     : CSBOT_HANDOFF_INTENT;
        d->why = "the intent always hands off";
    } else if (set->handoff_on_repeat && s->last_answer.len &&
               strcmp(s->last_answer.data, it->id) == 0 &&
               repeat_overlap(s) >= 0.6f) {
        d->action = CSBOT_ACTION_HANDOFF;
        d->reason = CSBOT_HANDOFF_REPEATED_QUESTION;
        d->why = "the same question again right after its answer";
    } else if (missing >= 0) {
        d->action = CSBOT_ACTION_ASK;
        const csbot__slot *sl = &kb->slots[missing];
        const char *p = csbot__text3_get(&sl->prompt, m->li);
        d->why = "the intent needs a detail the bot does not have yet";
        if (p)
            return csbot__render(s, p, &s->out);
        return csbot__buf_printf(&s->alloc, &s->out,
                                 m->li == CSBOT__EN ? "Could you give me the %s?"
                                                    : "请提供%s。",
                                 sl->name);
    } else {
        d->action = CSBOT_ACTION_ANSWER;
        const csbot__response *resp = csbot__pick_response(s, it, &d->variant);
        if (resp)
            return csbot__render(s, csbot__text3_get(&resp->text, m->li), &s->out);
    }
    return CSBOT_OK;
}

/* 7. No intent: a suggestion (confidence in the suggestion band, or
 * ambiguous) or a fallback, both misses; max_misses misses in a row, or a
 * confidence under handoff_threshold, hand off instead. */
static int no_intent(csbot_session *s, const reading *m, decision *d) {
    const csbot_kb *kb = s->kb;
    const csbot__settings *set = &kb->set;
    if (m->top >= 0 && m->conf0 >= set->suggest) {
        d->action = CSBOT_ACTION_SUGGEST;
        d->why = m->conf0 >= set->answer
                     ? "ambiguous: the top two candidates are too close"
                     : "confidence in the suggestion band";
    } else {
        d->action = CSBOT_ACTION_FALLBACK;
        d->why = "confidence under the suggestion threshold";
    }
    if (set->max_misses && s->misses_row + 1 >= set->max_misses) {
        d->action = CSBOT_ACTION_HANDOFF;
        d->reason = CSBOT_HANDOFF_REPEATED_MISS;
        d->why = "too many turns in a row without an answer";
    } else if (set->handoff_below > 0 && m->conf0 < set->handoff_below) {
        d->action = CSBOT_ACTION_HANDOFF;
        d->reason = CSBOT_HANDOFF_LOW_CONFIDENCE;
        d->why = "confidence under the handoff threshold";
    }
    if (d->action == CSBOT_ACTION_SUGGEST)
        return add_suggestions(s, m->li);
    if (d->action == CSBOT_ACTION_FALLBACK)
        return csbot__render(s, csbot__text3_get(&kb->msg[CSBOT__MSG_FALLBACK], m->li),
                             &s->out);
    return CSBOT_OK;
}

/* The text of a handoff: an intent that always hands off says so in its
 * own words, otherwise the handoff message. */
static int handoff_text(csbot_session *s, const reading *m, decision *d) {
    const csbot_kb *kb = s->kb;
    const csbot__response *resp =
        d->decided >= 0 && kb->intents[d->decided].handoff
            ? csbot__pick_response(s, &kb->intents[d->decided], &d->variant)
            : NULL;
    const char *t = resp ? csbot__text3_get(&resp->text, m->li) : NULL;
    if (!t || !*t)
        t = csbot__text3_get(&kb->msg[CSBOT__MSG_HANDOFF], m->li);
    return csbot__render(s, t, &s->out);
}

/* The decision, steps 2 to 7 of the order at the top, and its text. */
static int decide(csbot_session *s, const reading *m, decision *d) {
    int rc = CSBOT_OK;
    if (m->explicit_req) {
        person_requested(s->kb, m, d);
    } else if (m->senti >= s->kb->set.sentiment) {
        sentiment_handoff(d);
    } else {
        choose_intent(s, m, d);
        rc = d->decided >= 0 ? act_on_intent(s, m, d) : no_intent(s, m, d);
    }
    if (!rc && d->action == CSBOT_ACTION_HANDOFF)
        rc = handoff_text(s, m, d);
    if (!rc && !s->out.data)
        rc = csbot__buf_reserve(&s->alloc, &s->out, 0);
    return rc;
}

/* The commit of a turn, after everything it writes was reserved and the
 * handoff callback accepted: slots, context, pending question, misses,
 * repeat fingerprint, human mode, the transcript. Cannot fail. */
static void commit_turn(csbot_session *s, const reading *m, const decision *d,
                        const char *intent_id, int miss, int64_t now) {
    csbot_action action = d->action;
    s->turn++;
    for (size_t i = 0; i < s->nnew; i++) {
        int rc = csbot__pair_set(&s->alloc, &s->slots, &s->nslots, &s->slotcap,
                                 s->newslots[i].key.data, s->newslots[i].key.len,
                                 s->newslots[i].val.data, s->newslots[i].val.len);
        CSBOT_ASSERT(rc == CSBOT_OK); /* reserved by prepare_commit */
        CSBOT_UNUSED(rc);
    }
    int answered = action == CSBOT_ACTION_ANSWER || action == CSBOT_ACTION_ASK;
    if (d->decided >= 0 && (answered || action == CSBOT_ACTION_HANDOFF)) {
        csbot__buf_clear(&s->ctx_intent);
        (void)csbot__buf_puts(&s->alloc, &s->ctx_intent, intent_id);
        s->ctx_turn = s->turn;
        s->ctx_time_ms = now;
    }
    if (action == CSBOT_ACTION_ASK) {
        csbot__buf_clear(&s->pend_intent);
        (void)csbot__buf_puts(&s->alloc, &s->pend_intent, intent_id);
        s->pend_turn = s->turn;
    } else if (d->decided >= 0) {
        csbot__buf_clear(&s->pend_intent);
    }
    csbot__buf_clear(&s->last_answer);
    if (action == CSBOT_ACTION_ANSWER)
        (void)csbot__buf_puts(&s->alloc, &s->last_answer, intent_id);
    if (miss) {
        s->misses_row++;
        s->misses_total++;
    } else {
        s->misses_row = 0;
    }
    s->nfprint = (unsigned)CSBOT_MIN(s->scr.feats.n, (size_t)CSBOT__FPRINT);
    if (s->nfprint)
        memcpy(s->fprint, s->scr.feats.h, s->nfprint * sizeof(uint64_t));
    s->last_lang = m->lang;
    s->last_activity_ms = now;
    /* A conversation is counted when it starts (turn 1), and as handed off
     * at its first handoff: a session saved and restored between messages
     * is still one conversation. */
    if (s->turn == 1)
        s->ls.conversations++;
    if (action == CSBOT_ACTION_HANDOFF && !s->conv_handoff)
        s->ls.conv_handoff++;
    if (action == CSBOT_ACTION_HANDOFF) {
        s->human = 1;
        s->conv_handoff = 1;
        csbot__buf_clear(&s->pend_intent);
        s->misses_row = 0;
    } else {
        s->human = 0;
    }
    csbot__session_commit_turn(s);
}

/* The reply's fields and what csbot_session_explain reads. */
static void fill_reply(csbot_session *s, const reading *m, const decision *d,
                       const char *intent_id) {
    const csbot_kb *kb = s->kb;
    const csbot__scratch *sc = &s->scr;
    struct csbot_reply *r = &s->reply;
    r->text = s->out.data;
    r->intent = intent_id;
    r->action = d->action;
    r->conf = d->decided >= 0 ? d->conf : m->conf0;
    r->lang = m->lang;
    r->turn = s->turn;
    r->reason = d->reason;
    r->sentiment = m->senti;
    r->ncand = sc->ncand;
    r->nsuggest = d->action == CSBOT_ACTION_SUGGEST ? suggestion_count(sc) : 0;
    for (size_t i = 0; i < sc->ncand; i++) {
        r->cand_id[i] = kb->intents[sc->cand[i].intent].id;
        r->cand_score[i] = sc->cand[i].conf;
    }
    s->last.coverage = sc->coverage;
    s->last.sentiment = m->senti;
    s->last.decided = d->decided;
    s->last.reason = d->reason;
    s->last.why = d->why;
    s->last.limited = sc->limited;
}

/* Statistics, kept in the session until the next flush. */
static void count_turn(csbot_session *s, const char *text, size_t len,
                       const reading *m, const decision *d, int miss,
                       int64_t now, int64_t t0) {
    csbot__local_stats *ls = &s->ls;
    ls->replies++;
    ls->by_action[d->action]++;
    ls->by_reason[d->reason]++;
    if (d->decided >= 0 && ls->nhit < sizeof ls->hit / sizeof ls->hit[0])
        ls->hit[ls->nhit++] = (uint32_t)d->decided;
    count_time(s, now, t0);
    if (miss && (d->action == CSBOT_ACTION_FALLBACK ||
                 d->reason == CSBOT_HANDOFF_LOW_CONFIDENCE ||
                 d->reason == CSBOT_HANDOFF_REPEATED_MISS))
        csbot__stats_note_unanswered(s, text, len, m->lang, m->conf0);
    flush_if_due(s, d->action, now);
}

/* One turn, in the decision order at the top of this file. */
static int turn(csbot_session *s, const char *text, size_t len) {
    int64_t t0 = mono_ns();
    int64_t now = csbot__session_now(s);
    csbot__buf_clear(&s->out);
    memset(&s->reply, 0, sizeof s->reply);
    if (in_human_mode(s, now))
        return silent_turn(s, text, len, now, t0);

    reading m;
    int rc = read_message(s, text, len, now, &m);
    if (rc)
        return rc;
    decision d = {CSBOT_ACTION_NONE, CSBOT_HANDOFF_NONE, -1, m.conf0, 0, ""};
    if ((rc = decide(s, &m, &d)))
        return rc;

    const char *intent_id = d.decided >= 0 ? s->kb->intents[d.decided].id : NULL;
    int miss = d.decided < 0 && d.reason != CSBOT_HANDOFF_EXPLICIT_REQUEST &&
               d.reason != CSBOT_HANDOFF_SENTIMENT;
    csbot__turn *pt = csbot__session_pending_turn(s);
    if ((rc = record_turn(s, pt, text, len, intent_id, d.action, d.reason, d.conf,
                          now, d.variant)))
        return rc;
    /* Reserve everything the commit writes, so that it cannot fail
     * half-way once the callback has accepted the turn. */
    if ((rc = prepare_commit(s, intent_id)))
        return rc;
    if (d.action == CSBOT_ACTION_HANDOFF &&
        (rc = call_handoff(s, d.reason, pt->user.data, intent_id, d.conf, m.lang,
                           m.senti, miss)))
        return rc;
    commit_turn(s, &m, &d, intent_id, miss, now);
    fill_reply(s, &m, &d, intent_id);
    count_turn(s, text, len, &m, &d, miss, now, t0);
    return CSBOT_OK;
}

CSBOT_API int csbot_session_reply(csbot_session *s, const char *text,
                                  size_t len, const csbot_reply **out) {
    if (out)
        *out = NULL;
    if (!s)
        return CSBOT_EINVAL;
    if (!text || !out) {
        csbot__session_err(s, "NULL text or reply pointer");
        return CSBOT_EINVAL;
    }
    if (s->busy) {
        csbot__session_err(s, "csbot_session_reply called from inside a "
                              "callback of the same session");
        return CSBOT_EINVAL;
    }
    s->busy = 1;
    int rc = follow_hub(s);
    if (rc) {
        s->busy = 0;
        csbot__session_err(s, "cannot switch to the new knowledge base: %s",
                           csbot_strerror(rc));
        return rc;
    }
    if (len == CSBOT_NUL_TERMINATED)
        len = strlen(text);
    size_t bad = 0;
    if (len > s->kb->max_message) {
        csbot__session_err(s, "message of %zu bytes is over the limit of "
                              "%zu bytes", len, s->kb->max_message);
        rc = CSBOT_ETOOBIG;
    } else if (csbot__utf8_check(text, len, &bad)) {
        csbot__session_err(s, "%s at byte %zu of the message",
                           text[bad] ? "invalid UTF-8" : "NUL byte", bad);
        rc = CSBOT_EUTF8;
    } else if (csbot__utf8_is_blank(text, len)) {
        csbot__session_err(s, "the message is empty");
        rc = CSBOT_EEMPTY;
    } else if (s->turn >= CSBOT__MAX_TURNS) {
        csbot__session_err(s, "the conversation has taken its limit of %u "
                              "turns: reset the session", CSBOT__MAX_TURNS);
        rc = CSBOT_ETOOBIG;
    } else {
        rc = turn(s, text, len);
        if (rc == CSBOT_ENOMEM)
            csbot__session_err(s, "out of memory");
        else if (rc == CSBOT_OK)
            csbot__buf_clear(&s->err);
    }
    s->busy = 0;
    if (rc == CSBOT_OK)
        *out = &s->reply;
    return rc;
}

CSBOT_API int csbot_session_handoff(csbot_session *s) {
    if (!s)
        return CSBOT_EINVAL;
    if (s->busy) {
        csbot__session_err(s, "csbot_session_handoff called from inside a "
                              "callback of the same session");
        return CSBOT_EINVAL;
    }
    if (s->human) {
        csbot__session_err(s, "a human already has the conversation");
        return CSBOT_EHUMAN;
    }
    s->busy = 1;
    struct csbot_handoff h;
    memset(&h, 0, sizeof h);
    h.s = s;
    h.reason = CSBOT_HANDOFF_HOST;
    h.text = "";
    h.threshold = s->kb->set.answer;
    h.lang = s->last_lang ? s->last_lang : CSBOT_LANG_ZH_HANS;
    int rc = CSBOT_OK;
    if (s->opt.handoff && s->opt.handoff(&h, s->opt.handoff_ud)) {
        csbot__session_err(s, "the handoff callback refused");
        rc = CSBOT_ECALLBACK;
    }
    if (!rc) {
        s->human = 1;
        s->ls.conv_handoff += (uint64_t)(s->conv_handoff == 0 && s->turn > 0);
        s->conv_handoff = 1;
        s->ls.by_reason[CSBOT_HANDOFF_HOST]++;
        csbot__stats_flush(s);
    }
    s->busy = 0;
    return rc;
}
