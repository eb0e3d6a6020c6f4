/*
 * convert.c - Chinese script conversion with OpenCC. At knowledge-base load
 * it builds two code point maps by running OpenCC once over every CJK
 * character (one per line): Traditional -> Simplified, so that a question in
 * Traditional matches examples written in Simplified, and the set of
 * Simplified-only characters, used to tell the customer's script. Answers are
 * converted to Traditional, phrase by phrase, at load time too, so the reply
 * path never calls OpenCC. A load opens t2s and s2t for the maps and, unless
 * the answers' variant is s2t, whose handle it keeps, the variant's config.
 */
#include <opencc/opencc.h>
#include <stdio.h>

#include "convert.h"

static const uint32_t ranges[][2] = {
    {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}};

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int open_config(const char *config, opencc_t *out, char *msg,
                       size_t msgsize) {
    opencc_t oc = opencc_open(config);
    if (oc == (opencc_t)-1) {
        snprintf(msg, msgsize, "OpenCC cannot open %s: %s", config,
                 opencc_error());
        return CSBOT_ECONVERT;
    }
    *out = oc;
    return CSBOT_OK;
}

/* Convert every CJK character with the open OpenCC config oc and record
 * those that become a single different character. */
static int build_map(const csbot__alloc *a, opencc_t oc, csbot__cpmap *m,
                     char *msg, size_t msgsize) {
    size_t total = 0;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        total += ranges[r][1] - ranges[r][0] + 1;
    char *in = csbot__malloc(a, total * 4 + 1);
    if (!in)
        return CSBOT_ENOMEM;
    size_t n = 0;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (uint32_t cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
            n += put_utf8(in + n, cp);
            in[n++] = '\n';
        }
    in[n] = '\0';
    char *outs = opencc_convert_utf8(oc, in, n);
    csbot__free(a, in);
    if (!outs) {
        snprintf(msg, msgsize, "OpenCC conversion failed: %s", opencc_error());
        return CSBOT_ECONVERT;
    }
    int rc = CSBOT_OK;
    size_t cap = 0;
    m->n = 0;
    const unsigned char *p = (const unsigned char *)outs;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0] && rc == CSBOT_OK; r++)
        for (uint32_t cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
            if (!*p)
                break;
            uint32_t o;
            size_t k = csbot__utf8_next(p, &o);
            if (p[k] == '\n' && o != cp) {
                size_t c1 = cap, c2 = cap;
                void *f = m->from, *t = m->to;
                if (csbot__grow(a, &f, &c1, m->n + 1, sizeof(uint32_t)) ||
                    csbot__grow(a, &t, &c2, m->n + 1, sizeof(uint32_t))) {
                    m->from = f;
                    m->to = t;
                    rc = CSBOT_ENOMEM;
                    break;
                }
                m->from = f;
                m->to = t;
                cap = c1;
                m->from[m->n] = cp;
                m->to[m->n] = o;
                m->n++;
            }
            while (*p && *p != '\n')
                p++;
            if (*p)
                p++;
        }
    opencc_convert_utf8_free(outs);
    if (rc == CSBOT_OK) {
        m->bmp = csbot__calloc(a, 0x10000 / 64, sizeof(uint64_t));
        if (!m->bmp)
            return CSBOT_ENOMEM;
        for (size_t i = 0; i < m->n; i++)
            if (m->from[i] < 0x10000)
                csbot__bit_set(m->bmp, m->from[i]);
    }
    return rc;
}

/* Three configs, opened two or three times: the answers' variant is most
 * often s2t (the default), whose handle then also builds the map of
 * Simplified-only characters. */
int csbot__convert_open(const csbot__alloc *a, csbot__convert *c,
                        const char *variant, char *msg, size_t msgsize) {
    memset(c, 0, sizeof *c);
    char cfg[32];
    snprintf(cfg, sizeof cfg, "%s.json", variant);
    opencc_t oc;
    int rc = open_config("t2s.json", &oc, msg, msgsize);
    if (rc == CSBOT_OK) {
        rc = build_map(a, oc, &c->t2s, msg, msgsize);
        opencc_close(oc);
    }
    if (rc == CSBOT_OK)
        rc = open_config("s2t.json", &oc, msg, msgsize);
    if (rc == CSBOT_OK) {
        rc = build_map(a, oc, &c->s2t_chars, msg, msgsize);
        if (rc == CSBOT_OK && !strcmp(cfg, "s2t.json"))
            c->s2t = oc;
        else
            opencc_close(oc);
    }
    if (rc == CSBOT_OK && !c->s2t && (rc = open_config(cfg, &oc, msg, msgsize)) == CSBOT_OK)
        c->s2t = oc;
    if (rc)
        csbot__convert_free(a, c);
    return rc;
}

int csbot__convert_s2t(const csbot__alloc *a, const csbot__convert *c,
                       const char *s, char **out) {
    *out = NULL;
    if (!c->s2t)
        return CSBOT_ECONVERT;
    char *r = opencc_convert_utf8((opencc_t)c->s2t, s, strlen(s));
    if (!r)
        return CSBOT_ECONVERT;
    *out = csbot__strdup(a, r);
    opencc_convert_utf8_free(r);
    return *out ? CSBOT_OK : CSBOT_ENOMEM;
}

void csbot__convert_close_opencc(csbot__convert *c) {
    if (c->s2t)
        opencc_close((opencc_t)c->s2t);
    c->s2t = NULL;
}

void csbot__convert_free(const csbot__alloc *a, csbot__convert *c) {
    csbot__convert_close_opencc(c);
    csbot__free(a, c->t2s.from);
    csbot__free(a, c->t2s.to);
    csbot__free(a, c->t2s.bmp);
    csbot__free(a, c->s2t_chars.from);
    csbot__free(a, c->s2t_chars.to);
    csbot__free(a, c->s2t_chars.bmp);
    memset(c, 0, sizeof *c);
}
