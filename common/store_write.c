#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "journal.h"
#include "mem.h"
#include "store_impl.h"

/* The store's writer (satokend's side; no module links this file): the
 * staged changes read through, the one durable commit, undo, rebuild,
 * the committer thread and checkpoints.
 *
 * The one path a batch takes to disk, whoever staged it (a request, a
 * purge, a restore, a fleet follower through store_apply):
 *   commit_prepare   the staged batch goes in a journal frame and in
 *                    flight (still read through)
 *   journal_write    the frame is written and fdatasync'd: inline
 *                    (store_commit) or on the committer thread
 *                    (store_commit_begin ... store_commit_end)
 *   commit_finish    the batch is applied to GDBM under the exclusive
 *                    lock, or taken back; checkpoint when due */

/* The committer thread: it writes and fdatasyncs one journal frame at a
 * time while the daemon runs the next batch (group commit that overlaps
 * the fsync).  Everything else stays on the caller's thread: the
 * thread touches the journal only between go and done. */
struct committer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, done, quit;
	int r;			/* journal_write's result */
	int efd;		/* eventfd: readable once done */
	struct journal *j;
};

struct store_writer {
	struct store s;			/* first: a writer is a store */
	struct journal *journal;
	uint64_t checkpoint_at;		/* journal size that triggers one */
	int recovered;			/* rebuilt at open */
	char *path;			/* the database, for a rebuild */
	int opened;			/* fully opened */
	struct store_batch stg;		/* staged */
	/* while a savepoint is set: what was staged before it (stg then
	 * holds what came after); read between stg and fl */
	struct store_batch sp;
	int sp_on;
	/* a batch whose journal frame is being written: still read through
	 * (between stg and the file), applied by store_commit_end */
	struct store_batch fl;
	int in_flight;
	struct committer *cm;	/* started by the first store_commit_begin */
};

static const struct store_ops writer_ops;

/* The writer behind s, or NULL for a reader: every writer-only call
 * refuses a reader (SAT_E_INTERNAL). */
static struct store_writer *
writer_of(struct store *s)
{
	return s->ops == &writer_ops ? (struct store_writer *)s : NULL;
}

/* The writer of s with no batch in flight: what a commit, or a change
 * staged under one, needs; NULL otherwise. */
static struct store_writer *
idle_writer(struct store *s)
{
	struct store_writer *w = writer_of(s);

	return w != NULL && !w->in_flight ? w : NULL;
}

static const struct store_writer *
cwriter_of(const struct store *s)
{
	return s->ops == &writer_ops ? (const struct store_writer *)s : NULL;
}

/* ---- the database file: opened, closed, rebuilt ---- */

static void
db_close(struct store_writer *w)
{
	kv_close(w->s.kv);
	w->s.kv = NULL;
	storefile_close(&w->s.file);
	storefile_init(&w->s.file);
}

/* The writer's lock on DB.lock, the file, and a new writer's counter. */
static int
db_open(struct store_writer *w, int *ret_created)
{
	int r, created = 0;

	if ((r = storefile_open_writer(&w->s.file, w->path, w->s.timeout_ms,
	    &created)) != 0)
		goto out;
	if ((r = kv_open(w->s.file.fd, w->path, 1, created, &w->s.kv)) != 0)
		goto out;
	r = storefile_writer_ready(&w->s.file, w->path);
out:
	if (r != 0)
		db_close(w);
	else
		*ret_created = created;
	return r;
}

static int
replay_one(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct store *s = arg;

	return val != NULL ? kv_put(s->kv, key, klen, val, vlen) :
	    kv_delete(s->kv, key, klen);
}

/* The last writer died with the GDBM file possibly torn: the file was
 * just rebuilt from the base copy; put every journalled batch back on
 * it, sync, and take a new base (see journal.c for why). */
static int
recover(struct store_writer *w)
{
	int r;

	if ((r = storefile_begin_write(&w->s.file, w->s.timeout_ms)) != 0)
		return r;
	if ((r = journal_replay(w->journal, replay_one, &w->s)) == 0)
		r = kv_sync(w->s.kv);
	storefile_end_write(&w->s.file);
	if (r == 0)
		r = journal_checkpoint(w->journal);
	return r;
}

