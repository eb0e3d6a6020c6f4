/*
 * check_threads.c - the threading contract: one knowledge base shared by 8
 * threads, each with its own session, gives exactly the replies one thread
 * gives for the same messages; and a hub reloaded over and over while 4
 * threads reply through it never fails. Meant to be run under
 * SANITIZE=thread and SANITIZE=address (with CK_FORK=no).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

static csbot_kb *shop;

static void shop_setup(void) {
    shop = t_load("intents/shop.json");
}

static void shop_teardown(void) {
    csbot_kb_free(shop);
    shop = NULL;
}

static const char *const msgs[] = {
    "你好", "我的快递到哪了", "202411223344556", "可以退货吗", "运费怎么算",
    "有没有优惠券", "那M码呢", "where is my package?", "can I get a refund?",
    "請問可以開發票嗎", "商品坏了怎么办", "谢谢", "转人工", "还在吗",
    "你们就是骗子！！！", "量子力学很难", "how long does shipping take",
    "do you ship to Hong Kong", "我想改一下收货地址", "订单202411223344556取消",
    "what payment methods do you accept", "积分怎么用", "忘记密码了",
    "is this genuine?", "xylophone quasar", "再见", "THIS IS RIDICULOUS!!!",
    "尺码怎么选", "能便宜点吗", "bye"};
#define NMSG (sizeof msgs / sizeof msgs[0])
#define NTHREADS 8
#define PER_THREAD 500

typedef struct rec {
    csbot_action action;
    csbot_handoff_reason reason;
    csbot_lang lang;
    unsigned turn;
    double conf;
    const char *intent; /* points into the shared knowledge base */
    uint64_t text_hash;
    size_t ncand;
} rec;

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The script of thread t: its own walk through the messages. Returns the
 * number of failed replies. */
static int run_script(const csbot_kb *kb, unsigned t, rec *out) {
    t_clock clk = {1700000000000 + (int64_t)t * 1000};
    csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
    o.clock = t_clock_fn;
    o.clock_ud = &clk;
    csbot_session *s = NULL;
    if (csbot_session_new(&s, kb, &o))
        return PER_THREAD;
    int failed = 0;
    for (unsigned i = 0; i < PER_THREAD; i++) {
        const char *m = msgs[(i * 7 + t * 3 + i / NMSG) % NMSG];
        const csbot_reply *r;
        if (csbot_session_reply(s, m, CSBOT_NUL_TERMINATED, &r)) {
            failed++;
            memset(&out[i], 0, sizeof out[i]);
            continue;
        }
        out[i].action = csbot_reply_action(r);
        out[i].reason = csbot_reply_handoff_reason(r);
        out[i].lang = csbot_reply_lang(r);
        out[i].turn = csbot_reply_turn(r);
        out[i].conf = csbot_reply_confidence(r);
        out[i].intent = csbot_reply_intent(r);
        out[i].text_hash = fnv(csbot_reply_text(r));
        out[i].ncand = csbot_reply_candidate_count(r);
        if (csbot_session_in_human_mode(s) && i % 3 == 0)
            csbot_session_resume(s);
        if (i % 40 == 39)
            csbot_session_reset(s);
        clk.ms += 20000;
    }
    csbot_session_free(s);
    return failed;
}

typedef struct job {
    const csbot_kb *kb;
    unsigned t;
    rec *out;
    int failed;
} job;

static void *script_thread(void *ud) {
    job *j = ud;
    j->failed = run_script(j->kb, j->t, j->out);
    return NULL;
}

START_TEST(shared_kb_same_as_single_thread) {
    rec *want = calloc(NTHREADS * PER_THREAD, sizeof *want);
    rec *got = calloc(NTHREADS * PER_THREAD, sizeof *got);
    ck_assert(want && got);
    for (unsigned t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(run_script(shop, t, want + t * PER_THREAD), 0);

    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    for (unsigned t = 0; t < NTHREADS; t++) {
        jobs[t] = (job){shop, t, got + t * PER_THREAD, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, script_thread, &jobs[t]), 0);
    }
    for (unsigned t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);

    size_t answered = 0;
    for (unsigned t = 0; t < NTHREADS; t++) {
        ck_assert_int_eq(jobs[t].failed, 0);
        for (unsigned i = 0; i < PER_THREAD; i++) {
            const rec *w = &want[t * PER_THREAD + i], *g = &got[t * PER_THREAD + i];
            ck_assert_msg(w->action == g->action && w->reason == g->reason &&
                              w->lang == g->lang && w->turn == g->turn &&
                              w->conf == g->conf && w->intent == g->intent &&
                              w->text_hash == g->text_hash && w->ncand == g->ncand,
                          "thread %u reply %u differs from the single-threaded one",
                          t, i);
            answered += w->action == CSBOT_ACTION_ANSWER;
        }
    }
    /* the script exercises real answers, not just fallbacks */
    ck_assert_uint_gt(answered, NTHREADS * PER_THREAD / 5);
    free(want);
    free(got);
}
END_TEST

