/*
 * check_text.c - what customers type: invalid UTF-8, NUL bytes, empty and
 * blank messages, size limits, full-width forms, case, Traditional and
 * Simplified Chinese, English, mixed text and emoji, through the public API
 * on intents/demo.json; and the UTF-8 module itself (lib/utf8.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "kb.h"
#include "utf8.h"

static csbot_kb *demo;
static csbot_session *s;

static void kb_setup(void) {
    csbot_error err = CSBOT_ERROR_INIT;
    if (csbot_kb_load_file(&demo, "intents/demo.json", NULL, &err))
        demo = NULL;
}

static void kb_teardown(void) {
    csbot_kb_free(demo);
    demo = NULL;
}

static void session_setup(void) {
    s = NULL;
    ck_assert_ptr_nonnull(demo);
    ck_assert_int_eq(csbot_session_new(&s, demo, NULL), CSBOT_OK);
}

static void session_teardown(void) {
    csbot_session_free(s);
    s = NULL;
}

/* A rejected message: the code, no reply, an explanation. */
static void rejected(const char *text, size_t len, int code,
                     const char *errmsg_part) {
    const csbot_reply *r = (const csbot_reply *)&r;
    int rc = csbot_session_reply(s, text, len, &r);
    ck_assert_msg(rc == code, "got %s, want %s", csbot_strerror(rc),
                  csbot_strerror(code));
    ck_assert_ptr_null(r);
    const char *m = csbot_session_errmsg(s);
    ck_assert_int_gt((int)strlen(m), 0);
    if (errmsg_part)
        ck_assert_msg(strstr(m, errmsg_part) != NULL,
                      "errmsg \"%s\" does not say \"%s\"", m, errmsg_part);
}

/* The next good message is still the first turn. */
static void still_first_turn(void) {
    const csbot_reply *r = t_say(s, "where is my package");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_str_eq(csbot_session_errmsg(s), "");
}

/* ---- rejected messages ---- */

