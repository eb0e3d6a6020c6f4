/*
 * api.c - the routes of csbot-server (docs/API.md) as plain functions: it
 * parses and checks the request, finds the conversation or the agent's
 * login, calls the operation in convs.c, store.c or kbfile.c, and writes
 * the JSON answer. A request that fails any check gets a 4xx error and
 * changes nothing.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "channel.h"
#include "convs.h"
#include "kbfile.h"
#include "metrics.h"
#include "web.h"

static const char JSON_TYPE[] = "application/json; charset=utf-8";

/* --- responses ------------------------------------------------------------ */

static void set_body(api_response *r, int status, char *body, const char *type) {
    free(r->body);
    r->status = status;
    r->body = body;
    r->len = body ? strlen(body) : 0;
    r->type = type;
}

static void reply_json(api_response *r, int status, cJSON *o) {
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) {
        set_body(r, 500, strdup("{\"error\":{\"code\":\"internal\","
                                "\"message\":\"out of memory\"}}"),
                 JSON_TYPE);
        return;
    }
    set_body(r, status, s, JSON_TYPE);
}

static void reply_error(api_response *r, int status, const char *code,
                        const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    reply_json(r, status, o);
}

static void reply_empty(api_response *r, int status) {
    set_body(r, status, NULL, NULL);
}

static void not_found(api_response *r) {
    reply_error(r, 404, "not_found", "no such resource");
}

static void store_failed(api_response *r) {
    reply_error(r, 503, "unavailable", "storage failed; nothing was changed");
}

/* Map an operation's outcome to an error response. */
static void op_error(api_response *r, int rc, const char *msg) {
    switch (rc) {
    case CV_ENOTFOUND: reply_error(r, 404, "not_found", msg ? msg : "not found"); break;
    case CV_ECONFLICT: reply_error(r, 409, "conflict", msg ? msg : "conflict"); break;
    case CV_EINPUT: reply_error(r, 400, "bad_request", msg ? msg : "bad request"); break;
    case CV_ENOMEM: reply_error(r, 500, "internal", "out of memory"); break;
    default: store_failed(r); break;
    }
}

/* --- requests ------------------------------------------------------------- */

/* Whether valid JSON text has a \u0000 escape in a string: cJSON would
 * decode it into a NUL that cuts the string short. */
static int has_nul_escape(const char *s, size_t n) {
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = s[i] == '"';
        } else if (s[i] == '"') {
            in_string = 0;
        } else if (s[i] == '\\' && i + 1 < n) {
            if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
                return 1;
            i++; /* the escaped character */
        }
    }
    return 0;
}

/* The body as a JSON object; on failure the error is written and NULL
 * returned. An empty body is an empty object when empty_ok. */
