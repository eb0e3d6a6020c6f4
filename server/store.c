/*
 * store.c - SQLite storage for csbot-server (see store.h). WAL mode with
 * synchronous=NORMAL: a committed transaction survives the process being
 * killed at any moment (the WAL is written before the commit returns); only
 * a power loss can take the last few back.
 */
#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "rstore.h"

/* A turn waiting for the group commit (see store_turn). */
typedef struct pending {
    const turn_rec *t;
    long ticket;
    int rc;
    int done;
    char err[256];
    struct pending *next;
} pending;

struct store {
    rstore *rs; /* set: every function is Redis's (rstore.c) */
    pthread_mutex_t wmu, rmu;
    /* group commit: turns queue here; one of their threads commits them */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    pending *qhead, **qtail;
    int leader;
    sqlite3 *w; /* writer */
    sqlite3 *r; /* reader */
    sqlite3 *ck; /* checkpointer (one thread) */
    sqlite3_stmt *ins_msg, *upd_conv, *ins_handoff;
};

static _Thread_local char errbuf[256];

/* WAL frames (1 KiB pages) past which a checkpoint holds writers back to
 * finish, so the WAL starts over: some 40 ms of writing at full load. */
enum { STORE_WAL_CATCH_UP = 4096 };

const char *store_errmsg(void) { return errbuf; }

void store__seterr(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
}

int store_shared(const store *st) { return st->rs != NULL; }

int store_subscribe(store *st, const store_events *ev) {
    return st->rs ? rstore_subscribe(st->rs, ev) : 0;
}

void store_last_write(const store *st, long *version, long *seq) {
    if (st->rs) {
        rstore_last_write(version, seq);
    } else {
        *version = 0;
        *seq = 0;
    }
}

int store_value_get(store *st, const char *key, char *buf, size_t size,
                    long *ttl_ms) {
    return st->rs ? rstore_value_get(st->rs, key, buf, size, ttl_ms) : -1;
}

int store_value_put(store *st, const char *key, const char *value, long ttl_ms) {
    return st->rs ? rstore_value_put(st->rs, key, value, ttl_ms) : -1;
}

int store_lock(store *st, const char *key, long ttl_ms) {
    return st->rs ? rstore_lock(st->rs, key, ttl_ms) : -1;
}

int store_unlock(store *st, const char *key) {
    return st->rs ? rstore_unlock(st->rs, key) : -1;
}

void store_redis_calls(const store *st, unsigned long *sent, unsigned long *failed) {
    *sent = *failed = 0;
    if (st->rs)
        rstore_calls(st->rs, sent, failed);
}

int store_open_redis(store **out, const char *url, char *err, size_t errlen) {
    *out = NULL;
    store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (rstore_open(&st->rs, url, err, errlen)) {
        free(st);
        return -1;
    }
    *out = st;
    return 0;
}

static int fail(sqlite3 *db, const char *what) {
    snprintf(errbuf, sizeof errbuf, "%s: %s", what,
             db ? sqlite3_errmsg(db) : "no database");
    return -1;
}

const char *conv_status_name(conv_status st) {
    switch (st) {
    case CONV_WAITING: return "waiting";
    case CONV_AGENT: return "agent";
    default: return "bot";
    }
}

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS conversations("
    " id TEXT PRIMARY KEY, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0, lang TEXT NOT NULL DEFAULT '',"
    " profile TEXT, state BLOB, seq INTEGER NOT NULL DEFAULT 0,"
    " ticket INTEGER NOT NULL DEFAULT 0, agent TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS messages("
    " id INTEGER PRIMARY KEY, conv TEXT NOT NULL, seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,"
    " action TEXT, intent TEXT, confidence REAL, lang TEXT, turn INTEGER,"
    " agent TEXT, UNIQUE(conv, seq));"
    "CREATE INDEX IF NOT EXISTS messages_ts ON messages(ts);"
    "CREATE TABLE IF NOT EXISTS handoffs("
    " id INTEGER PRIMARY KEY, conv TEXT NOT NULL, created INTEGER NOT NULL,"
    " reason TEXT NOT NULL, text TEXT NOT NULL DEFAULT '', packet TEXT,"
    " status TEXT NOT NULL DEFAULT 'open', agent TEXT, claimed INTEGER,"
    " first_response INTEGER, resolved INTEGER);"
    "CREATE INDEX IF NOT EXISTS handoffs_status ON handoffs(status);"
    "CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY,"
    " handoff INTEGER NOT NULL, ts INTEGER NOT NULL, agent TEXT NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS ratings(id INTEGER PRIMARY KEY,"
    " conv TEXT NOT NULL, turn INTEGER, rating INTEGER NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS agents(name TEXT PRIMARY KEY,"
    " hash TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS logins(token TEXT PRIMARY KEY,"
    " agent TEXT NOT NULL, csrf TEXT NOT NULL, expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS kb_versions(id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL, agent TEXT, path TEXT, json TEXT NOT NULL);"
    /* channels (WeChat, WeCom): whose conversation a channel's user has,
     * the message ids already taken as turns, and WeCom's pull cursors */
    "CREATE TABLE IF NOT EXISTS channel_users(channel TEXT NOT NULL,"
    " user TEXT NOT NULL, conv TEXT NOT NULL UNIQUE, extra TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(channel, user));"
    "CREATE TABLE IF NOT EXISTS channel_msgs(channel TEXT NOT NULL,"
    " msgid TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY(channel, msgid));"
    "CREATE TABLE IF NOT EXISTS channel_cursors(channel TEXT NOT NULL,"
    " key TEXT NOT NULL, cursor TEXT NOT NULL, PRIMARY KEY(channel, key));";

static int open_conn(sqlite3 **db, const char *path, int flags) {
    if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(*db, 5000);
    sqlite3_extended_result_codes(*db, 1);
    return 0;
}

static int prep(sqlite3 *db, sqlite3_stmt **st, const char *sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL)
                   == SQLITE_OK
               ? 0
               : -1;
}

