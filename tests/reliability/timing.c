/* timing: does verify_token take the same time whatever the reason?
 * DESIGN: "the same work (lookup and hash) is done on every path, so
 * timing does not tell an unknown account from a wrong secret".
 *
 *   timing DB TRIALS ROUNDS < "CASE ACCOUNT TOKEN" lines
 *
 * Runs the cases alternately (so drift in the machine's speed hits them
 * all alike) on one open reader handle (so the store's open cost, the
 * same for all, does not hide a difference), TRIALS times per round.
 * Prints each case's median per round and the median of those medians,
 * then the spread: (slowest - fastest) / fastest, in percent.  Exits 0
 * when the spread is at most the limit in TIMING_LIMIT_PCT (default 5),
 * 1 otherwise.  The decision must also be the expected one every time.
 * Never installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "mem.h"
#include "store.h"
#include "verify.h"

#define MAX_CASES 8

struct tcase {
	char name[32], account[80], token[128], want[32];
	double *ns;
	double med[64];
};

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct tcase c[MAX_CASES];
	struct verify_request vr;
	struct verify_result res;
	struct store *s;
	char line[512];
	size_t nc = 0, trials, rounds, i, k, round;
	double lo = 0, hi = 0, limit = 5, mm;
	const char *e;
	int r, bad = 0;

	if (argc != 4 || (trials = strtoul(argv[2], NULL, 10)) == 0 ||
	    (rounds = strtoul(argv[3], NULL, 10)) == 0 || rounds > 64) {
		fprintf(stderr, "usage: timing DB TRIALS ROUNDS < cases\n");
		return 2;
	}
	if ((e = getenv("TIMING_LIMIT_PCT")) != NULL)
		limit = strtod(e, NULL);
	while (nc < MAX_CASES && fgets(line, sizeof(line), stdin) != NULL) {
		/* CASE EXPECTED-REASON ACCOUNT TOKEN */
		if (sscanf(line, "%31s %31s %79s %127s", c[nc].name, c[nc].want,
		    c[nc].account, c[nc].token) != 4)
			continue;
		if ((c[nc].ns = calloc(trials, sizeof(double))) == NULL)
			return 2;
		nc++;
	}
	sat_wipe(line, sizeof(line));
	if (nc < 2)
		return 2;
	if ((r = store_open_reader(argv[1], 1000, &s)) != 0) {
		fprintf(stderr, "timing: %s: %s\n", argv[1], sat_strerror(r));
		return 2;
	}
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < trials; i++) {
			for (k = 0; k < nc; k++) {
				/* rotate the order: no case always runs first */
				struct tcase *t = &c[(k + i) % nc];
				double t0;

				memset(&vr, 0, sizeof(vr));
				vr.account = t->account;
				vr.token = t->token;
				vr.token_len = strlen(t->token);
				vr.service = "imap";
				vr.now = (int64_t)time(NULL);
				t0 = now_ns();
				r = verify_token(s, &vr, &res);
				t->ns[i] = now_ns() - t0;
				if (r != 0 || strcmp(verify_reason_name(res.reason),
				    t->want) != 0) {
					if (bad++ < 5)
						fprintf(stderr, "timing: %s gave %s, "
						    "expected %s\n", t->name, r != 0 ?
						    sat_strerror(r) :
						    verify_reason_name(res.reason),
						    t->want);
				}
			}
		}
		for (k = 0; k < nc; k++)
			c[k].med[round] = median(c[k].ns, trials);
	}
	store_close(s);
	for (k = 0; k < nc; k++) {
		printf("%-16s", c[k].name);
		for (round = 0; round < rounds; round++)
			printf(" %8.0f", c[k].med[round]);
		mm = median(c[k].med, rounds);
		printf("   median of medians %8.0f ns\n", mm);
		if (k == 0 || mm < lo)
			lo = mm;
		if (k == 0 || mm > hi)
			hi = mm;
		sat_wipe(c[k].token, sizeof(c[k].token));
		free(c[k].ns);
	}
	printf("spread %.2f%% (limit %.1f%%), %zu trials per case, %zu wrong "
	    "decisions\n", (hi - lo) / lo * 100, limit, trials * rounds,
	    (size_t)bad);
	return bad == 0 && (hi - lo) / lo * 100 <= limit ? 0 : 1;
}
