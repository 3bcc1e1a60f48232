/* The modules' configuration cache: an unchanged file is not parsed
 * again, and no edit (in place, same size; rename over; chmod; removal;
 * creation) is ever missed, with references outliving a rebuild. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "cfgcache.h"
#include "fileio.h"

static int builds;

/* The value is the file's text, or "(absent)". */
static int
build_text(void *arg, void **ret)
{
	const char *path = arg;
	char *text = NULL;
	size_t len;
	int fd, r;

	builds++;
	r = fileio_open(path, O_RDONLY, 0, FILEIO_REGULAR, &fd);
	if (r == SAT_E_NOTFOUND) {
		*ret = strdup("(absent)");
		return *ret != NULL ? 0 : SAT_E_NOMEM;
	}
	if (r != 0)
		return r;
	r = fileio_slurp(fd, 4096, &text, &len);
	close(fd);
	if (r != 0)
		return r;
	*ret = text;
	return 0;
}

static void
free_text(void *v)
{
	free(v);
}

static const struct cfg_cache_ops text_ops = { build_text, free_text };

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* get (the build reads file, the cache watches path), compare the value
 * with want, put; returns the builds it took */
static int
get_from(struct cfg_cache *cc, const char *path, const char *file,
    const char *key, const char *want)
{
	struct cfg_entry *ref = NULL;
	void *v = NULL;
	int before = builds;

	assert_int_equal(cfg_cache_get(cc, path, key, strlen(key), (void *)file,
	    &v, &ref), 0);
	assert_string_equal(v, want);
	cfg_cache_put(cc, ref);
	return builds - before;
}

/* A timestamp ahead of the clock: the file stays "just written" however
 * long a busy machine stalls before the next get (CI once took more
 * than the 2 s window between two lines). */
static void
keep_racy(const char *path)
{
	struct timespec ts[2];

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
	ts[0].tv_sec += 3600;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int
get_expect(struct cfg_cache *cc, const char *path, const char *key,
    const char *want)
{
	return get_from(cc, path, path, key, want);
}

static void
test_never_misses_an_edit(void **state)
{
	struct cfg_cache cc = CFG_CACHE_INIT(&text_ops);
	char *dir = tu_tmpdir(), *path = tu_path(dir, "satoken.conf");
	char *other = tu_path(dir, "other.conf");
	struct cfg_entry *held = NULL;
	void *v = NULL;

	(void)state;
	/* absent, then created: read at once */
	assert_int_equal(get_expect(&cc, path, "k", "(absent)"), 1);
	assert_int_equal(get_expect(&cc, path, "k", "(absent)"), 0);
	put_file(path, "a = 1\n");
	keep_racy(path);
	assert_int_equal(get_expect(&cc, path, "k", "a = 1\n"), 1);
	/* just written: a second edit could share its timestamp, so it is
	 * read at every get until it has aged */
	assert_int_equal(get_expect(&cc, path, "k", "a = 1\n"), 1);
	put_file(path, "a = 2\n");
	assert_int_equal(get_expect(&cc, path, "k", "a = 2\n"), 1);

	/* aged: kept, not read again */
	sleep(3);
	assert_int_equal(get_expect(&cc, path, "k", "a = 2\n"), 1);
	assert_int_equal(get_expect(&cc, path, "k", "a = 2\n"), 0);
	assert_int_equal(get_expect(&cc, path, "k", "a = 2\n"), 0);
	/* another key (another PAM line) is another entry */
	assert_int_equal(get_expect(&cc, path, "j", "a = 2\n"), 1);
	assert_int_equal(get_expect(&cc, path, "j", "a = 2\n"), 0);

	/* a login still holding the old value while the file is edited in
	 * place, same size: the next get reads the edit, the held value
	 * stays valid until it is put */
	assert_int_equal(cfg_cache_get(&cc, path, "k", 1, path, &v, &held), 0);
	put_file(path, "a = 3\n");
	assert_int_equal(get_expect(&cc, path, "k", "a = 3\n"), 1);
	assert_string_equal(v, "a = 2\n");
	cfg_cache_put(&cc, held);

	/* renamed over (an editor's save), chmod, removal */
	sleep(3);
	assert_int_equal(get_expect(&cc, path, "k", "a = 3\n"), 1);
	assert_int_equal(get_expect(&cc, path, "k", "a = 3\n"), 0);
	put_file(other, "b = 4\n");
	assert_int_equal(rename(other, path), 0);
	assert_int_equal(get_expect(&cc, path, "k", "b = 4\n"), 1);
	sleep(3);
	assert_int_equal(get_expect(&cc, path, "k", "b = 4\n"), 1);
	assert_int_equal(get_expect(&cc, path, "k", "b = 4\n"), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(get_expect(&cc, path, "k", "b = 4\n"), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(get_expect(&cc, path, "k", "(absent)"), 1);

	/* a symlink in the file's place: a new identity, and the build's
	 * O_NOFOLLOW open refuses it (nothing cached) */
	put_file(other, "c = 5\n");
	assert_int_equal(symlink(other, path), 0);
	assert_int_not_equal(cfg_cache_get(&cc, path, "k", 1, path, &v, &held),
	    0);

	/* no path: built at every get */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(get_from(&cc, NULL, path, "k", "(absent)") +
	    get_from(&cc, NULL, path, "k", "(absent)"), 2);

	cfg_cache_clear(&cc);
	free(other);
	free(path);
	tu_rmdir(dir);
}

/* A failed build is not cached, and returns its error. */
static int
build_fail(void *arg, void **ret)
{
	builds++;
	return SAT_E_CONFIG;
}

static const struct cfg_cache_ops fail_ops = { build_fail, free_text };

static void
test_failure_not_cached(void **state)
{
	struct cfg_cache cc = CFG_CACHE_INIT(&fail_ops);
	struct cfg_entry *ref = NULL;
	void *v = NULL;
	int before = builds;

	(void)state;
	assert_int_equal(cfg_cache_get(&cc, "/nonexistent/satoken.conf", "k", 1,
	    NULL, &v, &ref), SAT_E_CONFIG);
	assert_int_equal(cfg_cache_get(&cc, "/nonexistent/satoken.conf", "k", 1,
	    NULL, &v, &ref), SAT_E_CONFIG);
	assert_int_equal(builds - before, 2);
	cfg_cache_clear(&cc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_misses_an_edit),
		cmocka_unit_test(test_failure_not_cached),
	};

	return cmocka_run_group_tests_name("cfgcache", tests, NULL, NULL);
}
