/*
 * web.h - the web pages and their files, built into the binary from
 * server/web/ by scripts/embed-web.sh, so an installed server needs no
 * files beside it and a browser fetches nothing from anywhere else.
 */
#ifndef CSBOT_SERVER_WEB_H
#define CSBOT_SERVER_WEB_H

#include <stddef.h>

typedef struct web_asset {
    const char *name; /* file name in server/web/ */
    const char *type; /* content type */
    const unsigned char *data;
    size_t len;
} web_asset;

extern const web_asset WEB_ASSETS[];
extern const size_t WEB_ASSET_COUNT;

#endif
