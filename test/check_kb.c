/*
 * check_kb.c - loading knowledge bases: the shipped files, options and
 * thresholds, buffer and file loads, error formatting, the quality warnings
 * of csbot_kb_options.warn, pattern-only bases, synonyms, templates and the
 * Traditional-Chinese answers made at load time.
 *
 * Every load costs ~0.15 s (OpenCC tables), so the shipped files are loaded
 * once per test case by an unchecked fixture and shared by its tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* ---- helpers ---- */

static csbot_kb *load_str(const char *json, const csbot_kb_options *o) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED, "<test>", o,
                                  &err);
    if (rc) {
        char buf[700];
        csbot_error_format(&err, buf, sizeof buf);
        ck_abort_msg("cannot load inline knowledge base: %s", buf);
    }
    ck_assert_ptr_nonnull(kb);
    return kb;
}

/* What a fresh session replies to one message. */
typedef struct answer {
    csbot_action action;
    char intent[64];
    char text[1024];
    double conf;
    csbot_lang lang;
} answer;

static answer ask(const csbot_kb *kb, const char *msg) {
    answer a;
    memset(&a, 0, sizeof a);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, msg);
    a.action = csbot_reply_action(r);
    snprintf(a.intent, sizeof a.intent, "%s",
             csbot_reply_intent(r) ? csbot_reply_intent(r) : "");
    snprintf(a.text, sizeof a.text, "%s", csbot_reply_text(r));
    a.conf = csbot_reply_confidence(r);
    a.lang = csbot_reply_lang(r);
    csbot_session_free(s);
    return a;
}