static cJSON *body_object(const api_request *q, api_response *r, int empty_ok) {
    if (q->body_too_big) {
        reply_error(r, 413, "too_big", "the request body is over 64 KiB");
        return NULL;
    }
    if (q->body_len == 0 && empty_ok)
        return cJSON_CreateObject();
    if (!srv_valid_utf8(q->body, q->body_len)) {
        reply_error(r, 400, "bad_utf8", "the body is not valid UTF-8");
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(q->body, q->body_len, &end, 0);
    while (o && end && end < q->body + q->body_len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (!o || !cJSON_IsObject(o) || end != q->body + q->body_len) {
        cJSON_Delete(o);
        reply_error(r, 400, "bad_json", "the body is not one JSON object");
        return NULL;
    }
    if (has_nul_escape(q->body, q->body_len)) {
        cJSON_Delete(o);
        reply_error(r, 400, "bad_utf8", "text may not contain NUL");
        return NULL;
    }
    return o;
}

/* A required string member (valid UTF-8, at most max bytes). */
static const char *get_text(const cJSON *o, const char *key, size_t max,
                            api_response *r) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char msg[96];
    if (!cJSON_IsString(v)) {
        snprintf(msg, sizeof msg, "'%s' must be a string", key);
        reply_error(r, 400, "bad_request", msg);
        return NULL;
    }
    size_t n = strlen(v->valuestring);
    if (n > max) {
        snprintf(msg, sizeof msg, "'%s' is over %zu bytes", key, max);
        reply_error(r, 413, "too_big", msg);
        return NULL;
    }
    return v->valuestring;
}

static long parse_long(const char *s, long dflt, long lo, long hi) {
    if (!s || !*s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end)
        return dflt;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Split "/a/b/c" into at most max segments; returns their count, or -1. */
static int split_path(const char *path, char seg[][72], int max) {
    int n = 0;
    const char *p = path;
    while (*p == '/') {
        p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == max || len == 0 || len >= 72)
            return -1;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        p += len;
    }
    return *p ? -1 : n;
}

static int is_method(const api_request *q, const char *m) {
    return strcmp(q->method, m) == 0;
}

static int method_ok(const api_request *q, api_response *r, const char *m) {
    if (is_method(q, m))
        return 1;
    reply_error(r, 405, "method_not_allowed", "method not allowed here");
    return 0;
}

static void route(api_response *r, const char *name) {
    snprintf(r->route, sizeof r->route, "%s", name);
}

/* --- pages and service ---------------------------------------------------- */

static int serve_asset(api_response *r, const char *name, int page) {
    for (size_t i = 0; i < WEB_ASSET_COUNT; i++)
        if (strcmp(WEB_ASSETS[i].name, name) == 0) {
            char *b = malloc(WEB_ASSETS[i].len + 1);
            if (!b)
                return 0;
            memcpy(b, WEB_ASSETS[i].data, WEB_ASSETS[i].len);
            b[WEB_ASSETS[i].len] = '\0';
            free(r->body);
            r->status = 200;
            r->body = b;
            r->len = WEB_ASSETS[i].len;
            r->type = WEB_ASSETS[i].type;
            r->cache = page ? "no-cache" : "public, max-age=300";
            r->page = page;
            return 1;
        }
    return 0;
}

static void healthz(app *a, api_response *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddNumberToObject(o, "generation", (double)csbot_hub_generation(a->hub));
    reply_json(r, 200, o);
}

static void metrics_page(app *a, api_response *r) {
    char *t = metrics_text(a->m, store_open_handoffs(a->st),
                           csbot_hub_generation(a->hub), convs_count(a->cv),
                           waiters_count(a->wt));
    if (t && store_shared(a->st)) {
        /* the round trips to Redis: commands sent, and how many failed */
        unsigned long sent, failed;
        store_redis_calls(a->st, &sent, &failed);
        char more[256];
        int n = snprintf(more, sizeof more,
                         "# TYPE csbot_redis_commands_total counter\n"
                         "csbot_redis_commands_total %lu\n"
                         "# TYPE csbot_redis_failures_total counter\n"
                         "csbot_redis_failures_total %lu\n",
                         sent, failed);
        char *grown = realloc(t, strlen(t) + (size_t)n + 1);
        if (grown)
            strcat(grown, more);
        t = grown ? grown : t;
    }
    if (!t) {
        reply_error(r, 500, "internal", "out of memory");
        return;
    }
    set_body(r, 200, t, "text/plain; version=0.0.4; charset=utf-8");
}

/* --- customers ------------------------------------------------------------ */

static void create_conversation(app *a, const api_request *q, api_response *r) {
    cJSON *o = body_object(q, r, 1);
    if (!o)
        return;
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(o, "profile");
    const cJSON *kv;
    if (profile && !cJSON_IsObject(profile)) {
        reply_error(r, 400, "bad_request", "'profile' must be an object");
        goto out;
    }
    cJSON_ArrayForEach(kv, profile) {
        if (!cJSON_IsString(kv)) {
            reply_error(r, 400, "bad_request", "profile values must be strings");
            goto out;
        }
        if (strcmp(kv->string, "lang") == 0 && strcmp(kv->valuestring, "zh-Hans") &&
            strcmp(kv->valuestring, "zh-Hant") && strcmp(kv->valuestring, "en")) {
            reply_error(r, 400, "bad_request", "profile.lang is zh-Hans, zh-Hant or en");
            goto out;
        }
    }
    char id[33], err[256] = "";
    int rc = convs_create(a->cv, profile, id, err, sizeof err);
    if (rc) {
        op_error(r, rc, err);
        goto out;
    }
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "id", id);
    cJSON_AddStringToObject(res, "status", "bot");
    reply_json(r, 201, res);
out:
    cJSON_Delete(o);
}

