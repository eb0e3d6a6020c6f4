/*
 * check_store.c - the store on a temporary database: conversations and
 * turns, the group commit from many threads, handoff tickets and claims,
 * logins, the dashboard's figures.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tserver.h"

static store *open_tmp(char *dir, size_t size) {
    ts_tmpdir(dir, size);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/s.db", dir);
    store *st;
    ck_assert_msg(store_open(&st, path, err, sizeof err) == 0, "%s", err);
    return st;
}

static void turn(store *st, const char *conv, long seq, const char *text,
                 const char *action, const char *intent, const char *reason,
                 long *ticket) {
    msg_rec m[2] = {
        {.seq = seq, .role = "customer", .text = text, .lang = "en", .turn = 1},
        {.seq = seq + 1, .role = "bot", .text = "reply", .action = action,
         .intent = intent, .confidence = 0.9, .lang = "en", .turn = 1}};
    turn_rec t = {.conv = conv, .now = srv_now_ms(), .msgs = m, .nmsgs = 2,
                  .state = "S", .state_len = 1,
                  .status = reason ? CONV_WAITING : CONV_BOT, .lang = "en",
                  .handoff_reason = reason, .handoff_text = text,
                  .handoff_packet = reason ? "{\"reason\":\"x\"}" : NULL};
    ck_assert_msg(store_turn(st, &t, ticket) == 0, "%s", store_errmsg());
}

START_TEST(conversation_roundtrip) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    ck_assert_int_eq(store_conv_create(st, "c1", 1000, "{\"name\":\"Li\"}", "AB", 2), 0);
    /* the same id twice is refused */
    ck_assert_int_eq(store_conv_create(st, "c1", 1000, NULL, "AB", 2), -1);
    long ticket = -1;
    turn(st, "c1", 1, "hello", "answer", "greeting", NULL, &ticket);
    ck_assert_int_eq(ticket, 0);
    conv_row row;
    ck_assert_int_eq(store_conv_load(st, "c1", &row), 0);
    ck_assert_int_eq(row.seq, 2);
    ck_assert_int_eq(row.status, CONV_BOT);
    ck_assert_str_eq(row.lang, "en");
    ck_assert_uint_eq(row.state_len, 1);
    ck_assert_int_eq(row.state[0], 'S');
    free(row.state);
    ck_assert_int_eq(store_conv_load(st, "nope", &row), STORE_NOT_FOUND);
    cJSON *msgs = store_messages(st, "c1", 0);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(msgs, 0), "role"), "customer");
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(msgs, 1), "intent"), "greeting");
    cJSON_Delete(msgs);
    msgs = store_messages(st, "c1", 1);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    cJSON_Delete(msgs);
    store_close(st);
}
END_TEST

START_TEST(turn_for_missing_conversation_fails_whole) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    msg_rec m = {.seq = 1, .role = "customer", .text = "x"};
    turn_rec t = {.conv = "ghost", .now = 1, .msgs = &m, .nmsgs = 1,
                  .state = "S", .state_len = 1};
    ck_assert_int_eq(store_turn(st, &t, NULL), -1);
    ck_assert_ptr_nonnull(strstr(store_errmsg(), "ghost"));
    /* nothing of it was kept */
    cJSON *msgs = store_messages(st, "ghost", 0);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 0);
    cJSON_Delete(msgs);
    store_close(st);
}
END_TEST

typedef struct worker {
    store *st;
    char conv[16];
    int turns;
} worker;

static void *work(void *p) {
    worker *w = p;
    for (int i = 0; i < w->turns; i++) {
        msg_rec m = {.seq = i + 1, .role = "customer", .text = "hi"};
        turn_rec t = {.conv = w->conv, .now = srv_now_ms(), .msgs = &m,
                      .nmsgs = 1, .state = "S", .state_len = 1};
        if (store_turn(w->st, &t, NULL))
            return (void *)1;
    }
    return NULL;
}

START_TEST(group_commit_from_threads) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    enum { N = 8, TURNS = 200 };
    worker w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i].st = st;
        w[i].turns = TURNS;
        snprintf(w[i].conv, sizeof w[i].conv, "conv%d", i);
        ck_assert_int_eq(store_conv_create(st, w[i].conv, 1, NULL, "S", 1), 0);
    }
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < N; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        ck_assert_ptr_null(rc);
    }
    /* a duplicate seq in one batch fails only that turn */
    msg_rec dup = {.seq = 1, .role = "customer", .text = "again"};
    turn_rec t = {.conv = "conv0", .now = 1, .msgs = &dup, .nmsgs = 1,
                  .state = "S", .state_len = 1};
    ck_assert_int_eq(store_turn(st, &t, NULL), -1);
    int copied = 0;
    ck_assert_int_eq(store_checkpoint(st, &copied), 0);
    ck_assert_int_gt(copied, 0); /* it really copies (a fresh connection would not) */
    for (int i = 0; i < N; i++) {
        cJSON *msgs = store_messages(st, w[i].conv, 0);
        ck_assert_int_eq(cJSON_GetArraySize(msgs), TURNS);
        cJSON_Delete(msgs);
        conv_row row;
        ck_assert_int_eq(store_conv_load(st, w[i].conv, &row), 0);
        ck_assert_int_eq(row.seq, TURNS);
        free(row.state);
    }
    store_close(st);
}
END_TEST

