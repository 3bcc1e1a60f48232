/* satokenctl: the sysadmin's client of satokend.
 *
 * main.c: options common to all commands; call.c: the connection and
 * the error convention (one line "satokenctl: CODE: message" on stderr
 * and the exit code of common/wire.c); run.c: argv to a command;
 * commands.c: the commands, their options; request.c: the requests
 * they send; print.c: human-readable output; scan.c: the leak sweep. */
#ifndef SATOKENCTL_H
#define SATOKENCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "strlist.h"
#include "wire.h"

struct ctl {
	const char *socket;	/* NULL until resolved */
	const char *token_file;
	char *auth_token;	/* owned secret, wiped */
	int json;
	int fd;			/* -1 until connected */
	int64_t wait_ms;	/* --wait: how long; 0 without it */
	int wait_rc;		/* --wait: its exit code, once it ran */
	char *wait_line;	/* --wait: the reply re-written (a secret) */
	char *rbuf;		/* owned read buffer */
	size_t rlen, rcap;
};

/* The parsed options of one command; which are allowed depends on it. */
struct opts {
	const char *role, *owner, *description, *public_key, *external_id;
	const char *name, *ttl, *grace, *old_expires, *days_valid;
	const char *limit, *cursor;
	const char *output;	/* --output FILE: the minted token goes there */
	int yes;		/* --yes: do not ask before a destructive act */
	const char *status, *expiring, *unused_for;	/* token list */
	int canary;		/* --canary */
	const char *bind_pid;	/* --bind-pid PID */
	const char *max_offline;	/* --max-offline DURATION */
	const char *wait;	/* --wait[=DURATION] */
	int self;		/* --self: signed with --key, no other principal */
	const char *key;	/* --key PRIVATE.pem */
	int revoke;		/* scan --revoke */
	struct strlist groups, services, froms;
	char **pos;		/* positional arguments (borrowed argv) */
	int npos;
};

/* call.c: the connection.
 * Prints "satokenctl: CODE: message" on stderr; returns CODE's exit
 * (wire_exit). */
int ctl_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends req (adding the presented token, if any) and reads the reply.
 * 0 with *ret (caller json_decref) when the daemon answered, ok or not;
 * otherwise the exit code after printing the error. *ret_line is the
 * reply's raw text (borrowed until the next call), for --json. */
int ctl_call(struct ctl *c, json_t *req, json_t **ret, const char **ret_line);

/* ctl_call for a request that must succeed (req consumed, NULL: out of
 * memory): 0 with an ok *ret (caller json_decref) and its *ret_line,
 * or the exit code after reporting the refusal or the failure. */
int ctl_ask(struct ctl *c, json_t *req, json_t **ret, const char **ret_line);

/* Reports a reply with "ok":false (message, exit code); with --json the
 * reply itself goes to stdout as well. */
int ctl_reply_error(struct ctl *c, json_t *reply, const char *line);

/* Option bits: which options a command takes. */
enum {
	O_ROLE = 1u << 0, O_GROUP = 1u << 1, O_OWNER = 1u << 2,
	O_DESC = 1u << 3, O_DAYS = 1u << 4, O_PUBKEY = 1u << 5,
	O_EXTID = 1u << 6, O_NAME = 1u << 7, O_TTL = 1u << 8,
	O_SERVICE = 1u << 9, O_FROM = 1u << 10, O_GRACE = 1u << 11,
	O_OLDEXP = 1u << 12, O_PAGE = 1u << 13, O_OUTPUT = 1u << 14,
	O_YES = 1u << 15, O_FILTER = 1u << 16,	/* token list's filters */
	O_WAIT = 1u << 17,	/* a change: --wait[=DURATION] (fleet) */
	/* workload identity, from the top down to keep clear of others */
	O_CANARY = 1u << 31, O_BINDPID = 1u << 30, O_SELF = 1u << 29,
	O_REVOKE = 1u << 28,
	O_MAXOFF = 1u << 27,	/* fleet */
};
#define ACCT_OPTS (O_ROLE | O_GROUP | O_OWNER | O_DESC | O_DAYS | O_PUBKEY | \
	O_EXTID)

struct cmd {
	const char *group;	/* "account", or NULL for a lone command */
	const char *name;
	int min_pos, max_pos;	/* max -1: any number */
	unsigned opts;
	int (*run)(struct ctl *c, const struct cmd *cmd, struct opts *o);
	const char *usage;	/* after "satokenctl " */
	const char *help;
};

/* commands.c: the commands. */
extern const struct cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* run.c: runs argv (after the global options); returns the exit
 * code.  ctl_usage prints the whole usage. */
