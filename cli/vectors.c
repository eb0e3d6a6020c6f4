/*
 * vectors.c - `csbot vectors`: stores the sentence encoder's vectors of a
 * knowledge base's English examples in its "vectors" member, so that
 * loading it with the encoder does not have to encode them (about 7 ms
 * each); `csbot import --encoder` uses the same code.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* Every string of intents[].examples.en and negatives.en. */
static void english_examples(const cJSON *root, const cJSON ***out, size_t *n,
                             size_t *cap) {
    const cJSON *intents = cJSON_GetObjectItemCaseSensitive(root, "intents");
    const cJSON *neg = cJSON_GetObjectItemCaseSensitive(root, "negatives");
    size_t nit = cJSON_IsArray(intents) ? (size_t)cJSON_GetArraySize(intents) : 0;
    for (size_t i = 0; i <= nit; i++) {
        const cJSON *ex = i < nit ? cJSON_GetObjectItemCaseSensitive(
                                        cJSON_GetArrayItem(intents, (int)i),
                                        "examples")
                                  : neg;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(ex, "en");
        const cJSON *s;
        cJSON_ArrayForEach(s, en) {
            if (!cJSON_IsString(s))
                continue;
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                *out = xrealloc(*out, *cap * sizeof **out);
            }
            (*out)[(*n)++] = s;
        }
    }
}

int kb_add_vectors(cJSON *root, const csbot_encoder *enc, const char *what) {
    const cJSON **ex = NULL;
    size_t n = 0, cap = 0, kept = 0, encoded = 0;
    english_examples(root, &ex, &n, &cap);
    /* the vectors stored so far, if they are this encoder's */
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(root, "vectors");
    const cJSON *oldex = NULL;
    const cJSON *oldname = cJSON_GetObjectItemCaseSensitive(old, "encoder");
    if (cJSON_IsString(oldname) &&
        strcmp(oldname->valuestring, csbot_encoder_name(enc)) == 0)
        oldex = cJSON_GetObjectItemCaseSensitive(old, "examples");
    cJSON *vec = cJSON_CreateObject();
    cJSON_AddStringToObject(vec, "encoder", csbot_encoder_name(enc));
    cJSON *map = cJSON_AddObjectToObject(vec, "examples");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *text = ex[i]->valuestring;
        if (cJSON_GetObjectItemCaseSensitive(map, text))
            continue; /* the same text twice */
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(oldex, text);
        if (cJSON_IsString(prev) &&
            strlen(prev->valuestring) == CSBOT_ENCODER_STORED_LEN) {
            cJSON_AddStringToObject(map, text, prev->valuestring);
            kept++;
            continue;
        }
        char buf[CSBOT_ENCODER_STORED_LEN + 1];
        int e = csbot_encoder_encode_stored(enc, text, CSBOT_NUL_TERMINATED, buf);
        if (e != CSBOT_OK) {
            fprintf(stderr, "csbot %s: cannot encode example \"%.60s\": %s\n",
                    what, text, csbot_strerror(e));
            rc = -1;
            break;
        }
        cJSON_AddStringToObject(map, text, buf);
        encoded++;
    }
    cJSON_Delete(old);
    free(ex);
    if (rc) {
        cJSON_Delete(vec);
        return rc;
    }
    cJSON_AddItemToObject(root, "vectors", vec);
    fprintf(stderr, "vectors: %zu English examples encoded, %zu kept\n",
            encoded, kept);
    return 0;
}

int cmd_vectors(int argc, char **argv) {
    const char *kb_path = NULL, *out_path = "-", *v;
    for (int i = 1; i < argc; i++) {
        if (opt_value("vectors", argc, argv, &i, "write", &v))
            out_path = v;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("vectors", "unknown option '%s'", argv[i]);
        else if (!kb_path)
            kb_path = argv[i];
        else
            return usage_error("vectors", "unexpected argument '%s'", argv[i]);
    }
    if (!kb_path)
        return usage_error("vectors", "needs a knowledge base");
    const csbot_encoder *enc = cli_encoder();
    if (!enc)
        return usage_error("vectors", "needs --encoder ENC");
    /* the knowledge base must load as it is (with its current vectors
     * checked) before it is rewritten */
    csbot_kb *kb = NULL;
    csbot_kb_options o = CSBOT_KB_OPTIONS_INIT; /* no encoder: no encoding */
    csbot_error err = CSBOT_ERROR_INIT;
    int e = csbot_kb_load_file(&kb, kb_path, &o, &err);
    if (e != CSBOT_OK) {
        report_error(&err, e, kb_path);
        return EXIT_FAIL;
    }
    csbot_kb_free(kb);
    int rc;
    cJSON *root = read_json_object("vectors", kb_path, &rc);
    if (!root)
        return rc;
    rc = kb_add_vectors(root, enc, "vectors") ? EXIT_FAIL
                                              : write_json("vectors", out_path, root);
    cJSON_Delete(root);
    return rc;
}
