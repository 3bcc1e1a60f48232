/* satoken: a batch of record changes, as the store's writer applies
 * them: each key at most once, its whole new value or its deletion.
 * The writer stages into one and commits it (store_commit, store_apply
 * in store.h); a fleet follower or a restore builds its own from raw
 * records and hands it to store_apply.  Values are wiped when dropped
 * (the meta record holds the HMAC key). */
#ifndef SATOKEN_STORE_BATCH_H
#define SATOKEN_STORE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "valid.h"

/* Room for any key of ours: prefix, ':', name, ':', 24 hex digits. */
#define STORE_NAME_HASH_HEX	24
#define STORE_KEY_MAX	(2 + SAT_NAME_MAX + 1 + STORE_NAME_HASH_HEX + 1)

struct store_change {
	char key[STORE_KEY_MAX];
	size_t klen;
	uint8_t *val;	/* owned; NULL: delete */
	size_t vlen;
};

struct store_batch {
	struct store_change *v;	/* in staging order */
	size_t n, cap;
	uint32_t *h;		/* open addressing: index + 1, 0 empty */
	size_t hcap;		/* 0, or a power of two above 2 * n */
	size_t hn;		/* changes in h: the first hn */
};

#define STORE_BATCH_INIT	{ NULL, 0, 0, NULL, 0, 0 }

/* Copies val; a key staged again replaces its earlier change.
 * SAT_E_INVALID for an empty key or one longer than STORE_KEY_MAX. */
int store_batch_put(struct store_batch *b, const void *key, size_t klen,
    const void *val, size_t vlen);
int store_batch_delete(struct store_batch *b, const void *key, size_t klen);
/* The same, taking val (malloc'd; freed on failure too). */
int store_batch_take(struct store_batch *b, const void *key, size_t klen,
    uint8_t *val, size_t vlen);
/* The change to key, or NULL; borrowed until the batch changes. */
const struct store_change *store_batch_find(const struct store_batch *b,
    const void *key, size_t klen);
/* Drops every change, keeping the arrays for the next batch. */
void store_batch_clear(struct store_batch *b);
/* Drops everything; b is then empty and may be used again. */
void store_batch_free(struct store_batch *b);

#endif
