/*
 * reply.c - fuzzes a conversation on intents/demo.json (loaded once; or
 * $CSBOT_FUZZ_KB): the input is split into pieces at 0xFF bytes, the first
 * byte of each piece picks an operation on the session (reply, feedback,
 * resume, handoff, save + restore into a fresh session, set_profile,
 * reset, explain, clock, refuse handoffs) and the rest is its argument.
 * Every reply, handoff packet and saved state is read back and checked.
 */
#include "common.h"

static csbot_kb *kb;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    kb = fuzz_load_kb("CSBOT_FUZZ_KB", "intents/demo.json");
    return 0;
}

typedef struct world {
    int64_t now;
    int refuse;
    csbot_stats *stats;
    unsigned last_turn;
} world;

static csbot_session *new_session(world *w) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.handoff = fuzz_on_handoff;
    o.handoff_ud = &w->refuse;
    o.stats = w->stats;
    o.clock = fuzz_clock;
    o.clock_ud = &w->now;
    o.auto_resume_seconds = 120;
    o.transcript_turns = 6;
    csbot_session *s = NULL;
    FUZZ_CHECK(csbot_session_new(&s, kb, &o) == CSBOT_OK && s);
    return s;
}

static const char *const KEYS[] = {"name", "level", "lang", "last_order",
                                   "city", ""};
static const char *const LANGS[] = {"zh-Hans", "zh-Hant", "en", "fr"};

/* A NUL-terminated copy of p[0..n). */
static char *dup_text(const uint8_t *p, size_t n) {
    char *t = malloc(n + 1);
    FUZZ_CHECK(t != NULL);
    if (n)
        memcpy(t, p, n);
    t[n] = '\0';
    return t;
}

