/* Store record codec: round trips, truncations, mutations. */
#include "testutil.h"

#include "crc.h"

static void
fill_account(struct sat_account *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->name, "ci_deploy.bot-1");
	a->description = sat_strdup("Deploys \"prod\" = yes\\no");
	a->owner = sat_strdup("uid:1000");
	a->role = ROLE_CONTRIBUTOR;
	strlist_add(&a->groups, "ci");
	strlist_add(&a->groups, "deployers");
	a->public_key = sat_strdup("-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n");
	a->external_id = sat_strdup("ext-42");
	a->days_valid = 365;
	a->enabled = 1;
	a->created_at = 1763900000;
	a->created_by = sat_strdup("uid:0");
	a->serial = 0x0123456789abcdefULL;
	a->disabled_by = ROLE_ADMIN;
}

static void
fill_token(struct sat_token *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->id, "AbCdEf012345");
	strcpy(t->account, "ci");
	t->name = sat_strdup("deploy key \xc3\xa9t\xc3\xa9");
	for (int i = 0; i < TOKEN_DIGEST_LEN; i++)
		t->digest[i] = (uint8_t)(i * 7 + 1);
	t->created_at = 1763900000;
	t->created_by = sat_strdup("account:admin");
	t->expires_at = 1763903600;
	t->ttl = 3600;
	strlist_add(&t->services, "imap");
	strlist_add(&t->services, "sshd");
	strlist_add(&t->sources, "10.0.0.0/8");
	strlist_add(&t->sources, "2001:db8::/32");
	t->revoked_at = 1763901000;
	strcpy(t->replaced_by, "ZzZzZz999999");
}

static void
encode_all(struct wbuf out[6])
{
	struct sat_meta m;
	struct sat_account a;
	struct sat_group g;
	struct sat_policy p;
	struct sat_token t;
	struct sat_token_index x;

	for (int i = 0; i < 6; i++)
		wbuf_init(&out[i]);
	memset(&m, 0, sizeof(m));
	m.schema = STORE_SCHEMA;
	memset(m.hmac_key, 0xab, sizeof(m.hmac_key));
	m.created_at = 12345;
	assert_int_equal(record_encode_meta(&m, &out[0]), 0);
	fill_account(&a);
	assert_int_equal(record_encode_account(&a, &out[1]), 0);
	record_free_account(&a);
	memset(&g, 0, sizeof(g));
	strcpy(g.name, "ci");
	g.description = sat_strdup("CI runners");
	g.created_at = 99;
	g.created_by = sat_strdup("uid:0");
	assert_int_equal(record_encode_group(&g, &out[2]), 0);
	record_free_group(&g);
	strlist_init(&p.groups);
	strlist_add(&p.groups, "ci");
	strlist_add(&p.groups, "ops");
	assert_int_equal(record_encode_policy(&p, &out[3]), 0);
	record_free_policy(&p);
	fill_token(&t);
	assert_int_equal(record_encode_token(&t, &out[4]), 0);
	record_free_token(&t);
	strlist_init(&x.ids);
	strlist_add(&x.ids, "AbCdEf012345");
	strlist_add(&x.ids, "ZzZzZz999999");
	assert_int_equal(record_encode_token_index(&x, &out[5]), 0);
	record_free_token_index(&x);
}

