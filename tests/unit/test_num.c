/* Numbers, durations and times: the only parser of them. */
#include "testutil.h"

#include "num.h"

static void
test_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("10", 0, 10, &v), 0);
	assert_int_equal(parse_u64("11", 0, 10, &v), SAT_E_INVALID);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
	    SAT_E_INVALID);
	v = 7;
	for (const char **s = (const char *[]){ "", "-1", "+1", " 1", "1 ", "01",
	    "1e3", "0x10", "1.0", NULL }; *s != NULL; s++)
		assert_int_equal(parse_u64(*s, 0, 100, &v), SAT_E_INVALID);
	assert_int_equal(v, 7);	/* untouched on error */
	assert_int_equal(parse_u64(NULL, 0, 1, &v), SAT_E_INVALID);
}

static void
test_x64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_x64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_x64("1f2E", &v), 0);
	assert_true(v == 0x1f2e);
	assert_int_equal(parse_x64("ffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	for (const char **s = (const char *[]){ "", "-1", "+1", " 1", "1 ",
	    "0x10", "g", "10000000000000000", NULL }; *s != NULL; s++)
		assert_int_equal(parse_x64(*s, &v), SAT_E_INVALID);
	assert_true(v == 7);	/* untouched on error */
	assert_int_equal(parse_x64(NULL, &v), SAT_E_INVALID);
}

static void
test_duration(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration("45s", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 45);
	assert_int_equal(parse_duration("15m", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(parse_duration("12h", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 43200);
	assert_int_equal(parse_duration("30d", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 2592000);
	assert_int_equal(parse_duration("3600", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(parse_duration("31d", 1, 2592000, &v), SAT_E_INVALID);
	assert_int_equal(parse_duration("0s", 1, 10, &v), SAT_E_INVALID);
	assert_int_equal(parse_duration("1h30m", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(parse_duration("2w3d", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 17 * 86400);
	assert_int_equal(parse_duration("5w", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 35 * 86400);
	assert_int_equal(parse_duration("1w2d3h4m5s", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
	assert_int_equal(parse_duration("0h30m", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1800);
	assert_int_equal(parse_duration("30500568904943w", 1, UINT64_MAX, &v), 0);
	assert_true(v == 30500568904943ULL * 604800);
	/* the range applies to the sum */
	assert_int_equal(parse_duration("30d1s", 1, 2592000, &v), SAT_E_INVALID);
	v = 7;
	for (const char **s = (const char *[]){ "", "s", "5 s", "1h 30m", "h30m",
	    "1hm", "1h30", "30m1h", "1m1m", "1hh", "1x", "1h-5m", "1h+5m",
	    "-5s", "5S", "01h", "99999999999999999999d", "213503982334602d",
	    "30500568904944w", "18446744073709551615s1s",
	    "30500568904943w1d", NULL };
	    *s != NULL; s++)
		if (parse_duration(*s, 0, UINT64_MAX, &v) != SAT_E_INVALID)
			fail_msg("accepted '%s'", *s);
	assert_int_equal(v, 7);	/* untouched on error */
}

static void
test_time(void **state)
{
	int64_t t;
	char out[32];

	(void)state;
	assert_int_equal(parse_time("1763906400", &t), 0);
	assert_int_equal(t, 1763906400);
	assert_int_equal(parse_time("2025-11-23T14:00:00Z", &t), 0);
	assert_int_equal(t, 1763906400);
	assert_int_equal(parse_time("2025-11-23T16:00:00+02:00", &t), 0);
	assert_int_equal(t, 1763906400);
	assert_int_equal(parse_time("2025-11-23T13:30:00.123-00:30", &t), 0);
	assert_int_equal(t, 1763906400);
	assert_int_equal(parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800);
	for (const char **s = (const char *[]){ "", "2025-11-23", "2025-11-23T14:00:00",
	    "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2025-11-31T00:00:00Z",
	    "2025-11-23T24:00:00Z", "2025-11-23T14:00:00+2:00", "yesterday",
	    "2025-11-23T14:00:00Zjunk", "1969-12-31T23:59:59Z", "-5", NULL };
	    *s != NULL; s++) {
		if (parse_time(*s, &t) != SAT_E_INVALID)
			fail_msg("accepted '%s'", *s);
	}
	format_time(1763906400, out, sizeof(out));
	assert_string_equal(out, "2025-11-23T14:00:00Z");
}

static void
test_bool(void **state)
{
	int b;

	(void)state;
	assert_int_equal(parse_bool("yes", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(parse_bool("Off", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(parse_bool("2", &b), SAT_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_x64),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests_name("num", tests, NULL, NULL);
}