START_TEST(invalid_utf8_rejected) {
    static const struct {
        const char *text;
        size_t len;
        const char *where;
    } bad[] = {
        {"ab\xC0\xAF", 4, "byte 2"},         /* overlong '/' */
        {"\xE0\x80\xAF", 3, "byte 0"},       /* overlong, 3 bytes */
        {"x\xED\xA0\x80y", 5, "byte 1"},     /* UTF-16 surrogate */
        {"where \xE4\xBD", 8, "byte 6"},     /* truncated at the end */
        {"\xE4\xBD" "abc", 5, "byte 0"},     /* truncated in the middle */
        {"hello \xFF", 7, "byte 6"},         /* never valid */
        {"\x80", 1, "byte 0"},               /* lone continuation */
        {"\xF4\x90\x80\x80", 4, "byte 0"},   /* over U+10FFFF */
        {"\xF8\x88\x80\x80\x80", 5, "byte 0"}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        rejected(bad[i].text, bad[i].len, CSBOT_EUTF8, bad[i].where);
    still_first_turn();
}
END_TEST

START_TEST(nul_inside_message) {
    rejected("where\0is my package", 19, CSBOT_EUTF8, "NUL");
    rejected("\0", 1, CSBOT_EUTF8, "byte 0");
    still_first_turn();
    /* the same text up to the NUL is fine with CSBOT_NUL_TERMINATED */
    const csbot_reply *r = NULL;
    ck_assert_int_eq(csbot_session_reply(s, "thanks\0garbage",
                                         CSBOT_NUL_TERMINATED, &r),
                     CSBOT_OK);
    ck_assert_str_eq(csbot_reply_intent(r), "thanks");
}
END_TEST

START_TEST(empty_and_blank) {
    rejected("", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    rejected("where is my package", 0, CSBOT_EEMPTY, NULL);
    rejected(" ", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    rejected(" \t\r\n\f\v ", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    rejected("\xE3\x80\x80", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    rejected("\xE3\x80\x80 \xE3\x80\x80\t", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY,
             NULL);
    rejected("\xC2\xA0\n", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    still_first_turn();
}
END_TEST

START_TEST(errors_keep_the_conversation) {
    const csbot_reply *r = t_say(s, "我的快递到哪了");
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ASK);
    rejected("   ", CSBOT_NUL_TERMINATED, CSBOT_EEMPTY, NULL);
    rejected("\xFF", 1, CSBOT_EUTF8, NULL);
    /* still waiting for the order number, and this is turn 2 */
    r = t_say(s, "202405181234567");
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "202405181234567"));
}
END_TEST

/* A valid message of exactly n bytes. */
static char *message_of(size_t n) {
    static const char unit[] = "where is my package ";
    char *m = malloc(n + 1);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < n; i++)
        m[i] = unit[i % (sizeof unit - 1)];
    m[n] = '\0';
    return m;
}

START_TEST(default_size_limit) {
    char *m = message_of(16385);
    rejected(m, 16385, CSBOT_ETOOBIG, "16384");
    rejected(m, CSBOT_NUL_TERMINATED, CSBOT_ETOOBIG, NULL);
    const csbot_reply *r = NULL;
    ck_assert_int_eq(csbot_session_reply(s, m, 16384, &r), CSBOT_OK);
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    free(m);
    /* a megabyte, checked before anything is done with it (not even the
     * UTF-8 check: the bytes are not valid) */
    size_t big = (size_t)1 << 20;
    m = malloc(big);
    ck_assert_ptr_nonnull(m);
    memset(m, 0xFF, big);
    rejected(m, big, CSBOT_ETOOBIG, NULL);
    free(m);
}
END_TEST

START_TEST(option_size_limit) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.max_message = 100;
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_file(&kb, "intents/demo.json", &o, &err),
                     CSBOT_OK);
    csbot_session *t = NULL;
    ck_assert_int_eq(csbot_session_new(&t, kb, NULL), CSBOT_OK);
    char *m = message_of(101);
    const csbot_reply *r = (const csbot_reply *)&r;
    ck_assert_int_eq(csbot_session_reply(t, m, 101, &r), CSBOT_ETOOBIG);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(csbot_session_errmsg(t), "100"));
    ck_assert_int_eq(csbot_session_reply(t, m, 100, &r), CSBOT_OK);
    ck_assert_uint_eq(csbot_reply_turn(r), 1);
    free(m);
    /* bytes, not characters: 34 Chinese characters are 102 bytes */
    char zh[200] = "";
    for (int i = 0; i < 34; i++)
        strcat(zh, "快");
    ck_assert_int_eq(csbot_session_reply(t, zh, CSBOT_NUL_TERMINATED, &r),
                     CSBOT_ETOOBIG);
    zh[99] = '\0'; /* 33 characters */
    ck_assert_int_eq(csbot_session_reply(t, zh, CSBOT_NUL_TERMINATED, &r),
                     CSBOT_OK);
    csbot_session_free(t);
    csbot_kb_free(kb);
}
END_TEST

/* ---- what the message says ---- */

START_TEST(full_width_like_half_width) {
    const csbot_reply *r =
        t_say(s, "ｗｈｅｒｅ ｉｓ ｍｙ ｐａｃｋａｇｅ");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    double full = csbot_reply_confidence(r);
    csbot_session_reset(s);
    r = t_say(s, "where is my package");
    ck_assert_double_eq_tol(csbot_reply_confidence(r), full, 1e-6);
    /* full-width digits are an order number in ASCII digits */
    csbot_session_reset(s);
    r = t_say(s, "我的订单２０２４０５１８１２３４５６７到哪了");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "订单202405181234567"));
}
END_TEST

START_TEST(case_insensitive) {
    const csbot_reply *r = t_say(s, "where is my package");
    double lower = csbot_reply_confidence(r);
    char text[512];
    snprintf(text, sizeof text, "%s", csbot_reply_text(r));
    csbot_session_reset(s);
    r = t_say(s, "WHERE IS MY PACKAGE");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_str_eq(csbot_reply_text(r), text);
    ck_assert_double_eq_tol(csbot_reply_confidence(r), lower, 1e-6);
    csbot_session_reset(s);
    r = t_say(s, "Where Is My Package");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
}
END_TEST

