#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crc.h"
#include "err.h"
#include "fileio.h"
#include "journal.h"
#include "mem.h"
#include "storefile.h"

/* Why a journal plus a base copy, and not gdbm_recover:
 *
 * GDBM updates its file in place (bucket, then directory and header)
 * with plain writes, so a SIGKILL inside gdbm_store, or a power cut at
 * any time since the last fsync, can leave buckets, the directory and
 * the free lists disagreeing.  gdbm_recover salvages the buckets it can
 * read, but a torn bucket takes with it records that no journal of
 * recent changes holds, and a torn free list is not even detected: a
 * later store overwrites live records.  So the GDBM file is never
 * trusted after an unclean stop: it is rebuilt from a copy taken when
 * it was known good (DB.base, written at a checkpoint after gdbm_sync)
 * plus every batch committed since, which this journal holds.
 *
 * The order inside a commit is: header says DIRTY (once per session),
 * batch written and fdatasync'd, then GDBM updated without an fsync (the
 * journal is the durable copy; readers see the update through the page
 * cache at once).  A batch whose fdatasync did not return was never
 * acknowledged; its torn tail fails its CRC and replay stops there.  The
 * journal is emptied at a checkpoint (gdbm_sync, copy DB to DB.base,
 * truncate), so it stays small and restart replays little.  The price
 * is a second copy of the database on disk and a full copy per
 * JOURNAL_CHECKPOINT_BYTES of changes. */

#define HDR_SIZE	32
#define BATCH_HDR	20	/* magic 4, seq 8, count 4, length 4 */
#define BATCH_MAX	(512u * 1024 * 1024)
#define PREALLOC_STEP	(1024u * 1024)

static const uint8_t hdr_magic[8] = { 'S', 'A', 'T', 'J', 'R', 'N', 'L', '1' };
static const uint8_t batch_magic[4] = { 'S', 'J', 'B', '1' };

struct journal {
	char *db_path, *path, *base_path, *dir_path;
	int fd;			/* owned, flocked for life */
	enum journal_state state;
	uint64_t first_seq;	/* seq of the first batch after the header */
	uint64_t seq;		/* seq of the next batch */
	uint64_t end;		/* end of valid data */
	uint64_t last_start;	/* where the last written batch began */
	uint64_t alloc;		/* the file's size: zeros past end */
	int poisoned;		/* the file may differ from end, state,
				 * first_seq: heal before anything else */
	struct wbuf batch;	/* frame being built; may hold the HMAC key */
	uint32_t count;
};

/* The whole of n bytes at off, or SAT_E_IO; wr: write them.  p is only
 * read when writing. */
