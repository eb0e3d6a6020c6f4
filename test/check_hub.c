/*
 * check_hub.c - hot reload through csbot_hub: a session moves to the new
 * knowledge base on its next turn, a broken file leaves the old base
 * serving, the generation counts swaps, and a replaced base is freed when
 * its last session has moved away (counted with the test allocator; run
 * under ASan for leaks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

#define KB_HEAD                                                              \
    "{\"csbot\":1,\"name\":\"%s\",\"intents\":["                              \
    "{\"id\":\"greeting\",\"examples\":{\"zh\":[\"你好\",\"您好\",\"在吗\"],"  \
    "\"en\":[\"hello\",\"hi there\"]},"                                       \
    "\"responses\":[{\"zh\":\"%s\",\"en\":\"Hi!\"}]},"                         \
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"\
    "\"en\":[\"can i return it\",\"return policy\"]},\"patterns\":[\"退货|return\"],"\
    "\"responses\":[{\"zh\":\"7天无理由退货。\",\"en\":\"Returns within 7 days.\"}]}"
#define KB_GIFT                                                              \
    ",{\"id\":\"gift_wrap\",\"examples\":{\"zh\":[\"可以礼品包装吗\",\"能包装成礼物吗\"],"\
    "\"en\":[\"can you gift wrap it\",\"gift wrapping\"]},\"patterns\":[\"礼品包装|包装成礼物|gift ?wrap\"],"\
    "\"responses\":[{\"zh\":\"可以免费礼品包装。\",\"en\":\"Free gift wrapping.\"}]}"

/* Load an inline base; with_gift adds the gift_wrap intent. */
static csbot_kb *make_kb(const char *name, const char *hello, int with_gift,
                         t_alloc *ta) {
    char json[4096];
    int n = snprintf(json, sizeof json, KB_HEAD "%s]}", name, hello,
                     with_gift ? KB_GIFT : "");
    ck_assert(n > 0 && (size_t)n < sizeof json);
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    if (ta) {
        o.alloc = t_alloc_fn;
        o.alloc_ud = ta;
    }
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED, name, &o, &err);
    ck_assert_msg(rc == CSBOT_OK, "%s: %s", name, err.message);
    return kb;
}

static const char *intent_of(const csbot_reply *r) {
    const char *i = csbot_reply_intent(r);
    return i ? i : "(none)";
}

