/* satokend: one attribute of a directory entry, read whole and checked
 * before anything uses it.  The follower's decoders and the fleet status
 * read every byte the directory sends through these. */
#ifndef SATOKEND_LDAPATTR_H
#define SATOKEND_LDAPATTR_H

#include <stddef.h>
#include <stdint.h>

#include <ldap.h>

/* The one value of attr, NUL-terminated in out; SAT_E_NOTFOUND when
 * absent, SAT_E_INVALID when there are several, it is too long or holds
 * a NUL. */
int ldapattr_str(LDAP *ld, LDAPMessage *e, const char *attr, char *out,
    size_t cap);
/* A BER reader over a control's or a message's value v (ber_free it);
 * SAT_E_MALFORMED when v is absent or too short to hold an element,
 * which liblber would not survive. */
int ldapattr_ber(const struct berval *v, BerElement **ret);
/* The one value of attr in the entry a post-read control (RFC 4527)
 * among a result's controls sc brought back, as ldapattr_str reads it;
 * SAT_E_NOTFOUND when there is none, SAT_E_MALFORMED when the control
 * does not parse. */
int ldapattr_post_read(LDAPControl **sc, const char *attr, char *out,
    size_t cap);
/* An optional text attribute into an owned string (NULL when absent). */
int ldapattr_dup(LDAP *ld, LDAPMessage *e, const char *attr, char **ret);
/* A decimal integer >= 0; absent is 0, or SAT_E_INVALID when required. */
int ldapattr_i64(LDAP *ld, LDAPMessage *e, const char *attr, int required,
    int64_t *ret);
/* TRUE or FALSE; absent is FALSE. */
int ldapattr_bool(LDAP *ld, LDAPMessage *e, const char *attr, int *ret);

#endif
