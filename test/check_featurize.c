/*
 * check_featurize.c - lib/featurize.c called directly on short normalised
 * texts: which features a Chinese, an English and a mixed message produce
 * (by kind, count and weight, and for Chinese characters the exact hashes),
 * stemming, word pairs and what breaks them, number shapes, the "units"
 * that the coverage counts, and the sorted, merged output with its
 * sub-linear count weights. The feature kinds and default weights are
 * those of csbot__featcfg_default() (featurize.h).
 */
#include <math.h>
#include <string.h>

#include "featurize.h"
#include "tests.h"

static t_alloc ta;
static csbot__alloc al;
static csbot__featcfg cfg;
static struct sb_stemmer *stemmer;
static csbot__feats f;

static void setup(void) {
    memset(&ta, 0, sizeof ta);
    csbot__alloc_init(&al, t_alloc_fn, &ta);
    csbot__featcfg_default(&cfg);
    stemmer = csbot__stemmer_new();
    ck_assert_ptr_nonnull(stemmer);
    memset(&f, 0, sizeof f);
}

static void teardown(void) {
    csbot__feats_free(&al, &f);
    csbot__stemmer_free(stemmer);
    stemmer = NULL;
    ck_assert_int_eq(ta.live, 0); /* the module freed what it allocated */
}

/* Extract the features of text into the shared f, and check what holds
 * for every output: sorted by hash, no duplicates, the kind in the low 3
 * bits, a positive value. */
static void extract(const char *text) {
    ck_assert_int_eq(csbot__features_extract(&al, &cfg, stemmer, NULL, 0, text,
                                             strlen(text), &f),
                     CSBOT_OK);
    for (size_t i = 0; i < f.n; i++) {
        ck_assert_int_eq((int)(f.h[i] & 7), f.kind[i]);
        ck_assert(f.v[i] > 0.0f);
        if (i)
            ck_assert_msg(f.h[i - 1] < f.h[i], "%s: features not sorted and "
                          "merged at %zu", text, i);
    }
}

static size_t count(int kind) {
    size_t n = 0;
    for (size_t i = 0; i < f.n; i++)
        n += f.kind[i] == kind;
    return n;
}

/* The hash featurize.c gives a feature (fhash there): the kind in the low
 * 3 bits of a mix of the raw hash with the kind. */
static uint64_t fhash(uint64_t h, int kind) {
    uint64_t x = (csbot__hash_mix(h, (uint64_t)kind + 1) & ~(uint64_t)7) |
                 (uint64_t)kind;
    return x ? x : 8;
}

static float value_of(uint64_t h) {
    for (size_t i = 0; i < f.n; i++)
        if (f.h[i] == h)
            return f.v[i];
    return 0.0f;
}

/* The stem feature of a one-word text. */
static uint64_t word_feature(const char *w) {
    extract(w);
    ck_assert_uint_eq(count(CSBOT__F_WORD), 1);
    for (size_t i = 0; i < f.n; i++)
        if (f.kind[i] == CSBOT__F_WORD)
            return f.h[i];
    return 0;
}

/* 我要退款: four characters, three pairs (trigrams are off by default), no
 * word features; the pairs are the units. Guards against the Chinese side
 * losing its characters or pairs, or trigrams switching on. */
START_TEST(chinese) {
    extract("我要退款");
    ck_assert_uint_eq(f.n, 7);
    ck_assert_uint_eq(count(CSBOT__F_HAN1), 4);
    ck_assert_uint_eq(count(CSBOT__F_HAN2), 3);
    ck_assert_uint_eq(count(CSBOT__F_HAN3), 0);
    ck_assert_uint_eq(count(CSBOT__F_WORD), 0);
    static const uint32_t cps[] = {0x6211, 0x8981, 0x9000, 0x6B3E}; /* 我要退款 */
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(value_of(fhash(cps[i], CSBOT__F_HAN1)), 1.0f);
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(
            value_of(fhash(csbot__hash_mix(cps[i], cps[i + 1]), CSBOT__F_HAN2)),
            1.0f);
    ck_assert_uint_eq(f.nunit, 3);
    /* trigrams, when given a weight */
    cfg.weight[CSBOT__F_HAN3] = 0.5f;
    extract("我要退款");
    ck_assert_uint_eq(count(CSBOT__F_HAN3), 2);
    /* a lone character is a unit itself */
    cfg.weight[CSBOT__F_HAN3] = 0.0f;
    extract("退 refund");
    ck_assert_uint_eq(count(CSBOT__F_HAN1), 1);
    ck_assert_uint_eq(count(CSBOT__F_HAN2), 0);
    ck_assert_uint_eq(f.nunit, 2);
}
END_TEST

