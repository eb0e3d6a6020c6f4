/*
 * stats.c - service figures for a shop: replies, decisions by action,
 * handoffs by reason, per-intent hits, resolution rate (the share of
 * conversations started that were never handed off), satisfaction, a reply-time histogram, messages by
 * hour of the shop's day, and a bounded log of unanswered messages.
 *
 * Sessions count in their own memory and add their counts to the shared
 * object under its mutex (csbot__stats_flush) at the first reply a second
 * (CSBOT__FLUSH_MS) after the last flush, every CSBOT__FLUSH_REPLIES (256)
 * replies (flush_if_due in reply.c), on a handoff (by the bot or the host), when a hub
 * session moves to a new knowledge base, when the host detaches or
 * replaces the stats object, on csbot_session_flush_stats() and on free:
 * the reply path writes no shared memory. A reset does not flush (see
 * csbot_session_reset in session.c). The unanswered log is written when a
 * message is not understood (a rare path).
 *
 * A stats object allocates with the C library's allocator (it is not tied
 * to one knowledge base); csbot__stats_new_alloc takes another, for the
 * out-of-memory tests. csbot_stats_json() returns 0 and writes "" when it
 * runs out of memory, never a partial or made-up object.
 */
#include <pthread.h>
#include <stdlib.h>

#include "session.h"
#include "stats.h"

typedef struct unanswered {
    char text[256];
    csbot_lang lang;
    float conf;
    int64_t time_ms;
} unanswered;

struct csbot_stats {
    pthread_mutex_t mu;
    csbot__alloc alloc;
    int offset;
    csbot__local_stats tot; /* hit[], nhit, kb unused here */
    csbot__dict ids;        /* hash of intent id -> index into names/hits */
    char **names;
    uint64_t *hits;
    size_t nnames, namecap;
    unanswered *log;
    size_t cap, head, count;
    uint64_t unanswered_total;
};

int csbot__stats_new_alloc(csbot_stats **out, int utc_offset_minutes,
                           size_t unanswered_cap, csbot_alloc_fn fn,
                           void *ud) {
    if (!out)
        return CSBOT_EINVAL;
    *out = NULL;
    if (utc_offset_minutes < -CSBOT__MAX_UTC_OFFSET_MIN ||
        utc_offset_minutes > CSBOT__MAX_UTC_OFFSET_MIN)
        return CSBOT_EINVAL;
    csbot__alloc a;
    csbot__alloc_init(&a, fn, ud);
    csbot_stats *st = csbot__calloc(&a, 1, sizeof *st);
    if (!st)
        return CSBOT_ENOMEM;
    st->alloc = a;
    st->offset = utc_offset_minutes;
    st->cap = unanswered_cap ? unanswered_cap : CSBOT__UNANSWERED_DEFAULT;
    if (st->cap > CSBOT__UNANSWERED_MAX)
        st->cap = CSBOT__UNANSWERED_MAX;
    st->log = csbot__calloc(&a, st->cap, sizeof *st->log);
    if (!st->log || csbot__dict_init(&a, &st->ids, 64) ||
        pthread_mutex_init(&st->mu, NULL)) {
        csbot__free(&a, st->log);
        csbot__dict_free(&a, &st->ids);
        csbot__free(&a, st);
        return CSBOT_ENOMEM;
    }
    *out = st;
    return CSBOT_OK;
}

CSBOT_API int csbot_stats_new(csbot_stats **out, int utc_offset_minutes,
                              size_t unanswered_cap) {
    return csbot__stats_new_alloc(out, utc_offset_minutes, unanswered_cap,
                                  NULL, NULL);
}

CSBOT_API void csbot_stats_free(csbot_stats *st) {
    if (!st)
        return;
    csbot__alloc a = st->alloc;
    pthread_mutex_destroy(&st->mu);
    for (size_t i = 0; i < st->nnames; i++)
        csbot__free(&a, st->names[i]);
    csbot__free(&a, st->names);
    csbot__free(&a, st->hits);
    csbot__dict_free(&a, &st->ids);
    csbot__free(&a, st->log);
    csbot__free(&a, st);
}

int csbot__stats_offset(const csbot_stats *st) {
    return st->offset;
}

int csbot__stats_bind(csbot_session *s, const csbot_kb *kb) {
    s->ls.kb = kb;
    s->ls.nhit = 0;
    return CSBOT_OK;
}

void csbot__stats_local_free(csbot_session *s) {
    s->ls.nhit = 0;
    s->ls.kb = NULL;
}

