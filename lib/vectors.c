/*
 * vectors.c - the knowledge base's example vectors (sentence encoder,
 * encoder.c): the stored form a knowledge base carries them in (one byte
 * per component in base64, intents/SCHEMA.md), the reference cosine (how
 * near an in-scope message's nearest example usually is at the least),
 * and, for a message's vector, the cosine with each intent's nearest
 * example.
 *
 * Vectors are kept as signed bytes: a unit vector's components are small
 * (about 0.044 on average for 512), so scaling its largest to 127 keeps a
 * cosine to within about 0.002 at a quarter of the memory, and the scan
 * over all examples is integer dot products the compiler vectorises
 * (BANKING77: 10,003 examples, 5 MB).
 */
#include <math.h>
#include <stdlib.h>

#include "model.h"
#include "vectors.h"

#define DIM CSBOT__ENC_DIM
_Static_assert(CSBOT__VEC_B64 == CSBOT_ENCODER_STORED_LEN,
               "the stored form's length in csbot.h");

void csbot__vec_quantize(const float *v, int8_t *q) {
    float mx = 0.0f;
    for (size_t j = 0; j < DIM; j++)
        mx = fabsf(v[j]) > mx ? fabsf(v[j]) : mx;
    float s = mx > 0.0f ? 127.0f / mx : 0.0f;
    for (size_t j = 0; j < DIM; j++)
        q[j] = (int8_t)lrintf(v[j] * s);
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int csbot__vec_decode(const char *b64, size_t len, int8_t *q) {
    if (len != CSBOT__VEC_B64)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t x = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)b64[i + k];
            int v = b64val(c);
            if (v < 0) {
                /* padding only at the end */
                if (c != '=' || i + 4 != len || k < 2)
                    return -1;
                v = 0;
                pad++;
            } else if (pad) {
                return -1;
            }
            x = x << 6 | (uint32_t)v;
        }
        unsigned char b[3] = {(unsigned char)(x >> 16), (unsigned char)(x >> 8),
                              (unsigned char)x};
        for (int k = 0; k < 3 - pad; k++) {
            if (o == DIM)
                return -1;
            q[o++] = (int8_t)b[k];
        }
    }
    return o == DIM ? 0 : -1;
}

CSBOT_API int csbot_encoder_encode_stored(const csbot_encoder *enc,
                                          const char *text, size_t len,
                                          char *out) {
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    float v[DIM];
    int8_t q[DIM];
    if (!out)
        return CSBOT_EINVAL;
    int rc = csbot_encoder_encode(enc, text, len, v);
    if (rc)
        return rc;
    csbot__vec_quantize(v, q);
    size_t o = 0;
    for (size_t i = 0; i < DIM; i += 3) {
        size_t n = DIM - i < 3 ? DIM - i : 3;
        uint32_t x = 0;
        for (size_t k = 0; k < 3; k++)
            x = x << 8 | (k < n ? (uint8_t)q[i + k] : 0u);
        for (size_t k = 0; k < 4; k++)
            out[o++] = k <= n ? b64[(x >> (18 - 6 * k)) & 63] : '=';
    }
    out[o] = '\0';
    return CSBOT_OK;
}

/* 1 / the length of a row of bytes (0 for zeros). */
static float inv_length(const int8_t *q) {
    int64_t ss = 0;
    for (size_t j = 0; j < DIM; j++)
        ss += (int32_t)q[j] * q[j];
    return ss > 0 ? (float)(1.0 / sqrt((double)ss)) : 0.0f;
}

int csbot__vecs_add(const csbot__alloc *a, csbot__vecs *vs, const int8_t *q,
                    uint32_t label) {
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 64;
        int8_t *v = csbot__realloc(a, vs->v, cap * DIM);
        if (!v)
            return CSBOT_ENOMEM;
        vs->v = v;
        float *inv = csbot__realloc(a, vs->inv, cap * sizeof *inv);
        if (!inv)
            return CSBOT_ENOMEM;
        vs->inv = inv;
        uint32_t *lab = csbot__realloc(a, vs->label, cap * sizeof *lab);
        if (!lab)
            return CSBOT_ENOMEM;
        vs->label = lab;
        vs->cap = cap;
    }
    memcpy(vs->v + vs->n * DIM, q, DIM);
    vs->inv[vs->n] = inv_length(q);
    vs->label[vs->n] = label;
    vs->n++;
    return CSBOT_OK;
}

/* The integer dot product of two rows. On x86-64 with GCC or Clang a
 * second copy is built for AVX2 and chosen at run time (as in encoder.c). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
static int32_t dot8(const int8_t *restrict x, const int8_t *restrict y) {
    int32_t s = 0;
    for (size_t j = 0; j < DIM; j++)
        s += (int16_t)x[j] * (int16_t)y[j];
    return s;
}

float csbot__vecs_nearest(const csbot__vecs *vs, const float *q, int8_t *qq,
                          float *best, size_t nclass) {
    csbot__vec_quantize(q, qq);
    float qinv = inv_length(qq);
    for (size_t c = 0; c < nclass; c++)
        best[c] = 0.0f;
    for (size_t i = 0; i < vs->n; i++) {
        uint32_t c = vs->label[i];
        float cs = (float)dot8(qq, vs->v + i * DIM) * qinv * vs->inv[i];
        if (c < nclass && cs > best[c])
            best[c] = cs;
    }
    float mx = 0.0f;
    for (size_t c = 0; c < nclass; c++)
        mx = best[c] > mx ? best[c] : mx;
    return mx;
}

int csbot__vecs_finish(const csbot__alloc *a, csbot__vecs *vs) {
    vs->ref = 0.0f;
    if (vs->n < 2)
        return CSBOT_OK;
    float *near = csbot__malloc(a, vs->n * sizeof *near);
    if (!near)
        return CSBOT_ENOMEM;
    /* each class's rows [lo, hi) are contiguous (vectors.h) */
    size_t m = 0;
    for (size_t lo = 0, hi; lo < vs->n; lo = hi) {
        for (hi = lo + 1; hi < vs->n && vs->label[hi] == vs->label[lo]; hi++)
            ;
        size_t cnt = hi - lo;
        size_t step = cnt > CSBOT__VEC_PEERS ? cnt / CSBOT__VEC_PEERS : 1;
        for (size_t e = lo; cnt > 1 && e < hi; e++) {
            float best = -1.0f;
            for (size_t f = lo + (e - lo) % step; f < hi; f += step) {
                if (f == e)
                    continue;
                float cs = (float)dot8(vs->v + e * DIM, vs->v + f * DIM) *
                           vs->inv[e] * vs->inv[f];
                best = cs > best ? cs : best;
            }
            if (best > -1.0f)
                near[m++] = best;
        }
    }
    if (m)
        vs->ref = csbot__quantile(near, m, 0.05f);
    csbot__free(a, near);
    return CSBOT_OK;
}

void csbot__vecs_free(const csbot__alloc *a, csbot__vecs *vs) {
    csbot__free(a, vs->v);
    csbot__free(a, vs->inv);
    csbot__free(a, vs->label);
    memset(vs, 0, sizeof *vs);
}