/* Decodes p as record kind i; on success re-encodes it into *re. */
static int
decode_kind(int i, const void *p, size_t n, struct wbuf *re)
{
	struct sat_meta m;
	struct sat_account a;
	struct sat_group g;
	struct sat_policy pol;
	struct sat_token t;
	struct sat_token_index x;
	int r;

	wbuf_init(re);
	switch (i) {
	case 0:
		if ((r = record_decode_meta(p, n, &m)) == 0) {
			assert_int_equal(record_encode_meta(&m, re), 0);
			record_free_meta(&m);
		}
		return r;
	case 1:
		if ((r = record_decode_account(p, n, &a)) == 0) {
			assert_int_equal(record_encode_account(&a, re), 0);
			record_free_account(&a);
		}
		return r;
	case 2:
		if ((r = record_decode_group(p, n, &g)) == 0) {
			assert_int_equal(record_encode_group(&g, re), 0);
			record_free_group(&g);
		}
		return r;
	case 3:
		if ((r = record_decode_policy(p, n, &pol)) == 0) {
			assert_int_equal(record_encode_policy(&pol, re), 0);
			record_free_policy(&pol);
		}
		return r;
	case 4:
		if ((r = record_decode_token(p, n, &t)) == 0) {
			assert_int_equal(record_encode_token(&t, re), 0);
			record_free_token(&t);
		}
		return r;
	default:
		if ((r = record_decode_token_index(p, n, &x)) == 0) {
			assert_int_equal(record_encode_token_index(&x, re), 0);
			record_free_token_index(&x);
		}
		return r;
	}
}

static void
test_round_trip_every_field(void **state)
{
	struct wbuf out[6];
	struct sat_account a, a0;
	struct sat_token t, t0;
	struct sat_meta m;

	(void)state;
	encode_all(out);
	assert_int_equal(record_decode_meta(out[0].p, out[0].len, &m), 0);
	assert_int_equal(m.schema, STORE_SCHEMA);
	assert_int_equal(m.hmac_key[31], 0xab);
	assert_int_equal(m.created_at, 12345);
	record_free_meta(&m);

	fill_account(&a0);
	assert_int_equal(record_decode_account(out[1].p, out[1].len, &a), 0);
	assert_string_equal(a.name, a0.name);
	assert_string_equal(a.description, a0.description);
	assert_string_equal(a.owner, a0.owner);
	assert_int_equal(a.role, ROLE_CONTRIBUTOR);
	assert_int_equal(a.groups.n, 2);
	assert_string_equal(a.groups.v[1], "deployers");
	assert_string_equal(a.public_key, a0.public_key);
	assert_string_equal(a.external_id, "ext-42");
	assert_int_equal(a.days_valid, 365);
	assert_int_equal(a.enabled, 1);
	assert_int_equal(a.created_at, 1763900000);
	assert_string_equal(a.created_by, "uid:0");
	assert_true(a.serial == 0x0123456789abcdefULL);
	assert_int_equal(a.disabled_by, ROLE_ADMIN);
	record_free_account(&a);
	record_free_account(&a0);

	fill_token(&t0);
	assert_int_equal(record_decode_token(out[4].p, out[4].len, &t), 0);
	assert_string_equal(t.id, t0.id);
	assert_string_equal(t.account, "ci");
	assert_string_equal(t.name, t0.name);
	assert_memory_equal(t.digest, t0.digest, TOKEN_DIGEST_LEN);
	assert_int_equal(t.created_at, t0.created_at);
	assert_string_equal(t.created_by, "account:admin");
	assert_int_equal(t.expires_at, t0.expires_at);
	assert_int_equal(t.ttl, 3600);
	assert_int_equal(t.services.n, 2);
	assert_string_equal(t.services.v[1], "sshd");
	assert_int_equal(t.sources.n, 2);
	assert_string_equal(t.sources.v[1], "2001:db8::/32");
	assert_int_equal(t.revoked_at, t0.revoked_at);
	assert_string_equal(t.replaced_by, "ZzZzZz999999");
	record_free_token(&t);
	record_free_token(&t0);

	/* every kind re-encodes to the same bytes */
	for (int i = 0; i < 6; i++) {
		struct wbuf re;

		assert_int_equal(decode_kind(i, out[i].p, out[i].len, &re), 0);
		assert_int_equal(re.len, out[i].len);
		assert_memory_equal(re.p, out[i].p, re.len);
		wbuf_free(&re);
		wbuf_free(&out[i]);
	}
}

