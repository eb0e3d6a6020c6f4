/*
 * dedup.c - WeChat retries a request it got no answer to within 5 s, three
 * attempts in all; this cache makes sure each message is handled once. The
 * first attempt claims the key and hands the message to a handler; every
 * attempt (the first included) waits a bounded time for the handler's
 * answer. An answer nobody waited for is the handler's to send through the
 * customer-service API instead, so the customer gets it exactly once.
 *
 * A mutex and one condition variable (on CLOCK_MONOTONIC) guard a table
 * scanned linearly: at WeChat's rates (tens of messages a second) and a cap
 * of a few thousand keys a scan costs microseconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wx.h"

enum { KEY_MAX = 128 };

typedef struct entry {
    char key[KEY_MAX];
    int used;
    int done;       /* the handler finished */
    int gave_up;    /* a waiter answered "success" before it finished */
    int async;      /* the answer went out through the API */
    int waiting;    /* waiters now */
    char *reply;    /* the passive answer (NULL: none) */
    int64_t expires;
} entry;

struct wx_dedup {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t ttl;
    size_t cap, n;
    entry *e;
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

wx_dedup *wx_dedup_new(size_t cap, int64_t ttl_ms) {
    wx_dedup *d = calloc(1, sizeof *d);
    if (!d || cap == 0 || !(d->e = calloc(cap, sizeof *d->e))) {
        free(d);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->mu, NULL);
    d->cap = cap;
    d->ttl = ttl_ms;
    return d;
}

void wx_dedup_free(wx_dedup *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->cap; i++)
        free(d->e[i].reply);
    free(d->e);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static void drop(wx_dedup *d, entry *e) {
    free(e->reply);
    memset(e, 0, sizeof *e);
    d->n--;
}

/* The key's entry, dropping expired finished ones on the way; NULL if
 * absent (*slot: a free entry, or NULL when none). */
static entry *find(wx_dedup *d, const char *key, int64_t now, entry **slot) {
    entry *hit = NULL;
    *slot = NULL;
    for (size_t i = 0; i < d->cap; i++) {
        entry *e = &d->e[i];
        if (e->used && e->done && e->waiting == 0 && e->expires <= now)
            drop(d, e);
        if (!e->used) {
            if (!*slot)
                *slot = e;
            continue;
        }
        if (!hit && strcmp(e->key, key) == 0)
            hit = e;
    }
    return hit;
}

int wx_dedup_claim(wx_dedup *d, const char *key) {
    if (!key || strlen(key) >= KEY_MAX)
        return WX_FULL;
    pthread_mutex_lock(&d->mu);
    entry *slot, *e = find(d, key, mono_ms(), &slot);
    int rc = WX_SEEN;
    if (!e) {
        if (!slot) {
            rc = WX_FULL;
        } else {
            memset(slot, 0, sizeof *slot);
            strcpy(slot->key, key);
            slot->used = 1;
            d->n++;
            rc = WX_FIRST;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int wx_dedup_wait(wx_dedup *d, const char *key, int64_t wait_ms, char **reply) {
    *reply = NULL;
    pthread_mutex_lock(&d->mu);
    entry *slot, *e = find(d, key, mono_ms(), &slot);
    int rc = 1; /* an unknown key (expired): nothing to repeat */
    if (e) {
        int64_t until = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
        struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                              .tv_nsec = (long)(until % 1000) * 1000000};
        e->waiting++;
        while (!e->done) {
            if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT && !e->done)
                break;
        }
        e->waiting--;
        if (!e->done) {
            e->gave_up = 1;
            rc = 0;
        } else if (e->reply && !e->async) {
            *reply = strdup(e->reply);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int wx_dedup_done(wx_dedup *d, const char *key, const char *reply) {
    pthread_mutex_lock(&d->mu);
    entry *slot, *e = find(d, key, mono_ms(), &slot);
    int rc = 0;
    if (e && !e->done) {
        e->done = 1;
        e->expires = mono_ms() + d->ttl;
        e->reply = reply ? strdup(reply) : NULL;
        /* everyone who came gave up and no one is waiting now */
        if (e->gave_up && e->waiting == 0)
            rc = e->async = 1;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

size_t wx_dedup_count(wx_dedup *d) {
    pthread_mutex_lock(&d->mu);
    size_t n = d->n;
    pthread_mutex_unlock(&d->mu);
    return n;
}