int store_open(store **out, const char *path, char *err, size_t errlen) {
    *out = NULL;
    store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&st->wmu, NULL);
    pthread_mutex_init(&st->rmu, NULL);
    pthread_mutex_init(&st->qmu, NULL);
    pthread_cond_init(&st->qcv, NULL);
    st->qtail = &st->qhead;
    char *msg = NULL;
    if (open_conn(&st->w, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) ||
        sqlite3_exec(st->w,
                     /* small pages: a turn rewrites a few pages
                      * at random places (its conversation's row and index
                      * entries), and each costs a whole page in the WAL */
                     "PRAGMA page_size=1024; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA wal_autocheckpoint=0;"
                     " PRAGMA journal_size_limit=67108864;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->w, SCHEMA, NULL, NULL, &msg) != SQLITE_OK ||
        open_conn(&st->r, path, SQLITE_OPEN_READONLY) ||
        open_conn(&st->ck, path, SQLITE_OPEN_READWRITE) ||
        /* a connection that has never read the database checkpoints
         * nothing (and says OK): read once */
        sqlite3_exec(st->ck, "SELECT count(*) FROM sqlite_master", NULL, NULL,
                     &msg) != SQLITE_OK ||
        prep(st->w, &st->ins_msg,
             "INSERT INTO messages(conv,seq,ts,role,text,action,intent,"
             "confidence,lang,turn,agent) VALUES(?,?,?,?,?,?,?,?,?,?,?)") ||
        prep(st->w, &st->upd_conv,
             "UPDATE conversations SET updated=?2, state=?3, seq=?4,"
             " status=?5, lang=CASE WHEN ?6 IS NULL OR ?6='' THEN lang ELSE ?6 END,"
             " ticket=CASE WHEN ?7 < 0 THEN ticket ELSE ?7 END WHERE id=?1") ||
        prep(st->w, &st->ins_handoff,
             "INSERT INTO handoffs(conv,created,reason,text,packet,status)"
             " VALUES(?,?,?,?,?,?)")) {
        snprintf(err, errlen, "%s: %s", path,
                 msg ? msg : st->w ? sqlite3_errmsg(st->w) : "cannot open");
        sqlite3_free(msg);
        store_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

void store_close(store *st) {
    if (!st)
        return;
    if (st->rs) {
        rstore_close(st->rs);
        free(st);
        return;
    }
    sqlite3_finalize(st->ins_msg);
    sqlite3_finalize(st->upd_conv);
    sqlite3_finalize(st->ins_handoff);
    sqlite3_close(st->r);
    sqlite3_close(st->ck);
    sqlite3_close(st->w); /* checkpoints the WAL */
    pthread_mutex_destroy(&st->wmu);
    pthread_mutex_destroy(&st->rmu);
    pthread_mutex_destroy(&st->qmu);
    pthread_cond_destroy(&st->qcv);
    free(st);
}

/* --- small helpers ------------------------------------------------------ */

static void bind_text(sqlite3_stmt *s, int i, const char *t) {
    if (t)
        sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static int step_done(sqlite3_stmt *s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int exec(sqlite3 *db, const char *sql) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Run fn inside one write transaction. */
#define BEGIN_WRITE(st)                                                      \
    pthread_mutex_lock(&(st)->wmu);                                          \
    if (exec((st)->w, "BEGIN IMMEDIATE")) {                                  \
        fail((st)->w, "begin");                                              \
        pthread_mutex_unlock(&(st)->wmu);                                    \
        return -1;                                                           \
    }

static int end_write(store *st, int rc, const char *what) {
    if (rc == 0 && exec(st->w, "COMMIT"))
        rc = -1;
    if (rc == -1)
        fail(st->w, what);
    if (rc != 0)
        exec(st->w, "ROLLBACK");
    pthread_mutex_unlock(&st->wmu);
    return rc;
}

static const char *col_text(sqlite3_stmt *s, int i) {
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : NULL;
}

static void copy_col(sqlite3_stmt *s, int i, char *buf, size_t size) {
    const char *t = col_text(s, i);
    snprintf(buf, size, "%s", t ? t : "");
}

/* fmt: one char per parameter: t text (NULL ok), i int64, d double. */
static int bindv(sqlite3_stmt *s, const char *fmt, va_list ap) {
    for (int i = 0; fmt[i]; i++) {
        switch (fmt[i]) {
        case 't': bind_text(s, i + 1, va_arg(ap, const char *)); break;
        case 'i': sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t)); break;
        case 'd': sqlite3_bind_double(s, i + 1, va_arg(ap, double)); break;
        default: return -1;
        }
    }
    return 0;
}

static int run_w(store *st, const char *sql, const char *fmt, ...) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->w, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = bindv(s, fmt, ap);
    va_end(ap);
    if (!rc)
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

static sqlite3_stmt *vquery_r(store *st, const char *sql, const char *fmt,
                              va_list ap) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->r, sql, -1, &s, NULL) != SQLITE_OK) {
        fail(st->r, "query");
        return NULL;
    }
    if (bindv(s, fmt, ap)) {
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

static sqlite3_stmt *query_r(store *st, const char *sql, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *s = vquery_r(st, sql, fmt, ap);
    va_end(ap);
    return s;
}

/* Run a query for at most one row and give the row to fn (which returns
 * 0 or -1); 0, STORE_NOT_FOUND (no row) or -1. */
static int one_row(store *st, int (*fn)(sqlite3_stmt *, void *), void *ud,
                   const char *sql, const char *fmt, ...) {
    pthread_mutex_lock(&st->rmu);
    va_list ap;
    va_start(ap, fmt);
    sqlite3_stmt *s = vquery_r(st, sql, fmt, ap);
    va_end(ap);
    int rc = -1;
    if (s) {
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW)
            rc = fn(s, ud);
        else if (step == SQLITE_DONE)
            rc = STORE_NOT_FOUND;
        else
            fail(st->r, "read");
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->rmu);
    return rc;
}

/* The first column of a row as an integer (for one_row). */
static int take_int64(sqlite3_stmt *s, void *ud) {
    *(int64_t *)ud = sqlite3_column_int64(s, 0);
    return 0;
}

typedef struct two_texts {
    char *out1, *out2;
    size_t n1, n2;
} two_texts;

static int take_texts(sqlite3_stmt *s, void *ud) {
    two_texts *t = ud;
    copy_col(s, 0, t->out1, t->n1);
    if (t->out2)
        copy_col(s, 1, t->out2, t->n2);
    return 0;
}

/* Read one row's first one or two text columns (0, STORE_NOT_FOUND, -1). */
#define get_one(st, o1, l1, o2, l2, sql, ...)                                  \
    one_row((st), take_texts, &(two_texts){(o1), (o2), (l1), (l2)}, (sql),   \
            __VA_ARGS__)

/* --- conversations and turns -------------------------------------------- */

