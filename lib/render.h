/*
 * render.h - answer templates at reply time (render.c): the response
 * variant for the profile and the filling of {slot}, {profile.key} and
 * {name|default}.
 */
#ifndef CSBOT_RENDER_H
#define CSBOT_RENDER_H

#include "kb.h"

/* Fill the {slot}, {profile.x} and {x|default} of tmpl into out. */
int csbot__render(csbot_session *s, const char *tmpl, csbot__buf *out);
/* Choose the response of intent i for the profile; NULL if none. Equal
 * variants take turns: the one after the variant this intent showed last in
 * the transcript. *variant receives 1 + the chosen variant's rank among the
 * equal ones (for the transcript), 0 when none. */
const csbot__response *csbot__pick_response(const csbot_session *s,
                                            const csbot__intent *it,
                                            unsigned *variant);

#endif
