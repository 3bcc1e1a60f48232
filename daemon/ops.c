#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "err.h"
#include "metrics.h"
#include "names.h"
#include "ops.h"
#include "policy.h"
#include "pubkey.h"
#include "role.h"
#include "tindex.h"
#include "tokstate.h"

#define ACCOUNT_FIELDS	(F_ROLE | F_GROUPS | F_OWNER | F_DESCRIPTION | \
	F_DAYS_VALID | F_PUBLIC_KEY | F_EXTERNAL_ID)
#define MINT_FIELDS	(F_TTL | F_SERVICES | F_SOURCES)
#define PAGE_FIELDS	(F_LIMIT | F_CURSOR)

static const struct op ops[] = {
	{ "whoami", op_whoami, 0, 0, ROLE_VIEWER, 0 },
	{ "status", op_status, 0, 0, ROLE_VIEWER, 0 },
	{ "self.challenge", op_self_challenge, 0, 0, ROLE_VIEWER, 0 },
	{ "fleet.status", op_fleet_status, F_CSN, 0, ROLE_VIEWER, 0 },
	{ "backup", op_backup, F_CURSOR, 0, ROLE_ADMIN, OP_SECRET },
	{ "group.create", op_group_create, F_NAME | F_DESCRIPTION, F_NAME,
	  ROLE_ADMIN, OP_MUTATES },
	{ "group.delete", op_group_delete, F_NAME, F_NAME, ROLE_ADMIN,
	  OP_MUTATES },
	{ "group.list", op_group_list, PAGE_FIELDS, 0, ROLE_VIEWER, 0 },
	{ "group.add-member", op_group_add_member,
	  F_GROUP | F_ACCOUNTS | F_ACCOUNT, F_GROUP, ROLE_ADMIN, OP_MUTATES },
	{ "group.remove-member", op_group_remove_member,
	  F_GROUP | F_ACCOUNTS | F_ACCOUNT, F_GROUP, ROLE_ADMIN, OP_MUTATES },
	{ "policy.show", op_policy_show, 0, 0, ROLE_VIEWER, 0 },
	{ "policy.add", op_policy_add, F_GROUPS, F_GROUPS, ROLE_ADMIN,
	  OP_MUTATES },
	{ "policy.set", op_policy_set, F_GROUPS, F_GROUPS, ROLE_ADMIN,
	  OP_MUTATES },
	{ "policy.remove", op_policy_remove, F_GROUPS, F_GROUPS, ROLE_ADMIN,
	  OP_MUTATES },
	{ "account.create", op_account_create, F_NAME | ACCOUNT_FIELDS, F_NAME,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "account.list", op_account_list, PAGE_FIELDS, 0, ROLE_VIEWER, 0 },
	{ "account.show", op_account_show, F_NAME, F_NAME, ROLE_VIEWER, 0 },
	{ "account.update", op_account_update, F_NAME | ACCOUNT_FIELDS, F_NAME,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "account.disable", op_account_disable, F_NAME, F_NAME,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "account.enable", op_account_enable, F_NAME, F_NAME,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "account.delete", op_account_delete, F_NAME, F_NAME,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "token.mint", op_token_mint, F_ACCOUNT | F_NAME | MINT_FIELDS |
	  F_DESCRIPTION | F_CANARY | F_BIND_PID | F_MAX_OFFLINE,
	  F_ACCOUNT | F_NAME, ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "token.create", op_token_create, F_ACCOUNT | F_NAME | F_TOKEN_NAME |
	  ACCOUNT_FIELDS | MINT_FIELDS, 0, ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "token.list", op_token_list, F_ACCOUNT | PAGE_FIELDS | F_STATUS |
	  F_EXPIRING | F_UNUSED_FOR | F_SERVICE | F_OWNER | F_GROUP, 0,
	  ROLE_VIEWER, 0 },
	{ "token.show", op_token_show, F_ID, F_ID, ROLE_VIEWER, 0 },
	{ "token.revoke", op_token_revoke, F_ID, F_ID, ROLE_CONTRIBUTOR,
	  OP_MUTATES },
	{ "token.disable", op_token_disable, F_ID, F_ID, ROLE_CONTRIBUTOR,
	  OP_MUTATES },
	{ "token.enable", op_token_enable, F_ID, F_ID, ROLE_CONTRIBUTOR,
	  OP_MUTATES },
	{ "token.leaked", op_token_leaked, F_ID | F_FILE, F_ID | F_FILE,
	  ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "token.rotate", op_token_rotate, F_ID | F_GRACE | F_OLD_EXPIRES |
	  F_TTL, F_ID, ROLE_CONTRIBUTOR, OP_MUTATES },
	{ "token.verify", op_token_verify, F_ACCOUNT | F_TOKEN | F_SERVICE |
	  F_FROM, F_TOKEN, ROLE_VIEWER, OP_AUTH },
};

