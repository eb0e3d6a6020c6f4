/*
 * check_handoff.c - handing a conversation to a human: every trigger in
 * Chinese and English (explicit request, intents marked "handoff", repeated
 * misses, the same question again, negative sentiment, low confidence, the
 * host), the packet the callback receives (accessors and JSON), human mode,
 * resuming (by hand and after idle time on a fake clock), and a callback
 * that refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tests.h"

/* The intents; the settings object is put in front of them. */
static const char *const intents_json[] = {
    "\"slots\":{\"order_id\":{\"pattern\":\"(?<![0-9])([0-9]{12,20})(?![0-9])\","
    "\"prompt\":{\"zh\":\"请提供您的订单号。\",\"en\":\"Could you give me your order number?\"}}},"
    "\"messages\":{\"handoff\":{\"zh\":\"正在转接人工。\",\"en\":\"Connecting you to an agent.\"},"
    "\"human_mode\":{\"zh\":\"\",\"en\":\"\"}},"
    "\"intents\":[",
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\",\"在吗\"],"
    "\"en\":[\"hello\",\"hi there\"]},"
    "\"responses\":[{\"zh\":\"{profile.name|亲}您好！\",\"en\":\"Hi {profile.name|there}!\"}]},",
    "{\"id\":\"order_tracking\",\"examples\":{\"zh\":[\"我的快递到哪了\",\"查一下物流\","
    "\"包裹到哪里了\"],\"en\":[\"where is my package\",\"track my order\"]},"
    "\"patterns\":[\"快递到哪|查.{0,4}物流|(?:where|track).{0,20}(?:parcel|package|order)\"],"
    "\"slots\":[\"order_id\"],\"require\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id}已发出。\",\"en\":\"Order {order_id} has shipped.\"}]},",
    "{\"id\":\"product_stock\",\"examples\":{\"zh\":[\"这件有货吗\",\"有L码吗\",\"红色还有货吗\"],"
    "\"en\":[\"is this in stock\",\"do you have it in red\"]},"
    "\"patterns\":[\"有货|库存|有[a-z]码|in stock\"],"
    "\"responses\":[{\"zh\":\"有货的。\",\"en\":\"It is in stock.\"}]},",
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"
    "\"en\":[\"can i return it\",\"return policy\"]},"
    "\"patterns\":[\"退货|return\"],"
    "\"responses\":[{\"zh\":\"7天无理由退货。\",\"en\":\"Returns within 7 days.\"}]},",
    "{\"id\":\"human_agent\",\"examples\":{\"zh\":[\"我想找客服人员聊聊\"],"
    "\"en\":[\"can a person help me\"]},\"patterns\":[\"客服人员|a person help\"],"
    "\"handoff\":\"request\",\"responses\":[{\"zh\":\"好的，这就转接。\",\"en\":\"Sure, transferring you.\"}]},",
    "{\"id\":\"complaint\",\"examples\":{\"zh\":[\"我要投诉\"],\"en\":[\"i want to file a complaint\"]},"
    "\"patterns\":[\"投诉|complaint\"],"
    "\"handoff\":true,\"responses\":[{\"zh\":\"已为您转接主管。\",\"en\":\"Passing you to a supervisor.\"}]}",
    "]}",
    NULL};

static csbot_kb *kb;       /* default settings */
static csbot_kb *kb_three; /* max_misses 3, no repeat or sentiment handoff */
static csbot_kb *kb_low;   /* handoff_threshold 0.2, max_misses 0 */

static csbot_kb *load_with(const char *settings) {
    char head[256];
    int w = snprintf(head, sizeof head, "{\"csbot\":1,\"settings\":%s,",
                     settings);
    ck_assert(w > 0 && (size_t)w < sizeof head);
    const char *parts[sizeof intents_json / sizeof *intents_json + 1];
    parts[0] = head;
    memcpy(parts + 1, intents_json, sizeof intents_json); /* NULL-ended */
    return t_load_parts(parts, (size_t)-1, NULL);
}

static void kb_setup(void) {
    kb = load_with("{}");
    kb_three = load_with("{\"max_misses\":3,\"handoff_on_repeat\":false,"
                         "\"sentiment_threshold\":1.5}");
    kb_low = load_with("{\"max_misses\":0,\"handoff_threshold\":0.2}");
}

static void kb_teardown(void) {
    csbot_kb_free(kb);
    csbot_kb_free(kb_three);
    csbot_kb_free(kb_low);
    kb = kb_three = kb_low = NULL;
}

/* ---- a callback that copies the packet ---------------------------------- */

