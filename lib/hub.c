/*
 * hub.c - hot reload. A hub holds the current knowledge base; sessions made
 * from it take a reference to the base they use and move to a newer one at
 * the start of their next turn, when they see the hub's generation change (an
 * atomic read: the reply path takes the hub's lock only when it changed).
 * A replaced base is freed when its last session has moved away.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "hub.h"

typedef struct kbref {
    csbot_kb *kb;
    unsigned long refs;
} kbref;

struct csbot_hub {
    pthread_mutex_t mu;
    atomic_ulong gen;
    csbot__alloc alloc;
    kbref *refs; /* refs[cur] is current; others are retired, refs > 0 */
    size_t n, cap, cur;
};

CSBOT_API int csbot_hub_new(csbot_hub **out, csbot_kb *kb) {
    if (!out || !kb) {
        csbot_kb_free(kb);
        if (out)
            *out = NULL;
        return CSBOT_EINVAL;
    }
    *out = NULL;
    csbot__alloc a;
    csbot__alloc_init(&a, NULL, NULL);
    csbot_hub *h = csbot__calloc(&a, 1, sizeof *h);
    if (!h || pthread_mutex_init(&h->mu, NULL)) {
        csbot__free(&a, h);
        csbot_kb_free(kb);
        return CSBOT_ENOMEM;
    }
    h->alloc = a;
    void *p = NULL;
    if (csbot__grow(&a, &p, &h->cap, 4, sizeof(kbref))) {
        pthread_mutex_destroy(&h->mu);
        csbot__free(&a, h);
        csbot_kb_free(kb);
        return CSBOT_ENOMEM;
    }
    h->refs = p;
    h->refs[0].kb = kb;
    h->refs[0].refs = 0;
    h->n = 1;
    h->cur = 0;
    atomic_init(&h->gen, 0);
    *out = h;
    return CSBOT_OK;
}

CSBOT_API unsigned long csbot_hub_generation(const csbot_hub *hub) {
    return hub ? atomic_load_explicit(&((csbot_hub *)hub)->gen,
                                      memory_order_acquire)
               : 0;
}

/* Remove retired entries nobody uses any more (under the lock). */
static void sweep(csbot_hub *h) {
    for (size_t i = 0; i < h->n;) {
        if (i != h->cur && h->refs[i].refs == 0) {
            csbot_kb_free(h->refs[i].kb);
            h->refs[i] = h->refs[h->n - 1];
            if (h->cur == h->n - 1)
                h->cur = i;
            h->n--;
        } else {
            i++;
        }
    }
}

CSBOT_API int csbot_hub_swap(csbot_hub *hub, csbot_kb *kb) {
    if (!hub || !kb) {
        csbot_kb_free(kb);
        return CSBOT_EINVAL;
    }
    pthread_mutex_lock(&hub->mu);
    void *p = hub->refs;
    if (csbot__grow(&hub->alloc, &p, &hub->cap, hub->n + 1, sizeof(kbref))) {
        pthread_mutex_unlock(&hub->mu);
        csbot_kb_free(kb);
        return CSBOT_ENOMEM;
    }
    hub->refs = p;
    hub->refs[hub->n].kb = kb;
    hub->refs[hub->n].refs = 0;
    hub->cur = hub->n++;
    sweep(hub);
    atomic_fetch_add_explicit(&hub->gen, 1, memory_order_release);
    pthread_mutex_unlock(&hub->mu);
    return CSBOT_OK;
}

CSBOT_API int csbot_hub_reload_file(csbot_hub *hub, const char *path,
                                    const csbot_kb_options *opts,
                                    csbot_error *err) {
    if (!hub || !path)
        return CSBOT_EINVAL;
    csbot_kb *kb;
    int rc = csbot_kb_load_file(&kb, path, opts, err);
    if (rc)
        return rc;
    return csbot_hub_swap(hub, kb);
}

const csbot_kb *csbot__hub_acquire(csbot_hub *hub, unsigned long *gen) {
    pthread_mutex_lock(&hub->mu);
    kbref *r = &hub->refs[hub->cur];
    r->refs++;
    *gen = atomic_load_explicit(&hub->gen, memory_order_relaxed);
    const csbot_kb *kb = r->kb;
    pthread_mutex_unlock(&hub->mu);
    return kb;
}

void csbot__hub_release(csbot_hub *hub, const csbot_kb *kb) {
    pthread_mutex_lock(&hub->mu);
    for (size_t i = 0; i < hub->n; i++)
        if (hub->refs[i].kb == kb) {
            if (hub->refs[i].refs)
                hub->refs[i].refs--;
            break;
        }
    sweep(hub);
    pthread_mutex_unlock(&hub->mu);
}

CSBOT_API const csbot_kb *csbot_hub_acquire(csbot_hub *hub,
                                            unsigned long *gen) {
    unsigned long g = 0;
    const csbot_kb *kb = hub ? csbot__hub_acquire(hub, &g) : NULL;
    if (gen)
        *gen = g;
    return kb;
}

CSBOT_API void csbot_hub_release(csbot_hub *hub, const csbot_kb *kb) {
    if (hub && kb)
        csbot__hub_release(hub, kb);
}

CSBOT_API void csbot_hub_free(csbot_hub *hub) {
    if (!hub)
        return;
    csbot__alloc a = hub->alloc;
    for (size_t i = 0; i < hub->n; i++)
        csbot_kb_free(hub->refs[i].kb);
    csbot__free(&a, hub->refs);
    pthread_mutex_destroy(&hub->mu);
    csbot__free(&a, hub);
}