int store_conv_create(store *st, const char *id, int64_t now,
                      const char *profile_json, const void *state,
                      size_t state_len) {
    if (st->rs)
        return rstore_conv_create(st->rs, id, now, profile_json, state, state_len);
    BEGIN_WRITE(st);
    sqlite3_stmt *s;
    int rc = -1;
    if (sqlite3_prepare_v2(st->w,
                           "INSERT INTO conversations(id,created,updated,profile,state)"
                           " VALUES(?,?,?,?,?)",
                           -1, &s, NULL) == SQLITE_OK) {
        bind_text(s, 1, id);
        sqlite3_bind_int64(s, 2, now);
        sqlite3_bind_int64(s, 3, now);
        bind_text(s, 4, profile_json);
        sqlite3_bind_blob(s, 5, state, (int)state_len, SQLITE_TRANSIENT);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(s);
    }
    return end_write(st, rc, "create conversation");
}

static int take_conv(sqlite3_stmt *s, void *ud) {
    conv_row *out = ud;
    out->created = sqlite3_column_int64(s, 0);
    out->status = (conv_status)sqlite3_column_int(s, 1);
    out->seq = (long)sqlite3_column_int64(s, 2);
    out->ticket = (long)sqlite3_column_int64(s, 3);
    copy_col(s, 4, out->agent, sizeof out->agent);
    copy_col(s, 5, out->lang, sizeof out->lang);
    int n = sqlite3_column_bytes(s, 6);
    const void *b = sqlite3_column_blob(s, 6);
    if (n > 0 && b) {
        out->state = malloc((size_t)n);
        if (!out->state) {
            snprintf(errbuf, sizeof errbuf, "out of memory");
            return -1;
        }
        memcpy(out->state, b, (size_t)n);
        out->state_len = (size_t)n;
    }
    return 0;
}

int store_conv_load(store *st, const char *id, conv_row *out) {
    if (st->rs)
        return rstore_conv_load(st->rs, id, out);
    memset(out, 0, sizeof *out);
    return one_row(st, take_conv, out,
                   "SELECT created,status,seq,ticket,agent,lang,state"
                   " FROM conversations WHERE id=?",
                   "t", id);
}

static int insert_msg(store *st, const char *conv, int64_t now,
                      const msg_rec *m) {
    sqlite3_stmt *s = st->ins_msg;
    bind_text(s, 1, conv);
    sqlite3_bind_int64(s, 2, m->seq);
    sqlite3_bind_int64(s, 3, now);
    bind_text(s, 4, m->role);
    bind_text(s, 5, m->text ? m->text : "");
    bind_text(s, 6, m->action);
    bind_text(s, 7, m->intent);
    if (m->action)
        sqlite3_bind_double(s, 8, m->confidence);
    else
        sqlite3_bind_null(s, 8);
    bind_text(s, 9, m->lang);
    if (m->turn)
        sqlite3_bind_int64(s, 10, m->turn);
    else
        sqlite3_bind_null(s, 10);
    bind_text(s, 11, m->agent);
    return step_done(s);
}

static int update_conv(store *st, const char *conv, int64_t now,
                       const void *state, size_t state_len, long seq,
                       conv_status status, const char *lang, long ticket) {
    sqlite3_stmt *s = st->upd_conv;
    bind_text(s, 1, conv);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_blob(s, 3, state, (int)state_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, seq);
    sqlite3_bind_int(s, 5, (int)status);
    bind_text(s, 6, lang);
    sqlite3_bind_int64(s, 7, ticket);
    int rc = step_done(s);
    if (!rc && sqlite3_changes(st->w) != 1) {
        snprintf(errbuf, sizeof errbuf, "conversation %s is gone", conv);
        rc = STORE_NOT_FOUND;
    }
    return rc;
}

/* One turn's writes, inside the caller's transaction. */
static int turn_body(store *st, const turn_rec *t, long *ticket) {
    int rc = 0;
    long tk = -1;
    long seq = 0;
    for (size_t i = 0; i < t->nmsgs && !rc; i++) {
        rc = insert_msg(st, t->conv, t->now, &t->msgs[i]);
        seq = t->msgs[i].seq;
    }
    if (!rc && t->handoff_reason) {
        sqlite3_stmt *s = st->ins_handoff;
        bind_text(s, 1, t->conv);
        sqlite3_bind_int64(s, 2, t->now);
        bind_text(s, 3, t->handoff_reason);
        bind_text(s, 4, t->handoff_text ? t->handoff_text : "");
        bind_text(s, 5, t->handoff_packet);
        bind_text(s, 6, t->handoff_status ? t->handoff_status : "open");
        rc = step_done(s);
        tk = (long)sqlite3_last_insert_rowid(st->w);
    }
    /* a channel's message id is taken with its turn, or not at all */
    if (!rc && t->msg_channel && t->msg_id)
        rc = run_w(st, "INSERT INTO channel_msgs(channel,msgid,ts) VALUES(?,?,?)",
                   "tti", t->msg_channel, t->msg_id, t->now);
    if (!rc)
        rc = update_conv(st, t->conv, t->now, t->state, t->state_len, seq,
                         t->status, t->lang, tk);
    *ticket = tk > 0 ? tk : 0;
    return rc;
}

/* Commit a batch of turns in one transaction; if any of them fails, roll
 * back and commit each alone, so one bad turn fails only itself. */
static void commit_batch(store *st, pending *batch) {
    pthread_mutex_lock(&st->wmu);
    int rc = exec(st->w, "BEGIN IMMEDIATE");
    for (pending *p = batch; p && !rc; p = p->next)
        rc = turn_body(st, p->t, &p->ticket);
    if (!rc)
        rc = exec(st->w, "COMMIT");
    if (rc) {
        exec(st->w, "ROLLBACK");
        for (pending *p = batch; p; p = p->next) {
            p->rc = exec(st->w, "BEGIN IMMEDIATE");
            if (!p->rc)
                p->rc = turn_body(st, p->t, &p->ticket);
            if (!p->rc)
                p->rc = exec(st->w, "COMMIT");
            if (p->rc) {
                if (p->rc == -1)
                    fail(st->w, "store turn");
                snprintf(p->err, sizeof p->err, "%s", errbuf);
                exec(st->w, "ROLLBACK");
                p->ticket = 0;
                p->rc = -1;
            }
        }
    }
    pthread_mutex_unlock(&st->wmu);
}

/* Group commit: the turn joins the queue; the first thread to find no
 * commit running takes the whole queue and commits it in one transaction
 * while the others wait, so under load many turns share one commit. */
