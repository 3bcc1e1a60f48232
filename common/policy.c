#include "err.h"
#include "policy.h"

int
policy_allows(const struct sat_policy *p, const struct sat_account *a)
{
	return strlist_intersects(&a->groups, &p->groups);
}

int
policy_add(struct sat_policy *p, const struct strlist *groups)
{
	struct strlist n;
	size_t i;
	int r;

	/* build the new list aside so a failure leaves p as it was */
	strlist_init(&n);
	if ((r = strlist_copy(&n, &p->groups)) != 0)
		return r;
	for (i = 0; i < groups->n; i++) {
		if ((r = strlist_add_unique(&n, groups->v[i])) != 0) {
			strlist_free(&n);
			return r;
		}
	}
	strlist_free(&p->groups);
	p->groups = n;
	return 0;
}

int
policy_set(struct sat_policy *p, const struct strlist *groups)
{
	struct sat_policy n;
	int r;

	strlist_init(&n.groups);
	if ((r = policy_add(&n, groups)) != 0)
		return r;
	strlist_free(&p->groups);
	p->groups = n.groups;
	return 0;
}

void
policy_remove(struct sat_policy *p, const struct strlist *groups)
{
	size_t i;

	for (i = 0; i < groups->n; i++)
		strlist_remove(&p->groups, groups->v[i]);
}

int64_t
account_expires_at(const struct sat_account *a)
{
	if (a->days_valid == 0)
		return 0;
	return a->created_at + (int64_t)a->days_valid * 86400;
}

int
account_expired(const struct sat_account *a, int64_t now)
{
	int64_t e = account_expires_at(a);

	return e != 0 && now >= e;
}
