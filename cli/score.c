/*
 * score.c - the scoring core of `csbot eval` and `csbot calibrate`: load the
 * knowledge base, reply to each labelled row (TSV rows in fresh
 * conversations, .jsonl dialogues turn by turn), record the decision and
 * candidates, and compute accuracy, coverage, OOS recall, precision and
 * macro F1 for the engine's decisions or for the offline threshold rule.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "score.h"

static int label_find(const labels *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], s) == 0)
            return (int)i;
    return -1;
}

static int label_intern(labels *l, const char *s) {
    int i = label_find(l, s);
    if (i >= 0)
        return i;
    l->names = xrealloc(l->names, (l->n + 1) * sizeof *l->names);
    l->names[l->n] = xstrdup(s);
    return (int)l->n++;
}

const char *label_name(const dataset *ds, int i) {
    if (i == OOS)
        return "_oos";
    if (i < 0)
        return "(none)";
    return ds->lab.names[i];
}

void dataset_free(dataset *ds) {
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->rows[i].text);
        free(ds->rows[i].want_action);
    }
    free(ds->rows);
    for (size_t i = 0; i < ds->lab.n; i++)
        free(ds->lab.names[i]);
    free(ds->lab.names);
}

/* Whether the engine committed to the reply's intent (the "decision"):
 * answered, asked for a detail, or handed off because of the intent itself
 * (an intent marked "handoff", or one that is a request for a person). Other
 * handoffs (sentiment, misses, low confidence) carry no intent. */
static int committed(const csbot_reply *r) {
    csbot_action a = csbot_reply_action(r);
    csbot_handoff_reason why = csbot_reply_handoff_reason(r);
    if (!csbot_reply_intent(r))
        return 0;
    return a == CSBOT_ACTION_ANSWER || a == CSBOT_ACTION_ASK ||
           (a == CSBOT_ACTION_HANDOFF &&
            (why == CSBOT_HANDOFF_INTENT ||
             why == CSBOT_HANDOFF_EXPLICIT_REQUEST));
}

/* Reply to one message and record it. expected NULL (or "_oos") means no
 * decision is expected. */
static void run_turn(dataset *ds, csbot_session *s, const char *text,
                     size_t len, const char *expected, const char *want_action,
                     size_t line, size_t turn) {
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? ds->cap * 2 : 256;
        ds->rows = xrealloc(ds->rows, ds->cap * sizeof *ds->rows);
    }
    erow *row = &ds->rows[ds->n++];
    memset(row, 0, sizeof *row);
    row->line = line;
    row->turn = turn;
    row->text = xstrndup(text, len);
    row->want_action = want_action ? xstrdup(want_action) : NULL;
    if (!expected || strcmp(expected, "_oos") == 0) {
        row->expected = OOS;
    } else {
        row->expected = label_intern(&ds->lab, expected);
        if ((size_t)row->expected >= ds->lab.n_kb)
            ds->n_unknown_rows++;
    }
    row->decision = NO_DECISION;

    const csbot_reply *r = NULL;
    double t0 = mono_us();
    int rc = csbot_session_reply(s, text, len, &r);
    ds->reply_us += mono_us() - t0;
    ds->n_replies++;
    if (rc != CSBOT_OK || !r) {
        row->failed = 1;
        ds->n_failed++;
        const char *msg = csbot_session_errmsg(s);
        if (turn)
            fprintf(stderr, "%s:%zu: turn %zu: reply failed: %s\n", ds->file,
                    line, turn, msg && *msg ? msg : csbot_strerror(rc));
        else
            fprintf(stderr, "%s:%zu: reply failed: %s\n", ds->file, line,
                    msg && *msg ? msg : csbot_strerror(rc));
        return;
    }
    row->action = csbot_reply_action(r);
    size_t nc = csbot_reply_candidate_count(r);
    for (size_t i = 0; i < nc && row->ncand < MAX_CAND; i++) {
        const char *id = NULL;
        double sc = 0;
        if (csbot_reply_candidate(r, i, &id, &sc) != CSBOT_OK || !id)
            continue;
        row->cand[row->ncand] = label_intern(&ds->lab, id);
        row->score[row->ncand] = sc;
        row->ncand++;
    }
    if (committed(r))
        row->decision = label_intern(&ds->lab, csbot_reply_intent(r));
}

