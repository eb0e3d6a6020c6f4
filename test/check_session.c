/*
 * check_session.c - the session object: lifecycle (new, free, reset), the
 * fields of a reply, response variants chosen by profile, answer templates,
 * profile variables, feedback, csbot_session_explain() and the user data slot.
 *
 * Behaviour is tested on a small inline knowledge base whose intents have
 * patterns, so the decisions do not depend on how well the matcher
 * generalises; one end-to-end check uses intents/demo.json.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "tests.h"

/* Pieces of the knowledge base (ISO C limits one string literal to 4095
 * bytes, and -pedantic -Werror enforces it). */
static const char *const kb_parts[] = {
    "{\"csbot\":1,\"name\":\"session test\","
    "\"shop\":{\"days\":\"7\"},"
    "\"slots\":{\"order_id\":{\"pattern\":\"(?<![0-9])([0-9]{12,20})(?![0-9])\","
    "\"prompt\":{\"zh\":\"请提供您的订单号。\",\"en\":\"Could you give me your order number?\"}}},"
    "\"intents\":[",
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\",\"在吗\"],"
    "\"en\":[\"hello\",\"hi there\"]},"
    "\"responses\":[{\"zh\":\"{profile.name|亲}您好！\",\"en\":\"Hi {profile.name|there}!\"}]},",
    "{\"id\":\"order_tracking\",\"examples\":{\"zh\":[\"我的快递到哪了\",\"查一下物流\","
    "\"包裹到哪里了\"],\"en\":[\"where is my package\",\"track my order\"]},"
    "\"patterns\":[\"快递到哪|查.{0,4}物流|(?:where|track).{0,20}(?:parcel|package|order)\"],"
    "\"slots\":[\"order_id\"],\"require\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id}已发出。\",\"en\":\"Order {order_id} has shipped.\"}]},",
    "{\"id\":\"delivery_time\",\"examples\":{\"zh\":[\"什么时候到货\",\"几天能到\"],"
    "\"en\":[\"when will it arrive\",\"how many days for delivery\"]},"
    "\"slots\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id|未提供}一般3天送达。\","
    "\"en\":\"Order {order_id|unknown} arrives in 3 days.\"}]},",
    "{\"id\":\"product_stock\",\"examples\":{\"zh\":[\"这件有货吗\",\"有L码吗\",\"红色还有货吗\"],"
    "\"en\":[\"is this in stock\",\"do you have it in red\"]},"
    "\"patterns\":[\"有货|库存|有[a-z]码|in stock\"],"
    "\"responses\":[{\"zh\":\"有货的。\",\"en\":\"It is in stock.\"}]},",
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"
    "\"en\":[\"can i return it\",\"return policy\"]},"
    "\"patterns\":[\"退货|return\"],"
    "\"responses\":[{\"zh\":\"{shop.days}天无理由退货。\",\"en\":\"Returns within {shop.days} days.\"},"
    "{\"when\":{\"level\":\"vip\"},\"zh\":\"尊敬的{profile.name|会员}，VIP享30天退货。\","
    "\"en\":\"Dear {profile.name|member}, VIPs get 30 days.\"}]},",
    "{\"id\":\"joke\",\"examples\":{\"zh\":[\"讲个笑话\"],\"en\":[\"tell me a joke\"]},"
    "\"patterns\":[\"笑话|joke\"],"
    "\"responses\":[{\"zh\":\"笑话一\",\"en\":\"Joke one\"},{\"zh\":\"笑话二\",\"en\":\"Joke two\"},"
    "{\"zh\":\"笑话三\",\"en\":\"Joke three\"}]},",
    "{\"id\":\"thanks\",\"examples\":{\"zh\":[\"谢谢\",\"多谢\"],\"en\":[\"thanks\",\"thank you\"]},"
    "\"patterns\":[\"谢谢|多谢|thank\"],"
    "\"responses\":[{\"zh\":\"不客气！\",\"en\":\"You're welcome!\"},"
    "{\"zh\":\"很高兴能帮到您！\",\"en\":\"Glad to help!\"}]}",
    "]}",
    NULL};

