/*
 * check_oom.c - out-of-memory behaviour through the host allocator
 * (csbot_kb_options.alloc) with the failing allocator of test/util.c: the
 * Nth allocation fails for N = 1, 2, ... until the call succeeds, and every
 * failing call must return CSBOT_ENOMEM, give nothing back and leak nothing
 * (Lua's ltests, curl's torture mode). Also: once warm, replying does not
 * allocate at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* Three intents of two examples each, a pattern, a slot, a synonym group.
 * Small, so that each load makes few allocations. */
static const char OOM_KB[] =
    "{\"csbot\": 1, \"name\": \"oom\",\n"
    " \"synonyms\": [[\"快递\", \"包裹\"]],\n"
    " \"slots\": {\"order_id\": {\"pattern\": \"([0-9]{6,})\",\n"
    "   \"prompt\": {\"zh\": \"订单号是多少？\", \"en\": \"Order number?\"}}},\n"
    " \"intents\": [\n"
    "  {\"id\": \"track\",\n"
    "   \"examples\": {\"zh\": [\"我的快递到哪了\"],\n"
    "                \"en\": [\"where is my parcel\"]},\n"
    "   \"patterns\": [\"where.{0,20}parcel\"], \"slots\": [\"order_id\"],\n"
    "   \"responses\": [{\"zh\": \"订单{order_id|}在路上\",\n"
    "                    \"en\": \"Order {order_id|} is on its way\"}]},\n"
    "  {\"id\": \"refund\",\n"
    "   \"examples\": {\"zh\": [\"退款什么时候到\"],\n"
    "                \"en\": [\"when do i get my refund\"]},\n"
    "   \"responses\": [{\"zh\": \"三个工作日内到账\",\n"
    "                  \"en\": \"Within three days\"}]},\n"
    "  {\"id\": \"hello\",\n"
    "   \"examples\": {\"zh\": [\"你好\"], \"en\": [\"hello there\"]},\n"
    "   \"responses\": [{\"zh\": \"您好\", \"en\": \"Hi\"}]}]}\n";

/* The allocation numbers to fail: every one up to 300, then every 7th, so
 * that the suite stays fast (each load past the OpenCC step costs ~0.1 s).
 * Under AddressSanitizer OpenCC is 5-10 times slower, so there every 3rd up
 * to 300 and every 17th after. CSBOT_TEST_OOM_ALL=1 fails every one. */
#if defined(__SANITIZE_ADDRESS__)
#define DENSE_STEP 3
#define SPARSE_STEP 17
#else
#define DENSE_STEP 1
#define SPARSE_STEP 7
#endif

static long next_n(long n) {
    static int all = -1;
    if (all < 0) {
        const char *e = getenv("CSBOT_TEST_OOM_ALL");
        all = e && *e && strcmp(e, "0") != 0;
    }
    if (all)
        return n + 1;
    return n < 300 ? n + DENSE_STEP : n + SPARSE_STEP;
}

static int load_with(t_alloc *t, csbot_kb **out, csbot_error *err) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.alloc = t_alloc_fn;
    o.alloc_ud = t;
    return csbot_kb_load_buffer(out, OOM_KB, CSBOT_NUL_TERMINATED, "<oom>", &o,
                                err);
}

/* The knowledge base answers as it should (checks a base that loaded
 * although one of its allocations failed, e.g. an optional JIT compile). */
static void check_kb_works(csbot_kb *kb, long n) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, "where is my parcel 1234567");
    ck_assert_msg(csbot_reply_intent(r) &&
                      strcmp(csbot_reply_intent(r), "track") == 0,
                  "fail_at=%ld: base loaded but does not match", n);
    ck_assert_str_eq(csbot_reply_text(r), "Order 1234567 is on its way");
    csbot_session_free(s);
}

START_TEST(kb_load_oom) {
    t_alloc base = {0};
    csbot_kb *kb = NULL;
    ck_assert_int_eq(load_with(&base, &kb, NULL), CSBOT_OK);
    long total = base.count;
    ck_assert_int_gt(total, 10);
    csbot_kb_free(kb);
    ck_assert_int_eq(base.live, 0);

    long n, failures = 0, tolerated = 0;
    for (n = 1;; n = next_n(n)) {
        t_alloc t = {0};
        t.fail_at = n;
        csbot_error err = CSBOT_ERROR_INIT;
        kb = (csbot_kb *)&t; /* must be overwritten with NULL on failure */
        int rc = load_with(&t, &kb, &err);
        if (!t.failed) {
            /* past the last allocation: a normal load */
            ck_assert_int_eq(rc, CSBOT_OK);
            ck_assert_ptr_nonnull(kb);
            csbot_kb_free(kb);
            ck_assert_int_eq(t.live, 0);
            break;
        }
        if (rc == CSBOT_OK) {
            /* an allocation the library can do without (JIT) */
            tolerated++;
            check_kb_works(kb, n);
            csbot_kb_free(kb);
            ck_assert_msg(t.live == 0, "fail_at=%ld: %ld blocks leaked", n,
                          t.live);
            continue;
        }
        failures++;
        ck_assert_msg(rc == CSBOT_ENOMEM, "fail_at=%ld: got %s (%s at %s)", n,
                      csbot_strerror(rc), err.message, err.json_path);
        ck_assert_int_eq(err.code, CSBOT_ENOMEM);
        ck_assert_str_eq(err.source, "<oom>");
        ck_assert_ptr_null(kb);
        ck_assert_msg(t.live == 0, "fail_at=%ld: %ld blocks leaked", n, t.live);
    }
    ck_assert_int_ge(n, total);
    ck_assert_int_gt(failures, 100 / DENSE_STEP);
    ck_assert_int_lt(tolerated, failures);
}
END_TEST

