/* pamdrive: pam_satoken.so through the real libpam, without pam_wrapper
 * (pam_start_confdir with a private service directory), for the checks
 * that need a plain process:
 *
 *   pamdrive smoke     the PAM path once each way (ok, refused, not a
 *                      token, ignored, store missing, bad argument,
 *                      account phase, sessions); run under valgrind
 *   pamdrive threads   logins from several threads at once while the
 *                      store is being written, every answer checked
 *   pamdrive fault     PAM_MODULE is the fault-injection build: every
 *                      wrapped call of a login is made to fail in turn;
 *                      no fault may end in PAM_SUCCESS or PAM_IGNORE
 *
 * Each mode ends with "N passed, N failed" and exits 1 on any failure.
 * SATFIX and PAM_MODULE come from the environment. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "fixture.h"

static struct fx F;
static int passed, failed;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static char tok_ok[64], tok_rev[64], tok_other[64];

static void
check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&count_lock);
	if (ok) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "FAIL: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&count_lock);
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	const char *answer = data;
	struct pam_response *r;
	int i;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF && answer != NULL &&
		    (r[i].resp = strdup(answer)) == NULL) {
			free(r);
			return PAM_BUF_ERR;
		}
	*resp = r;
	return PAM_SUCCESS;
}

enum op { OP_AUTH = 1, OP_ACCT = 2, OP_SESSION = 4 };

/* Runs the ops in order on one handle; returns the first code that is
 * not PAM_SUCCESS, else PAM_SUCCESS. */
static int
login(const char *service, const char *user, const char *token, int ops)
{
	struct pam_conv c = { conv, (void *)token };
	pam_handle_t *ph = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &c, F.svcdir, &ph);
	if (rc != PAM_SUCCESS)
		return rc;
	if ((ops & OP_AUTH) && (rc = pam_authenticate(ph, 0)) == PAM_SUCCESS)
		rc = pam_setcred(ph, PAM_ESTABLISH_CRED);
	if (rc == PAM_SUCCESS && (ops & OP_ACCT))
		rc = pam_acct_mgmt(ph, 0);
	if (rc == PAM_SUCCESS && (ops & OP_SESSION) &&
	    (rc = pam_open_session(ph, 0)) == PAM_SUCCESS)
		rc = pam_close_session(ph, 0);
	pam_end(ph, rc);
	return rc;
}

static void
must(int r, const char *what)
{
	if (r != 0) {
		fprintf(stderr, "pamdrive: setup: %s failed\n", what);
		fx_teardown(&F);
		exit(1);
	}
}

static void
setup(void)
{
	const char *m, *c, *plain = getenv("PAM_PLAIN_MODULE");
	char id[16];

	fx_setup(&F, 2000);
	m = F.module;
	c = F.conf;
	must(fx_satfix(&F, F.db, "group", "svc", NULL), "group");
	must(fx_satfix(&F, F.db, "policy", "svc", NULL), "policy");
	must(fx_satfix(&F, F.db, "account", "ci", "-g", "svc", NULL), "account");
	must(fx_satfix(&F, F.db, "account", "web", "-g", "svc", NULL),
	    "account");
	must(fx_satfix(&F, F.db, "account", "nopol", NULL), "account");
	/* 30 days: past warn_before, so a login makes no expiry notice,
	 * whose failure (ignored by design: the login is decided) would
	 * read here as a fault ending in success */
	must(fx_mint(&F, tok_ok, "ci", "ok", "-t", "2592000", NULL), "mint");
	must(fx_mint(&F, tok_rev, "ci", "rev", "-t", "2592000", NULL), "mint");
	must(fx_mint(&F, tok_other, "web", "w", "-t", "2592000", NULL), "mint");
	fx_token_id(tok_rev, id);
	must(fx_satfix(&F, F.db, "revoke", id, NULL), "revoke");

	fx_service(&F, "other", "auth required pam_deny.so\n"
	    "account required pam_deny.so\nsession required pam_deny.so\n");
	/* the trap: success through it means the module said SUCCESS or
	 * IGNORE */
	fx_service(&F, "sat",
	    "auth required %s conf=%s\n"
	    "auth optional pam_permit.so\n"
	    "account required %s conf=%s\n"
	    "account optional pam_permit.so\n"
	    "session required %s conf=%s\n"
	    "session optional pam_permit.so\n", m, c, m, c, m, c);
	/* an earlier module asks and sets PAM_AUTHTOK: under fault
	 * injection the plain build (PAM_PLAIN_MODULE), so that only the
	 * instance under test fails */
	fx_service(&F, "chain",
	    "auth optional %s conf=%s\n"
	    "auth required %s conf=%s use_first_pass\n"
	    "auth optional pam_permit.so\n", plain != NULL ? plain : m, c,
	    m, c);
	fx_service(&F, "ign",
	    "auth required %s conf=%s ignore_non_token\n", m, c);
	fx_service(&F, "nodb",
	    "auth required %s conf=%s db=%s/missing.db\n"
	    "account required %s conf=%s db=%s/missing.db\n", m, c, F.dir,
	    m, c, F.dir);
	fx_service(&F, "badarg", "auth required %s conf=%s bogus\n", m, c);
}

