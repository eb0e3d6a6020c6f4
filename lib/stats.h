/*
 * stats.h - the internal functions of csbot_stats (stats.c) that sessions
 * call (bind to a base, flush their counts, note an unanswered message, the
 * UTC offset), and the tests' constructor with an allocator.
 */
#ifndef CSBOT_STATS_H
#define CSBOT_STATS_H

#include "internal.h"

/* csbot_stats_new() with an allocator (NULL: the C library's); for tests. */
int csbot__stats_new_alloc(csbot_stats **out, int utc_offset_minutes,
                           size_t unanswered_cap, csbot_alloc_fn fn, void *ud);
void csbot__stats_flush(csbot_session *s);
void csbot__stats_note_unanswered(csbot_session *s, const char *text,
                                  size_t len, csbot_lang lang, double conf);
int csbot__stats_bind(csbot_session *s, const csbot_kb *kb);
void csbot__stats_local_free(csbot_session *s);
int csbot__stats_offset(const csbot_stats *st);

#endif
