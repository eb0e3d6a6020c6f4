/*
 * crypt.c - WeChat's signatures and message encryption with OpenSSL's
 * libcrypto: SHA-1 over the sorted strings, and AES-256-CBC as
 * WXBizMsgCrypt does it (key = base64(EncodingAESKey + "="), IV = the key's
 * first 16 bytes, PKCS#7 padding to 32 bytes, plaintext random16 | length
 * (4 bytes, big-endian) | message | AppID).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "wx.h"

enum { MAX_PARTS = 8, PAD = 32 };

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int wx_signature(const char *const *parts, size_t n, char out[41]) {
    const char *sorted[MAX_PARTS];
    if (n == 0 || n > MAX_PARTS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!parts[i])
            return -1;
        sorted[i] = parts[i];
    }
    qsort(sorted, n, sizeof sorted[0], cmp_str);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, sorted[i], strlen(sorted[i]));
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
    return 0;
}

int wx_signature_ok(const char *sig, const char *const *parts, size_t n) {
    char want[41];
    if (!sig || strlen(sig) != 40 || wx_signature(parts, n, want))
        return 0;
    return CRYPTO_memcmp(sig, want, 40) == 0;
}

int wx_key_decode(const char *aes_key, unsigned char key[WX_KEY_LEN]) {
    if (!aes_key || strlen(aes_key) != 43)
        return -1;
    for (const char *p = aes_key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return -1;
    char in[45];
    memcpy(in, aes_key, 43);
    in[43] = '=';
    in[44] = '\0';
    unsigned char out[33];
    /* EVP_DecodeBlock counts the padding: 44 characters give 33 bytes */
    if (EVP_DecodeBlock(out, (const unsigned char *)in, 44) != 33)
        return -1;
    memcpy(key, out, WX_KEY_LEN);
    return 0;
}

/* AES-256-CBC without OpenSSL's padding (the caller pads to 32). */
static int aes(int enc, const unsigned char key[WX_KEY_LEN],
               const unsigned char *in, int len, unsigned char *out) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key, enc) &&
             EVP_CIPHER_CTX_set_padding(ctx, 0) &&
             EVP_CipherUpdate(ctx, out, &n1, in, len) &&
             EVP_CipherFinal_ex(ctx, out + n1, &n2) && n1 + n2 == len;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int wx_encrypt(const unsigned char key[WX_KEY_LEN], const char *appid,
               const char *msg, size_t len, const unsigned char *random16,
               char **out) {
    *out = NULL;
    size_t alen = appid ? strlen(appid) : 0;
    if (!msg || len > WX_MAX_XML * 4 || alen > 256)
        return -1;
    size_t plain = 20 + len + alen;
    size_t pad = PAD - plain % PAD;
    size_t total = plain + pad;
    unsigned char *p = malloc(total);
    unsigned char *c = malloc(total);
    char *b64 = malloc(4 * ((total + 2) / 3) + 1);
    int rc = -1;
    if (!p || !c || !b64)
        goto done;
    if (random16)
        memcpy(p, random16, 16);
    else if (RAND_bytes(p, 16) != 1)
        goto done;
    p[16] = (unsigned char)(len >> 24);
    p[17] = (unsigned char)(len >> 16);
    p[18] = (unsigned char)(len >> 8);
    p[19] = (unsigned char)len;
    memcpy(p + 20, msg, len);
    if (alen)
        memcpy(p + 20 + len, appid, alen);
    memset(p + plain, (int)pad, pad);
    if (aes(1, key, p, (int)total, c))
        goto done;
    EVP_EncodeBlock((unsigned char *)b64, c, (int)total);
    *out = b64;
    b64 = NULL;
    rc = 0;
done:
    free(p);
    free(c);
    free(b64);
    return rc;
}

int wx_decrypt(const unsigned char key[WX_KEY_LEN], const char *b64,
               char **msg, size_t *len, char **appid) {
    *msg = NULL;
    *appid = NULL;
    *len = 0;
    size_t n = b64 ? strlen(b64) : 0;
    if (n == 0 || n % 4 != 0 || n > WX_MAX_XML * 2)
        return -1;
    unsigned char *c = malloc(n / 4 * 3 + 1);
    unsigned char *p = malloc(n / 4 * 3 + 1);
    int rc = -1;
    if (!c || !p)
        goto done;
    int clen = EVP_DecodeBlock(c, (const unsigned char *)b64, (int)n);
    if (clen < 0)
        goto done;
    /* EVP_DecodeBlock keeps the bytes that '=' stands for */
    if (b64[n - 1] == '=')
        clen--;
    if (b64[n - 2] == '=')
        clen--;
    if (clen < PAD || clen % 16 != 0 || aes(0, key, c, clen, p))
        goto done;
    unsigned pad = p[clen - 1];
    if (pad < 1 || pad > PAD)
        goto done;
    for (unsigned i = 1; i <= pad; i++)
        if (p[clen - i] != pad)
            goto done;
    size_t plain = (size_t)clen - pad;
    if (plain < 20)
        goto done;
    size_t mlen = ((size_t)p[16] << 24) | ((size_t)p[17] << 16) |
                  ((size_t)p[18] << 8) | p[19];
    if (mlen > plain - 20)
        goto done;
    size_t alen = plain - 20 - mlen;
    char *m = malloc(mlen + 1), *a = malloc(alen + 1);
    if (!m || !a) {
        free(m);
        free(a);
        goto done;
    }
    memcpy(m, p + 20, mlen);
    m[mlen] = '\0';
    memcpy(a, p + 20 + mlen, alen);
    a[alen] = '\0';
    if (memchr(a, '\0', alen)) { /* an AppID never holds NUL */
        free(m);
        free(a);
        goto done;
    }
    *msg = m;
    *len = mlen;
    *appid = a;
    rc = 0;
done:
    free(c);
    free(p);
    return rc;
}