static csbot_kb *kb;

static csbot_kb *load_parts(const char *const *parts) {
    return t_load_parts(parts, (size_t)-1, NULL);
}

static void kb_setup(void) {
    kb = load_parts(kb_parts);
}

static void kb_teardown(void) {
    csbot_kb_free(kb);
    kb = NULL;
}

static csbot_session *new_session(void) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static const char *intent_of(const csbot_reply *r) {
    const char *i = csbot_reply_intent(r);
    return i ? i : "(none)";
}

/* A host handoff shows the transcript; this callback counts its turns. */
typedef struct peek {
    size_t turns;
    unsigned counter_turns;
} peek;

static int peek_cb(const csbot_handoff *h, void *ud) {
    peek *p = ud;
    p->turns = csbot_handoff_turn_count(h);
    csbot_handoff_counters(h, &p->counter_turns, NULL, NULL);
    return 1; /* refuse: the session stays with the bot */
}

/* ---- lifecycle ---------------------------------------------------------- */

/* The suggestions a reply lists are the first candidates, as many as its
 * numbered list has, and none for any other action. */
START_TEST(suggestion_count_matches_the_list) {
    csbot_kb *shop = t_load("intents/shop.json");
    csbot_session *s;
    ck_assert_int_eq(csbot_session_new(&s, shop, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, "订单");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SUGGEST);
    size_t n = csbot_reply_suggestion_count(r);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, csbot_reply_candidate_count(r));
    const char *text = csbot_reply_text(r);
    for (size_t i = 0; i < n; i++) {
        const char *id;
        size_t idx;
        char item[256];
        ck_assert_int_eq(csbot_reply_candidate(r, i, &id, NULL), CSBOT_OK);
        ck_assert_int_eq(csbot_kb_intent_find(shop, id, &idx), CSBOT_OK);
        snprintf(item, sizeof item, "\n%zu. %s", i + 1,
                 csbot_kb_intent_title(shop, idx, CSBOT_LANG_ZH_HANS));
        ck_assert_msg(strstr(text, item), "'%s' not in '%s'", item, text);
    }
    char next[32];
    snprintf(next, sizeof next, "\n%zu. ", n + 1);
    ck_assert_ptr_null(strstr(text, next));
    r = t_say(s, "我的快递到哪了");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_SUGGEST);
    ck_assert_uint_eq(csbot_reply_suggestion_count(r), 0);
    ck_assert_uint_eq(csbot_reply_suggestion_count(NULL), 0);
    csbot_session_free(s);
    csbot_kb_free(shop);
}
END_TEST

/* Answering a suggestion list with a number picks that suggestion, in the
 * forms customers use; a number past the list, or after a turn that was
 * not a suggestion, is an ordinary message. */
START_TEST(suggestion_picked_by_number) {
    csbot_kb *shop = t_load("intents/shop.json");
    static const char *const picks[] = {"2", " 2. ", "第2个", "第二个", "选2", "２",
                                        "the second one", "#2", "option 2"};
    for (size_t k = 0; k < sizeof picks / sizeof picks[0]; k++) {
        csbot_session *s;
        ck_assert_int_eq(csbot_session_new(&s, shop, NULL), CSBOT_OK);
        const csbot_reply *r = t_say(s, "订单");
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SUGGEST);
        ck_assert_uint_ge(csbot_reply_suggestion_count(r), 2);
        const char *second;
        ck_assert_int_eq(csbot_reply_candidate(r, 1, &second, NULL), CSBOT_OK);
        char want[64];
        snprintf(want, sizeof want, "%s", second);
        r = t_say(s, picks[k]);
        ck_assert_msg(csbot_reply_intent(r) && strcmp(csbot_reply_intent(r), want) == 0,
                      "'%s' after the list gave %s, not %s", picks[k],
                      csbot_reply_intent(r) ? csbot_reply_intent(r) : "(none)", want);
        ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_SUGGEST);
        ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
        csbot_session_free(s);
    }
    csbot_session *s;
    ck_assert_int_eq(csbot_session_new(&s, shop, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, "订单");
    size_t n = csbot_reply_suggestion_count(r);
    char past[8];
    snprintf(past, sizeof past, "%zu", n + 1);
    r = t_say(s, past);
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    /* a number with no list before it */
    r = t_say(s, "1");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    csbot_session_free(s);
    csbot_kb_free(shop);
}
END_TEST

