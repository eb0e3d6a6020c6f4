/*
 * calibrate.c - `csbot calibrate`: choose the answer threshold and the
 * ambiguity margin from labelled dev sets (offline rule, see score.c):
 * among the pairs that reach the targets given (answered precision P over
 * all the rows, out-of-scope recall R in every dev file that has _oos
 * rows), the one that answers the most in-scope rows right; derive the
 * suggest threshold, and optionally write a copy of the KB JSON with these
 * settings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "score.h"

/* Set (or replace) settings.KEY in a KB's JSON. */
static void set_setting(cJSON *settings, const char *key, double v) {
    cJSON *num = cJSON_CreateNumber(round2(v));
    if (cJSON_GetObjectItemCaseSensitive(settings, key))
        cJSON_ReplaceItemInObjectCaseSensitive(settings, key, num);
    else
        cJSON_AddItemToObject(settings, key, num);
}

static int write_calibrated(const char *kb_path, const char *out_path,
                            double answer, double suggest, double margin) {
    int rc;
    cJSON *root = read_json_object("calibrate", kb_path, &rc);
    if (!root)
        return rc;
    cJSON *settings = cJSON_GetObjectItemCaseSensitive(root, "settings");
    if (!settings) {
        /* Put the new "settings" after "csbot" / "name", as in the schema:
         * add it at the end, then move the members after that point behind
         * it. */
        cJSON *after = NULL, *it;
        cJSON_ArrayForEach(it, root) {
            if (it->string && (!strcmp(it->string, "csbot") || !strcmp(it->string, "name")))
                after = it;
        }
        cJSON *move = after ? after->next : root->child;
        settings = cJSON_AddObjectToObject(root, "settings");
        while (settings && move && move != settings) {
            cJSON *next = move->next;
            cJSON_DetachItemViaPointer(root, move);
            cJSON_AddItemToArray(root, move); /* keeps its key */
            move = next;
        }
    } else if (!cJSON_IsObject(settings)) {
        fprintf(stderr, "csbot calibrate: %s: settings is not an object\n",
                kb_path);
        cJSON_Delete(root);
        return EXIT_FAIL;
    }
    set_setting(settings, "answer_threshold", answer);
    set_setting(settings, "suggest_threshold", suggest);
    set_setting(settings, "ambiguity_margin", margin);
    rc = write_json("calibrate", out_path, root);
    cJSON_Delete(root);
    return rc;
}

/* "LABEL 0.1234 (num/den)", or LABEL and none when den is 0. */
static void print_ratio(const char *label, size_t num, size_t den,
                        const char *none) {
    if (den)
        printf("%s%.4f (%zu/%zu)", label, (double)num / (double)den, num, den);
    else
        printf("%s%s", label, none);
}

/* The margins tried: 0.00 .. MAX_MARGIN in steps of 0.01. */
#define MAX_MARGIN 20

/* m += a */
static void add_metrics(metrics *m, const metrics *a) {
    m->n_in += a->n_in;
    m->n_oos += a->n_oos;
    m->top1_ok += a->top1_ok;
    m->in_ok += a->in_ok;
    m->covered += a->covered;
    m->oos_ok += a->oos_ok;
    m->decided += a->decided;
    m->decided_ok += a->decided_ok;
}

/* The figures of all the files at (t, margin) in *m, each file's in fm[];
 * whether they reach the targets (a target < 0 is not set). */
static int reach(const dataset *ds, size_t nf, double t, double margin,
                 double precision, double oos_recall, int **dec,
                 metrics *fm, metrics *m) {
    memset(m, 0, sizeof *m);
    int ok = 1;
    for (size_t f = 0; f < nf; f++) {
        offline_metrics(&ds[f], t, margin, dec[f], &fm[f]);
        add_metrics(m, &fm[f]);
        /* frac() is NAN with no rows, which reaches no target */
        if (oos_recall >= 0 && fm[f].n_oos &&
            !(frac(fm[f].oos_ok, fm[f].n_oos) >= oos_recall - 1e-12))
            ok = 0;
    }
    if (oos_recall >= 0 && !m->n_oos)
        ok = 0;
    if (precision >= 0 && !(frac(m->decided_ok, m->decided) >= precision - 1e-12))
        ok = 0;
    return ok;
}