#define MAXT 32
typedef struct cap {
    int refuse;      /* return this */
    int calls;
    int reenter;     /* try calling back into the session */
    int reenter_rc[3];
    csbot_session *session;
    csbot_handoff_reason reason;
    char text[256];
    char intent[64]; /* "" for NULL */
    double conf;
    csbot_lang lang;
    size_t nturns;
    struct {
        char user[256], bot[256], intent[64];
        csbot_action action;
        double conf;
    } t[MAXT];
    size_t nslots;
    char slot[8][2][64];
    unsigned turns, misses_row, misses_total;
    char json[16384];
    size_t jsonlen;
    int bad_index_rc;
} cap;

static void copy(char *dst, size_t n, const char *src) {
    ck_assert_ptr_nonnull(src);
    ck_assert_uint_lt(strlen(src), n);
    strcpy(dst, src);
}

static int capture_cb(const csbot_handoff *h, void *ud) {
    cap *c = ud;
    c->calls++;
    c->session = csbot_handoff_session(h);
    c->reason = csbot_handoff_reason_of(h);
    copy(c->text, sizeof c->text, csbot_handoff_text(h));
    const char *in = csbot_handoff_intent(h);
    copy(c->intent, sizeof c->intent, in ? in : "");
    c->conf = csbot_handoff_confidence(h);
    c->lang = csbot_handoff_lang(h);
    c->nturns = csbot_handoff_turn_count(h);
    ck_assert_uint_le(c->nturns, MAXT);
    for (size_t i = 0; i < c->nturns; i++) {
        const char *u, *b, *it;
        ck_assert_int_eq(csbot_handoff_turn(h, i, &u, &b, &it, &c->t[i].action,
                                            &c->t[i].conf),
                         CSBOT_OK);
        copy(c->t[i].user, sizeof c->t[i].user, u);
        copy(c->t[i].bot, sizeof c->t[i].bot, b);
        copy(c->t[i].intent, sizeof c->t[i].intent, it ? it : "");
    }
    c->bad_index_rc = csbot_handoff_turn(h, c->nturns, NULL, NULL, NULL, NULL,
                                         NULL);
    c->nslots = csbot_handoff_slot_count(h);
    ck_assert_uint_le(c->nslots, 8);
    for (size_t i = 0; i < c->nslots; i++) {
        const char *k, *v;
        ck_assert_int_eq(csbot_handoff_slot(h, i, &k, &v), CSBOT_OK);
        copy(c->slot[i][0], 64, k);
        copy(c->slot[i][1], 64, v);
    }
    ck_assert_int_eq(csbot_handoff_slot(h, c->nslots, NULL, NULL), CSBOT_ERANGE);
    csbot_handoff_counters(h, &c->turns, &c->misses_row, &c->misses_total);
    c->jsonlen = csbot_handoff_json(h, c->json, sizeof c->json);
    ck_assert_uint_lt(c->jsonlen, sizeof c->json);
    if (c->reenter) {
        const csbot_reply *r;
        csbot_session *s = csbot_handoff_session(h);
        c->reenter_rc[0] = csbot_session_reply(s, "你好", CSBOT_NUL_TERMINATED, &r);
        c->reenter_rc[1] = csbot_session_handoff(s);
        c->reenter_rc[2] = csbot_session_set_profile(s, "x", "y");
    }
    return c->refuse;
}

static csbot_session *session_on(const csbot_kb *k, cap *c) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, k, NULL), CSBOT_OK);
    if (c)
        csbot_session_set_handoff(s, capture_cb, c);
    return s;
}

static const char *intent_of(const csbot_reply *r) {
    const char *i = csbot_reply_intent(r);
    return i ? i : "(none)";
}

/* Saved state bytes, to compare a session before and after a call. */
static unsigned char *saved(const csbot_session *s, size_t *len) {
    size_t need = 0;
    ck_assert_int_eq(csbot_session_save(s, NULL, 0, &need), CSBOT_ERANGE);
    unsigned char *b = malloc(need);
    ck_assert_int_eq(csbot_session_save(s, b, need, len), CSBOT_OK);
    ck_assert_uint_eq(*len, need);
    return b;
}

static void assert_handoff(const csbot_reply *r, csbot_handoff_reason why,
                           const char *text) {
    ck_assert_msg(csbot_reply_action(r) == CSBOT_ACTION_HANDOFF,
                  "\"%s\": action %s (intent %s), not a handoff", text,
                  csbot_action_name(csbot_reply_action(r)), intent_of(r));
    ck_assert_msg(csbot_reply_handoff_reason(r) == why,
                  "\"%s\": reason %s, expected %s", text,
                  csbot_handoff_reason_name(csbot_reply_handoff_reason(r)),
                  csbot_handoff_reason_name(why));
}

