/*
 * client.c - the outbound WeChat API with libcurl: JSON POSTs such as
 * message/custom/send and kf/send_msg, with the access token fetched once
 * (cgi-bin/token for an official account, cgi-bin/gettoken for WeCom),
 * cached, shared by every thread, and fetched again 5 minutes before it
 * expires or when WeChat says it is no longer valid. The secret and the
 * token only ever appear in the URLs handed to libcurl, never in messages.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "wx.h"

enum { MAX_RESPONSE = 1 << 20, REFRESH_EARLY_S = 300 };

struct wx_client {
    wx_kind kind;
    char *base, *appid, *secret;
    long timeout_ms;
    pthread_mutex_t mu; /* guards the token; held while fetching one */
    char token[600];
    int64_t token_expires; /* monotonic seconds */
    unsigned long fetches;
    wx_token_cache share; /* share.get NULL: the token is this process's */
    long shared_life;     /* what fetch_token puts there (ms) */
};

static int64_t mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}


wx_client *wx_client_new(wx_kind kind, const char *base, const char *appid,
                         const char *secret, long timeout_ms) {
    wx_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = kind;
    c->base = strdup(base ? base : "");
    c->appid = strdup(appid ? appid : "");
    c->secret = strdup(secret ? secret : "");
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    pthread_mutex_init(&c->mu, NULL);
    if (!c->base || !c->appid || !c->secret) {
        wx_client_free(c);
        return NULL;
    }
    /* "https://host/" and "https://host" name the same base */
    size_t n = strlen(c->base);
    while (n && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    return c;
}

void wx_client_free(wx_client *c) {
    if (!c)
        return;
    free(c->base);
    free(c->appid);
    if (c->secret) /* the secret does not linger in freed memory */
        memset(c->secret, 0, strlen(c->secret));
    free(c->secret);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

unsigned long wx_client_token_fetches(wx_client *c) {
    pthread_mutex_lock(&c->mu);
    unsigned long n = c->fetches;
    pthread_mutex_unlock(&c->mu);
    return n;
}

typedef struct body {
    char *p;
    size_t n;
    int over;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    body *b = ud;
    size_t n = size * nmemb;
    if (b->n + n > MAX_RESPONSE) {
        b->over = 1;
        return 0;
    }
    char *q = realloc(b->p, b->n + n + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, ptr, n);
    b->n += n;
    q[b->n] = '\0';
    b->p = q;
    return n;
}

/* GET (json NULL) or POST url; the parsed JSON answer, or NULL with err. */
static cJSON *http_json(wx_client *c, const char *url, const char *json,
                        char *err, size_t errlen) {
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    body b = {0};
    struct curl_slist *hdr = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    if (json) {
        hdr = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    cJSON *o = NULL;
    /* libcurl's messages name the host at most, never the query */
    if (rc != CURLE_OK)
        snprintf(err, errlen, "%s", b.over ? "answer too big"
                                   : *ebuf ? ebuf
                                           : curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(err, errlen, "HTTP status %ld", status);
    else if (!(o = cJSON_ParseWithLength(b.p ? b.p : "", b.n)) || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        o = NULL;
        snprintf(err, errlen, "the answer is not a JSON object");
    }
    free(b.p);
    return o;
}

static long errcode_of(const cJSON *o) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "errcode");
    return cJSON_IsNumber(e) ? (long)e->valuedouble : 0;
}

static void errmsg_of(const cJSON *o, long code, char *err, size_t errlen) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "errmsg");
    snprintf(err, errlen, "WeChat error %ld: %s", code,
             cJSON_IsString(m) ? m->valuestring : "(no message)");
}

/* Fetch a token (c->mu held). */
static int fetch_token(wx_client *c, long *errcode, char *err, size_t errlen) {
    char *ea = curl_easy_escape(NULL, c->appid, 0);
    char *es = curl_easy_escape(NULL, c->secret, 0);
    size_t n = strlen(c->base) + (ea ? strlen(ea) : 0) + (es ? strlen(es) : 0) + 96;
    char *url = ea && es ? malloc(n) : NULL;
    int rc = -1;
    *errcode = -1;
    if (!url) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (c->kind == WX_WECOM)
        snprintf(url, n, "%s/cgi-bin/gettoken?corpid=%s&corpsecret=%s", c->base, ea, es);
    else
        snprintf(url, n, "%s/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s",
                 c->base, ea, es);
    cJSON *o = http_json(c, url, NULL, err, errlen);
    if (o) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "access_token");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
        long code = errcode_of(o);
        if (code) {
            *errcode = code;
            errmsg_of(o, code, err, errlen);
        } else if (!cJSON_IsString(t) || !*t->valuestring ||
                   strlen(t->valuestring) >= sizeof c->token) {
            snprintf(err, errlen, "the token answer has no access_token");
        } else {
            double life = cJSON_IsNumber(x) ? x->valuedouble : 7200;
            if (life > 86400 * 30)
                life = 86400 * 30;
            snprintf(c->token, sizeof c->token, "%s", t->valuestring);
            /* used until 5 minutes before it expires (or half its life) */
            int64_t early = life > 2 * REFRESH_EARLY_S ? REFRESH_EARLY_S : (int64_t)life / 2;
            c->token_expires = mono_s() + (int64_t)life - early;
            c->shared_life = (long)(life - (double)early) * 1000;
            c->fetches++;
            rc = 0;
        }
        cJSON_Delete(o);
    }
