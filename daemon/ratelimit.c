#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ratelimit.h"
#include "valid.h"

/* Principals are local users and service accounts: few.  A full table
 * recycles the entry idle longest; a bucket refills completely within a
 * second, so forgetting one idle that long loses nothing (its refusal
 * count is reported first). */
#define RL_SLOTS	1024
#define MILLI		1000	/* a bucket counts thousandths of a request */
#define WHO_MAX		(SAT_PRINCIPAL_MAX + 72)

struct bucket {
	char key[SAT_PRINCIPAL_MAX + 1];
	char who[WHO_MAX];
	uint64_t level;		/* thousandths of a request available */
	int64_t last_ms;
	uint64_t refused;	/* since the last report */
	int64_t reported_ms;	/* when the last report was made */
	int reported;		/* reported_ms is set */
	int used;
};

struct ratelimit {
	ratelimit_report_fn *report;
	void *arg;
	size_t pending;		/* buckets with refused > 0 */
	int64_t next_due_ms;	/* no report is due before this */
	struct bucket b[RL_SLOTS];
};

int
ratelimit_new(ratelimit_report_fn *report, void *arg, struct ratelimit **ret)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return SAT_E_NOMEM;
	rl->report = report;
	rl->arg = arg;
	rl->next_due_ms = INT64_MAX;
	*ret = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	(void)ratelimit_flush(rl, INT64_MAX);
	free(rl);
}

static void
report(struct ratelimit *rl, struct bucket *b, int64_t now_ms)
{
	if (b->refused > 0) {
		if (rl->report != NULL)
			rl->report(rl->arg, b->who, b->refused);
		b->refused = 0;
		rl->pending--;
	}
	b->reported_ms = now_ms;
	b->reported = 1;
}

static struct bucket *
find(struct ratelimit *rl, const char *key, const char *who, uint64_t cap,
    int64_t now_ms)
{
	struct bucket *victim = NULL;
	size_t i;

	for (i = 0; i < RL_SLOTS; i++) {
		struct bucket *b = &rl->b[i];

		if (b->used && strcmp(b->key, key) == 0)
			return b;
		if (victim == NULL || !b->used ||
		    (victim->used && b->last_ms < victim->last_ms))
			victim = b;
	}
	/* its refusals are not lost with it */
	if (victim->used && victim->refused > 0)
		report(rl, victim, now_ms);
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	snprintf(victim->who, sizeof(victim->who), "%s", who);
	victim->level = cap;
	victim->last_ms = now_ms;
	return victim;
}

/* Counts a refusal; reports it now if the principal's last report is a
 * second old, else leaves it for ratelimit_flush. */
static void
refused(struct ratelimit *rl, struct bucket *b, int64_t now_ms)
{
	int64_t due;

	if (b->refused++ == 0)
		rl->pending++;
	if (!b->reported || now_ms - b->reported_ms >= RATELIMIT_REPORT_MS) {
		report(rl, b, now_ms);
		return;
	}
	due = b->reported_ms + RATELIMIT_REPORT_MS;
	if (due < rl->next_due_ms)
		rl->next_due_ms = due;
}

int
ratelimit_take(struct ratelimit *rl, const char *key, const char *who,
    uint64_t rate, int64_t now_ms, uint64_t *ret_retry_ms)
{
	uint64_t cap = rate * MILLI, elapsed;
	struct bucket *b;

	if (rate == 0)
		return 0;
	b = find(rl, key, who, cap, now_ms);
	if (now_ms > b->last_ms) {
		elapsed = (uint64_t)(now_ms - b->last_ms);
		/* rate per second is rate thousandths per millisecond */
		b->level = elapsed >= MILLI ? cap : b->level + elapsed * rate;
		if (b->level > cap)
			b->level = cap;
		b->last_ms = now_ms;
	}
	if (b->level >= MILLI) {
		b->level -= MILLI;
		return 0;
	}
	*ret_retry_ms = (MILLI - b->level + rate - 1) / rate;
	refused(rl, b, now_ms);
	return SAT_E_THROTTLED;
}

int64_t
ratelimit_flush(struct ratelimit *rl, int64_t now_ms)
{
	int64_t next = INT64_MAX, due;
	size_t i;

	if (rl->pending == 0 || now_ms < rl->next_due_ms)
		return rl->pending == 0 ? INT64_MAX : rl->next_due_ms;
	for (i = 0; i < RL_SLOTS && rl->pending > 0; i++) {
		struct bucket *b = &rl->b[i];

		if (!b->used || b->refused == 0)
			continue;
		due = b->reported_ms + RATELIMIT_REPORT_MS;
		if (now_ms >= due)
			report(rl, b, now_ms);
		else if (due < next)
			next = due;
	}
	rl->next_due_ms = next;
	return next;
}
