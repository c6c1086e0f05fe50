/*
 * gemm_host.c - ch01:gemm on the host: `batch` independent FP32 GEMMs
 * C[b] = A[b] * B[b] (m x k times k x n), the book's case study of separate
 * calls vs one batched call vs one strided-batched call.
 *
 * Inputs: A then B, uniform(-1, 1), drawn in row-major order over the whole
 * contiguous batch from rng streams (seed, salt 1) and (seed, salt 2), so a
 * CUDA twin drawing the same way gets the same matrices.
 *
 * Test knob: when ctx->test_knob > 0 an iteration busy-waits after its
 * compute until it has taken (1 + knob/100) times the compute time. This is
 * the one place target code reads a clock: a fleet test needs a "slow GPU"
 * whose slowness scales with the real work, and only the target can tell
 * how long its own compute took. Real runs have knob 0 and never get here.
 */
#include "aisp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ch01_host.h"
#include "hblas.h"
#include "rng.h"

static const struct aisp_param gemm_params[] = {
	{"m", AISP_PARAM_INT, 32, 1, 8192, "rows of A and C"},
	{"n", AISP_PARAM_INT, 256, 1, 8192, "columns of B and C"},
	{"k", AISP_PARAM_INT, 256, 1, 8192, "columns of A, rows of B"},
	{"batch", AISP_PARAM_INT, 40, 1, 4096, "independent GEMMs per iteration"},
};

struct gemm;
typedef void (*gemm_iter_fn)(struct gemm *g);

/* Everything one variant owns. */
struct gemm {
	size_t m, n, k, batch;
	int knob;                     /* ctx->test_knob (slow-down, tests only) */
	gemm_iter_fn iter;            /* the variant's compute */
	float *a, *b, *c;             /* contiguous batches of A, B, C */
	const float **ap, **bp;       /* per-GEMM pointers (batched variant) */
	float **cp;
	double *ref;                  /* float64 C from the same float32 inputs */
	float *work;                  /* hblas packing scratch */
};

/* C = A * B with naive i-j-k loops: one GEMM, the book's single call. */
static void gemm_naive(size_t m, size_t n, size_t k, const float *a,
		       const float *b, float *c)
{
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < n; j++) {
			float s = 0.0f;

			for (size_t p = 0; p < k; p++)
				s += a[i * k + p] * b[p * n + j];
			c[i * n + j] = s;
		}
	}
}

/* baseline_gemm: `batch` separate calls of the single-GEMM function. */
static void gemm_iter_separate(struct gemm *g)
{
	for (size_t i = 0; i < g->batch; i++)
		gemm_naive(g->m, g->n, g->k, g->a + i * g->m * g->k,
			   g->b + i * g->k * g->n, g->c + i * g->m * g->n);
}

/* One call over arrays of pointers: C[i] = A[i] * B[i] for i < batch. */
static void gemm_batched(size_t m, size_t n, size_t k, const float *const *a,
			 const float *const *b, float *const *c, size_t batch,
			 float *work)
{
	for (size_t i = 0; i < batch; i++)
		hblas_sgemm(m, n, k, a[i], k, 1, b[i], n, c[i], n, 0, work);
}

/* optimized_gemm_batched: one batched call over pointer arrays. */
static void gemm_iter_batched(struct gemm *g)
{
	gemm_batched(g->m, g->n, g->k, g->ap, g->bp, g->cp, g->batch, g->work);
}

/* One call over one buffer each: GEMM i at a + i*sa, b + i*sb, c + i*sc. */
static void gemm_strided(size_t m, size_t n, size_t k, const float *a,
			 size_t sa, const float *b, size_t sb, float *c,
			 size_t sc, size_t batch, float *work)
{
	for (size_t i = 0; i < batch; i++)
		hblas_sgemm(m, n, k, a + i * sa, k, 1, b + i * sb, n,
			    c + i * sc, n, 0, work);
}

/* optimized_gemm_strided: one strided-batched call. */
static void gemm_iter_strided(struct gemm *g)
{
	gemm_strided(g->m, g->n, g->k, g->a, g->m * g->k, g->b, g->k * g->n,
		     g->c, g->m * g->n, g->batch, g->work);
}