START_TEST(new_rejects_bad_arguments) {
    csbot_session *s = (csbot_session *)&s; /* not NULL: must be reset */
    ck_assert_int_eq(csbot_session_new(&s, NULL, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(csbot_session_new(NULL, kb, NULL), CSBOT_EINVAL);
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.version = 999;
    s = (csbot_session *)&s;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_EINVAL);
    ck_assert_ptr_null(s);
    csbot_session_free(NULL);
    csbot_session_reset(NULL);
    ck_assert_str_eq(csbot_session_errmsg(NULL), "NULL session");
}
END_TEST

START_TEST(new_and_free) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_OK);
    ck_assert_ptr_eq(csbot_session_kb(s), kb);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
    ck_assert_str_eq(csbot_session_errmsg(s), "");
    const csbot_reply *r = t_say(s, "你好");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    csbot_session_free(s);
}
END_TEST

START_TEST(turn_numbers_count_up) {
    csbot_session *s = new_session();
    for (unsigned i = 1; i <= 5; i++) {
        const csbot_reply *r = t_say(s, i % 2 ? "你好" : "可以退货吗");
        ck_assert_uint_eq(csbot_reply_turn(r), i);
    }
    csbot_session_free(s);
}
END_TEST

START_TEST(reset_clears_conversation_keeps_profile) {
    csbot_session *s = new_session();
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_uint_eq(csbot_reply_slot_count(r), 1);
    r = t_say(s, "有L码吗");
    ck_assert_str_eq(intent_of(r), "product_stock");
    r = t_say(s, "转人工");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_uint_eq(csbot_reply_turn(r), 4);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);

    csbot_session_reset(s);

    /* human mode is off, the profile stays */
    ck_assert_int_eq(csbot_session_in_human_mode(s), 0);
    ck_assert_str_eq(csbot_session_get_profile(s, "name"), "小王");
    /* the transcript is empty: a host handoff sees no turns */
    peek p = {99, 99};
    csbot_session_set_handoff(s, peek_cb, &p);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_ECALLBACK);
    ck_assert_uint_eq(p.turns, 0);
    ck_assert_uint_eq(p.counter_turns, 0);
    csbot_session_set_handoff(s, NULL, NULL);
    /* the context is gone: an elliptical follow-up is not product_stock */
    r = t_say(s, "那M码呢");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    /* the slots are gone */
    ck_assert_uint_eq(csbot_reply_slot_count(r), 0);
    r = t_say(s, "什么时候到货");
    ck_assert_str_eq(intent_of(r), "delivery_time");
    ck_assert_str_eq(csbot_reply_text(r), "订单未提供一般3天送达。");
    /* the profile is still used in answers */
    r = t_say(s, "你好");
    ck_assert_str_eq(csbot_reply_text(r), "小王您好！");
    csbot_session_free(s);
}
END_TEST

START_TEST(reset_drops_pending_question) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    csbot_session_reset(s);
    r = t_say(s, "202411223344556");
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    /* the feedback for the old turn 1 (an ASK) now refers to the new turn */
    ck_assert_int_eq(csbot_session_feedback(s, 2, 5), CSBOT_ERANGE);
    csbot_session_free(s);
}
END_TEST

/* ---- reply fields ------------------------------------------------------- */