int ctl_run(struct ctl *c, int argc, char **argv);
void ctl_usage(FILE *f);

/* request.c: request building; each returns 0 or the exit code after
 * printing the error.  req_new returns NULL on allocation failure. */
json_t *req_new(const char *op);
int ctl_nomem(void);
int req_str(json_t *req, const char *k, const char *v);	/* NULL: absent */
int req_list(json_t *req, const char *k, const struct strlist *l);
int req_int(json_t *req, const char *k, uint64_t v);
int req_duration(json_t *req, const char *k, const char *opt, const char *v);
int req_number(json_t *req, const char *k, const char *opt, const char *v);
int req_account_opts(json_t *req, const struct opts *o);
int req_mint_opts(json_t *req, const struct opts *o);
/* Sends req (consumed); an ok reply goes to print (or --json prints it)
 * and done, if any, is printed after.  Returns the exit code. */
int ctl_send(struct ctl *c, json_t *req, void (*print)(json_t *),
    const char *done);
/* Sends req (borrowed; its "cursor" set from each reply) and hands
 * each ok reply, with its raw line, to page (both borrowed until it
 * returns); page returns 0 for the next page, CTL_LAST to stop there,
 * or an exit code.  The one loop for listings, backup and scan.  A
 * refusal is reported (ctl_reply_error), unless ret_refusal is not
 * NULL (scan): a THROTTLED one is then sent again after its
 * retry_after_ms, up to CTL_THROTTLE_TRIES in a row, and another gets
 * the reply (caller json_decref) with 0 returned.  Returns 0 or the exit
 * code. */
#define CTL_LAST		(-1)
#define CTL_THROTTLE_TRIES	100
int ctl_pages(struct ctl *c, json_t *req,
    int (*page)(void *arg, json_t *reply, const char *line), void *arg,
    json_t **ret_refusal);
/* A listing (req consumed): one page with --limit/--cursor, else all. */
int ctl_list(struct ctl *c, json_t *req, const struct opts *o,
    void (*print)(json_t *, int));
/* Mint, create, rotate (req consumed): the token to stdout, or with
 * --output into a new file of mode 0600, without a newline. */
int ctl_send_minted(struct ctl *c, json_t *req, const struct opts *o);
/* On a terminal (stdin and stderr), unless --yes: asks question and
 * returns 0 on "y" or "yes", else the exit code after "nothing changed".
 * Without a terminal it does not ask and returns 0. */
int ctl_confirm(const struct opts *o, const char *question);
/* One line from stdin (no echo on a terminal) into buf; its length. */
int ctl_read_secret(char *buf, size_t cap);

/* self.c: token mint's --canary and --bind-pid into req. */
int req_workload_opts(json_t *req, const struct opts *o);
/* self.c: --self --key: asks the daemon for a challenge on this
 * connection and signs req with the key (fields "signature").  Returns
 * 0 or the exit code after printing the error. */
int ctl_self_sign(struct ctl *c, json_t *req, const struct opts *o);

/* fleet.c: satokenctl fleet status. */
int c_fleet_status(struct ctl *c, const struct cmd *cmd, struct opts *o);
/* fleet.c: --wait.  With an ok reply that gives a change's position
 * ("csn"), asks fleet.status until every host has applied it or
 * c->wait_ms ran out; sets c->wait_rc (0, or NOT_CONFIRMED's exit after
 * naming the hosts on stderr) and records the outcome in the reply
 * ("confirmed", "pending") for --json.  A reply without a position
 * (a standalone host, nothing written) has nothing to wait for. */
void ctl_wait_applied(struct ctl *c, json_t *reply);
/* The reply as one line for --json (kept in c, wiped at the next one
 * and by ctl_wait_free); NULL when out of memory. */
const char *ctl_wait_line(struct ctl *c, json_t *reply);
void ctl_wait_free(struct ctl *c);

/* scan.c: satokenctl scan, the leak sweep. */
int c_scan(struct ctl *c, const struct cmd *cmd, struct opts *o);

/* print.c */
void print_whoami(json_t *r);
void print_status(json_t *r);
void print_groups(json_t *items, int header);
void print_policy(json_t *r);
void print_accounts(json_t *items, int header);
void print_account(json_t *a);
void print_tokens(json_t *items, int header);
void print_token(json_t *t);
/* mint, create, rotate: the token alone on stdout, the rest on stderr */
void print_minted(json_t *r);
/* group add-member / remove-member: which accounts changed, which not */
void print_membership(json_t *r);

#endif
