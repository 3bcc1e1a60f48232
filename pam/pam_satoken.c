/* pam_satoken: a service account logs in with a token as its password.
 *
 * A thin adapter: it takes the user, the token, the service and the
 * remote host from libpam, hands them to login_check() (which runs the
 * one decision against the store, read-only, and writes the audit line)
 * and maps the answer to a PAM code exactly once.  Every error
 * refuses; only an ok decision is PAM_SUCCESS, and only a password that
 * is not a token, under ignore_non_token, is PAM_IGNORE.  That password
 * is recognised from the flags alone, before satoken.conf or the store
 * is read: other people's logins in a shared stack do not depend on
 * satoken.  An empty user is PAM_USER_UNKNOWN, whatever the token.
 *
 * Between calls the module keeps, each behind its own lock, only what
 * it can tell is still current: the parsed arguments and satoken.conf
 * (re-stat'ed at every call), the store view (its generation checked
 * under the shared lock) and the audit file (reopened when rotated).
 * sshd, Dovecot and other multithreaded servers may call in from
 * several threads. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "args.h"
#include "audit.h"
#include "err.h"
#include "login.h"
#include "mem.h"
#include "token.h"
#include "verify.h"

#define SAT_PAM_EXPORT	__attribute__((visibility("default")))

#define IDENT		"pam_satoken"
#define PROMPT		"Token: "
/* pam_set_data key: the public id of the token that authenticated this
 * handle, for the session lines */
#define DATA_TOKEN_ID	"satoken_token_id"

/* The one SAT_E_* to PAM mapping of an error.  Never called with 0, and
 * its default refuses. */
static int
pam_code(int r)
{
	switch (r) {
	case SAT_E_STORE:	return PAM_AUTHINFO_UNAVAIL;
	case SAT_E_CONFIG:	return PAM_SERVICE_ERR;
	case SAT_E_NOMEM:	return PAM_BUF_ERR;
	default:		return PAM_AUTH_ERR;
	}
}

/* A PAM call failed on an error path: pass its code on, but never one
 * a stack would take as a pass. */
static int
refuse(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
	case PAM_IGNORE:
		return PAM_AUTH_ERR;
	case PAM_CONV_AGAIN:
		return PAM_INCOMPLETE;
	default:
		return rc;
	}
}

/* *ret is borrowed until args_put(*ref). */
static int
load_args(pam_handle_t *pamh, int argc, const char **argv,
    const struct pam_args **ret, struct cfg_entry **ref)
{
	char err[SAT_ERRMSG_MAX];
	int r;

	err[0] = '\0';
	if ((r = args_get(argc, argv, ret, ref, err, sizeof(err))) != 0) {
		pam_syslog(pamh, LOG_ERR, "refusing: bad module argument: %s",
		    err[0] != '\0' ? err : sat_strerror(r));
		return r == SAT_E_NOMEM ? PAM_BUF_ERR : PAM_SERVICE_ERR;
	}
	return PAM_SUCCESS;
}

/* When the module is unloaded (or the process exits): no parsed
 * arguments or audit descriptor left behind. */
__attribute__((destructor)) static void
module_unload(void)
{
	args_cache_reset();
	audit_kept_close();
}

/* A string item (NULL when unset), borrowed from libpam.  A failing
 * pam_get_item is an error, never an empty service or host. */
static int
get_item(pam_handle_t *pamh, int type, const char **ret)
{
	const void *v = NULL;
	int rc;

	if ((rc = pam_get_item(pamh, type, &v)) != PAM_SUCCESS)
		return refuse(rc);
	*ret = v;
	return PAM_SUCCESS;
}

