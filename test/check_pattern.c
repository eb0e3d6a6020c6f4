/*
 * check_pattern.c - lib/pattern.c, the PCRE2 wrapper, called directly:
 * compile errors (code, PCRE2's reason and offset, the compile limits),
 * matches and the bounds they report (group 1, else the whole match, in
 * bytes of UTF-8), the options every pattern gets (UTF, Unicode
 * properties, caseless, no \C), and the match limits that stop a pattern
 * built for catastrophic backtracking. Every allocation goes through the
 * counting allocator of test/util.c, so each test also checks that the
 * module frees what it allocates. (How a knowledge base reports a pattern
 * that does not compile, with its JSON path, line and column, is in
 * check_bad_kb.c: bad_regex_*.json.)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pattern.h"
#include "tests.h"

static t_alloc ta;
static csbot__alloc al;
static csbot__rectx *ctx;
static csbot__rematch *md;

static void setup(void) {
    memset(&ta, 0, sizeof ta);
    csbot__alloc_init(&al, t_alloc_fn, &ta);
    ck_assert_int_eq(csbot__regex_ctx_new(&al, &ctx), CSBOT_OK);
    ck_assert_int_eq(csbot__rematch_new(&al, ctx, &md), CSBOT_OK);
}

static void teardown(void) {
    csbot__rematch_free(&al, md);
    csbot__regex_ctx_free(&al, ctx);
    md = NULL;
    ctx = NULL;
    /* everything the module allocated was freed */
    ck_assert_int_eq(ta.live, 0);
}

static csbot__re *compile_ok(const char *pat) {
    csbot__re *re = NULL;
    size_t off = 99;
    char msg[200] = "";
    int rc = csbot__regex_compile(&al, ctx, pat, &re, &off, msg, sizeof msg);
    ck_assert_msg(rc == CSBOT_OK, "%s: %s", pat, msg);
    ck_assert_ptr_nonnull(re);
    return re;
}

/* Match pat against text from byte start; returns the result and fills
 * the bounds (-1 when there was no match) and the limit flag. */
static int match(const char *pat, const char *text, size_t start, long *so,
                 long *eo, int *limited) {
    csbot__re *re = compile_ok(pat);
    size_t s0 = (size_t)-1, e0 = (size_t)-1;
    int lim = -1;
    int m = csbot__regex_match(re, ctx, md, text, strlen(text), start, &s0, &e0,
                               &lim);
    csbot__regex_free(re);
    *so = m == 1 ? (long)s0 : -1;
    *eo = m == 1 ? (long)e0 : -1;
    if (limited)
        *limited = lim;
    return m;
}

/* A pattern that does not compile gives CSBOT_EREGEX, no code, the byte
 * offset PCRE2 stopped at and its reason in the message. Guards against
 * an error that loses the offset or the reason the author needs. */
START_TEST(compile_error_says_where_and_why) {
    csbot__re *re = (csbot__re *)&re;
    size_t off = 0;
    char msg[200] = "";
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, "order ([0-9]+", &re, &off,
                                          msg, sizeof msg),
                     CSBOT_EREGEX);
    ck_assert_ptr_null(re);
    ck_assert_uint_eq(off, 13);
    ck_assert_str_eq(msg, "pattern error at offset 13: missing closing "
                          "parenthesis");
    re = (csbot__re *)&re;
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, "a{2,1}", &re, &off, msg,
                                          sizeof msg),
                     CSBOT_EREGEX);
    ck_assert_ptr_null(re);
    ck_assert_uint_eq(off, 5);
    ck_assert_ptr_nonnull(strstr(msg, "offset 5: numbers out of order"));
    /* the message is cut to the buffer, never overrun */
    char small[16];
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, "(", &re, &off, small,
                                          sizeof small),
                     CSBOT_EREGEX);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_str_eq(small, "pattern error a");
}
END_TEST

/* The compile context's limits: no \C (it could split a UTF-8 character
 * and read past the subject), at most 4096 bytes of pattern, at most 64
 * nested parentheses. Guards against a knowledge base that compiles a
 * pattern the reply path cannot run safely or fast. */
START_TEST(compile_limits) {
    csbot__re *re = NULL;
    size_t off = 0;
    char msg[200];
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, "a\\Cb", &re, &off, msg,
                                          sizeof msg),
                     CSBOT_EREGEX);
    ck_assert_ptr_nonnull(strstr(msg, "\\C is disabled"));
    static char longpat[5000];
    memset(longpat, 'a', sizeof longpat - 1);
    longpat[4096] = '\0';
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, longpat, &re, &off, msg,
                                          sizeof msg),
                     CSBOT_OK);
    csbot__regex_free(re);
    longpat[4096] = 'a';
    longpat[4097] = '\0';
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, longpat, &re, &off, msg,
                                          sizeof msg),
                     CSBOT_EREGEX);
    ck_assert_ptr_nonnull(strstr(msg, "longer than the limit"));
    char nest[200];
    size_t n = 0;
    for (int i = 0; i < 64; i++)
        nest[n++] = '(';
    nest[n++] = 'a';
    for (int i = 0; i < 64; i++)
        nest[n++] = ')';
    nest[n] = '\0';
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, nest, &re, &off, msg,
                                          sizeof msg),
                     CSBOT_OK);
    csbot__regex_free(re);
    memmove(nest + 1, nest, n + 1);
    nest[0] = '(';
    strcat(nest, ")"); /* 65 deep */
    ck_assert_int_eq(csbot__regex_compile(&al, ctx, nest, &re, &off, msg,
                                          sizeof msg),
                     CSBOT_EREGEX);
    ck_assert_ptr_nonnull(strstr(msg, "parentheses are too deeply nested"));
}
END_TEST

