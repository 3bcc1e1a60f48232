#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "err.h"
#include "mem.h"
#include "num.h"
#include "policy.h"
#include "names.h"
#include "ops.h"
#include "pubkey.h"
#include "role.h"
#include "tindex.h"

/* Replaces *dst by a copy of s, or by NULL when s is "" (a field given
 * empty is cleared). */
static int
set_opt(char **dst, const char *s)
{
	char *c = NULL;

	if (s[0] != '\0' && (c = sat_strdup(s)) == NULL)
		return SAT_E_NOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

/* An --owner value to the reference an account records: "uid:N" for a
 * local user, "account:NAME#SERIAL" for a service account (by identity,
 * so that the name deleted and made again owns nothing of it). */
int
op_resolve_owner(struct op_ctx *c, const char *who, char *out, size_t cap)
{
	struct sat_account o;
	int r;

	if (strncmp(who, "account:", 8) == 0) {
		if ((r = op_get_account(c, who + 8, &o)) != 0)
			return r;
		principal_account_ref(o.name, o.serial, out, cap);
		record_free_account(&o);
		return 0;
	}
	r = principal_resolve_owner(who, out, cap);
	if (r == SAT_E_NOTFOUND)
		return op_fail(c, r, "owner '%.64s': no such user or uid", who);
	if (r != 0)
		return op_fail(c, r, "owner '%.64s': not a user, uid:N or "
		    "account:NAME", who);
	return 0;
}

/* The role of the principal an owner reference names; ROLE_NONE when
 * it names nobody (any more). */
static enum sat_role
owner_role(struct op_ctx *c, const char *owner)
{
	struct sat_account o;
	char shown[SAT_PRINCIPAL_MAX + 1];
	uint64_t uid;
	enum sat_role role = ROLE_NONE;

	if (owner == NULL)
		return ROLE_NONE;
	if (strcmp(owner, c->p->owner_ref) == 0)
		return c->p->role;
	if (strncmp(owner, "uid:", 4) == 0)
		return parse_u64(owner + 4, 0, UINT32_MAX - 1, &uid) == 0 ?
		    principal_uid_role(c->st->cfg, (uid_t)uid) : ROLE_NONE;
	if (op_owner_shown(c, owner, shown, sizeof(shown)) != 0)
		return ROLE_NONE;
	memset(&o, 0, sizeof(o));
	if (store_get_account(c->st->store, shown + 8, &o) == 0 &&
	    role_valid(o.role))
		role = (enum sat_role)o.role;
	record_free_account(&o);
	return role;
}

/* Names what the request changes in the audit line, with the new
 * values (the public key by its fingerprint, never a secret). */
static void
audit_fields(struct op_ctx *c, const struct sat_account *a, int creating)
{
	const struct request *rq = c->rq;
	char fp[PUBKEY_FP_MAX], owner[SAT_PRINCIPAL_MAX + 1];
	const char *type;

	if (creating || (rq->present & F_ROLE))
		op_change(c, "account_role", "%s", role_name(a->role));
	if (creating || (rq->present & F_OWNER))
		op_change(c, "owner", "%s", op_owner_shown(c, a->owner, owner,
		    sizeof(owner)) == 0 ? owner : "-");
	if (creating || (rq->present & F_GROUPS))
		op_change_list(c, "groups", &a->groups);
	if (rq->present & F_DESCRIPTION)
		op_change(c, "description", "%s", a->description != NULL ?
		    a->description : "");
	if (rq->present & F_EXTERNAL_ID)
		op_change(c, "external_id", "%s", a->external_id != NULL ?
		    a->external_id : "");
	if (rq->present & F_DAYS_VALID) {
		op_change(c, "days_valid", "%lu", (unsigned long)a->days_valid);
		op_change(c, "expires_at", "%lld",
		    (long long)account_expires_at(a));
	}
	if (rq->present & F_PUBLIC_KEY)
		op_change(c, "public_key", "%s", a->public_key == NULL ? "-" :
		    pubkey_describe(a->public_key, fp, &type) == 0 ? fp : "?");
}

/* Applies the request's account fields to a (new or loaded), checking
 * each: the role ceiling, admin-only membership, owner, text limits,
 * days valid, the public key.  Nothing is staged here. */
static int
apply_fields(struct op_ctx *c, struct sat_account *a, int creating)
{
	const struct request *rq = c->rq;
	char owner[SAT_PRINCIPAL_MAX + 1], err[160];
	enum sat_role role;
	char *pem = NULL;
	size_t i;
	int r;

	if (rq->present & F_ROLE) {
		if (role_parse(rq->role, &role) != 0)
			return op_fail(c, SAT_E_INVALID, "unknown role '%.32s' "
			    "(viewer, contributor or admin)", rq->role);
		if (!role_may_assign(c->p->role, role))
			return op_fail(c, SAT_E_PERM, "role %s is above %s's "
			    "role %s", role_name(role), c->p->display,
			    role_name(c->p->role));
		a->role = role;
	}
	if (rq->present & F_DESCRIPTION) {
		if (!valid_text(rq->description, SAT_DESCRIPTION_MAX) ||
		    (rq->description[0] != '\0' &&
		    !valid_not_blank(rq->description)))
			return op_fail(c, SAT_E_INVALID, "description: at most "
			    "256 bytes of text, no control characters, not only "
			    "spaces ('' clears it)");
		if ((r = set_opt(&a->description, rq->description)) != 0)
			return r;
	}
	if (rq->present & F_EXTERNAL_ID) {
		if (!valid_text(rq->external_id, SAT_EXTERNAL_ID_MAX))
			return op_fail(c, SAT_E_INVALID, "external id: at most "
			    "128 bytes of text, no control characters");
		if ((r = set_opt(&a->external_id, rq->external_id)) != 0)
			return r;
	}
	if (rq->present & F_DAYS_VALID) {
		if (rq->days_valid < 1 ||
		    rq->days_valid > c->st->cfg->max_days_valid)
			return op_fail(c, SAT_E_INVALID, "days valid must be "
			    "1..%llu", (unsigned long long)
			    c->st->cfg->max_days_valid);
		a->days_valid = (uint32_t)rq->days_valid;
	}
	if (rq->present & F_PUBLIC_KEY) {
		if (rq->public_key[0] != '\0' &&
		    (r = pubkey_check(rq->public_key, &pem, err,
		    sizeof(err))) != 0)
			return op_fail(c, r, "%s", err);
		free(a->public_key);
		a->public_key = pem;
	}
	if (rq->present & F_OWNER) {
		if ((r = op_resolve_owner(c, rq->owner, owner, sizeof(owner))) != 0)
			return r;
		if (c->p->role != ROLE_ADMIN && strcmp(owner, c->p->owner_ref) != 0)
			return op_fail(c, SAT_E_PERM, "only an admin may give "
			    "an account to another owner");
		if ((r = set_opt(&a->owner, owner)) != 0)
			return r;
	}
	if (rq->present & F_GROUPS) {
		if (c->p->role != ROLE_ADMIN && (!creating || rq->groups.n > 0))
			return op_fail(c, SAT_E_PERM, "group membership is "
			    "managed by admins only");
		for (i = 0; i < rq->groups.n; i++)
			if (!names_contains(&c->st->groups, rq->groups.v[i]))
				return op_fail(c, valid_name(rq->groups.v[i]) ?
				    SAT_E_NOTFOUND : SAT_E_INVALID,
				    "no such group: %.64s", rq->groups.v[i]);
		if ((r = strlist_copy(&a->groups, &rq->groups)) != 0)
			return r;
	}
	/* an owner below the account's role would act on it through the
	 * ownership an admin gave (the audit's contributor-to-admin path);
	 * an owner that no longer exists gains nothing */
	if ((creating || (rq->present & (F_OWNER | F_ROLE))) &&
	    a->owner != NULL &&
	    (role = owner_role(c, a->owner)) != ROLE_NONE && (int)role < a->role)
		return op_fail(c, SAT_E_PERM, "the owner's role %s is below the "
		    "account's role %s: give it a lower role or another owner",
		    role_name(role), role_name(a->role));
	audit_fields(c, a, creating);
	return 0;
}

/* Account names are login names.  root, nobody and the system's own
 * users (uid below 100) are never service accounts unless
 * allow_system_names says so; a contributor may not take the name of any
 * Unix user (its token would log in as that user, and the PAM account
 * phase would refuse the user's password logins). */
static int
unix_name_check(struct op_ctx *c, const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int found, system;

	found = getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL;
	system = strcmp(name, "root") == 0 || strcmp(name, "nobody") == 0 ||
	    (found && pw.pw_uid < 100);
	if (system && !strlist_contains(&c->st->cfg->allow_system_names, name))
		return op_fail(c, SAT_E_INVALID, "%s is a system user's name; "
		    "list it in allow_system_names to use it", name);
	if (found && c->p->role < ROLE_ADMIN)
		return op_fail(c, SAT_E_PERM, "%s is the name of a Unix user; "
		    "only an admin may create a service account named after "
		    "one", name);
	return 0;
}

int
op_account_build(struct op_ctx *c, const char *name, struct sat_account *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	if (!valid_name(name))
		return op_fail(c, SAT_E_INVALID, "invalid account name '%.64s': "
		    "[a-z_][a-z0-9_.-]{0,63}", name);
	snprintf(a->name, sizeof(a->name), "%s", name);
	if ((r = unix_name_check(c, name)) != 0)
		return r;
	a->role = c->p->role;	/* by default the creator's own */
	a->enabled = 1;
	a->created_at = c->st->now;
	/* the identity owners record: random, so that no name reused, no
	 * restore and no other host can give the same one */
	do {
		if (RAND_bytes((unsigned char *)&a->serial,
		    sizeof(a->serial)) != 1)
			return op_fail(c, SAT_E_INTERNAL, "no random bytes");
	} while (a->serial == 0);
	if ((a->created_by = sat_strdup(c->p->id)) == NULL ||
	    (a->owner = sat_strdup(c->p->owner_ref)) == NULL)
		return SAT_E_NOMEM;
	if ((r = apply_fields(c, a, 1)) != 0)
		return r;
	if (names_contains(&c->st->accounts, name))
		return op_fail(c, SAT_E_CONFLICT, "service account %s already "
		    "exists", name);
	if (c->st->accounts.n >= c->st->cfg->max_accounts)
		return op_fail(c, SAT_E_QUOTA, "max_accounts (%llu) reached",
		    (unsigned long long)c->st->cfg->max_accounts);
	return 0;
}

int
op_account_create(struct op_ctx *c)
{
	struct sat_account a;
	int r;

	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", c->rq->name);
	c->ev->account = c->ev_account;
	if ((r = op_account_build(c, c->rq->name, &a)) == 0 &&
	    (r = op_stage_account(c, &a)) == 0 &&
	    (r = names_insert(&c->st->accounts, a.name)) == 0)
		r = op_reply_merge(c, op_account_json(c, &a));
	record_free_account(&a);
	return r;
}

/* Loads the named account for a change by the caller. */
static int
load_managed(struct op_ctx *c, struct sat_account *a)
{
	int r;

	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", c->rq->name);
	c->ev->account = c->ev_account;
	if ((r = op_get_account(c, c->rq->name, a)) != 0)
		return r;
	return op_may_manage(c, a);
}

static int
reply_account(struct op_ctx *c, const struct sat_account *a)
{
	return op_reply_merge(c, op_account_json(c, a));
}

int
op_account_update(struct op_ctx *c)
{
	struct sat_account a;
	int r;

	if ((r = load_managed(c, &a)) == 0 &&
	    (r = apply_fields(c, &a, 0)) == 0 &&
	    (r = op_stage_account(c, &a)) == 0)
		r = reply_account(c, &a);
	record_free_account(&a);
	return r;
}

static int
set_enabled(struct op_ctx *c, int on)
{
	struct sat_account a;
	int r;

	if ((r = load_managed(c, &a)) == 0 && on && !a.enabled &&
	    a.disabled_by > (int)c->p->role)
		r = op_fail(c, SAT_E_PERM, "service account %s was disabled by "
		    "an %s; only an %s may enable it", a.name,
		    role_name(a.disabled_by), role_name(a.disabled_by));
	if (r == 0) {
		/* the highest role that disabled it, so that no lesser
		 * role undoes it (an admin disabling what its owner had
		 * disabled already included) */
		if (!on && (a.enabled || (int)c->p->role > a.disabled_by))
			a.disabled_by = c->p->role;
		else if (on)
			a.disabled_by = 0;
		a.enabled = on;
		op_change(c, "enabled", "%s", on ? "yes" : "no");
		if ((r = op_stage_account(c, &a)) == 0)
			r = reply_account(c, &a);
	}
	record_free_account(&a);
	return r;
}

int
op_account_disable(struct op_ctx *c)
{
	return set_enabled(c, 0);
}

int
op_account_enable(struct op_ctx *c)
{
	return set_enabled(c, 1);
}

int
op_account_delete(struct op_ctx *c)
{
	struct sat_account a;
	struct store *s = c->st->store;
	size_t n = 0;
	int r;

	if ((r = load_managed(c, &a)) != 0)
		goto out;
	/* its tokens go with it: nothing of the account is left to match.
	 * O(tokens) in this one request (tindex.h); purge keeps that to
	 * the live ones and those within retain_days */
	c->staged = 1;
	if ((r = tindex_delete_all(s, a.name, &n)) != 0) {
		r = op_fail(c, r, "store: %s", sat_strerror(r));
		goto out;
	}
	if ((r = store_delete_account(s, a.name)) == 0)
		names_remove(&c->st->accounts, a.name);
	if (r == 0 && proto_set_int(c->reply, "tokens_deleted",
	    (int64_t)n) != 0)
		r = SAT_E_NOMEM;
out:
	record_free_account(&a);
	return r;
}

int
op_account_show(struct op_ctx *c)
{
	struct sat_account a;
	int r;

	snprintf(c->ev_account, sizeof(c->ev_account), "%.64s", c->rq->name);
	c->ev->account = c->ev_account;
	if ((r = op_get_account(c, c->rq->name, &a)) == 0 &&
	    (r = reply_account(c, &a)) == 0)
		r = op_account_counts(c, a.name);
	record_free_account(&a);
	return r;
}

static int
render_account(struct op_ctx *c, const char *name, json_t **ret)
{
	struct sat_account a;
	int r;

	memset(&a, 0, sizeof(a));
	r = store_get_account(c->st->store, name, &a);
	if (r == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	*ret = op_account_json(c, &a);
	record_free_account(&a);
	return *ret != NULL ? 0 : SAT_E_NOMEM;
}

int
op_account_list(struct op_ctx *c)
{
	return op_list_page(c, &c->st->accounts, render_account);
}
