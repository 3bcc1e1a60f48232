/* Our CRC-32 against zlib's, which DESIGN names as the reference. */
#include "testutil.h"

#include <zlib.h>

#include "crc.h"

static void
test_matches_zlib(void **state)
{
	unsigned char buf[4096];
	uint32_t ours;

	(void)state;
	assert_int_equal(crc32_ieee(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(crc32_ieee(0, "", 0), 0);
	srandom(7);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)random() % sizeof(buf), split;
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)random();
		ours = crc32_ieee(0, buf, n);
		assert_int_equal(ours, (uint32_t)crc32(0L, buf, (uInt)n));
		/* continuing a running CRC works like one pass */
		split = n ? (size_t)random() % n : 0;
		assert_int_equal(crc32_ieee(crc32_ieee(0, buf, split), buf + split,
		    n - split), ours);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_zlib),
	};

	return cmocka_run_group_tests_name("crc", tests, NULL, NULL);
}
