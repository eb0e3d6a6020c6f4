/*
 * convs.h - the live conversations: a table from conversation id to its
 * csbot_session (restored from the store on first use), and the operations
 * that change a conversation: a customer turn, the "talk to a person"
 * button, an agent's claim, message and resolve, a rating. Each operation
 * runs under the conversation's lock, stores its effect in one transaction,
 * and only then changes the session's state in memory: when the store fails
 * the session is put back as it was, so nothing unacknowledged is kept.
 */
#ifndef CSBOT_SERVER_CONVS_H
#define CSBOT_SERVER_CONVS_H

#include <cjson/cJSON.h>

#include "server.h"

typedef struct conv conv;

/* Outcome codes of the operations (besides 0). */
enum {
    CV_ENOTFOUND = -100, /* no such conversation / ticket */
    CV_ECONFLICT = -101, /* state does not allow it */
    CV_EINPUT = -102,    /* the library refused the input; see err */
    CV_ESTORE = -103,    /* storage failed; nothing changed */
    CV_ENOMEM = -104
};

int convs_new(convs **out, app *a);
void convs_free(convs *cv);

/* Create a conversation; profile may be NULL. id receives 32 hex digits. */
int convs_create(convs *cv, const cJSON *profile, char id[33], char *err,
                 size_t errlen);
/* Look a conversation up (loading it if needed) and take a reference. */
int convs_get(convs *cv, const char *id, conv **out);
void convs_put(convs *cv, conv *c);
/* A shared store's events (store_events): another process changed
 * conversation id (its cached copy is loaded again before the next
 * operation, and its long polls wake), or events may have been missed
 * (every cached conversation is treated so). */
void convs_event(convs *cv, const char *id, long version, long seq);
void convs_reset(convs *cv);
/* Free conversations unused for idle_ms (their state is in the store). */
size_t convs_evict(convs *cv, int64_t idle_ms);
size_t convs_count(convs *cv);

/* Lock and unlock one conversation (for readers such as long polls). */
void conv_lock(conv *c);
void conv_unlock(conv *c);
const char *conv_id(const conv *c);
long conv_seq(const conv *c);       /* under the lock */
/* Under the lock: load the conversation again if another process changed
 * it (shared stores; 0 when nothing was to do). */
int conv_sync(convs *cv, conv *c);
conv_status conv_get_status(const conv *c);

/* What a channel adds to a turn (NULL for the web chat). */
typedef struct turn_opts {
    const char *handoff_status; /* a handoff's ticket status (NULL: "open") */
    const char *msg_channel;    /* the channel's message id, stored with */
    const char *msg_id;         /* the turn (NULL: none) */
} turn_opts;

/* A customer's message. On success *reply is the API's reply object. On
 * CV_EINPUT, *code is the library's error and err its message. */
int conv_turn(convs *cv, conv *c, const char *text, size_t len,
              const turn_opts *o, cJSON **reply, int *code, char *err,
              size_t errlen);
/* A system message in the transcript (e.g. a delivery failure). */
int conv_system_say(convs *cv, conv *c, const char *text, long *seq);
/* The ticket of a handoff to WeChat's own customer service is over (its
 * idle rule, or the servicer ended it): the bot answers again. 0, or
 * CV_ECONFLICT when the conversation is not waiting on such a ticket. */
int conv_handback(convs *cv, conv *c);
long conv_ticket(const conv *c); /* under the lock */
/* The customer's language as last seen (under the lock). */
csbot_lang conv_get_lang(const conv *c);
/* The "talk to a person" button. *out: {"status","ticket","text"}. */
int conv_request_human(convs *cv, conv *c, cJSON **out);
/* Rate turn (0: the whole conversation) 1..5. */
int conv_rate(convs *cv, conv *c, long turn, int rating, char *err,
              size_t errlen);
/* The agent side, for ticket's conversation c. */
int conv_claim(convs *cv, conv *c, long ticket, const char *agent);
int conv_agent_say(convs *cv, conv *c, long ticket, const char *agent,
                   const char *text, long *seq);
int conv_resolve(convs *cv, conv *c, long ticket, const char *agent,
                 const char *note);

#endif
