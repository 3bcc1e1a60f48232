/* The paged token index (common/tindex.c) over the real store: records,
 * mint order and cursors, the quota's counter and its recount, names,
 * purge, delete, and the upgrade of the first stores' index. */
#include "testutil.h"

#include <gdbm.h>

#include "crc.h"
#include "tindex.h"

struct fx {
	char *dir;
	char *db;
	struct store *w;
	int64_t now;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "satoken.db");
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	f->now = (int64_t)time(NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->w);
	free(f->db);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* Stages a token of account named name expiring at expires; its id
 * into id. */
static void
mint(struct fx *f, const char *account, const char *name, int64_t expires,
    char id[TOKEN_ID_LEN + 1])
{
	char tok[TOKEN_LEN + 1];
	struct sat_token t;

	memset(&t, 0, sizeof(t));
	snprintf(t.account, sizeof(t.account), "%s", account);
	t.name = strdup(name);
	t.created_by = strdup("uid:0");
	t.created_at = f->now - 10;
	t.expires_at = expires;
	t.ttl = 60;
	assert_int_equal(token_generate(tok), 0);
	assert_int_equal(token_parse(tok, TOKEN_LEN, t.id), 0);
	assert_int_equal(store_put_token(f->w, &t), 0);
	assert_int_equal(tindex_add(f->w, &t), 0);
	memcpy(id, t.id, TOKEN_ID_LEN + 1);
	record_free_token(&t);
}

static void
fx_revoke(struct fx *f, const char *id)
{
	struct sat_token t, before;

	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_token(f->w, id, &t), 0);
	before = t;
	t.revoked_at = f->now;
	assert_int_equal(store_put_token(f->w, &t), 0);
	assert_int_equal(tindex_update(f->w, &before, &t), 0);
	record_free_token(&t);
}

/* A copy of the framed record at p whose body is cut to its first blen
 * bytes, header length and CRC made right again: returns its size.
 * The frame: 2 magic, type, version, 4 body length, body, 4 CRC. */
static size_t
reframe(const uint8_t *p, size_t n, size_t blen, uint8_t *out)
{
	uint32_t crc;

	assert_true(blen + RECORD_OVERHEAD <= n);
	memcpy(out, p, 8 + blen);
	out[4] = (uint8_t)(blen >> 24);
	out[5] = (uint8_t)(blen >> 16);
	out[6] = (uint8_t)(blen >> 8);
	out[7] = (uint8_t)blen;
	crc = crc32_ieee(0, out, 8 + blen);
	out[8 + blen] = (uint8_t)(crc >> 24);
	out[9 + blen] = (uint8_t)(crc >> 16);
	out[10 + blen] = (uint8_t)(crc >> 8);
	out[11 + blen] = (uint8_t)crc;
	return 12 + blen;
}