/* Under the mutex: count one hit of intent id. */
static void add_hit(csbot_stats *st, const char *id, uint64_t n) {
    uint64_t h = csbot__hash(id, strlen(id), 23);
    uint32_t idx;
    if (csbot__dict_get(&st->ids, h, &idx)) {
        st->hits[idx] += n;
        return;
    }
    if (st->nnames == st->namecap) {
        size_t c1 = st->namecap, c2 = st->namecap;
        void *p1 = st->names, *p2 = st->hits;
        if (csbot__grow(&st->alloc, &p1, &c1, st->nnames + 1, sizeof(char *)))
            return;
        st->names = p1;
        if (csbot__grow(&st->alloc, &p2, &c2, st->nnames + 1, sizeof(uint64_t)))
            return;
        st->hits = p2;
        st->namecap = c1 < c2 ? c1 : c2;
    }
    char *copy = csbot__strdup(&st->alloc, id);
    if (!copy || csbot__dict_put(&st->alloc, &st->ids, h, (uint32_t)st->nnames,
                                 NULL)) {
        csbot__free(&st->alloc, copy);
        return; /* out of memory: this hit is not counted */
    }
    st->names[st->nnames] = copy;
    st->hits[st->nnames++] = n;
}

void csbot__stats_flush(csbot_session *s) {
    csbot__local_stats *l = &s->ls;
    csbot_stats *st = s->stats;
    int64_t now = csbot__session_now(s);
    if (!st)
        goto reset; /* nothing to report to: forget the counts */
    pthread_mutex_lock(&st->mu);
    csbot__local_stats *t = &st->tot;
    t->replies += l->replies;
    for (int i = 0; i < CSBOT__NACTIONS; i++)
        t->by_action[i] += l->by_action[i];
    for (int i = 0; i < CSBOT__NREASONS; i++)
        t->by_reason[i] += l->by_reason[i];
    for (int i = 0; i < CSBOT__LAT_BUCKETS; i++)
        t->lat[i] += l->lat[i];
    t->lat_ns_total += l->lat_ns_total;
    for (int i = 0; i < CSBOT__HOURS; i++)
        t->hour[i] += l->hour[i];
    t->ratings += l->ratings;
    t->rating_sum += l->rating_sum;
    t->helpful += l->helpful;
    t->not_helpful += l->not_helpful;
    t->conversations += l->conversations;
    t->conv_handoff += l->conv_handoff;
    for (unsigned i = 0; i < l->nhit && l->kb; i++)
        if (l->hit[i] < l->kb->nintents)
            add_hit(st, l->kb->intents[l->hit[i]].id, 1);
    pthread_mutex_unlock(&st->mu);
reset:;
    const csbot_kb *kb = l->kb;
    memset(l, 0, sizeof *l);
    l->kb = kb;
    l->last_flush_ms = now;
}

