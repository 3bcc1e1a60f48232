/* libsatoken.so in the real libsasl2, server and client, in one process.
 *
 * libsasl2 loads the plugin from the build directory (SASL_CB_GETPATH,
 * env SAT_PLUGIN_DIR) and reads a private application config
 * (SASL_CB_GETCONFPATH) whose satoken_conf names a private satoken.conf:
 * a private store and a file audit sink.  Tokens are minted into that
 * store by one helper, mint(), which runs the satfix fixture (env
 * SATFIX) and reads the token from its stdout, never argv. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sasl/sasl.h>

#include "mem.h"
#include "token.h"

#define APPNAME	"satoken-test"

static char tmpdir[] = "/tmp/satoken-sasl-XXXXXX";
static char confdir[256], conf[256], db[256], audit_path[256];
static const char *plugin_dir, *satfix;
static int mint_seq;

struct tok {
	char s[TOKEN_LEN + 1];
	char id[TOKEN_ID_LEN + 1];
};

/* --- the store, through the fixture ----------------------------------- */

/* Runs satfix DB args...; if out is not NULL, its stdout goes there. */
static int
run_satfix(const char *const *args, char *out, size_t cap)
{
	const char *argv[16];
	size_t i, n = 0, len = 0;
	int fds[2], status;
	ssize_t k;
	pid_t pid;

	argv[n++] = satfix;
	argv[n++] = db;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(satfix, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (out != NULL && len + 1 < cap &&
	    (k = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)k;
	if (out != NULL)
		out[len] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define SATFIX(...) do { \
	const char *const a_[] = { __VA_ARGS__, NULL }; \
	assert_int_equal(run_satfix(a_, NULL, 0), 0); \
} while (0)

/* The one minting helper: extra are satfix mint options (-t, -s, -f,
 * -a), NULL-terminated. */
static void
mint_opts(struct tok *t, const char *account, const char *const *extra)
{
	const char *args[14];
	char name[32], out[128];
	size_t n = 0, i;

	snprintf(name, sizeof(name), "t%d", ++mint_seq);
	args[n++] = "mint";
	args[n++] = account;
	args[n++] = name;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 13; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	assert_int_equal(run_satfix(args, out, sizeof(out)), 0);
	assert_true(strlen(out) == TOKEN_LEN + 1 && out[TOKEN_LEN] == '\n');
	memcpy(t->s, out, TOKEN_LEN);
	t->s[TOKEN_LEN] = '\0';
	assert_int_equal(token_parse(t->s, TOKEN_LEN, t->id), 0);
	sat_wipe(out, sizeof(out));
}

#define MINT(t, account, ...) do { \
	const char *const o_[] = { __VA_ARGS__, NULL }; \
	mint_opts((t), (account), o_); \
} while (0)

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
write_conf(const char *database)
{
	char text[1024];

	snprintf(text, sizeof(text), "# test satoken.conf\n"
	    "database = %s\naudit = file:%s\nlock_timeout_ms = 300\n",
	    database, audit_path);
	write_file(conf, text);
}

/* The last audit line, without its newline. */
static char *
audit_last(void)
{
	static char line[1024];
	char buf[65536], *p, *end;
	size_t n;
	FILE *f = fopen(audit_path, "r");

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(n > 0 && buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	p = (end = strrchr(buf, '\n')) != NULL ? end + 1 : buf;
	snprintf(line, sizeof(line), "%.1000s", p);
	return line;
}

static size_t
audit_lines(void)
{
	FILE *f = fopen(audit_path, "r");
	size_t n = 0;
	int ch;

	if (f == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void
assert_audit_has(const char *needle)
{
	const char *line = audit_last();

	if (strstr(line, needle) == NULL)
		fail_msg("audit line '%s' lacks '%s'", line, needle);
}

/* --- libsasl2 setup ------------------------------------------------------ */

static int
cb_getpath(void *context, const char **path)
{
	*path = plugin_dir;
	return SASL_OK;
}

static int
cb_getconfpath(void *context, char **path)
{
	*path = confdir;
	return SASL_OK;
}

static int
cb_log(void *context, int level, const char *message)
{
	if (getenv("SAT_SASL_DEBUG") != NULL)
		fprintf(stderr, "sasl[%d]: %s\n", level, message);
	return SASL_OK;
}

#define CB(f)	((int (*)(void))(void (*)(void))(f))

static sasl_callback_t global_cbs[] = {
	{ SASL_CB_GETPATH, CB(cb_getpath), NULL },
	{ SASL_CB_GETCONFPATH, CB(cb_getconfpath), NULL },
	{ SASL_CB_LOG, CB(cb_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

static int
group_setup(void **state)
{
	char text[512];

	plugin_dir = getenv("SAT_PLUGIN_DIR");
	satfix = getenv("SATFIX");
	if (plugin_dir == NULL || satfix == NULL) {
		fprintf(stderr, "SAT_PLUGIN_DIR and SATFIX must be set\n");
		return -1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(confdir, sizeof(confdir), "%s/saslconf", tmpdir);
	snprintf(conf, sizeof(conf), "%s/satoken.conf", tmpdir);
	snprintf(db, sizeof(db), "%s/satoken.db", tmpdir);
	snprintf(audit_path, sizeof(audit_path), "%s/audit.log", tmpdir);
	if (mkdir(confdir, 0700) != 0)
		return -1;
	snprintf(text, sizeof(text), "satoken_conf: %s\n"
	    "mech_list: OAUTHBEARER XOAUTH2\n", conf);
	{
		char p[300];
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s.conf", confdir, APPNAME);
		if ((f = fopen(p, "w")) == NULL)
			return -1;
		fputs(text, f);
		fclose(f);
	}
	write_conf(db);

	/* accounts for every decision reason */
	{
		static const char *const cmds[][8] = {
			{ "init" },
			{ "group", "svc" },
			{ "group", "other" },
			{ "policy", "svc" },
			{ "account", "ci", "-g", "svc" },
			{ "account", "ops", "-g", "svc" },
			{ "account", "off", "-g", "svc", "-d" },
			{ "account", "old", "-g", "svc", "-v", "1", "-a", "172800" },
			{ "account", "outsider", "-g", "other" },
			{ "account", "gone", "-g", "svc" },
		};
		size_t i;

		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (run_satfix(cmds[i], NULL, 0) != 0)
				return -1;
	}
	if (sasl_server_init(global_cbs, APPNAME) != SASL_OK ||
	    sasl_client_init(global_cbs) != SASL_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[300];

	sasl_server_done();
	sasl_client_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A server connection as an application makes one. */
static sasl_conn_t *
server_conn(const char *service, const char *ipremote)
{
	sasl_security_properties_t sp;
	sasl_conn_t *c = NULL;

	assert_int_equal(sasl_server_new(service, "localhost", NULL,
	    "127.0.0.1;143", ipremote, NULL, 0, &c), SASL_OK);
	/* Postfix's and slapd's default: anonymous mechanisms hidden */
	memset(&sp, 0, sizeof(sp));
	sp.max_ssf = 256;
	sp.maxbufsize = 65536;
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	assert_int_equal(sasl_setprop(c, SASL_SEC_PROPS, &sp), SASL_OK);
	return c;
}

/* Starts mech with msg; returns the result, the challenge in out. */
static int
server_start(sasl_conn_t *c, const char *mech, const void *msg, size_t len,
    char *out, size_t cap)
{
	const char *so = NULL;
	unsigned sol = 0;
	int r;

	r = sasl_server_start(c, mech, msg, (unsigned)len, &so, &sol);
	if (out != NULL) {
		snprintf(out, cap, "%.*s", (int)sol, so != NULL ? so : "");
		if (r == SASL_CONTINUE)
			assert_int_equal(strlen(out), sol);
	}
	return r;
}

static size_t
oauthbearer_msg(char *out, size_t cap, const char *authzid, const char *tok)
{
	int n = snprintf(out, cap, "n,%s%s,\x01" "auth=Bearer %s\x01\x01",
	    authzid != NULL ? "a=" : "", authzid != NULL ? authzid : "", tok);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static size_t
xoauth2_msg(char *out, size_t cap, const char *user, const char *tok)
{
	int n = snprintf(out, cap, "user=%s\x01" "auth=Bearer %s\x01\x01",
	    user, tok);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void
assert_username(sasl_conn_t *c, const char *want)
{
	const void *v = NULL;

	assert_int_equal(sasl_getprop(c, SASL_USERNAME, &v), SASL_OK);
	assert_non_null(v);
	assert_string_equal((const char *)v, want);
}

/* Server-side OAUTHBEARER attempt that must succeed as account. */
static void
expect_ok(const char *mech, const char *service, const char *ipremote,
    const char *claimed, const struct tok *t, const char *account)
{
	char msg[512], out[128], want[256];
	sasl_conn_t *c = server_conn(service, ipremote);
	size_t n = strcmp(mech, "XOAUTH2") == 0 ?
	    xoauth2_msg(msg, sizeof(msg), claimed, t->s) :
	    oauthbearer_msg(msg, sizeof(msg), claimed, t->s);

	assert_int_equal(server_start(c, mech, msg, n, out, sizeof(out)),
	    SASL_OK);
	assert_username(c, account);
	snprintf(want, sizeof(want), "action=auth outcome=ok reason=ok "
	    "account=%s token=%s service=%s", account, t->id, service);
	assert_audit_has(want);
	sat_wipe(msg, sizeof(msg));
	sasl_dispose(&c);
}

/* An attempt refused by the decision: the RFC 7628 error challenge,
 * then failure after the client's answer, and the reason audited. */
static void
expect_refused(const char *mech, const char *service, const char *ipremote,
    const char *claimed, const char *token, const char *reason)
{
	char msg[512], out[128], want[64];
	const char *so = NULL;
	unsigned sol = 0;
	int xo = strcmp(mech, "XOAUTH2") == 0;
	sasl_conn_t *c = server_conn(service, ipremote);
	size_t before = audit_lines(), n = xo ?
	    xoauth2_msg(msg, sizeof(msg), claimed != NULL ? claimed : "x", token) :
	    oauthbearer_msg(msg, sizeof(msg), claimed, token);

	assert_int_equal(server_start(c, mech, msg, n, out, sizeof(out)),
	    SASL_CONTINUE);
	assert_string_equal(out, xo ? "{\"status\":\"401\",\"schemes\":\"bearer\"}" :
	    "{\"status\":\"invalid_token\"}");
	assert_int_equal(sasl_server_step(c, xo ? "" : "\x01", xo ? 0 : 1,
	    &so, &sol), SASL_BADAUTH);
	assert_int_equal(audit_lines(), before + 1);
	snprintf(want, sizeof(want), "outcome=denied reason=%s ", reason);
	assert_audit_has(want);
	snprintf(want, sizeof(want), "service=%s", service);
	assert_audit_has(want);
	sat_wipe(msg, sizeof(msg));
	sasl_dispose(&c);
}

/* --- tests ----------------------------------------------------------- */

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

/* --- the client side ------------------------------------------------- */

struct client_answers {
	int interact;		/* libldap's way: ids with no procedure */
	const char *authname;	/* NULL: no callback */
	const char *user;	/* NULL: no callback */
	const struct tok *tok;	/* NULL: no callback */
	sasl_secret_t *secret;
};

static int
cb_simple(void *context, int id, const char **result, unsigned *len)
{
	const struct client_answers *a = context;

	*result = id == SASL_CB_AUTHNAME ? a->authname : a->user;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	struct client_answers *a = context;

	*psecret = a->secret;
	return SASL_OK;
}

static sasl_conn_t *
client_conn(struct client_answers *a, sasl_callback_t cbs[5])
{
	sasl_security_properties_t sp;
	sasl_conn_t *c = NULL;
	size_t n = 0;

	if (a->interact) {
		/* a callback id without a procedure asks libsasl2 for
		 * SASL_INTERACT prompts, as libldap registers them */
		cbs[n++] = (sasl_callback_t){ SASL_CB_USER, NULL, NULL };
		cbs[n++] = (sasl_callback_t){ SASL_CB_AUTHNAME, NULL, NULL };
		cbs[n++] = (sasl_callback_t){ SASL_CB_PASS, NULL, NULL };
	}
	if (a->authname != NULL)
		cbs[n++] = (sasl_callback_t){ SASL_CB_AUTHNAME, CB(cb_simple), a };
	if (a->user != NULL)
		cbs[n++] = (sasl_callback_t){ SASL_CB_USER, CB(cb_simple), a };
	if (a->tok != NULL) {
		a->secret = malloc(sizeof(sasl_secret_t) + TOKEN_LEN);
		assert_non_null(a->secret);
		a->secret->len = TOKEN_LEN;
		memcpy(a->secret->data, a->tok->s, TOKEN_LEN + 1);
		cbs[n++] = (sasl_callback_t){ SASL_CB_PASS, CB(cb_pass), a };
	}
	cbs[n] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	assert_int_equal(sasl_client_new("imap", "localhost", "127.0.0.1;4000",
	    "127.0.0.1;143", cbs, 0, &c), SASL_OK);
	memset(&sp, 0, sizeof(sp));
	sp.max_ssf = 256;
	sp.maxbufsize = 65536;
	sp.security_flags = SASL_SEC_NOANONYMOUS;	/* libldap's default */
	assert_int_equal(sasl_setprop(c, SASL_SEC_PROPS, &sp), SASL_OK);
	return c;
}

static void
client_done(struct client_answers *a)
{
	if (a->secret != NULL)
		sat_freezero(a->secret, sizeof(sasl_secret_t) + TOKEN_LEN);
	a->secret = NULL;
}

/* Client and server in one exchange, as an application drives them. */
static int
exchange(sasl_conn_t *cc, sasl_conn_t *sc, sasl_interact_t *answers_for,
    void (*answer)(sasl_interact_t *), char *first_msg, size_t cap)
{
	sasl_interact_t *prompts = NULL;
	const char *co = NULL, *so = NULL, *mech = NULL;
	unsigned col = 0, sol = 0;
	int rc, rs;

	for (;;) {
		rc = sasl_client_start(cc, "OAUTHBEARER", &prompts, &co, &col,
		    &mech);
		if (rc != SASL_INTERACT)
			break;
		assert_non_null(answer);
		answer(prompts);
	}
	if (rc != SASL_CONTINUE && rc != SASL_OK)
		return rc;
	assert_string_equal(mech, "OAUTHBEARER");
	if (first_msg != NULL)
		snprintf(first_msg, cap, "%.*s", (int)col, co);
	rs = sasl_server_start(sc, "OAUTHBEARER", co, col, &so, &sol);
	while (rs == SASL_CONTINUE) {
		rc = sasl_client_step(cc, so, sol, &prompts, &co, &col);
		if (rc != SASL_CONTINUE && rc != SASL_OK)
			return rc;
		/* the client answers the error challenge with \x01 */
		assert_int_equal(col, 1);
		assert_int_equal(co[0], 0x01);
		rs = sasl_server_step(sc, co, col, &so, &sol);
	}
	if (rs != SASL_OK)
		return rs;
	/* the server's success carries no data; the client is done */
	return sasl_client_step(cc, NULL, 0, &prompts, &co, &col);
}

static void
client_callbacks(void **state)
{
	struct client_answers a = { 0, "ci", "", NULL, NULL };
	sasl_callback_t cbs[5];
	char first[256];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, first, sizeof(first)),
	    SASL_OK);
	assert_memory_equal(first, "n,,\x01" "auth=Bearer sat_", 20);
	assert_username(sc, "ci");
	assert_audit_has("outcome=ok reason=ok account=ci");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
	sat_wipe(first, sizeof(first));
}

static void
client_authzid(void **state)
{
	struct client_answers a = { 0, "ci", "ci", NULL, NULL };
	sasl_callback_t cbs[5];
	char first[256];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, first, sizeof(first)),
	    SASL_OK);
	assert_memory_equal(first, "n,a=ci,\x01", 8);
	assert_username(sc, "ci");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);

	/* another account's identity: refused, the client answers \x01 */
	a.user = "ops";
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, NULL, 0), SASL_BADAUTH);
	assert_audit_has("reason=wrong_account");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
	sat_wipe(first, sizeof(first));
}

/* A revoked token through the client: refused, the error challenge
 * answered with \x01 (checked in exchange), then failure. */
static void
client_refused(void **state)
{
	struct client_answers a = { 0, "ci", "", NULL, NULL };
	sasl_callback_t cbs[5];
	sasl_conn_t *cc, *sc;
	struct tok t;

	MINT(&t, "ci", NULL);
	SATFIX("revoke", t.id);
	a.tok = &t;
	cc = client_conn(&a, cbs);
	sc = server_conn("imap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, NULL, NULL, 0), SASL_BADAUTH);
	assert_audit_has("reason=revoked");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	client_done(&a);
}

static struct tok interact_tok;
static int interact_rounds;

/* What libldap's lutil_sasl_interact does: fill every prompt. */
static void
answer_prompts(sasl_interact_t *p)
{
	interact_rounds++;
	for (; p->id != SASL_CB_LIST_END; p++) {
		assert_non_null(p->prompt);
		switch (p->id) {
		case SASL_CB_AUTHNAME:
			p->result = "ops";
			break;
		case SASL_CB_USER:
			p->result = "";
			break;
		case SASL_CB_PASS:
			p->result = interact_tok.s;
			break;
		default:
			fail_msg("unexpected prompt %lu", p->id);
		}
		p->len = (unsigned)strlen(p->result);
	}
}

static void
client_interact(void **state)
{
	struct client_answers a = { 1, NULL, NULL, NULL, NULL };
	sasl_callback_t cbs[5];
	sasl_conn_t *cc, *sc;

	MINT(&interact_tok, "ops", NULL);
	interact_rounds = 0;
	cc = client_conn(&a, cbs);
	sc = server_conn("ldap", "127.0.0.1;4000");
	assert_int_equal(exchange(cc, sc, NULL, answer_prompts, NULL, 0),
	    SASL_OK);
	assert_int_equal(interact_rounds, 1);
	assert_username(sc, "ops");
	assert_audit_has("outcome=ok reason=ok account=ops");
	assert_audit_has("service=ldap");
	sasl_dispose(&cc);
	sasl_dispose(&sc);
	sat_wipe(&interact_tok, sizeof(interact_tok));
}

/* Only the two entry points are exported; common/ stays inside. */
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
		cmocka_unit_test(revoke_next_login),
		cmocka_unit_test(client_callbacks),
		cmocka_unit_test(client_authzid),
		cmocka_unit_test(client_refused),
		cmocka_unit_test(client_interact),
		cmocka_unit_test(exports),
	};

	return cmocka_run_group_tests_name("sasl plugin in libsasl2", tests,
	    group_setup, group_teardown);
}