/* ---- explicit requests --------------------------------------------------- */

START_TEST(explicit_request) {
    static const char *const asks[] = {
        "转人工", "人工客服在吗？", "我要找人工", "轉人工客服", "I want to talk to a human",
        "can I speak to a real person?", "HUMAN AGENT", NULL};
    for (size_t i = 0; asks[i]; i++) {
        cap c = {0};
        csbot_session *s = session_on(kb, &c);
        const csbot_reply *r = t_say(s, asks[i]);
        assert_handoff(r, CSBOT_HANDOFF_EXPLICIT_REQUEST, asks[i]);
        ck_assert_int_gt((int)strlen(csbot_reply_text(r)), 0);
        ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
        ck_assert_int_eq(c.calls, 1);
        ck_assert_int_eq(c.reason, CSBOT_HANDOFF_EXPLICIT_REQUEST);
        ck_assert_str_eq(c.text, asks[i]);
        ck_assert_ptr_eq(c.session, s);
        csbot_session_free(s);
    }
}
END_TEST

/* An explicit request commits to an intent only if it is a handoff intent
 * the bot is sure of: not to a weak guess such as "complaint". */
START_TEST(explicit_request_no_weak_intent) {
    static const char *const asks[] = {
        "talk to a human please", "I want to talk to a human", "转人工",
        "人工服务", "live agent", "speak to someone now", NULL};
    double answer;
    csbot_kb_thresholds(kb, &answer, NULL, NULL);
    for (size_t i = 0; asks[i]; i++) {
        csbot_session *s = session_on(kb, NULL);
        const csbot_reply *r = t_say(s, asks[i]);
        assert_handoff(r, CSBOT_HANDOFF_EXPLICIT_REQUEST, asks[i]);
        const char *in = csbot_reply_intent(r);
        if (in) {
            const char *top;
            double sc, second = 0;
            ck_assert_int_eq(csbot_reply_candidate(r, 0, &top, &sc), CSBOT_OK);
            csbot_reply_candidate(r, 1, NULL, &second);
            ck_assert_str_eq(in, top);
            ck_assert_msg(sc >= answer && sc - second >= 0.1,
                          "\"%s\" committed to %s at %.3f (second %.3f)",
                          asks[i], in, sc, second);
        } else {
            int en = csbot_reply_lang(r) == CSBOT_LANG_EN;
            ck_assert_str_eq(csbot_reply_text(r), en ? "Connecting you to an agent."
                                                     : "正在转接人工。");
        }
        csbot_session_free(s);
    }
}
END_TEST

START_TEST(explicit_request_while_asking) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    r = t_say(s, "转人工");
    assert_handoff(r, CSBOT_HANDOFF_EXPLICIT_REQUEST, "转人工");
    ck_assert_int_eq(c.calls, 1);
    csbot_session_free(s);

    c.calls = 0;
    s = session_on(kb, &c);
    r = t_say(s, "where is my package?");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    /* even when the message also gives the number asked for */
    r = t_say(s, "202411223344556 but I want to talk to a human");
    assert_handoff(r, CSBOT_HANDOFF_EXPLICIT_REQUEST, "talk to a human");
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.lang, CSBOT_LANG_EN);
    /* the bot's words: the handoff message, or those of a handoff intent */
    if (!csbot_reply_intent(r))
        ck_assert_str_eq(csbot_reply_text(r), "Connecting you to an agent.");
    else
        ck_assert_msg(strcmp(csbot_reply_intent(r), "human_agent") == 0 ||
                          strcmp(csbot_reply_intent(r), "complaint") == 0,
                      "intent %s", csbot_reply_intent(r));
    csbot_session_free(s);
}
END_TEST

/* ---- intents that hand off ----------------------------------------------- */

