/*
 * common.h - small helpers shared by the libcsbot harnesses (public API
 * only): finding the repository's files, a fake clock, checks of what a
 * reply and a handoff packet give back, and the save/restore round trip.
 */
#ifndef CSBOT_FUZZ_COMMON_H
#define CSBOT_FUZZ_COMMON_H

#include <csbot.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CSBOT_FUZZ_ROOT
#define CSBOT_FUZZ_ROOT "."
#endif

/* libFuzzer's entry points (LLVMFuzzerInitialize where a harness has one). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed check: say which and abort (libFuzzer saves the input). */
#define FUZZ_CHECK(c)                                                        \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #c);                                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Load a knowledge base: $ENVVAR, else REL relative to the working
 * directory, else relative to the repository the harness was built in. */
static inline csbot_kb *fuzz_load_kb(const char *envvar, const char *rel) {
    const char *env = getenv(envvar);
    char path[4096];
    const char *tries[3] = {env, rel, NULL};
    snprintf(path, sizeof path, "%s/%s", CSBOT_FUZZ_ROOT, rel);
    tries[2] = path;
    for (int i = 0; i < 3; i++) {
        if (!tries[i])
            continue;
        csbot_kb *kb;
        csbot_error err = CSBOT_ERROR_INIT;
        if (csbot_kb_load_file(&kb, tries[i], NULL, &err) == CSBOT_OK)
            return kb;
        if (i == 0 || err.code != CSBOT_EIO) {
            char msg[1024];
            csbot_error_format(&err, msg, sizeof msg);
            fprintf(stderr, "fuzz: %s\n", msg);
            exit(1);
        }
    }
    fprintf(stderr, "fuzz: cannot find %s (set %s)\n", rel, envvar);
    exit(1);
}

/* The fake clock: milliseconds, advanced by the harness. */
static inline int64_t fuzz_clock(void *ud) { return *(const int64_t *)ud; }

/* Valid JSON text of exactly len bytes (the library writes JSON for
 * queues and databases: NaN or a raw control character would break it). */
static inline void fuzz_check_json(const char *s, size_t len) {
    FUZZ_CHECK(strlen(s) == len);
    cJSON *j = cJSON_ParseWithLength(s, len);
    if (!j)
        fprintf(stderr, "invalid JSON: %.2000s\n", s);
    FUZZ_CHECK(j != NULL);
    cJSON_Delete(j);
}

static inline int fuzz_prob(double p) { return p >= 0.0 && p <= 1.0; }

/* Read everything a reply gives; check the documented ranges. */
static inline void fuzz_check_reply(const csbot_reply *r) {
    FUZZ_CHECK(r != NULL);
    const char *text = csbot_reply_text(r);
    FUZZ_CHECK(text != NULL);
    (void)strlen(text);
    const char *intent = csbot_reply_intent(r);
    if (intent)
        (void)strlen(intent);
    csbot_action act = csbot_reply_action(r);
    FUZZ_CHECK(act >= CSBOT_ACTION_ANSWER && act <= CSBOT_ACTION_SILENT);
    FUZZ_CHECK(fuzz_prob(csbot_reply_confidence(r)));
    FUZZ_CHECK(fuzz_prob(csbot_reply_sentiment(r)));
    csbot_lang lang = csbot_reply_lang(r);
    FUZZ_CHECK(lang >= CSBOT_LANG_UNKNOWN && lang <= CSBOT_LANG_EN);
    (void)csbot_reply_turn(r);
    csbot_handoff_reason why = csbot_reply_handoff_reason(r);
    FUZZ_CHECK(why >= CSBOT_HANDOFF_NONE && why <= CSBOT_HANDOFF_HOST);
    FUZZ_CHECK((why != CSBOT_HANDOFF_NONE) == (act == CSBOT_ACTION_HANDOFF));
    size_t nc = csbot_reply_candidate_count(r);
    FUZZ_CHECK(nc <= 5);
    for (size_t i = 0; i < nc; i++) {
        const char *id = NULL;
        double score = -1;
        FUZZ_CHECK(csbot_reply_candidate(r, i, &id, &score) == CSBOT_OK);
        FUZZ_CHECK(id != NULL && fuzz_prob(score));
    }
    FUZZ_CHECK(csbot_reply_candidate(r, nc, NULL, NULL) == CSBOT_ERANGE);
    size_t ns = csbot_reply_slot_count(r);
    for (size_t i = 0; i < ns; i++) {
        const char *name = NULL, *value = NULL;
        FUZZ_CHECK(csbot_reply_slot(r, i, &name, &value) == CSBOT_OK);
        FUZZ_CHECK(name && value);
        (void)strlen(name);
        (void)strlen(value);
    }
    FUZZ_CHECK(csbot_reply_slot(r, ns, NULL, NULL) == CSBOT_ERANGE);
    (void)csbot_action_name(act);
    (void)csbot_lang_name(lang);
    (void)csbot_handoff_reason_name(why);
}