static int
pio_all(int fd, void *p, size_t n, uint64_t off, int wr)
{
	uint8_t *q = p;
	ssize_t r;

	while (n > 0) {
		r = wr ? pwrite(fd, q, n, (off_t)off) :
		    pread(fd, q, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return SAT_E_IO;
		q += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int
pread_all(int fd, void *p, size_t n, uint64_t off)
{
	return pio_all(fd, p, n, off, 0);
}

static int
pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	return pio_all(fd, (void *)p, n, off, 1);
}

static int
fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return SAT_E_IO;
	r = fsync(fd) == 0 ? 0 : SAT_E_IO;
	close(fd);
	return r;
}

static int
write_header(struct journal *j, enum journal_state st, uint64_t first_seq)
{
	struct wbuf w;
	uint8_t h[HDR_SIZE];
	int r;

	wbuf_init(&w);
	wbuf_put_bytes(&w, hdr_magic, sizeof(hdr_magic));
	wbuf_put_u32(&w, 1);
	wbuf_put_u32(&w, (uint32_t)st);
	wbuf_put_u64(&w, first_seq);
	wbuf_put_u32(&w, 0);
	if ((r = wbuf_status(&w)) != 0) {
		wbuf_free(&w);
		return r;
	}
	wbuf_put_u32(&w, crc32_ieee(0, w.p, w.len));
	if ((r = wbuf_status(&w)) != 0 || w.len != HDR_SIZE) {
		wbuf_free(&w);
		return r != 0 ? r : SAT_E_INTERNAL;
	}
	memcpy(h, w.p, HDR_SIZE);
	wbuf_free(&w);
	/* 32 bytes at offset 0: inside one sector, so never torn */
	if (pwrite_all(j->fd, h, HDR_SIZE, 0) != 0 || fdatasync(j->fd) != 0)
		return SAT_E_STORE;
	j->state = st;
	j->first_seq = first_seq;
	return 0;
}

static int
read_header(struct journal *j)
{
	uint8_t h[HDR_SIZE];
	uint32_t version, st, reserved, crc;
	uint64_t first;
	struct buf b;

	if (pread_all(j->fd, h, HDR_SIZE, 0) != 0)
		return SAT_E_STORE;
	buf_init(&b, h, sizeof(h));
	if (buf_expect(&b, hdr_magic, sizeof(hdr_magic)) != 0 ||
	    buf_get_u32(&b, &version) != 0 || buf_get_u32(&b, &st) != 0 ||
	    buf_get_u64(&b, &first) != 0 || buf_get_u32(&b, &reserved) != 0 ||
	    buf_get_u32(&b, &crc) != 0 || buf_expect_end(&b) != 0)
		return SAT_E_STORE;
	if (version != 1 || st > JOURNAL_BASELESS ||
	    crc != crc32_ieee(0, h, HDR_SIZE - 4))
		return SAT_E_STORE;
	j->state = (enum journal_state)st;
	j->first_seq = first;
	return 0;
}

/* Applies the entries of one batch payload (untrusted bytes from disk). */
static int
apply_payload(const uint8_t *p, size_t n, uint32_t count, journal_apply_fn fn,
    void *arg)
{
	struct buf b, key, val;
	uint16_t klen;
	uint8_t op;
	uint32_t vlen, i;
	int r;

	buf_init(&b, p, n);
	for (i = 0; i < count; i++) {
		if ((r = buf_get_u16(&b, &klen)) != 0 ||
		    (r = buf_get_bytes(&b, klen, &key)) != 0 ||
		    (r = buf_get_u8(&b, &op)) != 0 ||
		    (r = buf_get_u32(&b, &vlen)) != 0 ||
		    (r = buf_get_bytes(&b, vlen, &val)) != 0)
			return SAT_E_STORE;
		if (op != 1 && op != 2)
			return SAT_E_STORE;
		if (fn != NULL && (r = fn(arg, key.p, key.len,
		    op == 1 ? val.p : NULL, op == 1 ? val.len : 0)) != 0)
			return r;
	}
	return buf_expect_end(&b) == 0 ? 0 : SAT_E_STORE;
}

/* Walks the complete batches (checking each frame before fn sees any
 * of it) and leaves j->end and j->seq after the last good one. */
static int
scan(struct journal *j, journal_apply_fn fn, void *arg)
{
	struct stat st;
	uint8_t hb[BATCH_HDR];
	uint8_t *frame = NULL;
	uint64_t off = HDR_SIZE, seq = j->first_seq, bseq, size;
	uint32_t count, len, crc;
	struct buf b;
	int r = 0;

	if (fstat(j->fd, &st) != 0)
		return SAT_E_STORE;
	size = (uint64_t)st.st_size;
	j->alloc = size;
	while (off + BATCH_HDR + 4 <= size) {
		if (pread_all(j->fd, hb, BATCH_HDR, off) != 0)
			return SAT_E_STORE;
		buf_init(&b, hb, sizeof(hb));
		if (buf_expect(&b, batch_magic, sizeof(batch_magic)) != 0 ||
		    buf_get_u64(&b, &bseq) != 0 || buf_get_u32(&b, &count) != 0 ||
		    buf_get_u32(&b, &len) != 0)
			break;
		if (bseq != seq || len > BATCH_MAX ||
		    off + BATCH_HDR + len + 4 > size)
			break;	/* torn or stale tail: never acknowledged */
		if ((frame = malloc((size_t)BATCH_HDR + len + 4)) == NULL)
			return SAT_E_NOMEM;
		if (pread_all(j->fd, frame, BATCH_HDR + (size_t)len + 4, off) != 0) {
			sat_freezero(frame, BATCH_HDR + (size_t)len + 4);
			return SAT_E_STORE;
		}
		buf_init(&b, frame + BATCH_HDR + len, 4);
		(void)buf_get_u32(&b, &crc);
		if (crc != crc32_ieee(0, frame, BATCH_HDR + (size_t)len) ||
		    apply_payload(frame + BATCH_HDR, len, count, NULL, NULL) != 0) {
			sat_freezero(frame, BATCH_HDR + (size_t)len + 4);
			break;
		}
		if (fn != NULL)
			r = apply_payload(frame + BATCH_HDR, len, count, fn, arg);
		sat_freezero(frame, BATCH_HDR + (size_t)len + 4);
		if (r != 0)
			return r;
		off += BATCH_HDR + (uint64_t)len + 4;
		seq++;
	}
	j->end = off;
	j->last_start = off;
	j->seq = seq;
	return 0;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	wbuf_free(&j->batch);
	if (j->fd >= 0)
		close(j->fd);	/* drops the lock */
	free(j->db_path);
	free(j->path);
	free(j->base_path);
	free(j->dir_path);
	free(j);
}

int
journal_open(const char *db_path, struct journal **ret,
    enum journal_state *ret_state)
{
	struct journal *j;
	struct stat st;
	char *slash;
	int r;

	if (db_path == NULL || db_path[0] != '/')
		return SAT_E_INVALID;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SAT_E_NOMEM;
	j->fd = -1;
	wbuf_init(&j->batch);
	if ((r = storefile_path(db_path, "", &j->db_path)) != 0 ||
	    (r = storefile_path(db_path, ".journal", &j->path)) != 0 ||
	    (r = storefile_path(db_path, ".base", &j->base_path)) != 0 ||
	    (r = storefile_path(db_path, "", &j->dir_path)) != 0)
		goto fail;
	slash = strrchr(j->dir_path, '/');
	slash[slash == j->dir_path ? 1 : 0] = '\0';

	r = fileio_open(j->path, O_RDWR | O_CREAT, 0600,
	    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &j->fd);
	if (r != 0) {
		r = storefile_err(r);
		goto fail;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? SAT_E_CONFLICT : SAT_E_STORE;
		goto fail;
	}
	if (fstat(j->fd, &st) != 0) {
		r = SAT_E_STORE;
		goto fail;
	}
	if (st.st_size == 0) {
		/* new (or created by a writer that died before its header) */
		if ((r = write_header(j, JOURNAL_BASELESS, 1)) != 0 ||
		    (r = fsync_dir(j->dir_path)) != 0)
			goto fail;
	} else if ((r = read_header(j)) != 0) {
		goto fail;
	}
	if ((r = scan(j, NULL, NULL)) != 0)
		goto fail;
	*ret_state = j->state;
	*ret = j;
	return 0;
fail:
	journal_close(j);
	return r == SAT_E_NOMEM || r == SAT_E_CONFLICT ? r : SAT_E_STORE;
}

/* Copies src into a new dst_tmp (mode 0600, then owner and mode as
 * asked), fsyncs it and renames it to dst, then fsyncs the directory. */
static int
copy_file(const char *src, const char *dst_tmp, const char *dst,
    const char *dir, const struct stat *like)
{
	char buf[65536];
	int in = -1, out = -1, r = SAT_E_STORE;
	ssize_t n;
	off_t pos = 0;
	struct stat st;

	if ((r = fileio_open(src, O_RDONLY, 0, FILEIO_REGULAR, &in)) != 0)
		return storefile_err(r);
	r = SAT_E_STORE;
	(void)unlink(dst_tmp);
	if (fileio_open(dst_tmp, O_WRONLY | O_CREAT | O_EXCL, 0600,
	    FILEIO_REGULAR, &out) != 0)
		goto out;
	if (fstat(in, &st) != 0)
		goto out;
	while (pos < st.st_size) {
		n = copy_file_range(in, NULL, out, NULL,
		    (size_t)(st.st_size - pos), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* unsupported here, or the file shrank */
		pos += n;
	}
	/* fall back to plain copying from wherever copy_file_range stopped */
	if (pos < st.st_size) {
		if (lseek(in, pos, SEEK_SET) != pos || lseek(out, pos, SEEK_SET) != pos)
			goto out;
		for (;;) {
			n = read(in, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				goto out;
			if (n == 0)
				break;
			if (fileio_write_all(out, buf, (size_t)n) != 0)
				goto out;
		}
	}
	if (like != NULL) {
		if ((like->st_uid != geteuid() || like->st_gid != getegid()) &&
		    fchown(out, like->st_uid, like->st_gid) != 0)
			goto out;
		if (fchmod(out, like->st_mode & 0777) != 0)
			goto out;
	}
	if (fsync(out) != 0)
		goto out;
	close(out);
	out = -1;
	if (rename(dst_tmp, dst) != 0)
		goto out;
	r = fsync_dir(dir);
out:
	sat_wipe(buf, sizeof(buf));
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		(void)unlink(dst_tmp);
	}
	return r;
}

int
journal_restore_base(struct journal *j)
{
	struct stat st, *like = NULL;
	char *tmp;
	int fd, r;

	/* the rebuilt file gets the old one's owner and mode (0640, group
	 * satoken), so the modules can still read it */
	if (fileio_open(j->db_path, O_RDONLY, 0, FILEIO_REGULAR, &fd) == 0) {
		if (fstat(fd, &st) == 0)
			like = &st;
		close(fd);
	}
	if (like == NULL) {
		memset(&st, 0, sizeof(st));
		st.st_uid = geteuid();
		st.st_gid = getegid();
		st.st_mode = 0640;
		like = &st;
	}
	if ((r = storefile_path(j->db_path, ".restore", &tmp)) != 0)
		return storefile_err(r);
	r = copy_file(j->base_path, tmp, j->db_path, j->dir_path, like);
	free(tmp);
	return storefile_err(r);
}

/* A write, a truncation or a header update failed (EIO, a full disk),
 * so the file may hold a batch past end that was never acknowledged, or
 * a header that is not j->state and j->first_seq.  Makes the file what
 * j says, durably, before anything else is written or replayed: a fault
 * that has passed must not leave the writer refusing every change until
 * a restart, and a batch taken back must never be replayed. */
static int
heal(struct journal *j)
{
	if (!j->poisoned)
		return 0;
	if (ftruncate(j->fd, (off_t)j->end) != 0)
		return SAT_E_STORE;
	j->alloc = j->end;
	/* its fdatasync also makes the truncation durable */
	if (write_header(j, j->state, j->first_seq) != 0)
		return SAT_E_STORE;
	j->poisoned = 0;
	return 0;
}

int
journal_replay(struct journal *j, journal_apply_fn fn, void *arg)
{
	/* a batch that was taken back must not come back with a rebuild */
	if (heal(j) != 0)
		return SAT_E_STORE;
	return scan(j, fn, arg);
}

int
journal_add(struct journal *j, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	if (klen > UINT16_MAX || vlen > UINT32_MAX)
		return SAT_E_INVALID;
	if (j->count == 0) {
		wbuf_free(&j->batch);
		wbuf_put_bytes(&j->batch, batch_magic, sizeof(batch_magic));
		wbuf_put_u64(&j->batch, j->seq);
		wbuf_put_u32(&j->batch, 0);	/* count, patched */
		wbuf_put_u32(&j->batch, 0);	/* length, patched */
	}
	wbuf_put_u16(&j->batch, (uint16_t)klen);
	wbuf_put_bytes(&j->batch, key, klen);
	wbuf_put_u8(&j->batch, val != NULL ? 1 : 2);
	wbuf_put_u32(&j->batch, val != NULL ? (uint32_t)vlen : 0);
	if (val != NULL)
		wbuf_put_bytes(&j->batch, val, vlen);
	j->count++;
	return wbuf_status(&j->batch);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Keeps the file written with zeros up to past need, a step at a time.
 * fdatasync after a write inside the file's size flushes the data alone;
 * after an append it must write the inode's new size too, a second
 * device write that made a third of each commit's wait.  scan stops at
 * the zeros (no batch magic), as at any torn tail. */
static int
prealloc(struct journal *j, uint64_t need)
{
	static const uint8_t zeros[65536];
	uint64_t off = j->alloc, to;
	size_t n;

	if (need <= j->alloc)
		return 0;
	to = (need / PREALLOC_STEP + 1) * PREALLOC_STEP;
	while (off < to) {
		n = to - off < sizeof(zeros) ? (size_t)(to - off) : sizeof(zeros);
		if (pwrite_all(j->fd, zeros, n, off) != 0)
			return SAT_E_STORE;
		off += n;
	}
	if (fdatasync(j->fd) != 0)
		return SAT_E_STORE;
	j->alloc = to;
	return 0;
}

/* The batch's fdatasync, the one that makes a commit durable.
 * tests/crash builds a daemon with SATOKEN_TEST_NO_BATCH_SYNC, which
 * leaves it out, to show that its power-cut checker catches that; no
 * other build defines it. */
static int
batch_sync(int fd)
{
#ifdef SATOKEN_TEST_NO_BATCH_SYNC
	(void)fd;
	return 0;
#else
	return fdatasync(fd);
#endif
}

int
journal_write(struct journal *j)
{
	size_t len;
	int r;

	if (j->count == 0)
		return 0;
	if (heal(j) != 0) {
		journal_discard(j);
		return SAT_E_STORE;
	}
	if ((r = wbuf_status(&j->batch)) != 0 ||
	    j->batch.len - BATCH_HDR > BATCH_MAX) {
		journal_discard(j);
		return r != 0 ? r : SAT_E_INVALID;
	}
	len = j->batch.len - BATCH_HDR;
	put_be32(j->batch.p + 12, j->count);
	put_be32(j->batch.p + 16, (uint32_t)len);
	wbuf_put_u32(&j->batch, crc32_ieee(0, j->batch.p, j->batch.len));
	if ((r = wbuf_status(&j->batch)) != 0) {
		journal_discard(j);
		return r;
	}
	if (prealloc(j, j->end + j->batch.len) != 0 ||
	    pwrite_all(j->fd, j->batch.p, j->batch.len, j->end) != 0 ||
	    batch_sync(j->fd) != 0) {
		/* a half-written frame fails its CRC anyway; a whole one
		 * that did not sync must not be replayed as acknowledged */
		if (ftruncate(j->fd, (off_t)j->end) != 0 || fdatasync(j->fd) != 0)
			j->poisoned = 1;
		j->alloc = j->end;
		journal_discard(j);
		return SAT_E_STORE;
	}
	j->last_start = j->end;
	j->end += j->batch.len;
	j->seq++;
	journal_discard(j);
	return 0;
}

void
journal_discard(struct journal *j)
{
	wbuf_free(&j->batch);
	j->count = 0;
}

int
journal_cancel(struct journal *j)
{
	int r = 0;

	if (j->last_start == j->end)
		return 0;
	/* the batch is gone whatever happens: the next write goes where it
	 * began, and heal() truncates first if this truncation failed */
	if (ftruncate(j->fd, (off_t)j->last_start) != 0 ||
	    fdatasync(j->fd) != 0) {
		j->poisoned = 1;
		r = SAT_E_STORE;
	}
	j->end = j->last_start;
	j->alloc = j->end;
	j->seq--;
	return r;
}

int
journal_set_state(struct journal *j, enum journal_state st)
{
	int r;

	if ((r = heal(j)) != 0)
		return r;
	if (j->state == st)
		return 0;
	if ((r = write_header(j, st, j->first_seq)) != 0) {
		/* what the header says is unknown: heal() writes it again */
		j->state = st;
		j->poisoned = 1;
	}
	return r;
}

enum journal_state
journal_state(const struct journal *j)
{
	return j->state;
}

uint64_t
journal_size(const struct journal *j)
{
	return j->end - HDR_SIZE;
}

int
journal_checkpoint(struct journal *j)
{
	char *tmp;
	int r;

	if (heal(j) != 0)
		return SAT_E_STORE;
	if ((r = storefile_path(j->db_path, ".base.tmp", &tmp)) != 0)
		return storefile_err(r);
	r = copy_file(j->db_path, tmp, j->base_path, j->dir_path, NULL);
	free(tmp);
	if (r != 0)
		return storefile_err(r);
	/* the base now holds every batch: drop them.  A crash before the
	 * header is synced leaves old batches that replay idempotently */
	r = 0;
	if (ftruncate(j->fd, HDR_SIZE) != 0 ||
	    write_header(j, JOURNAL_CLEAN, j->seq) != 0) {
		/* any state in between replays right on the new base;
		 * heal() finishes the job before the next batch */
		j->state = JOURNAL_CLEAN;
		j->first_seq = j->seq;
		j->poisoned = 1;
		r = SAT_E_STORE;
	}
	j->end = HDR_SIZE;
	j->alloc = HDR_SIZE;
	j->last_start = HDR_SIZE;
	return r;
}