static int kb_has_intent(const char *id) {
    for (size_t i = 0; i < csbot_kb_intent_count(kb); i++)
        if (strcmp(csbot_kb_intent_id(kb, i), id) == 0)
            return 1;
    return 0;
}

static void check_candidates(const csbot_reply *r) {
    size_t n = csbot_reply_candidate_count(r);
    ck_assert_uint_le(n, 5);
    double prev = 2.0;
    for (size_t i = 0; i < n; i++) {
        const char *id = NULL;
        double sc = -1;
        ck_assert_int_eq(csbot_reply_candidate(r, i, &id, &sc), CSBOT_OK);
        ck_assert_ptr_nonnull(id);
        ck_assert_msg(kb_has_intent(id), "candidate %s is not an intent", id);
        ck_assert_msg(sc >= 0.0 && sc <= 1.0, "score %f", sc);
        ck_assert_msg(sc <= prev, "candidates not sorted: %f after %f", sc, prev);
        prev = sc;
        for (size_t k = 0; k < i; k++) {
            const char *other;
            csbot_reply_candidate(r, k, &other, NULL);
            ck_assert_str_ne(other, id);
        }
    }
    ck_assert_int_eq(csbot_reply_candidate(r, n, NULL, NULL), CSBOT_ERANGE);
    ck_assert_int_eq(csbot_reply_candidate(r, (size_t)-1, NULL, NULL),
                     CSBOT_ERANGE);
}

START_TEST(reply_fields_answer) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_str_eq(csbot_reply_text(r), "7天无理由退货。");
    double c = csbot_reply_confidence(r);
    ck_assert_msg(c >= 0.5 && c <= 1.0, "confidence %f", c);
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANS);
    ck_assert_int_eq(csbot_reply_handoff_reason(r), CSBOT_HANDOFF_NONE);
    ck_assert_uint_ge(csbot_reply_candidate_count(r), 1);
    const char *top;
    double tsc;
    ck_assert_int_eq(csbot_reply_candidate(r, 0, &top, &tsc), CSBOT_OK);
    ck_assert_str_eq(top, "return_policy");
    ck_assert_double_eq_tol(tsc, c, 1e-6);
    check_candidates(r);

    r = t_say(s, "is this in stock?");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_reply_intent(r), "product_stock");
    ck_assert_str_eq(csbot_reply_text(r), "It is in stock.");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    check_candidates(r);

    r = t_say(s, "請問可以退貨嗎");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANT);
    /* a Traditional-Chinese customer gets the answer in Traditional */
    ck_assert_str_eq(csbot_reply_text(r), "7天無理由退貨。");
    check_candidates(r);
    csbot_session_free(s);
}
END_TEST

START_TEST(reply_fields_fallback) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "量子力学很难");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_int_gt((int)strlen(csbot_reply_text(r)), 0);
    double c = csbot_reply_confidence(r);
    ck_assert_msg(c >= 0.0 && c < 0.5, "confidence %f", c);
    check_candidates(r);
    csbot_session_free(s);
}
END_TEST

