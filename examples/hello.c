/* hello.c - the smallest program using libcsbot: load, ask, print. */
#include <csbot.h>
#include <stdio.h>

int main(int argc, char **argv) {
    csbot_kb *kb;
    csbot_session *s;
    const csbot_reply *r;
    csbot_error err = CSBOT_ERROR_INIT;
    if (csbot_kb_load_file(&kb, argc > 1 ? argv[1] : "intents/demo.json", NULL,
                           &err) != CSBOT_OK) {
        char msg[600];
        csbot_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    csbot_session_new(&s, kb, NULL);
    if (csbot_session_reply(s, "我的快递到哪了？", CSBOT_NUL_TERMINATED, &r) == CSBOT_OK)
        printf("%s [%s %.2f]\n", csbot_reply_text(r),
               csbot_action_name(csbot_reply_action(r)), csbot_reply_confidence(r));
    csbot_session_free(s);
    csbot_kb_free(kb);
    return 0;
}
