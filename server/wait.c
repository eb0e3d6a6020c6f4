/*
 * wait.c - the list of waiting long polls (see wait.h): one lock, one
 * doubly linked list. Wake callbacks run outside the lock, after the waiter
 * has been taken off the list, so a waiter is woken at most once.
 */
#include "wait.h"

#include <pthread.h>
#include <stdlib.h>

struct waiters {
    pthread_mutex_t mu;
    waiter *head;
    int n;
    int closed; /* shutting down: nobody may wait any more */
};

int waiters_new(waiters **out) {
    waiters *wt = calloc(1, sizeof *wt);
    if (!wt)
        return -1;
    pthread_mutex_init(&wt->mu, NULL);
    *out = wt;
    return 0;
}

void waiters_free(waiters *wt) {
    if (!wt)
        return;
    pthread_mutex_destroy(&wt->mu);
    free(wt);
}

static void unlink_w(waiters *wt, waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        wt->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->listed = 0;
    wt->n--;
}

int waiters_add(waiters *wt, waiter *w) {
    pthread_mutex_lock(&wt->mu);
    if (wt->closed) {
        pthread_mutex_unlock(&wt->mu);
        return -1;
    }
    w->prev = NULL;
    w->next = wt->head;
    if (wt->head)
        wt->head->prev = w;
    wt->head = w;
    w->listed = 1;
    wt->n++;
    pthread_mutex_unlock(&wt->mu);
    return 0;
}

int waiters_remove(waiters *wt, waiter *w) {
    pthread_mutex_lock(&wt->mu);
    int was = w->listed;
    if (was)
        unlink_w(wt, w);
    pthread_mutex_unlock(&wt->mu);
    return was;
}

/* Take off the list every waiter that pick() selects, then wake them. */
static int wake_if(waiters *wt, int (*pick)(const waiter *, const void *,
                                            int64_t),
                   const void *key, int64_t now) {
    waiter *woken = NULL;
    int n = 0;
    pthread_mutex_lock(&wt->mu);
    for (waiter *w = wt->head, *next; w; w = next) {
        next = w->next;
        if (pick(w, key, now)) {
            unlink_w(wt, w);
            w->next = woken; /* reuse the link for the local list */
            woken = w;
            n++;
        }
    }
    pthread_mutex_unlock(&wt->mu);
    while (woken) {
        waiter *w = woken;
        woken = w->next;
        w->next = NULL;
        w->wake(w);
    }
    return n;
}

static int by_key(const waiter *w, const void *key, int64_t now) {
    (void)now;
    return w->key == key;
}

static int by_deadline(const waiter *w, const void *key, int64_t now) {
    (void)key;
    return w->deadline <= now;
}

static int any(const waiter *w, const void *key, int64_t now) {
    (void)w, (void)key, (void)now;
    return 1;
}

int waiters_wake_key(waiters *wt, const void *key) {
    return wake_if(wt, by_key, key, 0);
}

int waiters_wake_expired(waiters *wt, int64_t now) {
    return wake_if(wt, by_deadline, NULL, now);
}

int waiters_close(waiters *wt) {
    pthread_mutex_lock(&wt->mu);
    wt->closed = 1;
    pthread_mutex_unlock(&wt->mu);
    return wake_if(wt, any, NULL, 0);
}

int waiters_count(waiters *wt) {
    pthread_mutex_lock(&wt->mu);
    int n = wt->n;
    pthread_mutex_unlock(&wt->mu);
    return n;
}
