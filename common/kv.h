/* satoken: the key-value backend under the store (GDBM today, in
 * kv_gdbm.c): the database calls and nothing else.  Who may open the
 * file, its locks and the counter readers check are the cross-process
 * protocol's (common/storefile.h), which opens the file and hands its
 * descriptor here.  Only the store's layers include this header; a
 * second backend implements these functions and nothing above store.h
 * changes. */
#ifndef SATOKEN_KV_H
#define SATOKEN_KV_H

#include <stddef.h>
#include <stdint.h>

struct kv;

/* Opens the database on fd (opened and locked by common/storefile.c)
 * for reading, or for writing (a writer's empty file becomes a new
 * database, synced).  Takes fd: it is closed by kv_close, and at once
 * on failure (which drops the caller's lock on it).  SAT_E_STORE if it
 * is not a database. */
int kv_open(int fd, const char *path, int writer, int created,
    struct kv **ret);
/* Accepts NULL. */
void kv_close(struct kv *kv);

/* *ret_val is malloc'd (caller frees, wiping if it may hold a secret).
 * SAT_E_NOTFOUND if absent, SAT_E_STORE on any read error. */
int kv_fetch(struct kv *kv, const void *key, size_t klen, void **ret_val,
    size_t *ret_len);
int kv_put(struct kv *kv, const void *key, size_t klen, const void *val,
    size_t vlen);
/* Deleting an absent key is not an error. */
int kv_delete(struct kv *kv, const void *key, size_t klen);

typedef int (*kv_iter_fn)(void *arg, const void *key, size_t klen);
/* Calls fn for every key; a non-zero return from fn stops and is returned. */
int kv_iterate(struct kv *kv, kv_iter_fn fn, void *arg);

/* Bytes the database file takes now (0 if it cannot be told). */
uint64_t kv_size(struct kv *kv);

/* Writes everything to disk (fsync) before returning 0. */
int kv_sync(struct kv *kv);

#endif