/* ---- reading the test file -------------------------------------------- */

static int is_jsonl(const char *path) {
    size_t n = strlen(path);
    if (n >= 6 && strcmp(path + n - 6, ".jsonl") == 0)
        return 1;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return 0; /* the reader reports the error */
    int c, res = 0;
    if (f == stdin) {
        c = getc(f);
        res = c == '{';
        if (c != EOF)
            ungetc(c, f);
        return res;
    }
    while ((c = getc(f)) != EOF && isspace(c))
        ;
    res = c == '{';
    fclose(f);
    return res;
}

static int run_tsv(dataset *ds, csbot_session *s) {
    tsv_table t;
    if (tsv_read(ds->file, &t, 0) != 0)
        return -1;
    ds->n_skipped = t.skipped;
    for (size_t i = 0; i < t.n; i++) {
        csbot_session_reset(s);
        run_turn(ds, s, t.rows[i].text, strlen(t.rows[i].text),
                 t.rows[i].label, NULL, t.rows[i].line, 0);
    }
    tsv_free(&t);
    return 0;
}

static void jsonl_bad(dataset *ds, size_t line, const char *why) {
    fprintf(stderr, "%s:%zu: %s; line skipped\n", ds->file, line, why);
    ds->n_skipped++;
}

/* Check one dialogue line; returns the turns array or NULL (reported). */
static const cJSON *jsonl_turns(dataset *ds, const cJSON *root, size_t line) {
    if (!cJSON_IsObject(root)) {
        jsonl_bad(ds, line, "expected a JSON object {\"turns\": [...]}");
        return NULL;
    }
    const cJSON *turns = cJSON_GetObjectItemCaseSensitive(root, "turns");
    if (!cJSON_IsArray(turns)) {
        jsonl_bad(ds, line, "\"turns\" must be an array");
        return NULL;
    }
    const cJSON *t;
    size_t k = 0;
    cJSON_ArrayForEach(t, turns) {
        k++;
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(t, "text");
        const cJSON *intent = cJSON_GetObjectItemCaseSensitive(t, "intent");
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(t, "action");
        char why[128];
        const char *bad = NULL;
        if (!cJSON_IsObject(t))
            bad = "is not an object";
        else if (!cJSON_IsString(text))
            bad = "needs a \"text\" string";
        else if (intent && !cJSON_IsString(intent) && !cJSON_IsNull(intent))
            bad = "\"intent\" must be a string or null";
        else if (action && !cJSON_IsString(action))
            bad = "\"action\" must be a string";
        if (bad) {
            snprintf(why, sizeof why, "turn %zu %s", k, bad);
            jsonl_bad(ds, line, why);
            return NULL;
        }
    }
    return turns;
}

