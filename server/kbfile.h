/*
 * kbfile.h - the knowledge-base file behind the hub: reloading it (SIGHUP,
 * inotify, after an edit) and adding an example to it from the dashboard.
 * An edit writes a new version next to the file, loads it to check it, keeps
 * the old version in the store, renames the new one into place and reloads;
 * a version that does not load is never put in place.
 */
#ifndef CSBOT_SERVER_KBFILE_H
#define CSBOT_SERVER_KBFILE_H

#include <cjson/cJSON.h>

#include "server.h"

/* Add text as an example of intent ("zh" or "en" examples by lang).
 * 0 (*result: {"generation", "intent", "example", "warnings"}),
 * CV_ENOTFOUND (no such intent), CV_ECONFLICT (the new version does not
 * load; err says why), CV_ESTORE (the file cannot be read or written). */
int kb_add_example(app *a, const char *intent, const char *text,
                   const char *lang, const char *agent, cJSON **result,
                   char *err, size_t errlen);

#endif
