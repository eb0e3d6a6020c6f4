/*
 * check_stats.c - csbot_stats: after known conversations and a flush, the
 * JSON figures are exact: replies, actions, handoff reasons, intent hits,
 * resolution rate, satisfaction, messages by hour of the shop's day (fake
 * clock, UTC offset), the bounded log of unanswered messages; sessions on
 * two threads sharing one stats object give exact totals; and running out
 * of memory while writing the JSON is reported, not hidden.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "stats.h" /* csbot__stats_new_alloc */
#include "tests.h"

static const char *const kb_parts[] = {
    "{\"csbot\":1,\"name\":\"stats test\",\"settings\":{\"max_misses\":0},"
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
    "{\"id\":\"return_policy\",\"examples\":{\"zh\":[\"可以退货吗\",\"退货政策是什么\"],"
    "\"en\":[\"can i return it\",\"return policy\"]},"
    "\"patterns\":[\"退货|return\"],"
    "\"responses\":[{\"zh\":\"7天无理由退货。\",\"en\":\"Returns within 7 days.\"}]},",
    "{\"id\":\"complaint\",\"examples\":{\"zh\":[\"我要投诉\"],\"en\":[\"i want to file a complaint\"]},"
    "\"patterns\":[\"投诉|complaint\"],"
    "\"handoff\":true,\"responses\":[{\"zh\":\"已为您转接主管。\",\"en\":\"Passing you to a supervisor.\"}]}",
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

/* 2024-03-01 02:30:00 UTC */
#define T0 (1709260200LL * 1000)

static csbot_session *session_with(csbot_stats *st, t_clock *clk) {
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.stats = st;
    if (clk) {
        o.clock = t_clock_fn;
        o.clock_ud = clk;
    }
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, &o), CSBOT_OK);
    return s;
}

static cJSON *stats_json(csbot_stats *st) {
    size_t n = csbot_stats_json(st, NULL, 0);
    ck_assert_uint_gt(n, 2);
    char *buf = malloc(n + 1);
    ck_assert_uint_eq(csbot_stats_json(st, buf, n + 1), n);
    ck_assert_uint_eq(strlen(buf), n);
    cJSON *j = cJSON_Parse(buf);
    ck_assert_msg(j != NULL, "not JSON: %s", buf);
    free(buf);
    return j;
}

static double num(const cJSON *j, const char *path) {
    /* "a.b.c" */
    char key[64];
    const char *p = path;
    const cJSON *cur = j;
    while (*p) {
        size_t k = strcspn(p, ".");
        ck_assert_uint_lt(k, sizeof key);
        memcpy(key, p, k);
        key[k] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        ck_assert_msg(cur != NULL, "no %s in the stats", path);
        p += k + (p[k] == '.');
    }
    ck_assert_msg(cJSON_IsNumber(cur), "%s is not a number", path);
    return cur->valuedouble;
}

static double hour(const cJSON *j, int h) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "messages_by_hour");
    ck_assert(cJSON_IsArray(a));
    ck_assert_int_eq(cJSON_GetArraySize(a), 24);
    return cJSON_GetArrayItem(a, h)->valuedouble;
}

START_TEST(new_and_free) {
    csbot_stats *st = (csbot_stats *)&st;
    ck_assert_int_eq(csbot_stats_new(&st, 24 * 60 + 1, 0), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_stats_new(NULL, 0, 0), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_stats_new(&st, -8 * 60, 0), CSBOT_OK);
    cJSON *j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), 0);
    ck_assert_double_eq(num(j, "conversations"), 0);
    ck_assert_double_eq(num(j, "utc_offset_minutes"), -480);
    cJSON_Delete(j);
    csbot_stats_free(st);
    csbot_stats_free(NULL);
    char b[8];
    ck_assert_uint_eq(csbot_stats_json(NULL, b, sizeof b), 2);
    ck_assert_str_eq(b, "{}");
}
END_TEST

