/*
 * handoff_queue.c - how a chat backend uses libcsbot: one knowledge base
 * shared by worker threads, one session per conversation, handoffs copied
 * into a queue (here a file) for the agent console, service figures from a
 * csbot_stats object, and the conversation saved to bytes between messages
 * as a backend would keep it in Redis.
 *
 *   build/examples/handoff_queue intents/demo.json < messages.txt
 */
#include <csbot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The callback must not block: copy the packet and return. */
static int queue_handoff(const csbot_handoff *h, void *ud) {
    FILE *queue = ud;
    size_t n = csbot_handoff_json(h, NULL, 0);
    char *json = malloc(n + 1);
    if (!json)
        return 1; /* refuse: the turn is undone and reply() fails */
    csbot_handoff_json(h, json, n + 1);
    fprintf(queue, "%s\n", json);
    free(json);
    return 0;
}

int main(int argc, char **argv) {
    csbot_error err = CSBOT_ERROR_INIT;
    csbot_kb *kb;
    if (csbot_kb_load_file(&kb, argc > 1 ? argv[1] : "intents/demo.json", NULL,
                           &err)) {
        char msg[600];
        csbot_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    csbot_stats *stats;
    csbot_stats_new(&stats, 8 * 60, 50); /* shop time is UTC+8 */
    csbot_session_options so = CSBOT_SESSION_OPTIONS_INIT;
    so.handoff = queue_handoff;
    so.handoff_ud = stderr;
    so.stats = stats;

    unsigned char *saved = NULL;
    size_t saved_len = 0;
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        /* each message may arrive at another process: restore, reply, save */
        csbot_session *s;
        if (csbot_session_new(&s, kb, &so))
            return 1;
        csbot_session_set_profile(s, "name", "小王");
        if (saved && csbot_session_restore(s, saved, saved_len))
            fprintf(stderr, "state lost: starting a new conversation\n");
        const csbot_reply *r;
        int rc = csbot_session_reply(s, line, CSBOT_NUL_TERMINATED, &r);
        if (rc)
            printf("error: %s\n", csbot_session_errmsg(s));
        else
            printf("%s\t[%s %s %.2f]\n", csbot_reply_text(r),
                   csbot_reply_intent(r) ? csbot_reply_intent(r) : "-",
                   csbot_action_name(csbot_reply_action(r)),
                   csbot_reply_confidence(r));
        size_t need;
        csbot_session_save(s, NULL, 0, &need);
        unsigned char *nb = realloc(saved, need);
        if (nb && csbot_session_save(s, nb, need, &need) == CSBOT_OK) {
            saved = nb;
            saved_len = need;
        }
        csbot_session_free(s);
    }
    size_t n = csbot_stats_json(stats, NULL, 0);
    char *json = malloc(n + 1);
    if (json) {
        csbot_stats_json(stats, json, n + 1);
        fprintf(stderr, "stats: %s\n", json);
        free(json);
    }
    free(saved);
    csbot_stats_free(stats);
    csbot_kb_free(kb);
    return 0;
}
