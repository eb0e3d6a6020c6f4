/*
 * chat.c - `csbot chat`: the REPL. On a terminal it uses libedit (prompt,
 * line editing, ~/.csbot_history) and shows each reply with a dim
 * `[intent action confidence lang]` line; from a pipe it prints exactly one
 * tab-separated line per input line so scripts can drive it. Lines starting
 * with ':' are commands (:why :reset :resume :stats :reload :profile :rate
 * :save :load :handoff :help :quit).
 */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <editline/readline.h>

#include "cli.h"

/* ---- a growable string for command output ------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (b->n + (size_t)need + 1 > b->cap) {
        b->cap = (b->n + (size_t)need + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

static void sb_puts(sbuf *b, const char *s) { sb_printf(b, "%s", s); }

/* ---- state ------------------------------------------------------------ */

typedef struct chat {
    const char *kb_path;
    int tty;     /* stdin is a terminal: interactive mode */
    int color;   /* stdout is a terminal: dim/bold escapes */
    int verbose;
    csbot_hub *hub;
    csbot_session *s;
    csbot_stats *stats;
    unsigned last_turn; /* turn of the last reply, 0 if none */
    char *handoff_json; /* packet of the last handoff (copied in callback) */
    int quit;
} chat;

static const char *dim_on(const chat *c) { return c->color ? "\033[2m" : ""; }
static const char *bold_on(const chat *c) { return c->color ? "\033[1m" : ""; }
static const char *attr_off(const chat *c) { return c->color ? "\033[0m" : ""; }

static int on_handoff(const csbot_handoff *h, void *ud) {
    chat *c = ud;
    size_t need = csbot_handoff_json(h, NULL, 0);
    free(c->handoff_json);
    c->handoff_json = xmalloc(need + 1);
    csbot_handoff_json(h, c->handoff_json, need + 1);
    return 0; /* accept */
}

/* JSON text re-printed by cJSON: indented, or on one line. */
static char *reformat_json(const char *json, int pretty) {
    cJSON *j = cJSON_Parse(json);
    char *out = NULL;
    if (j)
        out = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *res = xstrdup(out ? out : json);
    cJSON_free(out);
    return res;
}

/* Offset of local time from UTC in minutes, for the per-hour figures. */
static int utc_offset_minutes(void) {
    time_t now = time(NULL);
    struct tm lt, gt;
    if (!localtime_r(&now, &lt) || !gmtime_r(&now, &gt))
        return 0;
    int days = lt.tm_yday - gt.tm_yday;
    if (lt.tm_year != gt.tm_year)
        days = lt.tm_year > gt.tm_year ? 1 : -1;
    return days * 1440 + (lt.tm_hour - gt.tm_hour) * 60 + (lt.tm_min - gt.tm_min);
}

/* ---- output ----------------------------------------------------------- */

/* Print a command's output: as is on a terminal; on one line from a pipe. */
static void emit(const chat *c, sbuf *b) {
    if (!b->p || !b->n)
        sb_puts(b, "ok");
    while (b->n > 0 && (b->p[b->n - 1] == '\n' || b->p[b->n - 1] == ' '))
        b->p[--b->n] = '\0';
    if (c->tty) {
        printf("%s\n", b->p);
    } else {
        for (size_t i = 0; i < b->n; i++) {
            char ch = b->p[i];
            if (ch == '\n')
                fputs(" | ", stdout);
            else
                putchar(ch == '\t' || ch == '\r' ? ' ' : ch);
        }
        putchar('\n');
    }
    fflush(stdout);
}

static void print_handoff_json(const chat *c) {
    if (!c->verbose || !c->handoff_json)
        return;
    char *pretty = reformat_json(c->handoff_json, 1);
    printf("%shandoff packet:%s\n%s\n", dim_on(c), attr_off(c), pretty);
    free(pretty);
}

