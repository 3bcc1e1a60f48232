/* A resident reader reads without a lock between two readings of the
 * writer's counter (DB.gen): it must never keep a view across a write,
 * a new writer or a store made afresh, and a
 * login whose reads a write overlaps is done again, never refused. */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "config.h"
#include "login.h"
#include "view.h"

struct fx {
	char *dir, *db, *gen;
	struct store *w;
	char tok[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *ci[] = { "ci", NULL };

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "satoken.db");
	f->gen = tu_path(f->dir, "satoken.db.gen");
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	tu_put_group(f->w, "ci");
	tu_put_policy(f->w, ci);
	tu_put_account(f->w, "svc", ci, 1, 0, (int64_t)time(NULL));
	tu_mint(f->w, "svc", "t", (int64_t)time(NULL) + 600, NULL, NULL,
	    f->tok, f->id);
	assert_int_equal(store_commit(f->w), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	view_reset();
	store_close(f->w);
	free(f->db);
	free(f->gen);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* 1: what was read is torn (pause), or the view is stale (resume). */
static int
paused(struct store *r)
{
	int torn = -1;

	assert_int_equal(store_reader_pause(r, &torn), 0);
	return torn;
}

static int
resumed(struct store *r)
{
	int stale = -1;

	assert_int_equal(store_reader_resume(r, &stale), 0);
	return stale;
}

/* A reader opened now, its lock released: what view_begin keeps. */
static struct store *
kept_reader(struct fx *f)
{
	struct store *r;

	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(paused(r), 0);
	return r;
}

static void
put_gen(struct fx *f, uint64_t g)
{
	int fd = open(f->gen, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &g, sizeof(g), 0), sizeof(g));
	close(fd);
}

static uint64_t
get_gen(struct fx *f)
{
	uint64_t g = 0;
	int fd = open(f->gen, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &g, sizeof(g), 0), sizeof(g));
	close(fd);
	return g;
}

static void
test_kept_while_nothing_is_written(void **state)
{
	struct fx *f = *state;
	struct store *r = kept_reader(f);
	struct sat_token t;
	int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(resumed(r), 0);
		memset(&t, 0, sizeof(t));
		assert_int_equal(store_get_token(r, f->id, &t), 0);
		record_free_token(&t);
		assert_int_equal(paused(r), 0);
	}
	store_close(r);
}

static void
test_a_write_moves_the_counter_by_two_to_even(void **state)
{
	struct fx *f = *state;
	uint64_t before = get_gen(f);

	assert_int_equal(before % 2, 0);
	tu_put_group(f->w, "other");
	assert_int_equal(store_commit(f->w), 0);
	/* one write: odd while it ran, even and higher after */
	assert_int_equal(get_gen(f), before + 2);
}

static void
test_write_overlapping_the_reads_is_reported(void **state)
{
	struct fx *f = *state;
	struct store *r = kept_reader(f);
	struct sat_token t;

	assert_int_equal(resumed(r), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_token(r, f->id, &t), 0);
	record_free_token(&t);
	/* the daemon commits while this check reads */
	tu_put_group(f->w, "other");
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(paused(r), 1);
	assert_int_equal(resumed(r), 1);
	store_close(r);
}

static void
test_write_in_progress_or_dead_writer_is_never_kept(void **state)
{
	struct fx *f = *state;
	struct store *r = kept_reader(f), *r2;
	uint64_t g = get_gen(f);

	/* what a writer killed half-way through leaves */
	put_gen(f, g + 1);
	assert_int_equal(resumed(r), 1);
	store_close(r);
	/* opened under the lock it serves one check, never a second */
	r2 = kept_reader(f);
	assert_int_equal(resumed(r2), 1);
	store_close(r2);
}

static void
test_new_writer_makes_views_stale(void **state)
{
	struct fx *f = *state;
	struct store *r = kept_reader(f);

	/* a restart with no write at all: the file may have been rebuilt */
	store_close(f->w);
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	assert_int_equal(resumed(r), 1);
	store_close(r);
}

static void
test_store_made_afresh_makes_views_stale(void **state)
{
	struct fx *f = *state;
	struct store *r = kept_reader(f);
	const char *suffix[] = { "", ".gen", ".journal", ".base", ".lock" };
	char *p;
	size_t i;

	store_close(f->w);
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		assert_true(asprintf(&p, "%s%s", f->db, suffix[i]) > 0);
		(void)unlink(p);
		free(p);
	}
	/* a new store at the same path: its counter may well read the
	 * same value as the old one did; the old file is no longer it */
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	assert_int_equal(resumed(r), 1);
	store_close(r);
}

struct churn {
	struct store *w;
	atomic_int stop;
	int commits;
};

static void *
churn(void *arg)
{
	struct churn *c = arg;
	char name[32];

	while (!atomic_load(&c->stop)) {
		snprintf(name, sizeof(name), "g%d", c->commits % 50);
		tu_put_group(c->w, name);
		assert_int_equal(store_commit(c->w), 0);
		c->commits++;
	}
	return NULL;
}

static void
test_logins_while_the_daemon_writes_are_never_refused(void **state)
{
	struct fx *f = *state;
	char err[SAT_ERRMSG_MAX], *spec;
	struct sat_config cfg;
	struct login_request rq;
	struct verify_result res;
	struct churn c = { .w = f->w };
	pthread_t th;
	int i, bad = 0;

	assert_int_equal(cfg_init(&cfg), 0);
	assert_int_equal(cfg_set(&cfg, "database", f->db, err, sizeof(err)), 0);
	assert_true(asprintf(&spec, "file:%s/audit.log", f->dir) > 0);
	assert_int_equal(cfg_set(&cfg, "audit", spec, err, sizeof(err)), 0);
	free(spec);
	memset(&rq, 0, sizeof(rq));
	rq.token = f->tok;
	rq.token_len = strlen(f->tok);
	rq.account = "svc";
	rq.ident = "unit";
	assert_int_equal(pthread_create(&th, NULL, churn, &c), 0);
	for (i = 0; i < 2000; i++)
		if (login_check(&cfg, &rq, &res) != 0 ||
		    res.reason != VERIFY_OK)
			bad++;
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	cfg_free(&cfg);
	print_message("2000 logins during %d commits\n", c.commits);
	assert_true(c.commits > 0);
	assert_int_equal(bad, 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_kept_while_nothing_is_written),
		T(test_a_write_moves_the_counter_by_two_to_even),
		T(test_write_overlapping_the_reads_is_reported),
		T(test_write_in_progress_or_dead_writer_is_never_kept),
		T(test_new_writer_makes_views_stale),
		T(test_store_made_afresh_makes_views_stale),
		T(test_logins_while_the_daemon_writes_are_never_refused),
	};

	return cmocka_run_group_tests_name("view", tests, NULL, NULL);
}
