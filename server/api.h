/*
 * api.h - the HTTP API of csbot-server as plain functions: a request in
 * (method, path, query, cookie, CSRF header, body), a response out (status,
 * headers, body). Nothing here knows libmicrohttpd, so the tests and the
 * fuzzers call api_handle() directly; http.c only adapts it to the network.
 * The routes are in docs/API.md.
 */
#ifndef CSBOT_SERVER_API_H
#define CSBOT_SERVER_API_H

#include <stddef.h>

#include "server.h"
#include "wait.h"

typedef struct api_request {
    const char *method;
    const char *path;   /* without the query */
    const char *after;  /* query parameters, or NULL */
    const char *wait;
    const char *days;
    const char *cookie; /* the csbot_agent cookie, or NULL */
    const char *csrf;   /* the X-CSRF-Token header, or NULL */
    const char *body;   /* may be NULL when body_len is 0 */
    size_t body_len;
    int body_too_big;   /* the body was cut at SRV_MAX_BODY */
    /* any query parameter by name (the WeChat channels' signatures) */
    const char *(*arg)(void *ctx, const char *name);
    void *arg_ctx;
    /* long polls: the waiter to register (NULL: never wait) */
    waiter *w;
} api_request;

typedef struct api_response {
    int status;         /* 0: the request waits (w registered) */
    char *body;         /* malloc'd */
    size_t len;
    const char *type;   /* content type (static) */
    const char *cache;  /* Cache-Control value, or NULL */
    int page;           /* an HTML page: add the page security headers */
    char cookie[256];   /* Set-Cookie value, or "" */
    /* a conversation the waiter refers to; released by api_finish() */
    void *held;
    /* for the log line */
    char route[48];
} api_response;

/* Answer a request. Always fills resp (status 0 = waiting). */
void api_handle(app *a, const api_request *req, api_response *resp);
/* Release what a response holds (after it was sent). */
void api_finish(app *a, api_response *resp);

#endif
