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
 * entries back; applying them again changes nothing.  A change to an
 * existing entry writes only the attributes the request changed (and
 * its undo only those back), so what another control host changed in
 * the same entry meanwhile, from a copy this one had not yet heard of,
 * stands; and no write, undo included, takes a revocation back.
 *
 * Uniqueness is the directory's: an account or a group is an entry
 * added, never overwritten.  A live token name is unique by the
 * account's version below: the request's copy found the name free
 * among the tokens written before the version it holds, and a token
 * another control host added since moved the version on, so of two
 * control hosts minting (or rotating into) one name, one is CONFLICT.
 *
 * max_tokens_per_account holds across control hosts by the account
 * entry's satokenLiveCount, a version every request that adds a live
 * token to the account moves on by one, once its tokens are written, as
 * a delete of the value this host's copy holds and an add of the next:
 * atomic in the directory, and refused (CONFLICT, its writes taken
 * back) when another control host moved it meanwhile.  A copy that
 * holds version V holds every token added before V was written (each
 * request writes its tokens before the version, and the follower
 * applies them in the directory's order), so the quota was checked
 * against all of them.  The follower keeps the version of each account
 * it applied ("F:q:NAME", control_mint_version_applied), and a control
 * host the one it wrote.  A copy holding none (a new account, a store
 * from before versions) adds the first, which the directory refuses when
 * it holds one.  A request that fails after moving one account's
 * version on leaves it moved: the next mint into that account is
 * CONFLICT until this host's follower applies it, which is safe.  A
 * value set by hand that is no version (negative, past 64 bits) is
 * deleted as it is and replaced by 1.
 *
 * A request's writes are synchronous, on the loop's thread, over one
 * connection of its own (the follower's search has the other). */
#ifndef SATOKEND_CONTROL_H
#define SATOKEND_CONTROL_H

#include <stdint.h>

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

/* The follower: stages account's satokenLiveCount as the directory
 * sent it (NULL or "": none) into this copy ("F:q:NAME"), unless this
 * host has written a later one itself (the directory's echo of an
 * earlier request arriving after a later one); _forget, at the
 * account's deletion.  A value longer than CONTROL_VERSION_MAX, or not
 * an INTEGER, is kept as none. */
#define CONTROL_VERSION_MAX	40
struct store;
int control_mint_version_applied(struct store *s, const char *account,
    const char *value);
int control_mint_version_forget(struct store *s, const char *account);

/* ---- what a control host changes by itself (issue 17) ----------------
 *
 * bindpid.c revokes the token of a process that exited, canaryd.c
 * disables a canary's account, purge.c reclaims tokens past retain_days;
 * and control_run leaves to it the entries of tokens a request deleted
 * that can no longer log in (revoked, or expired a day ago: an account
 * deleted with every token it ever held).
 * On a control host each job brackets what it stages with
 * control_bg_begin and control_bg_mark: every token and account record
 * it changed gets a mark, "F:w:" and the record's key, committed with
 * the change itself, so the change is made locally at once (fail closed
 * here) and its directory write survives a restart.  control_bg_step,
 * from the loop, writes each marked record to the directory through the
 * same entries and calls as control_run (a token revoked here: its
 * satokenRevokedAt, and its live name freed; a token the store no
 * longer has: its entry deleted, with any live name still naming it; an
 * account disabled here: satokenEnabled FALSE), then drops the
 * marks in one commit.  A step's writes are sent together and their
 * answers taken as they come, the loop going on meanwhile; a request
 * writes only once they are in (so its change to the same entry lands
 * after), and a record marked again meanwhile keeps its mark for the
 * next step.  An entry already gone counts as written (two
 * control hosts purging).  The directory away or refusing: the marks
 * stay, retried every BG_RETRY_MS, logged once until they are through.
 * On any other host all of these do nothing. */
struct server;

/* With nothing staged: sets a savepoint on a control host (the job's
 * changes are told from others by it).  0, or an error. */
int control_bg_begin(struct server *sv);
/* After the job staged its changes, before its commit: stages the marks
 * and releases the savepoint.  0, or an error (the caller rolls back,
 * which drops the savepoint too). */
int control_bg_mark(struct server *sv);
/* At start, after control_new: the marks a previous run left. */
int control_bg_load(struct server *sv);
/* The loop, each round: takes the answers of the step out; when no
 * batch holds the store, ends it (drops its marks) or sends the next,
 * a bounded number of writes. */
void control_bg_step(struct server *sv);
/* When control_bg_step is next due (clock_ms), for the loop's wait:
 * soon while a step is out; INT64_MAX when nothing is marked. */
int64_t control_bg_due(const struct server *sv);
/* 1 when the record key ("t:ID", "a:NAME") waits to be written: the
 * follower keeps this host's version of it (a token purged here is not
 * brought back, an account disabled here stays so).  ctl may be NULL. */
int control_bg_held(const struct control *ctl, const char *key, size_t klen);

#endif
