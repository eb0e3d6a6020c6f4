/*
 * error.c - error codes, their static texts, and the csbot_error record that
 * knowledge-base loads fill: message, source, JSON path, line and column.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

CSBOT_API const char *csbot_strerror(int code) {
    switch (code) {
    case CSBOT_OK: return "success";
    case CSBOT_ENOMEM: return "out of memory";
    case CSBOT_EINVAL: return "invalid argument or misuse";
    case CSBOT_EIO: return "cannot read file";
    case CSBOT_EJSON: return "invalid JSON";
    case CSBOT_ESCHEMA: return "knowledge base does not follow the schema";
    case CSBOT_EREGEX: return "invalid regular expression";
    case CSBOT_EUTF8: return "invalid UTF-8 text";
    case CSBOT_ETOOBIG: return "input too large";
    case CSBOT_ECALLBACK: return "callback returned an error";
    case CSBOT_EEMPTY: return "empty message";
    case CSBOT_ESTATE: return "invalid saved session state";
    case CSBOT_ECONVERT: return "Chinese conversion data unavailable";
    case CSBOT_ERANGE: return "index or value out of range";
    case CSBOT_EHUMAN: return "a human agent has the conversation";
    case CSBOT_EDATA: return "data file damaged or of another format";
    default: return "unknown error";
    }
}

void csbot__error_reset(csbot_error *err, const char *source) {
    if (!err)
        return;
    unsigned v = err->version;
    memset(err, 0, sizeof *err);
    err->version = v;
    if (source)
        csbot__copy_out(err->source, sizeof err->source, source,
                        strlen(source));
}

void csbot__error_set(csbot_error *err, int code, const char *path,
                      const char *fmt, ...) {
    if (!err)
        return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    if (path)
        csbot__copy_out(err->json_path, sizeof err->json_path, path,
                        strlen(path));
}

void csbot__error_locate(csbot_error *err, const char *text, size_t len,
                         size_t offset) {
    if (!err)
        return;
    if (offset > len)
        offset = len;
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    err->line = line;
    err->column = col;
    err->offset = offset;
}

CSBOT_API size_t csbot_error_format(const csbot_error *err, char *buf,
                                    size_t size) {
    char tmp[1024];
    if (!err)
        return csbot__copy_out(buf, size, "", 0);
    int n;
    const char *src = err->source[0] ? err->source : "<input>";
    const char *path = err->json_path[0] ? err->json_path : NULL;
    if (err->line && path)
        n = snprintf(tmp, sizeof tmp, "%s:%u:%u: %s: %s", src, err->line,
                     err->column, path, err->message);
    else if (err->line)
        n = snprintf(tmp, sizeof tmp, "%s:%u:%u: %s", src, err->line,
                     err->column, err->message);
    else if (path)
        n = snprintf(tmp, sizeof tmp, "%s: %s: %s", src, path, err->message);
    else
        n = snprintf(tmp, sizeof tmp, "%s: %s", src, err->message);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    return csbot__copy_out(buf, size, tmp, len);
}
