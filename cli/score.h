/*
 * score.h - the scoring core shared by `csbot eval` and `csbot calibrate`:
 * the rows replied to (expected label, decision, candidates), the figures
 * computed from them, and the offline threshold rule.
 */
#ifndef CSBOT_CLI_SCORE_H
#define CSBOT_CLI_SCORE_H

#include "cli.h"

#define MAX_CAND 5
#define NO_DECISION (-1) /* the engine committed to no intent */
#define OOS (-2)         /* expected: no decision (_oos / null) */

/* Label names: the KB's intents first (index = intent index), then expected
 * labels that are not intents of the KB. */
typedef struct labels {
    char **names;
    size_t n, n_kb;
} labels;

typedef struct erow {
    int expected;  /* label index or OOS */
    int decision;  /* label index or NO_DECISION */
    size_t ncand;
    int cand[MAX_CAND];
    double score[MAX_CAND];
    csbot_action action;
    char *want_action; /* .jsonl "action", or NULL */
    int failed;        /* csbot_session_reply failed */
    size_t line;
    size_t turn; /* 1-based turn within a .jsonl dialogue; 0 for TSV */
    char *text;
} erow;

typedef struct dataset {
    const char *file;
    erow *rows;
    size_t n, cap;
    labels lab;
    size_t n_unknown_rows; /* rows whose expected label is not an intent */
    size_t n_failed, n_skipped;
    int has_actions;
    double reply_us; /* total time spent in csbot_session_reply */
    size_t n_replies;
    double margin, answer, suggest;
} dataset;

typedef struct metrics {
    size_t n_in, n_oos;
    size_t top1_ok, in_ok, covered, oos_ok, decided, decided_ok;
    size_t act_n, act_ok;
    double macro_f1; /* NAN when there are no in-scope labels */
} metrics;

/* "_oos", "(none)" or the label's name. */
const char *label_name(const dataset *ds, int i);
void dataset_free(dataset *ds);

/* Load the KB (answer threshold `threshold` when >= 0, suggest threshold
 * then at most that) and reply to every row of `file` (.tsv or .jsonl).
 * Returns an exit status; *ds is always safe to free. */
int collect(const char *cmd, const char *kb_path, const char *file,
            double threshold, dataset *ds, double *load_ms);
/* The same with a KB already loaded from kb_path (named in warnings). */
int collect_with(const char *cmd, const csbot_kb *kb, const char *kb_path,
                 const char *file, dataset *ds);

/* num/den, NAN when den is 0. */
double frac(size_t num, size_t den);
/* The figures for one decision per row. */
void compute(const dataset *ds, const int *decision, metrics *m);
/* The figures under the offline rule at threshold t (dec: n scratch ints). */
void offline_metrics(const dataset *ds, double t, double margin, int *dec,
                     metrics *m);
/* The offline rule, in words, for the outputs. */
extern const char sweep_rule[];

#endif /* CSBOT_CLI_SCORE_H */