/* GDBM failed in the middle of applying a batch (a full disk, EIO): its
 * handle now refuses every call, and the file may hold part of a batch
 * the client was told failed.  Rebuild at once, as the next start would:
 * the base copy plus the journal, from which that batch was taken back.
 * If the rebuild fails too, the writer has no handle; the next request
 * tries again (writer_kv), and meanwhile it is refused (the journal
 * stays DIRTY, so a restart rebuilds). */
static void
rebuild(struct store_writer *w)
{
	int created = 0;

	db_close(w);
	if (journal_restore_base(w->journal) != 0 ||
	    db_open(w, &created) != 0)
		return;
	if (created || recover(w) != 0)
		db_close(w);
}

/* The writer's GDBM handle, rebuilt first if a failed commit and its
 * rebuild left none: a fault that has passed (a disk that was full, an
 * EIO) must not leave the daemon refusing every request until it is
 * restarted.  NULL if it still cannot be had.  Never while a frame is
 * in flight: the rebuild replays the journal the committer writes. */
static struct kv *
writer_kv(struct store_writer *w)
{
	if (w->s.kv == NULL && w->opened && !w->in_flight)
		rebuild(w);
	return w->s.kv;
}

/* GDBM failed to read or sync the writer's file (EIO): libgdbm then
 * marks the handle as needing recovery and fails every later call, so
 * the writer would refuse everything until a restart.  The handle is
 * dropped and writer_kv rebuilds it at the next access (base copy and
 * journal, as a restart would).  Returns r. */
static int
kv_failed(struct store_writer *w, int r)
{
	if (r == SAT_E_STORE && w->s.kv != NULL) {
		kv_close(w->s.kv);
		w->s.kv = NULL;
	}
	return r;
}

/* ---- reads through the staged changes (struct store_ops) ---- */

/* A raw read that sees staged changes first, then those in flight. */
static int
writer_fetch(struct store *s, const void *key, size_t klen, void **ret_val,
    size_t *ret_len)
{
	struct store_writer *w = (struct store_writer *)s;
	const struct store_change *c;
	void *v;

	if ((c = store_batch_find(&w->stg, key, klen)) != NULL ||
	    (w->sp_on && (c = store_batch_find(&w->sp, key, klen)) != NULL) ||
	    (c = store_batch_find(&w->fl, key, klen)) != NULL) {
		if (c->val == NULL)
			return SAT_E_NOTFOUND;
		if ((v = malloc(c->vlen > 0 ? c->vlen : 1)) == NULL)
			return SAT_E_NOMEM;
		memcpy(v, c->val, c->vlen);
		*ret_val = v;
		*ret_len = c->vlen;
		return 0;
	}
	if (writer_kv(w) == NULL)	/* a rebuild that failed */
		return SAT_E_STORE;
	return kv_failed(w, kv_fetch(s->kv, key, klen, ret_val, ret_len));
}

static int
writer_iterate(struct store *s, kv_iter_fn fn, void *arg)
{
	struct store_writer *w = (struct store_writer *)s;

	if (writer_kv(w) == NULL)
		return SAT_E_STORE;
	return kv_failed(w, kv_iterate(s->kv, fn, arg));
}

/* in flight first: staged changes are newer (those before a
 * savepoint older than those after it; sp is empty when none is set) */
static const struct store_batch *
writer_pending(const struct store *s, unsigned i)
{
	const struct store_writer *w = (const struct store_writer *)s;

	return i == 0 ? &w->fl : i == 1 ? &w->sp : i == 2 ? &w->stg : NULL;
}

static void committer_stop(struct store_writer *w);

