#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "err.h"
#include "mem.h"
#include "satokend.h"
#include "canaryd.h"
#include "wire.h"

/* The work a batch takes on before it is answered (take_turns). */
#define BATCH_WORK_NS	500000
/* A user's lines per turn, from one of its conns: enough that a
 * pipelining client's replies go out in one write, not one each (a
 * write is dearer than a refused request). */
#define TURN_LINES	16
/* Connections read per wake-up while a batch syncs. */
#define READY_CONNS	256
/* Batches committed back to back before the loop runs again. */
#define PIPE_STAGES	64

struct result {
	struct conn *c;			/* conns outlive a batch_run call */
	struct request rq;
	struct principal p;
	struct audit_event ev;
	struct op_ctx ctx;		/* ctx.ev == &ev; msg and ev buffers */
	json_t *reply;			/* {"ok":true,...} while r == 0 */
	int r;
	uint64_t retry_ms;
	int close_after;
	int quiet;			/* counted by the limiter, no own line */
	char via[SAT_PRINCIPAL_MAX + 80];	/* a token principal's uid */
	int audited;		/* its line went out before the commit */
	int audited_r;		/* ... for this r */
	int canary;		/* it presented a canary token */
};

static void
result_free(struct result *res)
{
	if (res == NULL)
		return;
	if (res->reply != NULL)
		json_decref(res->reply);
	proto_free(&res->rq);
	free(res);
}

/* Authenticates the request's own token, if it presents one: the
 * request then runs as that service account. */
static int
token_principal(struct server *sv, struct result *res)
{
	enum verify_reason why = VERIFY_MALFORMED;
	struct principal tp;
	int r;

	r = principal_from_token(sv->st.store, res->rq.auth_token,
	    res->rq.auth_token_len, sv->st.now, res->p.uid, res->p.gid, &tp,
	    &why);
	if (r == SAT_E_PERM && why == VERIFY_CANARY) {
		/* never a principal, and an alarm */
		res->canary = 1;
		canary_seen(sv, res->rq.auth_token, res->rq.auth_token_len);
	}
	if (r == SAT_E_PERM)
		return op_fail(&res->ctx, r, "the presented token is not "
		    "accepted (%s)", verify_reason_name(why));
	if (r != 0)
		return op_fail(&res->ctx, SAT_E_STORE, "store unavailable");
	/* the audit line keeps who held the token */
	snprintf(res->via, sizeof(res->via), "via %s", res->p.display);
	res->p = tp;
	return 0;
}

/* A request signed with an account's key (ops_self.c) runs as that
 * account; the audit line keeps the socket's user. */
static int
self_principal(struct server *sv, struct result *res)
{
	struct principal kp;
	int r;

	if ((r = ops_self_principal(&res->ctx, &kp)) != 0)
		return r;
	snprintf(res->via, sizeof(res->via), "via %s", res->p.display);
	res->p = kp;
	return 0;
}

/* Takes one request from p's bucket; 1, with res answered THROTTLED,
 * when it is empty.  A refused request is not audited on its own: the
 * limiter counts it into p's one line a second (throttle_report). */
static int
limited(struct server *sv, struct result *res, const struct principal *p)
{
	if (ratelimit_take(sv->rl, p->id, p->display, sv->cfg.rate_limit,
	    now_ms(), &res->retry_ms) == 0)
		return 0;
	res->r = op_fail(&res->ctx, SAT_E_THROTTLED, "rate limit of %llu "
	    "requests per second reached; retry in %llu ms",
	    (unsigned long long)sv->cfg.rate_limit,
	    (unsigned long long)res->retry_ms);
	res->quiet = 1;
	return 1;
}

static void
run_line(struct server *sv, struct conn *c, const char *line, size_t len,
    struct result *res)
{
	struct op_ctx *ctx = &res->ctx;
	int r;

