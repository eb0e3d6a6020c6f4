/*
 * buf.c - growable byte buffers. Sessions keep their buffers between turns so
 * that, once warm, replying does not allocate. Also JSON string escaping for
 * the JSON the library writes (handoff packets, statistics), and reading a
 * whole file (knowledge bases, the encoder).
 *
 * A failed read is explained from errno through a table of its own
 * (errno_text), not strerror(): strerror() may return a buffer shared by all
 * threads, and its text follows the process's locale, whereas the library
 * promises to be thread-safe and locale-independent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int csbot__buf_reserve(const csbot__alloc *a, csbot__buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap)
        return CSBOT_OK;
    void *p = b->data;
    int rc = csbot__grow(a, &p, &b->cap, b->len + extra + 1, 1);
    b->data = p;
    return rc;
}

int csbot__buf_append(const csbot__alloc *a, csbot__buf *b, const char *s,
                      size_t n) {
    if (csbot__buf_reserve(a, b, n))
        return CSBOT_ENOMEM;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CSBOT_OK;
}

int csbot__buf_puts(const csbot__alloc *a, csbot__buf *b, const char *s) {
    return csbot__buf_append(a, b, s, strlen(s));
}

int csbot__buf_putc(const csbot__alloc *a, csbot__buf *b, char c) {
    return csbot__buf_append(a, b, &c, 1);
}

int csbot__buf_printf(const csbot__alloc *a, csbot__buf *b, const char *fmt,
                      ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CSBOT_EINVAL;
    if (csbot__buf_reserve(a, b, (size_t)n))
        return CSBOT_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CSBOT_OK;
}

int csbot__buf_json_str(const csbot__alloc *a, csbot__buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    if (!s)
        return csbot__buf_puts(a, b, "null");
    if (csbot__buf_putc(a, b, '"'))
        return CSBOT_ENOMEM;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7];
        const char *out = NULL;
        size_t n = 2;
        switch (*p) {
        case '"': out = "\\\""; break;
        case '\\': out = "\\\\"; break;
        case '\n': out = "\\n"; break;
        case '\r': out = "\\r"; break;
        case '\t': out = "\\t"; break;
        default:
            if (*p < 0x20) {
                esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15]; esc[6] = 0;
                out = esc;
                n = 6;
            }
        }
        int rc = out ? csbot__buf_append(a, b, out, n)
                     : csbot__buf_putc(a, b, (char)*p);
        if (rc)
            return rc;
    }
    return csbot__buf_putc(a, b, '"');
}

void csbot__buf_clear(csbot__buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void csbot__buf_free(const csbot__alloc *a, csbot__buf *b) {
    csbot__free(a, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* The text of the errno values that fopen() and fread() can leave, as glibc
 * words them; others become "error N" in buf. */
static const char *errno_text(int e, char *buf, size_t size) {
    static const struct {
        int code;
        const char *text;
    } tab[] = {
        {ENOENT, "No such file or directory"},
        {EACCES, "Permission denied"},
        {EPERM, "Operation not permitted"},
        {EISDIR, "Is a directory"},
        {ENOTDIR, "Not a directory"},
        {ENAMETOOLONG, "File name too long"},
        {ELOOP, "Too many levels of symbolic links"},
        {EMFILE, "Too many open files"},
        {ENFILE, "Too many open files in system"},
        {ENOMEM, "Cannot allocate memory"},
        {EIO, "Input/output error"},
        {EINVAL, "Invalid argument"},
        {EOVERFLOW, "Value too large for defined data type"},
        {EFBIG, "File too large"},
        {ENXIO, "No such device or address"},
        {ENODEV, "No such device"},
        {EINTR, "Interrupted system call"},
        {EAGAIN, "Resource temporarily unavailable"},
        {EBADF, "Bad file descriptor"},
        {ESTALE, "Stale file handle"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].code == e)
            return tab[i].text;
    snprintf(buf, size, "error %d", e);
    return buf;
}

size_t csbot__copy_out(char *dst, size_t size, const char *src, size_t len) {
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        if (n)
            memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

int csbot__buf_read_file(const csbot__alloc *a, csbot__buf *b, const char *path,
                         size_t max, const char *what, csbot_error *err) {
    char ebuf[32];
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        csbot__error_set(err, CSBOT_EIO, "", "cannot open: %s",
                         errno_text(e, ebuf, sizeof ebuf));
        return CSBOT_EIO;
    }
    char chunk[65536];
    size_t n;
    int rc = CSBOT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > max) {
            rc = CSBOT_ETOOBIG;
            csbot__error_set(err, rc, "", "%s over %zu MiB", what, max >> 20);
            break;
        }
        if ((rc = csbot__buf_append(a, b, chunk, n))) {
            csbot__error_set(err, rc, "", "out of memory");
            break;
        }
    }
    if (!rc && ferror(f)) {
        int e = errno;
        rc = CSBOT_EIO;
        csbot__error_set(err, rc, "", "read error: %s",
                         errno_text(e, ebuf, sizeof ebuf));
    }
    fclose(f);
    return rc;
}