START_TEST(figures_after_known_replies) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 8 * 60, 0), CSBOT_OK);
    t_clock clk = {T0};
    csbot_session *s = session_with(st, &clk);

    /* conversation 1: answered, not handed off */
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(s, "我的快递到哪了");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    r = t_say(s, "202411223344556");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    r = t_say(s, "量子力学很难");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    ck_assert_int_eq(csbot_session_feedback(s, 1, 5), CSBOT_OK);
    ck_assert_int_eq(csbot_session_feedback(s, 3, 2), CSBOT_OK);
    csbot_session_reset(s);
    /* conversation 2: handed off; a message in human mode */
    r = t_say(s, "我要投诉");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_HANDOFF);
    r = t_say(s, "还在吗");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_SILENT);
    csbot_session_reset(s);
    csbot_session_flush_stats(s);

    cJSON *j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), 6);
    ck_assert_double_eq(num(j, "actions.answer"), 2);
    ck_assert_double_eq(num(j, "actions.ask"), 1);
    ck_assert_double_eq(num(j, "actions.suggest"), 0);
    ck_assert_double_eq(num(j, "actions.fallback"), 1);
    ck_assert_double_eq(num(j, "actions.handoff"), 1);
    ck_assert_double_eq(num(j, "actions.silent"), 1);
    ck_assert_double_eq_tol(num(j, "rates.answer"), 2.0 / 5.0, 1e-3);
    ck_assert_double_eq_tol(num(j, "rates.handoff"), 1.0 / 5.0, 1e-3);
    ck_assert_double_eq(num(j, "handoff_reasons.intent"), 1);
    ck_assert_double_eq(num(j, "handoff_reasons.explicit_request"), 0);
    ck_assert_double_eq(num(j, "handoff_reasons.repeated_miss"), 0);
    ck_assert_double_eq(num(j, "intents.return_policy"), 1);
    ck_assert_double_eq(num(j, "intents.order_tracking"), 2);
    ck_assert_double_eq(num(j, "intents.complaint"), 1);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "intents"), "greeting"));
    ck_assert_double_eq(num(j, "conversations"), 2);
    ck_assert_double_eq(num(j, "conversations_handed_off"), 1);
    ck_assert_double_eq_tol(num(j, "resolution_rate"), 0.5, 1e-9);
    ck_assert_double_eq(num(j, "satisfaction.ratings"), 2);
    ck_assert_double_eq_tol(num(j, "satisfaction.mean_rating"), 3.5, 1e-9);
    ck_assert_double_eq(num(j, "satisfaction.helpful"), 1);
    ck_assert_double_eq(num(j, "satisfaction.not_helpful"), 1);
    /* 02:30 UTC is 10:30 at UTC+8; every customer message counts */
    ck_assert_double_eq(hour(j, 10), 6);
    ck_assert_double_eq(hour(j, 2), 0);
    ck_assert_double_eq(num(j, "busiest_hour"), 10);
    ck_assert_double_eq(num(j, "utc_offset_minutes"), 480);
    ck_assert_double_eq(num(j, "unanswered.total"), 1);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "unanswered"), "recent");
    ck_assert_int_eq(cJSON_GetArraySize(rec), 1);
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rec, 0), "text")->valuestring,
        "量子力学很难");
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rec, 0), "lang")->valuestring,
        "zh-Hans");
    /* the reply-time histogram counts every reply */
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "reply_time"), "histogram");
    double total = 0;
    for (int i = 0; i < cJSON_GetArraySize(hist); i++)
        total += cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(hist, i), "count")
                     ->valuedouble;
    ck_assert_double_eq(total, 6);
    cJSON_Delete(j);
    csbot_session_free(s);
    /* freeing the session adds nothing more (no conversation was open) */
    j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), 6);
    ck_assert_double_eq(num(j, "conversations"), 2);
    cJSON_Delete(j);
    csbot_stats_free(st);
}
END_TEST

