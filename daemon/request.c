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

struct result {
	uint64_t serial;		/* the conn's; it may be gone by now */
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

	res->serial = c->serial;
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

/* The audit line of one request. */
static void
audit_result(struct server *sv, struct result *res)
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
	if (audit_emit(sv->audit, ev) != 0) {
		dlog(LOG_ERR, "audit: cannot write the line for %s",
		    ev->action);
		/* an authentication nobody can trace is not given */
		if (r == 0 && res->rq.op != NULL &&
		    (res->rq.op->flags & OP_AUTH)) {
			res->r = op_fail(&res->ctx, SAT_E_IO, "audit unavailable");
		}
	}
}

static struct conn *
find_conn(struct server *sv, uint64_t serial)
{
	size_t i;

	for (i = 0; i < sv->nconns; i++)
		if (sv->conns[i]->serial == serial)
			return sv->conns[i];
	return NULL;
}

static void
send_result(struct server *sv, struct result *res)
{
	struct conn *c = find_conn(sv, res->serial);
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

size_t
batch_run(struct server *sv)
{
	struct result **rs = NULL, **nrs;
	size_t nres = 0, cap = 0, i, k, first_mut = (size_t)-1;
	const char *line;
	size_t len;
	int got, failed = 0;

	sv->st.now = (int64_t)time(NULL);
	for (i = 0; i < sv->nconns; i++) {
		struct conn *c = sv->conns[i];

		for (k = 0; k < LINES_PER_CONN; k++) {
			struct result *res;

			if (c->dead || c->closing ||
			    conn_pending_out(c) > CONN_OUT_HIGH)
				break;
			if ((got = conn_next_line(c, &line, &len)) == 0)
				break;
			if (nres == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nrs = realloc(rs, cap * sizeof(*rs))) == NULL) {
					c->dead = 1;
					break;
				}
				rs = nrs;
			}
			if ((res = calloc(1, sizeof(*res))) == NULL) {
				c->dead = 1;
				break;
			}
			rs[nres++] = res;
			c->active_ms = now_ms();
			if (got < 0) {
				/* nothing of it is read: answer, then hang up */
				res->serial = c->serial;
				res->p = c->peer;
				res->rq.op_name = "invalid";
				res->r = op_fail(&res->ctx, SAT_E_INVALID,
				    "request longer than %d bytes",
				    PROTO_LINE_MAX);
				res->close_after = 1;
				c->closing = 1;
				break;
			}
			run_line(sv, c, line, len, res);
			conn_consume(c, len);
			if (res->ctx.staged && first_mut == (size_t)-1)
				first_mut = nres - 1;
			/* a handler that failed after staging leaves the batch
			 * half-done: none of it may be committed */
			if (res->ctx.staged && res->r != 0)
				failed = 1;
		}
	}
	if (failed)
		store_rollback(sv->st.store);
	else if (store_staged(sv->st.store) > 0 &&
	    store_commit(sv->st.store) != 0)
		failed = 1;
	if (failed) {
		if (first_mut == (size_t)-1)
			first_mut = 0;
		dlog(LOG_ERR, "store: a batch of %zu requests was not committed",
		    nres - first_mut);
		for (i = first_mut; i < nres; i++)
			rs[i]->r = op_fail(&rs[i]->ctx, SAT_E_STORE,
			    "store unavailable: nothing was changed");
		if (ops_load_names(&sv->st) != 0)
			dlog(LOG_ERR, "store: cannot reload the names");
	}
	for (i = 0; i < nres; i++) {
		audit_result(sv, rs[i]);
		send_result(sv, rs[i]);
		result_free(rs[i]);
	}
	free(rs);
	return nres;
}
