/*
 * test_harness.c - the harness around a variant (runner/measure.c,
 * runner/services.c), on the host backend:
 *  - the test knob lives in the harness: with slow_pct 50, every sample of
 *    test:fault (which sleeps `ms` per iteration) lasts at least 1.5 ms
 *    per ms slept, without the target knowing; with 0, at least the sleep;
 *    only lower bounds, which hold by construction on any machine;
 *  - the held load runs the variant it is given for its time (at least one
 *    batch, samples of the facts) and stops: the target reads no clock;
 *  - a variant that fails its check is recorded as verify_failed, not timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "measure.h"
#include "registry.h"
#include "test_ctx.h"

extern const struct aisp_target *const aisp_test_targets[];

/* Measure variant 0 of test:fault in mode with ms per iteration and the
 * knob at slow_pct; r must be freed by the caller. */
static void measure_fault(int mode, double ms, int slow_pct, struct variant_result *r)
{
	const struct aisp_target *t = registry_find("test:fault", AISP_BACKEND_HOST);
	struct measure_opts o = {.iterations = 3, .warmup = 0, .max_iterations = 3,
				  .time_budget_s = 10.0, .ci_target = 0.5, .slow_pct = slow_pct};
	struct aisp_params p = {2, {mode, ms}};
	struct aisp_ctx ctx;

	assert_non_null(t);
	memset(r, 0, sizeof(*r));
	test_ctx_open(&ctx, 5);
	measure_variant(&backend_host, &ctx, t, 0, &p, &o, NULL, r);
	test_ctx_close(&ctx);
}

static void test_knob_in_harness(void **st)
{
	struct variant_result r;

	(void)st;
	measure_fault(5, 10.0, 0, &r);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.n_samples, 3);
	for (size_t i = 0; i < r.n_samples; i++)
		assert_true(r.samples[i] >= 10.0);
	variant_result_free(&r);
	measure_fault(5, 10.0, 50, &r);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.n_samples, 3);
	for (size_t i = 0; i < r.n_samples; i++)
		if (!(r.samples[i] >= 15.0))
			fail_msg("slow_pct 50: sample %zu is %.3f ms, under 1.5 x 10 ms", i,
				 r.samples[i]);
	variant_result_free(&r);
}

static void test_verify_failed_not_timed(void **st)
{
	struct variant_result r;

	(void)st;
	measure_fault(6, 0.0, 0, &r);
	assert_string_equal(r.status, "verify_failed");
	assert_int_equal(r.n_samples, 0);
	variant_result_free(&r);
}

/* The held load of qual:health runs its GEMM for load_ms and samples facts. */
static void test_hold(void **st)
{
	const struct aisp_target *t = registry_find("qual:health", AISP_BACKEND_HOST);
	struct aisp_params p;
	struct aisp_held h;
	struct aisp_ctx ctx;
	void *state = NULL;

	(void)st;
	assert_non_null(t);
	aisp_params_defaults(t, &p);
	p.v[0] = 32;
	test_ctx_open(&ctx, 3);
	assert_int_equal(test_setup(&ctx, t, 0, &p, &state), AISP_OK);
	assert_int_equal(aisp_hold(&ctx, state, 30.0, &h), AISP_OK);
	assert_true(h.iterations >= 1);
	assert_true(h.samples >= 1);
	assert_true(h.ms >= 30.0);
	assert_true(h.last.mem_free_pct > 0.0 && h.last.mem_free_pct <= 100.0);
	assert_null(t->variants[0].ops->teardown); /* the harness frees its memory */
	test_ctx_close(&ctx);
	ctx.hold = NULL; /* no harness: the target is told, not left to crash */
	assert_int_equal(aisp_hold(&ctx, state, 1.0, &h), AISP_EDEVICE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knob_in_harness),
		cmocka_unit_test(test_verify_failed_not_timed),
		cmocka_unit_test(test_hold),
	};

	if (registry_extend(aisp_test_targets, NULL))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
