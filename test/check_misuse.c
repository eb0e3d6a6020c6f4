/*
 * check_misuse.c - the API used wrongly: NULL arguments, wrong option
 * versions, indexes out of range, re-entering a session from its own
 * callback, files that cannot be read. Misuse returns CSBOT_EINVAL (or a
 * documented code) and never crashes; accessors given NULL return safe
 * defaults; destructors accept NULL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests.h"

static csbot_kb *demo;
static csbot_session *s;

static void kb_setup(void) {
    csbot_error err = CSBOT_ERROR_INIT;
    if (csbot_kb_load_file(&demo, "intents/demo.json", NULL, &err))
        demo = NULL;
}

static void kb_teardown(void) {
    csbot_kb_free(demo);
    demo = NULL;
}

static void session_setup(void) {
    s = NULL;
    ck_assert_ptr_nonnull(demo);
    ck_assert_int_eq(csbot_session_new(&s, demo, NULL), CSBOT_OK);
}

static void session_teardown(void) {
    csbot_session_free(s);
    s = NULL;
}

static const char SMALL_KB[] =
    "{\"csbot\": 1, \"intents\": [{\"id\": \"a\", \"patterns\": [\"a\"],"
    " \"responses\": [{\"en\": \"A\"}]}]}";

static csbot_kb *small_kb(void) {
    csbot_kb *kb = NULL;
    ck_assert_int_eq(t_load_text(&kb, SMALL_KB, NULL), CSBOT_OK);
    return kb;
}

/* ---- NULL arguments ---- */

START_TEST(kb_load_null_arguments) {
    csbot_kb *kb = (csbot_kb *)&kb;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_file(NULL, "intents/demo.json", NULL, &err),
                     CSBOT_EINVAL);
    ck_assert_int_eq(err.code, CSBOT_EINVAL);
    ck_assert_int_eq(csbot_kb_load_file(&kb, NULL, NULL, &err), CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_EINVAL);
    kb = (csbot_kb *)&kb;
    ck_assert_int_eq(csbot_kb_load_file(&kb, NULL, NULL, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(csbot_kb_load_buffer(NULL, SMALL_KB, CSBOT_NUL_TERMINATED,
                                          "x", NULL, &err),
                     CSBOT_EINVAL);
    kb = (csbot_kb *)&kb;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, NULL, 10, "x", NULL, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_EINVAL);
    /* a NULL err is allowed on failure and on success */
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, "[", 1, "x", NULL, NULL),
                     CSBOT_EJSON);
    ck_assert_ptr_null(kb);
}
END_TEST

