/* satokend: one function per protocol op, and what they share.
 *
 * A handler reads through the writer's store (which shows changes staged
 * earlier in the same batch), checks everything it can before it stages
 * anything, then stages its changes; the caller commits the batch and
 * only then sends the replies.  A handler that fails after staging
 * (out of memory) fails the whole batch, so nothing half-done is ever
 * committed. */
#ifndef SATOKEND_OPS_H
#define SATOKEND_OPS_H

#include <stdint.h>

#include <jansson.h>

#include "audit.h"
#include "config.h"
#include "names.h"
#include "principal.h"
#include "proto.h"
#include "record.h"
#include "store.h"

struct metrics;

/* What the handlers work on. */
struct fleet_view;
struct control;
struct hostsread;

struct dstate {
	const struct sat_config *cfg;	/* borrowed; replaced on SIGHUP */
	struct store *store;		/* the one writer handle */
	struct names accounts;		/* sorted names, staged view */
	struct names groups;		/* sorted names, staged view */
	int64_t now;			/* Unix seconds of this batch */
	/* tokens minted within warn_before, warned once committed
	 * (expiry.c) */
	char warn_ids[32][TOKEN_ID_LEN + 1];
	size_t nwarn;
	struct metrics *metrics;	/* borrowed from the server */
	int follows;			/* it follows a directory (fleet.h);
					 * 0: a standalone host */
	struct control *control;	/* a control host's (control.h), or
					 * NULL: changes stay local (standalone)
					 * or are refused (a follower) */
	struct hostsread *hosts;	/* for fleet status (hostsread.h),
					 * when it follows; else NULL */
};

/* A fleet follower: it follows a directory and cannot write to it, so
 * its copy takes no change of its own making that others should see
 * (requests are READ_ONLY, expiry warnings are the control hosts'). */
int dstate_follower(const struct dstate *st);

/* ops.c: notes a token minted already within warn_before, for expiry.c
 * to warn about once the batch is committed. */
void expiry_note(struct dstate *st, const char *id);

/* Rebuilds the name lists from the store (at start, after a failed
 * commit).  SAT_E_STORE / SAT_E_NOMEM. */
int ops_load_names(struct dstate *st);
/* At start: upgrades the first stores' token index, one account per
 * commit (ops_token.c).  0, or an error with a message in err. */
int ops_token_upgrade(struct dstate *st, char *err, size_t errlen);

struct op_ctx {
	struct dstate *st;
	const struct principal *p;
	const struct request *rq;
	json_t *reply;			/* {"ok":true}, filled by the handler */
	char msg[256];			/* the error message, if any */
	struct audit_event *ev;		/* handler fills account, token... */
	char ev_token[TOKEN_ID_LEN + 1];	/* storage for ev->token */
	char ev_account[SAT_NAME_MAX + 1];	/* storage for ev->account */
	char ev_name[SAT_TOKEN_NAME_MAX + 1];	/* storage for ev->name */
	char ev_detail[512];			/* storage for ev->detail */
	struct audit_kv ev_changes[16];		/* ev->changes */
	char ev_values[2048];			/* their values */
	size_t ev_used;				/* bytes of ev_values taken */
	int staged;			/* set once anything was staged */
	uint64_t conn_serial;		/* the connection it came on */
	const char *outcome;		/* audit overrides (token.verify) */
	const char *reason;
};

#define OP_MUTATES	0x1	/* may stage changes */
#define OP_AUTH		0x2	/* audited as action=auth */
#define OP_SECRET	0x4	/* hands out the HMAC key: only once audited */

struct op {
	const char *name;
	int (*fn)(struct op_ctx *c);
	unsigned allowed;	/* F_* bits */
	unsigned required;
	enum sat_role min_role;
	unsigned flags;
};

/* The op of that name, or NULL. */
const struct op *ops_find(const char *name);

/* Runs c->rq->op for c->p: the role floor, then the handler.  Returns 0
 * or a SAT_E_* with c->msg set. */
int ops_run(struct op_ctx *c);

/* ---- shared by the handlers (ops.c) ---- */