const struct op *
ops_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

int
ops_run(struct op_ctx *c)
{
	const struct op *op = c->rq->op;

	/* an account's own key renews its own tokens whatever its role
	 * (ops_self.c lets it reach token.mint and token.rotate only) */
	if (c->p->role < op->min_role && !c->p->by_key)
		return op_fail(c, SAT_E_PERM, "%s needs the %s role; %s is %s",
		    op->name, role_name(op->min_role), c->p->display,
		    role_name(c->p->role));
	/* a fleet host's store is the directory's copy: a change made
	 * here alone would be undone by the next refresh (follower.c).
	 * Whether it follows is fixed at start: a SIGHUP that drops the
	 * directory key does not stop the follower.  A control host
	 * writes the directory first (control.c) */
	if ((op->flags & OP_MUTATES) && dstate_follower(c->st))
		return op_fail(c, SAT_E_READ_ONLY, "this host follows the "
		    "directory %s: make changes on a control host",
		    c->st->cfg->directory != NULL ? c->st->cfg->directory :
		    "named at its start");
	/* a page of nothing, or of more than a reply should carry, is a
	 * mistake to report, not to round */
	if ((c->rq->present & F_LIMIT) &&
	    (c->rq->limit < 1 || c->rq->limit > 1000))
		return op_fail(c, SAT_E_INVALID, "limit must be from 1 to 1000");
	/* a control host's changes are the directory's first */
	if ((op->flags & OP_MUTATES) && c->st->control != NULL)
		return control_run(c, op->fn);
	return op->fn(c);
}

int
dstate_follower(const struct dstate *st)
{
	return st->follows && st->control == NULL;
}

int
ops_load_names(struct dstate *st)
{
	struct strlist a, g;
	struct names na, ng;
	int r;

	strlist_init(&a);
	strlist_init(&g);
	if ((r = store_list_accounts(st->store, &a)) != 0 ||
	    (r = store_list_groups(st->store, &g)) != 0) {
		strlist_free(&a);
		strlist_free(&g);
		return r;
	}
	/* both or neither */
	names_init(&na);
	names_init(&ng);
	if (names_take(&na, &a) != 0 || names_take(&ng, &g) != 0) {
		names_free(&na);
		strlist_free(&a);
		strlist_free(&g);
		return SAT_E_NOMEM;
	}
	names_free(&st->accounts);
	names_free(&st->groups);
	st->accounts = na;
	st->groups = ng;
	return 0;
}

int
op_fail(struct op_ctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return r;
}

int
op_get_account(struct op_ctx *c, const char *name, struct sat_account *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!valid_name(name))
		return op_fail(c, SAT_E_INVALID, "invalid account name");
	if ((r = store_get_account(c->st->store, name, ret)) == SAT_E_NOTFOUND)
		return op_fail(c, r, "no such account: %s", name);
	if (r != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	return 0;
}

int
op_may_manage(struct op_ctx *c, const struct sat_account *a)
{
	char shown[SAT_PRINCIPAL_MAX + 1];

	/* an account by its key manages its own tokens, nothing else */
	if (c->p->by_key)
		return strncmp(c->p->id, "account:", 8) == 0 &&
		    strcmp(c->p->id + 8, a->name) == 0 ? 0 :
		    op_fail(c, SAT_E_PERM, "%s may act only on its own "
		    "tokens", c->p->display);
	/* the ceiling first: owning an account whose role is above one's
	 * own (an admin's gift, or a demotion since) gives nothing */
	if (role_valid(a->role) && a->role > (int)c->p->role)
		return op_fail(c, SAT_E_PERM, "service account %s has the %s "
		    "role, above %s's role %s", a->name, role_name(a->role),
		    c->p->display, role_name(c->p->role));
	if (role_may_manage(c->p->role, c->p->owner_ref, a->owner))
		return 0;
	return op_fail(c, SAT_E_PERM, "%s may not manage service account %s "
	    "(owner %s)", c->p->display, a->name,
	    op_owner_shown(c, a->owner, shown, sizeof(shown)) == 0 ? shown :
	    "none");
}

