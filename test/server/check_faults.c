/*
 * check_faults.c - csbot-server when the disk fails, SQLite's way: a VFS
 * wrapped around the real one (registered as the default) makes the n-th
 * write, or every write from it on, fail with SQLITE_FULL or
 * SQLITE_IOERR_WRITE, for n = 1, 2, ... through a conversation's turns,
 * an agent's claim and message, and the checkpoints. Every failing request
 * must answer a clear error and change nothing; every acknowledged turn
 * must be in the database after a restart; the conversation must go on.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "tserver.h"

/* --- the faulty VFS ------------------------------------------------------- */

typedef struct faults {
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    atomic_long countdown; /* writes left before the fault; < 0: off */
    atomic_int persistent; /* after the first fault, every write fails */
    atomic_int failing;
    int code;
    atomic_long injected;
} faults;

static faults F;

typedef struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* right after this struct */
} ffile;

static int fail_now(void) {
    if (atomic_load(&F.failing))
        return 1;
    long left = atomic_load(&F.countdown);
    if (left < 0)
        return 0;
    if (atomic_fetch_sub(&F.countdown, 1) == 0) {
        if (atomic_load(&F.persistent))
            atomic_store(&F.failing, 1);
        atomic_store(&F.countdown, -1);
        return 1;
    }
    return 0;
}

static void faults_off(void) {
    atomic_store(&F.countdown, -1);
    atomic_store(&F.failing, 0);
}

static void faults_at(long n, int code, int persistent) {
    F.code = code;
    atomic_store(&F.failing, 0);
    atomic_store(&F.persistent, persistent);
    atomic_store(&F.countdown, n);
}

