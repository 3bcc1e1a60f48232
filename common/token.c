#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crc.h"
#include "err.h"
#include "lockpool.h"
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
 * HMAC(), called afresh, looks the algorithm up by name and keys it at
 * every call, several times the cost of a context keyed once and only
 * re-initialised (EVP_MAC_init with no key keeps the key; the figures
 * are in git's history and README "Performance").  A context
 * serves one digest at a time, so a process keeps a few, each behind
 * its own mutex like the store views (view.c), keyed with the last key
 * it used (a process has one store, so one key).  They are freed, with
 * their copies of the key, by an atexit handler registered once
 * libcrypto is set up: it runs before libcrypto's own cleanup at exit
 * (handlers run in reverse), and at dlclose for a module built without
 * -z nodelete.  Nothing is kept per thread: a thread pool neither grows
 * them nor leaves them behind.
 */
#define MAC_SLOTS	8

struct mac_slot {
	EVP_MAC_CTX *ctx;
	uint8_t key[TOKEN_KEY_LEN];
};

/* slot i is guarded by mac_locks.lock[i] */
static struct mac_slot mac_slots[MAC_SLOTS];
static struct lockpool mac_locks = LOCKPOOL_INIT(MAC_SLOTS);
_Static_assert(MAC_SLOTS <= LOCKPOOL_MAX, "a lock for every context");
/* alg is set once, under pthread_once; stopped once, at exit */
static struct {
	pthread_once_t once;
	EVP_MAC *alg;
	atomic_int stopped;
} mac_shared = { .once = PTHREAD_ONCE_INIT };

static void
mac_slot_clear(struct mac_slot *m)
{
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	sat_wipe(m->key, sizeof(m->key));
}

/* The process exits or the module is unloaded: a digest asked for from
 * now on fails (closed), one under way is waited for, then every context
 * and the algorithm are freed. */
static void
mac_teardown(void)
{
	atomic_store(&mac_shared.stopped, 1);
	token_digest_reset();
	EVP_MAC_free(mac_shared.alg);
	mac_shared.alg = NULL;
}

static void
mac_setup(void)
{
	/* libcrypto registers its cleanup at its first use, here */
	if ((mac_shared.alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return;
	if (atexit(mac_teardown) != 0) {
		EVP_MAC_free(mac_shared.alg);	/* could not free it in time */
		mac_shared.alg = NULL;
	}
}

/* m's context, (re)keyed with key; NULL on failure.  m is locked. */
static EVP_MAC_CTX *
mac_keyed(struct mac_slot *m, const uint8_t key[TOKEN_KEY_LEN])
{
	OSSL_PARAM params[2];

	if (m->ctx != NULL && CRYPTO_memcmp(m->key, key, TOKEN_KEY_LEN) == 0)
		return EVP_MAC_init(m->ctx, NULL, 0, NULL) == 1 ? m->ctx : NULL;
	mac_slot_clear(m);
	if ((m->ctx = EVP_MAC_CTX_new(mac_shared.alg)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(m->ctx, key, TOKEN_KEY_LEN, params) != 1) {
		mac_slot_clear(m);
		return NULL;
	}
	memcpy(m->key, key, TOKEN_KEY_LEN);
	return m->ctx;
}

void
token_digest_reset(void)
{
	size_t i;

	for (i = 0; i < MAC_SLOTS; i++) {
		pthread_mutex_lock(&mac_locks.lock[i]);
		mac_slot_clear(&mac_slots[i]);
		pthread_mutex_unlock(&mac_locks.lock[i]);
	}
}

int
token_digest(const uint8_t key[TOKEN_KEY_LEN], const char *token,
    uint8_t ret[TOKEN_DIGEST_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t outlen = 0;
	unsigned i;
	int r = 0;

	pthread_once(&mac_shared.once, mac_setup);
	if (mac_shared.alg == NULL) {
		sat_wipe(ret, TOKEN_DIGEST_LEN);
		return SAT_E_CRYPTO;
	}
	i = lockpool_take(&mac_locks);
	if (atomic_load(&mac_shared.stopped) ||
	    (ctx = mac_keyed(&mac_slots[i], key)) == NULL ||
	    EVP_MAC_update(ctx, (const unsigned char *)token, TOKEN_LEN) != 1 ||
	    EVP_MAC_final(ctx, ret, &outlen, TOKEN_DIGEST_LEN) != 1 ||
	    outlen != TOKEN_DIGEST_LEN) {
		sat_wipe(ret, TOKEN_DIGEST_LEN);
		r = SAT_E_CRYPTO;
	}
	pthread_mutex_unlock(&mac_locks.lock[i]);
	return r;
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