int store_turn(store *st, const turn_rec *t, long *ticket) {
    if (st->rs)
        return rstore_turn(st->rs, t, ticket);
    pending me = {.t = t};
    pthread_mutex_lock(&st->qmu);
    *st->qtail = &me;
    st->qtail = &me.next;
    while (!me.done) {
        if (st->leader) {
            pthread_cond_wait(&st->qcv, &st->qmu);
            continue;
        }
        st->leader = 1;
        pending *batch = st->qhead;
        st->qhead = NULL;
        st->qtail = &st->qhead;
        pthread_mutex_unlock(&st->qmu);
        commit_batch(st, batch);
        pthread_mutex_lock(&st->qmu);
        for (pending *p = batch, *next; p; p = next) {
            next = p->next; /* p may be gone once done is set */
            p->done = 1;
        }
        st->leader = 0;
        pthread_cond_broadcast(&st->qcv);
    }
    pthread_mutex_unlock(&st->qmu);
    if (me.rc)
        snprintf(errbuf, sizeof errbuf, "%s", me.err);
    else if (ticket)
        *ticket = me.ticket;
    return me.rc;
}

int store_checkpoint(store *st, int *copied) {
    if (st->rs) /* Redis writes its own files */
        return 0;
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(st->ck, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);
    if (rc == SQLITE_OK && log > STORE_WAL_CATCH_UP) {
        /* Writers kept appending while it copied, so the WAL never starts
         * over and grows without bound under a steady load. Copy the rest
         * with the writers held back (only what the passive pass left, so
         * the pause is short); the next commit then restarts the WAL. */
        pthread_mutex_lock(&st->wmu);
        int done2 = -1;
        rc = sqlite3_wal_checkpoint_v2(st->ck, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done2);
        pthread_mutex_unlock(&st->wmu);
        if (done2 > done)
            done = done2;
    }
    if (copied)
        *copied = done;
    return rc == SQLITE_OK ? 0 : fail(st->ck, "checkpoint");
}

/* A message row (columns as in MSG_COLS) as a JSON object. */
#define MSG_COLS "id,seq,ts,role,text,action,intent,confidence,lang,turn,agent"

static cJSON *msg_json(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(s, 1));
    cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(s, 2));
    cJSON_AddStringToObject(o, "role", col_text(s, 3));
    cJSON_AddStringToObject(o, "text", col_text(s, 4));
    if (col_text(s, 5)) {
        cJSON_AddStringToObject(o, "action", col_text(s, 5));
        if (col_text(s, 6))
            cJSON_AddStringToObject(o, "intent", col_text(s, 6));
        else
            cJSON_AddNullToObject(o, "intent");
        cJSON_AddNumberToObject(o, "confidence", sqlite3_column_double(s, 7));
        cJSON_AddNumberToObject(o, "turn", (double)sqlite3_column_int64(s, 9));
    }
    if (col_text(s, 8))
        cJSON_AddStringToObject(o, "lang", col_text(s, 8));
    if (col_text(s, 10))
        cJSON_AddStringToObject(o, "agent", col_text(s, 10));
    return o;
}

/* Fill arr from a prepared statement whose rows are messages. */
static int rows_to_array(sqlite3_stmt *s, cJSON *arr,
                         cJSON *(*row)(sqlite3_stmt *)) {
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = row(s);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return -1;
        }
    }
    return step == SQLITE_DONE ? 0 : -1;
}

static cJSON *array_query(store *st, cJSON *(*row)(sqlite3_stmt *),
                          sqlite3_stmt *s) {
    cJSON *arr = cJSON_CreateArray();
    if (!s || !arr || rows_to_array(s, arr, row)) {
        if (s)
            fail(st->r, "read");
        cJSON_Delete(arr);
        arr = NULL;
    }
    sqlite3_finalize(s);
    return arr;
}

/* The rows of a query as a JSON array (under the reader's lock). */
static cJSON *read_array(store *st, cJSON *(*row)(sqlite3_stmt *),
                         const char *sql, const char *fmt, ...) {
    pthread_mutex_lock(&st->rmu);
    va_list ap;
    va_start(ap, fmt);
    cJSON *arr = array_query(st, row, vquery_r(st, sql, fmt, ap));
    va_end(ap);
    pthread_mutex_unlock(&st->rmu);
    return arr;
}

cJSON *store_messages(store *st, const char *conv, long after) {
    if (st->rs)
        return rstore_messages(st->rs, conv, after);
    return read_array(st, msg_json,
                      "SELECT " MSG_COLS " FROM messages WHERE conv=? AND seq>?"
                      " ORDER BY seq",
                      "ti", conv, (int64_t)after);
}

int store_rate(store *st, const char *conv, long turn, int rating,
               int64_t now) {
    if (st->rs)
        return rstore_rate(st->rs, conv, turn, rating, now);
    BEGIN_WRITE(st);
    int rc = turn > 0
                 ? run_w(st, "INSERT INTO ratings(conv,turn,rating,ts) VALUES(?,?,?,?)",
                         "tiii", conv, (int64_t)turn, (int64_t)rating, now)
                 : run_w(st, "INSERT INTO ratings(conv,turn,rating,ts) VALUES(?,NULL,?,?)",
                         "tii", conv, (int64_t)rating, now);
    return end_write(st, rc, "rate");
}

/* --- handoffs ------------------------------------------------------------ */

static cJSON *queue_row(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "ticket", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "conversation", col_text(s, 1));
    cJSON_AddStringToObject(o, "reason", col_text(s, 2));
    cJSON_AddStringToObject(o, "status", col_text(s, 3));
    if (col_text(s, 4))
        cJSON_AddStringToObject(o, "agent", col_text(s, 4));
    else
        cJSON_AddNullToObject(o, "agent");
    cJSON_AddNumberToObject(o, "created", (double)sqlite3_column_int64(s, 5));
    cJSON_AddNumberToObject(o, "waiting_seconds",
                            (double)(sqlite3_column_int64(s, 6) / 1000));
    cJSON_AddStringToObject(o, "lang", col_text(s, 7) ? col_text(s, 7) : "");
    cJSON_AddStringToObject(o, "text", col_text(s, 8));
    return o;
}

