/* verify.c's stand-in records (spent on a miss so that a miss costs what
 * a hit costs) must still be what the encoder writes: if the record
 * format moves on and they stop decoding, a miss gets cheaper than a hit
 * and timing tells an unknown token from a wrong secret again, with no
 * other test noticing.  Built with verify.c itself, to see its statics. */
#include "testutil.h"

#include "../../common/verify.c"

static void
test_token_dummy(void **state)
{
	struct sat_token t;
	struct wbuf w;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(record_decode_token(dummy_token_rec,
	    sizeof(dummy_token_rec), &t), 0);
	/* the shape the comment promises: a token of "account" named
	 * "default" */
	assert_string_equal(t.account, "account");
	assert_string_equal(t.name, "default");
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(w.len, sizeof(dummy_token_rec));
	assert_memory_equal(w.p, dummy_token_rec, w.len);
	wbuf_free(&w);
	record_free_token(&t);
}

static void
test_account_dummy(void **state)
{
	struct sat_account a;
	struct wbuf w;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(record_decode_account(dummy_account_rec,
	    sizeof(dummy_account_rec), &a), 0);
	assert_string_equal(a.name, "account");
	/* typical: an account made today has its identity serial */
	assert_true(a.serial != 0);
	wbuf_init(&w);
	assert_int_equal(record_encode_account(&a, &w), 0);
	assert_int_equal(w.len, sizeof(dummy_account_rec));
	assert_memory_equal(w.p, dummy_account_rec, w.len);
	wbuf_free(&w);
	record_free_account(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_dummy),
		cmocka_unit_test(test_account_dummy),
	};

	return cmocka_run_group_tests_name("verify_dummies", tests, NULL, NULL);
}
