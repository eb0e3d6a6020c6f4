/*
 * channel.h - the WeChat channels of csbot-server: an official account
 * (公众号, server/wechat.c) at /wechat and WeCom customer service (微信客服,
 * server/wecom.c) at /wecom. A channel turns WeChat's requests into turns
 * of the same conversations, store and console as the web chat, with the
 * protocol work done by wechat/wx.h. docs/WECHAT-BRIDGE.md says what each
 * request gets.
 */
#ifndef CSBOT_SERVER_CHANNEL_H
#define CSBOT_SERVER_CHANNEL_H

#include <stddef.h>

#include "api.h"
#include "server.h"

typedef struct channel channel;

typedef enum channel_kind { CH_WECHAT = 0, CH_WECOM = 1 } channel_kind;

/* Read the JSON configuration at path and start the channel's workers. */
int channel_open(channel **out, app *a, channel_kind kind, const char *path,
                 char *err, size_t errlen);
/* Finish the queued work and free. */
void channel_close(channel *ch);
/* Answer a request to the channel's path. */
void channel_handle(channel *ch, const api_request *q, api_response *r);

/* An agent's message to conversation cid: sent through the WeChat API
 * when the conversation is a channel's (0), nothing to do for a web one
 * (0), or -1 with WeChat's code (or -1) and the reason. */
int channels_deliver(app *a, const char *cid, const char *text, long *code,
                     char *err, size_t errlen);

#endif