cJSON *store_queue(store *st, const char *agent, int64_t now) {
    if (st->rs)
        return rstore_queue(st->rs, agent, now);
    return read_array(st, queue_row,
                      "SELECT h.id,h.conv,h.reason,h.status,h.agent,h.created,"
                      " ?1-h.created,c.lang,h.text FROM handoffs h"
                      " JOIN conversations c ON c.id=h.conv"
                      " WHERE h.status='open' OR (h.status='claimed' AND h.agent=?2)"
                      " ORDER BY h.created, h.id",
                      "it", now, agent);
}

int store_ticket_conv(store *st, long ticket, char conv[33]) {
    if (st->rs)
        return rstore_ticket_conv(st->rs, ticket, conv);
    return get_one(st, conv, 33, NULL, 0, "SELECT conv FROM handoffs WHERE id=?",
                   "i", (int64_t)ticket);
}

static cJSON *note_row(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "agent", col_text(s, 0));
        cJSON_AddStringToObject(o, "text", col_text(s, 1));
        cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(s, 2));
    }
    return o;
}

static void add_opt_int(cJSON *o, const char *key, sqlite3_stmt *s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(s, i));
}

cJSON *store_ticket(store *st, long ticket) {
    if (st->rs)
        return rstore_ticket(st->rs, ticket);
    pthread_mutex_lock(&st->rmu);
    cJSON *o = NULL;
    sqlite3_stmt *s = query_r(st,
                              "SELECT id,conv,reason,status,agent,created,claimed,"
                              "resolved,packet FROM handoffs WHERE id=?",
                              "i", (int64_t)ticket);
    if (s && sqlite3_step(s) == SQLITE_ROW && (o = cJSON_CreateObject())) {
        char conv[33];
        copy_col(s, 1, conv, sizeof conv);
        cJSON_AddNumberToObject(o, "ticket", (double)ticket);
        cJSON_AddStringToObject(o, "conversation", conv);
        cJSON_AddStringToObject(o, "reason", col_text(s, 2));
        cJSON_AddStringToObject(o, "status", col_text(s, 3));
        if (col_text(s, 4))
            cJSON_AddStringToObject(o, "agent", col_text(s, 4));
        else
            cJSON_AddNullToObject(o, "agent");
        add_opt_int(o, "created", s, 5);
        add_opt_int(o, "claimed", s, 6);
        add_opt_int(o, "resolved", s, 7);
        cJSON *packet = col_text(s, 8) ? cJSON_Parse(col_text(s, 8)) : NULL;
        cJSON_AddItemToObject(o, "packet", packet ? packet : cJSON_CreateNull());
        cJSON *msgs = array_query(
            st, msg_json,
            query_r(st,
                    "SELECT " MSG_COLS " FROM messages WHERE conv=? ORDER BY seq",
                    "t", conv));
        cJSON *notes = array_query(
            st, note_row,
            query_r(st, "SELECT agent,text,ts FROM notes WHERE handoff=? ORDER BY id",
                    "i", (int64_t)ticket));
        if (!msgs || !notes) {
            cJSON_Delete(msgs);
            cJSON_Delete(notes);
            cJSON_Delete(o);
            o = NULL;
        } else {
            cJSON_AddItemToObject(o, "messages", msgs);
            cJSON_AddItemToObject(o, "notes", notes);
        }
    } else if (s) {
        snprintf(errbuf, sizeof errbuf, "no such ticket");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return o;
}

/* The ticket's status and agent, read inside a write transaction. */
static int ticket_state(store *st, long ticket, char status[16],
                        char agent[64]) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->w, "SELECT status,agent FROM handoffs WHERE id=?",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, ticket);
    int step = sqlite3_step(s);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? STORE_NOT_FOUND : -1;
    if (!rc) {
        copy_col(s, 0, status, 16);
        copy_col(s, 1, agent, 64);
    }
    sqlite3_finalize(s);
    return rc;
}

static int conv_set(store *st, const char *conv, int64_t now, long seq,
                    conv_status status, long ticket, const char *agent) {
    return run_w(st,
                 "UPDATE conversations SET updated=?,seq=?,status=?,ticket=?,"
                 "agent=? WHERE id=?",
                 "iiiitt", now, (int64_t)seq, (int64_t)status, (int64_t)ticket,
                 agent ? agent : "", conv);
}

int store_claim(store *st, long ticket, const char *conv, const char *agent,
                int64_t now, const msg_rec *sys) {
    if (st->rs)
        return rstore_claim(st->rs, ticket, conv, agent, now, sys);
    BEGIN_WRITE(st);
    char status[16], who[64];
    int rc = ticket_state(st, ticket, status, who);
    if (!rc && strcmp(status, "open") != 0)
        rc = strcmp(status, "claimed") == 0 && strcmp(who, agent) == 0
                 ? STORE_ALREADY
                 : STORE_CONFLICT;
    if (rc == STORE_ALREADY) {
        exec(st->w, "ROLLBACK");
        pthread_mutex_unlock(&st->wmu);
        return STORE_ALREADY;
    }
    if (!rc)
        rc = run_w(st,
                   "UPDATE handoffs SET status='claimed',agent=?,claimed=?"
                   " WHERE id=?",
                   "tii", agent, now, (int64_t)ticket);
    if (!rc)
        rc = insert_msg(st, conv, now, sys);
    if (!rc)
        rc = conv_set(st, conv, now, sys->seq, CONV_AGENT, ticket, agent);
    if (rc == STORE_CONFLICT)
        snprintf(errbuf, sizeof errbuf, "ticket %ld is %s%s%s", ticket, status,
                 *who ? " by " : "", who);
    return end_write(st, rc, "claim");
}

/* The ticket must be claimed by agent. */
static int check_claim(store *st, long ticket, const char *agent) {
    char status[16], who[64];
    int rc = ticket_state(st, ticket, status, who);
    if (!rc && (strcmp(status, "claimed") != 0 || strcmp(who, agent) != 0)) {
        snprintf(errbuf, sizeof errbuf, "ticket %ld is not claimed by %s",
                 ticket, agent);
        rc = STORE_CONFLICT;
    }
    return rc;
}

int store_agent_message(store *st, long ticket, const char *conv,
                        const char *agent, int64_t now, const msg_rec *m) {
    if (st->rs)
        return rstore_agent_message(st->rs, ticket, conv, agent, now, m);
    BEGIN_WRITE(st);
    int rc = check_claim(st, ticket, agent);
    if (!rc)
        rc = insert_msg(st, conv, now, m);
    if (!rc)
        rc = run_w(st,
                   "UPDATE handoffs SET first_response=? WHERE id=? AND"
                   " first_response IS NULL",
                   "ii", now, (int64_t)ticket);
    if (!rc)
        rc = run_w(st, "UPDATE conversations SET updated=?,seq=? WHERE id=?",
                   "iit", now, (int64_t)m->seq, conv);
    return end_write(st, rc, "agent message");
}