static void post_message(app *a, const api_request *q, api_response *r,
                         conv *c) {
    cJSON *o = body_object(q, r, 0);
    if (!o)
        return;
    const char *text = get_text(o, "text", SRV_MAX_TEXT, r);
    if (text) {
        cJSON *reply;
        int code;
        char err[256] = "";
        int rc = conv_turn(a->cv, c, text, strlen(text), NULL, &reply, &code, err,
                           sizeof err);
        if (rc == 0)
            reply_json(r, 200, reply);
        else if (rc == CV_EINPUT)
            reply_error(r, code == CSBOT_ETOOBIG ? 413 : 400,
                        code == CSBOT_EUTF8    ? "bad_utf8"
                        : code == CSBOT_EEMPTY ? "empty"
                        : code == CSBOT_ETOOBIG ? "too_big"
                                                : "bad_request",
                        err);
        else
            op_error(r, rc, err);
    }
    cJSON_Delete(o);
}

/* Messages after ?after=, waiting up to ?wait= seconds for one. */
static void get_messages(app *a, const api_request *q, api_response *r,
                         conv *c, int *held) {
    long after = parse_long(q->after, 0, 0, 1L << 40);
    long wait = parse_long(q->wait, 0, 0, SRV_MAX_WAIT);
    conv_lock(c);
    if (conv_sync(a->cv, c)) {
        conv_unlock(c);
        store_failed(r);
        return;
    }
    if (q->w) {
        q->w->key = c;
        q->w->deadline = srv_now_ms() + wait * 1000;
    }
    /* (once the server is stopping, the list is closed: no waiting) */
    if (conv_seq(c) <= after && wait > 0 && q->w && waiters_add(a->wt, q->w) == 0) {
        conv_unlock(c);
        r->status = 0;
        r->held = c;
        *held = 1;
        return;
    }
    conv_status st = conv_get_status(c);
    conv_unlock(c);
    cJSON *msgs = store_messages(a->st, conv_id(c), after);
    if (!msgs) {
        store_failed(r);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "messages", msgs);
    cJSON_AddStringToObject(o, "status", conv_status_name(st));
    reply_json(r, 200, o);
}

