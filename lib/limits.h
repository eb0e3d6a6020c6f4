/*
 * limits.h - the limits, defaults and enum counts of lib/ in one place (as
 * Lua keeps its own in llimits.h and luaconf.h): every number that more than
 * one file relies on, or that must follow an enum of csbot.h, is named here
 * instead of being written out where it is used. Numbers that belong to one
 * algorithm and one file (the encoder's widths, the matcher's rescoring
 * budget, PCRE2's match limits) stay named at the top of that file.
 *
 * Included by internal.h, so every file of lib/ sees it; it includes only
 * csbot.h.
 */
#ifndef CSBOT_LIMITS_H
#define CSBOT_LIMITS_H

#include <stddef.h>

#include "csbot.h"

/* A number as a string literal, for messages that state a limit. */
#define CSBOT__STR(x) CSBOT__STR_(x)
#define CSBOT__STR_(x) #x

/* ---- enum counts ----
 * One past the last enumerator of each public enum. Enumerators are only
 * appended (csbot.h), so a new one moves its count here, and everything
 * sized or bounded by a count follows: the name tables of version.c (a
 * _Static_assert checks each against its count), the per-action and
 * per-reason figures of the statistics (session.h, stats.c) and the checks
 * of a restored state (state.c). */
#define CSBOT__NLANGS (CSBOT_LANG_EN + 1)
#define CSBOT__NACTIONS (CSBOT_ACTION_SILENT + 1)
#define CSBOT__NREASONS (CSBOT_HANDOFF_HOST + 1)

/* ---- input sizes ---- */

/* The largest file or buffer the library reads whole: a knowledge base
 * (file or buffer, kb.c) and a sentence-encoder file (encoder.c). */
#define CSBOT__MAX_FILE_MIB 256
#define CSBOT__MAX_FILE ((size_t)CSBOT__MAX_FILE_MIB << 20)
#define CSBOT__MAX_FILE_TEXT CSBOT__STR(CSBOT__MAX_FILE_MIB) " MiB"
/* The default of csbot_kb_options.max_message, in bytes. */
#define CSBOT__MAX_MESSAGE_DEFAULT 16384

/* ---- sessions ---- */

/* csbot_session_options.transcript_turns: 0 means the default; larger
 * values are cut to the maximum. */
#define CSBOT__TRANSCRIPT_DEFAULT 20
#define CSBOT__TRANSCRIPT_MAX 1000
/* The most turns a conversation takes (csbot_session_reply refuses the next
 * one) and a restored state may claim: far beyond any real conversation,
 * and far below where the unsigned turn counter would wrap to 0. */
#define CSBOT__MAX_TURNS (1u << 30)
/* csbot_session_set_profile: the longest key and value, in bytes. */
#define CSBOT__PROFILE_MAX_KEY 256
#define CSBOT__PROFILE_MAX_VALUE 4096
/* Candidates a reply reports (the candidates of csbot_reply) and the matcher keeps. */
#define CSBOT__MAXCAND 5
/* Candidates a transcript turn keeps with their scores: also the most a
 * suggestion lists, and what a restored state holds per turn (state.c). */
#define CSBOT__TURN_CANDS 3
/* Feature hashes of the previous message kept to recognise a repeat. */
#define CSBOT__FPRINT 48

/* ---- statistics ---- */

/* Buckets of the reply-time histogram: bucket i counts replies under 2^i
 * microseconds, the last one the rest. */
#define CSBOT__LAT_BUCKETS 16
/* Hours of the messages-by-hour figures. */
#define CSBOT__HOURS 24
/* A session adds its counts to its csbot_stats every CSBOT__FLUSH_REPLIES
 * replies (it keeps at most that many decided intents in between) or after
 * CSBOT__FLUSH_MS milliseconds, and on a handoff (stats.c lists when). */
#define CSBOT__FLUSH_REPLIES 256
#define CSBOT__FLUSH_MS 1000
/* csbot_stats_new: the unanswered messages kept, 0 meaning the default, and
 * the bound of the UTC offset in minutes (either way). */
#define CSBOT__UNANSWERED_DEFAULT 100
#define CSBOT__UNANSWERED_MAX 100000
#define CSBOT__MAX_UTC_OFFSET_MIN (24 * 60)

#endif
