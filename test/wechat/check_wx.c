/*
 * check_wx.c - tests of the WeChat protocol module (wechat/): signatures and
 * AES against the known-answer vectors published with WeChat's sample code
 * (WXBizMsgCrypt) and its documentation, XML reading and writing with
 * hostile documents, and the dedup cache's handling of retries.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "wx.h"

/* --- vectors --------------------------------------------------------------- */

/* WeCom sample (weworkapi Sample.php): token QDG6eK */
#define QDG_TOKEN "QDG6eK"
#define QDG_CORP "wx5823bf96d3bd56c7"
#define QDG_KEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
#define QDG_ECHO "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
#define QDG_MSG                                                                \
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
#define QDG_PLAIN                                                              \
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"           \
    "<FromUserName><![CDATA[mycreate]]></FromUserName>\n"                      \
    "<CreateTime>1409659813</CreateTime>\n"                                    \
    "<MsgType><![CDATA[text]]></MsgType>\n"                                    \
    "<Content><![CDATA[hello]]></Content>\n"                                   \
    "<MsgId>4561255354251345929</MsgId>\n"                                     \
    "<AgentID>218</AgentID>\n"                                                 \
    "</xml>"

/* Official account (the Python Sample.py): token spamtest */
#define SPAM_KEY "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
#define SPAM_APPID "wx2c2769f8efd9abc2"
#define SPAM_MSG                                                               \
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
#define SPAM_PLAIN                                                             \
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"              \
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"  \
    "<CreateTime>1409735668</CreateTime>\n"                                    \
    "<MsgType><![CDATA[text]]></MsgType>\n"                                    \
    "<Content><![CDATA[abcdteT]]></Content>\n"                                 \
    "<MsgId>6054768590064713728</MsgId>\n"                                     \
    "</xml>"