int
op_owner_shown(struct op_ctx *c, const char *owner, char *out, size_t cap)
{
	struct sat_account o;
	char ref[SAT_PRINCIPAL_MAX + 1];
	const char *name, *hash;
	size_t n;
	int r;

	if (owner == NULL)
		return SAT_E_NOTFOUND;
	if (strncmp(owner, "account:", 8) != 0) {
		snprintf(out, cap, "%s", owner);
		return 0;
	}
	name = owner + 8;
	hash = strchr(name, '#');
	n = hash != NULL ? (size_t)(hash - name) : strlen(name);
	if (n == 0 || n > SAT_NAME_MAX)
		return SAT_E_NOTFOUND;
	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "%.*s", (int)n, name);
	if (!names_contains(&c->st->accounts, o.name))
		return SAT_E_NOTFOUND;
	if ((r = store_get_account(c->st->store, o.name, &o)) != 0)
		return r;
	/* the same account only if it is the same creation: a name
	 * deleted and made again owns nothing of the old one's */
	principal_account_ref(o.name, o.serial, ref, sizeof(ref));
	r = strcmp(ref, owner) == 0 ? 0 : SAT_E_NOTFOUND;
	if (r == 0)
		snprintf(out, cap, "account:%s", o.name);
	record_free_account(&o);
	return r;
}

size_t
op_limit(const struct op_ctx *c)
{
	if (!(c->rq->present & F_LIMIT) || c->rq->limit == 0)
		return 100;
	return c->rq->limit > 1000 ? 1000 : (size_t)c->rq->limit;
}

