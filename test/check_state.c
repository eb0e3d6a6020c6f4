/*
 * check_state.c - csbot_session_save() and csbot_session_restore(): a
 * conversation saved in one session carries on in another (also after the
 * first is freed, also on a different knowledge base), the buffer size
 * protocol, and damaged bytes: every flipped byte and every truncation is
 * refused with CSBOT_ESTATE and leaves the target session as it was.
 *
 * The saved bytes end with a hash of the rest, so random damage is caught by
 * the hash alone. To reach the checks behind it, one test also forges
 * damaged states with a correct hash (white box: it uses csbot__hash from
 * lib/internal.h, the function state.c uses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tests.h"

static const char *const kb_parts[] = {
    "{\"csbot\":1,\"name\":\"state test\","
    "\"slots\":{\"order_id\":{\"pattern\":\"(?<![0-9])([0-9]{12,20})(?![0-9])\","
    "\"prompt\":{\"zh\":\"请提供您的订单号。\",\"en\":\"Could you give me your order number?\"}}},"
    "\"intents\":[",
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\",\"在吗\"],"
    "\"en\":[\"hello\",\"hi there\"]},"
    "\"responses\":[{\"zh\":\"{profile.name|亲}您好！\",\"en\":\"Hi {profile.name|there}!\"}]},",
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"
    "\"en\":[\"can i return it\",\"return policy\"]},"
    "\"patterns\":[\"退货|return\"],"
    "\"responses\":[{\"zh\":\"7天无理由退货。\",\"en\":\"Returns within 7 days.\"}]}",
    /* the second knowledge base ends here */
    ",{\"id\":\"order_tracking\",\"examples\":{\"zh\":[\"我的快递到哪了\",\"查一下物流\","
    "\"包裹到哪里了\"],\"en\":[\"where is my package\",\"track my order\"]},"
    "\"patterns\":[\"快递到哪|查.{0,4}物流|(?:where|track).{0,20}(?:parcel|package|order)\"],"
    "\"slots\":[\"order_id\"],\"require\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id}已发出。\",\"en\":\"Order {order_id} has shipped.\"}]},",
    "{\"id\":\"product_stock\",\"examples\":{\"zh\":[\"这件有货吗\",\"有L码吗\",\"红色还有货吗\"],"
    "\"en\":[\"is this in stock\",\"do you have it in red\"]},"
    "\"patterns\":[\"有货|库存|有[a-z]码|in stock\"],"
    "\"responses\":[{\"zh\":\"有货的。\",\"en\":\"It is in stock.\"}]}",
    NULL};

static csbot_kb *kb;  /* all intents */
static csbot_kb *kb2; /* greeting and return_policy only */

static csbot_kb *load_first(size_t nparts) {
    return t_load_parts(kb_parts, nparts, "]}");
}

static void kb_setup(void) {
    kb = load_first(5);
    kb2 = load_first(3);
}

static void kb_teardown(void) {
    csbot_kb_free(kb);
    csbot_kb_free(kb2);
    kb = kb2 = NULL;
}

static csbot_session *session_on(const csbot_kb *k, size_t transcript) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.transcript_turns = transcript;
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, k, &o), CSBOT_OK);
    return s;
}

static unsigned char *save(const csbot_session *s, size_t *len) {
    size_t need = 0;
    ck_assert_int_eq(csbot_session_save(s, NULL, 0, &need), CSBOT_ERANGE);
    ck_assert_uint_gt(need, 0);
    unsigned char *b = malloc(need);
    ck_assert_int_eq(csbot_session_save(s, b, need, len), CSBOT_OK);
    ck_assert_uint_eq(*len, need);
    return b;
}

static int same_state(const csbot_session *s, const unsigned char *b, size_t n) {
    size_t len;
    unsigned char *now = save(s, &len);
    int same = len == n && memcmp(now, b, n) == 0;
    free(now);
    return same;
}

static const char *intent_of(const csbot_reply *r) {
    const char *i = csbot_reply_intent(r);
    return i ? i : "(none)";
}

