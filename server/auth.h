/*
 * auth.h - agent accounts and logins. Passwords are kept only as libsodium
 * crypto_pwhash_str strings (Argon2id, salted); a login is a random 256-bit
 * token sent as an HttpOnly cookie, stored only as its BLAKE2b hash, with a
 * random CSRF token that every state-changing request must echo.
 */
#ifndef CSBOT_SERVER_AUTH_H
#define CSBOT_SERVER_AUTH_H

#include <stddef.h>

#include "store.h"

enum { AUTH_TOKEN_HEX = 64, AUTH_CSRF_HEX = 32 };

/* Call once before any other auth_ function (sodium_init). */
int auth_init(void);
/* Create or re-password an agent. 0, or -1 with err. */
int auth_add_agent(store *st, const char *name, const char *password,
                   char *err, size_t errlen);
/* 0 (token and csrf filled), 1 (wrong name or password), -1 (error). */
int auth_login(store *st, const char *name, const char *password,
               char token[AUTH_TOKEN_HEX + 1], char csrf[AUTH_CSRF_HEX + 1]);
/* 0 (agent and csrf filled), 1 (not logged in), -1 (error). */
int auth_check(store *st, const char *token, char agent[64], char csrf[64]);
int auth_logout(store *st, const char *token);
/* Whether two strings are equal, in time that does not depend on where
 * they differ. */
int auth_same(const char *a, const char *b);

#endif
