/*
 * eval.c - `csbot eval`: score the engine on a labelled test file and print
 * the figures as text or JSON, with optional threshold sweep, worst
 * mistakes and most frequent confusions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "score.h"

/* ---- mistakes and confusions ------------------------------------------ */

typedef struct mistake {
    size_t row;
    int severity; /* 3 wrong decision, 2 wrong top-1, 1 missed */
    double score;
} mistake;

static int mistake_cmp(const void *a, const void *b) {
    const mistake *x = a, *y = b;
    if (x->severity != y->severity)
        return y->severity - x->severity;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static mistake *find_mistakes(const dataset *ds, size_t *count) {
    mistake *ms = xmalloc(ds->n * sizeof *ms);
    size_t n = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const erow *r = &ds->rows[i];
        int top1 = r->ncand ? r->cand[0] : NO_DECISION;
        int sev = 0;
        if (r->decision != NO_DECISION && r->decision != r->expected)
            sev = 3;
        else if (r->expected != OOS && top1 != r->expected)
            sev = 2;
        else if (r->expected != OOS && r->decision != r->expected)
            sev = 1;
        if (!sev)
            continue;
        ms[n].row = i;
        ms[n].severity = sev;
        ms[n].score = r->ncand ? r->score[0] : 0.0;
        n++;
    }
    qsort(ms, n, sizeof *ms, mistake_cmp);
    *count = n;
    return ms;
}

typedef struct pair_count {
    int expected, got;
    size_t count;
} pair_count;

static int pair_cmp(const void *a, const void *b) {
    const pair_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->expected != y->expected)
        return x->expected - y->expected;
    return x->got - y->got;
}

static pair_count *confusions(const dataset *ds, size_t *count) {
    pair_count *p = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ds->n; i++) {
        const erow *r = &ds->rows[i];
        if (r->decision == r->expected ||
            (r->expected == OOS && r->decision == NO_DECISION))
            continue;
        size_t k = 0;
        while (k < n && !(p[k].expected == r->expected && p[k].got == r->decision))
            k++;
        if (k == n) {
            p = xrealloc(p, (n + 1) * sizeof *p);
            p[n].expected = r->expected;
            p[n].got = r->decision;
            p[n].count = 0;
            n++;
        }
        p[k].count++;
    }
    if (n)
        qsort(p, n, sizeof *p, pair_cmp);
    *count = n;
    return p;
}

#define CONFUSION_SHOW 20

/* ---- output ----------------------------------------------------------- */

static cJSON *jnum(double x, double scale) {
    if (isnan(x))
        return cJSON_CreateNull();
    return cJSON_CreateNumber(round(x * scale) / scale);
}

static void where(const dataset *ds, const erow *r, char *buf, size_t size) {
    if (r->turn)
        snprintf(buf, size, "%s:%zu turn %zu", ds->file, r->line, r->turn);
    else
        snprintf(buf, size, "%s:%zu", ds->file, r->line);
}

static void print_frac(const char *name, size_t num, size_t den) {
    if (den)
        printf("  %-20s %6.4f  (%zu/%zu)\n", name, (double)num / (double)den,
               num, den);
    else
        printf("  %-20s    n/a  (0 rows)\n", name);
}

typedef struct eval_opts {
    int json, sweep, confusion;
    size_t errors;
    int has_min;
    double min_accuracy;
} eval_opts;

