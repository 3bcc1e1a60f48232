/* satokend: expiry warnings.  Once per token, when a live token comes
 * within warn_before of its end, one audit line:
 *   action=token.expiring account=... token=... expires_at=...
 * A token minted or rotated already that close is warned right after
 * its batch commits; the others are found by a pass over the accounts
 * every minute, a few accounts per step between batches, as the
 * retention sweep goes.  The token keeps warned_at, so a restart or the
 * next pass does not warn again.  In a fleet the hosts that write to the
 * directory warn (the control hosts), not every follower: a fleet of a
 * hundred would otherwise send the central log a hundred lines a token.
 * The pass still counts every host's tokens for status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "err.h"
#include "num.h"
#include "satokend.h"
#include "tindex.h"

#define EXPIRY_PASS_MS		(60 * 1000)
#define EXPIRY_STEP_MS		50
#define EXPIRY_ACCOUNTS_PER_STEP	32

static int64_t
pass_ms(void)
{
	static int64_t ms;
	const char *knob;
	uint64_t v;

	/* tests make the pass frequent rather than wait a minute */
	if (ms == 0)
		ms = (knob = getenv("SATOKEND_EXPIRY_PASS_MS")) != NULL &&
		    parse_u64(knob, 1, 3600000, &v) == 0 ? (int64_t)v :
		    EXPIRY_PASS_MS;
	return ms;
}

/* Warns about t if it is due: its line first, then the flag staged.
 * 1 when it staged something, 0 when not due, or an error. */
static int
warn_one(struct server *sv, struct sat_token *t, int64_t now)
{
	struct audit_event ev;
	struct audit_kv kv;
	char exp[24];
	int r;

	/* a rotation's outgoing token ends as planned: no warning */
	if (sv->cfg.warn_before == 0 || t->warned_at != 0 ||
	    dstate_follower(&sv->st) ||
	    t->revoked_at != 0 || t->replaced_by[0] != '\0' ||
	    t->expires_at <= now ||
	    t->expires_at - now > (int64_t)sv->cfg.warn_before)
		return 0;
	snprintf(exp, sizeof(exp), "%lld", (long long)t->expires_at);
	kv.key = "expires_at";
	kv.value = exp;
	memset(&ev, 0, sizeof(ev));
	ev.action = "token.expiring";
	ev.outcome = "ok";
	ev.principal = "satokend";
	ev.account = t->account;
	ev.token = t->id;
	ev.name = t->name;
	ev.changes = &kv;
	ev.nchanges = 1;
	if ((r = audit_emit(sv->audit, &ev)) != 0)
		return r;
	t->warned_at = now;
	if ((r = store_put_token(sv->st.store, t)) != 0)
		return r;
	return 1;
}

static int
check_id(struct server *sv, const char *id, int64_t now, int tally)
{
	struct sat_token t;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = store_get_token(sv->st.store, id, &t)) == SAT_E_NOTFOUND)
		return 0;
	/* the pass sees every token: it counts them by state for status */
	if (r == 0 && tally)
		metrics_tally(&sv->metrics, op_token_status(&t, now));
	if (r == 0)
		r = warn_one(sv, &t, now);
	record_free_token(&t);
	return r < 0 ? r : 0;
}

static int
check_account(struct server *sv, const char *account, int64_t now)
{
	struct store *s = sv->st.store;
	struct tindex_pos from = { 0, 0 }, at;
	struct tindex_iter it;
	char id[TOKEN_ID_LEN + 1];
	int r;

	if ((r = tindex_iter_init(s, account, from, &it)) != 0)
		return r == SAT_E_NOTFOUND ? 0 : r;
	while ((r = tindex_iter_next(s, account, &it, id, &at)) == 0)
		if ((r = check_id(sv, id, now, 1)) != 0)
			return r;
	return r == SAT_E_NOTFOUND ? 0 : r;
}

void
expiry_step(struct server *sv)
{
	struct names *l = &sv->st.accounts;
	int64_t t = now_ms(), now = (int64_t)time(NULL);
	size_t i, end;
	int r = 0;

	if (store_in_flight(sv->st.store) || store_staged(sv->st.store) > 0)
		return;
	/* the tokens a batch just minted that close: at once */
	for (i = 0; i < sv->st.nwarn && r == 0; i++)
		r = check_id(sv, sv->st.warn_ids[i], now, 0);
	sv->st.nwarn = 0;
	if (r == 0 && t >= sv->expiry_next_ms) {
		if (sv->expiry_pos >= l->n) {
			sv->expiry_pos = 0;
			memset(sv->metrics.tally, 0, sizeof(sv->metrics.tally));
		}
		end = sv->expiry_pos + EXPIRY_ACCOUNTS_PER_STEP;
		for (i = sv->expiry_pos; i < l->n && i < end && r == 0; i++)
			r = check_account(sv, names_at(l, i), now);
		sv->expiry_pos = i;
		if (r == 0 && i >= l->n)
			metrics_pass_done(&sv->metrics, now);
		sv->expiry_next_ms = t + (i >= l->n ? pass_ms() :
		    EXPIRY_STEP_MS);
	}
	if (r == 0 && store_staged(sv->st.store) > 0)
		r = store_commit(sv->st.store);
	if (r != 0) {
		store_rollback(sv->st.store);
		dlog(LOG_ERR, "expiry warnings: %s; retrying later",
		    sat_strerror(r));
		sv->expiry_next_ms = t + pass_ms();
	}
}

/* metrics.c's file, written from here with the other periodic jobs so
 * that metrics.c itself stays free of the server (the fuzzer links it). */
void
metrics_step(struct server *sv)
{
	int64_t t = now_ms();
	static int warned;

	if (sv->cfg.metrics_file == NULL || t < sv->metrics_next_ms)
		return;
	sv->metrics_next_ms = t + (int64_t)sv->cfg.metrics_interval * 1000;
	if (metrics_write(&sv->metrics, &sv->cfg, sv->st.accounts.n,
	    sv->st.groups.n, (int64_t)time(NULL)) != 0) {
		if (!warned)
			dlog(LOG_ERR, "metrics_file %s: cannot write it",
			    sv->cfg.metrics_file);
		warned = 1;
	} else {
		warned = 0;
	}
}
