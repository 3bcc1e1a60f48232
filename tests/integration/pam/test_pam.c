/* pam_satoken.so through the real Linux-PAM library (pam_wrapper gives
 * libpam a private service directory; libpamtest runs the operations).
 *
 * Every decision reason, the control flags a sysadmin uses (required,
 * sufficient + fallback, [success=done default=die], and the trap
 * `required` + `optional pam_permit.so`), the store failing in every way
 * we can cause, the arguments, the account phase, sessions and the
 * audit lines.
 *
 * pam_wrapper copies the service directory when the process starts, so
 * the program runs in two stages: the first builds the store, the tokens
 * and every service file in a private directory, then runs itself again
 * with PAM_WRAPPER=1, PAM_WRAPPER_SERVICE_DIR and LD_PRELOAD (PAMT_PRELOAD)
 * set, handing the tokens over in a 0600 file; it removes the directory
 * when the second stage ends.  SATFIX, PAM_MODULE and PAM_MATRIX come
 * from tests/integration/pam.mk. */
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
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "fixture.h"
#include "token.h"

#define LOCK_TIMEOUT_MS	300

static struct fx F;
static const char *matrix;	/* pam_wrapper's pam_matrix.so */
/* pam_matrix reads the first line for a user: one file per service */
static char passdb[FX_PATH * 2];	/* sat-suff, sat-suff-nodb */
static char passdb_acct[FX_PATH * 2];	/* sat-acct */
static char passdb_mixed[FX_PATH * 2];	/* sat-mixed */
static int shipped;			/* etc/pam.d samples were found */

/* the tokens, one per way a login can end */
static char tok_ok[64], tok_rev[64], tok_exp[64], tok_dis[64], tok_old[64],
    tok_nopol[64], tok_gone[64], tok_svc[64], tok_src[64], tok_src6[64],
    tok_flip[64], tok_unknown[64], tok_badsecret[64], tok_badcrc[64],
    tok_long[64];

/* ---- conversation ---------------------------------------------------- */

struct conv_state {
	const char *answers[4];	/* borrowed; NULL answers "no response" */
	size_t nanswers;
	size_t asked;		/* prompts seen */
	int last_style;
	char last_prompt[64];
	int fail;		/* answer PAM_CONV_ERR */
};

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct conv_state *cs = data;
	struct pam_response *r;
	int i;

	if (cs->fail)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		cs->last_style = msg[i]->msg_style;
		snprintf(cs->last_prompt, sizeof(cs->last_prompt), "%s",
		    msg[i]->msg);
		if (cs->asked < cs->nanswers && cs->answers[cs->asked] != NULL)
			r[i].resp = strdup(cs->answers[cs->asked]);
		cs->asked++;
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Runs ops on a fresh handle for service/user, with PAM_RHOST set when
 * rhost is not NULL; answers come from cs.  Returns the first op's
 * result code; every op's code is left in cases[]. */
static void
run_ops(const char *service, const char *user, const char *rhost,
    struct conv_state *cs, struct pam_testcase *cases, size_t n)
{
	struct pam_conv c = { conv, cs };
	pam_handle_t *ph = NULL;
	enum pamtest_err e;

	assert_int_equal(pam_start(service, user, &c, &ph), PAM_SUCCESS);
	if (rhost != NULL)
		assert_int_equal(pam_set_item(ph, PAM_RHOST, rhost),
		    PAM_SUCCESS);
	/* libpamtest runs the cases on our handle and ends it */
	e = _pamtest_conv(service, user, conv, cs, cases, n, ph);
	assert_true(e == PAMTEST_ERR_OK || e == PAMTEST_ERR_CASE);
}

/* One pam_authenticate answering the prompt with token. */
static int
auth_as(const char *service, const char *user, const char *rhost,
    const char *token, struct conv_state *ret_cs)
{
	struct conv_state cs;
	struct pam_testcase t[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	};

	memset(&cs, 0, sizeof(cs));
	/* a second prompt (a fallback module's) gets the same answer */
	cs.answers[0] = token;
	cs.answers[1] = token;
	cs.nanswers = 2;
	run_ops(service, user, rhost, &cs, t, 1);
	if (ret_cs != NULL)
		*ret_cs = cs;
	return t[0].op_rv;
}

static int
auth(const char *service, const char *user, const char *token)
{
	return auth_as(service, user, NULL, token, NULL);
}

static int
account_phase(const char *service, const char *user)
{
	struct conv_state cs;
	struct pam_testcase t[] = {
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
	};

	memset(&cs, 0, sizeof(cs));
	run_ops(service, user, NULL, &cs, t, 1);
	return t[0].op_rv;
}

/* ---- audit helpers ---------------------------------------------------- */

/* The last audit line holds every "key=value" given (NULL-terminated). */
static void
assert_last_audit(const char *first, ...)
{
	char *line = fx_audit_last(&F), word[256];
	const char *kv;
	va_list ap;

	va_start(ap, first);
	for (kv = first; kv != NULL; kv = va_arg(ap, const char *)) {
		/* match whole fields: " key=value" followed by space or end */
		snprintf(word, sizeof(word), " %s", kv);
		const char *p = strstr(line, word);
		if (p == NULL || (p[strlen(word)] != ' ' &&
		    p[strlen(word)] != '\0')) {
			fprintf(stderr, "audit line lacks '%s': %s\n", kv, line);
			free(line);
			va_end(ap);
			fail();
		}
	}
	va_end(ap);
	free(line);
}

static int
is_pass(int rc)
{
	return rc == PAM_SUCCESS || rc == PAM_IGNORE;
}

/* ---- tests ------------------------------------------------------------ */

static void
must(int r, const char *what)
{
	if (r != 0) {
		fprintf(stderr, "setup: %s failed\n", what);
		exit(1);
	}
}



/* Only the PAM entry points leave the module (pam-u2f dlsym_check). */
static void
test_exports(void **state)
{
	const char *in[] = { "pam_sm_authenticate", "pam_sm_setcred",
	    "pam_sm_acct_mgmt", "pam_sm_open_session", "pam_sm_close_session" };
	const char *out[] = { "store_open_reader", "verify_token",
	    "login_check", "cfg_set", "token_parse", "audit_emit",
	    "args_parse", "kv_fetch", "sat_wipe" };
	void *h;
	size_t i;

	(void)state;
	h = dlopen(F.module, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		if (dlsym(h, in[i]) == NULL)
			fail_msg("%s is not exported", in[i]);
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		if (dlsym(h, out[i]) != NULL)
			fail_msg("internal %s is exported", out[i]);
	dlclose(h);
}

/* A whole login as sshd makes it: auth, setcred, account, session. */
static void
test_full_login(void **state)
{
	struct conv_state cs;
	struct pam_testcase t[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
		pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	char id[16], *text;
	size_t i, before = fx_audit_lines(&F);

	(void)state;
	memset(&cs, 0, sizeof(cs));
	cs.answers[0] = tok_ok;
	cs.nanswers = 1;
	run_ops("sat", "ci", "192.0.2.10", &cs, t, 5);
	for (i = 0; i < 5; i++)
		if (t[i].op_rv != t[i].expected_rv)
			fail_msg("op %zu: %s", i, pam_strerror(NULL, t[i].op_rv));
	/* one prompt, "Token: ", not echoed */
	assert_int_equal(cs.asked, 1);
	assert_string_equal(cs.last_prompt, "Token: ");
	assert_int_equal(cs.last_style, PAM_PROMPT_ECHO_OFF);

	fx_token_id(tok_ok, id);
	assert_int_equal(fx_audit_lines(&F), before + 4);
	text = fx_audit_text(&F);
	{
		char want[128];

		snprintf(want, sizeof(want), "action=auth outcome=ok reason=ok "
		    "account=ci token=%s service=sat rhost=192.0.2.10", id);
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "action=account outcome=ok "
		    "reason=ok account=ci service=sat rhost=192.0.2.10");
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "action=session.open outcome=ok "
		    "account=ci token=%s service=sat", id);
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "action=session.close outcome=ok "
		    "account=ci token=%s service=sat", id);
		assert_non_null(strstr(text, want));
	}
	free(text);
}

