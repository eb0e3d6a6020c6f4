/*
 * check_vectors.c - the knowledge base's example vectors (lib/vectors.c and
 * their use in match.c): the "vectors" member's checks, the stored form,
 * and, when CSBOT_ENCODER names the model, a knowledge base loaded with an
 * encoder: stored and computed vectors agree, meaning moves the ranking,
 * a reused session answers as a fresh one, no allocation once warm, and
 * threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "vectors.h"

/* A small knowledge base: three intents, where the words of some messages
 * point at one intent and their meaning at another. */
static const char *const intents[][6] = {
    {"card_lost", "I lost my card", "my card is missing and I can't find it",
     "someone stole my wallet with my card in it", "I think my card was stolen",
     "please block my card, it's gone"},
    {"card_arrival", "when will my new card arrive",
     "my card has not been delivered yet",
     "how long does it take for the card to come in the mail",
     "I'm still waiting for my card to be delivered",
     "the card you sent me hasn't shown up"},
    {"refund", "I want my money back", "can I get a refund for this purchase",
     "how do I return an item and get reimbursed",
     "the merchant owes me money, how do I get it back", "please refund my order"},
};
enum { NINT = 3, NEX = 5 };

/* The knowledge base's JSON, with `vectors` (a JSON value) if not NULL. */
static char *kb_json(const char *vectors) {
    size_t cap = 8192 + (vectors ? strlen(vectors) : 0), n = 0;
    char *j = malloc(cap);
    ck_assert_ptr_nonnull(j);
    n += (size_t)snprintf(j + n, cap - n, "{\"csbot\":1,\"intents\":[");
    for (int i = 0; i < NINT; i++) {
        n += (size_t)snprintf(j + n, cap - n,
                              "%s{\"id\":\"%s\",\"examples\":{\"en\":[",
                              i ? "," : "", intents[i][0]);
        for (int k = 1; k <= NEX; k++)
            n += (size_t)snprintf(j + n, cap - n, "%s\"%s\"", k > 1 ? "," : "",
                                  intents[i][k]);
        n += (size_t)snprintf(j + n, cap - n,
                              "]},\"responses\":[{\"en\":\"ok\"}]}");
    }
    n += (size_t)snprintf(j + n, cap - n, "]");
    if (vectors)
        n += (size_t)snprintf(j + n, cap - n, ",\"vectors\":%s", vectors);
    snprintf(j + n, cap - n, "}");
    return j;
}

static int load_with(csbot_kb **kb, const char *json, const csbot_encoder *e,
                     csbot_warn_cb warn, void *ud, csbot_error *err) {
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.encoder = e;
    o.warn = warn;
    o.warn_ud = ud;
    return csbot_kb_load_buffer(kb, json, CSBOT_NUL_TERMINATED, "<test>", &o,
                                err);
}

/* A stored vector of all zeros except byte 0 (= x), in base64. */
static void stored_bytes(char *out, unsigned char x) {
    memset(out, 'A', CSBOT__VEC_B64);
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out[0] = b64[x >> 2];
    out[1] = b64[(x & 3) << 4];
    out[CSBOT__VEC_B64 - 1] = '='; /* 512 bytes: the last group has two */
    out[CSBOT__VEC_B64] = '\0';
}

/* ---- without the model ---- */

START_TEST(decode) {
    char s[CSBOT__VEC_B64 + 2];
    int8_t q[CSBOT__ENC_DIM];
    stored_bytes(s, 0x81);
    ck_assert_int_eq(csbot__vec_decode(s, strlen(s), q), 0);
    ck_assert_int_eq(q[0], (int8_t)0x81);
    for (int i = 1; i < CSBOT__ENC_DIM; i++)
        ck_assert_int_eq(q[i], 0);
    /* wrong length, a bad character, padding inside, no padding */
    ck_assert_int_eq(csbot__vec_decode(s, strlen(s) - 4, q), -1);
    s[10] = '*';
    ck_assert_int_eq(csbot__vec_decode(s, strlen(s), q), -1);
    s[10] = '=';
    ck_assert_int_eq(csbot__vec_decode(s, strlen(s), q), -1);
    stored_bytes(s, 1);
    s[CSBOT__VEC_B64 - 1] = 'A'; /* a third byte where 512 has none */
    ck_assert_int_eq(csbot__vec_decode(s, strlen(s), q), -1);
}
END_TEST

