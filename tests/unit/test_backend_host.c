/*
 * test_backend_host.c - runner/backend_host.c: an iteration's time is its
 * wall time less the time the thread waited for a CPU. Here the test thread
 * and a spinning child share one CPU, and the timed region spins for 10 ms
 * of CPU time: wall time is about twice that, the host backend's time is
 * the thread's CPU time (the scheduler's own accounting: on the CPU or
 * waiting for it, nothing else). A sleep is still counted in full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

static double now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Time, with the host backend, a region that spins for cpu_ms of this
 * thread's CPU time; the backend's ms, the wall ms and the CPU ms. */
static void timed_spin(double cpu_ms, double *ms, double *wall, double *cpu)
{
	struct aisp_ctx ctx = {0};
	aisp_error e = {0};
	double w0, c0;

	assert_int_equal(backend_host.open(0, &ctx, &e), AISP_OK);
	w0 = now_ms(CLOCK_MONOTONIC);
	c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
	assert_int_equal(backend_host.time_begin(&ctx, &e), AISP_OK);
	while (now_ms(CLOCK_THREAD_CPUTIME_ID) - c0 < cpu_ms)
		;
	assert_int_equal(backend_host.time_end(&ctx, ms, &e), AISP_OK);
	*cpu = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
	*wall = now_ms(CLOCK_MONOTONIC) - w0;
	backend_host.close(&ctx);
}

static void test_cpu_wait_not_counted(void **st)
{
	cpu_set_t one;
	pid_t spinner;
	double ms, wall, cpu;
	int cpu_id = sched_getcpu();

	(void)st;
	CPU_ZERO(&one);
	CPU_SET(cpu_id < 0 ? 0 : cpu_id, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	spinner = fork(); /* shares the CPU (inherits the affinity) */
	assert_true(spinner >= 0);
	if (spinner == 0)
		for (;;)
			;
	timed_spin(10.0, &ms, &wall, &cpu);
	kill(spinner, SIGKILL);
	waitpid(spinner, NULL, 0);
	print_message("wall %.2f ms, cpu %.2f ms, host backend %.2f ms\n", wall, cpu, ms);
	assert_true(ms <= wall);
	if (ms > cpu + 0.5 + 0.05 * cpu)
		fail_msg("host backend %.2f ms for %.2f ms on the CPU (wall %.2f ms)", ms, cpu, wall);
}

static void test_sleep_counted(void **st)
{
	struct aisp_ctx ctx = {0};
	aisp_error e = {0};
	struct timespec ts = {0, 20000000};
	double ms, w0, wall;

	(void)st;
	assert_int_equal(backend_host.open(0, &ctx, &e), AISP_OK);
	w0 = now_ms(CLOCK_MONOTONIC);
	assert_int_equal(backend_host.time_begin(&ctx, &e), AISP_OK);
	nanosleep(&ts, NULL);
	assert_int_equal(backend_host.time_end(&ctx, &ms, &e), AISP_OK);
	wall = now_ms(CLOCK_MONOTONIC) - w0;
	backend_host.close(&ctx);
	assert_true(ms >= 20.0); /* a sleep lasts at least what it asked */
	assert_true(ms <= wall);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_wait_not_counted),
		cmocka_unit_test(test_sleep_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
