#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "err.h"
#include "satokend.h"

/* Expired and revoked tokens stay retain_days for the audit trail, then
 * go.  The sweep walks the accounts a few at a time between batches, so
 * a store of a million tokens never stalls the requests. */
#define PURGE_ACCOUNTS_PER_STEP	64
#define PURGE_STEP_MS		200
#define PURGE_SWEEP_MS		(3600 * 1000)

static int
purgeable(const struct sat_token *t, int64_t cutoff)
{
	return (t->revoked_at != 0 && t->revoked_at <= cutoff) ||
	    t->expires_at <= cutoff;
}

/* Stages the removal of one account's old tokens; *ret_n says how many. */
static int
purge_account(struct server *sv, const char *account, int64_t cutoff,
    size_t *ret_n)
{
	struct store *s = sv->st.store;
	struct sat_token_index x, keep;
	struct sat_token t;
	size_t i, n = 0;
	int r;

	*ret_n = 0;
	memset(&x, 0, sizeof(x));
	memset(&keep, 0, sizeof(keep));
	if ((r = store_get_token_index(s, account, &x)) != 0)
		return r;
	for (i = 0; i < x.ids.n && r == 0; i++) {
		memset(&t, 0, sizeof(t));
		r = store_get_token(s, x.ids.v[i], &t);
		if (r == 0 && purgeable(&t, cutoff)) {
			r = store_delete_token(s, t.id);
			n++;
		} else if (r == 0) {
			r = strlist_add(&keep.ids, x.ids.v[i]);
		} else if (r == SAT_E_NOTFOUND) {
			r = 0;	/* an index entry without its record: drop it */
			n++;
		}
		record_free_token(&t);
	}
	if (r == 0 && n > 0)
		r = store_put_token_index(s, account, &keep);
	record_free_token_index(&x);
	record_free_token_index(&keep);
	*ret_n = n;
	return r;
}

void
purge_step(struct server *sv)
{
	struct audit_event ev;
	struct names *l = &sv->st.accounts;
	char detail[64];
	int64_t now = (int64_t)time(NULL), cutoff, t = now_ms();
	size_t k, n, *counts;
	size_t first = sv->purge_pos;
	int r = 0;

	if (t < sv->purge_next_ms)
		return;
	cutoff = now - (int64_t)sv->cfg.retain_days * 86400;
	if (first >= l->n) {
		sv->purge_pos = 0;
		sv->purge_next_ms = t + PURGE_SWEEP_MS;
		return;
	}
	n = l->n - first < PURGE_ACCOUNTS_PER_STEP ? l->n - first :
	    PURGE_ACCOUNTS_PER_STEP;
	if ((counts = calloc(n, sizeof(*counts))) == NULL)
		return;
	for (k = 0; k < n && r == 0; k++)
		r = purge_account(sv, names_at(l, first + k), cutoff,
		    &counts[k]);
	/* no change without its line: the lines first, then the commit */
	for (k = 0; k < n && r == 0; k++) {
		if (counts[k] == 0)
			continue;
		memset(&ev, 0, sizeof(ev));
		snprintf(detail, sizeof(detail), "%zu tokens past retain_days",
		    counts[k]);
		ev.action = "token.purge";
		ev.outcome = "ok";
		ev.principal = "satokend";
		ev.account = names_at(l, first + k);
		ev.detail = detail;
		r = audit_emit(sv->audit, &ev);
	}
	if (r != 0 || store_commit(sv->st.store) != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "retention: purge failed; retrying later");
		sv->purge_next_ms = t + PURGE_SWEEP_MS / 60;
		free(counts);
		return;
	}
	free(counts);
	sv->purge_pos = first + n;
	sv->purge_next_ms = sv->purge_pos >= l->n ? t + PURGE_SWEEP_MS :
	    t + PURGE_STEP_MS;
	if (sv->purge_pos >= l->n)
		sv->purge_pos = 0;
}
