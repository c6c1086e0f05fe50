/* clock.h - the monotonic clock the runner measures its own time with. */
#ifndef AISP_CLOCK_H
#define AISP_CLOCK_H

#include <errno.h>
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

/* Sleep until CLOCK_MONOTONIC reads t (s), through signals; at once if past. */
static inline void clock_sleep_until_s(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec > 999999999L)
		ts.tv_nsec = 999999999L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

#endif /* AISP_CLOCK_H */
