/* satokend: what satokenctl status and the Prometheus textfile show.
 * Logins by outcome and reason come from the modules' datagrams
 * (common/usage.h), tokens by state from the expiry pass (expiry.c),
 * commit latency from the batches (request.c). */
#ifndef SATOKEND_METRICS_H
#define SATOKEND_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "names.h"

#define METRICS_NSTATES	4	/* active, revoked, expired, disabled */
#define METRICS_NREASONS	18

struct metrics {
	uint64_t logins[METRICS_NREASONS];	/* since start */
	uint64_t minute[60][METRICS_NREASONS];	/* the last hour, by minute */
	int64_t minute_of[60];			/* which minute each holds */
	uint64_t tokens[METRICS_NSTATES];	/* as of the last whole pass */
	int64_t tokens_at;			/* 0: no pass finished yet */
	uint64_t tally[METRICS_NSTATES];	/* the pass under way */
	int64_t last_commit_ns;			/* 0: none yet */
	uint64_t usage_dropped, usage_malformed;
};

/* Counts one login of that reason at Unix time now; an unknown reason
 * is ignored (the datagrams are any local sender's). */
void metrics_login(struct metrics *m, const char *reason, int64_t now);
/* The expiry pass: each token's state, then the pass's end. */
void metrics_tally(struct metrics *m, const char *state);
void metrics_pass_done(struct metrics *m, int64_t now);

/* token status's reply fields, into o.  0 or SAT_E_NOMEM. */
int metrics_status_json(const struct metrics *m, const struct sat_config *cfg,
    size_t accounts, size_t groups, int64_t now, json_t *o);

/* Writes the Prometheus text exposition to cfg->metrics_file,
 * atomically (a temporary file beside it, then rename).  0 or SAT_E_IO. */
int metrics_write(const struct metrics *m, const struct sat_config *cfg,
    size_t accounts, size_t groups, int64_t now);

#endif