START_TEST(reply_errors_leave_session_unchanged) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "你好");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    const csbot_reply *bad = r;
    ck_assert_int_eq(csbot_session_reply(s, " \t\n　", CSBOT_NUL_TERMINATED, &bad),
                     CSBOT_EEMPTY);
    ck_assert_ptr_null(bad);
    ck_assert_str_ne(csbot_session_errmsg(s), "");
    bad = r;
    ck_assert_int_eq(csbot_session_reply(s, "ab\xff", CSBOT_NUL_TERMINATED, &bad),
                     CSBOT_EUTF8);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(csbot_session_reply(s, "a\0b", 3, &bad), CSBOT_EUTF8);
    ck_assert_int_eq(csbot_session_reply(s, NULL, 0, &bad), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_reply(s, "你好", CSBOT_NUL_TERMINATED, NULL),
                     CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_reply(NULL, "你好", CSBOT_NUL_TERMINATED, &bad),
                     CSBOT_EINVAL);
    size_t big = 20000;
    char *t = malloc(big + 1);
    memset(t, 'a', big);
    t[big] = '\0';
    ck_assert_int_eq(csbot_session_reply(s, t, big, &bad), CSBOT_ETOOBIG);
    free(t);
    /* a length shorter than the string is honoured */
    r = t_say(s, "可以退货吗");
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    ck_assert_str_eq(csbot_session_errmsg(s), "");
    ck_assert_int_eq(csbot_session_reply(s, "你好吗？可以退货吗", strlen("你好"), &r),
                     CSBOT_OK);
    ck_assert_str_eq(intent_of(r), "greeting");
    ck_assert_uint_eq(csbot_reply_turn(r), 3);
    csbot_session_free(s);
}
END_TEST

/* ---- variants and templates --------------------------------------------- */

START_TEST(variant_by_profile) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_str_eq(csbot_reply_text(r), "7天无理由退货。");
    csbot_session_reset(s);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", "vip"), CSBOT_OK);
    r = t_say(s, "可以退货吗");
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_str_eq(csbot_reply_text(r), "尊敬的会员，VIP享30天退货。");
    csbot_session_reset(s);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "李雷"), CSBOT_OK);
    r = t_say(s, "return policy");
    ck_assert_str_eq(csbot_reply_text(r), "Dear 李雷, VIPs get 30 days.");
    csbot_session_reset(s);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", "gold"), CSBOT_OK);
    r = t_say(s, "可以退货吗");
    ck_assert_str_eq(csbot_reply_text(r), "7天无理由退货。");
    csbot_session_reset(s);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", NULL), CSBOT_OK);
    r = t_say(s, "return policy");
    ck_assert_str_eq(csbot_reply_text(r), "Returns within 7 days.");
    csbot_session_free(s);
}
END_TEST

static int joke_no(const char *text) {
    if (strcmp(text, "笑话一") == 0)
        return 0;
    if (strcmp(text, "笑话二") == 0)
        return 1;
    if (strcmp(text, "笑话三") == 0)
        return 2;
    ck_abort_msg("not a joke: \"%s\"", text);
    return -1;
}

/* Equal variants take turns: a customer who asks again (with another
 * message in between, so it is not a repeated question) gets the next one. */
START_TEST(variants_rotate) {
    csbot_session *s = new_session();
    int seen[3] = {0, 0, 0}, prev = -1;
    for (int i = 0; i < 6; i++) {
        const csbot_reply *r = t_say(s, "讲个笑话");
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
        ck_assert_str_eq(csbot_reply_intent(r), "joke");
        int j = joke_no(csbot_reply_text(r));
        ck_assert_msg(j != prev, "joke %d twice in a row (ask %d)", j + 1, i + 1);
        seen[j]++;
        prev = j;
        r = t_say(s, "你好");
        ck_assert_str_eq(intent_of(r), "greeting");
    }
    ck_assert_int_eq(seen[0], 2);
    ck_assert_int_eq(seen[1], 2);
    ck_assert_int_eq(seen[2], 2);
    csbot_session_free(s);
}
END_TEST

/* Two variants, asked every other turn: they must alternate, not depend on
 * whether the turn number is even. */