/* 1-based line and column (bytes) of the nth occurrence of needle. */
static void where(const char *text, const char *needle, int nth,
                  unsigned *line, unsigned *col) {
    const char *p = text - 1;
    for (int i = 0; i < nth; i++) {
        p = strstr(p + 1, needle);
        ck_assert_msg(p != NULL, "marker \"%s\" not in the text", needle);
    }
    *line = 1;
    *col = 1;
    for (const char *q = text; q < p; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- the shipped knowledge bases ---- */

static csbot_kb *demo, *shop;

static void files_setup(void) {
    csbot_error err = CSBOT_ERROR_INIT;
    if (csbot_kb_load_file(&demo, "intents/demo.json", NULL, &err))
        demo = NULL;
    if (csbot_kb_load_file(&shop, "intents/shop.json", NULL, &err))
        shop = NULL;
}

static void files_teardown(void) {
    csbot_kb_free(demo);
    csbot_kb_free(shop);
    demo = shop = NULL;
}

START_TEST(demo_intents) {
    static const char *const ids[] = {
        "greeting",     "order_tracking", "return_policy", "refund_status",
        "shipping_fee", "human_agent",    "complaint",     "thanks"};
    ck_assert_ptr_nonnull(demo);
    ck_assert_uint_eq(csbot_kb_intent_count(demo), 8);
    for (size_t i = 0; i < 8; i++)
        ck_assert_str_eq(csbot_kb_intent_id(demo, i), ids[i]);
    ck_assert_ptr_null(csbot_kb_intent_id(demo, 8));
    ck_assert_ptr_null(csbot_kb_intent_id(demo, (size_t)-1));
    ck_assert_str_eq(csbot_kb_name(demo), "Demo shop");
    /* 13 Chinese and 8 English examples for each intent */
    ck_assert_uint_eq(csbot_kb_example_count(demo), 8 * 21);
}
END_TEST

static int has_intent(const csbot_kb *kb, const char *id) {
    for (size_t i = 0; i < csbot_kb_intent_count(kb); i++)
        if (strcmp(csbot_kb_intent_id(kb, i), id) == 0)
            return 1;
    return 0;
}

START_TEST(shop_intents) {
    ck_assert_ptr_nonnull(shop);
    size_t n = csbot_kb_intent_count(shop);
    ck_assert_uint_eq(n, 40);
    ck_assert_str_eq(csbot_kb_intent_id(shop, 0), "greeting");
    ck_assert_ptr_null(csbot_kb_intent_id(shop, n));
    static const char *const some[] = {"order_tracking", "refund_status",
                                       "invoice",        "human_agent",
                                       "return_policy",  "recommendation"};
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
        ck_assert_msg(has_intent(shop, some[i]), "no intent %s", some[i]);
    ck_assert(!has_intent(shop, "no_such_intent"));
    for (size_t i = 0; i < n; i++) {
        const char *a = csbot_kb_intent_id(shop, i);
        ck_assert_int_gt((int)strlen(a), 0);
        for (size_t k = i + 1; k < n; k++)
            ck_assert_str_ne(a, csbot_kb_intent_id(shop, k));
    }
    ck_assert_uint_ge(csbot_kb_example_count(shop), 5 * n);
    ck_assert_int_gt((int)strlen(csbot_kb_name(shop)), 0);
}
END_TEST

START_TEST(titles_and_messages) {
    ck_assert_ptr_nonnull(demo);
    size_t i = 99;
    ck_assert_int_eq(csbot_kb_intent_find(demo, "order_tracking", &i), CSBOT_OK);
    ck_assert_uint_eq(i, 1);
    ck_assert_int_eq(csbot_kb_intent_find(demo, "nope", &i), CSBOT_ERANGE);
    ck_assert_uint_eq(i, 1);
    ck_assert_int_eq(csbot_kb_intent_find(NULL, "x", NULL), CSBOT_EINVAL);
    ck_assert_str_eq(csbot_kb_intent_title(demo, 1, CSBOT_LANG_EN), "Track my order");
    ck_assert_str_eq(csbot_kb_intent_title(demo, 1, CSBOT_LANG_ZH_HANS), "查询物流");
    /* Traditional titles are converted at load */
    ck_assert_str_eq(csbot_kb_intent_title(demo, 1, CSBOT_LANG_ZH_HANT), "查詢物流");
    ck_assert_ptr_null(csbot_kb_intent_title(demo, 8, CSBOT_LANG_EN));
    ck_assert_str_eq(csbot_kb_message(demo, "handoff", CSBOT_LANG_EN),
                     "Connecting you to a human agent, one moment please.");
    ck_assert_str_eq(csbot_kb_message(demo, "suggest", CSBOT_LANG_ZH_HANS), "您是想问：");
    ck_assert_ptr_nonnull(csbot_kb_message(demo, "human_mode", CSBOT_LANG_ZH_HANT));
    /* the channels' messages: the built-in defaults when the file has none */
    ck_assert_str_eq(csbot_kb_message(demo, "welcome", CSBOT_LANG_EN),
                     "Hello! I'm the shop's assistant. How can I help?");
    ck_assert_str_eq(csbot_kb_message(demo, "unsupported", CSBOT_LANG_ZH_HANT),
                     "暫時只能看懂文字消息，請用文字描述您的問題。");
    ck_assert_ptr_null(csbot_kb_message(demo, "greeting", CSBOT_LANG_EN));
    ck_assert_ptr_null(csbot_kb_message(NULL, "handoff", CSBOT_LANG_EN));
}
END_TEST

START_TEST(title_defaults_to_id) {
    csbot_kb *kb;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(t_load_text(&kb,
                                 "{\"csbot\":1,\"intents\":[{\"id\":\"hi\","
                                 "\"examples\":{\"en\":[\"hello\",\"hi\"]},"
                                 "\"responses\":[{\"en\":\"Hi!\"}]}]}",
                                 &err),
                     CSBOT_OK);
    ck_assert_str_eq(csbot_kb_intent_title(kb, 0, CSBOT_LANG_ZH_HANS), "hi");
    csbot_kb_free(kb);
}
END_TEST

START_TEST(default_thresholds) {
    ck_assert_ptr_nonnull(demo);
    double a = -1, s = -1, m = -1;
    csbot_kb_thresholds(demo, &a, &s, &m);
    ck_assert_double_eq_tol(a, 0.5, 1e-12);
    ck_assert_double_eq_tol(s, 0.3, 1e-12);
    ck_assert_double_eq_tol(m, 0.1, 1e-12);
    /* any out pointer may be NULL */
    a = -1;
    csbot_kb_thresholds(demo, &a, NULL, NULL);
    ck_assert_double_eq_tol(a, 0.5, 1e-12);
    m = -1;
    csbot_kb_thresholds(demo, NULL, NULL, &m);
    ck_assert_double_eq_tol(m, 0.1, 1e-12);
}
END_TEST

START_TEST(buffer_equals_file) {
    ck_assert_ptr_nonnull(demo);
    size_t len;
    char *text = read_file("intents/demo.json", &len);
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    /* an explicit length; the buffer is not kept after the call */
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, text, len, "demo", NULL, &err),
                     CSBOT_OK);
    memset(text, ' ', len);
    free(text);
    ck_assert_uint_eq(csbot_kb_intent_count(kb), csbot_kb_intent_count(demo));
    for (size_t i = 0; i < csbot_kb_intent_count(kb); i++)
        ck_assert_str_eq(csbot_kb_intent_id(kb, i),
                         csbot_kb_intent_id(demo, i));
    ck_assert_uint_eq(csbot_kb_example_count(kb),
                      csbot_kb_example_count(demo));
    ck_assert_str_eq(csbot_kb_name(kb), csbot_kb_name(demo));
    static const char *const msgs[] = {
        "where is my package",      "我的快递到哪了 202405181234567",
        "可以退貨嗎",               "how much is shipping",
        "退款什么时候到账",         "asdf qwer zxcv"};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        answer x = ask(kb, msgs[i]), y = ask(demo, msgs[i]);
        ck_assert_int_eq(x.action, y.action);
        ck_assert_str_eq(x.intent, y.intent);
        ck_assert_str_eq(x.text, y.text);
        ck_assert_int_eq(x.lang, y.lang);
        ck_assert_double_eq_tol(x.conf, y.conf, 1e-9);
    }
    csbot_kb_free(kb);
}
END_TEST

