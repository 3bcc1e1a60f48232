/* The leak sweep's finder: every token in a text, by checksum alone, the
 * same whether the text comes whole or in chunks cut anywhere. */
#include "testutil.h"

#include <string.h>

#include "err.h"
#include "mem.h"
#include "scan.h"

#define MAXF 64

struct finds {
	size_t n, base;
	size_t off[MAXF];
	char id[MAXF][TOKEN_ID_LEN + 1];
};

static int
found(void *arg, size_t offset, const char id[TOKEN_ID_LEN + 1])
{
	struct finds *f = arg;

	assert_true(f->n < MAXF);
	f->off[f->n] = f->base + offset;
	memcpy(f->id[f->n], id, TOKEN_ID_LEN + 1);
	f->n++;
	return 0;
}

/* A text with tokens at its start, its end, back to back, inside words,
 * beside near-misses; the tokens' offsets and ids in ret. */
static size_t
make_text(char *text, size_t cap, struct finds *want)
{
	char tok[TOKEN_LEN + 1], bad[TOKEN_LEN + 1];
	size_t len = 0;
	const char *filler[] = { "", "x", "password=", "\n", "  sat_", "sat",
		"_sat_", "sat_sat_", "Xsat_0000000000000000000000000000000000000000000000000",
		"\"", "sat_\n" };

	memset(want, 0, sizeof(*want));
	for (int i = 0; i < 20; i++) {
		const char *fl = filler[(size_t)random() % (sizeof(filler) / sizeof(filler[0]))];
		assert_true(len + strlen(fl) + 2 * TOKEN_LEN < cap);
		memcpy(text + len, fl, strlen(fl));
		len += strlen(fl);
		assert_int_equal(token_generate(tok), 0);
		if (i % 3 == 2) {
			/* one character off: the checksum no longer holds */
			memcpy(bad, tok, sizeof(bad));
			bad[20] = bad[20] == 'a' ? 'b' : 'a';
			memcpy(text + len, bad, TOKEN_LEN);
		} else {
			want->off[want->n] = len;
			memcpy(want->id[want->n], tok + TOKEN_PREFIX_LEN, TOKEN_ID_LEN);
			want->id[want->n][TOKEN_ID_LEN] = '\0';
			want->n++;
			memcpy(text + len, tok, TOKEN_LEN);
		}
		len += TOKEN_LEN;
		sat_wipe(tok, sizeof(tok));
	}
	return len;
}

static void
assert_same(const struct finds *a, const struct finds *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->off[i], b->off[i]);
		assert_string_equal(a->id[i], b->id[i]);
	}
}

static void
test_whole_text(void **state)
{
	char text[8192];
	struct finds want, got = { 0 };
	size_t len, consumed;

	(void)state;
	srandom(11);
	len = make_text(text, sizeof(text), &want);
	assert_int_equal(scan_chunk(text, len, 1, found, &got, &consumed), 0);
	assert_int_equal(consumed, len);
	assert_true(want.n >= 10);
	assert_same(&want, &got);
}

static void
test_any_chunking(void **state)
{
	char text[8192], buf[8192];
	struct finds want, got;
	size_t len, pos, carry, consumed, step;

	(void)state;
	srandom(12);
	for (int round = 0; round < 300; round++) {
		len = make_text(text, sizeof(text), &want);
		memset(&got, 0, sizeof(got));
		pos = carry = 0;
		for (;;) {
			step = 1 + (size_t)random() % (round % 2 ? 7 : 120);
			if (step > len - pos)
				step = len - pos;
			memcpy(buf + carry, text + pos, step);
			pos += step;
			assert_int_equal(scan_chunk(buf, carry + step, pos == len,
			    found, &got, &consumed), 0);
			assert_true(consumed <= carry + step);
			memmove(buf, buf + consumed, carry + step - consumed);
			carry = carry + step - consumed;
			got.base += consumed;
			if (pos == len)
				break;
		}
		assert_int_equal(carry, 0);
		assert_same(&want, &got);
	}
}

static int
stop(void *arg, size_t offset, const char id[TOKEN_ID_LEN + 1])
{
	(*(int *)arg)++;
	return SAT_E_IO;
}

static void
test_callback_stops(void **state)
{
	char text[8192];
	struct finds want;
	size_t len, consumed;
	int calls = 0;

	(void)state;
	srandom(13);
	len = make_text(text, sizeof(text), &want);
	assert_int_equal(scan_chunk(text, len, 1, stop, &calls, &consumed),
	    SAT_E_IO);
	assert_int_equal(calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_text),
		cmocka_unit_test(test_any_chunking),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
