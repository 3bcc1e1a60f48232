#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "names.h"
#include "ops.h"
#include "policy.h"

/* Groups and the token-usage policy: admins change them, anyone reads. */

static int
need_group(struct op_ctx *c, const char *name)
{
	c->ev->group = name;
	if (!valid_name(name))
		return op_fail(c, SAT_E_INVALID, "invalid group name '%.64s': "
		    "[a-z_][a-z0-9_.-]{0,63}", name);
	if (!names_contains(&c->st->groups, name))
		return op_fail(c, SAT_E_NOTFOUND, "no such group: %s", name);
	return 0;
}

static int
need_groups(struct op_ctx *c, const struct strlist *l)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++)
		if ((r = need_group(c, l->v[i])) != 0)
			return r;
	c->ev->group = NULL;
	return 0;
}

static json_t *
group_json(const struct sat_group *g)
{
	return json_pack("{s:s, s:s*, s:I, s:s*}", "name", g->name,
	    "description", g->description, "created_at",
	    (json_int_t)g->created_at, "created_by", g->created_by);
}

int
op_group_create(struct op_ctx *c)
{
	const struct request *rq = c->rq;
	struct sat_group g;
	int r;

	c->ev->group = rq->name;
	if (!valid_name(rq->name))
		return op_fail(c, SAT_E_INVALID, "invalid group name '%.64s': "
		    "[a-z_][a-z0-9_.-]{0,63}", rq->name);
	if ((rq->present & F_DESCRIPTION) &&
	    (!valid_text(rq->description, SAT_DESCRIPTION_MAX) ||
	    (rq->description[0] != '\0' && !valid_not_blank(rq->description))))
		return op_fail(c, SAT_E_INVALID, "description: at most 256 "
		    "bytes of text, no control characters, not only spaces");
	if (names_contains(&c->st->groups, rq->name))
		return op_fail(c, SAT_E_CONFLICT, "group %s already exists",
		    rq->name);
	memset(&g, 0, sizeof(g));
	snprintf(g.name, sizeof(g.name), "%s", rq->name);
	g.created_at = c->st->now;
	if ((g.created_by = sat_strdup(c->p->id)) == NULL ||
	    ((rq->present & F_DESCRIPTION) && rq->description[0] != '\0' &&
	    (g.description = sat_strdup(rq->description)) == NULL)) {
		record_free_group(&g);
		return SAT_E_NOMEM;
	}
	c->staged = 1;
	if ((r = store_put_group(c->st->store, &g)) == 0 &&
	    (r = names_insert(&c->st->groups, g.name)) == 0)
		r = op_reply_merge(c, group_json(&g));
	record_free_group(&g);
	return r;
}