static int
get_user(pam_handle_t *pamh, const char **ret)
{
	const char *user = NULL;
	int rc;

	if ((rc = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return refuse(rc);
	if (user == NULL)
		return PAM_USER_UNKNOWN;
	*ret = user;
	return PAM_SUCCESS;
}

/* The token: PAM_AUTHTOK under use_first_pass / try_first_pass, else
 * asked for through the conversation.  *ret_tok is borrowed from libpam
 * or points into *ret_owned, which the caller wipes and frees.  A
 * missing token reads as "" so that it is decided (malformed) and
 * audited like any other password that is not a token. */
static int
get_token(pam_handle_t *pamh, const struct pam_args *a, const char **ret_tok,
    char **ret_owned)
{
	const char *item = NULL;
	char *resp = NULL;
	int rc;

	if (a->use_first_pass || a->try_first_pass) {
		if ((rc = get_item(pamh, PAM_AUTHTOK, &item)) != PAM_SUCCESS)
			return rc;
		if (item != NULL || a->use_first_pass) {
			*ret_tok = item != NULL ? item : "";
			return PAM_SUCCESS;
		}
	}
	rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", PROMPT);
	if (rc != PAM_SUCCESS) {
		sat_free_secret_str(resp);
		return refuse(rc);
	}
	/* hand it on, as pam_unix does, so that a later module configured
	 * with try_first_pass does not ask again (libpam keeps a copy and
	 * wipes it at pam_end) */
	if (resp != NULL &&
	    (rc = pam_set_item(pamh, PAM_AUTHTOK, resp)) != PAM_SUCCESS) {
		sat_free_secret_str(resp);
		return refuse(rc);
	}
	*ret_owned = resp;
	*ret_tok = resp != NULL ? resp : "";
	return PAM_SUCCESS;
}

static void
free_token_id(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

/* The decision and its errors as one PAM code. */
static int
auth_code(int r, enum verify_reason reason, int ignore_non_token)
{
	if (r != 0)
		return pam_code(r);
	if (reason == VERIFY_OK)
		return PAM_SUCCESS;
	if (reason == VERIFY_MALFORMED && ignore_non_token)
		return PAM_IGNORE;
	return PAM_AUTH_ERR;
}

/* An empty user names nobody: PAM_USER_UNKNOWN whatever the token, or
 * the decision would take the token's own account for it (as it must
 * for OAUTHBEARER, where the claimed account may be empty).  Audited
 * when the config can be read; the outcome does not depend on it. */
static int
empty_user(pam_handle_t *pamh, int argc, const char **argv,
    const char *action)
{
	const struct pam_args *args;
	struct cfg_entry *ref;
	struct audit_event ev;
	const char *service = NULL, *rhost = NULL;
	char err[SAT_ERRMSG_MAX];

	pam_syslog(pamh, LOG_NOTICE, "refusing: empty user name");
	if (args_get(argc, argv, &args, &ref, err, sizeof(err)) != 0)
		return PAM_USER_UNKNOWN;
	(void)pam_get_item(pamh, PAM_SERVICE, (const void **)&service);
	(void)pam_get_item(pamh, PAM_RHOST, (const void **)&rhost);
	memset(&ev, 0, sizeof(ev));
	ev.action = action;
	ev.outcome = "denied";
	ev.reason = verify_reason_name(VERIFY_UNKNOWN_ACCOUNT);
	ev.account = "";
	ev.service = service != NULL ? service : "";
	ev.rhost = rhost != NULL ? rhost : "";
	if (audit_emit_kept(args->cfg.audit, IDENT, &ev) != 0)
		pam_syslog(pamh, LOG_ERR, "cannot write the audit line");
	args_put(ref);
	return PAM_USER_UNKNOWN;
}

/* A password that is not shaped like a token is not ours.  It is
 * decided on the flags alone, before satoken.conf or the store is
 * read, so that a typo in the config, a missing store or a failing
 * audit sink never changes a human's login in a shared stack.  Its
 * audit line is written when the config can be read; when it cannot,
 * syslog says why (every token login is then refused). */
static int
not_a_token(pam_handle_t *pamh, int argc, const char **argv,
    const struct pam_args *flags, const struct login_request *req)
{
	const struct pam_args *args;
	struct cfg_entry *ref;
	struct verify_result res;
	char err[SAT_ERRMSG_MAX];
	int r;

	err[0] = '\0';
	if ((r = args_get(argc, argv, &args, &ref, err, sizeof(err))) != 0) {
		pam_syslog(pamh, LOG_ERR, "not a token, left to the other "
		    "modules; token logins are refused: bad module argument "
		    "or config: %s", err[0] != '\0' ? err : sat_strerror(r));
	} else {
		(void)login_check(&args->cfg, req, &res);
		args_put(ref);
	}
	return flags->ignore_non_token ? PAM_IGNORE : PAM_AUTH_ERR;
}

/* A login with a token within warn_before of its end tells the user
 * (sshd shows it before the session).  A conversation that cannot show
 * it changes nothing: the login was decided already. */
static void
warn_expiry(pam_handle_t *pamh, int flags, const struct sat_config *cfg,
    const struct verify_result *res)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)res->expires_at;

	if ((flags & PAM_SILENT) || cfg->warn_before == 0 ||
	    res->expires_at == 0 ||
	    res->expires_at - (int64_t)time(NULL) > (int64_t)cfg->warn_before ||
	    gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	(void)pam_info(pamh, "satoken: this token expires at %s", when);
}

SAT_PAM_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const struct pam_args *args;
	struct pam_args fl;
	struct cfg_entry *ref = NULL;
	struct login_request req;
	struct verify_result res;
	const char *user = NULL, *tok = NULL, *service = NULL, *rhost = NULL;
	char *owned = NULL, *id, tid[TOKEN_ID_LEN + 1];
	int rc, r;

	/* a handle may authenticate more than once: forget an earlier
	 * success before deciding this attempt */
	if ((rc = pam_set_data(pamh, DATA_TOKEN_ID, NULL, NULL)) != PAM_SUCCESS)
		return refuse(rc);
	args_flags(argc, argv, &fl);
	if ((rc = get_user(pamh, &user)) != PAM_SUCCESS)
		return rc;
	if (user[0] == '\0')
		return empty_user(pamh, argc, argv, "auth");
	if ((rc = get_item(pamh, PAM_SERVICE, &service)) != PAM_SUCCESS ||
	    (rc = get_item(pamh, PAM_RHOST, &rhost)) != PAM_SUCCESS ||
	    (rc = get_token(pamh, &fl, &tok, &owned)) != PAM_SUCCESS)
		goto out;

	memset(&req, 0, sizeof(req));
	req.token = tok;
	req.token_len = strlen(tok);
	req.account = user;
	req.service = service;
	req.rhost = rhost;
	req.ident = IDENT;
	if (token_parse(req.token, req.token_len, tid) != 0) {
		rc = not_a_token(pamh, argc, argv, &fl, &req);
		goto out;
	}
	/* a token: from here every error refuses */
	if ((rc = load_args(pamh, argc, argv, &args, &ref)) != PAM_SUCCESS)
		goto out;
	r = login_check(&args->cfg, &req, &res);
	rc = auth_code(r, res.reason, args->ignore_non_token);
	if (args->debug)
		pam_syslog(pamh, LOG_DEBUG, "auth: %s, reason %s, token %s",
		    r != 0 ? sat_strerror(r) : "decided",
		    verify_reason_name(res.reason),
		    res.token_id[0] != '\0' ? res.token_id : "-");
	if (rc != PAM_SUCCESS)
		goto out;

	/* remember which token it was, for the session lines; failing to
	 * keep it refuses rather than open an unattributed session */
	if ((id = sat_strdup(res.token_id)) == NULL) {
		rc = PAM_BUF_ERR;
		goto out;
	}
	if ((r = pam_set_data(pamh, DATA_TOKEN_ID, id, free_token_id)) !=
	    PAM_SUCCESS) {
		free(id);
		rc = refuse(r);
	} else {
		warn_expiry(pamh, flags, &args->cfg, &res);
	}
out:
	sat_free_secret_str(owned);
	if (ref != NULL)
		args_put(ref);
	return rc;
}

/* sshd fails a login whose auth stack's setcred fails; there are no
 * credentials to establish. */
SAT_PAM_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

static int
acct_code(int r, enum verify_reason reason)
{
	if (r != 0)
		return pam_code(r);
	switch (reason) {
	case VERIFY_OK:			return PAM_SUCCESS;
	/* not a service account: let a stack hand it to pam_unix */
	case VERIFY_UNKNOWN_ACCOUNT:	return PAM_USER_UNKNOWN;
	case VERIFY_ACCOUNT_DISABLED:
	case VERIFY_ACCOUNT_EXPIRED:	return PAM_ACCT_EXPIRED;
	case VERIFY_POLICY_DENIED:	return PAM_PERM_DENIED;
	default:			return PAM_PERM_DENIED;
	}
}

/* Whether this handle was authenticated by one of our tokens (the
 * id pam_sm_authenticate kept) into *ret.  A libpam failure is its
 * code, never a guess. */
static int
token_login(pam_handle_t *pamh, int *ret)
{
	const void *id = NULL;
	int rc;

	rc = pam_get_data(pamh, DATA_TOKEN_ID, &id);
	if (rc == PAM_NO_MODULE_DATA) {
		*ret = 0;
		return PAM_SUCCESS;
	}
	if (rc != PAM_SUCCESS)
		return refuse(rc);
	*ret = id != NULL;
	return PAM_SUCCESS;
}

SAT_PAM_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const struct pam_args *args;
	struct cfg_entry *ref = NULL;
	enum verify_reason reason = VERIFY_UNKNOWN_ACCOUNT;
	const char *user = NULL, *service = NULL, *rhost = NULL;
	char err[SAT_ERRMSG_MAX];
	int rc, r, strict;

	if ((rc = get_user(pamh, &user)) != PAM_SUCCESS)
		return rc;
	if (user[0] == '\0')
		return empty_user(pamh, argc, argv, "account");
	/* A login no token of ours authenticated (a password, an ssh key)
	 * does not depend on satoken: when the config or the store cannot
	 * be read, or the line cannot be written, the user is unknown to
	 * us and the next module decides.  After a token login every error
	 * refuses. */
	if ((rc = token_login(pamh, &strict)) != PAM_SUCCESS)
		return rc;
	if (strict) {
		if ((rc = load_args(pamh, argc, argv, &args, &ref)) !=
		    PAM_SUCCESS)
			return rc;
	} else {
		err[0] = '\0';
		if ((r = args_get(argc, argv, &args, &ref, err,
		    sizeof(err))) != 0) {
			pam_syslog(pamh, LOG_ERR, "account of %s left to the "
			    "other modules: bad module argument or config: %s",
			    user, err[0] != '\0' ? err : sat_strerror(r));
			return PAM_USER_UNKNOWN;
		}
	}
	if ((rc = get_item(pamh, PAM_SERVICE, &service)) != PAM_SUCCESS ||
	    (rc = get_item(pamh, PAM_RHOST, &rhost)) != PAM_SUCCESS)
		goto out;
	r = login_check_account(&args->cfg, user, service, rhost, IDENT,
	    &reason);
	rc = acct_code(r, reason);
	if (args->debug)
		pam_syslog(pamh, LOG_DEBUG, "account: %s, reason %s",
		    r != 0 ? sat_strerror(r) : "decided",
		    verify_reason_name(reason));
	if (r != 0 && !strict) {
		pam_syslog(pamh, LOG_ERR, "account of %s left to the other "
		    "modules: %s", user, sat_strerror(r));
		rc = PAM_USER_UNKNOWN;
	}
out:
	args_put(ref);
	return rc;
}

