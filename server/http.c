/*
 * http.c - csbot-server on the network, through GNU libmicrohttpd (epoll,
 * a pool of threads): collects each request's headers and body (cut at the
 * size limit), applies the per-client rate limit, calls api_handle(), sends
 * its answer with the security headers, suspends long polls until their
 * waiter is woken, and writes one logfmt line per request.
 */
#include "http.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "metrics.h"
#include "ratelimit.h"

struct http {
    app *a;
    struct MHD_Daemon *d;
    unsigned port;
    atomic_int suspended; /* connections suspended and not yet back */
};

/* One request. It lives until both its connection is done with it
 * (on_completed) and, when it waited, the waiter list is (wake or
 * waiters_remove): refs counts those two owners. */
typedef struct req_ctx {
    atomic_int refs;
    struct MHD_Connection *conn;
    http *h;
    char *body;
    size_t len;
    int too_big;
    int limited;
    struct timespec t0;
    char ip[INET6_ADDRSTRLEN];
    /* long polls */
    waiter w;
    pthread_mutex_t mu;
    int waited;    /* the request registered its waiter once */
    int suspended; /* the connection is suspended */
    int counted;   /* it is in http.suspended */
    int woken;
    void *held;    /* the first answer's conversation reference */
    /* for the log line */
    unsigned status;
    char route[48];
} req_ctx;

static double since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void ctx_unref(req_ctx *rq) {
    if (atomic_fetch_sub(&rq->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&rq->mu);
    free(rq->body);
    free(rq);
}

/* The waiter's wake callback: runs once, after the waiter left the list,
 * and gives up the list's reference last, so rq outlives it. */
static void wake(waiter *w) {
    req_ctx *rq = w->ud;
    pthread_mutex_lock(&rq->mu);
    rq->woken = 1;
    int resume = rq->suspended;
    rq->suspended = 0;
    pthread_mutex_unlock(&rq->mu);
    /* a suspended connection cannot finish, so conn is still valid */
    if (resume)
        MHD_resume_connection(rq->conn);
    ctx_unref(rq);
}

static enum MHD_Result send_answer(req_ctx *rq, api_response *r) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->len, r->body ? r->body : (void *)"",
        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        r->body = NULL;
        return MHD_NO;
    }
    r->body = NULL; /* MHD frees it */
    if (r->type)
        MHD_add_response_header(resp, "Content-Type", r->type);
    if (r->cache)
        MHD_add_response_header(resp, "Cache-Control", r->cache);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (r->page) {
        MHD_add_response_header(
            resp, "Content-Security-Policy",
            r->page == 2 ? "default-src 'self'; img-src 'self' data:;"
                           " base-uri 'none'; form-action 'self';"
                           " frame-ancestors 'none'"
                         : "default-src 'self'; img-src 'self' data:;"
                           " base-uri 'none'; form-action 'self'");
        if (r->page == 2)
            MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    if (r->cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->cookie);
    rq->status = (unsigned)r->status;
    snprintf(rq->route, sizeof rq->route, "%s", r->route);
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(req_ctx *rq, unsigned status,
                                  const char *code, const char *msg) {
    api_response r;
    memset(&r, 0, sizeof r);
    char buf[256];
    snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
             code, msg);
    r.status = (int)status;
    r.body = strdup(buf);
    r.len = r.body ? strlen(r.body) : 0;
    r.type = "application/json; charset=utf-8";
    r.cache = "no-store";
    snprintf(r.route, sizeof r.route, "rejected");
    return send_answer(rq, &r);
}

static req_ctx *new_ctx(http *h, struct MHD_Connection *conn) {
    req_ctx *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    atomic_init(&rq->refs, 1);
    rq->conn = conn;
    rq->h = h;
    clock_gettime(CLOCK_MONOTONIC, &rq->t0);
    pthread_mutex_init(&rq->mu, NULL);
    rq->w.wake = wake;
    rq->w.ud = rq;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(rq->ip, sizeof rq->ip, "?");
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                      rq->ip, sizeof rq->ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      rq->ip, sizeof rq->ip);
    }
    return rq;
}

/* Append an upload chunk, keeping at most SRV_MAX_BODY bytes. */
static void take_body(req_ctx *rq, const char *data, size_t n) {
    if (rq->too_big)
        return;
    if (rq->len + n > SRV_MAX_BODY) {
        rq->too_big = 1;
        free(rq->body);
        rq->body = NULL;
        rq->len = 0;
        return;
    }
    char *p = realloc(rq->body, rq->len + n + 1);
    if (!p) {
        rq->too_big = 1;
        return;
    }
    memcpy(p + rq->len, data, n);
    rq->len += n;
    p[rq->len] = '\0';
    rq->body = p;
}

