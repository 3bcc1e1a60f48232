/* satoken: one authentication attempt as the modules make it.
 *
 * The PAM module and the SASL plugin are thin adapters over these two
 * calls: each reads the store through the resident view (view.h),
 * runs the decision, releases the view's lock and writes exactly one
 * audit line (action=auth, or action=account for the account phase).  Whatever
 * goes wrong is returned as a negative SAT_E_* for the adapter to map
 * to a refusal; nothing here ever turns an error into an acceptance. */
#ifndef SATOKEN_LOGIN_H
#define SATOKEN_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "verify.h"

struct login_request {
	const char *token;	/* borrowed; the caller wipes its copy */
	size_t token_len;
	const char *account;	/* claimed login name; NULL or "" for none */
	const char *service;	/* PAM service / SASL service */
	const char *rhost;	/* remote address text, may be NULL */
	const char *ident;	/* program name for file/stderr audit lines */
};

/* 0 with ret->reason set (VERIFY_OK: accept), or SAT_E_STORE when the
 * store cannot be read, SAT_E_NOMEM, SAT_E_CONFIG when the audit sink
 * cannot be opened, SAT_E_IO when an accepted login could not be
 * audited (every login is audited, so it is not accepted).  ret is
 * always written. */
int login_check(const struct sat_config *cfg, const struct login_request *req,
    struct verify_result *ret);

/* The account phase: unknown, disabled, expired, outside the policy. */
int login_check_account(const struct sat_config *cfg, const char *account,
    const char *service, const char *rhost, const char *ident,
    enum verify_reason *ret);

#endif