void
op_change(struct op_ctx *c, const char *key, const char *fmt, ...)
{
	size_t room = sizeof(c->ev_values) - c->ev_used;
	char *v = c->ev_values + c->ev_used;
	va_list ap;
	int w;

	if (c->ev->nchanges >= sizeof(c->ev_changes) / sizeof(c->ev_changes[0])
	    || room == 0)
		return;
	va_start(ap, fmt);
	w = vsnprintf(v, room, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	c->ev_used += (size_t)w < room ? (size_t)w + 1 : room;
	c->ev_changes[c->ev->nchanges].key = key;
	c->ev_changes[c->ev->nchanges].value = v;
	c->ev->changes = c->ev_changes;
	c->ev->nchanges++;
}

void
op_change_list(struct op_ctx *c, const char *key, const struct strlist *l)
{
	char buf[1024];
	size_t i, n = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < l->n && n < sizeof(buf); i++) {
		w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i > 0 ? "," : "",
		    l->v[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	op_change(c, key, "%s", buf);
}

void
op_detail_list(struct op_ctx *c, const char *key, const struct strlist *l)
{
	/* a field of its own, as every change names its new value */
	op_change_list(c, key, l);
}

int
op_reply_merge(struct op_ctx *c, json_t *o)
{
	int r = o != NULL && json_object_update(c->reply, o) == 0 ? 0 :
	    SAT_E_NOMEM;

	json_decref(o);
	return r;
}

int
op_list_page(struct op_ctx *c, struct names *l, op_render_fn fn)
{
	size_t i = names_after(l, c->rq->cursor), lim = op_limit(c), n = 0;
	json_t *items, *o;
	int r;

	if ((items = json_array()) == NULL ||
	    json_object_set_new(c->reply, "items", items) != 0)
		return SAT_E_NOMEM;
	for (; i < l->n && n < lim; i++) {
		o = NULL;
		if ((r = fn(c, names_at(l, i), &o)) != 0)
			return r;
		if (o == NULL)
			continue;	/* undecodable: absent, as everywhere */
		if (json_array_append_new(items, o) != 0)
			return SAT_E_NOMEM;
		n++;
	}
	if (i < l->n && n > 0 &&
	    proto_set_str(c->reply, "cursor", names_at(l, i - 1)) != 0)
		return SAT_E_NOMEM;
	return 0;
}

int
op_stage_account(struct op_ctx *c, const struct sat_account *a)
{
	int r;

	c->staged = 1;
	/* a deleted account of this name may still have tokens being
	 * deleted in the background: they go first (tindex.h) */
	if ((r = tindex_reclaim_account(c->st->store, a->name)) != 0)
		return r;
	return store_put_account(c->st->store, a);
}

int
op_account_counts(struct op_ctx *c, const char *account)
{
	struct sat_token_head h;
	int r;

	/* from the index's head, O(1): every token held (live, expired or
	 * revoked until purged), and the live ones when the head's count is
	 * exact, i.e. no counted token has expired since (tindex.h) */
	if ((r = tindex_head(c->st->store, account, &h)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	if (proto_set_int(c->reply, "tokens", (int64_t)h.ntokens) != 0 ||
	    (c->st->now < h.min_expiry || h.nlive == 0 ?
	    proto_set_int(c->reply, "tokens_live", (int64_t)h.nlive) != 0 : 0))
		return SAT_E_NOMEM;
	return 0;
}

json_t *
op_account_json(struct op_ctx *c, const struct sat_account *a)
{
	char fp[PUBKEY_FP_MAX], owner[SAT_PRINCIPAL_MAX + 1];
	const char *type;
	int64_t exp = account_expires_at(a);
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (proto_set_str(o, "name", a->name) != 0 ||
	    proto_set_str(o, "description", a->description) != 0 ||
	    json_object_set_new(o, "owner", op_owner_shown(c, a->owner, owner,
	    sizeof(owner)) == 0 ? json_string(owner) : json_null()) != 0 ||
	    proto_set_str(o, "role", role_name(a->role)) != 0 ||
	    proto_set_list(o, "groups", &a->groups) != 0 ||
	    proto_set_str(o, "external_id", a->external_id) != 0 ||
	    proto_set_bool(o, "enabled", a->enabled) != 0 ||
	    proto_set_int(o, "created_at", a->created_at) != 0 ||
	    proto_set_str(o, "created_by", a->created_by) != 0)
		goto fail;
	if (a->days_valid != 0 &&
	    (proto_set_int(o, "days_valid", a->days_valid) != 0 ||
	    proto_set_int(o, "expires_at", exp) != 0))
		goto fail;
	if (a->public_key != NULL) {
		if (proto_set_str(o, "public_key", a->public_key) != 0)
			goto fail;
		if (pubkey_describe(a->public_key, fp, &type) == 0 &&
		    (proto_set_str(o, "public_key_fingerprint", fp) != 0 ||
		    proto_set_str(o, "public_key_type", type) != 0))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

const char *
op_token_status(const struct sat_token *t, int64_t now)
{
	return tokstate_name(tokstate_shown(t, now));
}

json_t *
op_token_json(const struct sat_token *t, int64_t now)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (proto_set_str(o, "id", t->id) != 0 ||
	    proto_set_str(o, "account", t->account) != 0 ||
	    proto_set_str(o, "name", t->name) != 0 ||
	    proto_set_str(o, "status", op_token_status(t, now)) != 0 ||
	    proto_set_int(o, "created_at", t->created_at) != 0 ||
	    proto_set_str(o, "created_by", t->created_by) != 0 ||
	    proto_set_int(o, "expires_at", t->expires_at) != 0 ||
	    proto_set_int(o, "ttl", (int64_t)t->ttl) != 0 ||
	    proto_set_list(o, "services", &t->services) != 0 ||
	    proto_set_list(o, "sources", &t->sources) != 0 ||
	    (t->revoked_at != 0 &&
	    proto_set_int(o, "revoked_at", t->revoked_at) != 0) ||
	    (t->replaced_by[0] != '\0' &&
	    proto_set_str(o, "replaced_by", t->replaced_by) != 0) ||
	    (t->description != NULL &&
	    proto_set_str(o, "description", t->description) != 0) ||
	    (t->disabled_at != 0 &&
	    proto_set_int(o, "disabled_at", t->disabled_at) != 0) ||
	    (t->canary && proto_set_bool(o, "canary", 1) != 0) ||
	    (t->bind_pid != 0 &&
	    proto_set_int(o, "bind_pid", (int64_t)t->bind_pid) != 0) ||
	    (t->max_offline != 0 &&
	    proto_set_int(o, "max_offline", (int64_t)t->max_offline) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
op_token_usage(struct op_ctx *c, const char *id, json_t *o, int64_t *ret_at)
{
	struct sat_usage u;
	int r;

	*ret_at = 0;
	if ((r = store_get_usage(c->st->store, id, &u)) == SAT_E_NOTFOUND) {
		if (json_object_set_new(o, "last_used_at", json_null()) != 0 ||
		    json_object_set_new(o, "last_used_service",
		    json_null()) != 0 ||
		    json_object_set_new(o, "last_used_rhost", json_null()) != 0)
			return SAT_E_NOMEM;
		return 0;
	}
	if (r != 0)
		return r;
	*ret_at = u.at;
	if (proto_set_int(o, "last_used_at", u.at) != 0 ||
	    json_object_set_new(o, "last_used_service", u.service[0] != '\0' ?
	    json_string(u.service) : json_null()) != 0 ||
	    json_object_set_new(o, "last_used_rhost", u.rhost[0] != '\0' ?
	    json_string(u.rhost) : json_null()) != 0)
		return SAT_E_NOMEM;
	return 0;
}

void
expiry_note(struct dstate *st, const char *id)
{
	if (st->nwarn < sizeof(st->warn_ids) / sizeof(st->warn_ids[0]))
		snprintf(st->warn_ids[st->nwarn++], sizeof(st->warn_ids[0]),
		    "%s", id);
	/* more in one batch: the next pass finds them */
}

int
op_status(struct op_ctx *c)
{
	return metrics_status_json(c->st->metrics, c->st->cfg,
	    c->st->accounts.n, c->st->groups.n, c->st->now, c->reply);
}

int
op_whoami(struct op_ctx *c)
{
	if (proto_set_str(c->reply, "principal", c->p->id) != 0 ||
	    proto_set_str(c->reply, "display", c->p->display) != 0 ||
	    proto_set_str(c->reply, "role", role_name(c->p->role)) != 0)
		return SAT_E_NOMEM;
	return 0;
}
