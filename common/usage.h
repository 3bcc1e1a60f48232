/* satoken: last use, reported without a store write at login.
 *
 * A module sends one datagram per decided token login to satokend's
 * usage_socket: no secret, only the token's public id, the time, the
 * service, the remote address and the decision's reason ("ok" for an
 * accepted login; only those count as a use):
 *
 *   "satu1 ID TIME SERVICE RHOST REASON"    ("-" for an empty field)
 *
 * The send never waits and is never retried: satokend stopped, its
 * socket missing or its buffer full lose the report, and the login goes
 * on exactly as it would have.  satokend (daemon/usage.c) aggregates the
 * reports and writes each token's latest at most every usage_flush. */
#ifndef SATOKEN_USAGE_H
#define SATOKEN_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"
#include "valid.h"

#define USAGE_MSG_MAX	256

struct usage_report {
	char id[TOKEN_ID_LEN + 1];
	int64_t at;
	char service[SAT_SERVICE_MAX + 1];	/* "" when none */
	char rhost[64];				/* "" when none */
	char reason[32];			/* "ok", "revoked"... */
};

/* Sends one report to the socket at path (NULL: reporting is off).
 * Returns nothing: a lost report must not change a login. */
void usage_send(const char *path, const char *id, int64_t at,
    const char *service, const char *rhost, const char *reason);

/* Formats a report into out (at least USAGE_MSG_MAX bytes); its length,
 * or 0 when a field cannot be carried (an ok without a token id, a
 * reason that is not [a-z_]). id may be NULL or "" for a refusal. */
size_t usage_format(char *out, const char *id, int64_t at,
    const char *service, const char *rhost, const char *reason);

/* Parses the n bytes at p (untrusted: any local sender).  0 with *ret,
 * or SAT_E_MALFORMED. */
int usage_parse(const void *p, size_t n, struct usage_report *ret);

#endif
