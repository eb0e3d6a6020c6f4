/*
 * server_api.c - fuzzes csbot-server's request handler api_handle()
 * (server/api.c and everything behind it: convs.c, store.c, auth.c,
 * kbfile.c, metrics.c) on one application object set up once, like
 * test/server/util.c's ts_app_start, on a temporary database and a copy of
 * intents/demo.json (or $CSBOT_FUZZ_KB).
 *
 * Input: byte 0 the method, byte 1 flags (cookie and CSRF token: none,
 * a logged-in agent's, a wrong one or empty; a long-poll waiter; the body
 * marked too big; evict conversations afterwards), then the path with an
 * optional ?after=&wait=&days= query up to the first '\n', then the body.
 * In the path, {c} is a conversation made at start (handed off, ticket
 * {t}), {n} the newest conversation and {t} the newest ticket seen.
 * Every answer must have a status in 100..599 (JSON bodies valid JSON), or
 * 0 with the waiter registered: then it is woken and asked again without a
 * waiter, as http.c does, and api_finish() releases everything.
 *
 * Password hashing is made cheap (-Wl,--wrap=crypto_pwhash_str, below) so
 * that login requests do not cost 0.1 s and 64 MB each.
 */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#define CSBOT_FUZZ_SERVER /* common.h's application set-up */
#include "common.h"

int __real_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES],
                             const char *const passwd,
                             unsigned long long passwdlen,
                             unsigned long long opslimit, size_t memlimit);
int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES],
                             const char *const passwd,
                             unsigned long long passwdlen,
                             unsigned long long opslimit, size_t memlimit);

int __wrap_crypto_pwhash_str(char out[crypto_pwhash_STRBYTES],
                             const char *const passwd,
                             unsigned long long passwdlen,
                             unsigned long long opslimit, size_t memlimit) {
    (void)opslimit;
    (void)memlimit;
    return __real_crypto_pwhash_str(out, passwd, passwdlen,
                                    crypto_pwhash_OPSLIMIT_MIN,
                                    crypto_pwhash_MEMLIMIT_MIN);
}

static app A;
static char conv0[33], conv_last[33];
static long ticket0, ticket_last;

typedef struct agent {
    const char *name;
    char cookie[AUTH_TOKEN_HEX + 1];
    char csrf[AUTH_CSRF_HEX + 1];
} agent;
static agent AGENTS[2] = {{"alice", "", ""}, {"bob", "", ""}};
static const char PASSWORD[] = "correct horse";
static const char PROFILE[] = "{\"profile\":{\"name\":\"Li\",\"lang\":\"zh-Hans\"}}";

static void login(agent *ag) {
    FUZZ_CHECK(auth_login(A.st, ag->name, PASSWORD, ag->cookie, ag->csrf) == 0);
}

/* The number under any "ticket" key of a JSON answer. */
static void note_ticket(const cJSON *j) {
    const cJSON *v;
    if (!j)
        return;
    if (j->string && strcmp(j->string, "ticket") == 0 && cJSON_IsNumber(j) &&
        j->valuedouble >= 1)
        ticket_last = (long)j->valuedouble;
    cJSON_ArrayForEach(v, j) note_ticket(v);
}

static void wake(waiter *w) { *(int *)w->ud = 1; }

/* One request the way http.c makes it; checks the answer. */
static int request(const char *method, const char *path, const char *after,
                   const char *wait, const char *days, const char *cookie,
                   const char *csrf, const char *body, size_t body_len,
                   int too_big, int with_waiter) {
    int woken = 0;
    waiter w;
    memset(&w, 0, sizeof w);
    w.wake = wake;
    w.ud = &woken;
    api_request q = {.method = method, .path = path, .after = after,
                     .wait = wait, .days = days, .cookie = cookie,
                     .csrf = csrf, .body = body_len ? body : NULL,
                     .body_len = body_len, .body_too_big = too_big,
                     .w = with_waiter ? &w : NULL};
    api_response r;
    void *held = NULL;
    api_handle(&A, &q, &r);
    if (r.status == 0) {
        FUZZ_CHECK(with_waiter && w.listed && r.held != NULL && r.body == NULL);
        held = r.held;
        r.held = NULL;
        /* what the message or the deadline would do */
        FUZZ_CHECK(waiters_wake_key(A.wt, w.key) >= 1);
        FUZZ_CHECK(woken && !w.listed);
        q.w = NULL;
        api_handle(&A, &q, &r);
        FUZZ_CHECK(r.status != 0);
    }
    FUZZ_CHECK(r.status >= 100 && r.status <= 599);
    FUZZ_CHECK(r.held == NULL);
    FUZZ_CHECK(r.cookie[sizeof r.cookie - 1] == '\0' || memchr(r.cookie, 0, sizeof r.cookie));
    if (r.body) {
        FUZZ_CHECK(r.type != NULL);
        if (strstr(r.type, "json")) {
            FUZZ_CHECK(strlen(r.body) == r.len);
            cJSON *j = cJSON_ParseWithLength(r.body, r.len);
            if (!j)
                fprintf(stderr, "invalid JSON answer: %.2000s\n", r.body);
            FUZZ_CHECK(j != NULL);
            if (r.status == 201) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
                if (cJSON_IsString(id) && strlen(id->valuestring) == 32)
                    memcpy(conv_last, id->valuestring, 33);
            }
            note_ticket(j);
            cJSON_Delete(j);
        }
    } else {
        FUZZ_CHECK(r.len == 0);
    }
    int status = r.status;
    api_finish(&A, &r);
    FUZZ_CHECK(r.body == NULL && r.held == NULL);
    waiters_remove(A.wt, &w);
    if (held) { /* http.c's on_completed */
        api_response done;
        memset(&done, 0, sizeof done);
        done.held = held;
        api_finish(&A, &done);
    }
    return status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_srv_app(&A, "csbot-fuzz");
    char msg[256];
    for (int i = 0; i < 2; i++) {
        FUZZ_CHECK(auth_add_agent(A.st, AGENTS[i].name, PASSWORD, msg, sizeof msg) == 0);
        login(&AGENTS[i]);
    }
    /* a conversation with a few turns, handed off: ticket0 */
    FUZZ_CHECK(request("POST", "/api/v1/conversations", NULL, NULL, NULL, NULL, NULL,
                  PROFILE, strlen(PROFILE), 0, 0) == 201);
    memcpy(conv0, conv_last, sizeof conv0);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv0);
    static const char *const says[] = {"{\"text\":\"你好\"}",
                                       "{\"text\":\"我的订单202411223344到哪了\"}",
                                       "{\"text\":\"can I get an invoice\"}"};
    for (int i = 0; i < 3; i++)
        FUZZ_CHECK(request("POST", path, NULL, NULL, NULL, NULL, NULL, says[i],
                      strlen(says[i]), 0, 0) == 200);
    snprintf(path, sizeof path, "/api/v1/conversations/%s/handoff", conv0);
    FUZZ_CHECK(request("POST", path, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0) == 200);
    ticket0 = ticket_last;
    FUZZ_CHECK(ticket0 > 0);
    return 0;
}

