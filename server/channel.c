/*
 * channel.c - what the WeChat channels share: their JSON configuration,
 * the worker threads that run the bot beside the HTTP threads (so that a
 * request can give up waiting and answer "success" in time), the one
 * conversation of each channel user, the bot's turn under the handoff
 * route's rules, and the delivery of agents' messages through the
 * customer-service API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "channel_int.h"

/* The access token in the shared store (wx_token_cache). */
static int token_get(void *ud, char *buf, size_t size, long *ttl_ms) {
    channel *ch = ud;
    int rc = store_value_get(ch->a->st, ch->token_key, buf, size, ttl_ms);
    return rc == STORE_NOT_FOUND ? 1 : rc;
}

static int token_put(void *ud, const char *token, long ttl_ms) {
    channel *ch = ud;
    return store_value_put(ch->a->st, ch->token_key, token, ttl_ms);
}

static int token_lock(void *ud, int take) {
    channel *ch = ud;
    return take ? store_lock(ch->a->st, ch->token_key, 10000)
                : store_unlock(ch->a->st, ch->token_key);
}

/* --- configuration -------------------------------------------------------- */

static char *read_all(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    int more = buf && fgetc(f) != EOF;
    fclose(f);
    if (!buf || more) {
        free(buf);
        snprintf(err, errlen, "%s: %s", path, buf ? "over 64 KiB" : "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int get_str(const cJSON *o, const char *key, char *out, size_t size,
                   int required, const char *path, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) {
            snprintf(err, errlen, "%s: \"%s\" is missing", path, key);
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= size) {
        snprintf(err, errlen, "%s: \"%s\" must be a string under %zu bytes", path,
                 key, size);
        return -1;
    }
    snprintf(out, size, "%s", v->valuestring);
    return 0;
}

static int get_num(const cJSON *o, const char *key, long *out, long lo, long hi,
                   const char *path, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
        snprintf(err, errlen, "%s: \"%s\" must be a number in %ld..%ld", path, key,
                 lo, hi);
        return -1;
    }
    *out = (long)v->valuedouble;
    return 0;
}