int cmd_calibrate(int argc, char **argv) {
    const char *kb_path = NULL, *out_path = NULL, *v;
    double precision = -1, oos_recall = -1, fixed_margin = -1;
    /* the dev files, in the order given (each replied to and scored on
     * its own) */
    const char **files = xmalloc((size_t)argc * sizeof *files);
    size_t nf = 0;
    int rc = EXIT_OK;
    for (int i = 1; i < argc && rc == EXIT_OK; i++) {
        if (opt_value("calibrate", argc, argv, &i, "precision", &v)) {
            if (parse_double(v, &precision) || precision <= 0 || precision > 1)
                rc = usage_error("calibrate",
                                 "--precision must be a number in (0,1]");
        } else if (opt_value("calibrate", argc, argv, &i, "oos-recall", &v)) {
            if (parse_double(v, &oos_recall) || oos_recall <= 0 || oos_recall > 1)
                rc = usage_error("calibrate",
                                 "--oos-recall must be a number in (0,1]");
        } else if (opt_value("calibrate", argc, argv, &i, "margin", &v)) {
            if (parse_double(v, &fixed_margin) || fixed_margin < 0 ||
                fixed_margin > 1)
                rc = usage_error("calibrate",
                                 "--margin must be a number in [0,1]");
        } else if (opt_value("calibrate", argc, argv, &i, "write", &v))
            out_path = v;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            rc = usage_error("calibrate", "unknown option '%s'", argv[i]);
        else if (!kb_path)
            kb_path = argv[i];
        else
            files[nf++] = argv[i];
    }
    if (rc == EXIT_OK && (!kb_path || !nf))
        rc = usage_error("calibrate", "needs a knowledge base and a dev file");
    if (rc == EXIT_OK && precision < 0 && oos_recall < 0)
        rc = usage_error("calibrate", "--precision P or --oos-recall R is required");
    if (rc != EXIT_OK) {
        free(files);
        return rc;
    }

    csbot_kb *kb = NULL;
    if (load_kb(kb_path, NULL, &kb, NULL) != CSBOT_OK) {
        free(files);
        return EXIT_FAIL;
    }
    dataset *ds = xcalloc(nf, sizeof *ds);
    int **dec = xcalloc(nf, sizeof *dec);
    metrics *fm = xcalloc(nf, sizeof *fm), *fbest = xcalloc(nf, sizeof *fbest);
    for (size_t f = 0; f < nf && rc == EXIT_OK; f++) {
        rc = collect_with("calibrate", kb, kb_path, files[f], &ds[f]);
        dec[f] = xmalloc(ds[f].n * sizeof *dec[f]);
    }
    csbot_kb_free(kb);
    if (rc != EXIT_OK)
        goto out;
    metrics m, best;
    int found = 0;
    double t = 0, margin = 0;
    memset(&best, 0, sizeof best);
    memset(&m, 0, sizeof m);
    /* every margin (or the one given), each with its lowest threshold that
     * reaches the targets; the pair that answers the most in-scope rows
     * right wins, ties going to the larger margin */
    for (int g = MAX_MARGIN; g >= 0; g--) {
        double mg = fixed_margin >= 0 ? fixed_margin : g / 100.0;
        for (int k = 1; k <= 100; k++) {
            double tk = k / 100.0;
            if (!reach(ds, nf, tk, mg, precision, oos_recall, dec, fm, &m))
                continue;
            if (!found || m.in_ok > best.in_ok) {
                found = 1;
                best = m;
                memcpy(fbest, fm, nf * sizeof *fm);
                t = tk;
                margin = mg;
            }
            break;
        }
        if (fixed_margin >= 0)
            break;
    }
    printf("calibration on ");
    for (size_t f = 0; f < nf; f++)
        printf("%s%s", f ? " + " : "", files[f]);
    printf(": %zu rows (%zu in scope, %zu out of scope), target:",
           m.n_in + m.n_oos, m.n_in, m.n_oos);
    if (precision >= 0)
        printf(" answered precision %.2f", precision);
    if (oos_recall >= 0)
        printf("%s OOS recall %.2f%s", precision >= 0 ? "," : "", oos_recall,
               nf > 1 ? " in each file with _oos rows" : "");
    printf("\nrule: %s\n", sweep_rule);
    printf("current thresholds: answer %.2f, suggest %.2f, ambiguity margin "
           "%.2f\n",
           ds[0].answer, ds[0].suggest, ds[0].margin);
    if (!found) {
        if (oos_recall >= 0 && m.n_oos == 0)
            printf("%s no _oos rows: OOS recall cannot be measured\n",
                   nf > 1 ? "the dev files have" : "the dev file has");
        else
            printf("no answer threshold in 0.01..1.00 and ambiguity margin "
                   "in 0.00..%.2f reaches the target\n",
                   fixed_margin >= 0 ? fixed_margin : MAX_MARGIN / 100.0);
        rc = EXIT_FAIL;
        goto out;
    }
    double suggest = t - 0.2 > 0.05 ? t - 0.2 : 0.05;
    if (suggest > t)
        suggest = t;
    printf("answer_threshold   %.2f\n", t);
    printf("suggest_threshold  %.2f\n", round2(suggest));
    printf("ambiguity_margin   %.2f\n", margin);
    print_ratio("at these thresholds: in-scope accuracy ", best.in_ok,
                best.n_in, "n/a");
    print_ratio(", answered precision ", best.decided_ok, best.decided, "n/a");
    print_ratio(", coverage ", best.covered, best.n_in, "n/a");
    print_ratio(", OOS recall ", best.oos_ok, best.n_oos, "n/a (no _oos rows)");
    putchar('\n');
    if (nf > 1)
        for (size_t f = 0; f < nf; f++) {
            printf("  %s:", files[f]);
            print_ratio(" in-scope accuracy ", fbest[f].in_ok, fbest[f].n_in,
                        "n/a");
            print_ratio(", OOS recall ", fbest[f].oos_ok, fbest[f].n_oos,
                        "n/a (no _oos rows)");
            putchar('\n');
        }
    if (out_path) {
        rc = write_calibrated(kb_path, out_path, t, suggest, margin);
        if (rc == EXIT_OK)
            printf("wrote %s\n", out_path);
    }
out:
    for (size_t f = 0; f < nf; f++) {
        dataset_free(&ds[f]);
        free(dec[f]);
    }
    free(ds);
    free(dec);
    free(fm);
    free(fbest);
    free(files);
    return rc;
}
