/* satokend: counters for satokenctl status and the Prometheus textfile
 * (node_exporter's textfile collector reads *.prom files it finds). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "metrics.h"
#include "version.h"

static const char *const reasons[METRICS_NREASONS] = {
	"ok", "malformed", "unknown_token", "bad_secret", "wrong_account",
	"canary", "revoked", "token_disabled", "expired", "unknown_account",
	"account_disabled", "account_expired", "policy_denied",
	"service_denied", "source_denied", "store_stale",
	"store_unavailable", "internal_error",
};
static const char *const states[METRICS_NSTATES] = {
	"active", "revoked", "expired", "disabled",
};

static const char *
outcome_of(size_t i)
{
	return i == 0 ? "ok" : i >= METRICS_NREASONS - 2 ? "error" : "denied";
}

void
metrics_login(struct metrics *m, const char *reason, int64_t now)
{
	int64_t min = now / 60;
	size_t i, slot = (size_t)(min % 60);

	for (i = 0; i < METRICS_NREASONS; i++)
		if (strcmp(reasons[i], reason) == 0)
			break;
	if (i == METRICS_NREASONS)
		return;
	if (m->minute_of[slot] != min) {
		memset(m->minute[slot], 0, sizeof(m->minute[slot]));
		m->minute_of[slot] = min;
	}
	m->minute[slot][i]++;
	m->logins[i]++;
}

void
metrics_tally(struct metrics *m, const char *state)
{
	size_t i;

	for (i = 0; i < METRICS_NSTATES; i++)
		if (strcmp(states[i], state) == 0)
			m->tally[i]++;
}

void
metrics_pass_done(struct metrics *m, int64_t now)
{
	memcpy(m->tokens, m->tally, sizeof(m->tokens));
	memset(m->tally, 0, sizeof(m->tally));
	m->tokens_at = now;
}

static int64_t
store_bytes(const struct sat_config *cfg)
{
	struct stat st;

	return stat(cfg->database, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The last hour's count of reason i: the minutes not older than 59. */
static uint64_t
last_hour(const struct metrics *m, size_t i, int64_t now)
{
	uint64_t n = 0;
	size_t k;

	for (k = 0; k < 60; k++)
		if (m->minute_of[k] > now / 60 - 60)
			n += m->minute[k][i];
	return n;
}

int
metrics_status_json(const struct metrics *m, const struct sat_config *cfg,
    size_t accounts, size_t groups, int64_t now, json_t *o)
{
	json_t *tok = NULL, *logins = NULL, *e;
	size_t i;
	uint64_t n;

	if (json_object_set_new(o, "version", json_string(SAT_VERSION)) != 0 ||
	    json_object_set_new(o, "store_bytes",
	    json_integer(store_bytes(cfg))) != 0 ||
	    json_object_set_new(o, "accounts", json_integer((json_int_t)
	    accounts)) != 0 ||
	    json_object_set_new(o, "groups", json_integer((json_int_t)
	    groups)) != 0 ||
	    json_object_set_new(o, "last_commit_ms", m->last_commit_ns > 0 ?
	    json_real((double)m->last_commit_ns / 1e6) : json_null()) != 0)
		return SAT_E_NOMEM;
	if (m->tokens_at != 0) {
		if ((tok = json_object()) == NULL ||
		    json_object_set_new(o, "tokens", tok) != 0)
			return SAT_E_NOMEM;
		for (i = 0; i < METRICS_NSTATES; i++)
			if (json_object_set_new(tok, states[i], json_integer(
			    (json_int_t)m->tokens[i])) != 0)
				return SAT_E_NOMEM;
		if (json_object_set_new(o, "tokens_counted_at",
		    json_integer(m->tokens_at)) != 0)
			return SAT_E_NOMEM;
	} else if (json_object_set_new(o, "tokens", json_null()) != 0) {
		return SAT_E_NOMEM;
	}
	if ((logins = json_array()) == NULL ||
	    json_object_set_new(o, "logins_last_hour", logins) != 0)
		return SAT_E_NOMEM;
	for (i = 0; i < METRICS_NREASONS; i++) {
		if ((n = last_hour(m, i, now)) == 0)
			continue;
		if ((e = json_pack("{s:s, s:s, s:I}", "outcome", outcome_of(i),
		    "reason", reasons[i], "count", (json_int_t)n)) == NULL ||
		    json_array_append_new(logins, e) != 0)
			return SAT_E_NOMEM;
	}
	return 0;
}

