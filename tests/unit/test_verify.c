/* The decision: every reason code, in its order, on a real store. */
#include "testutil.h"

#include "verify.h"

struct fx {
	char *dir, *db;
	struct store *w;
	int64_t now;
	char ok[TOKEN_LEN + 1], ok_id[TOKEN_ID_LEN + 1];
	char scoped[TOKEN_LEN + 1], scoped_id[TOKEN_ID_LEN + 1];
	char revoked[TOKEN_LEN + 1], revoked_id[TOKEN_ID_LEN + 1];
	char expired[TOKEN_LEN + 1], expired_id[TOKEN_ID_LEN + 1];
	char other[TOKEN_LEN + 1], other_id[TOKEN_ID_LEN + 1];
	char disabled[TOKEN_LEN + 1], orphan[TOKEN_LEN + 1];
	char aged[TOKEN_LEN + 1], outside[TOKEN_LEN + 1];
	char tmp_id[TOKEN_ID_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *ci[] = { "ci", NULL }, *ops[] = { "ops", NULL };
	const char *policy[] = { "ci", NULL };
	const char *svcs[] = { "imap", "sshd", NULL };
	const char *srcs[] = { "10.0.0.0/8", "2001:db8::/32", NULL };
	struct sat_token t;

	f->dir = tu_tmpdir();
	f->db = tu_path(f->dir, "satoken.db");
	f->now = (int64_t)time(NULL);
	assert_int_equal(store_open_writer(f->db, 1000, &f->w), 0);
	tu_put_group(f->w, "ci");
	tu_put_group(f->w, "ops");
	tu_put_policy(f->w, policy);
	tu_put_account(f->w, "svc", ci, 1, 0, f->now);
	tu_put_account(f->w, "other", ci, 1, 0, f->now);
	tu_put_account(f->w, "off", ci, 0, 0, f->now);
	tu_put_account(f->w, "old", ci, 1, 1, f->now - 2 * 86400);
	tu_put_account(f->w, "outsider", ops, 1, 0, f->now);
	tu_put_account(f->w, "gone", ci, 1, 0, f->now);
	tu_mint(f->w, "svc", "ok", f->now + 3600, NULL, NULL, f->ok, f->ok_id);
	tu_mint(f->w, "svc", "scoped", f->now + 3600, svcs, srcs, f->scoped,
	    f->scoped_id);
	tu_mint(f->w, "svc", "revoked", f->now - 10, NULL, NULL, f->revoked,
	    f->revoked_id);
	tu_mint(f->w, "svc", "expired", f->now - 1, NULL, NULL, f->expired,
	    f->expired_id);
	tu_mint(f->w, "other", "x", f->now + 3600, NULL, NULL, f->other,
	    f->other_id);
	tu_mint(f->w, "off", "x", f->now + 3600, NULL, NULL, f->disabled,
	    f->tmp_id);
	tu_mint(f->w, "old", "x", f->now + 3600, NULL, NULL, f->aged, f->tmp_id);
	tu_mint(f->w, "outsider", "x", f->now + 3600, NULL, NULL, f->outside,
	    f->tmp_id);
	tu_mint(f->w, "gone", "x", f->now + 3600, NULL, NULL, f->orphan,
	    f->tmp_id);
	/* revoked AND expired: the earlier reason wins */
	assert_int_equal(store_get_token(f->w, f->revoked_id, &t), 0);
	t.revoked_at = f->now - 5;
	assert_int_equal(store_put_token(f->w, &t), 0);
	record_free_token(&t);
	assert_int_equal(store_delete_account(f->w, "gone"), 0);
	assert_int_equal(store_commit(f->w), 0);
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
	sat_wipe(f, sizeof(*f));
	free(f);
	return 0;
}

static enum verify_reason
check(struct fx *f, const char *tok, size_t len, const char *account,
    const char *service, const char *rhost, struct verify_result *res)
{
	struct verify_request rq;
	struct verify_result local;
	struct store *r;

	if (res == NULL)
		res = &local;
	memset(&rq, 0, sizeof(rq));
	rq.token = tok;
	rq.token_len = len;
	rq.account = account;
	rq.service = service;
	rq.rhost = rhost;
	rq.now = f->now;
	/* through a reader, as the modules do */
	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(verify_token(r, &rq, res), 0);
	store_close(r);
	return res->reason;
}

#define CHECK(tok, acct, svc, rh) check(f, tok, strlen(tok), acct, svc, rh, NULL)

static void
test_ok(void **state)
{
	struct fx *f = *state;
	struct verify_result res;

	assert_int_equal(check(f, f->ok, TOKEN_LEN, "svc", "sshd", "192.0.2.1",
	    &res), VERIFY_OK);
	assert_string_equal(res.account, "svc");
	assert_string_equal(res.token_id, f->ok_id);
	/* no claimed account (OAUTHBEARER): the token names it */
	assert_int_equal(check(f, f->ok, TOKEN_LEN, "", "imap", NULL, &res),
	    VERIFY_OK);
	assert_string_equal(res.account, "svc");
	assert_int_equal(CHECK(f->ok, NULL, NULL, NULL), VERIFY_OK);
}

static void
test_malformed(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	char t[TOKEN_LEN + 1];

	assert_int_equal(CHECK("hunter2", "svc", "sshd", NULL), VERIFY_MALFORMED);
	assert_int_equal(CHECK("", "svc", "sshd", NULL), VERIFY_MALFORMED);
	memcpy(t, f->ok, sizeof(t));
	t[20] = t[20] == 'a' ? 'b' : 'a';	/* a typo: the checksum catches it */
	assert_int_equal(check(f, t, TOKEN_LEN, "svc", "sshd", NULL, &res),
	    VERIFY_MALFORMED);
	assert_string_equal(res.token_id, "");
	/* a token with a trailing newline is not the token */
	assert_int_equal(check(f, f->ok, TOKEN_LEN - 1, "svc", NULL, NULL, NULL),
	    VERIFY_MALFORMED);
}

/* Replaces the secret of tok, keeping id and a valid checksum. */
static void
forge_secret(const char *tok, char out[TOKEN_LEN + 1])
{
	char fresh[TOKEN_LEN + 1];

	assert_int_equal(token_generate(fresh), 0);
	memcpy(out, tok, TOKEN_LEN + 1);
	memcpy(out + 4 + TOKEN_ID_LEN, fresh + 4 + TOKEN_ID_LEN, TOKEN_SECRET_LEN);
	token_checksum(out, out + TOKEN_LEN - TOKEN_CRC_LEN);
}

static void
test_unknown_token_and_bad_secret(void **state)
{
	struct fx *f = *state;
	struct verify_result res;
	char t[TOKEN_LEN + 1], id[TOKEN_ID_LEN + 1];

	assert_int_equal(token_generate(t), 0);
	assert_int_equal(check(f, t, TOKEN_LEN, "svc", "sshd", NULL, &res),
	    VERIFY_UNKNOWN_TOKEN);
	assert_int_equal(token_parse(t, TOKEN_LEN, id), 0);
	assert_string_equal(res.token_id, id);

	forge_secret(f->ok, t);
	assert_int_equal(check(f, t, TOKEN_LEN, "svc", "sshd", NULL, &res),
	    VERIFY_BAD_SECRET);
	/* a bad secret for another's token: still bad_secret, and the
	 * result does not reveal whose token the id is */
	forge_secret(f->other, t);
	assert_int_equal(check(f, t, TOKEN_LEN, "svc", "sshd", NULL, &res),
	    VERIFY_BAD_SECRET);
	assert_string_equal(res.account, "svc");
	assert_int_equal(check(f, t, TOKEN_LEN, "", "sshd", NULL, &res),
	    VERIFY_BAD_SECRET);
	assert_string_equal(res.account, "");
}

static void
test_wrong_account(void **state)
{
	struct fx *f = *state;

	assert_int_equal(CHECK(f->other, "svc", "sshd", NULL), VERIFY_WRONG_ACCOUNT);
	assert_int_equal(CHECK(f->ok, "nosuch", "sshd", NULL), VERIFY_WRONG_ACCOUNT);
}

static void
test_revoked_then_expired(void **state)
{
	struct fx *f = *state;

	assert_int_equal(CHECK(f->revoked, "svc", "sshd", NULL), VERIFY_REVOKED);
	assert_int_equal(CHECK(f->expired, "svc", "sshd", NULL), VERIFY_EXPIRED);
}

static void
test_account_reasons(void **state)
{
	struct fx *f = *state;

	assert_int_equal(CHECK(f->orphan, "gone", "sshd", NULL),
	    VERIFY_UNKNOWN_ACCOUNT);
	assert_int_equal(CHECK(f->disabled, "off", "sshd", NULL),
	    VERIFY_ACCOUNT_DISABLED);
	assert_int_equal(CHECK(f->aged, "old", "sshd", NULL),
	    VERIFY_ACCOUNT_EXPIRED);
	assert_int_equal(CHECK(f->outside, "outsider", "sshd", NULL),
	    VERIFY_POLICY_DENIED);
}

static void
test_policy_change_applies_to_existing_tokens(void **state)
{
	struct fx *f = *state;
	const char *none[] = { NULL }, *ops[] = { "ops", NULL };

	assert_int_equal(CHECK(f->ok, "svc", NULL, NULL), VERIFY_OK);
	tu_put_policy(f->w, none);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", NULL, NULL), VERIFY_POLICY_DENIED);
	tu_put_policy(f->w, ops);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", NULL, NULL), VERIFY_POLICY_DENIED);
	assert_int_equal(CHECK(f->outside, "outsider", NULL, NULL), VERIFY_OK);
}

static void
test_service_scope(void **state)
{
	struct fx *f = *state;

	assert_int_equal(CHECK(f->scoped, "svc", "imap", "10.1.2.3"), VERIFY_OK);
	assert_int_equal(CHECK(f->scoped, "svc", "smtp", "10.1.2.3"),
	    VERIFY_SERVICE_DENIED);
	assert_int_equal(CHECK(f->scoped, "svc", "", "10.1.2.3"),
	    VERIFY_SERVICE_DENIED);
	assert_int_equal(CHECK(f->scoped, "svc", NULL, "10.1.2.3"),
	    VERIFY_SERVICE_DENIED);
	assert_int_equal(CHECK(f->scoped, "svc", "IMAP", "10.1.2.3"),
	    VERIFY_SERVICE_DENIED);
}

static void
test_source_scope(void **state)
{
	struct fx *f = *state;

	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "10.255.0.1"), VERIFY_OK);
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "::ffff:10.0.0.7"),
	    VERIFY_OK);
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "2001:db8:1::5"),
	    VERIFY_OK);
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "11.0.0.1"),
	    VERIFY_SOURCE_DENIED);
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "2001:db9::1"),
	    VERIFY_SOURCE_DENIED);
	/* no address, or a host name (sshd with UseDNS): refused */
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", NULL),
	    VERIFY_SOURCE_DENIED);
	assert_int_equal(CHECK(f->scoped, "svc", "sshd", "host.example"),
	    VERIFY_SOURCE_DENIED);
	/* service is checked before source */
	assert_int_equal(CHECK(f->scoped, "svc", "ftp", "11.0.0.1"),
	    VERIFY_SERVICE_DENIED);
}

