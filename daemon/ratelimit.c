#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ratelimit.h"
#include "valid.h"

/* Principals are local users and service accounts: few.  A full table
 * recycles the entry idle longest; a bucket refills completely within a
 * second, so forgetting one idle that long loses nothing. */
#define RL_SLOTS	1024
#define MILLI		1000	/* a bucket counts thousandths of a request */

struct bucket {
	char key[SAT_PRINCIPAL_MAX + 1];
	uint64_t level;		/* thousandths of a request available */
	int64_t last_ms;
	int used;
};

struct ratelimit {
	struct bucket b[RL_SLOTS];
};

int
ratelimit_new(struct ratelimit **ret)
{
	struct ratelimit *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return SAT_E_NOMEM;
	*ret = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

static struct bucket *
find(struct ratelimit *rl, const char *key, uint64_t cap, int64_t now_ms)
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
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	snprintf(victim->key, sizeof(victim->key), "%s", key);
	victim->level = cap;
	victim->last_ms = now_ms;
	return victim;
}

int
ratelimit_take(struct ratelimit *rl, const char *key, uint64_t rate,
    int64_t now_ms, uint64_t *ret_retry_ms)
{
	uint64_t cap = rate * MILLI, elapsed;
	struct bucket *b;

	if (rate == 0)
		return 0;
	b = find(rl, key, cap, now_ms);
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
	return SAT_E_THROTTLED;
}