/* ---- options ---- */

/* Patterns only: no examples, so no classifier and the confidence of a
 * pattern hit is exactly pattern_confidence. */
static const char PATTERNS_KB[] =
    "{\"csbot\": 1, \"name\": \"patterns\",\n"
    " \"settings\": {\"pattern_confidence\": 0.9},\n"
    " \"intents\": [\n"
    "  {\"id\": \"track\", \"patterns\": [\"track|parcel\"],\n"
    "   \"responses\": [{\"en\": \"It is on its way.\", \"zh\": \"在路上\"}]},\n"
    "  {\"id\": \"refund\", \"patterns\": [\"refund|退款\"],\n"
    "   \"responses\": [{\"en\": \"Three days.\", \"zh\": \"三天\"}]}]}\n";

START_TEST(thresholds_from_options) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.answer_threshold = 0.95;
    o.suggest_threshold = 0.2;
    o.ambiguity_margin = 0.05;
    csbot_kb *kb = load_str(PATTERNS_KB, &o);
    double a, s, m;
    csbot_kb_thresholds(kb, &a, &s, &m);
    ck_assert_double_eq_tol(a, 0.95, 1e-12);
    ck_assert_double_eq_tol(s, 0.2, 1e-12);
    ck_assert_double_eq_tol(m, 0.05, 1e-12);
    /* a pattern hit (0.9) is now under the answer threshold */
    answer x = ask(kb, "track my parcel");
    ck_assert_int_eq(x.action, CSBOT_ACTION_SUGGEST);
    ck_assert_str_eq(x.intent, "");
    csbot_kb_free(kb);

    kb = load_str(PATTERNS_KB, NULL);
    x = ask(kb, "track my parcel");
    ck_assert_int_eq(x.action, CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(x.intent, "track");
    ck_assert_double_eq_tol(x.conf, 0.9, 1e-6);
    ck_assert_str_eq(x.text, "It is on its way.");
    csbot_kb_free(kb);
}
END_TEST

START_TEST(thresholds_from_kb_and_options) {
    static const char json[] =
        "{\"csbot\": 1, \"settings\": {\"answer_threshold\": 0.55,"
        " \"suggest_threshold\": 0.35, \"ambiguity_margin\": 0.15},\n"
        " \"intents\": [{\"id\": \"a\", \"patterns\": [\"a\"],"
        " \"responses\": [{\"en\": \"A\"}]}]}";
    csbot_kb *kb = load_str(json, NULL);
    double a, s, m;
    csbot_kb_thresholds(kb, &a, &s, &m);
    ck_assert_double_eq_tol(a, 0.55, 1e-12);
    ck_assert_double_eq_tol(s, 0.35, 1e-12);
    ck_assert_double_eq_tol(m, 0.15, 1e-12);
    csbot_kb_free(kb);
    /* an option overrides only its own setting; < 0 keeps the base's */
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.answer_threshold = 0.8;
    o.ambiguity_margin = 0.0;
    kb = load_str(json, &o);
    csbot_kb_thresholds(kb, &a, &s, &m);
    ck_assert_double_eq_tol(a, 0.8, 1e-12);
    ck_assert_double_eq_tol(s, 0.35, 1e-12);
    ck_assert_double_eq_tol(m, 0.0, 1e-12);
    csbot_kb_free(kb);
}
END_TEST

