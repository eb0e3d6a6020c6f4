/*
 * pattern.c - the only module that includes pcre2.h. Patterns are compiled and
 * JIT-compiled while the knowledge base loads (PCRE2's rule: JIT before the
 * code is shared between threads) with UTF and Unicode properties, caseless.
 * Matching runs with a match limit and depth limit so that a pattern built
 * for catastrophic backtracking fails fast instead of hanging the reply
 * path. PCRE2 allocates through the knowledge base's allocator by way of a
 * general context; match data belongs to each session and is reused.
 */
#include <pcre2.h>
#include <stdio.h>

#include "pattern.h"

#define MATCH_LIMIT 200000u
#define DEPTH_LIMIT 2000u
#define HEAP_LIMIT 4096u /* KiB */

struct csbot__rectx {
    pcre2_general_context *gen;
    pcre2_compile_context *comp;
    pcre2_match_context *match;
    csbot__alloc alloc;
};

struct csbot__rematch {
    pcre2_match_data *md;
};

static void *re_malloc(PCRE2_SIZE n, void *ud) {
    return csbot__malloc(ud, n);
}

static void re_free(void *p, void *ud) {
    csbot__free(ud, p);
}

int csbot__regex_ctx_new(const csbot__alloc *a, csbot__rectx **out) {
    csbot__rectx *c = csbot__calloc(a, 1, sizeof *c);
    *out = NULL;
    if (!c)
        return CSBOT_ENOMEM;
    c->alloc = *a;
    c->gen = pcre2_general_context_create(re_malloc, re_free, &c->alloc);
    c->comp = c->gen ? pcre2_compile_context_create(c->gen) : NULL;
    c->match = c->gen ? pcre2_match_context_create(c->gen) : NULL;
    if (!c->comp || !c->match) {
        csbot__regex_ctx_free(a, c);
        return CSBOT_ENOMEM;
    }
    pcre2_set_match_limit(c->match, MATCH_LIMIT);
    pcre2_set_depth_limit(c->match, DEPTH_LIMIT);
    pcre2_set_heap_limit(c->match, HEAP_LIMIT);
    pcre2_set_max_pattern_length(c->comp, 4096);
    pcre2_set_parens_nest_limit(c->comp, 64);
    *out = c;
    return CSBOT_OK;
}

void csbot__regex_ctx_free(const csbot__alloc *a, csbot__rectx *c) {
    if (!c)
        return;
    pcre2_match_context_free(c->match);
    pcre2_compile_context_free(c->comp);
    pcre2_general_context_free(c->gen);
    csbot__free(a, c);
}

int csbot__regex_compile(const csbot__alloc *a, const csbot__rectx *c,
                         const char *pat, csbot__re **out, size_t *erroff,
                         char *msg, size_t msgsize) {
    int ec;
    PCRE2_SIZE off = 0;
    CSBOT_UNUSED(a);
    *out = NULL;
    pcre2_code *code = pcre2_compile(
        (PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
        PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_NEVER_BACKSLASH_C,
        &ec, &off, c->comp);
    if (!code && ec == PCRE2_ERROR_HEAP_FAILED) {
        /* out of memory is not a fault of the pattern */
        snprintf(msg, msgsize, "out of memory");
        *erroff = 0;
        return CSBOT_ENOMEM;
    }
    if (!code) {
        PCRE2_UCHAR buf[200];
        pcre2_get_error_message(ec, buf, sizeof buf);
        snprintf(msg, msgsize, "pattern error at offset %zu: %s",
                 (size_t)off, (const char *)buf);
        *erroff = off;
        return CSBOT_EREGEX;
    }
    /* JIT is an optimisation: where it is unavailable the interpreter runs
     * the same pattern under the same limits. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    *out = (csbot__re *)code;
    return CSBOT_OK;
}

void csbot__regex_free(csbot__re *re) {
    pcre2_code_free((pcre2_code *)re);
}

int csbot__rematch_new(const csbot__alloc *a, const csbot__rectx *c,
                       csbot__rematch **out) {
    csbot__rematch *m = csbot__calloc(a, 1, sizeof *m);
    *out = NULL;
    if (!m)
        return CSBOT_ENOMEM;
    m->md = pcre2_match_data_create(4, c->gen);
    if (!m->md) {
        csbot__free(a, m);
        return CSBOT_ENOMEM;
    }
    *out = m;
    return CSBOT_OK;
}

void csbot__rematch_free(const csbot__alloc *a, csbot__rematch *m) {
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    csbot__free(a, m);
}

int csbot__regex_match(const csbot__re *re, const csbot__rectx *c,
                       csbot__rematch *m, const char *s, size_t len,
                       size_t start, size_t *so, size_t *eo, int *limited) {
    if (limited)
        *limited = 0;
    int rc = pcre2_match((const pcre2_code *)re, (PCRE2_SPTR)s, len, start,
                         PCRE2_NO_UTF_CHECK, m->md, c->match);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        if (limited)
            *limited = 1;
        return 0;
    }
    if (rc < 0)
        return rc == PCRE2_ERROR_NOMEMORY ? CSBOT_ENOMEM : 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    if (rc >= 2 && ov[2] != PCRE2_UNSET) {
        *so = ov[2];
        *eo = ov[3];
    } else {
        *so = ov[0];
        *eo = ov[1];
    }
    return 1;
}
