/*
 * calibrate.c - `csbot calibrate`: find the lowest answer threshold whose
 * answered precision on a dev set reaches a target (offline rule), derive
 * the suggest threshold, and optionally write a copy of the KB JSON with
 * these settings.
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
                            double answer, double suggest) {
    char *text;
    size_t len;
    int e = read_file(kb_path, &text, &len);
    if (e) {
        fprintf(stderr, "csbot calibrate: cannot read %s: %s\n", kb_path,
                strerror(e));
        return EXIT_USAGE;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        fprintf(stderr, "csbot calibrate: %s is not a JSON object\n", kb_path);
        cJSON_Delete(root);
        return EXIT_FAIL;
    }
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
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) {
        fputs("csbot: out of memory\n", stderr);
        return EXIT_FAIL;
    }
    size_t n = strlen(out);
    out[n] = '\n'; /* cJSON_Print's buffer ends in NUL; write it as newline */
    e = write_file(out_path, out, n + 1);
    cJSON_free(out);
    if (e) {
        fprintf(stderr, "csbot calibrate: cannot write %s: %s\n", out_path,
                strerror(e));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_calibrate(int argc, char **argv) {
    const char *kb_path = NULL, *file = NULL, *out_path = NULL, *v;
    double precision = -1;
    for (int i = 1; i < argc; i++) {
        if (opt_value("calibrate", argc, argv, &i, "precision", &v)) {
            if (parse_double(v, &precision) || precision <= 0 || precision > 1)
                return usage_error("calibrate",
                                   "--precision must be a number in (0,1]");
        } else if (opt_value("calibrate", argc, argv, &i, "write", &v))
            out_path = v;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("calibrate", "unknown option '%s'", argv[i]);
        else if (!kb_path)
            kb_path = argv[i];
        else if (!file)
            file = argv[i];
        else
            return usage_error("calibrate", "unexpected argument '%s'", argv[i]);
    }
    if (!kb_path || !file)
        return usage_error("calibrate", "needs a knowledge base and a dev file");
    if (precision < 0)
        return usage_error("calibrate", "--precision P is required");

    dataset ds;
    int rc = collect("calibrate", kb_path, file, -1, &ds, NULL);
    if (rc != EXIT_OK) {
        dataset_free(&ds);
        return rc;
    }
    int *dec = xmalloc(ds.n * sizeof *dec);
    metrics m;
    int found = 0;
    double t = 0;
    for (int k = 1; k <= 100 && !found; k++) {
        t = k / 100.0;
        offline_metrics(&ds, t, dec, &m);
        if (m.decided && (double)m.decided_ok / (double)m.decided >= precision - 1e-12)
            found = 1;
    }
    free(dec);
    printf("calibration on %s: %zu rows (%zu in scope, %zu out of scope), "
           "target precision %.2f\n",
           file, ds.n, m.n_in, m.n_oos, precision);
    printf("rule: %s; ambiguity margin %.2f\n", sweep_rule, ds.margin);
    printf("current thresholds: answer %.2f, suggest %.2f\n", ds.answer,
           ds.suggest);
    if (!found) {
        printf("no answer threshold in 0.01..1.00 reaches precision %.2f\n",
               precision);
        dataset_free(&ds);
        return EXIT_FAIL;
    }
    double suggest = t - 0.2 > 0.05 ? t - 0.2 : 0.05;
    if (suggest > t)
        suggest = t;
    printf("answer_threshold   %.2f\n", t);
    printf("suggest_threshold  %.2f\n", round2(suggest));
    printf("at this threshold: answered precision %.4f (%zu/%zu), coverage ",
           (double)m.decided_ok / (double)m.decided, m.decided_ok, m.decided);
    if (m.n_in)
        printf("%.4f (%zu/%zu)", (double)m.covered / (double)m.n_in, m.covered,
               m.n_in);
    else
        printf("n/a");
    printf(", OOS recall ");
    if (m.n_oos)
        printf("%.4f (%zu/%zu)\n", (double)m.oos_ok / (double)m.n_oos, m.oos_ok,
               m.n_oos);
    else
        printf("n/a (no _oos rows)\n");
    rc = EXIT_OK;
    if (out_path) {
        rc = write_calibrated(kb_path, out_path, t, suggest);
        if (rc == EXIT_OK)
            printf("wrote %s\n", out_path);
    }
    dataset_free(&ds);
    return rc;
}