START_TEST(intent_handoff) {
    static const struct {
        const char *text, *intent, *reply;
        csbot_handoff_reason why;
    } cases[] = {
        {"我要投诉", "complaint", "已为您转接主管。", CSBOT_HANDOFF_INTENT},
        {"I want to file a complaint", "complaint", "Passing you to a supervisor.",
         CSBOT_HANDOFF_INTENT},
        {"我想找客服人员聊聊", "human_agent", "好的，这就转接。",
         CSBOT_HANDOFF_EXPLICIT_REQUEST},
        {"can a person help me?", "human_agent", "Sure, transferring you.",
         CSBOT_HANDOFF_EXPLICIT_REQUEST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cap c = {0};
        csbot_session *s = session_on(kb, &c);
        const csbot_reply *r = t_say(s, cases[i].text);
        assert_handoff(r, cases[i].why, cases[i].text);
        ck_assert_str_eq(intent_of(r), cases[i].intent);
        ck_assert_str_eq(csbot_reply_text(r), cases[i].reply);
        ck_assert_int_eq(c.calls, 1);
        ck_assert_str_eq(c.intent, cases[i].intent);
        ck_assert_int_eq(c.reason, cases[i].why);
        ck_assert_double_ge(c.conf, 0.5);
        csbot_session_free(s);
    }
}
END_TEST

/* ---- misses --------------------------------------------------------------- */

START_TEST(repeated_miss_default_two) {
    static const char *const pairs[][2] = {
        {"量子力学很难", "今天天气不错"},
        {"blorp zzz quux", "xylophone quasar"},
    };
    for (size_t i = 0; i < 2; i++) {
        cap c = {0};
        csbot_session *s = session_on(kb, &c);
        const csbot_reply *r = t_say(s, pairs[i][0]);
        ck_assert_ptr_null(csbot_reply_intent(r));
        ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
        r = t_say(s, pairs[i][1]);
        assert_handoff(r, CSBOT_HANDOFF_REPEATED_MISS, pairs[i][1]);
        ck_assert_int_eq(c.reason, CSBOT_HANDOFF_REPEATED_MISS);
        ck_assert_int_eq(c.lang, i ? CSBOT_LANG_EN : CSBOT_LANG_ZH_HANS);
        /* the counters count the turn being handed off */
        ck_assert_uint_eq(c.turns, 2);
        ck_assert_uint_eq(c.misses_row, 2);
        ck_assert_uint_eq(c.misses_total, 2);
        csbot_session_free(s);
    }
}
END_TEST

START_TEST(repeated_miss_three) {
    cap c = {0};
    csbot_session *s = session_on(kb_three, &c);
    const csbot_reply *r = t_say(s, "量子力学很难");
    ck_assert_ptr_null(csbot_reply_intent(r));
    r = t_say(s, "今天天气不错");
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    r = t_say(s, "xylophone quasar");
    assert_handoff(r, CSBOT_HANDOFF_REPEATED_MISS, "third miss");
    ck_assert_int_eq(c.calls, 1);
    csbot_session_free(s);

    /* an answer in between starts the count again */
    s = session_on(kb_three, NULL);
    t_say(s, "量子力学很难");
    t_say(s, "今天天气不错");
    r = t_say(s, "可以退货吗");
    ck_assert_str_eq(intent_of(r), "return_policy");
    t_say(s, "量子力学很难");
    r = t_say(s, "blorp zzz quux");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    r = t_say(s, "xylophone quasar");
    assert_handoff(r, CSBOT_HANDOFF_REPEATED_MISS, "third miss again");
    csbot_session_free(s);
}
END_TEST

START_TEST(low_confidence) {
    cap c = {0};
    csbot_session *s = session_on(kb_low, &c);
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(s, "量子力学很难");
    assert_handoff(r, CSBOT_HANDOFF_LOW_CONFIDENCE, "量子力学很难");
    ck_assert_double_lt(csbot_reply_confidence(r), 0.2);
    ck_assert_int_eq(c.reason, CSBOT_HANDOFF_LOW_CONFIDENCE);
    ck_assert_double_lt(c.conf, 0.2);
    csbot_session_free(s);
    /* without handoff_threshold (and max_misses 3) a miss does not hand off */
    s = session_on(kb_three, NULL);
    r = t_say(s, "量子力学很难");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    csbot_session_free(s);
}
END_TEST

/* ---- the same question again --------------------------------------------- */

START_TEST(repeated_question) {
    static const char *const qs[][2] = {
        {"可以退货吗", "可以退货吗？"},
        {"Can I return it?", "can i return it"},
    };
    for (size_t i = 0; i < 2; i++) {
        cap c = {0};
        csbot_session *s = session_on(kb, &c);
        const csbot_reply *r = t_say(s, qs[i][0]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
        r = t_say(s, qs[i][1]);
        assert_handoff(r, CSBOT_HANDOFF_REPEATED_QUESTION, qs[i][1]);
        ck_assert_str_eq(intent_of(r), "return_policy");
        ck_assert_str_eq(c.intent, "return_policy");
        csbot_session_free(s);
    }
}
END_TEST

START_TEST(different_question_no_repeat) {
    static const char *const qs[][2] = {
        {"可以退货吗", "退货政策是什么"},
        {"can i return it", "what is your return policy for sale items"},
        {"可以退货吗", "这件有货吗"},
    };
    for (size_t i = 0; i < 3; i++) {
        csbot_session *s = session_on(kb, NULL);
        const csbot_reply *r = t_say(s, qs[i][0]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
        r = t_say(s, qs[i][1]);
        ck_assert_msg(csbot_reply_action(r) == CSBOT_ACTION_ANSWER,
                      "\"%s\" after \"%s\": %s (%s)", qs[i][1], qs[i][0],
                      csbot_action_name(csbot_reply_action(r)),
                      csbot_handoff_reason_name(csbot_reply_handoff_reason(r)));
        csbot_session_free(s);
    }
    /* not right after the answer: another turn in between */
    csbot_session *s = session_on(kb, NULL);
    t_say(s, "可以退货吗");
    t_say(s, "你好");
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    csbot_session_free(s);
    /* switched off in the knowledge base */
    s = session_on(kb_three, NULL);
    t_say(s, "可以退货吗");
    r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    csbot_session_free(s);
}
END_TEST

/* ---- sentiment ------------------------------------------------------------ */

START_TEST(negative_sentiment) {
    static const char *const angry[] = {
        "你们就是骗子！！！", "THIS IS RIDICULOUS, WORST SERVICE EVER!!!", NULL};
    for (size_t i = 0; angry[i]; i++) {
        cap c = {0};
        csbot_session *s = session_on(kb, &c);
        const csbot_reply *r = t_say(s, angry[i]);
        assert_handoff(r, CSBOT_HANDOFF_SENTIMENT, angry[i]);
        ck_assert_double_ge(csbot_reply_sentiment(r), 0.6);
        ck_assert_double_le(csbot_reply_sentiment(r), 1.0);
        ck_assert_int_eq(c.reason, CSBOT_HANDOFF_SENTIMENT);
        ck_assert_int_eq(c.lang, i ? CSBOT_LANG_EN : CSBOT_LANG_ZH_HANS);
        char *sj = strstr(c.json, "\"sentiment\":");
        ck_assert_ptr_nonnull(sj);
        ck_assert_double_ge(strtod(sj + 12, NULL), 0.6);
        csbot_session_free(s);
    }
}
END_TEST

START_TEST(neutral_sentiment) {
    static const char *const calm[] = {
        "可以退货吗", "请问这件有货吗", "where is my package", "垃圾袋有货吗",
        "do you sell garbage bags", NULL};
    for (size_t i = 0; calm[i]; i++) {
        csbot_session *s = session_on(kb, NULL);
        const csbot_reply *r = t_say(s, calm[i]);
        ck_assert_msg(csbot_reply_sentiment(r) < 0.3, "\"%s\": sentiment %.2f",
                      calm[i], csbot_reply_sentiment(r));
        ck_assert_msg(csbot_reply_action(r) != CSBOT_ACTION_HANDOFF,
                      "\"%s\" handed off (%s)", calm[i],
                      csbot_handoff_reason_name(csbot_reply_handoff_reason(r)));
        csbot_session_free(s);
    }
    /* the knowledge base can switch the sentiment handoff off (> 1) */
    csbot_session *s = session_on(kb_three, NULL);
    const csbot_reply *r = t_say(s, "你们就是骗子！！！");
    ck_assert_double_ge(csbot_reply_sentiment(r), 0.6);
    ck_assert_int_ne(csbot_reply_handoff_reason(r), CSBOT_HANDOFF_SENTIMENT);
    csbot_session_free(s);
}
END_TEST

/* ---- the packet ----------------------------------------------------------- */

START_TEST(packet_contents) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", "vip"), CSBOT_OK);
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(s, "还是转人工吧");
    assert_handoff(r, CSBOT_HANDOFF_EXPLICIT_REQUEST, "还是转人工吧");

    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.reason, CSBOT_HANDOFF_EXPLICIT_REQUEST);
    ck_assert_str_eq(c.text, "还是转人工吧");
    ck_assert_int_eq(c.lang, CSBOT_LANG_ZH_HANS);
    ck_assert(c.conf >= 0.0 && c.conf <= 1.0);
    /* the transcript, the current turn included */
    ck_assert_uint_eq(c.nturns, 4);
    ck_assert_int_eq(c.bad_index_rc, CSBOT_ERANGE);
    ck_assert_str_eq(c.t[0].user, "我的快递到哪了");
    ck_assert_str_eq(c.t[0].bot, "请提供您的订单号。");
    ck_assert_str_eq(c.t[0].intent, "order_tracking");
    ck_assert_int_eq(c.t[0].action, CSBOT_ACTION_ASK);
    ck_assert_str_eq(c.t[1].user, "202411223344556");
    ck_assert_str_eq(c.t[1].bot, "订单202411223344556已发出。");
    ck_assert_str_eq(c.t[1].intent, "order_tracking");
    ck_assert_int_eq(c.t[1].action, CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(c.t[2].bot, "7天无理由退货。");
    ck_assert_int_eq(c.t[2].action, CSBOT_ACTION_ANSWER);
    ck_assert(c.t[2].conf >= 0.5 && c.t[2].conf <= 1.0);
    ck_assert_str_eq(c.t[3].user, "还是转人工吧");
    ck_assert_str_eq(c.t[3].bot, "正在转接人工。");
    ck_assert_int_eq(c.t[3].action, CSBOT_ACTION_HANDOFF);
    /* the order number given two turns earlier */
    ck_assert_uint_eq(c.nslots, 1);
    ck_assert_str_eq(c.slot[0][0], "order_id");
    ck_assert_str_eq(c.slot[0][1], "202411223344556");
    ck_assert_uint_eq(c.turns, 4);
    ck_assert_uint_eq(c.misses_row, 0);
    ck_assert_uint_eq(c.misses_total, 0);

    /* the JSON form */
    cJSON *j = cJSON_Parse(c.json);
    ck_assert_msg(j != NULL, "not JSON: %s", c.json);
    ck_assert_uint_eq(c.jsonlen, strlen(c.json));
    static const char *const keys[] = {
        "reason", "text", "intent", "confidence", "threshold", "lang", "sentiment",
        "transcript", "slots", "profile", "counters", NULL};
    for (size_t i = 0; keys[i]; i++)
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(j, keys[i]) != NULL,
                      "no \"%s\" in %s", keys[i], c.json);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "reason")->valuestring,
                     "explicit_request");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "text")->valuestring,
                     "还是转人工吧");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "lang")->valuestring,
                     "zh-Hans");
    ck_assert_double_eq_tol(
        cJSON_GetObjectItemCaseSensitive(j, "threshold")->valuedouble, 0.5, 1e-9);
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "transcript");
    ck_assert(cJSON_IsArray(tr));
    ck_assert_int_eq(cJSON_GetArraySize(tr), 4);
    const cJSON *t1 = cJSON_GetArrayItem(tr, 1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t1, "user")->valuestring,
                     "202411223344556");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t1, "bot")->valuestring,
                     "订单202411223344556已发出。");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t1, "action")->valuestring,
                     "answer");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t1, "intent")->valuestring,
                     "order_tracking");
    ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t1, "candidates")));
    const cJSON *t3 = cJSON_GetArrayItem(tr, 3);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t3, "action")->valuestring,
                     "handoff");
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(j, "slots");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(sl, "order_id")->valuestring,
                     "202411223344556");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "profile");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(pr, "name")->valuestring,
                     "小王");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(pr, "level")->valuestring,
                     "vip");
    const cJSON *co = cJSON_GetObjectItemCaseSensitive(j, "counters");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(co, "turns")->valueint, 4);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(co, "misses_in_row")->valueint,
                     0);
    cJSON_Delete(j);
    csbot_session_free(s);
}
END_TEST

