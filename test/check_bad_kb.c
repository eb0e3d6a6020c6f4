/*
 * check_bad_kb.c - data-driven tests of knowledge bases that must not load
 * (PCRE2's testdata style): every .json file in test/data/bad is loaded and
 * the error compared with its line in test/data/bad/EXPECT:
 *
 *   file<TAB>CODE_NAME<TAB>json_path<TAB>line<TAB>column
 *
 * where json_path "-" means none and column "*" means any. A file without a
 * line (or a line without a file) fails, so the corpus cannot shrink
 * silently. The tests run from the top of the source tree.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

#define BAD_DIR "test/data/bad"
#define MAX_CASES 256

typedef struct bad_case {
    char file[128];
    int code;
    char path[256];
    unsigned line;
    long column; /* -1: any */
} bad_case;

static const struct {
    const char *name;
    int code;
} code_names[] = {
    {"CSBOT_ENOMEM", CSBOT_ENOMEM},   {"CSBOT_EINVAL", CSBOT_EINVAL},
    {"CSBOT_EIO", CSBOT_EIO},         {"CSBOT_EJSON", CSBOT_EJSON},
    {"CSBOT_ESCHEMA", CSBOT_ESCHEMA}, {"CSBOT_EREGEX", CSBOT_EREGEX},
    {"CSBOT_EUTF8", CSBOT_EUTF8},     {"CSBOT_ETOOBIG", CSBOT_ETOOBIG},
    {"CSBOT_ECONVERT", CSBOT_ECONVERT},
};

/* Filled once when the suite is built (the loop test needs the count). */
static bad_case cases[MAX_CASES];
static int ncases;
static char parse_error[512];

static int code_of(const char *name, int *code) {
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (strcmp(code_names[i].name, name) == 0) {
            *code = code_names[i].code;
            return 1;
        }
    return 0;
}

/* Split s at tabs into at most max fields; returns the count. */
static int split_tabs(char *s, char **f, int max) {
    int n = 0;
    f[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static void read_expect(void) {
    ncases = 0;
    parse_error[0] = '\0';
    FILE *f = fopen(BAD_DIR "/EXPECT", "r");
    if (!f) {
        snprintf(parse_error, sizeof parse_error, "cannot open %s/EXPECT",
                 BAD_DIR);
        return;
    }
    char line[1024];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *fld[6];
        int nf = split_tabs(line, fld, 6);
        bad_case *c = &cases[ncases];
        char *end = NULL;
        if (nf != 5 || ncases == MAX_CASES || !code_of(fld[1], &c->code) ||
            strlen(fld[0]) >= sizeof c->file ||
            strlen(fld[2]) >= sizeof c->path) {
            snprintf(parse_error, sizeof parse_error,
                     "EXPECT line %u is malformed", lineno);
            break;
        }
        snprintf(c->file, sizeof c->file, "%s", fld[0]);
        snprintf(c->path, sizeof c->path, "%s",
                 strcmp(fld[2], "-") == 0 ? "" : fld[2]);
        c->line = (unsigned)strtoul(fld[3], &end, 10);
        if (*end || !*fld[3]) {
            snprintf(parse_error, sizeof parse_error,
                     "EXPECT line %u: bad line number", lineno);
            break;
        }
        if (strcmp(fld[4], "*") == 0) {
            c->column = -1;
        } else {
            c->column = strtol(fld[4], &end, 10);
            if (*end || !*fld[4]) {
                snprintf(parse_error, sizeof parse_error,
                         "EXPECT line %u: bad column", lineno);
                break;
            }
        }
        for (int k = 0; k < ncases; k++)
            if (strcmp(cases[k].file, c->file) == 0)
                snprintf(parse_error, sizeof parse_error,
                         "EXPECT line %u: %s listed twice", lineno, c->file);
        if (parse_error[0])
            break;
        ncases++;
    }
    fclose(f);
}

START_TEST(expect_file_is_valid) {
    ck_assert_msg(parse_error[0] == '\0', "%s", parse_error);
    ck_assert_int_ge(ncases, 20);
}
END_TEST

static int has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Every *.json in the directory has an EXPECT line, and every line a file. */
START_TEST(every_file_has_expectation) {
    ck_assert_msg(parse_error[0] == '\0', "%s", parse_error);
    DIR *d = opendir(BAD_DIR);
    ck_assert_msg(d != NULL, "cannot open %s", BAD_DIR);
    int seen[MAX_CASES] = {0};
    int files = 0;
    struct dirent *e;
    char missing[1024] = "";
    while ((e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".json"))
            continue;
        files++;
        int k;
        for (k = 0; k < ncases; k++)
            if (strcmp(cases[k].file, e->d_name) == 0)
                break;
        if (k < ncases)
            seen[k] = 1;
        else if (strlen(missing) + strlen(e->d_name) + 2 < sizeof missing) {
            strcat(missing, " ");
            strcat(missing, e->d_name);
        }
    }
    closedir(d);
    ck_assert_msg(missing[0] == '\0', "no EXPECT line for:%s", missing);
    for (int k = 0; k < ncases; k++)
        ck_assert_msg(seen[k], "EXPECT names %s, which does not exist",
                      cases[k].file);
    ck_assert_int_eq(files, ncases);
}
END_TEST

START_TEST(bad_kb_fails_as_expected) {
    ck_assert_msg(parse_error[0] == '\0', "%s", parse_error);
    ck_assert_int_lt(_i, ncases);
    const bad_case *c = &cases[_i];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", BAD_DIR, c->file);
    csbot_kb *kb = (csbot_kb *)&path; /* must become NULL */
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_file(&kb, path, NULL, &err);
    char text[1024];
    csbot_error_format(&err, text, sizeof text);
    ck_assert_ptr_null(kb);
    ck_assert_msg(rc == c->code, "%s: got %s, want %s; error: %s", c->file,
                  csbot_strerror(rc), csbot_strerror(c->code), text);
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(strcmp(err.json_path, c->path) == 0,
                  "%s: json_path \"%s\", want \"%s\"; error: %s", c->file,
                  err.json_path, c->path, text);
    ck_assert_msg(err.line == c->line &&
                      (c->column < 0 || err.column == (unsigned)c->column),
                  "%s: at %u:%u, want %u:%ld; error: %s", c->file, err.line,
                  err.column, c->line, c->column, text);
    ck_assert_str_eq(err.source, path);
    ck_assert_int_gt((int)strlen(err.message), 0);
    /* the offset agrees with the line and column */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < err.offset; i++) {
        int ch = fgetc(f);
        ck_assert_int_ne(ch, EOF);
        if (ch == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    fclose(f);
    ck_assert_uint_eq(line, err.line);
    ck_assert_uint_eq(col, err.column);
}
END_TEST

Suite *bad_kb_suite(void) {
    read_expect();
    Suite *s = suite_create("bad_kb");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, expect_file_is_valid);
    tcase_add_test(tc, every_file_has_expectation);
    if (ncases > 0)
        tcase_add_loop_test(tc, bad_kb_fails_as_expected, 0, ncases);
    suite_add_tcase(s, tc);
    return s;
}
