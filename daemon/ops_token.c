#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "err.h"
#include "mem.h"
#include "names.h"
#include "ops.h"
#include "policy.h"
#include "token.h"
#include "verify.h"

/* What a mint needs besides the account. */
struct mint {
	const char *name;
	uint64_t ttl;
	struct strlist services;
	struct strlist sources;	/* canonical CIDR text */
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
		    "characters of text, no control characters");
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

static int
live(const struct sat_token *t, int64_t now)
{
	return t->revoked_at == 0 && now < t->expires_at;
}

/* The policy, the account's state, the name among its live tokens and
 * the quota; *x gets the account's token index.  adds is how many live
 * tokens the change adds: 1 for a mint or a rotation whose old token
 * stays live a while, 0 for a rotation that revokes it at once. */
static int
mint_check(struct op_ctx *c, const struct sat_account *a, const char *name,
    int adds, struct sat_token_index *x)
{
	struct store *s = c->st->store;
	struct sat_policy pol;
	struct sat_token t;
	size_t i, nlive = 0;
	int allowed, r;

	memset(&pol, 0, sizeof(pol));
	if ((r = store_get_policy(s, &pol)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	allowed = policy_allows(&pol, a);
	record_free_policy(&pol);
	if (!allowed)
		return op_fail(c, SAT_E_PERM, "Service account %s does not have "
		    "permission to use tokens", a->name);
	if (!a->enabled)
		return op_fail(c, SAT_E_CONFLICT, "service account %s is "
		    "disabled", a->name);
	if (account_expired(a, c->st->now))
		return op_fail(c, SAT_E_CONFLICT, "service account %s has "
		    "expired", a->name);
	if ((r = store_get_token_index(s, a->name, x)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	for (i = 0; i < x->ids.n; i++) {
		memset(&t, 0, sizeof(t));
		if ((r = store_get_token(s, x->ids.v[i], &t)) == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			return op_fail(c, r, "store: %s", sat_strerror(r));
		if (live(&t, c->st->now)) {
			nlive++;
			/* a rotation's outgoing token keeps its name */
			if (t.replaced_by[0] == '\0' && name != NULL &&
			    strcmp(t.name, name) == 0) {
				record_free_token(&t);
				return op_fail(c, SAT_E_CONFLICT, "service account "
				    "%s already has a live token named '%.128s'",
				    a->name, name);
			}
		}
		record_free_token(&t);
	}
	if (adds > 0 && nlive >= c->st->cfg->max_tokens_per_account)
		return op_fail(c, SAT_E_QUOTA, "max_tokens_per_account (%llu) "
		    "reached for %s", (unsigned long long)
		    c->st->cfg->max_tokens_per_account, a->name);
	return 0;
}

/* Generates the token, stages it and the account's index, and puts the
 * secret in the reply (the only place it ever goes). */
static int
mint_stage(struct op_ctx *c, const char *account, const struct mint *m,
    struct sat_token_index *x, struct sat_token *ret)
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
	if ((t.name = sat_strdup(m->name)) == NULL ||
	    (t.created_by = sat_strdup(c->p->id)) == NULL ||
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
	c->staged = 1;
	if ((r = strlist_add(&x->ids, t.id)) != 0 ||
	    (r = store_put_token(s, &t)) != 0 ||
	    (r = store_put_token_index(s, account, x)) != 0)
		goto out;
	snprintf(c->ev_token, sizeof(c->ev_token), "%s", t.id);
	c->ev->token = c->ev_token;
	snprintf(c->ev_name, sizeof(c->ev_name), "%s", m->name);
	c->ev->name = c->ev_name;
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

int
op_token_mint(struct op_ctx *c)
{
	struct sat_account a;
	struct sat_token_index x;
	struct mint m;
	int r;

	memset(&x, 0, sizeof(x));
	memset(&m, 0, sizeof(m));
	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", c->rq->account);
	c->ev->account = c->ev_account;
	c->ev->name = c->rq->name;
	if ((r = op_get_account(c, c->rq->account, &a)) == 0 &&
	    (r = op_may_manage(c, &a)) == 0 &&
	    (r = mint_params(c, c->rq->name, &m)) == 0 &&
	    (r = mint_check(c, &a, m.name, 1, &x)) == 0)
		r = mint_stage(c, a.name, &m, &x, NULL);
	mint_free(&m);
	record_free_token_index(&x);
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
	struct sat_token_index x;
	struct mint m;
	json_t *o;
	int r;

	memset(&x, 0, sizeof(x));
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
	    (r = mint_check(c, &a, m.name, 1, &x)) != 0)
		goto out;
	if ((r = op_stage_account(c, &a)) != 0 ||
	    (r = names_insert(&c->st->accounts, a.name)) != 0 ||
	    (r = mint_stage(c, a.name, &m, &x, NULL)) != 0)
		goto out;
	if ((o = op_account_json(&a)) == NULL ||
	    json_object_set_new(c->reply, "account_info", o) != 0)
		r = SAT_E_NOMEM;
out:
	mint_free(&m);
	record_free_token_index(&x);
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
	int r;

	if ((r = load_token(c, &t, NULL)) == 0)
		r = reply_token(c, &t);
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
			t.revoked_at = c->st->now;
			c->staged = 1;
			r = store_put_token(c->st->store, &t);
		}
		if (r == 0)
			r = reply_token(c, &t);
	}
	record_free_token(&t);
	record_free_account(&a);
	return r;
}

int
op_token_rotate(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct sat_token t, nt;
	struct sat_account a;
	struct sat_token_index x;
	struct mint m;
	int64_t now = c->st->now, old_end = 0;
	int r;

	memset(&x, 0, sizeof(x));
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
	if (t.revoked_at != 0 || now >= t.expires_at ||
	    t.replaced_by[0] != '\0') {
		r = op_fail(c, SAT_E_CONFLICT, "token %s is %s: only a live "
		    "token can be rotated", t.id, t.revoked_at != 0 ? "revoked" :
		    t.replaced_by[0] != '\0' ? "already rotated" : "expired");
		goto out;
	}
	/* same name and scope; the original ttl unless one is given,
	 * never past today's max_ttl */
	m.name = t.name;
	if (rq->present & F_TTL) {
		if ((r = check_ttl(c, rq->ttl)) != 0)
			goto out;
		m.ttl = rq->ttl;
	} else {
		m.ttl = t.ttl < c->st->cfg->max_ttl ? t.ttl : c->st->cfg->max_ttl;
		if (m.ttl == 0)
			m.ttl = 1;
	}
	if ((r = strlist_copy(&m.services, &t.services)) != 0 ||
	    (r = strlist_copy(&m.sources, &t.sources)) != 0)
		goto out;
	/* a rotation whose old token stays live holds two slots */
	if ((r = mint_check(c, &a, NULL, old_end != 0, &x)) != 0 ||
	    (r = mint_stage(c, a.name, &m, &x, &nt)) != 0)
		goto out;
	snprintf(t.replaced_by, sizeof(t.replaced_by), "%s", nt.id);
	if (old_end == 0)
		t.revoked_at = now;
	else if (old_end < t.expires_at)
		t.expires_at = old_end;
	if ((r = store_put_token(c->st->store, &t)) != 0)
		goto out;
	snprintf(c->ev_detail, sizeof(c->ev_detail), "replaces=%s", t.id);
	c->ev->detail = c->ev_detail;
	if (proto_set_str(c->reply, "old_id", t.id) != 0 ||
	    proto_set_int(c->reply, "old_expires_at", t.expires_at) != 0 ||
	    (t.revoked_at != 0 &&
	    proto_set_int(c->reply, "old_revoked_at", t.revoked_at) != 0))
		r = SAT_E_NOMEM;
out:
	mint_free(&m);
	record_free_token_index(&x);
	record_free_token(&nt);
	record_free_token(&t);
	record_free_account(&a);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One account's tokens, in id order, after after_id, into items while
 * fewer than lim.  *ret_more when ids remain past the last taken. */
static int
list_account(struct op_ctx *c, const char *account, const char *after_id,
    json_t *items, size_t lim, char ret_last[TOKEN_ID_LEN + 1],
    int *ret_more)
{
	struct sat_token_index x;
	struct sat_token t;
	size_t i;
	json_t *o;
	int r;

	memset(&x, 0, sizeof(x));
	*ret_more = 0;
	if ((r = store_get_token_index(c->st->store, account, &x)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	if (x.ids.n > 1)
		qsort(x.ids.v, x.ids.n, sizeof(x.ids.v[0]), cmp_str);
	for (i = 0; i < x.ids.n; i++) {
		if (after_id != NULL && strcmp(x.ids.v[i], after_id) <= 0)
			continue;
		if (json_array_size(items) >= lim) {
			*ret_more = 1;
			break;
		}
		memset(&t, 0, sizeof(t));
		r = store_get_token(c->st->store, x.ids.v[i], &t);
		if (r == SAT_E_NOTFOUND)
			continue;
		if (r != 0)
			break;
		o = op_token_json(&t, c->st->now);
		record_free_token(&t);
		if (o == NULL || json_array_append_new(items, o) != 0) {
			r = SAT_E_NOMEM;
			break;
		}
		snprintf(ret_last, TOKEN_ID_LEN + 1, "%s", x.ids.v[i]);
	}
	record_free_token_index(&x);
	return r == SAT_E_NOMEM ? r : r != 0 ? op_fail(c, r, "store: %s",
	    sat_strerror(r)) : 0;
}

int
op_token_list(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct names *l = &c->st->accounts;
	char acct[SAT_NAME_MAX + 1] = "", last[TOKEN_ID_LEN + 1] = "";
	char got[TOKEN_ID_LEN + 1];
	char cur[SAT_NAME_MAX + TOKEN_ID_LEN + 2];
	const char *after_id = NULL, *slash;
	size_t i, lim = op_limit(c);
	json_t *items;
	int more = 0, r;

	/* the cursor is "ACCOUNT/ID" of the last token returned */
	if (rq->cursor != NULL && rq->cursor[0] != '\0') {
		slash = strchr(rq->cursor, '/');
		if (slash == NULL || (size_t)(slash - rq->cursor) > SAT_NAME_MAX ||
		    !token_id_valid(slash + 1, strlen(slash + 1)))
			return op_fail(c, SAT_E_INVALID, "bad cursor");
		memcpy(acct, rq->cursor, (size_t)(slash - rq->cursor));
		acct[slash - rq->cursor] = '\0';
		after_id = slash + 1;
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
		if (after_id != NULL && strcmp(acct, rq->account) != 0)
			return op_fail(c, SAT_E_INVALID, "bad cursor");
		if ((r = list_account(c, rq->account, after_id, items, lim,
		    last, &more)) != 0)
			return r;
		snprintf(acct, sizeof(acct), "%s", rq->account);
	} else {
		/* from the cursor's account on (it may have been deleted) */
		i = after_id != NULL ? names_after(l, acct) : 0;
		if (after_id != NULL && names_contains(l, acct)) {
			if ((r = list_account(c, acct, after_id, items, lim, last,
			    &more)) != 0)
				return r;
		}
		for (; !more && i < l->n; i++) {
			if (json_array_size(items) >= lim) {
				/* another account may hold more: peek */
				struct sat_token_index x;

				memset(&x, 0, sizeof(x));
				if (store_get_token_index(c->st->store,
				    names_at(l, i),
				    &x) == 0 && x.ids.n > 0)
					more = 1;
				record_free_token_index(&x);
				continue;
			}
			got[0] = '\0';
			if ((r = list_account(c, names_at(l, i), NULL, items,
			    lim, got,
			    &more)) != 0)
				return r;
			if (got[0] != '\0') {
				snprintf(acct, sizeof(acct), "%s",
				    names_at(l, i));
				memcpy(last, got, sizeof(last));
			}
		}
	}
	if (more && last[0] != '\0') {
		snprintf(cur, sizeof(cur), "%s/%s", acct, last);
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
	if (res.token_id[0] != '\0') {
		snprintf(c->ev_token, sizeof(c->ev_token), "%s", res.token_id);
		c->ev->token = c->ev_token;
	}
	c->outcome = res.reason == VERIFY_OK ? "ok" : "denied";
	c->reason = verify_reason_name(res.reason);
	if (proto_set_bool(c->reply, "valid", res.reason == VERIFY_OK) != 0 ||
	    proto_set_str(c->reply, "reason", c->reason) != 0 ||
	    (res.account[0] != '\0' &&
	    proto_set_str(c->reply, "account", res.account) != 0) ||
	    (res.token_id[0] != '\0' &&
	    proto_set_str(c->reply, "id", res.token_id) != 0))
		return SAT_E_NOMEM;
	return 0;
}