START_TEST(kb_accessors_on_null) {
    csbot_kb_free(NULL);
    ck_assert_uint_eq(csbot_kb_intent_count(NULL), 0);
    ck_assert_ptr_null(csbot_kb_intent_id(NULL, 0));
    ck_assert_ptr_nonnull(csbot_kb_name(NULL));
    ck_assert_str_eq(csbot_kb_name(NULL), "");
    ck_assert_uint_eq(csbot_kb_example_count(NULL), 0);
    double a = 42, sg = 42, m = 42;
    csbot_kb_thresholds(NULL, &a, &sg, &m);
    ck_assert_double_eq(a, 0.0);
    ck_assert_double_eq(sg, 0.0);
    ck_assert_double_eq(m, 0.0);
    csbot_kb_thresholds(NULL, NULL, NULL, NULL);
    char buf[16] = "junk";
    ck_assert_uint_eq(csbot_error_format(NULL, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_uint_gt(csbot_error_format(&err, NULL, 0), 0);
}
END_TEST

START_TEST(hub_null_arguments) {
    csbot_hub *h = (csbot_hub *)&h;
    /* the knowledge base passes to the hub also on failure: freed, which
     * the leak checker of a sanitizer build verifies */
    ck_assert_int_eq(csbot_hub_new(NULL, small_kb()), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_hub_new(&h, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(csbot_hub_new(&h, small_kb()), CSBOT_OK);
    ck_assert_int_eq(csbot_hub_swap(NULL, small_kb()), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_hub_swap(h, NULL), CSBOT_EINVAL);
    ck_assert_uint_eq(csbot_hub_generation(h), 0);
    ck_assert_int_eq(csbot_hub_reload_file(NULL, "intents/demo.json", NULL,
                                           NULL),
                     CSBOT_EINVAL);
    ck_assert_int_eq(csbot_hub_reload_file(h, NULL, NULL, NULL), CSBOT_EINVAL);
    ck_assert_uint_eq(csbot_hub_generation(h), 0);
    ck_assert_uint_eq(csbot_hub_generation(NULL), 0);
    csbot_session *t = (csbot_session *)&t;
    ck_assert_int_eq(csbot_session_new_hub(&t, NULL, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(csbot_session_new_hub(NULL, h, NULL), CSBOT_EINVAL);
    csbot_hub_free(h);
    csbot_hub_free(NULL);
}
END_TEST

START_TEST(stats_null_arguments) {
    ck_assert_int_eq(csbot_stats_new(NULL, 0, 0), CSBOT_EINVAL);
    csbot_stats_free(NULL);
    char buf[8];
    ck_assert_uint_eq(csbot_stats_json(NULL, buf, sizeof buf), 2);
    ck_assert_str_eq(buf, "{}");
}
END_TEST

START_TEST(session_new_null_arguments) {
    csbot_session *t = (csbot_session *)&t;
    ck_assert_int_eq(csbot_session_new(NULL, demo, NULL), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_new(&t, NULL, NULL), CSBOT_EINVAL);
    ck_assert_ptr_null(t);
    csbot_session_free(NULL);
    csbot_session_reset(NULL);
}
END_TEST

START_TEST(session_calls_on_null) {
    const csbot_reply *r = (const csbot_reply *)&r;
    ck_assert_int_eq(csbot_session_reply(NULL, "hi", CSBOT_NUL_TERMINATED, &r),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(csbot_session_errmsg(NULL));
    csbot_session_set_handoff(NULL, NULL, NULL);
    csbot_handoff_cb cb = (csbot_handoff_cb)1;
    void *ud = &ud;
    csbot_session_get_handoff(NULL, &cb, &ud);
    ck_assert_ptr_null((void *)(size_t)cb);
    ck_assert_ptr_null(ud);
    csbot_session_set_stats(NULL, NULL);
    csbot_session_flush_stats(NULL);
    ck_assert_int_eq(csbot_session_set_profile(NULL, "name", "x"),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(csbot_session_get_profile(NULL, "name"));
    ck_assert_int_eq(csbot_session_in_human_mode(NULL), 0);
    ck_assert_int_eq(csbot_session_handoff(NULL), CSBOT_EINVAL);
    csbot_session_resume(NULL);
    ck_assert_int_eq(csbot_session_feedback(NULL, 1, 5), CSBOT_EINVAL);
    char buf[64];
    size_t n = csbot_session_explain(NULL, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    size_t need = 7;
    ck_assert_int_eq(csbot_session_save(NULL, buf, sizeof buf, &need),
                     CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_restore(NULL, buf, sizeof buf),
                     CSBOT_EINVAL);
    csbot_session_set_data(NULL, buf);
    ck_assert_ptr_null(csbot_session_get_data(NULL));
    ck_assert_ptr_null(csbot_session_kb(NULL));
}
END_TEST

START_TEST(session_null_pointers) {
    const csbot_reply *r = (const csbot_reply *)&r;
    ck_assert_int_eq(csbot_session_reply(s, NULL, 3, &r), CSBOT_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_gt((int)strlen(csbot_session_errmsg(s)), 0);
    ck_assert_int_eq(csbot_session_reply(s, "hi", CSBOT_NUL_TERMINATED, NULL),
                     CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_set_profile(s, NULL, "x"), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_set_profile(s, "", "x"), CSBOT_EINVAL);
    ck_assert_ptr_null(csbot_session_get_profile(s, NULL));
    csbot_session_get_handoff(s, NULL, NULL);
    char buf[64];
    ck_assert_int_eq(csbot_session_save(s, buf, sizeof buf, NULL),
                     CSBOT_EINVAL);
    size_t need = 0;
    ck_assert_int_eq(csbot_session_save(s, NULL, 10, &need), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_restore(s, NULL, 10), CSBOT_EINVAL);
    /* none of it took a turn */
    r = t_say(s, "where is my package");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
}
END_TEST

START_TEST(reply_accessors_on_null) {
    ck_assert_str_eq(csbot_reply_text(NULL), "");
    ck_assert_ptr_null(csbot_reply_intent(NULL));
    ck_assert_int_eq(csbot_reply_action(NULL), CSBOT_ACTION_NONE);
    ck_assert_double_eq(csbot_reply_confidence(NULL), 0.0);
    ck_assert_int_eq(csbot_reply_lang(NULL), CSBOT_LANG_UNKNOWN);
    ck_assert_uint_eq(csbot_reply_turn(NULL), 0);
    ck_assert_int_eq(csbot_reply_handoff_reason(NULL), CSBOT_HANDOFF_NONE);
    ck_assert_double_eq(csbot_reply_sentiment(NULL), 0.0);
    ck_assert_uint_eq(csbot_reply_candidate_count(NULL), 0);
    const char *id = "x";
    double sc = 7;
    ck_assert_int_eq(csbot_reply_candidate(NULL, 0, &id, &sc), CSBOT_ERANGE);
    ck_assert_uint_eq(csbot_reply_slot_count(NULL), 0);
    const char *name = "x", *value = "y";
    ck_assert_int_eq(csbot_reply_slot(NULL, 0, &name, &value), CSBOT_ERANGE);
}
END_TEST

START_TEST(handoff_accessors_on_null) {
    ck_assert_ptr_null(csbot_handoff_session(NULL));
    ck_assert_int_eq(csbot_handoff_reason_of(NULL), CSBOT_HANDOFF_NONE);
    ck_assert_str_eq(csbot_handoff_text(NULL), "");
    ck_assert_ptr_null(csbot_handoff_intent(NULL));
    ck_assert_double_eq(csbot_handoff_confidence(NULL), 0.0);
    ck_assert_int_eq(csbot_handoff_lang(NULL), CSBOT_LANG_UNKNOWN);
    char buf[8];
    ck_assert_uint_eq(csbot_handoff_json(NULL, buf, sizeof buf), 2);
    ck_assert_str_eq(buf, "{}");
    ck_assert_uint_eq(csbot_handoff_turn_count(NULL), 0);
    ck_assert_int_eq(csbot_handoff_turn(NULL, 0, NULL, NULL, NULL, NULL, NULL),
                     CSBOT_ERANGE);
    ck_assert_uint_eq(csbot_handoff_slot_count(NULL), 0);
    ck_assert_int_eq(csbot_handoff_slot(NULL, 0, NULL, NULL), CSBOT_ERANGE);
    unsigned a = 9, b = 9, c = 9;
    csbot_handoff_counters(NULL, &a, &b, &c);
    ck_assert_uint_eq(a + b + c, 0);
}
END_TEST

/* ---- versions and ranges ---- */

START_TEST(session_options_bad_version) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.version = CSBOT_SESSION_OPTIONS_VERSION + 1;
    csbot_session *t = (csbot_session *)&t;
    ck_assert_int_eq(csbot_session_new(&t, demo, &o), CSBOT_EINVAL);
    ck_assert_ptr_null(t);
    o.version = 0;
    t = (csbot_session *)&t;
    ck_assert_int_eq(csbot_session_new(&t, demo, &o), CSBOT_EINVAL);
    ck_assert_ptr_null(t);
    o.version = CSBOT_SESSION_OPTIONS_VERSION;
    ck_assert_int_eq(csbot_session_new(&t, demo, &o), CSBOT_OK);
    csbot_session_free(t);
}
END_TEST

START_TEST(candidate_out_of_range) {
    const csbot_reply *r = t_say(s, "where is my package");
    size_t n = csbot_reply_candidate_count(r);
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, 5);
    const char *id = NULL;
    double sc = -1;
    ck_assert_int_eq(csbot_reply_candidate(r, 0, &id, &sc), CSBOT_OK);
    ck_assert_str_eq(id, "order_tracking");
    ck_assert(sc > 0.0 && sc <= 1.0);
    ck_assert_int_eq(csbot_reply_candidate(r, 0, NULL, NULL), CSBOT_OK);
    id = "unchanged";
    ck_assert_int_eq(csbot_reply_candidate(r, n, &id, &sc), CSBOT_ERANGE);
    ck_assert_str_eq(id, "unchanged");
    ck_assert_int_eq(csbot_reply_candidate(r, (size_t)-1, &id, &sc),
                     CSBOT_ERANGE);
    ck_assert_int_eq(csbot_reply_candidate(r, 5, NULL, NULL), CSBOT_ERANGE);
    /* slots too */
    size_t ns = csbot_reply_slot_count(r);
    ck_assert_int_eq(csbot_reply_slot(r, ns, NULL, NULL), CSBOT_ERANGE);
}
END_TEST

/* errmsg contains every one of the NULL-terminated words. */
static void assert_errmsg_has(const csbot_session *ss, const char *what, ...) {
    const char *msg = csbot_session_errmsg(ss);
    ck_assert_msg(*msg, "%s: csbot_session_errmsg() is empty", what);
    va_list ap;
    va_start(ap, what);
    for (const char *w; (w = va_arg(ap, const char *));)
        ck_assert_msg(strstr(msg, w), "%s: \"%s\" does not say \"%s\"", what,
                      msg, w);
    va_end(ap);
}

/* Each failure says what was wrong through csbot_session_errmsg(), as
 * csbot.h promises (these calls used to return the code and leave the
 * message empty, or stale from an earlier call). */
START_TEST(feedback_misuse) {
    const csbot_reply *r = t_say(s, "how much is shipping");
    unsigned turn = csbot_reply_turn(r);
    ck_assert_int_eq(csbot_session_feedback(s, turn, 0), CSBOT_EINVAL);
    assert_errmsg_has(s, "rating 0", "rating 0", "between 1 and 5", NULL);
    ck_assert_int_eq(csbot_session_feedback(s, turn, 6), CSBOT_EINVAL);
    assert_errmsg_has(s, "rating 6", "rating 6", NULL);
    ck_assert_int_eq(csbot_session_feedback(s, turn + 1, 5), CSBOT_ERANGE);
    assert_errmsg_has(s, "unknown turn", "turn 2", "not in the transcript",
                      NULL);
    ck_assert_int_eq(csbot_session_feedback(s, turn, 5), CSBOT_OK);
    /* a turn the bot did not answer cannot be rated */
    r = t_say(s, "qwxz vbnm plkj");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ASK);
    char action[32];
    snprintf(action, sizeof action, "(%s)",
             csbot_action_name(csbot_reply_action(r)));
    ck_assert_int_eq(csbot_session_feedback(s, csbot_reply_turn(r), 1),
                     CSBOT_ERANGE);
    assert_errmsg_has(s, "unanswered turn", "turn 2", "not answered", action,
                      NULL);
}
END_TEST

START_TEST(profile_misuse) {
    ck_assert_int_eq(csbot_session_set_profile(s, NULL, "x"), CSBOT_EINVAL);
    assert_errmsg_has(s, "NULL key", "key", "NULL", NULL);
    ck_assert_int_eq(csbot_session_set_profile(s, "", "x"), CSBOT_EINVAL);
    assert_errmsg_has(s, "empty key", "key", "empty", NULL);
    char big[5000];
    memset(big, 'k', 257);
    big[257] = '\0';
    ck_assert_int_eq(csbot_session_set_profile(s, big, "x"), CSBOT_ETOOBIG);
    assert_errmsg_has(s, "long key", "key", "257 bytes", "256", NULL);
    memset(big, 'v', 4097);
    big[4097] = '\0';
    ck_assert_int_eq(csbot_session_set_profile(s, "name", big), CSBOT_ETOOBIG);
    assert_errmsg_has(s, "long value", "value", "4097 bytes", "4096", NULL);
    ck_assert_int_eq(csbot_session_set_profile(s, "na\xffme", "x"),
                     CSBOT_EUTF8);
    assert_errmsg_has(s, "bad key", "key", "UTF-8", "byte 2", NULL);
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "Li\xc3"),
                     CSBOT_EUTF8);
    assert_errmsg_has(s, "bad value", "value", "UTF-8", "byte 2", NULL);
    /* nothing was set by the failed calls */
    ck_assert_ptr_null(csbot_session_get_profile(s, "name"));
    /* a successful call keeps the message of the last failure; a successful
     * reply clears it */
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "Li"), CSBOT_OK);
    assert_errmsg_has(s, "after success", "value", NULL);
    t_say(s, "how much is shipping");
    ck_assert_str_eq(csbot_session_errmsg(s), "");
}
END_TEST

START_TEST(handoff_and_restore_misuse) {
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_EHUMAN);
    assert_errmsg_has(s, "second handoff", "human", NULL);
    static const char junk[] = "not a saved session, not at all";
    ck_assert_int_eq(csbot_session_restore(s, junk, sizeof junk),
                     CSBOT_ESTATE);
    assert_errmsg_has(s, "restore", "damaged", NULL);
    ck_assert_int_eq(csbot_session_restore(s, NULL, 0), CSBOT_EINVAL);
    assert_errmsg_has(s, "restore NULL", "NULL", NULL);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1); /* unchanged */
}
END_TEST

START_TEST(missing_file) {
    csbot_kb *kb = (csbot_kb *)&kb;
    csbot_error err = CSBOT_ERROR_INIT;
    static const char path[] = "test/data/does-not-exist.json";
    ck_assert_int_eq(csbot_kb_load_file(&kb, path, NULL, &err), CSBOT_EIO);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_EIO);
    ck_assert_str_eq(err.source, path);
    /* the reason comes from the library's own errno table (lib/buf.c), not
     * strerror(), which is neither thread-safe nor locale-independent */
    ck_assert_str_eq(err.message, "cannot open: No such file or directory");
    char buf[600];
    csbot_error_format(&err, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, path));
    /* a directory cannot be read as a file either */
    kb = (csbot_kb *)&kb;
    ck_assert_int_eq(csbot_kb_load_file(&kb, "intents", NULL, &err), CSBOT_EIO);
    ck_assert_ptr_null(kb);
    ck_assert_str_eq(err.source, "intents");
    ck_assert_str_eq(err.message, "read error: Is a directory");
}
END_TEST

