/*
 * check_api.c - the API handlers through api_handle(), on a real app (the
 * shop knowledge base, a temporary database): customer conversations in
 * both languages, bad input that changes nothing, the agent flow with its
 * login and CSRF checks, long polls, restarts, and examples added from the
 * dashboard; plus the long-poll waiter list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convs.h"
#include "tserver.h"
#include "wait.h"

static char path_buf[256];

static const char *conv_path(const char *id, const char *sub) {
    snprintf(path_buf, sizeof path_buf, "/api/v1/conversations/%s%s%s", id,
             sub ? "/" : "", sub ? sub : "");
    return path_buf;
}

static int transcript_len(ts_app *t, const char *id) {
    ts_resp r = ts_req(t, "GET", conv_path(id, NULL), NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "messages"));
    ts_resp_free(&r);
    return n;
}

START_TEST(conversation_in_both_languages) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33];
    ts_new_conv(&t, id);
    ck_assert_uint_eq(strlen(id), 32);
    cJSON *r = ts_say(&t, id, "请问可以开发票吗");
    ck_assert_str_eq(ts_str(r, "action"), "answer");
    ck_assert_str_eq(ts_str(r, "intent"), "invoice");
    ck_assert_str_eq(ts_str(r, "lang"), "zh-Hans");
    ck_assert_int_eq((int)ts_num(r, "seq"), 2);
    ck_assert_int_eq((int)ts_num(r, "turn"), 1);
    cJSON_Delete(r);
    r = ts_say(&t, id, "請問運費怎麼算");
    ck_assert_str_eq(ts_str(r, "lang"), "zh-Hant");
    ck_assert_str_eq(ts_str(r, "intent"), "shipping_fee");
    cJSON_Delete(r);
    r = ts_say(&t, id, "how long does shipping take");
    ck_assert_str_eq(ts_str(r, "lang"), "en");
    ck_assert_str_eq(ts_str(r, "action"), "answer");
    ck_assert_str_eq(ts_str(r, "intent"), "shipping_time");
    cJSON_Delete(r);
    ck_assert_int_eq(transcript_len(&t, id), 6);
    ts_app_stop(&t);
}
END_TEST

START_TEST(bad_input_changes_nothing) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33];
    ts_new_conv(&t, id);
    cJSON_Delete(ts_say(&t, id, "hello"));
    static const struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        {"{\"text\":", 400, "bad_json"},
        {"[1,2]", 400, "bad_json"},
        {"{\"text\":\"\xff\xfe\"}", 400, "bad_utf8"},
        {"{\"text\":\"a\\u0000b\"}", 400, "bad_utf8"},
        {"{\"text\":\"   \"}", 400, "empty"},
        {"{\"text\":42}", 400, "bad_request"},
        {"{}", 400, "bad_request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ts_resp r = ts_req(&t, "POST", conv_path(id, "messages"), cases[i].body, NULL, NULL);
        ck_assert_msg(r.status == cases[i].status, "case %zu: %d", i, r.status);
        const cJSON *e = cJSON_GetObjectItem(r.json, "error");
        ck_assert_str_eq(ts_str(e, "code"), cases[i].code);
        ts_resp_free(&r);
    }
    char *big = malloc(5000);
    memcpy(big, "{\"text\":\"", 9);
    memset(big + 9, 'a', 4500);
    strcpy(big + 4509, "\"}");
    ts_resp r = ts_req(&t, "POST", conv_path(id, "messages"), big, NULL, NULL);
    ck_assert_int_eq(r.status, 413);
    ts_resp_free(&r);
    free(big);
    /* a body over the limit, as http.c reports it */
    api_request q = {.method = "POST", .path = conv_path(id, "messages"),
                     .body_too_big = 1};
    api_response ar;
    api_handle(&t.a, &q, &ar);
    ck_assert_int_eq(ar.status, 413);
    api_finish(&t.a, &ar);
    ck_assert_int_eq(transcript_len(&t, id), 2);
    /* and the conversation goes on */
    cJSON *ok = ts_say(&t, id, "what payment methods do you accept");
    ck_assert_str_eq(ts_str(ok, "intent"), "payment_methods");
    ck_assert_int_eq((int)ts_num(ok, "seq"), 4);
    cJSON_Delete(ok);
    ts_app_stop(&t);
}
END_TEST

