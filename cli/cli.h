/*
 * cli.h - declarations shared by the files of the `csbot` command-line tool:
 * the command entry points and the helpers in util.c (memory, files, TSV,
 * timing, argument parsing, knowledge-base loading, UTF-8 checks).
 */
#ifndef CSBOT_CLI_H
#define CSBOT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "csbot.h"

struct cJSON;

/* Exit statuses. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* load error, failed check (--strict, --min-accuracy) */
#define EXIT_USAGE 2 /* bad command line or unreadable / malformed input */

/* Commands (each returns the process exit status). */
int cmd_chat(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_vectors(int argc, char **argv);

/* main.c: print the usage of one command (or all when cmd is NULL). */
void usage(FILE *f, const char *cmd);
/* Print "csbot CMD: message" and the command's usage on stderr; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- util.c ---------------------------------------------------------- */

/* Allocation that exits with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Milliseconds / microseconds from CLOCK_MONOTONIC. */
double mono_ms(void);
double mono_us(void);

/* Read a whole file (binary). Returns 0, or an errno value. *data is
 * NUL-terminated (the NUL is not counted in *len). */
int read_file(const char *path, char **data, size_t *len);
/* Write bytes to a file ("-" is stdout). Returns 0 or an errno value. */
int write_file(const char *path, const void *data, size_t len);
/* A JSON file's top-level object (to rewrite it); NULL after printing why
 * ("csbot CMD: ..."), with *status the exit status: EXIT_USAGE when it
 * cannot be read, EXIT_FAIL when it is not a JSON object. */
struct cJSON *read_json_object(const char *cmd, const char *path, int *status);
/* Write root formatted, and a newline, to path ("-" is stdout). Returns an
 * exit status, after printing why on failure. */
int write_json(const char *cmd, const char *path, const struct cJSON *root);

/* One row of a label<TAB>text file. */
typedef struct tsv_row {
    char *label;
    char *text;
    size_t line; /* 1-based line number in the file */
} tsv_row;

typedef struct tsv_table {
    tsv_row *rows;
    size_t n, cap;
    size_t skipped; /* lines reported and skipped */
} tsv_table;

/* Read a TSV file of label<TAB>text rows. A trailing CR is removed; the text
 * is the rest of the line after the first tab. Lines without a tab (and, if
 * report_blank, blank lines) are reported on stderr with their line number
 * and skipped. Returns 0, or -1 after printing why the file cannot be read. */
int tsv_read(const char *path, tsv_table *t, int report_blank);
void tsv_free(tsv_table *t);

/* Argument parsing. `--name VALUE` or `--name=VALUE` at argv[*i]: returns 1
 * and sets *val (advancing *i past a separate value); returns 0 when argv[*i]
 * is not that option; a missing value is a usage error (exit 2). */
int opt_value(const char *cmd, int argc, char **argv, int *i,
              const char *name, const char **val);
/* Parse a number / count; returns 0 on success, -1 when malformed. */
int parse_double(const char *s, double *out);
int parse_size(const char *s, size_t *out);

/* The default knowledge base: intents/shop.json, else intents/demo.json. */
const char *default_kb_path(void);

/* A csbot_error rendered by csbot_error_format (malloc'd). */
char *format_kb_error(const csbot_error *err);
/* The sentence encoder given with --encoder (main.c loads it before a
 * command runs and frees it after), or NULL. */
void cli_set_encoder(csbot_encoder *enc);
const csbot_encoder *cli_encoder(void);
/* Print a failed load's error on stderr (csbot_error_format), filling in
 * the code, a message and the source where the error lacks them. */
void report_error(csbot_error *err, int rc, const char *source);
/* Options as given (or the defaults for NULL), with the --encoder. */
csbot_kb_options cli_kb_options(const csbot_kb_options *opts);
/* Add (or refresh) the "vectors" member of a knowledge base's JSON with
 * the encoder's vectors of its English examples (vectors.c). Returns 0, or
 * -1 after printing why not. */
int kb_add_vectors(struct cJSON *root, const csbot_encoder *enc,
                   const char *what);

/* Load a knowledge base (with the --encoder, if any); on failure print the
 * formatted error on stderr and return the error code. *ms receives the
 * load time when not NULL. */
int load_kb(const char *path, const csbot_kb_options *opts, csbot_kb **kb,
            double *ms);

/* UTF-8 helpers. */
int utf8_valid(const char *s, size_t len);
/* Whether the text contains a CJK (Han) character. */
int has_cjk(const char *s, size_t len);

/* Replace every byte of `bad` in s (in place) with `with`. */
void replace_chars(char *s, const char *bad, char with);

/* Round to 2 decimals. */
double round2(double x);

#endif /* CSBOT_CLI_H */
