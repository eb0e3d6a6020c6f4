/*
 * wechat.c - fuzzes the WeChat channels of csbot-server: the protocol
 * module wechat/ (XML, AES) alone, and the official account (/wechat) and
 * WeCom (/wecom) through api_handle() on one application object set up
 * once like fuzz/server_api.c (a temporary database, a copy of
 * intents/demo.json or $CSBOT_FUZZ_KB, both channels opened from
 * configurations written to the temporary directory: the official account
 * in compat mode, a 2 s reply budget, api_base http://127.0.0.1:9 so that
 * every outbound call fails at once).
 *
 * Input: byte 0 the selector (low 3 bits) and flags, the rest the payload.
 *   0  the payload is a document for wx_xml_parse(); a parsed message's
 *      fields go through wx_xml_text/_transfer/_encrypted and back
 *   1  wx_decrypt() of the payload as base64 text, of its base64, of its
 *      base64 after AES-256-CBC with the key (arbitrary plaintexts for the
 *      padding and length checks), and the wx_encrypt() round trip
 *   2  the payload is the XML body of a POST /wechat whose signature the
 *      harness computes (timestamp now), read as plaintext
 *   3  the same body encrypted by the harness with the account's key and
 *      AppID into an <Encrypt> envelope, msg_signature and encrypt_type=aes
 *   4  the same for /wecom (always encrypted, the CorpID)
 *   5..7 as 2..4
 * Flags: 0x08 GET (URL verification: the payload is the echostr; WeCom's
 * encrypted), 0x10 the request is sent twice (WeChat's retry: the second
 * answer must be the first's), 0x20 handoffs route to WeChat's own
 * customer service instead of the console.
 *
 * Each input's FromUserName and MsgId get a prefix unique to the input, so
 * that the dedup cache (keys live 60 s) and the one conversation per user
 * carry nothing from one input to the next; the harness waits for the
 * channels' workers to finish each input's jobs (-Wl,--wrap=ch_submit,
 * wechat_job, wecom_job count them) before it returns. srv_log is silenced
 * (--wrap=srv_log; CSBOT_FUZZ_LOG=1 prints it).
 *
 * Checks: every status in 100..599, a body of the length said, every
 * response released with api_finish(); a passive XML reply parses, is
 * addressed to the sender, and when the request was encrypted is an
 * envelope with a correct MsgSignature that decrypts with the AppID; an
 * echo is the echostr; a retry gets the same answer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "api.h"
#include "channel.h"
#include "channel_int.h"
#define CSBOT_FUZZ_SERVER /* common.h's application set-up */
#include "common.h"
#include "wx.h"


/* --- the channels' jobs, counted; the log, silenced ----------------------- */

int __real_ch_submit(channel *ch, ch_job *j);
int __wrap_ch_submit(channel *ch, ch_job *j);
void __real_wechat_job(channel *ch, ch_job *j);
void __wrap_wechat_job(channel *ch, ch_job *j);
void __real_wecom_job(channel *ch, ch_job *j);
void __wrap_wecom_job(channel *ch, ch_job *j);
void __wrap_srv_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static atomic_ulong submitted, finished;
static int log_on;

int __wrap_ch_submit(channel *ch, ch_job *j) {
    atomic_fetch_add(&submitted, 1);
    int rc = __real_ch_submit(ch, j);
    if (rc)
        atomic_fetch_sub(&submitted, 1);
    return rc;
}

void __wrap_wechat_job(channel *ch, ch_job *j) {
    __real_wechat_job(ch, j);
    atomic_fetch_add(&finished, 1);
}

void __wrap_wecom_job(channel *ch, ch_job *j) {
    __real_wecom_job(ch, j);
    atomic_fetch_add(&finished, 1);
}