/* ---- hot reload under load ------------------------------------------------ */

#define RELOADS 20
#define READERS 4

typedef struct reload_ctx {
    csbot_hub *hub;
    const char *paths[2];
    atomic_int done;
    atomic_int errors;
    atomic_long replies;
} reload_ctx;

static void *reloader(void *ud) {
    reload_ctx *c = ud;
    for (int i = 0; i < RELOADS; i++) {
        csbot_error err = CSBOT_ERROR_INIT;
        if (csbot_hub_reload_file(c->hub, c->paths[i % 2], NULL, &err))
            atomic_fetch_add(&c->errors, 1);
    }
    atomic_store(&c->done, 1);
    return NULL;
}

static void *replier(void *ud) {
    reload_ctx *c = ud;
    csbot_session *s = NULL;
    if (csbot_session_new_hub(&s, c->hub, NULL)) {
        atomic_fetch_add(&c->errors, 1);
        return NULL;
    }
    long n = 0;
    for (unsigned i = 0; !atomic_load(&c->done) || n < 50; i++) {
        const csbot_reply *r;
        int rc = csbot_session_reply(s, msgs[i % NMSG], CSBOT_NUL_TERMINATED, &r);
        if (rc || !r || !csbot_reply_text(r))
            atomic_fetch_add(&c->errors, 1);
        n++;
        if (csbot_session_in_human_mode(s))
            csbot_session_resume(s);
        if (i % 25 == 24)
            csbot_session_reset(s);
        sched_yield(); /* let the reloader run on small machines */
    }
    /* one more turn moves the session to the last base */
    const csbot_reply *r;
    if (csbot_session_reply(s, "你好", CSBOT_NUL_TERMINATED, &r) ||
        strcmp(csbot_kb_name(csbot_session_kb(s)), "Demo shop B") != 0)
        atomic_fetch_add(&c->errors, 1);
    atomic_fetch_add(&c->replies, n);
    csbot_session_free(s);
    return NULL;
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

START_TEST(reload_while_replying) {
    /* the alternate copy: demo.json under another name */
    char *demo = read_all("intents/demo.json");
    const char *key = "\"name\": \"Demo shop\"";
    char *at = strstr(demo, key);
    ck_assert_ptr_nonnull(at);
    char alt[64];
    snprintf(alt, sizeof alt, "/tmp/csbot-reload-XXXXXX");
    int fd = mkstemp(alt);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    fwrite(demo, 1, (size_t)(at - demo), f);
    fputs("\"name\": \"Demo shop B\"", f);
    fputs(at + strlen(key), f);
    fclose(f);
    free(demo);

    reload_ctx c;
    memset(&c, 0, sizeof c);
    c.hub = NULL;
    ck_assert_int_eq(csbot_hub_new(&c.hub, t_load("intents/demo.json")), CSBOT_OK);
    c.paths[0] = "intents/demo.json";
    c.paths[1] = alt;
    atomic_init(&c.done, 0);
    atomic_init(&c.errors, 0);
    atomic_init(&c.replies, 0);
    pthread_t rl, rp[READERS];
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&rp[i], NULL, replier, &c), 0);
    ck_assert_int_eq(pthread_create(&rl, NULL, reloader, &c), 0);
    pthread_join(rl, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(rp[i], NULL);
    unlink(alt);
    ck_assert_int_eq(atomic_load(&c.errors), 0);
    ck_assert_uint_eq(csbot_hub_generation(c.hub), RELOADS);
    ck_assert_int_ge(atomic_load(&c.replies), READERS * 50);
    csbot_hub_free(c.hub);
}
END_TEST

Suite *threads_suite(void) {
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared_kb");
    tcase_add_unchecked_fixture(tc, shop_setup, shop_teardown);
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, shared_kb_same_as_single_thread);
    suite_add_tcase(s, tc);
    tc = tcase_create("reload");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, reload_while_replying);
    suite_add_tcase(s, tc);
    return s;
}