int
op_group_delete(struct op_ctx *c)
{
	struct sat_policy pol;
	struct sat_account a;
	size_t i;
	int r;

	if ((r = need_group(c, c->rq->name)) != 0)
		return r;
	memset(&pol, 0, sizeof(pol));
	if ((r = store_get_policy(c->st->store, &pol)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	c->staged = 1;
	/* a group of the same name created later must not inherit the
	 * grant or the members of this one */
	if (strlist_remove(&pol.groups, c->rq->name) > 0)
		r = store_put_policy(c->st->store, &pol);
	record_free_policy(&pol);
	for (i = 0; i < c->st->accounts.n && r == 0; i++) {
		memset(&a, 0, sizeof(a));
		r = store_get_account(c->st->store,
		    names_at(&c->st->accounts, i), &a);
		if (r == SAT_E_NOTFOUND) {
			r = 0;
			continue;
		}
		if (r == 0 && strlist_remove(&a.groups, c->rq->name) > 0)
			r = store_put_account(c->st->store, &a);
		record_free_account(&a);
	}
	if (r == 0)
		r = store_delete_group(c->st->store, c->rq->name);
	if (r == 0)
		names_remove(&c->st->groups, c->rq->name);
	return r;
}

static int
render_group(struct op_ctx *c, const char *name, json_t **ret)
{
	struct sat_group g;
	int r;

	memset(&g, 0, sizeof(g));
	r = store_get_group(c->st->store, name, &g);
	if (r == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	*ret = group_json(&g);
	record_free_group(&g);
	return *ret != NULL ? 0 : SAT_E_NOMEM;
}

int
op_group_list(struct op_ctx *c)
{
	return op_list_page(c, &c->st->groups, render_group);
}

/* Adds (add = 1) or removes the group on every listed account
 * ("accounts", or one "account"); checks every account exists before
 * staging any. */
static int
membership(struct op_ctx *c, int add)
{
	struct strlist l, changed, same;
	struct sat_account *as = NULL;
	size_t i, n = 0;
	int r;

	strlist_init(&l);
	strlist_init(&changed);
	strlist_init(&same);
	if ((r = need_group(c, c->rq->group)) != 0)
		return r;
	if ((r = strlist_copy(&l, &c->rq->accounts)) != 0 ||
	    (c->rq->account != NULL &&
	    (r = strlist_add_unique(&l, c->rq->account)) != 0))
		goto out;
	if (l.n == 0) {
		r = op_fail(c, SAT_E_INVALID, "name at least one account");
		goto out;
	}
	if ((as = calloc(l.n, sizeof(*as))) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	for (n = 0; n < l.n; n++) {
		snprintf(c->ev_account, sizeof(c->ev_account), "%.64s",
		    l.v[n]);
		c->ev->account = c->ev_account;
		if ((r = op_get_account(c, l.v[n], &as[n])) != 0)
			goto out;
	}
	c->ev->account = l.n == 1 ? c->ev_account : NULL;
	if (l.n > 1)
		op_detail_list(c, "accounts", &l);
	/* only the accounts that change are written, and the reply says
	 * which did not (already a member, or not one), so that "added 3"
	 * is never said of an account that was left as it was */
	for (i = 0; i < n && r == 0; i++) {
		if (add == strlist_contains(&as[i].groups, c->rq->group)) {
			r = strlist_add(&same, as[i].name);
			continue;
		}
		if (add)
			r = strlist_add(&as[i].groups, c->rq->group);
		else
			(void)strlist_remove(&as[i].groups, c->rq->group);
		if (r == 0 && (r = strlist_add(&changed, as[i].name)) == 0) {
			c->staged = 1;
			r = store_put_account(c->st->store, &as[i]);
		}
	}
	if (r == 0 && (proto_set_list(c->reply, "changed", &changed) != 0 ||
	    proto_set_list(c->reply, "unchanged", &same) != 0))
		r = SAT_E_NOMEM;
	if (r == 0 && same.n > 0)
		op_change_list(c, "unchanged", &same);
out:
	strlist_free(&changed);
	strlist_free(&same);
	for (i = 0; as != NULL && i < l.n; i++)
		record_free_account(&as[i]);
	free(as);
	strlist_free(&l);
	return r;
}

int
op_group_add_member(struct op_ctx *c)
{
	return membership(c, 1);
}

int
op_group_remove_member(struct op_ctx *c)
{
	return membership(c, 0);
}

static int
reply_policy(struct op_ctx *c, const struct sat_policy *p)
{
	return proto_set_list(c->reply, "groups", &p->groups);
}

int
op_policy_show(struct op_ctx *c)
{
	struct sat_policy p;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = store_get_policy(c->st->store, &p)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	r = reply_policy(c, &p);
	record_free_policy(&p);
	return r;
}

enum pol_edit { POL_ADD, POL_SET, POL_REMOVE };

static int
policy_edit(struct op_ctx *c, enum pol_edit how)
{
	struct sat_policy p;
	int r;

	/* granting needs real groups; removing a name that is not there
	 * (a group since deleted) is harmless */
	if (how != POL_REMOVE && (r = need_groups(c, &c->rq->groups)) != 0)
		return r;
	memset(&p, 0, sizeof(p));
	if ((r = store_get_policy(c->st->store, &p)) != 0)
		return op_fail(c, r, "store: %s", sat_strerror(r));
	if (how == POL_ADD)
		r = policy_add(&p, &c->rq->groups);
	else if (how == POL_SET)
		r = policy_set(&p, &c->rq->groups);
	else
		policy_remove(&p, &c->rq->groups);
	c->staged = 1;
	if (r == 0)
		r = store_put_policy(c->st->store, &p);
	if (r == 0)
		r = reply_policy(c, &p);
	if (r == 0)
		op_detail_list(c, "policy", &p.groups);
	record_free_policy(&p);
	return r;
}

int
op_policy_add(struct op_ctx *c)
{
	return policy_edit(c, POL_ADD);
}

int
op_policy_set(struct op_ctx *c)
{
	return policy_edit(c, POL_SET);
}

int
op_policy_remove(struct op_ctx *c)
{
	return policy_edit(c, POL_REMOVE);
}
