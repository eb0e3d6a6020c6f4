/*
 * pattern.h - PCRE2 patterns: compile and JIT at load, match with limits.
 */
#ifndef CSBOT_PATTERN_H
#define CSBOT_PATTERN_H

#include "internal.h"

typedef struct csbot__rectx csbot__rectx;   /* contexts, shared read-only */
typedef struct csbot__re csbot__re;         /* one compiled pattern */
typedef struct csbot__rematch csbot__rematch; /* per-session match data */

int csbot__regex_ctx_new(const csbot__alloc *a, csbot__rectx **out);
void csbot__regex_ctx_free(const csbot__alloc *a, csbot__rectx *c);

/* Compile and JIT. On failure fills msg and *erroff (byte offset in the
 * pattern) and returns CSBOT_EREGEX. */
int csbot__regex_compile(const csbot__alloc *a, const csbot__rectx *c,
                         const char *pat, csbot__re **out, size_t *erroff,
                         char *msg, size_t msgsize);
void csbot__regex_free(csbot__re *re);

int csbot__rematch_new(const csbot__alloc *a, const csbot__rectx *c,
                       csbot__rematch **out);
void csbot__rematch_free(const csbot__alloc *a, csbot__rematch *m);

/* 1 on a match (then so and eo are the bounds of group 1 if it matched, else
 * of the whole match), 0 on no match or when a limit was hit (*limited set
 * to 1), negative on error. */
int csbot__regex_match(const csbot__re *re, const csbot__rectx *c,
                       csbot__rematch *m, const char *s, size_t len,
                       size_t start, size_t *so, size_t *eo, int *limited);

#endif
