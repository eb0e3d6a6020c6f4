/*
 * tests.h - included by every test file: Check, the public header, the
 * prototypes of all suites (generated list), and shared test helpers.
 */
#ifndef CSBOT_TESTS_H
#define CSBOT_TESTS_H

#include <check.h>

#include "csbot.h"

#define CSBOT_SUITE(name) Suite *name(void);
#include "suites.h"
#undef CSBOT_SUITE

/* test/util.c */

/* Load a knowledge base file; fails the test with the formatted error. */
csbot_kb *t_load(const char *path);
/* Load JSON text; returns the code and fills err. */
int t_load_text(csbot_kb **out, const char *json, csbot_error *err);
/* Reply and fail the test on an error. */
const csbot_reply *t_say(csbot_session *s, const char *text);

/* A counting allocator that can fail the Nth allocation (OOM tests) and
 * counts blocks in use (leak tests). Thread-safe. */
typedef struct t_alloc {
    _Atomic long fail_at; /* fail the allocation with this number (1-based); 0 never */
    _Atomic long count;   /* allocations and reallocations so far */
    _Atomic long live;    /* blocks in use */
    _Atomic int failed;   /* an allocation was failed */
} t_alloc;
void *t_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