static void
test_records_are_strict(void **state)
{
	struct sat_token_head h, h2;
	struct sat_token_page pg, pg2;
	struct sat_token_name nm, nm2;
	struct wbuf w;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.first = 2;
	h.last = 5;
	h.ntokens = 9;
	h.nlive = 3;
	h.counted_at = 100;
	h.min_expiry = 200;
	h.live_first = 4;
	wbuf_init(&w);
	assert_int_equal(record_encode_token_head(&h, &w), 0);
	assert_int_equal(record_decode_token_head(w.p, w.len, &h2), 0);
	assert_memory_equal(&h, &h2, sizeof(h));
	wbuf_free(&w);
	/* more live than held: refused both ways */
	h.nlive = 10;
	wbuf_init(&w);
	assert_int_equal(record_encode_token_head(&h, &w), 0);
	assert_int_equal(record_decode_token_head(w.p, w.len, &h2),
	    SAT_E_MALFORMED);
	wbuf_free(&w);
	h.nlive = 1;
	h.first = 6;
	wbuf_init(&w);
	assert_int_equal(record_encode_token_head(&h, &w), SAT_E_INVALID);
	wbuf_free(&w);

	memset(&pg, 0, sizeof(pg));
	pg.n = 3;
	strcpy(pg.ids[0], "abcdefABCDEF");
	strcpy(pg.ids[2], "0123456789ab");	/* slot 1 purged */
	wbuf_init(&w);
	assert_int_equal(record_encode_token_page(&pg, &w), 0);
	assert_int_equal(record_decode_token_page(w.p, w.len, &pg2), 0);
	assert_int_equal(pg2.n, 3);
	assert_string_equal(pg2.ids[0], "abcdefABCDEF");
	assert_string_equal(pg2.ids[1], "");
	assert_string_equal(pg2.ids[2], "0123456789ab");
	/* written at full size whatever n, so a mint rewrites it in place */
	{
		struct wbuf full;

		pg.n = TINDEX_PAGE_SLOTS;
		wbuf_init(&full);
		assert_int_equal(record_encode_token_page(&pg, &full), 0);
		assert_int_equal(full.len, w.len);
		wbuf_free(&full);
		pg.n = 3;
	}
	/* the first stores' compact page (n slots only) still reads; a
	 * slot past n that holds an id is not ours */
	{
		uint8_t f[RECORD_OVERHEAD + 4 + TINDEX_PAGE_SLOTS * TOKEN_ID_LEN];
		size_t flen;

		flen = reframe(w.p, w.len, 4 + 3 * TOKEN_ID_LEN, f);
		assert_int_equal(record_decode_token_page(f, flen, &pg2), 0);
		assert_int_equal(pg2.n, 3);
		assert_string_equal(pg2.ids[2], "0123456789ab");
		memcpy(w.p + 8 + 4 + 5 * TOKEN_ID_LEN, "abcdefABCDEF",
		    TOKEN_ID_LEN);
		flen = reframe(w.p, w.len, w.len - RECORD_OVERHEAD, f);
		assert_int_equal(record_decode_token_page(f, flen, &pg2),
		    SAT_E_MALFORMED);
	}
	wbuf_free(&w);
	/* a slot neither an id nor empty */
	strcpy(pg.ids[1], "short");
	wbuf_init(&w);
	assert_int_equal(record_encode_token_page(&pg, &w), SAT_E_INVALID);
	wbuf_free(&w);
	pg.n = TINDEX_PAGE_SLOTS + 1;
	wbuf_init(&w);
	assert_int_equal(record_encode_token_page(&pg, &w), SAT_E_INVALID);
	wbuf_free(&w);

	memset(&nm, 0, sizeof(nm));
	strcpy(nm.id, "abcdefABCDEF");
	wbuf_init(&w);
	assert_int_equal(record_encode_token_name(&nm, &w), 0);
	assert_int_equal(record_decode_token_name(w.p, w.len, &nm2), 0);
	assert_string_equal(nm2.id, nm.id);
	/* a name record is not a page */
	assert_int_equal(record_decode_token_page(w.p, w.len, &pg2),
	    SAT_E_MALFORMED);
	wbuf_free(&w);
}

static void
test_pages_in_mint_order_and_cursor(void **state)
{
	struct fx *f = *state;
	char ids[300][TOKEN_ID_LEN + 1], id[TOKEN_ID_LEN + 1], name[32];
	struct sat_token_head h;
	struct tindex_iter it;
	struct tindex_pos from = { 0, 0 }, at;
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		mint(f, "svc", name, f->now + 3600, ids[i]);
	}
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.ntokens, 300);
	assert_int_equal(h.nlive, 300);
	assert_int_equal(h.first, 0);
	assert_int_equal(h.last, 299 / TINDEX_PAGE_SLOTS);
	assert_int_equal(tindex_iter_init(f->w, "svc", from, &it), 0);
	for (i = 0; i < 300; i++) {
		assert_int_equal(tindex_iter_next(f->w, "svc", &it, id, &at), 0);
		assert_string_equal(id, ids[i]);
		assert_int_equal(at.page, i / TINDEX_PAGE_SLOTS);
		assert_int_equal(at.slot, i % TINDEX_PAGE_SLOTS);
	}
	assert_int_equal(tindex_iter_next(f->w, "svc", &it, id, &at),
	    SAT_E_NOTFOUND);
	/* a cursor: one past page 2 slot 9 is token 2 * 64 + 10 */
	from.page = 2;
	from.slot = 10;
	assert_int_equal(tindex_iter_init(f->w, "svc", from, &it), 0);
	assert_int_equal(tindex_iter_next(f->w, "svc", &it, id, &at), 0);
	assert_string_equal(id, ids[2 * TINDEX_PAGE_SLOTS + 10]);
	/* another account, and one with none */
	mint(f, "other", "n1", f->now + 60, id);
	assert_int_equal(tindex_head(f->w, "other", &h), 0);
	assert_int_equal(h.ntokens, 1);
	assert_int_equal(tindex_head(f->w, "nobody", &h), 0);
	assert_int_equal(h.ntokens, 0);
	from.page = from.slot = 0;
	assert_int_equal(tindex_iter_init(f->w, "nobody", from, &it), 0);
	assert_int_equal(tindex_iter_next(f->w, "nobody", &it, id, &at),
	    SAT_E_NOTFOUND);
}