static void show_reply(chat *c, const csbot_reply *r) {
    const char *text = csbot_reply_text(r);
    const char *intent = csbot_reply_intent(r);
    csbot_action act = csbot_reply_action(r);
    double conf = csbot_reply_confidence(r);
    if (!text)
        text = "";
    if (!c->tty) {
        char *t = xstrdup(text);
        replace_chars(t, "\n\r\t", ' ');
        printf("%s\t%s\t%s\t%.2f\n", t, intent ? intent : "-",
               csbot_action_name(act), conf);
        free(t);
        fflush(stdout);
        return;
    }
    if (act == CSBOT_ACTION_SILENT) {
        printf("%s(human mode: the bot is silent; :resume to give the "
               "conversation back)%s\n",
               dim_on(c), attr_off(c));
    } else if (*text) {
        printf("%s\n", text);
    }
    printf("%s[%s %s %.2f %s]%s\n", dim_on(c), intent ? intent : "-",
           csbot_action_name(act), conf, csbot_lang_name(csbot_reply_lang(r)),
           attr_off(c));
    size_t nc = csbot_reply_candidate_count(r);
    if ((act == CSBOT_ACTION_SUGGEST || c->verbose) && nc > 0) {
        printf("%scandidates:", dim_on(c));
        for (size_t i = 0; i < nc; i++) {
            const char *id = NULL;
            double sc = 0;
            if (csbot_reply_candidate(r, i, &id, &sc) == CSBOT_OK)
                printf("%s %s %.2f", i ? "," : "", id ? id : "?", sc);
        }
        printf("%s\n", attr_off(c));
    }
    if (c->verbose) {
        size_t ns = csbot_reply_slot_count(r);
        if (ns) {
            printf("%sslots:", dim_on(c));
            for (size_t i = 0; i < ns; i++) {
                const char *name = NULL, *value = NULL;
                if (csbot_reply_slot(r, i, &name, &value) == CSBOT_OK)
                    printf(" %s=%s", name ? name : "?", value ? value : "");
            }
            printf("%s\n", attr_off(c));
        }
        printf("%sturn %u, sentiment %.2f%s\n", dim_on(c), csbot_reply_turn(r),
               csbot_reply_sentiment(r), attr_off(c));
    }
    if (act == CSBOT_ACTION_HANDOFF) {
        printf("%s*** handed off to a human (reason: %s) ***%s\n", bold_on(c),
               csbot_handoff_reason_name(csbot_reply_handoff_reason(r)),
               attr_off(c));
        print_handoff_json(c);
    }
    fflush(stdout);
}

static void send_message(chat *c, const char *text, size_t len) {
    const csbot_reply *r = NULL;
    int rc = csbot_session_reply(c->s, text, len, &r);
    if (rc != CSBOT_OK || !r) {
        const char *msg = csbot_session_errmsg(c->s);
        char *m = xstrdup(msg && *msg ? msg : csbot_strerror(rc));
        if (c->tty) {
            fprintf(stderr, "error: %s\n", m);
        } else {
            replace_chars(m, "\n\r\t", ' ');
            printf("error: %s\t-\terror\t0.00\n", m);
            fflush(stdout);
        }
        free(m);
        return;
    }
    c->last_turn = csbot_reply_turn(r);
    show_reply(c, r);
}

/* ---- commands --------------------------------------------------------- */

static const char chat_help[] =
    "commands:\n"
    "  :why               explain the last turn\n"
    "  :reset             start a new conversation\n"
    "  :resume            take the conversation back from the human agent\n"
    "  :handoff           hand the conversation to a human now\n"
    "  :stats             service statistics\n"
    "  :reload            re-load the knowledge base file\n"
    "  :profile KEY VALUE set a profile variable (:profile KEY removes it)\n"
    "  :rate N            rate the last answer, 1 (bad) to 5 (good)\n"
    "  :save FILE         save the conversation state\n"
    "  :load FILE         restore a saved conversation state\n"
    "  :help              this help\n"
    "  :quit              leave\n"
    "  ::text             send a message that starts with ':'\n";

static char *next_word(char **p) {
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    char *w = s;
    while (*s && *s != ' ' && *s != '\t')
        s++;
    if (*s)
        *s++ = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    *p = s;
    return w;
}

