/*
 * import.c - `csbot import`: turn a label<TAB>example TSV file into a
 * knowledge-base JSON (one intent per label, examples by language,
 * placeholder answers) written to stdout with cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

typedef struct label_entry {
    const char *label; /* borrowed from the TSV table */
    cJSON *zh, *en;    /* example arrays */
} label_entry;

/* Whether the loader takes s as an intent id (intents/SCHEMA.md, the
 * loader's valid_id() in lib/kb_load.c): 1-128 bytes of printable text, no
 * control characters, no space at either end. A label of the TSV can hold
 * no tab or line break, so only the length, the ends and the other control
 * characters can fail. */
static int valid_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int array_has(const cJSON *arr, const char *s) {
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

/* The file name without directories and extension. */
static char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    return xstrndup(b, n);
}

static char *trimmed(const char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return xstrndup(s, n);
}

static cJSON *placeholder(const char *label) {
    const char *zh1 = "（请为“", *zh2 = "”填写答案）";
    const char *en1 = "(write the answer for ", *en2 = ")";
    size_t n = strlen(label);
    size_t nz = strlen(zh1) + n + strlen(zh2) + 1;
    size_t ne = strlen(en1) + n + strlen(en2) + 1;
    char *zh = xmalloc(nz), *en = xmalloc(ne);
    snprintf(zh, nz, "%s%s%s", zh1, label, zh2);
    snprintf(en, ne, "%s%s%s", en1, label, en2);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "zh", zh);
    cJSON_AddStringToObject(o, "en", en);
    free(zh);
    free(en);
    return o;
}

int cmd_import(int argc, char **argv) {
    const char *file = NULL, *lang = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (opt_value("import", argc, argv, &i, "lang", &v))
            lang = v;
        else if (opt_value("import", argc, argv, &i, "name", &v))
            name = v;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("import", "unknown option '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return usage_error("import", "unexpected argument '%s'", argv[i]);
    }
    if (!file)
        return usage_error("import", "missing the TSV file");
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return usage_error("import", "--lang must be zh or en, not '%s'", lang);
    if (name && !utf8_valid(name, strlen(name)))
        return usage_error("import", "--name is not valid UTF-8");

    tsv_table t;
    if (tsv_read(file, &t, 1) != 0)
        return EXIT_USAGE;

    label_entry *labels = NULL;
    size_t n_labels = 0, n_examples = 0, n_oos = 0, n_dup = 0;
    for (size_t i = 0; i < t.n; i++) {
        tsv_row *r = &t.rows[i];
        if (strcmp(r->label, "_oos") == 0) {
            n_oos++;
            continue;
        }
        if (!utf8_valid(r->label, strlen(r->label)) ||
            !utf8_valid(r->text, strlen(r->text))) {
            fprintf(stderr, "%s:%zu: not valid UTF-8; line skipped\n", file,
                    r->line);
            t.skipped++;
            continue;
        }
        char *text = trimmed(r->text);
        if (!*text || !*r->label) {
            fprintf(stderr, "%s:%zu: empty %s; line skipped\n", file, r->line,
                    *r->label ? "example" : "label");
            t.skipped++;
            free(text);
            continue;
        }
        label_entry *e = NULL;
        for (size_t k = 0; k < n_labels && !e; k++)
            if (strcmp(labels[k].label, r->label) == 0)
                e = &labels[k];
        if (!e) {
            if (!valid_id(r->label))
                fprintf(stderr,
                        "%s:%zu: warning: label '%s' is not a valid intent id "
                        "(1-128 bytes of printable text, no space at either "
                        "end); the KB will not load until it is renamed\n",
                        file, r->line, r->label);
            labels = xrealloc(labels, (n_labels + 1) * sizeof *labels);
            e = &labels[n_labels++];
            e->label = r->label;
            e->zh = cJSON_CreateArray();
            e->en = cJSON_CreateArray();
        }
        int zh = lang ? strcmp(lang, "zh") == 0 : has_cjk(text, strlen(text));
        cJSON *arr = zh ? e->zh : e->en;
        if (array_has(arr, text))
            n_dup++;
        else {
            cJSON_AddItemToArray(arr, cJSON_CreateString(text));
            n_examples++;
        }
        free(text);
    }

    if (n_labels == 0) {
        fprintf(stderr, "csbot import: %s has no labelled examples\n", file);
        free(labels);
        tsv_free(&t);
        return EXIT_USAGE;
    }

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "csbot", 1);
    char *base = name ? NULL : base_name(file);
    cJSON_AddStringToObject(root, "name", name ? name : base);
    free(base);
    cJSON *intents = cJSON_AddArrayToObject(root, "intents");
    for (size_t k = 0; k < n_labels; k++) {
        label_entry *e = &labels[k];
        cJSON *in = cJSON_CreateObject();
        cJSON_AddStringToObject(in, "id", e->label);
        cJSON *ex = cJSON_AddObjectToObject(in, "examples");
        if (cJSON_GetArraySize(e->zh) > 0)
            cJSON_AddItemToObject(ex, "zh", e->zh);
        else
            cJSON_Delete(e->zh);
        if (cJSON_GetArraySize(e->en) > 0)
            cJSON_AddItemToObject(ex, "en", e->en);
        else
            cJSON_Delete(e->en);
        cJSON *resp = cJSON_AddArrayToObject(in, "responses");
        cJSON_AddItemToArray(resp, placeholder(e->label));
        cJSON_AddItemToArray(intents, in);
    }
    if (cli_encoder() && kb_add_vectors(root, cli_encoder(), "import")) {
        cJSON_Delete(root);
        free(labels);
        tsv_free(&t);
        return EXIT_FAIL;
    }
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) {
        fputs("csbot: out of memory\n", stderr);
        free(labels);
        tsv_free(&t);
        return EXIT_FAIL;
    }
    fputs(out, stdout);
    fputc('\n', stdout);
    cJSON_free(out);
    fprintf(stderr,
            "imported %zu intents, %zu examples (%zu _oos rows ignored, "
            "%zu duplicates dropped, %zu lines skipped)\n",
            n_labels, n_examples, n_oos, n_dup, t.skipped);
    free(labels);
    tsv_free(&t);
    return EXIT_OK;
}