/* A slot given in the message that hands off is in the packet. */
START_TEST(packet_slot_from_current_message) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    const csbot_reply *r = t_say(s, "订单202411223344556，我要投诉");
    assert_handoff(r, CSBOT_HANDOFF_INTENT, "投诉");
    ck_assert_uint_eq(c.nslots, 1);
    ck_assert_str_eq(c.slot[0][1], "202411223344556");
    cJSON *j = cJSON_Parse(c.json);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(j, "slots"), "order_id")
                         ->valuestring,
                     "202411223344556");
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "intent")));
    cJSON_Delete(j);
    csbot_session_free(s);
}
END_TEST

START_TEST(packet_json_escapes_and_truncates) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    const char *msg = "转人工 \"quoted\" back\\slash\ttab\x01";
    t_say(s, msg);
    ck_assert_int_eq(c.calls, 1);
    cJSON *j = cJSON_Parse(c.json);
    ck_assert_msg(j != NULL, "not JSON: %s", c.json);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "text")->valuestring, msg);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "intent")) ||
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "intent")));
    cJSON_Delete(j);
    csbot_session_free(s);
    ck_assert_uint_eq(csbot_handoff_json(NULL, NULL, 0), 2);
    ck_assert_uint_eq(csbot_handoff_turn_count(NULL), 0);
    ck_assert_ptr_null(csbot_handoff_intent(NULL));
    ck_assert_str_eq(csbot_handoff_text(NULL), "");
}
END_TEST

