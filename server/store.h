/*
 * store.h - the server's durable storage: conversations (with the saved
 * session state), messages, handoff tickets, notes, ratings, agents and their
 * logins, and knowledge-base versions, in one SQLite database in WAL mode.
 *
 * Every function is thread-safe: writes go through one connection under a
 * lock (SQLite has one writer at a time anyway), reads through another, so a
 * dashboard query never delays a turn. A function that fails returns -1 and
 * has changed nothing (each write is one transaction); store_errmsg() says
 * why. Read functions return cJSON values the caller frees.
 *
 * The same functions run on Redis when the store was opened with
 * store_open_redis() (rstore.c): then several server processes share it,
 * and each conversation has a version that every change of its state
 * moves on. A write that depends on the session state names the version it
 * was computed from and fails with STORE_STALE when another process wrote
 * the conversation meanwhile. On SQLite (one process) versions are 0 and
 * never checked.
 */
#ifndef CSBOT_SERVER_STORE_H
#define CSBOT_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct store store;

enum { STORE_NOT_FOUND = 1, STORE_CONFLICT = 2, STORE_ALREADY = 3, STORE_STALE = 4 };

/* Conversation status, as stored and as the API names it. */
typedef enum conv_status { CONV_BOT = 0, CONV_WAITING = 1, CONV_AGENT = 2 } conv_status;
const char *conv_status_name(conv_status st);

int store_open(store **out, const char *path, char *err, size_t errlen);
/* The store on Redis at url (redis://[:PASSWORD@]HOST[:PORT][/DB]). */
int store_open_redis(store **out, const char *url, char *err, size_t errlen);
void store_close(store *st);
/* The last error's text (per thread); store__seterr() sets it (for the
 * backends). */