START_TEST(hours_follow_offset_and_clock) {
    csbot_stats *west = NULL, *east = NULL;
    ck_assert_int_eq(csbot_stats_new(&west, -5 * 60, 0), CSBOT_OK);
    ck_assert_int_eq(csbot_stats_new(&east, 5 * 60 + 30, 0), CSBOT_OK);
    t_clock clk = {T0};
    csbot_session *a = session_with(west, &clk);
    csbot_session *b = session_with(east, &clk);
    static const char *const msgs[] = {"你好", "可以退货吗", "hello"};
    for (int h = 0; h < 3; h++) {
        ck_assert_int_eq(csbot_reply_action(t_say(a, msgs[h])), CSBOT_ACTION_ANSWER);
        ck_assert_int_eq(csbot_reply_action(t_say(b, msgs[h])), CSBOT_ACTION_ANSWER);
        clk.ms += 3600 * 1000;
    }
    csbot_session_flush_stats(a);
    csbot_session_flush_stats(b);
    cJSON *j = stats_json(west);
    /* 02:30, 03:30, 04:30 UTC at UTC-5: 21:30, 22:30, 23:30 */
    ck_assert_double_eq(hour(j, 21), 1);
    ck_assert_double_eq(hour(j, 22), 1);
    ck_assert_double_eq(hour(j, 23), 1);
    ck_assert_double_eq(hour(j, 0), 0);
    cJSON_Delete(j);
    j = stats_json(east);
    /* at UTC+5:30: 08:00, 09:00, 10:00 */
    ck_assert_double_eq(hour(j, 8), 1);
    ck_assert_double_eq(hour(j, 9), 1);
    ck_assert_double_eq(hour(j, 10), 1);
    cJSON_Delete(j);
    csbot_session_free(a);
    csbot_session_free(b);
    csbot_stats_free(west);
    csbot_stats_free(east);
}
END_TEST

START_TEST(unanswered_log_is_bounded) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 0, 3), CSBOT_OK);
    csbot_session *s = session_with(st, NULL);
    static const char *const misses[] = {"量子力学很难", "今天天气不错",
                                         "xylophone quasar", "blorp zzz quux",
                                         "火星上有水吗"};
    for (size_t i = 0; i < 5; i++) {
        const csbot_reply *r = t_say(s, misses[i]);
        ck_assert_msg(csbot_reply_action(r) == CSBOT_ACTION_FALLBACK, "\"%s\": %s",
                      misses[i], csbot_action_name(csbot_reply_action(r)));
        t_say(s, "你好"); /* answered: not logged */
    }
    csbot_session_flush_stats(s);
    cJSON *j = stats_json(st);
    ck_assert_double_eq(num(j, "unanswered.total"), 5);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "unanswered"), "recent");
    ck_assert_int_eq(cJSON_GetArraySize(rec), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rec, i), "text")->valuestring,
            misses[2 + i]);
    ck_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rec, 1), "lang")->valuestring,
        "en");
    ck_assert_double_eq(num(j, "actions.fallback"), 5);
    cJSON_Delete(j);
    csbot_session_free(s);
    csbot_stats_free(st);
}
END_TEST

START_TEST(unanswered_long_text_cut_on_character) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 0, 0), CSBOT_OK);
    csbot_session *s = session_with(st, NULL);
    char msg[400] = "";
    for (int i = 0; i < 110; i++)
        strcat(msg, "量");
    const csbot_reply *r = t_say(s, msg);
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    cJSON *j = stats_json(st);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "unanswered"), "recent");
    const char *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rec, 0), "text")->valuestring;
    size_t n = strlen(t);
    ck_assert_uint_gt(n, 200);
    ck_assert_uint_lt(n, 256);
    ck_assert_uint_eq(n % 3, 0);
    ck_assert_int_eq(strncmp(t, msg, n), 0);
    cJSON_Delete(j);
    csbot_session_free(s);
    csbot_stats_free(st);
}
END_TEST

START_TEST(detach_and_reattach) {
    csbot_stats *a = NULL, *b = NULL;
    ck_assert_int_eq(csbot_stats_new(&a, 0, 0), CSBOT_OK);
    ck_assert_int_eq(csbot_stats_new(&b, 0, 0), CSBOT_OK);
    t_clock clk = {T0};
    csbot_session *s = session_with(a, &clk);
    t_say(s, "你好");
    t_say(s, "可以退货吗");
    csbot_session_set_stats(s, NULL); /* flushes to a */
    t_say(s, "你好");                 /* counted nowhere */
    csbot_session_set_stats(s, b);
    t_say(s, "我的快递到哪了");
    csbot_session_free(s); /* flushes to b */
    cJSON *j = stats_json(a);
    ck_assert_double_eq(num(j, "replies"), 2);
    ck_assert_double_eq(num(j, "actions.answer"), 2);
    ck_assert_double_eq(num(j, "intents.return_policy"), 1);
    cJSON_Delete(j);
    j = stats_json(b);
    ck_assert_double_eq(num(j, "replies"), 1);
    ck_assert_double_eq(num(j, "actions.ask"), 1);
    ck_assert_double_eq(num(j, "actions.answer"), 0);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "intents"), "return_policy"));
    cJSON_Delete(j);
    csbot_stats_free(a);
    csbot_stats_free(b);
}
END_TEST