/* The handoff callback: read the whole packet; its user pointer is an
 * int: non-zero makes it refuse the handoff. */
static inline int fuzz_on_handoff(const csbot_handoff *h, void *ud) {
    FUZZ_CHECK(csbot_handoff_session(h) != NULL);
    (void)csbot_handoff_reason_of(h);
    FUZZ_CHECK(csbot_handoff_text(h) != NULL);
    (void)csbot_handoff_intent(h);
    (void)csbot_handoff_confidence(h);
    (void)csbot_handoff_lang(h);
    size_t n = csbot_handoff_turn_count(h);
    for (size_t i = 0; i < n; i++) {
        const char *u = NULL, *b = NULL, *in = NULL;
        csbot_action act;
        double conf;
        FUZZ_CHECK(csbot_handoff_turn(h, i, &u, &b, &in, &act, &conf) == CSBOT_OK);
        FUZZ_CHECK(u && b);
    }
    FUZZ_CHECK(csbot_handoff_turn(h, n, NULL, NULL, NULL, NULL, NULL) == CSBOT_ERANGE);
    for (size_t i = 0; i < csbot_handoff_slot_count(h); i++) {
        const char *k, *v;
        FUZZ_CHECK(csbot_handoff_slot(h, i, &k, &v) == CSBOT_OK);
    }
    unsigned t, m, mt;
    csbot_handoff_counters(h, &t, &m, &mt);
    char small[64];
    size_t need = csbot_handoff_json(h, small, sizeof small);
    FUZZ_CHECK(strlen(small) == (need < sizeof small ? need : sizeof small - 1));
    char *buf = malloc(need + 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(csbot_handoff_json(h, buf, need + 1) == need);
    fuzz_check_json(buf, need);
    free(buf);
    return ud ? *(const int *)ud : 0;
}

/* Save s into a malloc'd buffer (*len bytes). */
static inline unsigned char *fuzz_save(const csbot_session *s, size_t *len) {
    size_t need = 0;
    int rc = csbot_session_save(s, NULL, 0, &need);
    FUZZ_CHECK(rc == CSBOT_ERANGE || (rc == CSBOT_OK && need == 0));
    FUZZ_CHECK(need >= 16);
    unsigned char *buf = malloc(need);
    FUZZ_CHECK(buf != NULL);
    size_t need2 = 0;
    FUZZ_CHECK(csbot_session_save(s, buf, need, &need2) == CSBOT_OK);
    FUZZ_CHECK(need2 == need);
    *len = need;
    return buf;
}

/* --- the server harnesses (server_api.c, wechat.c) ----------------------
 * Defined where CSBOT_FUZZ_SERVER is, before this header: they also see
 * server/ and build one application object the way test/server/util.c's
 * ts_app_start does, on a temporary directory removed at exit. */
#ifdef CSBOT_FUZZ_SERVER
#include <pthread.h>
#include <unistd.h>

#include "auth.h"
#include "convs.h"
#include "metrics.h"
#include "ratelimit.h"
#include "server.h"
#include "store.h"
#include "wait.h"

enum { FUZZ_SRV_MAX_FILES = 4 };
/* The temporary directory: the database, the knowledge base's copy, and
 * the files the harness adds with fuzz_srv_file(). */
static char fuzz_srv_dir[256], fuzz_srv_db[320], fuzz_srv_kb[320];
static char fuzz_srv_files[FUZZ_SRV_MAX_FILES][320];
static size_t fuzz_srv_nfiles;

static inline void fuzz_srv_cleanup(void) {
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[400];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", fuzz_srv_db, suffix[i]);
        unlink(p);
    }
    unlink(fuzz_srv_kb);
    snprintf(p, sizeof p, "%s.new", fuzz_srv_kb);
    unlink(p);
    for (size_t i = 0; i < fuzz_srv_nfiles; i++)
        unlink(fuzz_srv_files[i]);
    rmdir(fuzz_srv_dir);
}

