/*
 * axpy.c - test target test:axpy (host), built into the test binary only:
 * the smallest whole target, written the way README's "Adding a target"
 * says (one file here, one line in tests/targets/targets.def), and run
 * through run, gather and compare by tests/e2e/test_target.sh.
 *
 * y = a x + y over n floats, a = 2, x and y uniform(-1, 1) from streams
 * (seed, 1) and (seed, 2):
 *   baseline_axpy          one element at a time
 *   optimized_axpy         four at a time (same sums, so the same result)
 *   optimized_axpy_launch  four at a time, flagged AISP_VARIANT_HOST_LAUNCH
 *                          as a launch-bound CUDA variant is: the flag's way
 *                          from worker to rank file to verdicts (on the host
 *                          there is no device time: not judged)
 * verify resets y, runs once and compares every element with a float64
 * reference (tolerance 1e-6, float32 rounding of one multiply-add).
 */
#include <math.h>
#include <stdio.h>

#include "aisp.h"

/* Everything one variant owns. */
struct axpy {
	size_t n;
	int unroll;            /* the variant's argument: 1 or 4 */
	float *x, *y, *y0;     /* y0: y before any run */
};

static const int axpy_one = 1, axpy_four = 4;

/* One iteration: y = 2 x + y. */
static aisp_err axpy_run(void *state)
{
	struct axpy *s = state;
	size_t i = 0;

	if (s->unroll == 4)
		for (; i + 4 <= s->n; i += 4) {
			s->y[i] += 2.0f * s->x[i];
			s->y[i + 1] += 2.0f * s->x[i + 1];
			s->y[i + 2] += 2.0f * s->x[i + 2];
			s->y[i + 3] += 2.0f * s->x[i + 3];
		}
	for (; i < s->n; i++)
		s->y[i] += 2.0f * s->x[i];
	return AISP_OK;
}

/* x and y from the harness (it frees them: no teardown), drawn from the seed. */
static aisp_err axpy_setup(const struct aisp_ctx *ctx, const struct aisp_params *p, void **state)
{
	struct axpy *s = aisp_alloc(ctx, sizeof(*s));

	if (!s)
		return AISP_ENOMEM;
	s->n = (size_t)p->v[0];
	s->unroll = *(const int *)ctx->variant->arg;
	s->x = aisp_alloc(ctx, s->n * sizeof(float));
	s->y = aisp_alloc(ctx, s->n * sizeof(float));
	s->y0 = aisp_alloc(ctx, s->n * sizeof(float));
	if (!s->x || !s->y || !s->y0)
		return AISP_ENOMEM;
	aisp_rng_fill_unit(s->x, s->n, ctx->seed, 1);
	aisp_rng_fill_unit(s->y0, s->n, ctx->seed, 2);
	*state = s;
	return AISP_OK;
}

/* Reset y, run once, compare every element with 2 x + y0 in float64. */
static aisp_err axpy_verify(void *state, struct aisp_check *out)
{
	struct axpy *s = state;
	double num = 0.0, den = 0.0;

	for (size_t i = 0; i < s->n; i++)
		s->y[i] = s->y0[i];
	axpy_run(s);
	for (size_t i = 0; i < s->n; i++) {
		double ref = 2.0 * s->x[i] + s->y0[i], d = s->y[i] - ref;

		num += d * d;
		den += ref * ref;
	}
	out->rel_error = sqrt(num / (den > 0.0 ? den : 1.0));
	out->tolerance = 1e-6;
	out->passed = out->rel_error <= out->tolerance; /* false on NaN */
	snprintf(out->message, sizeof(out->message), "%zu floats, y = 2x + y vs fp64: rel error %.3g",
		 s->n, out->rel_error);
	return AISP_OK;
}

/* Bytes read plus written per iteration: x read, y read and written. */
static double axpy_bytes(const struct aisp_params *p)
{
	return 12.0 * p->v[0];
}

static const struct aisp_param axpy_params[] = {
	{"n", AISP_PARAM_INT, {1 << 16, 1 << 24}, 1, 1 << 28, "floats in x and y"},
};

static const struct aisp_card axpy_card = {
	.name = "test:axpy",
	.description = "test-only: y = a x + y, the smallest whole target (bytes/s)",
	.goal = "throughput", .params = axpy_params, .n_params = AISP_COUNT(axpy_params),
	.work = axpy_bytes, .work_unit = "bytes", .bytes = axpy_bytes, .test_only = 1,
};

static const struct aisp_ops axpy_ops = {axpy_setup, axpy_run, axpy_verify};

static const struct aisp_variant axpy_variants[] = {
	{"baseline_axpy", AISP_ROLE_BASELINE, "one element at a time", &axpy_ops, &axpy_one},
	{"optimized_axpy", AISP_ROLE_OPTIMIZED, "four elements at a time", &axpy_ops, &axpy_four},
	{"optimized_axpy_launch", AISP_ROLE_OPTIMIZED,
	 "four elements at a time, flagged as bound by the host's launch path", &axpy_ops,
	 &axpy_four, AISP_VARIANT_HOST_LAUNCH},
};

const struct aisp_target test_axpy_host = {AISP_ABI_VERSION, &axpy_card, AISP_BACKEND_HOST,
					   AISP_LIST(axpy_variants)};
