/*
 * lint.c - `csbot lint`: load a knowledge base with the quality checks
 * switched on (csbot_kb_options.warn) and print every finding in the
 * compiler-like form `file:line:col: $.path: warning: message`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct lint_state {
    const char *path;
    size_t warnings;
} lint_state;

/* Like csbot_error_format(), with "warning: " before the message. */
static void print_warning(const csbot_error *w, const char *fallback_source) {
    const char *src = w->source[0] ? w->source : fallback_source;
    const char *jp = w->json_path[0] ? w->json_path : NULL;
    if (w->line && jp)
        printf("%s:%u:%u: %s: warning: %s\n", src, w->line, w->column, jp,
               w->message);
    else if (w->line)
        printf("%s:%u:%u: warning: %s\n", src, w->line, w->column, w->message);
    else if (jp)
        printf("%s: %s: warning: %s\n", src, jp, w->message);
    else
        printf("%s: warning: %s\n", src, w->message);
}

static void on_warning(const csbot_error *w, void *ud) {
    lint_state *st = ud;
    st->warnings++;
    print_warning(w, st->path);
}

int cmd_lint(int argc, char **argv) {
    const char *path = NULL;
    int strict = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0)
            strict = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("lint", "unknown option '%s'", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return usage_error("lint", "unexpected argument '%s'", argv[i]);
    }
    if (!path)
        return usage_error("lint", "missing the knowledge-base file");

    lint_state st = {path, 0};
    csbot_kb_options opts = CSBOT_KB_OPTIONS_INIT;
    opts.warn = on_warning;
    opts.warn_ud = &st;
    csbot_kb *kb = NULL;
    fflush(stdout);
    if (load_kb(path, &opts, &kb, NULL) != CSBOT_OK)
        return EXIT_FAIL;
    printf("%s: \"%s\": %zu intents, %zu examples\n", path, csbot_kb_name(kb),
           csbot_kb_intent_count(kb), csbot_kb_example_count(kb));
    printf("%zu warning%s\n", st.warnings, st.warnings == 1 ? "" : "s");
    csbot_kb_free(kb);
    return strict && st.warnings ? EXIT_FAIL : EXIT_OK;
}