static const char *
name(int rc)
{
	return pam_strerror(NULL, rc);
}

#define EXPECT(got, want, what) \
	do { \
		int got_ = (got); \
		check(got_ == (want), "%s: got %s, want %s", (what), \
		    name(got_), name(want)); \
	} while (0)

static void
smoke(void)
{
	const int all = OP_AUTH | OP_ACCT | OP_SESSION;

	EXPECT(login("sat", "ci", tok_ok, all), PAM_SUCCESS, "full login");
	EXPECT(login("chain", "ci", tok_ok, OP_AUTH), PAM_SUCCESS,
	    "use_first_pass chain");
	EXPECT(login("sat", "ci", tok_rev, OP_AUTH), PAM_AUTH_ERR, "revoked");
	EXPECT(login("sat", "ci", tok_other, OP_AUTH), PAM_AUTH_ERR,
	    "wrong account");
	EXPECT(login("sat", "ci", "hunter2", OP_AUTH), PAM_AUTH_ERR,
	    "not a token");
	EXPECT(login("sat", "ci", NULL, OP_AUTH), PAM_AUTH_ERR, "no answer");
	/* the module's IGNORE with nothing else in the stack: libpam
	 * refuses, whatever code it picks */
	check(login("ign", "ci", "hunter2", OP_AUTH) != PAM_SUCCESS,
	    "ignored alone must not pass");
	EXPECT(login("nodb", "ci", tok_ok, OP_AUTH), PAM_AUTHINFO_UNAVAIL,
	    "store missing");
	/* no token authenticated that handle: not ours to refuse, the
	 * next module decides (never a pass) */
	EXPECT(login("nodb", "ci", NULL, OP_ACCT), PAM_USER_UNKNOWN,
	    "store missing, account");
	EXPECT(login("badarg", "ci", tok_ok, OP_AUTH), PAM_SERVICE_ERR,
	    "bad argument");
	EXPECT(login("sat", "nopol", NULL, OP_ACCT), PAM_PERM_DENIED,
	    "outside the policy");
	EXPECT(login("sat", "bob", NULL, OP_ACCT), PAM_USER_UNKNOWN,
	    "not a service account");
	EXPECT(login("sat", "bob", NULL, OP_SESSION), PAM_SUCCESS,
	    "session without a token");
}

/* ---- threads ---------------------------------------------------------- */

#define THREADS	4

static int iterations = 60;

static void *
worker(void *arg)
{
	long t = (long)arg;
	int i, rc;

	for (i = 0; i < iterations; i++) {
		switch ((i + t) % 4) {
		case 0:
			rc = login("sat", "ci", tok_ok, OP_AUTH | OP_ACCT);
			check(rc == PAM_SUCCESS, "thread %ld: ok: %s", t,
			    name(rc));
			break;
		case 1:
			rc = login("sat", "ci", tok_rev, OP_AUTH);
			check(rc == PAM_AUTH_ERR, "thread %ld: revoked: %s", t,
			    name(rc));
			break;
		case 2:
			rc = login("sat", "web", tok_other, OP_AUTH);
			check(rc == PAM_SUCCESS, "thread %ld: web: %s", t,
			    name(rc));
			break;
		default:
			rc = login("sat", "web", tok_ok, OP_AUTH);
			check(rc == PAM_AUTH_ERR, "thread %ld: wrong: %s", t,
			    name(rc));
			break;
		}
	}
	return NULL;
}

static void
threads(void)
{
	pthread_t th[THREADS];
	char tok[64], name_[16];
	long t;
	int i;

	for (t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)t) != 0)
			must(1, "pthread_create");
	/* the writer commits while the readers read */
	for (i = 0; i < 5; i++) {
		snprintf(name_, sizeof(name_), "extra%d", i);
		check(fx_mint(&F, tok, "ci", name_, NULL) == 0,
		    "mint while logging in");
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
}

/* ---- fault injection -------------------------------------------------- */

struct fault_api {
	void (*arm)(long);
	long (*calls)(void);
	const char *(*failed)(void);
	void (*reset_view)(void);
};

struct kind_count {
	char name[32];
	int n;
};

static void
tally(struct kind_count *k, size_t cap, const char *name_)
{
	size_t i;

	for (i = 0; i < cap && k[i].name[0] != '\0'; i++)
		if (strcmp(k[i].name, name_) == 0) {
			k[i].n++;
			return;
		}
	if (i < cap) {
		snprintf(k[i].name, sizeof(k[i].name), "%s", name_);
		k[i].n = 1;
	}
}

/* One login of a scenario with the n-th wrapped call failing (0: none);
 * the fault is armed only around the operation under test. */
