/*
 * ratelimit.c - token buckets per client address (see ratelimit.h). The
 * table has a fixed number of slots, each with its own lock; a client whose
 * slot belongs to another idle client takes it over.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 4096, LOCKS = 64 };

typedef struct slot {
    char client[48];
    double tokens;
    int64_t last;
} slot;

struct ratelimit {
    double rate, burst;
    pthread_mutex_t mu[LOCKS];
    slot slots[SLOTS];
};

int ratelimit_new(ratelimit **out, double rate) {
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return -1;
    rl->rate = rate;
    rl->burst = rate * 2 < 1 ? 1 : rate * 2;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&rl->mu[i], NULL);
    *out = rl;
    return 0;
}

void ratelimit_free(ratelimit *rl) {
    if (!rl)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&rl->mu[i]);
    free(rl);
}

int ratelimit_allow(ratelimit *rl, const char *client, int64_t now) {
    if (!rl || rl->rate <= 0)
        return 1;
    uint32_t h = 2166136261u;
    for (const char *p = client; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    slot *s = &rl->slots[h % SLOTS];
    pthread_mutex_t *mu = &rl->mu[h % LOCKS];
    pthread_mutex_lock(mu);
    if (strncmp(s->client, client, sizeof s->client - 1) != 0) {
        snprintf(s->client, sizeof s->client, "%s", client);
        s->tokens = rl->burst;
        s->last = now;
    }
    double t = s->tokens + (double)(now - s->last) * rl->rate / 1000.0;
    s->tokens = t > rl->burst ? rl->burst : t;
    s->last = now;
    int ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    pthread_mutex_unlock(mu);
    return ok;
}