START_TEST(options_bad_version) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.version = CSBOT_KB_OPTIONS_VERSION + 1;
    csbot_kb *kb = (csbot_kb *)&o;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, PATTERNS_KB,
                                          CSBOT_NUL_TERMINATED, "x", &o, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_EINVAL);
    ck_assert_int_gt((int)strlen(err.message), 0);
    kb = (csbot_kb *)&o;
    ck_assert_int_eq(csbot_kb_load_file(&kb, "intents/demo.json", &o, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    o.version = 0;
    ck_assert_int_eq(csbot_kb_load_file(&kb, "intents/demo.json", &o, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
}
END_TEST

START_TEST(options_threshold_out_of_range) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.answer_threshold = 1.5;
    csbot_kb *kb = (csbot_kb *)&o;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, PATTERNS_KB,
                                          CSBOT_NUL_TERMINATED, "x", &o, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_EINVAL);
}
END_TEST

START_TEST(max_message_option) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.max_message = 10;
    csbot_kb *kb = load_str(PATTERNS_KB, &o);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    const csbot_reply *r = NULL;
    ck_assert_int_eq(csbot_session_reply(s, "refund now", 10, &r), CSBOT_OK);
    ck_assert_str_eq(csbot_reply_intent(r), "refund");
    ck_assert_int_eq(csbot_session_reply(s, "refund now!", 11, &r),
                     CSBOT_ETOOBIG);
    ck_assert_ptr_null(r);
    csbot_session_free(s);
    csbot_kb_free(kb);
}
END_TEST

/* ---- errors ---- */

START_TEST(error_format_shape) {
    static const char json[] = "{\"csbot\": 1,\n \"intents\": 5}\n";
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED,
                                          "kb.json", NULL, &err),
                     CSBOT_ESCHEMA);
    ck_assert_ptr_null(kb);
    ck_assert_str_eq(err.source, "kb.json");
    ck_assert_str_eq(err.json_path, "$.intents");
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.column, 13);
    ck_assert_uint_eq(err.offset, 25);
    char buf[600], want[600];
    snprintf(want, sizeof want, "kb.json:2:13: $.intents: %s", err.message);
    size_t n = csbot_error_format(&err, buf, sizeof buf);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_ptr_nonnull(strstr(buf, "array"));
    /* snprintf-like: the length needed, a NUL-terminated prefix */
    ck_assert_uint_eq(csbot_error_format(&err, NULL, 0), n);
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert_uint_eq(csbot_error_format(&err, small, sizeof small), n);
    ck_assert_str_eq(small, "kb.json");
    small[0] = 'x';
    ck_assert_uint_eq(csbot_error_format(&err, small, 1), n);
    ck_assert_int_eq(small[0], '\0');
}
END_TEST

START_TEST(error_format_without_location) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_file(&kb, "test/data/no/such.json", NULL,
                                        &err),
                     CSBOT_EIO);
    char buf[600], want[600];
    snprintf(want, sizeof want, "test/data/no/such.json: %s", err.message);
    ck_assert_uint_eq(csbot_error_format(&err, buf, sizeof buf), strlen(want));
    ck_assert_str_eq(buf, want);
    /* a syntax error has a location but no path */
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, "{\n  \"csbot\": 1,,\n}", 17,
                                          "s.json", NULL, &err),
                     CSBOT_EJSON);
    snprintf(want, sizeof want, "s.json:2:14: %s", err.message);
    csbot_error_format(&err, buf, sizeof buf);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(csbot_error_format(NULL, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(error_cleared_on_success) {
    csbot_error err = CSBOT_ERROR_INIT;
    csbot_kb *kb = NULL;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, "[]", 2, "a", NULL, &err),
                     CSBOT_ESCHEMA);
    ck_assert_int_eq(err.code, CSBOT_ESCHEMA);
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, PATTERNS_KB,
                                          CSBOT_NUL_TERMINATED, "b", NULL,
                                          &err),
                     CSBOT_OK);
    ck_assert_int_eq(err.code, CSBOT_OK);
    ck_assert_str_eq(err.json_path, "");
    ck_assert_uint_eq(err.line, 0);
    ck_assert_str_eq(err.message, "");
    csbot_kb_free(kb);
    /* a NULL name gives "<buffer>" */
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, "[]", 2, NULL, NULL, &err),
                     CSBOT_ESCHEMA);
    ck_assert_str_eq(err.source, "<buffer>");
}
END_TEST

