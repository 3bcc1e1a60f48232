/* The writer's journal (common/journal.c) on its own: batches come back
 * whole and in order; a torn tail, cut at any byte and left as zeros or
 * as garbage, gives back exactly the batches before it; a cancelled batch
 * never returns; a checkpoint copies the database and empties the
 * journal; replaying twice gives what replaying once gives; one writer at
 * a time; the base restores the database. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "journal.h"

#define NB	12	/* batches in the torn-tail test */

/* what a replay handed over: "k=v" or "k-" per entry, in order */
struct seen {
	char log[16384];
	size_t n;
};

static int
collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct seen *s = arg;
	int w;

	w = snprintf(s->log + s->n, sizeof(s->log) - s->n, "%.*s%s%.*s;",
	    (int)klen, (const char *)key, val != NULL ? "=" : "-",
	    (int)(val != NULL ? vlen : 0), val != NULL ? (const char *)val : "");
	assert_true(w > 0 && (size_t)w < sizeof(s->log) - s->n);
	s->n += (size_t)w;
	return 0;
}

static void
add(struct journal *j, const char *k, const char *v)
{
	assert_int_equal(journal_add(j, k, strlen(k), v, v != NULL ?
	    strlen(v) : 0), 0);
}

static const char *
replay(struct journal *j, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(journal_replay(j, collect, s), 0);
	return s->log;
}

/* batch i: two puts and, from the second on, a delete */
static void
write_batch(struct journal *j, int i, char *expect, size_t cap)
{
	char k[32], v[64];
	size_t n = strlen(expect);

	snprintf(k, sizeof(k), "key%d", i);
	snprintf(v, sizeof(v), "value of batch %d, long enough to cross", i);
	add(j, k, v);
	n += (size_t)snprintf(expect + n, cap - n, "%s=%s;", k, v);
	snprintf(k, sizeof(k), "other%d", i);
	add(j, k, "x");
	n += (size_t)snprintf(expect + n, cap - n, "%s=x;", k);
	if (i > 0) {
		snprintf(k, sizeof(k), "key%d", i - 1);
		add(j, k, NULL);
		n += (size_t)snprintf(expect + n, cap - n, "%s-;", k);
	}
	assert_int_equal(journal_write(j), 0);
}

static void
test_batches_come_back(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db"), expect[4096] = "";
	struct journal *j;
	enum journal_state st;
	struct seen s;

	(void)state;
	assert_int_equal(journal_open(db, &j, &st), 0);
	assert_int_equal(st, JOURNAL_BASELESS);
	assert_string_equal(replay(j, &s), "");
	for (int i = 0; i < 5; i++)
		write_batch(j, i, expect, sizeof(expect));
	assert_string_equal(replay(j, &s), expect);
	/* a batch being built and discarded leaves no trace */
	add(j, "ghost", "boo");
	journal_discard(j);
	assert_string_equal(replay(j, &s), expect);
	assert_int_equal(journal_set_state(j, JOURNAL_DIRTY), 0);
	journal_close(j);

	assert_int_equal(journal_open(db, &j, &st), 0);
	assert_int_equal(st, JOURNAL_DIRTY);
	assert_string_equal(replay(j, &s), expect);
	/* replaying twice is replaying once: the same after-images again */
	assert_string_equal(replay(j, &s), expect);
	journal_close(j);
	free(db);
	tu_rmdir(dir);
}

static void
test_one_writer(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct journal *j, *j2;
	enum journal_state st;

	(void)state;
	assert_int_equal(journal_open(db, &j, &st), 0);
	assert_int_equal(journal_open(db, &j2, &st), SAT_E_CONFLICT);
	journal_close(j);
	assert_int_equal(journal_open(db, &j2, &st), 0);
	journal_close(j2);
	assert_int_equal(journal_open("relative/db", &j, &st), SAT_E_INVALID);
	free(db);
	tu_rmdir(dir);
}

static void
overwrite(const char *path, uint64_t from, uint64_t to, int byte)
{
	char buf[4096];
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	memset(buf, byte, sizeof(buf));
	while (from < to) {
		size_t n = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		assert_int_equal(pwrite(fd, buf, n, (off_t)from), (ssize_t)n);
		from += n;
	}
	assert_int_equal(close(fd), 0);
}

/* Reads a whole file into *ret (caller frees); its size. */
static size_t
slurp(const char *path, char **ret)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_non_null(*ret = malloc((size_t)sb.st_size + 1));
	assert_int_equal(read(fd, *ret, (size_t)sb.st_size), sb.st_size);
	assert_int_equal(close(fd), 0);
	return (size_t)sb.st_size;
}