struct reason_case {
	const char *what;
	const char *service;
	const char *user;
	const char *token;
	const char *rhost;
	int rc;
	const char *reason;
	int has_id;	/* the audit line names the token */
	const char *audit_account;	/* wrong_account: the token's own
					   account (token_account=), once the
					   secret proved it; account= stays
					   the claimed user */
};

/* Every decision reason, through `required`, through the trap and
 * through [success=done default=die]. */
static void
test_every_reason(void **state)
{
	const struct reason_case cases[] = {
		{ "ok", "sat", "ci", tok_ok, NULL, PAM_SUCCESS, "ok", 1, NULL },
		{ "not a token", "sat", "ci", "hunter2", NULL, PAM_AUTH_ERR,
		  "malformed", 0, NULL },
		{ "empty", "sat", "ci", "", NULL, PAM_AUTH_ERR, "malformed", 0, NULL },
		{ "no answer", "sat", "ci", NULL, NULL, PAM_AUTH_ERR,
		  "malformed", 0, NULL },
		{ "bad checksum", "sat", "ci", tok_badcrc, NULL, PAM_AUTH_ERR,
		  "malformed", 0, NULL },
		{ "too long", "sat", "ci", tok_long, NULL, PAM_AUTH_ERR,
		  "malformed", 0, NULL },
		{ "unknown token", "sat", "ci", tok_unknown, NULL, PAM_AUTH_ERR,
		  "unknown_token", 1, NULL },
		{ "bad secret", "sat", "ci", tok_badsecret, NULL, PAM_AUTH_ERR,
		  "bad_secret", 1, NULL },
		{ "wrong account", "sat", "other", tok_ok, NULL, PAM_AUTH_ERR,
		  "wrong_account", 1, "ci" },
		{ "not a service account", "sat", "root", tok_ok, NULL,
		  PAM_AUTH_ERR, "wrong_account", 1, "ci" },
		{ "revoked", "sat", "ci", tok_rev, NULL, PAM_AUTH_ERR,
		  "revoked", 1, NULL },
		{ "expired", "sat", "ci", tok_exp, NULL, PAM_AUTH_ERR,
		  "expired", 1, NULL },
		{ "account deleted", "sat", "gone", tok_gone, NULL,
		  PAM_AUTH_ERR, "unknown_account", 1, NULL },
		{ "account disabled", "sat", "dis", tok_dis, NULL, PAM_AUTH_ERR,
		  "account_disabled", 1, NULL },
		{ "account expired", "sat", "old", tok_old, NULL, PAM_AUTH_ERR,
		  "account_expired", 1, NULL },
		{ "outside the policy", "sat", "nopol", tok_nopol, NULL,
		  PAM_AUTH_ERR, "policy_denied", 1, NULL },
		{ "other service", "sat", "ci", tok_svc, NULL, PAM_AUTH_ERR,
		  "service_denied", 1, NULL },
		{ "its service", "imap", "ci", tok_svc, NULL, PAM_SUCCESS,
		  "ok", 1, NULL },
		{ "other network", "sat", "ci", tok_src, "192.0.2.7",
		  PAM_AUTH_ERR, "source_denied", 1, NULL },
		{ "no rhost", "sat", "ci", tok_src, NULL, PAM_AUTH_ERR,
		  "source_denied", 1, NULL },
		{ "rhost a name", "sat", "ci", tok_src, "build.example.org",
		  PAM_AUTH_ERR, "source_denied", 1, NULL },
		{ "its network", "sat", "ci", tok_src, "10.1.2.3", PAM_SUCCESS,
		  "ok", 1, NULL },
		{ "its network, v4-mapped", "sat", "ci", tok_src,
		  "::ffff:10.1.2.3", PAM_SUCCESS, "ok", 1, NULL },
		{ "its v6 network", "sat", "ci", tok_src6, "2001:db8::5",
		  PAM_SUCCESS, "ok", 1, NULL },
		{ "other v6 network", "sat", "ci", tok_src6, "2001:db9::5",
		  PAM_AUTH_ERR, "source_denied", 1, NULL },
	};
	const char *stacks[] = { "sat-trap", "sat-die" };
	char id[16], kv_reason[64], kv_token[64], kv_acct[80];
	size_t i, j;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reason_case *c = &cases[i];

		rc = auth_as(c->service, c->user, c->rhost, c->token, NULL);
		if (rc != c->rc)
			fail_msg("%s: got %s, want %s", c->what,
			    pam_strerror(NULL, rc), pam_strerror(NULL, c->rc));
		snprintf(kv_reason, sizeof(kv_reason), "reason=%s", c->reason);
		snprintf(kv_acct, sizeof(kv_acct), "account=%s", c->user);
		if (c->audit_account != NULL) {
			char kv_tacct[80];

			fx_token_id(c->token, id);
			snprintf(kv_token, sizeof(kv_token), "token=%s", id);
			snprintf(kv_tacct, sizeof(kv_tacct), "token_account=%s",
			    c->audit_account);
			assert_last_audit("action=auth", kv_reason, kv_acct,
			    kv_token, kv_tacct, NULL);
		} else if (c->has_id) {
			fx_token_id(c->token, id);
			snprintf(kv_token, sizeof(kv_token), "token=%s", id);
			assert_last_audit("action=auth", kv_reason, kv_acct,
			    kv_token, NULL);
		} else {
			char *line = fx_audit_last(&F);

			assert_null(strstr(line, "token="));
			free(line);
			assert_last_audit("action=auth", kv_reason, kv_acct,
			    NULL);
		}
		if (strcmp(c->service, "sat") != 0)
			continue;
		/* the stacks that must stay shut for every refusal */
		for (j = 0; j < sizeof(stacks) / sizeof(stacks[0]); j++) {
			rc = auth_as(stacks[j], c->user, c->rhost, c->token,
			    NULL);
			if (c->rc == PAM_SUCCESS ? rc != PAM_SUCCESS :
			    rc == PAM_SUCCESS)
				fail_msg("%s through %s: got %s", c->what,
				    stacks[j], pam_strerror(NULL, rc));
		}
	}
}

/* ignore_non_token: IGNORE for a non-token only; tokens and errors
 * still refuse.  Through `required` + `optional pam_permit` an ignored
 * password passes: the man page says not to stack it so. */
