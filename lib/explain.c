/*
 * explain.c - csbot_session_explain(): why the bot did what it did on the
 * last turn, in plain text for people writing intents (the REPL's :why).
 */
#include "session.h"
#include "utf8.h"

static int tokens(const csbot__alloc *a, csbot__buf *b, const char *t,
                  size_t n) {
    /* words of letters/digits and single Han characters, as matched */
    const unsigned char *p = (const unsigned char *)t, *e = p + n;
    int rc = CSBOT_OK, inword = 0;
    while (p < e && !rc) {
        uint32_t cp;
        const unsigned char *q = p;
        p += csbot__utf8_next(p, &cp);
        if (csbot__is_han(cp)) {
            rc = csbot__buf_puts(a, b, inword ? "] [" : " [");
            rc = rc ? rc : csbot__buf_append(a, b, (const char *)q, (size_t)(p - q));
            rc = rc ? rc : csbot__buf_putc(a, b, ']');
            inword = 0;
        } else if (csbot__is_wordchar(cp)) {
            if (!inword)
                rc = csbot__buf_puts(a, b, " [");
            rc = rc ? rc : csbot__buf_append(a, b, (const char *)q, (size_t)(p - q));
            inword = 1;
        } else if (inword) {
            rc = csbot__buf_putc(a, b, ']');
            inword = 0;
        }
    }
    if (inword && !rc)
        rc = csbot__buf_putc(a, b, ']');
    return rc;
}

CSBOT_API size_t csbot_session_explain(const csbot_session *s, char *buf,
                                       size_t size) {
    if (!s || !s->turn)
        return csbot__copy_out(buf, size, "no turn yet\n", 12);
    const csbot__alloc *a = &s->alloc;
    const csbot_kb *kb = s->kb;
    const csbot__scratch *sc = &s->scr;
    const struct csbot_reply *r = &s->reply;
    csbot__buf b = {0};
    int rc = csbot__buf_printf(a, &b, "decision:   %s%s%s (%s)\n",
                               csbot_action_name(r->action),
                               r->intent ? " " : "", r->intent ? r->intent : "",
                               s->last.why ? s->last.why : "");
    if (r->action == CSBOT_ACTION_SILENT) {
        size_t n = rc ? 0 : csbot__copy_out(buf, size, b.data, b.len);
        csbot__buf_free(a, &b);
        return n;
    }
    if (!rc && r->reason)
        rc = csbot__buf_printf(a, &b, "handoff:    %s\n",
                               csbot_handoff_reason_name(r->reason));
    rc = rc ? rc : csbot__buf_printf(a, &b, "language:   %s\nnormalised: %s\n",
                                     csbot_lang_name(r->lang),
                                     sc->norm0.data ? sc->norm0.data : "");
    if (!rc && sc->norm.len != sc->norm0.len)
        rc = csbot__buf_printf(a, &b, "synonyms:   %s\n", sc->norm.data);
    rc = rc ? rc : csbot__buf_puts(a, &b, "tokens:    ");
    rc = rc ? rc : tokens(a, &b, sc->norm.data ? sc->norm.data : "", sc->norm.len);
    rc = rc ? rc : csbot__buf_printf(a, &b,
                                     "\nfeatures:   %zu (%zu known to the knowledge base)\n"
                                     "coverage:   %.2f (%u of %u words/character pairs known)\n"
                                     "sentiment:  %.2f (threshold %.2f)\n",
                                     sc->feats.n, sc->nids, sc->coverage, sc->known,
                                     sc->units, s->last.sentiment, kb->set.sentiment);
    for (size_t i = 0; i < sc->ncand && !rc; i++)
        if (sc->cand[i].pattern >= 0)
            rc = csbot__buf_printf(a, &b, "pattern:    %s fired: /%s/\n",
                                   kb->intents[sc->cand[i].intent].id,
                                   kb->intents[sc->cand[i].intent]
                                       .pattern_src[sc->cand[i].pattern]);
    if (!rc && s->last.limited)
        rc = csbot__buf_puts(a, &b, "pattern:    a pattern hit the match limit "
                                    "and was treated as not matching\n");
    if (!rc && sc->by_meaning)
        rc = csbot__buf_printf(a, &b,
                               "meaning:    nearest example cosine %.3f "
                               "(reference %.3f%s)\n",
                               sc->vmax, kb->vecs.ref,
                               sc->vmax < kb->vecs.ref
                                   ? ": under it, every intent loses ground"
                                   : "");
    rc = rc ? rc : csbot__buf_printf(a, &b, "candidates: intent, confidence "
                                            "(classifier probability, nearest "
                                            "example similarity%s)\n",
                                     sc->by_meaning ? ", nearest example "
                                                      "cosine by meaning"
                                                    : "");
    for (size_t i = 0; i < sc->ncand && !rc; i++) {
        const csbot__cand *c = &sc->cand[i];
        rc = csbot__buf_printf(a, &b, "  %zu. %-24s %.3f (p %.3f, sim %.3f",
                               i + 1, kb->intents[c->intent].id, c->conf,
                               c->prob, c->sim);
        if (!rc && sc->by_meaning)
            rc = csbot__buf_printf(a, &b, ", meaning %.3f",
                                   sc->vbest[c->intent]);
        rc = rc ? rc : csbot__buf_puts(a, &b, ")\n");
    }
    rc = rc ? rc : csbot__buf_printf(a, &b,
                                     "thresholds: answer %.2f, suggest %.2f, "
                                     "margin %.2f\n",
                                     kb->set.answer, kb->set.suggest,
                                     kb->set.margin);
    size_t n = rc ? csbot__copy_out(buf, size, "out of memory\n", 14)
                  : csbot__copy_out(buf, size, b.data, b.len);
    csbot__buf_free(a, &b);
    return n;
}
