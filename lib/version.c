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

CSBOT_API const char *csbot_lang_name(csbot_lang lang) {
    switch (lang) {
    case CSBOT_LANG_ZH_HANS: return "zh-Hans";
    case CSBOT_LANG_ZH_HANT: return "zh-Hant";
    case CSBOT_LANG_EN: return "en";
    default: return "unknown";
    }
}

CSBOT_API const char *csbot_action_name(csbot_action action) {
    switch (action) {
    case CSBOT_ACTION_ANSWER: return "answer";
    case CSBOT_ACTION_ASK: return "ask";
    case CSBOT_ACTION_SUGGEST: return "suggest";
    case CSBOT_ACTION_FALLBACK: return "fallback";
    case CSBOT_ACTION_HANDOFF: return "handoff";
    case CSBOT_ACTION_SILENT: return "silent";
    default: return "none";
    }
}

CSBOT_API const char *csbot_handoff_reason_name(csbot_handoff_reason r) {
    switch (r) {
    case CSBOT_HANDOFF_LOW_CONFIDENCE: return "low_confidence";
    case CSBOT_HANDOFF_REPEATED_MISS: return "repeated_miss";
    case CSBOT_HANDOFF_EXPLICIT_REQUEST: return "explicit_request";
    case CSBOT_HANDOFF_INTENT: return "intent";
    case CSBOT_HANDOFF_SENTIMENT: return "sentiment";
    case CSBOT_HANDOFF_REPEATED_QUESTION: return "repeated_question";
    case CSBOT_HANDOFF_HOST: return "host";
    default: return "none";
    }
}