START_TEST(two_variants_alternate) {
    csbot_session *s = new_session();
    const char *prev = NULL;
    char seen[2][64] = {"", ""};
    for (int i = 0; i < 4; i++) {
        const csbot_reply *r = t_say(s, i % 2 ? "thank you" : "谢谢");
        ck_assert_str_eq(intent_of(r), "thanks");
        const char *t = csbot_reply_text(r);
        int k = strcmp(t, "不客气！") == 0 || strcmp(t, "You're welcome!") == 0;
        ck_assert_msg(k || strcmp(t, "很高兴能帮到您！") == 0 ||
                          strcmp(t, "Glad to help!") == 0,
                      "unexpected \"%s\"", t);
        if (prev)
            ck_assert_msg(strcmp(prev, k ? "first" : "second") != 0,
                          "the same variant twice in a row: \"%s\" (ask %d)", t,
                          i + 1);
        prev = k ? "first" : "second";
        strcpy(seen[!k], "x");
        r = t_say(s, "可以退货吗");
        ck_assert_str_eq(intent_of(r), "return_policy");
    }
    ck_assert_str_eq(seen[0], "x");
    ck_assert_str_eq(seen[1], "x");
    csbot_session_free(s);
}
END_TEST

START_TEST(variants_rotate_back_to_back) {
    csbot_session *s = new_session();
    int prev = -1;
    const char *asks[] = {"讲个笑话", "tell me a joke", "再来一个笑话吧"};
    for (int i = 0; i < 3; i++) {
        const csbot_reply *r = t_say(s, asks[i]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
        ck_assert_str_eq(csbot_reply_intent(r), "joke");
        const char *t = csbot_reply_text(r);
        int j = i == 1 ? (strcmp(t, "Joke one") == 0   ? 0
                          : strcmp(t, "Joke two") == 0 ? 1
                                                       : 2)
                       : joke_no(t);
        ck_assert_int_ne(j, prev);
        prev = j;
    }
    csbot_session_free(s);
}
END_TEST

START_TEST(template_slot_and_profile) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "你好");
    ck_assert_str_eq(csbot_reply_text(r), "亲您好！");
    r = t_say(s, "hello");
    ck_assert_str_eq(csbot_reply_text(r), "Hi there!");
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "王芳"), CSBOT_OK);
    r = t_say(s, "您好");
    ck_assert_str_eq(csbot_reply_text(r), "王芳您好！");
    /* an empty value counts as missing */
    ck_assert_int_eq(csbot_session_set_profile(s, "name", ""), CSBOT_OK);
    r = t_say(s, "在吗");
    ck_assert_str_eq(csbot_reply_text(r), "亲您好！");

    r = t_say(s, "我的快递到哪了，订单号是202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    const char *name, *value;
    ck_assert_uint_eq(csbot_reply_slot_count(r), 1);
    ck_assert_int_eq(csbot_reply_slot(r, 0, &name, &value), CSBOT_OK);
    ck_assert_str_eq(name, "order_id");
    ck_assert_str_eq(value, "202411223344556");
    ck_assert_int_eq(csbot_reply_slot(r, 1, &name, &value), CSBOT_ERANGE);
    csbot_session_free(s);
}
END_TEST

/* ---- profile ------------------------------------------------------------ */

START_TEST(profile_set_get_remove) {
    csbot_session *s = new_session();
    ck_assert_ptr_null(csbot_session_get_profile(s, "name"));
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "张三"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", "vip"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "city", "上海"), CSBOT_OK);
    ck_assert_str_eq(csbot_session_get_profile(s, "name"), "张三");
    ck_assert_str_eq(csbot_session_get_profile(s, "level"), "vip");
    /* values are copied */
    char v[8];
    strcpy(v, "gold");
    ck_assert_int_eq(csbot_session_set_profile(s, "level", v), CSBOT_OK);
    strcpy(v, "xxxx");
    ck_assert_str_eq(csbot_session_get_profile(s, "level"), "gold");
    /* remove the first; the others stay */
    ck_assert_int_eq(csbot_session_set_profile(s, "name", NULL), CSBOT_OK);
    ck_assert_ptr_null(csbot_session_get_profile(s, "name"));
    ck_assert_str_eq(csbot_session_get_profile(s, "level"), "gold");
    ck_assert_str_eq(csbot_session_get_profile(s, "city"), "上海");
    /* removing a missing key is fine; setting it again works */
    ck_assert_int_eq(csbot_session_set_profile(s, "name", NULL), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "李四"), CSBOT_OK);
    ck_assert_str_eq(csbot_session_get_profile(s, "name"), "李四");
    ck_assert_str_eq(csbot_session_get_profile(s, "city"), "上海");
    /* bad arguments */
    ck_assert_int_eq(csbot_session_set_profile(s, NULL, "x"), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_set_profile(s, "", "x"), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_set_profile(NULL, "a", "x"), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "\xc3"), CSBOT_EUTF8);
    ck_assert_int_eq(csbot_session_set_profile(s, "n\xff", "x"), CSBOT_EUTF8);
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    ck_assert_int_eq(csbot_session_set_profile(s, "name", big), CSBOT_ETOOBIG);
    ck_assert_int_eq(csbot_session_set_profile(s, big, "x"), CSBOT_ETOOBIG);
    free(big);
    /* a failed call changed nothing */
    ck_assert_str_eq(csbot_session_get_profile(s, "name"), "李四");
    ck_assert_ptr_null(csbot_session_get_profile(s, NULL));
    ck_assert_ptr_null(csbot_session_get_profile(NULL, "name"));
    csbot_session_free(s);
}
END_TEST