/* kb_load_file goes through the same allocator for its read buffer. */
START_TEST(kb_load_file_oom_first) {
    char path[] = "/tmp/csbot_oom_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(OOM_KB, f);
    fclose(f);
    for (long n = 1; n <= 3; n++) {
        t_alloc t = {0};
        t.fail_at = n;
        csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
        o.alloc = t_alloc_fn;
        o.alloc_ud = &t;
        csbot_kb *kb = (csbot_kb *)&t;
        csbot_error err = CSBOT_ERROR_INIT;
        int rc = csbot_kb_load_file(&kb, path, &o, &err);
        ck_assert_int_eq(t.failed, 1);
        ck_assert_int_eq(rc, CSBOT_ENOMEM);
        ck_assert_int_eq(err.code, CSBOT_ENOMEM);
        ck_assert_str_eq(err.source, path);
        ck_assert_ptr_null(kb);
        ck_assert_int_eq(t.live, 0);
    }
    remove(path);
}
END_TEST

/* ---- sessions and replies, on a base loaded once ---- */

static t_alloc kb_alloc;
static csbot_kb *kb;

static void kb_setup(void) {
    memset(&kb_alloc, 0, sizeof kb_alloc);
    kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    if (load_with(&kb_alloc, &kb, &err) != CSBOT_OK)
        kb = NULL;
}

static void kb_teardown(void) {
    csbot_kb_free(kb);
    kb = NULL;
}

START_TEST(session_new_oom) {
    ck_assert_ptr_nonnull(kb);
    long live0 = kb_alloc.live, n;
    for (n = 1;; n++) {
        kb_alloc.failed = 0;
        kb_alloc.fail_at = kb_alloc.count + n;
        csbot_session *s = (csbot_session *)&kb_alloc;
        int rc = csbot_session_new(&s, kb, NULL);
        kb_alloc.fail_at = 0;
        if (!kb_alloc.failed) {
            ck_assert_int_eq(rc, CSBOT_OK);
            ck_assert_ptr_nonnull(s);
            csbot_session_free(s);
            break;
        }
        ck_assert_msg(rc == CSBOT_ENOMEM, "fail at +%ld: %s", n,
                      csbot_strerror(rc));
        ck_assert_ptr_null(s);
        ck_assert_msg(kb_alloc.live == live0, "fail at +%ld: %ld leaked", n,
                      kb_alloc.live - live0);
    }
    ck_assert_int_gt(n, 1);
    ck_assert_int_eq(kb_alloc.live, live0);
}
END_TEST

START_TEST(first_reply_oom) {
    ck_assert_ptr_nonnull(kb);
    static const char msg[] = "where is my parcel 1234567";
    long live0 = kb_alloc.live, n;
    char want[256];
    {
        csbot_session *s = NULL;
        ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
        const csbot_reply *r = t_say(s, msg);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
        snprintf(want, sizeof want, "%s", csbot_reply_text(r));
        csbot_session_free(s);
    }
    ck_assert_str_eq(want, "Order 1234567 is on its way");
    for (n = 1;; n++) {
        csbot_session *s = NULL;
        kb_alloc.fail_at = 0;
        ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
        kb_alloc.failed = 0;
        kb_alloc.fail_at = kb_alloc.count + n;
        const csbot_reply *r = (const csbot_reply *)&kb_alloc;
        int rc = csbot_session_reply(s, msg, CSBOT_NUL_TERMINATED, &r);
        kb_alloc.fail_at = 0;
        int failed = kb_alloc.failed;
        if (failed) {
            ck_assert_msg(rc == CSBOT_ENOMEM,
                          "fail at +%ld: reply returned %s although an "
                          "allocation failed", n, csbot_strerror(rc));
            ck_assert_ptr_null(r);
            ck_assert_str_eq(csbot_session_errmsg(s), "out of memory");
        } else {
            ck_assert_int_eq(rc, CSBOT_OK);
        }
        /* with memory available again, the session works from turn 1 */
        if (failed) {
            r = t_say(s, msg);
            ck_assert_uint_eq(csbot_reply_turn(r), 1);
            ck_assert_str_eq(csbot_reply_text(r), want);
            ck_assert_str_eq(csbot_reply_intent(r), "track");
            ck_assert_uint_eq(csbot_reply_slot_count(r), 1);
            r = t_say(s, "hello there");
            ck_assert_uint_eq(csbot_reply_turn(r), 2);
        }
        csbot_session_free(s);
        ck_assert_msg(kb_alloc.live == live0, "fail at +%ld: %ld leaked", n,
                      kb_alloc.live - live0);
        if (!failed)
            break;
    }
    ck_assert_int_gt(n, 5);
}
END_TEST