/* Seconds on CLOCK_MONOTONIC (only for the test knob, see the top). */
static double gemm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One iteration; with the test knob, stretched to (1 + knob/100) x. */
static aisp_err gemm_run(void *state)
{
	struct gemm *g = state;
	double t0, stop;

	if (g->knob <= 0) {
		g->iter(g);
		return AISP_OK;
	}
	t0 = gemm_now();
	g->iter(g);
	stop = t0 + (gemm_now() - t0) * (1.0 + g->knob / 100.0);
	while (gemm_now() < stop)
		;
	return AISP_OK;
}

/* The float64 product of the float32 inputs, for every GEMM of the batch. */
static void gemm_reference(struct gemm *g)
{
	size_t m = g->m, n = g->n, k = g->k;

	for (size_t i = 0; i < g->batch; i++) {
		const float *a = g->a + i * m * k, *b = g->b + i * k * n;
		double *r = g->ref + i * m * n;

		for (size_t x = 0; x < m * n; x++)
			r[x] = 0.0;
		for (size_t row = 0; row < m; row++)
			for (size_t p = 0; p < k; p++)
				for (size_t j = 0; j < n; j++)
					r[row * n + j] += (double)a[row * k + p] *
							  (double)b[p * n + j];
	}
}

static void gemm_teardown(void *state);

/* Allocate A, B, C, the pointer arrays and the reference; draw inputs. */
static aisp_err gemm_setup(const struct aisp_ctx *ctx,
			   const struct aisp_params *p, void **state,
			   gemm_iter_fn iter)
{
	struct gemm *g = calloc(1, sizeof(*g));

	*state = NULL;
	if (!g)
		return AISP_ENOMEM;
	g->m = (size_t)p->v[0];
	g->n = (size_t)p->v[1];
	g->k = (size_t)p->v[2];
	g->batch = (size_t)p->v[3];
	g->knob = ctx->test_knob;
	g->iter = iter;
	g->a = malloc(g->batch * g->m * g->k * sizeof(float));
	g->b = malloc(g->batch * g->k * g->n * sizeof(float));
	g->c = malloc(g->batch * g->m * g->n * sizeof(float));
	g->ref = malloc(g->batch * g->m * g->n * sizeof(double));
	g->ap = malloc(g->batch * sizeof(*g->ap));
	g->bp = malloc(g->batch * sizeof(*g->bp));
	g->cp = malloc(g->batch * sizeof(*g->cp));
	g->work = malloc(HBLAS_WORK(g->n) * sizeof(float));
	if (!g->a || !g->b || !g->c || !g->ref || !g->ap || !g->bp || !g->cp ||
	    !g->work) {
		gemm_teardown(g);
		return AISP_ENOMEM;
	}
	aisp_rng_fill_unit(g->a, g->batch * g->m * g->k, ctx->seed, 1);
	aisp_rng_fill_unit(g->b, g->batch * g->k * g->n, ctx->seed, 2);
	for (size_t i = 0; i < g->batch; i++) {
		g->ap[i] = g->a + i * g->m * g->k;
		g->bp[i] = g->b + i * g->k * g->n;
		g->cp[i] = g->c + i * g->m * g->n;
	}
	gemm_reference(g);
	*state = g;
	return AISP_OK;
}

/* Setup of baseline_gemm. */
static aisp_err gemm_setup_separate(const struct aisp_ctx *ctx,
				    const struct aisp_params *p, void **state)
{
	return gemm_setup(ctx, p, state, gemm_iter_separate);
}

/* Setup of optimized_gemm_batched. */
static aisp_err gemm_setup_batched(const struct aisp_ctx *ctx,
				   const struct aisp_params *p, void **state)
{
	return gemm_setup(ctx, p, state, gemm_iter_batched);
}

/* Setup of optimized_gemm_strided. */
static aisp_err gemm_setup_strided(const struct aisp_ctx *ctx,
				   const struct aisp_params *p, void **state)
{
	return gemm_setup(ctx, p, state, gemm_iter_strided);
}

