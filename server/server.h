/*
 * server.h - what the parts of csbot-server share: the application object
 * (the knowledge-base hub, the store, the conversation table, the waiting
 * long polls, the metrics, the rate limiter and the options) and small
 * utilities (clock, random ids, logging).
 */
#ifndef CSBOT_SERVER_H
#define CSBOT_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <csbot.h>

#include "store.h"

typedef struct convs convs;
typedef struct waiters waiters;
typedef struct metrics metrics;
typedef struct ratelimit ratelimit;
typedef struct channel channel;

/* Limits of the HTTP API (docs/API.md). */
enum {
    SRV_MAX_BODY = 64 * 1024,    /* request body */
    SRV_MAX_TEXT = 4000,         /* one message, bytes */
    SRV_MAX_WAIT = 25,           /* long poll, seconds */
    SRV_LOGIN_HOURS = 12,        /* agent login lifetime */
    SRV_IDLE_EVICT_MS = 600000,  /* conversations idle this long leave memory */
    SRV_TRANSCRIPT_TURNS = 8,    /* turns in a session's saved state */
    SRV_CHECKPOINT_MS = 100      /* how often the WAL is copied back */
};

typedef struct app {
    csbot_hub *hub;
    csbot_kb_options kbopts;
    store *st;
    convs *cv;
    waiters *wt;
    metrics *m;
    ratelimit *rl;
    channel *wechat, *wecom; /* the WeChat channels, NULL when off */
    const char *kb_path;
    int utc_offset;    /* minutes, for the dashboard's hours */
    int quiet;         /* no per-request log lines */
    pthread_mutex_t kb_mu; /* serialises knowledge-base edits and reloads */
    /* the file's identity when it was last loaded (under kb_mu): a change
     * notice for the version already serving is not a reason to reload */
    struct {
        unsigned long long dev, ino, size;
        long long mtime_ns;
    } kb_loaded;
} app;

int64_t srv_now_ms(void);
/* 2*n lowercase hex digits of n random bytes, NUL-terminated. */
int srv_random_hex(char *out, size_t n);
/* Whether s[0..len) is valid UTF-8 without NUL bytes. */
int srv_valid_utf8(const char *s, size_t len);
/* Whether s is exactly 32 lowercase hex digits. */
int srv_is_conv_id(const char *s);
/* One log line to stderr: "ts=... level=... msg=..." plus the caller's
 * logfmt fields. Thread-safe (one write per line). */
void srv_log(const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reload the knowledge base from kb_path (SIGHUP, inotify, edits). With
 * only_if_changed, a file identical (device, inode, size, time) to the one
 * loaded last is left alone and 1 returned. */
int srv_reload(app *a, const char *why, int only_if_changed);
/* Record kb_path's identity as the loaded one (call under kb_mu). */
void srv_note_kb_loaded(app *a);

#endif
