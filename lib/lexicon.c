/*
 * lexicon.c - the built-in phrase lists: a detector of anger and frustration
 * in Chinese and English, and the phrases with which customers ask for a
 * person ("转人工", "talk to a human"), which hand off at any point of a
 * conversation, also while the bot is asking for an order number.
 *
 * Sentiment: The score in [0,1] is 1 - exp(-x), where x adds the weights of
 * the negative words and phrases found (built-in list plus the knowledge
 * base's own), and bonuses for shouting (mostly capital letters), repeated
 * exclamation marks and angry emoji. One strong word ("骗子", "scam") gives
 * about 0.63-0.70; a weak one ("失望", "disappointed") about 0.4, so it takes
 * two signals to pass the default threshold of 0.6. Longer phrases win, so a
 * neutral phrase of weight 0 ("垃圾袋", a bin bag) hides the word inside it.
 */
#include <math.h>

#include "lexicon.h"
#include "utf8.h"

typedef struct lexentry {
    const char *phrase;
    float weight;
} lexentry;

static const lexentry lexicon[] = {
    /* Chinese */
    {"垃圾", 1.0f}, {"垃圾袋", 0.0f}, {"垃圾桶", 0.0f}, {"垃圾分类", 0.0f},
    {"骗子", 1.2f}, {"骗人", 1.0f}, {"欺骗", 1.0f}, {"差评", 1.0f},
    {"气死", 1.2f}, {"太差", 0.8f}, {"破东西", 1.0f}, {"坑人", 1.0f},
    {"黑店", 1.2f}, {"无语", 0.5f}, {"失望", 0.5f}, {"恶心", 0.8f},
    {"忍无可忍", 1.2f}, {"烦死", 1.0f}, {"受不了", 0.8f}, {"废物", 1.0f},
    {"搞什么", 0.6f}, {"什么破", 0.8f}, {"12315", 1.0f}, {"消协", 1.0f},
    {"举报", 0.8f}, {"起诉", 1.0f}, {"曝光", 0.8f}, {"坑爹", 1.0f},
    {"太坑", 1.0f}, {"妈的", 1.2f}, {"他妈", 1.2f}, {"妈妈的", 0.0f}, {"他妈妈", 0.0f}, {"tmd", 1.2f},
    {"去死", 1.2f}, {"混蛋", 1.2f}, {"不要脸", 1.2f}, {"什么态度", 1.0f},
    {"态度差", 1.0f}, {"态度太差", 1.0f}, {"再也不买", 1.0f}, {"后悔", 0.5f},
    {"生气", 0.8f}, {"愤怒", 1.0f}, {"火大", 1.0f}, {"离谱", 0.8f},
    {"太慢了", 0.4f}, {"磨磨唧唧", 0.6f}, {"敷衍", 0.8f}, {"不满意", 0.5f},
    {"糟糕", 0.6f}, {"糟透", 1.0f}, {"退钱", 0.3f},
    /* English */
    {"ridiculous", 1.0f}, {"worst", 1.0f}, {"terrible", 0.8f},
    {"awful", 0.8f}, {"horrible", 0.8f}, {"scam", 1.2f}, {"scammers", 1.2f},
    {"fraud", 1.2f}, {"unacceptable", 1.0f}, {"angry", 0.8f},
    {"furious", 1.2f}, {"pissed", 1.0f}, {"disgusting", 1.0f},
    {"useless", 0.8f}, {"rubbish", 0.8f}, {"garbage", 0.8f},
    {"garbage bag", 0.0f}, {"garbage bags", 0.0f}, {"fed up", 0.8f},
    {"sick of", 0.8f}, {"disappointed", 0.5f}, {"never again", 0.8f},
    {"what the hell", 1.0f}, {"wtf", 1.0f}, {"rip off", 1.0f},
    {"ripoff", 1.0f}, {"pathetic", 1.0f}, {"incompetent", 1.0f},
    {"liar", 1.0f}, {"liars", 1.0f}, {"lying", 0.6f}, {"waste of money", 0.8f},
    {"waste of time", 0.8f}, {"joke", 0.4f}, {"hate", 0.6f},
    {"damn", 0.8f}, {"shit", 1.2f}, {"fuck", 1.2f}, {"fucking", 1.2f},
    {"bullshit", 1.2f}, {"sue you", 1.0f}, {"lawyer", 0.6f},
    {"bad review", 1.0f}, {"1 star", 0.8f}, {"one star", 0.8f},
    {"annoyed", 0.6f}, {"frustrated", 0.8f}, {"frustrating", 0.8f},
    {"unbelievable", 0.6f}, {"so slow", 0.4f},
};