static void get_conversation(app *a, api_response *r, conv *c) {
    conv_row row;
    if (store_conv_load(a->st, conv_id(c), &row)) {
        store_failed(r);
        return;
    }
    free(row.state);
    cJSON *msgs = store_messages(a->st, conv_id(c), 0);
    if (!msgs) {
        store_failed(r);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", conv_id(c));
    cJSON_AddNumberToObject(o, "created", (double)row.created);
    cJSON_AddStringToObject(o, "status", conv_status_name(row.status));
    cJSON_AddStringToObject(o, "lang", row.lang);
    cJSON_AddItemToObject(o, "messages", msgs);
    reply_json(r, 200, o);
}

static void rate(app *a, const api_request *q, api_response *r, conv *c) {
    cJSON *o = body_object(q, r, 0);
    if (!o)
        return;
    const cJSON *rating = cJSON_GetObjectItemCaseSensitive(o, "rating");
    const cJSON *turn = cJSON_GetObjectItemCaseSensitive(o, "turn");
    if (!cJSON_IsNumber(rating) || (turn && !cJSON_IsNumber(turn) && !cJSON_IsNull(turn)) ||
        rating->valuedouble != (double)rating->valueint ||
        (cJSON_IsNumber(turn) && (turn->valuedouble < 1 ||
                                  turn->valuedouble != (double)turn->valueint))) {
        reply_error(r, 400, "bad_request", "'rating' 1 to 5 and an optional 'turn' >= 1");
    } else {
        char err[128] = "";
        int rc = conv_rate(a->cv, c, cJSON_IsNumber(turn) ? turn->valueint : 0,
                           rating->valueint, err, sizeof err);
        if (rc)
            op_error(r, rc, err);
        else
            reply_empty(r, 204);
    }
    cJSON_Delete(o);
}

static void customer_routes(app *a, const api_request *q, api_response *r,
                            char seg[][72], int n) {
    if (n == 3) {
        route(r, "conversations");
        if (method_ok(q, r, "POST"))
            create_conversation(a, q, r);
        return;
    }
    conv *c;
    int rc = convs_get(a->cv, seg[3], &c);
    if (rc) {
        if (rc == CV_ENOTFOUND)
            reply_error(r, 404, "not_found", "no such conversation");
        else
            op_error(r, rc, NULL);
        return;
    }
    int held = 0;
    const char *sub = n > 4 ? seg[4] : "";
    if (n == 4) {
        route(r, "conversation");
        if (method_ok(q, r, "GET"))
            get_conversation(a, r, c);
    } else if (n == 5 && strcmp(sub, "messages") == 0) {
        route(r, "messages");
        if (is_method(q, "POST"))
            post_message(a, q, r, c);
        else if (method_ok(q, r, "GET"))
            get_messages(a, q, r, c, &held);
    } else if (n == 5 && strcmp(sub, "handoff") == 0) {
        route(r, "handoff");
        if (method_ok(q, r, "POST")) {
            cJSON *o;
            rc = conv_request_human(a->cv, c, &o);
            if (rc)
                op_error(r, rc, rc == CV_ECONFLICT
                                    ? "the conversation is already with a person"
                                    : NULL);
            else
                reply_json(r, 200, o);
        }
    } else if (n == 5 && strcmp(sub, "ratings") == 0) {
        route(r, "ratings");
        if (method_ok(q, r, "POST"))
            rate(a, q, r, c);
    } else {
        not_found(r);
    }
    if (!held)
        convs_put(a->cv, c);
}

/* --- agents --------------------------------------------------------------- */

typedef struct agent_ctx {
    char name[64];
    char csrf[64];
} agent_ctx;

/* Whether the request is from a logged-in agent (and, for POST, carries the
 * CSRF token); writes the error otherwise. */
static int require_agent(app *a, const api_request *q, api_response *r,
                         agent_ctx *ag) {
    int rc = auth_check(a->st, q->cookie, ag->name, ag->csrf);
    if (rc == -1) {
        store_failed(r);
        return 0;
    }
    if (rc) {
        reply_error(r, 401, "unauthorized", "log in first");
        return 0;
    }
    if (!is_method(q, "GET") && (!q->csrf || !auth_same(q->csrf, ag->csrf))) {
        reply_error(r, 403, "forbidden", "missing or wrong X-CSRF-Token");
        return 0;
    }
    return 1;
}

static void login(app *a, const api_request *q, api_response *r, int secure) {
    cJSON *o = body_object(q, r, 0);
    if (!o)
        return;
    const char *name = get_text(o, "name", 63, r);
    const char *pw = name ? get_text(o, "password", 1024, r) : NULL;
    if (pw) {
        char token[AUTH_TOKEN_HEX + 1], csrf[AUTH_CSRF_HEX + 1];
        int rc = auth_login(a->st, name, pw, token, csrf);
        if (rc == 1) {
            /* the name is the client's text: log it only if it could be a
             * name, so nothing can forge a log line */
            int plain = 1;
            for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
                    plain = 0;
            srv_log("warn", "msg=\"login refused\" agent=%.63s",
                    plain && *name ? name : "(not a name)");
            reply_error(r, 401, "unauthorized", "wrong name or password");
        } else if (rc) {
            store_failed(r);
        } else {
            snprintf(r->cookie, sizeof r->cookie,
                     "csbot_agent=%s; HttpOnly; SameSite=Strict; Path=/;"
                     " Max-Age=%d%s",
                     token, SRV_LOGIN_HOURS * 3600, secure ? "; Secure" : "");
            cJSON *res = cJSON_CreateObject();
            cJSON_AddStringToObject(res, "name", name);
            cJSON_AddStringToObject(res, "csrf", csrf);
            reply_json(r, 200, res);
        }
    }
    cJSON_Delete(o);
}

/* Find ticket's conversation (taking a reference). */
static conv *ticket_conv(app *a, long ticket, api_response *r) {
    char id[33];
    int rc = ticket > 0 ? store_ticket_conv(a->st, ticket, id) : STORE_NOT_FOUND;
    conv *c = NULL;
    if (rc == 0)
        rc = convs_get(a->cv, id, &c) ? -1 : 0;
    if (rc == STORE_NOT_FOUND)
        reply_error(r, 404, "not_found", "no such ticket");
    else if (rc)
        store_failed(r);
    return c;
}

static void ticket_post(app *a, const api_request *q, api_response *r,
                        const agent_ctx *ag, long ticket, const char *what,
                        conv *c) {
    cJSON *o = body_object(q, r, 1);
    if (!o)
        return;
    int rc;
    if (strcmp(what, "claim") == 0) {
        rc = conv_claim(a->cv, c, ticket, ag->name);
        if (!rc) {
            cJSON *res = cJSON_CreateObject();
            cJSON_AddStringToObject(res, "status", "claimed");
            cJSON_AddStringToObject(res, "agent", ag->name);
            reply_json(r, 200, res);
        } else {
            op_error(r, rc, rc == CV_ECONFLICT ? store_errmsg() : NULL);
        }
    } else if (strcmp(what, "resolve") == 0) {
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(o, "note");
        const char *nt = cJSON_IsString(note) ? note->valuestring : NULL;
        if (nt && strlen(nt) > SRV_MAX_TEXT) {
            reply_error(r, 413, "too_big", "the note is too long");
        } else if ((rc = conv_resolve(a->cv, c, ticket, ag->name, nt)) != 0) {
            op_error(r, rc, rc == CV_ECONFLICT ? "the ticket is not claimed by you" : NULL);
        } else {
            cJSON *res = cJSON_CreateObject();
            cJSON_AddStringToObject(res, "status", "resolved");
            reply_json(r, 200, res);
        }
    } else {
        const char *text = get_text(o, "text", SRV_MAX_TEXT, r);
        if (!text) {
            /* error written */
        } else if (!*text) {
            reply_error(r, 400, "empty", "the text is empty");
        } else if (strcmp(what, "messages") == 0) {
            long seq = 0;
            rc = conv_agent_say(a->cv, c, ticket, ag->name, text, &seq);
            long code = 0;
            char err[300];
            if (rc) {
                op_error(r, rc, rc == CV_ECONFLICT ? store_errmsg() : NULL);
            } else if (channels_deliver(a, conv_id(c), text, &code, err, sizeof err)) {
                /* stored, but WeChat refused it: the agent must know, and
                 * the transcript says so */
                char note[400];
                snprintf(note, sizeof note, "WeChat did not deliver the message: %s", err);
                conv_system_say(a->cv, c, note, &seq);
                cJSON *res = cJSON_CreateObject();
                cJSON *e = cJSON_AddObjectToObject(res, "error");
                cJSON_AddStringToObject(e, "code", "not_delivered");
                cJSON_AddStringToObject(e, "message", note);
                cJSON_AddNumberToObject(e, "errcode", (double)code);
                cJSON_AddNumberToObject(res, "seq", (double)seq);
                reply_json(r, 502, res);
            } else {
                cJSON *res = cJSON_CreateObject();
                cJSON_AddNumberToObject(res, "seq", (double)seq);
                reply_json(r, 200, res);
            }
        } else if (store_note(a->st, ticket, ag->name, text, srv_now_ms())) {
            store_failed(r);
        } else {
            reply_empty(r, 204);
        }
    }
    cJSON_Delete(o);
}

static void handoff_routes(app *a, const api_request *q, api_response *r,
                           const agent_ctx *ag, char seg[][72], int n) {
    long ticket = parse_long(seg[4], -1, -1, 1L << 40);
    if (n == 5) {
        route(r, "ticket");
        if (!method_ok(q, r, "GET"))
            return;
        cJSON *t = ticket > 0 ? store_ticket(a->st, ticket) : NULL;
        if (t)
            reply_json(r, 200, t);
        else
            reply_error(r, 404, "not_found", "no such ticket");
        return;
    }
    const char *what = seg[5];
    if (n != 6 || (strcmp(what, "claim") && strcmp(what, "messages") &&
                   strcmp(what, "notes") && strcmp(what, "resolve"))) {
        not_found(r);
        return;
    }
    route(r, what);
    if (!is_method(q, "POST") && !(strcmp(what, "messages") == 0 && is_method(q, "GET"))) {
        reply_error(r, 405, "method_not_allowed", "method not allowed here");
        return;
    }
    conv *c = ticket_conv(a, ticket, r);
    if (!c)
        return;
    int held = 0;
    if (is_method(q, "GET"))
        get_messages(a, q, r, c, &held);
    else
        ticket_post(a, q, r, ag, ticket, what, c);
    if (!held)
        convs_put(a->cv, c);
}

static void agent_routes(app *a, const api_request *q, api_response *r,
                         char seg[][72], int n, int secure) {
    agent_ctx ag;
    const char *what = n > 3 ? seg[3] : "";
    if (n == 4 && strcmp(what, "login") == 0) {
        route(r, "login");
        if (method_ok(q, r, "POST"))
            login(a, q, r, secure);
        return;
    }
    if (!require_agent(a, q, r, &ag))
        return;
    if (n == 4 && strcmp(what, "me") == 0) {
        route(r, "me");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ag.name);
        cJSON_AddStringToObject(o, "csrf", ag.csrf);
        reply_json(r, 200, o);
    } else if (n == 4 && strcmp(what, "logout") == 0) {
        route(r, "logout");
        if (method_ok(q, r, "POST")) {
            if (auth_logout(a->st, q->cookie))
                store_failed(r);
            else {
                snprintf(r->cookie, sizeof r->cookie,
                         "csbot_agent=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
                reply_empty(r, 204);
            }
        }
    } else if (n == 4 && strcmp(what, "queue") == 0) {
        route(r, "queue");
        if (!method_ok(q, r, "GET"))
            return;
        cJSON *arr = store_queue(a->st, ag.name, srv_now_ms());
        if (!arr) {
            store_failed(r);
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "handoffs", arr);
        reply_json(r, 200, o);
    } else if ((n == 5 || n == 6) && strcmp(what, "handoffs") == 0) {
        handoff_routes(a, q, r, &ag, seg, n);
    } else {
        not_found(r);
    }
}

/* --- dashboard and knowledge base ----------------------------------------- */

static void kb_intents(app *a, api_response *r) {
    unsigned long gen;
    const csbot_kb *kb = csbot_hub_acquire(a->hub, &gen);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "generation", (double)gen);
    cJSON *arr = cJSON_AddArrayToObject(o, "intents");
    for (size_t i = 0; i < csbot_kb_intent_count(kb); i++) {
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "id", csbot_kb_intent_id(kb, i));
        cJSON *t = cJSON_AddObjectToObject(it, "title");
        cJSON_AddStringToObject(t, "zh", csbot_kb_intent_title(kb, i, CSBOT_LANG_ZH_HANS));
        cJSON_AddStringToObject(t, "en", csbot_kb_intent_title(kb, i, CSBOT_LANG_EN));
        cJSON_AddItemToArray(arr, it);
    }
    csbot_hub_release(a->hub, kb);
    reply_json(r, 200, o);
}

