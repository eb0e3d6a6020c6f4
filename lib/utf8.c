/*
 * utf8.c - validates UTF-8 at the library's boundary and normalises text for
 * matching with utf8proc: NFKC (which also folds full-width forms to ASCII),
 * case folding, accent stripping, punctuation lumping, removal of control and
 * ignorable characters, and Traditional -> Simplified Chinese through a code
 * point map built from OpenCC's data at load time. All work happens in
 * caller-kept buffers (utf8proc_decompose_custom/reencode), never
 * utf8proc_map, so the reply path does not allocate once warm. Text of
 * printable ASCII alone only needs its case folded and skips utf8proc.
 */
#include <utf8proc.h>

#include "utf8.h"

uint32_t csbot__cpmap_get(const csbot__cpmap *m, uint32_t cp) {
    if (!m || !m->n)
        return 0;
    if (cp < 0x10000 && m->bmp && !csbot__bit_get(m->bmp, cp))
        return 0;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->from[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < m->n && m->from[lo] == cp) ? m->to[lo] : 0;
}

int csbot__utf8_check(const char *s, size_t len, size_t *bad) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp, min;
        if (c == 0)
            goto fail;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
        else goto fail;
        if (len - i < n)
            goto fail;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                goto fail;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto fail;
        i += n;
    }
    return CSBOT_OK;
fail:
    if (bad)
        *bad = i;
    return CSBOT_EUTF8;
}

int csbot__is_wordchar_nonascii(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           c == UTF8PROC_CATEGORY_ND;
}

int csbot__utf8_is_blank(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    while (p < e) {
        uint32_t cp;
        p += csbot__utf8_next(p, &cp);
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (c != UTF8PROC_CATEGORY_ZS && c != UTF8PROC_CATEGORY_ZL &&
            c != UTF8PROC_CATEGORY_ZP && c != UTF8PROC_CATEGORY_CC &&
            c != UTF8PROC_CATEGORY_CF && c != UTF8PROC_CATEGORY_MN &&
            c != UTF8PROC_CATEGORY_ME)
            return 0;
    }
    return 1;
}

int csbot__is_digit(uint32_t cp) {
    return cp >= '0' && cp <= '9';
}

typedef struct mapctx {
    const csbot__cpmap *t2s;
    const csbot__cpmap *s2t;
    csbot__script *sc;
} mapctx;

static utf8proc_int32_t map_cp(utf8proc_int32_t cp, void *data) {
    mapctx *m = data;
    uint32_t u = (uint32_t)cp;
    if (m->sc) {
        if (u == '!' || u == 0xFF01)
            m->sc->excl++;
        if ((u >= 'A' && u <= 'Z') || (u >= 0xFF21 && u <= 0xFF3A))
            m->sc->upper++;
    }
    if (csbot__is_han(u)) {
        uint32_t s = csbot__cpmap_get(m->t2s, u);
        if (m->sc) {
            m->sc->han++;
            if (s)
                m->sc->trad++;
            else if (csbot__cpmap_get(m->s2t, u))
                m->sc->simp++;
        }
        if (s)
            return (utf8proc_int32_t)s;
    }
    return cp;
}

