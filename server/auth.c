/*
 * auth.c - agent passwords and logins (see auth.h), with libsodium.
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "server.h"

int auth_init(void) { return sodium_init() < 0 ? -1 : 0; }

int auth_add_agent(store *st, const char *name, const char *password,
                   char *err, size_t errlen) {
    size_t n = strlen(name);
    if (n == 0 || n > 63) {
        snprintf(err, errlen, "an agent name has 1 to 63 bytes");
        return -1;
    }
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.')) {
            snprintf(err, errlen, "an agent name is letters, digits, _ - .");
            return -1;
        }
    if (strlen(password) < 8) {
        snprintf(err, errlen, "a password has at least 8 bytes");
        return -1;
    }
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        snprintf(err, errlen, "out of memory hashing the password");
        return -1;
    }
    if (store_agent_add(st, name, hash, srv_now_ms())) {
        snprintf(err, errlen, "%s", store_errmsg());
        return -1;
    }
    return 0;
}

static void token_hash(const char *token, char out[65]) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token),
                       NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int auth_login(store *st, const char *name, const char *password,
               char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_CSRF_HEX + 1]) {
    char hash[crypto_pwhash_STRBYTES];
    int rc = strlen(name) < 64 ? store_agent_hash(st, name, hash, sizeof hash)
                               : STORE_NOT_FOUND;
    if (rc == -1)
        return -1;
    if (rc == STORE_NOT_FOUND) {
        /* spend the time a real account costs: no probing for names */
        if (crypto_pwhash_str(hash, password, strlen(password),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return -1;
        return 1;
    }
    if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
        return 1;
    unsigned char raw[32], rc2[16];
    randombytes_buf(raw, sizeof raw);
    randombytes_buf(rc2, sizeof rc2);
    sodium_bin2hex(token, AUTH_TOKEN_HEX + 1, raw, sizeof raw);
    sodium_bin2hex(csrf, AUTH_CSRF_HEX + 1, rc2, sizeof rc2);
    char th[65];
    token_hash(token, th);
    return store_login_add(st, th, name, csrf,
                           srv_now_ms() + SRV_LOGIN_HOURS * 3600000LL)
               ? -1
               : 0;
}

int auth_check(store *st, const char *token, char agent[64], char csrf[64]) {
    if (!token || strlen(token) != AUTH_TOKEN_HEX)
        return 1;
    char th[65];
    token_hash(token, th);
    int rc = store_login_get(st, th, srv_now_ms(), agent, csrf);
    return rc == 0 ? 0 : rc == STORE_NOT_FOUND ? 1 : -1;
}

int auth_logout(store *st, const char *token) {
    if (!token)
        return 0;
    char th[65];
    token_hash(token, th);
    return store_login_del(st, th);
}

int auth_same(const char *a, const char *b) {
    size_t n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}
