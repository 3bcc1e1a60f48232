#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "storefile.h"

#define PATH_LEN	4096

void
storefile_init(struct storefile *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->lockfd = -1;
	f->genfd = -1;
}

int
storefile_path(const char *db, const char *suffix, char **ret)
{
	size_t a = strlen(db), b = strlen(suffix);
	char *p;

	if (a + b >= PATH_LEN)
		return SAT_E_INVALID;
	if ((p = malloc(a + b + 1)) == NULL)
		return SAT_E_NOMEM;
	memcpy(p, db, a);
	memcpy(p + a, suffix, b + 1);
	*ret = p;
	return 0;
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
		return SAT_E_STORE;
	*ret = g;
	return 0;
}

/* flock with a deadline: GDBM-style locks never block, so we poll with
 * a short, growing sleep rather than wait for ever. */
static int
lock_wait(int fd, int op, unsigned timeout_ms)
{
	struct timespec nap = { 0, 50 * 1000 };	/* 50 us, doubling to 5 ms */
	int64_t deadline;

	/* the common case, an uncontended lock, reads no clock.  The
	 * deadline is in nanoseconds: whole milliseconds would give up as
	 * much as one early (test_store caught 199 of 200 ms) */
	if (flock(fd, op | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR)
		return SAT_E_STORE;
	deadline = clock_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 5 * 1000 * 1000)
			nap.tv_nsec *= 2;
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return SAT_E_STORE;
		if (clock_ns() >= deadline)
			return SAT_E_STORE;
	}
}

/* Under the shared lock: the generation as this handle first saw it.
 * No DB.gen (no writer made one yet) leaves genfd -1: the view then
 * serves this check only.  Any other failure is an error: fail closed,
 * as for the store. */
static int
reader_note_gen(struct storefile *f, const char *path)
{
	char *gp = NULL;
	int r;

	if ((r = storefile_path(path, ".gen", &gp)) != 0)
		goto out;
	r = fileio_open(gp, O_RDONLY, 0, FILEIO_REGULAR | FILEIO_NOT_WRITABLE,
	    &f->genfd);
	if (r == SAT_E_NOTFOUND) {
		f->genfd = -1;
		r = 0;
		goto out;
	}
	if (r == 0)
		r = read_gen(f->genfd, &f->gen);
out:
	free(gp);
	return storefile_err(r);
}

int
storefile_open_reader(struct storefile *f, const char *path,
    unsigned timeout_ms)
{
	int r;

	r = fileio_open(path, O_RDONLY, 0, FILEIO_REGULAR | FILEIO_NOT_WRITABLE |
	    FILEIO_OWNER_DAEMON | FILEIO_DIR_PRIVATE, &f->fd);
	if (r != 0)
		goto out;
	if ((r = lock_wait(f->fd, LOCK_SH, timeout_ms)) != 0)
		goto out;
	f->locked = 1;
	r = reader_note_gen(f, path);
out:
	if (r != 0) {
		if (f->fd >= 0)
			close(f->fd);	/* and so drops the lock */
		storefile_close(f);
		storefile_init(f);
	}
	return storefile_err(r);
}

int
storefile_pause(struct storefile *f, int *ret_torn)
{
	uint64_t g;

	if (f->writer)
		return SAT_E_INTERNAL;
	if (f->locked) {
		/* no writer could start while we held it: what we read
		 * was whole */
		f->locked = 0;
		if (flock(f->fd, LOCK_UN) != 0)
			return SAT_E_STORE;
		*ret_torn = 0;
		return 0;
	}
	/* read without the lock: whole only if no write began since
	 * resume (a write in progress then made the counter odd, and one
	 * that ended made it higher).  A counter that cannot be read is an
	 * error, as the store's own would be: refuse */
	if (f->genfd < 0) {
		*ret_torn = 1;
		return 0;
	}
	if (read_gen(f->genfd, &g) != 0)
		return SAT_E_STORE;
	*ret_torn = g != f->gen;
	return 0;
}

int
storefile_resume(struct storefile *f, int *ret_stale)
{
	struct stat st;
	uint64_t g;

	if (f->writer)
		return SAT_E_INTERNAL;
	/* no counter, a dead writer's odd one (the file may be torn: only
	 * ever read it under the lock), any write since we opened, or a
	 * counter that is no longer the store's (deleted, or replaced by a
	 * new one: a store made afresh): the cached buckets may be stale.
	 * The counter is never truncated or replaced by the daemon, so the
	 * same open file keeps telling. */
	if (f->genfd < 0 || (f->gen & 1) != 0) {
		*ret_stale = 1;
		return 0;
	}
	if (read_gen(f->genfd, &g) != 0 || fstat(f->genfd, &st) != 0)
		return SAT_E_STORE;	/* as any store error: refuse */
	*ret_stale = g != f->gen || st.st_nlink == 0;
	return 0;
}