static int configure(channel *ch, const char *path, char *err, size_t errlen) {
    static const char *const known[] = {
        "token", "aes_key", "appid", "corpid", "secret", "mode", "route",
        "api_base", "kf_account", "servicer", "reply_budget_ms", "max_skew_s",
        "handback_s", "delay_ms", NULL};
    char *text = read_all(path, err, errlen);
    if (!text)
        return -1;
    cJSON *o = cJSON_Parse(text);
    free(text);
    int rc = -1;
    char aes[64] = "", secret[256] = "", mode[16] = "", route[16] = "", base[512] = "";
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "%s: not a JSON object", path);
        goto done;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], kv->string) != 0)
            i++;
        if (!known[i]) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", path, kv->string);
            goto done;
        }
    }
    int wecom = ch->kind == CH_WECOM;
    const char *idkey = wecom && cJSON_GetObjectItemCaseSensitive(o, "corpid") ? "corpid" : "appid";
    ch->budget_ms = 4000;
    ch->max_skew_s = 300;
    ch->handback_s = 1800;
    if (get_str(o, "token", ch->token, sizeof ch->token, 1, path, err, errlen) ||
        get_str(o, idkey, ch->appid, sizeof ch->appid, 1, path, err, errlen) ||
        get_str(o, "secret", secret, sizeof secret, 1, path, err, errlen) ||
        get_str(o, "aes_key", aes, sizeof aes, 0, path, err, errlen) ||
        get_str(o, "mode", mode, sizeof mode, 0, path, err, errlen) ||
        get_str(o, "route", route, sizeof route, 0, path, err, errlen) ||
        get_str(o, "api_base", base, sizeof base, 0, path, err, errlen) ||
        get_str(o, "kf_account", ch->kf_account, sizeof ch->kf_account, 0, path, err, errlen) ||
        get_str(o, "servicer", ch->servicer, sizeof ch->servicer, 0, path, err, errlen) ||
        get_num(o, "reply_budget_ms", &ch->budget_ms, 0, 4800, path, err, errlen) ||
        get_num(o, "max_skew_s", &ch->max_skew_s, 1, 86400, path, err, errlen) ||
        get_num(o, "handback_s", &ch->handback_s, 1, 86400 * 2, path, err, errlen) ||
        get_num(o, "delay_ms", &ch->delay_ms, 0, 60000, path, err, errlen))
        goto done;
    if (!*ch->token || !*ch->appid || !*secret) {
        snprintf(err, errlen, "%s: token, %s and secret must not be empty", path, idkey);
        goto done;
    }
    if (!*mode || strcmp(mode, "safe") == 0)
        ch->mode = MODE_SAFE;
    else if (strcmp(mode, "compat") == 0)
        ch->mode = MODE_COMPAT;
    else if (strcmp(mode, "plain") == 0 && !wecom)
        ch->mode = MODE_PLAIN;
    else {
        snprintf(err, errlen, "%s: \"mode\" must be %s", path,
                 wecom ? "\"safe\" (WeCom encrypts every callback)"
                       : "\"plain\", \"compat\" or \"safe\"");
        goto done;
    }
    if (!*route || strcmp(route, "console") == 0)
        ch->route = ROUTE_CONSOLE;
    else if (strcmp(route, "wechat") == 0)
        ch->route = ROUTE_WECHAT;
    else {
        snprintf(err, errlen, "%s: \"route\" must be \"wechat\" or \"console\"", path);
        goto done;
    }
    if (*aes) {
        if (wx_key_decode(aes, ch->key)) {
            snprintf(err, errlen, "%s: \"aes_key\" must be 43 letters and digits", path);
            goto done;
        }
        ch->has_key = 1;
    } else if (ch->mode != MODE_PLAIN) {
        snprintf(err, errlen, "%s: \"aes_key\" is needed for encrypted messages", path);
        goto done;
    }
    if (!*base)
        snprintf(base, sizeof base, "%s",
                 wecom ? "https://qyapi.weixin.qq.com" : "https://api.weixin.qq.com");
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        snprintf(err, errlen, "%s: \"api_base\" must be an http(s) URL", path);
        goto done;
    }
    ch->cl = wx_client_new(wecom ? WX_WECOM : WX_OFFICIAL, base, ch->appid, secret, 5000);
    if (!ch->cl) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (store_shared(ch->a->st)) {
        /* one access token for every process (WeChat allows few fetches
         * a day, and a new one ends the old one's life) */
        snprintf(ch->token_key, sizeof ch->token_key, "wxtoken:%s:%s", ch->name,
                 ch->appid);
        wx_token_cache tc = {token_get, token_put, token_lock, ch};
        wx_client_share_token(ch->cl, &tc);
    }
    rc = 0;
done:
    memset(secret, 0, sizeof secret);
    cJSON_Delete(o);
    return rc;
}

/* --- workers -------------------------------------------------------------- */

void ch_job_free(ch_job *j) {
    if (!j)
        return;
    free(j->text);
    free(j->token);
    free(j);
}

static void *worker(void *p) {
    channel *ch = p;
    pthread_mutex_lock(&ch->qmu);
    for (;;) {
        while (!ch->head && !ch->stop)
            pthread_cond_wait(&ch->qcv, &ch->qmu);
        ch_job *j = ch->head;
        if (!j)
            break; /* stopping, and the queue is empty */
        ch->head = j->next;
        if (!ch->head)
            ch->tail = &ch->head;
        ch->queued--;
        pthread_mutex_unlock(&ch->qmu);
        if (ch->kind == CH_WECOM)
            wecom_job(ch, j);
        else
            wechat_job(ch, j);
        ch_job_free(j);
        pthread_mutex_lock(&ch->qmu);
    }
    pthread_mutex_unlock(&ch->qmu);
    return NULL;
}

