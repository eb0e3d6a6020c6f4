/*
 * encoder.h - the sentence encoder's internals that tests reach (the
 * public API is in csbot.h).
 */
#ifndef CSBOT_ENCODER_H
#define CSBOT_ENCODER_H

#include "internal.h"

/* The model's token ids for text (valid UTF-8, no NUL), at most 128; *ids
 * is NULL when *n is 0, else freed with csbot__encoder_ids_free(). */
int csbot__encoder_tokenize(const csbot_encoder *e, const char *text,
                            size_t len, int32_t **ids, size_t *n);
void csbot__encoder_ids_free(const csbot_encoder *e, int32_t *ids);

#endif
