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
/* Load the JSON made of parts[0..n) (up to a NULL part when n is
 * (size_t)-1) followed by suffix (may be NULL); aborts the test on an error.
 * Inline knowledge bases are split in parts because -pedantic limits string
 * literals to 4095 bytes. */
csbot_kb *t_load_parts(const char *const *parts, size_t n, const char *suffix);
/* Reply and fail the test on an error. */
const csbot_reply *t_say(csbot_session *s, const char *text);

/* The sentence encoder that CSBOT_ENCODER names, for the model's tests:
 * t_encoder_tcase(WHO) returns a test case "model" whose fixture loads it
 * into t_enc (and frees it), or NULL after telling stderr that WHO's model
 * tests are not run when CSBOT_ENCODER is not set. */
extern csbot_encoder *t_enc;
TCase *t_encoder_tcase(const char *who);

/* A clock the test sets by hand: pass t_clock_fn as
 * csbot_session_options.clock and a t_clock as its clock_ud. */
typedef struct t_clock {
    int64_t ms;
} t_clock;
int64_t t_clock_fn(void *ud);

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
