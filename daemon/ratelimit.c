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
	uint32_t hash;
	size_t next;		/* the chain of its hash: index + 1, 0 none */
	uint64_t level;		/* thousandths of a request available */
	int64_t last_ms;
	uint64_t refused;	/* since the last report */
	int64_t reported_ms;	/* when the last report was made */
	int reported;		/* reported_ms is set */
};

/* Every request looks its principal up, refused ones included: a hash,
 * not a scan of the table. */
struct ratelimit {
	ratelimit_report_fn *report;
	void *arg;
	size_t pending;		/* buckets with refused > 0 */
	int64_t next_due_ms;	/* no report is due before this */
	size_t used;		/* b[0..used) are in use */
	size_t head[RL_SLOTS];	/* by hash: index + 1, 0 none */
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

/* FNV-1a */
static uint32_t
key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	while (*key != '\0')
		h = (h ^ (uint8_t)*key++) * 16777619u;
	return h;
}

static void
unlink_bucket(struct ratelimit *rl, size_t i)
{
	size_t *p = &rl->head[rl->b[i].hash % RL_SLOTS];

	while (*p != 0 && *p != i + 1)
		p = &rl->b[*p - 1].next;
	if (*p != 0)
		*p = rl->b[i].next;
}

static struct bucket *
find(struct ratelimit *rl, const char *key, const char *who, uint64_t cap,
    int64_t now_ms)
{
	uint32_t h = key_hash(key);
	struct bucket *b;
	size_t i, victim;

	for (i = rl->head[h % RL_SLOTS]; i != 0; i = b->next) {
		b = &rl->b[i - 1];
		if (b->hash == h && strcmp(b->key, key) == 0)
			return b;
	}
	if (rl->used < RL_SLOTS) {
		victim = rl->used++;
	} else {
		/* a new principal and a full table: a scan, but rare */
		for (victim = 0, i = 1; i < RL_SLOTS; i++)
			if (rl->b[i].last_ms < rl->b[victim].last_ms)
				victim = i;
		/* its refusals are not lost with it */
		if (rl->b[victim].refused > 0)
			report(rl, &rl->b[victim], now_ms);
		unlink_bucket(rl, victim);
	}
	b = &rl->b[victim];
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	snprintf(b->who, sizeof(b->who), "%s", who);
	b->hash = h;
	b->level = cap;
	b->last_ms = now_ms;
	b->next = rl->head[h % RL_SLOTS];
	rl->head[h % RL_SLOTS] = victim + 1;
	return b;
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
	for (i = 0; i < rl->used && rl->pending > 0; i++) {
		struct bucket *b = &rl->b[i];

		if (b->refused == 0)
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