START_TEST(unknown_conversations_and_routes) {
    ts_app t;
    ts_app_start(&t, NULL);
    static const char *const paths[] = {
        "/api/v1/conversations/0123456789abcdef0123456789abcdef",
        "/api/v1/conversations/0123456789abcdef0123456789abcdef/messages",
        "/api/v1/conversations/../../etc/passwd",
        "/api/v1/conversations/ABCDEF",
        "/api/v1/nothing", "/static/../server.c", "/nothing"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        ts_resp r = ts_req(&t, "GET", paths[i], NULL, NULL, NULL);
        ck_assert_msg(r.status == 404, "%s: %d", paths[i], r.status);
        ts_resp_free(&r);
    }
    ts_resp r = ts_req(&t, "DELETE", "/api/v1/conversations", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 405);
    ts_resp_free(&r);
    r = ts_req(&t, "GET", "/", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    r = ts_req(&t, "GET", "/healthz", NULL, NULL, NULL);
    ck_assert_str_eq(ts_str(r.json, "status"), "ok");
    ts_resp_free(&r);
    ts_app_stop(&t);
}
END_TEST

/* A waiter whose wake only counts. */
static void count_wake(waiter *w) { (*(int *)w->ud)++; }

START_TEST(long_poll_waits_for_the_agent) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33], cookie[128], csrf[64];
    ts_new_conv(&t, id);
    cJSON *r = ts_say(&t, id, "转人工");
    ck_assert_str_eq(ts_str(r, "action"), "handoff");
    long ticket = (long)ts_num(cJSON_GetObjectItem(r, "handoff"), "ticket");
    long seq = (long)ts_num(r, "seq");
    cJSON_Delete(r);
    ts_agent_login(&t, "alice", cookie, csrf);

    /* the customer waits for what comes after seq */
    int woken = 0;
    waiter w = {.wake = count_wake, .ud = &woken};
    char p[256];
    snprintf(p, sizeof p, "%s", conv_path(id, "messages"));
    api_request q = {.method = "GET", .path = p, .after = "99", .wait = "5", .w = &w};
    char after[16];
    snprintf(after, sizeof after, "%ld", seq);
    q.after = after;
    api_response ar;
    api_handle(&t.a, &q, &ar);
    ck_assert_int_eq(ar.status, 0); /* waiting */
    ck_assert_int_eq(waiters_count(t.a.wt), 1);

    char tp[128];
    snprintf(tp, sizeof tp, "/api/v1/agent/handoffs/%ld/claim", ticket);
    ts_resp c = ts_req(&t, "POST", tp, NULL, cookie, csrf);
    ck_assert_int_eq(c.status, 200);
    ts_resp_free(&c);
    ck_assert_int_eq(woken, 1);
    ck_assert_int_eq(waiters_count(t.a.wt), 0);
    api_finish(&t.a, &ar);
    /* asked again without waiting, it gets the "agent joined" message */
    q.w = NULL;
    api_handle(&t.a, &q, &ar);
    ck_assert_int_eq(ar.status, 200);
    cJSON *o = cJSON_Parse(ar.body);
    ck_assert_str_eq(ts_str(o, "status"), "agent");
    cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0);
    ck_assert_str_eq(ts_str(m0, "role"), "system");
    ck_assert_ptr_nonnull(strstr(ts_str(m0, "text"), "alice"));
    cJSON_Delete(o);
    api_finish(&t.a, &ar);
    ts_app_stop(&t);
}
END_TEST