START_TEST(signatures) {
    /* WeCom VerifyURL and DecryptMsg */
    const char *v[] = {QDG_TOKEN, "1409659589", "263014780", QDG_ECHO};
    ck_assert(wx_signature_ok("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", v, 4));
    const char *m[] = {QDG_TOKEN, "1409659813", "1372623149", QDG_MSG};
    ck_assert(wx_signature_ok("477715d11cdb4164915debcba66cb864d751f3e6", m, 4));
    /* the official account's sample */
    const char *s[] = {"spamtest", "1409735669", "1320562132", SPAM_MSG};
    ck_assert(wx_signature_ok("5d197aaffba7e9b25a30732f161a50dee96bd5fa", s, 4));
    /* plain mode, from the encryption documentation: order does not matter */
    const char *p[] = {"486452656", "AAAAA", "1714037059"};
    char out[41];
    ck_assert_int_eq(wx_signature(p, 3, out), 0);
    ck_assert_str_eq(out, "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    /* one changed character, wrong length, upper case, NULL */
    ck_assert(!wx_signature_ok("899cf89e464efb63f54ddac96b0a0a235f53aa79", p, 3));
    ck_assert(!wx_signature_ok("899cf89e464efb63f54ddac96b0a0a235f53aa7", p, 3));
    ck_assert(!wx_signature_ok("899CF89E464EFB63F54DDAC96B0A0A235F53AA78", p, 3));
    ck_assert(!wx_signature_ok(NULL, p, 3));
    const char *q[] = {"AAAAA", NULL};
    ck_assert_int_eq(wx_signature(q, 2, out), -1);
}
END_TEST

START_TEST(key_decode) {
    unsigned char k[32];
    ck_assert_int_eq(wx_key_decode(QDG_KEY, k), 0);
    static const unsigned char want[4] = {0x8d, 0x69, 0x98, 0x9b};
    ck_assert_mem_eq(k, want, 4);
    ck_assert_int_eq(k[31], 0x60);
    ck_assert_int_eq(wx_key_decode("short", k), -1);
    ck_assert_int_eq(wx_key_decode("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2+", k), -1);
    ck_assert_int_eq(wx_key_decode(NULL, k), -1);
}
END_TEST

static void decrypts_to(const char *key, const char *b64, const char *plain,
                        const char *appid) {
    unsigned char k[32];
    char *msg, *id;
    size_t len;
    ck_assert_int_eq(wx_key_decode(key, k), 0);
    ck_assert_int_eq(wx_decrypt(k, b64, &msg, &len, &id), 0);
    ck_assert_uint_eq(len, strlen(plain));
    ck_assert_str_eq(msg, plain);
    ck_assert_str_eq(id, appid);
    free(msg);
    free(id);
}

START_TEST(decrypt_vectors) {
    decrypts_to(QDG_KEY, QDG_ECHO, "1616140317555161061", QDG_CORP);
    decrypts_to(QDG_KEY, QDG_MSG, QDG_PLAIN, QDG_CORP); /* pad 30 */
    decrypts_to(SPAM_KEY, SPAM_MSG, SPAM_PLAIN, SPAM_APPID);
    decrypts_to("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
                "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
                "1288432023552776189", "ww1436e0e65a779aee");
}
END_TEST

START_TEST(encrypt_vector) {
    /* the official Java test: a fixed random string */
    unsigned char k[32];
    char *out;
    ck_assert_int_eq(wx_key_decode(SPAM_KEY, k), 0);
    const char *msg = "我是中文abcd123";
    ck_assert_int_eq(wx_encrypt(k, "wxb11529c136998cb6", msg, strlen(msg),
                                (const unsigned char *)"aaaabbbbccccdddd", &out), 0);
    ck_assert_str_eq(out, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==");
    free(out);
}
END_TEST

START_TEST(round_trip_and_tampering) {
    unsigned char k[32];
    ck_assert_int_eq(wx_key_decode(QDG_KEY, k), 0);
    /* every length around the 32-byte blocks */
    for (size_t n = 0; n < 100; n++) {
        char buf[100];
        memset(buf, 'x', n);
        char *b64, *msg, *id;
        size_t len;
        ck_assert_int_eq(wx_encrypt(k, "wxapp", buf, n, NULL, &b64), 0);
        ck_assert_int_eq(wx_decrypt(k, b64, &msg, &len, &id), 0);
        ck_assert_uint_eq(len, n);
        ck_assert_mem_eq(msg, buf, n);
        ck_assert_str_eq(id, "wxapp");
        free(msg);
        free(id);
        /* a flipped character in the last block breaks the padding or
         * the AppID; what must not happen is a crash or a wrong length */
        size_t bl = strlen(b64);
        b64[bl - 6] = b64[bl - 6] == 'A' ? 'B' : 'A';
        if (wx_decrypt(k, b64, &msg, &len, &id) == 0) {
            ck_assert_uint_le(len, 100);
            free(msg);
            free(id);
        }
        free(b64);
    }
    char *msg, *id;
    size_t len;
    ck_assert_int_eq(wx_decrypt(k, "", &msg, &len, &id), -1);
    ck_assert_int_eq(wx_decrypt(k, "abc", &msg, &len, &id), -1);
    ck_assert_int_eq(wx_decrypt(k, "!!!!", &msg, &len, &id), -1);
    ck_assert_int_eq(wx_decrypt(k, "AAAAAAAAAAAAAAAAAAAAAA==", &msg, &len, &id), -1);
    ck_assert_ptr_null(msg);
    /* the other key: the padding check refuses (or the AppID differs) */
    unsigned char k2[32];
    ck_assert_int_eq(wx_key_decode(SPAM_KEY, k2), 0);
    if (wx_decrypt(k2, QDG_MSG, &msg, &len, &id) == 0) {
        ck_assert_str_ne(id, QDG_CORP);
        free(msg);
        free(id);
    }
}
END_TEST

/* --- XML ------------------------------------------------------------------- */

static int parses(const char *xml, wx_fields **f) {
    char err[200];
    int rc = wx_xml_parse(xml, strlen(xml), f, err, sizeof err);
    if (rc)
        ck_assert(*err);
    return rc;
}

START_TEST(xml_fields) {
    wx_fields *f;
    ck_assert_int_eq(parses(SPAM_PLAIN, &f), 0);
    ck_assert_str_eq(wx_field(f, "ToUserName"), "gh_10f6c3c3ac5a");
    ck_assert_str_eq(wx_field(f, "MsgType"), "text");
    ck_assert_str_eq(wx_field(f, "Content"), "abcdteT");
    ck_assert_str_eq(wx_field(f, "MsgId"), "6054768590064713728");
    ck_assert_ptr_null(wx_field(f, "Event"));
    wx_fields_free(f);
    /* escaped text, mixed CDATA and comments */
    ck_assert_int_eq(parses("<xml><!-- c --><Content>a &lt;b&gt; <![CDATA[&amp;]]></Content></xml>", &f), 0);
    ck_assert_str_eq(wx_field(f, "Content"), "a <b> &amp;");
    wx_fields_free(f);
}
END_TEST

START_TEST(xml_hostile) {
    wx_fields *f = NULL;
    const char *bad[] = {
        "",
        "not xml",
        "<xml><a>unclosed</xml>",
        "<other><a>1</a></other>",
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
        "<xml><Content>&lol2;</Content></xml>",
        "<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Content>&xxe;</Content></xml>",
        "<xml><Content>&undefined;</Content></xml>",
        "<xml><Content><![CDATA[\xff\xfe]]></Content></xml>",
        "<xml><Content>\xc3\x28</Content></xml>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parses(bad[i], &f) == -1, "accepted: %s", bad[i]);
        ck_assert_ptr_null(f);
    }
    /* 10,000 levels: over libxml2's depth limit */
    size_t depth = 10000;
    char *deep = malloc(depth * 7 + 16);
    char *p = deep;
    p += sprintf(p, "<xml>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<a>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "</a>");
    sprintf(p, "</xml>");
    ck_assert_int_eq(parses(deep, &f), -1);
    free(deep);
    /* over the size limit, and NUL bytes inside */
    char *big = malloc(WX_MAX_XML + 2);
    memset(big, ' ', WX_MAX_XML + 1);
    big[WX_MAX_XML + 1] = '\0';
    char err[100];
    ck_assert_int_eq(wx_xml_parse(big, WX_MAX_XML + 1, &f, err, sizeof err), -1);
    free(big);
    ck_assert_int_eq(wx_xml_parse("<xml><a>x\0y</a></xml>", 21, &f, err, sizeof err), -1);
}
END_TEST

START_TEST(xml_replies) {
    char *x = wx_xml_text("openid", "gh_1", 1700000000, "a]]>b <&> 中文");
    wx_fields *f;
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_null(strstr(x, "a]]>b")); /* split, not left to close CDATA */
    ck_assert_int_eq(parses(x, &f), 0);
    ck_assert_str_eq(wx_field(f, "ToUserName"), "openid");
    ck_assert_str_eq(wx_field(f, "FromUserName"), "gh_1");
    ck_assert_str_eq(wx_field(f, "CreateTime"), "1700000000");
    ck_assert_str_eq(wx_field(f, "MsgType"), "text");
    ck_assert_str_eq(wx_field(f, "Content"), "a]]>b <&> 中文");
    wx_fields_free(f);
    free(x);

    x = wx_xml_transfer("openid", "gh_1", 1, "kf1@test");
    ck_assert_ptr_nonnull(strstr(x, "<TransInfo><KfAccount><![CDATA[kf1@test]]></KfAccount></TransInfo>"));
    ck_assert_ptr_nonnull(strstr(x, "<MsgType><![CDATA[transfer_customer_service]]></MsgType>"));
    ck_assert_ptr_null(strstr(x, "Content"));
    free(x);
    x = wx_xml_transfer("openid", "gh_1", 1, "");
    ck_assert_ptr_null(strstr(x, "TransInfo"));
    free(x);

    x = wx_xml_encrypted("ENC", "sig", 1713424427, "415670741");
    ck_assert_str_eq(x, "<xml><Encrypt><![CDATA[ENC]]></Encrypt><MsgSignature><![CDATA[sig]]>"
                        "</MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA["
                        "415670741]]></Nonce></xml>");
    free(x);
}
END_TEST

/* --- dedup ----------------------------------------------------------------- */

START_TEST(dedup_once) {
    wx_dedup *d = wx_dedup_new(4, 60000);
    char *r;
    ck_assert_int_eq(wx_dedup_claim(d, "m1"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_claim(d, "m1"), WX_SEEN);
    ck_assert_int_eq(wx_dedup_done(d, "m1", "<xml>answer</xml>"), 0);
    ck_assert_int_eq(wx_dedup_wait(d, "m1", 0, &r), 1);
    ck_assert_str_eq(r, "<xml>answer</xml>");
    free(r);
    /* a retry after the answer: the same answer again */
    ck_assert_int_eq(wx_dedup_claim(d, "m1"), WX_SEEN);
    ck_assert_int_eq(wx_dedup_wait(d, "m1", 0, &r), 1);
    ck_assert_str_eq(r, "<xml>answer</xml>");
    free(r);
    /* no passive answer */
    ck_assert_int_eq(wx_dedup_claim(d, "m2"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_done(d, "m2", NULL), 0);
    ck_assert_int_eq(wx_dedup_wait(d, "m2", 0, &r), 1);
    ck_assert_ptr_null(r);
    /* full: two more fit, the fifth key does not while all are fresh */
    ck_assert_int_eq(wx_dedup_claim(d, "m3"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_claim(d, "m4"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_claim(d, "m5"), WX_FULL);
    ck_assert_uint_eq(wx_dedup_count(d), 4);
    wx_dedup_free(d);
}
END_TEST

START_TEST(dedup_expiry) {
    wx_dedup *d = wx_dedup_new(1, 30);
    ck_assert_int_eq(wx_dedup_claim(d, "m1"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_claim(d, "m2"), WX_FULL); /* m1 in flight */
    wx_dedup_done(d, "m1", "a");
    struct timespec ts = {0, 60 * 1000000};
    nanosleep(&ts, NULL);
    /* m1 expired: its place is free, and m1 is new again */
    ck_assert_int_eq(wx_dedup_claim(d, "m2"), WX_FIRST);
    wx_dedup_done(d, "m2", "b");
    nanosleep(&ts, NULL);
    ck_assert_int_eq(wx_dedup_claim(d, "m1"), WX_FIRST);
    wx_dedup_free(d);
}
END_TEST

START_TEST(dedup_gave_up) {
    wx_dedup *d = wx_dedup_new(8, 60000);
    char *r = (char *)"x";
    ck_assert_int_eq(wx_dedup_claim(d, "slow"), WX_FIRST);
    /* the first attempt's waiter gives up: "success" */
    ck_assert_int_eq(wx_dedup_wait(d, "slow", 10, &r), 0);
    ck_assert_ptr_null(r);
    /* the handler finishes with nobody waiting: it sends the answer */
    ck_assert_int_eq(wx_dedup_done(d, "slow", "late"), 1);
    /* a retry now must not repeat it passively */
    ck_assert_int_eq(wx_dedup_wait(d, "slow", 0, &r), 1);
    ck_assert_ptr_null(r);
    /* done twice changes nothing */
    ck_assert_int_eq(wx_dedup_done(d, "slow", "again"), 0);
    wx_dedup_free(d);
}
END_TEST

typedef struct waiter_arg {
    wx_dedup *d;
    int rc;
    char *reply;
} waiter_arg;

static void *waiter(void *p) {
    waiter_arg *w = p;
    w->rc = wx_dedup_wait(w->d, "k", 5000, &w->reply);
    return NULL;
}

START_TEST(dedup_retry_waits) {
    /* a retry waiting while the handler works gets the answer passively,
     * even after the first attempt gave up */
    wx_dedup *d = wx_dedup_new(8, 60000);
    char *r;
    ck_assert_int_eq(wx_dedup_claim(d, "k"), WX_FIRST);
    ck_assert_int_eq(wx_dedup_wait(d, "k", 1, &r), 0);
    waiter_arg w = {.d = d};
    pthread_t t;
    pthread_create(&t, NULL, waiter, &w);
    /* until the waiter is in, done() would (rightly) say "send it" */
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    int async = wx_dedup_done(d, "k", "answer");
    pthread_join(t, NULL);
    if (async) { /* the waiter had not started waiting yet */
        ck_assert_int_eq(w.rc, 1);
        ck_assert_ptr_null(w.reply);
    } else {
        ck_assert_int_eq(w.rc, 1);
        ck_assert_str_eq(w.reply, "answer");
    }
    free(w.reply);
    wx_dedup_free(d);
}
END_TEST

static Suite *wx_suite(void) {
    Suite *s = suite_create("wechat");
    TCase *c = tcase_create("crypto");
    tcase_add_test(c, signatures);
    tcase_add_test(c, key_decode);
    tcase_add_test(c, decrypt_vectors);
    tcase_add_test(c, encrypt_vector);
    tcase_add_test(c, round_trip_and_tampering);
    suite_add_tcase(s, c);
    c = tcase_create("xml");
    tcase_add_test(c, xml_fields);
    tcase_add_test(c, xml_hostile);
    tcase_add_test(c, xml_replies);
    suite_add_tcase(s, c);
    c = tcase_create("dedup");
    tcase_add_test(c, dedup_once);
    tcase_add_test(c, dedup_expiry);
    tcase_add_test(c, dedup_gave_up);
    tcase_add_test(c, dedup_retry_waits);
    suite_add_tcase(s, c);
    return s;
}

int main(void) {
    wx_global_init();
    SRunner *sr = srunner_create(wx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wx_global_cleanup();
    return failed ? 1 : 0;
}