static void op(world *w, csbot_session **sp, const uint8_t *p, size_t n) {
    csbot_session *s = *sp;
    if (n == 0)
        return;
    uint8_t code = p[0];
    p++;
    n--;
    switch (code % 12) {
    case 0: case 1: case 2: { /* reply (the commonest) */
        const csbot_reply *r = (const csbot_reply *)1;
        int human = csbot_session_in_human_mode(s);
        int rc = csbot_session_reply(s, (const char *)p, n, &r);
        if (rc == CSBOT_OK) {
            fuzz_check_reply(r);
            w->last_turn = csbot_reply_turn(r);
            /* a human has it: silent, unless auto-resume let the bot
             * answer and this very message handed off again */
            if (human && csbot_session_in_human_mode(s))
                FUZZ_CHECK(csbot_reply_action(r) == CSBOT_ACTION_SILENT ||
                           csbot_reply_action(r) == CSBOT_ACTION_HANDOFF);
        } else {
            FUZZ_CHECK(r == NULL);
            FUZZ_CHECK(rc == CSBOT_EUTF8 || rc == CSBOT_EEMPTY ||
                       rc == CSBOT_ETOOBIG || rc == CSBOT_ECALLBACK);
            FUZZ_CHECK(csbot_session_errmsg(s) != NULL);
            FUZZ_CHECK(csbot_session_in_human_mode(s) == human);
        }
        break;
    }
    case 3: { /* feedback(turn, rating) */
        unsigned turn = n > 0 ? (p[0] == 0xFE ? w->last_turn : p[0]) : w->last_turn;
        int rating = n > 1 ? (int)(p[1] % 8) - 1 : 5;
        int rc = csbot_session_feedback(s, turn, rating);
        FUZZ_CHECK(rc == CSBOT_OK || rc == CSBOT_EINVAL || rc == CSBOT_ERANGE);
        if (rating < 1 || rating > 5)
            FUZZ_CHECK(rc == CSBOT_EINVAL);
        break;
    }
    case 4:
        csbot_session_resume(s);
        FUZZ_CHECK(!csbot_session_in_human_mode(s));
        break;
    case 5: { /* handoff */
        int human = csbot_session_in_human_mode(s);
        int rc = csbot_session_handoff(s);
        if (human)
            FUZZ_CHECK(rc == CSBOT_EHUMAN);
        else if (w->refuse)
            FUZZ_CHECK(rc == CSBOT_ECALLBACK && !csbot_session_in_human_mode(s));
        else
            FUZZ_CHECK(rc == CSBOT_OK && csbot_session_in_human_mode(s));
        break;
    }
    case 6: { /* save, restore into a fresh session, which carries on */
        size_t len = 0, len2 = 0;
        unsigned char *a = fuzz_save(s, &len);
        csbot_session *t = new_session(w);
        FUZZ_CHECK(csbot_session_restore(t, a, len) == CSBOT_OK);
        unsigned char *b = fuzz_save(t, &len2);
        FUZZ_CHECK(len == len2 && memcmp(a, b, len) == 0);
        FUZZ_CHECK(csbot_session_in_human_mode(t) == csbot_session_in_human_mode(s));
        if (n > 0 && len > 16) { /* damaged bytes leave t as it was */
            a[p[0] % (len - 8)] ^= (unsigned char)(n > 1 ? p[1] | 1 : 1);
            FUZZ_CHECK(csbot_session_restore(t, a, len) == CSBOT_ESTATE);
            FUZZ_CHECK(csbot_session_restore(t, a, len / 2) == CSBOT_ESTATE);
            unsigned char *c = fuzz_save(t, &len2);
            FUZZ_CHECK(len == len2 && memcmp(b, c, len) == 0);
            free(c);
        }
        free(a);
        free(b);
        csbot_session_free(s);
        *sp = t;
        break;
    }
    case 7: { /* set_profile(key, value or NULL) */
        const char *key = KEYS[n > 0 ? p[0] % 6 : 0];
        char *val = NULL;
        if (n > 1 && p[1] == 0xFE)
            val = NULL;
        else if (strcmp(key, "lang") == 0 && n > 1 && p[1] < 0x80)
            val = dup_text((const uint8_t *)LANGS[p[1] % 4], strlen(LANGS[p[1] % 4]));
        else
            val = dup_text(n > 1 ? p + 2 : p, n > 1 ? n - 2 : 0);
        int rc = csbot_session_set_profile(s, key, val);
        FUZZ_CHECK(rc == CSBOT_OK || rc == CSBOT_EINVAL || rc == CSBOT_EUTF8 ||
                   rc == CSBOT_ETOOBIG);
        const char *got = csbot_session_get_profile(s, key);
        if (rc == CSBOT_OK) {
            if (val)
                FUZZ_CHECK(got && strcmp(got, val) == 0);
            else
                FUZZ_CHECK(got == NULL);
        }
        free(val);
        break;
    }
    case 8:
        csbot_session_reset(s);
        FUZZ_CHECK(!csbot_session_in_human_mode(s));
        break;
    case 9: { /* explain into a buffer of the input's size */
        size_t size = n > 0 ? p[0] : 0;
        char *buf = malloc(size + 1);
        FUZZ_CHECK(buf != NULL);
        size_t need = csbot_session_explain(s, size ? buf : NULL, size);
        if (size)
            FUZZ_CHECK(strlen(buf) == (need < size ? need : size - 1));
        FUZZ_CHECK(csbot_session_explain(s, NULL, 0) == need);
        free(buf);
        break;
    }
    case 10: { /* the clock moves on: seconds, minutes or hours */
        int64_t step = n > 0 ? p[0] : 1;
        int64_t unit = n > 1 ? (p[1] % 3 == 0 ? 1000 : p[1] % 3 == 1 ? 60000 : 3600000) : 1000;
        w->now += step * unit;
        if (n > 2 && p[2] == 0xFE)
            w->now -= 2 * step * unit; /* and sometimes back */
        break;
    }
    case 11:
        w->refuse = !w->refuse;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    world w = {.now = 1764750000000LL};
    FUZZ_CHECK(csbot_stats_new(&w.stats, 480, 8) == CSBOT_OK);
    csbot_session *s = new_session(&w);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++)
        if (i == size || data[i] == 0xFF) {
            op(&w, &s, data + start, i - start);
            start = i + 1;
        }
    csbot_session_free(s); /* flushes the statistics */
    size_t need = csbot_stats_json(w.stats, NULL, 0);
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(csbot_stats_json(w.stats, buf, need + 1) == need);
    fuzz_check_json(buf, need);
    free(buf);
    csbot_stats_free(w.stats);
    return 0;
}
