/* satokend: a token bucket per principal.
 *
 * rate requests per second, with a burst of one second's worth: a
 * principal that stays under the rate is never refused, one that
 * hammers gets THROTTLED with the wait until its next request fits. */
#ifndef SATOKEND_RATELIMIT_H
#define SATOKEND_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

int ratelimit_new(struct ratelimit **ret);
void ratelimit_free(struct ratelimit *rl);

/* Takes one request for key (a principal id) at now_ms (monotonic).
 * 0 if allowed (always when rate is 0: off), or SAT_E_THROTTLED with
 * *ret_retry_ms the milliseconds until one request fits again. */
int ratelimit_take(struct ratelimit *rl, const char *key, uint64_t rate,
    int64_t now_ms, uint64_t *ret_retry_ms);

#endif
