/*
 * test_measure.c - runner/measure.c against a fake backend and target (this
 * file only): the timer pass (device work traced, one sample's batch after
 * an untimed iteration whose records are dropped) and the counted pass come
 * after every timed sample and give values per iteration; the AISP_MEASURE
 * switches put the counted pass first or leave CUPTI out; the warm-up goes
 * on while the SM clock still moves, up or down, and stops once it holds;
 * a profile pass times nothing and runs inside its NVTX range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"

/* What the fake backend saw: calls in order ('t' time_begin, 'C' count
 * begin, 'T' trace begin, 'c' count end, '[' range push, ']' range pop)
 * and runs. counting: 1 counting, 2 tracing. */
static struct {
	char log[8192];
	size_t n;
	int counting, runs, runs_counted, runs_in_range, in_range;
	char range[64];
} fk;

static void fk_note(char c)
{
	if (fk.n + 1 < sizeof(fk.log))
		fk.log[fk.n++] = c;
	fk.log[fk.n] = '\0';
}

static aisp_err fk_open(int device, struct aisp_ctx *ctx, aisp_error *err)
{
	(void)err;
	ctx->device = device;
	return AISP_OK;
}

static void fk_close(struct aisp_ctx *ctx)
{
	(void)ctx;
}

static aisp_err fk_time_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	(void)ctx;
	(void)err;
	fk_note('t');
	return AISP_OK;
}

static aisp_err fk_time_end(struct aisp_ctx *ctx, double *ms, aisp_error *err)
{
	(void)ctx;
	(void)err;
	*ms = 0.01;
	return AISP_OK;
}

static aisp_err fk_sync(struct aisp_ctx *ctx, aisp_error *err)
{
	(void)ctx;
	(void)err;
	return AISP_OK;
}

static aisp_err fk_count_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	(void)ctx;
	(void)err;
	fk_note('C');
	fk.counting = 1;
	fk.runs_counted = 0;
	return AISP_OK;
}

/* Trace: start, or (tracing already) forget what ran so far. */
static aisp_err fk_trace_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	(void)ctx;
	(void)err;
	fk_note('T');
	fk.counting = 2;
	fk.runs_counted = 0;
	return AISP_OK;
}

/* Each counted iteration: 3 launch calls (not seen when only tracing), 2
 * kernels, 0.5 ms on the device, 0.6 ms of span. */
static aisp_err fk_count_end(struct aisp_ctx *ctx, struct backend_count *out, aisp_error *err)
{
	(void)ctx;
	(void)err;
	fk_note('c');
	memset(out, 0, sizeof(*out));
	out->api = fk.counting == 1 ? 3L * fk.runs_counted : -1;
	fk.counting = 0;
	out->kernels = 2L * fk.runs_counted;
	out->ops = 2L * fk.runs_counted;
	out->device_ms = 0.5 * fk.runs_counted;
	out->span_ms = 0.6 * fk.runs_counted;
	snprintf(out->names, sizeof(out->names), "fake_kernel x%d", 2 * fk.runs_counted);
	return AISP_OK;
}

static void fk_push(struct aisp_ctx *ctx, const char *label)
{
	(void)ctx;
	fk_note('[');
	fk.in_range++;
	snprintf(fk.range, sizeof(fk.range), "%s", label);
}

static void fk_pop(struct aisp_ctx *ctx)
{
	(void)ctx;
	fk_note(']');
	fk.in_range--;
}

static const struct aisp_backend_ops fake_backend = {
	.name = "fake", .kind = AISP_BACKEND_HOST, .open = fk_open, .close = fk_close,
	.time_begin = fk_time_begin, .time_end = fk_time_end, .sync = fk_sync,
	.count_begin = fk_count_begin, .trace_begin = fk_trace_begin, .count_end = fk_count_end,
	.range_push = fk_push, .range_pop = fk_pop,
};

static aisp_err tg_setup(const struct aisp_ctx *ctx, const struct aisp_params *p, void **state)
{
	(void)ctx;
	(void)p;
	*state = malloc(1);
	return *state ? AISP_OK : AISP_ENOMEM;
}

static aisp_err tg_run(void *state)
{
	(void)state;
	fk.runs++;
	fk.runs_counted += fk.counting > 0;
	fk.runs_in_range += fk.in_range > 0 && !strcmp(fk.range, MEASURE_PROFILE_RANGE);
	return AISP_OK;
}

static aisp_err tg_verify(void *state, struct aisp_check *out)
{
	(void)state;
	out->passed = 1;
	out->rel_error = 0;
	out->tolerance = 0;
	snprintf(out->message, sizeof(out->message), "fake check");
	return AISP_OK;
}

static void tg_teardown(void *state)
{
	free(state);
}

static const struct aisp_ops tg_ops = {tg_setup, tg_run, tg_verify, tg_teardown};