/* Quantising keeps the direction: the bytes' cosine with the vector. */
START_TEST(quantize) {
    float v[CSBOT__ENC_DIM];
    double ss = 0;
    for (int i = 0; i < CSBOT__ENC_DIM; i++) {
        v[i] = (float)((i * 7919) % 101 - 50) / 50.0f;
        ss += (double)v[i] * v[i];
    }
    int8_t q[CSBOT__ENC_DIM];
    csbot__vec_quantize(v, q);
    double dot = 0, qq = 0;
    int mx = 0;
    for (int i = 0; i < CSBOT__ENC_DIM; i++) {
        dot += (double)v[i] * q[i];
        qq += (double)q[i] * q[i];
        mx = abs(q[i]) > mx ? abs(q[i]) : mx;
    }
    ck_assert_int_eq(mx, 127);
    ck_assert_double_gt(dot / sqrt(ss * qq), 0.9995);
}
END_TEST

typedef struct bad_case {
    const char *vectors;
    const char *path;
} bad_case;

/* A damaged "vectors" member is an error with its place, whether or not an
 * encoder is attached. */
START_TEST(schema_errors) {
    char good[CSBOT__VEC_B64 + 1], item[CSBOT__VEC_B64 + 64];
    stored_bytes(good, 5);
    snprintf(item, sizeof item, "{\"I lost my card\":\"%s\"}", good);
    char ok[sizeof item + 64];
    snprintf(ok, sizeof ok, "{\"encoder\":\"use-lite-en\",\"examples\":%s}", item);
    const bad_case cases[] = {
        {"[]", "$.vectors"},
        {"{\"examples\":{}}", "$.vectors"},
        {"{\"encoder\":\"use-lite-en\"}", "$.vectors"},
        {"{\"encoder\":7,\"examples\":{}}", "$.vectors.encoder"},
        {"{\"encoder\":\"use-lite-en\",\"examples\":[]}", "$.vectors.examples"},
        {"{\"encoder\":\"use-lite-en\",\"examples\":{},\"extra\":1}",
         "$.vectors.extra"},
        {"{\"encoder\":\"use-lite-en\",\"examples\":{\"I lost my card\":3}}",
         "$.vectors.examples[\"I lost my card\"]"},
        {"{\"encoder\":\"use-lite-en\",\"examples\":{\"I lost my card\":\"AAAA\"}}",
         "$.vectors.examples[\"I lost my card\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *j = kb_json(cases[i].vectors);
        csbot_kb *kb = (csbot_kb *)&kb;
        csbot_error err = CSBOT_ERROR_INIT;
        ck_assert_int_eq(load_with(&kb, j, NULL, NULL, NULL, &err),
                         CSBOT_ESCHEMA);
        ck_assert_ptr_null(kb);
        ck_assert_msg(strcmp(err.json_path, cases[i].path) == 0,
                      "case %zu: path %s, message %s", i, err.json_path,
                      err.message);
        ck_assert_int_gt(err.line, 0);
        free(j);
    }
    /* well formed: loads without an encoder (and the vectors are unused) */
    char *j = kb_json(ok);
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_msg(load_with(&kb, j, NULL, NULL, NULL, &err) == CSBOT_OK, "%s",
                  err.message);
    csbot_kb_free(kb);
    free(j);
}
END_TEST

/* Options of version 1 (before `encoder`) still load; unknown ones do not. */
START_TEST(options_version) {
    char *j = kb_json(NULL);
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    o.version = 1;
    o.encoder = (const csbot_encoder *)&o; /* not read in version 1 */
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, j, CSBOT_NUL_TERMINATED, NULL,
                                          &o, &err),
                     CSBOT_OK);
    csbot_kb_free(kb);
    o.version = CSBOT_KB_OPTIONS_VERSION + 1;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, j, CSBOT_NUL_TERMINATED, NULL,
                                          &o, &err),
                     CSBOT_EINVAL);
    ck_assert_ptr_null(kb);
    free(j);
}
END_TEST

