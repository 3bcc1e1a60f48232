#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "kv.h"
#include "mem.h"

/* The writer's GDBM bucket cache, in buckets (one file block, 4 KiB,
 * each): 2 MiB, whatever the store's size. */
#define WRITER_CACHE_BUCKETS	512
/* A module's reader: 1 MiB of buckets at most, in every process that
 * keeps a view (a long-lived server would otherwise end up with a copy
 * of every bucket it ever read). */
#define READER_CACHE_BUCKETS	256

struct kv {
	GDBM_FILE dbf;
	int fd;		/* the database; owned by dbf once opened */
	int lockfd;	/* writer: PATH.lock, held for life; else -1 */
	int writer;
	/* PATH.gen, a sequence counter: odd while the writer is changing
	 * the file, even and higher than ever before once it is done, and
	 * bumped again whenever a writer opens the store (it may have been
	 * rebuilt).  A resident reader compares it before and after its
	 * lookups and keeps no lock in between (see kv.h).  -1 for a
	 * reader when the file is missing or an older daemon's (no mark):
	 * it then never trusts its view across checks. */
	int genfd;
	uint64_t gen;
	int locked;	/* reader: holds the shared lock (opened, not paused) */
};

static int
gen_path(const char *path, char out[4096])
{
	return snprintf(out, 4096, "%s.gen", path) >= 4096 ? -1 : 0;
}

static int
read_gen(int fd, uint64_t *ret)
{
	uint64_t g = 0;
	ssize_t n = pread(fd, &g, sizeof(g), 0);

	if (n == 0) {
		*ret = 0;
		return 0;
	}
	if (n != (ssize_t)sizeof(g))
		return -1;
	*ret = g;
	return 0;
}

/* Written after the counter by writers that keep it as a sequence
 * (odd while writing).  An older daemon bumped it once per write,
 * before writing, and left no mark: with one, readers must keep taking
 * the lock for every check. */
static const char gen_mark[8] = "satseq1";

/* 1 if the writer of this counter keeps it as a sequence, 0 if not,
 * -1 if it cannot be read. */
static int
gen_is_seq(int fd)
{
	char m[sizeof(gen_mark)];
	ssize_t n = pread(fd, m, sizeof(m), 8);

	if (n < 0)
		return -1;
	return n == (ssize_t)sizeof(m) && memcmp(m, gen_mark, sizeof(m)) == 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* flock with a deadline: GDBM-style locks never block, so we poll with
 * a short, growing sleep rather than wait for ever. */
static int
lock_wait(int fd, int op, unsigned timeout_ms)
{
	struct timespec nap = { 0, 50 * 1000 };	/* 50 us, doubling to 5 ms */
	int64_t deadline;

	/* the common case, an uncontended lock, reads no clock */
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return SAT_E_STORE;
	deadline = now_ms() + timeout_ms;
	for (;;) {
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 5 * 1000 * 1000)
			nap.tv_nsec *= 2;
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return SAT_E_STORE;
		if (now_ms() >= deadline)
			return SAT_E_STORE;
	}
}

/* Under the shared lock: the generation as this handle first saw it.
 * No PATH.gen (no writer of this version yet) leaves genfd -1: the
 * view then serves this check only.  Any other failure is an error:
 * fail closed, as for the store. */
