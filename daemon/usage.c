/* satokend: last use, aggregated.  The modules' datagrams (common/
 * usage.h) arrive on usage_socket; each token's latest report is kept
 * in memory and written as its "u:ID" record at most every
 * usage_flush, through the store's ordinary commit, never over a
 * request's batch.  A login therefore never causes a store write, and
 * a token record is never rewritten for its use. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fleet.h"
#include "satokend.h"
#include "usage.h"
#include "unixsock.h"

/* Distinct tokens held between two flushes; past that a report for a
 * token not yet held is dropped (and counted): memory stays bounded
 * whatever a sender floods us with. */
#define USAGE_SLOTS	8192	/* power of two */
#define USAGE_HELD_MAX	(USAGE_SLOTS * 3 / 4)
#define USAGE_READS	1024	/* datagrams per drain, then the loop */
#define USAGE_BATCH	64	/* datagrams per system call */
/* a report from the future is a wrong clock or a forgery: it is taken
 * as now, so it cannot pin "last used" ahead */
#define USAGE_SKEW	60

struct usage_slot {
	struct usage_report r;	/* r.id[0] == '\0': empty */
	int written;		/* by the flush going on */
};

struct usage_agg {
	char in[USAGE_BATCH][USAGE_MSG_MAX];	/* recvmmsg's buffers */
	struct usage_slot *slots;
	size_t held;
	uint64_t dropped, received, malformed;
};

static size_t
slot_hash(const char *id)
{
	size_t h = 5381, i;

	for (i = 0; id[i] != '\0'; i++)
		h = h * 33 + (unsigned char)id[i];
	return h & (USAGE_SLOTS - 1);
}

static void
hold(struct usage_agg *u, const struct usage_report *r)
{
	size_t i = slot_hash(r->id);

	while (u->slots[i].r.id[0] != '\0' &&
	    strcmp(u->slots[i].r.id, r->id) != 0)
		i = (i + 1) & (USAGE_SLOTS - 1);
	if (u->slots[i].r.id[0] == '\0') {
		if (u->held >= USAGE_HELD_MAX) {
			u->dropped++;
			return;
		}
		u->held++;
	} else if (u->slots[i].r.at > r->at) {
		return;		/* an older report arriving late */
	}
	u->slots[i].r = *r;
}

/* The socket: the group of the store (the modules' processes are in it
 * to read the store), mode 0660, so only those who may read every
 * token's digest already can report a use.  Reports stay advisory: a
 * member of that group can claim a use that did not happen. */
static int
bind_usage(const char *path, const char *database, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = unixsock_bind(path, SOCK_DGRAM, 0660, "usage_socket", err,
	    errlen)) < 0)
		return -1;
	if (stat(database, &st) == 0 && chown(path, (uid_t)-1, st.st_gid) != 0)
		dlog(LOG_WARNING, "usage_socket %s: cannot give it the store's "
		    "group (%s); modules outside this daemon's group cannot "
		    "report use", path, strerror(errno));
	return fd;
}

/* The socket queues net.unix.max_dgram_qlen reports between two drains;
 * past that the modules drop theirs.  systemd sets 512; a bare
 * container keeps the kernel's 10. */
static void
warn_short_queue(void)
{
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "re");
	int q = 0;

	if (f == NULL)
		return;
	if (fscanf(f, "%d", &q) == 1 && q > 0 && q < 128)
		dlog(LOG_NOTICE, "net.unix.max_dgram_qlen is %d: above about "
		    "%d logins a second some last-use reports are lost "
		    "(systemd sets 512)", q, q * 1000 / USAGE_POLL_MS);
	fclose(f);
}

/* A usage socket that cannot be bound costs the last-use column, not
 * the daemon: it serves on without it, saying so. */
