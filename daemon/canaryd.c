#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "canaryd.h"
#include "control.h"
#include "unixsock.h"
#include "err.h"
#include "mem.h"
#include "satokend.h"
#include "verify.h"

/* Reports read per loop round: a flood of datagrams costs a verify
 * each, so it is bounded; what the socket's queue cannot hold is
 * dropped by the kernel (the modules never wait). */
#define CANARY_READS_PER_ROUND	32
/* Accounts waiting to be disabled; past it a report is dropped (the
 * module's and the request's alert lines are written regardless). */
#define CANARY_PENDING_MAX	64

struct canary_pending {
	char account[SAT_NAME_MAX + 1];
	char token[TOKEN_ID_LEN + 1];
};

static int canary_sock = -1;
static char canary_path[108];
static struct canary_pending pending[CANARY_PENDING_MAX];
static size_t npending;

int
canary_fd(const struct server *sv)
{
	(void)sv;
	return canary_sock;
}

int
canary_open(struct server *sv, char *err, size_t errlen)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;

	if (canary_socket_path(&sv->cfg, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "canary socket: path too long");
		return -1;
	}
	/* every module process (any user, e.g. postfix) may report */
	if ((fd = unixsock_bind(path, SOCK_DGRAM, 0666, "canary socket", err,
	    errlen)) < 0)
		return -1;
	snprintf(canary_path, sizeof(canary_path), "%s", path);
	canary_sock = fd;
	return 0;
}

void
canary_close(struct server *sv)
{
	(void)sv;
	if (canary_sock < 0)
		return;
	close(canary_sock);
	canary_sock = -1;
	(void)unlink(canary_path);
}

void
canary_seen(struct server *sv, const char *token, size_t len)
{
	struct verify_request vr;
	struct verify_result res;
	size_t i;

	memset(&vr, 0, sizeof(vr));
	vr.token = token;
	vr.token_len = len;
	vr.now = (int64_t)time(NULL);
	if (verify_token(sv->st.store, &vr, &res) != 0 ||
	    res.reason != VERIFY_CANARY || !sv->cfg.canary_disables)
		return;
	for (i = 0; i < npending; i++)
		if (strcmp(pending[i].account, res.account) == 0)
			return;
	if (npending == CANARY_PENDING_MAX) {
		dlog(LOG_ERR, "canary: too many accounts waiting to be "
		    "disabled; %s is not", res.account);
		return;
	}
	snprintf(pending[npending].account, sizeof(pending[0].account), "%s",
	    res.account);
	snprintf(pending[npending].token, sizeof(pending[0].token), "%s",
	    res.token_id);
	npending++;
}

void
canary_read(struct server *sv)
{
	char buf[TOKEN_LEN + 1];
	ssize_t n;
	int i;

	for (i = 0; i < CANARY_READS_PER_ROUND && canary_sock >= 0; i++) {
		n = recv(canary_sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		/* anything but one token is noise: ignored */
		if (n == TOKEN_LEN)
			canary_seen(sv, buf, (size_t)n);
		sat_wipe(buf, sizeof(buf));
	}
}

/* Disables one account; its line goes out before the commit, and
 * without it nothing is committed. */
static void
disable_one(struct server *sv, const struct canary_pending *p)
{
	struct sat_account a;
	struct audit_event ev;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = store_get_account(sv->st.store, p->account, &a)) != 0) {
		if (r != SAT_E_NOTFOUND)
			dlog(LOG_ERR, "canary: cannot read account %s: %s",
			    p->account, sat_strerror(r));
		return;
	}
	if (!a.enabled) {
		record_free_account(&a);
		return;
	}
	a.enabled = 0;
	a.disabled_by = ROLE_ADMIN;
	memset(&ev, 0, sizeof(ev));
	ev.action = "account.disable";
	ev.outcome = "ok";
	ev.reason = "canary";
	ev.principal = "satokend";
	ev.role = role_name(ROLE_ADMIN);
	ev.account = a.name;
	ev.token = p->token;
	ev.detail = "canary_disables";
	if ((r = control_bg_begin(sv)) != 0 ||
	    (r = store_put_account(sv->st.store, &a)) != 0 ||
	    (r = control_bg_mark(sv)) != 0 ||
	    (r = audit_emit(sv->audit, &ev)) != 0 ||
	    (r = store_commit(sv->st.store)) != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "canary: cannot disable account %s: %s",
		    a.name, sat_strerror(r));
	} else if (dstate_follower(&sv->st)) {
		/* a follower cannot write the directory's entry: the other
		 * hosts still accept the account, and the directory's next
		 * change to it enables it here again */
		dlog(LOG_ALERT, "canary: account %s is disabled on this host "
		    "only (a follower): disable it on a control host "
		    "(satokenctl account disable %s) to stop it everywhere",
		    a.name, a.name);
	}
	record_free_account(&a);
}

void
canary_step(struct server *sv)
{
	size_t i;

	/* never over a request's batch: it commits what it staged */
	if (npending == 0 || store_in_flight(sv->st.store) ||
	    store_staged(sv->st.store) > 0)
		return;
	for (i = 0; i < npending; i++)
		disable_one(sv, &pending[i]);
	npending = 0;
}
