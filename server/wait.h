/*
 * wait.h - long polls waiting for a conversation's next message. A request
 * that finds nothing new registers a waiter (under the conversation's lock,
 * so a message stored after the check always finds it) and the HTTP layer
 * suspends the connection; a new message, the deadline or shutdown wakes it
 * through its wake callback, and the request then answers with what there is.
 */
#ifndef CSBOT_SERVER_WAIT_H
#define CSBOT_SERVER_WAIT_H

#include <stdint.h>

typedef struct waiter waiter;
struct waiter {
    const void *key;  /* the conversation */
    int64_t deadline; /* ms */
    void (*wake)(waiter *w);
    void *ud;         /* the wake callback's */
    int listed;
    waiter *prev, *next;
};

typedef struct waiters waiters;

int waiters_new(waiters **out);
void waiters_free(waiters *wt);
/* Register w; -1 (and nothing registered) once the list is closed. */
int waiters_add(waiters *wt, waiter *w);
/* Take w off the list if it is still there (a finished request); whether
 * it was. */
int waiters_remove(waiters *wt, waiter *w);
/* Wake (and take off the list) every waiter of key / past its deadline.
 * Returns how many were woken. */
int waiters_wake_key(waiters *wt, const void *key);
int waiters_wake_expired(waiters *wt, int64_t now);
/* Shutdown: wake everybody and refuse new waiters from now on. */
int waiters_close(waiters *wt);
int waiters_count(waiters *wt);

#endif
