/*
 * jsondiag.h - the JSON text read for diagnostics (jsondiag.c): JSON paths,
 * the offset of a path or of a syntax error in the text, "\u0000" escapes,
 * duplicated keys. Used by kb_load.c; knows nothing of a knowledge base.
 */
#ifndef CSBOT_JSONDIAG_H
#define CSBOT_JSONDIAG_H

#include "internal.h"

/* A JSON path such as $.intents[3].patterns[1], cut (never overrun) at the
 * size of csbot_error's json_path. Each push returns the length to pop back
 * to. */
typedef struct csbot__jpath {
    char s[256];
    size_t len;
} csbot__jpath;

/* .key, or ["key"] (with '"' and '\\' escaped) for a key of other
 * characters than letters, digits, '_' and '-'. */
size_t csbot__jpath_push_key(csbot__jpath *jp, const char *key);
/* The same for a key as written in the text, n bytes, escapes not decoded. */
size_t csbot__jpath_push_raw(csbot__jpath *jp, const char *k, size_t n);
size_t csbot__jpath_push_idx(csbot__jpath *jp, size_t i);
void csbot__jpath_pop(csbot__jpath *jp, size_t old);

/* The offset of the first byte at or after i that is not JSON white space. */
size_t csbot__json_skip_ws(const char *s, size_t n, size_t i);
/* Where the JSON starts: after a UTF-8 byte order mark, which cJSON skips
 * too. */
size_t csbot__json_skip_bom(const char *s, size_t n);
/* The offset of the value at path in s[0..n), or of its nearest ancestor. */
size_t csbot__json_locate(const char *s, size_t n, const char *path);
/* The offset of the value of the nth (1-based) member named key of the
 * object at s[i]; i when there is none. */
size_t csbot__json_nth_member(const char *s, size_t n, size_t i, const char *key,
                              int nth);
/* Where a syntax error really is, given cJSON's parse end off. */
size_t csbot__json_syntax_offset(const char *s, size_t n, size_t off);
/* Whether a string (value or key) of the valid JSON text s has a "\u0000"
 * escape; if so, *path (holding "$") names the first such string. */
int csbot__json_find_nul(const char *s, size_t n, csbot__jpath *path);

#endif
