/*
 * gemm_host.c - ch01:gemm on the host (gemm.h): baseline_gemm makes batch
 * calls of a naive single-GEMM function; the batched and strided variants
 * make one call over the batch with the blocked kernel of hblas_host.c.
 */
#include <stdio.h>

#include "ch01_host.h"
#include "gemm.h"
#include "hblas.h"

struct gemm;
typedef void (*gemm_iter_fn)(struct gemm *g);

/* Everything one variant owns. */
struct gemm {
	size_t m, n, k, batch;
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

/* The compute of each kind this twin has, by enum gemm_kind. */
static const gemm_iter_fn gemm_iters[] = {gemm_iter_separate, gemm_iter_batched,
					  gemm_iter_strided};

/* One iteration. */
static aisp_err gemm_run(void *state)
{
	struct gemm *g = state;

	g->iter(g);
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

/* A, B, C, the pointer arrays and the reference from the harness; inputs drawn. */
static aisp_err gemm_setup(const struct aisp_ctx *ctx,
			   const struct aisp_params *p, void **state)
{
	struct gemm *g = aisp_alloc(ctx, sizeof(*g));
	enum gemm_kind kind = *(const enum gemm_kind *)ctx->variant->arg;

	if (!g)
		return AISP_ENOMEM;
	if ((size_t)kind >= AISP_COUNT(gemm_iters))
		return aisp_fail(ctx->err, AISP_EINTERNAL, "gemm host: no kind %d", (int)kind);
	g->m = (size_t)p->v[0];
	g->n = (size_t)p->v[1];
	g->k = (size_t)p->v[2];
	g->batch = (size_t)p->v[3];
	g->iter = gemm_iters[kind];
	g->a = aisp_alloc(ctx, g->batch * g->m * g->k * sizeof(float));
	g->b = aisp_alloc(ctx, g->batch * g->k * g->n * sizeof(float));
	g->c = aisp_alloc(ctx, g->batch * g->m * g->n * sizeof(float));
	g->ref = aisp_alloc(ctx, g->batch * g->m * g->n * sizeof(double));
	g->ap = aisp_alloc(ctx, g->batch * sizeof(*g->ap));
	g->bp = aisp_alloc(ctx, g->batch * sizeof(*g->bp));
	g->cp = aisp_alloc(ctx, g->batch * sizeof(*g->cp));
	g->work = aisp_alloc(ctx, HBLAS_WORK(g->n) * sizeof(float));
	if (!g->a || !g->b || !g->c || !g->ref || !g->ap || !g->bp || !g->cp || !g->work)
		return AISP_ENOMEM;
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
	out->tolerance = gemm_tolerance((double)g->k);
	out->passed = out->rel_error <= out->tolerance; /* false on NaN */
	snprintf(out->message, sizeof(out->message),
		 "%zu GEMMs %zux%zux%zu fp32 vs fp64 reference: rel error %.3g (tol %.3g)",
		 g->batch, g->m, g->n, g->k, out->rel_error, out->tolerance);
	return AISP_OK;
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

static const struct aisp_ops gemm_ops = {gemm_setup, gemm_run, gemm_verify};

static const struct aisp_variant gemm_variants[] = {
	{"baseline_gemm", AISP_ROLE_BASELINE, "separate naive GEMM calls", &gemm_ops,
	 &gemm_kinds[GEMM_SEPARATE]},
	{"optimized_gemm_batched", AISP_ROLE_OPTIMIZED,
	 "one batched call over pointer arrays, blocked i-k-j kernel", &gemm_ops,
	 &gemm_kinds[GEMM_BATCHED]},
	{"optimized_gemm_strided", AISP_ROLE_OPTIMIZED,
	 "one strided-batched call over contiguous buffers, blocked i-k-j kernel", &gemm_ops,
	 &gemm_kinds[GEMM_STRIDED]},
};

const struct aisp_target ch01_gemm_host = {AISP_ABI_VERSION, &gemm_card, AISP_BACKEND_HOST,
					   AISP_LIST(gemm_variants)};