done:
    if (url)
        memset(url, 0, n);
    free(url);
    curl_free(ea);
    if (es)
        memset(es, 0, strlen(es));
    curl_free(es);
    return rc;
}

/* The shared token, if there is one other than rejected (c->mu held). */
static int take_shared(wx_client *c, const char *rejected) {
    char buf[sizeof c->token];
    long ttl = 0;
    if (c->share.get(c->share.ud, buf, sizeof buf, &ttl) != 0 || ttl <= 1000 ||
        (rejected && strcmp(rejected, buf) == 0))
        return -1;
    snprintf(c->token, sizeof c->token, "%s", buf);
    c->token_expires = mono_s() + ttl / 1000;
    return 0;
}

/* A new token when several processes share one: the one that holds the
 * lock fetches and stores it; the others wait for it (up to 3 s, then
 * fetch their own). */
static int fetch_shared(wx_client *c, const char *rejected, long *errcode,
                        char *err, size_t errlen) {
    for (int i = 0; i < 30; i++) {
        if (take_shared(c, rejected) == 0)
            return 0;
        if (c->share.lock(c->share.ud, 1) == 1) {
            int rc = take_shared(c, rejected) == 0 ? 0
                                                   : fetch_token(c, errcode, err, errlen);
            /* (if storing it fails, the others fetch their own) */
            if (rc == 0)
                c->share.put(c->share.ud, c->token, c->shared_life);
            c->share.lock(c->share.ud, 0);
            return rc;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return fetch_token(c, errcode, err, errlen);
}

/* The current token into buf (fetched if missing, stale, or equal to
 * rejected, the one WeChat just refused). */
static int get_token(wx_client *c, const char *rejected, char *buf, size_t size,
                     long *errcode, char *err, size_t errlen) {
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    if (!c->token[0] || mono_s() >= c->token_expires ||
        (rejected && strcmp(rejected, c->token) == 0))
        rc = c->share.get ? fetch_shared(c, rejected, errcode, err, errlen)
                          : fetch_token(c, errcode, err, errlen);
    if (!rc)
        snprintf(buf, size, "%s", c->token);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void wx_client_share_token(wx_client *c, const wx_token_cache *tc) {
    pthread_mutex_lock(&c->mu);
    c->share = *tc;
    pthread_mutex_unlock(&c->mu);
}

static int token_refused(long code) {
    return code == 40001 || code == 40014 || code == 42001;
}

int wx_client_post(wx_client *c, const char *path, const char *json,
                   cJSON **resp, long *errcode, char *err, size_t errlen) {
    if (resp)
        *resp = NULL;
    *errcode = -1;
    char token[600];
    const char *rejected = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (get_token(c, rejected, token, sizeof token, errcode, err, errlen)) {
            /* say it was the token: the call itself was never made */
            char why[256];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errlen, "cannot get the access token: %s", why);
            return -1;
        }
        size_t n = strlen(c->base) + strlen(path) + strlen(token) + 32;
        char *url = malloc(n);
        if (!url) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        snprintf(url, n, "%s%s?access_token=%s", c->base, path, token);
        cJSON *o = http_json(c, url, json, err, errlen);
        free(url);
        if (!o) {
            *errcode = -1;
            return -1;
        }
        long code = errcode_of(o);
        if (code == 0) {
            *errcode = 0;
            if (resp)
                *resp = o;
            else
                cJSON_Delete(o);
            return 0;
        }
        *errcode = code;
        errmsg_of(o, code, err, errlen);
        cJSON_Delete(o);
        if (!token_refused(code))
            return -1;
        /* a token refused: fetch another (unless a thread already did)
         * and try once more */
        rejected = token;
    }
    return -1;
}