void __wrap_srv_log(const char *level, const char *fmt, ...) {
    if (!log_on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "level=%s ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every job submitted so far has run (a job that never ends is a bug). */
static void wait_jobs(void) {
    int64_t until = mono_ms() + 20000;
    while (atomic_load(&finished) != atomic_load(&submitted)) {
        if (mono_ms() > until) {
            fprintf(stderr, "fuzz: a channel job did not finish in 20 s\n");
            abort();
        }
        struct timespec d = {0, 200000};
        nanosleep(&d, NULL);
    }
}

/* --- set-up ---------------------------------------------------------------- */

static app A;
static unsigned char KEY[WX_KEY_LEN], WC_KEY[WX_KEY_LEN];

static const char TOKEN[] = "fuzzToken2024";
static const char AES_KEY[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
static const char APPID[] = "wx5823bf96d3bd56c7";
static const char WC_TOKEN[] = "QDG6eK";
static const char WC_AES_KEY[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
static const char CORPID[] = "wx5823bf96d3bd56c7";
static const char NONCE[] = "1372623149";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    log_on = getenv("CSBOT_FUZZ_LOG") != NULL;
    fuzz_srv_app(&A, "csbot-fuzz-wx");
    char conf[1024];
    snprintf(conf, sizeof conf,
             "{\"token\":\"%s\",\"aes_key\":\"%s\",\"appid\":\"%s\",\"secret\":\"s3cret\","
             "\"mode\":\"compat\",\"reply_budget_ms\":2000,\"kf_account\":\"kf2001@gh_test\","
             "\"api_base\":\"http://127.0.0.1:9\"}",
             TOKEN, AES_KEY, APPID);
    const char *oa_conf = fuzz_srv_file("wechat.json", conf);
    snprintf(conf, sizeof conf,
             "{\"token\":\"%s\",\"aes_key\":\"%s\",\"corpid\":\"%s\",\"secret\":\"kfs3cret\","
             "\"reply_budget_ms\":2000,\"servicer\":\"zhangsan\","
             "\"api_base\":\"http://127.0.0.1:9\"}",
             WC_TOKEN, WC_AES_KEY, CORPID);
    const char *wc_conf = fuzz_srv_file("wecom.json", conf);
    FUZZ_CHECK(wx_key_decode(AES_KEY, KEY) == 0);
    FUZZ_CHECK(wx_key_decode(WC_AES_KEY, WC_KEY) == 0);

    wx_global_init();
    char cerr[512] = "";
    if (channel_open(&A.wechat, &A, CH_WECHAT, oa_conf, cerr, sizeof cerr) ||
        channel_open(&A.wecom, &A, CH_WECOM, wc_conf, cerr, sizeof cerr)) {
        fprintf(stderr, "fuzz: channel_open: %s\n", cerr);
        exit(1);
    }
    return 0;
}

/* --- requests -------------------------------------------------------------- */

enum { MAX_ARGS = 8 };
typedef struct args {
    size_t n;
    const char *name[MAX_ARGS], *value[MAX_ARGS];
} args;

static void arg_set(args *q, const char *name, const char *value) {
    FUZZ_CHECK(q->n < MAX_ARGS);
    q->name[q->n] = name;
    q->value[q->n++] = value;
}

static const char *arg_get(void *ctx, const char *name) {
    const args *q = ctx;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0)
            return q->value[i];
    return NULL;
}

/* One answer, checked and released: status, and a malloc'd copy of the
 * body (NULL: none). */
static int request(const char *method, const char *path, args *q,
                   const char *body, size_t blen, char **copy) {
    api_request rq = {.method = method, .path = path, .body = blen ? body : NULL,
                      .body_len = blen, .arg = arg_get, .arg_ctx = q};
    api_response r;
    api_handle(&A, &rq, &r);
    FUZZ_CHECK(r.status >= 100 && r.status <= 599);
    FUZZ_CHECK(r.held == NULL);
    *copy = NULL;
    if (r.body) {
        FUZZ_CHECK(r.type != NULL);
        FUZZ_CHECK(strlen(r.body) == r.len);
        *copy = malloc(r.len + 1);
        FUZZ_CHECK(*copy != NULL);
        memcpy(*copy, r.body, r.len + 1);
    } else {
        FUZZ_CHECK(r.len == 0);
    }
    if (log_on)
        fprintf(stderr, "fuzz: %s %s -> %d %.300s\n", method, path, r.status,
                r.body ? r.body : "");
    int status = r.status;
    api_finish(&A, &r);
    FUZZ_CHECK(r.body == NULL && r.held == NULL);
    return status;
}

static void signature(const char *const *parts, size_t n, char out[41]) {
    FUZZ_CHECK(wx_signature(parts, n, out) == 0);
}

/* Encrypt with a fixed random prefix: the same input, the same request. */
static char *encrypt_msg(const unsigned char *key, const char *appid,
                         const char *msg, size_t len) {
    static const unsigned char rnd[16] = "0123456789abcdef";
    char *enc = NULL;
    FUZZ_CHECK(wx_encrypt(key, appid, msg, len, rnd, &enc) == 0);
    return enc;
}

static char *envelope(const char *to, const char *enc) {
    size_t n = strlen(enc) + strlen(to) + 128;
    char *b = malloc(n);
    FUZZ_CHECK(b != NULL);
    snprintf(b, n,
             "<xml><ToUserName><![CDATA[%s]]></ToUserName>"
             "<Encrypt><![CDATA[%s]]></Encrypt></xml>",
             to, enc);
    return b;
}

/* The copy of p[0..n) with prefix inserted after every "<FromUserName>"
 * and "<MsgId>": each input is a new user with new message ids. */
static char *unique_ids(const uint8_t *p, size_t n, const char *prefix,
                        size_t *out_len) {
    static const char *const tags[] = {"<FromUserName>", "<MsgId>"};
    size_t plen = strlen(prefix), cap = n + 1, hits = 0;
    for (size_t i = 0; i < n; i++)
        for (int t = 0; t < 2; t++) {
            size_t tl = strlen(tags[t]);
            if (n - i >= tl && memcmp(p + i, tags[t], tl) == 0)
                hits++;
        }
    cap += hits * plen;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        int hit = 0;
        for (int t = 0; t < 2 && !hit; t++) {
            size_t tl = strlen(tags[t]);
            if (n - i >= tl && memcmp(p + i, tags[t], tl) == 0) {
                memcpy(out + j, tags[t], tl);
                memcpy(out + j + tl, prefix, plen);
                j += tl + plen;
                i += tl;
                hit = 1;
            }
        }
        if (!hit)
            out[j++] = (char)p[i++];
    }
    out[j] = '\0';
    *out_len = j;
    return out;
}

/* The plaintext of an encrypted passive reply, checked (malloc'd). */
static char *open_reply(const char *xml, const char *token,
                        const unsigned char *key, const char *appid) {
    wx_fields *f = NULL;
    char err[200];
    if (wx_xml_parse(xml, strlen(xml), &f, err, sizeof err)) {
        fprintf(stderr, "encrypted reply does not parse (%s): %.2000s\n", err, xml);
        abort();
    }
    const char *enc = wx_field(f, "Encrypt"), *sig = wx_field(f, "MsgSignature");
    const char *ts = wx_field(f, "TimeStamp"), *nonce = wx_field(f, "Nonce");
    FUZZ_CHECK(enc && sig && ts && nonce);
    const char *parts[] = {token, ts, nonce, enc};
    FUZZ_CHECK(wx_signature_ok(sig, parts, 4));
    char *msg, *id;
    size_t len;
    FUZZ_CHECK(wx_decrypt(key, enc, &msg, &len, &id) == 0);
    FUZZ_CHECK(strcmp(id, appid) == 0 && strlen(msg) == len);
    free(id);
    wx_fields_free(f);
    return msg;
}

/* Whether got is want as XML reads it back: a CR (written raw in CDATA,
 * say from a &#13; in the request) comes back as LF, CR LF as LF. */
static int same_text(const char *got, const char *want) {
    if (!got || !want)
        return 0;
    for (;;) {
        char w = *want;
        if (w == '\r') {
            w = '\n';
            if (want[1] == '\n')
                want++;
        }
        if (*got != w)
            return 0;
        if (!w)
            return 1;
        got++;
        want++;
    }
}

/* A passive reply to the message in plain[0..len): an <xml> addressed back. */
static void check_passive(const char *reply, const char *plain, size_t len) {
    wx_fields *in = NULL, *out = NULL;
    char err[200];
    if (wx_xml_parse(reply, strlen(reply), &out, err, sizeof err)) {
        fprintf(stderr, "passive reply does not parse (%s): %.2000s\n", err, reply);
        abort();
    }
    FUZZ_CHECK(wx_xml_parse(plain, len, &in, err, sizeof err) == 0);
    const char *type = wx_field(out, "MsgType");
    FUZZ_CHECK(type && (strcmp(type, "text") == 0 ||
                        strcmp(type, "transfer_customer_service") == 0));
    FUZZ_CHECK(same_text(wx_field(out, "ToUserName"), wx_field(in, "FromUserName")));
    FUZZ_CHECK(same_text(wx_field(out, "FromUserName"), wx_field(in, "ToUserName")));
    wx_fields_free(in);
    wx_fields_free(out);
}

static unsigned long iterations;

/* POST (or GET) /wechat; enc: the body in an encrypted envelope. */
static void official(const uint8_t *p, size_t n, int enc, int get, int twice) {
    channel *ch = A.wechat;
    char ts[24], sig[41], msig[41], prefix[32];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    const char *parts[] = {TOKEN, ts, NONCE};
    signature(parts, 3, sig);
    args q = {0};
    arg_set(&q, "signature", sig);
    arg_set(&q, "timestamp", ts);
    arg_set(&q, "nonce", NONCE);
    arg_set(&q, "openid", "oFuzzOpenId");
    if (get) {
        char *echo = malloc(n + 1);
        FUZZ_CHECK(echo != NULL);
        memcpy(echo, p, n);
        echo[n] = '\0';
        arg_set(&q, "echostr", echo);
        char *body;
        int st = request("GET", "/wechat", &q, NULL, 0, &body);
        FUZZ_CHECK(st == 200 && body && strcmp(body, echo) == 0);
        free(body);
        free(echo);
        return;
    }
    snprintf(prefix, sizeof prefix, "%lu.", iterations);
    size_t plen;
    char *plain = unique_ids(p, n, prefix, &plen);
    char *body = plain, *encd = NULL;
    size_t blen = plen;
    if (enc) {
        encd = encrypt_msg(KEY, APPID, plain, plen);
        const char *mparts[] = {TOKEN, ts, NONCE, encd};
        signature(mparts, 4, msig);
        arg_set(&q, "encrypt_type", "aes");
        arg_set(&q, "msg_signature", msig);
        body = envelope("gh_fuzz", encd);
        blen = strlen(body);
    }
    char *first = NULL;
    int st0 = 0;
    int64_t t0 = mono_ms();
    for (int k = 0; k < (twice ? 2 : 1); k++) {
        char *ans;
        int st = request("POST", "/wechat", &q, body, blen, &ans);
        FUZZ_CHECK(ans != NULL);
        char *text = ans;
        if (st == 200 && strcmp(ans, "success") != 0) {
            if (enc)
                text = open_reply(ans, TOKEN, KEY, APPID);
            check_passive(text, plain, plen);
        }
        if (k == 0) {
            st0 = st;
            first = text == ans ? ans : text;
            if (text != ans)
                free(ans);
            /* a first answer that gave up waiting changes the second */
            if (mono_ms() - t0 >= ch->budget_ms)
                twice = 0;
        } else {
            if (st != st0 || strcmp(text, first) != 0) {
                fprintf(stderr, "retry answered %d %.500s, first %d %.500s\n", st,
                        text, st0, first);
                abort();
            }
            if (text != ans)
                free(text);
            free(ans);
        }
    }
    free(first);
    if (enc)
        free(body);
    free(encd);
    free(plain);
}

/* POST (or GET) /wecom: always encrypted with the CorpID. */
static void wecom(const uint8_t *p, size_t n, int get, int twice) {
    char ts[24], msig[41];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    char *plain = malloc(n + 1);
    FUZZ_CHECK(plain != NULL);
    memcpy(plain, p, n);
    plain[n] = '\0';
    char *encd = encrypt_msg(WC_KEY, CORPID, plain, n);
    const char *mparts[] = {WC_TOKEN, ts, NONCE, encd};
    signature(mparts, 4, msig);
    args q = {0};
    arg_set(&q, "msg_signature", msig);
    arg_set(&q, "timestamp", ts);
    arg_set(&q, "nonce", NONCE);
    char *ans;
    if (get) {
        arg_set(&q, "echostr", encd);
        int st = request("GET", "/wecom", &q, NULL, 0, &ans);
        if (memchr(plain, '\0', n))
            FUZZ_CHECK(st == 403);
        else
            FUZZ_CHECK(st == 200 && ans && strcmp(ans, plain) == 0);
        free(ans);
    } else {
        char *body = envelope("ww_fuzz", encd);
        for (int k = 0; k < (twice ? 2 : 1); k++) {
            int st = request("POST", "/wecom", &q, body, strlen(body), &ans);
            FUZZ_CHECK(ans != NULL);
            if (st == 200)
                FUZZ_CHECK(strcmp(ans, "success") == 0);
            free(ans);
        }
        free(body);
    }
    free(encd);
    free(plain);
}

/* --- the protocol module alone ------------------------------------------- */

static const char *const FIELDS[] = {
    "ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
    "Event", "EventKey", "Encrypt", "Recognition", "MediaId", "PicUrl",
    "Token", "OpenKfId", "Format", "Ticket", NULL};

static const char *or_empty(const char *s) { return s ? s : ""; }

/* Whether the writer's output of text reads back as text (same_text: XML
 * turns a CR into LF; the parser cannot have produced anything else that
 * the writer changes). */
static void roundtrip(const char *xml, const char *name, const char *want) {
    FUZZ_CHECK(xml != NULL);
    wx_fields *f = NULL;
    char err[200];
    if (wx_xml_parse(xml, strlen(xml), &f, err, sizeof err)) {
        fprintf(stderr, "written XML does not parse (%s): %.2000s\n", err, xml);
        abort();
    }
    const char *got = wx_field(f, name);
    if (!same_text(got, want)) {
        fprintf(stderr, "%s written as \"%.500s\" reads back as \"%.500s\"\n", name,
                want, got ? got : "(none)");
        abort();
    }
    wx_fields_free(f);
}

static void fuzz_xml(const uint8_t *p, size_t n) {
    wx_fields *f = NULL;
    char err[200] = "";
    if (wx_xml_parse((const char *)p, n, &f, err, sizeof err)) {
        FUZZ_CHECK(f == NULL && strlen(err) < sizeof err);
        return;
    }
    FUZZ_CHECK(f != NULL);
    for (int i = 0; FIELDS[i]; i++) {
        const char *v = wx_field(f, FIELDS[i]);
        if (v)
            (void)strlen(v);
    }
    const char *to = or_empty(wx_field(f, "ToUserName"));
    const char *from = or_empty(wx_field(f, "FromUserName"));
    const char *content = or_empty(wx_field(f, "Content"));
    char *x = wx_xml_text(from, to, 1700000000, content);
    roundtrip(x, "Content", content);
    roundtrip(x, "ToUserName", from);
    free(x);
    x = wx_xml_transfer(from, to, 1700000000, wx_field(f, "EventKey"));
    roundtrip(x, "FromUserName", to);
    free(x);
    x = wx_xml_encrypted(or_empty(wx_field(f, "Encrypt")), content, -1, from);
    roundtrip(x, "Nonce", from);
    free(x);
    wx_fields_free(f);
}

static void check_decrypt(const unsigned char *key, const char *b64) {
    char *msg = NULL, *appid = NULL;
    size_t len = 0;
    if (wx_decrypt(key, b64, &msg, &len, &appid)) {
        FUZZ_CHECK(msg == NULL && appid == NULL);
        return;
    }
    FUZZ_CHECK(msg && appid && msg[len] == '\0' && len <= strlen(b64));
    (void)strlen(appid);
    free(msg);
    free(appid);
}

static char *base64(const unsigned char *p, size_t n) {
    char *b = malloc(4 * ((n + 2) / 3) + 1);
    FUZZ_CHECK(b != NULL);
    EVP_EncodeBlock((unsigned char *)b, p, (int)n);
    return b;
}

static void fuzz_crypt(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    check_decrypt(KEY, s);
    char *b = base64(p, n);
    check_decrypt(KEY, b);
    free(b);
    /* the payload as the plaintext, zero-padded to AES blocks (32 at least) */
    size_t clen = n < 32 ? 32 : (n + 15) / 16 * 16;
    unsigned char *pt = calloc(1, clen), *ct = malloc(clen);
    FUZZ_CHECK(pt && ct);
    memcpy(pt, p, n);
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    FUZZ_CHECK(cx && EVP_EncryptInit_ex(cx, EVP_aes_256_cbc(), NULL, KEY, KEY) &&
               EVP_CIPHER_CTX_set_padding(cx, 0) &&
               EVP_EncryptUpdate(cx, ct, &n1, pt, (int)clen) &&
               EVP_EncryptFinal_ex(cx, ct + n1, &n2) && (size_t)(n1 + n2) == clen);
    EVP_CIPHER_CTX_free(cx);
    b = base64(ct, clen);
    char *msg = NULL, *appid = NULL;
    size_t len = 0;
    if (wx_decrypt(KEY, b, &msg, &len, &appid) == 0) {
        /* it is what the plaintext says */
        size_t pad = pt[clen - 1];
        FUZZ_CHECK(pad >= 1 && pad <= 32 && clen - pad >= 20 + len);
        FUZZ_CHECK(memcmp(msg, pt + 20, len) == 0 && msg[len] == '\0');
        size_t alen = clen - pad - 20 - len;
        FUZZ_CHECK(strlen(appid) == alen && memcmp(appid, pt + 20 + len, alen) == 0);
        free(msg);
        free(appid);
    }
    free(b);
    free(pt);
    free(ct);
    /* the round trip, with an AppID from the payload's first bytes */
    if (n > WX_MAX_XML / 2) {
        free(s);
        return;
    }
    char id[64];
    size_t idn = n ? p[0] % sizeof id : 0;
    if (idn > n)
        idn = n;
    for (size_t i = 0; i < idn; i++)
        id[i] = p[i] ? (char)p[i] : 'x';
    id[idn] = '\0';
    char *enc = NULL;
    FUZZ_CHECK(wx_encrypt(KEY, id, s, n, NULL, &enc) == 0);
    FUZZ_CHECK(wx_decrypt(KEY, enc, &msg, &len, &appid) == 0);
    FUZZ_CHECK(len == n && memcmp(msg, s, n) == 0 && strcmp(appid, id) == 0);
    free(msg);
    free(appid);
    free(enc);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int sel = data[0] & 7;
    if (sel >= 5)
        sel -= 3;
    int get = (data[0] >> 3) & 1, twice = (data[0] >> 4) & 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    iterations++;
    A.wechat->route = (data[0] & 0x20) ? ROUTE_WECHAT : ROUTE_CONSOLE;
    A.wecom->route = A.wechat->route;
    switch (sel) {
    case 0: fuzz_xml(p, n); break;
    case 1: fuzz_crypt(p, n); break;
    case 2: official(p, n, 0, get, twice); break;
    case 3: official(p, n, 1, get, twice); break;
    default: wecom(p, n, get, twice); break;
    }
    /* the input's work is done before the next input starts */
    wait_jobs();
    /* dedup keys live 60 s: a fresh cache once it fills (no job runs now) */
    if (wx_dedup_count(A.wechat->dd) > 2048) {
        wx_dedup_free(A.wechat->dd);
        A.wechat->dd = wx_dedup_new(4096, 60000);
        FUZZ_CHECK(A.wechat->dd != NULL);
    }
    /* what main.c's loop does now and then, and keep memory bounded */
    if (iterations % 64 == 0)
        convs_evict(A.cv, -1000);
    if (iterations % 256 == 0)
        store_checkpoint(A.st, NULL);
    return 0;
}
