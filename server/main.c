/*
 * main.c - the csbot-server program: options, the `agent add` command, and
 * the service's life: load the knowledge base, open the database, listen,
 * then wait for signals (SIGHUP reloads, SIGTERM/SIGINT stop gracefully),
 * changes of the knowledge-base file (inotify), long-poll deadlines and idle
 * conversations, until it is told to stop.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "auth.h"
#include "channel.h"
#include "convs.h"
#include "http.h"
#include "metrics.h"
#include "ratelimit.h"
#include "server.h"
#include "wait.h"
#include "wx.h"

typedef struct options {
    const char *kb, *db, *listen, *wechat, *wecom, *redis;
    unsigned threads, timeout;
    double rate;
    int utc_offset, quiet, secure;
} options;

static void usage(FILE *f) {
    fputs("usage: csbot-server [--kb FILE] [--db FILE] [--listen IP:PORT]\n"
          "                    [--threads N] [--rate-limit N] [--utc-offset MIN]\n"
          "                    [--timeout SECONDS] [--quiet]\n"
          "                    [--wechat CONFIG] [--wecom CONFIG] [--redis URL]\n"
          "       csbot-server agent add NAME [--db FILE | --redis URL]\n"
          "                    (password on stdin)\n"
          "defaults: --kb intents/shop.json --db csbot.db --listen 127.0.0.1:8080\n"
          "          --threads 8 --rate-limit 20 (requests/s per client, 0: off)\n"
          "          --timeout 30 (seconds a client may stay silent)\n"
          "--wechat serves an official account at /wechat, --wecom WeCom customer\n"
          "service at /wecom (CONFIG: JSON, see docs/WECHAT-BRIDGE.md)\n"
          "--redis redis://HOST:PORT/DB keeps everything in Redis instead of the\n"
          "database, shared by every csbot-server started with it (docs/SCALE-OUT.md)\n",
          f);
}

/* Parse argv from i; returns -1 on a bad option. */
static int parse(int argc, char **argv, int i, options *o) {
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "csbot-server: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--kb") == 0)
            o->kb = v;
        else if (strcmp(a, "--db") == 0)
            o->db = v;
        else if (strcmp(a, "--listen") == 0)
            o->listen = v;
        else if (strcmp(a, "--redis") == 0)
            o->redis = v;
        else if (strcmp(a, "--wechat") == 0)
            o->wechat = v;
        else if (strcmp(a, "--wecom") == 0)
            o->wecom = v;
        else if (strcmp(a, "--timeout") == 0)
            o->timeout = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            o->threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--rate-limit") == 0)
            o->rate = strtod(v, NULL);
        else if (strcmp(a, "--utc-offset") == 0)
            o->utc_offset = atoi(v);
        else {
            fprintf(stderr, "csbot-server: unknown option %s\n", a);
            return -1;
        }
    }
    if (o->threads == 0 || o->threads > 64 || o->rate < 0 || o->timeout == 0) {
        fprintf(stderr, "csbot-server: --threads 1..64, --rate-limit >= 0, --timeout >= 1\n");
        return -1;
    }
    return 0;
}

/* The database, or Redis with --redis. */
static int open_store(store **st, const options *o, char *err, size_t errlen) {
    return o->redis ? store_open_redis(st, o->redis, err, errlen)
                    : store_open(st, o->db, err, errlen);
}

/* csbot-server agent add NAME: the password is the first line of stdin. */
static int agent_add(int argc, char **argv) {
    if (argc < 4 || strcmp(argv[2], "add") != 0) {
        usage(stderr);
        return 2;
    }
    options o = {.kb = "intents/shop.json", .db = "csbot.db", .threads = 2,
                 .timeout = 30};
    if (parse(argc, argv, 4, &o))
        return 2;
    char pw[1025];
    if (!fgets(pw, sizeof pw, stdin)) {
        fprintf(stderr, "csbot-server: give the password on standard input\n");
        return 2;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    store *st;
    char err[512];
    if (auth_init() || open_store(&st, &o, err, sizeof err)) {
        fprintf(stderr, "csbot-server: %s\n", err);
        return 1;
    }
    int rc = auth_add_agent(st, argv[3], pw, err, sizeof err);
    store_close(st);
    if (rc) {
        fprintf(stderr, "csbot-server: %s\n", err);
        return 1;
    }
    fprintf(stderr, "csbot-server: agent %s saved in %s\n", argv[3],
            o.redis ? o.redis : o.db);
    return 0;
}

/* Watch the knowledge base's folder: editors replace files by renaming. */
static int watch_kb(const char *path, char *base, size_t size) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    snprintf(base, size, "%s", slash ? slash + 1 : path);
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Whether an inotify read names the knowledge-base file. */
static int kb_changed(int fd, const char *base) {
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            if (ev->len && strcmp(ev->name, base) == 0)
                hit = 1;
            p += sizeof *ev + ev->len;
        }
    return hit;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The service's loop: returns when a stop signal arrives. */
static void serve(app *a, int sfd, int ifd, const char *base) {
    int64_t reload_at = 0, evict_at = mono_ms() + 10000, checkpoint_at = 0;
    for (;;) {
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}};
        int n = poll(p, ifd >= 0 ? 2 : 1, SRV_CHECKPOINT_MS);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP)
                    srv_reload(a, "sighup", 0);
                else
                    return;
            }
        }
        if (n > 0 && ifd >= 0 && (p[1].revents & POLLIN) && kb_changed(ifd, base))
            reload_at = mono_ms() + 200; /* let the writer finish */
        int64_t now = mono_ms();
        if (reload_at && now >= reload_at) {
            reload_at = 0;
            srv_reload(a, "file_changed", 1);
        }
        waiters_wake_expired(a->wt, srv_now_ms());
        if (now >= checkpoint_at) {
            checkpoint_at = now + SRV_CHECKPOINT_MS;
            if (store_checkpoint(a->st, NULL))
                srv_log("error", "msg=\"checkpoint failed: %s\"", store_errmsg());
        }
        if (now >= evict_at) {
            evict_at = now + 10000;
            convs_evict(a->cv, SRV_IDLE_EVICT_MS);
        }
    }
}