static int run(const csbot__alloc *a, csbot__normbuf *nb, const char *s,
               size_t len, int options, mapctx *ctx, csbot__buf *out) {
    for (;;) {
        utf8proc_ssize_t n = utf8proc_decompose_custom(
            (const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, nb->cps,
            (utf8proc_ssize_t)nb->cap, (utf8proc_option_t)options,
            ctx ? map_cp : NULL, ctx);
        if (n < 0)
            return n == UTF8PROC_ERROR_NOMEM ? CSBOT_ENOMEM : CSBOT_EUTF8;
        /* reencode needs n + 1 code points of room: its UTF-8 output (up to
         * 4 bytes each) and a terminating NUL, also when n is 0 */
        if ((size_t)n >= nb->cap) {
            void *p = nb->cps;
            int rc = csbot__grow(a, &p, &nb->cap, (size_t)n + 1, sizeof(int32_t));
            nb->cps = p;
            if (rc)
                return rc;
            if (ctx && ctx->sc)
                memset(ctx->sc, 0, sizeof *ctx->sc);
            continue;
        }
        /* reencode writes UTF-8 over the code points; 4 bytes each at most,
         * and the buffer holds (n + 1) * 4 bytes. */
        utf8proc_ssize_t m = utf8proc_reencode(nb->cps, n,
                                               (utf8proc_option_t)options);
        if (m < 0)
            return CSBOT_EUTF8;
        return csbot__buf_append(a, out, (const char *)nb->cps, (size_t)m);
    }
}

/* Whether s[0..len) is all printable ASCII (space to '~'). */
static int printable_ascii(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned char bad = 0;
    for (size_t i = 0; i < len; i++)
        bad |= (unsigned char)((p[i] < 0x20) | (p[i] > 0x7E));
    return !bad;
}

/* The normalisation of printable ASCII, without utf8proc: each of these
 * characters is its own NFKC form, has no mark to strip, is not ignorable,
 * lumps to itself and is no control character, so only case folding
 * (A-Z to a-z) changes anything; the script counts are taken on the way.
 * Most English messages take this path; test/check_text.c compares it with
 * utf8proc's result. */
static int fold_ascii(const csbot__alloc *a, const char *s, size_t len,
                      csbot__script *sc, csbot__buf *out) {
    size_t start = out->len;
    int rc = csbot__buf_append(a, out, s, len);
    if (rc)
        return rc;
    unsigned char *p = (unsigned char *)out->data + start;
    unsigned upper = 0, excl = 0, latin = 0, words = 0, inword = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        unsigned up = (unsigned)(c >= 'A' && c <= 'Z');
        upper += up;
        excl += c == '!';
        c = (unsigned char)(c | (up << 5));
        p[i] = c;
        unsigned w = (unsigned)(c >= 'a' && c <= 'z');
        latin += w;
        words += w & ~inword;
        inword = w;
    }
    if (sc) {
        sc->upper = upper;
        sc->excl = excl;
        sc->latin = latin;
        sc->words = words;
    }
    return CSBOT_OK;
}

int csbot__utf8_normalize(const csbot__alloc *a, csbot__normbuf *nb,
                          const char *s, size_t len, const csbot__cpmap *t2s,
                          const csbot__cpmap *s2t, csbot__buf *out,
                          csbot__script *sc) {
    mapctx ctx = {t2s, s2t, sc};
    if (sc)
        memset(sc, 0, sizeof *sc);
    int opt = UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
              UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP |
              UTF8PROC_NLF2LS | UTF8PROC_STRIPCC;
    size_t start = out->len;
    if (printable_ascii(s, len))
        return fold_ascii(a, s, len, sc, out);
    int rc = run(a, nb, s, len, opt, &ctx, out);
    if (rc == CSBOT_OK && sc) {
        /* count words of Latin letters in the result */
        const unsigned char *p = (const unsigned char *)out->data + start;
        const unsigned char *e = (const unsigned char *)out->data + out->len;
        int inword = 0;
        while (p < e) {
            uint32_t cp;
            p += csbot__utf8_next(p, &cp);
            int w = !csbot__is_han(cp) && csbot__is_wordchar(cp) &&
                    !csbot__is_digit(cp);
            if (w) {
                sc->latin++;
                if (!inword)
                    sc->words++;
            }
            inword = w;
        }
    }
    return rc;
}

int csbot__utf8_nfkc(const csbot__alloc *a, csbot__normbuf *nb, const char *s,
                     size_t len, csbot__buf *out) {
    return run(a, nb, s, len, UTF8PROC_COMPAT | UTF8PROC_COMPOSE, NULL, out);
}

void csbot__normbuf_free(const csbot__alloc *a, csbot__normbuf *nb) {
    csbot__free(a, nb->cps);
    nb->cps = NULL;
    nb->cap = 0;
}