START_TEST(traditional_like_simplified) {
    const csbot_reply *r = t_say(s, "可以退货吗");
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANS);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "签收后7天内"));
    csbot_session_reset(s);
    r = t_say(s, "可以退貨嗎");
    ck_assert_str_eq(csbot_reply_intent(r), "return_policy");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANT);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "簽收後7天內"));
    ck_assert_ptr_null(strstr(csbot_reply_text(r), "签收后"));
    /* asking for a slot, in Traditional too */
    csbot_session_reset(s);
    r = t_say(s, "請問我的包裹到哪裡了");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANT);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "訂單號"));
}
END_TEST

START_TEST(english_gets_english) {
    const csbot_reply *r = t_say(s, "how much is shipping");
    ck_assert_str_eq(csbot_reply_intent(r), "shipping_fee");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    ck_assert_str_eq(csbot_reply_text(r),
                     "Shipping is free on orders over \xC2\xA5" "99; "
                     "otherwise it's \xC2\xA5" "8.");
}
END_TEST

START_TEST(mixed_gets_chinese) {
    const csbot_reply *r = t_say(s, "我的package到哪了");
    ck_assert_str_eq(csbot_reply_intent(r), "order_tracking");
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_ZH_HANS);
    ck_assert_ptr_nonnull(strstr(csbot_reply_text(r), "订单号"));
}
END_TEST

START_TEST(emoji_only_gets_a_reply) {
    /* (as the second message: see first_message_without_features) */
    const csbot_reply *r = t_say(s, "hello");
    ck_assert_str_eq(csbot_reply_intent(r), "greeting");
    r = t_say(s, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    ck_assert_ptr_null(csbot_reply_intent(r));
    ck_assert_uint_eq(csbot_reply_turn(r), 2);
    /* no language in the message: the conversation's carries over */
    ck_assert_int_eq(csbot_reply_lang(r), CSBOT_LANG_EN);
    ck_assert_str_eq(csbot_reply_text(r),
                     "Sorry, I didn't get that. Could you rephrase?");
}
END_TEST

static const char *const invisible[] = {
    "\xE2\x80\x8B",             /* U+200B zero width space */
    "\xEF\xBB\xBF",             /* U+FEFF byte order mark */
    "\xE2\x80\x83\xE2\x80\x83", /* U+2003 em space */
    "\xCC\x81",                 /* a lone combining accent */
};

/* Invisible characters only. Nothing is left after normalisation, which
 * once made utf8proc write through a NULL buffer (normalize_buffer_bounds
 * tests that directly). */
START_TEST(invisible_only) {
    for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++) {
        csbot_session_reset(s);
        t_say(s, "hello");
        const csbot_reply *r = NULL;
        int rc = csbot_session_reply(s, invisible[i], CSBOT_NUL_TERMINATED,
                                     &r);
        ck_assert_msg(rc == CSBOT_EEMPTY ||
                          (rc == CSBOT_OK &&
                           csbot_reply_action(r) == CSBOT_ACTION_FALLBACK),
                      "message %zu: %s", i, csbot_strerror(rc));
    }
}
END_TEST

/* The first message of a session that has no features (emoji only) once
 * memcpy()ed from a NULL feature array (UBSan: "null pointer passed as
 * argument 2"); and messages of U+2003 or U+200B only were answered with a
 * fallback (a miss) instead of CSBOT_EEMPTY. */
START_TEST(first_message_without_features) {
    const csbot_reply *r = t_say(s, "\xF0\x9F\x98\x80");
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_FALLBACK);
    for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++) {
        csbot_session *t = NULL;
        ck_assert_int_eq(csbot_session_new(&t, demo, NULL), CSBOT_OK);
        int rc = csbot_session_reply(t, invisible[i], CSBOT_NUL_TERMINATED,
                                     &r);
        ck_assert_msg(rc == CSBOT_EEMPTY, "message %zu: %s", i,
                      csbot_strerror(rc));
        csbot_session_free(t);
    }
}
END_TEST

/* ---- lib/utf8.c ---- */

