/*
 * wechat.c - the official-account channel (公众号) at /wechat: URL
 * verification, signed (and in safe mode encrypted) messages, each handled
 * once however often WeChat retries it, answered passively within the
 * reply budget or else through message/custom/send, and handoffs by
 * transfer_customer_service. The rules are in docs/WECHAT-BRIDGE.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel_int.h"

/* A passive reply, encrypted with a fresh nonce when the request was. */
static void answer(channel *ch, api_response *r, const char *xml, int encrypted) {
    if (!xml) {
        ch_reply(r, 200, "text/plain; charset=utf-8", "success");
        return;
    }
    if (!encrypted) {
        ch_reply(r, 200, "application/xml; charset=utf-8", xml);
        return;
    }
    char *enc = NULL, *env = NULL, nonce[17], ts[24], sig[41];
    int64_t now = (int64_t)time(NULL);
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    const char *parts[4] = {ch->token, ts, nonce, NULL};
    if (srv_random_hex(nonce, 8) == 0 &&
        wx_encrypt(ch->key, ch->appid, xml, strlen(xml), NULL, &enc) == 0 &&
        (parts[3] = enc, wx_signature(parts, 4, sig) == 0) &&
        (env = wx_xml_encrypted(enc, sig, now, nonce)) != NULL)
        ch_reply(r, 200, "application/xml; charset=utf-8", env);
    else
        ch_reply(r, 200, "text/plain; charset=utf-8", "success");
    free(enc);
    free(env);
}

static void verify_url(channel *ch, const api_request *q, api_response *r) {
    const char *parts[] = {ch->token, ch_arg(q, "timestamp"), ch_arg(q, "nonce")};
    const char *echo = ch_arg(q, "echostr");
    if (!parts[1] || !parts[2] || !echo ||
        !wx_signature_ok(ch_arg(q, "signature"), parts, 3)) {
        ch_refuse(ch, r, 403, "bad signature");
        return;
    }
    ch_reply(r, 200, "text/plain; charset=utf-8", echo);
}

static void copy_field(char *dst, size_t size, const char *s) {
    snprintf(dst, size, "%s", s ? s : "");
}

void wechat_handle(channel *ch, const api_request *q, api_response *r) {
    snprintf(r->route, sizeof r->route, "wechat");
    if (strcmp(q->method, "GET") == 0) {
        verify_url(ch, q, r);
        return;
    }
    if (strcmp(q->method, "POST") != 0) {
        ch_refuse(ch, r, 405, "GET or POST");
        return;
    }
    if (q->body_too_big || q->body_len > WX_MAX_XML) {
        ch_refuse(ch, r, 413, "body too big");
        return;
    }
    const char *ts = ch_arg(q, "timestamp"), *nonce = ch_arg(q, "nonce");
    const char *enc_type = ch_arg(q, "encrypt_type");
    int encrypted = enc_type && strcmp(enc_type, "aes") == 0;
    const char *plain_parts[] = {ch->token, ts ? ts : "", nonce ? nonce : ""};
    if (!ts || !nonce || !wx_signature_ok(ch_arg(q, "signature"), plain_parts, 3)) {
        ch_refuse(ch, r, 403, "bad signature");
        return;
    }
    if (!ch_timestamp_ok(ch, ts)) {
        ch_refuse(ch, r, 403, "timestamp too far from now");
        return;
    }
    if (ch->mode == MODE_SAFE && !encrypted) {
        ch_refuse(ch, r, 403, "safe mode: the message must be encrypted");
        return;
    }
    if (ch->mode == MODE_PLAIN)
        encrypted = 0;
    char err[200];
    wx_fields *outer = NULL, *f = NULL;
    if (wx_xml_parse(q->body, q->body_len, &outer, err, sizeof err)) {
        ch_refuse(ch, r, 400, err);
        return;
    }
    if (encrypted) {
        int status;
        const char *why;
        char *inner = ch_open_envelope(ch, ch_arg(q, "msg_signature"), ts, nonce,
                                       wx_field(outer, "Encrypt"), &status, &why);
        wx_fields_free(outer);
        if (!inner) {
            ch_refuse(ch, r, status, why);
            return;
        }
        int rc = wx_xml_parse(inner, strlen(inner), &f, err, sizeof err);
        free(inner);
        if (rc) {
            ch_refuse(ch, r, 400, err);
            return;
        }
    } else {
        f = outer;
    }
    const char *from = wx_field(f, "FromUserName"), *to = wx_field(f, "ToUserName");
    const char *type = wx_field(f, "MsgType"), *created = wx_field(f, "CreateTime");
    const char *msgid = wx_field(f, "MsgId");
    if (!ch_id_ok(from) || !ch_id_ok(to) || !ch_id_ok(type) || !ch_id_ok(created) ||
        (msgid && !ch_id_ok(msgid))) {
        wx_fields_free(f);
        ch_refuse(ch, r, 400, "not a WeChat message (FromUserName, ToUserName, MsgType, CreateTime)");
        return;
    }
    /* the dedup key: the account, the sender and MsgId (or, for events,
     * the time), so that a retry never gets an answer meant for someone
     * else, whatever ids arrive */
    char key[CH_KEY_MAX];
    int n = msgid ? snprintf(key, sizeof key, "m:%s:%s:%s", to, from, msgid)
                  : snprintf(key, sizeof key, "e:%s:%s:%s", to, from, created);
    if (n < 0 || (size_t)n >= sizeof key) {
        wx_fields_free(f);
        ch_refuse(ch, r, 400, "ids too long");
        return;
    }
    int claim = wx_dedup_claim(ch->dd, key);
    if (claim == WX_FULL) {
        wx_fields_free(f);
        ch_refuse(ch, r, 503, "too many messages in flight");
        return;
    }
    if (claim == WX_FIRST) {
        ch_job *j = calloc(1, sizeof *j);
        const char *text = strcmp(type, "voice") == 0 ? wx_field(f, "Recognition")
                                                      : wx_field(f, "Content");
        if (j) {
            copy_field(j->key, sizeof j->key, key);
            copy_field(j->user, sizeof j->user, from);
            copy_field(j->me, sizeof j->me, to);
            copy_field(j->kind, sizeof j->kind, type);
            copy_field(j->event, sizeof j->event, wx_field(f, "Event"));
            if (text && *text && !(j->text = strdup(text))) {
                ch_job_free(j);
                j = NULL;
            }
        }
        if (!j || ch_submit(ch, j)) {
            /* not taken: a later attempt may try again */
            wx_dedup_done(ch->dd, key, NULL);
            wx_fields_free(f);
            ch_refuse(ch, r, 503, "busy");
            return;
        }
    }
    wx_fields_free(f);
    char *reply = NULL;
    wx_dedup_wait(ch->dd, key, ch->budget_ms, &reply);
    answer(ch, r, reply, encrypted);
    free(reply);
}