static int run_jsonl(dataset *ds, csbot_session *s) {
    FILE *f = strcmp(ds->file, "-") == 0 ? stdin : fopen(ds->file, "r");
    if (!f) {
        fprintf(stderr, "csbot: cannot open %s: %s\n", ds->file,
                strerror(errno));
        return -1;
    }
    static const char *const actions[] = {"none",     "answer",  "ask",
                                          "suggest",  "fallback", "handoff",
                                          "silent",   NULL};
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) != -1) {
        lineno++;
        size_t len = (size_t)got, b = 0;
        while (b < len && isspace((unsigned char)line[b]))
            b++;
        if (b == len)
            continue;
        cJSON *root = cJSON_ParseWithLength(line, len);
        if (!root) {
            jsonl_bad(ds, lineno, "not valid JSON");
            continue;
        }
        const cJSON *turns = jsonl_turns(ds, root, lineno);
        if (turns) {
            csbot_session_reset(s);
            const cJSON *t;
            size_t k = 0;
            cJSON_ArrayForEach(t, turns) {
                k++;
                const cJSON *text = cJSON_GetObjectItemCaseSensitive(t, "text");
                const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "intent");
                const cJSON *ac = cJSON_GetObjectItemCaseSensitive(t, "action");
                const char *want = cJSON_IsString(ac) ? ac->valuestring : NULL;
                if (want) {
                    ds->has_actions = 1;
                    int known = 0;
                    for (size_t a = 0; actions[a]; a++)
                        known |= strcmp(actions[a], want) == 0;
                    if (!known)
                        fprintf(stderr,
                                "%s:%zu: turn %zu: warning: unknown action "
                                "\"%s\" (answer, ask, suggest, fallback, "
                                "handoff, silent)\n",
                                ds->file, lineno, k, want);
                }
                run_turn(ds, s, text->valuestring, strlen(text->valuestring),
                         cJSON_IsString(in) ? in->valuestring : NULL, want,
                         lineno, k);
            }
        }
        cJSON_Delete(root);
    }
    int err = ferror(f);
    free(line);
    if (f != stdin)
        fclose(f);
    if (err) {
        fprintf(stderr, "csbot: error reading %s\n", ds->file);
        return -1;
    }
    return 0;
}

/* Load the KB, reply to every row of `file`. Returns an exit status. */
int collect(const char *cmd, const char *kb_path, const char *file,
                   double threshold, dataset *ds, double *load_ms) {
    memset(ds, 0, sizeof *ds);
    ds->file = file;
    csbot_kb_options opts = CSBOT_KB_OPTIONS_INIT;
    csbot_kb *kb = NULL;
    if (threshold >= 0)
        opts.answer_threshold = threshold;
    if (load_kb(kb_path, &opts, &kb, load_ms) != CSBOT_OK)
        return EXIT_FAIL;
    double sug = 0;
    csbot_kb_thresholds(kb, NULL, &sug, NULL);
    if (threshold >= 0 && sug > threshold) {
        /* suggest_threshold = min(the KB's, T) */
        csbot_kb_free(kb);
        opts.suggest_threshold = threshold;
        if (load_kb(kb_path, &opts, &kb, load_ms) != CSBOT_OK)
            return EXIT_FAIL;
    }
    int rc = collect_with(cmd, kb, kb_path, file, ds);
    csbot_kb_free(kb);
    return rc;
}

int collect_with(const char *cmd, const csbot_kb *kb, const char *kb_path,
                 const char *file, dataset *ds) {
    memset(ds, 0, sizeof *ds);
    ds->file = file;
    csbot_kb_thresholds(kb, &ds->answer, &ds->suggest, &ds->margin);
    size_t nk = csbot_kb_intent_count(kb);
    for (size_t i = 0; i < nk; i++)
        label_intern(&ds->lab, csbot_kb_intent_id(kb, i));
    ds->lab.n_kb = ds->lab.n;

    csbot_session *s = NULL;
    int rc = csbot_session_new(&s, kb, NULL);
    if (rc != CSBOT_OK) {
        fprintf(stderr, "csbot %s: cannot create a session: %s\n", cmd,
                csbot_strerror(rc));
        return EXIT_FAIL;
    }
    int bad = is_jsonl(file) ? run_jsonl(ds, s) : run_tsv(ds, s);
    csbot_session_free(s);
    if (bad)
        return EXIT_USAGE;
    if (ds->n == 0) {
        fprintf(stderr, "csbot %s: %s has no rows to evaluate\n", cmd, file);
        return EXIT_USAGE;
    }
    if (ds->n_unknown_rows) {
        fprintf(stderr,
                "csbot %s: warning: %zu row%s expect%s labels that are not "
                "intents of %s (",
                cmd, ds->n_unknown_rows, ds->n_unknown_rows == 1 ? "" : "s",
                ds->n_unknown_rows == 1 ? "s" : "", kb_path);
        size_t shown = 0;
        for (size_t i = ds->lab.n_kb; i < ds->lab.n; i++) {
            int used = 0;
            for (size_t r = 0; r < ds->n && !used; r++)
                used = ds->rows[r].expected == (int)i;
            if (!used)
                continue;
            if (shown < 5)
                fprintf(stderr, "%s%s", shown ? ", " : "", ds->lab.names[i]);
            shown++;
        }
        if (shown > 5)
            fprintf(stderr, ", ... %zu in all", shown);
        fputs("); they count as wrong\n", stderr);
    }
    return EXIT_OK;
}

