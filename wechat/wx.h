/*
 * wx.h - the WeChat protocols, without any HTTP server: signatures (SHA-1 of
 * sorted strings), the message encryption of official accounts and WeCom
 * (AES-256-CBC, WXBizMsgCrypt's layout), the XML of messages and passive
 * replies (libxml2, no DTD, no entities, no network), a dedup cache for
 * WeChat's retries, and a client of the outbound API (libcurl) that caches
 * the access token. Used by csbot-server's channels (server/wechat.c,
 * server/wecom.c); the tests in test/wechat/ use it alone.
 *
 * Everything returns 0 on success and -1 on failure with a message in the
 * caller's buffer, unless said otherwise. Strings returned as char * are
 * malloc'd and the caller frees them. All functions are thread-safe; a
 * wx_dedup and a wx_client are shared by any number of threads.
 */
#ifndef CSBOT_WX_H
#define CSBOT_WX_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum {
    WX_MAX_XML = 64 * 1024, /* bigger bodies are refused unparsed */
    WX_KEY_LEN = 32
};

/* Once per process, before any thread uses the module (libxml2, libcurl). */
void wx_global_init(void);
void wx_global_cleanup(void);

/* --- signatures ----------------------------------------------------------- */

/* sha1(sorted(parts) concatenated) as 40 lowercase hex digits. */
int wx_signature(const char *const *parts, size_t n, char out[41]);
/* Whether sig (any text) equals the signature of parts, in constant time. */
int wx_signature_ok(const char *sig, const char *const *parts, size_t n);

/* --- encryption ----------------------------------------------------------- */

/* key[32] from a 43-character EncodingAESKey. */
int wx_key_decode(const char *aes_key, unsigned char key[WX_KEY_LEN]);
/* Base64 of AES-256-CBC(random16 | len32be | msg | appid), PKCS#7 to 32.
 * random16 NULL: random bytes. */
int wx_encrypt(const unsigned char key[WX_KEY_LEN], const char *appid,
               const char *msg, size_t len, const unsigned char *random16,
               char **out);
/* The inverse: the message (NUL-terminated, *len bytes) and the AppID it
 * carries. -1 for anything that is not such a ciphertext. */
int wx_decrypt(const unsigned char key[WX_KEY_LEN], const char *b64,
               char **msg, size_t *len, char **appid);

/* --- XML ------------------------------------------------------------------ */

/* The fields of a message: the text of each child of <xml>, in order. */
typedef struct wx_fields wx_fields;

/* Parse a WeChat XML document. Refused: over WX_MAX_XML, a DTD or an
 * entity declaration, any parse error (invalid UTF-8 included), a root
 * that is not <xml>. */
int wx_xml_parse(const char *body, size_t len, wx_fields **out, char *err,
                 size_t errlen);
/* A field's text, or NULL. Borrowed from f. */
const char *wx_field(const wx_fields *f, const char *name);
void wx_fields_free(wx_fields *f);

/* Passive replies. created: Unix seconds. kf_account may be NULL or "". */
char *wx_xml_text(const char *to, const char *from, int64_t created,
                  const char *content);
char *wx_xml_transfer(const char *to, const char *from, int64_t created,
                      const char *kf_account);
/* The envelope of an encrypted reply. */
char *wx_xml_encrypted(const char *encrypt, const char *signature,
                       int64_t timestamp, const char *nonce);

/* --- dedup ---------------------------------------------------------------- */

typedef struct wx_dedup wx_dedup;

/* A cache of message keys that lasts ttl_ms (at least the 15 s of WeChat's
 * three attempts), holding at most cap keys. NULL when out of memory. */
wx_dedup *wx_dedup_new(size_t cap, int64_t ttl_ms);
void wx_dedup_free(wx_dedup *d);

enum { WX_FIRST = 0, WX_SEEN = 1, WX_FULL = 2 };
/* Claim key. WX_FIRST: the caller handles the message and must call
 * wx_dedup_done(). WX_SEEN: it was (or is being) handled; call
 * wx_dedup_wait() for its answer. WX_FULL: cap keys are in flight. */
int wx_dedup_claim(wx_dedup *d, const char *key);
/* Wait up to wait_ms for the answer of key. Returns 1 with *reply (a copy,
 * NULL when the answer was "no passive reply") when it is there; 0 when it
 * is not ready in time: the waiter then answers "success" and, if no one
 * else takes the answer, wx_dedup_done() tells the handler to send it
 * otherwise. A reply taken once is taken: later calls get 1 and the same
 * copy, unless it was sent otherwise (then 1 and NULL). */
int wx_dedup_wait(wx_dedup *d, const char *key, int64_t wait_ms, char **reply);
/* The handler is done with key; reply may be NULL (no passive reply).
 * Returns 1 when every waiter gave up (the reply must be sent through the
 * customer-service API), 0 when a waiter takes it. */
int wx_dedup_done(wx_dedup *d, const char *key, const char *reply);
/* Keys held. */
size_t wx_dedup_count(wx_dedup *d);

/* --- the outbound API ---------------------------------------------------- */

typedef struct wx_client wx_client;

typedef enum wx_kind { WX_OFFICIAL = 0, WX_WECOM = 1 } wx_kind;

/* base: e.g. "https://api.weixin.qq.com". Copies its arguments. */
wx_client *wx_client_new(wx_kind kind, const char *base, const char *appid,
                         const char *secret, long timeout_ms);
void wx_client_free(wx_client *c);
/* POST JSON to base+path+"?access_token=..." (the token fetched once and
 * cached; fetched again 5 minutes before expiry, or when WeChat answers
 * 40001, 40014 or 42001, and the call repeated once). 0 with *resp (the
 * parsed answer, whose errcode is 0 or absent); -1 with *errcode (WeChat's,
 * or -1 for a network or format failure) and err. resp may be NULL. */
int wx_client_post(wx_client *c, const char *path, const char *json,
                   cJSON **resp, long *errcode, char *err, size_t errlen);
/* Times the token was fetched (for tests and metrics). */
unsigned long wx_client_token_fetches(wx_client *c);

/* A token shared by several processes (csbot-server on Redis): the one
 * process that gets the lock fetches, the others take what it stored. */
typedef struct wx_token_cache {
    /* The shared token into buf and its remaining life: 0, or 1 when there
     * is none (-1 when the cache failed). */
    int (*get)(void *ud, char *buf, size_t size, long *ttl_ms);
    int (*put)(void *ud, const char *token, long ttl_ms);
    /* Take (1: taken, 0: someone else has it) or give back (take 0). */
    int (*lock)(void *ud, int take);
    void *ud;
} wx_token_cache;
/* Use tc (copied; its ud must outlive c). */
void wx_client_share_token(wx_client *c, const wx_token_cache *tc);

#endif
