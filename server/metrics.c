/*
 * metrics.c - counters and the Prometheus text exposition (see metrics.h).
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_ACTIONS = 7, N_CODES = 6, N_BUCKETS = 12 };

/* Handoffs are counted by the library's reason (csbot_handoff_reason_name
 * of 1..CSBOT_HANDOFF_HOST; the button counts as explicit_request), slot 0
 * for any other name. */
enum { N_REASONS = CSBOT_HANDOFF_HOST + 1 };

static const double BUCKETS[N_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25};

struct metrics {
    atomic_ulong codes[N_CODES]; /* 1xx..5xx by first digit; 0 other */
    atomic_ulong replies[N_ACTIONS];
    atomic_ulong handoffs[N_REASONS];
    atomic_ulong bucket[N_BUCKETS + 1];
    atomic_ulong sum_us;
    atomic_ulong reloads, reload_failures;
};

int metrics_new(metrics **out) {
    metrics *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    *out = m;
    return 0;
}

void metrics_free(metrics *m) { free(m); }

void metrics_request(metrics *m, unsigned status) {
    unsigned c = status / 100;
    atomic_fetch_add_explicit(&m->codes[c < N_CODES ? c : 0], 1,
                              memory_order_relaxed);
}

void metrics_reply(metrics *m, csbot_action action, double seconds) {
    unsigned a = (unsigned)action < N_ACTIONS ? (unsigned)action : 0;
    atomic_fetch_add_explicit(&m->replies[a], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BUCKETS && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&m->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

void metrics_handoff(metrics *m, const char *reason) {
    int i = N_REASONS - 1;
    while (i > 0 && strcmp(csbot_handoff_reason_name((csbot_handoff_reason)i), reason) != 0)
        i--;
    atomic_fetch_add_explicit(&m->handoffs[i], 1, memory_order_relaxed);
}

void metrics_reload(metrics *m, int ok) {
    atomic_fetch_add_explicit(ok ? &m->reloads : &m->reload_failures, 1,
                              memory_order_relaxed);
}

typedef struct out {
    char *p;
    size_t len, cap;
    int bad;
} out;

static void put(out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(out *o, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p ? o->p + o->len : NULL,
                          o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->bad = 1;
            return;
        }
        if (o->p && o->len + (size_t)n < o->cap) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap ? o->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->bad = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
}

static unsigned long get(atomic_ulong *v) {
    return atomic_load_explicit(v, memory_order_relaxed);
}

char *metrics_text(metrics *m, long open_handoffs, unsigned long generation,
                   size_t nconvs, int nwaiters) {
    out o = {0};
    put(&o, "# HELP csbot_http_requests_total HTTP requests by status class.\n"
            "# TYPE csbot_http_requests_total counter\n");
    for (unsigned c = 1; c < N_CODES; c++)
        put(&o, "csbot_http_requests_total{code=\"%uxx\"} %lu\n", c,
            get(&m->codes[c]));
    put(&o, "# HELP csbot_replies_total Bot replies by action.\n"
            "# TYPE csbot_replies_total counter\n");
    for (int a = 1; a < N_ACTIONS; a++)
        put(&o, "csbot_replies_total{action=\"%s\"} %lu\n",
            csbot_action_name((csbot_action)a), get(&m->replies[a]));
    put(&o, "# HELP csbot_handoffs_total Handoffs to a person by reason.\n"
            "# TYPE csbot_handoffs_total counter\n");
    for (int r = 1; r <= N_REASONS; r++)
        put(&o, "csbot_handoffs_total{reason=\"%s\"} %lu\n",
            r < N_REASONS ? csbot_handoff_reason_name((csbot_handoff_reason)r) : "other",
            get(&m->handoffs[r % N_REASONS]));
    put(&o, "# HELP csbot_reply_seconds Time to reply to a customer message,"
            " storage included.\n# TYPE csbot_reply_seconds histogram\n");
    unsigned long cum = 0;
    for (int b = 0; b < N_BUCKETS; b++) {
        cum += get(&m->bucket[b]);
        put(&o, "csbot_reply_seconds_bucket{le=\"%g\"} %lu\n", BUCKETS[b], cum);
    }
    cum += get(&m->bucket[N_BUCKETS]);
    put(&o, "csbot_reply_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
    put(&o, "csbot_reply_seconds_sum %.6f\ncsbot_reply_seconds_count %lu\n",
        (double)get(&m->sum_us) / 1e6, cum);
    put(&o, "# HELP csbot_open_handoffs Handoffs not yet resolved.\n"
            "# TYPE csbot_open_handoffs gauge\ncsbot_open_handoffs %ld\n",
        open_handoffs);
    put(&o, "# HELP csbot_kb_generation Knowledge-base swaps since start.\n"
            "# TYPE csbot_kb_generation gauge\ncsbot_kb_generation %lu\n",
        generation);
    put(&o, "# HELP csbot_kb_reloads_total Successful knowledge-base reloads.\n"
            "# TYPE csbot_kb_reloads_total counter\ncsbot_kb_reloads_total %lu\n",
        get(&m->reloads));
    put(&o, "# HELP csbot_kb_reload_failures_total Rejected reloads.\n"
            "# TYPE csbot_kb_reload_failures_total counter\n"
            "csbot_kb_reload_failures_total %lu\n",
        get(&m->reload_failures));
    put(&o, "# HELP csbot_conversations_in_memory Conversations held in memory.\n"
            "# TYPE csbot_conversations_in_memory gauge\n"
            "csbot_conversations_in_memory %zu\n",
        nconvs);
    put(&o, "# HELP csbot_long_polls Requests waiting for a message.\n"
            "# TYPE csbot_long_polls gauge\ncsbot_long_polls %d\n",
        nwaiters);
    if (o.bad) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
