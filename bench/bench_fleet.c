/* bench_fleet: how long a revocation takes to be refused on every
 * follower's local store, read as the modules read it (login_check on
 * each follower's satoken.conf: the view, the decision, the audit line).
 *
 *   bench_fleet URI BINDDN PWFILE SUB PAIRS CONF...
 *
 * PAIRS holds "ID TOKEN" lines of live tokens of account ci.  For each,
 * in turn: the login is accepted on every follower first (else it is
 * not counted), then the token entry is revoked in the directory (bound
 * as BINDDN, as a control host writes), and each follower is polled
 * until it refuses.  Prints "revocations followers p50_ms p99_ms max_ms
 * misses"; a follower that still accepts after 5 s is a miss.  With
 * BENCH_FLEET_TRACE naming a file, each revocation is also appended to
 * it as "N START_MS MS": when the directory acknowledged it (since the
 * first) and how long until every follower refused it, so that a tail
 * can be matched with what else happens at that time.
 *
 *   bench_fleet check SECONDS PAIRS CONF...
 *
 * Logs every token of PAIRS in on every follower, round after round,
 * for SECONDS (the directory stopped meanwhile, say); prints "logins
 * refused": each should have been accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldap.h>

#include "config.h"
#include "err.h"
#include "login.h"
#include "stats.h"

#define MISS_NS	(5ULL * 1000000000ULL)
#define POLL_NS	500000	/* a rest between rounds: the figures' resolution */

static int
accepted(const struct sat_config *cfg, const char *tok)
{
	struct login_request rq;
	struct verify_result res;

	memset(&rq, 0, sizeof(rq));
	rq.token = tok;
	rq.token_len = strlen(tok);
	rq.account = "ci";
	rq.service = "bench";
	rq.ident = "bench_fleet";
	return login_check(cfg, &rq, &res) == 0 && res.reason == VERIFY_OK;
}

static int
check_main(int argc, char **argv)
{
	struct sat_config *cfgs;
	char **ids, **toks, err[SAT_ERRMSG_MAX];
	uint64_t end;
	size_t n, i, k, nf, logins = 0, refused = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_fleet check SECONDS PAIRS CONF...\n");
		return 2;
	}
	nf = (size_t)argc - 4;
	cfgs = calloc(nf, sizeof(*cfgs));
	for (k = 0; k < nf; k++)
		if (cfg_init(&cfgs[k]) != 0 ||
		    cfg_load_file(&cfgs[k], argv[4 + k], err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_fleet: %s\n", err);
			return 1;
		}
	n = bench_load_pairs(argv[3], &ids, &toks);
	end = bench_now_ns() + (uint64_t)atol(argv[2]) * 1000000000ULL;
	/* ten rounds a second: each login is an audit line */
	while (bench_now_ns() < end) {
		for (k = 0; k < nf; k++)
			for (i = 0; i < n; i++) {
				logins++;
				if (!accepted(&cfgs[k], toks[i]))
					refused++;
			}
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	printf("%zu %zu\n", logins, refused);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sat_config *cfgs;
	char **ids, **toks, err[SAT_ERRMSG_MAX], dn[512], when[24], pw[256];
	char *vals[2] = { when, NULL };
	LDAPMod mod, *mods[2] = { &mod, NULL };
	struct berval cred;
	uint64_t *lat, t0, t, first = 0, worst = 0;
	const char *trace_path = getenv("BENCH_FLEET_TRACE");
	FILE *trace = NULL;
	unsigned char *done;
	size_t left;
	size_t n, i, k, nf, nl = 0, misses = 0, skipped = 0;
	LDAP *ld;
	FILE *pf;
	int v3 = LDAP_VERSION3, rc;

	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc, argv);
	if (argc < 7) {
		fprintf(stderr, "usage: bench_fleet URI BINDDN PWFILE SUB PAIRS "
		    "CONF...\n");
		return 2;
	}
	nf = (size_t)argc - 6;
	cfgs = calloc(nf, sizeof(*cfgs));
	for (k = 0; k < nf; k++)
		if (cfg_init(&cfgs[k]) != 0 ||
		    cfg_load_file(&cfgs[k], argv[6 + k], err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_fleet: %s\n", err);
			return 1;
		}
	n = bench_load_pairs(argv[5], &ids, &toks);
	lat = calloc(n * nf + 1, sizeof(*lat));
	if (lat == NULL || (done = calloc(nf, 1)) == NULL) {
		fprintf(stderr, "bench_fleet: out of memory\n");
		return 1;
	}
	if ((pf = fopen(argv[3], "r")) == NULL ||
	    fgets(pw, sizeof(pw), pf) == NULL) {
		perror(argv[3]);
		return 1;
	}
	fclose(pf);
	pw[strcspn(pw, "\n")] = '\0';
	if (trace_path != NULL && (trace = fopen(trace_path, "a")) == NULL) {
		perror(trace_path);
		return 1;
	}
	cred.bv_val = pw;
	cred.bv_len = strlen(pw);
	if (ldap_initialize(&ld, argv[1]) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != 0 ||
	    (rc = ldap_sasl_bind_s(ld, argv[2], LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL)) != LDAP_SUCCESS) {
		fprintf(stderr, "bench_fleet: cannot bind as %s\n", argv[2]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < nf; k++)
			if (!accepted(&cfgs[k], toks[i]))
				break;
		if (k < nf) {
			skipped++;
			continue;
		}
		snprintf(dn, sizeof(dn), "satokenTokenId=%s,ou=tokens,%s", ids[i],
		    argv[4]);
		snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
		memset(&mod, 0, sizeof(mod));
		mod.mod_op = LDAP_MOD_REPLACE;
		mod.mod_type = "satokenRevokedAt";
		mod.mod_values = vals;
		if ((rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL)) !=
		    LDAP_SUCCESS) {
			fprintf(stderr, "bench_fleet: revoke %s: %s\n", ids[i],
			    ldap_err2string(rc));
			return 1;
		}
		/* from the directory's acknowledgement on, every follower
		 * not yet refusing asked once a round, with a rest between
		 * rounds: on one machine a probe spinning on one follower
		 * would take the CPU the others need to apply the change */
		t0 = bench_now_ns();
		memset(done, 0, nf);
		for (left = nf, t = 0; left > 0 && t < MISS_NS;) {
			for (k = 0; k < nf; k++)
				if (!done[k] && !accepted(&cfgs[k], toks[i])) {
					done[k] = 1;
					left--;
				}
			t = bench_now_ns() - t0;
			if (left > 0)
				nanosleep(&(struct timespec){ 0, POLL_NS }, NULL);
		}
		misses += left;
		if (t > worst)
			worst = t;
		/* the revocation is refused everywhere once the last
		 * follower refuses it */
		lat[nl++] = t;
		if (first == 0)
			first = t0;
		if (trace != NULL)
			fprintf(trace, "%zu %.1f %.1f\n", nl, (t0 - first) / 1e6,
			    t / 1e6);
	}
	if (trace != NULL && fclose(trace) != 0) {
		perror(trace_path);
		return 1;
	}
	printf("%zu %zu %.1f %.1f %.1f %zu\n", nl, nf,
	    bench_pct(lat, nl, 50) / 1e6, bench_pct(lat, nl, 99) / 1e6,
	    worst / 1e6, misses);
	if (skipped > 0)
		fprintf(stderr, "bench_fleet: %zu tokens not live on every "
		    "follower at the start were skipped\n", skipped);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return 0;
}