START_TEST(byte_order_mark_ignored) {
    /* editors on Windows save UTF-8 with a BOM */
    char json[sizeof PATTERNS_KB + 3] = "\xEF\xBB\xBF";
    memcpy(json + 3, PATTERNS_KB, sizeof PATTERNS_KB);
    csbot_kb *kb = load_str(json, NULL);
    ck_assert_str_eq(csbot_kb_name(kb), "patterns");
    ck_assert_str_eq(ask(kb, "refund please").intent, "refund");
    csbot_kb_free(kb);
}
END_TEST

START_TEST(buffer_size_limit) {
    /* refused from its length alone: the text is not read */
    static const char json[] = "{}";
    csbot_kb *kb = (csbot_kb *)&kb;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, json, ((size_t)256 << 20) + 1,
                                          "huge", NULL, &err),
                     CSBOT_ETOOBIG);
    ck_assert_ptr_null(kb);
    ck_assert_int_eq(err.code, CSBOT_ETOOBIG);
}
END_TEST

/* ---- quality warnings ---- */

typedef struct warning {
    char message[256];
    char path[256];
    char source[256];
    unsigned line, column;
    int code;
} warning;

typedef struct warnings {
    warning w[16];
    int n;
} warnings;

static void collect(const csbot_error *w, void *ud) {
    warnings *ws = ud;
    if (ws->n < 16) {
        warning *x = &ws->w[ws->n];
        snprintf(x->message, sizeof x->message, "%s", w->message);
        snprintf(x->path, sizeof x->path, "%s", w->json_path);
        snprintf(x->source, sizeof x->source, "%s", w->source);
        x->line = w->line;
        x->column = w->column;
        x->code = w->code;
    }
    ws->n++;
}

static const warning *find_warning(const warnings *ws, const char *path) {
    for (int i = 0; i < ws->n && i < 16; i++)
        if (strcmp(ws->w[i].path, path) == 0)
            return &ws->w[i];
    return NULL;
}

static void load_warned(const char *json, warnings *ws) {
    memset(ws, 0, sizeof *ws);
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.warn = collect;
    o.warn_ud = ws;
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED, "lint.json",
                                  &o, &err);
    ck_assert_msg(rc == CSBOT_OK, "warnings must not fail the load: %s",
                  err.message);
    csbot_kb_free(kb);
}

static void check_at(const warning *w, const char *json, const char *marker,
                     int nth) {
    unsigned line, col;
    where(json, marker, nth, &line, &col);
    ck_assert_msg(w->line == line && w->column == col,
                  "warning at %s: at %u:%u, want %u:%u", w->path, w->line,
                  w->column, line, col);
    ck_assert_int_eq(w->code, CSBOT_OK);
    ck_assert_str_eq(w->source, "lint.json");
    ck_assert_int_gt((int)strlen(w->message), 0);
}

static const char LINT_KB[] =
    "{\"csbot\": 1,\n"
    " \"intents\": [\n"
    "  {\"id\": \"track\",\n"
    "   \"examples\": {\"en\": [\"where is my parcel\", \"track my order\",\n"
    "     \"has my package shipped\", \"track my order\",\n"
    "     \"when will my order arrive\", \"order status\"]},\n"
    "   \"responses\": [{\"en\": \"On its way.\"}]},\n"
    "  {\"id\": \"refund\",\n"
    "   \"examples\": {\"en\": [\"where is my parcel\", \"refund status\"]},\n"
    "   \"responses\": [{\"en\": \"Three days.\"}]},\n"
    "  {\"id\": \"hours\",\n"
    "   \"examples\": {\"en\": [\"opening hours\", \"when are you open\",\n"
    "     \"are you open on sunday\", \"what time do you close\",\n"
    "     \"business hours\"]},\n"
    "   \"patterns\": [\"open|hours\", \"weekend\\\\s+service\"],\n"
    "   \"responses\": [{\"en\": \"9 to 5.\"}]}]}\n";

START_TEST(warnings_found) {
    warnings ws;
    load_warned(LINT_KB, &ws);
    ck_assert_int_eq(ws.n, 4);
    /* an example of another intent */
    const warning *w = find_warning(&ws, "$.intents[1].examples.en[0]");
    ck_assert_msg(w != NULL, "no duplicate-across-intents warning");
    check_at(w, LINT_KB, "\"where is my parcel\"", 2);
    ck_assert_ptr_nonnull(strstr(w->message, "track"));
    /* an example twice in one intent */
    w = find_warning(&ws, "$.intents[0].examples.en[3]");
    ck_assert_msg(w != NULL, "no duplicate-within-intent warning");
    check_at(w, LINT_KB, "\"track my order\"", 2);
    /* too few examples */
    w = find_warning(&ws, "$.intents[1].examples");
    ck_assert_msg(w != NULL, "no few-examples warning");
    check_at(w, LINT_KB, "{\"en\": [\"where is my parcel\", \"refund", 1);
    ck_assert_ptr_nonnull(strstr(w->message, "2"));
    /* a pattern that matches none of its intent's examples */
    w = find_warning(&ws, "$.intents[2].patterns[1]");
    ck_assert_msg(w != NULL, "no pattern-matches-nothing warning");
    check_at(w, LINT_KB, "\"weekend", 1);
    ck_assert_ptr_null(find_warning(&ws, "$.intents[2].patterns[0]"));
}
END_TEST

