/* The GDBM store: round trips, staging, locking, damaged files. */
#include "testutil.h"

#include <fcntl.h>
#include <gdbm.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "store_batch.h"

struct fx {
	char *dir;
	char *db;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "satoken.db");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->db);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_create_mode_and_meta(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	umask(old);
	assert_int_equal(stat(f->db, &st), 0);
	/* the umask must not decide who may read the store */
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_memory_equal(store_hmac_key(w), store_hmac_key(r), TOKEN_KEY_LEN);
	store_close(r);
	store_close(w);
	/* reopening keeps the key */
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	store_close(r);
}

static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	struct sat_group g;
	struct sat_policy p;
	struct sat_token t;
	struct sat_token_index x;
	char tok[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
	const char *groups[] = { "ci", "ops", NULL };
	const char *svcs[] = { "imap", NULL };
	const char *srcs[] = { "10.0.0.0/8", NULL };

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_group(w, "ci");
	tu_put_account(w, "svc", groups, 1, 30, 1700000000);
	tu_put_policy(w, groups);
	tu_mint(w, "svc", "deploy", 1900000000, svcs, srcs, tok, id);
	strlist_init(&x.ids);
	strlist_add(&x.ids, id);
	assert_int_equal(store_put_token_index(w, "svc", &x), 0);
	record_free_token_index(&x);
	assert_int_equal(store_staged(w), 5);
	assert_int_equal(store_commit(w), 0);
	assert_int_equal(store_staged(w), 0);

	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "svc", &a), 0);
	assert_int_equal(a.groups.n, 2);
	assert_int_equal(a.days_valid, 30);
	assert_int_equal(a.created_at, 1700000000);
	record_free_account(&a);
	assert_int_equal(store_get_group(r, "ci", &g), 0);
	assert_string_equal(g.name, "ci");
	record_free_group(&g);
	assert_int_equal(store_get_policy(r, &p), 0);
	assert_int_equal(p.groups.n, 2);
	record_free_policy(&p);
	assert_int_equal(store_get_token(r, id, &t), 0);
	assert_string_equal(t.account, "svc");
	assert_string_equal(t.name, "deploy");
	assert_string_equal(t.services.v[0], "imap");
	assert_string_equal(t.sources.v[0], "10.0.0.0/8");
	assert_int_equal(t.expires_at, 1900000000);
	record_free_token(&t);
	assert_int_equal(store_get_token_index(r, "svc", &x), 0);
	assert_int_equal(x.ids.n, 1);
	assert_string_equal(x.ids.v[0], id);
	record_free_token_index(&x);
	/* absent things */
	assert_int_equal(store_get_account(r, "nobody", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_get_account(r, "Bad Name", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_get_token(r, "000000000000", &t), SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_index(r, "nobody", &x), 0);
	assert_int_equal(x.ids.n, 0);
	store_close(r);
	store_close(w);
}

static void
test_staged_visible_only_to_writer(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	struct strlist names;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_account(w, "bravo", NULL, 1, 0, 1);
	tu_put_account(w, "alpha", NULL, 1, 0, 1);
	assert_int_equal(store_commit(w), 0);

	tu_put_account(w, "charlie", NULL, 1, 0, 1);
	assert_int_equal(store_delete_account(w, "bravo"), 0);
	assert_int_equal(store_get_account(w, "charlie", &a), 0);
	record_free_account(&a);
	assert_int_equal(store_get_account(w, "bravo", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_list_accounts(w, &names), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], "alpha");
	assert_string_equal(names.v[1], "charlie");
	strlist_free(&names);

	/* a reader sees the committed state only */
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "charlie", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_get_account(r, "bravo", &a), 0);
	record_free_account(&a);
	store_close(r);

	store_rollback(w);
	assert_int_equal(store_get_account(w, "bravo", &a), 0);
	record_free_account(&a);
	assert_int_equal(store_get_account(w, "charlie", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_list_accounts(w, &names), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[1], "bravo");
	strlist_free(&names);
	store_close(w);
}

/* Savepoints (a control host's request): what is staged after one is
 * listed and dropped alone, the key read as it was before it, and kept
 * with the rest on release; commits wait for it to end. */
static void
test_savepoint(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	struct strlist names;
	const struct store_batch *b;
	void *v;
	size_t vlen;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_account(w, "alpha", NULL, 1, 10, 1);
	assert_int_equal(store_commit(w), 0);
	tu_put_account(w, "bravo", NULL, 1, 0, 1);	/* an earlier request */

	/* a request that is refused: dropped alone */
	assert_int_equal(store_savepoint(w), 0);
	assert_int_equal(store_savepoint(w), SAT_E_INTERNAL);
	tu_put_account(w, "charlie", NULL, 1, 0, 1);
	assert_int_equal(store_delete_account(w, "bravo"), 0);
	assert_non_null(b = store_savepoint_changes(w));
	assert_int_equal(b->n, 2);
	assert_int_equal(store_staged(w), 3);
	assert_int_equal(store_get_account(w, "bravo", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_fetch_before(w, "a:bravo", 7, &v, &vlen), 0);
	free(v);
	assert_int_equal(store_fetch_before(w, "a:charlie", 9, &v, &vlen),
	    SAT_E_NOTFOUND);
	assert_int_equal(store_commit(w), SAT_E_INTERNAL);
	store_savepoint_rollback(w);
	assert_null(store_savepoint_changes(w));
	assert_int_equal(store_get_account(w, "bravo", &a), 0);
	record_free_account(&a);
	assert_int_equal(store_get_account(w, "charlie", &a), SAT_E_NOTFOUND);

	/* one that is taken: kept, the later change of a key winning */
	assert_int_equal(store_savepoint(w), 0);
	tu_put_account(w, "alpha", NULL, 1, 20, 1);
	tu_put_account(w, "delta", NULL, 1, 0, 1);
	assert_int_equal(store_list_accounts(w, &names), 0);
	assert_int_equal(names.n, 3);
	strlist_free(&names);
	assert_int_equal(store_savepoint_release(w), 0);
	assert_int_equal(store_staged(w), 3);
	assert_int_equal(store_commit(w), 0);

	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "alpha", &a), 0);
	assert_int_equal(a.days_valid, 20);
	record_free_account(&a);
	assert_int_equal(store_list_accounts(r, &names), 0);
	assert_int_equal(names.n, 3);
	assert_string_equal(names.v[1], "bravo");
	assert_string_equal(names.v[2], "delta");
	strlist_free(&names);
	store_close(r);
	store_close(w);
}