START_TEST(profile_lang_for_bare_numbers) {
    csbot_session *s = new_session();
    ck_assert_int_eq(csbot_session_set_profile(s, "lang", "en"), CSBOT_OK);
    const csbot_reply *r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    csbot_session_free(s);
    s = new_session();
    ck_assert_int_eq(csbot_session_set_profile(s, "lang", "zh-Hant"), CSBOT_OK);
    r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANT);
    csbot_session_free(s);
}
END_TEST

/* ---- feedback ----------------------------------------------------------- */

START_TEST(feedback_rules) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "可以退货吗");
    unsigned answered = csbot_reply_turn(r);
    r = t_say(s, "量子力学很难");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    unsigned missed = csbot_reply_turn(r);

    ck_assert_int_eq(csbot_session_feedback(s, answered, 5), CSBOT_OK);
    ck_assert_int_eq(csbot_session_feedback(s, answered, 1), CSBOT_OK); /* again */
    ck_assert_int_eq(csbot_session_feedback(s, answered, 0), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_feedback(s, answered, 6), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_feedback(s, answered, -1), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_feedback(s, 99, 3), CSBOT_ERANGE);
    ck_assert_int_eq(csbot_session_feedback(s, 0, 3), CSBOT_ERANGE);
    /* the bot did not answer that turn */
    ck_assert_int_eq(csbot_session_feedback(s, missed, 3), CSBOT_ERANGE);
    ck_assert_int_eq(csbot_session_feedback(NULL, answered, 3), CSBOT_EINVAL);
    csbot_session_free(s);
}
END_TEST

/* ---- explain ------------------------------------------------------------ */

START_TEST(explain_text) {
    csbot_session *s = new_session();
    char buf[4096];
    size_t n = csbot_session_explain(s, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "no turn"));

    t_say(s, "可以退货吗？？");
    n = csbot_session_explain(s, buf, sizeof buf);
    ck_assert_uint_lt(n, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "normalised"));
    ck_assert_ptr_nonnull(strstr(buf, "可以退货吗"));
    ck_assert_ptr_nonnull(strstr(buf, "return_policy"));
    ck_assert_ptr_nonnull(strstr(buf, "answer"));
    ck_assert_ptr_nonnull(strstr(buf, "0.50")); /* the answer threshold */
    ck_assert_ptr_nonnull(strstr(buf, "0.30")); /* the suggestion threshold */
    ck_assert_ptr_nonnull(strstr(buf, "pattern"));

    /* English is lower-cased in the normalised text */
    t_say(s, "IS THIS IN STOCK");
    csbot_session_explain(s, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "is this in stock"));
    ck_assert_ptr_nonnull(strstr(buf, "product_stock"));

    /* snprintf-like: a short buffer is truncated and terminated */
    char small[16];
    memset(small, 'x', sizeof small);
    size_t need = csbot_session_explain(s, small, sizeof small);
    ck_assert_uint_gt(need, sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_uint_eq(csbot_session_explain(s, NULL, 0), need);
    csbot_session_free(s);
}
END_TEST

