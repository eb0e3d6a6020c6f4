/*
 * main.c - entry point of the `csbot` tool: dispatches to the commands
 * (chat, lint, import, eval, calibrate, vectors, version, help), loads the
 * sentence encoder any of them may be given with --encoder, and prints
 * usage.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
    const char *help;
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"chat", cmd_chat, "chat [KB] [--verbose]",
     "  Talk to the bot (default KB: intents/shop.json, else intents/demo.json).\n"
     "  On a terminal: line editing, history (~/.csbot_history), :help lists\n"
     "  the commands (:why :reset :resume :stats :reload :profile :rate :save\n"
     "  :load :quit). From a pipe: one line out per line in:\n"
     "  reply<TAB>intent<TAB>action<TAB>confidence.\n"},
    {"lint", cmd_lint, "lint KB [--strict]",
     "  Load KB and report quality warnings as file:line:col: $.path: warning: ...\n"
     "  Exit 1 if the KB does not load (or, with --strict, on any warning).\n"},
    {"import", cmd_import, "import FILE.tsv [--lang zh|en] [--name NAME]",
     "  Turn label<TAB>example rows into a KB (JSON on stdout): one intent per\n"
     "  label, placeholder answers; `_oos` rows are skipped. Without --lang the\n"
     "  language of each example is guessed (any CJK character: zh, else en).\n"
     "  With --encoder the KB also stores its English examples' vectors.\n"},
    {"eval", cmd_eval,
     "eval KB FILE.tsv|FILE.jsonl [--json] [--threshold T] [--sweep]\n"
     "                 [--errors N] [--confusion] [--min-accuracy A]",
     "  Reply to every row (label<TAB>text; label `_oos` = out of scope) in a\n"
     "  fresh conversation, or to every dialogue of a .jsonl file\n"
     "  ({\"turns\":[{\"text\":..,\"intent\":..,\"action\":..}]} per line), and\n"
     "  report accuracy, coverage, OOS recall, precision, macro F1 and speed.\n"
     "  --threshold T   load with answer threshold T\n"
     "  --sweep         coverage/precision table for thresholds 0.05..0.95\n"
     "  --errors N      list the worst N mistakes\n"
     "  --confusion     most frequent expected->got confusions\n"
     "  --min-accuracy A  exit 1 when in-scope accuracy < A\n"
     "  --json          one JSON object (extra sections only when requested)\n"},
    {"calibrate", cmd_calibrate,
     "calibrate KB DEV.tsv [DEV2.tsv ...] [--precision P] [--oos-recall R]\n"
     "                     [--margin M] [--write OUT.json]",
     "  Choose the answer threshold and ambiguity margin that answer the most\n"
     "  in-scope rows of the dev files right while reaching the targets given:\n"
     "  answered precision P over all rows, a share R of the _oos rows of\n"
     "  each file that has them declined (at least one target). Each margin\n"
     "  0.00..0.20 (or M alone) gets its lowest threshold that reaches them;\n"
     "  ties go to the larger margin. suggest = max(0.05, T - 0.2). --write\n"
     "  saves a copy of KB with these settings.\n"},
    {"vectors", cmd_vectors, "vectors KB --encoder ENC [--write OUT.json]",
     "  Store the sentence encoder's vectors of KB's English examples in its\n"
     "  \"vectors\" (kept ones are reused; those of examples no longer there\n"
     "  are dropped); JSON on stdout, or in OUT.json.\n"},
    {"version", cmd_version, "version", "  Print the library version.\n"},
    {"help", cmd_help, "help [COMMAND]", "  Show this help.\n"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void usage(FILE *f, const char *cmd) {
    const command *c = cmd ? find_command(cmd) : NULL;
    if (c) {
        fprintf(f, "usage: csbot %s\n%s", c->synopsis, c->help);
        return;
    }
    fputs("usage: csbot COMMAND [ARGS]\n\ncommands:\n", f);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  csbot %s\n", commands[i].synopsis);
        /* indent the description under its command */
        for (const char *h = commands[i].help; *h;) {
            const char *nl = strchr(h, '\n');
            size_t n = nl ? (size_t)(nl - h) : strlen(h);
            fprintf(f, "  %.*s\n", (int)n, h);
            h += n + (nl ? 1 : 0);
        }
    }
    fputs("\nAny command that loads a KB takes --encoder ENC (the file `make encoder`\n"
          "writes, build/encoder/use-lite-en.bin): English messages are then also\n"
          "compared with the English examples by meaning.\n"
          "\nExit status: 0 ok, 1 load error or failed check, 2 usage or input "
          "error.\n",
          f);
}

int usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "csbot%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    const command *c = cmd ? find_command(cmd) : NULL;
    if (c)
        fprintf(stderr, "usage: csbot %s\n", c->synopsis);
    else
        fputs("run `csbot help` for the list of commands\n", stderr);
    return EXIT_USAGE;
}

static int cmd_version(int argc, char **argv) {
    (void)argv;
    if (argc > 1)
        return usage_error("version", "unexpected argument");
    const char *s = NULL;
    csbot_version(&s);
    printf("%s\n", s ? s : "unknown");
    return EXIT_OK;
}

static int cmd_help(int argc, char **argv) {
    if (argc > 1 && !find_command(argv[1]))
        return usage_error(NULL, "unknown command '%s'", argv[1]);
    usage(stdout, argc > 1 ? argv[1] : NULL);
    return EXIT_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr, NULL);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
        name = "help";
    else if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0)
        name = "version";
    const command *c = find_command(name);
    if (!c)
        return usage_error(NULL, "unknown command '%s'", argv[1]);
    /* `csbot CMD --help` shows that command's usage. */
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, c->name);
            return EXIT_OK;
        }
    /* --encoder PATH (or --encoder=PATH), for any command */
    const char *enc_path = NULL;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i >= 2 && strcmp(a, "--encoder") == 0) {
            if (i + 1 >= argc)
                return usage_error(c->name, "--encoder needs a file");
            enc_path = argv[++i];
        } else if (i >= 2 && strncmp(a, "--encoder=", 10) == 0) {
            enc_path = a + 10;
        } else {
            argv[n++] = argv[i];
        }
    }
    argc = n;
    csbot_encoder *enc = NULL;
    if (enc_path) {
        csbot_error err = CSBOT_ERROR_INIT;
        int e = csbot_encoder_load(&enc, enc_path, &err);
        if (e != CSBOT_OK) {
            report_error(&err, e, enc_path);
            return EXIT_FAIL;
        }
        cli_set_encoder(enc);
    }
    int rc = c->run(argc - 1, argv + 1);
    cli_set_encoder(NULL);
    csbot_encoder_free(enc);
    if (fflush(stdout) != 0) {
        perror("csbot: writing output");
        return rc ? rc : EXIT_FAIL;
    }
    return rc;
}
