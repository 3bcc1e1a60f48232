/* satoken: what the store's layers share and nobody else includes.
 *
 *   store_read.c   keys, typed getters, listings, the reader: all that
 *                  the modules link (through view.c)
 *   store_put.c    typed putters: records encoded and staged
 *   store_batch.c  a batch of changes (the writer's overlay)
 *   store_write.c  the writer: overlay reads, the one durable commit,
 *                  undo, rebuild, committer thread, checkpoints
 *   storefile.c    the cross-process protocol; kv_gdbm.c the backend
 *
 * A reader never reaches the writer's code: where the writer reads
 * differently (through its staged changes, or rebuilding a handle GDBM
 * gave up on), struct store_ops says so, and only store_write.c fills
 * one in.  So nothing of the writer is linked into a module. */
#ifndef SATOKEN_STORE_IMPL_H
#define SATOKEN_STORE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "store.h"
#include "store_batch.h"
#include "storefile.h"
#include "token.h"

struct store_ops {
	/* A raw read; *ret_val malloc'd.  SAT_E_NOTFOUND if absent. */
	int (*fetch)(struct store *s, const void *key, size_t klen,
	    void **ret_val, size_t *ret_len);
	/* Every key of the file as applied (kv_iterate). */
	int (*iterate)(struct store *s, kv_iter_fn fn, void *arg);
	/* The changes not yet in the file, oldest first; NULL for none. */
	const struct store_batch *(*pending)(const struct store *s,
	    unsigned i);
	void (*close)(struct store *s);
};

struct store {
	struct kv *kv;		/* NULL: a writer whose rebuild failed */
	struct storefile file;
	const struct store_ops *ops;
	unsigned timeout_ms;
	uint8_t hmac_key[TOKEN_KEY_LEN];
};

/* Loads the meta record's HMAC key (store_read.c). */
int store_load_meta(struct store *s);
/* Stages one change (store_write.c); takes val (NULL: a delete).
 * SAT_E_INTERNAL on a reader. */
int store_stage(struct store *s, const void *key, size_t klen,
    uint8_t *val, size_t vlen);

/* Keys (store_read.c): "m" meta, "p" policy, "r" accounts being
 * reclaimed, "a:NAME" account, "g:NAME" group, "t:ID" token, "u:ID"
 * its last use; the account's token index (common/tindex.h): "h:ACCOUNT" its head,
 * "y:ACCOUNT:PPPPPPPP" a page (hex number), "n:ACCOUNT:HASH" a token
 * name (24 hex digits of its SHA-256); "x:ACCOUNT" the index of the
 * first stores.  Names hold no ':', so the fixed-length suffixes cannot
 * make two keys alike. */
size_t store_key(char out[STORE_KEY_MAX], char prefix, const char *name);

/* The paged token index's three records, one shape for all three. */
enum store_tix { STORE_TIX_HEAD, STORE_TIX_PAGE, STORE_TIX_NAME };
/* SAT_E_INVALID for an invalid account name. */
int store_tix_key(char out[STORE_KEY_MAX], enum store_tix kind,
    const char *account, uint32_t page, const char *name, size_t *ret_len);

#endif
