/* satoken: roles, their order, the role ceiling and ownership. */
#ifndef SATOKEN_ROLE_H
#define SATOKEN_ROLE_H

enum sat_role {
	ROLE_NONE = 0,
	ROLE_VIEWER = 1,
	ROLE_CONTRIBUTOR = 2,
	ROLE_ADMIN = 3,
};

/* "viewer", "contributor", "admin" to the enum; SAT_E_INVALID otherwise. */
int role_parse(const char *s, enum sat_role *ret);
/* The name of a role; "none" for anything else.  Static string. */
const char *role_name(int role);
/* 1 if role is one of the three real roles. */
int role_valid(int role);
/* 1 if a caller of role caller may give an account role wanted
 * (the ceiling: never above the caller's own). */
int role_may_assign(enum sat_role caller, enum sat_role wanted);
/* 1 if a caller may manage (update, disable, delete, mint for) an
 * account owned by owner: admins always; contributors only their own;
 * viewers never.  caller_principal and owner are principal strings. */
int role_may_manage(enum sat_role caller, const char *caller_principal,
    const char *owner);

#endif