/* One audit line naming the token a session was opened with.  A
 * session that no token of ours authenticated is not ours: PAM_IGNORE. */
static int
session_line(pam_handle_t *pamh, int argc, const char **argv,
    const char *action)
{
	const struct pam_args *args;
	struct cfg_entry *ref;
	struct audit_event ev;
	const void *id = NULL;
	const char *user = NULL, *service = NULL, *rhost = NULL;
	int rc, r;

	rc = pam_get_data(pamh, DATA_TOKEN_ID, &id);
	if (rc == PAM_NO_MODULE_DATA || (rc == PAM_SUCCESS && id == NULL))
		return PAM_IGNORE;
	if (rc != PAM_SUCCESS)
		return PAM_SESSION_ERR;
	if ((rc = load_args(pamh, argc, argv, &args, &ref)) != PAM_SUCCESS)
		return rc;
	if ((rc = get_item(pamh, PAM_USER, &user)) != PAM_SUCCESS ||
	    (rc = get_item(pamh, PAM_SERVICE, &service)) != PAM_SUCCESS ||
	    (rc = get_item(pamh, PAM_RHOST, &rhost)) != PAM_SUCCESS) {
		args_put(ref);
		return rc == PAM_AUTH_ERR ? PAM_SESSION_ERR : rc;
	}
	memset(&ev, 0, sizeof(ev));
	ev.action = action;
	ev.outcome = "ok";
	ev.account = user != NULL ? user : "";
	ev.token = id;
	ev.service = service != NULL ? service : "";
	ev.rhost = rhost != NULL ? rhost : "";
	r = audit_emit_kept(args->cfg.audit, IDENT, &ev);
	if (r != 0)
		pam_syslog(pamh, LOG_ERR, "cannot write the audit line: %s",
		    sat_strerror(r));
	args_put(ref);
	/* every login is audited: a session that cannot be is refused */
	return r == 0 ? PAM_SUCCESS : PAM_SESSION_ERR;
}

SAT_PAM_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return session_line(pamh, argc, argv, "session.open");
}

SAT_PAM_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return session_line(pamh, argc, argv, "session.close");
}
