/*
 * tserver.h - shared by the C tests of csbot-server's modules: a whole
 * application object (hub on a copy of intents/shop.json, store on a
 * temporary database, conversations, waiters, metrics) and request helpers
 * that call api_handle() the way http.c does.
 */
#ifndef CSBOT_TSERVER_H
#define CSBOT_TSERVER_H

#include <check.h>
#include <cjson/cJSON.h>

#include "api.h"
#include "server.h"

Suite *store_suite(void);
Suite *api_suite(void);
Suite *wait_suite(void);
Suite *faults_suite(void);

/* A fresh temporary folder (mkdtemp) for this test, e.g. for its db. */
const char *ts_tmpdir(char *buf, size_t size);

typedef struct ts_app {
    app a;
    char dir[256];
    char db[300];
    char kb[300];
} ts_app;

/* Start an app in a new temporary folder (or, with dir, on that folder's
 * database and knowledge base again: a restart). */
void ts_app_start(ts_app *t, const char *dir);
void ts_app_stop(ts_app *t);

/* One request through api_handle(); the answer's body parsed (or NULL). */
typedef struct ts_resp {
    int status;
    cJSON *json;
    char cookie[256];
} ts_resp;

ts_resp ts_req(ts_app *t, const char *method, const char *path,
               const char *body, const char *cookie, const char *csrf);
void ts_resp_free(ts_resp *r);
/* Create a conversation; its id into id[33]. */
void ts_new_conv(ts_app *t, char id[33]);
/* Send text in conversation id; returns the reply (caller frees). */
cJSON *ts_say(ts_app *t, const char *id, const char *text);
/* Add agent name and log in: the cookie token and the csrf token. */
void ts_agent_login(ts_app *t, const char *name, char cookie[128],
                    char csrf[64]);
const char *ts_str(const cJSON *o, const char *key);
double ts_num(const cJSON *o, const char *key);

#endif