	res->c = c;
	res->p = c->peer;
	ctx->st = &sv->st;
	ctx->p = &res->p;
	ctx->rq = &res->rq;
	ctx->ev = &res->ev;
	ctx->conn_serial = c->serial;
	/* before any work, the socket's uid pays, whatever the request
	 * says or presents: a refusal costs no parse and no verification,
	 * and no uid escapes its limit by sending tokens, good or bad */
	if (limited(sv, res, &c->peer))
		return;
	r = proto_parse(line, len, &res->rq, ctx->msg, sizeof(ctx->msg));
	if (r == 0 && res->rq.signature != NULL) {
		r = self_principal(sv, res);
		if (r == 0 && limited(sv, res, &res->p))
			return;
	} else if (r == 0 && res->rq.auth_token != NULL) {
		r = token_principal(sv, res);
		/* and a service account is one principal, whichever of the
		 * users holding its token presents it */
		if (r == 0 && limited(sv, res, &res->p))
			return;
	}
	if (r == 0 && (res->reply = json_pack("{s:b}", "ok", 1)) == NULL)
		r = SAT_E_NOMEM;
	if (r == 0) {
		ctx->reply = res->reply;
		r = ops_run(ctx);
		/* token.verify of a canary: refused there, noted here */
		if (r == 0 && ctx->reason != NULL &&
		    strcmp(ctx->reason, "canary") == 0 && res->rq.token != NULL)
			canary_seen(sv, res->rq.token, res->rq.token_len);
	}
	res->r = r;
}

void
throttle_report(void *arg, const char *who, uint64_t count)
{
	struct server *sv = arg;
	struct audit_event ev;
	char n[24];

	snprintf(n, sizeof(n), "%llu", (unsigned long long)count);
	memset(&ev, 0, sizeof(ev));
	ev.action = "throttled";
	ev.outcome = "denied";
	ev.reason = wire_name(SAT_E_THROTTLED);
	ev.principal = who;
	ev.count = n;
	/* nothing was done for these requests: nothing to take back */
	if (audit_emit(sv->audit, &ev) != 0)
		dlog(LOG_ERR, "audit: cannot write the line for throttled "
		    "requests of %s", who);
}

/* Fills the audit event of one request. */
static void
audit_fill(struct result *res)
{
	struct audit_event *ev = &res->ev;
	int r = res->r;

	ev->action = res->rq.op != NULL && (res->rq.op->flags & OP_AUTH) ?
	    "auth" : res->rq.op != NULL ? res->rq.op->name : "invalid";
	if (r == 0)
		ev->outcome = res->ctx.outcome != NULL ? res->ctx.outcome : "ok";
	else
		ev->outcome = r == SAT_E_PERM || r == SAT_E_THROTTLED ?
		    "denied" : "error";
	ev->reason = r == 0 ? res->ctx.reason : res->canary ? "canary" :
	    wire_name(r);
	ev->principal = res->p.display;
	ev->role = role_name(res->p.role);
	if (r != 0)
		ev->detail = res->ctx.msg[0] != '\0' ? res->ctx.msg : NULL;
	else if (ev->detail == NULL && res->via[0] != '\0')
		ev->detail = res->via;
}

/* What writing the request's audit line came to (ar: its result). */
static void
audit_done(struct result *res, int ar)
{
	struct audit_event *ev = &res->ev;
	int r = res->r;

	if (ar != 0) {
		dlog(LOG_ERR, "audit: cannot write the line for %s",
		    ev->action);
		/* an authentication (or a copy of the store's key) nobody
		 * can trace is not given, whether it is token.verify or a
		 * request made with a token */
		if (r == 0 && ((res->rq.op != NULL &&
		    (res->rq.op->flags & (OP_AUTH | OP_SECRET))) ||
		    res->via[0] != '\0')) {
			res->r = op_fail(&res->ctx, SAT_E_IO, "audit unavailable");
		}
	}
}

static void
send_result(struct server *sv, struct result *res)
{
	struct conn *c = res->c;
	json_t *out;
	char *line = NULL;
	size_t len = 0;

	if (c == NULL)
		return;
	if (res->r == 0) {
		out = res->reply;
		json_incref(out);
	} else {
		out = proto_error(res->r, res->ctx.msg);
		if (out != NULL && res->r == SAT_E_THROTTLED)
			(void)proto_set_int(out, "retry_after_ms",
			    (int64_t)res->retry_ms);
	}
	if (out == NULL || proto_dump(out, &line, &len) != 0) {
		c->dead = 1;
	} else {
		conn_queue(c, line, len);
		sat_freezero(line, len);
	}
	if (out != NULL)
		json_decref(out);
	if (res->close_after)
		c->closing = 1;
}

