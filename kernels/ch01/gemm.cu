/*
 * gemm.cu - ch01:gemm on CUDA: `batch` independent FP32 GEMMs
 * C[b] = A[b] * B[b] (row-major, m x k times k x n), the book's case study
 * of launch amortization, plus two variants of ours:
 *
 *   baseline_gemm            batch separate cublasSgemm calls (batch launches)
 *   optimized_gemm_batched   one cublasSgemmBatched over device pointer arrays
 *   optimized_gemm_strided   one cublasSgemmStridedBatched over contiguous buffers
 *   optimized_gemm_tiled     one launch of our own tiled kernel (gemm_tiled.cuh)
 *   optimized_gemm_graph     the baseline's batch calls captured once into a
 *                            CUDA graph and replayed (one launch call)
 *
 * Precision: pure FP32. The backend's cuBLAS handle is in CUBLAS_DEFAULT_MATH
 * (no TF32 tensor cores for Sgemm) and our kernel uses FFMA; verify reports
 * the handle's math mode and holds every variant to the host twin's FP32
 * tolerance, which a TF32 result (~3e-4) would fail.
 *
 * Inputs are drawn exactly as the host twin draws them (gemm_host.c):
 * uniform(-1, 1), row-major over the whole contiguous batch, A from stream
 * (seed, salt 1) and B from (seed, salt 2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "aisp.h"
#include "gemm_tiled.cuh"
#include "rng.h"

/* The tiled variant's configuration and text: gemm_tiled::product, chosen by
 * tests/gpu/gemm_sweep.cu on the device (notes/gemm.md). */
typedef gemm_tiled::product gemm_tiled_cfg;

/* Reference work cap: above this many multiply-adds verify checks a spread
 * subset of the GEMMs (all of every GEMM it checks). */
#define GEMM_REF_MAX_FMA (1ull << 31)

enum gemm_kind { GEMM_SEPARATE, GEMM_BATCHED, GEMM_STRIDED, GEMM_TILED, GEMM_GRAPH };

/* Everything one variant owns. */
struct gemm {
	enum gemm_kind kind;
	int m, n, k, batch;
	cudaStream_t stream;
	cublasHandle_t blas;
	float *a, *b, *c;            /* device: contiguous batches */
	const float **ap, **bp;      /* device pointer arrays (batched) */
	float **cp;
	float *ha, *hb, *hc;         /* host: inputs and C read back */
	cudaGraph_t graph;
	cudaGraphExec_t exec;
};

/* Enqueue the batch separate cuBLAS calls (row-major via C^T = B^T A^T). */
static aisp_err gemm_enqueue_separate(struct gemm *g)
{
	const float one = 1.0f, zero = 0.0f;
	size_t sa = (size_t)g->m * g->k, sb = (size_t)g->k * g->n, sc = (size_t)g->m * g->n;

	for (int i = 0; i < g->batch; i++) {
		cublasStatus_t s = cublasSgemm(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->m,
					       g->k, &one, g->b + i * sb, g->n, g->a + i * sa,
					       g->k, &zero, g->c + i * sc, g->n);
		if (s != CUBLAS_STATUS_SUCCESS)
			return AISP_EDEVICE;
	}
	return AISP_OK;
}

/* One iteration of the variant, enqueued on the stream; never synchronizes. */
static aisp_err gemm_run(void *state)
{
	struct gemm *g = (struct gemm *)state;
	const float one = 1.0f, zero = 0.0f;
	long long sa = (long long)g->m * g->k, sb = (long long)g->k * g->n;
	long long sc = (long long)g->m * g->n;
	cublasStatus_t s = CUBLAS_STATUS_SUCCESS;

	switch (g->kind) {
	case GEMM_SEPARATE:
		return gemm_enqueue_separate(g);
	case GEMM_BATCHED:
		s = cublasSgemmBatched(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->m, g->k,
				       &one, g->bp, g->n, g->ap, g->k, &zero, g->cp, g->n,
				       g->batch);
		break;
	case GEMM_STRIDED:
		s = cublasSgemmStridedBatched(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->m,
					      g->k, &one, g->b, g->n, sb, g->a, g->k, sa,
					      &zero, g->c, g->n, sc, g->batch);
		break;
	case GEMM_TILED:
		return gemm_tiled::launch<gemm_tiled_cfg>(g->a, g->b, g->c, g->m, g->n, g->k,
							  g->batch, g->stream) == cudaSuccess
			       ? AISP_OK : AISP_EDEVICE;
	case GEMM_GRAPH:
		return cudaGraphLaunch(g->exec, g->stream) == cudaSuccess ? AISP_OK
									    : AISP_EDEVICE;
	}
	return s == CUBLAS_STATUS_SUCCESS ? AISP_OK : AISP_EDEVICE;
}