START_TEST(tickets_and_claims) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    ck_assert_int_eq(store_conv_create(st, "c1", 1, NULL, "S", 1), 0);
    long ticket = 0;
    turn(st, "c1", 1, "I want a person", "handoff", NULL, "explicit_request", &ticket);
    ck_assert_int_gt(ticket, 0);
    ck_assert_int_eq(store_open_handoffs(st), 1);
    cJSON *q = store_queue(st, "alice", srv_now_ms());
    ck_assert_int_eq(cJSON_GetArraySize(q), 1);
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(q, 0), "status"), "open");
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(q, 0), "text"), "I want a person");
    cJSON_Delete(q);
    char conv[33];
    ck_assert_int_eq(store_ticket_conv(st, ticket, conv), 0);
    ck_assert_str_eq(conv, "c1");
    ck_assert_int_eq(store_ticket_conv(st, ticket + 1, conv), STORE_NOT_FOUND);

    msg_rec sys = {.seq = 3, .role = "system", .text = "alice joined"};
    ck_assert_int_eq(store_claim(st, ticket, "c1", "alice", srv_now_ms(), &sys), 0);
    ck_assert_int_eq(store_claim(st, ticket, "c1", "alice", srv_now_ms(), &sys), STORE_ALREADY);
    msg_rec sys2 = {.seq = 4, .role = "system", .text = "bob joined"};
    ck_assert_int_eq(store_claim(st, ticket, "c1", "bob", srv_now_ms(), &sys2), STORE_CONFLICT);
    /* bob does not see alice's claim; alice does */
    q = store_queue(st, "bob", srv_now_ms());
    ck_assert_int_eq(cJSON_GetArraySize(q), 0);
    cJSON_Delete(q);
    q = store_queue(st, "alice", srv_now_ms());
    ck_assert_int_eq(cJSON_GetArraySize(q), 1);
    cJSON_Delete(q);
    msg_rec say = {.seq = 4, .role = "agent", .text = "hello", .agent = "bob"};
    ck_assert_int_eq(store_agent_message(st, ticket, "c1", "bob", srv_now_ms(), &say), STORE_CONFLICT);
    say.agent = "alice";
    ck_assert_int_eq(store_agent_message(st, ticket, "c1", "alice", srv_now_ms(), &say), 0);
    ck_assert_int_eq(store_note(st, ticket, "alice", "VIP customer", srv_now_ms()), 0);
    msg_rec bye = {.seq = 5, .role = "system", .text = "bye"};
    ck_assert_int_eq(store_resolve(st, ticket, "c1", "bob", srv_now_ms(), &bye, "S", 1, NULL, 0), STORE_CONFLICT);
    ck_assert_int_eq(store_resolve(st, ticket, "c1", "alice", srv_now_ms(), &bye, "T", 1, "done", 0), 0);
    ck_assert_int_eq(store_open_handoffs(st), 0);
    cJSON *t = store_ticket(st, ticket);
    ck_assert_str_eq(ts_str(t, "status"), "resolved");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t, "messages")), 5);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t, "notes")), 2);
    ck_assert_str_eq(ts_str(cJSON_GetObjectItem(t, "packet"), "reason"), "x");
    cJSON_Delete(t);
    conv_row row;
    ck_assert_int_eq(store_conv_load(st, "c1", &row), 0);
    ck_assert_int_eq(row.status, CONV_BOT);
    ck_assert_int_eq(row.ticket, 0);
    ck_assert_int_eq(row.state[0], 'T');
    free(row.state);
    store_close(st);
}
END_TEST

START_TEST(logins_expire) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    char agent[64], csrf[64];
    int64_t now = srv_now_ms();
    ck_assert_int_eq(store_login_add(st, "tok", "alice", "c1", now + 1000), 0);
    ck_assert_int_eq(store_login_get(st, "tok", now, agent, csrf), 0);
    ck_assert_str_eq(agent, "alice");
    ck_assert_str_eq(csrf, "c1");
    ck_assert_int_eq(store_login_get(st, "tok", now + 2000, agent, csrf), STORE_NOT_FOUND);
    ck_assert_int_eq(store_login_get(st, "other", now, agent, csrf), STORE_NOT_FOUND);
    ck_assert_int_eq(store_login_del(st, "tok"), 0);
    ck_assert_int_eq(store_login_get(st, "tok", now, agent, csrf), STORE_NOT_FOUND);
    store_close(st);
}
END_TEST

