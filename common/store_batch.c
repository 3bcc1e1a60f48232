#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "store_batch.h"

/* A batch this large is looked up through a hash (account.delete stages
 * three changes per token) */
#define HASH_FROM	16

static size_t
key_hash(const void *key, size_t klen)
{
	const uint8_t *k = key;
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* A key appears once in a batch (staging replaces), so a lookup is
 * either a linear scan of a small batch or a probe of its hash. */
const struct store_change *
store_batch_find(const struct store_batch *b, const void *key, size_t klen)
{
	size_t i;

	if (b->h == NULL || b->n <= HASH_FROM) {
		for (i = b->n; i-- > 0;)
			if (b->v[i].klen == klen &&
			    memcmp(b->v[i].key, key, klen) == 0)
				return &b->v[i];
		return NULL;
	}
	for (i = key_hash(key, klen) & (b->hcap - 1); b->h[i] != 0;
	    i = (i + 1) & (b->hcap - 1)) {
		const struct store_change *c = &b->v[b->h[i] - 1];

		if (c->klen == klen && memcmp(c->key, key, klen) == 0)
			return c;
	}
	return NULL;
}

static void
hash_insert(uint32_t *h, size_t hcap, const struct store_change *c,
    size_t idx)
{
	size_t i;

	for (i = key_hash(c->key, c->klen) & (hcap - 1); h[i] != 0;
	    i = (i + 1) & (hcap - 1))
		;
	h[i] = (uint32_t)(idx + 1);
}

/* Keeps the hash over the changes, the last one just added. */
static int
hash_add(struct store_batch *b)
{
	uint32_t *nh;
	size_t ncap, i;

	if (b->n <= HASH_FROM)
		return 0;
	if (b->n * 2 < b->hcap && b->hn == b->n - 1) {
		hash_insert(b->h, b->hcap, &b->v[b->n - 1], b->n - 1);
		b->hn = b->n;
		return 0;
	}
	for (ncap = 64; ncap <= b->n * 2; ncap *= 2)
		;
	if (ncap != b->hcap) {
		if ((nh = calloc(ncap, sizeof(*nh))) == NULL)
			return SAT_E_NOMEM;
		free(b->h);
		b->h = nh;
		b->hcap = ncap;
	} else {
		memset(b->h, 0, ncap * sizeof(*b->h));
	}
	for (i = 0; i < b->n; i++)
		hash_insert(b->h, b->hcap, &b->v[i], i);
	b->hn = b->n;
	return 0;
}

int
store_batch_take(struct store_batch *b, const void *key, size_t klen,
    uint8_t *val, size_t vlen)
{
	struct store_change *c, *nv;
	size_t ncap;
	int r = 0;

	if (klen == 0 || klen > STORE_KEY_MAX) {
		r = SAT_E_INVALID;
		goto out;
	}
	if ((c = (struct store_change *)store_batch_find(b, key, klen)) !=
	    NULL) {
		sat_freezero(c->val, c->vlen);
		c->val = val;
		c->vlen = vlen;
		return 0;
	}
	if (b->n == b->cap) {
		ncap = b->cap ? b->cap * 2 : 16;
		if ((nv = realloc(b->v, ncap * sizeof(*nv))) == NULL) {
			r = SAT_E_NOMEM;
			goto out;
		}
		b->v = nv;
		b->cap = ncap;
	}
	c = &b->v[b->n++];
	memcpy(c->key, key, klen);
	c->klen = klen;
	c->val = val;
	c->vlen = vlen;
	if ((r = hash_add(b)) != 0)
		b->n--;		/* unfindable, so not staged at all */
out:
	if (r != 0)
		sat_freezero(val, vlen);
	return r;
}

int
store_batch_put(struct store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	uint8_t *c;

	if (val == NULL)
		return SAT_E_INVALID;
	if ((c = malloc(vlen > 0 ? vlen : 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(c, val, vlen);
	return store_batch_take(b, key, klen, c, vlen);
}

int
store_batch_delete(struct store_batch *b, const void *key, size_t klen)
{
	return store_batch_take(b, key, klen, NULL, 0);
}

/* A large hash goes: a big account.delete must not make every later
 * commit clear megabytes. */
void
store_batch_clear(struct store_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		sat_freezero(b->v[i].val, b->v[i].vlen);
	b->n = 0;
	if (b->hcap > 1024) {
		free(b->h);
		b->h = NULL;
		b->hcap = 0;
	} else if (b->h != NULL) {
		memset(b->h, 0, b->hcap * sizeof(*b->h));
	}
	b->hn = 0;
}

void
store_batch_free(struct store_batch *b)
{
	store_batch_clear(b);
	free(b->v);
	free(b->h);
	memset(b, 0, sizeof(*b));
}
