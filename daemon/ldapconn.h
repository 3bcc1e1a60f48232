/* satokend: one bound LDAP connection to the fleet's directory, as a
 * host's identity (DESIGN "Fleet" keys): the follower's search
 * (follower.c) and a control host's writes (control.c) each hold one. */
#ifndef SATOKEND_LDAPCONN_H
#define SATOKEND_LDAPCONN_H

#include <ldap.h>

/* Connects to the first of uris that answers and binds as bind_dn with
 * the password in pwfile (read safely, one line; wiped after).  Network
 * and operation timeouts of timeout_s.  Returns the handle (the
 * caller's, ldap_unbind_ext_s) or NULL, the reason logged. */
LDAP *ldapconn_open(const char *uris, const char *bind_dn,
    const char *pwfile, int timeout_s);
/* The same; quiet: a failed bind is the caller's to log (a retry that
 * logs once).  ret_rc (or NULL): the bind's LDAP result, LDAP_SERVER_DOWN
 * when no URI answered, LDAP_LOCAL_ERROR when it was not tried. */
LDAP *ldapconn_open_q(const char *uris, const char *bind_dn,
    const char *pwfile, int timeout_s, int quiet, int *ret_rc);

#endif