static void
test_verify_account(void **state)
{
	struct fx *f = *state;
	struct store *r;
	enum verify_reason why;

	assert_int_equal(store_open_reader(f->db, 1000, &r), 0);
	assert_int_equal(verify_account(r, "svc", f->now, &why), 0);
	assert_int_equal(why, VERIFY_OK);
	assert_int_equal(verify_account(r, "off", f->now, &why), 0);
	assert_int_equal(why, VERIFY_ACCOUNT_DISABLED);
	assert_int_equal(verify_account(r, "old", f->now, &why), 0);
	assert_int_equal(why, VERIFY_ACCOUNT_EXPIRED);
	assert_int_equal(verify_account(r, "outsider", f->now, &why), 0);
	assert_int_equal(why, VERIFY_POLICY_DENIED);
	assert_int_equal(verify_account(r, "gone", f->now, &why), 0);
	assert_int_equal(why, VERIFY_UNKNOWN_ACCOUNT);
	assert_int_equal(verify_account(r, "root", f->now, &why), 0);
	assert_int_equal(why, VERIFY_UNKNOWN_ACCOUNT);
	assert_int_equal(verify_account(r, "", f->now, &why), 0);
	assert_int_equal(why, VERIFY_UNKNOWN_ACCOUNT);
	store_close(r);
}

