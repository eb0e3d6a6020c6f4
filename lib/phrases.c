/*
 * phrases.c - lists of normalised phrases found by longest match in
 * normalised text: synonym groups (each member is rewritten to the group's
 * first member, in examples and messages alike) and the sentiment lexicon.
 * Latin phrases match whole words only; Chinese phrases match anywhere.
 */
#include <stdlib.h>

#include "phrases.h"
#include "utf8.h"

static int cmp_phrase(const void *x, const void *y) {
    const csbot__phrase *a = x, *b = y;
    uint32_t ca, cb;
    csbot__utf8_next((const unsigned char *)a->from, &ca);
    csbot__utf8_next((const unsigned char *)b->from, &cb);
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (a->fromlen != b->fromlen)
        return a->fromlen > b->fromlen ? -1 : 1;
    return strcmp(a->from, b->from);
}

int csbot__phrases_index(const csbot__alloc *a, csbot__phrases *ph) {
    csbot__dict_free(a, &ph->first);
    memset(ph->firstbits, 0, sizeof ph->firstbits);
    memset(ph->inword, 0, sizeof ph->inword);
    if (ph->n == 0)
        return CSBOT_OK;
    qsort(ph->p, ph->n, sizeof *ph->p, cmp_phrase);
    int rc = csbot__dict_init(a, &ph->first, ph->n);
    for (size_t i = 0; i < ph->n && !rc; i++) {
        uint32_t cp;
        csbot__utf8_next((const unsigned char *)ph->p[i].from, &cp);
        rc = csbot__dict_put(a, &ph->first, (uint64_t)cp + 1, (uint32_t)i, NULL);
        csbot__bit_set(ph->firstbits, cp & 4095);
        if (!ph->p[i].latin)
            csbot__bit_set(ph->inword, cp & 4095);
    }
    return rc;
}

void csbot__phrases_free(const csbot__alloc *a, csbot__phrases *ph) {
    for (size_t i = 0; i < ph->n; i++) {
        csbot__free(a, ph->p[i].from);
        csbot__free(a, ph->p[i].to);
    }
    csbot__free(a, ph->p);
    csbot__dict_free(a, &ph->first);
    memset(ph, 0, sizeof *ph);
}

static int boundary_before(const char *text, size_t i) {
    if (i == 0)
        return 1;
    size_t k = i - 1;
    while (k > 0 && ((unsigned char)text[k] & 0xC0) == 0x80)
        k--;
    uint32_t cp;
    csbot__utf8_next((const unsigned char *)text + k, &cp);
    return csbot__is_han(cp) || !csbot__is_wordchar(cp);
}

static int boundary_after(const char *text, size_t len, size_t i) {
    if (i >= len)
        return 1;
    uint32_t cp;
    csbot__utf8_next((const unsigned char *)text + i, &cp);
    return csbot__is_han(cp) || !csbot__is_wordchar(cp);
}

/* Whether a phrase may start at text[i] (code point cp): most code points
 * start none, and a bit says so without the lookup; inside an ASCII word
 * only the phrases that need no word boundary can start (most of English
 * text is inside words; a byte of a multi-byte character is never ASCII). */
static inline int may_start(const csbot__phrases *ph, const char *text,
                            size_t i, uint32_t cp) {
    uint32_t prev = i ? (unsigned char)text[i - 1] : 0;
    const uint64_t *bits = csbot__is_ascii_alnum(prev) &&
                                   csbot__is_ascii_alnum(cp)
                               ? ph->inword
                               : ph->firstbits;
    return csbot__bit_get(bits, cp & 4095);
}

/* The phrase matching at text[i], or NULL. */
static const csbot__phrase *find_at(const csbot__phrases *ph, const char *text,
                                    size_t len, size_t i, uint32_t cp) {
    uint32_t first;
    if (!csbot__dict_get(&ph->first, (uint64_t)cp + 1, &first))
        return NULL;
    for (size_t k = first; k < ph->n; k++) {
        const csbot__phrase *p = &ph->p[k];
        uint32_t pc;
        csbot__utf8_next((const unsigned char *)p->from, &pc);
        if (pc != cp)
            break;
        if (p->fromlen > len - i || memcmp(text + i, p->from, p->fromlen))
            continue;
        if (p->latin && (!boundary_before(text, i) ||
                         !boundary_after(text, len, i + p->fromlen)))
            continue;
        return p;
    }
    return NULL;
}

int csbot__phrases_replace(const csbot__alloc *a, const csbot__phrases *ph,
                           const char *text, size_t len, csbot__buf *out) {
    csbot__buf_clear(out);
    if (ph->n == 0)
        return csbot__buf_append(a, out, text, len);
    if (csbot__buf_reserve(a, out, len))
        return CSBOT_ENOMEM;
    size_t i = 0, copied = 0; /* text[copied..i) is still to be copied */
    while (i < len) {
        uint32_t cp;
        size_t k = csbot__utf8_next((const unsigned char *)text + i, &cp);
        const csbot__phrase *p =
            may_start(ph, text, i, cp) ? find_at(ph, text, len, i, cp) : NULL;
        if (!p) {
            i += k;
            continue;
        }
        int rc = csbot__buf_append(a, out, text + copied, i - copied);
        if (!rc)
            rc = csbot__buf_append(a, out, p->to, p->tolen);
        if (rc)
            return rc;
        i += p->fromlen;
        copied = i;
    }
    return csbot__buf_append(a, out, text + copied, len - copied);
}

float csbot__phrases_score(const csbot__phrases *ph, const char *text,
                           size_t len, unsigned *hits) {
    float sum = 0;
    unsigned h = 0;
    size_t i = 0;
    while (ph->n && i < len) {
        uint32_t cp;
        size_t k = csbot__utf8_next((const unsigned char *)text + i, &cp);
        const csbot__phrase *p =
            may_start(ph, text, i, cp) ? find_at(ph, text, len, i, cp) : NULL;
        if (p) {
            sum += p->weight;
            h += p->weight > 0;
            i += p->fromlen;
        } else {
            i += k;
        }
    }
    if (hits)
        *hits = h;
    return sum;
}