START_TEST(host_handoff_counted) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 0, 0), CSBOT_OK);
    csbot_session *s = session_with(st, NULL);
    t_say(s, "你好");
    ck_assert_int_eq(csbot_session_handoff(s), CSBOT_OK);
    csbot_session_free(s);
    cJSON *j = stats_json(st);
    ck_assert_double_eq(num(j, "handoff_reasons.host"), 1);
    ck_assert_double_eq(num(j, "conversations"), 1);
    ck_assert_double_eq(num(j, "conversations_handed_off"), 1);
    ck_assert_double_eq_tol(num(j, "resolution_rate"), 0.0, 1e-9);
    cJSON_Delete(j);
    csbot_stats_free(st);
}
END_TEST

/* ---- two threads, one stats object ---------------------------------------- */

static const char *const thread_msgs[] = {
    "可以退货吗", "我的快递到哪了", "202411223344556", "你好", "量子力学很难",
    "where is my package", "return policy", "hello", "xylophone quasar",
    "我要投诉", "还在吗"};
#define NMSG (sizeof thread_msgs / sizeof thread_msgs[0])
#define PER_THREAD 400

typedef struct worker {
    csbot_stats *st;
    t_clock clk;
    unsigned long by_action[7];
    int failed;
} worker;

static void *run_worker(void *ud) {
    worker *w = ud;
    csbot_session *s = NULL;
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.stats = w->st;
    o.clock = t_clock_fn;
    o.clock_ud = &w->clk;
    if (csbot_session_new(&s, kb, &o)) {
        w->failed = 1;
        return NULL;
    }
    for (int i = 0; i < PER_THREAD; i++) {
        const csbot_reply *r;
        if (csbot_session_reply(s, thread_msgs[i % NMSG], CSBOT_NUL_TERMINATED, &r)) {
            w->failed = 1;
            break;
        }
        w->by_action[csbot_reply_action(r)]++;
        if (csbot_session_in_human_mode(s))
            csbot_session_resume(s);
        if (i % 50 == 49)
            csbot_session_reset(s);
        w->clk.ms += 250; /* a quarter second per message */
    }
    csbot_session_flush_stats(s);
    csbot_session_free(s);
    return NULL;
}

START_TEST(two_threads_exact_totals) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 0, 0), CSBOT_OK);
    worker w[2];
    memset(w, 0, sizeof w);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].st = st;
        w[i].clk.ms = T0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    }
    /* reading while they write is allowed */
    for (int i = 0; i < 20; i++) {
        char buf[64];
        ck_assert_uint_gt(csbot_stats_json(st, buf, sizeof buf), 2);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ck_assert(!w[0].failed && !w[1].failed);
    cJSON *j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), 2 * PER_THREAD);
    static const char *const names[7] = {NULL,       "answer", "ask",   "suggest",
                                         "fallback", "handoff", "silent"};
    for (int a = 1; a < 7; a++) {
        char path[32];
        snprintf(path, sizeof path, "actions.%s", names[a]);
        ck_assert_double_eq(num(j, path), (double)(w[0].by_action[a] + w[1].by_action[a]));
        ck_assert_uint_eq(w[0].by_action[a], w[1].by_action[a]); /* same script */
    }
    ck_assert_double_eq(num(j, "conversations"), 2 * (PER_THREAD / 50));
    double hours = 0;
    for (int h = 0; h < 24; h++)
        hours += hour(j, h);
    ck_assert_double_eq(hours, 2 * PER_THREAD);
    cJSON_Delete(j);
    csbot_stats_free(st);
}
END_TEST

