/*
 * check_template.c - the template scanner (lib/template.c) and its two
 * users: the load, which fills {shop.key} and checks the other names
 * (kb_load.c), and the reply, which fills {slot} and {profile.key}
 * (render.c). Literal runs, placeholders, defaults (empty, with '|'),
 * unclosed and stray braces, odd nesting, UTF-8 around placeholders, and
 * the exact text each user makes of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"
#include "template.h"

/* ---- the scanner ---- */

/* The pieces of tmpl written out as "T(run)", "V(name)" or
 * "V(name|default)", "U(rest)", one after another. */
static void scan(const char *tmpl, char *out, size_t cap) {
    const char *p = tmpl;
    csbot__tmpl_tok t;
    size_t n = 0, whole = 0;
    out[0] = '\0';
    while (csbot__tmpl_next(&p, &t)) {
        ck_assert_ptr_eq(t.s, tmpl + whole); /* pieces follow each other */
        whole += t.len;
        ck_assert_ptr_eq(p, tmpl + whole);
        int w;
        if (t.kind == CSBOT__TMPL_TEXT) {
            ck_assert_uint_gt(t.len, 0);
            w = snprintf(out + n, cap - n, "T(%.*s)", (int)t.len, t.s);
        } else if (t.kind == CSBOT__TMPL_UNCLOSED) {
            ck_assert_int_eq(t.s[0], '{');
            w = snprintf(out + n, cap - n, "U(%.*s)", (int)t.len, t.s);
        } else {
            ck_assert_int_eq(t.kind, CSBOT__TMPL_VAR);
            ck_assert_int_eq(t.s[0], '{');
            ck_assert_int_eq(t.s[t.len - 1], '}');
            ck_assert_ptr_eq(t.name, t.s + 1);
            if (t.def)
                w = snprintf(out + n, cap - n, "V(%.*s|%.*s)", (int)t.nlen,
                             t.name, (int)t.dlen, t.def);
            else
                w = snprintf(out + n, cap - n, "V(%.*s)", (int)t.nlen, t.name);
        }
        ck_assert(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    /* every byte is in exactly one piece */
    ck_assert_uint_eq(whole, strlen(tmpl));
    ck_assert_int_eq(csbot__tmpl_next(&p, &t), 0);
}

#define SCAN_IS(tmpl, want)                                                    \
    do {                                                                       \
        char got_[512];                                                        \
        scan(tmpl, got_, sizeof got_);                                         \
        ck_assert_str_eq(got_, want);                                          \
    } while (0)

START_TEST(scan_literals) {
    SCAN_IS("", "");
    SCAN_IS("plain text", "T(plain text)");
    SCAN_IS("a } b }", "T(a } b })"); /* a '}' alone is text */
    SCAN_IS("|", "T(|)");
}
END_TEST

START_TEST(scan_placeholders) {
    SCAN_IS("{x}", "V(x)");
    SCAN_IS("a{x}b", "T(a)V(x)T(b)");
    SCAN_IS("{x}{y}", "V(x)V(y)");
    SCAN_IS("{profile.name} {shop.days}",
            "V(profile.name)T( )V(shop.days)");
    SCAN_IS("{}", "V()");
    SCAN_IS("{ x }", "V( x )");
}
END_TEST

START_TEST(scan_defaults) {
    SCAN_IS("{x|none}", "V(x|none)");
    SCAN_IS("{x|}", "V(x|)");
    SCAN_IS("{x|a|b}", "V(x|a|b)"); /* the first '|' splits */
    SCAN_IS("{|d}", "V(|d)");
    SCAN_IS("{x| sp ace }", "V(x| sp ace )");

    /* an empty default is not the same as none */
    const char *p = "{x|}";
    csbot__tmpl_tok t;
    ck_assert_int_eq(csbot__tmpl_next(&p, &t), 1);
    ck_assert_ptr_nonnull(t.def);
    ck_assert_uint_eq(t.dlen, 0);
    p = "{x}";
    ck_assert_int_eq(csbot__tmpl_next(&p, &t), 1);
    ck_assert_ptr_null(t.def);
}
END_TEST

START_TEST(scan_unclosed) {
    SCAN_IS("{", "U({)");
    SCAN_IS("a {b", "T(a )U({b)");
    SCAN_IS("{x} and {y", "V(x)T( and )U({y)");
    SCAN_IS("a {b|c", "T(a )U({b|c)");
    SCAN_IS("{x}{", "V(x)U({)");
}
END_TEST

START_TEST(scan_odd_braces) {
    SCAN_IS("{a{b}", "V(a{b)");        /* no nesting: the first '}' closes */
    SCAN_IS("{{x}}", "V({x)T(})");
    SCAN_IS("{a{b}c}", "V(a{b)T(c})");
    SCAN_IS("}{x}{", "T(})V(x)U({)");
    SCAN_IS("{x|a{b}", "V(x|a{b)");
    SCAN_IS("{b {s|a|b} }}", "V(b {s|a|b)T( }})");
}
END_TEST

START_TEST(scan_utf8) {
    SCAN_IS("订单{order_id|无}号", "T(订单)V(order_id|无)T(号)");
    SCAN_IS("{名字}：{profile.城市|上海}。", "V(名字)T(：)V(profile.城市|上海)T(。)");
    SCAN_IS("«{x}»", "T(«)V(x)T(»)");
    SCAN_IS("😀{x|😀}😀{", "T(😀)V(x|😀)T(😀)U({)");
}
END_TEST

static int scoped(const char *tmpl, const char *prefix, char *key, size_t cap) {
    const char *p = tmpl, *k;
    size_t kl;
    csbot__tmpl_tok t;
    ck_assert_int_eq(csbot__tmpl_next(&p, &t), 1);
    if (!csbot__tmpl_scoped(&t, prefix, &k, &kl))
        return 0;
    ck_assert_uint_lt(kl, cap);
    memcpy(key, k, kl);
    key[kl] = '\0';
    return 1;
}

START_TEST(scan_scoped) {
    char key[64];
    ck_assert(scoped("{profile.name}", "profile.", key, sizeof key));
    ck_assert_str_eq(key, "name");
    ck_assert(scoped("{shop.days|7}", "shop.", key, sizeof key));
    ck_assert_str_eq(key, "days"); /* the default is not part of the key */
    ck_assert(scoped("{shop.退货天数}", "shop.", key, sizeof key));
    ck_assert_str_eq(key, "退货天数");
    ck_assert(scoped("{shop.a.b}", "shop.", key, sizeof key));
    ck_assert_str_eq(key, "a.b");
    /* the prefix alone, or another name, is not scoped */
    ck_assert(!scoped("{profile.}", "profile.", key, sizeof key));
    ck_assert(!scoped("{profile.|x}", "profile.", key, sizeof key));
    ck_assert(!scoped("{shop}", "shop.", key, sizeof key));
    ck_assert(!scoped("{profilename}", "profile.", key, sizeof key));
    ck_assert(!scoped("{order_id}", "shop.", key, sizeof key));
    ck_assert(!scoped("text", "shop.", key, sizeof key));
    ck_assert(!scoped("{shop", "shop.", key, sizeof key));
}
END_TEST

/* ---- the load: shop variables filled, other placeholders kept ---- */

static int load_message(const char *tmpl, csbot_kb **kb, csbot_error *err) {
    char json[2048];
    int n = snprintf(json, sizeof json,
                     "{\"csbot\":1,\"shop\":{\"days\":7,\"phone\":4008201234,"
                     "\"pi\":3.14159,\"neg\":-2,\"empty\":\"\",\"brace\":\"{s}\","
                     "\"名\":\"小店\",\"pipe\":\"a|b\"},"
                     "\"slots\":{\"s\":{\"pattern\":\"(\\\\d{6,})\"}},"
                     "\"messages\":{\"fallback\":{\"en\":\"%s\"}},"
                     "\"intents\":[{\"id\":\"a\",\"examples\":{\"en\":[\"hello "
                     "there\"]},\"responses\":[{\"en\":\"hi\"}]}]}",
                     tmpl);
    ck_assert(n > 0 && (size_t)n < sizeof json);
    return t_load_text(kb, json, err);
}

static void filled_is(const char *tmpl, const char *want) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    int rc = load_message(tmpl, &kb, &err);
    ck_assert_msg(rc == CSBOT_OK, "\"%s\": %s: %s", tmpl, err.json_path,
                  err.message);
    ck_assert_str_eq(csbot_kb_message(kb, "fallback", CSBOT_LANG_EN), want);
    csbot_kb_free(kb);
}

static void refused(const char *tmpl, const char *message) {
    csbot_kb *kb = NULL;
    csbot_error err = CSBOT_ERROR_INIT;
    ck_assert_int_eq(load_message(tmpl, &kb, &err), CSBOT_ESCHEMA);
    ck_assert_ptr_null(kb);
    ck_assert_str_eq(err.json_path, "$.messages.fallback.en");
    ck_assert_str_eq(err.message, message);
}

START_TEST(load_fills_shop) {
    filled_is("", "");
    filled_is("no placeholders } here", "no placeholders } here");
    filled_is("{shop.days} days", "7 days");
    filled_is("call {shop.phone}", "call 4008201234"); /* not 4.0082e+09 */
    filled_is("pi {shop.pi}, {shop.neg}", "pi 3.14159, -2");
    filled_is("{shop.days|30}", "7"); /* the value beats the default */
    filled_is("[{shop.nope|30}]", "[30]");
    filled_is("[{shop.nope|}]", "[]");
    filled_is("[{shop.empty|x}]", "[]"); /* an empty string is a value */
    filled_is("{shop.nope|a|b}", "a|b");
    filled_is("{shop.pipe}", "a|b");
    filled_is("小{shop.名}店{shop.days}天", "小小店店7天");
}
END_TEST

START_TEST(load_keeps_reply_placeholders) {
    filled_is("{profile.name|亲}您好", "{profile.name|亲}您好");
    filled_is("[{s}][{s|}][{s|none}]", "[{s}][{s|}][{s|none}]");
    filled_is("{profile.a}{shop.days}{s}", "{profile.a}7{s}");
    /* what a shop value or default brings is kept for the reply to read */
    filled_is("{shop.brace}", "{s}");
    filled_is("{shop.x|a{b} {s|a|b} }}", "a{b {s|a|b} }}");
}
END_TEST

START_TEST(load_refuses_bad_placeholders) {
    refused("a {b", "unclosed '{' in template");
    refused("{s} {", "unclosed '{' in template");
    refused("{shop.days|x", "unclosed '{' in template");
    refused("{}", "unknown slot \"\" in template");
    refused("{|x}", "unknown slot \"\" in template");
    refused("{a{s}", "unknown slot \"a{s\" in template");
    refused("{{s}}", "unknown slot \"{s\" in template");
    refused("{shop.}", "unknown slot \"shop.\" in template");
    refused("{profile.}", "unknown slot \"profile.\" in template");
    refused("{order_id}", "unknown slot \"order_id\" in template");
    refused("{shop.nope}", "unknown shop variable \"nope\"");
    refused("{shop.退货天数}", "unknown shop variable \"退货天数\"");
}
END_TEST

/* ---- the reply: slots and profile filled ---- */

static const char *const reply_kb[] = {
    "{\"csbot\":1,\"settings\":{\"handoff_on_repeat\":false},"
    "\"shop\":{\"days\":7,\"brace\":\"{s}\"},"
    "\"slots\":{\"s\":{\"pattern\":\"(\\\\d{6,})\","
    /* prompts are not filled at load: the reply reads them as written */
    "\"prompt\":{\"en\":\"请给{{n}}号 {s|无}|{profile.name|你}{profile.|p}{unclosed\"}}},"
    "\"intents\":["
    "{\"id\":\"ask\",\"examples\":{\"en\":[\"ask me\"]},\"patterns\":[\"^ask\"],"
    "\"require\":[\"s\"],\"responses\":[{\"en\":\"got {s}\"}]},"
    "{\"id\":\"show\",\"examples\":{\"en\":[\"show me\"]},\"patterns\":[\"^show\"],"
    "\"responses\":[{\"en\":\"订单{s|无}，{shop.days}天，[{profile.city|?}]"
    "[{profile.vip|}][{s}]{shop.brace}|{shop.x|a{b} {s|a|b} }}\"}]}"
    "]}",
    NULL};

/* A session on a fresh knowledge base of reply_kb; reply_done frees both. */
static csbot_session *reply_session(void) {
    csbot_kb *kb = t_load_parts(reply_kb, (size_t)-1, NULL);
    csbot_session *s = NULL;
    ck_assert_int_eq(csbot_session_new(&s, kb, NULL), CSBOT_OK);
    return s;
}

static void reply_done(csbot_session *s) {
    csbot_kb *kb = (csbot_kb *)csbot_session_kb(s);
    csbot_session_free(s);
    csbot_kb_free(kb);
}

static const char *reply_text(csbot_session *s, const char *text,
                              csbot_action action) {
    const csbot_reply *r = t_say(s, text);
    ck_assert_msg(csbot_reply_action(r) == action, "\"%s\": %s", text,
                  csbot_action_name(csbot_reply_action(r)));
    return csbot_reply_text(r);
}

START_TEST(reply_fills_slots_and_profile) {
    csbot_session *s = reply_session();
    /* missing values take their default, or nothing; a default's '|' and
     * braces stay; the shop value "{s}" is read again as a slot */
    ck_assert_str_eq(reply_text(s, "show", CSBOT_ACTION_ANSWER),
                     "订单无，7天，[?][][]|aa|b }}");
    ck_assert_int_eq(csbot_session_set_profile(s, "city", "杭州"), CSBOT_OK);
    ck_assert_int_eq(csbot_session_set_profile(s, "vip", ""), CSBOT_OK);
    ck_assert_str_eq(reply_text(s, "show 1234567", CSBOT_ACTION_ANSWER),
                     "订单1234567，7天，[杭州][][1234567]1234567|aa|b }}");
    reply_done(s);
}
END_TEST

START_TEST(reply_keeps_stray_braces) {
    csbot_session *s = reply_session();
    /* "{{n}" is a placeholder named "{n" (no value, no default), "}" is
     * text, "{profile.}" is a slot name, an unclosed '{' is written out */
    ck_assert_str_eq(reply_text(s, "ask", CSBOT_ACTION_ASK),
                     "请给}号 无|你p{unclosed");
    ck_assert_int_eq(csbot_session_set_profile(s, "name", ""), CSBOT_OK);
    ck_assert_str_eq(reply_text(s, "ask again", CSBOT_ACTION_ASK),
                     "请给}号 无|你p{unclosed"); /* empty: the default */
    ck_assert_int_eq(csbot_session_set_profile(s, "name", "小王"), CSBOT_OK);
    ck_assert_str_eq(reply_text(s, "ask now", CSBOT_ACTION_ASK),
                     "请给}号 无|小王p{unclosed");
    ck_assert_str_eq(reply_text(s, "ask 7654321", CSBOT_ACTION_ANSWER),
                     "got 7654321");
    reply_done(s);
}
END_TEST

Suite *template_suite(void) {
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("scanner");
    tcase_add_test(tc, scan_literals);
    tcase_add_test(tc, scan_placeholders);
    tcase_add_test(tc, scan_defaults);
    tcase_add_test(tc, scan_unclosed);
    tcase_add_test(tc, scan_odd_braces);
    tcase_add_test(tc, scan_utf8);
    tcase_add_test(tc, scan_scoped);
    suite_add_tcase(s, tc);
    tc = tcase_create("load");
    tcase_add_test(tc, load_fills_shop);
    tcase_add_test(tc, load_keeps_reply_placeholders);
    tcase_add_test(tc, load_refuses_bad_placeholders);
    suite_add_tcase(s, tc);
    tc = tcase_create("reply");
    tcase_add_test(tc, reply_fills_slots_and_profile);
    tcase_add_test(tc, reply_keeps_stray_braces);
    suite_add_tcase(s, tc);
    return s;
}
