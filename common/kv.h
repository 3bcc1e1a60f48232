/* satoken: the key-value backend under store.c (GDBM today, in
 * kv_gdbm.c).  Only store.c includes this header; a second backend
 * implements these functions and nothing above store.h changes.
 *
 * Locking protocol (ours, not GDBM's: GDBM's handles are opened with
 * GDBM_NOLOCK and we flock the fd ourselves, so a reader waits at most
 * timeout_ms and a writer holds the file only while committing):
 *   - a reader opens its handle under a shared flock;
 *   - the writer keeps its handle open without a lock and takes an
 *     exclusive flock only inside kv_begin_write/kv_end_write, where it
 *     also makes the counter PATH.gen odd and then even again;
 *   - a resident reader (kv_reader_resume/pause) reads without a lock,
 *     between two readings of that counter, like a seqlock: a login
 *     takes no lock and the writer never waits for one;
 *   - one writer at a time, enforced by an exclusive flock on PATH.lock
 *     held for the writer's life. */
#ifndef SATOKEN_KV_H
#define SATOKEN_KV_H

#include <stddef.h>
#include <stdint.h>

struct kv;

/* SAT_E_STORE if the file is missing, unsafe, locked past timeout_ms,
 * or not a database. */
int kv_open_reader(const char *path, unsigned timeout_ms, struct kv **ret);
/* Creates the file (mode 0640) if missing; *ret_created says so.
 * SAT_E_CONFLICT if another writer holds the store. */
int kv_open_writer(const char *path, unsigned timeout_ms, struct kv **ret,
    int *ret_created);
void kv_close(struct kv *kv);

/* A resident reader (common/view.c) keeps its handle between checks.
 * The handle comes back from kv_open_reader holding the shared lock.
 * resume returns 0 if nothing was written and no new writer started
 * since the handle was opened (the handle may then be read without the
 * lock), 1 if the handle is stale (close it and open a new one).
 * pause ends a check: it drops the lock if held and returns 0 if what
 * was read is whole, 1 if a write began meanwhile (throw the result
 * away, close the handle and check again with a new one), or
 * SAT_E_STORE. */
int kv_reader_pause(struct kv *kv);
int kv_reader_resume(struct kv *kv);

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

/* Writer only: exclusive access for a commit, waiting up to timeout_ms
 * for readers to leave. */
int kv_begin_write(struct kv *kv, unsigned timeout_ms);
/* Writes everything to disk (fsync) before returning 0. */
int kv_sync(struct kv *kv);
void kv_end_write(struct kv *kv);

#endif