/* ---- metrics ---------------------------------------------------------- */

double frac(size_t num, size_t den) {
    return den ? (double)num / (double)den : NAN;
}

/* Decisions come from `decision` (one per row). */
void compute(const dataset *ds, const int *decision, metrics *m) {
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < ds->n; i++) {
        const erow *r = &ds->rows[i];
        int d = decision[i];
        if (r->expected == OOS) {
            m->n_oos++;
            if (d == NO_DECISION)
                m->oos_ok++;
        } else {
            m->n_in++;
            if (r->ncand > 0 && r->cand[0] == r->expected)
                m->top1_ok++;
            if (d != NO_DECISION)
                m->covered++;
            if (d == r->expected)
                m->in_ok++;
        }
        if (d != NO_DECISION) {
            m->decided++;
            if (d == r->expected)
                m->decided_ok++;
        }
        if (r->want_action) {
            m->act_n++;
            if (!r->failed &&
                strcmp(csbot_action_name(r->action), r->want_action) == 0)
                m->act_ok++;
        }
    }
    /* Macro F1 over the labels that appear as expected labels. */
    size_t nl = ds->lab.n;
    size_t *tp = calloc(nl ? nl : 1, sizeof *tp);
    size_t *fp = calloc(nl ? nl : 1, sizeof *fp);
    size_t *fn = calloc(nl ? nl : 1, sizeof *fn);
    unsigned char *seen = calloc(nl ? nl : 1, 1);
    if (!tp || !fp || !fn || !seen) {
        fputs("csbot: out of memory\n", stderr);
        exit(EXIT_FAIL);
    }
    for (size_t i = 0; i < ds->n; i++) {
        int e = ds->rows[i].expected, d = decision[i];
        if (e >= 0)
            seen[e] = 1;
        if (e >= 0 && d == e)
            tp[e]++;
        else {
            if (e >= 0)
                fn[e]++;
            if (d >= 0)
                fp[d]++;
        }
    }
    double sum = 0;
    size_t k = 0;
    for (size_t l = 0; l < nl; l++) {
        if (!seen[l])
            continue;
        size_t den = 2 * tp[l] + fp[l] + fn[l];
        sum += den ? 2.0 * (double)tp[l] / (double)den : 0.0;
        k++;
    }
    m->macro_f1 = k ? sum / (double)k : NAN;
    free(tp);
    free(fp);
    free(fn);
    free(seen);
}

/* The offline rule of --sweep and calibrate. */
static int offline_decision(const erow *r, double t, double margin) {
    if (r->ncand == 0)
        return NO_DECISION;
    double s1 = r->score[0], s2 = r->ncand > 1 ? r->score[1] : 0.0;
    const double eps = 1e-9;
    if (s1 >= t - eps && s1 - s2 >= margin - eps)
        return r->cand[0];
    return NO_DECISION;
}

void offline_metrics(const dataset *ds, double t, double margin, int *dec,
                     metrics *m) {
    for (size_t i = 0; i < ds->n; i++)
        dec[i] = offline_decision(&ds->rows[i], t, margin);
    compute(ds, dec, m);
}

const char sweep_rule[] =
    "decision at threshold T = the first candidate if its score >= T and it "
    "leads the second by at least the ambiguity margin, else none "
    "(computed offline from the candidate lists; patterns, slots, context "
    "and handoffs are not re-run)";
