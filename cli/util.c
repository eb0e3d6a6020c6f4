/*
 * util.c - helpers shared by the csbot commands: allocation that dies on
 * out-of-memory, whole-file I/O, reading label<TAB>text files with getline,
 * monotonic timing, option parsing, knowledge-base loading with readable
 * errors, and small UTF-8 checks.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* ---- memory ----------------------------------------------------------- */

static void out_of_memory(void) {
    fputs("csbot: out of memory\n", stderr);
    exit(EXIT_FAIL);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory();
    return q;
}

char *xstrndup(const char *s, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* ---- time ------------------------------------------------------------- */

double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- files ------------------------------------------------------------ */

int read_file(const char *path, char **data, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (cap - n < 4096) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int rc = ferror(f) ? (errno ? errno : EIO) : 0;
    if (f != stdin)
        fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int write_file(const char *path, const void *data, size_t len) {
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f)
        return errno ? errno : EIO;
    int rc = 0;
    if (fwrite(data, 1, len, f) != len)
        rc = errno ? errno : EIO;
    if (to_stdout) {
        if (fflush(f) != 0 && !rc)
            rc = errno ? errno : EIO;
    } else if (fclose(f) != 0 && !rc) {
        rc = errno ? errno : EIO;
    }
    return rc;
}

cJSON *read_json_object(const char *cmd, const char *path, int *status) {
    char *text;
    size_t len;
    int e = read_file(path, &text, &len);
    if (e) {
        fprintf(stderr, "csbot %s: cannot read %s: %s\n", cmd, path,
                strerror(e));
        *status = EXIT_USAGE;
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        fprintf(stderr, "csbot %s: %s is not a JSON object\n", cmd, path);
        cJSON_Delete(root);
        *status = EXIT_FAIL;
        return NULL;
    }
    *status = EXIT_OK;
    return root;
}

int write_json(const char *cmd, const char *path, const cJSON *root) {
    char *out = cJSON_Print(root);
    if (!out) {
        fputs("csbot: out of memory\n", stderr);
        return EXIT_FAIL;
    }
    size_t n = strlen(out);
    out[n] = '\n'; /* cJSON_Print's buffer ends in NUL; write it as newline */
    int e = write_file(path, out, n + 1);
    cJSON_free(out);
    if (e) {
        fprintf(stderr, "csbot %s: cannot write %s: %s\n", cmd, path,
                strerror(e));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ---- TSV -------------------------------------------------------------- */

static void tsv_add(tsv_table *t, const char *label, size_t label_len,
                    const char *text, size_t text_len, size_t line) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->rows = xrealloc(t->rows, t->cap * sizeof *t->rows);
    }
    tsv_row *r = &t->rows[t->n++];
    r->label = xstrndup(label, label_len);
    r->text = xstrndup(text, text_len);
    r->line = line;
}

int tsv_read(const char *path, tsv_table *t, int report_blank) {
    memset(t, 0, sizeof *t);
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "csbot: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) != -1) {
        size_t len = (size_t)got;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        /* A UTF-8 byte-order mark on the first line is not part of a label. */
        size_t start = 0;
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
            start = 3;
        const char *s = line + start;
        size_t n = len - start;
        size_t blank = 0;
        while (blank < n && (s[blank] == ' ' || s[blank] == '\t'))
            blank++;
        if (blank == n) {
            if (report_blank) {
                fprintf(stderr, "%s:%zu: blank line skipped\n", path, lineno);
                t->skipped++;
            }
            continue;
        }
        const char *tab = memchr(s, '\t', n);
        if (!tab) {
            fprintf(stderr, "%s:%zu: no tab between label and text; line skipped\n",
                    path, lineno);
            t->skipped++;
            continue;
        }
        tsv_add(t, s, (size_t)(tab - s), tab + 1, n - (size_t)(tab - s) - 1,
                lineno);
    }
    int err = ferror(f);
    free(line);
    if (f != stdin)
        fclose(f);
    if (err) {
        fprintf(stderr, "csbot: error reading %s\n", path);
        tsv_free(t);
        return -1;
    }
    return 0;
}

