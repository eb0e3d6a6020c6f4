/*
 * metrics.h - the server's counters for GET /metrics (Prometheus text
 * format): requests by status class, replies by action, handoffs by reason,
 * a reply-latency histogram and knowledge-base reload figures. Lock-free
 * (C11 atomics), so counting costs a request nothing measurable.
 */
#ifndef CSBOT_SERVER_METRICS_H
#define CSBOT_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <csbot.h>

typedef struct metrics metrics;

int metrics_new(metrics **out);
void metrics_free(metrics *m);
void metrics_request(metrics *m, unsigned status);
void metrics_reply(metrics *m, csbot_action action, double seconds);
void metrics_handoff(metrics *m, const char *reason);
void metrics_reload(metrics *m, int ok);
/* The text exposition into a malloc'd string. */
char *metrics_text(metrics *m, long open_handoffs, unsigned long generation,
                   size_t nconvs, int nwaiters);

#endif