static int short_json_cb(const csbot_handoff *h, void *ud) {
    size_t *out = ud;
    char small[10];
    memset(small, 'x', sizeof small);
    size_t need = csbot_handoff_json(h, small, sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_uint_eq(csbot_handoff_json(h, NULL, 0), need);
    char *full = malloc(need + 1);
    ck_assert_uint_eq(csbot_handoff_json(h, full, need + 1), need);
    ck_assert_uint_eq(strlen(full), need);
    ck_assert_int_eq(memcmp(full, small, sizeof small - 1), 0);
    free(full);
    out[0] = need;
    return 0;
}

START_TEST(packet_json_short_buffer) {
    size_t need = 0;
    csbot_session *s = session_on(kb, NULL);
    csbot_session_set_handoff(s, short_json_cb, &need);
    t_say(s, "转人工");
    ck_assert_uint_gt(need, 100);
    csbot_session_free(s);
}
END_TEST

/* ---- human mode ----------------------------------------------------------- */

START_TEST(human_mode_silent_and_recorded) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    t_say(s, "你好");
    const csbot_reply *r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    size_t len0;
    free(saved(s, &len0));
    static const char *const later[] = {"可以退货吗", "我要投诉", "转人工",
                                        "你们就是骗子！！！", "订单202411223344556"};
    for (size_t i = 0; i < 5; i++) {
        r = t_say(s, later[i]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
        ck_assert_ptr_null(csbot_reply_intent(r));
        ck_assert_str_eq(csbot_reply_text(r), "");
        ck_assert_int_eq(csbot_reply_handoff_reason(r), CSBOT_HANDOFF_NONE);
        ck_assert_uint_eq(csbot_reply_turn(r), 3 + i);
    }
    ck_assert_int_eq(c.calls, 1); /* no new handoff while a human has it */
    size_t len1;
    unsigned char *st = saved(s, &len1);
    ck_assert_uint_gt(len1, len0);
    /* the customer's words are in the saved state */
    int found = 0;
    for (size_t i = 0; i + strlen(later[0]) <= len1 && !found; i++)
        found = memcmp(st + i, later[0], strlen(later[0])) == 0;
    ck_assert(found);
    free(st);

    /* the host can't hand off again */
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_EHUMAN);
    /* the bot gets the conversation back */
    csbot_session_resume(s);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
    r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(intent_of(r), "return_policy");
    /* a second handoff shows the silent turns */
    r = t_say(s, "人工客服");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_int_eq(c.calls, 2);
    ck_assert_uint_eq(c.nturns, 9);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(c.t[2 + i].user, later[i]);
        ck_assert_int_eq(c.t[2 + i].action, CSBOT_ACTION_SILENT);
        ck_assert_str_eq(c.t[2 + i].intent, "");
    }
    /* the slot given in human mode was not extracted by the bot */
    csbot_session_free(s);
}
END_TEST

