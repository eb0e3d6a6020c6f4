/*
 * faqgen.c - build FAQ-style benchmark knowledge bases from the public data.
 *
 *   faqgen DATA_DIR OUT_DIR [--size N] [--cut M] [--sample S] [--held-out H]
 *
 * Collects every sentence of
 *   DATA_DIR/<set>/<split>.tsv        (label<TAB>text: all splits of all sets,
 *                                       hint3 included)
 *   DATA_DIR/dataclue_afqmc/<f>.json  (sentence1 and sentence2 of every pair)
 *   DATA_DIR/smp2017_ecdt_task1/Chinese_data.csv   (Sentence<TAB>Tag)
 *   DATA_DIR/clinc150/data_full.json  (adds the oos_train / oos_val queries)
 * keeps one copy of each distinct sentence (key: ASCII lower-cased, ASCII
 * punctuation removed, white space collapsed), shuffles them with a fixed
 * seed, holds out H (default 500) that go into no KB, and writes
 *   OUT_DIR/faq_full.json         one intent per sentence, up to N (100000)
 *   OUT_DIR/faq_10k.json          the first M (10000) intents of it
 *   OUT_DIR/faq_full.queries.tsv  intent<TAB>query: S (2000) of the KB's own
 *   OUT_DIR/faq_10k.queries.tsv   sentences, S lightly perturbed copies of
 *                                 them (English: a word dropped or a letter
 *                                 dropped; Chinese: a character dropped or
 *                                 two swapped), and the H held-out sentences
 *                                 labelled _oos
 * and prints the counts on stdout. Deterministic: same data, same output.
 */
#include <ctype.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static void die(const char *what, const char *arg) {
    fprintf(stderr, "faqgen: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p)
        die("out of memory", NULL);
    return p;
}

/* ---- deterministic random numbers (xorshift64*) ------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* ---- the sentence pool -------------------------------------------------- */

typedef struct {
    char **s;
    size_t n, cap;
    /* open-addressing set of keys */
    char **keys;
    size_t kcap, kn;
} pool;

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int key_insert(pool *p, char *key) {
    if ((p->kn + 1) * 2 > p->kcap) {
        size_t ncap = p->kcap ? p->kcap * 2 : 1 << 16;
        char **nk = calloc(ncap, sizeof *nk);
        if (!nk)
            die("out of memory", NULL);
        for (size_t i = 0; i < p->kcap; i++)
            if (p->keys[i]) {
                size_t j = fnv(p->keys[i]) & (ncap - 1);
                while (nk[j])
                    j = (j + 1) & (ncap - 1);
                nk[j] = p->keys[i];
            }
        free(p->keys);
        p->keys = nk;
        p->kcap = ncap;
    }
    size_t j = fnv(key) & (p->kcap - 1);
    while (p->keys[j]) {
        if (strcmp(p->keys[j], key) == 0)
            return 0;
        j = (j + 1) & (p->kcap - 1);
    }
    p->keys[j] = key;
    p->kn++;
    return 1;
}

