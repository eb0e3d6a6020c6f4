/*
 * hub.h - the internal side of csbot_hub (hub.c): a session takes a
 * reference on the current knowledge base and gives it back.
 */
#ifndef CSBOT_HUB_H
#define CSBOT_HUB_H

#include "internal.h"

/* The current base with a reference taken, and its generation. */
const csbot_kb *csbot__hub_acquire(csbot_hub *hub, unsigned long *gen);
void csbot__hub_release(csbot_hub *hub, const csbot_kb *kb);

#endif