/* ---- with the model ---- */

/* The "vectors" member for every example, made with the public API. */
static char *stored_vectors(void) {
    size_t cap = 64 + NINT * NEX * (CSBOT_ENCODER_STORED_LEN + 80), n = 0;
    char *v = malloc(cap);
    ck_assert_ptr_nonnull(v);
    n += (size_t)snprintf(v, cap, "{\"encoder\":\"%s\",\"examples\":{",
                          csbot_encoder_name(t_enc));
    for (int i = 0; i < NINT; i++)
        for (int k = 1; k <= NEX; k++) {
            char s[CSBOT_ENCODER_STORED_LEN + 1];
            ck_assert_int_eq(csbot_encoder_encode_stored(
                                 t_enc, intents[i][k], CSBOT_NUL_TERMINATED, s),
                             CSBOT_OK);
            ck_assert_uint_eq(strlen(s), CSBOT_ENCODER_STORED_LEN);
            n += (size_t)snprintf(v + n, cap - n, "%s\"%s\":\"%s\"",
                                  i || k > 1 ? "," : "", intents[i][k], s);
        }
    snprintf(v + n, cap - n, "}}");
    return v;
}

static void count_warning(const csbot_error *w, void *ud) {
    if (strstr(w->message, "no stored vector"))
        *(int *)ud += 1;
}

typedef struct top {
    char id[64];
    double conf;
} top;

static top best_of(csbot_kb *kb, const char *text) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    const csbot_reply *r = t_say(s, text);
    top t = {"", 0};
    const char *id = NULL;
    if (csbot_reply_candidate_count(r) &&
        csbot_reply_candidate(r, 0, &id, &t.conf) == CSBOT_OK && id)
        snprintf(t.id, sizeof t.id, "%s", id);
    csbot_session_free(s);
    return t;
}

static const char *const probes[][2] = {
    {"a thief took my purse", "card_lost"},
    {"my card got pickpocketed", "card_lost"},
    {"the card still isn't here", "card_arrival"},
    {"I'd like to be reimbursed", "refund"},
};
enum { NPROBE = sizeof probes / sizeof *probes };

/* Vectors stored in the knowledge base and vectors computed while it loads
 * give the same answers; the load says which ones it had to compute. */
START_TEST(stored_equals_computed) {
    char *vec = stored_vectors();
    char *with = kb_json(vec), *without = kb_json(NULL);
    csbot_kb *a = NULL, *b = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int wa = 0, wb = 0;
    ck_assert_msg(load_with(&a, with, t_enc, count_warning, &wa, &err) == CSBOT_OK,
                  "%s", err.message);
    ck_assert_msg(load_with(&b, without, t_enc, count_warning, &wb, &err) ==
                      CSBOT_OK,
                  "%s", err.message);
    ck_assert_int_eq(wa, 0);
    ck_assert_int_eq(wb, 1);
    for (int i = 0; i < NPROBE; i++) {
        top ta = best_of(a, probes[i][0]), tb = best_of(b, probes[i][0]);
        ck_assert_str_eq(ta.id, tb.id);
        ck_assert_double_eq_tol(ta.conf, tb.conf, 1e-6);
    }
    csbot_kb_free(a);
    csbot_kb_free(b);
    free(with);
    free(without);
    free(vec);
}
END_TEST

/* Vectors of another encoder are refused rather than compared. */
START_TEST(other_encoder) {
    char good[CSBOT__VEC_B64 + 1], v[CSBOT__VEC_B64 + 128];
    stored_bytes(good, 5);
    snprintf(v, sizeof v,
             "{\"encoder\":\"another-model\",\"examples\":{\"I lost my card\":"
             "\"%s\"}}",
             good);
    char *j = kb_json(v);
    csbot_kb *kb = (csbot_kb *)&kb;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(load_with(&kb, j, t_enc, NULL, NULL, &err), CSBOT_ESCHEMA);
    ck_assert_ptr_null(kb);
    ck_assert_str_eq(err.json_path, "$.vectors.encoder");
    ck_assert_ptr_nonnull(strstr(err.message, "another-model"));
    free(j);
}
END_TEST

