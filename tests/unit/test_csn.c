/* CSNs: --wait confirms a change only where a host's applied position
 * covers it, provider by provider; anything that does not read never
 * confirms. */
#include "testutil.h"

#include "csn.h"
#include "err.h"

#define A1 "20261205120000.000001Z#000000#001#000000"
#define A2 "20261205120000.000002Z#000000#001#000000"
#define A2B "20261205120000.000002Z#000001#001#000000"
#define B1 "20261205110000.000000Z#000000#002#000000"
#define B9 "20261205130000.000000Z#000000#002#000000"

static void
test_valid(void **state)
{
	(void)state;
	assert_true(csn_valid(A1, strlen(A1)));
	assert_false(csn_valid(A1, strlen(A1) - 1));
	assert_false(csn_valid("2026120512000x.000001Z#000000#001#000000", 40));
	assert_false(csn_valid("20261205120000.000001Z#000000#0g1#000000", 40));
	assert_false(csn_valid("20261205120000-000001Z#000000#001#000000", 40));
	assert_int_equal(csn_set_valid(A1), 0);
	assert_int_equal(csn_set_valid(A1 ";" B1), 0);
	assert_int_equal(csn_set_valid(""), SAT_E_INVALID);
	assert_int_equal(csn_set_valid(A1 ";"), SAT_E_INVALID);
	assert_int_equal(csn_set_valid(";" A1), SAT_E_INVALID);
	assert_int_equal(csn_set_valid(A1 "," B1), SAT_E_INVALID);
	assert_int_equal(csn_set_valid(NULL), SAT_E_INVALID);
}

static void
test_covers(void **state)
{
	(void)state;
	/* one provider: newer or equal covers, older does not */
	assert_true(csn_covers(A2, A1));
	assert_true(csn_covers(A1, A1));
	assert_false(csn_covers(A1, A2));
	/* the count within one microsecond orders too */
	assert_true(csn_covers(A2B, A2));
	assert_false(csn_covers(A2, A2B));
	/* another provider's CSN, however new, says nothing of ours */
	assert_false(csn_covers(B9, A1));
	assert_true(csn_covers(B1 ";" A2, A1));
	assert_true(csn_covers(A2 ";" B9, A1 ";" B1));
	assert_false(csn_covers(A2 ";" B1, A1 ";" B9));
	/* nothing readable confirms nothing */
	assert_false(csn_covers("", A1));
	assert_false(csn_covers(A2, ""));
	assert_false(csn_covers("garbage", A1));
	assert_false(csn_covers(A2 ";garbage", A1));
}

static void
test_merge(void **state)
{
	char set[CSN_SET_MAX + 1] = "", small[50] = "";

	(void)state;
	assert_int_equal(csn_merge(set, sizeof(set), A1), 0);
	assert_string_equal(set, A1);
	/* the newer of one provider replaces, the older does not */
	assert_int_equal(csn_merge(set, sizeof(set), A2), 0);
	assert_string_equal(set, A2);
	assert_int_equal(csn_merge(set, sizeof(set), A1), 0);
	assert_string_equal(set, A2);
	/* another provider is added beside it: what one cookie said of
	 * provider 2 does not forget what an earlier one said of 1 */
	assert_int_equal(csn_merge(set, sizeof(set), B1), 0);
	assert_string_equal(set, A2 ";" B1);
	assert_true(csn_covers(set, A1));
	assert_int_equal(csn_merge(set, sizeof(set), B9 ";" A2B), 0);
	assert_string_equal(set, A2B ";" B9);
	/* what does not read changes nothing */
	assert_int_equal(csn_merge(set, sizeof(set), "junk"), SAT_E_INVALID);
	assert_int_equal(csn_merge(set, sizeof(set), B9 ";junk"), SAT_E_INVALID);
	assert_string_equal(set, A2B ";" B9);
	/* a provider that does not fit: refused, set unchanged */
	assert_int_equal(csn_merge(small, sizeof(small), A1), 0);
	assert_int_equal(csn_merge(small, sizeof(small), B1), SAT_E_INVALID);
	assert_string_equal(small, A1);
}

static void
test_ms(void **state)
{
	(void)state;
	assert_true(csn_set_ms(A1) == 1796472000000LL);
	assert_true(csn_set_ms(A1 ";" B9) == 1796475600000LL);
	assert_true(csn_set_ms("nope") == -1);
	assert_true(csn_set_ms("") == -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_ms),
	};

	return cmocka_run_group_tests_name("csn", tests, NULL, NULL);
}