/* Device pointer arrays for cublasSgemmBatched, copied from the host. */
static aisp_err gemm_make_pointers(struct gemm *g)
{
	size_t bytes = (size_t)g->batch * sizeof(float *);
	float **h = (float **)malloc(3 * bytes);
	aisp_err rc = AISP_OK;

	if (!h)
		return AISP_ENOMEM;
	for (int i = 0; i < g->batch; i++) {
		h[i] = g->a + (size_t)i * g->m * g->k;
		h[g->batch + i] = g->b + (size_t)i * g->k * g->n;
		h[2 * g->batch + i] = g->c + (size_t)i * g->m * g->n;
	}
	if (cudaMalloc((void **)&g->ap, bytes) != cudaSuccess ||
	    cudaMalloc((void **)&g->bp, bytes) != cudaSuccess ||
	    cudaMalloc((void **)&g->cp, bytes) != cudaSuccess)
		rc = AISP_ENOMEM;
	else if (cudaMemcpyAsync((void *)g->ap, h, bytes, cudaMemcpyHostToDevice, g->stream) ||
		 cudaMemcpyAsync((void *)g->bp, h + g->batch, bytes, cudaMemcpyHostToDevice,
				 g->stream) ||
		 cudaMemcpyAsync((void *)g->cp, h + 2 * g->batch, bytes,
				 cudaMemcpyHostToDevice, g->stream) ||
		 cudaStreamSynchronize(g->stream))
		rc = AISP_EDEVICE;
	free(h);
	return rc;
}

/* Capture the baseline's separate calls once into a graph and instantiate it. */
static aisp_err gemm_make_graph(struct gemm *g)
{
	aisp_err rc;

	if (cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess)
		return AISP_EDEVICE;
	rc = gemm_enqueue_separate(g);
	if (cudaStreamEndCapture(g->stream, &g->graph) != cudaSuccess || rc)
		return AISP_EDEVICE;
	if (cudaGraphInstantiate(&g->exec, g->graph, 0) != cudaSuccess)
		return AISP_EDEVICE;
	return cudaGraphUpload(g->exec, g->stream) == cudaSuccess &&
			       cudaStreamSynchronize(g->stream) == cudaSuccess
		       ? AISP_OK : AISP_EDEVICE;
}

static void gemm_teardown(void *state);

/* Host inputs drawn from the seed, device buffers filled, extras per kind. */
static aisp_err gemm_setup_kind(const struct aisp_ctx *ctx, const struct aisp_params *p,
				void **state, enum gemm_kind kind)
{
	struct gemm *g = (struct gemm *)calloc(1, sizeof(*g));
	size_t na, nb, nc;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!g)
		return AISP_ENOMEM;
	g->kind = kind;
	g->m = (int)p->v[0];
	g->n = (int)p->v[1];
	g->k = (int)p->v[2];
	g->batch = (int)p->v[3];
	g->stream = (cudaStream_t)ctx->stream;
	g->blas = (cublasHandle_t)ctx->blas;
	na = (size_t)g->batch * g->m * g->k;
	nb = (size_t)g->batch * g->k * g->n;
	nc = (size_t)g->batch * g->m * g->n;
	g->ha = (float *)malloc(na * sizeof(float));
	g->hb = (float *)malloc(nb * sizeof(float));
	g->hc = (float *)malloc(nc * sizeof(float));
	if (!g->ha || !g->hb || !g->hc ||
	    cudaMalloc((void **)&g->a, na * sizeof(float)) != cudaSuccess ||
	    cudaMalloc((void **)&g->b, nb * sizeof(float)) != cudaSuccess ||
	    cudaMalloc((void **)&g->c, nc * sizeof(float)) != cudaSuccess)
		goto fail;
	aisp_rng_fill_unit(g->ha, na, ctx->seed, 1);
	aisp_rng_fill_unit(g->hb, nb, ctx->seed, 2);
	rc = AISP_EDEVICE;
	if (!g->blas || cublasSetPointerMode(g->blas, CUBLAS_POINTER_MODE_HOST) ||
	    cudaMemcpyAsync(g->a, g->ha, na * sizeof(float), cudaMemcpyHostToDevice, g->stream) ||
	    cudaMemcpyAsync(g->b, g->hb, nb * sizeof(float), cudaMemcpyHostToDevice, g->stream) ||
	    cudaStreamSynchronize(g->stream))
		goto fail;
	if (kind == GEMM_BATCHED && (rc = gemm_make_pointers(g)))
		goto fail;
	if (kind == GEMM_GRAPH && (rc = gemm_make_graph(g)))
		goto fail;
	if (kind == GEMM_TILED && gemm_tiled::prepare<gemm_tiled_cfg>() != cudaSuccess)
		goto fail;
	*state = g;
	return AISP_OK;
