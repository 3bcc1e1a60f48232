/* satokend: reading one attribute of a directory entry (ldapattr.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "err.h"
#include "ldapattr.h"
#include "mem.h"
#include "num.h"

/* A text value as every reader here takes it: one, shorter than cap,
 * without a NUL. */
static int
one_value(const struct berval *v, int several, char *out, size_t cap)
{
	if (v == NULL || several || v->bv_len >= cap ||
	    memchr(v->bv_val, '\0', v->bv_len) != NULL)
		return SAT_E_INVALID;
	memcpy(out, v->bv_val, v->bv_len);
	out[v->bv_len] = '\0';
	return 0;
}

int
ldapattr_str(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t cap)
{
	struct berval **v;
	int r;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return SAT_E_NOTFOUND;
	r = one_value(v[0], v[0] != NULL && v[1] != NULL, out, cap);
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
ldapattr_post_read(LDAPControl **sc, const char *attr, char *out,
    size_t cap)
{
	LDAPControl *pr = ldap_control_find(LDAP_CONTROL_POST_READ, sc, NULL);
	BerElement *ber;
	struct berval dn, type;
	BerVarray vals;
	ber_len_t len;
	int r = SAT_E_NOTFOUND;

	if (pr == NULL)
		return SAT_E_NOTFOUND;
	if ((r = ldapattr_ber(&pr->ldctl_value, &ber)) != 0)
		return r;
	/* a SearchResultEntry: {dn {{type {value...}}...}} */
	r = SAT_E_NOTFOUND;
	if (ber_scanf(ber, "{m{" /*}}*/, &dn) == LBER_ERROR)
		r = SAT_E_MALFORMED;
	while (r == SAT_E_NOTFOUND &&
	    ber_peek_tag(ber, &len) == LBER_SEQUENCE) {
		vals = NULL;
		if (ber_scanf(ber, "{m[W]}", &type, &vals) == LBER_ERROR) {
			r = SAT_E_MALFORMED;
			break;
		}
		if (type.bv_len == strlen(attr) &&
		    strncasecmp(type.bv_val, attr, type.bv_len) == 0)
			r = one_value(vals != NULL && vals[0].bv_val != NULL ?
			    &vals[0] : NULL, vals != NULL &&
			    vals[0].bv_val != NULL && vals[1].bv_val != NULL,
			    out, cap);
		ber_bvarray_free(vals);
	}
	ber_free(ber, 1);
	return r;
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
