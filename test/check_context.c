/*
 * check_context.c - conversation context: asking for a required slot and
 * taking the answer on the next turn, slots given up front, slots kept for
 * later answers, elliptical follow-ups ("那M码呢", "what about blue?") read
 * in the context of the previous intent only while the context lasts (turns
 * and seconds, on a fake clock), and a clear new question beating pending
 * context.
 */
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static const char *const kb_parts[] = {
    "{\"csbot\":1,\"name\":\"context test\","
    "\"settings\":{\"max_misses\":0,\"context_turns\":3,\"context_seconds\":600},"
    "\"slots\":{\"order_id\":{\"pattern\":\"(?<![0-9])([0-9]{12,20})(?![0-9])\","
    "\"prompt\":{\"zh\":\"请提供您的订单号。\",\"en\":\"Could you give me your order number?\"}}},"
    "\"intents\":[",
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\",\"在吗\"],"
    "\"en\":[\"hello\",\"hi there\"]},"
    "\"responses\":[{\"zh\":\"您好！\",\"en\":\"Hi!\"}]},",
    "{\"id\":\"order_tracking\",\"examples\":{\"zh\":[\"我的快递到哪了\",\"查一下物流\","
    "\"包裹到哪里了\"],\"en\":[\"where is my package\",\"track my order\"]},"
    "\"patterns\":[\"快递到哪|查.{0,4}物流|(?:where|track).{0,20}(?:parcel|package|order)\"],"
    "\"slots\":[\"order_id\"],\"require\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id}已发出。\",\"en\":\"Order {order_id} has shipped.\"}]},",
    "{\"id\":\"delivery_time\",\"examples\":{\"zh\":[\"什么时候到货\",\"几天能到\"],"
    "\"en\":[\"when will it arrive\",\"how many days for delivery\"]},"
    "\"patterns\":[\"几天能到|什么时候到货|when will it arrive\"],"
    "\"slots\":[\"order_id\"],"
    "\"responses\":[{\"zh\":\"订单{order_id|未提供}一般3天送达。\","
    "\"en\":\"Order {order_id|unknown} arrives in 3 days.\"}]},",
    "{\"id\":\"product_stock\",\"examples\":{\"zh\":[\"这件有货吗\",\"有L码吗\",\"红色还有货吗\","
    "\"蓝色有库存吗\"],"
    "\"en\":[\"is this in stock\",\"do you have it in red\",\"is the large size available\"]},"
    "\"patterns\":[\"有货|库存|有[a-z]码|in stock\"],"
    "\"responses\":[{\"zh\":\"有货的。\",\"en\":\"It is in stock.\"}]},",
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"
    "\"en\":[\"can i return it\",\"return policy\"]},"
    "\"patterns\":[\"退货|return\"],"
    "\"responses\":[{\"zh\":\"7天无理由退货。\",\"en\":\"Returns within 7 days.\"}]}",
    "]}",
    NULL};

static csbot_kb *kb;

static void kb_setup(void) {
    kb = t_load_parts(kb_parts, (size_t)-1, NULL);
}

static void kb_teardown(void) {
    csbot_kb_free(kb);
    kb = NULL;
}

static csbot_session *new_session(t_clock *clk) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    if (clk) {
        o.clock = t_clock_fn;
        o.clock_ud = clk;
    }
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_OK);
    return s;
}

static const char *intent_of(const csbot_reply *r) {
    const char *i = csbot_reply_intent(r);
    return i ? i : "(none)";
}

static void expect(const csbot_reply *r, const char *text, csbot_action action,
                   const char *intent) {
    ck_assert_msg(csbot_reply_action(r) == action &&
                      strcmp(intent_of(r), intent) == 0,
                  "\"%s\": %s %s, expected %s %s", text,
                  csbot_action_name(csbot_reply_action(r)), intent_of(r),
                  csbot_action_name(action), intent);
}

static const csbot_reply *say(csbot_session *s, const char *text,
                              csbot_action action, const char *intent) {
    const csbot_reply *r = t_say(s, text);
    expect(r, text, action, intent);
    return r;
}

/* ---- slot filling -------------------------------------------------------- */

