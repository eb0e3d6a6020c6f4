/*
 * ratelimit.h - per-client request limits: a token bucket per client
 * address (rate per second, burst of twice that), in a fixed table, so a
 * flood from many addresses costs a bounded amount of memory.
 */
#ifndef CSBOT_SERVER_RATELIMIT_H
#define CSBOT_SERVER_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

/* rate 0: no limit (ratelimit_allow always says yes). */
int ratelimit_new(ratelimit **out, double rate);
void ratelimit_free(ratelimit *rl);
/* Whether a request from client (an address) may go ahead now (ms). */
int ratelimit_allow(ratelimit *rl, const char *client, int64_t now_ms);

#endif