int
storefile_open_writer(struct storefile *f, const char *path,
    unsigned timeout_ms, int *ret_created)
{
	char *lockpath = NULL;
	struct stat st;
	int r;

	if ((r = storefile_path(path, ".lock", &lockpath)) != 0)
		goto out;
	r = fileio_open(lockpath, O_RDWR | O_CREAT, 0600,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &f->lockfd);
	if (r != 0)
		goto out;
	if (flock(f->lockfd, LOCK_EX | LOCK_NB) != 0) {
		r = SAT_E_CONFLICT;
		goto out;
	}
	r = fileio_open(path, O_RDWR | O_CREAT, 0640,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &f->fd);
	if (r != 0)
		goto out;
	if ((r = lock_wait(f->fd, LOCK_EX, timeout_ms)) != 0)
		goto out;
	if (fstat(f->fd, &st) != 0) {
		r = SAT_E_STORE;
		goto out;
	}
	/* a new file: the umask must not decide who can read the store */
	if (st.st_size == 0 && fchmod(f->fd, 0640) != 0) {
		r = SAT_E_STORE;
		goto out;
	}
	f->writer = 1;
	*ret_created = st.st_size == 0;
out:
	free(lockpath);
	if (r != 0) {
		if (f->fd >= 0)
			close(f->fd);
		storefile_close(f);
		storefile_init(f);
	}
	return r == SAT_E_CONFLICT || r == SAT_E_INVALID ? r :
	    storefile_err(r);
}

/* DB.gen, never truncated: readers holding it open keep seeing the same
 * counter.  World-readable: it holds a counter, no secret, and every
 * reader of DB must read it, whatever group DB is later given. */
int
storefile_writer_ready(struct storefile *f, const char *path)
{
	char *gp = NULL;
	uint64_t g;
	int r;

	if ((r = storefile_path(path, ".gen", &gp)) != 0)
		goto out;
	r = fileio_open(gp, O_RDWR | O_CREAT, 0640,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &f->genfd);
	if (r != 0)
		goto out;
	if (fchmod(f->genfd, 0644) != 0 || read_gen(f->genfd, &g) != 0) {
		r = SAT_E_STORE;
		goto out;
	}
	/* a new writer: the file may have been rebuilt from its base or
	 * put back by hand, so no view opened before may be trusted; the
	 * next even value, which also ends a dead writer's odd one */
	g = (g | 1) + 1;
	if (pwrite(f->genfd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
		r = SAT_E_STORE;
		goto out;
	}
	f->gen = g;
	flock(f->fd, LOCK_UN);
out:
	free(gp);
	return storefile_err(r);
}

int
storefile_begin_write(struct storefile *f, unsigned timeout_ms)
{
	uint64_t g;
	int r;

	if (!f->writer)
		return SAT_E_INTERNAL;
	if ((r = lock_wait(f->fd, LOCK_EX, timeout_ms)) != 0)
		return r;
	/* made odd before anything is written: a reader reading without
	 * the lock sees it change and reads again; if it cannot be
	 * changed nothing is written.  (Odd already: the end of the last
	 * write could not be marked.) */
	g = f->gen + ((f->gen & 1) != 0 ? 2 : 1);
	if (pwrite(f->genfd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
		flock(f->fd, LOCK_UN);
		return SAT_E_STORE;
	}
	f->gen = g;
	return 0;
}

void
storefile_end_write(struct storefile *f)
{
	uint64_t g;

	if (!f->writer)
		return;
	/* even again, and higher than any value a view was opened at.  If
	 * this write fails the counter stays odd: readers then take the
	 * lock and never keep a view, until the next write ends well. */
	g = f->gen + 1;
	if ((f->gen & 1) != 0 &&
	    pwrite(f->genfd, &g, sizeof(g), 0) == (ssize_t)sizeof(g))
		f->gen = g;
	flock(f->fd, LOCK_UN);
}

void
storefile_close(struct storefile *f)
{
	if (f->lockfd >= 0)
		close(f->lockfd);
	if (f->genfd >= 0)
		close(f->genfd);
	f->lockfd = -1;
	f->genfd = -1;
}
