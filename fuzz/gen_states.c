/*
 * gen_states.c - writes the seed corpus of the restore harness: the saved
 * state of a few conversations on intents/demo.json (human mode, slots,
 * profile, ratings, a full transcript), each prefixed with the harness's
 * mode byte (1: "fix the hash", so mutations reach the parser; 0: as is).
 * Run once from the repository root:
 *   cc -Iinclude fuzz/gen_states.c build/libcsbot.a $(pkg-config --libs \
 *     libpcre2-8 libcjson libutf8proc opencc) -lstemmer -lm -lpthread \
 *     -o /tmp/gen_states && /tmp/gen_states fuzz/corpus/restore
 */
#include <csbot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t clk(void *ud) { return *(int64_t *)ud; }

static void dump(csbot_session *s, const char *dir, const char *name, int mode) {
    size_t need = 0;
    csbot_session_save(s, NULL, 0, &need);
    unsigned char *b = malloc(need);
    if (!b || csbot_session_save(s, b, need, &need))
        exit(1);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char m = (unsigned char)mode;
    if (!f || fwrite(&m, 1, 1, f) != 1 || fwrite(b, 1, need, f) != need || fclose(f))
        exit(1);
    free(b);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus/restore";
    csbot_kb *kb;
    csbot_error err = CSBOT_ERROR_INIT;
    if (csbot_kb_load_file(&kb, "intents/demo.json", NULL, &err))
        return 1;
    static const char *const convs[][6] = {
        {"你好", NULL},
        {"我的快递到哪了", "202411223344", "谢谢", NULL},
        {"where is my parcel", "my order is 123456789012345", "thanks", NULL},
        {"請問可以退貨嗎", "退款多久到账", "转人工", "还在吗", NULL},
        {"this is ridiculous, worst service", "scam", "hello?", NULL},
        {"asdf qwer", "zxcv", "???", "purple monkey", NULL},
        {"我要投诉", "电话13812345678 邮箱a@b.cn", "运费多少", "包邮吗", "退钱", "ok"},
    };
    int64_t now = 1764750000000LL;
    char name[64];
    for (size_t c = 0; c < sizeof convs / sizeof convs[0]; c++) {
        csbot_session_options o = CSBOT_SESSION_OPTIONS_INIT;
        o.clock = clk;
        o.clock_ud = &now;
        o.transcript_turns = c == 6 ? 4 : 0;
        csbot_session *s;
        if (csbot_session_new(&s, kb, &o))
            return 1;
        if (c == 2)
            csbot_session_set_profile(s, "name", "Li");
        if (c == 3) {
            csbot_session_set_profile(s, "level", "vip");
            csbot_session_set_profile(s, "lang", "zh-Hant");
        }
        for (int i = 0; i < 6 && convs[c][i]; i++) {
            const csbot_reply *r;
            csbot_session_reply(s, convs[c][i], CSBOT_NUL_TERMINATED, &r);
            now += 15000;
            if (i == 1)
                csbot_session_feedback(s, 1, (int)(c % 5) + 1);
        }
        snprintf(name, sizeof name, "state-%zu", c);
        dump(s, dir, name, 1);
        if (c == 1) {
            snprintf(name, sizeof name, "state-%zu-raw", c);
            dump(s, dir, name, 0);
        }
        csbot_session_free(s);
    }
    csbot_session *s;
    csbot_session_new(&s, kb, NULL);
    dump(s, dir, "state-fresh", 1);
    csbot_session_handoff(s);
    dump(s, dir, "state-human", 1);
    csbot_session_free(s);
    csbot_kb_free(kb);
    return 0;
}
