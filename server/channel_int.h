/*
 * channel_int.h - what server/channel.c (configuration, workers,
 * conversations of a channel's users, the bot's turn, agents' messages)
 * shares with the two protocols built on it, server/wechat.c and
 * server/wecom.c.
 */
#ifndef CSBOT_SERVER_CHANNEL_INT_H
#define CSBOT_SERVER_CHANNEL_INT_H

#include <pthread.h>

#include "channel.h"
#include "convs.h"
#include "wx.h"

enum { CH_WORKERS = 4, CH_MAX_QUEUE = 1024, CH_ID_MAX = 128,
       CH_KEY_MAX = 3 * CH_ID_MAX + 8 /* a dedup key: three ids */ };

typedef enum ch_route { ROUTE_CONSOLE = 0, ROUTE_WECHAT = 1 } ch_route;
typedef enum ch_mode { MODE_PLAIN = 0, MODE_COMPAT = 1, MODE_SAFE = 2 } ch_mode;

/* Work for a worker thread: an official-account message, or a WeCom pull. */
typedef struct ch_job {
    struct ch_job *next;
    char key[CH_KEY_MAX];  /* dedup key (official account) */
    char user[CH_ID_MAX];  /* OpenID (official account) */
    char me[CH_ID_MAX];    /* the account's id, gh_... */
    char kind[16];         /* text, voice, event, image, ... */
    char event[32];
    char *text;            /* the customer's text (may be NULL) */
    char *token;           /* WeCom: the callback's Token */
    char kfid[CH_ID_MAX];  /* WeCom: OpenKfId */
} ch_job;

struct channel {
    app *a;
    channel_kind kind;
    const char *name;      /* "wechat" or "wecom": the store's channel name */
    /* configuration */
    char token[128], appid[CH_ID_MAX], kf_account[CH_ID_MAX], servicer[CH_ID_MAX];
    unsigned char key[WX_KEY_LEN];
    int has_key;
    ch_mode mode;
    ch_route route;
    long budget_ms, max_skew_s, handback_s, delay_ms;
    wx_client *cl;
    char token_key[CH_ID_MAX + 16]; /* the shared token's key (Redis) */
    wx_dedup *dd;
    /* one user, one conversation: lookup-or-create is serialised */
    pthread_mutex_t map_mu;
    /* WeCom: one pull at a time */
    pthread_mutex_t sync_mu;
    /* the workers and their queue */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    ch_job *head, **tail;
    size_t queued;
    int stop;
    pthread_t th[CH_WORKERS];
    size_t nth;
};

/* Queue a job (taken over, also on failure); -1 when the queue is full. */
int ch_submit(channel *ch, ch_job *j);
void ch_job_free(ch_job *j);

/* The conversation of a channel's user, created on first contact
 * (extra: WeCom's open_kfid). A reference the caller puts back. */
conv *ch_user_conv(channel *ch, const char *user, const char *extra);

/* What the bot does with a customer's text. */
typedef enum ch_answer {
    ANS_NONE = 0,     /* nothing to say (stored, or refused) */
    ANS_TEXT = 1,     /* *text */
    ANS_TRANSFER = 2  /* hand to WeChat's own customer service */
} ch_answer;

/* One customer message as a turn (msgid stored with it; NULL: none), with
 * the route's rules: while WeChat's customer service has the conversation
 * the bot stays silent (ANS_TRANSFER again, *out NULL), until handback_s of
 * silence (idle_handback) gives it back. *out is malloc'd: the answer for
 * ANS_TEXT, the handoff text for the ANS_TRANSFER of a new handoff. */
ch_answer ch_turn(channel *ch, conv *c, const char *text, const char *msgid,
                  int idle_handback, char **out);
/* A knowledge-base message ("welcome", "unsupported", "handoff") in the
 * conversation's language (c may be NULL: Simplified Chinese), malloc'd. */
char *ch_kb_message(channel *ch, conv *c, const char *name);

/* Send text to a user through the customer-service API of the channel. */
int ch_send(channel *ch, const char *user, const char *extra, const char *text,
            long *code, char *err, size_t errlen);

/* The protocols. */
void wechat_handle(channel *ch, const api_request *q, api_response *r);
void wechat_job(channel *ch, ch_job *j);
void wecom_handle(channel *ch, const api_request *q, api_response *r);
void wecom_job(channel *ch, ch_job *j);

/* Helpers for both. */
/* Whether s is a usable id (OpenID, MsgId, open_kfid...): not empty, under
 * CH_ID_MAX bytes. */
int ch_id_ok(const char *s);
/* A query parameter of the request, or NULL. */
const char *ch_arg(const api_request *q, const char *name);
/* Answer a refused request (status, the reason as text) and log it. */
void ch_refuse(channel *ch, api_response *r, int status, const char *why);
int ch_timestamp_ok(channel *ch, const char *ts);
void ch_reply(api_response *r, int status, const char *type, const char *body);
/* Decrypt an Encrypt field checked against msg_signature: the plaintext, or
 * NULL with *status and the log message set. */
char *ch_open_envelope(channel *ch, const char *sig, const char *ts,
                       const char *nonce, const char *encrypt, int *status,
                       const char **why);

#endif
