/*
 * replay.c - runs a fuzz harness without libFuzzer: each file named on the
 * command line goes through LLVMFuzzerTestOneInput once. `make test` builds
 * every harness with it (the project's compiler and, in the sanitizer runs,
 * its sanitizers) and replays fuzz/regress/NAME/, the inputs that once
 * crashed, so a bug the fuzzers found stays fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *buf = malloc(cap);
        for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
            n += got;
            if (n == cap) {
                uint8_t *p = realloc(buf, cap *= 2);
                if (!p)
                    free(buf);
                buf = p;
            }
        }
        fclose(f);
        if (!buf) {
            fprintf(stderr, "replay: out of memory\n");
            return 2;
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        printf("replay: %s ok\n", argv[i]);
    }
    return 0;
}