const char *store_errmsg(void);
void store__seterr(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Whether other processes share the store (Redis). */
int store_shared(const store *st);
/* A shared store's events: another process (or this one) changed a
 * conversation (on_event), or events may have been missed (on_reset). */
typedef struct store_events {
    void (*on_event)(void *ud, const char *conv, long version, long seq);
    void (*on_reset)(void *ud);
    void *ud;
} store_events;
/* Start delivering events (shared stores; 0 and nothing on SQLite). */
int store_subscribe(store *st, const store_events *ev);
/* Small values shared by the processes (shared stores only; -1 on
 * SQLite): get (0, STORE_NOT_FOUND, -1; *ttl_ms the time left), put with a
 * lifetime, and a lock that one process at a time holds (1: taken, 0:
 * someone else holds it; it lapses after ttl_ms). */
int store_value_get(store *st, const char *key, char *buf, size_t size,
                    long *ttl_ms);
int store_value_put(store *st, const char *key, const char *value, long ttl_ms);
int store_lock(store *st, const char *key, long ttl_ms);
int store_unlock(store *st, const char *key);
/* Commands sent to Redis and those that failed (0 and 0 on SQLite). */
void store_redis_calls(const store *st, unsigned long *sent, unsigned long *failed);
/* After a successful write on a shared store: the conversation's version
 * and last seq as that write left them (this thread's last write); 0 and 0
 * on SQLite. */
void store_last_write(const store *st, long *version, long *seq);

/* A conversation row as loaded. state is malloc'd (or NULL). */
typedef struct conv_row {
    int64_t created;
    conv_status status;
    long seq;    /* last message's seq */
    long ticket; /* open (or claimed) handoff ticket, 0 for none */
    char agent[64];
    char lang[8];
    unsigned char *state;
    size_t state_len;
    long version; /* shared stores; 0 on SQLite */
} conv_row;

int store_conv_create(store *st, const char *id, int64_t now,
                      const char *profile_json, const void *state,
                      size_t state_len);
/* 0, STORE_NOT_FOUND, or -1. */
int store_conv_load(store *st, const char *id, conv_row *out);

/* One message to insert. */
typedef struct msg_rec {
    long seq;
    const char *role; /* customer, bot, agent, system */
    const char *text;
    const char *action; /* bot only, else NULL */
    const char *intent; /* may be NULL */
    double confidence;
    const char *lang;
    unsigned turn;
    const char *agent; /* agent only */
} msg_rec;

/* A turn: up to two messages, the new state, and maybe a new handoff. */
typedef struct turn_rec {
    const char *conv;
    int64_t now;
    const msg_rec *msgs;
    size_t nmsgs;
    const void *state;
    size_t state_len;
    conv_status status;
    const char *lang;
    /* handoff (reason != NULL): creates a ticket, returned in *ticket */
    const char *handoff_reason;
    const char *handoff_text;
    const char *handoff_packet;
    /* the ticket's status: NULL is "open" (offered in the console);
     * "wechat" is a handoff to WeChat's own customer service */
    const char *handoff_status;
    /* a channel's message id, stored with the turn (NULL: none); a turn
     * whose id is already there fails */
    const char *msg_channel, *msg_id;
    /* the conversation's version the turn was computed from (shared
     * stores: STORE_STALE when it has moved on) */
    long version;
} turn_rec;

/* Store a turn. Turns from many threads are committed together (group
 * commit), each still all or nothing. */
int store_turn(store *st, const turn_rec *t, long *ticket);
/* Copy the WAL back into the database (the writer's automatic checkpoints
 * are off: the service calls this ten times a second). The copy runs
 * beside the writers; only when the WAL has grown past a bound does it hold
 * them back for the last part, so that the WAL starts over instead of
 * growing for as long as the load lasts. *copied receives the number of
 * WAL frames copied. */
int store_checkpoint(store *st, int *copied);

/* Messages of a conversation with seq > after, oldest first: a JSON array. */
cJSON *store_messages(store *st, const char *conv, long after);

int store_rate(store *st, const char *conv, long turn /* 0 = whole */,
               int rating, int64_t now);

/* Handoffs. */
cJSON *store_queue(store *st, const char *agent, int64_t now);
/* The ticket's conversation id into conv[33]: 0, STORE_NOT_FOUND, -1. */
int store_ticket_conv(store *st, long ticket, char conv[33]);
cJSON *store_ticket(store *st, long ticket);
/* Claim: 0, STORE_ALREADY (this agent has it: nothing changed), STORE_CONFLICT
 * (someone else has it or it is resolved), STORE_NOT_FOUND, -1.
 * Adds the system message with seq and sets the conversation's status. */
int store_claim(store *st, long ticket, const char *conv, const char *agent,
                int64_t now, const msg_rec *sys);
/* An agent's message: 0, STORE_CONFLICT (not this agent's claim), -1. */
int store_agent_message(store *st, long ticket, const char *conv,
                        const char *agent, int64_t now, const msg_rec *m);
int store_note(store *st, long ticket, const char *agent, const char *text,
               int64_t now);
/* Resolve: saves the resumed state, the system message and the status. */
int store_resolve(store *st, long ticket, const char *conv, const char *agent,
                  int64_t now, const msg_rec *sys, const void *state,
                  size_t state_len, const char *note, long version);
long store_open_handoffs(store *st);

/* Agents and their logins. */
int store_agent_add(store *st, const char *name, const char *hash, int64_t now);
/* The stored hash into buf: 0, STORE_NOT_FOUND, -1. */
int store_agent_hash(store *st, const char *name, char *buf, size_t size);
int store_login_add(store *st, const char *token_hash, const char *agent,
                    const char *csrf, int64_t expires);
/* 0 (agent and csrf filled), STORE_NOT_FOUND (unknown or expired), -1. */
int store_login_get(store *st, const char *token_hash, int64_t now,
                    char agent[64], char csrf[64]);
int store_login_del(store *st, const char *token_hash);

/* The dashboard's figures over [since, now]. */
cJSON *store_dashboard(store *st, int64_t since, int utc_offset_minutes);
/* A customer message by id: text and lang into the buffers. */
int store_message_text(store *st, long id, char **text, char lang[8]);
int store_kb_version(store *st, int64_t now, const char *agent,
                     const char *path, const char *json);

/* One more message (a system notice) and the conversation's seq. */
int store_system_message(store *st, const char *conv, int64_t now,
                         const msg_rec *m);
/* Channels (server/wechat.c). A channel's user has one conversation. */
/* 0 (conv filled), STORE_NOT_FOUND, -1. */
int store_channel_conv(store *st, const char *channel, const char *user,
                       char conv[33]);
int store_channel_bind(store *st, const char *channel, const char *user,
                       const char *conv, const char *extra);
/* The channel of a conversation: 0, STORE_NOT_FOUND (a web one), -1. */
int store_channel_of(store *st, const char *conv, char channel[16],
                     char user[128], char extra[128]);
/* Whether a message id was taken as a turn: 1, 0, -1. */
int store_channel_seen(store *st, const char *channel, const char *msgid);
/* When the conversation's last message was stored (ms; 0: none; -1). */
int64_t store_last_message_at(store *st, const char *conv);
/* A pull cursor ("" when none yet). */
int store_cursor_get(store *st, const char *channel, const char *key,
                     char *cursor, size_t size);
int store_cursor_set(store *st, const char *channel, const char *key,
                     const char *cursor);
/* A handoff to WeChat's customer service is over: the ticket resolved,
 * the system message, the resumed state, the status "bot". */
int store_handback(store *st, long ticket, const char *conv, int64_t now,
                   const msg_rec *sys, const void *state, size_t state_len,
                   long version);

#endif
