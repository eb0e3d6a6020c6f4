/* check_header.c - the public header compiles on its own (see Makefile). */
#include "csbot.h"

int csbot_header_compiles(void);
int csbot_header_compiles(void) {
    return CSBOT_OK;
}
