/*
 * jsondiag.c - the JSON text itself, for diagnostics: a JSON path built as
 * the loader walks the document ("$.intents[3].patterns[1]"), the place of
 * a path in the text (for the line and column of an error), the place of a
 * syntax error cJSON reports one byte off, the string with a "\u0000"
 * escape, the second member of a duplicated key. It knows nothing of a
 * knowledge base and does not include cJSON: it reads the text as written,
 * escapes not decoded, and only on the way to an error or a warning (and
 * one scan for "\u0000" per load).
 */
#include <stdio.h>

#include "jsondiag.h"

/* ---- JSON path tracking ---- */

/* A key of letters, digits, '_' and '-' is written ".key"; any other key
 * (a slot named "order.id", a shop variable in Chinese) as ["key"] with '"'
 * and '\\' escaped, so that the path stays unambiguous and csbot__json_locate finds
 * the value. */
static int plain_key(const char *key) {
    if (!*key)
        return 0;
    for (; *key; key++)
        if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') ||
              (*key >= '0' && *key <= '9') || *key == '_' || *key == '-'))
            return 0;
    return 1;
}

static void path_putc(csbot__jpath *jp, char c) {
    if (jp->len + 1 < sizeof jp->s) {
        jp->s[jp->len++] = c;
        jp->s[jp->len] = '\0';
    }
}

size_t csbot__jpath_push_key(csbot__jpath *jp, const char *key) {
    size_t old = jp->len;
    if (plain_key(key)) {
        path_putc(jp, '.');
        for (; *key; key++)
            path_putc(jp, *key);
        return old;
    }
    path_putc(jp, '[');
    path_putc(jp, '"');
    for (; *key; key++) {
        if (*key == '"' || *key == '\\')
            path_putc(jp, '\\');
        path_putc(jp, *key);
    }
    path_putc(jp, '"');
    path_putc(jp, ']');
    return old;
}