fail:
	gemm_teardown(g);
	return rc;
}

static aisp_err gemm_setup_separate(const struct aisp_ctx *ctx, const struct aisp_params *p,
				    void **state)
{
	return gemm_setup_kind(ctx, p, state, GEMM_SEPARATE);
}

static aisp_err gemm_setup_batched(const struct aisp_ctx *ctx, const struct aisp_params *p,
				   void **state)
{
	return gemm_setup_kind(ctx, p, state, GEMM_BATCHED);
}

static aisp_err gemm_setup_strided(const struct aisp_ctx *ctx, const struct aisp_params *p,
				   void **state)
{
	return gemm_setup_kind(ctx, p, state, GEMM_STRIDED);
}

static aisp_err gemm_setup_tiled(const struct aisp_ctx *ctx, const struct aisp_params *p,
				 void **state)
{
	return gemm_setup_kind(ctx, p, state, GEMM_TILED);
}

static aisp_err gemm_setup_graph(const struct aisp_ctx *ctx, const struct aisp_params *p,
				 void **state)
{
	return gemm_setup_kind(ctx, p, state, GEMM_GRAPH);
}

/* The host twin's FP32 tolerance: 1e-5, growing like sqrt(k) past k = 256. */
static double gemm_tolerance(int k)
{
	return 1e-5 * fmax(1.0, sqrt((double)k / 256.0));
}

/* Add GEMM i's squared error and squared reference norm (float64) to *num, *den. */
static void gemm_ref_one(const struct gemm *g, int i, double *row, double *num, double *den)
{
	const float *a = g->ha + (size_t)i * g->m * g->k, *b = g->hb + (size_t)i * g->k * g->n;
	const float *c = g->hc + (size_t)i * g->m * g->n;

	for (int r = 0; r < g->m; r++) {
		for (int j = 0; j < g->n; j++)
			row[j] = 0.0;
		for (int p = 0; p < g->k; p++) {
			double x = a[(size_t)r * g->k + p];
			const float *bp = b + (size_t)p * g->n;

			for (int j = 0; j < g->n; j++)
				row[j] += x * bp[j];
		}
		for (int j = 0; j < g->n; j++) {
			double d = (double)c[(size_t)r * g->n + j] - row[j];

			*num += d * d;
			*den += row[j] * row[j];
		}
	}
}

