/* satoken: the one monotonic clock (CLOCK_MONOTONIC), for deadlines,
 * timeouts and the decision's floor; never for timestamps that are
 * stored or shown, which are Unix seconds. */
#ifndef SATOKEN_CLOCK_H
#define SATOKEN_CLOCK_H

#include <stdint.h>

/* Nanoseconds, milliseconds since an arbitrary fixed point. */
int64_t clock_ns(void);
int64_t clock_ms(void);

#endif
