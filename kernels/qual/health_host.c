/*
 * health_host.c - qual:health on the host (health.h): the load is a
 * blocked FP32 GEMM (qual_sgemm_host.c); the facts are the host's as the
 * harness reads them (thermal zones, EDAC counters, HardwareCorrupted,
 * CPU clocks, MemAvailable; power and throttle reasons are n/a).
 */
#include "health.h"
#include "qual.h"

/* Everything one instance owns. */
struct health {
	struct health_probe probe;  /* first: what the judgement needs */
	size_t n;
	float *a, *b, *c;
};

/* One GEMM of the load. */
static aisp_err health_run(void *state)
{
	struct health *h = state;

	qual_sgemm(h->n, h->a, h->b, h->c);
	return AISP_OK;
}

/* Thresholds and free memory first, then the GEMM of the load. */
static aisp_err health_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct health *h = aisp_alloc(ctx, sizeof(*h));
	size_t n = (size_t)p->v[QH_N];

	if (!h)
		return AISP_ENOMEM;
	health_probe_init(&h->probe, ctx, p);
	h->n = n;
	h->a = aisp_alloc(ctx, n * n * sizeof(float));
	h->b = aisp_alloc(ctx, n * n * sizeof(float));
	h->c = aisp_alloc(ctx, n * n * sizeof(float));
	if (!h->a || !h->b || !h->c)
		return AISP_ENOMEM;
	for (size_t i = 0; i < n * n; i++) {
		h->a[i] = (float)qual_gemm_value(qual_hash(ctx->seed, 1, i));
		h->b[i] = (float)qual_gemm_value(qual_hash(ctx->seed, 2, i));
	}
	*state = h;
	return AISP_OK;
}

/* The load held for load_ms while the harness samples the facts; judged. */
static aisp_err health_verify(void *state, struct aisp_check *out)
{
	struct health *h = state;

	return health_probe_verify(&h->probe, h, out);
}

static const struct aisp_ops health_ops = {health_setup, health_run, health_verify};

static const struct aisp_variant health_variants[] = {
	{"baseline_health", AISP_ROLE_BASELINE,
	 "facts judged against thresholds; timed: the FP32 GEMM load", &health_ops},
};

const struct aisp_target qual_health_host = {AISP_ABI_VERSION, &health_card, AISP_BACKEND_HOST,
					     AISP_LIST(health_variants)};