/* A temporary file with the given contents; the caller unlinks it. */
static void temp_file(char *path, size_t size, const char *text) {
    snprintf(path, size, "/tmp/csbot-hub-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq((int)write(fd, text, n), (int)n);
    close(fd);
}

START_TEST(bad_arguments) {
    csbot_hub *h = (csbot_hub *)&h;
    ck_assert_int_eq(csbot_hub_new(&h, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(h);
    t_alloc ta = {0};
    /* ownership passes to the hub even on failure */
    ck_assert_int_eq(csbot_hub_new(NULL, make_kb("a", "A", 0, &ta)), CSBOT_EINVAL);
    ck_assert_int_eq(ta.live, 0);
    ck_assert_int_eq(csbot_hub_new(&h, make_kb("a", "A", 0, &ta)), CSBOT_OK);
    ck_assert_int_eq(csbot_hub_swap(h, NULL), CSBOT_EINVAL);
    t_alloc tb = {0};
    ck_assert_int_eq(csbot_hub_swap(NULL, make_kb("b", "B", 0, &tb)), CSBOT_EINVAL);
    ck_assert_int_eq(tb.live, 0);
    ck_assert_int_eq(csbot_hub_reload_file(h, NULL, NULL, NULL), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_hub_reload_file(NULL, "intents/demo.json", NULL, NULL),
                     CSBOT_EINVAL);
    ck_assert_uint_eq(csbot_hub_generation(h), 0);
    ck_assert_uint_eq(csbot_hub_generation(NULL), 0);
    csbot_session *s = (csbot_session *)&s;
    ck_assert_int_eq(csbot_session_new_hub(&s, NULL, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(s);
    csbot_hub_free(h);
    csbot_hub_free(NULL);
    ck_assert_int_eq(ta.live, 0);
}
END_TEST

START_TEST(swap_moves_session_on_next_turn) {
    t_alloc ta = {0}, tb = {0};
    csbot_kb *a = make_kb("a", "A您好", 0, &ta);
    csbot_kb *b = make_kb("b", "B您好", 1, &tb);
    csbot_hub *h = NULL;
    ck_assert_int_eq(csbot_hub_new(&h, a), CSBOT_OK);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new_hub(&s, h, NULL), CSBOT_OK);
    ck_assert_ptr_eq(csbot_session_kb(s), a);
    const csbot_reply *r = t_say(s, "可以礼品包装吗");
    ck_assert_str_ne(intent_of(r), "gift_wrap");
    r = t_say(s, "你好");
    ck_assert_str_eq(csbot_reply_text(r), "A您好");
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);

    ck_assert_int_eq(csbot_hub_swap(h, b), CSBOT_OK);
    ck_assert_uint_eq(csbot_hub_generation(h), 1);
    /* the old base stays alive while the session still uses it */
    ck_assert_ptr_eq(csbot_session_kb(s), a);
    long live_a = ta.live;
    r = t_say(s, "可以礼品包装吗");
    ck_assert_ptr_eq(csbot_session_kb(s), b);
    ck_assert_str_eq(intent_of(r), "gift_wrap");
    ck_assert_str_eq(csbot_reply_text(r), "可以免费礼品包装。");
    ck_assert_uint_eq(csbot_reply_turn(r), 3); /* the conversation goes on */
    ck_assert_str_eq(csbot_session_get_profile(s, "name"), "小王");
    /* the old base was freed when its last session moved away; what is left
     * is the session's own memory */
    ck_assert_int_lt(ta.live, live_a);
    r = t_say(s, "在吗");
    ck_assert_str_eq(csbot_reply_text(r), "B您好");
    csbot_session_free(s);
    ck_assert_int_eq(ta.live, 0);
    ck_assert_int_gt(tb.live, 0); /* the hub's current base */
    csbot_hub_free(h);
    ck_assert_int_eq(tb.live, 0);
}
END_TEST

START_TEST(old_base_lives_until_last_session_moves) {
    t_alloc ta = {0}, tb = {0}, tc = {0};
    csbot_hub *h = NULL;
    ck_assert_int_eq(csbot_hub_new(&h, make_kb("a", "A", 0, &ta)), CSBOT_OK);
    csbot_session *s1 = NULL, *s2 = NULL;
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    ck_assert_int_eq(csbot_session_new_hub(&s1, h, &o), CSBOT_OK);
    ck_assert_int_eq(csbot_session_new_hub(&s2, h, NULL), CSBOT_OK);
    t_say(s1, "你好");
    ck_assert_int_eq(csbot_hub_swap(h, make_kb("b", "B", 1, &tb)), CSBOT_OK);
    /* nobody uses b when c replaces it: b goes at once */
    ck_assert_int_eq(csbot_hub_swap(h, make_kb("c", "C", 1, &tc)), CSBOT_OK);
    ck_assert_int_eq(tb.live, 0);
    ck_assert_uint_eq(csbot_hub_generation(h), 2);
    const csbot_reply *r = t_say(s1, "在吗");
    ck_assert_str_eq(csbot_reply_text(r), "C");
    long before = ta.live;
    ck_assert_int_gt(before, 0);
    /* s2 still holds a; freeing it frees a */
    csbot_session_free(s2);
    ck_assert_int_lt(ta.live, before);
    csbot_session_free(s1);
    ck_assert_int_eq(ta.live, 0);
    csbot_hub_free(h);
    ck_assert_int_eq(tc.live, 0);
}
END_TEST

START_TEST(reload_file_broken_keeps_old) {
    csbot_hub *h = NULL;
    ck_assert_int_eq(csbot_hub_new(&h, make_kb("a", "A", 0, NULL)), CSBOT_OK);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new_hub(&s, h, NULL), CSBOT_OK);
    const csbot_kb *before = csbot_session_kb(s);

    char path[64];
    temp_file(path, sizeof path, "{\"csbot\": 1, \"intents\": [\n  {\"id\": \"x\",\n");
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_hub_reload_file(h, path, NULL, &err), CSBOT_EJSON);
    ck_assert_int_eq(err.code, CSBOT_EJSON);
    ck_assert_str_ne(err.message, "");
    ck_assert_uint_eq(csbot_hub_generation(h), 0);
    unlink(path);
    /* valid JSON, bad schema */
    temp_file(path, sizeof path, "{\"csbot\": 1, \"intents\": [], \"exmaples\": 1}");
    err = (csbot_error)CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_hub_reload_file(h, path, NULL, &err), CSBOT_ESCHEMA);
    unlink(path);
    ck_assert_int_eq(csbot_hub_reload_file(h, "/nonexistent/kb.json", NULL, NULL),
                     CSBOT_EIO);
    ck_assert_uint_eq(csbot_hub_generation(h), 0);

    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_str_eq(intent_of(r), "return_policy");
    ck_assert_ptr_eq(csbot_session_kb(s), before);
    /* a good file swaps */
    ck_assert_int_eq(csbot_hub_reload_file(h, "intents/demo.json", NULL, NULL),
                     CSBOT_OK);
    ck_assert_uint_eq(csbot_hub_generation(h), 1);
    r = t_say(s, "谢谢");
    ck_assert_str_eq(intent_of(r), "thanks"); /* only demo.json has it */
    ck_assert_str_eq(csbot_kb_name(csbot_session_kb(s)), "Demo shop");
    csbot_session_free(s);
    csbot_hub_free(h);
}
END_TEST