static void
test_names_and_quota(void **state)
{
	struct fx *f = *state;
	char a[TOKEN_ID_LEN + 1], b[TOKEN_ID_LEN + 1], c[TOKEN_ID_LEN + 1];
	struct sat_token_head h;
	int taken;

	mint(f, "svc", "deploy", f->now + 3600, a);
	mint(f, "svc", "backup", f->now + 7200, b);
	assert_int_equal(tindex_name_taken(f->w, "svc", "deploy", f->now,
	    &taken), 0);
	assert_int_equal(taken, 1);
	assert_int_equal(tindex_name_taken(f->w, "other", "deploy", f->now,
	    &taken), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(tindex_name_taken(f->w, "svc", "deploy", f->now + 3600,
	    &taken), 0);
	assert_int_equal(taken, 0);	/* expired by then */
	assert_int_equal(tindex_room(f->w, "svc", f->now, 3, 1), 0);
	assert_int_equal(tindex_room(f->w, "svc", f->now, 2, 1), SAT_E_QUOTA);
	assert_int_equal(tindex_room(f->w, "svc", f->now, 2, 0), 0);
	fx_revoke(f, a);
	assert_int_equal(tindex_name_taken(f->w, "svc", "deploy", f->now,
	    &taken), 0);
	assert_int_equal(taken, 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.nlive, 1);
	assert_int_equal(tindex_room(f->w, "svc", f->now, 2, 1), 0);
	/* revoking twice counts once */
	fx_revoke(f, a);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.nlive, 1);
	/* expiry writes nothing, the quota sees it: a recount past the
	 * first expiry, not before */
	mint(f, "svc", "soon", f->now + 100, c);
	assert_int_equal(tindex_room(f->w, "svc", f->now, 2, 1), SAT_E_QUOTA);
	assert_int_equal(tindex_room(f->w, "svc", f->now + 100, 2, 1), 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.nlive, 1);
	assert_int_equal(h.counted_at, f->now + 100);
	assert_int_equal(h.min_expiry, f->now + 7200);
	/* the recounted head is staged like any change */
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.nlive, 1);
}

