/* satokend: a token bucket per principal.
 *
 * rate requests per second, with a burst of one second's worth: a
 * principal that stays under the rate is never refused, one that
 * hammers gets THROTTLED with the wait until its next request fits.
 *
 * Refusals are counted, not logged one by one: a principal's count is
 * handed to the report function at most once per RATELIMIT_REPORT_MS
 * (the first refusal after a quiet second at once, the rest when the
 * second is up), so that a flood of refused requests costs the audit
 * one line a second, not one a request. */
#ifndef SATOKEND_RATELIMIT_H
#define SATOKEND_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_REPORT_MS	1000

struct ratelimit;

/* Called with who (the principal's display name, borrowed for the
 * call) and how many of its requests were refused since its last
 * report. */
typedef void ratelimit_report_fn(void *arg, const char *who, uint64_t count);

/* report may be NULL (nothing reported). */
int ratelimit_new(ratelimit_report_fn *report, void *arg,
    struct ratelimit **ret);
/* Reports what is still counted, then frees.  Accepts NULL. */
void ratelimit_free(struct ratelimit *rl);

/* Takes one request for key (a principal id; who: its display name) at
 * now_ms (monotonic).  0 if allowed (always when rate is 0: off), or
 * SAT_E_THROTTLED with *ret_retry_ms the milliseconds until one request
 * fits again.  O(1) in the number of requests refused. */
int ratelimit_take(struct ratelimit *rl, const char *key, const char *who,
    uint64_t rate, int64_t now_ms, uint64_t *ret_retry_ms);

/* Reports every count that is due at now_ms.  Returns when the next one
 * will be (INT64_MAX: none pending). */
int64_t ratelimit_flush(struct ratelimit *rl, int64_t now_ms);

#endif