/* A host handoff that refuses shows the session's transcript and counters. */
typedef struct peek {
    size_t nturns;
    char first_user[64], last_bot[128];
    unsigned turns, misses_row, misses_total;
    size_t nslots;
    char slot[64];
} peek;

static int peek_cb(const csbot_handoff *h, void *ud) {
    peek *p = ud;
    p->nturns = csbot_handoff_turn_count(h);
    const char *u = "", *b = "";
    if (p->nturns) {
        csbot_handoff_turn(h, 0, &u, NULL, NULL, NULL, NULL);
        csbot_handoff_turn(h, p->nturns - 1, NULL, &b, NULL, NULL, NULL);
    }
    ck_assert_uint_lt(strlen(u), sizeof p->first_user);
    ck_assert_uint_lt(strlen(b), sizeof p->last_bot);
    strcpy(p->first_user, u);
    strcpy(p->last_bot, b);
    csbot_handoff_counters(h, &p->turns, &p->misses_row, &p->misses_total);
    p->nslots = csbot_handoff_slot_count(h);
    const char *v = "";
    if (p->nslots)
        csbot_handoff_slot(h, 0, NULL, &v);
    strcpy(p->slot, v);
    return 1;
}

static peek look(csbot_session *s) {
    peek p;
    memset(&p, 0, sizeof p);
    csbot_handoff_cb cb;
    void *ud;
    csbot_session_get_handoff(s, &cb, &ud);
    csbot_session_set_handoff(s, peek_cb, &p);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_ECALLBACK);
    csbot_session_set_handoff(s, cb, ud);
    return p;
}

/* ---- carrying on ---------------------------------------------------------- */

