/* libsatoken.so's server mechanisms in the real libsasl2: both
 * mechanisms, every decision reason, authzid mismatch, scope by service
 * and address, malformed messages, the RFC 7628 error challenge, store
 * and config failures, and the exported symbols. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <sasl/sasl.h>

#include "harness.h"
#include "mem.h"
#include "token.h"

static void
mechs_listed(void **state)
{
	sasl_conn_t *c = server_conn("imap", "127.0.0.1;4000");
	const char *list = NULL;
	unsigned len = 0;
	int count = 0;

	assert_int_equal(sasl_listmech(c, NULL, "", " ", "", &list, &len,
	    &count), SASL_OK);
	assert_non_null(strstr(list, "OAUTHBEARER"));
	assert_non_null(strstr(list, "XOAUTH2"));
	sasl_dispose(&c);
}

static void
oauthbearer_ok(void **state)
{
	struct tok t;

	MINT(&t, "ci", NULL);
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;4000", NULL, &t, "ci");
	assert_audit_has(" rhost=127.0.0.1");
	/* with the authzid equal to the token's account */
	expect_ok("OAUTHBEARER", "smtp", "127.0.0.1;4000", "ci", &t, "ci");
	/* the audit line names the token by id, never its secret */
	assert_null(strstr(audit_last(), t.s + TOKEN_PREFIX_LEN +
	    TOKEN_ID_LEN));
}

static void
xoauth2_ok(void **state)
{
	struct tok t;

	MINT(&t, "ops", NULL);
	expect_ok("XOAUTH2", "imap", "127.0.0.1;4000", "ops", &t, "ops");
}

static void
authzid_mismatch(void **state)
{
	struct tok t;

	MINT(&t, "ci", NULL);
	expect_refused("OAUTHBEARER", "imap", "127.0.0.1;1", "ops", t.s,
	    "wrong_account");
	expect_refused("OAUTHBEARER", "imap", "127.0.0.1;1", "nosuch", t.s,
	    "wrong_account");
	expect_refused("XOAUTH2", "imap", "127.0.0.1;1", "ops", t.s,
	    "wrong_account");
}

/* Every reason of the decision, through both mechanisms. */
static void
every_reason(void **state)
{
	static const char *const mechs[] = { "OAUTHBEARER", "XOAUTH2" };
	struct tok ok, unknown, bad, revoked, expired, gone, off, old, out,
	    svc, src;
	char crc[TOKEN_CRC_LEN];
	size_t i;

	MINT(&ok, "ci", NULL);
	assert_int_equal(token_generate(unknown.s), 0);
	/* the right id with another secret and a valid checksum */
	memcpy(&bad, &ok, sizeof(bad));
	bad.s[TOKEN_PREFIX_LEN + TOKEN_ID_LEN] =
	    bad.s[TOKEN_PREFIX_LEN + TOKEN_ID_LEN] == 'A' ? 'B' : 'A';
	token_checksum(bad.s, crc);
	memcpy(bad.s + TOKEN_LEN - TOKEN_CRC_LEN, crc, TOKEN_CRC_LEN);
	MINT(&revoked, "ci", NULL);
	SATFIX("revoke", revoked.id);
	MINT(&expired, "ci", "-t", "60", "-a", "120");
	MINT(&gone, "gone", NULL);
	SATFIX("delete-account", "gone");
	MINT(&off, "off", NULL);
	MINT(&old, "old", NULL);
	MINT(&out, "outsider", NULL);
	MINT(&svc, "ci", "-s", "smtp");
	MINT(&src, "ci", "-f", "10.0.0.0/8");

	for (i = 0; i < 2; i++) {
		const char *m = mechs[i];
		const char *claim = i == 1 ? "ci" : NULL;

		expect_refused(m, "imap", "127.0.0.1;1", claim,
		    "sat_notatoken", "malformed");
		expect_refused(m, "imap", "127.0.0.1;1", claim, unknown.s,
		    "unknown_token");
		expect_refused(m, "imap", "127.0.0.1;1", claim, bad.s,
		    "bad_secret");
		expect_refused(m, "imap", "127.0.0.1;1", claim, revoked.s,
		    "revoked");
		expect_refused(m, "imap", "127.0.0.1;1", claim, expired.s,
		    "expired");
		expect_refused(m, "imap", "127.0.0.1;1",
		    i == 1 ? "gone" : NULL, gone.s, "unknown_account");
		expect_refused(m, "imap", "127.0.0.1;1",
		    i == 1 ? "off" : NULL, off.s, "account_disabled");
		expect_refused(m, "imap", "127.0.0.1;1",
		    i == 1 ? "old" : NULL, old.s, "account_expired");
		expect_refused(m, "imap", "127.0.0.1;1",
		    i == 1 ? "outsider" : NULL, out.s, "policy_denied");
		expect_refused(m, "imap", "127.0.0.1;1", claim, svc.s,
		    "service_denied");
		expect_refused(m, "imap", "127.0.0.1;1", claim, src.s,
		    "source_denied");
	}
	/* the same tokens pass where their scope allows */
	expect_ok("OAUTHBEARER", "smtp", "127.0.0.1;1", NULL, &svc, "ci");
	expect_ok("XOAUTH2", "imap", "10.9.8.7;1", "ci", &src, "ci");
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, &ok, "ci");
}