int store_note(store *st, long ticket, const char *agent, const char *text,
               int64_t now) {
    if (st->rs)
        return rstore_note(st->rs, ticket, agent, text, now);
    BEGIN_WRITE(st);
    int rc = run_w(st, "INSERT INTO notes(handoff,ts,agent,text) VALUES(?,?,?,?)",
                   "iitt", (int64_t)ticket, now, agent, text);
    return end_write(st, rc, "note");
}

/* The tail of a resolve and a hand-back: the system message, the resumed
 * state, the status "bot" and no agent. */
static int back_to_bot(store *st, const char *conv, int64_t now,
                       const msg_rec *sys, const void *state, size_t state_len) {
    int rc = insert_msg(st, conv, now, sys);
    if (!rc)
        rc = update_conv(st, conv, now, state, state_len, sys->seq, CONV_BOT,
                         NULL, 0);
    if (!rc)
        rc = run_w(st, "UPDATE conversations SET agent='' WHERE id=?", "t", conv);
    return rc;
}

int store_resolve(store *st, long ticket, const char *conv, const char *agent,
                  int64_t now, const msg_rec *sys, const void *state,
                  size_t state_len, const char *note, long version) {
    if (st->rs)
        return rstore_resolve(st->rs, ticket, conv, agent, now, sys, state,
                              state_len, note, version);
    (void)version; /* one process: the conversation's lock is enough */
    BEGIN_WRITE(st);
    int rc = check_claim(st, ticket, agent);
    if (!rc && note && *note)
        rc = run_w(st, "INSERT INTO notes(handoff,ts,agent,text) VALUES(?,?,?,?)",
                   "iitt", (int64_t)ticket, now, agent, note);
    if (!rc)
        rc = run_w(st, "UPDATE handoffs SET status='resolved',resolved=? WHERE id=?",
                   "ii", now, (int64_t)ticket);
    if (!rc)
        rc = back_to_bot(st, conv, now, sys, state, state_len);
    return end_write(st, rc, "resolve");
}

long store_open_handoffs(store *st) {
    if (st->rs)
        return rstore_open_handoffs(st->rs);
    int64_t n = -1;
    if (one_row(st, take_int64, &n,
                "SELECT count(*) FROM handoffs WHERE status!='resolved'", ""))
        return -1;
    return (long)n;
}

/* --- agents -------------------------------------------------------------- */

int store_agent_add(store *st, const char *name, const char *hash, int64_t now) {
    if (st->rs)
        return rstore_agent_add(st->rs, name, hash);
    BEGIN_WRITE(st);
    int rc = run_w(st,
                   "INSERT INTO agents(name,hash,created) VALUES(?,?,?)"
                   " ON CONFLICT(name) DO UPDATE SET hash=excluded.hash",
                   "tti", name, hash, now);
    return end_write(st, rc, "add agent");
}


int store_agent_hash(store *st, const char *name, char *buf, size_t size) {
    if (st->rs)
        return rstore_agent_hash(st->rs, name, buf, size);
    return get_one(st, buf, size, NULL, 0, "SELECT hash FROM agents WHERE name=?",
                   "t", name);
}

int store_login_add(store *st, const char *token_hash, const char *agent,
                    const char *csrf, int64_t expires) {
    if (st->rs)
        return rstore_login_add(st->rs, token_hash, agent, csrf, expires);
    BEGIN_WRITE(st);
    int rc = run_w(st, "INSERT INTO logins(token,agent,csrf,expires) VALUES(?,?,?,?)",
                   "ttti", token_hash, agent, csrf, expires);
    if (!rc)
        rc = run_w(st, "DELETE FROM logins WHERE expires<?", "i", expires - 2 * 43200000LL);
    return end_write(st, rc, "login");
}

int store_login_get(store *st, const char *token_hash, int64_t now,
                    char agent[64], char csrf[64]) {
    if (st->rs)
        return rstore_login_get(st->rs, token_hash, now, agent, csrf);
    return get_one(st, agent, 64, csrf, 64,
                   "SELECT agent,csrf FROM logins WHERE token=? AND expires>?", "ti",
                   token_hash, now);
}

int store_login_del(store *st, const char *token_hash) {
    if (st->rs)
        return rstore_login_del(st->rs, token_hash);
    BEGIN_WRITE(st);
    int rc = run_w(st, "DELETE FROM logins WHERE token=?", "t", token_hash);
    return end_write(st, rc, "logout");
}

/* --- dashboard and knowledge base ---------------------------------------- */

static int64_t scalar_i(store *st, const char *sql, int64_t since) {
    sqlite3_stmt *s = query_r(st, sql, "i", since);
    int64_t v = -1;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void add_scalar_d(store *st, cJSON *o, const char *key, const char *sql,
                         int64_t since) {
    sqlite3_stmt *s = query_r(st, sql, "i", since);
    if (s && sqlite3_step(s) == SQLITE_ROW &&
        sqlite3_column_type(s, 0) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, key, sqlite3_column_double(s, 0));
    else
        cJSON_AddNullToObject(o, key);
    sqlite3_finalize(s);
}

/* A {name: count} object from rows (name, count). */
static cJSON *counts(store *st, const char *sql, int64_t since) {
    cJSON *o = cJSON_CreateObject();
    sqlite3_stmt *s = query_r(st, sql, "i", since);
    while (o && s && sqlite3_step(s) == SQLITE_ROW)
        cJSON_AddNumberToObject(o, col_text(s, 0) ? col_text(s, 0) : "",
                                (double)sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    return o;
}

static cJSON *top_row(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "intent", col_text(s, 0));
        cJSON_AddNumberToObject(o, "count", (double)sqlite3_column_int64(s, 1));
    }
    return o;
}

static cJSON *unanswered_row(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "message", (double)sqlite3_column_int64(s, 0));
        cJSON_AddStringToObject(o, "conversation", col_text(s, 1));
        cJSON_AddStringToObject(o, "text", col_text(s, 2));
        cJSON_AddStringToObject(o, "lang", col_text(s, 3) ? col_text(s, 3) : "");
        cJSON_AddStringToObject(o, "action", col_text(s, 4));
        cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(s, 5));
    }
    return o;
}