static void
writer_close(struct store *s)
{
	struct store_writer *w = (struct store_writer *)s;

	if (w->in_flight)
		(void)store_commit_end(s);
	committer_stop(w);
	store_batch_free(&w->stg);
	store_batch_free(&w->sp);
	store_batch_free(&w->fl);
	/* a clean close spares the next start a rebuild; a writer that
	 * failed to open (a rebuild cut short) must leave it DIRTY */
	if (w->opened && s->kv != NULL &&
	    journal_state(w->journal) == JOURNAL_DIRTY &&
	    storefile_begin_write(&s->file, s->timeout_ms) == 0) {
		if (kv_sync(s->kv) == 0)
			(void)journal_set_state(w->journal, JOURNAL_CLEAN);
		storefile_end_write(&s->file);
	}
	db_close(w);
	journal_close(w->journal);
	sat_wipe(s->hmac_key, sizeof(s->hmac_key));
	free(w->path);
	free(w);
}

static const struct store_ops writer_ops = {
	.fetch = writer_fetch,
	.iterate = writer_iterate,
	.pending = writer_pending,
	.close = writer_close,
};

int
store_stage(struct store *s, const void *key, size_t klen, uint8_t *val,
    size_t vlen)
{
	struct store_writer *w = writer_of(s);

	if (w == NULL) {
		sat_freezero(val, vlen);
		return SAT_E_INTERNAL;
	}
	return store_batch_take(&w->stg, key, klen, val, vlen);
}

/* ---- opening ---- */

static int
init_meta(struct store *s)
{
	struct sat_meta m;
	struct wbuf wb;
	int r;

	memset(&m, 0, sizeof(m));
	m.schema = STORE_SCHEMA;
	m.created_at = (int64_t)time(NULL);
	if ((r = token_new_key(m.hmac_key)) != 0)
		goto out;
	wbuf_init(&wb);
	if ((r = record_encode_meta(&m, &wb)) == 0) {
		r = store_stage(s, "m", 1, wb.p, wb.len);
		wbuf_init(&wb);
	}
	wbuf_free(&wb);
	if (r == 0)
		r = store_commit(s);
out:
	record_free_meta(&m);
	return r;
}

static int
no_key(void *arg, const void *key, size_t klen)
{
	return 1;
}

int
store_open_writer(const char *path, unsigned lock_timeout_ms,
    struct store **ret)
{
	struct store_writer *w;
	enum journal_state jst;
	int r, created = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SAT_E_NOMEM;
	w->s.ops = &writer_ops;
	w->s.timeout_ms = lock_timeout_ms;
	storefile_init(&w->s.file);
	w->checkpoint_at = JOURNAL_CHECKPOINT_BYTES;
	if ((r = storefile_path(path, "", &w->path)) != 0)
		goto out;
	/* the journal's lock makes us the only writer before DB is touched */
	if ((r = journal_open(path, &w->journal, &jst)) != 0)
		goto out;
	if (jst == JOURNAL_DIRTY && (r = journal_restore_base(w->journal)) != 0)
		goto out;
	if ((r = db_open(w, &created)) != 0)
		goto out;
	if (jst == JOURNAL_DIRTY) {
		r = recover(w);
		w->recovered = 1;
	} else if (jst == JOURNAL_BASELESS &&
	    (r = storefile_begin_write(&w->s.file, lock_timeout_ms)) == 0) {
		/* first run with a journal: DB as it stands is the base */
		r = kv_sync(w->s.kv);
		storefile_end_write(&w->s.file);
		if (r == 0)
			r = journal_checkpoint(w->journal);
	}
	if (r != 0)
		goto out;
	/* a new file, or one whose first commit never became durable */
	if ((created || kv_iterate(w->s.kv, no_key, NULL) == 0) &&
	    (r = init_meta(&w->s)) != 0)
		goto out;
	if ((r = store_load_meta(&w->s)) != 0)
		goto out;
	w->opened = 1;
	*ret = &w->s;
out:
	if (r != 0)
		store_close(&w->s);
	return r;
}

int
store_recovered(const struct store *s)
{
	const struct store_writer *w = cwriter_of(s);

	return w != NULL && w->recovered;
}