/* A canary never authenticates: after the secret and the account match
 * (a wrong account says nothing of it), before revoked and
 * expired (its use is an alarm whatever became of it since). */
static void
test_canary(void **state)
{
	struct fx *f = *state;
	struct sat_token t;
	const char *ids[] = { f->ok_id, f->revoked_id, f->expired_id };
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(store_get_token(f->w, ids[i], &t), 0);
		t.canary = 1;
		assert_int_equal(store_put_token(f->w, &t), 0);
		record_free_token(&t);
	}
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", "sshd", NULL), VERIFY_CANARY);
	assert_int_equal(CHECK(f->ok, NULL, NULL, NULL), VERIFY_CANARY);
	assert_int_equal(CHECK(f->revoked, "svc", "sshd", NULL), VERIFY_CANARY);
	assert_int_equal(CHECK(f->expired, "svc", "sshd", NULL), VERIFY_CANARY);
	assert_int_equal(CHECK(f->ok, "other", "sshd", NULL),
	    VERIFY_WRONG_ACCOUNT);
	assert_string_equal(verify_reason_name(VERIFY_CANARY), "canary");
}

/* An offline budget (a fleet host's --max-offline token): checked last,
 * against the store's record of its last contact with the directory;
 * none recorded is no proof of contact. */
static void
test_store_stale(void **state)
{
	struct fx *f = *state;
	struct sat_token t;
	char v[24];
	int n;

	assert_int_equal(store_get_token(f->w, f->ok_id, &t), 0);
	t.max_offline = 300;
	assert_int_equal(store_put_token(f->w, &t), 0);
	record_free_token(&t);
	assert_int_equal(store_commit(f->w), 0);
	/* a standalone store: no contact recorded */
	assert_int_equal(CHECK(f->ok, "svc", "sshd", NULL), VERIFY_STORE_STALE);
	/* every earlier reason still comes first */
	assert_int_equal(CHECK(f->ok, "other", "sshd", NULL),
	    VERIFY_WRONG_ACCOUNT);
	n = snprintf(v, sizeof(v), "%lld", (long long)(f->now - 299));
	assert_int_equal(store_stage_raw(f->w, STORE_CONTACT_KEY,
	    strlen(STORE_CONTACT_KEY), v, (size_t)n), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", "sshd", NULL), VERIFY_OK);
	/* a token without a budget never looks */
	assert_int_equal(CHECK(f->other, "other", "sshd", NULL), VERIFY_OK);
	n = snprintf(v, sizeof(v), "%lld", (long long)(f->now - 301));
	assert_int_equal(store_stage_raw(f->w, STORE_CONTACT_KEY,
	    strlen(STORE_CONTACT_KEY), v, (size_t)n), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", "sshd", NULL), VERIFY_STORE_STALE);
	assert_int_equal(CHECK(f->other, "other", "sshd", NULL), VERIFY_OK);
	/* a value that does not read is no contact */
	assert_int_equal(store_stage_raw(f->w, STORE_CONTACT_KEY,
	    strlen(STORE_CONTACT_KEY), "12x", 3), 0);
	assert_int_equal(store_commit(f->w), 0);
	assert_int_equal(CHECK(f->ok, "svc", "sshd", NULL), VERIFY_STORE_STALE);
	assert_string_equal(verify_reason_name(VERIFY_STORE_STALE),
	    "store_stale");
}

static void
test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(verify_reason_name(VERIFY_OK), "ok");
	assert_string_equal(verify_reason_name(VERIFY_UNKNOWN_TOKEN), "unknown_token");
	assert_string_equal(verify_reason_name(VERIFY_ACCOUNT_EXPIRED), "account_expired");
	assert_string_equal(verify_reason_name(VERIFY_SOURCE_DENIED), "source_denied");
	assert_string_equal(verify_reason_name((enum verify_reason)99), "malformed");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ok),
		T(test_malformed),
		T(test_unknown_token_and_bad_secret),
		T(test_wrong_account),
		T(test_revoked_then_expired),
		T(test_account_reasons),
		T(test_policy_change_applies_to_existing_tokens),
		T(test_service_scope),
		T(test_source_scope),
		T(test_verify_account),
		T(test_reason_names),
		T(test_canary),
		T(test_store_stale),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
