#include "tokstate.h"

const char *
tokstate_name(enum tokstate s)
{
	switch (s) {
	case TOKSTATE_ACTIVE:	return "active";
	case TOKSTATE_REVOKED:	return "revoked";
	case TOKSTATE_EXPIRED:	return "expired";
	}
	return "expired";	/* not reached; never call it active */
}