/* The requests of one batch, in the order they were read. */
struct batch {
	struct result **rs;
	size_t n, cap;
	size_t first_mut;	/* the first that staged a change */
	int failed;		/* a handler failed after staging */
	uint64_t gen;		/* for the per-uid shares (loop.c) */
	int64_t start_ns;	/* when it began taking requests */
	int64_t work_ns;	/* and for how long it may */
};

/* An empty batch, numbered afresh: each uid's share starts over. */
static void
batch_init(struct server *sv, struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->first_mut = (size_t)-1;
	b->gen = ++sv->batch_gen;
	b->start_ns = now_ns();
	b->work_ns = BATCH_WORK_NS;
}

/* Runs up to max of the complete lines c holds into b, as long as its
 * uid has a share left.  Returns how many it took. */
static size_t
take_lines(struct server *sv, struct conn *c, struct batch *b, size_t max)
{
	struct result **nrs, *res;
	const char *line;
	size_t k, len;
	int got, refilled = 0;

	for (k = 0; k < max; k++) {
		if (c->dead || c->closing ||
		    conn_pending_out(c) > CONN_OUT_HIGH)
			break;
		/* dear requests end the turn early: the batch is done */
		if (k > 0 && now_ns() - b->start_ns >= b->work_ns)
			break;
		got = conn_next_line(c, &line, &len);
		/* a backlog is read as it is served (conn.h): what its
		 * socket holds joins this turn */
		if (got == 0 && !refilled && conn_wants_input(c)) {
			refilled = 1;
			conn_fill(c, now_ms());
			got = conn_next_line(c, &line, &len);
		}
		if (got == 0)
			break;
		/* the line stays where it is, for the next batch */
		if (!server_uid_take(sv, c->uid, b->gen))
			break;
		if (b->n == b->cap) {
			size_t ncap = b->cap ? b->cap * 2 : 64;

			if ((nrs = realloc(b->rs, ncap * sizeof(*nrs))) == NULL) {
				c->dead = 1;
				break;
			}
			b->rs = nrs;
			b->cap = ncap;
		}
		if ((res = calloc(1, sizeof(*res))) == NULL) {
			c->dead = 1;
			break;
		}
		b->rs[b->n++] = res;
		c->active_ms = now_ms();
		if (got < 0) {
			/* nothing of it is read: answer, then hang up */
			res->c = c;
			res->p = c->peer;
			res->rq.op_name = "invalid";
			res->r = op_fail(&res->ctx, SAT_E_INVALID,
			    "request longer than %d bytes", PROTO_LINE_MAX);
			res->close_after = 1;
			c->closing = 1;
			k++;
			break;
		}
		run_line(sv, c, line, len, res);
		conn_consume(c, len);
		if (res->ctx.staged && b->first_mut == (size_t)-1)
			b->first_mut = b->n - 1;
		/* a handler that failed after staging leaves the batch
		 * half-done: none of it may be committed */
		if (res->ctx.staged && res->r != 0)
			b->failed = 1;
	}
	return k;
}

/* A read (list, show, whoami: every TAB of the bash completion) is
 * not a change nor a login: authpriv gets it only with audit_reads.  A
 * request made with a token is a login, whatever it asks, and a copy of
 * the store's key (a backup) is audited like a change. */
static int
audited(const struct server *sv, const struct result *res)
{
	const struct op *op = res->rq.op;

	/* a throttled request is counted by the limiter's own line */
	if (res->quiet)
		return 0;
	return op == NULL || (op->flags & (OP_MUTATES | OP_AUTH | OP_SECRET)) ||
	    res->via[0] != '\0' || sv->cfg.audit_reads;
}

/* Writes the lines of b's requests that are not written yet (all of
 * them, or those whose outcome changed since: a commit that failed
 * after their lines went out) into ar[] (their results; 0 for the
 * others), in one write where the sink allows.  Returns 0 or
 * SAT_E_NOMEM (nothing written; ar untouched). */