int
usage_open(struct server *sv, char *err, size_t errlen)
{
	sv->usage_fd = -1;
	sv->usage_next_ms = INT64_MAX;
	sv->usage_poll_ms = INT64_MAX;
	if (sv->cfg.usage_socket == NULL)
		return 0;
	if ((sv->usage = calloc(1, sizeof(*sv->usage))) == NULL ||
	    (sv->usage->slots = calloc(USAGE_SLOTS,
	    sizeof(*sv->usage->slots))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((sv->usage_fd = bind_usage(sv->cfg.usage_socket,
	    sv->cfg.database, err, errlen)) < 0) {
		dlog(LOG_WARNING, "%s; last use is not recorded", err);
		return 0;
	}
	snprintf(sv->usage_path, sizeof(sv->usage_path), "%s",
	    sv->cfg.usage_socket);
	warn_short_queue();
	return 0;
}

static void
take(struct server *sv, const char *msg, size_t len, int64_t now)
{
	struct usage_agg *u = sv->usage;
	struct usage_report r;

	u->received++;
	if (usage_parse(msg, len, &r) != 0) {
		sv->metrics.usage_malformed++;
		return;
	}
	/* counted when it arrives: the sender's clock is not ours */
	metrics_login(&sv->metrics, r.reason, now);
	if (strcmp(r.reason, "ok") != 0 || r.id[0] == '\0')
		return;
	if (r.at > now + USAGE_SKEW)
		r.at = now;
	hold(u, &r);
	sv->metrics.usage_dropped = u->dropped;
}

size_t
usage_drain(struct server *sv)
{
	struct usage_agg *u = sv->usage;
	struct mmsghdr mm[USAGE_BATCH];
	struct iovec iov[USAGE_BATCH];
	int64_t now = (int64_t)time(NULL);
	size_t got = 0;
	int i, n;

	if (u == NULL || sv->usage_fd < 0)
		return 0;
	while (got < USAGE_READS) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < USAGE_BATCH; i++) {
			iov[i].iov_base = u->in[i];
			iov[i].iov_len = sizeof(u->in[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = recvmmsg(sv->usage_fd, mm, USAGE_BATCH, MSG_DONTWAIT,
		    NULL)) <= 0)
			break;
		for (i = 0; i < n; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				u->received++;
				sv->metrics.usage_malformed++;
				continue;
			}
			take(sv, u->in[i], mm[i].msg_len, now);
		}
		got += (size_t)n;
		if (n < USAGE_BATCH)
			break;
	}
	if (u->held > 0 && sv->usage_next_ms == INT64_MAX)
		sv->usage_next_ms = now_ms() +
		    (int64_t)sv->cfg.usage_flush * 1000;
	return got;
}

int
usage_keep_latest(struct store *s, const struct usage_report *rep,
    int *staged)
{
	struct sat_token t;
	struct sat_usage cur, nu;
	int r;

	*staged = 0;
	memset(&t, 0, sizeof(t));
	if ((r = store_get_token(s, rep->id, &t)) == SAT_E_NOTFOUND)
		return 0;
	record_free_token(&t);
	if (r != 0)
		return r;
	if ((r = store_get_usage(s, rep->id, &cur)) == 0 && cur.at >= rep->at)
		return 0;
	if (r != 0 && r != SAT_E_NOTFOUND)
		return r;
	memset(&nu, 0, sizeof(nu));
	nu.at = rep->at;
	snprintf(nu.service, sizeof(nu.service), "%s", rep->service);
	snprintf(nu.rhost, sizeof(nu.rhost), "%s", rep->rhost);
	if ((r = store_put_usage(s, rep->id, &nu)) == 0)
		*staged = 1;
	return r;
}

/* Writes what is held, each by usage_keep_latest. */
static int
flush(struct server *sv)
{
	struct usage_agg *u = sv->usage;
	struct store *s = sv->st.store;
	size_t i;
	int r = 0;

	for (i = 0; i < USAGE_SLOTS && r == 0; i++)
		if (u->slots[i].r.id[0] != '\0')
			r = usage_keep_latest(s, &u->slots[i].r,
			    &u->slots[i].written);
	if (r == 0 && store_staged(s) > 0)
		r = store_commit(s);
	/* a fleet host folds its own logins' use into the directory too */
	for (i = 0; r == 0 && sv->fleet != NULL && i < USAGE_SLOTS; i++)
		if (u->slots[i].written &&
		    fleet_usage_push(sv->fleet, &u->slots[i].r) == SAT_E_QUOTA)
			break;
	return r;
}

void
usage_step(struct server *sv)
{
	struct usage_agg *u = sv->usage;
	int64_t t = now_ms();

	if (u == NULL || t < sv->usage_next_ms || u->held == 0)
		return;
	/* never over a request's batch: it commits what it staged itself */
	if (store_in_flight(sv->st.store) || store_staged(sv->st.store) > 0)
		return;
	if (flush(sv) != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "last use: writing %zu tokens' last use failed; "
		    "retrying later", u->held);
		sv->usage_next_ms = t + (int64_t)sv->cfg.usage_flush * 1000;
		return;
	}
	memset(u->slots, 0, USAGE_SLOTS * sizeof(*u->slots));
	u->held = 0;
	sv->usage_next_ms = INT64_MAX;
}

void
usage_close(struct server *sv)
{
	if (sv->usage_fd >= 0) {
		close(sv->usage_fd);
		(void)unlink(sv->usage_path);
	}
	sv->usage_fd = -1;
	if (sv->usage != NULL)
		free(sv->usage->slots);
	free(sv->usage);
	sv->usage = NULL;
}
