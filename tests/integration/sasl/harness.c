/* The in-process SASL tests' harness: a private store and config, the one
 * minting helper, audit readers, libsasl2 set up to load libsatoken.so
 * from the build directory, and server-side attempt helpers. */
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
#include "harness.h"

#define APPNAME	"satoken-test"

char tmpdir[] = "/tmp/satoken-sasl-XXXXXX";
char conf[256], db[256], audit_path[256];
static char confdir[256];
const char *plugin_dir;
static const char *satfix;
static int mint_seq;


/* --- the store, through the fixture ----------------------------------- */

/* Runs satfix DB args...; if out is not NULL, its stdout goes there. */
int
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


/* The one minting helper: extra are satfix mint options (-t, -s, -f,
 * -a), NULL-terminated. */
void
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


void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

void
write_conf(const char *database)
{
	char text[1024];

	snprintf(text, sizeof(text), "# test satoken.conf\n"
	    "database = %s\naudit = file:%s\nlock_timeout_ms = 300\n",
	    database, audit_path);
	write_file(conf, text);
}

/* The last audit line, without its newline. */
char *
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

size_t
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

void
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


static sasl_callback_t global_cbs[] = {
	{ SASL_CB_GETPATH, CB(cb_getpath), NULL },
	{ SASL_CB_GETCONFPATH, CB(cb_getconfpath), NULL },
	{ SASL_CB_LOG, CB(cb_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

int
harness_setup(void **state)
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

int
harness_teardown(void **state)
{
	char cmd[300];

	sasl_server_done();
	sasl_client_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A server connection as an application makes one. */
sasl_conn_t *
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
int
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

size_t
oauthbearer_msg(char *out, size_t cap, const char *authzid, const char *tok)
{
	int n = snprintf(out, cap, "n,%s%s,\x01" "auth=Bearer %s\x01\x01",
	    authzid != NULL ? "a=" : "", authzid != NULL ? authzid : "", tok);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

size_t
xoauth2_msg(char *out, size_t cap, const char *user, const char *tok)
{
	int n = snprintf(out, cap, "user=%s\x01" "auth=Bearer %s\x01\x01",
	    user, tok);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

void
assert_username(sasl_conn_t *c, const char *want)
{
	const void *v = NULL;

	assert_int_equal(sasl_getprop(c, SASL_USERNAME, &v), SASL_OK);
	assert_non_null(v);
	assert_string_equal((const char *)v, want);
}

/* Server-side OAUTHBEARER attempt that must succeed as account. */
void
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
void
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
