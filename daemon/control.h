/* satokend: a control host (DESIGN "Fleet", directory_role = control).
 *
 * A mutating request runs as on a standalone host (roles, ownership,
 * the op table), under a store savepoint: what it staged is then read
 * back as records (accounts, groups, the policy, tokens; the local
 * indexes are not the directory's business), written to the directory
 * as the entries follower.c decodes, and kept staged only once the
 * directory took them; the request is then committed and answered with
 * its batch, as everywhere (request.c).  The directory refusing, or
 * unreachable: the request's changes are dropped alone, the directory
 * is left as it was (what was written is taken back), and the reply is
 * CONFLICT or UNAVAILABLE.  The follower (follower.c) brings the same
 * entries back; applying them again changes nothing.
 *
 * Uniqueness is the directory's: an account or a group is an entry
 * added, never overwritten, and a live token name is an entry of its
 * own (satokenLiveName=NAME,satokenName=ACCOUNT,ou=accounts), added
 * for a mint and moved to the new token by a rotation under an
 * assertion, so of two control hosts minting one name, one gets
 * alreadyExists, i.e. CONFLICT.
 *
 * The writes are synchronous, on the loop's thread, over one
 * connection of its own (the follower's search has the other). */
#ifndef SATOKEND_CONTROL_H
#define SATOKEND_CONTROL_H

#include "config.h"
#include "ops.h"

struct control;

/* From the directory keys of c (copied).  0, or SAT_E_NOMEM. */
int control_new(const struct sat_config *c, struct control **ret);
/* Closes the connection and frees ctl.  Accepts NULL. */
void control_free(struct control *ctl);

/* Runs fn (a mutating op's handler) for c as described above; returns
 * its result, or the directory's refusal with a message in c->msg. */
int control_run(struct op_ctx *c, int (*fn)(struct op_ctx *));

#endif
