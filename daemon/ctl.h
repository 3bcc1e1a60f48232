/* satokenctl: the sysadmin's client of satokend.
 *
 * satokenctl.c: options common to all commands, the connection, the
 * error convention (one line "satokenctl: CODE: message" on stderr and
 * the exit code of DESIGN.md); ctl_cmds.c: the commands, their options
 * and the requests they send; ctl_print.c: human-readable output. */
#ifndef SATOKENCTL_H
#define SATOKENCTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "strlist.h"

/* DESIGN.md's exit codes. */
enum {
	EXIT_OK = 0,
	EXIT_UNAVAILABLE = 1,
	EXIT_VALIDATION = 2,
	EXIT_PERMISSION = 3,
	EXIT_NOT_FOUND = 4,
	EXIT_CONFLICT = 5,
	EXIT_QUOTA = 6,
	EXIT_THROTTLED = 7,
};

struct ctl {
	const char *socket;	/* NULL until resolved */
	const char *token_file;
	char *auth_token;	/* owned secret, wiped */
	int json;
	int fd;			/* -1 until connected */
	char *rbuf;		/* owned read buffer */
	size_t rlen, rcap;
};

/* The parsed options of one command; which are allowed depends on it. */
struct opts {
	const char *role, *owner, *description, *public_key, *external_id;
	const char *name, *ttl, *grace, *old_expires, *days_valid;
	const char *limit, *cursor;
	struct strlist groups, services, froms;
	char **pos;		/* positional arguments (borrowed argv) */
	int npos;
};

/* Prints "satokenctl: CODE: message" on stderr; returns CODE's exit. */
int ctl_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The exit code of a protocol error name (unknown: 1). */
int ctl_exit_code(const char *code);

/* Sends req (adding the presented token, if any) and reads the reply.
 * 0 with *ret (caller json_decref) when the daemon answered, ok or not;
 * otherwise the exit code after printing the error. *ret_line is the
 * reply's raw text (borrowed until the next call), for --json. */
int ctl_call(struct ctl *c, json_t *req, json_t **ret, const char **ret_line);

/* Reports a reply with "ok":false (message, exit code); with --json the
 * reply itself goes to stdout as well. */
int ctl_reply_error(struct ctl *c, json_t *reply, const char *line);

/* ctl_cmds.c: runs argv (after the global options).  Returns the exit
 * code. */
int ctl_run(struct ctl *c, int argc, char **argv);
/* Prints the whole usage. */
void ctl_usage(FILE *f);

/* ctl_print.c */
void print_whoami(json_t *r);
void print_groups(json_t *items, int header);
void print_policy(json_t *r);
void print_accounts(json_t *items, int header);
void print_account(json_t *a);
void print_tokens(json_t *items, int header);
void print_token(json_t *t);
/* mint, create, rotate: the token alone on stdout, the rest on stderr */
void print_minted(json_t *r);

#endif
