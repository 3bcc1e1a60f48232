#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bindpid.h"
#include "control.h"
#include "err.h"
#include "pidstart.h"
#include "satokend.h"
#include "tindex.h"

/* The kernel's pid_max ceiling (PID_MAX_LIMIT on 64-bit). */
#define PID_LIMIT	4194304

struct watch {
	int fd;				/* pidfd; -1: slot free */
	uint32_t pid;
	uint64_t start;
	char id[TOKEN_ID_LEN + 1];
	int exited;			/* revoke at the next step */
};

static struct watch watches[BINDPID_MAX];
static size_t nwatch;			/* slots in use, 0..BINDPID_MAX */
static int ep = -1;
static int exits;			/* some watch has exited set */

int
bindpid_fd(void)
{
	return ep;
}

static int
pidfd_open_(uint32_t pid)
{
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

int
bindpid_check(struct op_ctx *c, uint64_t pid, uint32_t *ret_pid,
    uint64_t *ret_start)
{
	uint64_t start;
	uid_t uid;
	int r;

	if (pid < 2 || pid > PID_LIMIT)
		return op_fail(c, SAT_E_INVALID, "bind_pid must be a process "
		    "id from 2 to %d", PID_LIMIT);
	if ((r = pidstart_read((uint32_t)pid, &start, &uid)) == SAT_E_NOTFOUND)
		return op_fail(c, SAT_E_NOTFOUND, "no process %llu",
		    (unsigned long long)pid);
	if (r != 0)
		return op_fail(c, SAT_E_INTERNAL, "cannot read process %llu: %s",
		    (unsigned long long)pid, sat_strerror(r));
	/* a token tied to someone else's process would let its end (or
	 * its lifetime) be chosen by another user */
	if (c->p->role < ROLE_ADMIN && uid != c->p->uid)
		return op_fail(c, SAT_E_PERM, "process %llu is not yours: only "
		    "its owner or an admin may bind a token to it",
		    (unsigned long long)pid);
	if (nwatch >= BINDPID_MAX)
		return op_fail(c, SAT_E_QUOTA, "%d processes are watched "
		    "already: a token cannot be bound to another now",
		    BINDPID_MAX);
	*ret_pid = (uint32_t)pid;
	*ret_start = start;
	return 0;
}

/* Adds a watch; 0, SAT_E_NOTFOUND when the process is gone (or is not
 * the one that started at start), SAT_E_QUOTA, SAT_E_IO. */
static int
watch_add(const char *id, uint32_t pid, uint64_t start)
{
	struct epoll_event ev;
	struct watch *w = NULL;
	size_t i;
	int fd, same;

	if (nwatch >= BINDPID_MAX)
		return SAT_E_QUOTA;
	if (ep < 0 && (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return SAT_E_IO;
	if ((fd = pidfd_open_(pid)) < 0)
		return errno == ESRCH ? SAT_E_NOTFOUND : SAT_E_IO;
	/* checked after the pidfd is held: it names the process that had
	 * the pid then, so a start time that still matches is that one */
	if ((same = pidstart_same(pid, start)) != 1) {
		close(fd);
		return same == 0 ? SAT_E_NOTFOUND : same;
	}
	for (i = 0; i < BINDPID_MAX && w == NULL; i++)
		if (watches[i].fd < 0 || (watches[i].fd == 0 &&
		    watches[i].pid == 0))
			w = &watches[i];
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = w;
	if (w == NULL || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return SAT_E_IO;
	}
	w->fd = fd;
	w->pid = pid;
	w->start = start;
	w->exited = 0;
	snprintf(w->id, sizeof(w->id), "%s", id);
	nwatch++;
	return 0;
}

int
bindpid_watch(struct op_ctx *c, const char *id, uint32_t pid, uint64_t start)
{
	int r = watch_add(id, pid, start);

	if (r == SAT_E_NOTFOUND)
		return op_fail(c, SAT_E_CONFLICT, "process %u exited before "
		    "its token was made", (unsigned)pid);
	if (r == SAT_E_QUOTA)
		return op_fail(c, r, "%d processes are watched already",
		    BINDPID_MAX);
	if (r != 0)
		return op_fail(c, SAT_E_INTERNAL, "cannot watch process %u",
		    (unsigned)pid);
	return 0;
}

void
bindpid_read(struct server *sv)
{
	struct epoll_event evs[64];
	int i, n;

	(void)sv;
	if (ep < 0)
		return;
	n = epoll_wait(ep, evs, 64, 0);
	for (i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		/* level-triggered: off the set until its token is revoked */
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
		w->exited = 1;
		exits = 1;
	}
}

/* Revokes one token bound to a process that is gone, its line before
 * the commit.  0, or an error (nothing committed). */
static int
revoke_bound(struct server *sv, const char *id, uint32_t pid, int at_start)
{
	struct store *s = sv->st.store;
	struct sat_token t, before;
	struct audit_event ev;
	char detail[64];
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = store_get_token(s, id, &t)) != 0)
		return r == SAT_E_NOTFOUND ? 0 : r;
	if (t.revoked_at != 0) {
		record_free_token(&t);
		return 0;
	}
	before = t;	/* shallow: not freed */
	t.revoked_at = (int64_t)time(NULL);
	snprintf(detail, sizeof(detail), "bind_pid=%u%s", (unsigned)pid,
	    at_start ? " found_at_start" : "");
	memset(&ev, 0, sizeof(ev));
	ev.action = "token.revoke";
	ev.outcome = "ok";
	ev.reason = "process_exited";
	ev.principal = "satokend";
	ev.role = role_name(ROLE_ADMIN);
	ev.account = t.account;
	ev.token = t.id;
	ev.name = t.name;
	ev.detail = detail;
	/* on a control host the revocation is marked for the directory
	 * in the same commit (control.h): here it holds at once */
	if ((r = control_bg_begin(sv)) != 0 ||
	    (r = store_put_token(s, &t)) != 0 ||
	    (r = tindex_update(s, &before, &t)) != 0 ||
	    (r = control_bg_mark(sv)) != 0 ||
	    (r = audit_emit(sv->audit, &ev)) != 0 ||
	    (r = store_commit(s)) != 0)
		store_rollback(s);
	record_free_token(&t);
	return r;
}

int
bindpid_step(struct server *sv)
{
	size_t i;
	int r, first = 0;

	if (!exits || store_in_flight(sv->st.store) ||
	    store_staged(sv->st.store) > 0)
		return 0;
	exits = 0;
	for (i = 0; i < BINDPID_MAX; i++) {
		struct watch *w = &watches[i];

		if (!w->exited)
			continue;
		if ((r = revoke_bound(sv, w->id, w->pid, 0)) != 0) {
			/* kept: tried again at the next step */
			exits = 1;
			if (first == 0)
				first = r;
			continue;
		}
		close(w->fd);
		memset(w, 0, sizeof(*w));
		w->fd = -1;
		nwatch--;
	}
	return first;
}

/* One account's bound live tokens: revoked when their process is gone,
 * watched again otherwise. */
static int
start_account(struct server *sv, const char *account, int64_t now,
    size_t *unwatched)
{
	struct store *s = sv->st.store;
	struct tindex_pos from = { 0, 0 }, at;
	struct tindex_iter it;
	struct sat_token t;
	char id[TOKEN_ID_LEN + 1];
	int r, same;

	if ((r = tindex_iter_init(s, account, from, &it)) != 0)
		return r;
	while ((r = tindex_iter_next(s, account, &it, id, &at)) == 0) {
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, id, &t)) == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			return r;
		if (t.bind_pid != 0 && t.revoked_at == 0 && now < t.expires_at) {
			/* fail closed: a process /proc cannot vouch for
			 * is not taken to be the one the token was bound to */
			same = pidstart_same(t.bind_pid, t.bind_start);
			if (same != 1 || watch_add(t.id, t.bind_pid,
			    t.bind_start) == SAT_E_NOTFOUND)
				r = revoke_bound(sv, t.id, t.bind_pid, 1);
			else if (same == 1 && nwatch >= BINDPID_MAX)
				(*unwatched)++;
		}
		record_free_token(&t);
		if (r != 0)
			return r;
	}
	return r == SAT_E_NOTFOUND ? 0 : r;
}

int
bindpid_start(struct server *sv, size_t *ret_unwatched, char *err,
    size_t errlen)
{
	struct names *l = &sv->st.accounts;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int r;

	*ret_unwatched = 0;
	for (i = 0; i < BINDPID_MAX; i++)
		watches[i].fd = -1;
	/* made now, watched by the loop from its start, even while empty */
	if (ep < 0 && (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "bind-pid: epoll: %s", strerror(errno));
		return -1;
	}
	/* every token, once per start: a store's size, like the index
	 * upgrade; no request waits for it (the socket is not yet open) */
	for (i = 0; i < l->n; i++) {
		if ((r = start_account(sv, names_at(l, i), now,
		    ret_unwatched)) != 0) {
			snprintf(err, errlen, "bind-pid: cannot check the bound "
			    "tokens of %s: %s", names_at(l, i), sat_strerror(r));
			return -1;
		}
	}
	return 0;
}

void
bindpid_stop(void)
{
	size_t i;

	for (i = 0; i < BINDPID_MAX; i++)
		if (watches[i].fd >= 0 && watches[i].pid != 0)
			close(watches[i].fd);
	if (ep >= 0)
		close(ep);
	ep = -1;
	nwatch = 0;
}