static const char *const METHODS[8] = {"GET", "POST", "HEAD", "PUT",
                                       "DELETE", "PATCH", "OPTIONS", ""};

/* Expand {c}, {n} and {t} in p[0..n) into out. */
static void expand(const uint8_t *p, size_t n, char *out, size_t size) {
    size_t j = 0;
    for (size_t i = 0; i < n && j + 40 < size; i++) {
        if (p[i] == '{' && i + 2 < n && p[i + 2] == '}' &&
            (p[i + 1] == 'c' || p[i + 1] == 'n' || p[i + 1] == 't')) {
            if (p[i + 1] == 'c')
                j += (size_t)snprintf(out + j, size - j, "%s", conv0);
            else if (p[i + 1] == 'n')
                j += (size_t)snprintf(out + j, size - j, "%s", conv_last);
            else
                j += (size_t)snprintf(out + j, size - j, "%ld", ticket_last);
            i += 2;
        } else if (p[i] == 0) {
            out[j++] = '%'; /* MHD's URLs have no NUL */
        } else {
            out[j++] = (char)p[i];
        }
    }
    out[j] = '\0';
}

static unsigned long iterations;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    const char *method = METHODS[data[0] & 7];
    uint8_t flags = data[1];
    const uint8_t *rest = data + 2;
    size_t n = size - 2;
    const uint8_t *nl = memchr(rest, '\n', n);
    size_t plen = nl ? (size_t)(nl - rest) : n;
    const uint8_t *body = nl ? nl + 1 : rest + n;
    size_t blen = nl ? n - plen - 1 : 0;

    char path[1024];
    expand(rest, plen, path, sizeof path);
    const char *after = NULL, *wait = NULL, *days = NULL;
    char *qs = strchr(path, '?');
    if (qs) {
        *qs++ = '\0';
        for (char *kv = qs, *next; kv; kv = next) {
            next = strchr(kv, '&');
            if (next)
                *next++ = '\0';
            if (strncmp(kv, "after=", 6) == 0)
                after = kv + 6;
            else if (strncmp(kv, "wait=", 5) == 0)
                wait = kv + 5;
            else if (strncmp(kv, "days=", 5) == 0)
                days = kv + 5;
        }
    }

    agent *ag = &AGENTS[(flags >> 7) & 1];
    const char *cookie = NULL, *csrf = NULL;
    switch (flags & 3) {
    case 1: {
        char name[64], c[64];
        if (auth_check(A.st, ag->cookie, name, c) != 0)
            login(ag); /* a fuzzed logout ended it */
        cookie = ag->cookie;
        break;
    }
    case 2: cookie = "00000000000000000000000000000000000000000000000000000000000000ff"; break;
    case 3: cookie = ""; break;
    }
    switch ((flags >> 2) & 3) {
    case 1: csrf = ag->csrf; break;
    case 2: csrf = "0123456789abcdef0123456789abcdef"; break;
    case 3: csrf = ""; break;
    }
    /* the body NUL-terminated, as http.c's */
    char *b = malloc(blen + 1);
    FUZZ_CHECK(b != NULL);
    if (blen)
        memcpy(b, body, blen);
    b[blen] = '\0';
    (void)request(method, path, after, wait, days, cookie, csrf, b, blen,
                  (flags >> 5) & 1, (flags >> 4) & 1);
    free(b);
    /* what main.c's loop does now and then, and keep memory bounded */
    if ((flags >> 6) & 1 || ++iterations % 64 == 0)
        convs_evict(A.cv, -1000);
    if (iterations % 256 == 0)
        store_checkpoint(A.st, NULL);
    return 0;
}
