#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "control.h"
#include "err.h"
#include "satokend.h"
#include "tindex.h"

/* Expired and revoked tokens stay retain_days for the audit trail, then
 * go.  The sweep walks the accounts' index pages a bounded number at a
 * time between batches (tindex_purge), so an account of a million
 * tokens never stalls the requests, nor does a store of a million. */
#define PURGE_PAGES_PER_STEP	16	/* TINDEX_PAGE_SLOTS ids each */
#define PURGE_STEP_MS		200
#define PURGE_SWEEP_MS		(3600 * 1000)
/* The tokens of a large deleted account: 512 a step, ~10 steps a
 * second while any remain, a look at the list each second otherwise. */
#define RECLAIM_PAGES_PER_STEP	8
#define RECLAIM_STEP_MS		100
#define RECLAIM_IDLE_MS		1000

static void
reclaim_step(struct server *sv, int64_t t)
{
	size_t n = 0;
	int more = 0;

	if (tindex_reclaim_step(sv->st.store, RECLAIM_PAGES_PER_STEP, &n,
	    &more) != 0 || store_commit(sv->st.store) != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "account delete: reclaiming tokens failed; "
		    "retrying later");
		sv->reclaim_next_ms = t + PURGE_SWEEP_MS / 60;
		return;
	}
	sv->reclaim_next_ms = t + (more ? RECLAIM_STEP_MS : RECLAIM_IDLE_MS);
}

static void
sweep_step(struct server *sv, int64_t t);

/* Both background jobs, each when due; purge_next_ms (the loop's
 * deadline) is the sooner of the two. */
void
purge_step(struct server *sv)
{
	int64_t t = now_ms();

	/* each job commits what it staged: never over a request's batch */
	if (t < sv->purge_next_ms || store_in_flight(sv->st.store) ||
	    store_staged(sv->st.store) > 0)
		return;
	if (t >= sv->reclaim_next_ms)
		reclaim_step(sv, t);
	if (t >= sv->sweep_next_ms)
		sweep_step(sv, t);
	sv->purge_next_ms = sv->reclaim_next_ms < sv->sweep_next_ms ?
	    sv->reclaim_next_ms : sv->sweep_next_ms;
}

static void
sweep_step(struct server *sv, int64_t t)
{
	struct audit_event ev;
	struct names *l = &sv->st.accounts;
	char detail[64];
	int64_t now = (int64_t)time(NULL), cutoff;
	size_t budget = PURGE_PAGES_PER_STEP, n, *counts;
	size_t first = sv->purge_pos, k = 0, used, i;
	uint32_t page = sv->purge_page, before;
	int r = 0, done = 0, partial = 0;

	cutoff = now - (int64_t)sv->cfg.retain_days * 86400;
	if (first >= l->n) {
		sv->purge_pos = 0;
		sv->purge_page = 0;
		sv->sweep_next_ms = t + PURGE_SWEEP_MS;
		return;
	}
	/* a count per account this step can reach: each costs a page of
	 * the budget at least */
	if ((counts = calloc(budget + 1, sizeof(*counts))) == NULL)
		return;
	/* on a control host what it reclaims is marked for the directory
	 * in the same commit (control.h) */
	if ((r = control_bg_begin(sv)) != 0)
		budget = 0;
	while (budget > 0 && first + k < l->n) {
		before = page;
		if ((r = tindex_purge(sv->st.store, names_at(l, first + k),
		    cutoff, &page, budget, &counts[k], &done)) != 0)
			break;
		used = page > before ? page - before : 1;
		budget = used < budget ? budget - used : 0;
		if (!done) {
			partial = 1;	/* the budget ran out inside it */
			break;
		}
		k++;
		page = 0;
	}
	n = partial ? k + 1 : k;
	if (r == 0)
		r = control_bg_mark(sv);
	/* no change without its line: the lines first, then the commit */
	for (i = 0; i < n && r == 0; i++) {
		if (counts[i] == 0)
			continue;
		memset(&ev, 0, sizeof(ev));
		snprintf(detail, sizeof(detail), "%zu tokens past retain_days",
		    counts[i]);
		ev.action = "token.purge";
		ev.outcome = "ok";
		ev.principal = "satokend";
		ev.account = names_at(l, first + i);
		ev.detail = detail;
		r = audit_emit(sv->audit, &ev);
	}
	if (r != 0 || store_commit(sv->st.store) != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "retention: purge failed; retrying later");
		sv->sweep_next_ms = t + PURGE_SWEEP_MS / 60;
		free(counts);
		return;
	}
	free(counts);
	/* an account the budget ran out inside is resumed at its page */
	sv->purge_pos = first + k;
	sv->purge_page = page;
	sv->sweep_next_ms = sv->purge_pos >= l->n ? t + PURGE_SWEEP_MS :
	    t + PURGE_STEP_MS;
	if (sv->purge_pos >= l->n) {
		sv->purge_pos = 0;
		sv->purge_page = 0;
	}
}
