/* The monotonic clock: never goes back, and its two units agree. */
#include "testutil.h"

#include "clock.h"

static void
test_monotonic(void **state)
{
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	int64_t ns, ms, ns2;
	int i;

	(void)state;
	ns = clock_ns();
	ms = clock_ms();
	assert_true(ms >= ns / 1000000);
	for (i = 0; i < 1000; i++) {
		ns2 = clock_ns();
		assert_true(ns2 >= ns);
		ns = ns2;
	}
	/* a 2 ms nap shows as at least 2 ms in both units */
	ns = clock_ns();
	ms = clock_ms();
	while (nanosleep(&nap, &nap) != 0)
		;
	assert_true(clock_ns() - ns >= 2 * 1000 * 1000);
	assert_true(clock_ms() - ms >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