static inline int fuzz_copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    FILE *out = fopen(to, "wb");
    FUZZ_CHECK(out != NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        FUZZ_CHECK(fwrite(buf, 1, n, out) == n);
    fclose(in);
    FUZZ_CHECK(fclose(out) == 0);
    return 0;
}

/* A file of the temporary directory holding text, removed at exit; its
 * path. */
static inline const char *fuzz_srv_file(const char *name, const char *text) {
    FUZZ_CHECK(fuzz_srv_nfiles < FUZZ_SRV_MAX_FILES);
    char *path = fuzz_srv_files[fuzz_srv_nfiles++];
    snprintf(path, sizeof fuzz_srv_files[0], "%s/%s", fuzz_srv_dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fputs(text, f) >= 0);
    FUZZ_CHECK(fclose(f) == 0);
    return path;
}

/* The temporary directory ($TMPDIR/PREFIX.XXXXXX) with a copy of
 * $CSBOT_FUZZ_KB or intents/demo.json, and the application a set up on it:
 * the knowledge base loaded into its hub, the database, conversations,
 * waiters, metrics, no rate limit. */
static inline void fuzz_srv_app(app *a, const char *prefix) {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fuzz_srv_dir, sizeof fuzz_srv_dir, "%s/%s.XXXXXX", tmp, prefix);
    FUZZ_CHECK(mkdtemp(fuzz_srv_dir) != NULL);
    snprintf(fuzz_srv_db, sizeof fuzz_srv_db, "%s/t.db", fuzz_srv_dir);
    snprintf(fuzz_srv_kb, sizeof fuzz_srv_kb, "%s/kb.json", fuzz_srv_dir);
    atexit(fuzz_srv_cleanup);
    const char *src = getenv("CSBOT_FUZZ_KB");
    if (!src || fuzz_copy_file(src, fuzz_srv_kb)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/intents/demo.json", CSBOT_FUZZ_ROOT);
        if (fuzz_copy_file("intents/demo.json", fuzz_srv_kb) && fuzz_copy_file(p, fuzz_srv_kb)) {
            fprintf(stderr, "fuzz: cannot find intents/demo.json (set CSBOT_FUZZ_KB)\n");
            exit(1);
        }
    }
    a->kbopts = (csbot_kb_options)CSBOT_KB_OPTIONS_INIT;
    a->kb_path = fuzz_srv_kb;
    a->quiet = 1;
    pthread_mutex_init(&a->kb_mu, NULL);
    csbot_kb *kb;
    csbot_error err = CSBOT_ERROR_INIT;
    FUZZ_CHECK(csbot_kb_load_file(&kb, fuzz_srv_kb, NULL, &err) == 0);
    FUZZ_CHECK(csbot_hub_new(&a->hub, kb) == 0);
    srv_note_kb_loaded(a);
    char msg[256];
    FUZZ_CHECK(auth_init() == 0);
    FUZZ_CHECK(store_open(&a->st, fuzz_srv_db, msg, sizeof msg) == 0);
    FUZZ_CHECK(convs_new(&a->cv, a) == 0);
    FUZZ_CHECK(waiters_new(&a->wt) == 0);
    FUZZ_CHECK(metrics_new(&a->m) == 0);
    FUZZ_CHECK(ratelimit_new(&a->rl, 0) == 0);
}
#endif /* CSBOT_FUZZ_SERVER */

#endif
