/* satoken: one error convention for all of common/.
 *
 * A function that can fail returns int: 0 on success or a negative SAT_E_*
 * code.  Adapters map these outward exactly once (PAM codes, SASL codes,
 * protocol error names, satokenctl exit codes), always with a default
 * branch that refuses. */
#ifndef SATOKEN_ERR_H
#define SATOKEN_ERR_H

enum {
	SAT_OK = 0,
	SAT_E_NOMEM = -1,	/* allocation failed */
	SAT_E_MALFORMED = -2,	/* untrusted bytes do not decode */
	SAT_E_INVALID = -3,	/* a value is out of range or ill-formed */
	SAT_E_NOTFOUND = -4,	/* no such account, group, token or key */
	SAT_E_CONFLICT = -5,	/* name taken; state changed under us */
	SAT_E_PERM = -6,	/* role, ownership or policy forbids it */
	SAT_E_QUOTA = -7,	/* a configured maximum was reached */
	SAT_E_THROTTLED = -8,	/* rate limited */
	SAT_E_STORE = -9,	/* the store cannot be read or written now */
	SAT_E_CONFIG = -10,	/* bad configuration or module argument */
	SAT_E_IO = -11,		/* a file or socket operation failed */
	SAT_E_CRYPTO = -12,	/* OpenSSL failed (random, HMAC) */
	SAT_E_FILEPERM = -13,	/* a file is not ours or is writable by others */
	SAT_E_INTERNAL = -14,	/* a bug */
	SAT_E_READ_ONLY = -15,	/* a fleet follower: mutations go elsewhere */
	SAT_E_NOT_CONFIRMED = -16,	/* --wait: a host has not applied it */
};

/* Returns a static English description; never NULL. */
const char *sat_strerror(int err);

#endif