static int
reader_note_gen(struct kv *kv, const char *path)
{
	char gp[4096];
	int gfd, r;

	if (gen_path(path, gp) != 0)
		return SAT_E_STORE;
	r = fileio_open(gp, O_RDONLY, 0, FILEIO_REGULAR | FILEIO_NOT_WRITABLE,
	    &gfd);
	if (r == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return SAT_E_STORE;
	if (read_gen(gfd, &kv->gen) != 0 || (r = gen_is_seq(gfd)) < 0) {
		close(gfd);
		return SAT_E_STORE;
	}
	if (r == 0) {
		close(gfd);	/* an older daemon's: no view is kept */
		return 0;
	}
	kv->genfd = gfd;
	return 0;
}

int
kv_reader_pause(struct kv *kv)
{
	uint64_t g;

	if (kv->writer)
		return SAT_E_INTERNAL;
	if (kv->locked) {
		/* no writer could start while we held it: what we read
		 * was whole */
		kv->locked = 0;
		return flock(kv->fd, LOCK_UN) == 0 ? 0 : SAT_E_STORE;
	}
	/* read without the lock: whole only if no write began since
	 * resume (a write in progress then made the counter odd, and one
	 * that ended made it higher).  A counter that cannot be read is an
	 * error, as the store's own would be: refuse */
	if (kv->genfd < 0)
		return 1;
	if (read_gen(kv->genfd, &g) != 0)
		return SAT_E_STORE;
	return g != kv->gen;
}

int
kv_reader_resume(struct kv *kv)
{
	struct stat st;
	uint64_t g;

	if (kv->writer)
		return SAT_E_INTERNAL;
	/* no counter, a dead writer's odd one (the file may be torn: only
	 * ever read it under the lock), any write since we opened, or a
	 * counter that is no longer the store's (deleted, or replaced by a
	 * new one: a store made afresh): the cached buckets may be stale.
	 * The counter is never truncated or replaced by the daemon, so the
	 * same open file keeps telling. */
	if (kv->genfd < 0 || (kv->gen & 1) != 0)
		return 1;
	if (read_gen(kv->genfd, &g) != 0 || fstat(kv->genfd, &st) != 0)
		return SAT_E_STORE;	/* as any store error: refuse */
	return g != kv->gen || st.st_nlink == 0;
}

int
kv_open_reader(const char *path, unsigned timeout_ms, struct kv **ret)
{
	size_t cache = READER_CACHE_BUCKETS;
	struct kv *kv;
	int fd, r;

	r = fileio_open(path, O_RDONLY, 0, FILEIO_REGULAR | FILEIO_NOT_WRITABLE |
	    FILEIO_OWNER_DAEMON | FILEIO_DIR_PRIVATE, &fd);
	if (r != 0)
		return r == SAT_E_NOMEM ? r : SAT_E_STORE;
	if ((r = lock_wait(fd, LOCK_SH, timeout_ms)) != 0) {
		close(fd);
		return r;
	}
	if ((kv = calloc(1, sizeof(*kv))) == NULL) {
		close(fd);
		return SAT_E_NOMEM;
	}
	kv->lockfd = -1;
	kv->fd = fd;
	kv->genfd = -1;
	kv->locked = 1;
	if ((r = reader_note_gen(kv, path)) != 0) {
		free(kv);
		close(fd);
		return r;
	}
	/* CLOERROR: GDBM closes fd (and so drops our lock) if it fails.
	 *
	 * No XVERIFY: at a million tokens it walks the file at open, 1.8 ms
	 * against 25 us without, and a view is opened afresh after every
	 * write the daemon makes and in every forked sshd.  GDBM still
	 * checks the header and directory at open and each bucket as it
	 * reads it (GDBM_BAD_BUCKET, GDBM_BAD_HASH_TABLE...); a corrupt one
	 * is an error and refused like any store error.  The writer, which
	 * opens once, keeps XVERIFY.
	 *
	 * No mmap: mapping a large store costs at every open, and each
	 * bucket missed in the cache then faults its pages in one by one,
	 * so at a million tokens a warm PAM login costs more mapped than
	 * through pread, and a cold one (one login per sshd child) more
	 * still (the figures are in README's Performance). */
	kv->dbf = gdbm_fd_open(fd, path, 0,
	    GDBM_READER | GDBM_NOLOCK | GDBM_CLOERROR | GDBM_NOMMAP, NULL);
	if (kv->dbf == NULL) {
		if (kv->genfd >= 0)
			close(kv->genfd);
		free(kv);
		return SAT_E_STORE;
	}
	if (gdbm_setopt(kv->dbf, GDBM_SETCACHESIZE, &cache, sizeof(cache)) != 0) {
		kv_close(kv);	/* closes fd, and so drops our lock */
		return SAT_E_STORE;
	}
	*ret = kv;
	return 0;
}

/* PATH.gen, never truncated: readers holding it open keep seeing the
 * same counter. */
static int
writer_open_gen(const char *path, int *ret_fd,
    uint64_t *ret_gen)
{
	char gp[4096];
	uint64_t g;
	int gfd;

	if (gen_path(path, gp) != 0)
		return SAT_E_INVALID;
	if (fileio_open(gp, O_RDWR | O_CREAT, 0640,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &gfd) != 0)
		return SAT_E_STORE;
	/* world-readable: it holds a counter, no secret, and every reader
	 * of DB must read it, whatever group DB is later given */
	if (fchmod(gfd, 0644) != 0 || read_gen(gfd, &g) != 0)
		goto fail;
	/* a new writer: the file may have been rebuilt from its base or
	 * put back by hand, so no view opened before may be trusted; the
	 * next even value, which also ends a dead writer's odd one */
	g = (g | 1) + 1;
	if (pwrite(gfd, &g, sizeof(g), 0) != (ssize_t)sizeof(g) ||
	    pwrite(gfd, gen_mark, sizeof(gen_mark), 8) !=
	    (ssize_t)sizeof(gen_mark))
		goto fail;
	*ret_fd = gfd;
	*ret_gen = g;
	return 0;
fail:
	close(gfd);
	return SAT_E_STORE;
}

int
kv_open_writer(const char *path, unsigned timeout_ms, struct kv **ret,
    int *ret_created)
{
	char lockpath[4096];
	struct stat st;
	struct kv *kv;
	size_t cache = WRITER_CACHE_BUCKETS;
	int fd = -1, lockfd = -1, r, created = 0;

	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >=
	    (int)sizeof(lockpath))
		return SAT_E_INVALID;
	r = fileio_open(lockpath, O_RDWR | O_CREAT, 0600,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &lockfd);
	if (r != 0)
		return r == SAT_E_NOMEM ? r : SAT_E_STORE;
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		close(lockfd);
		return SAT_E_CONFLICT;
	}
	r = fileio_open(path, O_RDWR | O_CREAT, 0640,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &fd);
	if (r != 0) {
		close(lockfd);
		return r == SAT_E_NOMEM ? r : SAT_E_STORE;
	}
	if ((r = lock_wait(fd, LOCK_EX, timeout_ms)) != 0)
		goto fail;
	if (fstat(fd, &st) != 0) {
		r = SAT_E_STORE;
		goto fail;
	}
	if (st.st_size == 0) {
		created = 1;
		/* the umask must not decide who can read the store */
		if (fchmod(fd, 0640) != 0) {
			r = SAT_E_STORE;
			goto fail;
		}
	}
	if ((kv = calloc(1, sizeof(*kv))) == NULL) {
		r = SAT_E_NOMEM;
		goto fail;
	}
	/* No mmap: the file grows at every few commits and GDBM then
	 * unmaps and maps it whole again, and every page touched after
	 * that faults back in (a third of the daemon's time when minting,
	 * and the mapped pages count in its RSS).  pread and pwrite on the
	 * page cache cost less than that. */
	kv->dbf = gdbm_fd_open(fd, path, 0,
	    GDBM_WRCREAT | GDBM_NOLOCK | GDBM_XVERIFY | GDBM_NOMMAP, NULL);
	if (kv->dbf == NULL) {
		free(kv);
		r = SAT_E_STORE;
		goto fail;
	}
	/* GDBM's automatic cache keeps a copy of every bucket it has read,
	 * about one per 100 records: 40 MB at a million tokens.  A fixed
	 * cache bounds it; a miss is a pread from the page cache. */
	if (gdbm_setopt(kv->dbf, GDBM_SETCACHESIZE, &cache, sizeof(cache)) != 0) {
		gdbm_close(kv->dbf);
		free(kv);
		close(lockfd);
		return SAT_E_STORE;
	}
	if (created && gdbm_sync(kv->dbf) != 0) {
		gdbm_close(kv->dbf);
		free(kv);
		close(lockfd);
		return SAT_E_STORE;
	}
	if ((r = writer_open_gen(path, &kv->genfd, &kv->gen)) != 0) {
		gdbm_close(kv->dbf);
		free(kv);
		close(lockfd);
		return r;
	}
	flock(fd, LOCK_UN);
	kv->fd = fd;
	kv->lockfd = lockfd;
	kv->writer = 1;
	*ret = kv;
	if (ret_created != NULL)
		*ret_created = created;
	return 0;
