/*
 * restore.c - fuzzes csbot_session_restore() on arbitrary bytes. When the
 * first byte is odd the harness first rewrites the trailing 64-bit hash to
 * match (the hash of lib/state.c's format: FNV-1a 64, seed 99, final
 * avalanche), so the fuzzer gets past it to the parser. A restore that
 * succeeds must give a session that saves to a fixed point, can hand off
 * (valid JSON packet), replies, and saves again.
 */
#include "common.h"

static csbot_kb *kb;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    kb = fuzz_load_kb("CSBOT_FUZZ_KB", "intents/demo.json");
    return 0;
}

static uint64_t state_hash(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL ^ 99;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static csbot_session *new_session(int64_t *now) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.handoff = fuzz_on_handoff;
    o.clock = fuzz_clock;
    o.clock_ud = now;
    o.auto_resume_seconds = 60;
    o.transcript_turns = 4;
    csbot_session *s = NULL;
    FUZZ_CHECK(csbot_session_new(&s, kb, &o) == CSBOT_OK && s);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    size_t len = size - 1;
    unsigned char *buf = malloc(len ? len : 1);
    FUZZ_CHECK(buf != NULL);
    if (len)
        memcpy(buf, data + 1, len);
    if (fix && len >= 16) {
        uint64_t h = state_hash(buf, len - 8);
        for (int i = 0; i < 8; i++)
            buf[len - 8 + (size_t)i] = (unsigned char)(h >> (8 * i));
    }
    int64_t now = 1764750000000LL;
    csbot_session *s = new_session(&now);
    int rc = csbot_session_restore(s, buf, len);
    FUZZ_CHECK(rc == CSBOT_OK || rc == CSBOT_ESTATE || rc == CSBOT_EINVAL);
    if (rc == CSBOT_OK) {
        /* save, restore, save: the same bytes */
        size_t n1, n2;
        unsigned char *a = fuzz_save(s, &n1);
        csbot_session *t = new_session(&now);
        FUZZ_CHECK(csbot_session_restore(t, a, n1) == CSBOT_OK);
        unsigned char *b = fuzz_save(t, &n2);
        FUZZ_CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
        free(a);
        free(b);
        /* the packet of the restored transcript */
        if (!csbot_session_in_human_mode(t))
            FUZZ_CHECK(csbot_session_handoff(t) == CSBOT_OK);
        csbot_session_free(t);
        /* explain before any turn of this process */
        char ex[256];
        (void)csbot_session_explain(s, ex, sizeof ex);
        /* go on talking */
        static const char *const msgs[] = {"我的订单202411223344到哪了",
                                           "where is my parcel",
                                           "請問可以開發票嗎"};
        unsigned last = 0;
        for (int i = 0; i < 3; i++) {
            const csbot_reply *r;
            int rrc = csbot_session_reply(s, msgs[i], CSBOT_NUL_TERMINATED, &r);
            /* a state at the turn limit (2^30) takes no more turns */
            if (rrc == CSBOT_ETOOBIG && r == NULL && (last == 0 || last == 1u << 30)) {
                FUZZ_CHECK(csbot_session_reply(s, "hi", CSBOT_NUL_TERMINATED, &r) ==
                           CSBOT_ETOOBIG);
                break;
            }
            FUZZ_CHECK(rrc == CSBOT_OK);
            fuzz_check_reply(r);
            last = csbot_reply_turn(r);
            if (i == 0)
                now += 3600000; /* past auto-resume */
        }
        /* a turn that has not happened yet cannot be rated */
        if (last > 0 && last < UINT32_MAX)
            FUZZ_CHECK(csbot_session_feedback(s, last + 1, 3) == CSBOT_ERANGE);
        size_t n3;
        free(fuzz_save(s, &n3));
    } else {
        /* the session is as new: it saves as a fresh one does */
        csbot_session *f = new_session(&now);
        size_t n1, n2;
        unsigned char *a = fuzz_save(s, &n1), *b = fuzz_save(f, &n2);
        FUZZ_CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
        free(a);
        free(b);
        csbot_session_free(f);
    }
    csbot_session_free(s);
    free(buf);
    return 0;
}
