/*
 * util.c - the test runner of csbot-server's C tests and their shared
 * helpers (tserver.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "convs.h"
#include "metrics.h"
#include "ratelimit.h"
#include "tserver.h"

const char *ts_tmpdir(char *buf, size_t size) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(buf, size, "%s/check_server.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(buf));
    return buf;
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_msg(in && out, "cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

void ts_app_start(ts_app *t, const char *dir) {
    char keep[256] = "";
    if (dir)
        snprintf(keep, sizeof keep, "%s", dir);
    memset(t, 0, sizeof *t);
    if (*keep)
        snprintf(t->dir, sizeof t->dir, "%s", keep);
    else
        ts_tmpdir(t->dir, sizeof t->dir);
    snprintf(t->db, sizeof t->db, "%s/t.db", t->dir);
    snprintf(t->kb, sizeof t->kb, "%s/kb.json", t->dir);
    if (!*keep)
        copy_file(getenv("CSBOT_KB") ? getenv("CSBOT_KB") : "intents/shop.json", t->kb);
    app *a = &t->a;
    a->kbopts = (csbot_kb_options)CSBOT_KB_OPTIONS_INIT;
    a->kb_path = t->kb;
    a->quiet = 1;
    pthread_mutex_init(&a->kb_mu, NULL);
    csbot_kb *kb;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_file(&kb, t->kb, NULL, &err), 0);
    ck_assert_int_eq(csbot_hub_new(&a->hub, kb), 0);
    char msg[256];
    ck_assert_int_eq(auth_init(), 0);
    ck_assert_msg(store_open(&a->st, t->db, msg, sizeof msg) == 0, "%s", msg);
    ck_assert_int_eq(convs_new(&a->cv, a), 0);
    ck_assert_int_eq(waiters_new(&a->wt), 0);
    ck_assert_int_eq(metrics_new(&a->m), 0);
    ck_assert_int_eq(ratelimit_new(&a->rl, 0), 0);
}

void ts_app_stop(ts_app *t) {
    app *a = &t->a;
    convs_free(a->cv);
    store_close(a->st);
    csbot_hub_free(a->hub);
    waiters_free(a->wt);
    metrics_free(a->m);
    ratelimit_free(a->rl);
    pthread_mutex_destroy(&a->kb_mu);
}

ts_resp ts_req(ts_app *t, const char *method, const char *path,
               const char *body, const char *cookie, const char *csrf) {
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    const char *after = NULL, *wait = NULL;
    char *qs = strchr(p, '?');
    if (qs) {
        *qs++ = '\0';
        for (char *kv = strtok(qs, "&"); kv; kv = strtok(NULL, "&")) {
            if (strncmp(kv, "after=", 6) == 0)
                after = kv + 6;
            else if (strncmp(kv, "wait=", 5) == 0)
                wait = kv + 5;
        }
    }
    api_request q = {.method = method, .path = p, .after = after, .wait = wait,
                     .cookie = cookie, .csrf = csrf, .body = body,
                     .body_len = body ? strlen(body) : 0};
    api_response r;
    api_handle(&t->a, &q, &r);
    ts_resp out = {.status = r.status};
    if (r.body && r.type && strstr(r.type, "json"))
        out.json = cJSON_Parse(r.body);
    snprintf(out.cookie, sizeof out.cookie, "%s", r.cookie);
    api_finish(&t->a, &r);
    return out;
}

void ts_resp_free(ts_resp *r) {
    cJSON_Delete(r->json);
    r->json = NULL;
}

const char *ts_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double ts_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", key);
    return v->valuedouble;
}

void ts_new_conv(ts_app *t, char id[33]) {
    ts_resp r = ts_req(t, "POST", "/api/v1/conversations", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(ts_str(r.json, "id"));
    snprintf(id, 33, "%s", ts_str(r.json, "id"));
    ts_resp_free(&r);
}

cJSON *ts_say(ts_app *t, const char *id, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", id);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "text", text);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    ts_resp r = ts_req(t, "POST", path, body, NULL, NULL);
    free(body);
    ck_assert_msg(r.status == 200, "'%s' got %d", text, r.status);
    return r.json;
}

void ts_agent_login(ts_app *t, const char *name, char cookie[128],
                    char csrf[64]) {
    char err[256];
    ck_assert_msg(auth_add_agent(t->a.st, name, "correct horse", err, sizeof err) == 0,
                  "%s", err);
    char body[128];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"password\":\"correct horse\"}", name);
    ts_resp r = ts_req(t, "POST", "/api/v1/agent/login", body, NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    snprintf(csrf, 64, "%s", ts_str(r.json, "csrf"));
    /* "csbot_agent=TOKEN; HttpOnly; ..." */
    ck_assert_msg(strncmp(r.cookie, "csbot_agent=", 12) == 0, "cookie %s", r.cookie);
    ck_assert_ptr_nonnull(strstr(r.cookie, "HttpOnly"));
    ck_assert_ptr_nonnull(strstr(r.cookie, "SameSite=Strict"));
    size_t n = strcspn(r.cookie + 12, ";");
    ck_assert_uint_lt(n, 128);
    memcpy(cookie, r.cookie + 12, n);
    cookie[n] = '\0';
    ts_resp_free(&r);
}

int main(void) {
    SRunner *sr = srunner_create(store_suite());
    srunner_add_suite(sr, api_suite());
    srunner_add_suite(sr, wait_suite());
    srunner_add_suite(sr, faults_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
