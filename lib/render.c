/*
 * render.c - answers: choosing the response variant for the customer's
 * profile (a variant whose "when" conditions all hold beats one with fewer
 * conditions; equal ones take turns, remembered in the transcript) and
 * filling its template: {slot} from the slots of this message or earlier
 * ones, {profile.key} from the profile, {name|default} when the value is
 * missing or empty, nothing when there is no default. The template is read
 * by template.c, the scanner kb_load.c uses too; stray braces (a lone '}',
 * an unclosed '{') come out as written. Shop variables were filled in when
 * the knowledge base loaded.
 */
#include "render.h"
#include "session.h"
#include "template.h"

static const char *slot_value(const csbot_session *s, const char *name,
                              size_t n) {
    const char *v = csbot__pair_get(s->newslots, s->nnew, name, n);
    return v ? v : csbot__pair_get(s->slots, s->nslots, name, n);
}

int csbot__render(csbot_session *s, const char *tmpl, csbot__buf *out) {
    const csbot__alloc *a = &s->alloc;
    const char *p = tmpl;
    csbot__tmpl_tok t;
    while (csbot__tmpl_next(&p, &t)) {
        int rc = CSBOT_OK;
        if (t.kind == CSBOT__TMPL_VAR) {
            const char *key, *v;
            size_t klen;
            if (csbot__tmpl_scoped(&t, "profile.", &key, &klen))
                v = csbot__pair_get(s->profile, s->nprofile, key, klen);
            else
                v = slot_value(s, t.name, t.nlen);
            if (v && *v)
                rc = csbot__buf_puts(a, out, v);
            else if (t.def)
                rc = csbot__buf_append(a, out, t.def, t.dlen);
        } else {
            /* literal text, and an unclosed '{' with the rest as written */
            rc = csbot__buf_append(a, out, t.s, t.len);
        }
        if (rc)
            return rc;
    }
    if (!out->data)
        return csbot__buf_reserve(a, out, 0);
    return CSBOT_OK;
}

/* 1 + the variant intent `id` showed most recently in the transcript, 0 if
 * it shows none. */
static unsigned last_variant(const csbot_session *s, const char *id) {
    for (size_t i = csbot__session_turn_count(s, 0); i-- > 0;) {
        const csbot__turn *t = csbot__session_turn(s, i, 0);
        if (t->variant && t->intent.len && strcmp(t->intent.data, id) == 0)
            return t->variant;
    }
    return 0;
}

const csbot__response *csbot__pick_response(const csbot_session *s,
                                            const csbot__intent *it,
                                            unsigned *variant) {
    size_t best = 0, nbest = 0, pick = 0;
    int found = 0;
    if (variant)
        *variant = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (size_t i = 0; i < it->nresponses; i++) {
            const csbot__response *r = &it->responses[i];
            int ok = 1;
            for (size_t w = 0; w < r->nwhen && ok; w++) {
                const char *v = csbot__pair_get(s->profile, s->nprofile,
                                                r->when[w].key,
                                                strlen(r->when[w].key));
                if (!v || (strcmp(r->when[w].val, "*") ? strcmp(v, r->when[w].val)
                                                       : !*v))
                    ok = 0;
            }
            if (!ok)
                continue;
            if (pass == 0) {
                if (!found || r->nwhen > best) {
                    best = r->nwhen;
                    nbest = 0;
                }
                found = 1;
                if (r->nwhen == best)
                    nbest++;
            } else if (r->nwhen == best) {
                if (k++ == pick) {
                    if (variant)
                        *variant = (unsigned)pick + 1;
                    return r;
                }
            }
        }
        if (!found)
            return NULL;
        /* the next variant after the one shown last; the first time, one
         * chosen by the turn number */
        unsigned last = nbest > 1 ? last_variant(s, it->id) : 0;
        pick = last ? last % nbest : s->turn % nbest;
    }
    return NULL;
}