/* ---- re-entering a session from its callback ---- */

typedef struct inside {
    csbot_session *other;
    int calls;
    int reply_rc, profile_rc, feedback_rc, handoff_rc, restore_rc;
    char profile_msg[256], feedback_msg[256];
    int other_rc;
    const csbot_reply *nested;
} inside;

static int reenter(const csbot_handoff *h, void *ud) {
    inside *in = ud;
    csbot_session *self = csbot_handoff_session(h);
    in->calls++;
    in->nested = (const csbot_reply *)&in->nested;
    in->reply_rc = csbot_session_reply(self, "where is my package",
                                       CSBOT_NUL_TERMINATED, &in->nested);
    in->profile_rc = csbot_session_set_profile(self, "name", "Li");
    snprintf(in->profile_msg, sizeof in->profile_msg, "%s",
             csbot_session_errmsg(self));
    in->feedback_rc = csbot_session_feedback(self, 1, 5);
    snprintf(in->feedback_msg, sizeof in->feedback_msg, "%s",
             csbot_session_errmsg(self));
    in->handoff_rc = csbot_session_handoff(self);
    char state[4] = {0};
    in->restore_rc = csbot_session_restore(self, state, sizeof state);
    if (in->other) {
        const csbot_reply *r = NULL;
        in->other_rc = csbot_session_reply(in->other, "where is my package",
                                           CSBOT_NUL_TERMINATED, &r);
    }
    return 0;
}