/* Poison C with NaN, run once, read C back, compare with a float64 reference. */
static aisp_err gemm_verify(void *state, struct aisp_check *out)
{
	struct gemm *g = (struct gemm *)state;
	size_t nc = (size_t)g->batch * g->m * g->n, bad = 0;
	double fma_per = (double)g->m * g->n * g->k, num = 0.0, den = 0.0, *row;
	int step = 1, checked = 0;
	cublasMath_t mode = CUBLAS_DEFAULT_MATH;
	aisp_err rc;

	out->rel_error = NAN;
	out->tolerance = gemm_tolerance(g->k);
	out->passed = 0;
	if (cudaMemsetAsync(g->c, 0xff, nc * sizeof(float), g->stream) != cudaSuccess)
		return AISP_EDEVICE;
	if ((rc = gemm_run(g)))
		return rc;
	if (cudaMemcpyAsync(g->hc, g->c, nc * sizeof(float), cudaMemcpyDeviceToHost,
			    g->stream) != cudaSuccess ||
	    cudaStreamSynchronize(g->stream) != cudaSuccess ||
	    cublasGetMathMode(g->blas, &mode) != CUBLAS_STATUS_SUCCESS)
		return AISP_EDEVICE;
	for (size_t i = 0; i < nc; i++)
		bad += !isfinite(g->hc[i]);
	while (fma_per * g->batch / step > (double)GEMM_REF_MAX_FMA)
		step++;
	row = (double *)malloc((size_t)g->n * sizeof(double));
	if (!row)
		return AISP_ENOMEM;
	for (int i = 0; i < g->batch; i += step, checked++)
		gemm_ref_one(g, i, row, &num, &den);
	free(row);
	out->rel_error = bad ? NAN : den > 0.0 ? sqrt(num / den) : sqrt(num);
	out->passed = !bad && out->rel_error <= out->tolerance;
	snprintf(out->message, sizeof(out->message),
		 "%d of %d GEMMs %dx%dx%d fp32 (cuBLAS math %s) vs fp64: rel error %.3g "
		 "(tol %.3g), %zu non-finite of %zu",
		 checked, g->batch, g->m, g->n, g->k,
		 mode == CUBLAS_DEFAULT_MATH ? "FP32" : "not default (TF32?)",
		 out->rel_error, out->tolerance, bad, nc);
	return AISP_OK;
}

/* Free everything setup made; g may be NULL or half-built. */
static void gemm_teardown(void *state)
{
	struct gemm *g = (struct gemm *)state;

	if (!g)
		return;
	if (g->stream)
		cudaStreamSynchronize(g->stream);
	if (g->exec)
		cudaGraphExecDestroy(g->exec);
	if (g->graph)
		cudaGraphDestroy(g->graph);
	cudaFree(g->a);
	cudaFree(g->b);
	cudaFree(g->c);
	cudaFree((void *)g->ap);
	cudaFree((void *)g->bp);
	cudaFree(g->cp);
	free(g->ha);
	free(g->hb);
	free(g->hc);
	free(g);
}

/* 2 m n k FLOPs per GEMM (as the host twin). */
static double gemm_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[1] * p->v[2] * p->v[3];
}

/* Each of A, B and C read or written once, float32 (as the host twin). */
static double gemm_bytes(const struct aisp_params *p)
{
	double m = p->v[0], n = p->v[1], k = p->v[2];

	return 4.0 * p->v[3] * (m * k + k * n + m * n);
}

/* Same table as gemm_host.c: the twins take the same parameters. */
static const struct aisp_param gemm_params[] = {
	{"m", AISP_PARAM_INT, 32, 1, 8192, "rows of A and C"},
	{"n", AISP_PARAM_INT, 256, 1, 8192, "columns of B and C"},
	{"k", AISP_PARAM_INT, 256, 1, 8192, "columns of A, rows of B"},
	{"batch", AISP_PARAM_INT, 40, 1, 4096, "independent GEMMs per iteration"},
};

static const struct aisp_variant gemm_variants[] = {
	{"baseline_gemm", AISP_ROLE_BASELINE, "separate cublasSgemm calls, one per GEMM",
	 gemm_setup_separate, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_batched", AISP_ROLE_OPTIMIZED,
	 "one cublasSgemmBatched over device pointer arrays",
	 gemm_setup_batched, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_strided", AISP_ROLE_OPTIMIZED,
	 "one cublasSgemmStridedBatched over contiguous buffers",
	 gemm_setup_strided, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_tiled", AISP_ROLE_OPTIMIZED, gemm_tiled::product_text,
	 gemm_setup_tiled, gemm_run, gemm_verify, gemm_teardown},
	{"optimized_gemm_graph", AISP_ROLE_OPTIMIZED,
	 "the baseline's separate calls captured once into a CUDA graph and replayed",
	 gemm_setup_graph, gemm_run, gemm_verify, gemm_teardown},
};

extern "C" const struct aisp_target ch01_gemm_cuda = {
	AISP_ABI_VERSION,
	"ch01:gemm",
	AISP_BACKEND_CUDA,
	"40 independent FP32 GEMMs: separate calls vs batched vs strided batched",
	"speed",
	gemm_params,
	sizeof(gemm_params) / sizeof(gemm_params[0]),
	gemm_variants,
	sizeof(gemm_variants) / sizeof(gemm_variants[0]),
	gemm_flops,
	"flop",
	gemm_bytes,
	gemm_flops,
	0,
};
