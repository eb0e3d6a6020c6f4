/*
 * kbfile.c - reloading and editing the knowledge-base file (see kbfile.h).
 */
#include "kbfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convs.h"
#include "metrics.h"

static void file_id(const char *path, unsigned long long *dev,
                    unsigned long long *ino, unsigned long long *size,
                    long long *mtime_ns) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *dev = *ino = *size = 0;
        *mtime_ns = -1;
        return;
    }
    *dev = (unsigned long long)sb.st_dev;
    *ino = (unsigned long long)sb.st_ino;
    *size = (unsigned long long)sb.st_size;
    *mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

void srv_note_kb_loaded(app *a) {
    file_id(a->kb_path, &a->kb_loaded.dev, &a->kb_loaded.ino,
            &a->kb_loaded.size, &a->kb_loaded.mtime_ns);
}

int srv_reload(app *a, const char *why, int only_if_changed) {
    pthread_mutex_lock(&a->kb_mu);
    if (only_if_changed) {
        unsigned long long dev, ino, size;
        long long mt;
        file_id(a->kb_path, &dev, &ino, &size, &mt);
        if (dev == a->kb_loaded.dev && ino == a->kb_loaded.ino &&
            size == a->kb_loaded.size && mt == a->kb_loaded.mtime_ns) {
            pthread_mutex_unlock(&a->kb_mu);
            return 1;
        }
    }
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_hub_reload_file(a->hub, a->kb_path, &a->kbopts, &err);
    unsigned long gen = csbot_hub_generation(a->hub);
    srv_note_kb_loaded(a); /* a broken version is not tried again either */
    pthread_mutex_unlock(&a->kb_mu);
    metrics_reload(a->m, rc == 0);
    if (rc) {
        char msg[1024];
        csbot_error_format(&err, msg, sizeof msg);
        for (char *p = msg; *p; p++)
            if (*p == '"')
                *p = '\'';
        srv_log("error", "msg=\"knowledge base rejected, the old one keeps serving\""
                " why=%s error=\"%s\"", why, msg);
    } else {
        srv_log("info", "msg=\"knowledge base reloaded\" why=%s generation=%lu",
                why, gen);
    }
    return rc;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = (cap ? cap * 2 : 65536) + 4096;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF ? 0 : -1;
    if (fflush(f) || fsync(fileno(f)))
        rc = -1;
    if (fclose(f))
        rc = -1;
    return rc;
}

/* The intent object with this id in the parsed file, or NULL. */
static cJSON *find_intent(cJSON *root, const char *id) {
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "intents")) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return it;
    }
    return NULL;
}

/* Add text to intent.examples[key] unless it is there; 1 if it was. */
static int add_to(cJSON *intent, const char *key, const char *text) {
    cJSON *ex = cJSON_GetObjectItemCaseSensitive(intent, "examples");
    if (!ex)
        ex = cJSON_AddObjectToObject(intent, "examples");
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(ex, key);
    if (!arr)
        arr = cJSON_AddArrayToObject(ex, key);
    cJSON *e;
    cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && strcmp(e->valuestring, text) == 0) return 1;
    cJSON_AddItemToArray(arr, cJSON_CreateString(text));
    return 0;
}

static void collect_warning(const csbot_error *w, void *ud) {
    char msg[512];
    csbot_error_format(w, msg, sizeof msg);
    cJSON_AddItemToArray((cJSON *)ud, cJSON_CreateString(msg));
}

int kb_add_example(app *a, const char *intent, const char *text,
                   const char *lang, const char *agent, cJSON **result,
                   char *err, size_t errlen) {
    *result = NULL;
    pthread_mutex_lock(&a->kb_mu);
    int rc = CV_ESTORE;
    char *old = read_file(a->kb_path), *next = NULL;
    cJSON *root = old ? cJSON_Parse(old) : NULL;
    cJSON *warnings = cJSON_CreateArray();
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.new", a->kb_path);
    if (!root) {
        snprintf(err, errlen, "%s: %s", a->kb_path,
                 old ? "the file on disk is not valid JSON" : "cannot read it");
        goto out;
    }
    cJSON *it = find_intent(root, intent);
    if (!it) {
        snprintf(err, errlen, "no intent '%s'", intent);
        rc = CV_ENOTFOUND;
        goto out;
    }
    int had = add_to(it, strncmp(lang, "zh", 2) == 0 ? "zh" : "en", text);
    next = cJSON_Print(root);
    if (!next || write_file(tmp, next)) {
        snprintf(err, errlen, "cannot write %s", tmp);
        goto out;
    }
    csbot_kb_options o = a->kbopts;
    o.warn = collect_warning;
    o.warn_ud = warnings;
    csbot_error kerr = CSBOT_ERROR_INIT;
    csbot_kb *kb;
    if (csbot_kb_load_file(&kb, tmp, &o, &kerr)) {
        csbot_error_format(&kerr, err, errlen);
        remove(tmp);
        rc = CV_ECONFLICT;
        goto out;
    }
    if (store_kb_version(a->st, srv_now_ms(), agent, a->kb_path, old) ||
        rename(tmp, a->kb_path)) {
        snprintf(err, errlen, "cannot put the new version in place");
        csbot_kb_free(kb);
        remove(tmp);
        goto out;
    }
    csbot_hub_swap(a->hub, kb);
    srv_note_kb_loaded(a);
    metrics_reload(a->m, 1);
    *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(*result, "generation",
                            (double)csbot_hub_generation(a->hub));
    cJSON_AddStringToObject(*result, "intent", intent);
    cJSON_AddStringToObject(*result, "example", text);
    cJSON_AddBoolToObject(*result, "already", had);
    cJSON_AddItemToObject(*result, "warnings", warnings);
    warnings = NULL;
    srv_log("info", "msg=\"example added\" intent=%s agent=%s generation=%lu",
            intent, agent, csbot_hub_generation(a->hub));
    rc = 0;
out:
    pthread_mutex_unlock(&a->kb_mu);
    cJSON_Delete(warnings);
    cJSON_Delete(root);
    free(old);
    free(next);
    return rc;
}
