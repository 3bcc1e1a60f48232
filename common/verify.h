/* satoken: the verification decision.  One function, used by the PAM
 * module, the SASL plugin and the daemon's token.verify.
 *
 * Checks, in order, each refusal with its reason code:
 *   malformed, unknown_token, bad_secret, wrong_account, canary, revoked,
 *   token_disabled, expired, unknown_account, account_disabled,
 *   account_expired, policy_denied, service_denied, source_denied, then
 *   ok.
 * Past the format check the same work is done on every path (one token
 * fetch, one HMAC, one constant-time compare, one account fetch, one
 * policy fetch), so timing does not tell the reasons apart. */
#ifndef SATOKEN_VERIFY_H
#define SATOKEN_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "token.h"
#include "valid.h"

enum verify_reason {
	VERIFY_OK = 0,
	VERIFY_MALFORMED,
	VERIFY_UNKNOWN_TOKEN,
	VERIFY_BAD_SECRET,
	VERIFY_WRONG_ACCOUNT,
	VERIFY_REVOKED,
	VERIFY_EXPIRED,
	VERIFY_UNKNOWN_ACCOUNT,
	VERIFY_ACCOUNT_DISABLED,
	VERIFY_ACCOUNT_EXPIRED,
	VERIFY_POLICY_DENIED,
	VERIFY_SERVICE_DENIED,
	VERIFY_SOURCE_DENIED,
	VERIFY_TOKEN_DISABLED,	/* checked after revoked, before expired */
	VERIFY_CANARY,		/* a canary token: it never authenticates */
	VERIFY_STORE_STALE,	/* a fleet host out of contact with its
				 * directory longer than the token allows */
};

/* "ok", "malformed", "unknown_token"...  Static string. */
const char *verify_reason_name(enum verify_reason r);

struct verify_request {
	const char *token;	/* borrowed, may hold a secret; not copied */
	size_t token_len;
	const char *account;	/* claimed account; NULL or "" for none */
	const char *service;	/* PAM/SASL service; NULL or "" for none */
	const char *rhost;	/* remote IP address text; NULL or "" */
	int64_t now;		/* Unix seconds */
	int defer_pad;		/* 1: the caller calls verify_pad() itself,
				   after releasing what it holds */
};

struct verify_result {
	enum verify_reason reason;
	char token_id[TOKEN_ID_LEN + 1];	/* "" if malformed */
	char account[SAT_NAME_MAX + 1];	/* the token's account if known,
					   else the claimed one, else "" */
	int64_t pad_until_ns;	/* CLOCK_MONOTONIC; 0: nothing to wait */
	int64_t expires_at;	/* the token's end once its secret matched,
				   else 0 (expiry warnings) */
};

/* Returns 0 with *ret filled (reason VERIFY_OK only when every check
 * passed), or a negative SAT_E_* when the store could not be read or
 * memory ran out: the caller must refuse (fail closed).  ret is written
 * on every path, reason VERIFY_MALFORMED on error paths. */
int verify_token(struct store *s, const struct verify_request *req,
    struct verify_result *ret);

/* Every decision past the format check takes the same time: it is
 * padded to a floor that adapts to what decisions cost in this process.
 * verify_token pads before returning unless req->defer_pad; a caller
 * that holds a lock (the modules' store view) sets it and calls this
 * once the lock is released, so that threads do not wait out each
 * other's padding. */
void verify_pad(const struct verify_result *res);

/* The account half of the decision (PAM's account phase): unknown,
 * disabled, expired, outside the policy, or ok. */
int verify_account(struct store *s, const char *account, int64_t now,
    enum verify_reason *ret);

/* Whether a found account may hold and use tokens at now: disabled,
 * expired, outside the policy (in that order), or VERIFY_OK.  The one
 * rule for logins (verify_token, verify_account) and for minting. */
enum verify_reason verify_account_fitness(const struct sat_account *a,
    const struct sat_policy *p, int64_t now);

#endif