/* Scope: the SASL service name and the address from SASL_IPREMOTEPORT. */
static void
scope(void **state)
{
	struct tok svc, v4, v6, both;

	MINT(&svc, "ci", "-s", "imap", "-s", "smtp");
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, &svc, "ci");
	expect_ok("OAUTHBEARER", "smtp", "127.0.0.1;1", NULL, &svc, "ci");
	expect_refused("OAUTHBEARER", "ldap", "127.0.0.1;1", NULL, svc.s,
	    "service_denied");

	MINT(&v4, "ci", "-f", "127.0.0.0/8");
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;4000", NULL, &v4, "ci");
	expect_refused("OAUTHBEARER", "imap", "192.0.2.1;4000", NULL, v4.s,
	    "source_denied");
	/* no SASL_IPREMOTEPORT: a token scoped to networks is refused */
	expect_refused("OAUTHBEARER", "imap", NULL, NULL, v4.s,
	    "source_denied");

	/* libsasl2 itself refuses "[v6];port" in sasl_server_new: only the
	 * bare form reaches a plugin (bearer.c reads both) */
	MINT(&v6, "ci", "-f", "2001:db8::/32");
	expect_ok("OAUTHBEARER", "imap", "2001:db8::7;4000", NULL, &v6, "ci");
	assert_audit_has(" rhost=2001:db8::7");
	expect_ok("OAUTHBEARER", "imap", "2001:db8::8;4000", NULL, &v6, "ci");
	expect_refused("OAUTHBEARER", "imap", "::1;4000", NULL, v6.s,
	    "source_denied");

	MINT(&both, "ci", "-s", "ldap", "-f", "127.0.0.1/32");
	expect_ok("XOAUTH2", "ldap", "127.0.0.1;389", "ci", &both, "ci");
	expect_refused("XOAUTH2", "ldap", "127.0.0.2;389", "ci", both.s,
	    "source_denied");
	expect_refused("XOAUTH2", "imap", "127.0.0.1;389", "ci", both.s,
	    "service_denied");
}

/* Malformed messages are refused at once (no challenge: the client did
 * not speak the protocol) and audited as malformed. */
