#include <errno.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
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
	int fd;		/* the database; owned by dbf */
	int writer;
};

int
kv_open(int fd, const char *path, int writer, int created, struct kv **ret)
{
	size_t cache = writer ? WRITER_CACHE_BUCKETS : READER_CACHE_BUCKETS;
	struct kv *kv = NULL;
	int r = SAT_E_STORE;

	if ((kv = calloc(1, sizeof(*kv))) == NULL) {
		close(fd);
		r = SAT_E_NOMEM;
		goto out;
	}
	kv->fd = fd;
	kv->writer = writer;
	/* CLOERROR: GDBM closes fd (and so drops the caller's lock) if it
	 * fails.
	 *
	 * A reader: no XVERIFY: it walks the whole file at open, a cost
	 * that grows with the store, and a view is opened afresh
	 * after every write the daemon makes and in every forked sshd.
	 * GDBM still checks the header and directory at open and each
	 * bucket as it reads it (GDBM_BAD_BUCKET, GDBM_BAD_HASH_TABLE...);
	 * a corrupt one is an error and refused like any store error.  The
	 * writer, which opens once, keeps XVERIFY.
	 *
	 * No mmap: mapping a large store costs at every open, and each
	 * bucket missed in the cache then faults its pages in one by one,
	 * so at a million tokens a warm PAM login costs more mapped than
	 * through pread, and a cold one (one login per sshd child) more
	 * still (the figures are in README's Performance).  The writer's
	 * file grows at every few commits and GDBM then unmaps and maps it
	 * whole again, and every page touched after that faults back in (a
	 * third of the daemon's time when minting, and the mapped pages
	 * count in its RSS): pread and pwrite on the page cache cost less. */
	kv->dbf = gdbm_fd_open(fd, path, 0, writer ?
	    GDBM_WRCREAT | GDBM_NOLOCK | GDBM_CLOERROR | GDBM_XVERIFY |
	    GDBM_NOMMAP :
	    GDBM_READER | GDBM_NOLOCK | GDBM_CLOERROR | GDBM_NOMMAP, NULL);
	if (kv->dbf == NULL)
		goto out;
	/* GDBM's automatic cache keeps a copy of every bucket it has read,
	 * about one per 100 records: 40 MB at a million tokens.  A fixed
	 * cache bounds it; a miss is a pread from the page cache. */
	if (gdbm_setopt(kv->dbf, GDBM_SETCACHESIZE, &cache, sizeof(cache)) != 0)
		goto out;
	if (created && gdbm_sync(kv->dbf) != 0)
		goto out;
	r = 0;
out:
	if (r != 0 && kv != NULL) {
		kv_close(kv);
		kv = NULL;
	}
	*ret = kv;
	return r;
}

void
kv_close(struct kv *kv)
{
	if (kv == NULL)
		return;
	if (kv->dbf != NULL)
		gdbm_close(kv->dbf);	/* closes kv->fd and drops its lock */
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
kv_sync(struct kv *kv)
{
	return gdbm_sync(kv->dbf) == 0 ? 0 : SAT_E_STORE;
}