static int
fault_login(const struct fault_api *api, int scenario, int warm, long n,
    long *ret_calls, char *ret_failed, size_t cap)
{
	struct pam_conv c = { conv, NULL };
	pam_handle_t *ph = NULL;
	int rc;

	/* cold: the module's resident store view is dropped first; warm:
	 * a login of the same kind, unarmed, leaves it open and current */
	api->arm(-1);
	api->reset_view();
	if (warm && fault_login(api, scenario, 0, 0, ret_calls, ret_failed,
	    cap) == -1)
		return -1;
	api->arm(-1);
	switch (scenario) {
	case 0:		/* a good token */
	case 1:		/* a revoked one */
		c.appdata_ptr = scenario == 0 ? tok_ok : tok_rev;
		if (pam_start_confdir("sat", "ci", &c, F.svcdir, &ph) != 0)
			return -1;
		api->arm(n);
		rc = pam_authenticate(ph, 0);
		break;
	case 2:		/* use_first_pass after a module that prompted */
		c.appdata_ptr = tok_ok;
		if (pam_start_confdir("chain", "ci", &c, F.svcdir, &ph) != 0)
			return -1;
		api->arm(n);
		rc = pam_authenticate(ph, 0);
		break;
	case 3:		/* the account phase */
		if (pam_start_confdir("sat", "ci", &c, F.svcdir, &ph) != 0)
			return -1;
		api->arm(n);
		rc = pam_acct_mgmt(ph, 0);
		break;
	default:	/* a session after a token login */
		c.appdata_ptr = tok_ok;
		if (pam_start_confdir("sat", "ci", &c, F.svcdir, &ph) != 0)
			return -1;
		if ((rc = pam_authenticate(ph, 0)) != PAM_SUCCESS) {
			pam_end(ph, rc);
			return -1;
		}
		api->arm(n);
		rc = pam_open_session(ph, 0);
		break;
	}
	*ret_calls = api->calls();
	snprintf(ret_failed, cap, "%s", api->failed());
	api->arm(-1);
	pam_end(ph, rc);
	return rc;
}

static void
faults(void)
{
	static const struct {
		const char *what;
		int baseline;
	} sc[] = {
		{ "auth, good token", PAM_SUCCESS },
		{ "auth, revoked token", PAM_AUTH_ERR },
		{ "auth, use_first_pass", PAM_SUCCESS },
		{ "account", PAM_SUCCESS },
		{ "open_session", PAM_SUCCESS },
	};
	struct fault_api api;
	struct kind_count kinds[32];
	char what[32];
	void *h;
	size_t s, i;
	long k, n;
	int rc, w;

	/* the module stays loaded between logins: its counters persist */
	if ((h = dlopen(F.module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		must(1, dlerror());
	*(void **)&api.arm = dlsym(h, "satfault_arm");
	*(void **)&api.calls = dlsym(h, "satfault_calls");
	*(void **)&api.failed = dlsym(h, "satfault_failed");
	*(void **)&api.reset_view = dlsym(h, "satfault_reset_view");
	if (api.arm == NULL || api.calls == NULL || api.failed == NULL ||
	    api.reset_view == NULL)
		must(1, "PAM_MODULE is not the fault-injection build");

	for (w = 0; w < 2; w++)
	for (s = 0; s < sizeof(sc) / sizeof(sc[0]); s++) {
		memset(kinds, 0, sizeof(kinds));
		rc = fault_login(&api, (int)s, w, 0, &k, what, sizeof(what));
		check(rc == sc[s].baseline && k > 0, "%s (%s) without faults: "
		    "%s, %ld calls", sc[s].what, w ? "warm" : "cold", name(rc), k);
		for (n = 1; n <= k; n++) {
			long c;

			rc = fault_login(&api, (int)s, w, n, &c, what,
			    sizeof(what));
			check(what[0] != '\0', "%s (%s): call %ld not reached",
			    sc[s].what, w ? "warm" : "cold", n);
			tally(kinds, 32, what);
			check(rc != PAM_SUCCESS && rc != PAM_IGNORE,
			    "%s (%s): call %ld (%s) failing gave %s", sc[s].what,
			    w ? "warm" : "cold", n, what, name(rc));
		}
		printf("   %s, %s store view: %ld calls, each failed in turn:",
		    sc[s].what, w ? "warm" : "cold", k);
		for (i = 0; i < 32 && kinds[i].name[0] != '\0'; i++)
			printf(" %s %d", kinds[i].name, kinds[i].n);
		printf("\n");
	}
	/* and with nothing failing, logins work again */
	check(fault_login(&api, 0, 1, 0, &k, what, sizeof(what)) == PAM_SUCCESS,
	    "clean login after");
	/* this build is not -z nodelete: close its store view before its
	 * code and data go away, or the view would be left unreachable */
	api.reset_view();
	dlclose(h);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (argc > 2) {
		char *end;
		long v = strtol(argv[2], &end, 10);

		if (*end != '\0' || v < 1 || v > 100000) {
			fprintf(stderr, "pamdrive: bad count '%s'\n", argv[2]);
			return 2;
		}
		iterations = (int)v;
	}
	setup();
	if (strcmp(mode, "smoke") == 0)
		smoke();
	else if (strcmp(mode, "threads") == 0)
		threads();
	else if (strcmp(mode, "fault") == 0)
		faults();
	else {
		fprintf(stderr, "usage: pamdrive smoke|threads [N]|fault\n");
		fx_teardown(&F);
		return 2;
	}
	fx_teardown(&F);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