START_TEST(human_mode_message_from_kb) {
    csbot_kb *demo = t_load("intents/demo.json");
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, demo, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    r = t_say(s, "还要等多久");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    ck_assert_ptr_null(csbot_reply_intent(r));
    csbot_session_free(s);
    csbot_kb_free(demo);
}
END_TEST

START_TEST(auto_resume_after_idle) {
    t_clock clk = {1700000000000};
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.clock = t_clock_fn;
    o.clock_ud = &clk;
    o.auto_resume_seconds = 60;
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_OK);
    const csbot_reply *r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    clk.ms += 30000;
    r = t_say(s, "在吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    clk.ms += 59999; /* idle time counts from the last message */
    r = t_say(s, "还在吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    clk.ms += 60000;
    r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(intent_of(r), "return_policy");
    ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
    csbot_session_free(s);

    /* 0 means never */
    o.auto_resume_seconds = 0;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_OK);
    t_say(s, "转人工");
    clk.ms += 86400000;
    r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    csbot_session_free(s);
}
END_TEST

/* ---- a callback that refuses ---------------------------------------------- */

START_TEST(refusing_callback) {
    cap c = {0};
    c.refuse = 7;
    csbot_session *s = session_on(kb, &c);
    const csbot_reply *r = t_say(s, "可以退货吗");
    r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    size_t len0;
    unsigned char *before = saved(s, &len0);

    static const char *const triggers[] = {"转人工", "我要投诉", "你们就是骗子！！！",
                                           "I want to talk to a human"};
    for (size_t i = 0; i < 4; i++) {
        const csbot_reply *out = r;
        int rc = csbot_session_reply(s, triggers[i], CSBOT_NUL_TERMINATED, &out);
        ck_assert_msg(rc == CSBOT_ECALLBACK, "\"%s\": %s", triggers[i],
                      csbot_strerror(rc));
        ck_assert_ptr_null(out);
        ck_assert_str_ne(csbot_session_errmsg(s), "");
        ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
        size_t len1;
        unsigned char *after = saved(s, &len1);
        ck_assert_uint_eq(len1, len0);
        ck_assert_msg(memcmp(before, after, len0) == 0,
                      "\"%s\": the session changed", triggers[i]);
        free(after);
    }
    ck_assert_int_eq(c.calls, 4);
    /* the packet showed the refused turn as the last one */
    ck_assert_uint_eq(c.nturns, 3);
    ck_assert_str_eq(c.t[2].user, "I want to talk to a human");
    ck_assert_str_eq(c.t[1].user, "我的快递到哪了");
    free(before);

    /* the conversation carries on where it was: turn 3, and the order
     * number is still awaited */
    r = t_say(s, "202411223344556");
    ck_assert_uint_eq(csbot_reply_turn(r), 3);
    ck_assert_str_eq(intent_of(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_session_errmsg(s), "");

    /* now accept */
    c.refuse = 0;
    r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_uint_eq(csbot_reply_turn(r), 4);
    ck_assert_uint_eq(c.nturns, 4);
    csbot_session_free(s);
}
END_TEST

START_TEST(callback_reentry_fails) {
    cap c = {0};
    c.reenter = 1;
    csbot_session *s = session_on(kb, &c);
    const csbot_reply *r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_int_eq(c.reenter_rc[0], CSBOT_EINVAL);
    ck_assert_int_eq(c.reenter_rc[1], CSBOT_EINVAL);
    ck_assert_int_eq(c.reenter_rc[2], CSBOT_EINVAL);
    ck_assert_ptr_null(csbot_session_get_profile(s, "x"));
    csbot_session_resume(s);
    c.calls = 0;
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.reenter_rc[0], CSBOT_EINVAL);
    ck_assert_int_eq(c.reenter_rc[1], CSBOT_EINVAL);
    csbot_session_free(s);
}
END_TEST