void tsv_free(tsv_table *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].label);
        free(t->rows[i].text);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- arguments -------------------------------------------------------- */

int opt_value(const char *cmd, int argc, char **argv, int *i,
              const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return 0;
    if (a[2 + n] == '=') {
        *val = a + 3 + n;
        return 1;
    }
    if (a[2 + n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        exit(usage_error(cmd, "option --%s needs a value", name));
    *val = argv[++*i];
    return 1;
}

int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int parse_size(const char *s, size_t *out) {
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno || v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* ---- knowledge bases -------------------------------------------------- */

const char *default_kb_path(void) {
    return access("intents/shop.json", F_OK) == 0 ? "intents/shop.json"
                                                   : "intents/demo.json";
}

char *format_kb_error(const csbot_error *err) {
    size_t need = csbot_error_format(err, NULL, 0);
    char *buf = xmalloc(need + 1);
    csbot_error_format(err, buf, need + 1);
    return buf;
}

/* The one piece of process-wide state in the tool: set once by main()
 * before the command runs. */
static csbot_encoder *the_encoder;

void cli_set_encoder(csbot_encoder *enc) {
    the_encoder = enc;
}

const csbot_encoder *cli_encoder(void) {
    return the_encoder;
}

csbot_kb_options cli_kb_options(const csbot_kb_options *opts) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    if (opts)
        o = *opts;
    o.version = CSBOT_KB_OPTIONS_VERSION;
    o.encoder = the_encoder;
    return o;
}

void report_error(csbot_error *err, int rc, const char *source) {
    if (err->code == CSBOT_OK)
        err->code = rc;
    if (!err->message[0])
        snprintf(err->message, sizeof err->message, "%s", csbot_strerror(rc));
    if (!err->source[0])
        snprintf(err->source, sizeof err->source, "%s", source);
    char *text = format_kb_error(err);
    fprintf(stderr, "%s\n", text);
    free(text);
}

int load_kb(const char *path, const csbot_kb_options *opts, csbot_kb **kb,
            double *ms) {
    csbot_error err = CSBOT_ERROR_INIT;
    csbot_kb_options o = cli_kb_options(opts);
    double t0 = mono_ms();
    int rc = csbot_kb_load_file(kb, path, &o, &err);
    if (ms)
        *ms = mono_ms() - t0;
    if (rc != CSBOT_OK) {
        report_error(&err, rc, path);
        *kb = NULL;
    }
    return rc;
}

/* ---- UTF-8 ------------------------------------------------------------ */

/* Decode one code point at s[*i] (valid UTF-8 only); -1 when invalid. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i) {
    unsigned c = s[*i];
    size_t need;
    unsigned long cp;
    if (c < 0x80) {
        ++*i;
        return (long)c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (len - *i <= need)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        unsigned d = s[*i + k];
        if ((d & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (d & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += need + 1;
    return (long)cp;
}

int utf8_valid(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        long cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp <= 0) /* invalid, or an embedded NUL */
            return 0;
    }
    return 1;
}

int has_cjk(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        long cp = utf8_next((const unsigned char *)s, len, &i);
        if (cp < 0) {
            i++;
            continue;
        }
        if ((cp >= 0x3400 && cp <= 0x4DBF) ||   /* Extension A */
            (cp >= 0x4E00 && cp <= 0x9FFF) ||   /* Unified Ideographs */
            (cp >= 0xF900 && cp <= 0xFAFF) ||   /* Compatibility */
            (cp >= 0x3100 && cp <= 0x312F) ||   /* Bopomofo */
            (cp >= 0x20000 && cp <= 0x3134F))   /* Extensions B.. */
            return 1;
    }
    return 0;
}

void replace_chars(char *s, const char *bad, char with) {
    for (; *s; s++)
        if (strchr(bad, *s))
            *s = with;
}

double round2(double x) { return round(x * 100.0) / 100.0; }
