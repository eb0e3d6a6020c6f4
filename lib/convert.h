/*
 * convert.h - Traditional/Simplified Chinese through OpenCC (used here only).
 */
#ifndef CSBOT_CONVERT_H
#define CSBOT_CONVERT_H

#include "utf8.h"

typedef struct csbot__convert {
    void *s2t;          /* opencc_t for answers, NULL if not opened */
    csbot__cpmap t2s;   /* character map for matching */
    csbot__cpmap s2t_chars; /* simplified-only characters, for detection */
} csbot__convert;

/* Open OpenCC with the given answer conversion ("s2t", "s2tw", "s2twp",
 * "s2hk") and build the character maps. */
int csbot__convert_open(const csbot__alloc *a, csbot__convert *c,
                        const char *variant, char *msg, size_t msgsize);
/* Convert Simplified text to the Traditional variant; a new string. */
int csbot__convert_s2t(const csbot__alloc *a, const csbot__convert *c,
                       const char *s, char **out);
/* Close OpenCC but keep the maps (after load, the reply path needs only
 * the maps). */
void csbot__convert_close_opencc(csbot__convert *c);
void csbot__convert_free(const csbot__alloc *a, csbot__convert *c);

#endif
