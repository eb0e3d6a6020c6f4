/*
 * check_model.c - lib/model.c, lib/rows.c and lib/index.c called directly:
 * the sparse rows the examples become (rows.c), the quantile helper, the
 * classifier trained on a tiny separable set (it must predict each class,
 * with a probability over 0.5 once the background class takes its share,
 * and reproducibly), and the inverted index of nearest-example similarity
 * (index.c: which features it lists, the sub-vectors normalised on their
 * own, the df cut-off). Every allocation goes through the counting
 * allocator of test/util.c, so the tests also check that the module frees
 * what it allocates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "model.h"
#include "tests.h"

static t_alloc ta;
static csbot__alloc al;

static void setup(void) {
    memset(&ta, 0, sizeof ta);
    csbot__alloc_init(&al, t_alloc_fn, &ta);
}

static void teardown(void) {
    ck_assert_int_eq(ta.live, 0); /* the module freed what it allocated */
}

static void add(csbot__rows *r, uint32_t label, size_t n, const uint32_t *ids,
                const float *vals) {
    ck_assert_int_eq(csbot__rows_add(&al, r, ids, vals, n, label), CSBOT_OK);
}

/* Rows keep their features in order, with rowptr bounding each row and a
 * label per row. Guards the layout the trainer and the index read. */
