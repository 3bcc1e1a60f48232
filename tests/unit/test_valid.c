/* The name and text rules of DESIGN.md. */
#include "testutil.h"

#include "token.h"

#include "strlist.h"
#include "valid.h"

static void
test_names(void **state)
{
	char n64[66];

	(void)state;
	for (const char **s = (const char *[]){ "ci", "_svc", "a", "ci-deploy.v2_x",
	    "z9", NULL }; *s != NULL; s++)
		assert_true(valid_name(*s));
	for (const char **s = (const char *[]){ "", "Ci", "9ci", "-ci", ".ci",
	    "ci deploy", "ci/x", "ci@host", "ci\n", "r\xc3\xa9", NULL }; *s != NULL; s++) {
		if (valid_name(*s))
			fail_msg("accepted '%s'", *s);
	}
	memset(n64, 'a', 64);
	n64[64] = '\0';
	assert_true(valid_name(n64));
	n64[64] = 'a';
	n64[65] = '\0';
	assert_false(valid_name(n64));
	assert_false(valid_name(NULL));
}

static void
test_text(void **state)
{
	char t[300];

	(void)state;
	assert_true(valid_token_name("deploy key \xc3\xa9t\xc3\xa9 \xf0\x9f\x94\x91"));
	assert_false(valid_token_name(""));
	assert_false(valid_token_name("tab\there"));
	assert_false(valid_token_name("nl\n"));
	assert_false(valid_token_name("del\x7f"));
	assert_false(valid_token_name("c1\xc2\x85"));	/* U+0085, a C1 control */
	assert_false(valid_token_name("\xc0\xaf"));	/* overlong */
	assert_false(valid_token_name("\xed\xa0\x80"));	/* surrogate */
	assert_false(valid_token_name("\xe2\x82"));	/* truncated */
	assert_false(valid_token_name("\xff"));
	memset(t, 'x', 129);
	t[129] = '\0';
	assert_false(valid_token_name(t));
	t[128] = '\0';
	assert_true(valid_token_name(t));
	/* characters, not bytes: 128 of U+00E9 pass, 129 do not */
	for (int i = 0; i < 129; i++)
		memcpy(t + 2 * i, "\xc3\xa9", 2);
	t[258] = '\0';
	assert_false(valid_token_name(t));
	t[256] = '\0';
	assert_true(valid_token_name(t));
	assert_false(valid_token_name("   "));
	assert_false(valid_token_name(" \xc2\xa0 "));
	assert_true(valid_token_name(" a "));
	assert_true(valid_utf8("tab\there", 8));
	assert_false(valid_utf8("\xff", 1));
	memset(t, 'y', 257);
	t[257] = '\0';
	assert_false(valid_text(t, SAT_DESCRIPTION_MAX));
	t[256] = '\0';
	assert_true(valid_text(t, SAT_DESCRIPTION_MAX));
	assert_true(valid_text("", SAT_DESCRIPTION_MAX));
}

static void
test_services(void **state)
{
	(void)state;
	assert_true(valid_service("sshd"));
	assert_true(valid_service("smtp-submission.1"));
	assert_false(valid_service(""));
	assert_false(valid_service("ssh d"));
	assert_false(valid_service("ssh,d"));
}

static void
test_strlist(void **state)
{
	struct strlist l, c;

	(void)state;
	strlist_init(&l);
	assert_int_equal(strlist_split(&l, " a, b ,,a,\tc "), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[2], "c");
	assert_int_equal(strlist_remove(&l, "b"), 1);
	assert_int_equal(strlist_remove(&l, "b"), 0);
	strlist_init(&c);
	assert_int_equal(strlist_copy(&c, &l), 0);
	assert_int_equal(c.n, 2);
	assert_true(strlist_intersects(&c, &l));
	strlist_free(&l);
	assert_false(strlist_intersects(&c, &l));
	strlist_free(&c);
}

static void
test_holds_token(void **state)
{
	char tok[TOKEN_LEN + 1], in[200], bad[TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(token_generate(tok), 0);
	assert_true(valid_holds_token(tok, strlen(tok)));
	snprintf(in, sizeof(in), "my deploy key is %s, keep it", tok);
	assert_true(valid_holds_token(in, strlen(in)));
	/* a typo (its checksum fails), a prefix alone, a cut token */
	memcpy(bad, tok, sizeof(bad));
	bad[20] = bad[20] == 'a' ? 'b' : 'a';
	assert_false(valid_holds_token(bad, strlen(bad)));
	assert_false(valid_holds_token("sat_", 4));
	assert_false(valid_holds_token(tok, TOKEN_LEN - 1));
	assert_false(valid_holds_token(NULL, 0));
	assert_false(valid_holds_token("deploy", 6));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_strlist),
		cmocka_unit_test(test_holds_token),
	};

	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}
