/* clock.h - the monotonic clock the runner measures its own time with. */
#ifndef AISP_CLOCK_H
#define AISP_CLOCK_H

#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary origin, never set back). */
static inline double clock_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Seconds on CLOCK_MONOTONIC. */
static inline double clock_now_s(void)
{
	return clock_now_ms() * 1e-3;
}

#endif /* AISP_CLOCK_H */
