/* satokend: a bound connection to the directory (ldapconn.h). */
#include <fcntl.h>
#include <syslog.h>
#include <sys/time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "ldapconn.h"
#include "mem.h"
#include "satokend.h"

#define PASSWORD_MAX	1024

LDAP *
ldapconn_open(const char *uris, const char *bind_dn, const char *pwfile,
    int timeout_s)
{
	return ldapconn_open_q(uris, bind_dn, pwfile, timeout_s, 0, NULL);
}

LDAP *
ldapconn_open_q(const char *uris, const char *bind_dn, const char *pwfile,
    int timeout_s, int quiet, int *ret_rc)
{
	struct timeval tv = { timeout_s, 0 };
	struct berval cred;
	LDAP *ld = NULL;
	char *pw = NULL;
	size_t pwlen = 0;
	int fd, slurped, v3 = LDAP_VERSION3, rc = LDAP_LOCAL_ERROR;

	if (ret_rc != NULL)
		*ret_rc = rc;
	if (fileio_open(pwfile, O_RDONLY, 0, FILEIO_REGULAR |
	    FILEIO_OWNER_TRUSTED | FILEIO_NOT_WRITABLE, &fd) != 0) {
		dlog(LOG_ERR, "directory_password_file %s: cannot read it "
		    "safely", pwfile);
		return NULL;
	}
	slurped = fileio_slurp(fd, PASSWORD_MAX, &pw, &pwlen);
	close(fd);
	if (slurped != 0)
		return NULL;
	/* one line: a trailing newline is not part of the password */
	while (pwlen > 0 && (pw[pwlen - 1] == '\n' || pw[pwlen - 1] == '\r'))
		pw[--pwlen] = '\0';
	if (ldap_initialize(&ld, uris) != LDAP_SUCCESS) {
		dlog(LOG_ERR, "directory %s: not a list of LDAP URIs", uris);
		goto out;
	}
	(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	(void)ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	(void)ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	(void)ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	cred.bv_val = pw;
	cred.bv_len = pwlen;
	rc = ldap_sasl_bind_s(ld, bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL);
	if (ret_rc != NULL)
		*ret_rc = rc;
	if (rc != LDAP_SUCCESS) {
		if (!quiet)
			dlog(LOG_WARNING, "directory %s: bind as %s: %s",
			    uris, bind_dn, ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		ld = NULL;
	}
out:
	if (pw != NULL)
		sat_freezero(pw, pwlen + 1);
	return ld;
}
