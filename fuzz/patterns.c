/*
 * patterns.c - fuzzes the pattern and slot compilers and PCRE2's limits
 * on hostile regexes: the input is split at 0xFF bytes into intent
 * patterns and slot patterns (the first byte says how many of each), and
 * the last piece is a message. The harness builds a small knowledge base
 * around them with cJSON (so the JSON is always well-formed), loads it,
 * and when it loads, replies to the message and to a few fixed ones.
 */
#include "common.h"

#include <opencc/opencc.h>


/*
 * OpenCC, memoised (linked with -Wl,--wrap=opencc_open and the rest of
 * FUZZ_PAT_WRAP in fuzz/fuzz.mk). Every load of a knowledge base opens
 * t2s.json and s2t.json and runs each over all 28k CJK characters to build
 * the script maps (lib/convert.c), about 80 ms without sanitizers and 300 ms
 * with them: the harness would run at 2 inputs a second. None of that
 * depends on the input. So the harness opens each config once and keeps it,
 * and remembers the output of the last long conversion on each handle: a
 * load still makes every call and builds its maps from OpenCC's output, as
 * it does outside the harness, but OpenCC does the work only once. Short
 * texts (the answers) are converted for real each time.
 */
opencc_t __real_opencc_open(const char *config);
int __real_opencc_close(opencc_t oc);
char *__real_opencc_convert_utf8(opencc_t oc, const char *in, size_t len);
void __real_opencc_convert_utf8_free(char *s);
opencc_t __wrap_opencc_open(const char *config);
int __wrap_opencc_close(opencc_t oc);
char *__wrap_opencc_convert_utf8(opencc_t oc, const char *in, size_t len);
void __wrap_opencc_convert_utf8_free(char *s);

enum { OC_MAX = 8, OC_LONG = 4096 };
static struct {
    char config[64];
    opencc_t oc;
    char *in, *out; /* the last long conversion's input and output */
    size_t inlen;
} oc_open[OC_MAX];

opencc_t __wrap_opencc_open(const char *config) {
    size_t i = 0;
    for (; i < OC_MAX && oc_open[i].oc; i++)
        if (!strcmp(oc_open[i].config, config))
            return oc_open[i].oc;
    FUZZ_CHECK(i < OC_MAX && strlen(config) < sizeof oc_open[i].config);
    opencc_t oc = __real_opencc_open(config);
    if (oc == (opencc_t)-1)
        return oc;
    strcpy(oc_open[i].config, config);
    oc_open[i].oc = oc;
    return oc;
}

/* The handles stay open until the process ends. */
int __wrap_opencc_close(opencc_t oc) {
    for (size_t i = 0; i < OC_MAX; i++)
        if (oc_open[i].oc == oc)
            return 0;
    return __real_opencc_close(oc);
}

static char *dup_bytes(const char *s, size_t n) {
    char *d = malloc(n + 1);
    FUZZ_CHECK(d != NULL);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* What this returns is malloc'd (freed by the wrapped _free), never
 * OpenCC's own buffer. */
char *__wrap_opencc_convert_utf8(opencc_t oc, const char *in, size_t len) {
    size_t i = 0;
    while (i < OC_MAX && oc_open[i].oc != oc)
        i++;
    if (i < OC_MAX && len >= OC_LONG && oc_open[i].in && oc_open[i].inlen == len &&
        !memcmp(oc_open[i].in, in, len))
        return dup_bytes(oc_open[i].out, strlen(oc_open[i].out));
    char *r = __real_opencc_convert_utf8(oc, in, len);
    if (!r)
        return NULL;
    char *copy = dup_bytes(r, strlen(r));
    __real_opencc_convert_utf8_free(r);
    if (i < OC_MAX && len >= OC_LONG) {
        free(oc_open[i].in);
        free(oc_open[i].out);
        oc_open[i].in = dup_bytes(in, len);
        oc_open[i].inlen = len;
        oc_open[i].out = dup_bytes(copy, strlen(copy));
    }
    return copy;
}

void __wrap_opencc_convert_utf8_free(char *s) { free(s); }

/* A valid UTF-8 copy of p[0..n): NUL bytes dropped, invalid bytes as '?'. */
static char *utf8_copy(const uint8_t *p, size_t n) {
    char *o = malloc(n + 1);
    FUZZ_CHECK(o != NULL);
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                  : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xC0) == 0x80;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                   (cp >= 0xD800 && cp <= 0xDFFF)))
            ok = 0;
        if (!ok) {
            o[j++] = '?';
            i++;
        } else if (c == 0) {
            i++;
        } else {
            memcpy(o + j, p + i, len);
            j += len;
            i += len;
        }
    }
    o[j] = '\0';
    return o;
}

static cJSON *strings(const char *const *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *lang_texts(const char *zh, const char *en) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "zh", zh);
    cJSON_AddStringToObject(o, "en", en);
    return o;
}

