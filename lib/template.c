/*
 * template.c - the scanner of answer templates: literal runs and
 * {name|default} placeholders, by the rules in template.h. It neither
 * allocates nor knows what a name means: kb_load.c (shop variables at load)
 * and render.c (slots and profile at reply time) decide that.
 */
#include "template.h"

int csbot__tmpl_next(const char **pos, csbot__tmpl_tok *tok) {
    const char *p = *pos;
    memset(tok, 0, sizeof *tok);
    if (!*p)
        return 0;
    const char *o = strchr(p, '{');
    if (o != p) {
        tok->kind = CSBOT__TMPL_TEXT;
        tok->s = p;
        tok->len = o ? (size_t)(o - p) : strlen(p);
        *pos = p + tok->len;
        return 1;
    }
    const char *c = strchr(o, '}');
    if (!c) {
        tok->kind = CSBOT__TMPL_UNCLOSED;
        tok->s = o;
        tok->len = strlen(o);
        *pos = o + tok->len;
        return 1;
    }
    const char *name = o + 1;
    const char *bar = memchr(name, '|', (size_t)(c - name));
    tok->kind = CSBOT__TMPL_VAR;
    tok->s = o;
    tok->len = (size_t)(c - o + 1);
    tok->name = name;
    tok->nlen = (size_t)((bar ? bar : c) - name);
    if (bar) {
        tok->def = bar + 1;
        tok->dlen = (size_t)(c - bar - 1);
    }
    *pos = c + 1;
    return 1;
}

int csbot__tmpl_scoped(const csbot__tmpl_tok *tok, const char *prefix,
                       const char **key, size_t *klen) {
    size_t n = strlen(prefix);
    if (tok->kind != CSBOT__TMPL_VAR || tok->nlen <= n ||
        memcmp(tok->name, prefix, n) != 0)
        return 0;
    *key = tok->name + n;
    *klen = tok->nlen - n;
    return 1;
}