START_TEST(reply_from_own_callback) {
    inside in;
    memset(&in, 0, sizeof in);
    ck_assert_int_eq(csbot_session_new(&in.other, demo, NULL), CSBOT_OK);
    csbot_session_set_handoff(s, reenter, &in);
    const csbot_reply *r = t_say(s, "转人工");
    ck_assert_int_eq(in.calls, 1);
    ck_assert_int_eq(in.reply_rc, CSBOT_EINVAL);
    ck_assert_ptr_null(in.nested);
    ck_assert_int_eq(in.profile_rc, CSBOT_EINVAL);
    ck_assert_ptr_nonnull(strstr(in.profile_msg, "csbot_session_set_profile "
                                                 "called from inside a callback"));
    ck_assert_int_eq(in.feedback_rc, CSBOT_EINVAL);
    ck_assert_ptr_nonnull(strstr(in.feedback_msg, "csbot_session_feedback "
                                                  "called from inside a callback"));
    ck_assert_int_eq(in.handoff_rc, CSBOT_EINVAL);
    ck_assert_int_eq(in.restore_rc, CSBOT_EINVAL);
    /* another session may be used from the callback */
    ck_assert_int_eq(in.other_rc, CSBOT_OK);
    /* the outer call went through */
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    ck_assert_ptr_null(csbot_session_get_profile(s, "name"));
    ck_assert_str_eq(csbot_session_errmsg(s), "");
    /* and the session works normally afterwards */
    csbot_session_resume(s);
    r = t_say(s, "how much is shipping");
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    ck_assert_str_eq(csbot_reply_intent(r), "shipping_fee");
    csbot_session_free(in.other);
}
END_TEST

