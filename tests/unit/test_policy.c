/* Group token-usage policy and account validity. */
#include "testutil.h"

#include "policy.h"

static void
list(struct strlist *l, const char **v)
{
	strlist_init(l);
	for (; *v != NULL; v++)
		assert_int_equal(strlist_add(l, *v), 0);
}

static void
test_add_set_remove(void **state)
{
	struct sat_policy p;
	struct strlist l;

	(void)state;
	strlist_init(&p.groups);
	list(&l, (const char *[]){ "ci", "ops", "ci", NULL });
	assert_int_equal(policy_add(&p, &l), 0);	/* PATCH: grants, dedups */
	assert_int_equal(p.groups.n, 2);
	strlist_free(&l);
	list(&l, (const char *[]){ "web", NULL });
	assert_int_equal(policy_add(&p, &l), 0);
	assert_int_equal(p.groups.n, 3);
	strlist_free(&l);
	list(&l, (const char *[]){ "ops", "nosuch", NULL });
	policy_remove(&p, &l);
	assert_int_equal(p.groups.n, 2);
	assert_false(strlist_contains(&p.groups, "ops"));
	strlist_free(&l);
	list(&l, (const char *[]){ "db", NULL });
	assert_int_equal(policy_set(&p, &l), 0);	/* PUT: replaces */
	assert_int_equal(p.groups.n, 1);
	assert_string_equal(p.groups.v[0], "db");
	strlist_free(&l);
	list(&l, (const char *[]){ NULL });
	assert_int_equal(policy_set(&p, &l), 0);	/* empty: nobody */
	assert_int_equal(p.groups.n, 0);
	strlist_free(&l);
	record_free_policy(&p);
}

static void
test_allows(void **state)
{
	struct sat_policy p;
	struct sat_account a;

	(void)state;
	memset(&a, 0, sizeof(a));
	list(&p.groups, (const char *[]){ "ci", NULL });
	assert_false(policy_allows(&p, &a));	/* no groups: never */
	strlist_add(&a.groups, "web");
	assert_false(policy_allows(&p, &a));
	strlist_add(&a.groups, "ci");
	assert_true(policy_allows(&p, &a));
	strlist_free(&p.groups);
	assert_false(policy_allows(&p, &a));	/* empty policy: nobody */
	record_free_account(&a);
}

static void
test_account_expiry(void **state)
{
	struct sat_account a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.created_at = 1000;
	assert_int_equal(account_expires_at(&a), 0);
	assert_false(account_expired(&a, INT64_MAX / 2));
	a.days_valid = 1;
	assert_int_equal(account_expires_at(&a), 1000 + 86400);
	assert_false(account_expired(&a, 1000 + 86399));
	assert_true(account_expired(&a, 1000 + 86400));
}

static void
test_roles(void **state)
{
	enum sat_role r;

	(void)state;
	assert_int_equal(role_parse("viewer", &r), 0);
	assert_int_equal(r, ROLE_VIEWER);
	assert_int_equal(role_parse("admin", &r), 0);
	assert_int_equal(role_parse("Admin", &r), SAT_E_INVALID);
	assert_int_equal(role_parse("root", &r), SAT_E_INVALID);
	assert_string_equal(role_name(ROLE_CONTRIBUTOR), "contributor");
	assert_string_equal(role_name(42), "none");
	/* the ceiling: never above one's own role; viewers create nothing */
	assert_true(role_may_assign(ROLE_ADMIN, ROLE_ADMIN));
	assert_true(role_may_assign(ROLE_CONTRIBUTOR, ROLE_VIEWER));
	assert_true(role_may_assign(ROLE_CONTRIBUTOR, ROLE_CONTRIBUTOR));
	assert_false(role_may_assign(ROLE_CONTRIBUTOR, ROLE_ADMIN));
	assert_false(role_may_assign(ROLE_VIEWER, ROLE_VIEWER));
	assert_false(role_may_assign(ROLE_ADMIN, ROLE_NONE));
	/* ownership */
	assert_true(role_may_manage(ROLE_ADMIN, "uid:5", "uid:6"));
	assert_true(role_may_manage(ROLE_CONTRIBUTOR, "uid:5", "uid:5"));
	assert_false(role_may_manage(ROLE_CONTRIBUTOR, "uid:5", "uid:6"));
	assert_false(role_may_manage(ROLE_CONTRIBUTOR, "uid:5", NULL));
	assert_false(role_may_manage(ROLE_VIEWER, "uid:5", "uid:5"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_set_remove),
		cmocka_unit_test(test_allows),
		cmocka_unit_test(test_account_expiry),
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