/* Ways of asking for a person. Weight 2: a request in itself ("转人工",
 * "talk to a human"), which hands off whatever else the message says.
 * Weight 1: a noun phrase ("人工客服", "human agent") that usually is a
 * request but can be the subject of a question ("人工客服几点上班"), so it
 * hands off unless an intent other than a handoff intent is clearly meant.
 * Weight 0 masks: "人工智能" (AI) contains "人工". */
static const lexentry requests[] = {
    {"转人工", 2}, {"找人工", 2}, {"要人工", 2}, {"接人工", 2},
    {"转接人工", 2}, {"转个人工", 2}, {"叫人工", 2}, {"换人工", 2},
    {"人工客服", 1}, {"人工服务", 1}, {"真人客服", 1}, {"人工坐席", 1},
    {"人工智能", 0}, {"人工智能客服", 0},
    {"talk to a human", 2}, {"speak to a human", 2}, {"talk with a human", 2},
    {"speak with a human", 2}, {"talk to a person", 2},
    {"speak to a person", 2}, {"talk to a real person", 2},
    {"speak to a real person", 2}, {"talk to someone", 2},
    {"speak to someone", 2}, {"connect me to an agent", 2},
    {"human please", 2}, {"agent please", 2},
    {"human agent", 1}, {"live agent", 1}, {"live person", 1},
    {"customer service representative", 1}, {"a representative", 1},
    {"real agent", 1},
};

static int add_static(csbot_kb *kb, csbot__scratch *s, csbot__phrases *ph,
                      const lexentry *tab, size_t n) {
    const csbot__alloc *a = &kb->alloc;
    ph->p = csbot__calloc(a, n, sizeof *ph->p);
    if (!ph->p)
        return CSBOT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        csbot__buf b = {0};
        int rc = csbot__match_normalize(kb, s, tab[i].phrase,
                                        strlen(tab[i].phrase), &b, 0);
        if (rc) {
            csbot__buf_free(a, &b);
            return rc;
        }
        csbot__phrase *p = &ph->p[ph->n];
        p->from = b.data;
        p->fromlen = b.len;
        p->to = csbot__strdup(a, "");
        p->tolen = 0;
        p->weight = tab[i].weight;
        p->latin = (unsigned char)b.data[0] < 0x80 &&
                   !((unsigned char)b.data[0] >= '0' &&
                     (unsigned char)b.data[0] <= '9');
        ph->n++;
        if (!p->to)
            return CSBOT_ENOMEM;
    }
    return CSBOT_OK;
}

int csbot__sentiment_defaults(csbot_kb *kb, csbot__scratch *s) {
    int rc = add_static(kb, s, &kb->sentiment, lexicon,
                        sizeof lexicon / sizeof lexicon[0]);
    if (!rc)
        rc = add_static(kb, s, &kb->request, requests,
                        sizeof requests / sizeof requests[0]);
    return rc;
}

static int angry_emoji(uint32_t cp) {
    return cp == 0x1F620 || cp == 0x1F621 || cp == 0x1F624 ||
           cp == 0x1F92C || cp == 0x1F595 || cp == 0x1F47F;
}

float csbot__sentiment_score(const csbot_kb *kb, const csbot__scratch *s,
                             const char *raw, size_t len) {
    float x = csbot__phrases_score(&kb->sentiment, s->norm0.data ? s->norm0.data : "",
                                   s->norm0.len, NULL);
    const csbot__script *sc = &s->sc;
    if (sc->excl >= 3)
        x += 0.4f;
    else if (sc->excl == 2)
        x += 0.15f;
    if (sc->upper >= 8 && sc->latin && sc->upper * 10 >= sc->latin * 7)
        x += 0.5f;
    const unsigned char *p = (const unsigned char *)raw, *e = p + len;
    unsigned emo = 0;
    while (p < e) {
        uint32_t cp;
        p += csbot__utf8_next(p, &cp);
        emo += (unsigned)angry_emoji(cp);
    }
    if (emo)
        x += emo >= 2 ? 0.8f : 0.5f;
    if (x <= 0)
        return 0.0f;
    return 1.0f - expf(-x);
}
