/*
 * check_render.c - answers: templates ({slot}, {profile.key}, {shop.key},
 * {name|default}, stray braces), the choice among response variants by
 * profile conditions (most conditions win, "*" = any value), answers for
 * Traditional-Chinese customers, and a language missing from a response.
 */
#include <stdlib.h>
#include <string.h>

#include "tests.h"

static const char *const kb_parts[] = {
    "{\"csbot\":1,\"name\":\"render test\",\"settings\":{\"handoff_on_repeat\":false},"
    "\"shop\":{\"days\":\"7\",\"phone\":\"400-000\"},"
    "\"slots\":{\"order_id\":{\"pattern\":\"(?<![0-9])([0-9]{12,20})(?![0-9])\"},"
    "\"color\":{\"pattern\":\"(红色|蓝色|red|blue)\"}},"
    "\"intents\":[",
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\"],\"en\":[\"hello\"]},"
    "\"patterns\":[\"^(?:你好|您好|hello)\"],"
    "\"responses\":[{\"zh\":\"{profile.name|亲}您好！请问有什么可以帮您？\","
    "\"en\":\"Hi {profile.name|there}!\"}]},",
    "{\"id\":\"templates\",\"examples\":{\"zh\":[\"测试模板\"],\"en\":[\"template test\"]},"
    "\"patterns\":[\"模板|template\"],\"slots\":[\"order_id\",\"color\"],"
    "\"responses\":[{\"zh\":\"[{order_id|无}][{color|}][{profile.city|?}][{shop.days}天][c}d]\","
    "\"en\":\"[{order_id|none}] [{shop.phone}] [{profile.name}]\"}]},",
    "{\"id\":\"levels\",\"examples\":{\"zh\":[\"会员价\"],\"en\":[\"member price\"]},"
    "\"patterns\":[\"会员价|member price\"],"
    "\"responses\":[{\"zh\":\"普通\"},"
    "{\"when\":{\"name\":\"*\"},\"zh\":\"会员\"},"
    "{\"when\":{\"level\":\"vip\"},\"zh\":\"VIP\"},"
    "{\"when\":{\"level\":\"vip\",\"city\":\"上海\"},\"zh\":\"上海VIP\"}]},",
    "{\"id\":\"zh_only\",\"examples\":{\"zh\":[\"只有中文\"]},\"patterns\":[\"只有中文|chinese only\"],"
    "\"responses\":[{\"zh\":\"这是中文回答。\"}]},",
    "{\"id\":\"en_only\",\"examples\":{\"en\":[\"english only\"]},\"patterns\":[\"english only|只有英文\"],"
    "\"responses\":[{\"en\":\"English answer.\"}]}",
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

static csbot_session *new_session(void) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    return s;
}

static const char *answer(csbot_session *s, const char *text, const char *intent) {
    const csbot_reply *r = t_say(s, text);
    ck_assert_msg(csbot_reply_action(r) == CSBOT_ACTION_ANSWER, "\"%s\": %s", text,
                  csbot_action_name(csbot_reply_action(r)));
    ck_assert_str_eq(csbot_reply_intent(r), intent);
    return csbot_reply_text(r);
}

START_TEST(template_forms) {
    csbot_session *s = new_session();
    ck_assert_str_eq(answer(s, "测试模板", "templates"),
                     "[无][][?][7天][c}d]");
    ck_assert_int_eq(csbot_session_set_profile(s, "city", "杭州"), CSBOT_OK);
    ck_assert_str_eq(answer(s, "测试模板，订单202411223344556，红色", "templates"),
                     "[202411223344556][红色][杭州][7天][c}d]");
    /* slots stay for later answers */
    ck_assert_str_eq(answer(s, "template test", "templates"),
                     "[202411223344556] [400-000] []");
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "{order_id}"), CSBOT_OK);
    /* a value is not expanded again */
    ck_assert_str_eq(answer(s, "template test please", "templates"),
                     "[202411223344556] [400-000] [{order_id}]");
    csbot_session_free(s);
}
END_TEST

START_TEST(most_specific_variant_wins) {
    csbot_session *s = new_session();
    ck_assert_str_eq(answer(s, "会员价", "levels"), "普通");
    csbot_session_set_profile(s, "name", "");
    ck_assert_str_eq(answer(s, "会员价是多少", "levels"), "普通"); /* "*" needs a value */
    csbot_session_set_profile(s, "name", "小王");
    ck_assert_str_eq(answer(s, "会员价", "levels"), "会员");
    csbot_session_set_profile(s, "name", NULL);
    csbot_session_set_profile(s, "level", "vip");
    ck_assert_str_eq(answer(s, "会员价是多少", "levels"), "VIP");
    csbot_session_set_profile(s, "city", "北京");
    ck_assert_str_eq(answer(s, "会员价", "levels"), "VIP");
    csbot_session_set_profile(s, "city", "上海");
    ck_assert_str_eq(answer(s, "会员价是多少", "levels"), "上海VIP");
    csbot_session_set_profile(s, "name", "小王"); /* still the most specific */
    ck_assert_str_eq(answer(s, "会员价", "levels"), "上海VIP");
    csbot_session_set_profile(s, "level", "gold");
    ck_assert_str_eq(answer(s, "会员价是多少", "levels"), "会员");
    csbot_session_free(s);
}
END_TEST

START_TEST(traditional_customer) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "您好，請問");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANT);
    ck_assert_str_eq(csbot_reply_text(r), "親您好！請問有什麼可以幫您？");
    csbot_session_set_profile(s, "name", "小王");
    r = t_say(s, "您好，請問一下");
    ck_assert_str_eq(csbot_reply_text(r), "小王您好！請問有什麼可以幫您？");
    csbot_session_free(s);
}
END_TEST

START_TEST(missing_language_falls_back) {
    csbot_session *s = new_session();
    const csbot_reply *r = t_say(s, "chinese only please");
    ck_assert_str_eq(csbot_reply_intent(r), "zh_only");
    ck_assert_str_eq(csbot_reply_text(r), "这是中文回答。");
    r = t_say(s, "只有英文吗");
    ck_assert_str_eq(csbot_reply_intent(r), "en_only");
    ck_assert_str_eq(csbot_reply_text(r), "English answer.");
    csbot_session_free(s);
}
END_TEST

Suite *render_suite(void) {
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("templates");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, template_forms);
    tcase_add_test(tc, most_specific_variant_wins);
    tcase_add_test(tc, traditional_customer);
    tcase_add_test(tc, missing_language_falls_back);
    suite_add_tcase(s, tc);
    return s;
}
