/*
 * version.c - the run-time version, to compare with the header's
 * CSBOT_VERSION_NUM, and the names of the public enums.
 */
#include "internal.h"

CSBOT_API unsigned csbot_version(const char **str) {
    if (str)
        *str = CSBOT_VERSION_STRING;
    return CSBOT_VERSION_NUM;
}

/* One name per enumerator, in the enum's order; a value outside the enum
 * has the name of its 0 enumerator. The counts are limits.h's. */
static const char *const lang_names[] = {"unknown", "zh-Hans", "zh-Hant", "en"};
static const char *const action_names[] = {"none",     "answer",  "ask",   "suggest",
                                           "fallback", "handoff", "silent"};
static const char *const reason_names[] = {
    "none",   "low_confidence", "repeated_miss", "explicit_request",
    "intent", "sentiment",      "repeated_question", "host"};

#define NAMES(t) (sizeof(t) / sizeof(t)[0])
_Static_assert(NAMES(lang_names) == CSBOT__NLANGS, "a name for every csbot_lang");
_Static_assert(NAMES(action_names) == CSBOT__NACTIONS, "a name for every csbot_action");
_Static_assert(NAMES(reason_names) == CSBOT__NREASONS,
               "a name for every csbot_handoff_reason");

CSBOT_API const char *csbot_lang_name(csbot_lang lang) {
    return (unsigned)lang < CSBOT__NLANGS ? lang_names[lang] : lang_names[0];
}

CSBOT_API const char *csbot_action_name(csbot_action action) {
    return (unsigned)action < CSBOT__NACTIONS ? action_names[action] : action_names[0];
}

CSBOT_API const char *csbot_handoff_reason_name(csbot_handoff_reason r) {
    return (unsigned)r < CSBOT__NREASONS ? reason_names[r] : reason_names[0];
}