enum { MAX_PIECES = 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    unsigned npat = 1 + (data[0] & 3), nslot = (data[0] >> 2) & 3;
    int handoff = (data[0] >> 4) & 1, require = (data[0] >> 5) & 1;
    char *piece[MAX_PIECES + 1];
    size_t np = 0, start = 1;
    for (size_t i = 1; i <= size && np < MAX_PIECES + 1; i++)
        if (i == size || data[i] == 0xFF) {
            piece[np++] = utf8_copy(data + start, i - start);
            start = i + 1;
        }
    /* the last piece is the message, the others patterns then slots */
    const char *message = np > 1 ? piece[np - 1] : "where is my order 123456789012";
    size_t nre = np > 1 ? np - 1 : np;
    if (npat > nre)
        npat = (unsigned)nre;
    if (nslot > nre - npat)
        nslot = (unsigned)(nre - npat);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "csbot", 1);
    cJSON_AddStringToObject(root, "name", "fuzz patterns");
    cJSON *slots = cJSON_AddObjectToObject(root, "slots");
    char names[4][16];
    const char *slot_names[4];
    for (unsigned i = 0; i < nslot; i++) {
        snprintf(names[i], sizeof names[i], "s%u", i);
        slot_names[i] = names[i];
        cJSON *sl = cJSON_AddObjectToObject(slots, names[i]);
        cJSON_AddStringToObject(sl, "pattern", piece[npat + i]);
        cJSON_AddItemToObject(sl, "prompt", lang_texts("请提供", "Please give it"));
    }
    cJSON *intents = cJSON_AddArrayToObject(root, "intents");
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "id", "fuzzed");
    cJSON *ex = cJSON_AddObjectToObject(it, "examples");
    static const char *const en1[] = {"where is my order", "track my parcel please"};
    static const char *const zh1[] = {"我的订单到哪了", "查一下物流"};
    cJSON_AddItemToObject(ex, "en", strings(en1, 2));
    cJSON_AddItemToObject(ex, "zh", strings(zh1, 2));
    cJSON_AddItemToObject(it, "patterns", strings((const char *const *)piece, npat));
    if (nslot) {
        cJSON_AddItemToObject(it, "slots", strings(slot_names, nslot));
        if (require)
            cJSON_AddItemToObject(it, "require", strings(slot_names, 1));
    }
    if (handoff)
        cJSON_AddTrueToObject(it, "handoff");
    cJSON *resp = cJSON_AddArrayToObject(it, "responses");
    cJSON_AddItemToArray(resp, lang_texts(nslot ? "好的 {s0}" : "好的",
                                          nslot ? "OK {s0}" : "OK"));
    cJSON_AddItemToArray(intents, it);
    it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "id", "other");
    ex = cJSON_AddObjectToObject(it, "examples");
    static const char *const en2[] = {"can I get an invoice", "do you ship abroad"};
    static const char *const zh2[] = {"可以开发票吗", "包邮吗"};
    cJSON_AddItemToObject(ex, "en", strings(en2, 2));
    cJSON_AddItemToObject(ex, "zh", strings(zh2, 2));
    resp = cJSON_AddArrayToObject(it, "responses");
    cJSON_AddItemToArray(resp, lang_texts("可以", "Yes"));
    cJSON_AddItemToArray(intents, it);

    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    FUZZ_CHECK(json != NULL);

    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = csbot_kb_load_buffer(&kb, json, CSBOT_NUL_TERMINATED, "<patterns>",
                                  NULL, &err);
    if (rc == CSBOT_OK) {
        csbot_session *s;
        FUZZ_CHECK(csbot_session_new(&s, kb, NULL) == CSBOT_OK);
        const char *msgs[4] = {message, "where is my order 123456789012",
                               "我的订单202411223344到哪了", "OK"};
        for (int i = 0; i < 4; i++) {
            const csbot_reply *r;
            rc = csbot_session_reply(s, msgs[i], CSBOT_NUL_TERMINATED, &r);
            if (rc == CSBOT_OK)
                fuzz_check_reply(r);
            else
                FUZZ_CHECK(i == 0 && (rc == CSBOT_EEMPTY || rc == CSBOT_ETOOBIG));
            if (csbot_session_in_human_mode(s))
                csbot_session_resume(s);
        }
        char buf[512];
        (void)csbot_session_explain(s, buf, sizeof buf);
        csbot_session_free(s);
        csbot_kb_free(kb);
    } else {
        /* broken patterns are schema or regex errors pointing at the
         * pattern; nothing else in this knowledge base can fail */
        FUZZ_CHECK(rc == CSBOT_EREGEX || rc == CSBOT_ESCHEMA || rc == CSBOT_ETOOBIG);
        char msg[1024];
        csbot_error_format(&err, msg, sizeof msg);
    }
    free(json);
    for (size_t i = 0; i < np; i++)
        free(piece[i]);
    return 0;
}
