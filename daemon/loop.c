/* satokend: the event loop.  Every descriptor sits in one epoll set, so
 * a crowd of idle connections costs nothing per request; each round
 * reads what arrived, runs the complete requests as one batch, writes
 * the replies and closes what is finished or past its deadline.
 *
 * Admission: at most sv->max_conns connections, PER_UID_CONNS of them
 * per local user.  When the server is full, the connection idle longest
 * (nothing in flight, no request for EVICT_IDLE_MS) makes room for the
 * newcomer: it is closed as its idle timeout would have closed it, only
 * sooner.  Only when none qualifies is the newcomer refused with
 * UNAVAILABLE.  A user at PER_UID_CONNS is refused outright: that bound
 * is there to keep one user from crowding out the others, and closing
 * that user's own older connections would not serve it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fleet.h"
#include "hostsread.h"
#include "satokend.h"
#include "bindpid.h"
#include "canaryd.h"
#include "control.h"

#define PER_UID_CONNS	64	/* one local user cannot take every slot */
/* Requests one local user adds to a batch: a user with a backlog waits
 * for the next batch, not the others for its backlog.  A batch that
 * gathers while a commit syncs is bounded by this alone (request.c);
 * 256, as many as eight pipelining connections gave a batch before
 * there were shares, so that a bulk load's commits stay as large. */
#define UID_LINES_PER_BATCH	(4 * PER_UID_CONNS)
#define EVICT_IDLE_MS	1000	/* younger idle conns are not evicted: a
				 * client between two requests is not idle */
#define ACCEPTS_PER_ROUND	64
#define EVENTS_PER_ROUND	256
#define STOP_FLUSH_MS	2000

/* How many connections one uid holds, for the per-user bound: counted,
 * not searched for, as there may be thousands of connections. */
struct uid_slot {
	uid_t uid;
	int used;
	size_t n;
	uint64_t gen;		/* the batch that taken counts for */
	size_t taken;		/* requests in batch gen */
};

/* epoll's data for the two descriptors that are not conns */
static char sig_tag, listen_tag, usage_tag, fleet_tag;
/* workload identity: canary reports, exits of bound processes */
static char canary_tag, bindpid_tag;
#define SIDE_TAG(p)	((p) == &sig_tag || (p) == &listen_tag || \
	(p) == &usage_tag || (p) == &canary_tag || (p) == &bindpid_tag || \
	(p) == &fleet_tag)

