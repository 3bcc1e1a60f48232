#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "err.h"
#include "mem.h"
#include "names.h"
#include "ops.h"
#include "num.h"
#include "policy.h"
#include "tindex.h"
#include "tokstate.h"
#include "token.h"
#include "verify.h"
#include "bindpid.h"
#include "metrics.h"

/* What a mint needs besides the account. */
struct mint {
	const char *name;
	uint64_t ttl;
	struct strlist services;
	struct strlist sources;	/* canonical CIDR text */
	int clipped;		/* ttl cut to the account's expiry */
	const char *description;	/* borrowed, may be NULL */
	/* workload identity: carried to the token as they are */
	int canary;
	uint32_t bind_pid;
	uint64_t bind_start;
	uint32_t max_offline;	/* fleet: 0, no budget */
};

static void
mint_free(struct mint *m)
{
	strlist_free(&m->services);
	strlist_free(&m->sources);
}

static int
check_ttl(struct op_ctx *c, uint64_t ttl)
{
	const struct sat_config *cfg = c->st->cfg;

	if (ttl < 1 || ttl > cfg->max_ttl)
		return op_fail(c, SAT_E_INVALID, "ttl must be from 1s to %llus "
		    "(max_ttl)", (unsigned long long)cfg->max_ttl);
	return 0;
}

/* The request's token name, ttl and scope, each checked. */
static int
mint_params(struct op_ctx *c, const char *name, struct mint *m)
{
	const struct request *rq = c->rq;
	const struct sat_config *cfg = c->st->cfg;
	char text[64];
	struct cidr net;
	size_t i;
	int r;

	memset(m, 0, sizeof(*m));
	m->name = name;
	if (!valid_token_name(name))
		return op_fail(c, SAT_E_INVALID, "token name: 1 to 128 "
		    "characters of text, no control characters, not only "
		    "spaces");
	if (rq->present & F_TTL) {
		if ((r = check_ttl(c, rq->ttl)) != 0)
			return r;
		m->ttl = rq->ttl;
	} else {
		m->ttl = cfg->default_ttl < cfg->max_ttl ? cfg->default_ttl :
		    cfg->max_ttl;
	}
	for (i = 0; i < rq->services.n; i++) {
		if (!valid_service(rq->services.v[i]))
			return op_fail(c, SAT_E_INVALID, "service '%.64s': 1 to "
			    "64 of A-Z a-z 0-9 _ . -", rq->services.v[i]);
		if ((r = strlist_add_unique(&m->services, rq->services.v[i])) != 0)
			return r;
	}
	for (i = 0; i < rq->sources.n; i++) {
		if (cidr_parse(rq->sources.v[i], &net) != 0)
			return op_fail(c, SAT_E_INVALID, "source '%.64s' is not "
			    "an address or CIDR (host bits zero)",
			    rq->sources.v[i]);
		cidr_format(&net, text, sizeof(text));
		if ((r = strlist_add_unique(&m->sources, text)) != 0)
			return r;
	}
	return 0;
}

/* token.mint's offline budget (DESIGN "Fleet"): a fleet host refuses
 * the token once its last contact with the directory is older.  Only
 * where there is a directory to be out of contact with; at least a
 * minute, since a host in contact records it every few seconds (its
 * heartbeat), and a budget below that would refuse while in contact. */
#define MAX_OFFLINE_MIN	60
#define MAX_OFFLINE_MAX	(366u * 86400)

static int
mint_offline(struct op_ctx *c, struct mint *m)
{
	uint64_t v = c->rq->max_offline;

	if (!(c->rq->present & F_MAX_OFFLINE))
		return 0;
	if (c->st->cfg->directory == NULL)
		return op_fail(c, SAT_E_INVALID, "--max-offline needs a fleet: "
		    "this host is standalone (satoken.conf names no "
		    "directory)");
	if (v < MAX_OFFLINE_MIN || v > MAX_OFFLINE_MAX)
		return op_fail(c, SAT_E_INVALID, "max_offline must be from "
		    "%us to %us", MAX_OFFLINE_MIN, MAX_OFFLINE_MAX);
	m->max_offline = (uint32_t)v;
	return 0;
}

/* token.mint's workload fields: a canary, a process to die with. */
static int
mint_workload(struct op_ctx *c, struct mint *m)
{
	m->canary = c->rq->canary;
	if (!(c->rq->present & F_BIND_PID))
		return 0;
	if (m->canary)
		return op_fail(c, SAT_E_INVALID, "a canary token is never used: "
		    "it cannot be bound to a process");
	return bindpid_check(c, c->rq->bind_pid, &m->bind_pid,
	    &m->bind_start);
}