/* --- the worker's side ---------------------------------------------------- */

static char *passive(const ch_job *j, ch_answer a, const char *text,
                     const char *kf_account) {
    int64_t now = (int64_t)time(NULL);
    if (a == ANS_TEXT)
        return wx_xml_text(j->user, j->me, now, text);
    if (a == ANS_TRANSFER)
        return wx_xml_transfer(j->user, j->me, now, kf_account);
    return NULL;
}

void wechat_job(channel *ch, ch_job *j) {
    if (ch->delay_ms > 0) {
        struct timespec d = {ch->delay_ms / 1000, (ch->delay_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
    ch_answer a = ANS_NONE;
    char *text = NULL;
    conv *c = NULL;
    int is_text = strcmp(j->kind, "text") == 0 || (strcmp(j->kind, "voice") == 0 && j->text);
    if (strcmp(j->kind, "event") == 0) {
        /* events are never turns and never go to an agent */
        if (strcmp(j->event, "subscribe") == 0 && (text = ch_kb_message(ch, NULL, "welcome")) && *text)
            a = ANS_TEXT;
    } else if (is_text && j->text) {
        int seen = store_channel_seen(ch->a->st, ch->name, j->key);
        if (seen == 0 && (c = ch_user_conv(ch, j->user, "")))
            a = ch_turn(ch, c, j->text, j->key, 1, &text);
        else if (seen > 0)
            srv_log("info", "channel=%s msg=\"a message already taken, not again\"", ch->name);
    } else {
        c = ch_user_conv(ch, j->user, "");
        if ((text = ch_kb_message(ch, c, "unsupported")) && *text)
            a = ANS_TEXT;
    }
    char *xml = passive(j, a, text, ch->kf_account);
    if (a != ANS_NONE && !xml)
        srv_log("error", "channel=%s msg=\"out of memory for a reply\"", ch->name);
    if (wx_dedup_done(ch->dd, j->key, xml) && a != ANS_NONE) {
        /* too late for the passive reply: the customer-service API */
        long code;
        char err[256];
        char *late = a == ANS_TRANSFER ? ch_kb_message(ch, c, "handoff") : NULL;
        if (a == ANS_TEXT || (late && *late))
            ch_send(ch, j->user, "", a == ANS_TEXT ? text : late, &code, err, sizeof err);
        free(late);
    }
    free(xml);
    free(text);
    if (c)
        convs_put(ch->a->cv, c);
}