START_TEST(restore_continues_conversation) {
    csbot_session *a = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_set_profile(a, "name", "小王"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(a, "level", "vip"), CSBOT_OK);
    t_say(a, "可以退货吗");
    const csbot_reply *r = t_say(a, "量子力学很难");
    ck_assert_ptr_null(csbot_reply_intent(r));
    r = t_say(a, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    ck_assert_int_eq(csbot_session_feedback(a, 1, 4), CSBOT_OK);
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session_free(a); /* the state does not depend on the first session */

    csbot_session *b = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    free(st);
    ck_assert_str_eq(csbot_session_get_profile(b, "name"), "小王");
    ck_assert_str_eq(csbot_session_get_profile(b, "level"), "vip");
    ck_assert_int_eq(csbot_session_in_human_mode(b), 0);
    peek p = look(b);
    ck_assert_uint_eq(p.nturns, 3);
    ck_assert_str_eq(p.first_user, "可以退货吗");
    ck_assert_str_eq(p.last_bot, "请提供您的订单号。");
    ck_assert_uint_eq(p.turns, 3);
    ck_assert_uint_eq(p.misses_row, 0);
    ck_assert_uint_eq(p.misses_total, 1);
    /* the pending question is answered in the new session */
    r = t_say(b, "202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(intent_of(r), "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    ck_assert_uint_eq(csbot_reply_turn(r), 4);
    r = t_say(b, "你好");
    ck_assert_str_eq(csbot_reply_text(r), "小王您好！");
    /* feedback on a turn from before the save */
    ck_assert_int_eq(csbot_session_feedback(b, 1, 5), CSBOT_OK);
    ck_assert_int_eq(csbot_session_feedback(b, 2, 5), CSBOT_ERANGE);
    p = look(b);
    ck_assert_uint_eq(p.nturns, 5);
    ck_assert_uint_eq(p.nslots, 1);
    ck_assert_str_eq(p.slot, "202411223344556");
    csbot_session_free(b);
}
END_TEST

START_TEST(restore_keeps_slots_and_context) {
    csbot_session *a = session_on(kb, 0);
    t_say(a, "where is my package 202411223344556");
    const csbot_reply *r = t_say(a, "有L码吗");
    ck_assert_str_eq(intent_of(r), "product_stock");
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session *b = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    /* both sessions now answer alike */
    const char *msgs[] = {"我的快递到哪了", "可以退货吗", "is this in stock?"};
    for (size_t i = 0; i < 3; i++) {
        const csbot_reply *ra = t_say(a, msgs[i]);
        char ta[256];
        strcpy(ta, csbot_reply_text(ra));
        csbot_action aa = csbot_reply_action(ra);
        unsigned turn = csbot_reply_turn(ra);
        const csbot_reply *rb = t_say(b, msgs[i]);
        ck_assert_str_eq(csbot_reply_text(rb), ta);
        ck_assert_int_eq(csbot_reply_action(rb), aa);
        ck_assert_uint_eq(csbot_reply_turn(rb), turn);
    }
    r = t_say(b, "我的快递到哪了");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    free(st);
    csbot_session_free(a);
    csbot_session_free(b);
}
END_TEST

START_TEST(restore_keeps_human_mode) {
    csbot_session *a = session_on(kb, 0);
    t_say(a, "你好");
    const csbot_reply *r = t_say(a, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session_free(a);
    csbot_session *b = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    free(st);
    ck_assert_int_eq(csbot_session_in_human_mode(b), 1);
    r = t_say(b, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    ck_assert_uint_eq(csbot_reply_turn(r), 3);
    ck_assert_int_eq(csbot_session_handoff(b), CSBOT_EHUMAN);
    csbot_session_resume(b);
    r = t_say(b, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    csbot_session_free(b);
}
END_TEST

START_TEST(restore_keeps_miss_count) {
    csbot_session *a = session_on(kb, 0);
    const csbot_reply *r = t_say(a, "量子力学很难");
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session *b = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    free(st);
    r = t_say(b, "今天天气不错"); /* the second miss in a row (max_misses 2) */
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_int_eq(csbot_reply_handoff_reason(r), CSBOT_HANDOFF_REPEATED_MISS);
    csbot_session_free(a);
    csbot_session_free(b);
}
END_TEST

START_TEST(restore_replaces_everything) {
    csbot_session *a = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_set_profile(a, "name", "甲"), CSBOT_OK);
    t_say(a, "你好");
    size_t len;
    unsigned char *st = save(a, &len);

    csbot_session *b = session_on(kb, 0);
    ck_assert_int_eq(csbot_session_set_profile(b, "name", "乙"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(b, "city", "上海"), CSBOT_OK);
    t_say(b, "where is my package 202411223344556");
    t_say(b, "转人工");
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    ck_assert_str_eq(csbot_session_get_profile(b, "name"), "甲");
    ck_assert_ptr_null(csbot_session_get_profile(b, "city"));
    ck_assert_int_eq(csbot_session_in_human_mode(b), 0);
    const csbot_reply *r = t_say(b, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK); /* slot gone */
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    /* round trip: saving right after restoring gives the same bytes */
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    ck_assert(same_state(b, st, len));
    free(st);
    csbot_session_free(a);
    csbot_session_free(b);
}
END_TEST

START_TEST(restore_into_shorter_transcript) {
    csbot_session *a = session_on(kb, 0);
    char msg[64];
    for (int i = 0; i < 10; i++) {
        snprintf(msg, sizeof msg, "%s %d", i % 2 ? "你好" : "可以退货吗", i);
        t_say(a, msg);
    }
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session *b = session_on(kb, 3);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    peek p = look(b);
    ck_assert_uint_eq(p.nturns, 3); /* the newest three */
    ck_assert_str_eq(p.first_user, "你好 7");
    ck_assert_uint_eq(p.turns, 10);
    const csbot_reply *r = t_say(b, "你好");
    ck_assert_uint_eq(csbot_reply_turn(r), 11);
    free(st);
    csbot_session_free(a);
    csbot_session_free(b);
}
END_TEST

/* A knowledge base without the intent in the context or pending question. */
START_TEST(restore_on_other_kb) {
    csbot_session *a = session_on(kb, 0);
    t_say(a, "有L码吗");
    const csbot_reply *r = t_say(a, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    size_t len;
    unsigned char *st = save(a, &len);
    csbot_session *b = session_on(kb2, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    r = t_say(b, "202411223344556");
    ck_assert_str_ne(intent_of(r), "order_tracking");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(b, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(intent_of(r), "return_policy");
    r = t_say(b, "hello");
    ck_assert_str_eq(intent_of(r), "greeting");
    csbot_session_free(b);

    /* the context intent alone */
    csbot_session_reset(a);
    t_say(a, "有L码吗");
    free(st);
    st = save(a, &len);
    b = session_on(kb2, 0);
    ck_assert_int_eq(csbot_session_restore(b, st, len), CSBOT_OK);
    r = t_say(b, "那M码呢");
    ck_assert_str_ne(intent_of(r), "product_stock");
    r = t_say(b, "你好");
    ck_assert_str_eq(intent_of(r), "greeting");
    /* and its transcript, which names intents kb2 lacks, can be handed off */
    peek p = look(b);
    ck_assert_uint_eq(p.nturns, 3);
    free(st);
    csbot_session_free(a);
    csbot_session_free(b);
}
END_TEST

/* ---- the buffer protocol ----------------------------------------------------- */

START_TEST(save_buffer_sizes) {
    csbot_session *s = session_on(kb, 0);
    size_t need = 0, got = 0;
    ck_assert_int_eq(csbot_session_save(s, NULL, 0, &need), CSBOT_ERANGE);
    ck_assert_uint_gt(need, 8);
    size_t empty = need;
    t_say(s, "我的快递到哪了");
    t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_session_save(s, NULL, 0, &need), CSBOT_ERANGE);
    ck_assert_uint_gt(need, empty);
    unsigned char *b = malloc(need + 16);
    memset(b, 0xEE, need + 16);
    for (size_t small = 1; small < need; small += small < 32 ? 1 : 97) {
        got = 0;
        ck_assert_int_eq(csbot_session_save(s, b, small, &got), CSBOT_ERANGE);
        ck_assert_uint_eq(got, need);
    }
    ck_assert_int_eq(csbot_session_save(s, b, need - 1, &got), CSBOT_ERANGE);
    ck_assert_uint_eq(got, need);
    ck_assert_int_eq(csbot_session_save(s, b, need + 16, &got), CSBOT_OK);
    ck_assert_uint_eq(got, need);
    ck_assert_int_eq(b[need], 0xEE); /* nothing written past the end */
    ck_assert_int_eq(csbot_session_save(s, b, need, &got), CSBOT_OK);
    /* misuse */
    ck_assert_int_eq(csbot_session_save(s, NULL, 10, &got), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_save(s, b, need, NULL), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_save(NULL, b, need, &got), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_restore(s, NULL, 10), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_restore(NULL, b, need), CSBOT_EINVAL);
    /* a fresh session's state restores too */
    csbot_session *f = session_on(kb, 0);
    size_t flen;
    unsigned char *fs = save(f, &flen);
    ck_assert_int_eq(csbot_session_restore(s, fs, flen), CSBOT_OK);
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    free(fs);
    free(b);
    csbot_session_free(f);
    csbot_session_free(s);
}
END_TEST

/* ---- damaged bytes ----------------------------------------------------------- */

/* A state with a bit of everything. */
static unsigned char *rich_state(size_t *len) {
    csbot_session *a = session_on(kb, 0);
    csbot_session_set_profile(a, "name", "小王");
    csbot_session_set_profile(a, "level", "vip");
    t_say(a, "可以退货吗");
    ck_assert_int_eq(csbot_session_feedback(a, 1, 5), CSBOT_OK);
    t_say(a, "量子力学很难");
    t_say(a, "有L码吗");
    t_say(a, "我的快递到哪了");
    t_say(a, "202411223344556");
    t_say(a, "转人工");
    t_say(a, "还在吗");
    unsigned char *st = save(a, len);
    csbot_session_free(a);
    return st;
}

/* The target: a session with a conversation of its own. */
static csbot_session *target(unsigned char **state, size_t *len) {
    csbot_session *t = session_on(kb, 0);
    csbot_session_set_profile(t, "name", "李雷");
    t_say(t, "hello");
    t_say(t, "where is my package");
    *state = save(t, len);
    return t;
}

START_TEST(flipped_bytes_rejected) {
    size_t n, tn;
    unsigned char *st = rich_state(&n);
    unsigned char *ts;
    csbot_session *t = target(&ts, &tn);
    unsigned char *bad = malloc(n);
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, st, n);
        bad[i] ^= (unsigned char)(1u << (i % 8));
        ck_assert_msg(csbot_session_restore(t, bad, n) == CSBOT_ESTATE,
                      "byte %zu of %zu flipped was accepted", i, n);
        if (i % 64 == 0 || i + 1 == n)
            ck_assert_msg(same_state(t, ts, tn), "byte %zu: target changed", i);
    }
    ck_assert(same_state(t, ts, tn));
    /* the target still works and is where it was */
    const csbot_reply *r = t_say(t, "202411223344556");
    ck_assert_str_eq(intent_of(r), "order_tracking");
    ck_assert_uint_eq(csbot_reply_turn(r), 3);
    free(bad);
    free(st);
    free(ts);
    csbot_session_free(t);
}
END_TEST

START_TEST(truncated_rejected) {
    size_t n, tn;
    unsigned char *st = rich_state(&n);
    unsigned char *ts;
    csbot_session *t = target(&ts, &tn);
    for (size_t len = 0; len < n; len++) {
        /* a fresh copy of exactly len bytes, so ASan sees reads past it */
        unsigned char *cut = malloc(len ? len : 1);
        memcpy(cut, st, len);
        ck_assert_msg(csbot_session_restore(t, cut, len) == CSBOT_ESTATE,
                      "a state cut to %zu of %zu bytes was accepted", len, n);
        free(cut);
    }
    ck_assert(same_state(t, ts, tn));
    /* and one byte too many */
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, st, n);
    longer[n] = 0;
    ck_assert_int_eq(csbot_session_restore(t, longer, n + 1), CSBOT_ESTATE);
    free(longer);
    ck_assert(same_state(t, ts, tn));
    ck_assert_int_eq(csbot_session_restore(t, st, n), CSBOT_OK);
    free(st);
    free(ts);
    csbot_session_free(t);
}
END_TEST

static void rehash(unsigned char *b, size_t n) {
    uint64_t h = csbot__hash(b, n - 8, 99);
    for (int i = 0; i < 8; i++)
        b[n - 8 + (size_t)i] = (unsigned char)(h >> (8 * i));
}

/* Damage behind a correct hash (a forged or foreign state): restore either
 * accepts it (a text byte changed into another valid one) and the session
 * works, or refuses it and the session is unchanged. Never a crash or a read
 * out of bounds (run under ASan). */
START_TEST(forged_states_checked) {
    size_t n, tn;
    unsigned char *st = rich_state(&n);
    unsigned char *ts;
    csbot_session *t = target(&ts, &tn);
    unsigned char *bad = malloc(n);
    static const unsigned char flips[] = {0x01, 0x80, 0xFF};
    size_t refused = 0, accepted = 0;
    for (size_t i = 0; i + 8 < n; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(bad, st, n);
            bad[i] ^= flips[f];
            rehash(bad, n);
            int rc = csbot_session_restore(t, bad, n);
            ck_assert_msg(rc == CSBOT_OK || rc == CSBOT_ESTATE, "byte %zu: %s", i,
                          csbot_strerror(rc));
            if (rc == CSBOT_ESTATE) {
                refused++;
                if (i % 16 == 0)
                    ck_assert_msg(same_state(t, ts, tn), "byte %zu: target changed",
                                  i);
                continue;
            }
            accepted++;
            const csbot_reply *r = NULL;
            int rr = csbot_session_reply(t, "可以退货吗", CSBOT_NUL_TERMINATED, &r);
            ck_assert_msg(rr == CSBOT_OK, "byte %zu: reply after restore: %s", i,
                          csbot_strerror(rr));
            size_t need;
            ck_assert_int_eq(csbot_session_save(t, NULL, 0, &need), CSBOT_ERANGE);
            ck_assert_int_eq(csbot_session_restore(t, ts, tn), CSBOT_OK);
        }
    }
    ck_assert_uint_gt(refused, 0);
    ck_assert_uint_gt(accepted, 0);
    ck_assert(same_state(t, ts, tn));

    /* specific damage */
    memcpy(bad, st, n);
    bad[0] = 'X'; /* magic */
    rehash(bad, n);
    ck_assert_int_eq(csbot_session_restore(t, bad, n), CSBOT_ESTATE);
    memcpy(bad, st, n);
    bad[4] = 2; /* version */
    rehash(bad, n);
    ck_assert_int_eq(csbot_session_restore(t, bad, n), CSBOT_ESTATE);
    ck_assert(same_state(t, ts, tn));
    free(bad);
    free(st);
    free(ts);
    csbot_session_free(t);
}
END_TEST

static void put_turn(unsigned char *b, size_t n, uint32_t turn) {
    for (int i = 0; i < 4; i++)
        b[8 + i] = (unsigned char)(turn >> (8 * i)); /* after magic, version */
    rehash(b, n);
}

/* The turn counter never wraps: a session takes at most CSBOT__MAX_TURNS
 * turns and a state claiming more is refused. (The restore fuzzer found a
 * state at turn 2^32-1 whose next turn was numbered 0, so a turn not yet
 * taken could be rated.) */
START_TEST(turn_limit) {
    size_t n;
    unsigned char *st = rich_state(&n);
    csbot_session *s = session_on(kb, 0);
    const csbot_reply *r = NULL;
    put_turn(st, n, CSBOT__MAX_TURNS + 1);
    ck_assert_int_eq(csbot_session_restore(s, st, n), CSBOT_ESTATE);
    put_turn(st, n, CSBOT__MAX_TURNS - 1);
    ck_assert_int_eq(csbot_session_restore(s, st, n), CSBOT_OK);
    ck_assert_int_eq(csbot_session_reply(s, "可以退货吗", CSBOT_NUL_TERMINATED, &r),
                     CSBOT_OK);
    ck_assert_uint_eq(csbot_reply_turn(r), CSBOT__MAX_TURNS);
    ck_assert_int_eq(csbot_session_feedback(s, CSBOT__MAX_TURNS + 1u, 3), CSBOT_ERANGE);
    ck_assert_int_eq(csbot_session_reply(s, "可以退货吗", CSBOT_NUL_TERMINATED, &r),
                     CSBOT_ETOOBIG);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(csbot_session_errmsg(s), "reset"));
    csbot_session_reset(s);
    ck_assert_int_eq(csbot_session_reply(s, "可以退货吗", CSBOT_NUL_TERMINATED, &r),
                     CSBOT_OK);
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    csbot_session_free(s);
    free(st);
}
END_TEST

Suite *state_suite(void) {
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("carry_on");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, restore_continues_conversation);
    tcase_add_test(tc, restore_keeps_slots_and_context);
    tcase_add_test(tc, restore_keeps_human_mode);
    tcase_add_test(tc, restore_keeps_miss_count);
    tcase_add_test(tc, restore_replaces_everything);
    tcase_add_test(tc, restore_into_shorter_transcript);
    tcase_add_test(tc, restore_on_other_kb);
    tcase_add_test(tc, save_buffer_sizes);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, flipped_bytes_rejected);
    tcase_add_test(tc, truncated_rejected);
    tcase_add_test(tc, forged_states_checked);
    tcase_add_test(tc, turn_limit);
    suite_add_tcase(s, tc);
    return s;
}