START_TEST(slot_filling_zh) {
    csbot_session *s = new_session(NULL);
    const csbot_reply *r = say(s, "我的快递到哪了", CSBOT_ACTION_ASK, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "请提供您的订单号。");
    ck_assert_uint_eq(csbot_reply_slot_count(r), 0);
    r = say(s, "202411223344556", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANS);
    ck_assert(csbot_reply_confidence(r) >= 0.0 && csbot_reply_confidence(r) <= 1.0);
    ck_assert_uint_eq(csbot_reply_slot_count(r), 1);
    /* with words around the number */
    csbot_session_reset(s);
    say(s, "查一下物流", CSBOT_ACTION_ASK, "order_tracking");
    r = say(s, "订单号是202411229999999，麻烦了", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411229999999已发出。");
    csbot_session_free(s);
}
END_TEST

START_TEST(slot_filling_en) {
    csbot_session *s = new_session(NULL);
    const csbot_reply *r =
        say(s, "where is my package?", CSBOT_ACTION_ASK, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "Could you give me your order number?");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    r = say(s, "it's 202411223344556", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "Order 202411223344556 has shipped.");
    csbot_session_reset(s);
    say(s, "track my order please", CSBOT_ACTION_ASK, "order_tracking");
    /* a bare number keeps the customer's language */
    r = say(s, "202411223344556", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    ck_assert_str_eq(csbot_reply_text(r), "Order 202411223344556 has shipped.");
    csbot_session_free(s);
}
END_TEST

/* Chinese input methods often type full-width digits. */
START_TEST(slot_full_width_digits) {
    csbot_session *s = new_session(NULL);
    say(s, "我的快递到哪了", CSBOT_ACTION_ASK, "order_tracking");
    const csbot_reply *r = say(s, "２０２４１１２２３３４４５５６", CSBOT_ACTION_ANSWER,
                               "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    csbot_session_reset(s);
    r = say(s, "我的快递到哪了？订单号：２０２４１１２２３３４４５５７", CSBOT_ACTION_ANSWER,
            "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344557已发出。");
    csbot_session_free(s);
}
END_TEST

START_TEST(slot_in_first_message) {
    csbot_session *s = new_session(NULL);
    const csbot_reply *r = say(s, "我的快递到哪了，订单号202411223344556",
                               CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556已发出。");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    csbot_session_free(s);
    s = new_session(NULL);
    r = say(s, "Where is my package? Order 202411223344556", CSBOT_ACTION_ANSWER,
            "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "Order 202411223344556 has shipped.");
    csbot_session_free(s);
}
END_TEST

START_TEST(slots_persist) {
    csbot_session *s = new_session(NULL);
    say(s, "我的快递到哪了", CSBOT_ACTION_ASK, "order_tracking");
    say(s, "202411223344556", CSBOT_ACTION_ANSWER, "order_tracking");
    say(s, "可以退货吗", CSBOT_ACTION_ANSWER, "return_policy");
    const csbot_reply *r = say(s, "几天能到", CSBOT_ACTION_ANSWER, "delivery_time");
    ck_assert_str_eq(csbot_reply_text(r), "订单202411223344556一般3天送达。");
    const char *k, *v;
    ck_assert_int_eq(csbot_reply_slot(r, 0, &k, &v), CSBOT_OK);
    ck_assert_str_eq(k, "order_id");
    ck_assert_str_eq(v, "202411223344556");
    /* a required slot already known is not asked again */
    r = say(s, "where is my package", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "Order 202411223344556 has shipped.");
    /* a new value replaces the old one */
    r = say(s, "那订单202499998888777什么时候到货", CSBOT_ACTION_ANSWER, "delivery_time");
    ck_assert_str_eq(csbot_reply_text(r), "订单202499998888777一般3天送达。");
    ck_assert_uint_eq(csbot_reply_slot_count(r), 1);
    r = say(s, "我的快递到哪了", CSBOT_ACTION_ANSWER, "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), "订单202499998888777已发出。");
    csbot_session_free(s);
}
END_TEST

/* ---- elliptical follow-ups ------------------------------------------------ */

START_TEST(followup_zh) {
    csbot_session *s = new_session(NULL);
    /* on its own, the follow-up means nothing */
    const csbot_reply *r = t_say(s, "那M码呢");
    ck_assert_str_ne(intent_of(r), "product_stock");
    csbot_session_reset(s);
    say(s, "有L码吗", CSBOT_ACTION_ANSWER, "product_stock");
    r = say(s, "那M码呢", CSBOT_ACTION_ANSWER, "product_stock");
    ck_assert_str_eq(csbot_reply_text(r), "有货的。");
    ck_assert(csbot_reply_confidence(r) >= 0.0 && csbot_reply_confidence(r) <= 1.0);
    say(s, "那蓝色呢", CSBOT_ACTION_ANSWER, "product_stock");
    csbot_session_free(s);
}
END_TEST

START_TEST(followup_en) {
    csbot_session *s = new_session(NULL);
    const csbot_reply *r = t_say(s, "what about blue?");
    ck_assert_str_ne(intent_of(r), "product_stock");
    csbot_session_reset(s);
    say(s, "is this in stock?", CSBOT_ACTION_ANSWER, "product_stock");
    r = say(s, "what about blue?", CSBOT_ACTION_ANSWER, "product_stock");
    ck_assert_str_eq(csbot_reply_text(r), "It is in stock.");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    csbot_session_free(s);
}
END_TEST

static const char *const fillers[] = {"量子力学很难", "今天天气不错", "xylophone quasar"};

/* context_turns 3: the follow-up may come up to 3 turns after the answer */
START_TEST(context_expires_after_turns) {
    csbot_session *s = new_session(NULL);
    say(s, "有L码吗", CSBOT_ACTION_ANSWER, "product_stock");
    for (int i = 0; i < 2; i++) {
        const csbot_reply *r = t_say(s, fillers[i]);
        ck_assert_ptr_null(csbot_reply_intent(r));
    }
    say(s, "那M码呢", CSBOT_ACTION_ANSWER, "product_stock");
    csbot_session_free(s);

    s = new_session(NULL);
    say(s, "有L码吗", CSBOT_ACTION_ANSWER, "product_stock");
    for (int i = 0; i < 3; i++) {
        const csbot_reply *r = t_say(s, fillers[i]);
        ck_assert_ptr_null(csbot_reply_intent(r));
        ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    }
    const csbot_reply *r = t_say(s, "那M码呢");
    ck_assert_str_ne(intent_of(r), "product_stock");
    csbot_session_free(s);
}
END_TEST

START_TEST(context_expires_after_seconds) {
    t_clock clk = {1700000000000};
    csbot_session *s = new_session(&clk);
    say(s, "有L码吗", CSBOT_ACTION_ANSWER, "product_stock");
    clk.ms += 599 * 1000;
    say(s, "那M码呢", CSBOT_ACTION_ANSWER, "product_stock");
    /* the follow-up renewed the context */
    clk.ms += 599 * 1000;
    say(s, "what about blue?", CSBOT_ACTION_ANSWER, "product_stock");
    clk.ms += 601 * 1000;
    const csbot_reply *r = t_say(s, "那M码呢");
    ck_assert_str_ne(intent_of(r), "product_stock");
    csbot_session_free(s);

    s = new_session(&clk);
    say(s, "is this in stock", CSBOT_ACTION_ANSWER, "product_stock");
    clk.ms += 3600 * 1000;
    r = t_say(s, "what about blue?");
    ck_assert_str_ne(intent_of(r), "product_stock");
    csbot_session_free(s);
}
END_TEST

/* ---- a clear new question wins -------------------------------------------- */

START_TEST(new_question_beats_pending_slot) {
    csbot_session *s = new_session(NULL);
    say(s, "我的快递到哪了", CSBOT_ACTION_ASK, "order_tracking");
    const csbot_reply *r = say(s, "可以退货吗", CSBOT_ACTION_ANSWER, "return_policy");
    ck_assert_str_eq(csbot_reply_text(r), "7天无理由退货。");
    csbot_session_free(s);

    /* also when the new question carries a number */
    s = new_session(NULL);
    say(s, "where is my package", CSBOT_ACTION_ASK, "order_tracking");
    r = say(s, "when will it arrive? order 202411223344556", CSBOT_ACTION_ANSWER,
            "delivery_time");
    ck_assert_str_eq(csbot_reply_text(r), "Order 202411223344556 arrives in 3 days.");
    csbot_session_free(s);
}
END_TEST

START_TEST(new_question_beats_context) {
    csbot_session *s = new_session(NULL);
    say(s, "有L码吗", CSBOT_ACTION_ANSWER, "product_stock");
    say(s, "那可以退货吗", CSBOT_ACTION_ANSWER, "return_policy");
    say(s, "is this in stock", CSBOT_ACTION_ANSWER, "product_stock");
    say(s, "and can i return it?", CSBOT_ACTION_ANSWER, "return_policy");
    csbot_session_free(s);
}
END_TEST

Suite *context_suite(void) {
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("slots");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, slot_filling_zh);
    tcase_add_test(tc, slot_filling_en);
    tcase_add_test(tc, slot_full_width_digits);
    tcase_add_test(tc, slot_in_first_message);
    tcase_add_test(tc, slots_persist);
    suite_add_tcase(s, tc);

    tc = tcase_create("followups");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, followup_zh);
    tcase_add_test(tc, followup_en);
    tcase_add_test(tc, context_expires_after_turns);
    tcase_add_test(tc, context_expires_after_seconds);
    tcase_add_test(tc, new_question_beats_pending_slot);
    tcase_add_test(tc, new_question_beats_context);
    suite_add_tcase(s, tc);
    return s;
}