static void
malformed(void **state)
{
	static const struct { const char *mech; const char *msg; size_t len; } bad[] = {
#define M(mech, lit) { mech, lit, sizeof(lit) - 1 }
		M("OAUTHBEARER", ""),
		M("OAUTHBEARER", "\x01"),
		M("OAUTHBEARER", "n,,auth=Bearer @\x01\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=Bearer @\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=Bearer @"),
		M("OAUTHBEARER", "n,,\x01host=h\x01\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=Basic @\x01\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=@\x01\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=Bearer @\0\x01\x01"),
		M("OAUTHBEARER", "n,,\x01" "auth=Bearer @\x01"
		    "auth=Bearer @\x01\x01"),
		M("OAUTHBEARER", "p=tls-unique,,\x01" "auth=Bearer @\x01\x01"),
		M("OAUTHBEARER", "n,a=c=ZZi,\x01" "auth=Bearer @\x01\x01"),
		M("OAUTHBEARER", "GET / HTTP/1.1\r\n\r\n"),
		M("XOAUTH2", ""),
		M("XOAUTH2", "user=ci\x01" "auth=Bearer @\x01"),
		M("XOAUTH2", "user=ci auth=Bearer @"),
		M("XOAUTH2", "auth=Bearer @\x01\x01"),
		M("XOAUTH2", "user=ci\x01" "auth=Basic @\x01\x01"),
		M("XOAUTH2", "user=ci\x01" "auth=Bearer @\0\x01\x01"),
		M("XOAUTH2", "user=c\0i\x01" "auth=Bearer @\x01\x01"),
		/* an empty user is nobody, never the token's account */
		M("XOAUTH2", "user=\x01" "auth=Bearer @\x01\x01"),
#undef M
	};
	char *big, out[128];
	struct tok t;
	size_t i, before, n;
	sasl_conn_t *c;

	MINT(&t, "ci", NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[256];
		const char *at;

		/* a real, valid token stands where '@' is */
		assert_true(bad[i].len + TOKEN_LEN < sizeof(msg));
		n = bad[i].len;
		memcpy(msg, bad[i].msg, n);
		if ((at = memchr(bad[i].msg, '@', bad[i].len)) != NULL) {
			size_t off = (size_t)(at - bad[i].msg);

			memcpy(msg + off, t.s, TOKEN_LEN);
			memcpy(msg + off + TOKEN_LEN, at + 1, n - off - 1);
			n += TOKEN_LEN - 1;
		}
		c = server_conn("imap", "127.0.0.1;1");
		before = audit_lines();
		if (server_start(c, bad[i].mech, msg, n, out, sizeof(out)) !=
		    SASL_BADAUTH)
			fail_msg("%s message #%zu not refused at once",
			    bad[i].mech, i);
		assert_int_equal(audit_lines(), before + 1);
		assert_audit_has("outcome=denied reason=malformed ");
		sat_wipe(msg, sizeof(msg));
		sasl_dispose(&c);
	}

	/* oversized: a valid token after 8 KiB of padding in host= */
	n = 8192;
	assert_non_null(big = malloc(n + 128));
	memcpy(big, "n,,\x01host=", 9);
	memset(big + 9, 'h', n);
	n += 9;
	n += (size_t)sprintf(big + n, "\x01" "auth=Bearer %s\x01\x01", t.s);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", big, n, out,
	    sizeof(out)), SASL_BADAUTH);
	assert_audit_has("reason=malformed");
	sasl_dispose(&c);
	c = server_conn("imap", "127.0.0.1;1");
	n = (size_t)sprintf(big, "user=");
	memset(big + n, 'u', 8192);
	n += 8192;
	n += (size_t)sprintf(big + n, "\x01" "auth=Bearer %s\x01\x01", t.s);
	assert_int_equal(server_start(c, "XOAUTH2", big, n, out, sizeof(out)),
	    SASL_BADAUTH);
	assert_audit_has("reason=malformed");
	sasl_dispose(&c);
	sat_freezero(big, 8192 + 128);
}

/* After the error challenge the exchange fails whatever the client says,
 * and a further step is a protocol error. */
static void
challenge_then_failure(void **state)
{
	char msg[256], out[128];
	const char *so = NULL;
	unsigned sol = 0;
	sasl_conn_t *c;
	struct tok t;
	size_t n;

	MINT(&t, "ci", "-s", "smtp");
	n = oauthbearer_msg(msg, sizeof(msg), NULL, t.s);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", msg, n, out,
	    sizeof(out)), SASL_CONTINUE);
	assert_string_equal(out, "{\"status\":\"invalid_token\"}");
	/* a client that answers with its message again still fails */
	assert_int_equal(sasl_server_step(c, msg, (unsigned)n, &so, &sol),
	    SASL_BADAUTH);
	sasl_dispose(&c);
	sat_wipe(msg, sizeof(msg));
}

/* The store cannot be read: SASL_UNAVAIL, never success. */
static void
store_unavailable(void **state)
{
	char msg[256], path[300];
	sasl_conn_t *c;
	struct tok t;
	size_t n;

	MINT(&t, "ci", NULL);
	n = oauthbearer_msg(msg, sizeof(msg), NULL, t.s);
	snprintf(path, sizeof(path), "%s/missing.db", tmpdir);
	write_conf(path);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", msg, n, NULL, 0),
	    SASL_UNAVAIL);
	assert_audit_has("outcome=error reason=store_unavailable");
	sasl_dispose(&c);

	/* a message that is not even a token is refused without the store */
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", "n,,\x01\x01", 5, NULL,
	    0), SASL_BADAUTH);
	assert_audit_has("outcome=denied reason=malformed");
	sasl_dispose(&c);

	/* not a database at all */
	write_file(path, "this is not a gdbm file\n");
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", msg, n, NULL, 0),
	    SASL_UNAVAIL);
	sasl_dispose(&c);
	write_conf(db);
	/* the same token works again once the store is back */
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, &t, "ci");
	sat_wipe(msg, sizeof(msg));
}