void
store_set_checkpoint_bytes(struct store *s, uint64_t bytes)
{
	struct store_writer *w = writer_of(s);

	if (w != NULL && bytes > 0)
		w->checkpoint_at = journal_size(w->journal) + bytes;
}

/* ---- commit ---- */

size_t
store_staged(const struct store *s)
{
	const struct store_writer *w = cwriter_of(s);

	return w != NULL ? w->stg.n + w->sp.n : 0;
}

void
store_rollback(struct store *s)
{
	struct store_writer *w = writer_of(s);

	if (w == NULL)
		return;
	store_batch_clear(&w->stg);
	store_batch_clear(&w->sp);
	w->sp_on = 0;
}

/* ---- savepoints (a control host's request, daemon/control.c) ---- */

static void
batch_swap(struct store_batch *a, struct store_batch *b)
{
	struct store_batch t = *a;

	*a = *b;
	*b = t;
}

int
store_savepoint(struct store *s)
{
	struct store_writer *w = writer_of(s);

	if (w == NULL || w->sp_on)
		return SAT_E_INTERNAL;
	/* sp is empty: its arrays become the new stg's */
	batch_swap(&w->sp, &w->stg);
	w->sp_on = 1;
	return 0;
}

const struct store_batch *
store_savepoint_changes(const struct store *s)
{
	const struct store_writer *w = cwriter_of(s);

	return w != NULL && w->sp_on ? &w->stg : NULL;
}

int
store_fetch_before(struct store *s, const void *key, size_t klen,
    void **ret_val, size_t *ret_len)
{
	struct store_writer *w = writer_of(s);
	struct store_batch hide;
	int r;

	if (w == NULL || !w->sp_on)
		return SAT_E_INTERNAL;
	/* the changes after the savepoint, out of sight for one read */
	hide = w->stg;
	memset(&w->stg, 0, sizeof(w->stg));
	r = writer_fetch(s, key, klen, ret_val, ret_len);
	w->stg = hide;
	return r;
}

int
store_savepoint_release(struct store *s)
{
	struct store_writer *w = writer_of(s);
	struct store_change *c;
	size_t i;
	int r = 0;

	if (w == NULL || !w->sp_on)
		return SAT_E_INTERNAL;
	/* the later change of a key replaces the earlier one, as if
	 * both had been staged in one batch */
	for (i = 0; i < w->stg.n && r == 0; i++) {
		c = &w->stg.v[i];
		if (c->val == NULL)
			r = store_batch_delete(&w->sp, c->key, c->klen);
		else {
			r = store_batch_take(&w->sp, c->key, c->klen, c->val,
			    c->vlen);
			c->val = NULL;
			c->vlen = 0;
		}
	}
	store_batch_clear(&w->stg);
	batch_swap(&w->sp, &w->stg);
	w->sp_on = 0;
	if (r != 0)
		store_rollback(s);
	return r;
}

void
store_savepoint_rollback(struct store *s)
{
	struct store_writer *w = writer_of(s);

	if (w == NULL || !w->sp_on)
		return;
	store_batch_clear(&w->stg);
	batch_swap(&w->sp, &w->stg);
	w->sp_on = 0;
}

/* Puts back the before-images of the first n applied changes, newest
 * first.  Best effort: it runs only after a failed apply. */
static void
undo(struct store *s, const struct store_change *before, size_t n)
{
	while (n-- > 0)
		(void)replay_one(s, before[n].key, before[n].klen,
		    before[n].val, before[n].vlen);
}

/* Journal bytes between checkpoints: a checkpoint copies the whole
 * DB, so a fixed step makes filling a large store quadratic (at 1M
 * tokens, a 400 MB copy every 4 MiB of changes).  Half the DB's size
 * bounds the copying to two bytes per journalled byte and a restart's
 * replay to half a DB's worth of changes. */
static uint64_t
checkpoint_step(struct store_writer *w)
{
	/* no handle after a failed sync (kv_failed): the default step */
	uint64_t half = w->s.kv != NULL ? kv_size(w->s.kv) / 2 : 0;

	return half > JOURNAL_CHECKPOINT_BYTES ? half : JOURNAL_CHECKPOINT_BYTES;
}