static void rstrip(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static void cmd_stats(chat *c, sbuf *out) {
    csbot_session_flush_stats(c->s);
    size_t need = csbot_stats_json(c->stats, NULL, 0);
    if (need == 0) {
        sb_puts(out, "error: the statistics could not be written (out of "
                     "memory)");
        return;
    }
    char *buf = xmalloc(need + 1);
    csbot_stats_json(c->stats, buf, need + 1);
    char *f = reformat_json(buf, c->tty);
    sb_puts(out, f);
    free(f);
    free(buf);
}

static void cmd_save(chat *c, const char *file, sbuf *out) {
    size_t need = 0;
    int rc = csbot_session_save(c->s, NULL, 0, &need);
    if (rc != CSBOT_OK && rc != CSBOT_ERANGE) {
        sb_printf(out, "error: cannot save: %s", csbot_strerror(rc));
        return;
    }
    void *buf = xmalloc(need);
    rc = csbot_session_save(c->s, buf, need, &need);
    if (rc != CSBOT_OK) {
        sb_printf(out, "error: cannot save: %s", csbot_strerror(rc));
    } else {
        int e = write_file(file, buf, need);
        if (e)
            sb_printf(out, "error: cannot write %s: %s", file, strerror(e));
        else
            sb_printf(out, "saved the conversation to %s (%zu bytes)", file, need);
    }
    free(buf);
}

static void cmd_load(chat *c, const char *file, sbuf *out) {
    char *data;
    size_t len;
    int e = read_file(file, &data, &len);
    if (e) {
        sb_printf(out, "error: cannot read %s: %s", file, strerror(e));
        return;
    }
    int rc = csbot_session_restore(c->s, data, len);
    free(data);
    if (rc != CSBOT_OK) {
        const char *msg = csbot_session_errmsg(c->s);
        sb_printf(out, "error: cannot restore %s: %s", file,
                  msg && *msg ? msg : csbot_strerror(rc));
        return;
    }
    c->last_turn = 0;
    sb_printf(out, "restored the conversation from %s%s", file,
              csbot_session_in_human_mode(c->s) ? " (a human has it)" : "");
}

static void cmd_reload(chat *c, sbuf *out) {
    csbot_error err = CSBOT_ERROR_INIT;
    csbot_kb_options o = cli_kb_options(NULL);
    int rc = csbot_hub_reload_file(c->hub, c->kb_path, &o, &err);
    if (rc != CSBOT_OK) {
        if (err.code == CSBOT_OK)
            err.code = rc;
        if (!err.message[0])
            snprintf(err.message, sizeof err.message, "%s", csbot_strerror(rc));
        char *t = format_kb_error(&err);
        sb_printf(out, "error: reload failed, keeping the current knowledge "
                       "base:\n%s", t);
        free(t);
        return;
    }
    sb_printf(out, "reloaded %s (generation %lu); the next message uses it",
              c->kb_path, csbot_hub_generation(c->hub));
}

static void run_command(chat *c, char *line) {
    char *p = line + 1;
    char *name = next_word(&p);
    rstrip(p);
    sbuf out = {NULL, 0, 0};
    if (!strcmp(name, "quit") || !strcmp(name, "q") || !strcmp(name, "exit")) {
        c->quit = 1;
        sb_puts(&out, "bye");
    } else if (!strcmp(name, "help") || !strcmp(name, "h") || !strcmp(name, "?")) {
        sb_puts(&out, chat_help);
    } else if (!strcmp(name, "why")) {
        size_t need = csbot_session_explain(c->s, NULL, 0);
        char *buf = xmalloc(need + 1);
        csbot_session_explain(c->s, buf, need + 1);
        sb_puts(&out, *buf ? buf : "nothing to explain yet");
        free(buf);
    } else if (!strcmp(name, "reset")) {
        csbot_session_reset(c->s);
        c->last_turn = 0;
        sb_puts(&out, "(new conversation)");
    } else if (!strcmp(name, "resume")) {
        if (!csbot_session_in_human_mode(c->s)) {
            sb_puts(&out, "(the bot already has the conversation)");
        } else {
            csbot_session_resume(c->s);
            sb_puts(&out, "(the bot has the conversation again)");
        }
    } else if (!strcmp(name, "handoff")) {
        int rc = csbot_session_handoff(c->s);
        if (rc != CSBOT_OK) {
            const char *msg = csbot_session_errmsg(c->s);
            sb_printf(&out, "error: %s", msg && *msg ? msg : csbot_strerror(rc));
        } else {
            sb_printf(&out, "*** handed off to a human (reason: %s) ***",
                      csbot_handoff_reason_name(CSBOT_HANDOFF_HOST));
            if (c->tty) {
                emit(c, &out);
                print_handoff_json(c);
                free(out.p);
                return;
            }
        }
    } else if (!strcmp(name, "stats")) {
        cmd_stats(c, &out);
    } else if (!strcmp(name, "reload")) {
        cmd_reload(c, &out);
    } else if (!strcmp(name, "profile")) {
        char *key = next_word(&p);
        if (!*key) {
            sb_puts(&out, "error: usage: :profile KEY VALUE (or :profile KEY to remove)");
        } else {
            int rc = csbot_session_set_profile(c->s, key, *p ? p : NULL);
            if (rc != CSBOT_OK) {
                const char *msg = csbot_session_errmsg(c->s);
                sb_printf(&out, "error: %s", msg && *msg ? msg : csbot_strerror(rc));
            } else if (*p) {
                sb_printf(&out, "profile %s = %s", key, p);
            } else {
                sb_printf(&out, "profile %s removed", key);
            }
        }
    } else if (!strcmp(name, "rate")) {
        size_t n = 0;
        if (parse_size(p, &n) != 0 || n < 1 || n > 5) {
            sb_puts(&out, "error: usage: :rate N, N from 1 (bad) to 5 (good)");
        } else if (!c->last_turn) {
            sb_puts(&out, "error: no answered turn to rate yet");
        } else {
            int rc = csbot_session_feedback(c->s, c->last_turn, (int)n);
            if (rc != CSBOT_OK) {
                const char *msg = csbot_session_errmsg(c->s);
                sb_printf(&out, "error: %s", msg && *msg ? msg : csbot_strerror(rc));
            } else {
                sb_printf(&out, "rated turn %u: %zu", c->last_turn, n);
            }
        }
    } else if (!strcmp(name, "save") || !strcmp(name, "load")) {
        if (!*p)
            sb_printf(&out, "error: usage: :%s FILE", name);
        else if (!strcmp(name, "save"))
            cmd_save(c, p, &out);
        else
            cmd_load(c, p, &out);
    } else {
        sb_printf(&out, "error: unknown command :%s (:help lists the commands)",
                  name);
    }
    emit(c, &out);
    free(out.p);
}

static void handle_line(chat *c, char *line, size_t len) {
    if (len == 0)
        return;
    if (line[0] == ':' && !(len > 1 && line[1] == ':')) {
        if (memchr(line, '\0', len)) {
            sbuf out = {NULL, 0, 0};
            sb_puts(&out, "error: command contains a NUL byte");
            emit(c, &out);
            free(out.p);
            return;
        }
        run_command(c, line);
        return;
    }
    if (line[0] == ':') { /* "::text" sends ":text" */
        line++;
        len--;
    }
    send_message(c, line, len);
}

/* ---- loops ------------------------------------------------------------ */

static char *history_path(void) {
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    const char *name = "/.csbot_history";
    size_t n = strlen(home) + strlen(name) + 1;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s", home, name);
    return p;
}

/* libedit needs a UTF-8 character type to edit Chinese text: take the
 * user's locale, or C.UTF-8 when that is not UTF-8. Only LC_CTYPE changes,
 * so number formatting stays "C". */
static void utf8_ctype(void) {
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    if (!cs || (strcmp(cs, "UTF-8") != 0 && strcmp(cs, "utf8") != 0))
        setlocale(LC_CTYPE, "C.UTF-8");
}

static void loop_tty(chat *c, const csbot_kb *kb) {
    utf8_ctype();
    const char *ver = NULL;
    csbot_version(&ver);
    printf("%scsbot %s%s - %s (%zu intents, %zu examples) from %s\n",
           bold_on(c), ver ? ver : "", attr_off(c), csbot_kb_name(kb),
           csbot_kb_intent_count(kb), csbot_kb_example_count(kb), c->kb_path);
    printf("Type a message; :help lists the commands, :quit leaves.\n");
    fflush(stdout);
    char *hist = history_path();
    using_history();
    stifle_history(1000);
    if (hist)
        read_history(hist); /* a missing file is fine */
    char *line;
    while (!c->quit && (line = readline("you> ")) != NULL) {
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
            line[--len] = '\0';
        if (len > 0)
            add_history(line);
        handle_line(c, line, len);
        free(line);
    }
    if (!c->quit)
        putchar('\n');
    if (hist)
        write_history(hist); /* failures are ignored */
    free(hist);
}

static void loop_pipe(chat *c) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while (!c->quit && (got = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        handle_line(c, line, len);
    }
    free(line);
}

int cmd_chat(int argc, char **argv) {
    chat c;
    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            c.verbose = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("chat", "unknown option '%s'", argv[i]);
        else if (!c.kb_path)
            c.kb_path = argv[i];
        else
            return usage_error("chat", "unexpected argument '%s'", argv[i]);
    }
    if (!c.kb_path)
        c.kb_path = default_kb_path();
    c.tty = isatty(STDIN_FILENO);
    c.color = c.tty && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

    csbot_kb *kb = NULL;
    if (load_kb(c.kb_path, NULL, &kb, NULL) != CSBOT_OK)
        return EXIT_FAIL;
    int rc = csbot_hub_new(&c.hub, kb);
    if (rc == CSBOT_OK)
        rc = csbot_stats_new(&c.stats, utc_offset_minutes(), 0);
    csbot_session_options so = CSBOT_SESSION_OPTIONS_INIT;
    so.handoff = on_handoff;
    so.handoff_ud = &c;
    so.stats = c.stats;
    if (rc == CSBOT_OK)
        rc = csbot_session_new_hub(&c.s, c.hub, &so);
    if (rc != CSBOT_OK) {
        fprintf(stderr, "csbot chat: cannot start: %s\n", csbot_strerror(rc));
        csbot_session_free(c.s);
        csbot_hub_free(c.hub);
        csbot_stats_free(c.stats);
        return EXIT_FAIL;
    }
    if (c.tty)
        loop_tty(&c, kb); /* no reload has happened yet: kb is alive */
    else
        loop_pipe(&c);
    csbot_session_free(c.s);
    csbot_hub_free(c.hub);
    csbot_stats_free(c.stats);
    free(c.handoff_json);
    return EXIT_OK;
}
