/* satokend: reading one attribute of a directory entry (ldapattr.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "err.h"
#include "ldapattr.h"
#include "mem.h"
#include "num.h"

int
ldapattr_str(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t cap)
{
	struct berval **v;
	int r = 0;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return SAT_E_NOTFOUND;
	if (v[0] == NULL || v[1] != NULL || v[0]->bv_len >= cap ||
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) != NULL)
		r = SAT_E_INVALID;
	else {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return r;
}

int
ldapattr_ber(const struct berval *v, BerElement **ret)
{
	*ret = NULL;
	/* an element is two bytes at least; liblber aborts on a value
	 * that is absent and reads past one that is empty */
	if (v == NULL || v->bv_val == NULL || v->bv_len < 2)
		return SAT_E_MALFORMED;
	return (*ret = ber_init((struct berval *)v)) == NULL ? SAT_E_NOMEM : 0;
}

int
ldapattr_dup(LDAP *ld, LDAPMessage *e, const char *attr, char **ret)
{
	char buf[4200];
	int r;

	*ret = NULL;
	if ((r = ldapattr_str(ld, e, attr, buf, sizeof(buf))) == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	return (*ret = sat_strdup(buf)) == NULL ? SAT_E_NOMEM : 0;
}

int
ldapattr_i64(LDAP *ld, LDAPMessage *e, const char *attr, int required,
    int64_t *ret)
{
	char buf[24];
	uint64_t v;
	int r;

	*ret = 0;
	if ((r = ldapattr_str(ld, e, attr, buf, sizeof(buf))) == SAT_E_NOTFOUND)
		return required ? SAT_E_INVALID : 0;
	if (r != 0)
		return r;
	if (parse_u64(buf, 0, INT64_MAX, &v) != 0)
		return SAT_E_INVALID;
	*ret = (int64_t)v;
	return 0;
}

int
ldapattr_bool(LDAP *ld, LDAPMessage *e, const char *attr, int *ret)
{
	char buf[8];
	int r;

	*ret = 0;
	if ((r = ldapattr_str(ld, e, attr, buf, sizeof(buf))) == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	if (strcmp(buf, "TRUE") == 0)
		*ret = 1;
	else if (strcmp(buf, "FALSE") != 0)
		return SAT_E_INVALID;
	return 0;
}