/* ---- user data, callbacks ----------------------------------------------- */

static int dummy_cb(const csbot_handoff *h, void *ud) {
    (void)h;
    (void)ud;
    return 0;
}

START_TEST(user_data_and_handoff_pair) {
    csbot_session *s = new_session();
    ck_assert_ptr_null(csbot_session_get_data(s));
    int x;
    csbot_session_set_data(s, &x);
    ck_assert_ptr_eq(csbot_session_get_data(s), &x);
    t_say(s, "你好");
    csbot_session_reset(s);
    ck_assert_ptr_eq(csbot_session_get_data(s), &x); /* untouched */
    csbot_session_set_data(s, NULL);
    ck_assert_ptr_null(csbot_session_get_data(s));
    ck_assert_ptr_null(csbot_session_get_data(NULL));
    csbot_session_set_data(NULL, &x);

    csbot_handoff_cb cb = dummy_cb;
    void *ud = &x;
    csbot_session_get_handoff(s, &cb, &ud);
    ck_assert(cb == NULL);
    ck_assert_ptr_null(ud);
    csbot_session_set_handoff(s, dummy_cb, &x);
    csbot_session_get_handoff(s, &cb, &ud);
    ck_assert(cb == dummy_cb);
    ck_assert_ptr_eq(ud, &x);
    csbot_session_reset(s); /* keeps callbacks */
    csbot_session_get_handoff(s, &cb, NULL);
    ck_assert(cb == dummy_cb);
    csbot_session_free(s);
}
END_TEST

/* ---- end to end on the demo knowledge base ------------------------------ */

START_TEST(demo_conversation) {
    csbot_kb *demo = t_load("intents/demo.json");
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, demo, NULL), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);
    const csbot_reply *r = t_say(s, "你好");
    ck_assert_str_eq(csbot_reply_intent(r), "greeting");
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "小王"));
    r = t_say(s, "我的快递到哪了");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "202411223344556"));
    r = t_say(s, "do you accept returns?");
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    ck_assert_int_eq(csbot_session_set_profile(s, "level", "vip"), CSBOT_OK);
    r = t_say(s, "退货运费谁出");
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "VIP"));
    r = t_say(s, "谢谢");
    ck_assert_str_eq(csbot_reply_intent(r), "thanks");
    csbot_session_free(s);
    csbot_kb_free(demo);
}
END_TEST

Suite *session_suite(void) {
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("lifecycle");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, new_rejects_bad_arguments);
    tcase_add_test(tc, suggestion_count_matches_the_list);
    tcase_add_test(tc, suggestion_picked_by_number);
    tcase_add_test(tc, new_and_free);
    tcase_add_test(tc, turn_numbers_count_up);
    tcase_add_test(tc, reset_clears_conversation_keeps_profile);
    tcase_add_test(tc, reset_drops_pending_question);
    tcase_add_test(tc, user_data_and_handoff_pair);
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, reply_fields_answer);
    tcase_add_test(tc, reply_fields_fallback);
    tcase_add_test(tc, reply_errors_leave_session_unchanged);
    tcase_add_test(tc, explain_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("answers");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, variant_by_profile);
    tcase_add_test(tc, variants_rotate);
    tcase_add_test(tc, variants_rotate_back_to_back);
    tcase_add_test(tc, two_variants_alternate);
    tcase_add_test(tc, template_slot_and_profile);
    tcase_add_test(tc, profile_set_get_remove);
    tcase_add_test(tc, profile_lang_for_bare_numbers);
    tcase_add_test(tc, feedback_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("demo");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, demo_conversation);
    suite_add_tcase(s, tc);
    return s;
}