/* ---- the host hands off ---------------------------------------------------- */

START_TEST(host_handoff) {
    cap c = {0};
    csbot_session *s = session_on(kb, &c);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);
    t_say(s, "where is my package 202411223344556");
    t_say(s, "can i return it");
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.reason, CSBOT_HANDOFF_HOST);
    ck_assert_str_eq(c.text, "");
    ck_assert_str_eq(c.intent, "");
    ck_assert_int_eq(c.lang, CSBOT_LANG_EN);
    ck_assert_uint_eq(c.nturns, 2);
    ck_assert_uint_eq(c.turns, 2);
    ck_assert_uint_eq(c.nslots, 1);
    cJSON *j = cJSON_Parse(c.json);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "reason")->valuestring,
                     "host");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "transcript")),
                     2);
    cJSON_Delete(j);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_EHUMAN);
    ck_assert_int_eq(c.calls, 1);
    const csbot_reply *r = t_say(s, "hello?");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    csbot_session_resume(s);
    /* refused: stays with the bot */
    c.refuse = 1;
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_ECALLBACK);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
    r = t_say(s, "hello");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    /* without a callback it works too */
    csbot_session_set_handoff(s, NULL, NULL);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    ck_assert_int_eq(csbot_session_handoff(NULL), CSBOT_EINVAL);
    csbot_session_free(s);
}
END_TEST

START_TEST(no_callback_still_hands_off) {
    csbot_session *s = session_on(kb, NULL);
    const csbot_reply *r = t_say(s, "我要投诉");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    csbot_session_free(s);
}
END_TEST

Suite *handoff_suite(void) {
    Suite *s = suite_create("handoff");
    TCase *tc = tcase_create("triggers");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, explicit_request);
    tcase_add_test(tc, explicit_request_no_weak_intent);
    tcase_add_test(tc, explicit_request_while_asking);
    tcase_add_test(tc, intent_handoff);
    tcase_add_test(tc, repeated_miss_default_two);
    tcase_add_test(tc, repeated_miss_three);
    tcase_add_test(tc, low_confidence);
    tcase_add_test(tc, repeated_question);
    tcase_add_test(tc, different_question_no_repeat);
    tcase_add_test(tc, negative_sentiment);
    tcase_add_test(tc, neutral_sentiment);
    tcase_add_test(tc, no_callback_still_hands_off);
    suite_add_tcase(s, tc);

    tc = tcase_create("packet");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, packet_contents);
    tcase_add_test(tc, packet_slot_from_current_message);
    tcase_add_test(tc, packet_json_escapes_and_truncates);
    tcase_add_test(tc, packet_json_short_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("human_mode");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, human_mode_silent_and_recorded);
    tcase_add_test(tc, human_mode_message_from_kb);
    tcase_add_test(tc, auto_resume_after_idle);
    tcase_add_test(tc, refusing_callback);
    tcase_add_test(tc, callback_reentry_fails);
    tcase_add_test(tc, host_handoff);
    suite_add_tcase(s, tc);
    return s;
}