static cJSON *json_report(const dataset *ds, const metrics *m, double load_ms,
                          const eval_opts *o) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n_in_scope", (double)m->n_in);
    cJSON_AddNumberToObject(j, "n_oos", (double)m->n_oos);
    cJSON_AddItemToObject(j, "top1_accuracy", jnum(frac(m->top1_ok, m->n_in), 1e4));
    cJSON_AddItemToObject(j, "in_scope_accuracy", jnum(frac(m->in_ok, m->n_in), 1e4));
    cJSON_AddItemToObject(j, "coverage", jnum(frac(m->covered, m->n_in), 1e4));
    cJSON_AddItemToObject(j, "oos_recall", jnum(frac(m->oos_ok, m->n_oos), 1e4));
    cJSON_AddItemToObject(j, "answered_precision",
                          jnum(frac(m->decided_ok, m->decided), 1e4));
    cJSON_AddItemToObject(j, "macro_f1", jnum(m->macro_f1, 1e4));
    if (ds->has_actions)
        cJSON_AddItemToObject(j, "action_accuracy",
                              jnum(frac(m->act_ok, m->act_n), 1e4));
    cJSON_AddItemToObject(j, "load_ms", jnum(load_ms, 1e3));
    cJSON_AddItemToObject(
        j, "us_per_query",
        jnum(ds->n_replies ? ds->reply_us / (double)ds->n_replies : NAN, 1e2));

    if (o->sweep) {
        int *dec = xmalloc(ds->n * sizeof *dec);
        cJSON *sw = cJSON_AddObjectToObject(j, "sweep");
        cJSON_AddStringToObject(sw, "rule", sweep_rule);
        cJSON *rows = cJSON_AddArrayToObject(sw, "rows");
        for (int k = 1; k <= 19; k++) {
            metrics sm;
            double t = k / 20.0;
            offline_metrics(ds, t, ds->margin, dec, &sm);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "threshold", jnum(t, 1e2));
            cJSON_AddItemToObject(e, "coverage", jnum(frac(sm.covered, sm.n_in), 1e4));
            cJSON_AddItemToObject(e, "answered_precision",
                                  jnum(frac(sm.decided_ok, sm.decided), 1e4));
            cJSON_AddItemToObject(e, "in_scope_accuracy",
                                  jnum(frac(sm.in_ok, sm.n_in), 1e4));
            cJSON_AddItemToObject(e, "oos_recall", jnum(frac(sm.oos_ok, sm.n_oos), 1e4));
            cJSON_AddItemToArray(rows, e);
        }
        free(dec);
    }
    if (o->errors) {
        size_t n;
        mistake *ms = find_mistakes(ds, &n);
        cJSON *arr = cJSON_AddArrayToObject(j, "errors");
        for (size_t i = 0; i < n && i < o->errors; i++) {
            const erow *r = &ds->rows[ms[i].row];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "line", (double)r->line);
            if (r->turn)
                cJSON_AddNumberToObject(e, "turn", (double)r->turn);
            cJSON_AddStringToObject(e, "text", r->text);
            cJSON_AddStringToObject(e, "expected", label_name(ds, r->expected));
            if (r->decision >= 0)
                cJSON_AddStringToObject(e, "got", label_name(ds, r->decision));
            else
                cJSON_AddNullToObject(e, "got");
            cJSON_AddStringToObject(e, "action", r->failed ? "error"
                                    : csbot_action_name(r->action));
            cJSON *top = cJSON_AddArrayToObject(e, "top");
            for (size_t c = 0; c < r->ncand && c < 3; c++) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "intent", label_name(ds, r->cand[c]));
                cJSON_AddItemToObject(t, "score", jnum(r->score[c], 1e4));
                cJSON_AddItemToArray(top, t);
            }
            cJSON_AddItemToArray(arr, e);
        }
        free(ms);
    }
    if (o->confusion) {
        size_t n;
        pair_count *p = confusions(ds, &n);
        cJSON *arr = cJSON_AddArrayToObject(j, "confusion");
        for (size_t i = 0; i < n && i < CONFUSION_SHOW; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "expected", label_name(ds, p[i].expected));
            if (p[i].got >= 0)
                cJSON_AddStringToObject(e, "got", label_name(ds, p[i].got));
            else
                cJSON_AddNullToObject(e, "got");
            cJSON_AddNumberToObject(e, "count", (double)p[i].count);
            cJSON_AddItemToArray(arr, e);
        }
        free(p);
    }
    return j;
}

