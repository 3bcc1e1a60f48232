/* satoken: the store's cross-process protocol, between the backend
 * (kv.h: GDBM calls only) and the store's reader and writer.
 *
 * The files next to the database DB, named by storefile_path alone:
 *   DB.lock     held (exclusive flock) by the one writer for its life
 *   DB.gen      the sequence counter below
 *   DB.journal, DB.base, DB.restore, DB.base.tmp   the writer's
 *               (common/journal.h)
 *
 * Locking (ours, not GDBM's: the backend opens DB's descriptor without
 * GDBM's locks and we flock it, so a reader waits at most timeout_ms
 * and a writer holds the file only while applying):
 *   - a reader opens DB under a shared flock;
 *   - the writer keeps DB open without a lock and takes an exclusive
 *     flock only between storefile_begin_write and storefile_end_write,
 *     where it also makes the counter DB.gen odd and then even again;
 *   - a resident reader (storefile_pause/resume) reads without a lock,
 *     between two readings of that counter, like a seqlock: a login
 *     takes no lock and the writer never waits for one;
 *   - one writer at a time: the exclusive flock on DB.lock.
 *
 * Every function returns 0 or a negative SAT_E_*; what a caller must
 * act on besides an error comes back through a ret_ out-parameter. */
#ifndef SATOKEN_STOREFILE_H
#define SATOKEN_STOREFILE_H

#include <stdint.h>

#include "err.h"

/* The one collapse of the store's errors: what is not a shortage of
 * memory is the store failing (a missing file, a lock past its
 * deadline, a torn record) and is refused as such. */
static inline int
storefile_err(int r)
{
	return r == 0 || r == SAT_E_NOMEM ? r : SAT_E_STORE;
}

struct storefile {
	int fd;		/* DB; flocked here, read and closed by the backend */
	int lockfd;	/* writer: DB.lock, held for life; else -1 */
	/* DB.gen, a sequence counter: odd while the writer is changing
	 * DB, even and higher than ever before once it is done, and
	 * bumped again whenever a writer opens the store (it may have been
	 * rebuilt).  -1 for a reader when no writer made one yet: it then
	 * never trusts its view across checks. */
	int genfd;
	uint64_t gen;
	int writer;
	int locked;	/* reader: holds the shared lock (opened, not paused) */
};

/* Nothing open: what storefile_close accepts. */
void storefile_init(struct storefile *f);

/* *ret = db + suffix, malloc'd (caller frees).  SAT_E_INVALID if the
 * result would not fit a path. */
int storefile_path(const char *db, const char *suffix, char **ret);

/* Opens DB read-only (it must be a regular file not writable by others,
 * owned by the daemon, in a private directory), under the shared lock
 * waited for at most timeout_ms, and notes the counter.  f->fd is then
 * to be handed to the backend, which closes it.  SAT_E_STORE if the
 * file is missing, unsafe or locked past timeout_ms. */
int storefile_open_reader(struct storefile *f, const char *path,
    unsigned timeout_ms);
/* A resident reader (common/view.c) keeps its handle between checks.
 * resume sets *ret_stale to 1 if something was written or a new writer
 * started since the handle was opened (close it and open another), 0
 * if it may be read without the lock.  pause ends a check: it drops the
 * lock if held and sets *ret_torn to 1 if a write began meanwhile (throw
 * the result away and check again on a new handle). */
int storefile_resume(struct storefile *f, int *ret_stale);
int storefile_pause(struct storefile *f, int *ret_torn);

/* Takes DB.lock (SAT_E_CONFLICT when another writer holds it), opens
 * DB read-write (creating it, mode 0640, if missing: *ret_created) and
 * holds its exclusive lock until storefile_writer_ready. */
int storefile_open_writer(struct storefile *f, const char *path,
    unsigned timeout_ms, int *ret_created);
/* The backend opened DB: bump the counter (a new writer) and release
 * DB's lock.  On failure the caller closes. */
int storefile_writer_ready(struct storefile *f, const char *path);

/* Writer: exclusive access to change DB, waiting up to timeout_ms for
 * readers to leave; the counter is odd until storefile_end_write. */
int storefile_begin_write(struct storefile *f, unsigned timeout_ms);
void storefile_end_write(struct storefile *f);

/* Closes DB.lock and DB.gen (not DB: the backend's).  Call after the
 * backend closed DB; accepts an f just initialised or half-opened. */
void storefile_close(struct storefile *f);

#endif