/* Answers a connection we will not serve, without waiting for it. */
static void
refuse(int fd, const char *msg)
{
	char line[160];
	int n;

	n = snprintf(line, sizeof(line),
	    "{\"ok\":false,\"error\":\"UNAVAILABLE\",\"message\":\"%s\"}\n", msg);
	if (n > 0)
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static size_t
uid_hash(uid_t uid, size_t cap)
{
	return ((size_t)uid * 2654435761u) & (cap - 1);
}

static struct uid_slot *
uid_find(struct uid_slot *tab, size_t cap, uid_t uid)
{
	size_t i;

	for (i = uid_hash(uid, cap); tab[i].used; i = (i + 1) & (cap - 1))
		if (tab[i].uid == uid)
			return &tab[i];
	return &tab[i];		/* the free slot where it would go */
}

/* The slot of uid, added if missing (NULL only when out of memory).
 * Slots are never removed: uids are few, and only root can make more. */
static struct uid_slot *
uid_slot(struct server *sv, uid_t uid)
{
	struct uid_slot *s, *nt;
	size_t i, ncap;

	if (sv->uids_cap > 0 && (s = uid_find(sv->uids, sv->uids_cap,
	    uid))->used)
		return s;
	if ((sv->uids_used + 1) * 2 > sv->uids_cap) {
		ncap = sv->uids_cap ? sv->uids_cap * 2 : 64;
		if ((nt = calloc(ncap, sizeof(*nt))) == NULL)
			return NULL;
		for (i = 0; i < sv->uids_cap; i++)
			if (sv->uids[i].used)
				*uid_find(nt, ncap, sv->uids[i].uid) =
				    sv->uids[i];
		free(sv->uids);
		sv->uids = nt;
		sv->uids_cap = ncap;
	}
	s = uid_find(sv->uids, sv->uids_cap, uid);
	s->used = 1;
	s->uid = uid;
	sv->uids_used++;
	return s;
}

int
server_uid_take(struct server *sv, uid_t uid, uint64_t gen)
{
	struct uid_slot *s;

	/* every conn's uid has its slot since accept: none is added here */
	if (sv->uids_cap == 0 || !(s = uid_find(sv->uids, sv->uids_cap,
	    uid))->used)
		return 0;
	if (s->gen != gen) {
		s->gen = gen;
		s->taken = 0;
	}
	if (s->taken >= UID_LINES_PER_BATCH)
		return 0;
	s->taken++;
	return 1;
}

/* Closes and frees conns[i]; the last conn takes its place. */
static void
conn_drop(struct server *sv, size_t i)
{
	struct conn *c = sv->conns[i];

	uid_find(sv->uids, sv->uids_cap, c->uid)->n--;
	conn_free(c);		/* closing the fd takes it out of epoll */
	if (i != --sv->nconns) {
		sv->conns[i] = sv->conns[sv->nconns];
		sv->conns[i]->index = i;
	}
}

static int
evictable(const struct conn *c, int64_t t)
{
	return conn_is_idle(c) && t - c->active_ms >= EVICT_IDLE_MS;
}

/* Closes the evictable conn idle longest; 1 if there was one.  A scan:
 * it runs only when the server is full, and costs less than the
 * accept() before it. */
static int
evict_one(struct server *sv, int64_t t)
{
	struct conn *c, *best;
	size_t i, k;

	/* a few tries: one that turns out to have unread bytes is busy */
	for (k = 0; k < 4; k++) {
		best = NULL;
		for (i = 0; i < sv->nconns; i++) {
			c = sv->conns[i];
			if (evictable(c, t) && (best == NULL ||
			    c->active_ms < best->active_ms))
				best = c;
		}
		if (best == NULL)
			return 0;
		if (conn_unread(best)) {
			/* a request has arrived: it is served, not cut */
			best->active_ms = t;
			continue;
		}
		conn_drop(sv, best->index);
		return 1;
	}
	return 0;
}

static int
conn_watch(struct server *sv, struct conn *c, uint32_t events)
{
	struct epoll_event ev;
	int op = c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* none: still registered, woken only by a hang-up or an error */
	if (c->watched && events == c->events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(sv->ep_fd, op, c->fd, &ev) != 0)
		return -1;
	c->events = events;
	c->watched = 1;
	return 0;
}

static void
accept_some(struct server *sv)
{
	struct uid_slot *s;
	struct conn *c, **nv;
	uid_t uid;
	gid_t gid;
	int64_t t;
	static int64_t warned_ms;
	int fd, k;

	for (k = 0; k < ACCEPTS_PER_ROUND; k++) {
		fd = accept4(sv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				dlog(LOG_WARNING, "accept: out of descriptors");
			return;
		}
		if (principal_peer_creds(fd, &uid, &gid) != 0) {
			close(fd);
			continue;
		}
		t = now_ms();
		if ((s = uid_slot(sv, uid)) == NULL) {
			refuse(fd, "out of memory");
			continue;
		}
		if (s->n >= PER_UID_CONNS) {
			refuse(fd, "too many connections from this user");
			continue;
		}
		if (sv->nconns >= sv->max_conns && !evict_one(sv, t)) {
			if (warned_ms == 0 || t - warned_ms >= 10000) {
				warned_ms = t;
				dlog(LOG_WARNING, "%zu connections, none idle: "
				    "refusing new ones", sv->nconns);
			}
			refuse(fd, "too many connections");
			continue;
		}
		if (sv->nconns == sv->conns_cap) {
			size_t ncap = sv->conns_cap ? sv->conns_cap * 2 : 64;

			if ((nv = realloc(sv->conns, ncap * sizeof(*nv))) ==
			    NULL) {
				refuse(fd, "out of memory");
				continue;
			}
			sv->conns = nv;
			sv->conns_cap = ncap;
		}
		if (conn_new(fd, sv->next_serial++, t, &c) != 0) {
			refuse(fd, "out of memory");
			continue;
		}
		if (principal_from_uid(&sv->cfg, uid, gid, &c->peer) != 0 ||
		    conn_watch(sv, c, EPOLLIN) != 0) {
			conn_free(c);
			continue;
		}
		/* the eviction above does not move the table: s holds */
		c->uid = uid;
		s->n++;
		c->index = sv->nconns;
		sv->conns[sv->nconns++] = c;
	}
}

static void
handle_signals(struct server *sv)
{
	struct signalfd_siginfo si;

	while (read(sv->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			server_reload(sv);
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			sv->stopping = 1;
	}
}

static int
watch_fd(struct server *sv, int fd, void *tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(sv->ep_fd, EPOLL_CTL_ADD, fd, &ev);
}

/* Reports come one per login.  Woken by one, the loop stops watching
 * the socket and drains it every USAGE_POLL_MS until a drain finds it
 * empty: a sender then finds no waiter to wake, which on a busy host
 * cost each login more than the report itself (bench/usage-results.txt). */
static void
usage_wake(struct server *sv, int watch, int64_t t)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = watch ? EPOLLIN : 0;
	ev.data.ptr = &usage_tag;
	if (epoll_ctl(sv->ep_fd, EPOLL_CTL_MOD, sv->usage_fd, &ev) != 0)
		watch = 0;	/* then drained by time alone */
	sv->usage_poll_ms = watch ? INT64_MAX : t + USAGE_POLL_MS;
}

static void
usage_poll(struct server *sv, int64_t t)
{
	if (sv->usage_poll_ms > t)
		return;
	usage_wake(sv, usage_drain(sv) == 0, t);
}

/* After a batch: writes replies, closes what is done, sets what epoll
 * watches.  Returns the earliest deadline; *ret_waiting is 1 when some
 * conn holds input that no batch has looked at yet. */
static int64_t
sweep(struct server *sv, int64_t t, int *ret_waiting)
{
	int64_t deadline = INT64_MAX, d;
	size_t i = 0;
	uint32_t ev;
	int waiting = 0;

	while (i < sv->nconns) {
		struct conn *c = sv->conns[i];

		conn_flush(c, t);
		if (conn_expired(c, t)) {
			conn_drop(sv, i);	/* i now holds the last one */
			continue;
		}
		ev = conn_wants_input(c) ? EPOLLIN : 0;
		if (conn_pending_out(c) > 0)
			ev |= EPOLLOUT;
		if (conn_watch(sv, c, ev) != 0)
			c->dead = 1;	/* closed next round */
		if (!c->dead && !c->closing && c->scanned < c->inlen &&
		    conn_pending_out(c) <= CONN_OUT_HIGH)
			waiting = 1;
		if ((d = conn_deadline(c)) < deadline)
			deadline = d;
		if (c->dead)
			deadline = t;
		i++;
	}
	*ret_waiting = waiting;
	return deadline;
}

size_t
server_fill_ready(struct server *sv, struct conn **ret, size_t cap)
{
	struct epoll_event evs[EVENTS_PER_ROUND];
	int64_t t = now_ms();
	size_t got = 0;
	int i, n;

	if (cap > EVENTS_PER_ROUND)
		cap = EVENTS_PER_ROUND;
	/* level-triggered: a signal or a new connection left here is
	 * reported again to the loop */
	n = epoll_wait(sv->ep_fd, evs, (int)cap, 0);
	for (i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (SIDE_TAG(p) ||
		    !(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR |
		    EPOLLRDHUP)))
			continue;
		conn_fill(p, t);
		ret[got++] = p;
	}
	return got;
}

