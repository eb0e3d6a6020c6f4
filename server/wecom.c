/*
 * wecom.c - the WeCom customer-service channel (微信客服) at /wecom: the
 * encrypted callback (CorpID in the AppID slot) only says that messages are
 * waiting; a worker pulls them with kf/sync_msg from a cursor kept in the
 * database, makes each customer message one turn (its msgid stored with
 * the turn, so a restart neither loses nor repeats one), answers with
 * kf/send_msg, and hands off with kf/service_state/trans.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_int.h"

enum { MAX_PAGES = 100 };

void wecom_handle(channel *ch, const api_request *q, api_response *r) {
    snprintf(r->route, sizeof r->route, "wecom");
    const char *sig = ch_arg(q, "msg_signature"), *ts = ch_arg(q, "timestamp");
    const char *nonce = ch_arg(q, "nonce");
    int get = strcmp(q->method, "GET") == 0;
    if (!get && strcmp(q->method, "POST") != 0) {
        ch_refuse(ch, r, 405, "GET or POST");
        return;
    }
    if (q->body_too_big || q->body_len > WX_MAX_XML) {
        ch_refuse(ch, r, 413, "body too big");
        return;
    }
    if (!ch_timestamp_ok(ch, ts)) {
        ch_refuse(ch, r, 403, "timestamp too far from now");
        return;
    }
    char err[200];
    const char *encrypt = NULL;
    wx_fields *outer = NULL;
    if (get) {
        encrypt = ch_arg(q, "echostr");
    } else {
        if (wx_xml_parse(q->body, q->body_len, &outer, err, sizeof err)) {
            ch_refuse(ch, r, 400, err);
            return;
        }
        encrypt = wx_field(outer, "Encrypt");
    }
    int status;
    const char *why;
    char *plain = ch_open_envelope(ch, sig, ts, nonce, encrypt, &status, &why);
    wx_fields_free(outer);
    if (!plain) {
        ch_refuse(ch, r, status, why);
        return;
    }
    if (get) { /* URL verification: the decrypted echostr */
        ch_reply(r, 200, "text/plain; charset=utf-8", plain);
        free(plain);
        return;
    }
    wx_fields *f = NULL;
    int rc = wx_xml_parse(plain, strlen(plain), &f, err, sizeof err);
    free(plain);
    if (rc) {
        ch_refuse(ch, r, 400, err);
        return;
    }
    const char *type = wx_field(f, "MsgType"), *event = wx_field(f, "Event");
    const char *token = wx_field(f, "Token"), *kfid = wx_field(f, "OpenKfId");
    if (type && event && strcmp(type, "event") == 0 &&
        strcmp(event, "kf_msg_or_event") == 0) {
        ch_job *j = calloc(1, sizeof *j);
        if (!j || !kfid || !*kfid || strlen(kfid) >= sizeof j->kfid ||
            (token && strlen(token) > 256) || (token && !(j->token = strdup(token)))) {
            ch_job_free(j);
            wx_fields_free(f);
            ch_refuse(ch, r, 400, "kf_msg_or_event without a usable OpenKfId or Token");
            return;
        }
        snprintf(j->kfid, sizeof j->kfid, "%s", kfid);
        snprintf(j->kind, sizeof j->kind, "sync");
        if (ch_submit(ch, j)) {
            wx_fields_free(f);
            ch_refuse(ch, r, 503, "busy");
            return;
        }
    }
    wx_fields_free(f);
    /* the pull runs beside; WeCom wants its answer at once */
    ch_reply(r, 200, "text/plain; charset=utf-8", "success");
}

/* --- the worker's side: pull and answer ---------------------------------- */

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long num_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

/* POST a small JSON object built by the caller; logs a failure. */
static int call(channel *ch, const char *path, cJSON *body, cJSON **resp) {
    char *json = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    long code = -1;
    char err[256] = "out of memory";
    int rc = json ? wx_client_post(ch->cl, path, json, resp, &code, err, sizeof err) : -1;
    free(json);
    if (rc)
        srv_log("warn", "channel=%s api=%s msg=\"%s\"", ch->name, path, err);
    return rc;
}

static void hand_over(channel *ch, const char *user, const char *kfid) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "open_kfid", kfid);
    cJSON_AddStringToObject(b, "external_userid", user);
    cJSON_AddNumberToObject(b, "service_state", *ch->servicer ? 3 : 2);
    if (*ch->servicer)
        cJSON_AddStringToObject(b, "servicer_userid", ch->servicer);
    call(ch, "/cgi-bin/kf/service_state/trans", b, NULL);
}