#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f) {
    int rc = REAL(f)->pMethods->xClose(REAL(f));
    return rc;
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) {
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) {
    if (fail_now()) {
        atomic_fetch_add(&F.injected, 1);
        return F.code;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags) {
    if (atomic_load(&F.failing)) {
        atomic_fetch_add(&F.injected, 1);
        return SQLITE_IOERR_FSYNC;
    }
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) {
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_reserved(sqlite3_file *f, int *out) {
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg) {
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_device(sqlite3_file *f) {
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **p) {
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, p);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags) {
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) {
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* version 2: no memory-mapped I/O, so every write goes through f_write */
static const sqlite3_io_methods F_IO = {
    2,          f_close,  f_read,   f_write,    f_truncate,    f_sync,
    f_size,     f_lock,   f_unlock, f_reserved, f_control,     f_sector,
    f_device,   f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, NULL, NULL};

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
                  int *out) {
    (void)v;
    ffile *ff = (ffile *)f;
    ff->real = (sqlite3_file *)&ff[1];
    int rc = F.real->xOpen(F.real, name, ff->real, flags, out);
    ff->base.pMethods = ff->real->pMethods ? &F_IO : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *name, int sync) {
    (void)v;
    return F.real->xDelete(F.real, name, sync);
}
static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
    (void)v;
    return F.real->xAccess(F.real, name, flags, out);
}
static int v_full(sqlite3_vfs *v, const char *name, int n, char *out) {
    (void)v;
    return F.real->xFullPathname(F.real, name, n, out);
}
static int v_random(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    return F.real->xRandomness(F.real, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us) {
    (void)v;
    return F.real->xSleep(F.real, us);
}
static int v_time(sqlite3_vfs *v, double *t) {
    (void)v;
    return F.real->xCurrentTime(F.real, t);
}
static int v_error(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    return F.real->xGetLastError(F.real, n, out);
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *t) {
    (void)v;
    return F.real->xCurrentTimeInt64(F.real, t);
}

static void faults_install(void) {
    if (F.real)
        return;
    ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
    F.real = sqlite3_vfs_find(NULL);
    ck_assert_ptr_nonnull(F.real);
    sqlite3_vfs v = {2, (int)(sizeof(ffile) + (size_t)F.real->szOsFile),
                     F.real->mxPathname, NULL, "faulty", NULL,
                     v_open, v_delete, v_access, v_full, NULL, NULL, NULL, NULL,
                     v_random, v_sleep, v_time, v_error, v_time64, NULL, NULL, NULL};
    F.vfs = v;
    faults_off();
    ck_assert_int_eq(sqlite3_vfs_register(&F.vfs, 1), SQLITE_OK);
}

/* --- the checks ----------------------------------------------------------- */

typedef struct acked {
    long seq;
    char customer[64];
    char *bot;
} acked;

static int say(ts_app *t, const char *id, const char *text, cJSON **reply) {
    char path[128], body[128];
    snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", id);
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", text);
    ts_resp r = ts_req(t, "POST", path, body, NULL, NULL);
    *reply = r.json;
    return r.status;
}

static const char *const TEXTS[] = {"你好", "我的快递到哪了", "202411223344", "怎么退货",
                                    "how do I return an item", "谢谢"};

/* With the k-th write failing (and, persistent, all after it), a turn
 * either is acknowledged and stored whole, or fails with 503 and is not
 * there at all; turn numbers of the acknowledged replies never skip. */
static void sweep(int code, int persistent) {
    faults_install();
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33];
    ts_new_conv(&t, id);
    acked got[200];
    size_t n = 0;
    long last_turn = 0;
    int failed = 0;
    for (long k = 0; k < 60; k++) {
        const char *text = TEXTS[k % 6];
        faults_at(k % 12, code, persistent);
        cJSON *r = NULL;
        int status = say(&t, id, text, &r);
        int cp = store_checkpoint(t.a.st, NULL); /* also under the fault */
        (void)cp;
        faults_off();
        if (status == 200) {
            long turn = (long)ts_num(r, "turn");
            ck_assert_int_eq(turn, last_turn + 1);
            last_turn = turn;
            got[n].seq = (long)ts_num(r, "seq");
            snprintf(got[n].customer, sizeof got[n].customer, "%s", text);
            got[n].bot = strdup(ts_str(r, "text"));
            n++;
        } else {
            ck_assert_msg(status == 503, "a failed write gave %d", status);
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
            ck_assert_str_eq(ts_str(e, "code"), "unavailable");
            failed++;
        }
        cJSON_Delete(r);
    }
    ck_assert_int_gt(atomic_load(&F.injected), 0);
    /* a single failed write is absorbed: the group commit retries each
     * turn of a failed batch alone; a lasting one fails the turns */
    if (persistent)
        ck_assert_int_gt(failed, 0);
    ck_assert_uint_gt(n, 0);     /* and some turns got through */
    /* restart on the same files: every acknowledged turn is there */
    char dir[256];
    snprintf(dir, sizeof dir, "%s", t.dir);
    ts_app_stop(&t);
    ts_app_start(&t, dir);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/conversations/%s", id);
    ts_resp tr = ts_req(&t, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq(tr.status, 200);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(tr.json, "messages");
    long prev = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) { /* no hole, no repeat */
        ck_assert_int_eq((long)ts_num(m, "seq"), prev + 1);
        prev = (long)ts_num(m, "seq");
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *b = cJSON_GetArrayItem(msgs, (int)got[i].seq - 1);
        const cJSON *c = cJSON_GetArrayItem(msgs, (int)got[i].seq - 2);
        ck_assert_msg(b && c, "acknowledged seq %ld is gone", got[i].seq);
        ck_assert_str_eq(ts_str(b, "text"), got[i].bot);
        ck_assert_str_eq(ts_str(c, "text"), got[i].customer);
        free(got[i].bot);
    }
    ts_resp_free(&tr);
    /* and the conversation goes on */
    cJSON *r = ts_say(&t, id, "谢谢");
    ck_assert_int_eq((long)ts_num(r, "turn"), last_turn + 1);
    ck_assert_int_gt((long)ts_num(r, "seq"), prev);
    cJSON_Delete(r);
    ts_app_stop(&t);
}

START_TEST(disk_full_once) { sweep(SQLITE_FULL, 0); }
END_TEST

START_TEST(disk_full_from_then_on) { sweep(SQLITE_FULL, 1); }
END_TEST

START_TEST(write_error_from_then_on) { sweep(SQLITE_IOERR_WRITE, 1); }
END_TEST

/* An agent's claim and message on a full disk: a clear error, and the
 * ticket as it was (still open; claimable once there is room). */
START_TEST(agent_on_a_full_disk) {
    faults_install();
    ts_app t;
    ts_app_start(&t, NULL);
    char id[33], cookie[128], csrf[64];
    ts_new_conv(&t, id);
    ts_agent_login(&t, "alice", cookie, csrf);
    cJSON *r = ts_say(&t, id, "转人工");
    ck_assert_str_eq(ts_str(r, "action"), "handoff");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "handoff");
    long ticket = (long)ts_num(h, "ticket");
    cJSON_Delete(r);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/agent/handoffs/%ld/claim", ticket);
    faults_at(0, SQLITE_FULL, 1);
    ts_resp c = ts_req(&t, "POST", path, "{}", cookie, csrf);
    faults_off();
    ck_assert_int_eq(c.status, 503);
    ts_resp_free(&c);
    c = ts_req(&t, "POST", path, "{}", cookie, csrf);
    ck_assert_int_eq(c.status, 200);
    ts_resp_free(&c);
    snprintf(path, sizeof path, "/api/v1/agent/handoffs/%ld/messages", ticket);
    faults_at(0, SQLITE_FULL, 1);
    c = ts_req(&t, "POST", path, "{\"text\":\"您好\"}", cookie, csrf);
    faults_off();
    ck_assert_int_eq(c.status, 503);
    ts_resp_free(&c);
    c = ts_req(&t, "POST", path, "{\"text\":\"您好\"}", cookie, csrf);
    ck_assert_int_eq(c.status, 200);
    ts_resp_free(&c);
    ts_app_stop(&t);
}
END_TEST

Suite *faults_suite(void) {
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("disk");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, disk_full_once);
    tcase_add_test(tc, disk_full_from_then_on);
    tcase_add_test(tc, write_error_from_then_on);
    tcase_add_test(tc, agent_on_a_full_disk);
    suite_add_tcase(s, tc);
    return s;
}