/* Group commit: a batch in flight is read through by the writer (and
 * staged over), seen by no reader until store_commit_end, then by all;
 * what was staged over it commits after it, or rolls back alone. */
static void
test_in_flight_batch(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	struct strlist names;
	struct pollfd p;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	assert_int_equal(store_in_flight(w), 0);
	assert_int_equal(store_commit_fd(w), -1);
	assert_int_equal(store_commit_end(w), 0);	/* nothing in flight */

	tu_put_account(w, "first", NULL, 1, 0, 1);
	assert_int_equal(store_commit_begin(w), 0);
	assert_int_equal(store_in_flight(w), 1);
	assert_int_equal(store_staged(w), 0);
	/* one batch at a time, and no synchronous commit meanwhile */
	assert_int_equal(store_commit_begin(w), SAT_E_INTERNAL);
	assert_int_equal(store_commit(w), SAT_E_INTERNAL);
	/* the writer reads it and stages over it */
	assert_int_equal(store_get_account(w, "first", &a), 0);
	record_free_account(&a);
	tu_put_account(w, "second", NULL, 1, 0, 1);
	assert_int_equal(store_delete_account(w, "first"), 0);
	assert_int_equal(store_get_account(w, "first", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_list_accounts(w, &names), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "second");
	strlist_free(&names);

	/* the fd says when the write is done; end applies the batch */
	p.fd = store_commit_fd(w);
	p.events = POLLIN;
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(store_commit_end(w), 0);
	assert_int_equal(store_in_flight(w), 0);
	assert_int_equal(store_staged(w), 2);
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "first", &a), 0);
	record_free_account(&a);
	assert_int_equal(store_get_account(r, "second", &a), SAT_E_NOTFOUND);
	store_close(r);

	/* what was staged over it rolls back alone */
	store_rollback(w);
	assert_int_equal(store_get_account(w, "first", &a), 0);
	record_free_account(&a);
	assert_int_equal(store_get_account(w, "second", &a), SAT_E_NOTFOUND);

	/* or commits after it; closing with a batch in flight finishes it */
	tu_put_account(w, "third", NULL, 1, 0, 1);
	assert_int_equal(store_commit_begin(w), 0);
	store_close(w);
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "third", &a), 0);
	record_free_account(&a);
	store_close(r);
}

struct raw {
	const char *key;
	void *val;
	size_t vlen;
};

static int
take_raw(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct raw *x = arg;

	if (klen == strlen(x->key) && memcmp(key, x->key, klen) == 0) {
		assert_non_null(x->val = malloc(vlen));
		memcpy(x->val, val, vlen);
		x->vlen = vlen;
	}
	return 0;
}

/* The one durable entry point for a batch built apart (what a fleet
 * follower applies): raw records put and keys deleted, all visible to a
 * reader once it returns, the batch left empty; refused, with nothing
 * applied, while the writer has changes of its own staged or on a
 * reader; a key longer than any of ours refused before anything. */
