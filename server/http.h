/*
 * http.h - the HTTP listener of csbot-server (libmicrohttpd).
 */
#ifndef CSBOT_SERVER_HTTP_H
#define CSBOT_SERVER_HTTP_H

#include <stddef.h>

#include "server.h"

typedef struct http http;

/* Listen on "IPV4:PORT" (port 0: any free one) with a pool of threads;
 * a client silent for timeout seconds is disconnected (long polls that
 * the server holds do not count). */
int http_start(http **out, app *a, const char *listen, unsigned threads,
               unsigned timeout, char *err, size_t errlen);
/* The port it listens on. */
unsigned http_port(const http *h);
/* Stop accepting connections; requests in flight go on. */
void http_quiesce(http *h);
/* Finish the requests in flight and stop. */
void http_stop(http *h);

#endif