/* lib/reply.c: a reply that returns CSBOT_OK must have kept the slot it
 * found (the commit phase once lost it silently when an allocation failed). */
START_TEST(reply_oom_commit_keeps_slot) {
    ck_assert_ptr_nonnull(kb);
    for (long n = 1; n < 200; n++) {
        csbot_session *s = NULL;
        ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
        kb_alloc.failed = 0;
        kb_alloc.fail_at = kb_alloc.count + n;
        const csbot_reply *r = NULL;
        int rc = csbot_session_reply(s, "where is my parcel 1234567",
                                     CSBOT_NUL_TERMINATED, &r);
        kb_alloc.fail_at = 0;
        int failed = kb_alloc.failed;
        if (rc == CSBOT_OK)
            ck_assert_msg(csbot_reply_slot_count(r) == 1,
                          "fail at +%ld: CSBOT_OK but the slot was lost", n);
        csbot_session_free(s);
        if (!failed)
            break;
    }
}
END_TEST

/* lib/session.c: csbot_session_set_profile() out of memory returns
 * CSBOT_ENOMEM with the message "out of memory", and leaves the profile as
 * it was: an existing value is not lost (it used to be cleared before the
 * new one was copied), a new key is not added. */
START_TEST(set_profile_oom_keeps_old_value) {
    ck_assert_ptr_nonnull(kb);
    char big[300];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    long failures = 0;
    for (long n = 1; n < 100; n++) {
        csbot_session *s = NULL;
        ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
        ck_assert_int_eq(csbot_session_set_profile(s, "name", "Li"), CSBOT_OK);
        kb_alloc.failed = 0;
        kb_alloc.fail_at = kb_alloc.count + n;
        int rc1 = csbot_session_set_profile(s, "name", big);
        int failed1 = kb_alloc.failed;
        kb_alloc.fail_at = 0;
        if (failed1) {
            failures++;
            ck_assert_int_eq(rc1, CSBOT_ENOMEM);
            ck_assert_str_eq(csbot_session_errmsg(s), "out of memory");
            ck_assert_str_eq(csbot_session_get_profile(s, "name"), "Li");
        } else {
            ck_assert_int_eq(rc1, CSBOT_OK);
            ck_assert_str_eq(csbot_session_get_profile(s, "name"), big);
        }
        kb_alloc.failed = 0;
        kb_alloc.fail_at = kb_alloc.count + n;
        int rc2 = csbot_session_set_profile(s, "level", big);
        int failed2 = kb_alloc.failed;
        kb_alloc.fail_at = 0;
        if (failed2) {
            ck_assert_int_eq(rc2, CSBOT_ENOMEM);
            ck_assert_ptr_null(csbot_session_get_profile(s, "level"));
        } else {
            ck_assert_int_eq(rc2, CSBOT_OK);
        }
        csbot_session_free(s);
        if (!failed1 && !failed2)
            break;
    }
    ck_assert_int_gt(failures, 0);
}
END_TEST

START_TEST(warm_reply_no_alloc) {
    ck_assert_ptr_nonnull(kb);
    static const char *const msgs[] = {
        "where is my parcel 1234567", "hello there", "退款什么时候到",
        "我的包裹到哪了", "when do i get my refund", "你好"};
    const size_t nm = sizeof msgs / sizeof msgs[0];
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    /* warm up: enough turns for every transcript entry (20 + 1) to have
     * held every message */
    for (size_t i = 0; i < 21 * nm; i++) {
        const csbot_reply *r = t_say(s, msgs[i % nm]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    }
    long before = kb_alloc.count;
    for (size_t i = 0; i < 100; i++) {
        const csbot_reply *r = t_say(s, msgs[i % nm]);
        ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    }
    ck_assert_int_eq(kb_alloc.count - before, 0);
    csbot_session_free(s);
}
END_TEST

Suite *oom_suite(void) {
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, kb_load_oom);
    tcase_add_test(tc, kb_load_file_oom_first);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_test(tc, session_new_oom);
    tcase_add_test(tc, first_reply_oom);
    tcase_add_test(tc, warm_reply_no_alloc);
    tcase_add_test(tc, reply_oom_commit_keeps_slot);
    tcase_add_test(tc, set_profile_oom_keeps_old_value);
    suite_add_tcase(s, tc);
    return s;
}