START_TEST(no_warnings_for_clean_kb) {
    static const char json[] =
        "{\"csbot\": 1,\n"
        " \"intents\": [\n"
        "  {\"id\": \"track\", \"patterns\": [\"parcel|order\"],\n"
        "   \"examples\": {\"en\": [\"where is my parcel\",\n"
        "     \"track my order\", \"has my parcel shipped\", \"when will my order arrive\",\n"
        "     \"order status\"], \"zh\": [\"我的快递到哪了\"]},\n"
        "   \"responses\": [{\"en\": \"On its way.\"}]},\n"
        "  {\"id\": \"hours\",\n"
        "   \"examples\": {\"en\": [\"opening hours\", \"when are you open\",\n"
        "     \"are you open on sunday\", \"what time do you close\",\n"
        "     \"business hours\"]},\n"
        "   \"responses\": [{\"en\": \"9 to 5.\"}]}]}\n";
    warnings ws;
    load_warned(json, &ws);
    ck_assert_msg(ws.n == 0, "%d warnings, the first: %s: %s", ws.n,
                  ws.w[0].path, ws.w[0].message);
}
END_TEST

START_TEST(warn_only_when_asked) {
    /* without a callback the same base loads silently, and with one the
     * callback is not kept after the load */
    csbot_kb *kb = load_str(LINT_KB, NULL);
    ck_assert_uint_eq(csbot_kb_intent_count(kb), 3);
    csbot_kb_free(kb);
    warnings ws;
    memset(&ws, 0, sizeof ws);
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.warn = collect;
    o.warn_ud = &ws;
    kb = load_str(LINT_KB, &o);
    int n = ws.n;
    ck_assert_int_gt(n, 0);
    answer a = ask(kb, "where is my parcel");
    ck_assert_int_ne(a.action, CSBOT_ACTION_NONE);
    ck_assert_int_eq(ws.n, n);
    csbot_kb_free(kb);
}
END_TEST

/* ---- content ---- */

