/* Source-network scoping. */
#include "testutil.h"

#include <sys/socket.h>

#include "cidr.h"

static int
in(const char *net, const char *addr)
{
	struct cidr c;

	assert_int_equal(cidr_parse(net, &c), 0);
	return cidr_contains(&c, addr);
}

static void
test_parse(void **state)
{
	struct cidr c;
	char out[64];

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "10.0.0.0/8");
	assert_int_equal(cidr_parse("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(cidr_parse("2001:DB8::/32", &c), 0);
	cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "2001:db8::/32");
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	for (const char **s = (const char *[]){ "", "10.0.0.1/8", "10.0.0.0/33",
	    "10.0.0.0/-1", "10.0.0.0/", "10.0.0/8", "2001:db8::1/32",
	    "2001:db8::/129", "::ffff:10.0.0.0/104", "host.example/8",
	    "10.0.0.0/08", "/8", NULL }; *s != NULL; s++) {
		if (cidr_parse(*s, &c) != SAT_E_INVALID)
			fail_msg("accepted '%s'", *s);
	}
}

static void
test_contains(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0/8", "10.255.255.255"));
	assert_false(in("10.0.0.0/8", "11.0.0.0"));
	assert_true(in("192.168.4.0/22", "192.168.7.1"));
	assert_false(in("192.168.4.0/22", "192.168.8.1"));
	assert_true(in("192.0.2.7", "192.0.2.7"));
	assert_false(in("192.0.2.7", "192.0.2.8"));
	assert_true(in("0.0.0.0/0", "203.0.113.9"));
	assert_false(in("0.0.0.0/0", "2001:db8::1"));
	assert_true(in("10.0.0.0/8", "::ffff:10.1.1.1"));
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("::/0", "::1"));
	assert_false(in("::/0", "127.0.0.1"));
	assert_false(in("10.0.0.0/8", ""));
	assert_false(in("10.0.0.0/8", NULL));
	assert_false(in("10.0.0.0/8", "10.0.0.1:22"));
	assert_false(in("10.0.0.0/8", "[10.0.0.1]"));
	assert_false(in("10.0.0.0/8", "ten.example"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