static const struct aisp_variant tg_variants[] = {
	{"baseline_fake", AISP_ROLE_BASELINE, "fake", &tg_ops, NULL},
};

static const struct aisp_card tg_card = {
	"test:measure", "fake", "speed", NULL, 0, NULL, "", NULL, NULL, 1,
};

static const struct aisp_target tg = {
	AISP_ABI_VERSION, &tg_card, AISP_BACKEND_HOST, AISP_LIST(tg_variants),
};

/* Clocks the fake probe reports, one per call, the last repeated. */
static struct {
	const unsigned *mhz;
	int n, calls;
} clk;

static unsigned fake_clock(void *arg)
{
	(void)arg;
	return clk.mhz[clk.calls < clk.n ? clk.calls++ : (clk.calls++, clk.n - 1)];
}

/* Measure the fake variant with opts o and probe into r (fresh fake state). */
static void run_fake(const struct measure_opts *o, const struct measure_probe *probe,
		     struct variant_result *r)
{
	struct aisp_ctx ctx = {0};
	struct aisp_params p = {0};

	memset(&fk, 0, sizeof(fk));
	memset(r, 0, sizeof(*r));
	snprintf(r->instance, sizeof(r->instance), "test:measure");
	measure_variant(&fake_backend, &ctx, &tg, 0, &p, o, probe, r);
}

/* Number of c in s up to (not including) the first stop, or all of s. */
static int count_before(const char *s, char c, char stop)
{
	int n = 0;

	for (; *s && *s != stop; s++)
		n += *s == c;
	return n;
}

static void test_count_after_samples(void **st)
{
	struct measure_opts o = {.iterations = 16, .warmup = 2, .max_iterations = 16,
				 .time_budget_s = 10, .ci_target = 0, .min_sample_ms = 0.04};
	struct variant_result r;

	(void)st;
	run_fake(&o, NULL, &r);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.n_samples, 16);
	assert_int_equal(r.per_sample, 4);          /* 0.04 ms / 0.01 ms */
	/* 3 calibration batches and 16 samples, then the timer pass (an
	 * untimed iteration, forgotten, then one timed batch), then the
	 * counted pass */
	assert_int_equal(count_before(fk.log, 't', 'T'), 3 + 16);
	assert_non_null(strstr(fk.log, "TTtcCtc"));
	/* the timer batch lasts >= 20 ms: 20 / 0.0025 ms, capped at 1000 */
	assert_int_equal(r.timer_iterations, MEASURE_COUNT_MAX_ITER);
	assert_true(fabs(r.timer_events_ms - 0.01 / MEASURE_COUNT_MAX_ITER) < 1e-12);
	assert_true(fabs(r.timer_span_ms - 0.6) < 1e-12);    /* the untimed one forgotten */
	assert_true(fabs(r.timer_kernels_ms - 0.5) < 1e-12);
	assert_int_equal(r.count_iterations, 4);    /* one sample's batch */
	assert_int_equal(r.launches_api, 3);        /* per iteration */
	assert_int_equal(r.launches_kernels, 2);
	assert_int_equal(r.device_ops, 2);
	assert_true(fabs(r.device_ms - 0.5) < 1e-12);
	assert_true(fabs(r.device_span_ms - 0.6) < 1e-12);
	assert_true(fabs(r.count_event_ms - 0.01 / 4) < 1e-12);
	assert_string_equal(r.kernel_names, "fake_kernel x8");
	assert_true(r.host_ms >= 0.0);
	assert_int_equal(r.warmup_clock_steady, -1); /* no probe */
	assert_string_equal(r.measure_switches, "");
	assert_string_equal(r.profile_status, "none");
	variant_result_free(&r);
}

static void test_switches(void **st)
{
	struct measure_opts o = {.iterations = 8, .warmup = 1, .max_iterations = 8,
				 .time_budget_s = 10, .ci_target = 0};
	struct measure_probe probe = {0};
	struct variant_result r;
	aisp_error e = {0};
	char text[64];

	(void)st;
	assert_int_equal(measure_switches_parse("count-first,nopin", &probe.switches, &e), AISP_OK);
	assert_int_equal(probe.switches, MEASURE_COUNT_FIRST | MEASURE_NO_PIN);
	measure_switches_text(probe.switches, text, sizeof(text));
	assert_string_equal(text, "count-first,nopin");
	run_fake(&o, &probe, &r);
	assert_string_equal(r.measure_switches, "count-first,nopin");
	assert_int_equal(strncmp(fk.log, "[Ctc", 4), 0); /* counted first, one iteration */
	assert_int_equal(r.count_iterations, 1);
	assert_int_equal(count_before(fk.log, 't', '\0'), 1 + 8 + 1);
	assert_non_null(strstr(fk.log, "TTtc]"));        /* the timer pass still last */
	assert_true(isfinite(r.timer_span_ms));
	variant_result_free(&r);
	assert_int_equal(measure_switches_parse("nocount", &probe.switches, &e), AISP_OK);
	run_fake(&o, &probe, &r);
	assert_null(strchr(fk.log, 'C'));
	assert_null(strchr(fk.log, 'T'));
	assert_int_equal(r.count_iterations, 0);
	assert_int_equal(r.launches_api, -1);
	assert_true(isnan(r.device_ms));
	assert_true(isnan(r.timer_events_ms) && isnan(r.timer_span_ms));
	variant_result_free(&r);
	assert_int_equal(measure_switches_parse("", &probe.switches, &e), AISP_OK);
	assert_int_equal(probe.switches, 0);
	assert_int_equal(measure_switches_parse("keepworker", &probe.switches, &e), AISP_OK);
	assert_int_equal(probe.switches, MEASURE_KEEP_WORKER);
	assert_int_equal(measure_switches_parse("nopin,bogus", &probe.switches, &e), AISP_EINPUT);
	assert_non_null(strstr(e.msg, "'bogus'"));
}

