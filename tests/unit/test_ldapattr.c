/* What the directory sends is read only through a checked BER reader
 * (liblber does not survive a value that is absent or empty), and the
 * entry a post-read control brings back with a control host's write is
 * taken as a searched attribute is: anything else is no value (the
 * caller then reads the entry instead). */
#include "testutil.h"

#include <stdarg.h>

#include <lber.h>
#include <ldap.h>

#include "../../daemon/ldapattr.h"
#include "err.h"

#define CSN "20261207190000.000001Z#000000#001#000000"
/* a SearchResultEntry's tag, as slapd sends it in the control */
#define ENTRY_TAG ((ber_tag_t)0x64)

/* sc: a post-read control whose value fmt and its arguments build */
static LDAPControl **
post_read(const char *fmt, ...)
{
	static LDAPControl c, *sc[3];
	static LDAPControl other = { (char *)"1.3.6.1.4.1.4203.1.9.1.1",
	    { 0, NULL }, 0 };
	static struct berval v;
	BerElement *ber;
	va_list ap;

	assert_non_null(ber = ber_alloc_t(LBER_USE_DER));
	va_start(ap, fmt);
	assert_int_not_equal(ber_printf(ber, "t", ENTRY_TAG), -1);
	if (fmt[0] == 'r') {	/* raw bytes: "r", bytes, length */
		const char *p = va_arg(ap, const char *);
		size_t n = va_arg(ap, size_t);

		ber_free(ber, 1);
		v.bv_val = (char *)p;
		v.bv_len = n;
	} else {
		assert_int_not_equal(ber_printf(ber, "{s{", "cn=policy,dc=x"),
		    -1);
		for (; *fmt != '\0'; fmt++) {
			const char *type = va_arg(ap, const char *);
			const char *v1 = va_arg(ap, const char *);

			assert_int_not_equal(*fmt == '2' ?
			    ber_printf(ber, "{s[ss]}", type, v1,
			    va_arg(ap, const char *)) :
			    ber_printf(ber, "{s[s]}", type, v1), -1);
		}
		assert_int_not_equal(ber_printf(ber, "}}"), -1);
		assert_int_equal(ber_flatten2(ber, &v, 1), 0);
		ber_free(ber, 1);
	}
	va_end(ap);
	c.ldctl_oid = (char *)LDAP_CONTROL_POST_READ;
	c.ldctl_value = v;
	c.ldctl_iscritical = 0;
	sc[0] = &other;
	sc[1] = &c;
	sc[2] = NULL;
	return sc;
}

static void
free_value(LDAPControl **sc)
{
	ber_memfree(sc[1]->ldctl_value.bv_val);
}

static void
test_value(void **state)
{
	LDAPControl **sc;
	char out[64];

	(void)state;
	sc = post_read("11", "cn", "policy", "entryCSN", CSN);
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", out, sizeof(out)),
	    0);
	assert_string_equal(out, CSN);
	/* attribute types compare without case */
	assert_int_equal(ldapattr_post_read(sc, "entrycsn", out, sizeof(out)),
	    0);
	assert_string_equal(out, CSN);
	free_value(sc);
}

static void
test_absent(void **state)
{
	LDAPControl **sc, *none[1] = { NULL };
	char out[64];

	(void)state;
	/* an ACL that keeps the attribute, or no control at all */
	sc = post_read("1", "cn", "policy");
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", out, sizeof(out)),
	    SAT_E_NOTFOUND);
	free_value(sc);
	assert_int_equal(ldapattr_post_read(none, "entryCSN", out,
	    sizeof(out)), SAT_E_NOTFOUND);
	assert_int_equal(ldapattr_post_read(NULL, "entryCSN", out,
	    sizeof(out)), SAT_E_NOTFOUND);
}

static void
test_refused(void **state)
{
	LDAPControl **sc;
	char out[64], small[8];
	static const char nul[] = "20261207\0";

	(void)state;
	/* two values, one too long, one holding a NUL */
	sc = post_read("2", "entryCSN", CSN, CSN);
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", out, sizeof(out)),
	    SAT_E_INVALID);
	free_value(sc);
	sc = post_read("1", "entryCSN", CSN);
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", small,
	    sizeof(small)), SAT_E_INVALID);
	free_value(sc);
	{
		BerElement *ber = ber_alloc_t(LBER_USE_DER);
		struct berval v, val = { sizeof(nul) - 1, (char *)nul };

		assert_non_null(ber);
		assert_int_not_equal(ber_printf(ber, "t{s{{s[O]}}}", ENTRY_TAG,
		    "cn=policy,dc=x", "entryCSN", &val), -1);
		assert_int_equal(ber_flatten2(ber, &v, 0), 0);
		sc = post_read("r", v.bv_val, (size_t)v.bv_len);
		assert_int_equal(ldapattr_post_read(sc, "entryCSN", out,
		    sizeof(out)), SAT_E_INVALID);
		ber_free(ber, 1);
	}
}

static void
test_malformed(void **state)
{
	static const char cut[] = "\x64\x20\x04\x0e" "cn=policy,dc=x";
	static const char junk[] = "\x04\x03" "abc";
	LDAPControl **sc;
	char out[64];

	(void)state;
	/* cut short, and not an entry at all */
	sc = post_read("r", cut, sizeof(cut) - 1);
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", out, sizeof(out)),
	    SAT_E_MALFORMED);
	sc = post_read("r", junk, sizeof(junk) - 1);
	assert_int_not_equal(ldapattr_post_read(sc, "entryCSN", out,
	    sizeof(out)), 0);
	sc = post_read("r", "", (size_t)0);
	assert_int_equal(ldapattr_post_read(sc, "entryCSN", out,
	    sizeof(out)), SAT_E_MALFORMED);
	sc = post_read("r", "\x30\x00", (size_t)2);
	assert_int_not_equal(ldapattr_post_read(sc, "entryCSN", out,
	    sizeof(out)), 0);
}

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
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_ber_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