static void kb_example(app *a, const api_request *q, api_response *r,
                       const agent_ctx *ag) {
    cJSON *o = body_object(q, r, 0);
    if (!o)
        return;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
    const char *intent = get_text(o, "intent", 128, r);
    char *text = NULL, lang[8] = "";
    if (!intent) {
        /* error written */
    } else if (!cJSON_IsNumber(msg) || !(msg->valuedouble >= 1 && msg->valuedouble <= 1e15)) {
        reply_error(r, 400, "bad_request", "'message' must be a message id");
    } else {
        int rc = store_message_text(a->st, (long)msg->valuedouble, &text, lang);
        if (rc == STORE_NOT_FOUND) {
            reply_error(r, 404, "not_found", "no such customer message");
        } else if (rc) {
            store_failed(r);
        } else {
            cJSON *res;
            char err[1024] = "";
            rc = kb_add_example(a, intent, text, lang, ag->name, &res, err, sizeof err);
            if (rc)
                op_error(r, rc, err);
            else
                reply_json(r, 200, res);
        }
    }
    free(text);
    cJSON_Delete(o);
}

static void manager_routes(app *a, const api_request *q, api_response *r,
                           char seg[][72], int n) {
    agent_ctx ag;
    if (!require_agent(a, q, r, &ag))
        return;
    if (n == 3 && strcmp(seg[2], "dashboard") == 0) {
        route(r, "dashboard");
        if (!method_ok(q, r, "GET"))
            return;
        long days = parse_long(q->days, 30, 1, 3650);
        cJSON *o = store_dashboard(a->st, srv_now_ms() - days * 86400000LL,
                                   a->utc_offset);
        if (o)
            reply_json(r, 200, o);
        else
            store_failed(r);
    } else if (n == 4 && strcmp(seg[3], "intents") == 0) {
        route(r, "kb_intents");
        if (method_ok(q, r, "GET"))
            kb_intents(a, r);
    } else if (n == 4 && strcmp(seg[3], "examples") == 0) {
        route(r, "kb_examples");
        if (method_ok(q, r, "POST"))
            kb_example(a, q, r, &ag);
    } else {
        not_found(r);
    }
}