START_TEST(patterns_only) {
    csbot_kb *kb = load_str(PATTERNS_KB, NULL);
    ck_assert_uint_eq(csbot_kb_intent_count(kb), 2);
    ck_assert_uint_eq(csbot_kb_example_count(kb), 0);
    answer a = ask(kb, "I want a REFUND");
    ck_assert_int_eq(a.action, CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(a.intent, "refund");
    ck_assert_str_eq(a.text, "Three days.");
    a = ask(kb, "我要退款");
    ck_assert_str_eq(a.intent, "refund");
    ck_assert_str_eq(a.text, "三天");
    a = ask(kb, "hello there");
    ck_assert_int_eq(a.action, CSBOT_ACTION_FALLBACK);
    ck_assert_str_eq(a.intent, "");
    csbot_kb_free(kb);
}
END_TEST

#define SYN_KB(SYNONYMS)                                                      \
    "{\"csbot\": 1, " SYNONYMS "\n"                                          \
    " \"intents\": [\n"                                                      \
    "  {\"id\": \"track\", \"examples\": {\"zh\": [\"我的快递到哪了\","       \
    " \"快递什么时候到\", \"查一下快递\", \"快递还没收到\", \"快递到哪里了\"]},"  \
    " \"responses\": [{\"zh\": \"在路上\"}]},\n"                             \
    "  {\"id\": \"refund\", \"examples\": {\"zh\": [\"退款什么时候到账\","     \
    " \"怎么申请退款\", \"退款进度\", \"我要退款\", \"钱什么时候退\"]},"        \
    " \"responses\": [{\"zh\": \"三天\"}]}]}\n"

START_TEST(synonyms_apply) {
    csbot_kb *with = load_str(SYN_KB("\"synonyms\": [[\"快递\", \"包裹\"]],"),
                              NULL);
    csbot_kb *without = load_str(SYN_KB(""), NULL);
    /* alone, the word is known only through its group */
    answer a = ask(with, "包裹");
    ck_assert_int_eq(a.action, CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(a.intent, "track");
    answer b = ask(without, "包裹");
    ck_assert_int_ne(b.action, CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(b.intent, "");
    /* in a sentence it makes the match surer */
    a = ask(with, "包裹什么时候到");
    ck_assert_str_eq(a.intent, "track");
    ck_assert_int_eq(a.action, CSBOT_ACTION_ANSWER);
    b = ask(without, "包裹什么时候到");
    ck_assert_msg(strcmp(b.intent, "track") != 0 || b.conf < a.conf,
                  "the synonym group made no difference (%.3f vs %.3f)",
                  a.conf, b.conf);
    /* the group's first member is unaffected */
    ck_assert_str_eq(ask(with, "快递什么时候到").intent, "track");
    csbot_kb_free(with);
    csbot_kb_free(without);
}
END_TEST

START_TEST(templates_filled_at_load) {
    static const char json[] =
        "{\"csbot\": 1,\n"
        " \"shop\": {\"return_days\": \"7\", \"phone\": 4008201234,"
        " \"fee\": 0.1},\n"
        " \"slots\": {\"order_id\": {\"pattern\": \"([0-9]{6,})\"}},\n"
        " \"messages\": {\"fallback\": {\"en\": \"Call {shop.phone}.\"}},\n"
        " \"intents\": [\n"
        "  {\"id\": \"returns\", \"patterns\": [\"return\"],\n"
        "   \"responses\": [{\"en\": \"{shop.return_days} days, "
        "{shop.vip_days|30} for VIPs, {profile.name|friend}, "
        "fee {shop.fee}.\"}]},\n"
        "  {\"id\": \"track\", \"patterns\": [\"track\"],\n"
        "   \"responses\": [{\"en\": \"Order {order_id|?} ships.\"}]}]}\n";
    csbot_kb *kb = load_str(json, NULL);
    answer a = ask(kb, "can I return it");
    ck_assert_str_eq(a.text, "7 days, 30 for VIPs, friend, fee 0.1.");
    a = ask(kb, "track 12345678");
    ck_assert_str_eq(a.text, "Order 12345678 ships.");
    a = ask(kb, "track it");
    ck_assert_str_eq(a.text, "Order ? ships.");
    a = ask(kb, "hello");
    ck_assert_int_eq(a.action, CSBOT_ACTION_FALLBACK);
    ck_assert_str_eq(a.text, "Call 4008201234.");
    csbot_kb_free(kb);
}
END_TEST

static void expect_load_error(const char *json, int code, const char *path,
                              const char *marker) {
    csbot_kb *kb = (csbot_kb *)&code;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED, "t.json",
                                  NULL, &err);
    ck_assert_msg(rc == code, "got %s (%s)", csbot_strerror(rc), err.message);
    ck_assert_ptr_null(kb);
    ck_assert_str_eq(err.json_path, path);
    unsigned line, col;
    where(json, marker, 1, &line, &col);
    ck_assert_uint_eq(err.line, line);
    ck_assert_uint_eq(err.column, col);
}

START_TEST(template_unknown_shop_variable) {
    static const char json[] =
        "{\"csbot\": 1, \"shop\": {\"return_days\": \"7\"},\n"
        " \"intents\": [{\"id\": \"returns\", \"patterns\": [\"return\"],\n"
        "   \"responses\": [{\"zh\": \"{shop.return_days}天\",\n"
        "                    \"en\": \"{shop.retrun_days} days\"}]}]}\n";
    expect_load_error(json, CSBOT_ESCHEMA, "$.intents[0].responses[0].en",
                      "\"{shop.retrun");
}
END_TEST

START_TEST(template_unknown_slot) {
    static const char json[] =
        "{\"csbot\": 1,\n"
        " \"slots\": {\"order_id\": {\"pattern\": \"([0-9]{6,})\"}},\n"
        " \"intents\": [{\"id\": \"track\", \"patterns\": [\"track\"],\n"
        "   \"responses\": [{\"en\": \"fine\"},\n"
        "                   {\"zh\": \"订单{order_no}已发出\"}]}]}\n";
    expect_load_error(json, CSBOT_ESCHEMA, "$.intents[0].responses[1].zh",
                      "\"订单");
}
END_TEST

static const char TRAD_KB[] =
    "{\"csbot\": 1,\n"
    " \"intents\": [\n"
    "  {\"id\": \"invoice\", \"examples\": {\"zh\": [\"可以开发票吗\","
    " \"发票怎么开\", \"我要开发票\", \"能开增值税发票吗\", \"发票抬头写错了\"],"
    " \"en\": [\"can i get an invoice\"]},\n"
    "   \"responses\": [{\"zh\": \"发票\", \"en\": \"Invoice\"}]},\n"
    "  {\"id\": \"track\", \"examples\": {\"zh\": [\"我的快递到哪了\","
    " \"快递什么时候到\", \"查一下物流\"]},\n"
    "   \"responses\": [{\"zh\": \"订单已发货，请耐心等待\"}]}]}\n";

START_TEST(traditional_answers) {
    csbot_kb *kb = load_str(TRAD_KB, NULL);
    answer a = ask(kb, "請問可以開發票嗎");
    ck_assert_str_eq(a.intent, "invoice");
    ck_assert_int_eq(a.lang, CSBOT_LANG_ZH_HANT);
    ck_assert_str_eq(a.text, "發票");
    a = ask(kb, "可以开发票吗");
    ck_assert_str_eq(a.intent, "invoice");
    ck_assert_int_eq(a.lang, CSBOT_LANG_ZH_HANS);
    ck_assert_str_eq(a.text, "发票");
    a = ask(kb, "can I get an invoice please");
    ck_assert_int_eq(a.lang, CSBOT_LANG_EN);
    ck_assert_str_eq(a.text, "Invoice");
    /* no English text: the Chinese one, in the customer's script */
    a = ask(kb, "我的快遞到哪了");
    ck_assert_str_eq(a.intent, "track");
    ck_assert_int_eq(a.lang, CSBOT_LANG_ZH_HANT);
    ck_assert_str_eq(a.text, "訂單已發貨，請耐心等待");
    csbot_kb_free(kb);
}
END_TEST

START_TEST(traditional_variant) {
    /* settings.traditional picks the OpenCC conversion: Taiwan phrases.
     * Patterns see the message in Simplified characters: 軟體 as 软体. */
    static const char json[] =
        "{\"csbot\": 1, \"settings\": {\"traditional\": \"s2twp\"},\n"
        " \"intents\": [{\"id\": \"app\", \"patterns\": [\"软件|软体|app\"],\n"
        "   \"responses\": [{\"zh\": \"请下载软件\"}]}]}\n";
    csbot_kb *kb = load_str(json, NULL);
    answer a = ask(kb, "請問軟體在哪下載");
    ck_assert_str_eq(a.intent, "app");
    ck_assert_int_eq(a.lang, CSBOT_LANG_ZH_HANT);
    ck_assert_str_eq(a.text, "請下載軟體");
    a = ask(kb, "软件在哪下载");
    ck_assert_int_eq(a.lang, CSBOT_LANG_ZH_HANS);
    ck_assert_str_eq(a.text, "请下载软件");
    csbot_kb_free(kb);
}
END_TEST

Suite *kb_suite(void) {
    Suite *s = suite_create("kb");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, files_setup, files_teardown);
    tcase_add_test(tc, demo_intents);
    tcase_add_test(tc, shop_intents);
    tcase_add_test(tc, titles_and_messages);
    tcase_add_test(tc, title_defaults_to_id);
    tcase_add_test(tc, default_thresholds);
    tcase_add_test(tc, buffer_equals_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, thresholds_from_options);
    tcase_add_test(tc, thresholds_from_kb_and_options);
    tcase_add_test(tc, options_bad_version);
    tcase_add_test(tc, options_threshold_out_of_range);
    tcase_add_test(tc, max_message_option);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, error_format_shape);
    tcase_add_test(tc, error_format_without_location);
    tcase_add_test(tc, error_cleared_on_success);
    tcase_add_test(tc, byte_order_mark_ignored);
    tcase_add_test(tc, buffer_size_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("warnings");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, warnings_found);
    tcase_add_test(tc, no_warnings_for_clean_kb);
    tcase_add_test(tc, warn_only_when_asked);
    suite_add_tcase(s, tc);

    tc = tcase_create("content");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, patterns_only);
    tcase_add_test(tc, synonyms_apply);
    tcase_add_test(tc, templates_filled_at_load);
    tcase_add_test(tc, template_unknown_shop_variable);
    tcase_add_test(tc, template_unknown_slot);
    tcase_add_test(tc, traditional_answers);
    tcase_add_test(tc, traditional_variant);
    suite_add_tcase(s, tc);
    return s;
}
