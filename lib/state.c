/*
 * state.c - a session's conversation state as bytes, so that another process
 * (another backend behind a load balancer, with sessions kept in Redis) can
 * carry on the conversation. Intents are stored by id, so the bytes stay
 * valid with a newer knowledge base.
 *
 * Format, little-endian: "CSBS", u32 version 1, the counters and times, the
 * context strings, the repeat fingerprint, slots, profile, transcript, then a
 * 64-bit hash of everything before it. Restoring checks every length and the
 * hash first, builds the new state beside the old one and swaps only when
 * all of it is in place: damaged or foreign bytes leave the session as it was.
 */
#include "session.h"
#include "utf8.h"

#define MAGIC "CSBS"
#define VERSION 1u

/* Version 1 stores CSBOT__TURN_CANDS candidate scores per turn and checks
 * them one by one (parse): another count is another format. */
_Static_assert(CSBOT__TURN_CANDS == 3, "state format 1 holds 3 candidate scores a turn");

typedef struct wr {
    unsigned char *p;
    size_t size, len;
} wr;

static void put(wr *w, const void *d, size_t n) {
    if (w->len + n <= w->size && n)
        memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void put_u32(wr *w, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(wr *w, uint64_t v) {
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_f32(wr *w, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}

static void put_buf(wr *w, const csbot__buf *b) {
    put_u32(w, (uint32_t)b->len);
    put(w, b->data, b->len);
}

CSBOT_API int csbot_session_save(const csbot_session *s, void *buf,
                                 size_t size, size_t *needed) {
    if (!s || !needed || (!buf && size))
        return CSBOT_EINVAL;
    wr w = {buf, size, 0};
    put(&w, MAGIC, 4);
    put_u32(&w, VERSION);
    put_u32(&w, s->turn);
    put_u32(&w, s->misses_row);
    put_u32(&w, s->misses_total);
    put_u32(&w, (uint32_t)s->human);
    put_u32(&w, (uint32_t)s->last_lang);
    put_u32(&w, s->ctx_turn);
    put_u32(&w, s->pend_turn);
    put_u32(&w, (uint32_t)s->conv_handoff);
    put_u64(&w, (uint64_t)s->last_activity_ms);
    put_u64(&w, (uint64_t)s->ctx_time_ms);
    put_buf(&w, &s->ctx_intent);
    put_buf(&w, &s->pend_intent);
    put_buf(&w, &s->last_answer);
    put_u32(&w, s->nfprint);
    for (unsigned i = 0; i < s->nfprint; i++)
        put_u64(&w, s->fprint[i]);
    put_u32(&w, (uint32_t)s->nslots);
    for (size_t i = 0; i < s->nslots; i++) {
        put_buf(&w, &s->slots[i].key);
        put_buf(&w, &s->slots[i].val);
    }
    put_u32(&w, (uint32_t)s->nprofile);
    for (size_t i = 0; i < s->nprofile; i++) {
        put_buf(&w, &s->profile[i].key);
        put_buf(&w, &s->profile[i].val);
    }
    put_u32(&w, (uint32_t)s->count);
    for (size_t i = 0; i < s->count; i++) {
        const csbot__turn *t = csbot__session_turn(s, i, 0);
        put_buf(&w, &t->user);
        put_buf(&w, &t->bot);
        put_buf(&w, &t->intent);
        put_buf(&w, &t->cands);
        put_u32(&w, t->ncand);
        for (int k = 0; k < CSBOT__TURN_CANDS; k++)
            put_f32(&w, t->cscore[k]);
        put_u32(&w, (uint32_t)t->action);
        put_u32(&w, (uint32_t)t->reason);
        put_f32(&w, t->conf);
        put_u64(&w, (uint64_t)t->time_ms);
        put_u32(&w, t->turn);
        put_u32(&w, (uint32_t)t->rating);
    }
    size_t body = w.len;
    uint64_t h = w.len <= w.size ? csbot__hash(w.p, body, 99) : 0;
    put_u64(&w, h);
    *needed = w.len;
    return w.len <= size ? CSBOT_OK : CSBOT_ERANGE;
}

typedef struct rd {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} rd;

static uint32_t get_u32(rd *r) {
    if (r->len - r->pos < 4) {
        r->bad = 1;
        r->pos = r->len;
        return 0;
    }
    const unsigned char *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t get_u64(rd *r) {
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static float get_f32(rd *r) {
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* A string: text (valid UTF-8, no NUL) unless raw. */
static int get_buf(rd *r, const csbot__alloc *a, csbot__buf *b, int raw,
                   size_t max) {
    uint32_t n = get_u32(r);
    if (r->bad || n > max || r->len - r->pos < n) {
        r->bad = 1;
        return CSBOT_ESTATE;
    }
    const char *d = (const char *)r->p + r->pos;
    r->pos += n;
    if (!raw && csbot__utf8_check(d, n, NULL)) {
        r->bad = 1;
        return CSBOT_ESTATE;
    }
    csbot__buf_clear(b);
    if (!a)
        return CSBOT_OK; /* validation pass */
    int rc = csbot__buf_append(a, b, d, n);
    if (!rc && !b->data)
        rc = csbot__buf_reserve(a, b, 0);
    return rc;
}

/* The new state, built beside the session's. */
typedef struct shadow {
    unsigned turn, misses_row, misses_total, ctx_turn, pend_turn, nfprint;
    int human, conv_handoff;
    csbot_lang last_lang;
    int64_t last_activity_ms, ctx_time_ms;
    csbot__buf ctx_intent, pend_intent, last_answer;
    uint64_t fprint[CSBOT__FPRINT];
    csbot__pair *slots, *profile;
    size_t nslots, slotcap, nprofile, profcap;
    csbot__turn *ring;
    size_t count;
} shadow;

static void shadow_free(const csbot__alloc *a, shadow *sh, size_t ringcap) {
    csbot__buf_free(a, &sh->ctx_intent);
    csbot__buf_free(a, &sh->pend_intent);
    csbot__buf_free(a, &sh->last_answer);
    csbot__pairs_free(a, sh->slots, sh->slotcap);
    csbot__pairs_free(a, sh->profile, sh->profcap);
    for (size_t i = 0; sh->ring && i < ringcap; i++)
        csbot__turn_free(a, &sh->ring[i]);
    csbot__free(a, sh->ring);
}

/* Times in a state are milliseconds since 1970, before the year 10000. */
#define MAX_TIME_MS 253402300800000LL

static int bad_time(int64_t ms) { return ms < 0 || ms > MAX_TIME_MS; }

/* A score in a state: a number in [0, 1] (NaN fails both tests). */
static int bad_score(float x) { return !(x >= 0.0f && x <= 1.0f); }

/* Text in a state must be what a session could have written: valid UTF-8
 * (the candidate list: NUL-separated valid UTF-8). */
static int bad_text(const csbot__buf *b, int nul_separated) {
    size_t at;
    const char *p = b->data ? b->data : "";
    if (!nul_separated)
        return csbot__utf8_check(p, b->len, &at) != CSBOT_OK;
    for (size_t i = 0, start = 0; i < b->len; i++)
        if (p[i] == '\0') {
            if (csbot__utf8_check(p + start, i - start, &at) != CSBOT_OK)
                return 1;
            start = i + 1;
        }
    return 0;
}

/* Parse into sh (a == NULL: only validate). */
static int parse(rd *r, const csbot__alloc *a, shadow *sh, size_t ringcap) {
    int rc = CSBOT_OK;
    csbot__buf scratch = {0};
    if (r->len < 8 || memcmp(r->p, MAGIC, 4))
        return CSBOT_ESTATE;
    r->pos = 4;
    if (get_u32(r) != VERSION)
        return CSBOT_ESTATE;
    sh->turn = get_u32(r);
    sh->misses_row = get_u32(r);
    sh->misses_total = get_u32(r);
    sh->human = get_u32(r) != 0;
    uint32_t lang = get_u32(r);
    sh->last_lang = lang < CSBOT__NLANGS ? (csbot_lang)lang : CSBOT_LANG_UNKNOWN;
    sh->ctx_turn = get_u32(r);
    sh->pend_turn = get_u32(r);
    sh->conv_handoff = get_u32(r) != 0;
    sh->last_activity_ms = (int64_t)get_u64(r);
    sh->ctx_time_ms = (int64_t)get_u64(r);
    rc = get_buf(r, a, a ? &sh->ctx_intent : &scratch, 0, 256);
    rc = rc ? rc : get_buf(r, a, a ? &sh->pend_intent : &scratch, 0, 256);
    rc = rc ? rc : get_buf(r, a, a ? &sh->last_answer : &scratch, 0, 256);
    sh->nfprint = get_u32(r);
    if (!rc && (bad_time(sh->last_activity_ms) || bad_time(sh->ctx_time_ms)))
        rc = CSBOT_ESTATE;
    /* a session never goes past CSBOT__MAX_TURNS (reply refuses to) */
    if (!rc && sh->turn > CSBOT__MAX_TURNS)
        rc = CSBOT_ESTATE;
    if (rc || r->bad || sh->nfprint > CSBOT__FPRINT)
        return rc && rc != CSBOT_ESTATE ? rc : CSBOT_ESTATE;
    for (unsigned i = 0; i < sh->nfprint; i++)
        sh->fprint[i] = get_u64(r);
    for (int which = 0; which < 2 && !rc; which++) {
        uint32_t n = get_u32(r);
        if (r->bad || n > 4096)
            return CSBOT_ESTATE;
        for (uint32_t i = 0; i < n && !rc; i++) {
            csbot__buf k = {0}, v = {0};
            rc = get_buf(r, a, &k, 0, 256);
            rc = rc ? rc : get_buf(r, a, &v, 0, 65536);
            if (!rc && a)
                rc = which == 0
                         ? csbot__pair_set(a, &sh->slots, &sh->nslots,
                                           &sh->slotcap, k.data, k.len,
                                           v.data, v.len)
                         : csbot__pair_set(a, &sh->profile, &sh->nprofile,
                                           &sh->profcap, k.data, k.len,
                                           v.data, v.len);
            if (a) {
                csbot__buf_free(a, &k);
                csbot__buf_free(a, &v);
            }
        }
    }
    if (rc)
        return rc;
    uint32_t nt = get_u32(r);
    if (r->bad)
        return CSBOT_ESTATE;
    /* keep the newest turns that fit this session's transcript */
    size_t skip = nt > ringcap - 1 ? nt - (ringcap - 1) : 0;
    if (a) {
        sh->ring = csbot__calloc(a, ringcap, sizeof *sh->ring);
        if (!sh->ring)
            return CSBOT_ENOMEM;
    }
    unsigned prev = 0;
    for (uint32_t i = 0; i < nt && !rc; i++) {
        csbot__turn tmp;
        memset(&tmp, 0, sizeof tmp);
        csbot__turn *t = (a && i >= skip) ? &sh->ring[i - skip] : &tmp;
        const csbot__alloc *ta = (a && i >= skip) ? a : NULL;
        rc = get_buf(r, ta, &t->user, 0, 1 << 24);
        rc = rc ? rc : get_buf(r, ta, &t->bot, 0, 1 << 24);
        rc = rc ? rc : get_buf(r, ta, &t->intent, 0, 256);
        rc = rc ? rc : get_buf(r, ta, &t->cands, 1, 1024);
        t->ncand = get_u32(r);
        for (int k = 0; k < CSBOT__TURN_CANDS; k++)
            t->cscore[k] = get_f32(r);
        uint32_t act = get_u32(r), why = get_u32(r);
        t->conf = get_f32(r);
        t->time_ms = (int64_t)get_u64(r);
        t->turn = get_u32(r);
        t->rating = (int)get_u32(r);
        if (!rc && (r->bad || t->ncand > CSBOT__TURN_CANDS || act >= CSBOT__NACTIONS ||
                    why >= CSBOT__NREASONS || t->rating < 0 || t->rating > 5 ||
                    bad_score(t->cscore[0]) || bad_score(t->cscore[1]) ||
                    bad_score(t->cscore[2]) || bad_score(t->conf) ||
                    bad_time(t->time_ms) ||
                    /* saved turns are ones the session has taken, oldest
                     * first: numbered 1..turn, each after the one before */
                    t->turn == 0 || t->turn > sh->turn || t->turn <= prev))
            rc = CSBOT_ESTATE;
        if (!rc && ta && (bad_text(&t->user, 0) || bad_text(&t->bot, 0) ||
                          bad_text(&t->intent, 0) || bad_text(&t->cands, 1)))
            rc = CSBOT_ESTATE;
        /* candidate ids: ncand NUL-terminated strings */
        size_t z = 0;
        for (size_t k = 0; !rc && ta && k < t->cands.len; k++)
            z += t->cands.data[k] == '\0';
        if (!rc && ta && z != t->ncand)
            rc = CSBOT_ESTATE;
        t->action = (csbot_action)act;
        t->reason = (csbot_handoff_reason)why;
        prev = t->turn;
    }
    sh->count = nt - skip;
    if (!rc && r->len - r->pos != 8)
        rc = CSBOT_ESTATE;
    return rc;
}

static int restore(csbot_session *s, const void *buf, size_t len) {
    const unsigned char *p = buf;
    if (len < 16 || len > ((size_t)1 << 30))
        return CSBOT_ESTATE;
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--)
        want = want << 8 | p[len - 8 + (size_t)i];
    if (csbot__hash(p, len - 8, 99) != want)
        return CSBOT_ESTATE;
    shadow sh;
    memset(&sh, 0, sizeof sh);
    rd r = {p, len, 0, 0};
    int rc = parse(&r, NULL, &sh, s->ringcap); /* validate everything */
    if (!rc) {
        memset(&sh, 0, sizeof sh);
        r.pos = 0;
        r.bad = 0;
        rc = parse(&r, &s->alloc, &sh, s->ringcap);
    }
    if (rc) {
        shadow_free(&s->alloc, &sh, s->ringcap);
        return rc == CSBOT_ENOMEM ? rc : CSBOT_ESTATE;
    }
    /* swap in */
    shadow old;
    memset(&old, 0, sizeof old);
    old.ctx_intent = s->ctx_intent;
    old.pend_intent = s->pend_intent;
    old.last_answer = s->last_answer;
    old.slots = s->slots;
    old.slotcap = s->slotcap;
    old.profile = s->profile;
    old.profcap = s->profcap;
    old.ring = s->ring;
    s->turn = sh.turn;
    s->misses_row = sh.misses_row;
    s->misses_total = sh.misses_total;
    s->human = sh.human;
    s->last_lang = sh.last_lang;
    s->ctx_turn = sh.ctx_turn;
    s->pend_turn = sh.pend_turn;
    s->conv_handoff = sh.conv_handoff;
    s->last_activity_ms = sh.last_activity_ms;
    s->ctx_time_ms = sh.ctx_time_ms;
    s->ctx_intent = sh.ctx_intent;
    s->pend_intent = sh.pend_intent;
    s->last_answer = sh.last_answer;
    s->nfprint = sh.nfprint;
    memcpy(s->fprint, sh.fprint, sizeof s->fprint);
    s->slots = sh.slots;
    s->nslots = sh.nslots;
    s->slotcap = sh.slotcap;
    s->profile = sh.profile;
    s->nprofile = sh.nprofile;
    s->profcap = sh.profcap;
    s->ring = sh.ring;
    s->head = 0;
    s->count = sh.count;
    memset(&s->reply, 0, sizeof s->reply);
    shadow_free(&s->alloc, &old, s->ringcap);
    return CSBOT_OK;
}

CSBOT_API int csbot_session_restore(csbot_session *s, const void *buf,
                                    size_t len) {
    if (!s)
        return CSBOT_EINVAL;
    if (s->busy) {
        csbot__session_err(s, "csbot_session_restore called from inside a "
                              "callback of the same session");
        return CSBOT_EINVAL;
    }
    if (!buf) {
        csbot__session_err(s, "NULL state");
        return CSBOT_EINVAL;
    }
    int rc = restore(s, buf, len);
    if (rc == CSBOT_ESTATE)
        csbot__session_err(s, "the saved state (%zu bytes) is damaged or was "
                              "not made by csbot_session_save()", len);
    else if (rc)
        csbot__session_err(s, "out of memory");
    return rc;
}