static void text_report(const char *kb_path, const dataset *ds,
                        const metrics *m, double load_ms, const eval_opts *o) {
    printf("knowledge base  %s (%zu intents), loaded in %.1f ms\n", kb_path,
           ds->lab.n_kb, load_ms);
    printf("thresholds      answer %.2f, suggest %.2f, ambiguity margin %.2f\n",
           ds->answer, ds->suggest, ds->margin);
    printf("test set        %s: %zu rows, %zu in scope, %zu out of scope",
           ds->file, ds->n, m->n_in, m->n_oos);
    if (ds->n_failed)
        printf(", %zu replies failed", ds->n_failed);
    if (ds->n_skipped)
        printf(", %zu lines skipped", ds->n_skipped);
    printf("\n\n");
    print_frac("top-1 accuracy", m->top1_ok, m->n_in);
    print_frac("in-scope accuracy", m->in_ok, m->n_in);
    print_frac("coverage", m->covered, m->n_in);
    print_frac("OOS recall", m->oos_ok, m->n_oos);
    print_frac("answered precision", m->decided_ok, m->decided);
    if (isnan(m->macro_f1))
        printf("  %-20s    n/a\n", "macro F1");
    else
        printf("  %-20s %6.4f\n", "macro F1", m->macro_f1);
    if (ds->has_actions)
        print_frac("action accuracy", m->act_ok, m->act_n);
    printf("  %-20s %.1f us/query (mean of %zu replies)\n", "speed",
           ds->n_replies ? ds->reply_us / (double)ds->n_replies : 0.0,
           ds->n_replies);

    if (o->sweep) {
        int *dec = xmalloc(ds->n * sizeof *dec);
        printf("\nthreshold sweep: %s; ambiguity margin %.2f\n", sweep_rule,
               ds->margin);
        printf("  %5s  %8s  %9s  %11s  %10s\n", "T", "coverage", "precision",
               "in-scope", "OOS recall");
        for (int k = 1; k <= 19; k++) {
            metrics sm;
            double t = k / 20.0;
            offline_metrics(ds, t, ds->margin, dec, &sm);
            double v[4] = {frac(sm.covered, sm.n_in),
                           frac(sm.decided_ok, sm.decided),
                           frac(sm.in_ok, sm.n_in), frac(sm.oos_ok, sm.n_oos)};
            int w[4] = {8, 9, 11, 10};
            printf("  %5.2f", t);
            for (int c = 0; c < 4; c++) {
                if (isnan(v[c]))
                    printf("  %*s", w[c], "n/a");
                else
                    printf("  %*.4f", w[c], v[c]);
            }
            printf("%s\n", fabs(t - ds->answer) < 0.025 ? "  <- answer threshold"
                                                        : "");
        }
        free(dec);
    }
    if (o->errors) {
        size_t n;
        mistake *ms = find_mistakes(ds, &n);
        printf("\nworst %zu of %zu mistakes (wrong decision, then wrong top-1, "
               "then missed):\n",
               n < o->errors ? n : o->errors, n);
        for (size_t i = 0; i < n && i < o->errors; i++) {
            const erow *r = &ds->rows[ms[i].row];
            char loc[512];
            where(ds, r, loc, sizeof loc);
            printf("  %s  expected %s, got %s (%s)\n", loc,
                   label_name(ds, r->expected), label_name(ds, r->decision),
                   r->failed ? "error" : csbot_action_name(r->action));
            printf("      \"%s\"\n      top:", r->text);
            if (!r->ncand)
                printf(" (no candidates)");
            for (size_t c = 0; c < r->ncand && c < 3; c++)
                printf("%s %s %.2f", c ? "," : "", label_name(ds, r->cand[c]),
                       r->score[c]);
            printf("\n");
        }
        free(ms);
    }
    if (o->confusion) {
        size_t n;
        pair_count *p = confusions(ds, &n);
        printf("\nmost confused (expected -> got), %zu pair%s:\n", n,
               n == 1 ? "" : "s");
        for (size_t i = 0; i < n && i < CONFUSION_SHOW; i++)
            printf("  %5zu  %s -> %s\n", p[i].count,
                   label_name(ds, p[i].expected), label_name(ds, p[i].got));
        if (n > CONFUSION_SHOW)
            printf("  ... %zu more\n", n - CONFUSION_SHOW);
        free(p);
    }
}

/* ---- commands --------------------------------------------------------- */

int cmd_eval(int argc, char **argv) {
    const char *kb_path = NULL, *file = NULL, *v;
    double threshold = -1;
    eval_opts o = {0, 0, 0, 0, 0, 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json = 1;
        else if (strcmp(argv[i], "--sweep") == 0)
            o.sweep = 1;
        else if (strcmp(argv[i], "--confusion") == 0)
            o.confusion = 1;
        else if (opt_value("eval", argc, argv, &i, "threshold", &v)) {
            if (parse_double(v, &threshold) || threshold < 0 || threshold > 1)
                return usage_error("eval", "--threshold must be a number in [0,1]");
        } else if (opt_value("eval", argc, argv, &i, "errors", &v)) {
            if (parse_size(v, &o.errors))
                return usage_error("eval", "--errors needs a count");
        } else if (opt_value("eval", argc, argv, &i, "min-accuracy", &v)) {
            if (parse_double(v, &o.min_accuracy))
                return usage_error("eval", "--min-accuracy needs a number");
            o.has_min = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("eval", "unknown option '%s'", argv[i]);
        else if (!kb_path)
            kb_path = argv[i];
        else if (!file)
            file = argv[i];
        else
            return usage_error("eval", "unexpected argument '%s'", argv[i]);
    }
    if (!kb_path || !file)
        return usage_error("eval", "needs a knowledge base and a test file");

    dataset ds;
    double load_ms = 0;
    int rc = collect("eval", kb_path, file, threshold, &ds, &load_ms);
    if (rc != EXIT_OK) {
        dataset_free(&ds);
        return rc;
    }
    int *dec = xmalloc(ds.n * sizeof *dec);
    for (size_t i = 0; i < ds.n; i++)
        dec[i] = ds.rows[i].decision;
    metrics m;
    compute(&ds, dec, &m);
    free(dec);

    if (o.json) {
        cJSON *j = json_report(&ds, &m, load_ms, &o);
        char *s = cJSON_Print(j);
        cJSON_Delete(j);
        if (!s) {
            fputs("csbot: out of memory\n", stderr);
            dataset_free(&ds);
            return EXIT_FAIL;
        }
        printf("%s\n", s);
        cJSON_free(s);
    } else {
        text_report(kb_path, &ds, &m, load_ms, &o);
    }
    rc = EXIT_OK;
    if (o.has_min) {
        double acc = m.n_in ? (double)m.in_ok / (double)m.n_in : 0.0;
        if (acc < o.min_accuracy) {
            fprintf(stderr,
                    "csbot eval: in-scope accuracy %.4f is below the minimum "
                    "%.4f\n",
                    acc, o.min_accuracy);
            rc = EXIT_FAIL;
        }
    }
    dataset_free(&ds);
    return rc;
}
