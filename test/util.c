/*
 * util.c - helpers shared by the test suites: loading knowledge bases,
 * replying with error checks, the sentence encoder's test case, and a
 * counting allocator that fails on demand.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

csbot_encoder *t_enc;

static void enc_setup(void) {
    const char *path = getenv("CSBOT_ENCODER");
    csbot_error err = CSBOT_ERROR_INIT;
    t_enc = NULL;
    ck_assert_ptr_nonnull(path);
    ck_assert_msg(csbot_encoder_load(&t_enc, path, &err) == CSBOT_OK,
                  "%s: %s", path, err.message);
}

static void enc_teardown(void) {
    csbot_encoder_free(t_enc);
    t_enc = NULL;
}

TCase *t_encoder_tcase(const char *who) {
    if (!getenv("CSBOT_ENCODER")) {
        fprintf(stderr, "%s: CSBOT_ENCODER not set (make encoder makes the "
                        "model): the model's tests are not run\n",
                who);
        return NULL;
    }
    TCase *tc = tcase_create("model");
    tcase_add_unchecked_fixture(tc, enc_setup, enc_teardown);
    tcase_set_timeout(tc, 120);
    return tc;
}

csbot_kb *t_load(const char *path) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_file(&kb, path, NULL, &err);
    if (rc) {
        char buf[700];
        csbot_error_format(&err, buf, sizeof buf);
        ck_abort_msg("cannot load %s: %s", path, buf);
    }
    return kb;
}

int t_load_text(csbot_kb **out, const char *json, csbot_error *err) {
    return csbot_kb_load_buffer(out, json, CSBOT_NUL_TERMINATED, "<test>", NULL,
                                err);
}

csbot_kb *t_load_parts(const char *const *parts, size_t n, const char *suffix) {
    size_t len = 1 + (suffix ? strlen(suffix) : 0);
    size_t i;
    for (i = 0; i < n && parts[i]; i++)
        len += strlen(parts[i]);
    char *json = malloc(len);
    ck_assert_ptr_nonnull(json);
    json[0] = '\0';
    for (i = 0; i < n && parts[i]; i++)
        strcat(json, parts[i]);
    if (suffix)
        strcat(json, suffix);
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = t_load_text(&kb, json, &err);
    free(json);
    if (rc) {
        char buf[800];
        csbot_error_format(&err, buf, sizeof buf);
        ck_abort_msg("inline knowledge base: %s", buf);
    }
    return kb;
}

const csbot_reply *t_say(csbot_session *s, const char *text) {
    const csbot_reply *r = NULL;
    int rc = csbot_session_reply(s, text, CSBOT_NUL_TERMINATED, &r);
    ck_assert_msg(rc == CSBOT_OK, "reply to \"%s\" failed: %s (%s)", text,
                  csbot_strerror(rc), csbot_session_errmsg(s));
    ck_assert_ptr_nonnull(r);
    return r;
}

void *t_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
    t_alloc *t = ud;
    if (nsize == 0) {
        if (ptr)
            t->live--;
        free(ptr);
        return NULL;
    }
    long n = ++t->count;
    long f = t->fail_at;
    if (f && n == f) {
        t->failed = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p && !ptr)
        t->live++;
    /* new memory holds garbage, as it may in any allocator, so that a read
     * before a write shows up in every build, not only under sanitizers */
    if (p && nsize > (ptr ? osize : 0))
        memset((char *)p + (ptr ? osize : 0), 0xA5, nsize - (ptr ? osize : 0));
    return p;
}

int64_t t_clock_fn(void *ud) {
    return ((const t_clock *)ud)->ms;
}