static int
batch_lines(struct server *sv, struct batch *b, int *ar)
{
	const struct audit_event **evs;
	size_t i, k, *idx;
	int *kr;

	evs = malloc(b->n * sizeof(*evs));
	idx = malloc(b->n * sizeof(*idx));
	kr = malloc(b->n * sizeof(*kr));
	if (evs == NULL || idx == NULL || kr == NULL) {
		free(evs);
		free(idx);
		free(kr);
		return SAT_E_NOMEM;
	}
	for (i = 0, k = 0; i < b->n; i++) {
		ar[i] = 0;
		if (!audited(sv, b->rs[i]) ||
		    (b->rs[i]->audited && b->rs[i]->audited_r == b->rs[i]->r))
			continue;
		audit_fill(b->rs[i]);
		evs[k] = &b->rs[i]->ev;
		idx[k++] = i;
	}
	if (k > 0)
		(void)audit_emit_batch(sv->audit, evs, k, kr);
	for (i = 0; i < k; i++) {
		ar[idx[i]] = kr[i];
		b->rs[idx[i]]->audited = 1;
		b->rs[idx[i]]->audited_r = b->rs[idx[i]]->r;
	}
	free(evs);
	free(idx);
	free(kr);
	return 0;
}

/* No change without its line: the lines of a batch that staged changes
 * are written before its commit begins.  If any did not go out, the
 * batch's changes are dropped and the requests from its first change on
 * (those ran against them) are answered UNAVAILABLE; the caller then
 * does not commit.  Returns 0 when the commit may go ahead. */
static int
batch_audit_first(struct server *sv, struct batch *b)
{
	size_t i;
	int *ar = NULL, bad = 0;

	if (b->n == 0 || (ar = malloc(b->n * sizeof(*ar))) == NULL ||
	    batch_lines(sv, b, ar) != 0)
		bad = 1;
	for (i = 0; !bad && i < b->n; i++)
		if (ar[i] != 0)
			bad = 1;
	if (bad) {
		dlog(LOG_ERR, "audit: cannot write the lines of a batch of %zu "
		    "requests; its changes were not made", b->n);
		store_rollback(sv->st.store);
		if (ops_load_names(&sv->st) != 0)
			dlog(LOG_ERR, "store: cannot reload the names");
		for (i = b->first_mut == (size_t)-1 ? 0 : b->first_mut;
		    i < b->n; i++)
			if (b->rs[i]->r == 0 || b->rs[i]->ctx.staged)
				b->rs[i]->r = op_fail(&b->rs[i]->ctx, SAT_E_IO,
				    "audit unavailable: nothing was changed");
	}
	free(ar);
	return bad ? SAT_E_IO : 0;
}

/* The conns with input, grouped by uid, for take_turns; kept between
 * calls so that a busy loop does not allocate. */
struct turn_group {
	size_t lo, hi;		/* its conns: c[lo..hi) */
	size_t next;		/* whose turn it is in the group */
};

struct turns {
	struct conn **c;
	size_t ccap;
	struct turn_group *g;
	size_t gcap;
};

void
batch_turns_free(struct server *sv)
{
	if (sv->turns == NULL)
		return;
	free(sv->turns->c);
	free(sv->turns->g);
	free(sv->turns);
	sv->turns = NULL;
}

