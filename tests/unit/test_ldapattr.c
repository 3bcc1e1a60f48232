/* What the directory sends is read only through a checked BER reader:
 * liblber does not survive a value that is absent or empty. */
#include "testutil.h"

#include <lber.h>
#include <ldap.h>

#include "../../daemon/ldapattr.h"
#include "err.h"

/* liblber aborts on an absent value and reads past an empty one: a
 * sync state control, a sync info message or a post-read control
 * without a value must be refused before it is read */
static void
test_ber_empty(void **state)
{
	struct berval none = { 0, NULL }, empty = { 0, (char *)"" },
	    one = { 1, (char *)"\x30" }, two = { 2, (char *)"\x30\x00" };
	BerElement *ber = (BerElement *)&ber;

	(void)state;
	assert_int_equal(ldapattr_ber(NULL, &ber), SAT_E_MALFORMED);
	assert_null(ber);
	assert_int_equal(ldapattr_ber(&none, &ber), SAT_E_MALFORMED);
	assert_int_equal(ldapattr_ber(&empty, &ber), SAT_E_MALFORMED);
	assert_int_equal(ldapattr_ber(&one, &ber), SAT_E_MALFORMED);
	assert_int_equal(ldapattr_ber(&two, &ber), 0);
	assert_non_null(ber);
	ber_free(ber, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ber_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
