#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crc.h"
#include "err.h"
#include "mem.h"
#include "token.h"

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int
b62_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

static int
kernel_random(void *p, size_t n)
{
	uint8_t *q = p;
	ssize_t got;

	while (n > 0) {
		got = getrandom(q, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return SAT_E_CRYPTO;
		}
		q += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Uniform base62: bytes >= 248 (4 * 62) are rejected, not folded. */
static int
random_b62(char *out, size_t n)
{
	uint8_t pool[64];
	size_t have = 0, used = 0;
	int r;

	while (n > 0) {
		if (used == have) {
			if ((r = kernel_random(pool, sizeof(pool))) != 0) {
				sat_wipe(pool, sizeof(pool));
				return r;
			}
			have = sizeof(pool);
			used = 0;
		}
		if (pool[used] < 248) {
			*out++ = b62[pool[used] % 62];
			n--;
		}
		used++;
	}
	sat_wipe(pool, sizeof(pool));
	return 0;
}

void
token_checksum(const char *s, char ret[TOKEN_CRC_LEN])
{
	uint32_t crc = crc32_ieee(0, s, TOKEN_LEN - TOKEN_CRC_LEN);
	int i;

	for (i = TOKEN_CRC_LEN - 1; i >= 0; i--) {
		ret[i] = b62[crc % 62];
		crc /= 62;
	}
}

int
token_generate(char ret[TOKEN_LEN + 1])
{
	char t[TOKEN_LEN + 1];
	int r;

	memcpy(t, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	if ((r = random_b62(t + TOKEN_PREFIX_LEN,
	    TOKEN_ID_LEN + TOKEN_SECRET_LEN)) != 0) {
		sat_wipe(t, sizeof(t));
		return r;
	}
	token_checksum(t, t + TOKEN_LEN - TOKEN_CRC_LEN);
	t[TOKEN_LEN] = '\0';
	memcpy(ret, t, sizeof(t));
	sat_wipe(t, sizeof(t));
	return 0;
}

int
token_id_valid(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n != TOKEN_ID_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (b62_value((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

int
token_parse(const char *s, size_t n, char ret_id[TOKEN_ID_LEN + 1])
{
	char crc[TOKEN_CRC_LEN];
	size_t i;

	if (s == NULL || n != TOKEN_LEN ||
	    memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return SAT_E_MALFORMED;
	for (i = TOKEN_PREFIX_LEN; i < TOKEN_LEN; i++)
		if (b62_value((unsigned char)s[i]) < 0)
			return SAT_E_MALFORMED;
	token_checksum(s, crc);
	if (memcmp(crc, s + TOKEN_LEN - TOKEN_CRC_LEN, TOKEN_CRC_LEN) != 0)
		return SAT_E_MALFORMED;
	memcpy(ret_id, s + TOKEN_PREFIX_LEN, TOKEN_ID_LEN);
	ret_id[TOKEN_ID_LEN] = '\0';
	return 0;
}

int
token_digest(const uint8_t key[TOKEN_KEY_LEN], const char *token,
    uint8_t ret[TOKEN_DIGEST_LEN])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, (const unsigned char *)token,
	    TOKEN_LEN, ret, &outlen) == NULL || outlen != TOKEN_DIGEST_LEN) {
		sat_wipe(ret, TOKEN_DIGEST_LEN);
		return SAT_E_CRYPTO;
	}
	return 0;
}

int
token_digest_equal(const uint8_t a[TOKEN_DIGEST_LEN],
    const uint8_t b[TOKEN_DIGEST_LEN])
{
	return CRYPTO_memcmp(a, b, TOKEN_DIGEST_LEN) == 0;
}

int
token_new_key(uint8_t ret[TOKEN_KEY_LEN])
{
	return kernel_random(ret, TOKEN_KEY_LEN);
}
