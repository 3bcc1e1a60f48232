/* The backup format and restore (common/backup.c) over the real store:
 * a round trip gives back the same HMAC key and records; staged and
 * in-flight changes are not in a backup; every damaged file is refused
 * before the store is touched. */
#include "testutil.h"

#include "backup.h"

struct fx {
	char *dir;
	char *db;
	char *db2;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "a.db");
	f->db2 = tu_path(f->dir, "b.db");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->db);
	free(f->db2);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *w, *w2, *r;
	struct sat_token t;
	struct sat_account a;
	struct wbuf b;
	char tok[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];
	char tok2[TOKEN_LEN + 1], id2[TOKEN_ID_LEN + 1];
	char err[256];
	uint64_t n = 0;
	int64_t taken = 0;
	const char *groups[] = { "ci", NULL };
	uint8_t key[TOKEN_KEY_LEN];

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	memcpy(key, store_hmac_key(w), sizeof(key));
	tu_put_group(w, "ci");
	tu_put_account(w, "bot", groups, 1, 0, time(NULL));
	tu_put_policy(w, groups);
	tu_mint(w, "bot", "one", time(NULL) + 3600, NULL, NULL, tok, id);
	assert_int_equal(store_commit(w), 0);
	/* staged, not committed: not acknowledged, so not in the backup */
	tu_mint(w, "bot", "two", time(NULL) + 3600, NULL, NULL, tok2, id2);
	wbuf_init(&b);
	assert_int_equal(backup_take(w, 1234, &b), 0);
	store_rollback(w);
	store_close(w);
	assert_int_equal(backup_check(b.p, b.len, &n, &taken, err,
	    sizeof(err)), 0);
	assert_int_equal(taken, 1234);
	assert_true(n >= 5);	/* meta, group, account, policy, token */

	/* into a store that has a key and data of its own */
	assert_int_equal(store_open_writer(f->db2, 1000, &w2), 0);
	tu_put_account(w2, "other", NULL, 1, 0, time(NULL));
	assert_int_equal(store_commit(w2), 0);
	store_close(w2);
	assert_int_equal(backup_restore(f->db2, 1000, b.p, b.len), 0);

	assert_int_equal(store_open_reader(f->db2, 1000, &r), 0);
	assert_memory_equal(store_hmac_key(r), key, TOKEN_KEY_LEN);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_token(r, id, &t), 0);
	record_free_token(&t);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_token(r, id2, &t), SAT_E_NOTFOUND);
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_get_account(r, "other", &a), SAT_E_NOTFOUND);
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_get_account(r, "bot", &a), 0);
	record_free_account(&a);
	store_close(r);
	wbuf_free(&b);
}

static void
test_refused(void **state)
{
	struct fx *f = *state;
	struct store *w, *r;
	struct sat_account a;
	struct wbuf b;
	uint8_t *c;
	char err[256];
	size_t i;

	assert_int_equal(store_open_writer(f->db, 1000, &w), 0);
	tu_put_account(w, "bot", NULL, 1, 0, time(NULL));
	assert_int_equal(store_commit(w), 0);
	wbuf_init(&b);
	assert_int_equal(backup_take(w, 1, &b), 0);
	store_close(w);
	c = malloc(b.len);
	assert_non_null(c);

	/* every single flipped byte is caught, header, record or digest */
	for (i = 0; i < b.len; i++) {
		memcpy(c, b.p, b.len);
		c[i] ^= 0x01;
		if (backup_check(c, b.len, NULL, NULL, err, sizeof(err)) == 0)
			fail_msg("byte %zu flipped was accepted", i);
	}
	/* every truncation too */
	for (i = 0; i < b.len; i++)
		assert_int_equal(backup_check(b.p, i, NULL, NULL, err,
		    sizeof(err)), SAT_E_MALFORMED);
	assert_int_equal(backup_check("SATOKEN-BACKUP\n", 15, NULL, NULL, err,
	    sizeof(err)), SAT_E_MALFORMED);
	assert_int_equal(backup_check("", 0, NULL, NULL, err, sizeof(err)),
	    SAT_E_MALFORMED);

	/* a restore while the writer holds the store changes nothing */
	assert_int_equal(store_open_writer(f->db2, 1000, &w), 0);
	assert_int_equal(backup_restore(f->db2, 100, b.p, b.len),
	    SAT_E_CONFLICT);
	store_close(w);
	assert_int_equal(store_open_reader(f->db2, 1000, &r), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(store_get_account(r, "bot", &a), SAT_E_NOTFOUND);
	store_close(r);
	free(c);
	wbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