/* Past the threshold, sync DB and copy it to the base so the journal
 * (and a restart's replay) stays short.  The copy runs without the
 * exclusive lock: readers only read, and nothing writes while we copy,
 * so they need not wait for it.  The commit is already durable, so a
 * failure here only postpones the next attempt. */
static void
maybe_checkpoint(struct store_writer *w)
{
	uint64_t size = journal_size(w->journal);
	int r;

	if (size < w->checkpoint_at)
		return;
	if ((r = storefile_begin_write(&w->s.file, w->s.timeout_ms)) == 0) {
		r = kv_sync(w->s.kv);
		storefile_end_write(&w->s.file);
		(void)kv_failed(w, r);
	}
	if (r == 0 && journal_checkpoint(w->journal) == 0)
		w->checkpoint_at = checkpoint_step(w);
	else
		w->checkpoint_at = size + checkpoint_step(w);
}

/* Puts the staged changes in a journal frame and moves them in flight. */
static int
commit_prepare(struct store_writer *w)
{
	struct store_batch t;
	size_t i;
	int r;

	if (writer_kv(w) == NULL) {
		r = SAT_E_STORE;
		goto out;
	}
	if ((r = journal_set_state(w->journal, JOURNAL_DIRTY)) != 0)
		goto out;
	for (i = 0; i < w->stg.n && r == 0; i++)
		r = journal_add(w->journal, w->stg.v[i].key, w->stg.v[i].klen,
		    w->stg.v[i].val, w->stg.v[i].vlen);
	if (r != 0) {
		journal_discard(w->journal);
		goto out;
	}
	/* the staged batch goes in flight; the last in-flight one, empty,
	 * takes its place */
	t = w->fl;
	w->fl = w->stg;
	w->stg = t;
	w->in_flight = 1;
out:
	if (r != 0)
		store_batch_clear(&w->stg);
	return storefile_err(r);
}

/* Applies the in-flight batch, durable in the journal, to GDBM under
 * the exclusive lock (see journal.c for the order).  The before-images
 * are read first, without the lock: nothing else writes the file, and
 * readers are kept out only while it changes (their logins wait for the
 * exclusive section). */
static int
commit_apply(struct store_writer *w)
{
	struct store_change *before = NULL;
	const struct store_change *c;
	size_t i, applied = 0;
	void *old;
	size_t oldlen;
	int r = 0, locked = 0;

	if ((before = calloc(w->fl.n, sizeof(*before))) == NULL) {
		(void)journal_cancel(w->journal);
		r = SAT_E_NOMEM;
		goto out;
	}
	for (i = 0; i < w->fl.n && r == 0; i++) {
		c = &w->fl.v[i];
		memcpy(before[i].key, c->key, c->klen);
		before[i].klen = c->klen;
		r = kv_fetch(w->s.kv, c->key, c->klen, &old, &oldlen);
		if (r == 0) {
			before[i].val = old;
			before[i].vlen = oldlen;
		} else if (r == SAT_E_NOTFOUND) {
			r = 0;
		}
	}
	if (r == 0) {
		if ((r = storefile_begin_write(&w->s.file,
		    w->s.timeout_ms)) != 0) {
			/* nothing written: no rebuild */
			(void)journal_cancel(w->journal);
			goto out;
		}
		locked = 1;
	}
	for (i = 0; i < w->fl.n && r == 0; i++) {
		c = &w->fl.v[i];
		if ((r = replay_one(&w->s, c->key, c->klen, c->val,
		    c->vlen)) == 0)
			applied = i + 1;
	}
	if (locked) {
		if (r != 0)
			undo(&w->s, before, applied);
		storefile_end_write(&w->s.file);
	}
	if (r == 0) {
		maybe_checkpoint(w);
	} else {
		(void)journal_cancel(w->journal);
		rebuild(w);
	}
out:
	if (before != NULL) {
		for (i = 0; i < w->fl.n; i++)
			sat_freezero(before[i].val, before[i].vlen);
		free(before);
	}
	return r;
}

