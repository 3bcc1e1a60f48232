#include <time.h>

#include "clock.h"

int64_t
clock_ns(void)
{
	struct timespec ts;

	/* cannot fail with this clock on Linux */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
clock_ms(void)
{
	return clock_ns() / 1000000;
}