START_TEST(utf8_check_table) {
    static const struct {
        const char *s;
        size_t len;
        int ok;
        size_t bad;
    } t[] = {
        {"", 0, 1, 0},
        {"plain ascii", 11, 1, 0},
        {"\xC2\x80", 2, 1, 0},                 /* U+0080, smallest 2-byte */
        {"\xDF\xBF", 2, 1, 0},                 /* U+07FF */
        {"\xE0\xA0\x80", 3, 1, 0},             /* U+0800 */
        {"\xED\x9F\xBF", 3, 1, 0},             /* U+D7FF */
        {"\xEE\x80\x80", 3, 1, 0},             /* U+E000 */
        {"\xEF\xBF\xBF", 3, 1, 0},             /* U+FFFF */
        {"\xF0\x90\x80\x80", 4, 1, 0},         /* U+10000 */
        {"\xF4\x8F\xBF\xBF", 4, 1, 0},         /* U+10FFFF */
        {"快递 ok", 9, 1, 0},
        {"a\0b", 3, 0, 1},                     /* NUL */
        {"\xC0\x80", 2, 0, 0},                 /* overlong NUL */
        {"\xC1\xBF", 2, 0, 0},                 /* overlong */
        {"ab\xE0\x9F\xBF", 5, 0, 2},           /* overlong 3-byte */
        {"\xF0\x8F\xBF\xBF", 4, 0, 0},         /* overlong 4-byte */
        {"xy\xED\xA0\x80", 5, 0, 2},           /* U+D800 */
        {"\xED\xBF\xBF", 3, 0, 0},             /* U+DFFF */
        {"\xF4\x90\x80\x80", 4, 0, 0},         /* U+110000 */
        {"\xF5\x80\x80\x80", 4, 0, 0},
        {"ok\xFE", 3, 0, 2},
        {"ok\xFF", 3, 0, 2},
        {"\x80", 1, 0, 0},                     /* lone continuation */
        {"abc\xBF", 4, 0, 3},
        {"\xC3", 1, 0, 0},                     /* truncated */
        {"\xE5\xBF", 2, 0, 0},
        {"\xF0\x9F\x98", 3, 0, 0},
        {"\xE5\xBF\xAB\xE5\xBF", 5, 0, 3},     /* good, then truncated */
        {"\xC3(", 2, 0, 0},                    /* bad continuation */
        {"\xE5\xBF(", 3, 0, 0},
        {"\xF0\x9F\x98(", 4, 0, 0},
        /* the length is respected: a valid prefix of a longer text */
        {"\xE5\xBF\xAB\xE5\xBF\xAB", 3, 1, 0},
        {"\xE5\xBF\xAB\xE5\xBF\xAB", 4, 0, 3},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t bad = 12345;
        int rc = csbot__utf8_check(t[i].s, t[i].len, &bad);
        if (t[i].ok) {
            ck_assert_msg(rc == CSBOT_OK, "case %zu rejected at %zu", i, bad);
            ck_assert_msg(bad == 12345, "case %zu: offset written", i);
        } else {
            ck_assert_msg(rc == CSBOT_EUTF8, "case %zu accepted", i);
            ck_assert_msg(bad == t[i].bad, "case %zu: offset %zu, want %zu",
                          i, bad, t[i].bad);
        }
        /* bad may be NULL */
        ck_assert_int_eq(csbot__utf8_check(t[i].s, t[i].len, NULL), rc);
    }
}
END_TEST

/* An allocator that puts 16 canary bytes after every block and checks them
 * when the block is moved or freed: catches writes just past the end, also
 * from libraries built without sanitizers (utf8proc). */
typedef struct canary {
    int corrupt;
    long live;
} canary;

#define CANARY 16

static void canary_check(canary *c, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < CANARY; i++)
        if (p[n + i] != 0xA5)
            c->corrupt = 1;
}

static void *canary_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
    canary *c = ud;
    if (ptr)
        canary_check(c, ptr, osize);
    if (nsize == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    unsigned char *p = realloc(ptr, nsize + CANARY);
    if (!p)
        return NULL;
    if (!ptr)
        c->live++;
    memset(p + nsize, 0xA5, CANARY);
    return p;
}