static void
test_purge_and_delete(void **state)
{
	struct fx *f = *state;
	char ids[200][TOKEN_ID_LEN + 1], id[TOKEN_ID_LEN + 1], name[32];
	struct sat_token_head h;
	struct sat_token_page pg;
	struct sat_token_name nm;
	struct sat_token t;
	struct tindex_iter it;
	struct tindex_pos from = { 0, 0 }, at;
	uint32_t page = 0;
	size_t n, total = 0;
	int i, done = 0, steps = 0;

	/* the first 150 expired long ago, the rest live */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		mint(f, "svc", name, i < 150 ? f->now - 86400 : f->now + 3600,
		    ids[i]);
	}
	assert_int_equal(store_commit(f->w), 0);
	/* one page a step, as the daemon does it a few at a time */
	while (!done) {
		assert_int_equal(tindex_purge(f->w, "svc", f->now - 3600, &page,
		    1, &n, &done), 0);
		total += n;
		assert_true(++steps <= 4);
	}
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(total, 150);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.ntokens, 50);
	assert_int_equal(h.first, 2);	/* pages 0 and 1 emptied and gone */
	assert_int_equal(store_get_token_page(f->w, "svc", 0, &pg),
	    SAT_E_NOTFOUND);
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_get_token(f->w, ids[0], &t), SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_name(f->w, "svc", "n0", &nm),
	    SAT_E_NOTFOUND);
	assert_int_equal(tindex_iter_init(f->w, "svc", from, &it), 0);
	for (i = 150; i < 200; i++) {
		assert_int_equal(tindex_iter_next(f->w, "svc", &it, id, &at), 0);
		assert_string_equal(id, ids[i]);
	}
	/* account.delete: every token, name, page and the head */
	assert_int_equal(tindex_delete_all(f->w, "svc", &n), 0);
	assert_int_equal(n, 50);
	assert_int_equal(store_commit(f->w), 0);
	for (i = 0; i < 200; i++)
		assert_int_equal(store_get_token(f->w, ids[i], &t),
		    SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_head(f->w, "svc", &h), SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_page(f->w, "svc", 3, &pg),
	    SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_name(f->w, "svc", "n199", &nm),
	    SAT_E_NOTFOUND);
}

/* A batch of thousands of changes is looked up through the staged
 * hash: every key still reads back its last value.  A large account's
 * delete is reclaimed in bounded steps. */
static void
test_large_batch(void **state)
{
	struct fx *f = *state;
	char ids[5000][TOKEN_ID_LEN + 1], name[32];
	struct sat_token_head h;
	struct sat_token_name nm;
	struct sat_reclaim rc;
	struct sat_token t;
	size_t n, total;
	int i, more, steps = 0;

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		mint(f, "svc", name, f->now + 3600, ids[i]);
	}
	for (i = 0; i < 5000; i += 7)
		fx_revoke(f, ids[i]);
	for (i = 0; i < 5000; i++) {
		memset(&t, 0, sizeof(t));
		assert_int_equal(store_get_token(f->w, ids[i], &t), 0);
		assert_int_equal(t.revoked_at != 0, i % 7 == 0);
		record_free_token(&t);
	}
	assert_int_equal(store_commit(f->w), 0);
	/* more than TINDEX_DELETE_NOW: the request only lists the account
	 * for reclaim; steps of 8 pages delete the tokens after it */
	assert_int_equal(tindex_delete_all(f->w, "svc", &n), 0);
	assert_int_equal(n, 5000);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_get_token(f->w, ids[0], &t), 0);
	record_free_token(&t);
	total = 0;
	do {
		assert_int_equal(tindex_reclaim_step(f->w, 8, &n, &more), 0);
		assert_true(n <= 8 * TINDEX_PAGE_SLOTS);
		assert_int_equal(store_commit(f->w), 0);
		total += n;
		assert_true(++steps <= 10);
	} while (more);
	assert_int_equal(total, 5000);
	for (i = 0; i < 5000; i++)
		assert_int_equal(store_get_token(f->w, ids[i], &t),
		    SAT_E_NOTFOUND);
	assert_int_equal(store_get_token_name(f->w, "svc", "n4999", &nm),
	    SAT_E_NOTFOUND);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.ntokens, 0);
	assert_int_equal(store_get_reclaim(f->w, &rc), 0);
	assert_int_equal(rc.accounts.n, 0);
	record_free_reclaim(&rc);

	/* deleted again, then re-created before the reclaim: the creation
	 * finishes it first, so no old token or name outlives it */
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		mint(f, "svc", name, f->now + 3600, ids[i]);
	}
	assert_int_equal(tindex_delete_all(f->w, "svc", &n), 0);
	assert_int_equal(n, 2000);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(tindex_reclaim_account(f->w, "svc"), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(store_get_token(f->w, ids[1999], &t), SAT_E_NOTFOUND);
	assert_int_equal(tindex_name_taken(f->w, "svc", "n1", f->now, &more),
	    0);
	assert_int_equal(more, 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.ntokens, 0);
	assert_int_equal(store_get_reclaim(f->w, &rc), 0);
	assert_int_equal(rc.accounts.n, 0);
	record_free_reclaim(&rc);
}

