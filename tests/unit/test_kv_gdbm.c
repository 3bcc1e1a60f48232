/* The GDBM backend (common/kv_gdbm.c) on the file the cross-process
 * protocol (common/storefile.c) opens and locks: what it stores it
 * gives back; one writer at a time; a reader refuses a file that is
 * missing, not a database or writable by others, and waits no longer
 * than its timeout for a committing writer; a resident reader learns of
 * every write (and of a write overlapping its reads) through the counter,
 * without taking a lock. */
#include "testutil.h"

#include <sys/stat.h>

#include "kv.h"
#include "storefile.h"

/* The backend on its protocol's file, as the store's layers pair them;
 * pause and resume give the old single answer (1: torn or stale). */
struct h {
	struct storefile f;
	struct kv *kv;
};

static int
h_open(const char *db, unsigned timeout_ms, int writer, struct h **ret,
    int *ret_created)
{
	struct h *h = calloc(1, sizeof(*h));
	int r, created = 0;

	assert_non_null(h);
	storefile_init(&h->f);
	r = writer ? storefile_open_writer(&h->f, db, timeout_ms, &created) :
	    storefile_open_reader(&h->f, db, timeout_ms);
	if (r == 0 && (r = kv_open(h->f.fd, db, writer, created,
	    &h->kv)) == 0 && writer)
		r = storefile_writer_ready(&h->f, db);
	if (r != 0) {
		kv_close(h->kv);
		storefile_close(&h->f);
		free(h);
		return r;
	}
	if (ret_created != NULL)
		*ret_created = created;
	*ret = h;
	return 0;
}

static int
h_open_reader(const char *db, unsigned timeout_ms, struct h **ret)
{
	return h_open(db, timeout_ms, 0, ret, NULL);
}

static int
h_open_writer(const char *db, unsigned timeout_ms, struct h **ret,
    int *ret_created)
{
	return h_open(db, timeout_ms, 1, ret, ret_created);
}

static void
h_close(struct h *h)
{
	kv_close(h->kv);
	storefile_close(&h->f);
	free(h);
}

static int
h_pause(struct h *h)
{
	int torn = -1, r = storefile_pause(&h->f, &torn);

	return r != 0 ? r : torn;
}

static int
h_resume(struct h *h)
{
	int stale = -1, r = storefile_resume(&h->f, &stale);

	return r != 0 ? r : stale;
}

static int
count_keys(void *arg, const void *key, size_t klen)
{
	(*(int *)arg)++;
	return 0;
}

static void
put_str(struct h *h, const char *k, const char *v)
{
	assert_int_equal(kv_put(h->kv, k, strlen(k), v, strlen(v)), 0);
}