void csbot__stats_note_unanswered(csbot_session *s, const char *text,
                                  size_t len, csbot_lang lang, double conf) {
    csbot_stats *st = s->stats;
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    unanswered *u = &st->log[(st->head + st->count) % st->cap];
    if (st->count < st->cap)
        st->count++;
    else
        st->head = (st->head + 1) % st->cap;
    /* keep whole UTF-8 characters */
    size_t n = len < sizeof u->text - 1 ? len : sizeof u->text - 1;
    while (n > 0 && n < len && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    memcpy(u->text, text, n);
    u->text[n] = '\0';
    u->lang = lang;
    u->conf = (float)conf;
    u->time_ms = csbot__session_now(s);
    st->unanswered_total++;
    pthread_mutex_unlock(&st->mu);
}

static double ratio(uint64_t a, uint64_t b) {
    return b ? (double)a / (double)b : 0.0;
}

CSBOT_API size_t csbot_stats_json(csbot_stats *st, char *buf, size_t size) {
    if (!st)
        return csbot__copy_out(buf, size, "{}", 2);
    csbot__buf b = {0};
    const csbot__alloc *a = &st->alloc;
    pthread_mutex_lock(&st->mu);
    const csbot__local_stats *t = &st->tot;
    uint64_t R = t->replies;
    uint64_t bot_replies = R - t->by_action[CSBOT_ACTION_SILENT];
    int rc = csbot__buf_printf(
        a, &b,
        "{\"replies\":%llu,\"conversations\":%llu,"
        "\"conversations_handed_off\":%llu,\"resolution_rate\":%.4f,"
        "\"actions\":{",
        (unsigned long long)R, (unsigned long long)t->conversations,
        (unsigned long long)t->conv_handoff,
        t->conversations ? 1.0 - ratio(t->conv_handoff, t->conversations) : 0.0);
    for (int i = 1; i < CSBOT__NACTIONS && !rc; i++)
        rc = csbot__buf_printf(a, &b, "%s\"%s\":%llu", i > 1 ? "," : "",
                               csbot_action_name((csbot_action)i),
                               (unsigned long long)t->by_action[i]);
    rc = rc ? rc : csbot__buf_printf(
        a, &b,
        "},\"rates\":{\"answer\":%.4f,\"ask\":%.4f,\"suggest\":%.4f,"
        "\"fallback\":%.4f,\"handoff\":%.4f},\"handoff_reasons\":{",
        ratio(t->by_action[CSBOT_ACTION_ANSWER], bot_replies),
        ratio(t->by_action[CSBOT_ACTION_ASK], bot_replies),
        ratio(t->by_action[CSBOT_ACTION_SUGGEST], bot_replies),
        ratio(t->by_action[CSBOT_ACTION_FALLBACK], bot_replies),
        ratio(t->by_action[CSBOT_ACTION_HANDOFF], bot_replies));
    for (int i = 1; i < CSBOT__NREASONS && !rc; i++)
        rc = csbot__buf_printf(a, &b, "%s\"%s\":%llu", i > 1 ? "," : "",
                               csbot_handoff_reason_name((csbot_handoff_reason)i),
                               (unsigned long long)t->by_reason[i]);
    rc = rc ? rc : csbot__buf_puts(a, &b, "},\"intents\":{");
    for (size_t i = 0; i < st->nnames && !rc; i++) {
        rc = i ? csbot__buf_putc(a, &b, ',') : CSBOT_OK;
        rc = rc ? rc : csbot__buf_json_str(a, &b, st->names[i]);
        rc = rc ? rc : csbot__buf_printf(a, &b, ":%llu",
                                         (unsigned long long)st->hits[i]);
    }
    rc = rc ? rc : csbot__buf_printf(
        a, &b,
        "},\"satisfaction\":{\"ratings\":%llu,\"mean_rating\":%.3f,"
        "\"helpful\":%llu,\"not_helpful\":%llu},"
        "\"reply_time\":{\"mean_us\":%.2f,\"histogram\":[",
        (unsigned long long)t->ratings, ratio(t->rating_sum, t->ratings),
        (unsigned long long)t->helpful, (unsigned long long)t->not_helpful,
        R ? (double)t->lat_ns_total / 1000.0 / (double)R : 0.0);
    for (int i = 0; i < CSBOT__LAT_BUCKETS && !rc; i++) {
        if (i + 1 < CSBOT__LAT_BUCKETS)
            rc = csbot__buf_printf(a, &b, "%s{\"under_us\":%llu,\"count\":%llu}",
                                   i ? "," : "", 1ULL << i,
                                   (unsigned long long)t->lat[i]);
        else
            rc = csbot__buf_printf(a, &b, ",{\"under_us\":null,\"count\":%llu}",
                                   (unsigned long long)t->lat[i]);
    }
    int busiest = 0;
    for (int i = 1; i < CSBOT__HOURS; i++)
        if (t->hour[i] > t->hour[busiest])
            busiest = i;
    rc = rc ? rc : csbot__buf_printf(a, &b, "]},\"messages_by_hour\":[");
    for (int i = 0; i < CSBOT__HOURS && !rc; i++)
        rc = csbot__buf_printf(a, &b, "%s%llu", i ? "," : "",
                               (unsigned long long)t->hour[i]);
    rc = rc ? rc : csbot__buf_printf(a, &b,
                                     "],\"busiest_hour\":%d,\"utc_offset_minutes\":%d,"
                                     "\"unanswered\":{\"total\":%llu,\"recent\":[",
                                     t->hour[busiest] ? busiest : -1, st->offset,
                                     (unsigned long long)st->unanswered_total);
    for (size_t i = 0; i < st->count && !rc; i++) {
        const unanswered *u = &st->log[(st->head + i) % st->cap];
        rc = csbot__buf_puts(a, &b, i ? ",{\"text\":" : "{\"text\":");
        rc = rc ? rc : csbot__buf_json_str(a, &b, u->text);
        rc = rc ? rc : csbot__buf_printf(a, &b,
                                         ",\"lang\":\"%s\",\"confidence\":%.3f,"
                                         "\"time_ms\":%lld}",
                                         csbot_lang_name(u->lang), u->conf,
                                         (long long)u->time_ms);
    }
    rc = rc ? rc : csbot__buf_puts(a, &b, "]}}");
    pthread_mutex_unlock(&st->mu);
    /* out of memory: 0 and "", which no figures can be mistaken for */
    size_t n = rc ? csbot__copy_out(buf, size, "", 0)
                  : csbot__copy_out(buf, size, b.data, b.len);
    csbot__buf_free(a, &b);
    return n;
}