/* Repeats are merged with weight 1 + ln(count): 退款退款 has 退 and 款
 * twice each, the pair 退款 twice and 款退 once. Guards the merge (one
 * entry per feature) and the sub-linear count. */
START_TEST(repeats_merge) {
    extract("退款退款");
    ck_assert_uint_eq(count(CSBOT__F_HAN1), 2);
    ck_assert_uint_eq(count(CSBOT__F_HAN2), 2);
    ck_assert_float_eq_tol(value_of(fhash(0x9000, CSBOT__F_HAN1)),
                           1.0f + logf(2.0f), 1e-5f);
    ck_assert_float_eq_tol(
        value_of(fhash(csbot__hash_mix(0x9000, 0x6B3E), CSBOT__F_HAN2)),
        1.0f + logf(2.0f), 1e-5f);
    ck_assert_float_eq(
        value_of(fhash(csbot__hash_mix(0x6B3E, 0x9000), CSBOT__F_HAN2)), 1.0f);
}
END_TEST

/* "refunds please": two stems, one word pair, the character trigrams of
 * "<refunds>" (7) and "<please>" (6), with the default weights. Guards
 * the English side's kinds and weights. */
START_TEST(english) {
    extract("refunds please");
    ck_assert_uint_eq(count(CSBOT__F_WORD), 2);
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 1);
    ck_assert_uint_eq(count(CSBOT__F_WSKIP), 0);
    ck_assert_uint_eq(count(CSBOT__F_CHAR), 13);
    ck_assert_uint_eq(count(CSBOT__F_HAN1), 0);
    ck_assert_uint_eq(f.n, 16);
    ck_assert_uint_eq(f.nunit, 2);
    for (size_t i = 0; i < f.n; i++) {
        float w = f.kind[i] == CSBOT__F_WORD      ? 1.0f
                  : f.kind[i] == CSBOT__F_WBIGRAM ? 0.7f
                                                  : 0.5f;
        ck_assert_float_eq(f.v[i], w);
    }
    /* three words: two neighbour pairs and one pair with a word between */
    extract("where is my");
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 2);
    ck_assert_uint_eq(count(CSBOT__F_WSKIP), 1);
    /* punctuation breaks the pairs, spaces do not */
    extract("refund, please");
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 0);
    extract("refund   please");
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 1);
}
END_TEST

/* Words are reduced to their Snowball stems, so inflections share the
 * word feature; an apostrophe is dropped (don't = dont). Guards against
 * "refunds" and "refund" being unrelated to the matcher. */
START_TEST(stems) {
    uint64_t refund = word_feature("refund");
    ck_assert_uint_eq(word_feature("refunds"), refund);
    ck_assert_uint_eq(word_feature("refunded"), refund);
    ck_assert_uint_eq(word_feature("refunding"), refund);
    ck_assert_uint_ne(word_feature("return"), refund);
    ck_assert_uint_eq(word_feature("don't"), word_feature("dont"));
    /* without a stemmer, no stemming */
    struct sb_stemmer *st = stemmer;
    stemmer = NULL;
    uint64_t plain = word_feature("refunds");
    stemmer = st;
    ck_assert_uint_ne(plain, refund);
}
END_TEST

/* Numbers of five digits or more are one shape feature per length (up to
 * 13), count as a unit and have no character n-grams; shorter numbers are
 * words but not units. Guards the order-number handling: any order number
 * must look like any other of its length. */