/* The bounds: group 1 when the pattern has one and it took part (a slot's
 * value), else the whole match; byte offsets; the search starts at start.
 * Guards against slot values cut at the wrong place. */
START_TEST(match_bounds) {
    long so, eo;
    int lim;
    ck_assert_int_eq(match("where.{0,20}parcel", "so where is my parcel now", 0,
                           &so, &eo, &lim),
                     1);
    ck_assert_int_eq(so, 3);
    ck_assert_int_eq(eo, 21);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(match("order ([0-9]{6,})", "my order 1234567 please", 0,
                           &so, &eo, NULL),
                     1);
    ck_assert_int_eq(so, 9);
    ck_assert_int_eq(eo, 16);
    /* group 1 did not take part: the whole match */
    ck_assert_int_eq(match("(x)|yz", "ayz", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 1);
    ck_assert_int_eq(eo, 3);
    /* from an offset: the second number */
    ck_assert_int_eq(match("([0-9]+)", "12 and 345", 2, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 7);
    ck_assert_int_eq(eo, 10);
    /* no match: 0, not limited */
    ck_assert_int_eq(match("refund", "where is my parcel", 0, &so, &eo, &lim), 0);
    ck_assert_int_eq(lim, 0);
    /* more groups than the match data holds (4 pairs): still a match, but
     * PCRE2 then returns 0 ("ovector too small") and the module reports the
     * whole match, not group 1. A slot pattern with four or more groups
     * therefore captures its whole match; this test records the behaviour
     * as it is (changing it would change slot values). */
    ck_assert_int_eq(match("(a)(b)(c)(d)(e)", "xabcde", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 1);
    ck_assert_int_eq(eo, 6);
    ck_assert_int_eq(match("(a)(b)(c)", "xabcde", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 1);
    ck_assert_int_eq(eo, 2);
}
END_TEST

/* Every pattern is UTF (. is one character, offsets stay on character
 * boundaries), has Unicode properties and is caseless. Guards against a
 * pattern written for Chinese matching bytes, or a capital letter in a
 * pattern never matching the case-folded text. */
START_TEST(match_options) {
    long so, eo;
    /* 快递.到: "." is the three bytes of 已 */
    ck_assert_int_eq(match("快递.到", "我的快递已到了吗", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 6);
    ck_assert_int_eq(eo, 18);
    ck_assert_int_eq(match("(\\p{Han}+)", "order 退款 please", 0, &so, &eo,
                           NULL),
                     1);
    ck_assert_int_eq(so, 6);
    ck_assert_int_eq(eo, 12);
    ck_assert_int_eq(match("Where Is", "where is it", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(match("parcel", "MY PARCEL", 0, &so, &eo, NULL), 1);
    ck_assert_int_eq(so, 3);
    /* \w is Unicode (UCP): a Chinese character is a word character */
    ck_assert_int_eq(match("^\\w+$", "退款", 0, &so, &eo, NULL), 1);
}
END_TEST

/* A pattern with catastrophic backtracking, (a+)+$ on a line of a's that
 * does not end there, stops at the match limit: no match, *limited set,
 * and fast (without the limit it would take 2^40 steps). Guards the reply
 * path against a hostile or careless knowledge base. */
START_TEST(match_limit_stops_backtracking) {
    char text[64];
    memset(text, 'a', 40);
    text[40] = '!';
    text[41] = '\0';
    long so, eo;
    int lim = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int m = match("(a+)+$", text, 0, &so, &eo, &lim);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(lim, 1);
    ck_assert_msg(ms < 2000.0, "the limited match took %.0f ms", ms);
    /* the same pattern on a subject it matches is not limited */
    text[40] = '\0';
    lim = -1;
    ck_assert_int_eq(match("(a+)+$", text, 0, &so, &eo, &lim), 1);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(so, 0);
    ck_assert_int_eq(eo, 40);
}
END_TEST

Suite *pattern_suite(void) {
    Suite *su = suite_create("pattern");
    TCase *tc = tcase_create("pcre2");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, compile_error_says_where_and_why);
    tcase_add_test(tc, compile_limits);
    tcase_add_test(tc, match_bounds);
    tcase_add_test(tc, match_options);
    tcase_add_test(tc, match_limit_stops_backtracking);
    suite_add_tcase(su, tc);
    return su;
}
