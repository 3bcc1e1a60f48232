/* satoken: one audit line per change and per authentication.
 *
 *   action=auth outcome=denied reason=revoked account=ci token=<id> ...
 *
 * Lines are built from struct audit_event in a fixed key order, every
 * value through one escaper: a value holding a space, '=', '"', '\' or
 * a control or non-ASCII byte is written in double quotes with
 * backslash escapes, so no value can forge a field or a line.  A token
 * appears only by its public id; this module never sees a secret. */
#ifndef SATOKEN_AUDIT_H
#define SATOKEN_AUDIT_H

#include <stddef.h>

/* One changed field and its new value, as a change's line names it. */
struct audit_kv {
	const char *key;	/* a constant of the caller's: [a-z_]+ */
	const char *value;	/* escaped like every value */
};

/* A NULL field is left out; "" is written as key= (present, empty). */
struct audit_event {
	const char *action;	/* "auth", "account.create", "token.mint"... */
	const char *outcome;	/* "ok", "denied", "error" */
	const char *reason;	/* a verify reason or an error code */
	const char *principal;	/* "uid:1000(alice)", "account:ci" */
	const char *role;
	const char *count;	/* requests summed up (action=throttled) */
	const char *account;
	const char *group;
	const char *token;	/* public id only */
	const char *name;	/* token name */
	const char *service;
	const char *rhost;
	const char *detail;	/* free text, escaped like the rest */
	const char *token_account;	/* wrong_account: the token's own;
					 * written after name, before service */
	const struct audit_kv *changes;	/* after the fields above, in order */
	size_t nchanges;
};

struct audit;

/* spec: "syslog" (LOG_AUTHPRIV), "stderr", or "file:/abs/path" (opened
 * O_APPEND, no symlink, regular file).  ident names the program in
 * file and stderr lines.  The caller frees with audit_close. */
int audit_open(const char *spec, const char *ident, struct audit **ret);
void audit_close(struct audit *a);

/* Writes one line.  Returns 0, or SAT_E_IO if the sink failed (the
 * caller decides whether that refuses the operation). */
int audit_emit(struct audit *a, const struct audit_event *ev);

/* The lines of n events, as audit_emit would write them one by one,
 * in as few writes as whole lines allow: a file or stderr sink gets
 * them in one write(2) per AUDIT_BATCH_BYTES (O_APPEND keeps each write,
 * and so each line, whole), syslog one message per line.  ret[i] is the
 * result of the write that carried evs[i]'s line: 0, or an error (the
 * line may or may not be in the log; the caller treats it as lost, as
 * it would audit_emit's).  Returns 0 when every line was written, else
 * the first error. */
int audit_emit_batch(struct audit *a, const struct audit_event *const *evs,
    size_t n, int *ret);

/* One line to the sink spec names, like audit_open + audit_emit +
 * audit_close, except that a file sink stays open between calls (one
 * per process, guarded by a lock) while its path still names the same
 * regular file, not group- or world-writable: a rotated log is
 * reopened at the next line.  Returns what audit_open or audit_emit
 * would: 0, or an error (the caller refuses what it cannot audit). */
int audit_emit_kept(const char *spec, const char *ident,
    const struct audit_event *ev);
/* Closes the kept file (a module being unloaded; tests). */
void audit_kept_close(void);

/* Formats ev into out (cap bytes, always NUL-terminated, truncated at a
 * field boundary if needed).  Returns the length written. */
size_t audit_format(const struct audit_event *ev, char *out, size_t cap);

/* Escapes one value into out; returns the length written. */
size_t audit_escape(const char *in, char *out, size_t cap);

#endif
