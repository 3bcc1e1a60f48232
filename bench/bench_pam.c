/* bench_pam: full PAM logins in a loop (pam_start_confdir +
 * pam_authenticate + pam_end), linked with libpam alone, so that every
 * module it runs pays its own loading.
 *
 *   bench_pam CONFDIR SERVICE PAIRS ITERS THREADS WARM [expect-fail]
 *   bench_pam CONFDIR SERVICE_A,SERVICE_B PAIRS ITERS 1 WARM
 *
 * PAIRS holds "USER SECRET" lines; attempt i logs in as pair i (mod n),
 * spread over the whole file.  Prints "p50_us p99_us ops_per_s
 * failures" (bench_loop); a failure is an answer other than the
 * expected one (PAM_SUCCESS, or a refusal with expect-fail).
 *
 * With two services, one thread alternates them login by login and
 * prints "p50_A_us p50_B_us failures": a difference of a few per cent
 * between two configurations is smaller than what separates two runs
 * of one on a shared machine, so both are timed under the same load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "stats.h"

static const char *confdir, *service, *service_b;
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
login_as(const char *svc, size_t i)
{
	size_t k = (i * 2654435761u) % npairs;
	struct pam_conv c = { conv, secrets[k] };
	pam_handle_t *h = NULL;
	int rc;

	if (pam_start_confdir(svc, users[k], &c, confdir, &h) != PAM_SUCCESS)
		return -1;
	rc = pam_authenticate(h, 0);
	pam_end(h, rc);
	return expect_fail ? (rc == PAM_SUCCESS ? -1 : 0) :
	    (rc == PAM_SUCCESS ? 0 : -1);
}

static int
one_login(void *arg, unsigned t, size_t i)
{
	(void)arg;
	(void)t;
	return login_as(service, i);
}

/* Logins alternate between the two services; each keeps its own times. */
static void
paired(size_t iters, size_t warm)
{
	uint64_t *lat[2], t0;
	size_t i, n[2] = { 0, 0 }, fails = 0;
	const char *svc[2] = { service, service_b };

	lat[0] = calloc(iters, sizeof(uint64_t));
	lat[1] = calloc(iters, sizeof(uint64_t));
	if (lat[0] == NULL || lat[1] == NULL)
		exit(2);
	for (i = 0; i < warm; i++)
		fails += login_as(svc[i % 2], i) != 0;
	for (i = 0; i < 2 * iters; i++) {
		int v = (int)(i % 2);

		t0 = bench_now_ns();
		fails += login_as(svc[v], i) != 0;
		lat[v][n[v]++] = bench_now_ns() - t0;
	}
	printf("%.2f %.2f %zu\n", bench_pct(lat[0], n[0], 50) / 1000.0,
	    bench_pct(lat[1], n[1], 50) / 1000.0, fails);
	free(lat[0]);
	free(lat[1]);
}

int
main(int argc, char **argv)
{
	char *comma;

	if (argc < 7) {
		fprintf(stderr, "usage: bench_pam CONFDIR SERVICE PAIRS ITERS "
		    "THREADS WARM [expect-fail]\n");
		return 2;
	}
	confdir = argv[1];
	service = argv[2];
	npairs = bench_load_pairs(argv[3], &users, &secrets);
	expect_fail = argc > 7 && strcmp(argv[7], "expect-fail") == 0;
	if ((comma = strchr(argv[2], ',')) != NULL) {
		*comma = '\0';
		service_b = comma + 1;
		paired((size_t)atol(argv[4]), (size_t)atol(argv[6]));
		return 0;
	}
	bench_loop(one_login, NULL, (unsigned)atoi(argv[5]),
	    (size_t)atol(argv[4]), (size_t)atol(argv[6]));
	return 0;
}