static int valid_utf8(const unsigned char *s) {
    while (*s) {
        unsigned c = *s;
        int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2
                : (c >> 3) == 30 ? 3 : -1;
        if (n < 0 || (n == 1 && c < 0xC2) || c > 0xF4)
            return 0;
        s++;
        for (int i = 0; i < n; i++, s++)
            if ((*s & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

static int has_cjk(const char *s);

/* Something to match: an ASCII letter or digit, or a CJK character. */
static int has_content(const char *s) {
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x80 && isalnum((unsigned char)*c))
            return 1;
    return has_cjk(s);
}

/* Add a sentence (trimmed, white space collapsed) if its key is new.
 * Returns 1 when added. */
static int pool_add(pool *p, const char *raw) {
    size_t n = strlen(raw);
    char *s = xrealloc(NULL, n + 1), *k = xrealloc(NULL, n + 1);
    size_t sn = 0, kn = 0;
    int space = 0;
    for (const unsigned char *c = (const unsigned char *)raw; *c; c++) {
        if (*c < 0x80 && isspace(*c)) {
            space = 1;
            continue;
        }
        if (space && sn > 0)
            s[sn++] = ' ';
        if (space && kn > 0 && k[kn - 1] != ' ')
            k[kn++] = ' ';
        space = 0;
        s[sn++] = (char)*c;
        if (*c < 0x80 && ispunct(*c))
            continue;
        k[kn++] = (char)(*c < 0x80 ? tolower(*c) : *c);
    }
    s[sn] = '\0';
    while (kn > 0 && k[kn - 1] == ' ')
        kn--;
    k[kn] = '\0';
    int ok = kn > 0 && sn <= 2000 && valid_utf8((unsigned char *)s) &&
             has_content(s);
    if (!ok || !key_insert(p, k)) { /* k belongs to the set once inserted */
        free(s);
        free(k);
        return 0;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1 << 16;
        p->s = xrealloc(p->s, p->cap * sizeof *p->s);
    }
    p->s[p->n++] = s;
    return 1;
}

/* ---- readers ------------------------------------------------------------ */

/* Tab-separated file; take column col (0-based), optionally skip a header. */
static size_t read_tsv(pool *p, const char *path, int col, int header,
                       size_t *rows) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, added = 0;
    ssize_t got;
    int first = 1;
    while ((got = getline(&line, &cap, f)) != -1) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (first && header) {
            first = 0;
            continue;
        }
        first = 0;
        char *t = line;
        for (int c = 0; c < col && t; c++) {
            t = strchr(t, '\t');
            if (t)
                t++;
        }
        if (!t)
            continue;
        char *end = strchr(t, '\t');
        if (end)
            *end = '\0';
        (*rows)++;
        added += (size_t)pool_add(p, t);
    }
    free(line);
    fclose(f);
    return added;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = xrealloc(NULL, (size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        die("cannot read", path);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* JSON Lines with "sentence1"/"sentence2" string members. */
static size_t read_afqmc(pool *p, const char *path, size_t *rows) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, added = 0;
    while (getline(&line, &cap, f) != -1) {
        cJSON *j = cJSON_Parse(line);
        if (!j)
            continue;
        const char *names[2] = {"sentence1", "sentence2"};
        for (int i = 0; i < 2; i++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, names[i]);
            if (cJSON_IsString(s)) {
                (*rows)++;
                added += (size_t)pool_add(p, s->valuestring);
            }
        }
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    return added;
}

/* CLINC150 data_full.json: {"split": [[text, label], ...], ...}. */
static size_t read_clinc_full(pool *p, const char *path, size_t *rows) {
    char *b = slurp(path);
    if (!b)
        return 0;
    cJSON *j = cJSON_Parse(b);
    free(b);
    if (!j)
        return 0;
    size_t added = 0;
    const cJSON *split, *pair;
    cJSON_ArrayForEach(split, j) {
        cJSON_ArrayForEach(pair, split) {
            const cJSON *t = cJSON_GetArrayItem(pair, 0);
            if (cJSON_IsString(t)) {
                (*rows)++;
                added += (size_t)pool_add(p, t->valuestring);
            }
        }
    }
    cJSON_Delete(j);
    return added;
}

/* ---- output ------------------------------------------------------------- */

static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

static int has_cjk(const char *s) {
    /* any code point in U+2E80..U+9FFF or U+F900..U+FAFF */
    const unsigned char *c = (const unsigned char *)s;
    while (*c) {
        if ((*c >> 4) == 14 && c[1] && c[2]) {
            unsigned cp = ((unsigned)(c[0] & 0x0F) << 12) |
                          ((unsigned)(c[1] & 0x3F) << 6) | (c[2] & 0x3F);
            if ((cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF))
                return 1;
        }
        c++;
    }
    return 0;
}

static void write_kb(const char *path, const char *name, char **s, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write", path);
    fprintf(f, "{\"csbot\": 1, \"name\": ");
    put_json_string(f, name);
    fprintf(f, ",\n\"intents\": [\n");
    for (size_t i = 0; i < n; i++) {
        const char *lang = has_cjk(s[i]) ? "zh" : "en";
        fprintf(f, "{\"id\": \"faq_%06zu\", \"examples\": {\"%s\": [", i + 1,
                lang);
        put_json_string(f, s[i]);
        fprintf(f,
                "]}, \"responses\": [{\"zh\": \"常见问题 %zu 的答案\", "
                "\"en\": \"Answer to FAQ %zu\"}]}%s\n",
                i + 1, i + 1, i + 1 < n ? "," : "");
    }
    fprintf(f, "]}\n");
    if (fclose(f) != 0)
        die("cannot write", path);
}

/* Byte offsets of the code points of s (n of them, plus the end). */
static size_t cp_offsets(const char *s, size_t *off, size_t max) {
    size_t n = 0;
    for (size_t i = 0; s[i] && n < max; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            off[n++] = i;
    off[n] = strlen(s);
    return n;
}

/* A light perturbation of s into out (size >= strlen(s) + 1). */
static void perturb(const char *s, char *out, int variant) {
    size_t len = strlen(s);
    if (has_cjk(s)) {
        size_t off[2048];
        size_t n = cp_offsets(s, off, 2047);
        if (n >= 4 && variant == 0) { /* drop one character */
            size_t k = rnd_below(n);
            memcpy(out, s, off[k]);
            memcpy(out + off[k], s + off[k + 1], len - off[k + 1] + 1);
            return;
        }
        if (n >= 3) { /* swap two adjacent characters */
            size_t k = rnd_below(n - 1);
            size_t a = off[k], b = off[k + 1], c = off[k + 2];
            memcpy(out, s, a);
            memcpy(out + a, s + b, c - b);
            memcpy(out + a + (c - b), s + a, b - a);
            memcpy(out + c, s + c, len - c + 1);
            return;
        }
        memcpy(out, s, len + 1);
        return;
    }
    /* English: words are runs separated by single spaces */
    size_t ws[512], we[512], nw = 0;
    for (size_t i = 0; i < len && nw < 512;) {
        while (i < len && s[i] == ' ')
            i++;
        if (i >= len)
            break;
        ws[nw] = i;
        while (i < len && s[i] != ' ')
            i++;
        we[nw++] = i;
    }
    if (nw >= 3 && variant == 0) { /* drop one word */
        size_t k = rnd_below(nw);
        size_t a = ws[k], b = k + 1 < nw ? ws[k + 1] : len;
        if (k + 1 == nw && a > 0)
            a--; /* drop the space before the last word */
        memcpy(out, s, a);
        memcpy(out + a, s + b, len - b + 1);
        return;
    }
    /* drop one letter inside the longest word (a typo) */
    size_t best = 0;
    for (size_t k = 1; k < nw; k++)
        if (we[k] - ws[k] > we[best] - ws[best])
            best = k;
    if (nw > 0 && we[best] - ws[best] >= 4) {
        size_t k = ws[best] + 1 + rnd_below(we[best] - ws[best] - 2);
        memcpy(out, s, k);
        memcpy(out + k, s + k + 1, len - k);
        return;
    }
    memcpy(out, s, len + 1);
}

static void write_queries(const char *path, char **s, size_t n,
                          char **held, size_t nheld, size_t sample) {
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write", path);
    if (sample > n)
        sample = n;
    /* partial Fisher-Yates over indices */
    size_t *idx = xrealloc(NULL, n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < sample; i++) {
        size_t j = i + rnd_below(n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 0; i < sample; i++)
        fprintf(f, "faq_%06zu\t%s\n", idx[i] + 1, s[idx[i]]);
    for (size_t i = 0; i < sample; i++) {
        const char *x = s[idx[i]];
        char *out = xrealloc(NULL, strlen(x) + 1);
        perturb(x, out, (int)(i & 1));
        fprintf(f, "faq_%06zu\t%s\n", idx[i] + 1, out);
        free(out);
    }
    for (size_t i = 0; i < nheld; i++)
        fprintf(f, "_oos\t%s\n", held[i]);
    free(idx);
    if (fclose(f) != 0)
        die("cannot write", path);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: faqgen DATA_DIR OUT_DIR [--size N] [--cut M] "
                        "[--sample S] [--held-out H]\n");
        return 2;
    }
    const char *data = argv[1], *out = argv[2];
    size_t size = 100000, cut = 10000, sample = 2000, nheld = 500;
    for (int i = 3; i + 1 < argc; i += 2) {
        size_t v = strtoul(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--size") == 0)
            size = v;
        else if (strcmp(argv[i], "--cut") == 0)
            cut = v;
        else if (strcmp(argv[i], "--sample") == 0)
            sample = v;
        else if (strcmp(argv[i], "--held-out") == 0)
            nheld = v;
        else
            die("unknown option", argv[i]);
    }

    pool p;
    memset(&p, 0, sizeof p);
    char pat[4096], path[4096];
    size_t rows, added;

    rows = 0;
    snprintf(pat, sizeof pat, "%s/*/*.tsv", data);
    glob_t g;
    added = 0;
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            added += read_tsv(&p, g.gl_pathv[i], 1, 0, &rows);
        printf("tsv splits (%zu files):   %6zu sentences, %6zu new\n",
               g.gl_pathc, rows, added);
        globfree(&g);
    }
    rows = 0;
    added = 0;
    const char *afq[] = {"train.json", "dev.json", "test_public.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/dataclue_afqmc/%s", data, afq[i]);
        added += read_afqmc(&p, path, &rows);
    }
    printf("dataclue_afqmc json:      %6zu sentences, %6zu new\n", rows, added);
    rows = 0;
    snprintf(path, sizeof path, "%s/smp2017_ecdt_task1/Chinese_data.csv", data);
    added = read_tsv(&p, path, 0, 1, &rows);
    printf("smp2017 csv:              %6zu sentences, %6zu new\n", rows, added);
    rows = 0;
    snprintf(path, sizeof path, "%s/clinc150/data_full.json", data);
    added = read_clinc_full(&p, path, &rows);
    printf("clinc150 data_full.json:  %6zu sentences, %6zu new\n", rows, added);
    printf("distinct sentences:       %6zu\n", p.n);
    if (p.n <= nheld + 1)
        die("too few sentences", NULL);

    /* shuffle the whole pool */
    for (size_t i = p.n - 1; i > 0; i--) {
        size_t j = rnd_below(i + 1);
        char *t = p.s[i];
        p.s[i] = p.s[j];
        p.s[j] = t;
    }
    char **held = p.s;
    char **kb = p.s + nheld;
    size_t nkb = p.n - nheld;
    if (nkb > size)
        nkb = size;
    if (cut > nkb)
        cut = nkb;
    printf("held out (not in any KB): %6zu\n", nheld);
    printf("full FAQ KB:              %6zu entries%s\n", nkb,
           nkb < size ? " (fewer distinct sentences than requested)" : "");
    printf("cut FAQ KB:               %6zu entries\n", cut);

    char name[64];
    snprintf(path, sizeof path, "%s/faq_full.json", out);
    snprintf(name, sizeof name, "FAQ %zu", nkb);
    write_kb(path, name, kb, nkb);
    snprintf(path, sizeof path, "%s/faq_10k.json", out);
    snprintf(name, sizeof name, "FAQ %zu", cut);
    write_kb(path, name, kb, cut);
    snprintf(path, sizeof path, "%s/faq_full.queries.tsv", out);
    write_queries(path, kb, nkb, held, nheld, sample);
    snprintf(path, sizeof path, "%s/faq_10k.queries.tsv", out);
    write_queries(path, kb, cut, held, nheld, sample);
    for (size_t i = 0; i < p.n; i++)
        free(p.s[i]);
    free(p.s);
    for (size_t i = 0; i < p.kcap; i++)
        free(p.keys[i]);
    free(p.keys);
    return 0;
}
