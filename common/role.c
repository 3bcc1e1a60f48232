#include <string.h>

#include "err.h"
#include "role.h"

int
role_parse(const char *s, enum sat_role *ret)
{
	if (s == NULL)
		return SAT_E_INVALID;
	if (strcmp(s, "viewer") == 0)
		*ret = ROLE_VIEWER;
	else if (strcmp(s, "contributor") == 0)
		*ret = ROLE_CONTRIBUTOR;
	else if (strcmp(s, "admin") == 0)
		*ret = ROLE_ADMIN;
	else
		return SAT_E_INVALID;
	return 0;
}

const char *
role_name(int role)
{
	switch (role) {
	case ROLE_VIEWER:	return "viewer";
	case ROLE_CONTRIBUTOR:	return "contributor";
	case ROLE_ADMIN:	return "admin";
	default:		return "none";
	}
}

int
role_valid(int role)
{
	return role == ROLE_VIEWER || role == ROLE_CONTRIBUTOR ||
	    role == ROLE_ADMIN;
}

int
role_may_assign(enum sat_role caller, enum sat_role wanted)
{
	return role_valid((int)caller) && role_valid((int)wanted) &&
	    caller >= ROLE_CONTRIBUTOR && wanted <= caller;
}

int
role_may_manage(enum sat_role caller, const char *caller_principal,
    const char *owner)
{
	if (caller == ROLE_ADMIN)
		return 1;
	if (caller != ROLE_CONTRIBUTOR || caller_principal == NULL ||
	    owner == NULL)
		return 0;
	return strcmp(caller_principal, owner) == 0;
}
