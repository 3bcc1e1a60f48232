/* The wire table against DESIGN.md's: each SAT_E_* code's name, and the
 * exit code satokenctl gives that name. */
#include "testutil.h"

#include "err.h"
#include "wire.h"

static void
test_design_table(void **state)
{
	static const struct {
		int err;
		const char *name;
		int exit;
	} design[] = {
		{ SAT_E_INVALID, "VALIDATION", 2 },
		{ SAT_E_MALFORMED, "VALIDATION", 2 },
		{ SAT_E_PERM, "PERMISSION_DENIED", 3 },
		{ SAT_E_NOTFOUND, "NOT_FOUND", 4 },
		{ SAT_E_CONFLICT, "CONFLICT", 5 },
		{ SAT_E_QUOTA, "QUOTA_EXCEEDED", 6 },
		{ SAT_E_THROTTLED, "THROTTLED", 7 },
		{ SAT_E_STORE, "UNAVAILABLE", 1 },
		{ SAT_E_IO, "UNAVAILABLE", 1 },
		{ SAT_E_NOMEM, "UNAVAILABLE", 1 },
		{ SAT_E_INTERNAL, "INTERNAL", 1 },
		/* no name of their own: a bug if they reach a client */
		{ SAT_E_CRYPTO, "INTERNAL", 1 },
		{ SAT_E_CONFIG, "INTERNAL", 1 },
		{ SAT_E_FILEPERM, "INTERNAL", 1 },
		{ 0, "INTERNAL", 1 },
		{ -999, "INTERNAL", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(design) / sizeof(design[0]); i++) {
		assert_string_equal(wire_name(design[i].err), design[i].name);
		assert_int_equal(wire_exit(design[i].name), design[i].exit);
	}
}

static void
test_unknown_names(void **state)
{
	(void)state;
	/* a newer daemon's name, or none: "try later", never success */
	assert_int_equal(wire_exit("SOMETHING_NEW"), EXIT_UNAVAILABLE);
	assert_int_equal(wire_exit(""), EXIT_UNAVAILABLE);
	assert_int_equal(wire_exit(NULL), EXIT_UNAVAILABLE);
	assert_int_equal(wire_exit("validation"), EXIT_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_table),
		cmocka_unit_test(test_unknown_names),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