static void
prom(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP satoken_%s %s\n# TYPE satoken_%s %s\n", name, help,
	    name, type);
}

int
metrics_write(const struct metrics *m, const struct sat_config *cfg,
    size_t accounts, size_t groups, int64_t now)
{
	char tmp[4200];
	FILE *f;
	size_t i;
	int fd, r;

	if (cfg->metrics_file == NULL)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", cfg->metrics_file) >=
	    (int)sizeof(tmp))
		return SAT_E_IO;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0)
		return SAT_E_IO;
	/* node_exporter reads it as its own user; the daemon's umask is
	 * for the store, not for this */
	if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		return SAT_E_IO;
	}
	prom(f, "build_info", "gauge", "The satoken version satokend runs.");
	fprintf(f, "satoken_build_info{version=\"%s\"} 1\n", SAT_VERSION);
	prom(f, "store_size_bytes", "gauge", "Size of the GDBM store file.");
	fprintf(f, "satoken_store_size_bytes %lld\n",
	    (long long)store_bytes(cfg));
	prom(f, "accounts", "gauge", "Service accounts.");
	fprintf(f, "satoken_accounts %zu\n", accounts);
	prom(f, "groups", "gauge", "Groups.");
	fprintf(f, "satoken_groups %zu\n", groups);
	if (m->tokens_at != 0) {
		prom(f, "tokens", "gauge", "Tokens by state, as of the last "
		    "pass over the store (at most a minute old).");
		for (i = 0; i < METRICS_NSTATES; i++)
			fprintf(f, "satoken_tokens{state=\"%s\"} %llu\n",
			    states[i], (unsigned long long)m->tokens[i]);
	}
	prom(f, "logins_total", "counter", "Token logins the modules "
	    "reported, by outcome and reason, since satokend started.");
	for (i = 0; i < METRICS_NREASONS; i++)
		fprintf(f, "satoken_logins_total{outcome=\"%s\",reason=\"%s\"} "
		    "%llu\n", outcome_of(i), reasons[i],
		    (unsigned long long)m->logins[i]);
	prom(f, "last_commit_seconds", "gauge", "How long the last commit "
	    "of a batch took, until durable.");
	fprintf(f, "satoken_last_commit_seconds %.6f\n",
	    (double)m->last_commit_ns / 1e9);
	prom(f, "usage_reports_dropped_total", "counter", "Last-use reports "
	    "dropped (too many distinct tokens between two flushes) or "
	    "malformed.");
	fprintf(f, "satoken_usage_reports_dropped_total{why=\"full\"} %llu\n",
	    (unsigned long long)m->usage_dropped);
	fprintf(f, "satoken_usage_reports_dropped_total{why=\"malformed\"} "
	    "%llu\n", (unsigned long long)m->usage_malformed);
	prom(f, "metrics_written_timestamp_seconds", "gauge", "When this "
	    "file was written.");
	fprintf(f, "satoken_metrics_written_timestamp_seconds %lld\n",
	    (long long)now);
	r = fflush(f) != 0 || ferror(f) ? SAT_E_IO : 0;
	if (fclose(f) != 0)
		r = SAT_E_IO;
	if (r == 0 && rename(tmp, cfg->metrics_file) != 0)
		r = SAT_E_IO;
	if (r != 0)
		(void)unlink(tmp);
	return r;
}