/* The test knowledge base loaded without and with the encoder. */
typedef struct kb_pair {
    csbot_kb *plain, *meant;
} kb_pair;

static kb_pair load_pair(void) {
    char *j = kb_json(NULL);
    kb_pair k = {NULL, NULL};
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(load_with(&k.plain, j, NULL, NULL, NULL, &err), CSBOT_OK);
    ck_assert_int_eq(load_with(&k.meant, j, t_enc, NULL, NULL, &err), CSBOT_OK);
    free(j);
    return k;
}

static void free_pair(kb_pair *k) {
    csbot_kb_free(k->plain);
    csbot_kb_free(k->meant);
}

/* Messages whose words are far from their intent's examples but whose
 * meaning is close: with the encoder the right intent comes first, more
 * confidently than without it. */
START_TEST(meaning_ranks) {
    kb_pair k = load_pair();
    csbot_kb *plain = k.plain, *meant = k.meant;
    top p, m;
    for (int i = 0; i < NPROBE; i++) {
        p = best_of(plain, probes[i][0]);
        m = best_of(meant, probes[i][0]);
        ck_assert_msg(strcmp(m.id, probes[i][1]) == 0, "%s: %s", probes[i][0],
                      m.id);
        double pc = strcmp(p.id, probes[i][1]) == 0 ? p.conf : 0.0;
        ck_assert_msg(m.conf > pc + 0.1, "%s: %.3f without, %.3f with",
                      probes[i][0], pc, m.conf);
    }
    /* a message that shares a word with the examples but is far from all
     * of them in meaning loses confidence */
    const char *far = "my card game night is on friday";
    p = best_of(plain, far);
    m = best_of(meant, far);
    ck_assert_msg(m.conf < p.conf - 0.1, "%s: %.3f without, %.3f with", far,
                  p.conf, m.conf);
    /* Chinese messages do not use the (English) encoder */
    p = best_of(plain, "我的卡丢了 card");
    m = best_of(meant, "我的卡丢了 card");
    ck_assert_str_eq(p.id, m.id);
    ck_assert_double_eq_tol(p.conf, m.conf, 1e-6);
    free_pair(&k);
}
END_TEST

/* :why (csbot_session_explain) shows the meaning term: the nearest
 * example's cosine and each candidate's, which is its own nearest
 * example's by meaning; not for Chinese messages or without an encoder. */
static void explain_of(csbot_kb *kb, const char *text, char *buf, size_t n) {
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    t_say(s, text);
    ck_assert_uint_lt(csbot_session_explain(s, buf, n), n);
    csbot_session_free(s);
}

START_TEST(explain_meaning) {
    kb_pair k = load_pair();
    csbot_kb *plain = k.plain, *meant = k.meant;
    char buf[4096];
    explain_of(meant, probes[0][0], buf, sizeof buf);
    double mx = -2, ref = -2, first = -2;
    const char *m = strstr(buf, "\nmeaning:    nearest example cosine ");
    ck_assert_msg(m && sscanf(m, "\nmeaning:    nearest example cosine %lf "
                                 "(reference %lf", &mx, &ref) == 2, "%s", buf);
    ck_assert_msg(mx > 0.3 && mx <= 1.0 && ref > 0.0 && ref < 1.0, "%s", buf);
    /* the first candidate is the intent nearest in meaning here */
    char want[64];
    snprintf(want, sizeof want, "  1. %s", probes[0][1]);
    const char *c = strstr(buf, want);
    ck_assert_msg(c, "%s", buf);
    c = strstr(c, ", meaning ");
    ck_assert_msg(c && sscanf(c, ", meaning %lf", &first) == 1, "%s", buf);
    ck_assert_double_eq_tol(first, mx, 1e-6);
    /* the same message without the encoder, and a Chinese one with it */
    explain_of(plain, probes[0][0], buf, sizeof buf);
    ck_assert_msg(!strstr(buf, "meaning"), "%s", buf);
    explain_of(meant, "我的卡丢了 card", buf, sizeof buf);
    ck_assert_msg(!strstr(buf, "meaning"), "%s", buf);
    free_pair(&k);
}
END_TEST

