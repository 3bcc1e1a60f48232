/* threads: many logins at once through the real libpam and libsasl2, to
 * show the modules are safe in multithreaded hosts.
 *
 *   threads DIR THREADS ITERATIONS
 *
 * DIR holds cases (one "account token expect" per line, expect being ok
 * or no), pam/satoken-threads (a PAM service file naming the module),
 * sasl/ (the plugin) and conf/satoken-threads.conf (the SASL app
 * config).  Every thread runs every case ITERATIONS times, through PAM
 * and through SASL OAUTHBEARER, starting at a different case.  It prints
 * one line per case with its counts and exits 1 if any answer differs
 * from what the case expects; run it with 1 thread and with many, and
 * the lines must be the same. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <security/pam_appl.h>

#define MAX_CASES	32

struct lcase {
	char account[65];
	char token[128];
	int expect_ok;
	/* results, updated under results_lock */
	long pam_ok, pam_no, sasl_ok, sasl_no;
};

static struct lcase cases[MAX_CASES];
static int ncases, iterations;
static char dir[4096];
static pthread_mutex_t results_lock = PTHREAD_MUTEX_INITIALIZER;

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct pam_response *r;
	int i;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(appdata);
	*resp = r;
	return PAM_SUCCESS;
}

static int
pam_login(const struct lcase *c)
{
	char confdir[4200];
	struct pam_conv pc = { conv, (void *)c->token };
	pam_handle_t *ph = NULL;
	int rc;

	snprintf(confdir, sizeof(confdir), "%s/pam", dir);
	if (pam_start_confdir("satoken-threads", c->account, &pc, confdir,
	    &ph) != PAM_SUCCESS)
		return -1;
	pam_set_item(ph, PAM_RHOST, "127.0.0.1");
	rc = pam_authenticate(ph, 0);
	pam_end(ph, rc);
	return rc == PAM_SUCCESS;
}

static int
sasl_login(const struct lcase *c)
{
	char msg[512];
	const char *out;
	unsigned outlen;
	sasl_conn_t *conn = NULL;
	int n, rc;

	n = snprintf(msg, sizeof(msg), "n,a=%s,\001auth=Bearer %s\001\001",
	    c->account, c->token);
	if (sasl_server_new("imap", "localhost", NULL, "127.0.0.1;143",
	    "127.0.0.1;40000", NULL, 0, &conn) != SASL_OK)
		return -1;
	rc = sasl_server_start(conn, "OAUTHBEARER", msg, (unsigned)n, &out,
	    &outlen);
	if (rc == SASL_CONTINUE)	/* the RFC 7628 error challenge */
		rc = sasl_server_step(conn, "\001", 1, &out, &outlen);
	sasl_dispose(&conn);
	return rc == SASL_OK;
}

static void *
worker(void *arg)
{
	long id = (long)arg;
	int i, k, p, s;

	for (i = 0; i < iterations; i++) {
		for (k = 0; k < ncases; k++) {
			struct lcase *c = &cases[(k + id) % ncases];

			p = pam_login(c);
			s = sasl_login(c);
			pthread_mutex_lock(&results_lock);
			if (p == 1)
				c->pam_ok++;
			else
				c->pam_no++;
			if (s == 1)
				c->sasl_ok++;
			else
				c->sasl_no++;
			pthread_mutex_unlock(&results_lock);
		}
	}
	return NULL;
}

/* libsasl2 locks only through the mutex callbacks a host gives it. */
static void *
mx_alloc(void)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(m, NULL);
	return m;
}

static int
mx_lock(void *m)
{
	return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static int
mx_unlock(void *m)
{
	return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static void
mx_free(void *m)
{
	pthread_mutex_destroy(m);
	free(m);
}

static int
get_path(void *ctx, const char **path)
{
	static char p[4200];

	(void)ctx;
	snprintf(p, sizeof(p), "%s/sasl", dir);
	*path = p;
	return SASL_OK;
}

static int
get_conf_path(void *ctx, char **path)
{
	static char p[4200];

	(void)ctx;
	snprintf(p, sizeof(p), "%s/conf", dir);
	*path = p;
	return SASL_OK;
}

int
main(int argc, char **argv)
{
	static sasl_callback_t cbs[] = {
		{ SASL_CB_GETPATH, (int (*)(void))(void (*)(void))get_path, NULL },
		{ SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))get_conf_path, NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	pthread_t *tids;
	char path[4200], tok[128], acct[65], exp[8];
	FILE *fp;
	int nthreads, i, fail = 0;

	if (argc != 4)
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	nthreads = atoi(argv[2]);
	iterations = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 1024 || iterations < 1)
		return 2;
	snprintf(path, sizeof(path), "%s/cases", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 2;
	while (ncases < MAX_CASES &&
	    fscanf(fp, "%64s %127s %7s", acct, tok, exp) == 3) {
		snprintf(cases[ncases].account, sizeof(cases[ncases].account),
		    "%s", acct);
		snprintf(cases[ncases].token, sizeof(cases[ncases].token),
		    "%s", tok);
		cases[ncases].expect_ok = strcmp(exp, "ok") == 0;
		ncases++;
	}
	fclose(fp);
	sasl_set_mutex(mx_alloc, mx_lock, mx_unlock, mx_free);
	if (sasl_server_init(cbs, "satoken-threads") != SASL_OK) {
		fprintf(stderr, "threads: sasl_server_init failed\n");
		return 1;
	}
	tids = calloc((size_t)nthreads, sizeof(*tids));
	for (i = 0; i < nthreads; i++)
		pthread_create(&tids[i], NULL, worker, (void *)(long)i);
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	sasl_server_done();
	for (i = 0; i < ncases; i++) {
		struct lcase *c = &cases[i];
		long total = (long)nthreads * iterations;
		int good = c->expect_ok ?
		    (c->pam_ok == total && c->sasl_ok == total) :
		    (c->pam_no == total && c->sasl_no == total);

		/* the line carries no token: it is compared between runs */
		printf("case %d account=%s expect=%s pam=%s sasl=%s\n", i,
		    c->account, c->expect_ok ? "ok" : "no",
		    c->pam_ok == total ? "ok" : c->pam_no == total ? "no" : "MIXED",
		    c->sasl_ok == total ? "ok" : c->sasl_no == total ? "no" : "MIXED");
		if (!good)
			fail = 1;
	}
	return fail;
}
