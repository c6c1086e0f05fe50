/*
 * fault.c - test-only target test:fault (host), built into the test binary
 * only: misbehaves on purpose so that the harness's worker handling (crash,
 * hang, abort, allocation failure, slowness, failed check) can be tested.
 * Listed only with AISP_TEST_TARGETS set.
 *
 * Modes 0 (ok), 5 (slow) and 6 (verify failure) take `ms` milliseconds per
 * iteration (nanosleep, real time: a fixture, not a workload). Mode 6
 * computes a correct output but its check fails; modes 1-3 fault inside run
 * (so verify, which runs once, faults too); mode 4 fails in setup with
 * AISP_ENOMEM.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aisp.h"

#define FAULT_N 64 /* elements of the toy output */

enum fault_mode {
	FAULT_OK = 0,
	FAULT_CRASH = 1,
	FAULT_HANG = 2,
	FAULT_ABORT = 3,
	FAULT_NOMEM = 4,
	FAULT_SLOW = 5,
	FAULT_VERIFY = 6,
};

static const struct aisp_param fault_params[] = {
	{"mode", AISP_PARAM_INT, {0, 0}, 0, 6,
	 "0 ok, 1 crash, 2 hang, 3 abort, 4 alloc failure, 5 slow, 6 verify failure"},
	{"ms", AISP_PARAM_REAL, {1, 1}, 0, 60000, "time one iteration takes"},
};

struct fault {
	enum fault_mode mode;
	double ms;          /* sleep per iteration */
	float in[FAULT_N];  /* seeded input */
	float out[FAULT_N]; /* out = 2 * in */
};

/* Sleep ms milliseconds of real time, resuming after signals. */
static void fault_sleep(double ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000.0);
	ts.tv_nsec = (long)((ms - 1000.0 * (double)ts.tv_sec) * 1e6);
	if (ts.tv_nsec > 999999999L)
		ts.tv_nsec = 999999999L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Take the mode and time; mode 4 fails here as an allocation would. */
static aisp_err fault_setup(const struct aisp_ctx *ctx,
			    const struct aisp_params *p, void **state)
{
	struct fault *f;
	struct aisp_rng r;

	*state = NULL;
	if ((int)p->v[0] == FAULT_NOMEM)
		return aisp_fail(ctx->err, AISP_ENOMEM, "planted allocation failure (mode 4)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return AISP_ENOMEM;
	f->mode = (enum fault_mode)(int)p->v[0];
	f->ms = p->v[1];
	aisp_rng_init(&r, ctx->seed, 1);
	for (size_t i = 0; i < FAULT_N; i++)
		f->in[i] = (float)aisp_rng_uniform(&r, -1.0, 1.0);
	*state = f;
	return AISP_OK;
}

/* One iteration: fault as the mode says, else compute and sleep. */
static aisp_err fault_run(void *state)
{
	struct fault *f = state;

	switch (f->mode) {
	case FAULT_CRASH:
		raise(SIGSEGV);
		break;
	case FAULT_HANG:
		for (;;)
			fault_sleep(1000.0);
	case FAULT_ABORT:
		abort();
	default:
		break;
	}
	for (size_t i = 0; i < FAULT_N; i++)
		f->out[i] = 2.0f * f->in[i];
	if (f->ms > 0.0)
		fault_sleep(f->ms);
	return AISP_OK;
}

/* Poison, run once, check out = 2 in; mode 6 reports a failed check. */
static aisp_err fault_verify(void *state, struct aisp_check *out)
{
	struct fault *f = state;
	double num = 0.0, den = 0.0;
	aisp_err rc;

	for (size_t i = 0; i < FAULT_N; i++)
		f->out[i] = NAN;
	rc = fault_run(f);
	if (rc != AISP_OK)
		return rc;
	for (size_t i = 0; i < FAULT_N; i++) {
		double ref = 2.0 * (double)f->in[i];
		double d = (double)f->out[i] - ref;

		num += d * d;
		den += ref * ref;
	}
	out->rel_error = sqrt(num / den);
	out->tolerance = 1e-7;
	if (f->mode == FAULT_VERIFY)
		out->rel_error = 1.0; /* the deliberate failure */
	out->passed = out->rel_error <= out->tolerance;
	if (f->mode == FAULT_VERIFY)
		snprintf(out->message, sizeof(out->message),
			 "test:fault mode 6: deliberate check failure");
	else
		snprintf(out->message, sizeof(out->message),
			 "test:fault: out = 2 in, rel error %.3g", out->rel_error);
	return AISP_OK;
}

/* Free the state; NULL is fine. */
static void fault_teardown(void *state)
{
	free(state);
}

static const struct aisp_ops fault_ops = {fault_setup, fault_run, fault_verify, fault_teardown};

static const struct aisp_variant fault_variants[] = {
	{"baseline_fault", AISP_ROLE_BASELINE, "fault injection", &fault_ops},
	{"optimized_fault", AISP_ROLE_OPTIMIZED, "fault injection (same behaviour)", &fault_ops},
};

static const struct aisp_card fault_card = {
	.name = "test:fault",
	.description = "test-only fault target",
	.goal = "speed", .params = fault_params, .n_params = AISP_COUNT(fault_params),
	.test_only = 1,
};

const struct aisp_target test_fault_host = {AISP_ABI_VERSION, &fault_card, AISP_BACKEND_HOST,
					    AISP_LIST(fault_variants)};