/* The in-flight batch's frame was written with result wr; applies it
 * when durable, and ends the flight either way.  A read that failed
 * meanwhile may have dropped the GDBM handle (kv_failed): then the
 * rebuild replays the journal, this batch included, so it is applied
 * (and in the new base: it must not be taken back); with no handle
 * after the rebuild it is taken back and refused. */
static int
commit_finish(struct store_writer *w, int wr)
{
	int r = wr;

	if (r == 0 && w->s.kv == NULL) {
		rebuild(w);
		if (w->s.kv == NULL) {
			(void)journal_cancel(w->journal);
			r = SAT_E_STORE;
		}
	} else if (r == 0) {
		r = commit_apply(w);
	}
	store_batch_clear(&w->fl);
	w->in_flight = 0;
	return storefile_err(r);
}

/* ---- the committer thread (group commit) ---- */

static void *
committer_main(void *arg)
{
	struct committer *cm = arg;
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&cm->mu);
	for (;;) {
		while (!cm->go && !cm->quit)
			pthread_cond_wait(&cm->cv, &cm->mu);
		if (cm->quit)
			break;
		cm->go = 0;
		pthread_mutex_unlock(&cm->mu);
		r = journal_write(cm->j);
		pthread_mutex_lock(&cm->mu);
		cm->r = r;
		cm->done = 1;
		pthread_mutex_unlock(&cm->mu);
		/* signalled without the lock, so that the waker does not
		 * wake a thread only to block it on the mutex */
		pthread_cond_signal(&cm->cv);
		while (write(cm->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&cm->mu);
	}
	pthread_mutex_unlock(&cm->mu);
	return NULL;
}