/* The bot's replies (a silent turn stores no reply). */
static const char *const ACTIONS[] = {"answer", "ask", "suggest", "fallback",
                                      "handoff"};

cJSON *store_dashboard(store *st, int64_t since, int utc_offset_minutes) {
    if (st->rs)
        return rstore_dashboard(st->rs, since, utc_offset_minutes);
    pthread_mutex_lock(&st->rmu);
    cJSON *o = cJSON_CreateObject();
    int64_t convs = scalar_i(st,
                             "SELECT count(DISTINCT conv) FROM messages"
                             " WHERE role='customer' AND ts>=?",
                             since);
    int64_t cust = scalar_i(st, "SELECT count(*) FROM messages WHERE role='customer' AND ts>=?", since);
    int64_t bot = scalar_i(st, "SELECT count(*) FROM messages WHERE role='bot' AND ts>=?", since);
    cJSON_AddNumberToObject(o, "conversations", (double)convs);
    cJSON_AddNumberToObject(o, "customer_messages", (double)cust);
    cJSON_AddNumberToObject(o, "bot_replies", (double)bot);
    cJSON *actions = counts(st,
                            "SELECT action,count(*) FROM messages WHERE role='bot'"
                            " AND ts>=? GROUP BY action",
                            since);
    cJSON *rates = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof ACTIONS / sizeof *ACTIONS; i++) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(actions, ACTIONS[i]);
        if (!n)
            cJSON_AddNumberToObject(actions, ACTIONS[i], 0);
        cJSON_AddNumberToObject(rates, ACTIONS[i],
                                bot > 0 && n ? n->valuedouble / (double)bot : 0.0);
    }
    cJSON_AddItemToObject(o, "actions", actions);
    cJSON_AddItemToObject(o, "rates", rates);

    cJSON *h = cJSON_CreateObject();
    cJSON_AddNumberToObject(h, "total", (double)scalar_i(st, "SELECT count(*) FROM handoffs WHERE created>=?", since));
    cJSON *hs = counts(st, "SELECT status,count(*) FROM handoffs WHERE created>=? GROUP BY status", since);
    static const char *const HSTAT[] = {"open", "claimed", "resolved"};
    for (size_t i = 0; i < 3; i++) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(hs, HSTAT[i]);
        cJSON_AddNumberToObject(h, HSTAT[i], n ? n->valuedouble : 0);
    }
    cJSON_Delete(hs);
    cJSON_AddItemToObject(h, "by_reason",
                          counts(st,
                                 "SELECT reason,count(*) FROM handoffs WHERE"
                                 " created>=? GROUP BY reason ORDER BY 2 DESC",
                                 since));
    cJSON_AddItemToObject(o, "handoffs", h);

    add_scalar_d(st, o, "handoff_rate",
                 "WITH c AS (SELECT DISTINCT conv FROM messages"
                 " WHERE role='customer' AND ts>=?)"
                 " SELECT CASE WHEN count(*)=0 THEN NULL ELSE"
                 " avg(conv IN (SELECT conv FROM handoffs)) END FROM c",
                 since);
    add_scalar_d(st, o, "resolution_rate",
                 "WITH c AS (SELECT conv,"
                 " max(role='bot' AND action='answer') AS answered,"
                 " max(role='bot' AND action='handoff') AS handed"
                 " FROM messages WHERE ts>=? GROUP BY conv"
                 " HAVING sum(role='customer')>0)"
                 " SELECT CASE WHEN count(*)=0 THEN NULL ELSE"
                 " avg(answered AND NOT handed AND conv NOT IN"
                 " (SELECT conv FROM handoffs)) END FROM c",
                 since);
    add_scalar_d(st, o, "first_response_seconds",
                 "SELECT avg(first_response-created)/1000.0 FROM handoffs"
                 " WHERE created>=? AND first_response IS NOT NULL",
                 since);
    add_scalar_d(st, o, "handoff_wait_seconds",
                 "SELECT avg(claimed-created)/1000.0 FROM handoffs"
                 " WHERE created>=? AND claimed IS NOT NULL",
                 since);

    /* satisfaction: the customers' ratings of whole conversations (stars);
     * answer feedback: their thumbs on single answers */
    cJSON *sat = cJSON_CreateObject();
    cJSON_AddNumberToObject(sat, "count", (double)scalar_i(st, "SELECT count(*) FROM ratings WHERE turn IS NULL AND ts>=?", since));
    add_scalar_d(st, sat, "average", "SELECT avg(rating) FROM ratings WHERE turn IS NULL AND ts>=?", since);
    double by[5] = {0};
    sqlite3_stmt *s = query_r(st, "SELECT rating,count(*) FROM ratings WHERE turn IS NULL AND ts>=? GROUP BY rating", "i", since);
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        int r = sqlite3_column_int(s, 0);
        if (r >= 1 && r <= 5)
            by[r - 1] = (double)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    cJSON_AddItemToObject(sat, "by_rating", cJSON_CreateDoubleArray(by, 5));
    cJSON_AddItemToObject(o, "satisfaction", sat);
    cJSON *fb = cJSON_CreateObject();
    cJSON_AddNumberToObject(fb, "count", (double)scalar_i(st, "SELECT count(*) FROM ratings WHERE turn IS NOT NULL AND ts>=?", since));
    add_scalar_d(st, fb, "helpful", "SELECT avg(rating>=4) FROM ratings WHERE turn IS NOT NULL AND ts>=?", since);
    cJSON_AddItemToObject(o, "answer_feedback", fb);

    double hours[24] = {0};
    s = query_r(st,
                "SELECT ((ts/60000 + ?2) / 60) % 24, count(*) FROM messages"
                " WHERE role='customer' AND ts>=?1 GROUP BY 1",
                "ii", since, (int64_t)utc_offset_minutes);
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        int hr = sqlite3_column_int(s, 0);
        if (hr < 0)
            hr += 24;
        if (hr >= 0 && hr < 24)
            hours[hr] += (double)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    cJSON_AddItemToObject(o, "hours", cJSON_CreateDoubleArray(hours, 24));

    cJSON_AddItemToObject(
        o, "top_intents",
        array_query(st, top_row,
                    query_r(st,
                            "SELECT intent,count(*) FROM messages WHERE role='bot'"
                            " AND action='answer' AND intent IS NOT NULL AND ts>=?"
                            " GROUP BY intent ORDER BY 2 DESC, 1 LIMIT 10",
                            "i", since)));
    cJSON_AddItemToObject(
        o, "unanswered",
        array_query(st, unanswered_row,
                    query_r(st,
                            "SELECT c.id,c.conv,c.text,c.lang,b.action,c.ts FROM"
                            " messages b JOIN messages c ON c.conv=b.conv AND"
                            " c.seq=b.seq-1 AND c.role='customer'"
                            " WHERE b.role='bot' AND b.action IN ('fallback','suggest')"
                            " AND b.ts>=? ORDER BY b.id DESC LIMIT 20",
                            "i", since)));
    pthread_mutex_unlock(&st->rmu);
    return o;
}