fail:
	close(fd);
	close(lockfd);
	return r;
}

void
kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	if (kv->dbf != NULL)
		gdbm_close(kv->dbf);	/* closes kv->fd and drops its lock */
	if (kv->lockfd >= 0)
		close(kv->lockfd);
	if (kv->genfd >= 0)
		close(kv->genfd);
	free(kv);
}

int
kv_fetch(struct kv *kv, const void *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	datum k, v;
	int err;

	if (klen > INT32_MAX)
		return SAT_E_INVALID;
	k.dptr = (char *)key;
	k.dsize = (int)klen;
	v = gdbm_fetch(kv->dbf, k);
	if (v.dptr == NULL) {
		/* read the cause now: a later GDBM call may overwrite it */
		err = gdbm_errno;
		if (err == GDBM_ITEM_NOT_FOUND)
			return SAT_E_NOTFOUND;
		return err == GDBM_MALLOC_ERROR ? SAT_E_NOMEM : SAT_E_STORE;
	}
	if (v.dsize < 0) {
		free(v.dptr);
		return SAT_E_STORE;
	}
	*ret_val = v.dptr;
	*ret_len = (size_t)v.dsize;
	return 0;
}

int
kv_put(struct kv *kv, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	datum k, v;

	if (!kv->writer)
		return SAT_E_INTERNAL;
	if (klen > INT32_MAX || vlen > INT32_MAX)
		return SAT_E_INVALID;
	k.dptr = (char *)key;
	k.dsize = (int)klen;
	v.dptr = (char *)val;
	v.dsize = (int)vlen;
	return gdbm_store(kv->dbf, k, v, GDBM_REPLACE) == 0 ? 0 : SAT_E_STORE;
}

