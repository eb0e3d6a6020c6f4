/*
 * check_match.c - the matcher in FAQ mode (lib/match.c): a knowledge base
 * with more intents than a classifier is trained for ranks its entries by
 * nearest-example similarity alone, reading a bounded number of the
 * inverted index's postings per message. The base here is generated: 4,225
 * entries, each with a word of its own and two words it shares with 64
 * other entries (a grid of 65 x 65), so every shared word's list is as long
 * as the index keeps and a long message of shared words exceeds the budget
 * of postings a reply reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "tests.h"

#define SIDE 65
#define N (SIDE * SIDE)

static csbot_kb *faq;
static csbot_session *s;

/* A pseudo-word for (kind, i): a letter for the kind, then i in base 26,
 * so that no two share a stem or are English words. */
static void word(char *out, char kind, int i) {
    char d[8];
    int n = 0;
    do {
        d[n++] = (char)('a' + i % 26);
        i /= 26;
    } while (i);
    *out++ = kind;
    *out++ = 'x';
    while (n)
        *out++ = d[--n];
    *out = '\0';
}

/* Entry i's one example: its own word and its two shared ones. */
static void example(char *out, size_t size, int i) {
    char u[16], a[16], b[16];
    word(u, 'u', i);
    word(a, 'a', i % SIDE);
    word(b, 'b', i / SIDE);
    int n = snprintf(out, size, "question %s about %s %s", u, a, b);
    ck_assert(n > 0 && (size_t)n < size);
}

static void faq_setup(void) {
    size_t cap = (size_t)N * 160 + 64, len = 0;
    char *json = malloc(cap);
    ck_assert_ptr_nonnull(json);
    len += (size_t)snprintf(json, cap, "{\"csbot\": 1, \"intents\": [");
    for (int i = 0; i < N; i++) {
        char ex[64];
        example(ex, sizeof ex, i);
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"id\": \"e%d\", \"examples\": {\"en\": "
                                "[\"%s\"]}, \"responses\": [{\"en\": \"R%d\"}]}",
                                i ? "," : "", i, ex, i);
        ck_assert_uint_lt(len, cap);
    }
    snprintf(json + len, cap - len, "]}");
    csbot_error err = CSBOT_ERROR_INIT;
    faq = NULL;
    int rc = t_load_text(&faq, json, &err);
    free(json);
    ck_assert_msg(rc == CSBOT_OK, "load: %s", err.message);
}

static void faq_teardown(void) {
    csbot_kb_free(faq);
    faq = NULL;
}

static void session_setup(void) {
    s = NULL;
    ck_assert_ptr_nonnull(faq);
    ck_assert_int_eq(csbot_session_new(&s, faq, NULL), CSBOT_OK);
}

static void session_teardown(void) {
    csbot_session_free(s);
    s = NULL;
}

/* The best candidate's intent id. */
static const char *top(const csbot_reply *r) {
    const char *id = NULL;
    double score = 0.0;
    ck_assert_uint_ge(csbot_reply_candidate_count(r), 1);
    ck_assert_int_eq(csbot_reply_candidate(r, 0, &id, &score), CSBOT_OK);
    return id;
}

START_TEST(faq_mode_has_no_classifier) {
    ck_assert_uint_eq(csbot_kb_intent_count(faq), N);
    ck_assert_uint_eq(faq->model.nclass, 0);
    /* the shared words are indexed: their lists are not cut off */
    ck_assert_uint_ge(faq->index.dfmax, SIDE);
}
END_TEST

START_TEST(faq_exact_example_answers) {
    char q[64];
    example(q, sizeof q, 1234);
    const csbot_reply *r = t_say(s, q);
    ck_assert_int_eq(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
    ck_assert_str_eq(csbot_reply_intent(r), "e1234");
    ck_assert_str_eq(csbot_reply_text(r), "R1234");
}
END_TEST

/* Two shared words, each in 65 entries: only their intersection has both. */
START_TEST(faq_combination_of_shared_words) {
    char q[64], a[16], b[16];
    word(a, 'a', 3);
    word(b, 'b', 5);
    snprintf(q, sizeof q, "%s %s", a, b);
    ck_assert_str_eq(top(t_say(s, q)), "e328"); /* 5 * 65 + 3 */
}
END_TEST

/* A long message of shared words (20 lists of 65 postings: more than a
 * reply reads) and one entry's own word: the rare word is read first and
 * decides. */
START_TEST(faq_rare_word_within_long_message) {
    char q[1024], w[16];
    size_t len = 0;
    for (int k = 0; k < 20; k++) {
        word(w, 'a', (k * 7) % SIDE);
        len += (size_t)snprintf(q + len, sizeof q - len, "%s ", w);
    }
    word(w, 'u', 4000);
    snprintf(q + len, sizeof q - len, "%s", w);
    ck_assert_str_eq(top(t_say(s, q)), "e4000");
}
END_TEST

/* Words no entry has: no answer. */
START_TEST(faq_unknown_words_do_not_answer) {
    const csbot_reply *r = t_say(s, "zebra giraffe elephant");
    ck_assert_int_ne(csbot_reply_action(r), CSBOT_ACTION_ANSWER);
}
END_TEST

Suite *match_suite(void) {
    Suite *su = suite_create("match");
    TCase *tc = tcase_create("faq");
    tcase_add_unchecked_fixture(tc, faq_setup, faq_teardown);
    tcase_add_checked_fixture(tc, session_setup, session_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, faq_mode_has_no_classifier);
    tcase_add_test(tc, faq_exact_example_answers);
    tcase_add_test(tc, faq_combination_of_shared_words);
    tcase_add_test(tc, faq_rare_word_within_long_message);
    tcase_add_test(tc, faq_unknown_words_do_not_answer);
    suite_add_tcase(su, tc);
    return su;
}