int
server_loop(struct server *sv)
{
	struct epoll_event evs[EVENTS_PER_ROUND];
	int64_t t, d, deadline, stop_at = 0;
	int i, n, timeout, waiting = 0, r = -1, e;
	size_t k;

	if ((sv->ep_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    watch_fd(sv, sv->sig_fd, &sig_tag) != 0 ||
	    watch_fd(sv, sv->listen_fd, &listen_tag) != 0 ||
	    (sv->usage_fd >= 0 && watch_fd(sv, sv->usage_fd, &usage_tag) != 0) ||
	    (canary_fd(sv) >= 0 && watch_fd(sv, canary_fd(sv), &canary_tag) != 0) ||
	    (bindpid_fd() >= 0 && watch_fd(sv, bindpid_fd(), &bindpid_tag) != 0) ||
	    (sv->fleet != NULL &&
	    watch_fd(sv, fleet_fd(sv->fleet), &fleet_tag) != 0)) {
		dlog(LOG_ERR, "epoll: %s", strerror(errno));
		goto out;
	}
	hostsread_busy_fd(sv->st.hosts, sv->ep_fd);
	deadline = now_ms();
	for (;;) {
		t = now_ms();
		if (sv->stopping && stop_at == 0) {
			/* everything acknowledged is committed; let the
			 * replies out, briefly, and stop */
			stop_at = t + STOP_FLUSH_MS;
			(void)epoll_ctl(sv->ep_fd, EPOLL_CTL_DEL, sv->listen_fd,
			    NULL);
			for (k = 0; k < sv->nconns; k++)
				sv->conns[k]->closing = 1;
			deadline = t;
		}
		if (stop_at != 0 && (sv->nconns == 0 || t >= stop_at))
			break;
		if (sv->purge_next_ms < deadline)
			deadline = sv->purge_next_ms;
		if (sv->usage_next_ms < deadline)
			deadline = sv->usage_next_ms;
		if (sv->usage_poll_ms < deadline)
			deadline = sv->usage_poll_ms;
		if (sv->expiry_next_ms < deadline)
			deadline = sv->expiry_next_ms;
		if ((d = control_bg_due(sv)) < deadline)
			deadline = d;
		if (sv->cfg.metrics_file != NULL &&
		    sv->metrics_next_ms < deadline)
			deadline = sv->metrics_next_ms;
		/* refusals counted in the last second, into the audit */
		if ((d = ratelimit_flush(sv->rl, t)) < deadline)
			deadline = d;
		if (stop_at != 0 && stop_at < deadline)
			deadline = stop_at;
		timeout = waiting ? 0 : deadline <= t ? 0 :
		    deadline - t > 1000 ? 1000 : (int)(deadline - t);
		n = epoll_wait(sv->ep_fd, evs, EVENTS_PER_ROUND, timeout);
		if (n < 0 && errno != EINTR) {
			dlog(LOG_ERR, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		t = now_ms();
		/* conns first: accepting may evict one named in evs */
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (!SIDE_TAG(p) &&
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR |
			    EPOLLRDHUP)))
				conn_fill(p, t);
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &sig_tag)
				handle_signals(sv);
			else if (evs[i].data.ptr == &listen_tag &&
			    !sv->stopping)
				accept_some(sv);
			else if (evs[i].data.ptr == &usage_tag) {
				(void)usage_drain(sv);
				usage_wake(sv, 0, t);
			}
			else if (evs[i].data.ptr == &canary_tag)
				canary_read(sv);
			else if (evs[i].data.ptr == &bindpid_tag)
				bindpid_read(sv);
		}
		(void)batch_run(sv);
		canary_step(sv);
		if ((e = bindpid_step(sv)) != 0)
			dlog(LOG_ERR, "bind-pid: cannot revoke the token of an "
			    "exited process: %s; trying again", sat_strerror(e));
		/* what this control host changed by itself, to the
		 * directory (control.h); then the directory's changes,
		 * between request batches */
		control_bg_step(sv);
		fleet_apply(sv);
		deadline = sweep(sv, now_ms(), &waiting);
		if (!sv->stopping) {
			purge_step(sv);
			usage_poll(sv, now_ms());
			usage_step(sv);
			expiry_step(sv);
			metrics_step(sv);
		}
	}
	r = 0;
out:
	while (sv->nconns > 0)
		conn_drop(sv, sv->nconns - 1);
	free(sv->uids);
	sv->uids = NULL;
	batch_turns_free(sv);
	sv->uids_cap = sv->uids_used = 0;
	hostsread_busy_fd(sv->st.hosts, -1);
	if (sv->ep_fd >= 0)
		close(sv->ep_fd);
	sv->ep_fd = -1;
	return r;
}