int ch_submit(channel *ch, ch_job *j) {
    pthread_mutex_lock(&ch->qmu);
    int ok = !ch->stop && ch->queued < CH_MAX_QUEUE;
    if (ok) {
        j->next = NULL;
        *ch->tail = j;
        ch->tail = &j->next;
        ch->queued++;
        pthread_cond_signal(&ch->qcv);
    }
    pthread_mutex_unlock(&ch->qmu);
    if (!ok)
        ch_job_free(j);
    return ok ? 0 : -1;
}

int channel_open(channel **out, app *a, channel_kind kind, const char *path,
                 char *err, size_t errlen) {
    *out = NULL;
    channel *ch = calloc(1, sizeof *ch);
    if (!ch) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ch->a = a;
    ch->kind = kind;
    ch->name = kind == CH_WECOM ? "wecom" : "wechat";
    pthread_mutex_init(&ch->map_mu, NULL);
    pthread_mutex_init(&ch->sync_mu, NULL);
    pthread_mutex_init(&ch->qmu, NULL);
    pthread_cond_init(&ch->qcv, NULL);
    ch->tail = &ch->head;
    /* keys live for a minute: WeChat's three attempts take 15 s */
    if (configure(ch, path, err, errlen) || !(ch->dd = wx_dedup_new(4096, 60000))) {
        if (!*err)
            snprintf(err, errlen, "out of memory");
        channel_close(ch);
        return -1;
    }
    for (; ch->nth < CH_WORKERS; ch->nth++)
        if (pthread_create(&ch->th[ch->nth], NULL, worker, ch)) {
            snprintf(err, errlen, "cannot start a worker thread");
            channel_close(ch);
            return -1;
        }
    *out = ch;
    return 0;
}

void channel_close(channel *ch) {
    if (!ch)
        return;
    pthread_mutex_lock(&ch->qmu);
    ch->stop = 1;
    pthread_cond_broadcast(&ch->qcv);
    pthread_mutex_unlock(&ch->qmu);
    for (size_t i = 0; i < ch->nth; i++)
        pthread_join(ch->th[i], NULL);
    while (ch->head) {
        ch_job *j = ch->head;
        ch->head = j->next;
        ch_job_free(j);
    }
    wx_dedup_free(ch->dd);
    wx_client_free(ch->cl);
    memset(ch->token, 0, sizeof ch->token);
    memset(ch->key, 0, sizeof ch->key);
    pthread_cond_destroy(&ch->qcv);
    pthread_mutex_destroy(&ch->qmu);
    pthread_mutex_destroy(&ch->sync_mu);
    pthread_mutex_destroy(&ch->map_mu);
    free(ch);
}

void channel_handle(channel *ch, const api_request *q, api_response *r) {
    if (ch->kind == CH_WECOM)
        wecom_handle(ch, q, r);
    else
        wechat_handle(ch, q, r);
}

/* --- conversations -------------------------------------------------------- */

conv *ch_user_conv(channel *ch, const char *user, const char *extra) {
    char id[33];
    conv *c = NULL;
    pthread_mutex_lock(&ch->map_mu);
    int rc = store_channel_conv(ch->a->st, ch->name, user, id);
    if (rc == 0 && convs_get(ch->a->cv, id, &c) == 0)
        goto done;
    if (rc < 0)
        goto done;
    /* first contact: the agent sees where the customer came from */
    cJSON *profile = cJSON_CreateObject();
    char err[200];
    if (profile && cJSON_AddStringToObject(profile, "channel", ch->name) &&
        cJSON_AddStringToObject(profile, ch->kind == CH_WECOM ? "external_userid" : "openid", user) &&
        convs_create(ch->a->cv, profile, id, err, sizeof err) == 0 &&
        store_channel_bind(ch->a->st, ch->name, user, id, extra) == 0)
        convs_get(ch->a->cv, id, &c);
    cJSON_Delete(profile);
done:
    pthread_mutex_unlock(&ch->map_mu);
    if (!c)
        srv_log("error", "channel=%s msg=\"no conversation for a user: %s\"", ch->name,
                store_errmsg());
    return c;
}