/* A key as written in the JSON text (escapes not decoded). */
size_t csbot__jpath_push_raw(csbot__jpath *jp, const char *k, size_t n) {
    size_t old = jp->len;
    int plain = n > 0;
    for (size_t i = 0; i < n; i++)
        plain &= (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
                 (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-';
    path_putc(jp, plain ? '.' : '[');
    if (!plain)
        path_putc(jp, '"');
    for (size_t i = 0; i < n; i++)
        path_putc(jp, k[i]);
    if (!plain) {
        path_putc(jp, '"');
        path_putc(jp, ']');
    }
    return old;
}

size_t csbot__jpath_push_idx(csbot__jpath *jp, size_t i) {
    size_t old = jp->len;
    int n = snprintf(jp->s + jp->len, sizeof jp->s - jp->len, "[%zu]", i);
    if (n > 0)
        jp->len = CSBOT_MIN(jp->len + (size_t)n, sizeof jp->s - 1);
    return old;
}

void csbot__jpath_pop(csbot__jpath *jp, size_t old) {
    jp->len = old;
    jp->s[old] = '\0';
}

/* ---- locating a JSON path in the text (for line and column) ---- */

size_t csbot__json_skip_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static size_t skip_string(const char *s, size_t n, size_t i) {
    /* s[i] == '"' */
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t n, size_t i) {
    i = csbot__json_skip_ws(s, n, i);
    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < n; i++) {
            if (s[i] == '"') {
                i = skip_string(s, n, i) - 1;
            } else if (s[i] == '{' || s[i] == '[') {
                depth++;
            } else if (s[i] == '}' || s[i] == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']')
        i++;
    return i;
}

/* Where the JSON starts: after a UTF-8 byte order mark, which cJSON skips
 * too (editors on Windows write one). */
size_t csbot__json_skip_bom(const char *s, size_t n) {
    return n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Offset of the value of the nth member whose key is k[0..klen) (as written
 * in the text) of the object at s[i]; i when there is none. */
static size_t member_at(const char *s, size_t n, size_t i, const char *k,
                        size_t klen, int nth) {
    if (i >= n || s[i] != '{')
        return i;
    size_t j = csbot__json_skip_ws(s, n, i + 1);
    while (j < n && s[j] == '"') {
        size_t ke = skip_string(s, n, j);
        size_t v = csbot__json_skip_ws(s, n, csbot__json_skip_ws(s, n, ke) + 1);
        if (ke - j - 2 == klen && memcmp(s + j + 1, k, klen) == 0 &&
            --nth == 0)
            return v;
        j = csbot__json_skip_ws(s, n, skip_value(s, n, v));
        if (j < n && s[j] == ',')
            j = csbot__json_skip_ws(s, n, j + 1);
    }
    return i;
}


/* Offset of the value at path ("$.a[2].b", "$.slots[\"a.b\"]"), or of the
 * nearest ancestor. */
size_t csbot__json_locate(const char *s, size_t n, const char *path) {
    size_t i = csbot__json_skip_ws(s, n, csbot__json_skip_bom(s, n));
    const char *p = path + (path[0] == '$');
    while (*p && i < n) {
        if (*p == '.' || (p[0] == '[' && p[1] == '"')) {
            const char *k;
            if (*p == '.') {
                k = ++p;
                while (*p && *p != '.' && *p != '[')
                    p++;
            } else {
                /* ["key"]: the key as written in JSON, up to the '"' that
                 * is not escaped */
                k = p += 2;
                while (*p && *p != '"')
                    p += (p[0] == '\\' && p[1]) ? 2 : 1;
                if (p[0] != '"' || p[1] != ']')
                    return i; /* cut short: the path was too long */
            }
            size_t klen = (size_t)(p - k);
            if (*p == '"')
                p += 2;
            size_t found = member_at(s, n, i, k, klen, 1);
            if (found == i)
                return i; /* not an object, or no such key */
            i = found;
        } else if (*p == '[') {
            size_t idx = 0;
            for (p++; *p >= '0' && *p <= '9'; p++)
                idx = idx * 10 + (size_t)(*p - '0');
            if (*p == ']')
                p++;
            if (s[i] != '[')
                return i;
            size_t j = csbot__json_skip_ws(s, n, i + 1);
            for (size_t k = 0; k < idx && j < n; k++) {
                j = csbot__json_skip_ws(s, n, skip_value(s, n, j));
                if (j < n && s[j] == ',')
                    j = csbot__json_skip_ws(s, n, j + 1);
                else
                    return i;
            }
            i = j;
        } else {
            break;
        }
    }
    return i;
}

size_t csbot__json_nth_member(const char *s, size_t n, size_t i, const char *key,
                              int nth) {
    return member_at(s, n, i, key, strlen(key), nth);
}

/* ---- syntax errors ---- */

/* cJSON's parse end points at the byte where parsing failed, except for an
 * object key that is not a string ({csbot: 1}, {'a': 1}, {"a": 1,,}): there
 * it points one byte past the key's first byte. Recognise that case (the
 * byte before the parse end is where a key must start: after '{', or after
 * a ',' inside an object) and move back onto the key. */
size_t csbot__json_syntax_offset(const char *s, size_t n, size_t off) {
    if (off == 0 || off > n)
        return off;
    size_t p = off - 1;
    if (s[p] == '"' || s[p] == ' ' || s[p] == '\t' || s[p] == '\n' ||
        s[p] == '\r')
        return off;
    size_t q = p;
    while (q > 0 && (s[q - 1] == ' ' || s[q - 1] == '\t' || s[q - 1] == '\n' ||
                     s[q - 1] == '\r'))
        q--;
    if (q == 0)
        return off;
    if (s[q - 1] == '{') /* a key, unless the object was empty */
        return s[p] == '}' ? off : p;
    if (s[q - 1] != ',')
        return off;
    /* the container that the ',' is in */
    char open[1100];
    size_t depth = 0;
    for (size_t i = 0; i + 1 < q; i++) {
        if (s[i] == '"') {
            i = skip_string(s, n, i) - 1;
        } else if (s[i] == '{' || s[i] == '[') {
            if (depth == sizeof open)
                return off;
            open[depth++] = s[i];
        } else if ((s[i] == '}' || s[i] == ']') && depth) {
            depth--;
        }
    }
    return depth && open[depth - 1] == '{' ? p : off;
}

/* ---- NUL escapes ---- */

/* cJSON decodes "\u0000" into a NUL byte, which silently cuts a C string
 * short: an id "ok\u0000junk" would load as "ok". Texts may not contain NUL
 * (messages may not either), so the (valid) JSON text is searched for such
 * an escape and the string's path reported. */
static int string_has_nul(const char *s, size_t n, size_t i, size_t *end) {
    int nul = 0;
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] != '\\')
            continue;
        if (n - i > 5 && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
            nul = 1;
        i++;
    }
    *end = i < n ? i + 1 : n;
    return nul;
}

/* The offset after the value at s[i]. Sets *found, with the path naming
 * the string, at the first string (value or key) with a NUL escape. The
 * recursion is as deep as the document, which cJSON has limited. */
static size_t find_nul(const char *s, size_t n, csbot__jpath *jp, size_t i,
                       int *found) {
    size_t e;
    i = csbot__json_skip_ws(s, n, i);
    if (i >= n)
        return n;
    if (s[i] == '"') {
        *found = string_has_nul(s, n, i, &e);
        return e;
    }
    if (s[i] != '{' && s[i] != '[')
        return skip_value(s, n, i);
    int obj = s[i] == '{';
    size_t k = 0;
    i = csbot__json_skip_ws(s, n, i + 1);
    while (i < n && s[i] != '}' && s[i] != ']') {
        size_t old;
        if (obj) {
            *found = string_has_nul(s, n, i, &e);
            old = csbot__jpath_push_raw(jp, s + i + 1, e - i - 2);
            if (*found)
                return i;
            i = csbot__json_skip_ws(s, n, e) + 1; /* past the ':' */
        } else {
            old = csbot__jpath_push_idx(jp, k++);
        }
        i = find_nul(s, n, jp, i, found);
        if (*found)
            return i;
        csbot__jpath_pop(jp, old);
        i = csbot__json_skip_ws(s, n, i);
        if (i < n && s[i] == ',')
            i = csbot__json_skip_ws(s, n, i + 1);
    }
    return i < n ? i + 1 : n;
}


int csbot__json_find_nul(const char *s, size_t n, csbot__jpath *path) {
    int found = 0;
    for (size_t i = 0; i + 6 <= n && !found; i++)
        found = s[i] == '\\' && memcmp(s + i + 1, "u0000", 5) == 0;
    if (!found)
        return 0; /* the common case: no need to walk the text */
    found = 0;
    find_nul(s, n, path, csbot__json_skip_bom(s, n), &found);
    return found;
}
