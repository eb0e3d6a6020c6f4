/*
 * session.h - the conversation state shared by session.c (lifecycle,
 * profile, human mode, error messages), reply.c (the reply flow and
 * decisions), render.c (answer templates), handoff.c (the handoff packet),
 * state.c (saving and restoring), stats.c (service figures), explain.c
 * (:why) and hub.c (hot reload), with the internal functions of session.c.
 */
#ifndef CSBOT_SESSION_H
#define CSBOT_SESSION_H

#include "match.h"

/* One turn of the transcript. Buffers are reused when the ring wraps. */
typedef struct csbot__turn {
    csbot__buf user;
    csbot__buf bot;
    csbot__buf intent;   /* decided intent id, "" for none */
    csbot__buf cands;    /* top candidate ids, NUL-separated */
    float cscore[CSBOT__TURN_CANDS];
    unsigned ncand;
    csbot_action action;
    csbot_handoff_reason reason;
    float conf;
    int64_t time_ms;
    unsigned turn;
    int rating; /* 0 = none */
    unsigned variant; /* 1 + the response variant shown, 0 = none (not saved) */
} csbot__turn;

typedef struct csbot__pair {
    csbot__buf key;
    csbot__buf val;
} csbot__pair;

/* Counts kept by a session and added to its csbot_stats now and then. */
typedef struct csbot__local_stats {
    uint64_t replies;
    uint64_t by_action[CSBOT__NACTIONS];
    uint64_t by_reason[CSBOT__NREASONS];
    uint64_t lat[CSBOT__LAT_BUCKETS]; /* reply time: < 2^i microseconds */
    uint64_t lat_ns_total;
    uint64_t hour[CSBOT__HOURS];
    uint64_t ratings, rating_sum, helpful, not_helpful;
    uint64_t conversations, conv_handoff;
    uint32_t hit[CSBOT__FLUSH_REPLIES]; /* intents decided since the last flush */
    unsigned nhit;
    const csbot_kb *kb;    /* the kb those intent numbers refer to */
    int64_t last_flush_ms;
    unsigned since_flush;
} csbot__local_stats;

struct csbot_handoff {
    csbot_session *s;
    csbot_handoff_reason reason;
    const char *text;
    const char *intent;
    double conf;
    double threshold;
    csbot_lang lang;
    double sentiment;
    int with_pending; /* the pending turn counts as part of the transcript */
    int pending_miss; /* ... and it is a turn the bot did not understand */
};

struct csbot_reply {
    const char *text;
    const char *intent;
    csbot_action action;
    double conf;
    csbot_lang lang;
    unsigned turn;
    csbot_handoff_reason reason;
    double sentiment;
    size_t ncand;
    size_t nsuggest; /* candidates the suggestion lists (the first ones) */
    const char *cand_id[CSBOT__MAXCAND];
    double cand_score[CSBOT__MAXCAND];
};

struct csbot_session {
    csbot__alloc alloc;
    const csbot_kb *kb;
    csbot_hub *hub;
    unsigned long hub_gen;
    csbot__scratch scr;
    csbot_session_options opt;
    void *data;
    int busy; /* re-entrancy guard */
    csbot__buf err;

    /* conversation */
    unsigned turn;
    unsigned misses_row, misses_total;
    int human;
    int64_t last_activity_ms;
    csbot_lang last_lang;
    csbot__buf ctx_intent; /* context for follow-ups, "" none */
    unsigned ctx_turn;
    int64_t ctx_time_ms;
    csbot__buf pend_intent; /* waiting for a required slot, "" none */
    unsigned pend_turn;
    csbot__buf last_answer; /* intent answered in the previous turn */
    uint64_t fprint[CSBOT__FPRINT];
    unsigned nfprint;
    int conv_handoff;  /* this conversation was handed off */

    csbot__pair *slots;
    size_t nslots, slotcap;
    csbot__pair *profile;
    size_t nprofile, profcap;

    csbot__turn *ring; /* capacity opt.transcript_turns + 1 */
    size_t ringcap, head, count;

    /* per-turn scratch */
    csbot__buf out;      /* reply text */
    csbot__buf tmp;
    csbot__pair *newslots; /* slots found in this message */
    size_t nnew, newcap;
    csbot__buf explain_norm;
    struct csbot_reply reply;
    struct {
        float coverage, sentiment;
        int decided;
        csbot_handoff_reason reason;
        const char *why;
        int limited;
    } last;

    csbot_stats *stats;
    csbot__local_stats ls;
};

/* session.c */
int64_t csbot__session_now(const csbot_session *s);
/* Set the message csbot_session_errmsg() returns (at most 255 bytes). */
void csbot__session_err(csbot_session *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int csbot__pair_set(const csbot__alloc *a, csbot__pair **arr, size_t *n,
                    size_t *cap, const char *key, size_t klen,
                    const char *val, size_t vlen);
const char *csbot__pair_get(const csbot__pair *arr, size_t n, const char *key,
                            size_t klen);
void csbot__pairs_free(const csbot__alloc *a, csbot__pair *arr, size_t n);
void csbot__turn_free(const csbot__alloc *a, csbot__turn *t);
/* The transcript entry at visible position i (0 = oldest); with_pending, the
 * turn being built is the last one. */
const csbot__turn *csbot__session_turn(const csbot_session *s, size_t i,
                                       int with_pending);
size_t csbot__session_turn_count(const csbot_session *s, int with_pending);
csbot__turn *csbot__session_pending_turn(csbot_session *s);
void csbot__session_commit_turn(csbot_session *s);

#endif
