/*
 * utf8.h - UTF-8 validation and normalisation (utf8proc is used here only).
 */
#ifndef CSBOT_UTF8_H
#define CSBOT_UTF8_H

#include "internal.h"

/* A map from one code point to another (Traditional -> Simplified). Sorted by
 * from; looked up by binary search, after a bit set of the BMP code points
 * that have an entry (most characters of a message have none). Owned by the
 * kb (convert.c builds it). */
typedef struct csbot__cpmap {
    uint32_t *from;
    uint32_t *to;
    size_t n;
    uint64_t *bmp; /* 0x10000 bits, or NULL (then every lookup searches) */
} csbot__cpmap;

uint32_t csbot__cpmap_get(const csbot__cpmap *m, uint32_t cp); /* 0: none */

/* What normalisation learned about the script of the text. */
typedef struct csbot__script {
    unsigned han;      /* Han characters */
    unsigned trad;     /* characters that exist only in Traditional */
    unsigned simp;     /* characters that exist only in Simplified */
    unsigned latin;    /* Latin letters */
    unsigned words;    /* runs of Latin letters */
    unsigned upper;    /* upper-case Latin letters (before folding) */
    unsigned excl;     /* '!' and full-width exclamation marks */
} csbot__script;

/* Scratch memory for normalisation, kept between calls. */
typedef struct csbot__normbuf {
    int32_t *cps;
    size_t cap; /* in code points */
} csbot__normbuf;

/* 0 when s[0..len) is valid UTF-8 without NUL, else CSBOT_EUTF8 with *bad
 * set to the offending byte offset. */
int csbot__utf8_check(const char *s, size_t len, size_t *bad);

/* NFKC + case folding + accent stripping + punctuation lumping, then
 * Traditional -> Simplified with t2s (may be NULL). Appends to out.
 * Fills *sc if not NULL. */
int csbot__utf8_normalize(const csbot__alloc *a, csbot__normbuf *nb,
                          const char *s, size_t len, const csbot__cpmap *t2s,
                          const csbot__cpmap *s2t, csbot__buf *out,
                          csbot__script *sc);
/* NFKC only (no folding), for slot values such as full-width digits. */
int csbot__utf8_nfkc(const csbot__alloc *a, csbot__normbuf *nb, const char *s,
                     size_t len, csbot__buf *out);

/* Whether valid UTF-8 text has only white space, control characters,
 * invisible format characters (U+200B, U+FEFF...) and combining marks with
 * nothing to combine with. */
int csbot__utf8_is_blank(const char *s, size_t len);

void csbot__normbuf_free(const csbot__alloc *a, csbot__normbuf *nb);

/* Decode one code point of valid UTF-8 at s (len > 0); returns its length. */
static inline size_t csbot__utf8_next(const unsigned char *s, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xE0) { *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu); return 2; }
    if (c < 0xF0) {
        *cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        return 3;
    }
    *cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) |
          ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
    return 4;
}

static inline int csbot__is_han(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2FFFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF);
}

/* ASCII letters and digits. */
static inline int csbot__is_ascii_alnum(uint32_t cp) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= '0' && cp <= '9');
}

/* Letters and digits of non-Han scripts (after normalisation); ASCII is
 * decided inline, the rest by utf8proc's categories. */
int csbot__is_wordchar_nonascii(uint32_t cp);
static inline int csbot__is_wordchar(uint32_t cp) {
    if (cp < 0x80)
        return csbot__is_ascii_alnum(cp);
    return csbot__is_wordchar_nonascii(cp);
}
int csbot__is_digit(uint32_t cp);

#endif