START_TEST(normalize_buffer_bounds) {
    canary c = {0, 0};
    csbot__alloc a;
    csbot__alloc_init(&a, canary_fn, &c);
    csbot__normbuf nb = {NULL, 0};
    csbot__buf out = {NULL, 0, 0};
    /* nothing left after normalisation, on a fresh (empty) buffer */
    ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, "\xE2\x80\x8B", 3, NULL,
                                           NULL, &out, NULL),
                     CSBOT_OK);
    ck_assert_uint_eq(out.len, 0);
    /* n code points of 4 bytes each for every n up to 80, reusing the
     * buffer: the UTF-8 written back over it never runs past its end */
    char text[80 * 4 + 1];
    for (size_t n = 1; n <= 80; n++) {
        for (size_t i = 0; i < n; i++)
            memcpy(text + 4 * i, "\xF0\x9F\x98\x80", 4);
        csbot__buf_clear(&out);
        ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, text, 4 * n, NULL,
                                               NULL, &out, NULL),
                         CSBOT_OK);
        ck_assert_uint_eq(out.len, 4 * n);
        ck_assert_int_eq(memcmp(out.data, text, 4 * n), 0);
        /* the canary right after the buffer's cap code points */
        canary_check(&c, (const unsigned char *)nb.cps,
                     nb.cap * sizeof(int32_t));
        ck_assert_msg(!c.corrupt, "wrote past the buffer for %zu code points",
                      n);
    }
    csbot__normbuf_free(&a, &nb);
    csbot__buf_free(&a, &out);
    ck_assert(!c.corrupt);
    ck_assert_int_eq(c.live, 0);
}
END_TEST

START_TEST(normalize_folds) {
    csbot__alloc a;
    csbot__alloc_init(&a, NULL, NULL);
    csbot__normbuf nb = {NULL, 0};
    csbot__buf out = {NULL, 0, 0};
    csbot__script sc;
    static const char in[] = "ＷＨＥＲＥ Café １２３！";
    ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, in, strlen(in), NULL, NULL,
                                           &out, &sc),
                     CSBOT_OK);
    ck_assert_str_eq(out.data, "where cafe 123!");
    ck_assert_uint_eq(sc.upper, 6);
    ck_assert_uint_eq(sc.excl, 1);
    ck_assert_uint_eq(sc.words, 2);
    ck_assert_uint_eq(sc.han, 0);
    csbot__normbuf_free(&a, &nb);
    csbot__buf_free(&a, &out);
}
END_TEST

/* Printable ASCII is normalised without utf8proc (utf8.c's fold_ascii): the
 * result and the script counts must equal utf8proc's, which a trailing
 * U+200B (ignorable, removed) forces. */
START_TEST(ascii_path_matches_utf8proc) {
    csbot__alloc a;
    csbot__alloc_init(&a, NULL, NULL);
    csbot__normbuf nb = {NULL, 0};
    csbot__buf fast = {NULL, 0, 0}, slow = {NULL, 0, 0};
    char all[96 + 3];
    for (int c = 0x20; c <= 0x7E; c++)
        all[c - 0x20] = (char)c;
    all[95] = 0;
    const char *texts[] = {all, "WHY was I CHARGED twice?!!", "it's OK", "",
                           "Top-up \\ failed: 50% [#12345] {x} `y` ~z | a_b"};
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        char with_zwsp[200];
        size_t n = strlen(texts[t]);
        memcpy(with_zwsp, texts[t], n);
        memcpy(with_zwsp + n, "\xE2\x80\x8B", 3);
        csbot__script s1, s2;
        csbot__buf_clear(&fast);
        csbot__buf_clear(&slow);
        ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, texts[t], n, NULL,
                                               NULL, &fast, &s1),
                         CSBOT_OK);
        ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, with_zwsp, n + 3,
                                               NULL, NULL, &slow, &s2),
                         CSBOT_OK);
        ck_assert_uint_eq(fast.len, slow.len);
        ck_assert_int_eq(memcmp(fast.data ? fast.data : "",
                                slow.data ? slow.data : "", fast.len),
                         0);
        ck_assert_int_eq(memcmp(&s1, &s2, sizeof s1), 0);
    }
    /* the result is folded, and control characters still go to utf8proc
     * (a tab becomes a space there) */
    csbot__buf_clear(&fast);
    ck_assert_int_eq(csbot__utf8_normalize(&a, &nb, "Hi\tYOU", 6, NULL, NULL,
                                           &fast, NULL),
                     CSBOT_OK);
    ck_assert_str_eq(fast.data, "hi you");
    csbot__normbuf_free(&a, &nb);
    csbot__buf_free(&a, &fast);
    csbot__buf_free(&a, &slow);
}
END_TEST