static void on_store_event(void *ud, const char *id, long version, long seq) {
    convs_event(ud, id, version, seq);
}

static void on_store_reset(void *ud) { convs_reset(ud); }

static int run(const options *o) {
    app a;
    memset(&a, 0, sizeof a);
    a.kbopts = (csbot_kb_options)CSBOT_KB_OPTIONS_INIT;
    a.kb_path = o->kb;
    a.utc_offset = o->utc_offset;
    a.quiet = o->quiet;
    pthread_mutex_init(&a.kb_mu, NULL);
    char err[1024];
    csbot_error kerr = CSBOT_ERROR_INIT;
    csbot_kb *kb;
    if (csbot_kb_load_file(&kb, o->kb, &a.kbopts, &kerr)) {
        csbot_error_format(&kerr, err, sizeof err);
        fprintf(stderr, "csbot-server: %s\n", err);
        return 1;
    }
    srv_note_kb_loaded(&a);
    if (csbot_hub_new(&a.hub, kb) || auth_init() ||
        open_store(&a.st, o, err, sizeof err) || convs_new(&a.cv, &a) ||
        waiters_new(&a.wt) || metrics_new(&a.m) || ratelimit_new(&a.rl, o->rate)) {
        fprintf(stderr, "csbot-server: cannot start: %s\n",
                a.st ? "out of memory" : err);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    /* events of a shared store: other processes' changes */
    store_events ev = {on_store_event, on_store_reset, a.cv};
    if (store_subscribe(a.st, &ev)) {
        fprintf(stderr, "csbot-server: cannot start the Redis subscriber\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    wx_global_init();
    if ((o->wechat && channel_open(&a.wechat, &a, CH_WECHAT, o->wechat, err, sizeof err)) ||
        (o->wecom && channel_open(&a.wecom, &a, CH_WECOM, o->wecom, err, sizeof err))) {
        fprintf(stderr, "csbot-server: %s\n", err);
        return 1;
    }
    char base[256];
    int ifd = watch_kb(o->kb, base, sizeof base);
    http *h;
    if (sfd < 0 || http_start(&h, &a, o->listen, o->threads, o->timeout, err, sizeof err)) {
        fprintf(stderr, "csbot-server: %s\n", sfd < 0 ? "no signalfd" : err);
        return 1;
    }
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(o->listen, ':') - o->listen),
             o->listen);
    srv_log("info", "msg=\"started\" kb=%s intents=%zu %s=%s threads=%u", o->kb,
            csbot_kb_intent_count(kb), o->redis ? "redis" : "db",
            o->redis ? o->redis : o->db, o->threads);
    fprintf(stderr,
            "csbot-server: listening on http://%s:%u/\n"
            "csbot-server:   web chat       http://%s:%u/\n"
            "csbot-server:   agent console  http://%s:%u/agent\n"
            "csbot-server:   dashboard      http://%s:%u/dashboard\n",
            host, http_port(h), host, http_port(h), host, http_port(h), host,
            http_port(h));
    if (a.wechat)
        fprintf(stderr, "csbot-server:   WeChat         http://%s:%u/wechat\n", host, http_port(h));
    if (a.wecom)
        fprintf(stderr, "csbot-server:   WeCom          http://%s:%u/wecom\n", host, http_port(h));
    serve(&a, sfd, ifd, base);
    srv_log("info", "msg=\"stopping\"");
    http_quiesce(h);
    waiters_close(a.wt); /* from now on nobody waits */
    http_stop(h); /* waits for the requests in flight */
    channel_close(a.wechat); /* finish the channels' queued work */
    channel_close(a.wecom);
    wx_global_cleanup();
    store_close(a.st); /* (first: its subscriber thread uses the table) */
    convs_free(a.cv);
    csbot_hub_free(a.hub);
    waiters_free(a.wt);
    metrics_free(a.m);
    ratelimit_free(a.rl);
    pthread_mutex_destroy(&a.kb_mu);
    close(sfd);
    if (ifd >= 0)
        close(ifd);
    srv_log("info", "msg=\"stopped\"");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "agent") == 0)
        return agent_add(argc, argv);
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    options o = {.kb = "intents/shop.json", .db = "csbot.db",
                 .listen = "127.0.0.1:8080", .threads = 8, .rate = 20, .timeout = 30};
    if (parse(argc, argv, 1, &o)) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