char *ch_kb_message(channel *ch, conv *c, const char *name) {
    csbot_lang lang = CSBOT_LANG_ZH_HANS;
    if (c) {
        conv_lock(c);
        lang = conv_get_lang(c);
        conv_unlock(c);
    }
    const csbot_kb *kb = csbot_hub_acquire(ch->a->hub, NULL);
    const char *m = kb ? csbot_kb_message(kb, name, lang) : NULL;
    char *out = strdup(m ? m : "");
    csbot_hub_release(ch->a->hub, kb);
    return out;
}

ch_answer ch_turn(channel *ch, conv *c, const char *text, const char *msgid,
                  int idle_handback, char **out) {
    *out = NULL;
    conv_lock(c);
    conv_status st = conv_get_status(c);
    long ticket = conv_ticket(c);
    conv_unlock(c);
    /* WeChat's customer service has it (only that route's tickets have no
     * agent of ours: conv_handback refuses the others) */
    int theirs = ch->route == ROUTE_WECHAT && st != CONV_BOT && ticket > 0;
    if (theirs && idle_handback) {
        int64_t last = store_last_message_at(ch->a->st, conv_id(c));
        if (last >= 0 && srv_now_ms() - last >= ch->handback_s * 1000 &&
            conv_handback(ch->a->cv, c) == 0) {
            srv_log("info", "channel=%s conv=%.8s msg=\"handed back to the bot after %lds idle\"",
                    ch->name, conv_id(c), ch->handback_s);
            theirs = 0;
        }
    }
    turn_opts o = {.handoff_status = ch->route == ROUTE_WECHAT ? "wechat" : NULL,
                   .msg_channel = msgid ? ch->name : NULL,
                   .msg_id = msgid};
    cJSON *reply = NULL;
    int code;
    char err[256];
    int rc = conv_turn(ch->a->cv, c, text, strlen(text), &o, &reply, &code, err, sizeof err);
    if (rc) {
        srv_log("warn", "channel=%s conv=%.8s msg=\"turn refused: %s\"", ch->name,
                conv_id(c), rc == CV_EINPUT ? err : "storage or memory");
        return ANS_NONE;
    }
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(reply, "action");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(reply, "text");
    const char *act = cJSON_IsString(action) ? action->valuestring : "";
    ch_answer ans = ANS_NONE;
    if (theirs) {
        ans = ANS_TRANSFER; /* again: no text */
    } else if (ch->route == ROUTE_WECHAT && strcmp(act, "handoff") == 0) {
        ans = ANS_TRANSFER;
        if (cJSON_IsString(t) && *t->valuestring)
            *out = strdup(t->valuestring); /* the handoff text, for WeCom */
    } else if (strcmp(act, "silent") != 0 && cJSON_IsString(t) && *t->valuestring) {
        /* an agent of ours has it (silent): the agent answers */
        *out = strdup(t->valuestring);
        ans = *out ? ANS_TEXT : ANS_NONE;
    }
    cJSON_Delete(reply);
    return ans;
}

/* --- the customer-service API -------------------------------------------- */