static int
turn_order(const void *a, const void *b)
{
	const struct conn *x = *(struct conn *const *)a;
	const struct conn *y = *(struct conn *const *)b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

static int
turns_reserve(struct server *sv, size_t n)
{
	struct turns *t = sv->turns;
	struct conn **nc;
	struct turn_group *ng;

	if (t == NULL && (t = sv->turns = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (t->ccap < n) {
		if ((nc = realloc(t->c, n * sizeof(*nc))) == NULL)
			return -1;
		t->c = nc;
		t->ccap = n;
	}
	if (t->gcap < n) {
		if ((ng = realloc(t->g, n * sizeof(*ng))) == NULL)
			return -1;
		t->g = ng;
		t->gcap = n;
	}
	return 0;
}

/* Takes the lines of the n conns in cs into b in turns: a turn gives
 * each local user with input up to TURN_LINES requests, from its next
 * connection, and
 * the batch stops taking once it has done BATCH_WORK_NS of work, the
 * next batch starting with the user after the last one served.  So one
 * connection's backlog, or one user's 64 connections, wait behind
 * everyone else's next request, and nobody waits for more than a few
 * batches' worth of others' work.  Returns how many it took. */
static size_t
take_turns(struct server *sv, struct conn **cs, size_t n, struct batch *b)
{
	struct turns *t;
	struct turn_group *g;
	size_t i, m = 0, ng = 0, first = 0, left, took = 0, k, got;

	for (i = 0; i < n; i++)
		m += cs[i]->inlen > 0;
	if (m == 0)
		return 0;
	if (turns_reserve(sv, m) != 0) {
		/* still served, one line each in array order */
		for (i = 0; i < n; i++)
			took += take_lines(sv, cs[i], b, 1);
		return took;
	}
	t = sv->turns;
	for (i = 0, m = 0; i < n; i++)
		if (cs[i]->inlen > 0)
			t->c[m++] = cs[i];
	qsort(t->c, m, sizeof(*t->c), turn_order);
	for (i = 0; i < m; i++) {
		if (i == 0 || t->c[i]->uid != t->c[i - 1]->uid) {
			g = &t->g[ng++];
			g->lo = i;
			/* the user after the one served last goes first */
			if (first == 0 && ng > 1 && t->c[i]->uid > sv->turn_uid)
				first = ng - 1;
		}
		g->hi = i + 1;
	}
	for (i = 0; i < ng; i++)
		t->g[i].next = t->g[i].lo + sv->turn_start % (t->g[i].hi -
		    t->g[i].lo);
	sv->turn_start++;
	if (t->c[0]->uid > sv->turn_uid)
		first = 0;
	for (left = ng; left > 0;) {
		for (k = 0; k < ng && left > 0; k++) {
			g = &t->g[(first + k) % ng];
			while (g->hi > g->lo) {
				struct conn *c = t->c[g->next];

				if ((got = take_lines(sv, c, b, TURN_LINES)) > 0) {
					took += got;
					sv->turn_uid = c->uid;
					if (++g->next == g->hi)
						g->next = g->lo;
					break;
				}
				/* nothing more from it in this batch */
				t->c[g->next] = t->c[--g->hi];
				if (g->next == g->hi)
					g->next = g->lo;
				if (g->hi == g->lo)
					left--;
			}
			if (now_ns() - b->start_ns >= b->work_ns)
				return took;
		}
	}
	return took;
}

/* Runs the replies of a finished batch out: audit lines, then the
 * replies, written at once so that its clients can send their next
 * request while the following batch commits. */
static void
batch_reply(struct server *sv, struct batch *b)
{
	size_t i;
	int64_t t;
	int *ar;

	/* the batch's lines in one write, each reply after its line */
	ar = b->n > 0 ? malloc(b->n * sizeof(*ar)) : NULL;
	if (ar == NULL || batch_lines(sv, b, ar) != 0) {
		free(ar);
		ar = NULL;
	}
	for (i = 0; i < b->n; i++) {
		if (ar == NULL && !audited(sv, b->rs[i])) {
			audit_done(b->rs[i], 0);
		} else if (ar == NULL) {
			/* out of memory: one line at a time */
			audit_fill(b->rs[i]);
			audit_done(b->rs[i], b->rs[i]->audited &&
			    b->rs[i]->audited_r == b->rs[i]->r ? 0 :
			    audit_emit(sv->audit, &b->rs[i]->ev));
		} else {
			audit_done(b->rs[i], ar[i]);
		}
	}
	free(ar);
	for (i = 0; i < b->n; i++)
		send_result(sv, b->rs[i]);
	t = now_ms();
	for (i = 0; i < b->n; i++) {
		if (conn_pending_out(b->rs[i]->c) > 0)
			conn_flush(b->rs[i]->c, t);
		result_free(b->rs[i]);
	}
	free(b->rs);
	batch_init(sv, b);
}

/* Fails the requests of b from the first that staged a change on (from
 * the first of all if every is), as the store took none of it back. */
static void
batch_fail(struct server *sv, struct batch *b, int all)
{
	size_t i, from = all || b->first_mut == (size_t)-1 ? 0 : b->first_mut;

	dlog(LOG_ERR, "store: a batch of %zu requests was not committed",
	    b->n - from);
	for (i = from; i < b->n; i++)
		b->rs[i]->r = op_fail(&b->rs[i]->ctx, SAT_E_STORE,
		    "store unavailable: nothing was changed");
}

/* Waits until the batch in flight is durable, taking the requests that
 * arrive meanwhile into next (they run against its changes, and are
 * answered only after it). */
static void
gather_while_syncing(struct server *sv, struct batch *next)
{
	struct conn *ready[READY_CONNS];
	struct pollfd pfd[2];
	size_t n, took;
	int input = 1;

	pfd[0].fd = store_commit_fd(sv->st.store);
	pfd[0].events = POLLIN;
	pfd[1].fd = sv->ep_fd;
	pfd[1].events = POLLIN;
	/* its replies wait for the commit in flight anyway: the sync, not
	 * BATCH_WORK_NS, bounds what it takes (the per-uid shares hold) */
	next->work_ns = INT64_MAX / 2;
	/* the backlogs the conns hold first: they are not watched */
	(void)take_turns(sv, sv->conns, sv->nconns, next);
	while (pfd[0].fd >= 0 && !next->failed) {
		if (poll(pfd, input ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0)
			break;
		if (!(pfd[1].revents & POLLIN))
			continue;
		n = server_fill_ready(sv, ready, READY_CONNS);
		took = take_turns(sv, ready, n, next);
		/* only signals, new connections or output are pending:
		 * they are the loop's; wait for the commit alone */
		if (took == 0)
			input = 0;
	}
}

size_t
batch_run(struct server *sv)
{
	struct store *st = sv->st.store;
	struct batch cur, prev;
	size_t total = 0, stage;
	int r = 0, began;

	batch_init(sv, &cur);
	batch_init(sv, &prev);
	sv->st.now = (int64_t)time(NULL);
	(void)take_turns(sv, sv->conns, sv->nconns, &cur);
	/* Group commit, pipelined: while one batch's journal frame is
	 * fdatasync'd by the store's thread, the requests that arrive run
	 * as the next batch on top of it; each batch is answered once it
	 * is durable and applied, in order.  A few stages, then back to the
	 * loop for signals, new connections and timeouts. */
	for (stage = 0;; stage++) {
		if (store_in_flight(st)) {
			gather_while_syncing(sv, &cur);
			if (store_commit_end(st) == 0)
				sv->metrics.last_commit_ns = now_ns() -
				    sv->commit_t0_ns;
			else {
				batch_fail(sv, &prev, 0);
				/* cur ran against changes that are gone */
				store_rollback(st);
				if (cur.n > 0)
					batch_fail(sv, &cur, 1);
				if (ops_load_names(&sv->st) != 0)
					dlog(LOG_ERR, "store: cannot reload the "
					    "names");
				total += prev.n;
				batch_reply(sv, &prev);
				break;
			}
			/* prev is durable and applied: answered below */
			total += prev.n;
		}
		began = 0;
		/* the lines of what cur changed go out before its commit;
		 * if they cannot, nothing of it is committed */
		if (cur.n > 0 && !cur.failed && store_staged(st) > 0 &&
		    batch_audit_first(sv, &cur) != 0) {
			batch_reply(sv, &prev);
			break;
		}
		if (cur.n > 0 && !cur.failed && store_staged(st) > 0 &&
		    stage + 1 < PIPE_STAGES) {
			sv->commit_t0_ns = now_ns();
			if ((r = store_commit_begin(st)) == 0) {
				/* cur's frame is on its way to the disk:
				 * prev's replies are written while it syncs */
				batch_reply(sv, &prev);
				prev = cur;
				batch_init(sv, &cur);
				sv->st.now = (int64_t)time(NULL);
				continue;
			}
			/* refused: the store dropped what cur staged */
			began = 1;
		}
		batch_reply(sv, &prev);
		if (cur.n == 0)
			break;
		if (cur.failed) {
			store_rollback(st);
			if (ops_load_names(&sv->st) != 0)
				dlog(LOG_ERR, "store: cannot reload the names");
			if (cur.first_mut != (size_t)-1)
				batch_fail(sv, &cur, 0);
			break;
		}
		if (!began) {
			if (store_staged(st) == 0)
				break;
			/* the last stage commits on this thread */
			sv->commit_t0_ns = now_ns();
			if ((r = store_commit(st)) == 0)
				sv->metrics.last_commit_ns = now_ns() -
				    sv->commit_t0_ns;
		}
		if (r != 0) {
			batch_fail(sv, &cur, 0);
			if (ops_load_names(&sv->st) != 0)
				dlog(LOG_ERR, "store: cannot reload the names");
		}
		break;
	}
	total += cur.n;
	batch_reply(sv, &cur);
	return total;
}
