/* The bounded reader and the growable writer. */
#include "testutil.h"

#include "buf.h"

static void
test_getters_at_the_edge(void **state)
{
	static const uint8_t data[] = { 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4 };
	struct buf b, v;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	(void)state;
	buf_init(&b, data, sizeof(data));
	assert_int_equal(buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(buf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 2);
	assert_int_equal(buf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 3);
	assert_int_equal(buf_get_u64(&b, &u64), 0);
	assert_int_equal(u64, 4);
	assert_int_equal(buf_expect_end(&b), 0);
	/* nothing left: every getter refuses and nothing moves */
	assert_int_equal(buf_get_u8(&b, &u8), SAT_E_MALFORMED);
	assert_int_equal(buf_get_bytes(&b, 1, &v), SAT_E_MALFORMED);
	assert_int_equal(buf_get_bytes(&b, 0, &v), 0);

	buf_init(&b, data, 3);
	assert_int_equal(buf_get_u32(&b, &u32), SAT_E_MALFORMED);
	assert_int_equal(buf_remaining(&b), 3);
	assert_int_equal(buf_get_bytes(&b, SIZE_MAX, &v), SAT_E_MALFORMED);
	assert_int_equal(buf_expect_end(&b), SAT_E_MALFORMED);
	buf_init(&b, NULL, 10);
	assert_int_equal(buf_remaining(&b), 0);
}

static void
test_get_until(void **state)
{
	static const char msg[] = "n,a=ci,\x01" "auth=Bearer x\x01\x01";
	struct buf b, v;

	(void)state;
	buf_init(&b, msg, sizeof(msg) - 1);
	assert_int_equal(buf_get_until(&b, 0x01, &v), 0);
	assert_true(buf_eq_str(&v, "n,a=ci,"));
	assert_int_equal(buf_get_until(&b, 0x01, &v), 0);
	assert_true(buf_eq_str(&v, "auth=Bearer x"));
	assert_int_equal(buf_get_until(&b, 0x01, &v), 0);
	assert_int_equal(v.len, 0);
	assert_int_equal(buf_expect_end(&b), 0);
	assert_int_equal(buf_get_until(&b, 0x01, &v), SAT_E_MALFORMED);
	buf_init(&b, "no separator", 12);
	assert_int_equal(buf_get_until(&b, 0x01, &v), SAT_E_MALFORMED);
	assert_int_equal(buf_remaining(&b), 12);
	assert_int_equal(buf_expect(&b, "no ", 3), 0);
	assert_int_equal(buf_expect(&b, "sep", 4), SAT_E_MALFORMED);
	assert_int_equal(buf_expect(&b, "separator!", 10), SAT_E_MALFORMED);
}

static void
test_str16(void **state)
{
	struct wbuf w;
	struct buf b;
	char *s, small[4];

	(void)state;
	wbuf_init(&w);
	wbuf_put_str16(&w, "hello");
	wbuf_put_str16(&w, NULL);
	wbuf_put_u16(&w, 3);
	wbuf_put_bytes(&w, "a\0b", 3);	/* an embedded NUL */
	wbuf_put_str16(&w, "four");
	assert_int_equal(wbuf_status(&w), 0);
	buf_init(&b, w.p, w.len);
	assert_int_equal(buf_get_str16(&b, 10, &s), 0);
	assert_string_equal(s, "hello");
	free(s);
	assert_int_equal(buf_get_str16(&b, 10, &s), 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_get_str16(&b, 10, &s), SAT_E_MALFORMED);
	assert_int_equal(buf_get_bytes(&b, 5, &(struct buf){0}), 0);
	assert_int_equal(buf_get_str16_into(&b, small, sizeof(small)),
	    SAT_E_MALFORMED);	/* 4 bytes do not fit in 3 + NUL */
	assert_int_equal(buf_get_str16(&b, 3, &s), SAT_E_MALFORMED);	/* over max */
	assert_int_equal(buf_get_str16(&b, 4, &s), 0);
	assert_string_equal(s, "four");
	free(s);
	wbuf_free(&w);
}

static void
test_wbuf_growth_and_limits(void **state)
{
	struct wbuf w;
	char *big;

	(void)state;
	wbuf_init(&w);
	for (int i = 0; i < 100000; i++)
		wbuf_put_u32(&w, (uint32_t)i);
	assert_int_equal(wbuf_status(&w), 0);
	assert_int_equal(w.len, 400000);
	assert_int_equal(w.p[399999], (uint8_t)99999);
	wbuf_free(&w);
	assert_null(w.p);
	big = malloc(70000);
	memset(big, 'x', 69999);
	big[69999] = '\0';
	wbuf_put_str16(&w, big);
	assert_int_equal(wbuf_status(&w), SAT_E_INVALID);
	wbuf_put_u8(&w, 1);	/* sticky: later puts do nothing */
	assert_int_equal(w.len, 0);
	wbuf_free(&w);
	free(big);
	wbuf_free(NULL);
}

static void
test_signed_round_trip(void **state)
{
	struct wbuf w;
	struct buf b;
	int64_t v;

	(void)state;
	wbuf_init(&w);
	wbuf_put_i64(&w, -5);
	wbuf_put_i64(&w, INT64_MIN);
	buf_init(&b, w.p, w.len);
	assert_int_equal(buf_get_i64(&b, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(buf_get_i64(&b, &v), 0);
	assert_true(v == INT64_MIN);
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters_at_the_edge),
		cmocka_unit_test(test_get_until),
		cmocka_unit_test(test_str16),
		cmocka_unit_test(test_wbuf_growth_and_limits),
		cmocka_unit_test(test_signed_round_trip),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