/* The policy, the account's state, the name among its live tokens and
 * the quota, each O(1) in the tokens the account has held (tindex.h).
 * adds is how many live tokens the change adds: 1 for a mint or a
 * rotation whose old token stays live a while, 0 for a rotation that
 * revokes it at once. */
static int
mint_check(struct op_ctx *c, const struct sat_account *a, const char *name,
    unsigned adds)
{
	struct store *s = c->st->store;
	struct sat_policy pol;
	enum verify_reason fit;
	int taken = 0, r;

	memset(&pol, 0, sizeof(pol));
	if ((r = store_get_policy(s, &pol)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	/* the login decision's own account checks: nothing is minted that
	 * could not log in */
	fit = verify_account_fitness(a, &pol, c->st->now);
	record_free_policy(&pol);
	switch (fit) {
	case VERIFY_OK:
		break;
	case VERIFY_POLICY_DENIED:
		return op_fail(c, SAT_E_PERM, "Service account %s does not have "
		    "permission to use tokens", a->name);
	case VERIFY_ACCOUNT_DISABLED:
		return op_fail(c, SAT_E_CONFLICT, "service account %s is "
		    "disabled", a->name);
	case VERIFY_ACCOUNT_EXPIRED:
		return op_fail(c, SAT_E_CONFLICT, "service account %s has "
		    "expired", a->name);
	default:
		return op_fail(c, SAT_E_INTERNAL, "service account %s: %s",
		    a->name, verify_reason_name(fit));
	}
	if (name != NULL &&
	    (r = tindex_name_taken(s, a->name, name, c->st->now, &taken)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	if (taken)
		return op_fail(c, SAT_E_CONFLICT, "service account %s already "
		    "has a live token named '%.128s'", a->name, name);
	r = tindex_room(s, a->name, c->st->now,
	    c->st->cfg->max_tokens_per_account, adds);
	if (r != 0 && r != SAT_E_QUOTA)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	if (r == SAT_E_QUOTA)
		return op_fail(c, SAT_E_QUOTA, "max_tokens_per_account (%llu) "
		    "reached for %s", (unsigned long long)
		    c->st->cfg->max_tokens_per_account, a->name);
	return 0;
}

/* A token never outlives its account: a ttl past the account's expiry
 * is cut to it, and the reply and the audit line say so. */
static void
clip_ttl(struct op_ctx *c, const struct sat_account *a, struct mint *m)
{
	int64_t end = account_expires_at(a);

	if (a->days_valid != 0 && end > c->st->now &&
	    (uint64_t)(end - c->st->now) < m->ttl) {
		m->ttl = (uint64_t)(end - c->st->now);
		m->clipped = 1;
	}
}

static int
say_clipped(struct op_ctx *c, const struct mint *m)
{
	if (!m->clipped)
		return 0;
	op_change(c, "ttl_clipped", "account_expiry");
	return proto_set_bool(c->reply, "ttl_clipped", 1);
}

/* Generates the token, stages it and the account's index, and puts the
 * secret in the reply (the only place it ever goes). */
static int
mint_stage(struct op_ctx *c, const char *account, const struct mint *m,
    struct sat_token *ret)
{
	struct store *s = c->st->store;
	char tok[TOKEN_LEN + 1];
	struct sat_token t, other;
	int r, tries;

	memset(&t, 0, sizeof(t));
	snprintf(t.account, sizeof(t.account), "%s", account);
	t.created_at = c->st->now;
	t.ttl = m->ttl;
	t.expires_at = c->st->now + (int64_t)m->ttl;
	t.canary = m->canary;
	t.bind_pid = m->bind_pid;
	t.bind_start = m->bind_start;
	t.max_offline = m->max_offline;
	if ((t.name = sat_strdup(m->name)) == NULL ||
	    (t.created_by = sat_strdup(c->p->id)) == NULL ||
	    (m->description != NULL && m->description[0] != '\0' &&
	    (t.description = sat_strdup(m->description)) == NULL) ||
	    strlist_copy(&t.services, &m->services) != 0 ||
	    strlist_copy(&t.sources, &m->sources) != 0) {
		r = SAT_E_NOMEM;
		goto out;
	}
	for (tries = 0;; tries++) {
		if ((r = token_generate(tok)) != 0 ||
		    (r = token_parse(tok, TOKEN_LEN, t.id)) != 0)
			goto out;
		/* 71 bits of id: a clash is a curiosity, not an error */
		memset(&other, 0, sizeof(other));
		if ((r = store_get_token(s, t.id, &other)) == SAT_E_NOTFOUND)
			break;
		record_free_token(&other);
		if (r != 0 || tries > 8) {
			r = r != 0 ? r : SAT_E_INTERNAL;
			goto out;
		}
	}
	if ((r = token_digest(store_hmac_key(s), tok, t.digest)) != 0)
		goto out;
	/* before anything is staged: a process that exited meanwhile
	 * refuses this mint, not the whole batch */
	if (t.bind_pid != 0 &&
	    (r = bindpid_watch(c, t.id, t.bind_pid, t.bind_start)) != 0)
		goto out;
	c->staged = 1;
	if ((r = store_put_token(s, &t)) != 0 ||
	    (r = tindex_add(s, &t)) != 0)
		goto out;
	snprintf(c->ev_token, sizeof(c->ev_token), "%s", t.id);
	c->ev->token = c->ev_token;
	if (t.expires_at - c->st->now <= (int64_t)c->st->cfg->warn_before)
		expiry_note(c->st, t.id);
	snprintf(c->ev_name, sizeof(c->ev_name), "%s", m->name);
	c->ev->name = c->ev_name;
	op_change(c, "ttl", "%llu", (unsigned long long)t.ttl);
	op_change(c, "expires_at", "%lld", (long long)t.expires_at);
	op_change_list(c, "services", &t.services);
	op_change_list(c, "sources", &t.sources);
	if (t.description != NULL)
		op_change(c, "description", "%s", t.description);
	if (t.canary)
		op_change(c, "canary", "yes");
	if (t.bind_pid != 0)
		op_change(c, "bind_pid", "%u", (unsigned)t.bind_pid);
	if (t.max_offline != 0)
		op_change(c, "max_offline", "%u", (unsigned)t.max_offline);
	if ((r = op_reply_merge(c, op_token_json(&t, c->st->now))) == 0 &&
	    proto_set_str(c->reply, "token", tok) != 0)
		r = SAT_E_NOMEM;
	if (r == 0 && ret != NULL) {
		*ret = t;
		memset(&t, 0, sizeof(t));
	}
out:
	sat_wipe(tok, sizeof(tok));
	record_free_token(&t);
	return r;
}

/* token.mint's description (token.create's names the account). */
static int
token_description(struct op_ctx *c, struct mint *m)
{
	const char *d = c->rq->description;

	if (!(c->rq->present & F_DESCRIPTION) || d[0] == '\0')
		return 0;
	if (!valid_text(d, SAT_DESCRIPTION_MAX) || !valid_not_blank(d))
		return op_fail(c, SAT_E_INVALID, "description: at most 256 "
		    "bytes of text, no control characters, not only spaces");
	m->description = d;
	return 0;
}

int
op_token_mint(struct op_ctx *c)
{
	struct sat_account a;
	struct mint m;
	int r;

	memset(&m, 0, sizeof(m));
	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", c->rq->account);
	c->ev->account = c->ev_account;
	c->ev->name = c->rq->name;
	if ((r = op_get_account(c, c->rq->account, &a)) == 0 &&
	    (r = op_may_manage(c, &a)) == 0 &&
	    (r = mint_params(c, c->rq->name, &m)) == 0 &&
	    (r = token_description(c, &m)) == 0 &&
	    (r = mint_workload(c, &m)) == 0 &&
	    (r = mint_offline(c, &m)) == 0 &&
	    (r = mint_check(c, &a, m.name, 1)) == 0) {
		clip_ttl(c, &a, &m);
		if ((r = mint_stage(c, a.name, &m, NULL)) == 0)
			r = say_clipped(c, &m);
	}
	mint_free(&m);
	record_free_account(&a);
	return r;
}

/* token.create names the new account "account" and its token "name"
 * (as token.mint does); a request with only "name" names the account,
 * as the command line's NAME does, and "token_name" the token. */
int
op_token_create(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	const char *acct = rq->account != NULL ? rq->account : rq->name;
	const char *name = rq->token_name != NULL ? rq->token_name :
	    rq->account != NULL && rq->name != NULL ? rq->name : "default";
	struct sat_account a;
	struct mint m;
	json_t *o;
	int r;

	memset(&m, 0, sizeof(m));
	memset(&a, 0, sizeof(a));
	if (acct == NULL)
		return op_fail(c, SAT_E_INVALID, "field 'account' is required "
		    "for token.create");
	if (rq->account != NULL && rq->name != NULL && rq->token_name != NULL)
		return op_fail(c, SAT_E_INVALID, "give the token's name as "
		    "'name' or 'token_name', not both");
	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", acct);
	c->ev->account = c->ev_account;
	/* everything is checked, the policy included, before the account
	 * is staged: a refused create leaves no account behind */
	if ((r = op_account_build(c, acct, &a)) != 0 ||
	    (r = mint_params(c, name, &m)) != 0 ||
	    (r = mint_check(c, &a, m.name, 1)) != 0)
		goto out;
	clip_ttl(c, &a, &m);
	if ((r = op_stage_account(c, &a)) != 0 ||
	    (r = names_insert(&c->st->accounts, a.name)) != 0 ||
	    (r = mint_stage(c, a.name, &m, NULL)) != 0 ||
	    (r = say_clipped(c, &m)) != 0)
		goto out;
	if ((o = op_account_json(c, &a)) == NULL ||
	    json_object_set_new(c->reply, "account_info", o) != 0)
		r = SAT_E_NOMEM;
out:
	mint_free(&m);
	record_free_account(&a);
	return r;
}

/* Loads the token named by the request's id, and its account. */
static int
load_token(struct op_ctx *c, struct sat_token *t, struct sat_account *a)
{
	const char *id = c->rq->id;
	int r;

	memset(t, 0, sizeof(*t));
	if (a != NULL)
		memset(a, 0, sizeof(*a));
	/* never quote the value: the usual mistake is pasting the whole
	 * token where its id goes, and the message lands in the reply and
	 * the audit log */
	if (!token_id_valid(id, strlen(id)))
		return op_fail(c, SAT_E_INVALID, "%s is not a token id "
		    "(12 characters of 0-9A-Za-z%s)", strncmp(id, "sat_", 4) == 0 ?
		    "a token" : "the value given", strncmp(id, "sat_", 4) == 0 ?
		    "; a token's id is its characters 5 to 16" : "");
	snprintf(c->ev_token, sizeof(c->ev_token), "%s", id);
	c->ev->token = c->ev_token;
	if ((r = store_get_token(c->st->store, id, t)) == SAT_E_NOTFOUND)
		return op_fail(c, r, "no such token: %s", id);
	if (r != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	/* a deleted account's tokens may wait a while to be reclaimed
	 * (tindex.h): they are gone already */
	if (!names_contains(&c->st->accounts, t->account)) {
		record_free_token(t);
		return op_fail(c, SAT_E_NOTFOUND, "no such token: %s", id);
	}
	snprintf(c->ev_account, sizeof(c->ev_account), "%s", t->account);
	c->ev->account = c->ev_account;
	if (a != NULL)
		r = op_get_account(c, t->account, a);
	return r;
}

static int
reply_token(struct op_ctx *c, const struct sat_token *t)
{
	return op_reply_merge(c, op_token_json(t, c->st->now));
}

int
op_token_show(struct op_ctx *c)
{
	struct sat_token t;
	int64_t at;
	int r;

	/* during a rotation's grace the old token's own last use shows who
	 * has not switched yet */
	if ((r = load_token(c, &t, NULL)) == 0 &&
	    (r = reply_token(c, &t)) == 0 &&
	    (r = op_token_usage(c, t.id, c->reply, &at)) != 0)
		r = op_fail(c, r, "store: %s", sat_strerror(r));
	record_free_token(&t);
	return r;
}

int
op_token_revoke(struct op_ctx *c)
{
	struct sat_token t;
	struct sat_account a;
	int r;

	if ((r = load_token(c, &t, &a)) == 0 &&
	    (r = op_may_manage(c, &a)) == 0) {
		/* revoking a revoked token is ok, and keeps the first time */
		if (t.revoked_at == 0) {
			struct sat_token before = t;	/* shallow: not freed */

			t.revoked_at = c->st->now;
			c->staged = 1;
			if ((r = store_put_token(c->st->store, &t)) == 0)
				r = tindex_update(c->st->store, &before, &t);
		}
		if (r == 0)
			r = reply_token(c, &t);
	}
	record_free_token(&t);
	record_free_account(&a);
	return r;
}

/* token.disable / token.enable: a reversible stop, unlike revoke.  A
 * revoked token cannot be enabled (nor disabled: there is nothing left
 * to stop), and repeating either is ok and keeps the first time. */
static int
token_set_disabled(struct op_ctx *c, int disable)
{
	struct sat_token t;
	struct sat_account a;
	int r;

	if ((r = load_token(c, &t, &a)) != 0 ||
	    (r = op_may_manage(c, &a)) != 0)
		goto out;
	if (t.revoked_at != 0) {
		r = op_fail(c, SAT_E_CONFLICT, "token %s is revoked", t.id);
		goto out;
	}
	if ((t.disabled_at != 0) != disable) {
		/* the live count (tindex.h) is unchanged: a disabled token
		 * keeps its name and its slot, since it may come back */
		t.disabled_at = disable ? c->st->now : 0;
		c->staged = 1;
		if ((r = store_put_token(c->st->store, &t)) != 0)
			goto out;
		op_change(c, "disabled", "%s", disable ? "yes" : "no");
	}
	r = reply_token(c, &t);
out:
	record_free_token(&t);
	record_free_account(&a);
	return r;
}

int
op_token_disable(struct op_ctx *c)
{
	return token_set_disabled(c, 1);
}

int
op_token_enable(struct op_ctx *c)
{
	return token_set_disabled(c, 0);
}

int
op_token_leaked(struct op_ctx *c)
{
	if (strlen(c->rq->file) > 1024)
		return op_fail(c, SAT_E_INVALID, "file: at most 1024 bytes");
	snprintf(c->ev_detail, sizeof(c->ev_detail), "file=%.500s", c->rq->file);
	c->ev->detail = c->ev_detail;
	return op_token_revoke(c);
}

int
op_token_rotate(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct sat_token t, nt, before;
	struct sat_account a;
	struct mint m;
	int64_t now = c->st->now, old_end = 0;
	int r;

	memset(&m, 0, sizeof(m));
	memset(&nt, 0, sizeof(nt));
	if ((r = load_token(c, &t, &a)) != 0 ||
	    (r = op_may_manage(c, &a)) != 0)
		goto out;
	if ((rq->present & F_GRACE) && (rq->present & F_OLD_EXPIRES)) {
		r = op_fail(c, SAT_E_INVALID, "give a grace period or an old "
		    "expiry time, not both");
		goto out;
	}
	if (rq->present & F_GRACE) {
		if (rq->grace < 1 || rq->grace > c->st->cfg->max_ttl) {
			r = op_fail(c, SAT_E_INVALID, "grace must be from 1s to "
			    "max_ttl");
			goto out;
		}
		old_end = now + (int64_t)rq->grace;
	} else if (rq->present & F_OLD_EXPIRES) {
		if (rq->old_expires <= now) {
			r = op_fail(c, SAT_E_INVALID, "the old token's new "
			    "expiry is not in the future");
			goto out;
		}
		old_end = rq->old_expires;
	}
	if (tokstate(&t, now) != TOKSTATE_ACTIVE || t.replaced_by[0] != '\0') {
		r = op_fail(c, SAT_E_CONFLICT, "token %s is %s: only a live "
		    "token can be rotated", t.id,
		    tokstate(&t, now) == TOKSTATE_REVOKED ? "revoked" :
		    t.replaced_by[0] != '\0' ? "already rotated" : "expired");
		goto out;
	}
	/* same name and scope; the original ttl unless one is given,
	 * never past today's max_ttl */
	m.name = t.name;
	m.description = t.description;
	if (rq->present & F_TTL) {
		if ((r = check_ttl(c, rq->ttl)) != 0)
			goto out;
		m.ttl = rq->ttl;
	} else {
		m.ttl = t.ttl < c->st->cfg->max_ttl ? t.ttl : c->st->cfg->max_ttl;
		if (m.ttl == 0)
			m.ttl = 1;
	}
	/* a canary stays one, a bound token stays bound to its process */
	m.canary = t.canary;
	m.bind_pid = t.bind_pid;
	m.bind_start = t.bind_start;
	m.max_offline = t.max_offline;
	if ((r = strlist_copy(&m.services, &t.services)) != 0 ||
	    (r = strlist_copy(&m.sources, &t.sources)) != 0)
		goto out;
	/* a rotation whose old token stays live holds two slots */
	if ((r = mint_check(c, &a, NULL, old_end != 0)) != 0)
		goto out;
	clip_ttl(c, &a, &m);
	if ((r = mint_stage(c, a.name, &m, &nt)) != 0 ||
	    (r = say_clipped(c, &m)) != 0)
		goto out;
	before = t;	/* shallow: not freed */
	snprintf(t.replaced_by, sizeof(t.replaced_by), "%s", nt.id);
	if (old_end == 0)
		t.revoked_at = now;
	else if (old_end < t.expires_at)
		t.expires_at = old_end;
	if ((r = store_put_token(c->st->store, &t)) != 0 ||
	    (r = tindex_update(c->st->store, &before, &t)) != 0)
		goto out;
	snprintf(c->ev_detail, sizeof(c->ev_detail), "replaces=%s", t.id);
	c->ev->detail = c->ev_detail;
	op_change(c, "replaces", "%s", t.id);
	if (rq->present & F_GRACE)
		op_change(c, "grace", "%llu", (unsigned long long)rq->grace);
	if (t.revoked_at != 0)
		op_change(c, "old_revoked_at", "%lld", (long long)t.revoked_at);
	else
		op_change(c, "old_expires_at", "%lld", (long long)t.expires_at);
	if (proto_set_str(c->reply, "old_id", t.id) != 0 ||
	    proto_set_int(c->reply, "old_expires_at", t.expires_at) != 0 ||
	    (t.revoked_at != 0 &&
	    proto_set_int(c->reply, "old_revoked_at", t.revoked_at) != 0))
		r = SAT_E_NOMEM;
out:
	mint_free(&m);
	record_free_token(&nt);
	record_free_token(&t);
	record_free_account(&a);
	return r;
}

/* token.list's filters; an absent one matches everything. */
struct list_filter {
	const char *status;
	int64_t expiring_by;	/* 0: any; else live and ending before it */
	int64_t unused_since;	/* 0: any; else not used since it */
	const char *service;
	const char *group;
	char owner[SAT_PRINCIPAL_MAX + 1];	/* "" any, "-" none */
};

static int
filter_init(struct op_ctx *c, struct list_filter *f)
{
	const struct request *rq = c->rq;
	static const char *const states[] = { "active", "revoked", "expired",
	    "disabled" };
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	if (rq->present & F_STATUS) {
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			if (strcmp(rq->status, states[i]) == 0)
				f->status = states[i];
		if (f->status == NULL)
			return op_fail(c, SAT_E_INVALID, "status must be active, "
			    "revoked, expired or disabled");
	}
	if (rq->present & F_EXPIRING)
		f->expiring_by = c->st->now + (int64_t)rq->expiring;
	if (rq->present & F_UNUSED_FOR)
		f->unused_since = c->st->now - (int64_t)rq->unused_for;
	if (rq->present & F_SERVICE) {
		if (!valid_service(rq->service))
			return op_fail(c, SAT_E_INVALID, "service '%.64s': 1 to "
			    "64 of A-Z a-z 0-9 _ . -", rq->service);
		f->service = rq->service;
	}
	if (rq->present & F_GROUP) {
		if (!valid_name(rq->group))
			return op_fail(c, SAT_E_INVALID, "bad group name");
		f->group = rq->group;
	}
	if (rq->present & F_OWNER) {
		if (strcmp(rq->owner, "-") == 0)
			snprintf(f->owner, sizeof(f->owner), "-");
		else if ((r = op_resolve_owner(c, rq->owner, f->owner,
		    sizeof(f->owner))) != 0)
			return r;
	}
	return 0;
}

/* Whether the account's tokens may match at all (owner, group): one
 * account read, not one per token. */
static int
filter_account(struct op_ctx *c, const struct list_filter *f,
    const char *account, int *ret_ok)
{
	struct sat_account a;
	char shown[SAT_PRINCIPAL_MAX + 1];
	int r;

	*ret_ok = 1;
	if (f->group == NULL && f->owner[0] == '\0')
		return 0;
	memset(&a, 0, sizeof(a));
	if ((r = store_get_account(c->st->store, account, &a)) != 0) {
		*ret_ok = 0;
		return r == SAT_E_NOTFOUND || r == SAT_E_MALFORMED ? 0 : r;
	}
	if (f->group != NULL && !strlist_contains(&a.groups, f->group))
		*ret_ok = 0;
	if (strcmp(f->owner, "-") == 0)
		*ret_ok &= op_owner_shown(c, a.owner, shown, sizeof(shown)) != 0;
	else if (f->owner[0] != '\0')
		*ret_ok &= a.owner != NULL && strcmp(a.owner, f->owner) == 0;
	record_free_account(&a);
	return 0;
}

static int
filter_token(const struct list_filter *f, const struct sat_token *t,
    int64_t last_used, int64_t now)
{
	const char *st = op_token_status(t, now);

	if (f->status != NULL && strcmp(st, f->status) != 0)
		return 0;
	if (f->expiring_by != 0 && (strcmp(st, "active") != 0 ||
	    t->expires_at > f->expiring_by))
		return 0;
	/* never used counts from its mint: a token made an hour ago is
	 * not "unused for 30d" */
	if (f->unused_since != 0 && (last_used > t->created_at ? last_used :
	    t->created_at) >= f->unused_since)
		return 0;
	/* a token for SVC: one that a login to SVC may use */
	if (f->service != NULL && t->services.n > 0 &&
	    !strlist_contains(&t->services, f->service))
		return 0;
	return 1;
}

/* One account's tokens, in mint order from from on, into items while
 * fewer than lim: O(items), whatever the account has held.  *ret_last
 * gets where the last one taken sits (*ret_got 1); *ret_more when ids
 * remain past it. */
static int
list_account(struct op_ctx *c, const struct list_filter *f,
    const char *account, struct tindex_pos from,
    json_t *items, size_t lim, struct tindex_pos *ret_last, int *ret_got,
    int *ret_more)
{
	struct store *s = c->st->store;
	struct tindex_iter it;
	struct tindex_pos at;
	struct sat_token t;
	char id[TOKEN_ID_LEN + 1];
	int64_t used;
	json_t *o;
	int r;

	*ret_more = 0;
	*ret_got = 0;
	if ((r = tindex_iter_init(s, account, from, &it)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	while ((r = tindex_iter_next(s, account, &it, id, &at)) == 0) {
		if (json_array_size(items) >= lim) {
			*ret_more = 1;
			break;
		}
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, id, &t)) == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			break;
		/* a skipped token still moves the cursor past it */
		*ret_last = at;
		*ret_got = 1;
		o = op_token_json(&t, c->st->now);
		if (o == NULL) {
			record_free_token(&t);
			return SAT_E_NOMEM;
		}
		if ((r = op_token_usage(c, t.id, o, &used)) != 0 ||
		    !filter_token(f, &t, used, c->st->now)) {
			record_free_token(&t);
			json_decref(o);
			if (r != 0)
				break;
			continue;
		}
		record_free_token(&t);
		if (json_array_append_new(items, o) != 0)
			return SAT_E_NOMEM;
	}
	if (r == SAT_E_NOTFOUND)
		r = 0;
	return r != 0 ? op_fail(c, r, "store: %s", sat_strerror(r)) : 0;
}

/* "ACCOUNT/PAGE.SLOT" of the last token returned: the next page starts
 * one slot past it, and a purge in between does not move it. */
static int
parse_cursor(const char *cur, char acct[SAT_NAME_MAX + 1],
    struct tindex_pos *ret)
{
	const char *slash = strchr(cur, '/'), *dot;
	char num[16];
	uint64_t page, slot;

	if (slash == NULL || (size_t)(slash - cur) > SAT_NAME_MAX ||
	    (dot = strchr(slash + 1, '.')) == NULL ||
	    (size_t)(dot - slash - 1) >= sizeof(num))
		return SAT_E_INVALID;
	memcpy(acct, cur, (size_t)(slash - cur));
	acct[slash - cur] = '\0';
	memcpy(num, slash + 1, (size_t)(dot - slash - 1));
	num[dot - slash - 1] = '\0';
	if (!valid_name(acct) || parse_u64(num, 0, UINT32_MAX, &page) != 0 ||
	    parse_u64(dot + 1, 0, TINDEX_PAGE_SLOTS - 1, &slot) != 0)
		return SAT_E_INVALID;
	ret->page = (uint32_t)page;
	ret->slot = (uint32_t)slot + 1;
	return 0;
}

static int
cmp_expiry(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "expires_at"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "expires_at"));

	return x < y ? -1 : x > y;
}

/* A page sorted by expiry, soonest first: what ends next is what a
 * sysadmin looks for.  Pages follow the cursor (mint order per account),
 * so the order holds within a page; README says so. */
static void
sort_by_expiry(json_t *items)
{
	size_t i, n = json_array_size(items);
	json_t **v;

	if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(items, i));
	qsort(v, n, sizeof(*v), cmp_expiry);
	json_array_clear(items);
	for (i = 0; i < n; i++)
		json_array_append_new(items, v[i]);
	free(v);
}

int
op_token_list(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct names *l = &c->st->accounts;
	char acct[SAT_NAME_MAX + 1] = "";
	char cur[SAT_NAME_MAX + 32];
	struct tindex_pos from = { 0, 0 }, last = { 0, 0 }, got_at;
	struct sat_token_head h;
	size_t i, lim = op_limit(c);
	struct list_filter f;
	json_t *items;
	int more = 0, have_cursor = 0, have_last = 0, got, ok, r;

	if ((r = filter_init(c, &f)) != 0)
		return r;
	if (rq->cursor != NULL && rq->cursor[0] != '\0') {
		if (parse_cursor(rq->cursor, acct, &from) != 0)
			return op_fail(c, SAT_E_INVALID, "bad cursor");
		have_cursor = 1;
	}
	if (rq->account != NULL) {
		snprintf(c->ev_account, sizeof(c->ev_account), "%.64s",
		    rq->account);
		c->ev->account = c->ev_account;
		if (!names_contains(l, rq->account))
			return op_fail(c, valid_name(rq->account) ?
			    SAT_E_NOTFOUND : SAT_E_INVALID,
			    "no such account: %.64s", rq->account);
	}
	if ((items = json_array()) == NULL ||
	    json_object_set_new(c->reply, "items", items) != 0)
		return SAT_E_NOMEM;
	if (rq->account != NULL) {
		if (have_cursor && strcmp(acct, rq->account) != 0)
			return op_fail(c, SAT_E_INVALID, "bad cursor");
		if ((r = filter_account(c, &f, rq->account, &ok)) != 0)
			return op_fail(c, r, "store: %s", sat_strerror(r));
		if (ok && (r = list_account(c, &f, rq->account, from, items,
		    lim, &last, &have_last, &more)) != 0)
			return r;
		snprintf(acct, sizeof(acct), "%s", rq->account);
	} else {
		/* from the cursor's account on (it may have been deleted) */
		i = have_cursor ? names_after(l, acct) : 0;
		if (have_cursor && names_contains(l, acct)) {
			if ((r = filter_account(c, &f, acct, &ok)) != 0)
				return op_fail(c, r, "store: %s",
				    sat_strerror(r));
			if (ok && (r = list_account(c, &f, acct, from, items,
			    lim, &last, &have_last, &more)) != 0)
				return r;
		}
		for (; !more && i < l->n; i++) {
			if (json_array_size(items) >= lim) {
				/* another account may hold more: peek */
				if (tindex_head(c->st->store, names_at(l, i),
				    &h) == 0 && h.ntokens > 0)
					more = 1;
				continue;
			}
			from.page = from.slot = 0;
			if ((r = filter_account(c, &f, names_at(l, i),
			    &ok)) != 0)
				return op_fail(c, r, "store: %s",
				    sat_strerror(r));
			if (!ok)
				continue;
			if ((r = list_account(c, &f, names_at(l, i), from,
			    items, lim, &got_at, &got, &more)) != 0)
				return r;
			if (got) {
				snprintf(acct, sizeof(acct), "%s",
				    names_at(l, i));
				last = got_at;
				have_last = 1;
			}
		}
	}
	sort_by_expiry(items);
	if (more && have_last) {
		snprintf(cur, sizeof(cur), "%s/%u.%u", acct,
		    (unsigned)last.page, (unsigned)last.slot);
		if (proto_set_str(c->reply, "cursor", cur) != 0)
			return SAT_E_NOMEM;
	}
	return 0;
}

int
op_token_verify(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct verify_request vr;
	struct verify_result res;
	int r;

	memset(&vr, 0, sizeof(vr));
	vr.token = rq->token;
	vr.token_len = rq->token_len;
	vr.account = rq->account;
	vr.service = rq->service;
	vr.rhost = rq->from;
	vr.now = c->st->now;
	c->ev->service = rq->service != NULL ? rq->service : "";
	c->ev->rhost = rq->from;
	if ((r = verify_token(c->st->store, &vr, &res)) != 0)
		return op_fail(c, SAT_E_STORE, "store: %s", sat_strerror(r));
	snprintf(c->ev_account, sizeof(c->ev_account), "%s", res.account);
	c->ev->account = c->ev_account;
	/* a wrong_account line names both: who was claimed, whose it is */
	if (res.reason == VERIFY_WRONG_ACCOUNT && rq->account != NULL) {
		c->ev->account = rq->account;
		c->ev->token_account = c->ev_account;
	}
	if (res.token_id[0] != '\0') {
		snprintf(c->ev_token, sizeof(c->ev_token), "%s", res.token_id);
		c->ev->token = c->ev_token;
	}
	c->outcome = res.reason == VERIFY_OK ? "ok" : "denied";
	c->reason = verify_reason_name(res.reason);
	/* an authentication (action=auth) like a module's login: status
	 * counts it with theirs */
	if (c->st->metrics != NULL)
		metrics_login(c->st->metrics, c->reason, c->st->now);
	if (proto_set_bool(c->reply, "valid", res.reason == VERIFY_OK) != 0 ||
	    proto_set_str(c->reply, "reason", c->reason) != 0 ||
	    (res.account[0] != '\0' &&
	    proto_set_str(c->reply, "account", res.account) != 0) ||
	    (res.token_id[0] != '\0' &&
	    proto_set_str(c->reply, "id", res.token_id) != 0))
		return SAT_E_NOMEM;
	return 0;
}

int
ops_token_upgrade(struct dstate *st, char *err, size_t errlen)
{
	struct names *l = &st->accounts;
	size_t i;
	int done, r = 0;

	/* one commit per account: a restart half-way finds the rest still
	 * to do, and never half an account */
	for (i = 0; i < l->n && r == 0; i++) {
		if ((r = tindex_upgrade(st->store, names_at(l, i),
		    (int64_t)time(NULL), &done)) == 0 && done)
			r = store_commit(st->store);
		if (r != 0) {
			store_rollback(st->store);
			snprintf(err, errlen, "store: cannot upgrade the token "
			    "index of %s: %s", names_at(l, i), sat_strerror(r));
		}
	}
	return r;
}
