/*
 * template.h - the one scanner of answer templates (template.c): a template
 * read as literal runs and {name} or {name|default} placeholders. Used at
 * load (kb_load.c fills {shop.key} and checks the other names) and at reply
 * time (render.c fills {slot} and {profile.key}); both read a template by
 * these rules, so a template means the same thing in both.
 */
#ifndef CSBOT_TEMPLATE_H
#define CSBOT_TEMPLATE_H

#include "internal.h"

/* The rules, byte by byte (the braces and '|' are ASCII, so they never fall
 * inside a UTF-8 character):
 * - A placeholder runs from a '{' to the first '}' after it. There is no
 *   escape and no nesting: in "{a{b}" the name is "a{b", and a '}' with no
 *   '{' before it is literal text.
 * - Its name runs to the first '|' or to the '}'; after a '|' everything up
 *   to the '}' (further '|' included) is the default, which may be empty.
 * - A '{' with no '}' anywhere after it is "unclosed": the rest of the
 *   template from that '{'. */
enum {
    CSBOT__TMPL_TEXT,     /* a literal run, never empty */
    CSBOT__TMPL_VAR,      /* a placeholder */
    CSBOT__TMPL_UNCLOSED, /* an unclosed '{' and the rest of the template */
};

typedef struct csbot__tmpl_tok {
    int kind;
    const char *s; /* TEXT: the run; VAR: the placeholder, braces included;
                      UNCLOSED: from the '{' to the end */
    size_t len;
    const char *name; /* VAR: the name (not NUL-terminated), maybe empty */
    size_t nlen;
    const char *def;  /* VAR: the default; NULL when there is no '|' */
    size_t dlen;
} csbot__tmpl_tok;

/* Give the next piece of the template from *pos (which starts at the
 * template and is moved past the piece) in *tok: 1, or 0 at the end. */
int csbot__tmpl_next(const char **pos, csbot__tmpl_tok *tok);

/* Whether a placeholder's name is prefix followed by at least one byte
 * ("profile.name" for "profile."; "profile." alone is not); if so, *key and
 * *klen give the rest. */
int csbot__tmpl_scoped(const csbot__tmpl_tok *tok, const char *prefix,
                       const char **key, size_t *klen);

#endif