/* --- the router ----------------------------------------------------------- */

void api_handle(app *a, const api_request *q, api_response *r) {
    memset(r, 0, sizeof *r);
    route(r, "other");
    char seg[8][72];
    int n = split_path(q->path, seg, 8);
    if (n < 0) {
        not_found(r);
        return;
    }
    if (n >= 3 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0) {
        if (strcmp(seg[2], "conversations") == 0 && n <= 5)
            customer_routes(a, q, r, seg, n);
        else if (strcmp(seg[2], "agent") == 0)
            agent_routes(a, q, r, seg, n, 0);
        else if ((strcmp(seg[2], "dashboard") == 0 && n == 3) ||
                 (strcmp(seg[2], "kb") == 0 && n == 4))
            manager_routes(a, q, r, seg, n);
        else
            not_found(r);
        if (!r->cache)
            r->cache = "no-store";
        return;
    }
    if (n == 1 && strcmp(seg[0], "wechat") == 0 && a->wechat) {
        channel_handle(a->wechat, q, r);
        return;
    }
    if (n == 1 && strcmp(seg[0], "wecom") == 0 && a->wecom) {
        channel_handle(a->wecom, q, r);
        return;
    }
    if (!is_method(q, "GET") && !is_method(q, "HEAD")) {
        reply_error(r, 405, "method_not_allowed", "method not allowed here");
        return;
    }
    route(r, "page");
    if (n == 0 && serve_asset(r, "index.html", 1))
        return;
    if (n == 1 && strcmp(seg[0], "agent") == 0 && serve_asset(r, "agent.html", 2))
        return;
    if (n == 1 && strcmp(seg[0], "dashboard") == 0 && serve_asset(r, "dashboard.html", 2))
        return;
    if (n == 1 && strcmp(seg[0], "healthz") == 0) {
        route(r, "healthz");
        healthz(a, r);
        return;
    }
    if (n == 1 && strcmp(seg[0], "metrics") == 0) {
        route(r, "metrics");
        metrics_page(a, r);
        return;
    }
    if (n == 2 && strcmp(seg[0], "static") == 0 && !strstr(seg[1], "..") &&
        strcmp(seg[1], "index.html") && serve_asset(r, seg[1], 0))
        return;
    not_found(r);
}

void api_finish(app *a, api_response *r) {
    if (r->held) {
        convs_put(a->cv, r->held);
        r->held = NULL;
    }
    free(r->body);
    r->body = NULL;
}
