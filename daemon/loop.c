#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "satokend.h"

#define PER_UID_CONNS	64	/* one local user cannot take every slot */
#define ACCEPTS_PER_ROUND	64
#define STOP_FLUSH_MS	2000

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
conns_of(const struct server *sv, uid_t uid)
{
	size_t i, n = 0;

	for (i = 0; i < sv->nconns; i++)
		if (sv->conns[i]->peer.uid == uid)
			n++;
	return n;
}

static void
accept_some(struct server *sv)
{
	struct conn *c, **nv;
	uid_t uid;
	gid_t gid;
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
		if (sv->nconns >= sv->max_conns) {
			refuse(fd, "too many connections");
			continue;
		}
		if (conns_of(sv, uid) >= PER_UID_CONNS) {
			refuse(fd, "too many connections from this user");
			continue;
		}
		if ((nv = realloc(sv->conns, (sv->nconns + 1) *
		    sizeof(*nv))) == NULL) {
			refuse(fd, "out of memory");
			continue;
		}
		sv->conns = nv;
		if (conn_new(fd, sv->next_serial++, now_ms(), &c) != 0) {
			refuse(fd, "out of memory");
			continue;
		}
		if (principal_from_uid(&sv->cfg, uid, gid, &c->peer) != 0) {
			conn_free(c);
			continue;
		}
		sv->conns[sv->nconns++] = c;
	}
}

static void
close_expired(struct server *sv, int64_t t)
{
	size_t i, j = 0;

	for (i = 0; i < sv->nconns; i++) {
		if (conn_expired(sv->conns[i], t))
			conn_free(sv->conns[i]);
		else
			sv->conns[j++] = sv->conns[i];
	}
	sv->nconns = j;
}

/* 1 if some connection holds input not yet looked at for a request. */
static int
input_waiting(const struct server *sv)
{
	size_t i;

	for (i = 0; i < sv->nconns; i++) {
		const struct conn *c = sv->conns[i];

		if (!c->dead && !c->closing && c->scanned < c->inlen &&
		    conn_pending_out(c) <= CONN_OUT_HIGH)
			return 1;
	}
	return 0;
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

int
server_loop(struct server *sv)
{
	struct pollfd *pfd = NULL, *np;
	size_t i, npfd, cap = 0;
	int64_t t, deadline, stop_at = 0;
	int timeout, listening;

	for (;;) {
		t = now_ms();
		if (sv->stopping && stop_at == 0) {
			/* everything acknowledged is committed; let the
			 * replies out, briefly, and stop */
			stop_at = t + STOP_FLUSH_MS;
			for (i = 0; i < sv->nconns; i++)
				sv->conns[i]->closing = 1;
		}
		if (stop_at != 0 && (sv->nconns == 0 || t >= stop_at))
			break;
		if (cap < sv->nconns + 2) {
			cap = sv->nconns + 16;
			if ((np = realloc(pfd, cap * sizeof(*np))) == NULL) {
				free(pfd);
				return -1;
			}
			pfd = np;
		}
		pfd[0].fd = sv->sig_fd;
		pfd[0].events = POLLIN;
		listening = !sv->stopping;
		pfd[1].fd = listening ? sv->listen_fd : -1;
		pfd[1].events = POLLIN;
		npfd = 2;
		deadline = sv->purge_next_ms;
		for (i = 0; i < sv->nconns; i++) {
			struct conn *c = sv->conns[i];

			pfd[npfd].fd = c->fd;
			pfd[npfd].events = 0;
			if (!c->eof && !c->closing && c->inlen < sizeof(c->in) &&
			    conn_pending_out(c) <= CONN_OUT_HIGH)
				pfd[npfd].events |= POLLIN;
			if (conn_pending_out(c) > 0)
				pfd[npfd].events |= POLLOUT;
			npfd++;
			if (conn_deadline(c) < deadline)
				deadline = conn_deadline(c);
		}
		if (stop_at != 0 && stop_at < deadline)
			deadline = stop_at;
		timeout = input_waiting(sv) ? 0 : deadline <= t ? 0 :
		    deadline - t > 1000 ? 1000 : (int)(deadline - t);
		if (poll(pfd, npfd, timeout) < 0 && errno != EINTR) {
			dlog(LOG_ERR, "poll: %s", strerror(errno));
			free(pfd);
			return -1;
		}
		t = now_ms();
		if (pfd[0].revents & POLLIN)
			handle_signals(sv);
		/* conns come before the new ones: pfd[2 + i] is conns[i] */
		for (i = 0; i < sv->nconns && 2 + i < npfd; i++) {
			if (pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_fill(sv->conns[i], t);
		}
		if (listening && (pfd[1].revents & POLLIN))
			accept_some(sv);
		(void)batch_run(sv);
		t = now_ms();
		for (i = 0; i < sv->nconns; i++)
			conn_flush(sv->conns[i], t);
		close_expired(sv, t);
		if (!sv->stopping)
			purge_step(sv);
	}
	free(pfd);
	for (i = 0; i < sv->nconns; i++)
		conn_free(sv->conns[i]);
	sv->nconns = 0;
	return 0;
}