static void
test_ignore_non_token(void **state)
{
	(void)state;
	assert_int_equal(auth("sat-ign", "ci", "hunter2"), PAM_SUCCESS);
	assert_last_audit("outcome=denied", "reason=malformed", NULL);
	assert_int_equal(auth("sat-ign", "ci", tok_badcrc), PAM_SUCCESS);
	assert_int_equal(auth("sat-ign", "ci", tok_rev), PAM_AUTH_ERR);
	assert_int_equal(auth("sat-ign", "ci", tok_badsecret), PAM_AUTH_ERR);
	assert_int_equal(auth("sat-ign", "ci", tok_ok), PAM_SUCCESS);
	/* a non-token is recognised without the store: still ignored when
	 * the store cannot be read; a token is then an error */
	assert_int_equal(auth("sat-ign-nodb", "ci", "hunter2"), PAM_SUCCESS);
	assert_last_audit("outcome=denied", "reason=malformed", NULL);
	assert_int_equal(auth("sat-ign-nodb", "ci", tok_ok),
	    PAM_AUTHINFO_UNAVAIL);
	assert_last_audit("outcome=error", "reason=store_unavailable", NULL);
	/* without the flag a non-token is a plain refusal */
	assert_int_equal(auth("sat-trap", "ci", "hunter2"), PAM_AUTH_ERR);
}

/* `sufficient` then a password module: tokens end the stack, passwords
 * fall through, a bad token falls through and fails there. */
