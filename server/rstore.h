/*
 * rstore.h - the Redis backend of the store (csbot-server --redis URL):
 * everything several server processes must share, in one Redis. store.c
 * hands each store_* call to the function of the same name here when the
 * store was opened with store_open_redis(); the contracts are those of
 * store.h, plus the conversation version (store.h, STORE_STALE).
 *
 * Each write is one Lua script, run atomically by Redis: one round trip
 * per customer turn. A script that changes a conversation publishes
 * "ID VERSION SEQ" on the channel csbot:ev; the subscriber thread passes
 * each event to the on_event callback, and after it has had to reconnect
 * (events may have been missed) calls on_reset.
 *
 * Connections come from a pool (one per calling thread at a time); a
 * connection that Redis closed is noticed before it is used, so a Redis
 * restart fails only the requests in flight.
 */
#ifndef CSBOT_SERVER_RSTORE_H
#define CSBOT_SERVER_RSTORE_H

#include "store.h"

typedef struct rstore rstore;

/* url: redis://[:PASSWORD@]HOST[:PORT][/DB]. Connects once and loads the
 * scripts, so a wrong address fails here. */
int rstore_open(rstore **out, const char *url, char *err, size_t errlen);
/* Start the subscriber thread (once the callbacks' object exists). */
int rstore_subscribe(rstore *rs, const store_events *ev);
void rstore_close(rstore *rs);

/* The version and last seq of the conversation written by this thread's
 * last successful write. */
void rstore_last_write(long *version, long *seq);
/* Commands sent (round trips) and failed so far. */
void rstore_calls(rstore *rs, unsigned long *sent, unsigned long *failed);

int rstore_conv_create(rstore *rs, const char *id, int64_t now,
                       const char *profile_json, const void *state,
                       size_t state_len);
int rstore_conv_load(rstore *rs, const char *id, conv_row *out);
int rstore_turn(rstore *rs, const turn_rec *t, long *ticket);
cJSON *rstore_messages(rstore *rs, const char *conv, long after);
int rstore_rate(rstore *rs, const char *conv, long turn, int rating, int64_t now);
cJSON *rstore_queue(rstore *rs, const char *agent, int64_t now);
int rstore_ticket_conv(rstore *rs, long ticket, char conv[33]);
cJSON *rstore_ticket(rstore *rs, long ticket);
int rstore_claim(rstore *rs, long ticket, const char *conv, const char *agent,
                 int64_t now, const msg_rec *sys);
int rstore_agent_message(rstore *rs, long ticket, const char *conv,
                         const char *agent, int64_t now, const msg_rec *m);
int rstore_note(rstore *rs, long ticket, const char *agent, const char *text,
                int64_t now);
int rstore_resolve(rstore *rs, long ticket, const char *conv, const char *agent,
                   int64_t now, const msg_rec *sys, const void *state,
                   size_t state_len, const char *note, long version);
long rstore_open_handoffs(rstore *rs);
int rstore_agent_add(rstore *rs, const char *name, const char *hash);
int rstore_agent_hash(rstore *rs, const char *name, char *buf, size_t size);
int rstore_login_add(rstore *rs, const char *token_hash, const char *agent,
                     const char *csrf, int64_t expires);
int rstore_login_get(rstore *rs, const char *token_hash, int64_t now,
                     char agent[64], char csrf[64]);
int rstore_login_del(rstore *rs, const char *token_hash);
cJSON *rstore_dashboard(rstore *rs, int64_t since, int utc_offset_minutes);
int rstore_message_text(rstore *rs, long id, char **text, char lang[8]);
int rstore_kb_version(rstore *rs, int64_t now, const char *agent,
                      const char *path, const char *json);
int rstore_system_message(rstore *rs, const char *conv, int64_t now,
                          const msg_rec *m);
int rstore_channel_conv(rstore *rs, const char *channel, const char *user,
                        char conv[33]);
int rstore_channel_bind(rstore *rs, const char *channel, const char *user,
                        const char *conv, const char *extra);
int rstore_channel_of(rstore *rs, const char *conv, char channel[16],
                      char user[128], char extra[128]);
int rstore_channel_seen(rstore *rs, const char *channel, const char *msgid);
int64_t rstore_last_message_at(rstore *rs, const char *conv);
int rstore_cursor_get(rstore *rs, const char *channel, const char *key,
                      char *cursor, size_t size);
int rstore_cursor_set(rstore *rs, const char *channel, const char *key,
                      const char *cursor);
int rstore_handback(rstore *rs, long ticket, const char *conv, int64_t now,
                    const msg_rec *sys, const void *state, size_t state_len,
                    long version);
int rstore_value_get(rstore *rs, const char *key, char *buf, size_t size,
                     long *ttl_ms);
int rstore_value_put(rstore *rs, const char *key, const char *value, long ttl_ms);
int rstore_lock(rstore *rs, const char *key, long ttl_ms);
int rstore_unlock(rstore *rs, const char *key);

#endif
