/* The GDBM backend (common/kv_gdbm.c) under store.c: what it stores it
 * gives back; one writer at a time; a reader refuses a file that is
 * missing, not a database or writable by others, and waits no longer
 * than its timeout for a committing writer; a resident reader learns of
 * every write (and of a write overlapping its reads) through the counter,
 * without taking a lock. */
#include "testutil.h"

#include <sys/stat.h>

#include "kv.h"

static int
count_keys(void *arg, const void *key, size_t klen)
{
	(*(int *)arg)++;
	return 0;
}

static void
put_str(struct kv *kv, const char *k, const char *v)
{
	assert_int_equal(kv_put(kv, k, strlen(k), v, strlen(v)), 0);
}

static void
assert_value(struct kv *kv, const char *k, const char *want)
{
	void *v = NULL;
	size_t n = 0;
	int r = kv_fetch(kv, k, strlen(k), &v, &n);

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
	struct kv *w, *r;
	struct stat st;
	int created = 0, n = 0;

	(void)state;
	assert_int_equal(kv_open_reader(db, 100, &r), SAT_E_STORE);
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	assert_true(created);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(kv_begin_write(w, 100), 0);
	put_str(w, "a", "1");
	put_str(w, "b", "22");
	put_str(w, "a", "333");			/* replaced, not added */
	assert_int_equal(kv_delete(w, "b", 1), 0);
	assert_int_equal(kv_delete(w, "never", 5), 0);	/* absent: fine */
	put_str(w, "c", "4");
	assert_int_equal(kv_sync(w), 0);
	kv_end_write(w);
	assert_value(w, "a", "333");
	assert_value(w, "b", NULL);
	assert_int_equal(kv_iterate(w, count_keys, &n), 0);
	assert_int_equal(n, 2);
	assert_true(kv_size(w) > 0);

	assert_int_equal(kv_open_reader(db, 100, &r), 0);
	assert_value(r, "a", "333");
	assert_value(r, "c", "4");
	assert_value(r, "b", NULL);
	kv_close(r);
	kv_close(w);
	free(db);
	tu_rmdir(dir);
}

static void
test_one_writer(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct kv *w, *w2;
	int created;

	(void)state;
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(kv_open_writer(db, 100, &w2, &created), SAT_E_CONFLICT);
	kv_close(w);
	assert_int_equal(kv_open_writer(db, 100, &w2, &created), 0);
	assert_false(created);
	kv_close(w2);
	free(db);
	tu_rmdir(dir);
}

static void
test_unsafe_files_refused(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct kv *w, *r;
	FILE *f;
	int created;

	(void)state;
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	kv_close(w);
	assert_int_equal(chmod(db, 0646), 0);
	assert_int_equal(kv_open_reader(db, 100, &r), SAT_E_STORE);
	assert_int_equal(chmod(db, 0640), 0);
	assert_int_equal(kv_open_reader(db, 100, &r), 0);
	kv_close(r);
	/* not a database */
	assert_non_null(f = fopen(db, "w"));
	fputs("this is not a GDBM file at all, only text of some length\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kv_open_reader(db, 100, &r), SAT_E_STORE);
	free(db);
	tu_rmdir(dir);
}

static void
test_reader_waits_no_longer_than_told(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct kv *w, *r;
	struct timespec t0, t1;
	int created;
	long ms;

	(void)state;
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(kv_begin_write(w, 100), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kv_open_reader(db, 200, &r), SAT_E_STORE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* it waited (a reader does not give up at once) and gave up */
	assert_true(ms >= 150);
	kv_end_write(w);
	assert_int_equal(kv_open_reader(db, 200, &r), 0);
	kv_close(r);
	kv_close(w);
	free(db);
	tu_rmdir(dir);
}

static void
test_resident_reader_sees_writes(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct kv *w, *r;
	int created;

	(void)state;
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(kv_begin_write(w, 100), 0);
	put_str(w, "k", "v1");
	kv_end_write(w);
	assert_int_equal(kv_open_reader(db, 100, &r), 0);
	assert_int_equal(kv_reader_pause(r), 0);
	/* nothing written: the kept handle is exact, read without a lock */
	assert_int_equal(kv_reader_resume(r), 0);
	assert_value(r, "k", "v1");
	assert_int_equal(kv_reader_pause(r), 0);
	/* a write since: stale */
	assert_int_equal(kv_begin_write(w, 100), 0);
	put_str(w, "k", "v2");
	kv_end_write(w);
	assert_int_equal(kv_reader_resume(r), 1);
	kv_close(r);
	/* a write that overlaps the reads: the result is thrown away */
	assert_int_equal(kv_open_reader(db, 100, &r), 0);
	assert_int_equal(kv_reader_pause(r), 0);
	assert_int_equal(kv_reader_resume(r), 0);
	assert_value(r, "k", "v2");
	assert_int_equal(kv_begin_write(w, 100), 0);
	put_str(w, "k", "v3");
	kv_end_write(w);
	assert_int_equal(kv_reader_pause(r), 1);
	kv_close(r);
	/* a new writer (a restarted daemon) makes kept handles stale too */
	assert_int_equal(kv_open_reader(db, 100, &r), 0);
	assert_int_equal(kv_reader_pause(r), 0);
	kv_close(w);
	assert_int_equal(kv_open_writer(db, 100, &w, &created), 0);
	assert_int_equal(kv_reader_resume(r), 1);
	kv_close(r);
	kv_close(w);
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