static void
test_sufficient_fallback(void **state)
{
	struct conv_state cs;

	(void)state;
	assert_int_equal(auth_as("sat-suff", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(auth("sat-suff", "bob", "bobpass"), PAM_SUCCESS);
	assert_int_equal(auth("sat-suff", "bob", "wrong"), PAM_AUTH_ERR);
	assert_int_equal(auth("sat-suff", "ci", tok_rev), PAM_AUTH_ERR);
	assert_int_equal(auth("sat-suff", "ci", "bobpass"), PAM_AUTH_ERR);
	/* a store that cannot be read does not lock password users out
	 * of a `sufficient` stack, and lets no token in */
	assert_int_equal(auth("sat-suff-nodb", "bob", "bobpass"), PAM_SUCCESS);
	assert_int_equal(auth("sat-suff-nodb", "ci", tok_ok), PAM_AUTH_ERR);
}

/* The man page's mixed stack: tokens decide for themselves, anything
 * else goes on to the password module, which does not ask again. */
static void
test_mixed_stack(void **state)
{
	struct conv_state cs;

	(void)state;
	assert_int_equal(auth_as("sat-mixed", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(auth_as("sat-mixed", "bob", NULL, "bobpass", &cs),
	    PAM_SUCCESS);
	/* a bad token dies here: the password module is never asked */
	assert_int_equal(auth_as("sat-mixed", "ci", NULL, tok_rev, &cs),
	    PAM_AUTH_ERR);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(auth("sat-mixed", "bob", "wrong"), PAM_AUTH_ERR);
	assert_int_equal(auth("sat-mixed", "bob", tok_ok), PAM_AUTH_ERR);
	/* the store unreadable: passwords still work, no token does */
	assert_int_equal(auth("sat-mixed-nodb", "bob", "bobpass"), PAM_SUCCESS);
	assert_int_equal(auth("sat-mixed-nodb", "ci", tok_ok),
	    PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(auth("sat-mixed-nodb", "bob", tok_ok),
	    PAM_AUTHINFO_UNAVAIL);
}

/* The sample stacks shipped in etc/pam.d, as written (pam_unix played
 * by pam_matrix). */
static void
test_shipped_stacks(void **state)
{
	struct conv_state cs;

	(void)state;
	if (!shipped) {
		fprintf(stderr, "   (no etc/pam.d samples in this tree)\n");
		fail();
	}
	assert_int_equal(auth("etc-satoken-only", "ci", tok_ok), PAM_SUCCESS);
	assert_int_equal(account_phase("etc-satoken-only", "ci"), PAM_SUCCESS);
	assert_int_equal(auth("etc-satoken-only", "ci", tok_rev), PAM_AUTH_ERR);
	assert_int_equal(auth("etc-satoken-only", "ci", "hunter2"),
	    PAM_AUTH_ERR);
	assert_int_equal(account_phase("etc-satoken-only", "dis"),
	    PAM_ACCT_EXPIRED);

	assert_int_equal(auth_as("etc-satoken-shared", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);
	/* (pam_matrix asks again where pam_unix try_first_pass would not) */
	assert_int_equal(auth("etc-satoken-shared", "bob", "bobpass"),
	    PAM_SUCCESS);
	/* a failed token is never tried as a Unix password */
	assert_int_equal(auth_as("etc-satoken-shared", "ci", NULL, tok_rev,
	    &cs), PAM_AUTH_ERR);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(auth("etc-satoken-shared", "bob", "wrong"),
	    PAM_AUTH_ERR);
	assert_int_equal(account_phase("etc-satoken-shared", "bob"),
	    PAM_SUCCESS);
	assert_int_equal(account_phase("etc-satoken-shared", "ci"),
	    PAM_SUCCESS);
	assert_int_equal(account_phase("etc-satoken-shared", "nopol"),
	    PAM_PERM_DENIED);
	assert_int_equal(account_phase("etc-satoken-shared", "dis"),
	    PAM_ACCT_EXPIRED);
}

/* Broken stores, made by make_store_files() in the first stage. */
static const struct store_case {
	const char *what;
	const char *file;	/* under F.dir */
	int rc;
	const char *reason;
} store_cases[] = {
	{ "missing", "missing.db", PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
	{ "a directory", "dir.db", PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
	{ "empty", "empty.db", PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
	{ "truncated", "trunc.db", PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
	{ "garbage header", "garbage.db", PAM_AUTHINFO_UNAVAIL,
	  "store_unavailable" },
	/* the token's record damaged: absent, so unknown, never accepted */
	{ "token record corrupted", "corrupt.db", PAM_AUTH_ERR,
	  "unknown_token" },
	{ "a symlink", "link.db", PAM_AUTHINFO_UNAVAIL, "store_unavailable" },
	{ "writable by others", "open.db", PAM_AUTHINFO_UNAVAIL,
	  "store_unavailable" },
};
#define N_STORE_CASES	(sizeof(store_cases) / sizeof(store_cases[0]))

static void
store_path(size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", F.dir, store_cases[i].file);
}

/* Flips a bit in every copy of id in the file. */
static int
corrupt_ids(const char *path, const char *id)
{
	FILE *fp = fopen(path, "r+b");
	char *buf;
	long n, i;
	int hits = 0;

	if (fp == NULL)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((buf = malloc((size_t)n)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return -1;
	}
	for (i = 0; i + 12 <= n; i++)
		if (memcmp(buf + i, id, 12) == 0) {
			buf[i + 6] ^= 0x20;
			hits++;
		}
	rewind(fp);
	if (fwrite(buf, 1, (size_t)n, fp) != (size_t)n)
		hits = 0;
	fclose(fp);
	free(buf);
	return hits > 0 ? 0 : -1;
}

static void
make_store_files(void)
{
	char p[FX_PATH * 2], id[16];
	unsigned char junk[512];
	struct stat st;
	size_t i;
	FILE *fp;

	must(stat(F.db, &st), "stat");
	store_path(1, p, sizeof(p));
	must(mkdir(p, 0755), "mkdir");
	store_path(2, p, sizeof(p));
	must(fx_copy(F.db, p) || truncate(p, 0), "empty store");
	store_path(3, p, sizeof(p));
	must(fx_copy(F.db, p) || truncate(p, st.st_size / 2), "truncate");
	store_path(4, p, sizeof(p));
	must(fx_copy(F.db, p), "copy");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	fp = fopen(p, "r+b");
	must(fp == NULL || fwrite(junk, 1, sizeof(junk), fp) != sizeof(junk),
	    "garbage");
	fclose(fp);
	store_path(5, p, sizeof(p));
	fx_token_id(tok_ok, id);
	must(fx_copy(F.db, p) || corrupt_ids(p, id), "corrupt");
	store_path(6, p, sizeof(p));
	must(symlink(F.db, p), "symlink");
	store_path(7, p, sizeof(p));
	must(fx_copy(F.db, p) || chmod(p, 0666), "chmod");
}

/* A store that cannot be read refuses, through every stack. */
static void
test_store_failures(void **state)
{
	char svc[64], kv[64];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < N_STORE_CASES; i++) {
		const struct store_case *c = &store_cases[i];

		snprintf(svc, sizeof(svc), "st-req-%zu", i);
		rc = auth(svc, "ci", tok_ok);
		if (rc != c->rc)
			fail_msg("store %s: got %s, want %s", c->what,
			    pam_strerror(NULL, rc), pam_strerror(NULL, c->rc));
		snprintf(kv, sizeof(kv), "reason=%s", c->reason);
		assert_last_audit("action=auth", kv, "account=ci", NULL);
		snprintf(svc, sizeof(svc), "st-trap-%zu", i);
		rc = auth(svc, "ci", tok_ok);
		if (is_pass(rc))
			fail_msg("store %s through the trap: %s", c->what,
			    pam_strerror(NULL, rc));
		snprintf(svc, sizeof(svc), "st-die-%zu", i);
		rc = auth(svc, "ci", tok_ok);
		if (is_pass(rc))
			fail_msg("store %s through die: %s", c->what,
			    pam_strerror(NULL, rc));
		/* the account phase refuses too when the store is unreadable
		 * (a damaged token record leaves the account readable) */
		if (c->rc != PAM_AUTHINFO_UNAVAIL)
			continue;
		snprintf(svc, sizeof(svc), "st-req-%zu", i);
		rc = account_phase(svc, "ci");
		if (is_pass(rc))
			fail_msg("store %s, account phase: %s", c->what,
			    pam_strerror(NULL, rc));
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A writer holding the store past lock_timeout_ms: unavailable after
 * the timeout, not for ever, and never accepted. */
static void
test_store_locked(void **state)
{
	double t0, dt;
	int fd, rc, rc_trap, rc_die, rc_acct;

	(void)state;
	fd = open(F.db, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	t0 = now_s();
	rc = auth("sat", "ci", tok_ok);
	dt = now_s() - t0;
	rc_trap = auth("sat-trap", "ci", tok_ok);
	rc_die = auth("sat-die", "ci", tok_ok);
	rc_acct = account_phase("sat", "ci");
	/* the writer leaves (before any assertion can end the test) */
	close(fd);
	assert_int_equal(rc, PAM_AUTHINFO_UNAVAIL);
	/* the module's clock counts whole milliseconds: allow for one */
	assert_true(dt >= (LOCK_TIMEOUT_MS - 2) / 1000.0);
	assert_true(dt < LOCK_TIMEOUT_MS / 1000.0 + 3.0);
	assert_false(is_pass(rc_trap));
	assert_false(is_pass(rc_die));
	/* no token authenticated that handle: unknown to us, not passed */
	assert_int_equal(rc_acct, PAM_USER_UNKNOWN);
	assert_last_audit("action=account", "reason=store_unavailable", NULL);
	/* the same login goes through now */
	assert_int_equal(auth("sat", "ci", tok_ok), PAM_SUCCESS);
	fprintf(stderr, "   locked store refused after %.0f ms "
	    "(lock_timeout_ms %d)\n", dt * 1000, LOCK_TIMEOUT_MS);
}

/* Module arguments that must be refused, one service file each. */
static const char *const bad_args[] = {
	"bogus",
	"use_first_pas",
	"conf=/nonexistent/satoken.conf",
	"conf=relative.conf",
	"db=relative.db",
	"lock_timeout_ms=0",
	"lock_timeout_ms=soon",
	"nosuchkey=1",
	"audit=email",
	"=x",
};
#define N_BAD_ARGS	(sizeof(bad_args) / sizeof(bad_args[0]))

/* Bad arguments or config: PAM_SERVICE_ERR, never a pass. */
static void
test_arguments(void **state)
{
	char other[FX_PATH * 2], svc[32], line[512];
	char *text;
	size_t i;
	int rc;
	FILE *fp;

	(void)state;
	for (i = 0; i < N_BAD_ARGS; i++) {
		snprintf(svc, sizeof(svc), "arg-%zu", i);
		rc = auth(svc, "ci", tok_ok);
		if (rc != PAM_SERVICE_ERR)
			fail_msg("'%s': got %s", bad_args[i],
			    pam_strerror(NULL, rc));
		/* no token authenticated this handle: the login is not
		 * ours to refuse, the next module decides */
		rc = account_phase(svc, "ci");
		if (rc != PAM_USER_UNKNOWN)
			fail_msg("'%s', account: got %s", bad_args[i],
			    pam_strerror(NULL, rc));
	}
	assert_int_equal(auth("arg-twice", "ci", tok_ok), PAM_SERVICE_ERR);
	/* a config file with an unknown key, through the trap */
	assert_int_equal(auth("arg-badconf", "ci", tok_ok), PAM_SERVICE_ERR);

	/* good ones: flags, key=value overrides, db= after conf= */
	assert_int_equal(auth("arg-good", "ci", tok_ok), PAM_SUCCESS);
	assert_int_equal(auth("arg-db", "ci", tok_ok), PAM_AUTHINFO_UNAVAIL);

	/* no conf=: db= and audit= alone are enough */
	snprintf(other, sizeof(other), "%s/other-audit.log", F.dir);
	assert_int_equal(auth("arg-noconf", "ci", tok_ok), PAM_SUCCESS);
	fp = fopen(other, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_non_null(strstr(line, "action=auth outcome=ok"));
	assert_non_null(strstr(line, "service=arg-noconf"));
	/* the audit file named by the argument got it, not the conf's */
	text = fx_audit_last(&F);
	assert_null(strstr(text, "service=arg-noconf"));
	free(text);
}

/* use_first_pass and try_first_pass take an earlier module's password
 * and do not ask again; use_first_pass never asks. */
static void
test_first_pass(void **state)
{
	struct conv_state cs;
	size_t before;

	(void)state;
	before = fx_audit_lines(&F);
	assert_int_equal(auth_as("sat-chain-use", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(fx_audit_lines(&F), before + 2);

	assert_int_equal(auth_as("sat-chain-try", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);

	assert_int_equal(auth_as("sat-chain-use", "ci", NULL, tok_rev, &cs),
	    PAM_AUTH_ERR);
	assert_int_equal(cs.asked, 1);

	/* nothing earlier: try_first_pass asks, use_first_pass does not */
	assert_int_equal(auth_as("sat-try-alone", "ci", NULL, tok_ok, &cs),
	    PAM_SUCCESS);
	assert_int_equal(cs.asked, 1);
	assert_int_equal(auth_as("sat-use-alone", "ci", NULL, tok_ok, &cs),
	    PAM_AUTH_ERR);
	assert_int_equal(cs.asked, 0);
	assert_last_audit("reason=malformed", NULL);
}

/* A conversation that fails refuses. */
static void
test_conversation_error(void **state)
{
	struct conv_state cs;
	struct pam_testcase t[] = {
		pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	};
	const char *svcs[] = { "sat", "sat-trap", "sat-die" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		memset(&cs, 0, sizeof(cs));
		cs.fail = 1;
		run_ops(svcs[i], "ci", NULL, &cs, t, 1);
		if (is_pass(t[0].op_rv))
			fail_msg("%s: %s", svcs[i], pam_strerror(NULL, t[0].op_rv));
	}
}

/* The account phase. */
static void
test_account(void **state)
{
	(void)state;
	assert_int_equal(account_phase("sat", "ci"), PAM_SUCCESS);
	assert_last_audit("action=account", "outcome=ok", "account=ci", NULL);
	assert_int_equal(account_phase("sat", "dis"), PAM_ACCT_EXPIRED);
	assert_last_audit("reason=account_disabled", NULL);
	assert_int_equal(account_phase("sat", "old"), PAM_ACCT_EXPIRED);
	assert_last_audit("reason=account_expired", NULL);
	assert_int_equal(account_phase("sat", "nopol"), PAM_PERM_DENIED);
	assert_last_audit("reason=policy_denied", NULL);
	assert_int_equal(account_phase("sat", "bob"), PAM_USER_UNKNOWN);
	assert_int_equal(account_phase("sat", "gone"), PAM_USER_UNKNOWN);
	assert_int_equal(account_phase("sat", "Not.A-Name"), PAM_USER_UNKNOWN);
	/* after pam_unix's place: not ours goes on, ours is decided */
	assert_int_equal(account_phase("sat-acct", "bob"), PAM_SUCCESS);
	assert_int_equal(account_phase("sat-acct", "ci"), PAM_SUCCESS);
	assert_int_equal(account_phase("sat-acct", "nopol"), PAM_PERM_DENIED);
	assert_int_equal(account_phase("sat-acct", "dis"), PAM_ACCT_EXPIRED);
}

/* Changes the writer made are seen by the very next check, on the same
 * handle and module instance as on a new one. */
static void
test_changes_seen_at_once(void **state)
{
	struct conv_state cs;
	struct pam_conv c = { conv, &cs };
	pam_handle_t *ph = NULL;
	char id[16];
	int rc;

	(void)state;
	memset(&cs, 0, sizeof(cs));
	cs.answers[0] = tok_flip;
	cs.answers[1] = tok_flip;
	cs.answers[2] = tok_flip;
	cs.nanswers = 3;
	assert_int_equal(pam_start("sat", "flip", &c, &ph), PAM_SUCCESS);
	assert_int_equal(pam_authenticate(ph, 0), PAM_SUCCESS);
	/* the group leaves the policy: refused at once */
	assert_int_equal(fx_satfix(&F, F.db, "policy", NULL), 0);
	rc = pam_authenticate(ph, 0);
	assert_int_equal(fx_satfix(&F, F.db, "policy", "svc", NULL), 0);
	assert_int_equal(rc, PAM_AUTH_ERR);
	assert_last_audit("reason=policy_denied", "account=flip", NULL);
	/* a failed attempt forgets the earlier success: no session line */
	{
		size_t before = fx_audit_lines(&F);

		/* the module ignores it; libpam then refuses a stack that
		 * nothing decided */
		assert_int_not_equal(pam_open_session(ph, 0), PAM_SUCCESS);
		assert_int_equal(fx_audit_lines(&F), before);
	}
	/* revoked: refused on the same handle */
	assert_int_equal(pam_authenticate(ph, 0), PAM_SUCCESS);
	fx_token_id(tok_flip, id);
	assert_int_equal(fx_satfix(&F, F.db, "revoke", id, NULL), 0);
	cs.asked = 0;
	assert_int_equal(pam_authenticate(ph, 0), PAM_AUTH_ERR);
	assert_last_audit("reason=revoked", NULL);
	pam_end(ph, PAM_AUTH_ERR);
	assert_int_equal(auth("sat", "flip", tok_flip), PAM_AUTH_ERR);
	/* disabled, then the account deleted */
	assert_int_equal(fx_mint(&F, tok_flip, "flip", "t2", NULL), 0);
	assert_int_equal(auth("sat", "flip", tok_flip), PAM_SUCCESS);
	assert_int_equal(fx_satfix(&F, F.db, "account", "flip", "-g", "svc",
	    "-d", NULL), 0);
	assert_int_equal(auth("sat", "flip", tok_flip), PAM_AUTH_ERR);
	assert_last_audit("reason=account_disabled", NULL);
	assert_int_equal(fx_satfix(&F, F.db, "delete-account", "flip", NULL), 0);
	assert_int_equal(auth("sat", "flip", tok_flip), PAM_AUTH_ERR);
	assert_last_audit("reason=unknown_account", NULL);
}

/* A session no token of ours opened is not ours. */
static void
test_session_without_token(void **state)
{
	struct conv_state cs;
	struct pam_testcase t[] = {
		pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	size_t before = fx_audit_lines(&F);

	(void)state;
	memset(&cs, 0, sizeof(cs));
	run_ops("sat-sess", "bob", NULL, &cs, t, 2);
	assert_int_equal(t[0].op_rv, PAM_SUCCESS);
	assert_int_equal(t[1].op_rv, PAM_SUCCESS);
	assert_int_equal(fx_audit_lines(&F), before);
}

/* An empty user is nobody: PAM_USER_UNKNOWN whatever the token, in
 * every phase and stack (issue 15, item 4: a valid token of any account
 * used to pass, the decision taking the token's account for it). */
static void
test_empty_user(void **state)
{
	const char *svcs[] = { "sat", "sat-trap", "sat-die", "sat-mixed",
	    "etc-satoken-only", "etc-satoken-shared" };
	struct conv_state cs;
	size_t i;
	int rc;

	(void)state;
	assert_int_equal(auth_as("sat", "", NULL, tok_ok, &cs),
	    PAM_USER_UNKNOWN);
	assert_int_equal(cs.asked, 0);
	assert_last_audit("action=auth", "outcome=denied",
	    "reason=unknown_account", "account=", NULL);
	for (i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		rc = auth(svcs[i], "", tok_ok);
		if (is_pass(rc))
			fail_msg("empty user through %s: %s", svcs[i],
			    pam_strerror(NULL, rc));
	}
	assert_int_equal(account_phase("sat", ""), PAM_USER_UNKNOWN);
	assert_last_audit("action=account", "reason=unknown_account",
	    "account=", NULL);
}

/* People's logins do not depend on satoken (issue 15, item 10): in the
 * shipped shared stack, a typo in satoken.conf, a missing store or an
 * audit sink that cannot be written changes nothing for a password
 * login, in auth and in account; every token login fails closed. */
static void
test_people_unaffected(void **state)
{
	const char *svcs[] = { "shared-typo", "shared-nodb", "shared-noaudit",
	    "shared-nolog" };
	struct conv_state cs;
	struct pam_conv c = { conv, &cs };
	pam_handle_t *ph = NULL;
	char path[FX_PATH * 2];
	size_t i;
	FILE *fp;
	int rc;

	(void)state;
	if (!shipped)
		fail_msg("no etc/pam.d samples in this tree");
	/* shared-nolog: nothing listens where syslog lines go */
	snprintf(path, sizeof(path), "%s/nolog.sock", F.dir);
	assert_int_equal(setenv("SATOKEN_SYSLOG_SOCKET", path, 1), 0);
	for (i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		rc = auth(svcs[i], "bob", "bobpass");
		if (rc != PAM_SUCCESS)
			fail_msg("%s: bob's password: %s", svcs[i],
			    pam_strerror(NULL, rc));
		rc = auth(svcs[i], "bob", "wrong");
		if (rc != PAM_AUTH_ERR)
			fail_msg("%s: a wrong password: %s", svcs[i],
			    pam_strerror(NULL, rc));
		rc = account_phase(svcs[i], "bob");
		if (rc != PAM_SUCCESS)
			fail_msg("%s: bob's account: %s", svcs[i],
			    pam_strerror(NULL, rc));
		rc = auth_as(svcs[i], "ci", NULL, tok_ok, &cs);
		if (is_pass(rc) || cs.asked != 1)
			fail_msg("%s: a token: %s, %zu prompts", svcs[i],
			    pam_strerror(NULL, rc), cs.asked);
	}
	assert_int_equal(auth("shared-typo", "ci", tok_ok), PAM_SERVICE_ERR);
	unsetenv("SATOKEN_SYSLOG_SOCKET");

	/* after a token login the account phase stays strict: the config
	 * broken between auth and account refuses */
	memset(&cs, 0, sizeof(cs));
	cs.answers[0] = tok_ok;
	cs.nanswers = 1;
	assert_int_equal(pam_start("sat-breaks", "ci", &c, &ph), PAM_SUCCESS);
	assert_int_equal(pam_authenticate(ph, 0), PAM_SUCCESS);
	snprintf(path, sizeof(path), "%s/breaks.conf", F.dir);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fprintf(fp, "max_tll = 7d\n");
	fclose(fp);
	rc = pam_acct_mgmt(ph, 0);
	pam_end(ph, rc);
	assert_int_equal(rc, PAM_SERVICE_ERR);
}

/* audit = syslog is a checked datagram to the syslog socket (here
 * SATOKEN_SYSLOG_SOCKET): with nothing listening a token login is
 * refused, as with an audit file that cannot be written (issue 15,
 * item 8: syslog(3) dropped the line and the login passed); with a
 * listener the line arrives as RFC 3164, facility authpriv. */
static void
test_syslog_sink(void **state)
{
	struct sockaddr_un sa;
	char path[FX_PATH * 2], buf[4096];
	ssize_t n;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/pamlog.sock", F.dir);
	assert_int_equal(setenv("SATOKEN_SYSLOG_SOCKET", path, 1), 0);
	assert_int_equal(auth("sat-syslog", "ci", tok_ok), PAM_AUTH_ERR);
	assert_int_equal(account_phase("sat-syslog", "ci"), PAM_USER_UNKNOWN);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(auth("sat-syslog", "ci", tok_ok), PAM_SUCCESS);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <LOG_AUTHPRIV|LOG_INFO>Mmm dd hh:mm:ss pam_satoken[pid]: ... */
	assert_true(strncmp(buf, "<86>", 4) == 0);
	assert_non_null(strstr(buf, " pam_satoken["));
	assert_non_null(strstr(buf, "]: action=auth outcome=ok reason=ok "
	    "account=ci token="));
	assert_int_equal(auth("sat-syslog", "ci", tok_rev), PAM_AUTH_ERR);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(strncmp(buf, "<85>", 4) == 0);
	assert_non_null(strstr(buf, "outcome=denied reason=revoked"));
	/* the listener gone (syslogd stopped): refused again */
	close(fd);
	unlink(path);
	assert_int_equal(auth("sat-syslog", "ci", tok_ok), PAM_AUTH_ERR);
	unsetenv("SATOKEN_SYSLOG_SOCKET");
}

/* Last: no token, whole or in part, and no password reached the log. */
static void
test_no_secret_in_audit(void **state)
{
	const char *toks[] = { tok_ok, tok_rev, tok_exp, tok_dis, tok_old,
	    tok_nopol, tok_gone, tok_svc, tok_src, tok_src6, tok_unknown,
	    tok_badsecret, tok_badcrc };
	char *text = fx_audit_text(&F), secret[33];
	size_t i;

	(void)state;
	assert_true(fx_audit_lines(&F) > 50);
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		/* the secret part, and a quarter of it */
		memcpy(secret, toks[i] + 16, 32);
		secret[32] = '\0';
		assert_null(strstr(text, secret));
		secret[8] = '\0';
		assert_null(strstr(text, secret));
	}
	assert_null(strstr(text, "hunter2"));
	assert_null(strstr(text, "bobpass"));
	assert_null(strstr(text, "sat_"));
	free(text);
}

/* ---- setup ------------------------------------------------------------ */

/* A token of valid format whose id is in no store. */
static void
make_unknown(char *out)
{
	must(token_generate(out), "token_generate");
}

/* tok with a different secret and a checksum that matches again. */
static void
make_bad_secret(const char *tok, char *out)
{
	memcpy(out, tok, TOKEN_LEN + 1);
	out[20] = out[20] == 'a' ? 'b' : 'a';
	token_checksum(out, out + 48);
}

/* etc/pam.d/NAME from the tree ($PAMT_ETC) as service etc-NAME: our
 * module by path with our conf, pam_unix played by pam_matrix (which
 * ignores pam_unix's options), pam_unix's session by pam_permit. */
static int
ship_as(const char *name, const char *svc, const char *conf,
    const char *extra)
{
	const char *etc = getenv("PAMT_ETC");
	char path[FX_PATH * 2], line[1024], out[8192], *p, pdb[FX_PATH * 2];
	size_t n = 0;
	FILE *fp;

	if (etc == NULL)
		return -1;
	/* pam_matrix matches the service too: one passdb per service */
	snprintf(pdb, sizeof(pdb), "%s/passdb.%s", F.dir, svc);
	if ((fp = fopen(pdb, "w")) == NULL)
		return -1;
	fprintf(fp, "bob:bobpass:%s\n", svc);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/%s", etc, name);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	out[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		char rest[1024];

		if ((p = strstr(line, "pam_satoken.so")) != NULL) {
			snprintf(rest, sizeof(rest), "%s", p + 14);
			snprintf(p, sizeof(line) - (size_t)(p - line),
			    "%s conf=%s%s%s", F.module, conf, extra, rest);
		} else if ((p = strstr(line, "pam_unix.so")) != NULL) {
			snprintf(rest, sizeof(rest), "%s", p + 11);
			if (strncmp(line, "session", 7) == 0)
				snprintf(p, sizeof(line) - (size_t)(p - line),
				    "pam_permit.so\n");
			else
				snprintf(p, sizeof(line) - (size_t)(p - line),
				    "%s passdb=%s%s", matrix, pdb, rest);
		}
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", line);
		if (n >= sizeof(out)) {
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	fx_service(&F, svc, "%s", out);
	return 0;
}

static int
ship(const char *name)
{
	char svc[64];

	snprintf(svc, sizeof(svc), "etc-%s", name);
	return ship_as(name, svc, F.conf, "");
}

static void
write_services(void)
{
	const char *m = F.module, *c = F.conf;
	char p[FX_PATH * 2], svc[32];
	size_t i;
	FILE *fp;

	/* libpam falls back to "other" for an unknown service: shut */
	fx_service(&F, "other", "auth required pam_deny.so\n"
	    "account required pam_deny.so\n"
	    "session required pam_deny.so\n");

	fx_service(&F, "sat",
	    "auth required %s conf=%s\n"
	    "account required %s conf=%s\n"
	    "session required %s conf=%s\n", m, c, m, c, m, c);
	fx_service(&F, "imap", "auth required %s conf=%s\n", m, c);
	fx_service(&F, "sat-trap",
	    "auth required %s conf=%s\n"
	    "auth optional pam_permit.so\n", m, c);
	fx_service(&F, "sat-die",
	    "auth [success=done default=die] %s conf=%s\n"
	    "auth required pam_permit.so\n", m, c);
	fx_service(&F, "sat-suff",
	    "auth sufficient %s conf=%s ignore_non_token\n"
	    "auth required %s passdb=%s\n", m, c, matrix, passdb);
	fx_service(&F, "sat-mixed",
	    "auth [success=done ignore=ignore default=die] %s conf=%s "
	    "ignore_non_token\n"
	    "auth required %s passdb=%s\n", m, c, matrix, passdb_mixed);
	fx_service(&F, "sat-mixed-nodb",
	    "auth [success=done ignore=ignore default=die] %s conf=%s "
	    "db=%s/missing.db ignore_non_token\n"
	    "auth required %s passdb=%s\n", m, c, F.dir, matrix,
	    passdb_mixed);
	fx_service(&F, "sat-ign",
	    "auth required %s conf=%s ignore_non_token\n"
	    "auth optional pam_permit.so\n", m, c);
	fx_service(&F, "sat-acct",
	    "account [success=done user_unknown=ignore default=die] %s conf=%s\n"
	    "account required %s passdb=%s\n", m, c, matrix, passdb_acct);
	fx_service(&F, "sat-use-alone",
	    "auth required %s conf=%s use_first_pass\n"
	    "auth optional pam_permit.so\n", m, c);
	fx_service(&F, "sat-chain-use",
	    "auth optional %s conf=%s\n"
	    "auth required %s conf=%s use_first_pass\n", m, c, m, c);
	fx_service(&F, "sat-chain-try",
	    "auth optional %s conf=%s\n"
	    "auth required %s conf=%s try_first_pass\n", m, c, m, c);
	fx_service(&F, "sat-try-alone",
	    "auth required %s conf=%s try_first_pass\n", m, c);
	fx_service(&F, "sat-sess",
	    "session optional %s conf=%s\n"
	    "session required pam_permit.so\n", m, c);
	fx_service(&F, "sat-ign-nodb",
	    "auth required %s conf=%s db=%s/missing.db ignore_non_token\n"
	    "auth optional pam_permit.so\n", m, c, F.dir);
	fx_service(&F, "sat-suff-nodb",
	    "auth sufficient %s conf=%s db=%s/missing.db ignore_non_token\n"
	    "auth required %s passdb=%s\n", m, c, F.dir, matrix, passdb);
	for (i = 0; i < N_STORE_CASES; i++) {
		store_path(i, p, sizeof(p));
		snprintf(svc, sizeof(svc), "st-req-%zu", i);
		fx_service(&F, svc, "auth required %s conf=%s db=%s\n"
		    "account required %s conf=%s db=%s\n", m, c, p, m, c, p);
		snprintf(svc, sizeof(svc), "st-trap-%zu", i);
		fx_service(&F, svc, "auth required %s conf=%s db=%s\n"
		    "auth optional pam_permit.so\n", m, c, p);
		snprintf(svc, sizeof(svc), "st-die-%zu", i);
		fx_service(&F, svc, "auth [success=done default=die] %s "
		    "conf=%s db=%s\nauth required pam_permit.so\n", m, c, p);
	}
	for (i = 0; i < N_BAD_ARGS; i++) {
		snprintf(svc, sizeof(svc), "arg-%zu", i);
		fx_service(&F, svc, "auth required %s conf=%s %s\n"
		    "auth optional pam_permit.so\n"
		    "account required %s conf=%s %s\n",
		    m, c, bad_args[i], m, c, bad_args[i]);
	}
	fx_service(&F, "arg-twice", "auth required %s conf=%s conf=%s\n",
	    m, c, c);
	snprintf(p, sizeof(p), "%s/bad.conf", F.dir);
	fp = fopen(p, "w");
	must(fp == NULL, "bad.conf");
	fprintf(fp, "database = %s\nlock_timout_ms = 10\n", F.db);
	fclose(fp);
	fx_service(&F, "arg-badconf", "auth required %s conf=%s\n"
	    "auth optional pam_permit.so\n", m, p);
	fx_service(&F, "arg-good", "auth required %s debug lock_timeout_ms=50 "
	    "conf=%s\n", m, c);
	fx_service(&F, "arg-db", "auth required %s conf=%s db=%s/missing.db\n",
	    m, c, F.dir);
	fx_service(&F, "arg-noconf", "auth required %s db=%s "
	    "audit=file:%s/other-audit.log\n", m, F.db, F.dir);
	shipped = ship("satoken-only") == 0 && ship("satoken-shared") == 0;

	/* satoken.conf with a typo appended (issue 15, item 10), a store
	 * that is not there, an audit sink that cannot be written */
	snprintf(p, sizeof(p), "%s/typo.conf", F.dir);
	must(fx_copy(F.conf, p), "typo.conf");
	fp = fopen(p, "a");
	must(fp == NULL, "typo.conf");
	fprintf(fp, "max_tll = 7d\n");
	fclose(fp);
	shipped = shipped &&
	    ship_as("satoken-shared", "shared-typo", p, "") == 0;
	snprintf(p, sizeof(p), " db=%s/missing.db", F.dir);
	shipped = shipped &&
	    ship_as("satoken-shared", "shared-nodb", F.conf, p) == 0;
	snprintf(p, sizeof(p), " audit=file:%s/no/such/dir/audit.log", F.dir);
	shipped = shipped &&
	    ship_as("satoken-shared", "shared-noaudit", F.conf, p) == 0;
	shipped = shipped &&
	    ship_as("satoken-shared", "shared-nolog", F.conf, " audit=syslog") == 0;
	fx_service(&F, "sat-syslog",
	    "auth required %s conf=%s audit=syslog\n"
	    "account required %s conf=%s audit=syslog\n", m, c, m, c);
	/* a config that breaks between a token's auth and its account */
	snprintf(p, sizeof(p), "%s/breaks.conf", F.dir);
	must(fx_copy(F.conf, p), "breaks.conf");
	fx_service(&F, "sat-breaks",
	    "auth required %s conf=%s\n"
	    "account required %s conf=%s\n", m, p, m, p);
}

/* Stage one: the store, the tokens, the broken stores, the services. */
static void
prepare(void)
{
	const char *u[] = { "ci", "other", "flip" };
	FILE *fp;
	size_t i;

	fx_setup(&F, LOCK_TIMEOUT_MS);

	must(fx_satfix(&F, F.db, "group", "svc", NULL), "group");
	must(fx_satfix(&F, F.db, "group", "outside", NULL), "group");
	must(fx_satfix(&F, F.db, "policy", "svc", NULL), "policy");
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		must(fx_satfix(&F, F.db, "account", u[i], "-g", "svc", NULL),
		    "account");
	must(fx_satfix(&F, F.db, "account", "dis", "-g", "svc", "-d", NULL),
	    "account dis");
	must(fx_satfix(&F, F.db, "account", "old", "-g", "svc", "-v", "1",
	    "-a", "2d", NULL), "account old");
	must(fx_satfix(&F, F.db, "account", "nopol", "-g", "outside", NULL),
	    "account nopol");
	must(fx_satfix(&F, F.db, "account", "gone", "-g", "svc", NULL),
	    "account gone");

	must(fx_mint(&F, tok_ok, "ci", "deploy", NULL), "mint ok");
	must(fx_mint(&F, tok_rev, "ci", "rev", NULL), "mint rev");
	must(fx_mint(&F, tok_exp, "ci", "exp", "-t", "60", "-a", "120", NULL),
	    "mint exp");
	must(fx_mint(&F, tok_dis, "dis", "t", NULL), "mint dis");
	must(fx_mint(&F, tok_old, "old", "t", NULL), "mint old");
	must(fx_mint(&F, tok_nopol, "nopol", "t", NULL), "mint nopol");
	must(fx_mint(&F, tok_gone, "gone", "t", NULL), "mint gone");
	must(fx_mint(&F, tok_svc, "ci", "svc", "-s", "imap", NULL), "mint svc");
	must(fx_mint(&F, tok_src, "ci", "src", "-f", "10.0.0.0/8", NULL),
	    "mint src");
	must(fx_mint(&F, tok_src6, "ci", "src6", "-f", "2001:db8::/32", NULL),
	    "mint src6");
	must(fx_mint(&F, tok_flip, "flip", "t", NULL), "mint flip");
	{
		char id[16];

		fx_token_id(tok_rev, id);
		must(fx_satfix(&F, F.db, "revoke", id, NULL), "revoke");
	}
	must(fx_satfix(&F, F.db, "delete-account", "gone", NULL), "delete");
	make_unknown(tok_unknown);
	make_bad_secret(tok_ok, tok_badsecret);
	memcpy(tok_badcrc, tok_ok, sizeof(tok_badcrc));
	tok_badcrc[53] = tok_badcrc[53] == 'A' ? 'B' : 'A';
	memcpy(tok_long, tok_ok, TOKEN_LEN);
	memcpy(tok_long + TOKEN_LEN, "x", 2);

	snprintf(passdb, sizeof(passdb), "%s/passdb", F.dir);
	fp = fopen(passdb, "w");
	must(fp == NULL, "passdb");
	fprintf(fp, "bob:bobpass:sat-suff\n");
	fclose(fp);
	snprintf(passdb_acct, sizeof(passdb_acct), "%s/passdb.acct", F.dir);
	fp = fopen(passdb_acct, "w");
	must(fp == NULL, "passdb");
	fprintf(fp, "bob:bobpass:sat-acct\n");
	fclose(fp);
	snprintf(passdb_mixed, sizeof(passdb_mixed), "%s/passdb.mixed", F.dir);
	fp = fopen(passdb_mixed, "w");
	must(fp == NULL, "passdb");
	fprintf(fp, "bob:bobpass:sat-mixed\n");	/* any service */
	fclose(fp);
	make_store_files();
	write_services();
}



static char *const all_tokens[] = { tok_ok, tok_rev, tok_exp, tok_dis,
    tok_old, tok_nopol, tok_gone, tok_svc, tok_src, tok_src6, tok_flip,
    tok_unknown, tok_badsecret, tok_badcrc, tok_long };
#define N_TOKENS	(sizeof(all_tokens) / sizeof(all_tokens[0]))

/* The tokens go to the second stage in a 0600 file in the private
 * directory, never in its argv or environment. */
static void
save_state(const char *path)
{
	size_t i;
	int fd;
	FILE *fp;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	must(fd < 0 || (fp = fdopen(fd, "w")) == NULL, "state");
	must(fwrite(&F, sizeof(F), 1, fp) != 1, "state");
	for (i = 0; i < N_TOKENS; i++)
		must(fwrite(all_tokens[i], 64, 1, fp) != 1, "state");
	must(fwrite(passdb, sizeof(passdb), 1, fp) != 1, "state");
	must(fwrite(passdb_acct, sizeof(passdb_acct), 1, fp) != 1, "state");
	must(fwrite(passdb_mixed, sizeof(passdb_mixed), 1, fp) != 1, "state");
	must(fwrite(&shipped, sizeof(shipped), 1, fp) != 1, "state");
	must(fclose(fp), "state");
}

static void
load_state(const char *path)
{
	const char *satfix = F.satfix, *module = F.module;
	size_t i;
	FILE *fp = fopen(path, "r");

	must(fp == NULL, "state");
	must(fread(&F, sizeof(F), 1, fp) != 1, "state");
	for (i = 0; i < N_TOKENS; i++)
		must(fread(all_tokens[i], 64, 1, fp) != 1, "state");
	must(fread(passdb, sizeof(passdb), 1, fp) != 1, "state");
	must(fread(passdb_acct, sizeof(passdb_acct), 1, fp) != 1, "state");
	must(fread(passdb_mixed, sizeof(passdb_mixed), 1, fp) != 1, "state");
	must(fread(&shipped, sizeof(shipped), 1, fp) != 1, "state");
	fclose(fp);
	F.satfix = satfix;
	F.module = module;
}

/* Stage one runs stage two under pam_wrapper and cleans up after it. */
static int
run_stage_two(char **argv)
{
	const char *preload = getenv("PAMT_PRELOAD");
	char state[FX_PATH * 2];
	int status;
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", F.dir);
	save_state(state);
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		if (setenv("SATPAM_STATE", state, 1) != 0 ||
		    setenv("PAM_WRAPPER", "1", 1) != 0 ||
		    setenv("PAM_WRAPPER_SERVICE_DIR", F.svcdir, 1) != 0 ||
		    setenv("LD_PRELOAD", preload != NULL ? preload :
		    "libpam_wrapper.so", 1) != 0)
			_exit(1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_full_login),
		cmocka_unit_test(test_every_reason),
		cmocka_unit_test(test_ignore_non_token),
		cmocka_unit_test(test_sufficient_fallback),
		cmocka_unit_test(test_mixed_stack),
		cmocka_unit_test(test_shipped_stacks),
		cmocka_unit_test(test_store_failures),
		cmocka_unit_test(test_store_locked),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_first_pass),
		cmocka_unit_test(test_conversation_error),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_changes_seen_at_once),
		cmocka_unit_test(test_session_without_token),
		cmocka_unit_test(test_empty_user),
		cmocka_unit_test(test_people_unaffected),
		cmocka_unit_test(test_syslog_sink),
		cmocka_unit_test(test_no_secret_in_audit),
	};

	const char *state = getenv("SATPAM_STATE");
	int rc;

	(void)argc;
	matrix = getenv("PAM_MATRIX");
	if (matrix == NULL || matrix[0] != '/') {
		fprintf(stderr, "set PAM_MATRIX to pam_wrapper's pam_matrix.so\n");
		return 1;
	}
	if (state == NULL) {
		prepare();
		rc = run_stage_two(argv);
		fx_teardown(&F);
		return rc;
	}
	F.satfix = getenv("SATFIX");
	F.module = getenv("PAM_MODULE");
	load_state(state);
	return cmocka_run_group_tests_name("pam_satoken through libpam", tests,
	    NULL, NULL);
}