int
kv_delete(struct kv *kv, const void *key, size_t klen)
{
	datum k;

	if (!kv->writer)
		return SAT_E_INTERNAL;
	if (klen > INT32_MAX)
		return SAT_E_INVALID;
	k.dptr = (char *)key;
	k.dsize = (int)klen;
	if (gdbm_delete(kv->dbf, k) == 0)
		return 0;
	return gdbm_errno == GDBM_ITEM_NOT_FOUND ? 0 : SAT_E_STORE;
}

int
kv_iterate(struct kv *kv, kv_iter_fn fn, void *arg)
{
	datum k, next;
	int r = 0, err;

	gdbm_errno = GDBM_NO_ERROR;
	k = gdbm_firstkey(kv->dbf);
	while (k.dptr != NULL) {
		if (k.dsize < 0) {
			free(k.dptr);
			return SAT_E_STORE;
		}
		if ((r = fn(arg, k.dptr, (size_t)k.dsize)) != 0) {
			free(k.dptr);
			return r;
		}
		next = gdbm_nextkey(kv->dbf, k);
		free(k.dptr);
		k = next;
	}
	err = gdbm_errno;
	return err == GDBM_ITEM_NOT_FOUND || err == GDBM_NO_ERROR ? 0 :
	    SAT_E_STORE;
}

uint64_t
kv_size(struct kv *kv)
{
	struct stat st;

	if (fstat(kv->fd, &st) != 0 || st.st_size < 0)
		return 0;
	return (uint64_t)st.st_size;
}

int
kv_begin_write(struct kv *kv, unsigned timeout_ms)
{
	uint64_t g;
	int r;

	if (!kv->writer)
		return SAT_E_INTERNAL;
	if ((r = lock_wait(kv->fd, LOCK_EX, timeout_ms)) != 0)
		return r;
	/* made odd before anything is written: a reader reading without
	 * the lock sees it change and reads again; if it cannot be
	 * changed nothing is written.  (Odd already: the end of the last
	 * write could not be marked.) */
	g = kv->gen + ((kv->gen & 1) != 0 ? 2 : 1);
	if (pwrite(kv->genfd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
		flock(kv->fd, LOCK_UN);
		return SAT_E_STORE;
	}
	kv->gen = g;
	return 0;
}

int
kv_sync(struct kv *kv)
{
	return gdbm_sync(kv->dbf) == 0 ? 0 : SAT_E_STORE;
}

void
kv_end_write(struct kv *kv)
{
	uint64_t g;

	if (!kv->writer)
		return;
	/* even again, and higher than any value a view was opened at.  If
	 * this write fails the counter stays odd: readers then take the
	 * lock and never keep a view, until the next write ends well. */
	g = kv->gen + 1;
	if ((kv->gen & 1) != 0 &&
	    pwrite(kv->genfd, &g, sizeof(g), 0) == (ssize_t)sizeof(g))
		kv->gen = g;
	flock(kv->fd, LOCK_UN);
}
