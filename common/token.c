#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

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

/*
 * HMAC(), called afresh, looks the algorithm up by name and keys it:
 * ~0.95 us here, against ~0.2 us for a context keyed once and only
 * re-initialised (EVP_MAC_init with no key keeps the key).  A context
 * is used by one thread at a time, so each thread keeps its own, for
 * the last key it used (a process has one store, so one key).  It is
 * freed, with its copy of the key, when the thread exits.  At process
 * exit nothing is freed: libcrypto may already have been cleaned up by
 * then, and the memory goes with the process.
 */
struct mac_cache {
	EVP_MAC_CTX *ctx;
	uint8_t key[TOKEN_KEY_LEN];
};

/* Set once, under pthread_once (key_ok is cleared when the module is
 * unloaded).  Each thread's mac_cache hangs off the thread key, not a
 * __thread variable: a module's dynamic TLS outliving its dlclose
 * crashes LeakSanitizer's scan. */
static struct {
	pthread_once_t once;
	pthread_key_t key;	/* frees a thread's mac_cache at its exit */
	int key_ok;
	EVP_MAC *alg;
} mac_shared = { .once = PTHREAD_ONCE_INIT };

static void
mac_cache_free(void *p)
{
	struct mac_cache *c = p;

	if (c == NULL)
		return;
	EVP_MAC_CTX_free(c->ctx);
	sat_wipe(c->key, sizeof(c->key));
	free(c);
}

static void
mac_setup(void)
{
	if ((mac_shared.alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return;
	if (pthread_key_create(&mac_shared.key, mac_cache_free) == 0)
		mac_shared.key_ok = 1;
}

/* A module unloaded while threads live on (a build without -z
 * nodelete) must not leave them a destructor to call. */
__attribute__((destructor)) static void
mac_unload(void)
{
	if (mac_shared.key_ok)
		pthread_key_delete(mac_shared.key);
	mac_shared.key_ok = 0;
}

/* This thread's context, keyed with key; NULL on failure. */
static EVP_MAC_CTX *
mac_for(const uint8_t key[TOKEN_KEY_LEN])
{
	OSSL_PARAM params[2];
	struct mac_cache *c;

	pthread_once(&mac_shared.once, mac_setup);
	if (mac_shared.alg == NULL || !mac_shared.key_ok)
		return NULL;
	c = pthread_getspecific(mac_shared.key);
	if (c != NULL && c->ctx != NULL &&
	    CRYPTO_memcmp(c->key, key, TOKEN_KEY_LEN) == 0)
		return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1 ? c->ctx : NULL;
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return NULL;
		if (pthread_setspecific(mac_shared.key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	EVP_MAC_CTX_free(c->ctx);
	sat_wipe(c->key, sizeof(c->key));
	if ((c->ctx = EVP_MAC_CTX_new(mac_shared.alg)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(c->ctx, key, TOKEN_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(c->ctx);
		c->ctx = NULL;
		return NULL;
	}
	memcpy(c->key, key, TOKEN_KEY_LEN);
	return c->ctx;
}

void
token_digest_reset(void)
{
	struct mac_cache *c;

	if (!mac_shared.key_ok ||
	    (c = pthread_getspecific(mac_shared.key)) == NULL)
		return;
	pthread_setspecific(mac_shared.key, NULL);
	mac_cache_free(c);
}

int
token_digest(const uint8_t key[TOKEN_KEY_LEN], const char *token,
    uint8_t ret[TOKEN_DIGEST_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t outlen = 0;

	if ((ctx = mac_for(key)) == NULL ||
	    EVP_MAC_update(ctx, (const unsigned char *)token, TOKEN_LEN) != 1 ||
	    EVP_MAC_final(ctx, ret, &outlen, TOKEN_DIGEST_LEN) != 1 ||
	    outlen != TOKEN_DIGEST_LEN) {
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
