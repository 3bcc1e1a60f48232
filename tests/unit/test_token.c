/* Token format: generation, strict parsing, checksum, keyed digest. */
#include "testutil.h"

#include <zlib.h>

#define MANY 1000000

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int
cmp_tok(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_LEN);
}

/* The checksum, computed here independently from DESIGN's words: zlib
 * CRC-32 of the first 48 characters, 6 base62 digits, MSD first. */
static void
ref_checksum(const char *t, char out[6])
{
	unsigned long crc = crc32(0L, (const Bytef *)t, 48);
	int i;

	for (i = 5; i >= 0; i--) {
		out[i] = b62[crc % 62];
		crc /= 62;
	}
}

static void
test_million_unique_and_valid(void **state)
{
	char *all = malloc((size_t)MANY * TOKEN_LEN);
	char tok[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1], ref[6];
	size_t i, counts[256] = { 0 }, total = 0;

	(void)state;
	assert_non_null(all);
	for (i = 0; i < MANY; i++) {
		assert_int_equal(token_generate(tok), 0);
		assert_int_equal(strlen(tok), TOKEN_LEN);
		assert_memory_equal(tok, "sat_", 4);
		assert_int_equal(token_parse(tok, TOKEN_LEN, id), 0);
		assert_memory_equal(id, tok + 4, TOKEN_ID_LEN);
		ref_checksum(tok, ref);
		assert_memory_equal(ref, tok + 48, 6);
		memcpy(all + i * TOKEN_LEN, tok, TOKEN_LEN);
		for (size_t k = 4; k < 48; k++)
			counts[(unsigned char)tok[k]]++;
	}
	qsort(all, MANY, TOKEN_LEN, cmp_tok);
	for (i = 1; i < MANY; i++)
		assert_true(memcmp(all + (i - 1) * TOKEN_LEN,
		    all + i * TOKEN_LEN, TOKEN_LEN) != 0);
	free(all);
	/* every base62 symbol used, none far from uniform: 44M symbols */
	for (i = 0; i < 62; i++)
		total += counts[(unsigned char)b62[i]];
	assert_int_equal(total, (size_t)MANY * 44);
	for (i = 0; i < 62; i++) {
		double share = (double)counts[(unsigned char)b62[i]] / (double)total;
		assert_true(share > 0.99 / 62 && share < 1.01 / 62);
	}
	sat_wipe(tok, sizeof(tok));
}

static void
test_every_bit_flip_refused(void **state)
{
	char tok[TOKEN_LEN + 1], m[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
	int pos, bit;

	(void)state;
	assert_int_equal(token_generate(tok), 0);
	for (pos = 0; pos < TOKEN_LEN; pos++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(m, tok, sizeof(m));
			m[pos] ^= (char)(1 << bit);
			assert_int_equal(token_parse(m, TOKEN_LEN, id),
			    SAT_E_MALFORMED);
		}
	}
}

static void
test_every_substitution_refused(void **state)
{
	char tok[TOKEN_LEN + 1], m[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
	int pos, c;

	(void)state;
	for (int round = 0; round < 4; round++) {
		assert_int_equal(token_generate(tok), 0);
		for (pos = 0; pos < TOKEN_LEN; pos++) {
			for (c = 0; c < 256; c++) {
				if ((char)c == tok[pos])
					continue;
				memcpy(m, tok, sizeof(m));
				m[pos] = (char)c;
				assert_int_equal(token_parse(m, TOKEN_LEN, id),
				    SAT_E_MALFORMED);
			}
		}
	}
}

static void
test_truncation_and_extension_refused(void **state)
{
	char tok[TOKEN_LEN + 1], big[2 * TOKEN_LEN + 2], id[TOKEN_ID_LEN + 1];
	size_t n;
	int c;

	(void)state;
	assert_int_equal(token_generate(tok), 0);
	for (n = 0; n < TOKEN_LEN; n++)
		assert_int_equal(token_parse(tok, n, id), SAT_E_MALFORMED);
	memcpy(big, tok, TOKEN_LEN);
	for (c = 0; c < 256; c++) {
		big[TOKEN_LEN] = (char)c;
		assert_int_equal(token_parse(big, TOKEN_LEN + 1, id),
		    SAT_E_MALFORMED);
	}
	memcpy(big + TOKEN_LEN, tok, TOKEN_LEN);
	assert_int_equal(token_parse(big, 2 * TOKEN_LEN, id), SAT_E_MALFORMED);
	/* whitespace around it is not trimmed: the adapters pass it exact */
	big[0] = ' ';
	memcpy(big + 1, tok, TOKEN_LEN);
	assert_int_equal(token_parse(big, TOKEN_LEN + 1, id), SAT_E_MALFORMED);
	assert_int_equal(token_parse(NULL, TOKEN_LEN, id), SAT_E_MALFORMED);
	/* and the original still parses */
	assert_int_equal(token_parse(tok, TOKEN_LEN, id), 0);
}

static void
test_known_checksum(void **state)
{
	/* a fixed token built by hand: prefix, 44 zeros, zlib checksum */
	char t[TOKEN_LEN + 1], ref[6], id[TOKEN_ID_LEN + 1];

	(void)state;
	memcpy(t, "sat_", 4);
	memset(t + 4, '0', 44);
	ref_checksum(t, ref);
	memcpy(t + 48, ref, 6);
	t[TOKEN_LEN] = '\0';
	assert_int_equal(token_parse(t, TOKEN_LEN, id), 0);
	assert_string_equal(id, "000000000000");
	token_checksum(t, ref);
	assert_memory_equal(ref, t + 48, 6);
	/* the wrong prefix with a matching checksum is still refused */
	memcpy(t, "SAT_", 4);
	ref_checksum(t, ref);
	memcpy(t + 48, ref, 6);
	assert_int_equal(token_parse(t, TOKEN_LEN, id), SAT_E_MALFORMED);
}

static void
test_digest(void **state)
{
	uint8_t k1[TOKEN_KEY_LEN], k2[TOKEN_KEY_LEN];
	uint8_t d1[TOKEN_DIGEST_LEN], d2[TOKEN_DIGEST_LEN], d3[TOKEN_DIGEST_LEN];
	char t1[TOKEN_LEN + 1], t2[TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(token_new_key(k1), 0);
	assert_int_equal(token_new_key(k2), 0);
	assert_true(memcmp(k1, k2, sizeof(k1)) != 0);
	assert_int_equal(token_generate(t1), 0);
	assert_int_equal(token_generate(t2), 0);
	assert_int_equal(token_digest(k1, t1, d1), 0);
	assert_int_equal(token_digest(k1, t1, d2), 0);
	assert_true(token_digest_equal(d1, d2));
	assert_int_equal(token_digest(k2, t1, d3), 0);
	assert_false(token_digest_equal(d1, d3));
	assert_int_equal(token_digest(k1, t2, d3), 0);
	assert_false(token_digest_equal(d1, d3));
	/* a single differing byte anywhere is seen */
	for (int i = 0; i < TOKEN_DIGEST_LEN; i++) {
		memcpy(d3, d1, sizeof(d3));
		d3[i] ^= 0x80;
		assert_false(token_digest_equal(d1, d3));
	}
}

static void
test_id_valid(void **state)
{
	(void)state;
	assert_true(token_id_valid("abcDEF012345", 12));
	assert_false(token_id_valid("abcDEF01234", 11));
	assert_false(token_id_valid("abcDEF01234_", 12));
	assert_false(token_id_valid(NULL, 12));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_checksum),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_every_substitution_refused),
		cmocka_unit_test(test_truncation_and_extension_refused),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_million_unique_and_valid),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
