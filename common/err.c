#include "err.h"

const char *
sat_strerror(int err)
{
	switch (err) {
	case SAT_OK:		return "success";
	case SAT_E_NOMEM:	return "out of memory";
	case SAT_E_MALFORMED:	return "malformed input";
	case SAT_E_INVALID:	return "invalid value";
	case SAT_E_NOTFOUND:	return "not found";
	case SAT_E_CONFLICT:	return "conflict";
	case SAT_E_PERM:	return "permission denied";
	case SAT_E_QUOTA:	return "quota exceeded";
	case SAT_E_THROTTLED:	return "throttled";
	case SAT_E_STORE:	return "store unavailable";
	case SAT_E_CONFIG:	return "configuration error";
	case SAT_E_IO:		return "input/output error";
	case SAT_E_CRYPTO:	return "cryptographic library failure";
	case SAT_E_FILEPERM:	return "unsafe file ownership or permissions";
	case SAT_E_INTERNAL:	return "internal error";
	case SAT_E_READ_ONLY:	return "read-only follower";
	case SAT_E_NOT_CONFIRMED: return "not applied by every host in time";
	default:		return "unknown error";
	}
}