static void on_event(channel *ch, const cJSON *ev) {
    const char *type = str_of(ev, "event_type");
    const char *user = str_of(ev, "external_userid"), *kfid = str_of(ev, "open_kfid");
    if (!type || !ch_id_ok(user) || !ch_id_ok(kfid))
        return;
    if (strcmp(type, "session_status_change") == 0 && num_of(ev, "change_type") == 3) {
        /* the servicer ended the session: the bot answers again */
        char id[33];
        conv *c;
        if (store_channel_conv(ch->a->st, ch->name, user, id) == 0 &&
            convs_get(ch->a->cv, id, &c) == 0) {
            if (conv_handback(ch->a->cv, c) == 0)
                srv_log("info", "channel=%s conv=%.8s msg=\"servicer ended the session\"",
                        ch->name, id);
            convs_put(ch->a->cv, c);
        }
    } else if (strcmp(type, "enter_session") == 0 && str_of(ev, "welcome_code")) {
        char *w = ch_kb_message(ch, NULL, "welcome");
        if (w && *w) {
            cJSON *b = cJSON_CreateObject();
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "code", str_of(ev, "welcome_code"));
            cJSON_AddStringToObject(b, "msgtype", "text");
            cJSON_AddStringToObject(t, "content", w);
            cJSON_AddItemToObject(b, "text", t);
            call(ch, "/cgi-bin/kf/send_msg_on_event", b, NULL);
        }
        free(w);
    }
}

static void on_message(channel *ch, const cJSON *m) {
    const char *msgid = str_of(m, "msgid"), *type = str_of(m, "msgtype");
    const char *user = str_of(m, "external_userid"), *kfid = str_of(m, "open_kfid");
    if (type && strcmp(type, "event") == 0) {
        on_event(ch, cJSON_GetObjectItemCaseSensitive(m, "event"));
        return;
    }
    /* only the customer's own messages (3); not the servicer's (5) */
    if (num_of(m, "origin") != 3 || !ch_id_ok(msgid) || !ch_id_ok(user) || !ch_id_ok(kfid) || !type)
        return;
    if (store_channel_seen(ch->a->st, ch->name, msgid) != 0)
        return; /* taken before (a pull repeated after a restart), or no db */
    conv *c = ch_user_conv(ch, user, kfid);
    if (!c)
        return;
    const char *text = strcmp(type, "text") == 0
                           ? str_of(cJSON_GetObjectItemCaseSensitive(m, "text"), "content")
                           : NULL;
    char *out = NULL;
    long code;
    char err[256];
    if (text && *text) {
        ch_answer a = ch_turn(ch, c, text, msgid, 0, &out);
        if (a == ANS_TEXT) {
            ch_send(ch, user, kfid, out, &code, err, sizeof err);
        } else if (a == ANS_TRANSFER && out) {
            /* the bot says it is handing over (still allowed in state 1),
             * then hands over; later messages stay silent */
            ch_send(ch, user, kfid, out, &code, err, sizeof err);
            hand_over(ch, user, kfid);
        }
    } else {
        conv_lock(c);
        int bot = conv_get_status(c) == CONV_BOT;
        conv_unlock(c);
        if (bot && (out = ch_kb_message(ch, c, "unsupported")) && *out)
            ch_send(ch, user, kfid, out, &code, err, sizeof err);
    }
    free(out);
    convs_put(ch->a->cv, c);
}

void wecom_job(channel *ch, ch_job *j) {
    char cursor[256];
    pthread_mutex_lock(&ch->sync_mu);
    if (store_cursor_get(ch->a->st, ch->name, j->kfid, cursor, sizeof cursor)) {
        srv_log("error", "channel=%s msg=\"cannot read the cursor: %s\"", ch->name,
                store_errmsg());
        pthread_mutex_unlock(&ch->sync_mu);
        return;
    }
    for (int page = 0; page < MAX_PAGES; page++) {
        cJSON *b = cJSON_CreateObject();
        if (*cursor)
            cJSON_AddStringToObject(b, "cursor", cursor);
        if (j->token)
            cJSON_AddStringToObject(b, "token", j->token);
        cJSON_AddNumberToObject(b, "limit", 1000);
        cJSON_AddStringToObject(b, "open_kfid", j->kfid);
        cJSON *resp = NULL;
        if (call(ch, "/cgi-bin/kf/sync_msg", b, &resp))
            break;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(resp, "msg_list");
        const cJSON *m;
        cJSON_ArrayForEach(m, list) on_message(ch, m);
        /* the cursor moves only after the page's messages are taken */
        const char *next = str_of(resp, "next_cursor");
        if (next && *next && strlen(next) < sizeof cursor && strcmp(next, cursor) != 0) {
            if (store_cursor_set(ch->a->st, ch->name, j->kfid, next))
                srv_log("error", "channel=%s msg=\"cannot store the cursor: %s\"",
                        ch->name, store_errmsg());
            snprintf(cursor, sizeof cursor, "%s", next);
        }
        int more = num_of(resp, "has_more") == 1;
        cJSON_Delete(resp);
        if (!more)
            break;
    }
    pthread_mutex_unlock(&ch->sync_mu);
}
