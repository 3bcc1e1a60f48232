/* bench_pam: full PAM logins in a loop (pam_start_confdir +
 * pam_authenticate + pam_end), linked with libpam alone, so that every
 * module it runs pays its own loading.
 *
 *   bench_pam CONFDIR SERVICE PAIRS ITERS THREADS WARM [expect-fail]
 *
 * PAIRS holds "USER SECRET" lines; attempt i logs in as pair i (mod n),
 * spread over the whole file.  Prints "p50_us p99_us ops_per_s
 * failures" (bench_loop); a failure is an answer other than the
 * expected one (PAM_SUCCESS, or a refusal with expect-fail). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "stats.h"

static const char *confdir, *service;
static char **users, **secrets;
static size_t npairs;
static int expect_fail;

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(data);
	*resp = r;
	return PAM_SUCCESS;
}

static int
one_login(void *arg, unsigned t, size_t i)
{
	size_t k = (i * 2654435761u) % npairs;
	struct pam_conv c = { conv, secrets[k] };
	pam_handle_t *h = NULL;
	int rc;

	if (pam_start_confdir(service, users[k], &c, confdir, &h) != PAM_SUCCESS)
		return -1;
	rc = pam_authenticate(h, 0);
	pam_end(h, rc);
	return expect_fail ? (rc == PAM_SUCCESS ? -1 : 0) :
	    (rc == PAM_SUCCESS ? 0 : -1);
}

int
main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: bench_pam CONFDIR SERVICE PAIRS ITERS "
		    "THREADS WARM [expect-fail]\n");
		return 2;
	}
	confdir = argv[1];
	service = argv[2];
	npairs = bench_load_pairs(argv[3], &users, &secrets);
	expect_fail = argc > 7 && strcmp(argv[7], "expect-fail") == 0;
	bench_loop(one_login, NULL, (unsigned)atoi(argv[5]),
	    (size_t)atol(argv[4]), (size_t)atol(argv[6]));
	return 0;
}