/* One session replying to many messages answers each as a fresh one, and
 * once warm (the longest message seen) it allocates nothing. */
START_TEST(reused_session) {
    char *j = kb_json(NULL);
    t_alloc ta = {0, 0, 0, 0};
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT;
    o.encoder = t_enc;
    o.alloc = t_alloc_fn;
    o.alloc_ud = &ta;
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(csbot_kb_load_buffer(&kb, j, CSBOT_NUL_TERMINATED, NULL,
                                          &o, &err),
                     CSBOT_OK);
    top fresh[NPROBE];
    for (int i = 0; i < NPROBE; i++)
        fresh[i] = best_of(kb, probes[i][0]);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    char longest[600] = "";
    while (strlen(longest) < 500)
        strcat(longest, "my card was stolen and I need a new one ");
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            ta.count = 0;
        csbot_session_reset(s);
        (void)t_say(s, longest);
        for (int i = 0; i < NPROBE; i++) {
            csbot_session_reset(s);
            const csbot_reply *r = t_say(s, probes[i][0]);
            const char *id = NULL;
            double conf = 0;
            ck_assert_int_eq(csbot_reply_candidate(r, 0, &id, &conf), CSBOT_OK);
            ck_assert_str_eq(id, fresh[i].id);
            ck_assert_double_eq_tol(conf, fresh[i].conf, 1e-6);
        }
    }
    ck_assert_int_eq(ta.count, 0);
    csbot_session_free(s);
    csbot_kb_free(kb);
    free(j);
}
END_TEST

typedef struct job {
    csbot_kb *kb;
    top got[NPROBE];
} job;

static void *reply_thread(void *arg) {
    job *jb = arg;
    csbot_session *s = NULL;
    if (csbot_session_new(&s, jb->kb, NULL))
        return arg;
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < NPROBE; i++) {
            const csbot_reply *r = NULL;
            const char *id = NULL;
            csbot_session_reset(s);
            if (csbot_session_reply(s, probes[i][0], CSBOT_NUL_TERMINATED, &r) ||
                csbot_reply_candidate(r, 0, &id, &jb->got[i].conf) || !id) {
                csbot_session_free(s);
                return arg;
            }
            snprintf(jb->got[i].id, sizeof jb->got[i].id, "%s", id);
        }
    csbot_session_free(s);
    return NULL;
}

/* Threads share one knowledge base and one encoder. */
START_TEST(threads) {
    char *j = kb_json(NULL);
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(load_with(&kb, j, t_enc, NULL, NULL, &err), CSBOT_OK);
    enum { N = 3 };
    job jobs[N];
    pthread_t th[N];
    for (int t = 0; t < N; t++) {
        jobs[t].kb = kb;
        ck_assert_int_eq(pthread_create(&th[t], NULL, reply_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < N; t++) {
        void *ret;
        ck_assert_int_eq(pthread_join(th[t], &ret), 0);
        ck_assert_ptr_null(ret);
        for (int i = 0; i < NPROBE; i++) {
            top want = best_of(kb, probes[i][0]);
            ck_assert_str_eq(jobs[t].got[i].id, want.id);
            ck_assert_double_eq_tol(jobs[t].got[i].conf, want.conf, 1e-6);
        }
    }
    csbot_kb_free(kb);
    free(j);
}
END_TEST

Suite *vectors_suite(void) {
    Suite *s = suite_create("vectors");
    TCase *tc = tcase_create("form");
    tcase_add_test(tc, decode);
    tcase_add_test(tc, quantize);
    tcase_add_test(tc, schema_errors);
    tcase_add_test(tc, options_version);
    suite_add_tcase(s, tc);
    tc = t_encoder_tcase("check_vectors");
    if (!tc)
        return s;
    tcase_add_test(tc, stored_equals_computed);
    tcase_add_test(tc, other_encoder);
    tcase_add_test(tc, meaning_ranks);
    tcase_add_test(tc, explain_meaning);
    tcase_add_test(tc, reused_session);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    return s;
}