static const char *query_arg(void *conn, const char *name) {
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static int is_channel_path(const char *url) {
    return strcmp(url, "/wechat") == 0 || strcmp(url, "/wecom") == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    http *h = cls;
    req_ctx *rq = *con_cls;
    if (!rq) {
        rq = new_ctx(h, conn);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        /* WeChat's servers are a few addresses that speak for every
         * customer, and their requests are signed: not limited per address */
        if (!is_channel_path(url) && !ratelimit_allow(h->a->rl, rq->ip, srv_now_ms()))
            rq->limited = 1;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > SRV_MAX_BODY) {
            rq->too_big = 1; /* answer now; MHD closes the connection */
            return send_error(rq, 413, "too_big", "the request body is over 64 KiB");
        }
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(rq, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->limited)
        return send_error(rq, 429, "rate_limited", "too many requests; slow down");
    api_request q = {
        .method = method,
        .path = url,
        .after = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after"),
        .wait = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "wait"),
        .days = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "days"),
        .arg = query_arg,
        .arg_ctx = conn,
        .cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "csbot_agent"),
        .csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"),
        .body = rq->body,
        .body_len = rq->len,
        .body_too_big = rq->too_big,
        .w = rq->waited ? NULL : &rq->w,
    };
    if (rq->counted) { /* back from suspension */
        rq->counted = 0;
        atomic_fetch_sub(&h->suspended, 1);
    }
    if (q.w)
        atomic_fetch_add(&rq->refs, 1); /* the list's, if it registers */
    api_response r;
    api_handle(h->a, &q, &r);
    if (q.w && r.status != 0)
        ctx_unref(rq); /* it did not register */
    if (r.status == 0) {
        rq->waited = 1;
        rq->held = r.held;
        r.held = NULL;
        pthread_mutex_lock(&rq->mu);
        if (!rq->woken) {
            rq->suspended = 1;
            rq->counted = 1;
            atomic_fetch_add(&h->suspended, 1);
            MHD_suspend_connection(conn);
            pthread_mutex_unlock(&rq->mu);
            return MHD_YES;
        }
        pthread_mutex_unlock(&rq->mu);
        q.w = NULL; /* woken before it slept: answer now */
        api_handle(h->a, &q, &r);
    }
    enum MHD_Result ret = send_answer(rq, &r);
    api_finish(h->a, &r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode why) {
    (void)conn;
    http *h = cls;
    req_ctx *rq = *con_cls;
    if (!rq)
        return;
    if (waiters_remove(h->a->wt, &rq->w))
        ctx_unref(rq); /* the list's reference */
    if (rq->counted) {
        rq->counted = 0;
        atomic_fetch_sub(&h->suspended, 1);
    }
    if (rq->held) {
        api_response r;
        memset(&r, 0, sizeof r);
        r.held = rq->held;
        api_finish(h->a, &r);
    }
    metrics_request(h->a->m, rq->status);
    if (!h->a->quiet)
        srv_log("info", "ip=%s route=%s status=%u dur_us=%.0f%s", rq->ip,
                rq->route[0] ? rq->route : "none", rq->status,
                since(&rq->t0) * 1e6,
                why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                : why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                    ? " end=timeout"
                    : " end=aborted");
    *con_cls = NULL;
    ctx_unref(rq); /* the connection's */
}

static int parse_listen(const char *s, struct sockaddr_in *sa) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"')
            *p = '\'';
    srv_log("warn", "msg=\"libmicrohttpd: %s\"", msg);
}

int http_start(http **out, app *a, const char *listen, unsigned threads,
               unsigned timeout, char *err, size_t errlen) {
    *out = NULL;
    struct sockaddr_in sa;
    if (parse_listen(listen, &sa)) {
        snprintf(err, errlen, "--listen %s: expected IPV4:PORT", listen);
        return -1;
    }
    http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->a = a;
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 2u,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s", listen);
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : ntohs(sa.sin_port);
    *out = h;
    return 0;
}

unsigned http_port(const http *h) { return h->port; }

void http_quiesce(http *h) {
    if (h && h->d) {
        MHD_socket s = MHD_quiesce_daemon(h->d);
        if (s != MHD_INVALID_SOCKET)
            close(s); /* no new connections; those open finish */
    }
}

void http_stop(http *h) {
    if (!h)
        return;
    /* libmicrohttpd aborts if it is stopped with a connection suspended:
     * the waiters are closed and woken by now, so wait (a bounded time)
     * for the daemon to take the resumed ones back */
    for (int i = 0; i < 500 && atomic_load(&h->suspended) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h);
}