START_TEST(agent_flow_with_auth_checks) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33], ca[128], xa[64], cb[128], xb[64];
    ts_new_conv(&t, id);
    cJSON_Delete(ts_say(&t, id, "my order number is 202411223344556, where is it"));
    ts_resp r = ts_req(&t, "POST", conv_path(id, "handoff"), NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    long ticket = (long)ts_num(r.json, "ticket");
    ts_resp_free(&r);
    r = ts_req(&t, "POST", conv_path(id, "handoff"), NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 409);
    ts_resp_free(&r);

    /* not logged in, wrong password, unknown agent */
    r = ts_req(&t, "GET", "/api/v1/agent/queue", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ts_agent_login(&t, "alice", ca, xa);
    ts_agent_login(&t, "bob", cb, xb);
    r = ts_req(&t, "POST", "/api/v1/agent/login", "{\"name\":\"alice\",\"password\":\"wrong one\"}", NULL, NULL);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(r.cookie, "");
    ts_resp_free(&r);
    r = ts_req(&t, "POST", "/api/v1/agent/login", "{\"name\":\"mallory\",\"password\":\"correct horse\"}", NULL, NULL);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    r = ts_req(&t, "GET", "/api/v1/agent/queue", NULL, "00", NULL);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);

    r = ts_req(&t, "GET", "/api/v1/agent/queue", NULL, ca, NULL);
    ck_assert_int_eq(r.status, 200);
    cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "handoffs"), 0);
    ck_assert_int_eq((long)ts_num(h, "ticket"), ticket);
    ck_assert_str_eq(ts_str(h, "reason"), "explicit_request");
    ts_resp_free(&r);

    char p[128];
    snprintf(p, sizeof p, "/api/v1/agent/handoffs/%ld", ticket);
    r = ts_req(&t, "GET", p, NULL, ca, NULL);
    ck_assert_int_eq(r.status, 200);
    /* the packet carries what the customer said, so nobody asks again */
    cJSON *packet = cJSON_GetObjectItem(r.json, "packet");
    char *pj = cJSON_PrintUnformatted(packet);
    ck_assert_ptr_nonnull(strstr(pj, "202411223344556"));
    free(pj);
    ts_resp_free(&r);

    snprintf(p, sizeof p, "/api/v1/agent/handoffs/%ld/claim", ticket);
    r = ts_req(&t, "POST", p, NULL, ca, NULL); /* no CSRF token */
    ck_assert_int_eq(r.status, 403);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", p, NULL, ca, xb); /* another agent's token */
    ck_assert_int_eq(r.status, 403);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", p, NULL, ca, xa);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", p, NULL, cb, xb);
    ck_assert_int_eq(r.status, 409);
    ts_resp_free(&r);
    r = ts_req(&t, "GET", "/api/v1/agent/queue", NULL, cb, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "handoffs")), 0);
    ts_resp_free(&r);

    snprintf(p, sizeof p, "/api/v1/agent/handoffs/%ld/messages", ticket);
    r = ts_req(&t, "POST", p, "{\"text\":\"Hi, Alice here\"}", cb, xb);
    ck_assert_int_eq(r.status, 409);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", p, "{\"text\":\"Hi, Alice here\"}", ca, xa);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    cJSON *s = ts_say(&t, id, "thanks!");
    ck_assert_str_eq(ts_str(s, "action"), "silent");
    ck_assert_str_eq(ts_str(s, "status"), "agent");
    cJSON_Delete(s);

    snprintf(p, sizeof p, "/api/v1/agent/handoffs/%ld/notes", ticket);
    r = ts_req(&t, "POST", p, "{\"text\":\"parcel lost, reshipped\"}", ca, xa);
    ck_assert_int_eq(r.status, 204);
    ts_resp_free(&r);
    snprintf(p, sizeof p, "/api/v1/agent/handoffs/%ld/resolve", ticket);
    r = ts_req(&t, "POST", p, "{}", ca, xa);
    ck_assert_int_eq(r.status, 200);
    ts_resp_free(&r);
    s = ts_say(&t, id, "can I get an invoice");
    ck_assert_str_eq(ts_str(s, "action"), "answer");
    ck_assert_str_eq(ts_str(s, "status"), "bot");
    cJSON_Delete(s);

    r = ts_req(&t, "POST", "/api/v1/agent/logout", NULL, ca, xa);
    ck_assert_int_eq(r.status, 204);
    ts_resp_free(&r);
    r = ts_req(&t, "GET", "/api/v1/agent/me", NULL, ca, NULL);
    ck_assert_int_eq(r.status, 401);
    ts_resp_free(&r);
    ts_app_stop(&t);
}
END_TEST

START_TEST(restart_continues_the_conversation) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33], dir[256];
    ts_new_conv(&t, id);
    cJSON *r = ts_say(&t, id, "我的快递到哪了");
    ck_assert_str_eq(ts_str(r, "action"), "ask"); /* for the order number */
    cJSON_Delete(r);
    snprintf(dir, sizeof dir, "%s", t.dir);
    ts_app_stop(&t);

    ts_app_start(&t, dir);
    r = ts_say(&t, id, "202411223344556");
    /* the pending question survived: the bare number answers it */
    ck_assert_str_eq(ts_str(r, "action"), "answer");
    ck_assert_str_eq(ts_str(r, "intent"), "order_tracking");
    ck_assert_int_eq((int)ts_num(r, "seq"), 4);
    ck_assert_str_eq(ts_str(cJSON_GetObjectItem(r, "slots"), "order_id"), "202411223344556");
    cJSON_Delete(r);
    ck_assert_int_eq(transcript_len(&t, id), 4);
    ts_app_stop(&t);
}
END_TEST

START_TEST(ratings) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33];
    ts_new_conv(&t, id);
    cJSON_Delete(ts_say(&t, id, "how long does shipping take"));
    ts_resp r = ts_req(&t, "POST", conv_path(id, "ratings"), "{\"rating\":5,\"turn\":1}", NULL, NULL);
    ck_assert_int_eq(r.status, 204);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", conv_path(id, "ratings"), "{\"rating\":9}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", conv_path(id, "ratings"), "{\"rating\":3,\"turn\":7}", NULL, NULL);
    ck_assert_int_eq(r.status, 400);
    ts_resp_free(&r);
    r = ts_req(&t, "POST", conv_path(id, "ratings"), "{\"rating\":4}", NULL, NULL);
    ck_assert_int_eq(r.status, 204);
    ts_resp_free(&r);
    cJSON *d = store_dashboard(t.a.st, 0, 0);
    ck_assert_int_eq((int)ts_num(cJSON_GetObjectItem(d, "satisfaction"), "count"), 1);
    ck_assert_int_eq((int)ts_num(cJSON_GetObjectItem(d, "answer_feedback"), "count"), 1);
    cJSON_Delete(d);
    ts_app_stop(&t);
}
END_TEST