/* Sets c->msg from fmt and returns r. */
int op_fail(struct op_ctx *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Loads an account or fails NOT_FOUND (message names it). */
int op_get_account(struct op_ctx *c, const char *name, struct sat_account *ret);
/* SAT_E_PERM unless the caller may act on a or its tokens: a's role at
 * most the caller's, and (below admin) the caller owns it. */
int op_may_manage(struct op_ctx *c, const struct sat_account *a);
/* The owner as shown ("uid:N", "account:NAME") into out; SAT_E_NOTFOUND
 * when there is none or it no longer exists (an account deleted, even
 * if its name was taken again), or a store error. */
int op_owner_shown(struct op_ctx *c, const char *owner, char *out,
    size_t cap);
/* An --owner value to the reference an account records ("uid:N",
 * "account:NAME#SERIAL"), or fails NOT_FOUND / VALIDATION (ops_account.c). */
int op_resolve_owner(struct op_ctx *c, const char *who, char *out, size_t cap);
/* The page size asked for (default 100, at most 1000). */
size_t op_limit(const struct op_ctx *c);
/* Adds "key=value" (printf) to the changes the audit line names; a
 * value that does not fit is cut, a change past the 16th dropped. */
void op_change(struct op_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a list, "a,b,c" ("" when empty). */
void op_change_list(struct op_ctx *c, const char *key,
    const struct strlist *l);
/* Puts "key=a,b,c" of l in the audit line's detail. */
void op_detail_list(struct op_ctx *c, const char *key, const struct strlist *l);
/* Stages and notes that the batch holds something of this request. */
int op_stage_account(struct op_ctx *c, const struct sat_account *a);

/* Merges the fields of o into the reply and releases o; NULL (a failed
 * rendering) is SAT_E_NOMEM. */
int op_reply_merge(struct op_ctx *c, json_t *o);

/* One page of a sorted name list into the reply's "items", from after
 * the request's cursor, at most op_limit; "cursor" names the last one
 * when more remain.  fn renders a name: 0 with *ret, or with *ret NULL
 * for a record that is absent (skipped), or an error. */
typedef int (*op_render_fn)(struct op_ctx *c, const char *name, json_t **ret);
int op_list_page(struct op_ctx *c, struct names *names,
    op_render_fn fn);

/* Adds account.show's "tokens" (held) and, when exact, "tokens_live"
 * to the reply.  0, SAT_E_NOMEM or a store error (message set). */
int op_account_counts(struct op_ctx *c, const char *account);

/* Renderings for replies; NULL on allocation failure. */
json_t *op_account_json(struct op_ctx *c, const struct sat_account *a);
json_t *op_token_json(const struct sat_token *t, int64_t now);
/* Adds last_used_at, last_used_service, last_used_rhost (null when
 * never seen) to o; the time in *ret_at (0: never).  0, SAT_E_NOMEM or
 * a store error. */
int op_token_usage(struct op_ctx *c, const char *id, json_t *o,
    int64_t *ret_at);
/* "active", "revoked", "disabled" or "expired" (static string). */
const char *op_token_status(const struct sat_token *t, int64_t now);

/* The handlers, by file. */
int op_whoami(struct op_ctx *c);
int op_status(struct op_ctx *c);
/* ops_self.c: self-rotation by key.  self.challenge gives this
 * connection a nonce; a token.mint or token.rotate carrying
 * "signature" then runs as the account, by ops_self_principal. */
int op_self_challenge(struct op_ctx *c);
int ops_self_principal(struct op_ctx *c, struct principal *ret);
int op_fleet_status(struct op_ctx *c);	/* ops_fleet.c */
int op_backup(struct op_ctx *c);	/* ops_backup.c */
/* Bytes of the copy per backup reply (tests make it small, so that a
 * small store takes several replies); 0 or too large: the default. */
void ops_backup_set_chunk(size_t n);
int op_group_create(struct op_ctx *c);
int op_group_delete(struct op_ctx *c);
int op_group_list(struct op_ctx *c);
int op_group_add_member(struct op_ctx *c);
int op_group_remove_member(struct op_ctx *c);
int op_policy_show(struct op_ctx *c);
int op_policy_add(struct op_ctx *c);
int op_policy_set(struct op_ctx *c);
int op_policy_remove(struct op_ctx *c);
int op_account_create(struct op_ctx *c);
int op_account_list(struct op_ctx *c);
int op_account_show(struct op_ctx *c);
int op_account_update(struct op_ctx *c);
int op_account_disable(struct op_ctx *c);
int op_account_enable(struct op_ctx *c);
int op_account_delete(struct op_ctx *c);
int op_token_mint(struct op_ctx *c);
int op_token_create(struct op_ctx *c);
int op_token_list(struct op_ctx *c);
int op_token_show(struct op_ctx *c);
int op_token_revoke(struct op_ctx *c);
int op_token_disable(struct op_ctx *c);
int op_token_enable(struct op_ctx *c);
/* scan --revoke: a revocation that says in which file it was found */
int op_token_leaked(struct op_ctx *c);
int op_token_rotate(struct op_ctx *c);
int op_token_verify(struct op_ctx *c);

/* ops_account.c, for token.create: fills a new account from the
 * request's account fields (name given), checking them all. */
int op_account_build(struct op_ctx *c, const char *name, struct sat_account *a);

#endif
