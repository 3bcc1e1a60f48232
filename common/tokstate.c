#include "tokstate.h"

const char *
tokstate_name(enum tokstate s)
{
	switch (s) {
	case TOKSTATE_ACTIVE:	return "active";
	case TOKSTATE_REVOKED:	return "revoked";
	case TOKSTATE_EXPIRED:	return "expired";
	case TOKSTATE_DISABLED:	return "disabled";
	}
	return "expired";	/* not reached; never call it active */
}