static void
test_upgrade_first_index(void **state)
{
	struct fx *f = *state;
	char ids[100][TOKEN_ID_LEN + 1], id[TOKEN_ID_LEN + 1], name[32];
	struct sat_token_index x;
	struct sat_token_head h;
	struct sat_token t;
	struct tindex_iter it;
	struct tindex_pos from = { 0, 0 }, at;
	int i, done, taken;

	/* what the first stores held: tokens and one list of their ids */
	memset(&x, 0, sizeof(x));
	for (i = 0; i < 100; i++) {
		memset(&t, 0, sizeof(t));
		snprintf(t.account, sizeof(t.account), "svc");
		snprintf(name, sizeof(name), "n%d", i);
		t.name = strdup(name);
		t.created_by = strdup("uid:0");
		t.expires_at = i < 30 ? f->now - 1 : f->now + 3600;
		t.revoked_at = i >= 30 && i < 40 ? f->now - 5 : 0;
		snprintf(t.id, sizeof(t.id), "Up%010d", i);
		assert_int_equal(store_put_token(f->w, &t), 0);
		assert_int_equal(strlist_add(&x.ids, t.id), 0);
		memcpy(ids[i], t.id, sizeof(ids[i]));
		record_free_token(&t);
	}
	assert_int_equal(store_put_token_index(f->w, "svc", &x), 0);
	record_free_token_index(&x);
	assert_int_equal(store_commit(f->w), 0);

	assert_int_equal(tindex_upgrade(f->w, "svc", f->now, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(tindex_upgrade(f->w, "svc", f->now, &done), 0);
	assert_int_equal(done, 0);	/* once */
	assert_int_equal(store_get_token_index(f->w, "svc", &x), 0);
	assert_int_equal(x.ids.n, 0);
	record_free_token_index(&x);
	assert_int_equal(tindex_head(f->w, "svc", &h), 0);
	assert_int_equal(h.ntokens, 100);
	assert_int_equal(h.nlive, 60);
	assert_int_equal(tindex_iter_init(f->w, "svc", from, &it), 0);
	for (i = 0; i < 100; i++) {
		assert_int_equal(tindex_iter_next(f->w, "svc", &it, id, &at), 0);
		assert_string_equal(id, ids[i]);
	}
	assert_int_equal(tindex_name_taken(f->w, "svc", "n50", f->now, &taken),
	    0);
	assert_int_equal(taken, 1);
	assert_int_equal(tindex_name_taken(f->w, "svc", "n35", f->now, &taken),
	    0);
	assert_int_equal(taken, 0);
}

/* A head that does not decode is not an empty index: minting on it
 * would write page 0 over the ids it holds.  Fail closed. */
static void
test_damaged_head_fails_closed(void **state)
{
	struct fx *f = *state;
	char id[TOKEN_ID_LEN + 1];
	struct sat_token_head h;
	GDBM_FILE dbf;
	datum k, v;

	mint(f, "svc", "a", f->now + 60, id);
	assert_int_equal(store_commit(f->w), 0);
	store_close(f->w);
	dbf = gdbm_open(f->db, 0, GDBM_WRITER, 0, NULL);
	assert_non_null(dbf);
	k.dptr = "h:svc";
	k.dsize = 5;
	v = gdbm_fetch(dbf, k);
	assert_non_null(v.dptr);
	v.dptr[v.dsize / 2] ^= 0x01;
	assert_int_equal(gdbm_store(dbf, k, v, GDBM_REPLACE), 0);
	free(v.dptr);
	gdbm_close(dbf);
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	assert_int_equal(tindex_head(f->w, "svc", &h), SAT_E_STORE);
	assert_int_equal(tindex_room(f->w, "svc", f->now, 100, 1), SAT_E_STORE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_are_strict),
		cmocka_unit_test_setup_teardown(test_pages_in_mint_order_and_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_first_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_head_fails_closed, setup, teardown),
	};

	return cmocka_run_group_tests_name("tindex", tests, NULL, NULL);
}