static void
test_apply_batch_built_apart(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct store_batch b = STORE_BATCH_INIT;
	struct raw alpha = { "a:alpha", NULL, 0 };
	struct sat_account a;
	char longkey[STORE_KEY_MAX + 1];
	void *val;
	size_t vlen;

	/* raw records as another store holds them */
	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_account(w, "alpha", NULL, 1, 0, 1);
	tu_put_account(w, "bravo", NULL, 1, 0, 1);
	assert_int_equal(store_commit(w), 0);
	assert_int_equal(store_export(w, take_raw, &alpha), 0);
	assert_non_null(val = alpha.val);
	vlen = alpha.vlen;
	assert_int_equal(store_batch_put(&b, "a:charlie", 9, val, vlen), 0);
	assert_int_equal(store_batch_delete(&b, "a:bravo", 7), 0);
	memset(longkey, 'k', sizeof(longkey));
	assert_int_equal(store_batch_put(&b, longkey, sizeof(longkey), val,
	    vlen), SAT_E_INVALID);
	assert_int_equal(b.n, 2);

	/* the writer's own staged change comes first: refused, untouched */
	tu_put_group(w, "ci");
	assert_int_equal(store_apply(w, &b), SAT_E_INTERNAL);
	assert_int_equal(b.n, 0);
	assert_int_equal(store_staged(w), 1);
	store_rollback(w);
	assert_int_equal(store_get_account(w, "bravo", &a), 0);
	record_free_account(&a);

	assert_int_equal(store_batch_put(&b, "a:charlie", 9, val, vlen), 0);
	assert_int_equal(store_batch_delete(&b, "a:bravo", 7), 0);
	assert_int_equal(store_apply(w, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(store_staged(w), 0);
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(store_get_account(r, "charlie", &a), 0);
	/* the record is alpha's, as it was put: raw, not re-encoded */
	assert_string_equal(a.name, "alpha");
	record_free_account(&a);
	assert_int_equal(store_get_account(r, "bravo", &a), SAT_E_NOTFOUND);
	/* a reader has no writer's path */
	assert_int_equal(store_batch_delete(&b, "a:alpha", 7), 0);
	assert_int_equal(store_apply(r, &b), SAT_E_INTERNAL);
	assert_int_equal(store_stage_delete(r, "a:alpha", 7), SAT_E_INTERNAL);
	store_close(r);

	/* the raw delete stages like any change */
	assert_int_equal(store_stage_delete(w, longkey, sizeof(longkey)),
	    SAT_E_INVALID);
	assert_int_equal(store_stage_delete(w, "a:alpha", 7), 0);
	assert_int_equal(store_commit(w), 0);
	assert_int_equal(store_get_account(w, "alpha", &a), SAT_E_NOTFOUND);
	store_close(w);
	store_batch_free(&b);
	free(val);
}

static void
test_one_writer_only(void **state)
{
	struct fx *f = *state;
	struct store *w, *w2 = NULL;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	assert_int_equal(store_open_writer(f->db, 100, &w2), SAT_E_CONFLICT);
	assert_null(w2);
	store_close(w);
	assert_int_equal(store_open_writer(f->db, 100, &w2), 0);
	store_close(w2);
}

static void
test_reader_waits_at_most_timeout(void **state)
{
	struct fx *f = *state;
	struct store *w, *r = NULL;
	struct timespec t0, t1;
	int fd;
	long ms;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	store_close(w);
	/* a writer that keeps the file locked: readers give up, fail closed */
	fd = open(f->db, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_open_reader(f->db, 200, &r), SAT_E_STORE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(r);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 200);
	assert_true(ms < 5000);
	close(fd);
	assert_int_equal(store_open_reader(f->db, 200, &r), 0);
	store_close(r);
}

static void
test_commit_waits_for_readers_then_fails_cleanly(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;

	assert_int_equal(store_open_writer(f->db, 150, &w), 0);
	assert_int_equal(store_open_reader(f->db, 150, &r), 0);
	tu_put_account(w, "late", NULL, 1, 0, 1);
	/* the reader holds its view: the commit cannot take the file */
	assert_int_equal(store_commit(w), SAT_E_STORE);
	assert_int_equal(store_staged(w), 0);
	assert_int_equal(store_get_account(w, "late", &a), SAT_E_NOTFOUND);
	store_close(r);
	tu_put_account(w, "late", NULL, 1, 0, 1);
	assert_int_equal(store_commit(w), 0);
	assert_int_equal(store_open_reader(f->db, 150, &r), 0);
	assert_int_equal(store_get_account(r, "late", &a), 0);
	record_free_account(&a);
	store_close(r);
	store_close(w);
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_damaged_or_unsafe_files_refused(void **state)
{
	struct fx *f = *state;
	struct store *w, *r = NULL;
	char *other = tu_path(f->dir, "other.db"), *link = tu_path(f->dir, "link.db");
	char *buf;
	struct stat st;
	int fd;

	/* missing */
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	/* a relative path */
	assert_int_equal(store_open_reader("satoken.db", 100, &r), SAT_E_STORE);
	/* a directory in its place */
	assert_int_equal(mkdir(f->db, 0700), 0);
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	assert_int_equal(rmdir(f->db), 0);
	/* garbage */
	write_file(f->db, "not a database at all", 21, 0640);
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	unlink(f->db);

	assert_int_equal(store_open_writer(f->db, 100, &w), 0);
	tu_put_account(w, "svc", NULL, 1, 0, 1);
	assert_int_equal(store_commit(w), 0);
	store_close(w);
	assert_int_equal(stat(f->db, &st), 0);

	/* a symlink to a good store is refused: O_NOFOLLOW */
	assert_int_equal(symlink(f->db, link), 0);
	assert_int_equal(store_open_reader(link, 100, &r), SAT_E_STORE);
	/* group- or world-writable store is refused */
	assert_int_equal(chmod(f->db, 0660), 0);
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	assert_int_equal(chmod(f->db, 0646), 0);
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	assert_int_equal(chmod(f->db, 0640), 0);

	/* truncated copies, at several lengths */
	fd = open(f->db, O_RDONLY);
	buf = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	for (off_t n = 0; n < st.st_size; n += st.st_size / 16 + 1) {
		write_file(other, buf, (size_t)n, 0640);
		if (store_open_reader(other, 100, &r) == 0) {
			struct sat_account a;
			/* GDBM may open a torn file; what it returns is never wrong */
			int g = store_get_account(r, "svc", &a);
			assert_true(g == SAT_E_NOTFOUND || g == SAT_E_STORE || g == 0);
			if (g == 0)
				record_free_account(&a);
			store_close(r);
		}
	}
	free(buf);
	free(other);
	free(link);
}

static void
test_corrupted_record_is_absent(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	GDBM_FILE dbf;
	datum k, v;

	assert_int_equal(store_open_writer(f->db, 100, &w), 0);
	tu_put_account(w, "svc", NULL, 1, 0, 1);
	tu_put_account(w, "other", NULL, 1, 0, 1);
	assert_int_equal(store_commit(w), 0);
	store_close(w);

	dbf = gdbm_open(f->db, 0, GDBM_WRITER, 0, NULL);
	assert_non_null(dbf);
	k.dptr = "a:svc";
	k.dsize = 5;
	v = gdbm_fetch(dbf, k);
	assert_non_null(v.dptr);
	v.dptr[v.dsize / 2] ^= 0x01;	/* one bit inside the body */
	assert_int_equal(gdbm_store(dbf, k, v, GDBM_REPLACE), 0);
	free(v.dptr);
	k.dptr = "p";
	k.dsize = 1;
	v.dptr = "garbage";
	v.dsize = 7;
	assert_int_equal(gdbm_store(dbf, k, v, GDBM_REPLACE), 0);
	gdbm_close(dbf);

	assert_int_equal(store_open_reader(f->db, 100, &r), 0);
	assert_int_equal(store_get_account(r, "svc", &a), SAT_E_NOTFOUND);
	assert_int_equal(store_get_account(r, "other", &a), 0);
	record_free_account(&a);
	{
		struct sat_policy p;
		/* an unreadable policy grants nobody */
		assert_int_equal(store_get_policy(r, &p), 0);
		assert_int_equal(p.groups.n, 0);
		record_free_policy(&p);
	}
	store_close(r);
}

static void
test_meta_missing_or_bad_fails_closed(void **state)
{
	struct fx *f = *state;
	struct store *w, *r = NULL;
	GDBM_FILE dbf;
	datum k;

	assert_int_equal(store_open_writer(f->db, 100, &w), 0);
	store_close(w);
	dbf = gdbm_open(f->db, 0, GDBM_WRITER, 0, NULL);
	assert_non_null(dbf);
	k.dptr = "m";
	k.dsize = 1;
	assert_int_equal(gdbm_delete(dbf, k), 0);
	gdbm_close(dbf);
	assert_int_equal(store_open_reader(f->db, 100, &r), SAT_E_STORE);
	assert_null(r);
}

static void
test_reader_cannot_write(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_group g;

	assert_int_equal(store_open_writer(f->db, 100, &w), 0);
	store_close(w);
	assert_int_equal(store_open_reader(f->db, 100, &r), 0);
	memset(&g, 0, sizeof(g));
	strcpy(g.name, "x");
	assert_int_equal(store_put_group(r, &g), SAT_E_INTERNAL);
	assert_int_equal(store_commit(r), SAT_E_INTERNAL);
	store_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_mode_and_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staged_visible_only_to_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_savepoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flight_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_batch_built_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_writer_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_waits_at_most_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_waits_for_readers_then_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_or_unsafe_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_record_is_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_missing_or_bad_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_cannot_write, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