START_TEST(numbers) {
    extract("order 12345678");
    ck_assert_uint_eq(count(CSBOT__F_NUM), 1);
    ck_assert_uint_eq(count(CSBOT__F_WORD), 1);
    ck_assert_uint_eq(count(CSBOT__F_CHAR), 5); /* of "<order>" only */
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 0); /* no pair with a number */
    ck_assert_uint_eq(f.nunit, 2);
    uint64_t shape8 = 0;
    for (size_t i = 0; i < f.n; i++)
        if (f.kind[i] == CSBOT__F_NUM)
            shape8 = f.h[i];
    extract("87654321");
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.h[0], shape8);
    ck_assert_float_eq(f.v[0], 0.5f);
    extract("123456789");
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_ne(f.h[0], shape8);
    extract("1234567890123");
    uint64_t shape13 = f.h[0];
    extract("12345678901234567890");
    ck_assert_uint_eq(f.h[0], shape13);
    /* a short number: a word, not a unit, no n-grams */
    extract("size 42");
    ck_assert_uint_eq(count(CSBOT__F_NUM), 0);
    ck_assert_uint_eq(count(CSBOT__F_WORD), 2);
    ck_assert_uint_eq(count(CSBOT__F_CHAR), 4); /* of "<size>" */
    ck_assert_uint_eq(f.nunit, 1);
}
END_TEST

/* 我要refund, no space: the Chinese and English features of both parts,
 * and no pair across the change of script. Guards mixed messages. */
START_TEST(mixed) {
    extract("我要refund");
    ck_assert_uint_eq(count(CSBOT__F_HAN1), 2);
    ck_assert_uint_eq(count(CSBOT__F_HAN2), 1);
    ck_assert_uint_eq(count(CSBOT__F_WORD), 1);
    ck_assert_uint_eq(count(CSBOT__F_CHAR), 6); /* "<refund>" */
    ck_assert_uint_eq(count(CSBOT__F_WBIGRAM), 0);
    ck_assert_uint_eq(f.n, 10);
    ck_assert_uint_eq(f.nunit, 2);
    uint64_t refund = 0;
    for (size_t i = 0; i < f.n; i++)
        if (f.kind[i] == CSBOT__F_WORD)
            refund = f.h[i];
    ck_assert_uint_eq(word_feature("refund"), refund);
    /* nothing to match on */
    extract("");
    ck_assert_uint_eq(f.n, 0);
    extract("?! ...");
    ck_assert_uint_eq(f.n, 0);
    ck_assert_uint_eq(f.nunit, 0);
}
END_TEST

/* Load time fills a stem cache; reply time reads it and gets the same
 * features, also without a stemmer. Guards the cache that spares the
 * reply path libstemmer. */
START_TEST(stem_cache) {
    csbot__stemcache cache;
    memset(&cache, 0, sizeof cache);
    ck_assert_int_eq(csbot__features_extract(&al, &cfg, stemmer, &cache, 1,
                                             "refunds", 7, &f),
                     CSBOT_OK);
    ck_assert_uint_eq(cache.n, 1);
    uint64_t want = word_feature("refunds");
    ck_assert_int_eq(csbot__features_extract(&al, &cfg, NULL, &cache, 0,
                                             "refunds", 7, &f),
                     CSBOT_OK);
    uint64_t got = 0;
    for (size_t i = 0; i < f.n; i++)
        if (f.kind[i] == CSBOT__F_WORD)
            got = f.h[i];
    ck_assert_uint_eq(got, want);
    ck_assert_uint_eq(cache.n, 1); /* learn = 0 adds nothing */
    csbot__stemcache_free(&al, &cache);
}
END_TEST

Suite *featurize_suite(void) {
    Suite *su = suite_create("featurize");
    TCase *tc = tcase_create("features");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, chinese);
    tcase_add_test(tc, repeats_merge);
    tcase_add_test(tc, english);
    tcase_add_test(tc, stems);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, mixed);
    tcase_add_test(tc, stem_cache);
    suite_add_tcase(su, tc);
    return su;
}
