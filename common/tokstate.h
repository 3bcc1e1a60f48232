/* satoken: a token's state, decided in one place.
 *
 * A token is revoked from its revoked_at on, expired from its
 * expires_at on (the second itself included), and active before that.
 * The login decision (verify.c), the listings (ops.c), rotation
 * (ops_token.c) and the token index's counts and purge (tindex.c) all
 * ask here, so they cannot disagree about the second a token ends.
 *
 * A disabled token (token disable) is neither: it may be enabled again,
 * so the index still counts it live against the quota and tokstate()
 * does not see it; what a login refuses and a listing shows is
 * tokstate_shown(), where disabled comes after revoked. */
#ifndef SATOKEN_TOKSTATE_H
#define SATOKEN_TOKSTATE_H

#include <stdint.h>

#include "record.h"

enum tokstate {
	TOKSTATE_ACTIVE = 0,
	TOKSTATE_REVOKED,	/* wins over expired: it was ended on purpose */
	TOKSTATE_EXPIRED,
	TOKSTATE_DISABLED,	/* tokstate_shown() only */
};

/* The state of t at now (Unix seconds). */
static inline enum tokstate
tokstate(const struct sat_token *t, int64_t now)
{
	if (t->revoked_at != 0)
		return TOKSTATE_REVOKED;
	return now >= t->expires_at ? TOKSTATE_EXPIRED : TOKSTATE_ACTIVE;
}

/* The state a login and a listing see: revoked, disabled, expired or
 * active, in that order. */
static inline enum tokstate
tokstate_shown(const struct sat_token *t, int64_t now)
{
	if (t->revoked_at != 0)
		return TOKSTATE_REVOKED;
	if (t->disabled_at != 0)
		return TOKSTATE_DISABLED;
	return tokstate(t, now);
}

/* Whether t has ended (revoked or expired) at or before cutoff: what
 * the retention purge may remove. */
static inline int
tokstate_ended_by(const struct sat_token *t, int64_t cutoff)
{
	return (t->revoked_at != 0 && t->revoked_at <= cutoff) ||
	    t->expires_at <= cutoff;
}

/* The protocol's name of a state: "active", "revoked", "expired",
 * "disabled". */
const char *tokstate_name(enum tokstate s);

#endif