START_TEST(reply_from_host_handoff_callback) {
    inside in;
    memset(&in, 0, sizeof in);
    csbot_session_set_handoff(s, reenter, &in);
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    ck_assert_int_eq(in.calls, 1);
    ck_assert_int_eq(in.reply_rc, CSBOT_EINVAL);
    ck_assert_int_eq(in.handoff_rc, CSBOT_EINVAL);
    ck_assert_int_eq(csbot_session_in_human_mode(s), 1);
    /* a second host handoff: already with a human */
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_EHUMAN);
    ck_assert_int_eq(in.calls, 1);
}
END_TEST

Suite *misuse_suite(void) {
    Suite *su = suite_create("misuse");
    TCase *tc = tcase_create("null");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_checked_fixture(tc, session_setup, session_teardown);
    tcase_add_test(tc, kb_load_null_arguments);
    tcase_add_test(tc, kb_accessors_on_null);
    tcase_add_test(tc, hub_null_arguments);
    tcase_add_test(tc, stats_null_arguments);
    tcase_add_test(tc, session_new_null_arguments);
    tcase_add_test(tc, session_calls_on_null);
    tcase_add_test(tc, session_null_pointers);
    tcase_add_test(tc, reply_accessors_on_null);
    tcase_add_test(tc, handoff_accessors_on_null);
    suite_add_tcase(su, tc);
    tc = tcase_create("misuse");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_checked_fixture(tc, session_setup, session_teardown);
    tcase_add_test(tc, session_options_bad_version);
    tcase_add_test(tc, candidate_out_of_range);
    tcase_add_test(tc, feedback_misuse);
    tcase_add_test(tc, profile_misuse);
    tcase_add_test(tc, handoff_and_restore_misuse);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, reply_from_own_callback);
    tcase_add_test(tc, reply_from_host_handoff_callback);
    suite_add_tcase(su, tc);
    return su;
}