START_TEST(example_from_unanswered_message) {
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33], cookie[128], csrf[64];
    ts_new_conv(&t, id);
    const char *odd = "my box came flattened like a pancake";
    cJSON *r = ts_say(&t, id, odd);
    ck_assert_str_ne(ts_str(r, "action"), "answer");
    cJSON_Delete(r);
    ts_agent_login(&t, "alice", cookie, csrf);
    ts_resp d = ts_req(&t, "GET", "/api/v1/dashboard", NULL, cookie, NULL);
    ck_assert_int_eq(d.status, 200);
    cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItem(d.json, "unanswered"), 0);
    ck_assert_str_eq(ts_str(u, "text"), odd);
    char body[128];
    snprintf(body, sizeof body, "{\"message\":%ld,\"intent\":\"damaged_item\"}",
             (long)ts_num(u, "message"));
    ts_resp_free(&d);
    ts_resp bad = ts_req(&t, "POST", "/api/v1/kb/examples", "{\"message\":1,\"intent\":\"no_such\"}", cookie, csrf);
    ck_assert_int_ne(bad.status, 200);
    ts_resp_free(&bad);
    unsigned long gen = csbot_hub_generation(t.a.hub);
    ts_resp a = ts_req(&t, "POST", "/api/v1/kb/examples", body, cookie, csrf);
    ck_assert_int_eq(a.status, 200);
    ts_resp_free(&a);
    ck_assert_uint_gt(csbot_hub_generation(t.a.hub), gen);
    /* the file has it, and a new conversation is answered */
    FILE *f = fopen(t.kb, "rb");
    char *text = malloc(1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[n] = '\0';
    ck_assert_ptr_nonnull(strstr(text, odd));
    free(text);
    char id2[33];
    ts_new_conv(&t, id2);
    r = ts_say(&t, id2, odd);
    ck_assert_str_eq(ts_str(r, "intent"), "damaged_item");
    cJSON_Delete(r);
    ts_app_stop(&t);
}
END_TEST

START_TEST(waiters_wake_once) {
    waiters *wt;
    ck_assert_int_eq(waiters_new(&wt), 0);
    int a = 0, b = 0, c = 0;
    int key1, key2;
    waiter w1 = {.key = &key1, .deadline = 100, .wake = count_wake, .ud = &a};
    waiter w2 = {.key = &key1, .deadline = 900, .wake = count_wake, .ud = &b};
    waiter w3 = {.key = &key2, .deadline = 900, .wake = count_wake, .ud = &c};
    waiters_add(wt, &w1);
    waiters_add(wt, &w2);
    waiters_add(wt, &w3);
    ck_assert_int_eq(waiters_wake_expired(wt, 500), 1);
    ck_assert_int_eq(a, 1);
    ck_assert_int_eq(waiters_wake_key(wt, &key1), 1);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(waiters_wake_key(wt, &key1), 0);
    waiters_remove(wt, &w3);
    waiters_remove(wt, &w3);
    ck_assert_int_eq(waiters_count(wt), 0);
    ck_assert_int_eq(c, 0);
    ck_assert_int_eq(a + b, 2);
    /* shutting down: the waiting are woken, nobody may wait again */
    ck_assert_int_eq(waiters_add(wt, &w3), 0);
    ck_assert_int_eq(waiters_close(wt), 1);
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(waiters_add(wt, &w1), -1);
    ck_assert_int_eq(waiters_count(wt), 0);
    ck_assert_int_eq(waiters_remove(wt, &w1), 0);
    waiters_free(wt);
}
END_TEST

Suite *api_suite(void) {
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conversation_in_both_languages);
    tcase_add_test(tc, bad_input_changes_nothing);
    tcase_add_test(tc, unknown_conversations_and_routes);
    tcase_add_test(tc, long_poll_waits_for_the_agent);
    tcase_add_test(tc, agent_flow_with_auth_checks);
    tcase_add_test(tc, restart_continues_the_conversation);
    tcase_add_test(tc, ratings);
    tcase_add_test(tc, example_from_unanswered_message);
    suite_add_tcase(s, tc);
    return s;
}

Suite *wait_suite(void) {
    Suite *s = suite_create("wait");
    TCase *tc = tcase_create("wait");
    tcase_add_test(tc, waiters_wake_once);
    suite_add_tcase(s, tc);
    return s;
}
