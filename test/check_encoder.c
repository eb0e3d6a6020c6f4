/*
 * check_encoder.c - the optional sentence encoder (lib/encoder.c): errors
 * on bad files and bad text, and, when CSBOT_ENCODER names the converted
 * model (`make test` makes build/encoder/use-lite-en.bin and sets it), the
 * token ids and vectors against those of the reference TensorFlow.js code
 * (test/data/encoder-ref.tsv, written by scripts/encoder-reference.js for
 * the sentences of test/data/encoder-ref.txt), meaning, and threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tests.h"
#include "encoder.h"

#define DIM 512

static double dot(const float *a, const float *b) {
    double d = 0;
    for (int i = 0; i < DIM; i++)
        d += (double)a[i] * b[i];
    return d;
}

static void encode(const char *text, float *v) {
    ck_assert_int_eq(csbot_encoder_encode(t_enc, text, CSBOT_NUL_TERMINATED, v),
                     CSBOT_OK);
}

/* ---- without the model ---- */

START_TEST(load_errors) {
    csbot_encoder *e = (csbot_encoder *)&e;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_encoder_load(NULL, "x", &err), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_encoder_load(&e, NULL, &err), CSBOT_EINVAL);
    ck_assert_ptr_null(e);
    e = (csbot_encoder *)&e;
    ck_assert_int_eq(csbot_encoder_load(&e, "test/data/no-such-file.bin", &err),
                     CSBOT_EIO);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(err.code, CSBOT_EIO);
    ck_assert_str_eq(err.source, "test/data/no-such-file.bin");
    /* a knowledge base is not an encoder */
    ck_assert_int_eq(csbot_encoder_load(&e, "intents/demo.json", &err),
                     CSBOT_EDATA);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(err.code, CSBOT_EDATA);
    ck_assert_ptr_nonnull(strstr(err.message, "encoder"));
    ck_assert_str_eq(csbot_strerror(CSBOT_EDATA),
                     "data file damaged or of another format");
    ck_assert_uint_eq(csbot_encoder_dim(NULL), 0);
    ck_assert_int_eq(csbot_encoder_encode(NULL, "x", 1, (float[DIM]){0}),
                     CSBOT_EINVAL);
    csbot_encoder_free(NULL);
}
END_TEST

/* The right magic and version, then garbage or a short file. */
START_TEST(load_damaged) {
    static const char *const bodies[] = {
        "CSBOTENC",                                    /* nothing after */
        "CSBOTENC\x02\x00\x00\x00\x10\x00\x00\x00",    /* version 2 */
        "CSBOTENC\x01\x00\x00\x00\x03\x00\x00\x00",    /* 3 pieces, too few */
        "CSBOTENC\x01\x00\x00\x00\x10\x00\x00\x00\x01", /* cut in a piece */
    };
    static const size_t lens[] = {8, 16, 16, 17};
    char path[] = "/tmp/csbot-enc-XXXXXX";
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        FILE *f = fdopen(fd, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bodies[i], 1, lens[i], f), lens[i]);
        fclose(f);
        csbot_encoder *e = NULL;
        csbot_error err = CSBOT_ERROR_INIT;
        ck_assert_int_eq(csbot_encoder_load(&e, path, &err), CSBOT_EDATA);
        ck_assert_ptr_null(e);
        remove(path);
        memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    }
}
END_TEST

/* ---- with the model ---- */