int ch_send(channel *ch, const char *user, const char *extra, const char *text,
            long *code, char *err, size_t errlen) {
    cJSON *o = cJSON_CreateObject();
    cJSON *t = cJSON_CreateObject();
    if (!o || !t || !cJSON_AddStringToObject(o, "touser", user) ||
        (ch->kind == CH_WECOM && !cJSON_AddStringToObject(o, "open_kfid", extra)) ||
        !cJSON_AddStringToObject(o, "msgtype", "text") ||
        !cJSON_AddStringToObject(t, "content", text)) {
        cJSON_Delete(o);
        cJSON_Delete(t);
        *code = -1;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cJSON_AddItemToObject(o, "text", t);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    const char *path = ch->kind == CH_WECOM ? "/cgi-bin/kf/send_msg" : "/cgi-bin/message/custom/send";
    if (!body) {
        *code = -1;
        snprintf(err, errlen, "out of memory");
    }
    int rc = body ? wx_client_post(ch->cl, path, body, NULL, code, err, errlen) : -1;
    free(body);
    if (rc)
        srv_log("warn", "channel=%s api=%s msg=\"send failed: %s\"", ch->name, path, err);
    return rc;
}

int channels_deliver(app *a, const char *cid, const char *text, long *code,
                     char *err, size_t errlen) {
    char name[16], user[128], extra[128];
    *code = 0;
    int rc = store_channel_of(a->st, cid, name, user, extra);
    if (rc == STORE_NOT_FOUND)
        return 0; /* the web chat's: it reads the message itself */
    if (rc) {
        *code = -1;
        snprintf(err, errlen, "%s", store_errmsg());
        return -1;
    }
    channel *ch = strcmp(name, "wecom") == 0 ? a->wecom : a->wechat;
    if (!ch || strcmp(ch->name, name) != 0) {
        *code = -1;
        snprintf(err, errlen, "the %s channel is not enabled in this server", name);
        return -1;
    }
    return ch_send(ch, user, extra, text, code, err, errlen);
}

/* --- helpers -------------------------------------------------------------- */

int ch_id_ok(const char *s) {
    return s && *s && strlen(s) < CH_ID_MAX;
}

const char *ch_arg(const api_request *q, const char *name) {
    return q->arg ? q->arg(q->arg_ctx, name) : NULL;
}

void ch_refuse(channel *ch, api_response *r, int status, const char *why) {
    srv_log("warn", "channel=%s msg=\"request refused: %s\"", ch->name, why);
    ch_reply(r, status, "text/plain; charset=utf-8", why);
}

int ch_timestamp_ok(channel *ch, const char *ts) {
    if (!ts || !*ts || strlen(ts) > 12)
        return 0;
    char *end;
    long long t = strtoll(ts, &end, 10);
    if (*end)
        return 0;
    long long now = (long long)time(NULL);
    return t >= now - ch->max_skew_s && t <= now + ch->max_skew_s;
}

void ch_reply(api_response *r, int status, const char *type, const char *body) {
    r->status = status;
    r->type = type;
    r->cache = "no-store";
    r->len = strlen(body);
    r->body = malloc(r->len + 1);
    if (r->body)
        memcpy(r->body, body, r->len + 1);
    else
        r->status = 500, r->len = 0;
}

char *ch_open_envelope(channel *ch, const char *sig, const char *ts,
                       const char *nonce, const char *encrypt, int *status,
                       const char **why) {
    *status = 403;
    if (!ch->has_key) {
        *why = "encrypted message but no aes_key";
        return NULL;
    }
    const char *parts[] = {ch->token, ts ? ts : "", nonce ? nonce : "", encrypt ? encrypt : ""};
    if (!sig || !ts || !nonce || !encrypt || !wx_signature_ok(sig, parts, 4)) {
        *why = "bad msg_signature";
        return NULL;
    }
    char *msg, *appid;
    size_t len;
    if (wx_decrypt(ch->key, encrypt, &msg, &len, &appid)) {
        *status = 400;
        *why = "cannot decrypt";
        return NULL;
    }
    int mine = strcmp(appid, ch->appid) == 0;
    free(appid);
    if (!mine || strlen(msg) != len) {
        free(msg);
        *why = mine ? "NUL byte in the message" : "wrong AppID in the message";
        return NULL;
    }
    return msg;
}