static void test_clock_checked_warmup(void **st)
{
	static const unsigned ramp[] = {345, 900, 1500, 1980, 1975};
	static const unsigned falling[] = {1980, 1980, 1800, 1650, 1500, 1490};
	static const unsigned rising[] = {300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200,
					  1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100,
					  2200, 2300, 2400, 2500, 2600, 2700, 2800, 2900, 3000,
					  3100, 3200, 3300, 3400, 3500, 3600, 3700, 3800};
	struct measure_opts o = {.iterations = 8, .warmup = 1, .max_iterations = 8,
				 .time_budget_s = 10, .ci_target = 0, .warmup_ms = 0};
	struct measure_probe probe = {.sm_clock_mhz = fake_clock};
	struct variant_result r;

	(void)st;
	/* idle, ramping up, then within one 15 MHz step: steady */
	clk.mhz = ramp;
	clk.n = 5;
	clk.calls = 0;
	run_fake(&o, &probe, &r);
	assert_int_equal(r.warmup_clock_steady, 1);
	assert_int_equal(clk.calls, 1 + 4 + 2);      /* start, 4 reads, start and end of samples */
	assert_true(r.warmup_spent_ms >= 3 * MEASURE_CLOCK_READ_MS);
	assert_int_equal(r.warmup_clock_start_mhz, 345);
	assert_int_equal(r.warmup_clock_end_mhz, 1975);
	assert_int_equal(r.sm_clock_start_mhz, 1975);
	variant_result_free(&r);
	/* coming down (a power cap): not steady until it stops falling */
	clk.mhz = falling;
	clk.n = 6;
	clk.calls = 0;
	run_fake(&o, &probe, &r);
	assert_int_equal(r.warmup_clock_steady, 1);
	assert_int_equal(r.warmup_clock_start_mhz, 1980);
	assert_int_equal(r.warmup_clock_end_mhz, 1490);
	assert_true(r.warmup_spent_ms >= 4 * MEASURE_CLOCK_READ_MS);
	variant_result_free(&r);
	clk.mhz = rising; /* never holds: the warm-up ends at its cap, flagged */
	clk.n = (int)(sizeof(rising) / sizeof(rising[0]));
	clk.calls = 0;
	run_fake(&o, &probe, &r);
	assert_int_equal(r.warmup_clock_steady, 0);
	assert_true(r.warmup_spent_ms >= MEASURE_CLOCK_MAX_MS);
	assert_true(r.warmup_clock_end_mhz > r.warmup_clock_start_mhz);
	variant_result_free(&r);
	probe.switches = MEASURE_NO_CLOCK_WARMUP;
	clk.mhz = ramp;
	clk.n = 5;
	clk.calls = 0;
	run_fake(&o, &probe, &r);
	assert_int_equal(r.warmup_clock_steady, -1);
	assert_int_equal(clk.calls, 2);              /* start and end of samples only */
	assert_int_equal(r.warmup_clock_start_mhz, 0);
	variant_result_free(&r);
}

static void test_profile_pass_times_nothing(void **st)
{
	struct measure_opts o = {.iterations = 8, .warmup = 1, .max_iterations = 8,
				 .time_budget_s = 10, .ci_target = 0, .profile = 2};
	struct variant_result r;

	(void)st;
	run_fake(&o, NULL, &r);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.n_samples, 0);
	assert_null(strchr(fk.log, 't'));            /* no timer */
	assert_null(strchr(fk.log, 'C'));            /* no counting */
	assert_string_equal(fk.log, "[]");           /* one range, the profiler's */
	assert_int_equal(fk.runs_in_range, 2);
	assert_int_equal(fk.runs, 1 + 2);            /* one untimed, two profiled */
	assert_non_null(strstr(r.message, "not timed"));
	variant_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_after_samples),
		cmocka_unit_test(test_switches),
		cmocka_unit_test(test_clock_checked_warmup),
		cmocka_unit_test(test_profile_pass_times_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