/* A session made after the swap starts on the new base; sessions made on a
 * base directly are not affected by the hub. */
START_TEST(new_sessions_and_direct_sessions) {
    csbot_hub *h = NULL;
    ck_assert_int_eq(csbot_hub_new(&h, make_kb("a", "A", 0, NULL)), CSBOT_OK);
    csbot_kb *direct = make_kb("d", "D", 0, NULL);
    csbot_session *d = NULL;
    ck_assert_int_eq(csbot_session_new(&d, direct, NULL), CSBOT_OK);
    ck_assert_int_eq(csbot_hub_swap(h, make_kb("b", "B", 1, NULL)), CSBOT_OK);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new_hub(&s, h, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, "can you gift wrap it?");
    ck_assert_str_eq(intent_of(r), "gift_wrap");
    r = t_say(d, "你好");
    ck_assert_str_eq(csbot_reply_text(r), "D");
    ck_assert_ptr_eq(csbot_session_kb(d), direct);
    /* state saved on one base restores on the other */
    size_t need;
    ck_assert_int_eq(csbot_session_save(s, NULL, 0, &need), CSBOT_ERANGE);
    void *buf = malloc(need);
    ck_assert_int_eq(csbot_session_save(s, buf, need, &need), CSBOT_OK);
    ck_assert_int_eq(csbot_session_restore(d, buf, need), CSBOT_OK);
    r = t_say(d, "hello");
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    free(buf);
    csbot_session_free(s);
    csbot_session_free(d);
    csbot_kb_free(direct);
    csbot_hub_free(h);
}
END_TEST

START_TEST(acquire_outlives_swap) {
    csbot_hub *hub;
    ck_assert_int_eq(csbot_hub_new(&hub, make_kb("one", "你好", 0, NULL)), CSBOT_OK);
    unsigned long gen = 99;
    const csbot_kb *kb = csbot_hub_acquire(hub, &gen);
    ck_assert_uint_eq(gen, 0);
    ck_assert_str_eq(csbot_kb_name(kb), "one");
    ck_assert_int_eq(csbot_hub_swap(hub, make_kb("two", "您好", 1, NULL)), CSBOT_OK);
    /* still readable after the swap (ASan checks), freed at release */
    ck_assert_str_eq(csbot_kb_name(kb), "one");
    ck_assert_uint_eq(csbot_kb_intent_count(kb), 2);
    csbot_hub_release(hub, kb);
    kb = csbot_hub_acquire(hub, &gen);
    ck_assert_uint_eq(gen, 1);
    ck_assert_str_eq(csbot_kb_name(kb), "two");
    ck_assert_uint_eq(csbot_kb_intent_count(kb), 3);
    csbot_hub_release(hub, kb);
    ck_assert_ptr_null(csbot_hub_acquire(NULL, &gen));
    csbot_hub_release(NULL, NULL);
    csbot_hub_free(hub);
}
END_TEST

Suite *hub_suite(void) {
    Suite *s = suite_create("hub");
    TCase *tc = tcase_create("swap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, swap_moves_session_on_next_turn);
    tcase_add_test(tc, old_base_lives_until_last_session_moves);
    tcase_add_test(tc, reload_file_broken_keeps_old);
    tcase_add_test(tc, new_sessions_and_direct_sessions);
    tcase_add_test(tc, acquire_outlives_swap);
    suite_add_tcase(s, tc);
    return s;
}