typedef struct msg_text {
    char **text;
    char *lang;
} msg_text;

static int take_msg_text(sqlite3_stmt *s, void *ud) {
    msg_text *m = ud;
    *m->text = strdup(col_text(s, 0) ? col_text(s, 0) : "");
    copy_col(s, 1, m->lang, 8);
    return *m->text ? 0 : -1;
}

int store_message_text(store *st, long id, char **text, char lang[8]) {
    if (st->rs)
        return rstore_message_text(st->rs, id, text, lang);
    *text = NULL;
    return one_row(st, take_msg_text, &(msg_text){text, lang},
                   "SELECT text,lang FROM messages WHERE id=? AND role='customer'",
                   "i", (int64_t)id);
}

int store_kb_version(store *st, int64_t now, const char *agent,
                     const char *path, const char *json) {
    if (st->rs)
        return rstore_kb_version(st->rs, now, agent, path, json);
    BEGIN_WRITE(st);
    int rc = run_w(st, "INSERT INTO kb_versions(ts,agent,path,json) VALUES(?,?,?,?)",
                   "ittt", now, agent, path, json);
    return end_write(st, rc, "kb version");
}

/* --- channels ------------------------------------------------------------ */

int store_channel_conv(store *st, const char *channel, const char *user,
                       char conv[33]) {
    if (st->rs)
        return rstore_channel_conv(st->rs, channel, user, conv);
    return get_one(st, conv, 33, NULL, 0,
                   "SELECT conv FROM channel_users WHERE channel=? AND user=?",
                   "tt", channel, user);
}

int store_channel_bind(store *st, const char *channel, const char *user,
                       const char *conv, const char *extra) {
    if (st->rs)
        return rstore_channel_bind(st->rs, channel, user, conv, extra);
    BEGIN_WRITE(st);
    int rc = run_w(st,
                   "INSERT INTO channel_users(channel,user,conv,extra) VALUES(?,?,?,?)"
                   " ON CONFLICT(channel,user) DO UPDATE SET conv=excluded.conv,"
                   " extra=excluded.extra",
                   "tttt", channel, user, conv, extra ? extra : "");
    return end_write(st, rc, "bind channel user");
}

typedef struct three_texts {
    char *a, *b, *c;
    size_t na, nb, nc;
} three_texts;

static int take_three(sqlite3_stmt *s, void *ud) {
    three_texts *t = ud;
    copy_col(s, 0, t->a, t->na);
    copy_col(s, 1, t->b, t->nb);
    copy_col(s, 2, t->c, t->nc);
    return 0;
}

int store_channel_of(store *st, const char *conv, char channel[16],
                     char user[128], char extra[128]) {
    if (st->rs)
        return rstore_channel_of(st->rs, conv, channel, user, extra);
    three_texts t = {channel, user, extra, 16, 128, 128};
    return one_row(st, take_three, &t,
                   "SELECT channel,user,extra FROM channel_users WHERE conv=?", "t",
                   conv);
}

int store_channel_seen(store *st, const char *channel, const char *msgid) {
    if (st->rs)
        return rstore_channel_seen(st->rs, channel, msgid);
    int64_t n = 0;
    int rc = one_row(st, take_int64, &n,
                     "SELECT count(*) FROM channel_msgs WHERE channel=? AND msgid=?",
                     "tt", channel, msgid);
    return rc ? -1 : n > 0;
}

int64_t store_last_message_at(store *st, const char *conv) {
    if (st->rs)
        return rstore_last_message_at(st->rs, conv);
    int64_t ts = 0;
    int rc = one_row(st, take_int64, &ts,
                     "SELECT coalesce(max(ts),0) FROM messages WHERE conv=?", "t", conv);
    return rc ? -1 : ts;
}

int store_cursor_get(store *st, const char *channel, const char *key,
                     char *cursor, size_t size) {
    if (st->rs)
        return rstore_cursor_get(st->rs, channel, key, cursor, size);
    cursor[0] = '\0';
    int rc = get_one(st, cursor, size, NULL, 0,
                     "SELECT cursor FROM channel_cursors WHERE channel=? AND key=?",
                     "tt", channel, key);
    return rc == STORE_NOT_FOUND ? 0 : rc;
}

int store_cursor_set(store *st, const char *channel, const char *key,
                     const char *cursor) {
    if (st->rs)
        return rstore_cursor_set(st->rs, channel, key, cursor);
    BEGIN_WRITE(st);
    int rc = run_w(st,
                   "INSERT INTO channel_cursors(channel,key,cursor) VALUES(?,?,?)"
                   " ON CONFLICT(channel,key) DO UPDATE SET cursor=excluded.cursor",
                   "ttt", channel, key, cursor);
    return end_write(st, rc, "store cursor");
}

int store_handback(store *st, long ticket, const char *conv, int64_t now,
                   const msg_rec *sys, const void *state, size_t state_len,
                   long version) {
    if (st->rs)
        return rstore_handback(st->rs, ticket, conv, now, sys, state,
                               state_len, version);
    (void)version;
    BEGIN_WRITE(st);
    int rc = run_w(st,
                   "UPDATE handoffs SET status='resolved',resolved=?,"
                   " agent=coalesce(agent,'wechat') WHERE id=? AND status!='resolved'",
                   "ii", now, (int64_t)ticket);
    if (!rc)
        rc = back_to_bot(st, conv, now, sys, state, state_len);
    return end_write(st, rc, "hand back");
}

int store_system_message(store *st, const char *conv, int64_t now,
                         const msg_rec *m) {
    if (st->rs)
        return rstore_system_message(st->rs, conv, now, m);
    BEGIN_WRITE(st);
    int rc = insert_msg(st, conv, now, m);
    if (!rc)
        rc = run_w(st, "UPDATE conversations SET seq=?, updated=? WHERE id=?", "iit",
                   (int64_t)m->seq, now, conv);
    return end_write(st, rc, "system message");
}