START_TEST(dashboard_figures) {
    char dir[256];
    store *st = open_tmp(dir, sizeof dir);
    ck_assert_int_eq(store_conv_create(st, "a", 1, NULL, "S", 1), 0);
    ck_assert_int_eq(store_conv_create(st, "b", 1, NULL, "S", 1), 0);
    turn(st, "a", 1, "where is my parcel", "answer", "order_tracking", NULL, NULL);
    turn(st, "a", 3, "blah blah", "fallback", NULL, NULL, NULL);
    turn(st, "b", 1, "track it", "answer", "order_tracking", NULL, NULL);
    long ticket;
    turn(st, "b", 3, "human please", "handoff", NULL, "explicit_request", &ticket);
    ck_assert_int_eq(store_rate(st, "a", 1, 5, srv_now_ms()), 0);
    ck_assert_int_eq(store_rate(st, "a", 0, 2, srv_now_ms()), 0);
    cJSON *d = store_dashboard(st, 0, 0);
    ck_assert_int_eq((int)ts_num(d, "conversations"), 2);
    ck_assert_int_eq((int)ts_num(d, "customer_messages"), 4);
    ck_assert_int_eq((int)ts_num(d, "bot_replies"), 4);
    cJSON *actions = cJSON_GetObjectItem(d, "actions");
    ck_assert_int_eq((int)ts_num(actions, "answer"), 2);
    ck_assert_int_eq((int)ts_num(actions, "fallback"), 1);
    ck_assert_int_eq((int)ts_num(actions, "suggest"), 0);
    ck_assert_double_eq_tol(ts_num(cJSON_GetObjectItem(d, "rates"), "answer"), 0.5, 1e-9);
    cJSON *h = cJSON_GetObjectItem(d, "handoffs");
    ck_assert_int_eq((int)ts_num(h, "total"), 1);
    ck_assert_int_eq((int)ts_num(cJSON_GetObjectItem(h, "by_reason"), "explicit_request"), 1);
    /* b handed off, a did not */
    ck_assert_double_eq_tol(ts_num(d, "handoff_rate"), 0.5, 1e-9);
    ck_assert_ptr_null(cJSON_GetObjectItem(actions, "silent"));
    /* a answered without handoff, b handed off: half resolved by the bot */
    ck_assert_double_eq_tol(ts_num(d, "resolution_rate"), 0.5, 1e-9);
    /* the conversation's stars and the answer's thumb are kept apart */
    cJSON *sat = cJSON_GetObjectItem(d, "satisfaction");
    ck_assert_int_eq((int)ts_num(sat, "count"), 1);
    ck_assert_double_eq_tol(ts_num(sat, "average"), 2, 1e-9);
    ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(sat, "by_rating"), 1)->valuedouble, 1);
    cJSON *fb = cJSON_GetObjectItem(d, "answer_feedback");
    ck_assert_int_eq((int)ts_num(fb, "count"), 1);
    ck_assert_double_eq_tol(ts_num(fb, "helpful"), 1, 1e-9);
    cJSON *hours = cJSON_GetObjectItem(d, "hours");
    ck_assert_int_eq(cJSON_GetArraySize(hours), 24);
    double total = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, hours) total += x->valuedouble;
    ck_assert_double_eq(total, 4);
    cJSON *top = cJSON_GetObjectItem(d, "top_intents");
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(top, 0), "intent"), "order_tracking");
    ck_assert_int_eq((int)ts_num(cJSON_GetArrayItem(top, 0), "count"), 2);
    cJSON *un = cJSON_GetObjectItem(d, "unanswered");
    ck_assert_int_eq(cJSON_GetArraySize(un), 1);
    ck_assert_str_eq(ts_str(cJSON_GetArrayItem(un, 0), "text"), "blah blah");
    char *text;
    char lang[8];
    ck_assert_int_eq(store_message_text(st, (long)ts_num(cJSON_GetArrayItem(un, 0), "message"),
                                        &text, lang), 0);
    ck_assert_str_eq(text, "blah blah");
    free(text);
    cJSON_Delete(d);
    store_close(st);
}
END_TEST

Suite *store_suite(void) {
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, conversation_roundtrip);
    tcase_add_test(tc, turn_for_missing_conversation_fails_whole);
    tcase_add_test(tc, group_commit_from_threads);
    tcase_add_test(tc, tickets_and_claims);
    tcase_add_test(tc, logins_expire);
    tcase_add_test(tc, dashboard_figures);
    suite_add_tcase(s, tc);
    return s;
}