/* Phrase lists: Latin phrases match whole words only, phrases of Chinese or
 * starting with a digit anywhere, also right after letters. */
START_TEST(phrases_whole_words) {
    csbot__alloc a;
    csbot__alloc_init(&a, NULL, NULL);
    static const char *const from[] = {"top up", "12315", "\xE9\x80\x80\xE6\xAC\xBE",
                                       "up"};
    static const char *const to[] = {"topup", "N", "R", "U"};
    static const int latin[] = {1, 0, 0, 1};
    csbot__phrases ph;
    memset(&ph, 0, sizeof ph);
    ph.p = csbot__calloc(&a, 4, sizeof *ph.p);
    ck_assert_ptr_nonnull(ph.p);
    for (size_t i = 0; i < 4; i++) {
        ph.p[i].from = csbot__strdup(&a, from[i]);
        ph.p[i].fromlen = strlen(from[i]);
        ph.p[i].to = csbot__strdup(&a, to[i]);
        ph.p[i].tolen = strlen(to[i]);
        ph.p[i].latin = latin[i];
        ph.p[i].weight = 1.0f;
        ph.n++;
    }
    ck_assert_int_eq(csbot__phrases_index(&a, &ph), CSBOT_OK);
    csbot__buf out = {NULL, 0, 0};
    static const char text[] =
        "stop up, top up; setup a12315 x\xE9\x80\x80\xE6\xAC\xBE upx up";
    ck_assert_int_eq(csbot__phrases_replace(&a, &ph, text, strlen(text), &out),
                     CSBOT_OK);
    ck_assert_str_eq(out.data, "stop U, topup; setup aN xR upx U");
    unsigned hits = 0;
    ck_assert_float_eq(csbot__phrases_score(&ph, text, strlen(text), &hits),
                       5.0f);
    ck_assert_uint_eq(hits, 5);
    csbot__buf_free(&a, &out);
    csbot__phrases_free(&a, &ph);
}
END_TEST

Suite *text_suite(void) {
    Suite *su = suite_create("text");
    TCase *tc = tcase_create("messages");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, kb_setup, kb_teardown);
    tcase_add_checked_fixture(tc, session_setup, session_teardown);
    tcase_add_test(tc, invalid_utf8_rejected);
    tcase_add_test(tc, nul_inside_message);
    tcase_add_test(tc, empty_and_blank);
    tcase_add_test(tc, errors_keep_the_conversation);
    tcase_add_test(tc, default_size_limit);
    tcase_add_test(tc, option_size_limit);
    tcase_add_test(tc, full_width_like_half_width);
    tcase_add_test(tc, case_insensitive);
    tcase_add_test(tc, traditional_like_simplified);
    tcase_add_test(tc, english_gets_english);
    tcase_add_test(tc, mixed_gets_chinese);
    tcase_add_test(tc, emoji_only_gets_a_reply);
    tcase_add_test(tc, invisible_only);
    tcase_add_test(tc, first_message_without_features);
    suite_add_tcase(su, tc);
    tc = tcase_create("utf8");
    tcase_add_test(tc, utf8_check_table);
    tcase_add_test(tc, normalize_buffer_bounds);
    tcase_add_test(tc, normalize_folds);
    tcase_add_test(tc, ascii_path_matches_utf8proc);
    tcase_add_test(tc, phrases_whole_words);
    suite_add_tcase(su, tc);
    return su;
}