static void
test_optional_fields_empty(void **state)
{
	struct sat_account a, b;
	struct wbuf w;

	(void)state;
	memset(&a, 0, sizeof(a));
	strcpy(a.name, "x");
	a.role = ROLE_VIEWER;
	wbuf_init(&w);
	assert_int_equal(record_encode_account(&a, &w), 0);
	assert_int_equal(record_decode_account(w.p, w.len, &b), 0);
	assert_null(b.description);
	assert_null(b.public_key);
	assert_null(b.external_id);
	assert_int_equal(b.groups.n, 0);
	assert_int_equal(b.days_valid, 0);
	record_free_account(&b);
	wbuf_free(&w);
}

/* A store written before accounts had an identity: the record ends at
 * created_by.  It must still decode, as an account with serial 0. */
static void
test_account_without_tail(void **state)
{
	struct sat_account a, b;
	struct wbuf w, old;
	uint32_t body;

	(void)state;
	fill_account(&a);
	wbuf_init(&w);
	assert_int_equal(record_encode_account(&a, &w), 0);
	record_free_account(&a);
	/* frame: "sT" type version len32 | body | crc32; drop the tail (9) */
	body = (uint32_t)(w.len - RECORD_OVERHEAD - 9);
	wbuf_init(&old);
	wbuf_put_bytes(&old, w.p, 4);
	wbuf_put_u32(&old, body);
	wbuf_put_bytes(&old, (const uint8_t *)w.p + 8, body);
	wbuf_put_u32(&old, crc32_ieee(0, old.p, old.len));
	assert_int_equal(record_decode_account(old.p, old.len, &b), 0);
	assert_string_equal(b.name, "ci_deploy.bot-1");
	assert_true(b.serial == 0);
	assert_int_equal(b.disabled_by, 0);
	record_free_account(&b);
	wbuf_free(&old);
	wbuf_free(&w);
}

static void
test_wrong_type_refused(void **state)
{
	struct wbuf out[6], re;

	(void)state;
	encode_all(out);
	for (int i = 0; i < 6; i++) {
		for (int k = 0; k < 6; k++) {
			if (k == i)
				continue;
			assert_int_equal(decode_kind(k, out[i].p, out[i].len, &re),
			    SAT_E_MALFORMED);
			wbuf_free(&re);
		}
	}
	for (int i = 0; i < 6; i++)
		wbuf_free(&out[i]);
}

static void
test_every_truncation_refused(void **state)
{
	struct wbuf out[6], re;
	uint8_t *copy;

	(void)state;
	encode_all(out);
	for (int i = 0; i < 6; i++) {
		for (size_t n = 0; n < out[i].len; n++) {
			/* a fresh allocation of exactly n bytes: ASan sees any overread */
			copy = malloc(n ? n : 1);
			memcpy(copy, out[i].p, n);
			assert_int_equal(decode_kind(i, copy, n, &re), SAT_E_MALFORMED);
			wbuf_free(&re);
			free(copy);
		}
		wbuf_free(&out[i]);
	}
}

/* Recomputes length and CRC so a mutation reaches the body parser. */
static void
refresh_frame(uint8_t *p, size_t n)
{
	uint32_t crc, body = (uint32_t)(n - RECORD_OVERHEAD);

	p[4] = (uint8_t)(body >> 24);
	p[5] = (uint8_t)(body >> 16);
	p[6] = (uint8_t)(body >> 8);
	p[7] = (uint8_t)body;
	crc = crc32_ieee(0, p, n - 4);
	p[n - 4] = (uint8_t)(crc >> 24);
	p[n - 3] = (uint8_t)(crc >> 16);
	p[n - 2] = (uint8_t)(crc >> 8);
	p[n - 1] = (uint8_t)crc;
}