static void
put(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* A batch torn at any byte (the rest of it zeros, as the pre-zeroed file
 * leaves it, or garbage) was never acknowledged: replay gives exactly
 * the batches before it, and a new batch written after it comes back. */
static void
test_torn_tail_at_every_byte(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	char *jpath = tu_path(dir, "db.journal"), *saved;
	char expect[NB + 1][4096];
	size_t nsaved;
	uint64_t hdr;
	uint64_t end[NB + 1];
	struct journal *j;
	enum journal_state st;
	struct seen s;

	(void)state;
	assert_int_equal(journal_open(db, &j, &st), 0);
	expect[0][0] = '\0';
	end[0] = journal_size(j);
	for (int i = 0; i < NB; i++) {
		strcpy(expect[i + 1], expect[i]);
		write_batch(j, i, expect[i + 1], sizeof(expect[i + 1]));
		end[i + 1] = journal_size(j);
	}
	journal_close(j);
	nsaved = slurp(jpath, &saved);
	/* journal_size counts from the first batch, whose magic is SJB1 */
	assert_non_null(memmem(saved, nsaved, "SJB1", 4));
	hdr = (uint64_t)((char *)memmem(saved, nsaved, "SJB1", 4) - saved);

	for (int k = NB - 2; k < NB; k++) {
		for (uint64_t cut = end[k]; cut < end[k + 1]; cut++) {
			for (int garbage = 0; garbage < 2; garbage++) {
				put(jpath, saved, nsaved);
				overwrite(jpath, hdr + cut, hdr + end[NB],
				    garbage ? 0xa5 : 0);
				assert_int_equal(journal_open(db, &j, &st), 0);
				assert_string_equal(replay(j, &s), expect[k]);
				/* the next batch lands after the last whole
				 * one and comes back with it */
				add(j, "after", "tear");
				assert_int_equal(journal_write(j), 0);
				journal_close(j);
				assert_int_equal(journal_open(db, &j, &st), 0);
				replay(j, &s);
				assert_int_equal(strncmp(s.log, expect[k],
				    strlen(expect[k])), 0);
				assert_string_equal(s.log + strlen(expect[k]),
				    "after=tear;");
				journal_close(j);
			}
		}
	}
	free(saved);
	free(jpath);
	free(db);
	tu_rmdir(dir);
}

static void
test_cancel(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	struct journal *j;
	enum journal_state st;
	struct seen s;

	(void)state;
	assert_int_equal(journal_open(db, &j, &st), 0);
	add(j, "a", "1");
	assert_int_equal(journal_write(j), 0);
	add(j, "b", "2");
	assert_int_equal(journal_write(j), 0);
	assert_int_equal(journal_cancel(j), 0);
	assert_string_equal(replay(j, &s), "a=1;");
	add(j, "c", "3");
	assert_int_equal(journal_write(j), 0);
	journal_close(j);
	/* taken back for good, also after a reopen */
	assert_int_equal(journal_open(db, &j, &st), 0);
	assert_string_equal(replay(j, &s), "a=1;c=3;");
	journal_close(j);
	free(db);
	tu_rmdir(dir);
}

static void
test_checkpoint_and_base(void **state)
{
	char *dir = tu_tmpdir(), *db = tu_path(dir, "db");
	char *base = tu_path(dir, "db.base"), buf[64];
	struct journal *j;
	enum journal_state st;
	struct seen s;
	struct stat sb;
	FILE *f;

	(void)state;
	assert_non_null(f = fopen(db, "w"));
	fputs("the database at the checkpoint", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(db, 0640), 0);
	assert_int_equal(journal_open(db, &j, &st), 0);
	add(j, "a", "1");
	assert_int_equal(journal_write(j), 0);
	assert_true(journal_size(j) > 0);
	assert_int_equal(journal_checkpoint(j), 0);
	assert_int_equal(journal_size(j), 0);
	assert_int_equal(journal_state(j), JOURNAL_CLEAN);
	assert_string_equal(replay(j, &s), "");
	journal_close(j);

	assert_non_null(f = fopen(base, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "the database at the checkpoint");

	/* a torn database comes back from the base, mode kept */
	assert_non_null(f = fopen(db, "w"));
	fputs("torn", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(journal_open(db, &j, &st), 0);
	assert_int_equal(st, JOURNAL_CLEAN);
	assert_int_equal(journal_restore_base(j), 0);
	journal_close(j);
	assert_non_null(f = fopen(db, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "the database at the checkpoint");
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	free(base);
	free(db);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches_come_back),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_torn_tail_at_every_byte),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_checkpoint_and_base),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