static int
committer_start(struct store_writer *w)
{
	struct committer *cm;
	sigset_t all, old;
	int r = SAT_E_STORE;

	if ((cm = calloc(1, sizeof(*cm))) == NULL)
		return SAT_E_NOMEM;
	cm->j = w->journal;
	if ((cm->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto out;
	pthread_mutex_init(&cm->mu, NULL);
	pthread_cond_init(&cm->cv, NULL);
	/* signals stay with the daemon's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&cm->th, NULL, committer_main, cm) == 0)
		r = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&cm->mu);
		pthread_cond_destroy(&cm->cv);
		close(cm->efd);
	}
out:
	if (r != 0)
		free(cm);
	else
		w->cm = cm;
	return r;
}

static void
committer_stop(struct store_writer *w)
{
	struct committer *cm = w->cm;

	if (cm == NULL)
		return;
	pthread_mutex_lock(&cm->mu);
	cm->quit = 1;
	pthread_cond_signal(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	pthread_join(cm->th, NULL);
	pthread_mutex_destroy(&cm->mu);
	pthread_cond_destroy(&cm->cv);
	close(cm->efd);
	free(cm);
	w->cm = NULL;
}

/* The staged batch on its way: its frame goes to the committer thread
 * (threaded) or stays for the caller to write; *ret_w is NULL when
 * nothing was staged.  On the caller's thread for store_commit: a
 * commit before the daemon forks (the store's first meta record) must
 * not start the thread. */
static int
commit_start(struct store *s, int threaded, struct store_writer **ret_w)
{
	struct store_writer *w = idle_writer(s);
	int r;

	*ret_w = NULL;
	if (w == NULL || w->sp_on)
		return SAT_E_INTERNAL;
	if (w->stg.n == 0)
		return 0;
	if (threaded && w->cm == NULL && (r = committer_start(w)) != 0) {
		store_batch_clear(&w->stg);
		return r;
	}
	if ((r = commit_prepare(w)) != 0)
		return r;
	if (threaded) {
		pthread_mutex_lock(&w->cm->mu);
		w->cm->done = 0;
		w->cm->go = 1;
		pthread_mutex_unlock(&w->cm->mu);
		pthread_cond_signal(&w->cm->cv);
	}
	*ret_w = w;
	return 0;
}

int
store_commit(struct store *s)
{
	struct store_writer *w;
	int r;

	if ((r = commit_start(s, 0, &w)) != 0 || w == NULL)
		return r;
	return commit_finish(w, journal_write(w->journal));
}

int
store_commit_begin(struct store *s)
{
	struct store_writer *w;

	return commit_start(s, 1, &w);
}

int
store_apply(struct store *s, struct store_batch *b)
{
	struct store_writer *w = idle_writer(s);
	struct store_batch t;
	int r;

	if (w == NULL || w->stg.n > 0 || w->sp_on) {
		store_batch_clear(b);
		return SAT_E_INTERNAL;
	}
	t = w->stg;
	w->stg = *b;
	*b = t;
	r = store_commit(s);
	store_batch_clear(b);
	return r;
}

int
store_commit_fd(const struct store *s)
{
	const struct store_writer *w = cwriter_of(s);

	return w != NULL && w->in_flight && w->cm != NULL ? w->cm->efd : -1;
}

int
store_in_flight(const struct store *s)
{
	const struct store_writer *w = cwriter_of(s);

	return w != NULL && w->in_flight;
}

int
store_commit_end(struct store *s)
{
	struct store_writer *w = writer_of(s);
	uint64_t n;
	int r;

	if (w == NULL)
		return SAT_E_INTERNAL;
	if (!w->in_flight)
		return 0;
	pthread_mutex_lock(&w->cm->mu);
	while (!w->cm->done)
		pthread_cond_wait(&w->cm->cv, &w->cm->mu);
	w->cm->done = 0;
	r = w->cm->r;
	pthread_mutex_unlock(&w->cm->mu);
	/* drain it (nonblocking): the next begin starts from unreadable */
	if (read(w->cm->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		r = r != 0 ? r : SAT_E_STORE;
	return commit_finish(w, r);
}

/* ---- backup and restore (common/backup.c) ---- */

struct export_ctx {
	struct store *s;
	store_export_fn fn;
	void *arg;
};

static int
export_cb(void *arg, const void *key, size_t klen)
{
	struct export_ctx *c = arg;
	void *val = NULL;
	size_t vlen = 0;
	int r;

	if ((r = kv_fetch(c->s->kv, key, klen, &val, &vlen)) != 0)
		return r == SAT_E_NOTFOUND ? 0 : r;
	r = c->fn(c->arg, key, klen, val, vlen);
	sat_freezero(val, vlen);	/* the meta record holds the HMAC key */
	return r;
}

/* the file as applied: staged and in-flight changes are not yet
 * acknowledged, and the commit that applies them runs on this thread,
 * so nothing changes the file under the iteration */
int
store_export(struct store *s, store_export_fn fn, void *arg)
{
	struct export_ctx c = { s, fn, arg };

	if (writer_of(s) == NULL)
		return SAT_E_INTERNAL;
	return writer_iterate(s, export_cb, &c);
}

static int
clear_cb(void *arg, const void *key, size_t klen)
{
	struct store_writer *w = arg;

	if (klen > STORE_KEY_MAX)
		return 0;	/* no key of ours; a restore puts back its own */
	return store_batch_delete(&w->stg, key, klen);
}

int
store_stage_clear(struct store *s)
{
	struct store_writer *w = idle_writer(s);

	if (w == NULL)
		return SAT_E_INTERNAL;
	return writer_iterate(s, clear_cb, w);
}

int
store_stage_raw(struct store *s, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	struct store_writer *w = writer_of(s);

	if (klen == 0 || klen > STORE_KEY_MAX || val == NULL)
		return SAT_E_INVALID;
	if (w == NULL)
		return SAT_E_INTERNAL;
	return store_batch_put(&w->stg, key, klen, val, vlen);
}

int
store_stage_delete(struct store *s, const void *key, size_t klen)
{
	struct store_writer *w = writer_of(s);

	if (klen == 0 || klen > STORE_KEY_MAX)
		return SAT_E_INVALID;
	if (w == NULL)
		return SAT_E_INTERNAL;
	return store_batch_delete(&w->stg, key, klen);
}