static void
test_random_mutations(void **state)
{
	struct wbuf out[6], re;
	uint8_t *m;
	size_t n, accepted_framed = 0, iters = 0;
	unsigned seed = (unsigned)time(NULL);

	(void)state;
	print_message("mutation seed %u\n", seed);
	srandom(seed);
	encode_all(out);
	for (int round = 0; round < 50000; round++) {
		for (int i = 0; i < 6; i++) {
			n = out[i].len;
			/* sometimes shorten or lengthen the record too */
			switch (random() % 4) {
			case 0: n = n - (size_t)random() % (n - RECORD_OVERHEAD + 1); break;
			case 1: n = n + (size_t)random() % 16; break;
			default: break;
			}
			m = calloc(1, n);
			memcpy(m, out[i].p, n < out[i].len ? n : out[i].len);
			for (int k = 0, flips = 1 + (int)(random() % 4); k < flips; k++)
				m[(size_t)random() % n] ^= (uint8_t)(1 + random() % 255);
			/* a plain mutation never passes the CRC */
			if (memcmp(m, out[i].p, n < out[i].len ? n : out[i].len) != 0 ||
			    n != out[i].len) {
				assert_int_equal(decode_kind(i, m, n, &re),
				    SAT_E_MALFORMED);
				wbuf_free(&re);
			}
			/* with a valid frame, the body parser decides: anything it
			 * accepts must be a canonical record, byte for byte */
			if (n >= RECORD_OVERHEAD) {
				m[0] = 's';
				m[1] = 'T';
				m[2] = out[i].p[2];
				m[3] = RECORD_VERSION;
				refresh_frame(m, n);
				if (decode_kind(i, m, n, &re) == 0) {
					assert_int_equal(re.len, n);
					assert_memory_equal(re.p, m, n);
					accepted_framed++;
				}
				wbuf_free(&re);
			}
			free(m);
			iters++;
		}
	}
	print_message("%zu mutated records, %zu framed ones decoded canonically\n",
	    iters, accepted_framed);
	for (int i = 0; i < 6; i++)
		wbuf_free(&out[i]);
}

static void
test_invalid_fields_refused(void **state)
{
	struct sat_account a, b;
	struct sat_token t, u;
	struct wbuf w;

	(void)state;
	/* a bad name, a bad role, days_valid out of range: all refused */
	fill_account(&a);
	strcpy(a.name, "Bad Name");
	wbuf_init(&w);
	assert_int_equal(record_encode_account(&a, &w), 0);
	assert_int_equal(record_decode_account(w.p, w.len, &b), SAT_E_MALFORMED);
	wbuf_free(&w);
	strcpy(a.name, "good");
	a.role = 9;
	assert_int_equal(record_encode_account(&a, &w), 0);
	assert_int_equal(record_decode_account(w.p, w.len, &b), SAT_E_MALFORMED);
	wbuf_free(&w);
	a.role = ROLE_ADMIN;
	a.days_valid = 731;
	assert_int_equal(record_encode_account(&a, &w), 0);
	assert_int_equal(record_decode_account(w.p, w.len, &b), SAT_E_MALFORMED);
	wbuf_free(&w);
	record_free_account(&a);

	fill_token(&t);
	t.id[3] = '-';
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	wbuf_free(&w);
	t.id[3] = 'd';
	free(t.name);
	t.name = sat_strdup("");
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	wbuf_free(&w);
	record_free_token(&t);
}

/* Re-seals a record whose bytes a test changed: the CRC covers them. */
static void
reseal(struct wbuf *w)
{
	uint32_t crc = crc32_ieee(0, w->p, w->len - 4);

	w->p[w->len - 4] = (uint8_t)(crc >> 24);
	w->p[w->len - 3] = (uint8_t)(crc >> 16);
	w->p[w->len - 2] = (uint8_t)(crc >> 8);
	w->p[w->len - 1] = (uint8_t)crc;
}

/* The lifecycle tail: absent on a token that sets none of it (so records
 * from before it decode, and encode to the same bytes), round-trips when
 * set, and an unknown or zero field is refused. */