/* satoken_conf names the file; a broken or missing one refuses. */
static void
bad_config(void **state)
{
	char msg[256], out[128];
	const char *so = NULL;
	unsigned sol = 0;
	sasl_conn_t *c;
	struct tok t;
	size_t n;

	MINT(&t, "ci", NULL);
	n = oauthbearer_msg(msg, sizeof(msg), NULL, t.s);
	write_file(conf, "no_such_key = 1\n");
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", msg, n, out,
	    sizeof(out)), SASL_CONTINUE);
	assert_int_equal(sasl_server_step(c, "\x01", 1, &so, &sol),
	    SASL_BADAUTH);
	sasl_dispose(&c);
	assert_int_equal(unlink(conf), 0);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_not_equal(server_start(c, "OAUTHBEARER", msg, n, out,
	    sizeof(out)), SASL_OK);
	sasl_dispose(&c);
	write_conf(db);
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, &t, "ci");
	sat_wipe(msg, sizeof(msg));
}

/* audit = syslog with nothing listening (no /dev/log): a valid token
 * is refused, as with an audit file that cannot be written (issue 15,
 * item 8); once something listens, it passes. */
static void
syslog_unreachable(void **state)
{
	char msg[256], path[300], text[1024];
	struct sockaddr_un sa;
	sasl_conn_t *c;
	struct tok t;
	size_t n;
	int fd;

	MINT(&t, "ci", NULL);
	n = oauthbearer_msg(msg, sizeof(msg), NULL, t.s);
	snprintf(path, sizeof(path), "%s/log.sock", tmpdir);
	assert_int_equal(setenv("SATOKEN_SYSLOG_SOCKET", path, 1), 0);
	snprintf(text, sizeof(text), "database = %s\naudit = syslog\n"
	    "lock_timeout_ms = 300\n", db);
	write_file(conf, text);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_not_equal(server_start(c, "OAUTHBEARER", msg, n, NULL, 0),
	    SASL_OK);
	sasl_dispose(&c);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	c = server_conn("imap", "127.0.0.1;1");
	assert_int_equal(server_start(c, "OAUTHBEARER", msg, n, NULL, 0),
	    SASL_OK);
	sasl_dispose(&c);
	assert_true(recv(fd, text, sizeof(text) - 1, MSG_DONTWAIT) > 0);
	close(fd);
	unlink(path);
	unsetenv("SATOKEN_SYSLOG_SOCKET");
	write_conf(db);
	sat_wipe(msg, sizeof(msg));
}

/* A revocation is seen by the very next login of a loaded plugin. */
static void
revoke_next_login(void **state)
{
	struct tok t;

	MINT(&t, "ci", NULL);
	expect_ok("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, &t, "ci");
	SATFIX("revoke", t.id);
	expect_refused("OAUTHBEARER", "imap", "127.0.0.1;1", NULL, t.s,
	    "revoked");
	expect_refused("XOAUTH2", "imap", "127.0.0.1;1", "ci", t.s, "revoked");
}

static void
exports(void **state)
{
	char path[300];
	void *h;

	snprintf(path, sizeof(path), "%s/libsatoken.so", plugin_dir);
	assert_non_null(h = dlopen(path, RTLD_NOW | RTLD_LOCAL));
	assert_non_null(dlsym(h, "sasl_server_plug_init"));
	assert_non_null(dlsym(h, "sasl_client_plug_init"));
	assert_null(dlsym(h, "verify_token"));
	assert_null(dlsym(h, "store_open_reader"));
	assert_null(dlsym(h, "login_check"));
	assert_null(dlsym(h, "bearer_parse_oauthbearer"));
	assert_null(dlsym(h, "plugin_login"));
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mechs_listed),
		cmocka_unit_test(oauthbearer_ok),
		cmocka_unit_test(xoauth2_ok),
		cmocka_unit_test(authzid_mismatch),
		cmocka_unit_test(every_reason),
		cmocka_unit_test(scope),
		cmocka_unit_test(malformed),
		cmocka_unit_test(challenge_then_failure),
		cmocka_unit_test(store_unavailable),
		cmocka_unit_test(bad_config),
		cmocka_unit_test(syslog_unreachable),
		cmocka_unit_test(revoke_next_login),
		cmocka_unit_test(exports),
	};

	return cmocka_run_group_tests_name("sasl server mechanisms in libsasl2",
	    tests, harness_setup, harness_teardown);
}