static void
assert_value(struct h *h, const char *k, const char *want)
{
	void *v = NULL;
	size_t n = 0;
	int r = kv_fetch(h->kv, k, strlen(k), &v, &n);

	if (want == NULL) {
		assert_int_equal(r, SAT_E_NOTFOUND);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
	free(v);
}

static void
test_store_and_read_back(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct h *w, *r;
	struct stat st;
	int created = 0, n = 0;

	(void)state;
	assert_int_equal(h_open_reader(db, 100, &r), SAT_E_STORE);
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	assert_true(created);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(storefile_begin_write(&w->f, 100), 0);
	put_str(w, "a", "1");
	put_str(w, "b", "22");
	put_str(w, "a", "333");			/* replaced, not added */
	assert_int_equal(kv_delete(w->kv, "b", 1), 0);
	assert_int_equal(kv_delete(w->kv, "never", 5), 0);	/* absent: fine */
	put_str(w, "c", "4");
	assert_int_equal(kv_sync(w->kv), 0);
	storefile_end_write(&w->f);
	assert_value(w, "a", "333");
	assert_value(w, "b", NULL);
	assert_int_equal(kv_iterate(w->kv, count_keys, &n), 0);
	assert_int_equal(n, 2);
	assert_true(kv_size(w->kv) > 0);

	assert_int_equal(h_open_reader(db, 100, &r), 0);
	assert_value(r, "a", "333");
	assert_value(r, "c", "4");
	assert_value(r, "b", NULL);
	h_close(r);
	h_close(w);
	free(db);
	tu_rmdir(dir);
}

static void
test_one_writer(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct h *w, *w2;
	int created;

	(void)state;
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(h_open_writer(db, 100, &w2, &created), SAT_E_CONFLICT);
	h_close(w);
	assert_int_equal(h_open_writer(db, 100, &w2, &created), 0);
	assert_false(created);
	h_close(w2);
	free(db);
	tu_rmdir(dir);
}

static void
test_unsafe_files_refused(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct h *w, *r;
	FILE *f;
	int created;

	(void)state;
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	h_close(w);
	assert_int_equal(chmod(db, 0646), 0);
	assert_int_equal(h_open_reader(db, 100, &r), SAT_E_STORE);
	assert_int_equal(chmod(db, 0640), 0);
	assert_int_equal(h_open_reader(db, 100, &r), 0);
	h_close(r);
	/* not a database */
	assert_non_null(f = fopen(db, "w"));
	fputs("this is not a GDBM file at all, only text of some length\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(h_open_reader(db, 100, &r), SAT_E_STORE);
	free(db);
	tu_rmdir(dir);
}

static void
test_reader_waits_no_longer_than_told(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct h *w, *r;
	struct timespec t0, t1;
	int created;
	long ms;

	(void)state;
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(storefile_begin_write(&w->f, 100), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(h_open_reader(db, 200, &r), SAT_E_STORE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* it waited (a reader does not give up at once) and gave up */
	assert_true(ms >= 150);
	storefile_end_write(&w->f);
	assert_int_equal(h_open_reader(db, 200, &r), 0);
	h_close(r);
	h_close(w);
	free(db);
	tu_rmdir(dir);
}

static void
test_resident_reader_sees_writes(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct h *w, *r;
	int created;

	(void)state;
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(storefile_begin_write(&w->f, 100), 0);
	put_str(w, "k", "v1");
	storefile_end_write(&w->f);
	assert_int_equal(h_open_reader(db, 100, &r), 0);
	assert_int_equal(h_pause(r), 0);
	/* nothing written: the kept handle is exact, read without a lock */
	assert_int_equal(h_resume(r), 0);
	assert_value(r, "k", "v1");
	assert_int_equal(h_pause(r), 0);
	/* a write since: stale */
	assert_int_equal(storefile_begin_write(&w->f, 100), 0);
	put_str(w, "k", "v2");
	storefile_end_write(&w->f);
	assert_int_equal(h_resume(r), 1);
	h_close(r);
	/* a write that overlaps the reads: the result is thrown away */
	assert_int_equal(h_open_reader(db, 100, &r), 0);
	assert_int_equal(h_pause(r), 0);
	assert_int_equal(h_resume(r), 0);
	assert_value(r, "k", "v2");
	assert_int_equal(storefile_begin_write(&w->f, 100), 0);
	put_str(w, "k", "v3");
	storefile_end_write(&w->f);
	assert_int_equal(h_pause(r), 1);
	h_close(r);
	/* a new writer (a restarted daemon) makes kept handles stale too */
	assert_int_equal(h_open_reader(db, 100, &r), 0);
	assert_int_equal(h_pause(r), 0);
	h_close(w);
	assert_int_equal(h_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(h_resume(r), 1);
	h_close(r);
	h_close(w);
	free(db);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_and_read_back),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_unsafe_files_refused),
		cmocka_unit_test(test_reader_waits_no_longer_than_told),
		cmocka_unit_test(test_resident_reader_sees_writes),
	};

	return cmocka_run_group_tests_name("kv_gdbm", tests, NULL, NULL);
}