static void
test_token_lifecycle_tail(void **state)
{
	struct sat_token t, u;
	struct wbuf w0, w;
	size_t tag_at;

	(void)state;
	fill_token(&t);
	wbuf_init(&w0);
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w0), 0);
	assert_int_equal(record_decode_token(w0.p, w0.len, &u), 0);
	assert_null(u.description);
	assert_int_equal(u.disabled_at, 0);
	record_free_token(&u);

	t.description = sat_strdup("relay on mx1");
	t.disabled_at = 1763902000;
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(w.len, w0.len + 1 + 2 + 12 + 1 + 8);
	assert_int_equal(record_decode_token(w.p, w.len, &u), 0);
	assert_string_equal(u.description, "relay on mx1");
	assert_int_equal(u.disabled_at, 1763902000);
	record_free_token(&u);

	/* an unknown tag where disabled_at's is */
	tag_at = w.len - 4 - 8 - 1;
	assert_int_equal(w.p[tag_at], 2);
	w.p[tag_at] = 9;
	reseal(&w);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	/* a tag out of order */
	w.p[tag_at] = 1;
	reseal(&w);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	/* disabled_at written as 0 */
	w.p[tag_at] = 2;
	memset(&w.p[tag_at + 1], 0, 8);
	reseal(&w);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	wbuf_free(&w);

	/* the fleet's offline budget, last: a u32 after its tag, never 0 */
	free(t.description);
	t.description = NULL;
	t.disabled_at = 0;
	t.max_offline = 3600;
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(w.len, w0.len + 1 + 4);
	assert_int_equal(record_decode_token(w.p, w.len, &u), 0);
	assert_int_equal(u.max_offline, 3600);
	record_free_token(&u);
	tag_at = w.len - 4 - 4 - 1;
	assert_int_equal(w.p[tag_at], 4);
	memset(&w.p[tag_at + 1], 0, 4);
	reseal(&w);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	wbuf_free(&w);
	wbuf_free(&w0);
	record_free_token(&t);
}

/* Rewrites a record's CRC after a test changed a byte of its body, so
 * that it is the field the decoder refuses, not the checksum. */
static void
recrc(uint8_t *p, size_t n)
{
	uint32_t crc = crc32_ieee(0, p, n - 4);

	p[n - 4] = (uint8_t)(crc >> 24);
	p[n - 3] = (uint8_t)(crc >> 16);
	p[n - 2] = (uint8_t)(crc >> 8);
	p[n - 1] = (uint8_t)crc;
}

/* The workload tail: absent when unset (a record from before it has
 * one encoding), round-trips when set, and a tail the encoder would
 * never write is refused. */
static void
test_token_workload_tail(void **state)
{
	struct sat_token t, u;
	struct wbuf w, plain;
	uint8_t *p;

	(void)state;
	fill_token(&t);
	wbuf_init(&plain);
	assert_int_equal(record_encode_token(&t, &plain), 0);
	t.canary = 1;
	t.bind_pid = 4242;
	t.bind_start = 123456789;
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(w.len, plain.len + 14);
	memset(&u, 0, sizeof(u));
	assert_int_equal(record_decode_token(w.p, w.len, &u), 0);
	assert_int_equal(u.canary, 1);
	assert_int_equal(u.bind_pid, 4242);
	assert_int_equal(u.bind_start, 123456789);
	record_free_token(&u);
	assert_int_equal(record_decode_token(plain.p, plain.len, &u), 0);
	assert_int_equal(u.canary, 0);
	assert_int_equal(u.bind_pid, 0);
	record_free_token(&u);
	wbuf_free(&w);

	/* canary 2: not a flag; then a tail that says nothing */
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w), 0);
	p = (uint8_t *)w.p;
	p[w.len - 4 - 13] = 2;
	recrc(p, w.len);
	assert_int_equal(record_decode_token(w.p, w.len, &u), SAT_E_MALFORMED);
	wbuf_free(&w);
	t.canary = 0;
	t.bind_pid = 0;
	t.bind_start = 7;	/* a start time with no pid */
	wbuf_init(&w);
	assert_int_equal(record_encode_token(&t, &w), 0);
	assert_int_equal(w.len, plain.len);	/* not written: says nothing */
	wbuf_free(&w);
	wbuf_free(&plain);
	record_free_token(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_field),
		cmocka_unit_test(test_optional_fields_empty),
		cmocka_unit_test(test_wrong_type_refused),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_invalid_fields_refused),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_account_without_tail),
		cmocka_unit_test(test_token_lifecycle_tail),
		cmocka_unit_test(test_token_workload_tail),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
