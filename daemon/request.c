#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "err.h"
#include "mem.h"
#include "satokend.h"

/* At most this many requests from one connection per batch, so that a
 * pipelining client cannot starve the others. */
#define LINES_PER_CONN	32
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
	char via[SAT_PRINCIPAL_MAX + 80];	/* a token principal's uid */
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
	r = proto_parse(line, len, &res->rq, ctx->msg, sizeof(ctx->msg));
	if (r == 0 && res->rq.auth_token != NULL)
		r = token_principal(sv, res);
	/* limited per principal, whatever it sent */
	if (ratelimit_take(sv->rl, res->p.id, sv->cfg.rate_limit, now_ms(),
	    &res->retry_ms) != 0) {
		r = op_fail(ctx, SAT_E_THROTTLED, "rate limit of %llu requests "
		    "per second reached; retry in %llu ms",
		    (unsigned long long)sv->cfg.rate_limit,
		    (unsigned long long)res->retry_ms);
	}
	if (r == 0 && (res->reply = json_pack("{s:b}", "ok", 1)) == NULL)
		r = SAT_E_NOMEM;
	if (r == 0) {
		ctx->reply = res->reply;
		r = ops_run(ctx);
	}
	res->r = r;
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
	ev->reason = r == 0 ? res->ctx.reason : proto_error_name(r);
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
		 * can trace is not given */
		if (r == 0 && res->rq.op != NULL &&
		    (res->rq.op->flags & (OP_AUTH | OP_SECRET))) {
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
};

/* Runs the complete lines c holds, up to LINES_PER_CONN, into b.
 * Returns how many it took. */
static size_t
take_lines(struct server *sv, struct conn *c, struct batch *b)
{
	struct result **nrs, *res;
	const char *line;
	size_t k, len;
	int got;

	for (k = 0; k < LINES_PER_CONN; k++) {
		if (c->dead || c->closing ||
		    conn_pending_out(c) > CONN_OUT_HIGH)
			break;
		if ((got = conn_next_line(c, &line, &len)) == 0)
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

/* Runs the replies of a finished batch out: audit lines, then the
 * replies, written at once so that its clients can send their next
 * request while the following batch commits. */
static void
batch_reply(struct server *sv, struct batch *b)
{
	const struct audit_event **evs;
	int64_t t;
	size_t i;
	int *ar;

	for (i = 0; i < b->n; i++)
		audit_fill(b->rs[i]);
	/* the batch's lines in one write, each reply after its line */
	evs = b->n > 0 ? malloc(b->n * sizeof(*evs)) : NULL;
	ar = b->n > 0 ? malloc(b->n * sizeof(*ar)) : NULL;
	if (evs != NULL && ar != NULL) {
		for (i = 0; i < b->n; i++)
			evs[i] = &b->rs[i]->ev;
		(void)audit_emit_batch(sv->audit, evs, b->n, ar);
	} else {
		for (i = 0; ar != NULL && i < b->n; i++)
			ar[i] = audit_emit(sv->audit, &b->rs[i]->ev);
	}
	for (i = 0; i < b->n; i++)
		audit_done(b->rs[i], ar != NULL ? ar[i] :
		    audit_emit(sv->audit, &b->rs[i]->ev));
	free(evs);
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
	memset(b, 0, sizeof(*b));
	b->first_mut = (size_t)-1;
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
	size_t i, n, took;
	int input = 1;

	pfd[0].fd = store_commit_fd(sv->st.store);
	pfd[0].events = POLLIN;
	pfd[1].fd = sv->ep_fd;
	pfd[1].events = POLLIN;
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
		for (i = 0, took = 0; i < n; i++)
			took += take_lines(sv, ready[i], next);
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
	struct batch cur = { .first_mut = (size_t)-1 };
	struct batch prev = { .first_mut = (size_t)-1 };
	size_t i, total = 0, stage;
	int r = 0, began;

	sv->st.now = (int64_t)time(NULL);
	for (i = 0; i < sv->nconns; i++)
		(void)take_lines(sv, sv->conns[i], &cur);
	/* Group commit, pipelined: while one batch's journal frame is
	 * fdatasync'd by the store's thread, the requests that arrive run
	 * as the next batch on top of it; each batch is answered once it
	 * is durable and applied, in order.  A few stages, then back to the
	 * loop for signals, new connections and timeouts. */
	for (stage = 0;; stage++) {
		if (store_in_flight(st)) {
			gather_while_syncing(sv, &cur);
			if (store_commit_end(st) != 0) {
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
		if (cur.n > 0 && !cur.failed && store_staged(st) > 0 &&
		    stage + 1 < PIPE_STAGES) {
			if ((r = store_commit_begin(st)) == 0) {
				/* cur's frame is on its way to the disk:
				 * prev's replies are written while it syncs */
				batch_reply(sv, &prev);
				prev = cur;
				memset(&cur, 0, sizeof(cur));
				cur.first_mut = (size_t)-1;
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
			r = store_commit(st);
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
