/* A token's state at the seconds where it changes. */
#include "testutil.h"

#include "tokstate.h"

static void
test_boundaries(void **state)
{
	struct sat_token t;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.expires_at = 1000;
	assert_int_equal(tokstate(&t, 999), TOKSTATE_ACTIVE);
	/* its expires_at second is already past it */
	assert_int_equal(tokstate(&t, 1000), TOKSTATE_EXPIRED);
	assert_string_equal(tokstate_name(tokstate(&t, 999)), "active");
	assert_string_equal(tokstate_name(tokstate(&t, 1000)), "expired");
	assert_false(tokstate_ended_by(&t, 999));
	assert_true(tokstate_ended_by(&t, 1000));

	/* revoked wins over expired, before and after expiry */
	t.revoked_at = 500;
	assert_int_equal(tokstate(&t, 400), TOKSTATE_REVOKED);
	assert_int_equal(tokstate(&t, 2000), TOKSTATE_REVOKED);
	assert_string_equal(tokstate_name(TOKSTATE_REVOKED), "revoked");
	/* retention counts from the revocation */
	assert_false(tokstate_ended_by(&t, 499));
	assert_true(tokstate_ended_by(&t, 500));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
	};

	return cmocka_run_group_tests_name("tokstate", tests, NULL, NULL);
}