START_TEST(rows_layout) {
    csbot__rows r;
    memset(&r, 0, sizeof r);
    static const uint32_t a[] = {0, 3}, b[] = {1}, c[] = {2, 4, 5};
    static const float av[] = {0.6f, 0.8f}, bv[] = {1.0f},
                       cv[] = {0.5f, 0.5f, 0.7071f};
    add(&r, 2, 2, a, av);
    add(&r, 0, 1, b, bv);
    add(&r, 1, 3, c, cv);
    ck_assert_uint_eq(r.n, 3);
    static const uint32_t rowptr[] = {0, 2, 3, 6}, col[] = {0, 3, 1, 2, 4, 5},
                          label[] = {2, 0, 1};
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(r.rowptr[i], rowptr[i]);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(r.col[i], col[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(r.label[i], label[i]);
    ck_assert_float_eq(r.val[5], 0.7071f);
    csbot__rows_free(&al, &r);
    ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* The q-quantile is element floor(q * (n - 1)) of the sorted values, and
 * the values are left sorted; none at all gives -1e30. Guards the
 * background logit and the encoder's reference cosine, both quantiles. */
START_TEST(quantile) {
    float v[] = {5, 1, 4, 2, 3};
    ck_assert_float_eq(csbot__quantile(v, 5, 0.0f), 1.0f);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(v[i], (float)(i + 1)); /* sorted in place */
    ck_assert_float_eq(csbot__quantile(v, 5, 0.5f), 3.0f);
    ck_assert_float_eq(csbot__quantile(v, 5, 1.0f), 5.0f);
    ck_assert_float_eq(csbot__quantile(v, 5, 0.05f), 1.0f);
    float w[10] = {9, 0, 8, 1, 7, 2, 6, 3, 5, 4};
    ck_assert_float_eq(csbot__quantile(w, 10, 0.5f), 4.0f);  /* floor(4.5) */
    ck_assert_float_eq(csbot__quantile(w, 10, 0.95f), 8.0f); /* floor(8.55) */
    ck_assert_float_eq(csbot__quantile(w, 1, 0.5f), 0.0f);
    ck_assert(csbot__quantile(NULL, 0, 0.5f) <= -1e29f);
}
END_TEST

/* Three classes, each with four examples on two features of its own. */
#define NCLASS 3
#define NFEAT (2 * NCLASS)

static void separable_rows(csbot__rows *r) {
    memset(r, 0, sizeof *r);
    for (uint32_t c = 0; c < NCLASS; c++) {
        uint32_t ids[2] = {2 * c, 2 * c + 1};
        static const float vals[4][2] = {
            {1.0f, 0.0f}, {0.0f, 1.0f}, {0.6f, 0.8f}, {0.8f, 0.6f}};
        for (int k = 0; k < 4; k++) {
            if (vals[k][0] == 0.0f)
                add(r, c, 1, ids + 1, &vals[k][1]);
            else if (vals[k][1] == 0.0f)
                add(r, c, 1, ids, &vals[k][0]);
            else
                add(r, c, 2, ids, vals[k]);
        }
    }
}

/* The probabilities match.c computes: a softmax over the classes and the
 * background logit. */
static void probabilities(const csbot__model *m, const float *logits,
                          double *p) {
    double mx = m->bg, sum = 0.0;
    for (size_t c = 0; c < m->nclass; c++)
        mx = logits[c] > mx ? logits[c] : mx;
    for (size_t c = 0; c < m->nclass; c++)
        sum += exp(logits[c] - mx);
    sum += exp(m->bg - mx);
    for (size_t c = 0; c < m->nclass; c++)
        p[c] = exp(logits[c] - mx) / sum;
}

/* Trained on the separable set, the classifier gives every class's
 * message that class, with a probability over 0.5 after the background's
 * share; a message of another class's features does not. Guards the
 * trainer, the quantised weights and the logits. */
START_TEST(train_separable) {
    csbot__rows r;
    separable_rows(&r);
    csbot__traincfg cfg;
    csbot__traincfg_default(&cfg);
    csbot__model m;
    ck_assert_int_eq(csbot__model_train(&al, &m, &r, NFEAT, NCLASS, &cfg, 7),
                     CSBOT_OK);
    ck_assert_uint_eq(m.nclass, NCLASS);
    ck_assert_uint_eq(m.nfeat, NFEAT);
    ck_assert_uint_eq(m.stride, CSBOT__CBLOCK); /* padded to a block */
    ck_assert_uint_eq(m.nheld, 0); /* 12 examples: too few to hold out */
    ck_assert(m.bg > -1e29f);      /* the background came from the examples */
    float logits[CSBOT__CBLOCK];
    double p[NCLASS];
    for (uint32_t c = 0; c < NCLASS; c++) {
        uint32_t ids[2] = {2 * c, 2 * c + 1};
        float vals[2] = {0.70710678f, 0.70710678f};
        csbot__model_logits(&m, ids, vals, 2, logits);
        probabilities(&m, logits, p);
        for (uint32_t o = 0; o < NCLASS; o++)
            if (o != c)
                ck_assert_msg(p[c] > p[o], "class %u: p %.3f <= p(%u) %.3f", c,
                              p[c], o, p[o]);
        ck_assert_msg(p[c] > 0.5, "class %u: p = %.3f", c, p[c]);
        /* one feature alone still points to its class */
        csbot__model_logits(&m, ids + 1, vals, 1, logits);
        probabilities(&m, logits, p);
        for (uint32_t o = 0; o < NCLASS; o++)
            if (o != c)
                ck_assert(p[c] > p[o]);
    }
    /* no features: only the intercepts, no class stands out */
    csbot__model_logits(&m, NULL, NULL, 0, logits);
    probabilities(&m, logits, p);
    for (uint32_t c = 0; c < NCLASS; c++)
        ck_assert_msg(p[c] < 0.5, "empty message: p(%u) = %.3f", c, p[c]);

    /* the same examples and seed give the same model (a load is
     * reproducible) */
    csbot__model m2;
    ck_assert_int_eq(csbot__model_train(&al, &m2, &r, NFEAT, NCLASS, &cfg, 7),
                     CSBOT_OK);
    uint32_t ids[2] = {2, 3};
    float vals[2] = {0.6f, 0.8f}, l1[CSBOT__CBLOCK], l2[CSBOT__CBLOCK];
    csbot__model_logits(&m, ids, vals, 2, l1);
    csbot__model_logits(&m2, ids, vals, 2, l2);
    ck_assert_mem_eq(l1, l2, NCLASS * sizeof(float));
    ck_assert_float_eq(m.bg, m2.bg);
    csbot__model_free(&al, &m2);
    csbot__model_free(&al, &m);
    csbot__rows_free(&al, &r);
}
END_TEST

/* Nothing to train on is refused, and leaves an empty model. */
START_TEST(train_refuses_empty) {
    csbot__rows r;
    separable_rows(&r);
    csbot__traincfg cfg;
    csbot__traincfg_default(&cfg);
    csbot__model m;
    ck_assert_int_eq(csbot__model_train(&al, &m, &r, NFEAT, 0, &cfg, 1),
                     CSBOT_EINVAL);
    ck_assert_uint_eq(m.nclass, 0);
    ck_assert_ptr_null(m.wblock);
    ck_assert_int_eq(csbot__model_train(&al, &m, &r, 0, NCLASS, &cfg, 1),
                     CSBOT_EINVAL);
    csbot__rows_free(&al, &r);
    ck_assert_int_eq(csbot__model_train(&al, &m, &r, NFEAT, NCLASS, &cfg, 1),
                     CSBOT_EINVAL);
}
END_TEST

/* The index lists, for each feature in use, the examples that have it with
 * their value in the example's sub-vector of features in use, normalised
 * on its own; features not in use have empty lists and are not in the
 * sub-vectors. Guards the nearest-example cosine. */
START_TEST(index_lists) {
    csbot__rows r;
    memset(&r, 0, sizeof r);
    static const uint32_t a[] = {0, 1, 2}, b[] = {1}, c[] = {2};
    static const float av[] = {0.48f, 0.64f, 0.6f}, one[] = {1.0f};
    add(&r, 0, 3, a, av);
    add(&r, 1, 1, b, one);
    add(&r, 1, 1, c, one);
    static const uint8_t use[] = {1, 1, 0};
    csbot__index ix;
    ck_assert_int_eq(csbot__index_build(&al, &ix, &r, 3, use), CSBOT_OK);
    ck_assert_uint_eq(ix.nrows, 3);
    ck_assert_uint_eq(ix.dfmax, 32);
    /* feature 0: example 0; feature 1: examples 0 and 1; feature 2: none */
    ck_assert_uint_eq(ix.start[1] - ix.start[0], 1);
    ck_assert_uint_eq(ix.row[ix.start[0]], 0);
    ck_assert_float_eq_tol(ix.val[ix.start[0]], 0.6f, 1e-6f); /* 0.48 / 0.8 */
    ck_assert_uint_eq(ix.start[2] - ix.start[1], 2);
    ck_assert_uint_eq(ix.row[ix.start[1]], 0);
    ck_assert_float_eq_tol(ix.val[ix.start[1]], 0.8f, 1e-6f); /* 0.64 / 0.8 */
    ck_assert_uint_eq(ix.row[ix.start[1] + 1], 1);
    ck_assert_float_eq(ix.val[ix.start[1] + 1], 1.0f);
    ck_assert_uint_eq(ix.start[3] - ix.start[2], 0);
    /* the sub-vectors: example 0 has two features in use, example 2 none */
    ck_assert_uint_eq(ix.rowptr[1] - ix.rowptr[0], 2);
    ck_assert_uint_eq(ix.rowptr[2] - ix.rowptr[1], 1);
    ck_assert_uint_eq(ix.rowptr[3] - ix.rowptr[2], 0);
    ck_assert_uint_eq(ix.label[2], 1);
    csbot__index_free(&al, &ix);
    csbot__rows_free(&al, &r);
}
END_TEST

/* A feature found in more than dfmax examples (32 for a small base) says
 * little and is left out of the lists, not out of the sub-vectors. Guards
 * the bound on what a reply reads. */
START_TEST(index_df_cutoff) {
    csbot__rows r;
    memset(&r, 0, sizeof r);
    static const uint32_t common[] = {0, 1};
    static const float vals[] = {0.6f, 0.8f};
    for (int i = 0; i < 33; i++)
        add(&r, 0, i < 32 ? 2 : 1, common, vals); /* feature 1 in 32 rows */
    static const uint8_t use[] = {1, 1};
    csbot__index ix;
    ck_assert_int_eq(csbot__index_build(&al, &ix, &r, 2, use), CSBOT_OK);
    ck_assert_uint_eq(ix.dfmax, 32);
    ck_assert_uint_eq(ix.start[1] - ix.start[0], 0);  /* 33 examples: out */
    ck_assert_uint_eq(ix.start[2] - ix.start[1], 32); /* 32: in */
    ck_assert_uint_eq(ix.rowptr[1] - ix.rowptr[0], 2);
    ck_assert_float_eq(ix.rval[ix.rowptr[32]], 1.0f); /* row 32: feature 0 */
    csbot__index_free(&al, &ix);
    csbot__rows_free(&al, &r);
}
END_TEST

Suite *model_suite(void) {
    Suite *su = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rows_layout);
    tcase_add_test(tc, quantile);
    tcase_add_test(tc, train_separable);
    tcase_add_test(tc, train_refuses_empty);
    tcase_add_test(tc, index_lists);
    tcase_add_test(tc, index_df_cutoff);
    suite_add_tcase(su, tc);
    return su;
}