/* Sessions write the shared object at most once a second (or every 256
 * replies), not on every reply or reset: conversations that a host resets
 * after each message must not contend for it. */
START_TEST(flushes_are_rate_limited) {
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot_stats_new(&st, 0, 0), CSBOT_OK);
    t_clock clk = {T0};
    csbot_session *s = session_with(st, &clk);
    t_say(s, "可以退货吗");
    cJSON *j = stats_json(st);
    double first = num(j, "replies");
    cJSON_Delete(j);
    for (int i = 0; i < 3; i++) {
        csbot_session_reset(s);
        t_say(s, "可以退货吗");
        clk.ms += 100;
    }
    csbot_session_reset(s);
    j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), first); /* within the second */
    cJSON_Delete(j);
    clk.ms += 1000;
    t_say(s, "可以退货吗");
    j = stats_json(st);
    ck_assert_double_eq(num(j, "replies"), 5); /* the next second's reply */
    cJSON_Delete(j);
    csbot_session_free(s);
    csbot_stats_free(st);
}
END_TEST

/* Each allocation csbot_stats_json() makes fails in turn: the call must
 * return 0 and write "" (it used to return "{}", an object any reader takes
 * for "no figures yet"), leak nothing, and leave the figures intact for the
 * next call. Guards against a failure that looks like a success. */
START_TEST(json_out_of_memory_is_visible) {
    t_alloc ta = {0};
    csbot_stats *st = NULL;
    ck_assert_int_eq(csbot__stats_new_alloc(&st, 0, 0, t_alloc_fn, &ta),
                     CSBOT_OK);
    csbot_session *s = session_with(st, NULL);
    t_say(s, "可以退货吗");
    t_say(s, "what is the weather on mars");
    csbot_session_flush_stats(s); /* the intent names are allocated here */
    size_t want = csbot_stats_json(st, NULL, 0);
    ck_assert_uint_gt(want, 2);
    char *ref = malloc(want + 1), *buf = malloc(want + 1);
    ck_assert_ptr_nonnull(ref);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(csbot_stats_json(st, ref, want + 1), want);
    ck_assert_ptr_nonnull(strstr(ref, "\"return_policy\":1"));
    long live = ta.live, failures = 0;
    for (long n = 1; n < 1000; n++) {
        ta.count = 0;
        ta.failed = 0;
        ta.fail_at = n;
        memset(buf, 'x', want + 1);
        size_t got = csbot_stats_json(st, buf, want + 1);
        ta.fail_at = 0;
        ck_assert_int_eq(ta.live, live); /* nothing leaked */
        if (!ta.failed) {
            ck_assert_uint_eq(got, want);
            ck_assert_str_eq(buf, ref);
            break;
        }
        failures++;
        ck_assert_msg(got == 0, "allocation %ld failed: returned %zu (%s)", n,
                      got, buf);
        ck_assert_str_eq(buf, "");
        /* size 0 also says 0 */
        ta.count = 0;
        ta.failed = 0;
        ta.fail_at = n;
        ck_assert_uint_eq(csbot_stats_json(st, NULL, 0), 0);
        ta.fail_at = 0;
    }
    ck_assert_int_gt(failures, 0); /* the loop did inject failures */
    free(ref);
    free(buf);
    csbot_session_free(s);
    csbot_stats_free(st);
    ck_assert_int_eq(ta.live, 0);
}
END_TEST

Suite *stats_suite(void) {
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("figures");
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, new_and_free);
    tcase_add_test(tc, figures_after_known_replies);
    tcase_add_test(tc, hours_follow_offset_and_clock);
    tcase_add_test(tc, unanswered_log_is_bounded);
    tcase_add_test(tc, unanswered_long_text_cut_on_character);
    tcase_add_test(tc, detach_and_reattach);
    tcase_add_test(tc, host_handoff_counted);
    tcase_add_test(tc, two_threads_exact_totals);
    tcase_add_test(tc, flushes_are_rate_limited);
    tcase_add_test(tc, json_out_of_memory_is_visible);
    suite_add_tcase(s, tc);
    return s;
}
