/* satokend: the daemon's state and the pieces of its main loop. */
#ifndef SATOKEND_H
#define SATOKEND_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "metrics.h"
#include "ops.h"
#include "ratelimit.h"

struct uid_slot;
struct usage_agg;

struct server {
	struct sat_config cfg;		/* owned; replaced whole on SIGHUP */
	const char *config_path;
	int config_explicit;		/* given: a missing file is an error */
	struct dstate st;		/* st.cfg points at cfg */
	struct audit *audit;		/* owned */
	struct ratelimit *rl;		/* owned */
	int listen_fd;
	int sig_fd;			/* signalfd: TERM, INT, HUP */
	struct conn **conns;		/* owned */
	size_t nconns, conns_cap, max_conns;
	int ep_fd;			/* loop.c: epoll over all of the above */
	struct uid_slot *uids;		/* loop.c: connections per uid */
	size_t uids_cap, uids_used;
	uint64_t next_serial;
	uint64_t batch_gen;		/* request.c: numbers the batches */
	size_t turn_start;		/* request.c: whose turn within a uid */
	uid_t turn_uid;			/* request.c: the uid served last */
	struct turns *turns;		/* request.c: scratch, owned */
	int stopping;
	int foreground;
	size_t purge_pos;		/* next account of the retention sweep */
	uint32_t purge_page;		/* and its next index page */
	int64_t purge_next_ms;		/* when purge_step is next due */
	int64_t sweep_next_ms;		/* its retention sweep's next step */
	int64_t reclaim_next_ms;	/* its deleted tokens' next step */
	/* usage.c: last use (README "Lifecycle") */
	struct usage_agg *usage;	/* owned; NULL when off */
	int usage_fd;			/* -1 when off */
	char usage_path[108];		/* what it bound, to unlink */
	int64_t usage_next_ms;		/* next flush; INT64_MAX: none held */
	int64_t usage_poll_ms;		/* next drain while epoll does not
					   watch usage_fd; INT64_MAX: it does */
	size_t expiry_pos;		/* expiry.c: next account of the pass */
	int64_t expiry_next_ms;		/* its next step */
	struct metrics metrics;		/* metrics.c; st.metrics points here */
	int64_t metrics_next_ms;	/* next write of metrics_file */
	int64_t commit_t0_ns;		/* request.c: the commit under way */
	struct fleet *fleet;		/* follower.c; NULL: standalone */
};

/* Milliseconds, nanoseconds of the one monotonic clock (common/clock.c),
 * under the names the daemon's files use. */
static inline int64_t now_ms(void) { return clock_ms(); }
static inline int64_t now_ns(void) { return clock_ns(); }

/* Operational messages (not audit): stderr in the foreground, else
 * syslog LOG_DAEMON. */
void dlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dlog_init(int foreground);

/* request.c: runs every complete request the connections hold as one
 * batch, commits it once, audits each request and queues the replies.
 * Returns the number of requests run. */
size_t batch_run(struct server *sv);
/* request.c: frees the batches' scratch space. */
void batch_turns_free(struct server *sv);
/* request.c: the limiter's report (arg: the server): one audit line,
 * action=throttled count=N, for a principal's refused requests. */
void throttle_report(void *arg, const char *who, uint64_t count);

/* loop.c: reads what has arrived on the connections since the loop
 * last looked, without waiting, and returns up to cap of those it read
 * from in ret (a batch lets their requests join it). */
size_t server_fill_ready(struct server *sv, struct conn **ret, size_t cap);

/* loop.c: counts one request of uid into the batch gen; 0 once uid
 * has had its share of that batch (the rest waits for the next). */
int server_uid_take(struct server *sv, uid_t uid, uint64_t gen);

/* purge.c: one step of the retention sweep, when due. */
void purge_step(struct server *sv);

/* usage.c: binds usage_socket (when set): 0, or -1 with err.  drain
 * reads what arrived; step writes what is held when usage_flush is due,
 * never over a batch; close flushes nothing (a report is advisory). */
int usage_open(struct server *sv, char *err, size_t errlen);
/* while reports keep coming, the loop drains them this often (loop.c) */
#define USAGE_POLL_MS	10
size_t usage_drain(struct server *sv);
void usage_step(struct server *sv);
/* The one rule of last use, for this host's reports and other hosts'
 * (follower.c): stages rep as its token's last use when it is later
 * than the one recorded; a token that no longer exists gets no record
 * (a report cannot make one), an older use changes nothing.  *staged
 * says whether it did. */
struct usage_report;
int usage_keep_latest(struct store *s, const struct usage_report *rep,
    int *staged);
void usage_close(struct server *sv);

/* metrics.c's file, every metrics_interval (loop.c). */
void metrics_step(struct server *sv);

/* expiry.c: the token.expiring lines, when due, never over a batch. */
void expiry_step(struct server *sv);

/* loop.c: serves until SIGTERM; 0, or -1 on a fatal error. */
int server_loop(struct server *sv);
/* satokend.c: SIGHUP. */
void server_reload(struct server *sv);

#endif