/*
 * Relative tolerance for float32 GEMMs against float64. Each element is a
 * float32 sum of k products: the rounding error grows like sqrt(k) * 2^-24
 * for random signs (k * 2^-24 in the worst case). Measured ||C - ref|| /
 * ||ref|| is about 3e-7 at k = 256 (inputs uniform(-1, 1)); 1e-5 leaves a
 * 30x margin and still catches one wrong element in 10^4 off by 1e-3.
 */
static double gemm_tolerance(size_t k)
{
	return 1e-5 * fmax(1.0, sqrt((double)k / 256.0));
}

/* Poison C, run once, compare with the float64 reference. */
static aisp_err gemm_verify(void *state, struct aisp_check *out)
{
	struct gemm *g = state;
	size_t len = g->batch * g->m * g->n;
	double num = 0.0, den = 0.0;
	aisp_err rc;

	for (size_t i = 0; i < len; i++)
		g->c[i] = NAN;
	rc = gemm_run(g);
	if (rc != AISP_OK)
		return rc;
	for (size_t i = 0; i < len; i++) {
		double d = (double)g->c[i] - g->ref[i];

		num += d * d;
		den += g->ref[i] * g->ref[i];
	}
	out->rel_error = den > 0.0 ? sqrt(num / den) : sqrt(num);
	out->tolerance = gemm_tolerance(g->k);
	out->passed = out->rel_error <= out->tolerance; /* false on NaN */
	snprintf(out->message, sizeof(out->message),
		 "%zu GEMMs %zux%zux%zu fp32 vs fp64 reference: rel error %.3g (tol %.3g)",
		 g->batch, g->m, g->n, g->k, out->rel_error, out->tolerance);
	return AISP_OK;
}

/* Free everything gemm_setup made; g may be NULL or half-built. */
static void gemm_teardown(void *state)
{
	struct gemm *g = state;

	if (!g)
		return;
	free(g->a);
	free(g->b);
	free(g->c);
	free(g->ref);
	free(g->ap);
	free(g->bp);
	free(g->cp);
	free(g->work);
	free(g);
}

/* Test hook: C of the last run (ch01_host.h). */
const float *gemm_host_output(void *state, size_t *n)
{
	struct gemm *g = state;

	*n = g->batch * g->m * g->n;
	return g->c;
}

/* Test hook: reference scaled by 1 + rel (ch01_host.h). */
void gemm_host_perturb_ref(void *state, double rel)
{
	struct gemm *g = state;

	for (size_t i = 0; i < g->batch * g->m * g->n; i++)
		g->ref[i] *= 1.0 + rel;
}

/* 2 m n k FLOPs per GEMM. */
static double gemm_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[1] * p->v[2] * p->v[3];
}

/* Each of A, B and C read or written once (float32). */
static double gemm_bytes(const struct aisp_params *p)
{
	double m = p->v[0], n = p->v[1], k = p->v[2];

	return 4.0 * p->v[3] * (m * k + k * n + m * n);
}

static const struct aisp_variant gemm_variants[] = {
	{"baseline_gemm", AISP_ROLE_BASELINE, "separate naive GEMM calls",
	 gemm_setup_separate, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_batched", AISP_ROLE_OPTIMIZED,
	 "one batched call over pointer arrays, blocked i-k-j kernel",
	 gemm_setup_batched, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_strided", AISP_ROLE_OPTIMIZED,
	 "one strided-batched call over contiguous buffers, blocked i-k-j kernel",
	 gemm_setup_strided, gemm_run, gemm_verify, gemm_teardown},
};

const struct aisp_target ch01_gemm_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "ch01:gemm",
	.backend = AISP_BACKEND_HOST,
	.description = "40 independent FP32 GEMMs: separate calls vs batched vs strided batched",
	.goal = "speed",
	.params = gemm_params,
	.n_params = sizeof(gemm_params) / sizeof(gemm_params[0]),
	.variants = gemm_variants,
	.n_variants = sizeof(gemm_variants) / sizeof(gemm_variants[0]),
	.work = gemm_flops,
	.work_unit = "flop",
	.bytes = gemm_bytes,
	.flops = gemm_flops,
};
