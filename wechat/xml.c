/*
 * xml.c - WeChat's XML with libxml2: reading a message (the text of each
 * child of <xml>) with the network, DTDs and entity substitution off, and
 * writing passive replies with xmlTextWriter (strings as CDATA); and the
 * module's one-time set-up of libxml2 and libcurl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <curl/curl.h>

#include "wx.h"

enum { MAX_FIELDS = 64 };

struct wx_fields {
    size_t n;
    char *name[MAX_FIELDS];
    char *value[MAX_FIELDS];
};

/* libxml2 and libcurl set up their globals once, before any thread runs */
void wx_global_init(void) {
    xmlInitParser();
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void wx_global_cleanup(void) {
    curl_global_cleanup();
    xmlCleanupParser();
}

void wx_fields_free(wx_fields *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        xmlFree(f->name[i]);
        xmlFree(f->value[i]);
    }
    free(f);
}

const char *wx_field(const wx_fields *f, const char *name) {
    for (size_t i = 0; f && i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

/* A DTD is where entity tricks live (billion laughs, external entities):
 * a message never has one, so any "<!" that is not CDATA or a comment is
 * refused before the parser sees it. */
static int has_declaration(const char *s, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '<' || s[i + 1] != '!')
            continue;
        if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0)
            continue;
        if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0)
            continue;
        return 1;
    }
    return 0;
}

/* The text directly inside node (text and CDATA children). */
static char *node_text(xmlNode *node) {
    size_t len = 0;
    for (xmlNode *c = node->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            len += strlen((const char *)c->content);
    char *out = xmlMalloc(len + 1);
    if (!out)
        return NULL;
    size_t at = 0;
    for (xmlNode *c = node->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t n = strlen((const char *)c->content);
            memcpy(out + at, c->content, n);
            at += n;
        }
    out[at] = '\0';
    return out;
}

int wx_xml_parse(const char *body, size_t len, wx_fields **out, char *err,
                 size_t errlen) {
    *out = NULL;
    if (!body || len == 0) {
        snprintf(err, errlen, "empty body");
        return -1;
    }
    if (len > WX_MAX_XML) {
        snprintf(err, errlen, "body over %d bytes", WX_MAX_XML);
        return -1;
    }
    if (has_declaration(body, len)) {
        snprintf(err, errlen, "a DTD or declaration is not allowed");
        return -1;
    }
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* no XML_PARSE_NOENT (no entity substitution), no DTD loading, no
     * network, no error printing, and libxml2's default depth limit */
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, body, (int)len, NULL, "UTF-8",
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING);
    int rc = -1;
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        snprintf(err, errlen, "malformed XML%s%s", e && e->message ? ": " : "",
                 e && e->message ? e->message : "");
        /* libxml2's messages end with a newline */
        size_t n = strlen(err);
        if (n && err[n - 1] == '\n')
            err[n - 1] = '\0';
        goto done;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset || !root ||
        strcmp((const char *)root->name, "xml") != 0) {
        snprintf(err, errlen, "the root element must be <xml>");
        goto done;
    }
    wx_fields *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (f->n == MAX_FIELDS) {
            snprintf(err, errlen, "more than %d fields", MAX_FIELDS);
            wx_fields_free(f);
            goto done;
        }
        f->name[f->n] = (char *)xmlStrdup(c->name);
        f->value[f->n] = node_text(c);
        if (!f->name[f->n] || !f->value[f->n]) {
            xmlFree(f->name[f->n]);
            xmlFree(f->value[f->n]);
            snprintf(err, errlen, "out of memory");
            wx_fields_free(f);
            goto done;
        }
        f->n++;
    }
    *out = f;
    rc = 0;
done:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    return rc;
}

/* --- writing -------------------------------------------------------------- */

/* CDATA cannot hold "]]>": it is split across two sections. */
static int cdata(xmlTextWriterPtr w, const char *name, const char *text) {
    if (xmlTextWriterStartElement(w, BAD_CAST name) < 0)
        return -1;
    const char *p = text;
    for (;;) {
        const char *end = strstr(p, "]]>");
        size_t n = end ? (size_t)(end - p) + 2 : strlen(p);
        char *part = malloc(n + 1);
        if (!part)
            return -1;
        memcpy(part, p, n);
        part[n] = '\0';
        int rc = xmlTextWriterWriteCDATA(w, BAD_CAST part);
        free(part);
        if (rc < 0)
            return -1;
        if (!end)
            break;
        p = end + 2;
    }
    return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int number(xmlTextWriterPtr w, const char *name, long long v) {
    return xmlTextWriterWriteFormatElement(w, BAD_CAST name, "%lld", v) < 0 ? -1 : 0;
}

typedef struct field {
    const char *name, *text; /* text NULL: the number */
    long long number;
} field;

/* <xml> with the fields; a field named "TransInfo.KfAccount" is nested. */
static char *write_xml(const field *fs, size_t n) {
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    char *out = NULL;
    int rc = w ? xmlTextWriterStartElement(w, BAD_CAST "xml") < 0 : -1;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *dot = strchr(fs[i].name, '.');
        if (dot) {
            char outer[32];
            snprintf(outer, sizeof outer, "%.*s", (int)(dot - fs[i].name), fs[i].name);
            rc = xmlTextWriterStartElement(w, BAD_CAST outer) < 0 ||
                 cdata(w, dot + 1, fs[i].text) || xmlTextWriterEndElement(w) < 0;
        } else {
            rc = fs[i].text ? cdata(w, fs[i].name, fs[i].text)
                            : number(w, fs[i].name, fs[i].number);
        }
    }
    if (!rc)
        rc = xmlTextWriterEndElement(w) < 0 || xmlTextWriterFlush(w) < 0;
    if (!rc) {
        const char *s = (const char *)xmlBufferContent(buf);
        size_t len = strlen(s);
        out = malloc(len + 1);
        if (out)
            memcpy(out, s, len + 1);
    }
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    return out;
}

char *wx_xml_text(const char *to, const char *from, int64_t created,
                  const char *content) {
    field fs[] = {{"ToUserName", to, 0}, {"FromUserName", from, 0},
                  {"CreateTime", NULL, created}, {"MsgType", "text", 0},
                  {"Content", content, 0}};
    return write_xml(fs, sizeof fs / sizeof fs[0]);
}

char *wx_xml_transfer(const char *to, const char *from, int64_t created,
                      const char *kf_account) {
    field fs[] = {{"ToUserName", to, 0}, {"FromUserName", from, 0},
                  {"CreateTime", NULL, created},
                  {"MsgType", "transfer_customer_service", 0},
                  {"TransInfo.KfAccount", kf_account, 0}};
    size_t n = kf_account && *kf_account ? 5 : 4;
    return write_xml(fs, n);
}

char *wx_xml_encrypted(const char *encrypt, const char *signature,
                       int64_t timestamp, const char *nonce) {
    field fs[] = {{"Encrypt", encrypt, 0}, {"MsgSignature", signature, 0},
                  {"TimeStamp", NULL, timestamp}, {"Nonce", nonce, 0}};
    return write_xml(fs, 4);
}
