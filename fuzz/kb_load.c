/*
 * kb_load.c - fuzzes csbot_kb_load_buffer() on arbitrary bytes (JSON
 * parser, schema checks, normalisation, pattern compilation, training),
 * with the lint warnings on every other input, and csbot_error_format()
 * on the resulting error with every buffer size from 0 up.
 */
#include <csbot.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_warn(const csbot_error *w, void *ud) {
    char buf[600];
    size_t n = csbot_error_format(w, buf, sizeof buf);
    if (strlen(buf) != (n < sizeof buf ? n : sizeof buf - 1))
        abort();
    ++*(unsigned *)ud;
}

/* The formatted error must be what snprintf would give: same length for
 * every buffer size, always NUL-terminated, a prefix of the full text. */
static void check_format(const csbot_error *err) {
    char full[2048];
    size_t need = csbot_error_format(err, full, sizeof full);
    if (need >= sizeof full || strlen(full) != need)
        abort();
    if (csbot_error_format(err, NULL, 0) != need)
        abort();
    for (size_t size = 1; size <= need + 1; size += 1 + size / 4) {
        char *b = malloc(size);
        if (!b)
            return;
        if (csbot_error_format(err, b, size) != need)
            abort();
        size_t got = strlen(b);
        if (got != (need < size ? need : size - 1) || memcmp(b, full, got) != 0)
            abort();
        free(b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    unsigned warnings = 0;
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    if (size % 2) {
        o.warn = on_warn;
        o.warn_ud = &warnings;
    }
    int rc = csbot_kb_load_buffer(&kb, (const char *)data, size, "<fuzz>",
                                  &o, &err);
    if (rc == CSBOT_OK) {
        if (!kb || err.code != CSBOT_OK || csbot_kb_intent_count(kb) == 0)
            abort();
        /* a few read-only accessors over what was loaded */
        for (size_t i = 0; i < csbot_kb_intent_count(kb); i++) {
            const char *id = csbot_kb_intent_id(kb, i);
            size_t j = (size_t)-1;
            if (!id || !csbot_kb_intent_title(kb, i, CSBOT_LANG_ZH_HANT) ||
                csbot_kb_intent_find(kb, id, &j) != CSBOT_OK)
                abort();
        }
        (void)csbot_kb_message(kb, "fallback", CSBOT_LANG_ZH_HANT);
        (void)csbot_kb_name(kb);
        double a, s, m;
        csbot_kb_thresholds(kb, &a, &s, &m);
        csbot_kb_free(kb);
    } else {
        if (kb || rc >= 0 || err.code != rc)
            abort();
        if (!memchr(err.message, 0, sizeof err.message) ||
            !memchr(err.source, 0, sizeof err.source) ||
            !memchr(err.json_path, 0, sizeof err.json_path))
            abort();
        check_format(&err);
    }
    return 0;
}
