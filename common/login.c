#include <string.h>
#include <time.h>

#include "audit.h"
#include "canary.h"
#include "err.h"
#include "login.h"
#include "store.h"
#include "token.h"
#include "usage.h"
#include "valid.h"
#include "view.h"

/* Every login is audited: a caller that cannot write the line must not
 * accept, so a failure here is returned and turns an ok into an error.
 * An audit file stays open between logins (audit_emit_kept). */
static int
emit(const struct sat_config *cfg, const char *ident,
    const struct audit_event *ev)
{
	return audit_emit_kept(cfg->audit, ident, ev) != 0 ? SAT_E_IO : 0;
}

/* One lookup on a view: done again, once, on a view opened under the
 * lock when a write overlapped its reads (view_end's retry); a second overlap
 * cannot happen there, and is refused if it does. */
typedef int (*lookup_fn)(struct store *s, void *arg);

static int
on_view(const struct sat_config *cfg, lookup_fn fn, void *arg)
{
	struct store *s = NULL;
	int r, e, retry, tries;

	for (tries = 0;; tries++) {
		if ((r = view_begin(cfg->database,
		    (unsigned)cfg->lock_timeout_ms, &s)) != 0)
			return r;
		r = fn(s, arg);
		retry = 0;
		e = view_end(s, r != 0, &retry);
		if (e == 0 && retry && tries == 0)
			continue;
		return (e != 0 || retry) && r == 0 ? SAT_E_STORE : r;
	}
}

struct token_lookup {
	const struct verify_request *req;
	struct verify_result *ret;
};

static int
lookup_token(struct store *s, void *arg)
{
	struct token_lookup *t = arg;

	return verify_token(s, t->req, t->ret);
}

struct account_lookup {
	const char *account;
	enum verify_reason *ret;
};

static int
lookup_account(struct store *s, void *arg)
{
	struct account_lookup *a = arg;

	return verify_account(s, a->account, (int64_t)time(NULL), a->ret);
}

int
login_check(const struct sat_config *cfg, const struct login_request *req,
    struct verify_result *ret)
{
	struct verify_request vr;
	struct audit_event ev;
	char id[TOKEN_ID_LEN + 1];
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->reason = VERIFY_MALFORMED;
	memset(&vr, 0, sizeof(vr));
	vr.token = req->token;
	vr.token_len = req->token_len;
	vr.account = req->account;
	vr.service = req->service;
	vr.rhost = req->rhost;
	vr.now = (int64_t)time(NULL);
	vr.defer_pad = 1;

	/* a password that is not a token is decided without the store, so a
	 * stack shared with pam_unix keeps working for people while the
	 * store is unreadable (ignore_non_token); it is still audited */
	if (token_parse(req->token, req->token_len, id) != 0) {
		r = 0;
		if (req->account != NULL && valid_name(req->account))
			strcpy(ret->account, req->account);
	} else {
		struct token_lookup t = { &vr, ret };

		r = on_view(cfg, lookup_token, &t);
		verify_pad(ret);	/* after the view is released */
	}

	memset(&ev, 0, sizeof(ev));
	ev.action = "auth";
	ev.outcome = r != 0 ? "error" : ret->reason == VERIFY_OK ? "ok" : "denied";
	ev.reason = r != 0 ? (r == SAT_E_STORE ? "store_unavailable" :
	    "internal_error") : verify_reason_name(ret->reason);
	ev.account = ret->account[0] != '\0' ? ret->account :
	    (req->account != NULL ? req->account : "");
	/* a wrong_account line names both: who was claimed, whose it is */
	if (r == 0 && ret->reason == VERIFY_WRONG_ACCOUNT &&
	    req->account != NULL) {
		ev.account = req->account;
		ev.token_account = ret->account;
	}
	ev.token = ret->token_id[0] != '\0' ? ret->token_id : NULL;
	ev.service = req->service != NULL ? req->service : "";
	ev.rhost = req->rhost != NULL ? req->rhost : "";
	if (emit(cfg, req->ident, &ev) != 0 && r == 0 &&
	    ret->reason == VERIFY_OK)
		r = SAT_E_IO;
	/* last use and the login counts: one datagram, never waited on,
	 * after the login is decided and audited, so it can change neither
	 * (usage.h); the reason as the audit line has it */
	usage_send(cfg->usage_socket, ret->token_id, vr.now, req->service,
	    req->rhost, r == 0 ? verify_reason_name(ret->reason) :
	    r == SAT_E_STORE ? "store_unavailable" : "internal_error");
	/* the store is read-only here: the daemon disables the account */
	if (r == 0 && ret->reason == VERIFY_CANARY)
		canary_report(cfg, req->token, req->token_len);
	if (r != 0)
		ret->reason = VERIFY_MALFORMED;
	return r;
}

int
login_check_account(const struct sat_config *cfg, const char *account,
    const char *service, const char *rhost, const char *ident,
    enum verify_reason *ret)
{
	struct audit_event ev;
	int r;

	*ret = VERIFY_UNKNOWN_ACCOUNT;
	r = on_view(cfg, lookup_account,
	    &(struct account_lookup){ account, ret });

	memset(&ev, 0, sizeof(ev));
	ev.action = "account";
	ev.outcome = r != 0 ? "error" : *ret == VERIFY_OK ? "ok" : "denied";
	ev.reason = r != 0 ? (r == SAT_E_STORE ? "store_unavailable" :
	    "internal_error") : verify_reason_name(*ret);
	ev.account = account != NULL ? account : "";
	ev.service = service != NULL ? service : "";
	ev.rhost = rhost != NULL ? rhost : "";
	if (emit(cfg, ident, &ev) != 0 && r == 0 && *ret == VERIFY_OK)
		r = SAT_E_IO;
	if (r != 0)
		*ret = VERIFY_UNKNOWN_ACCOUNT;
	return r;
}