/* A copy of the model cut short anywhere is refused. */
START_TEST(load_truncated) {
    const char *src = getenv("CSBOT_ENCODER");
    FILE *f = fopen(src, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_eq(n, sizeof buf);
    char path[] = "/tmp/csbot-enc-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *o = fdopen(fd, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, n, o), n);
    fclose(o);
    csbot_encoder *e = NULL;
    ck_assert_int_eq(csbot_encoder_load(&e, path, NULL), CSBOT_EDATA);
    ck_assert_ptr_null(e);
    remove(path);
}
END_TEST

/* Token ids equal and vectors within float rounding of the reference. */
START_TEST(matches_reference) {
    FILE *ft = fopen("test/data/encoder-ref.txt", "r");
    FILE *fr = fopen("test/data/encoder-ref.tsv", "r");
    ck_assert_ptr_nonnull(ft);
    ck_assert_ptr_nonnull(fr);
    static char tline[8192], rline[65536];
    int rows = 0;
    while (fgets(tline, sizeof tline, ft)) {
        ck_assert_ptr_nonnull(fgets(rline, sizeof rline, fr));
        cJSON *j = cJSON_Parse(tline);
        ck_assert(cJSON_IsString(j));
        const char *text = j->valuestring;
        /* ids */
        int32_t *ids = NULL;
        size_t n = 0;
        ck_assert_int_eq(csbot__encoder_tokenize(t_enc, text, strlen(text), &ids, &n),
                         CSBOT_OK);
        /* the reference tokenizer keeps every token; the model the first
         * 128, and so does csbot__encoder_tokenize */
        char *p = rline;
        size_t k = 0;
        while (*p != '\t') {
            long id = strtol(p, &p, 10);
            if (k < n)
                ck_assert_msg(ids[k] == id, "row %d token %zu: %d, reference %ld",
                              rows + 1, k, ids[k], id);
            k++;
        }
        ck_assert_uint_eq(n, k < 128 ? k : 128);
        csbot__encoder_ids_free(t_enc, ids);
        /* vector */
        float v[DIM], r[DIM];
        encode(text, v);
        for (int i = 0; i < DIM; i++)
            r[i] = strtof(p, &p);
        double worst = 0;
        for (int i = 0; i < DIM; i++)
            worst = fmax(worst, fabs((double)v[i] - r[i]));
        ck_assert_msg(worst < 1e-5, "row %d: differs by %g", rows + 1, worst);
        ck_assert_double_gt(dot(v, r), 0.99999);
        cJSON_Delete(j);
        rows++;
    }
    ck_assert_ptr_null(fgets(rline, sizeof rline, fr));
    fclose(ft);
    fclose(fr);
    ck_assert_int_eq(rows, 13);
}
END_TEST

/* Sentences that mean the same lie closer than ones that do not. */
START_TEST(meaning) {
    static const char *const triples[][3] = {
        {"How do I locate my card?", "Where is my card? I can't find it.",
         "What exchange rate do you use?"},
        {"I want my money back for this order", "Can I get a refund?",
         "How long does shipping take?"},
        {"The parcel hasn't arrived yet", "Where is my package?",
         "How do I change my password?"},
    };
    for (size_t i = 0; i < sizeof triples / sizeof *triples; i++) {
        float a[DIM], b[DIM], c[DIM];
        encode(triples[i][0], a);
        encode(triples[i][1], b);
        encode(triples[i][2], c);
        ck_assert_msg(dot(a, b) > dot(a, c) + 0.1, "%s: %f vs %f", triples[i][0],
                      dot(a, b), dot(a, c));
    }
}
END_TEST

/* Bad text is refused and leaves the output as it was. */
START_TEST(bad_text) {
    float v[DIM], keep[DIM];
    for (int i = 0; i < DIM; i++)
        v[i] = keep[i] = (float)i;
    ck_assert_int_eq(csbot_encoder_encode(t_enc, "caf\xC3", 4, v), CSBOT_EUTF8);
    ck_assert_int_eq(csbot_encoder_encode(t_enc, "a\0b", 3, v), CSBOT_EUTF8);
    ck_assert_int_eq(csbot_encoder_encode(t_enc, NULL, 2, v), CSBOT_EINVAL);
    ck_assert_int_eq(csbot_encoder_encode(t_enc, "x", 1, NULL), CSBOT_EINVAL);
    static char big[CSBOT_ENCODER_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    ck_assert_int_eq(csbot_encoder_encode(t_enc, big, CSBOT_NUL_TERMINATED, v),
                     CSBOT_ETOOBIG);
    ck_assert_mem_eq(v, keep, sizeof v);
    char st[CSBOT_ENCODER_STORED_LEN + 1] = "kept";
    ck_assert_int_eq(csbot_encoder_encode_stored(t_enc, "caf\xC3", 4, st),
                     CSBOT_EUTF8);
    ck_assert_int_eq(csbot_encoder_encode_stored(t_enc, "x", 1, NULL),
                     CSBOT_EINVAL);
    ck_assert_str_eq(st, "kept");
    /* the largest text is taken (its tokens after the 128th are dropped) */
    big[CSBOT_ENCODER_MAX_BYTES] = '\0';
    for (size_t i = 0; i < CSBOT_ENCODER_MAX_BYTES; i += 6)
        big[i] = ' ';
    encode(big, v);
    ck_assert_double_lt(fabs(dot(v, v) - 1), 1e-5);
}
END_TEST

/* Empty and blank text give a unit vector, the same for both. */
START_TEST(empty_text) {
    float a[DIM], b[DIM];
    ck_assert_int_eq(csbot_encoder_encode(t_enc, "", 0, a), CSBOT_OK);
    ck_assert_int_eq(csbot_encoder_encode(t_enc, NULL, 0, b), CSBOT_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_double_lt(fabs(dot(a, a) - 1), 1e-5);
    ck_assert_uint_eq(csbot_encoder_dim(t_enc), DIM);
}
END_TEST

typedef struct job {
    const char *text;
    float v[DIM];
} job;

static void *encode_thread(void *arg) {
    job *j = arg;
    for (int i = 0; i < 3; i++)
        if (csbot_encoder_encode(t_enc, j->text, CSBOT_NUL_TERMINATED, j->v))
            return arg;
    return NULL;
}

/* Threads share one encoder and get what one thread gets. */
START_TEST(threads) {
    static const char *const texts[] = {"Where is my card?",
                                        "Can I get a refund for my order?",
                                        "我的快递什么时候到？", "hello"};
    enum { N = sizeof texts / sizeof *texts };
    job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i].text = texts[i];
        ck_assert_int_eq(pthread_create(&th[i], NULL, encode_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        void *ret;
        ck_assert_int_eq(pthread_join(th[i], &ret), 0);
        ck_assert_ptr_null(ret);
        float v[DIM];
        encode(texts[i], v);
        ck_assert_mem_eq(v, jobs[i].v, sizeof v);
    }
}
END_TEST

Suite *encoder_suite(void) {
    Suite *s = suite_create("encoder");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, load_damaged);
    suite_add_tcase(s, tc);
    tc = t_encoder_tcase("check_encoder");
    if (!tc)
        return s;
    tcase_add_test(tc, load_truncated);
    tcase_add_test(tc, matches_reference);
    tcase_add_test(tc, meaning);
    tcase_add_test(tc, bad_text);
    tcase_add_test(tc, empty_text);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    return s;
}
