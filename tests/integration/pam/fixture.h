/* Test helpers shared by the PAM harnesses: a private directory with a
 * store, a satoken.conf and PAM service files, and one way to mint.
 *
 * Minting goes through fx_mint() only, so that the tests can move from
 * the satfix fixture to satokenctl without touching a test.  Tokens come
 * back over a pipe, never through argv or the environment. */
#ifndef PAM_TEST_FIXTURE_H
#define PAM_TEST_FIXTURE_H

#include <stddef.h>

#define FX_PATH	512
#define FX_TOKEN_LEN	54

struct fx {
	char dir[FX_PATH / 2];	/* private temp directory, removed at teardown */
	char db[FX_PATH];	/* the store */
	char conf[FX_PATH];	/* satoken.conf: database, audit file, timeout */
	char audit[FX_PATH];	/* the audit log the module writes */
	char svcdir[FX_PATH];	/* PAM service files */
	const char *satfix;	/* $SATFIX */
	const char *module;	/* $PAM_MODULE, absolute */
};

/* Creates the directory, an empty store and the config.  Exits the
 * test program (status 1) if anything fails: nothing can be tested. */
void fx_setup(struct fx *f, unsigned lock_timeout_ms);
void fx_teardown(struct fx *f);

/* Runs `satfix DB ARG...` (NULL-terminated); returns its exit status. */
int fx_satfix(const struct fx *f, const char *db, ...);

/* Mints a token for account (extra satfix mint options after name,
 * NULL-terminated) into tok (FX_TOKEN_LEN + 1).  0 or -1. */
int fx_mint(const struct fx *f, char *tok, const char *account,
    const char *name, ...);

/* The public id of a token (chars 4..15) into id (13 bytes). */
void fx_token_id(const char *tok, char *id);

/* Writes svcdir/name with text (printf-style). */
void fx_service(const struct fx *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies a file byte for byte; 0 or -1. */
int fx_copy(const char *from, const char *to);

/* A malloc'd copy of the whole audit log ("" if none). */
char *fx_audit_text(const struct fx *f);
/* A malloc'd copy of the last audit line (without newline), "" if none. */
char *fx_audit_last(const struct fx *f);
/* Number of lines in the audit log. */
size_t fx_audit_lines(const struct fx *f);

#endif
