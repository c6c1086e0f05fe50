/*
 * gemm_peak.cu - qual:gemm_peak on CUDA: dense square GEMM throughput
 * through cuBLASLt, D = A^T B (column-major, the "TN" layout FP8 needs,
 * kept for every precision so the variants differ only in types):
 *   baseline_tf32   FP32 inputs, CUBLAS_COMPUTE_32F_FAST_TF32
 *   optimized_fp16  FP16 inputs, FP32 accumulate
 *   optimized_bf16  BF16 inputs, FP32 accumulate
 *   optimized_fp8   FP8 E4M3 inputs, FP32 accumulate (sm_89 and newer)
 * D is FP32 (for FP8, BF16 when cuBLASLt has no FP32-output kernel). The
 * algorithm is cuBLASLt's first heuristic pick with a 64 MiB workspace.
 * A precision the GPU lacks reports the variant skipped, with the reason.
 *
 * Inputs are drawn on the device from qual_hash as in the host twin
 * (gemm_peak_host.c): values exact in every format, so verify compares a
 * sample of D (256 entries) with a float64 sum and only accumulation error
 * remains. The message quotes the datasheet dense peak of the precision
 * (qual.h): throughput / peak is the share of peak.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublasLt.h>
#include <cuda_bf16.h>

#include "qual_cuda.cuh"

#define GEMM_PEAK_SAMPLES 256
#define GEMM_PEAK_WS (64u << 20)

static const struct aisp_param gemm_peak_params[] = {
	{"n", AISP_PARAM_INT, 8192, 16, 32768, "rows = columns = depth of the square GEMM"},
};

/* Everything one variant owns. */
struct gemm_peak {
	enum qual_fmt fmt;
	int n, dev, bf16_out;
	cudaStream_t stream;
	uint64_t seed;
	char skip[160];              /* non-empty: why this GPU cannot run it */
	char gpu[256];
	void *a, *b, *d, *ws;
	cublasLtHandle_t lt;
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, ld;
	cublasLtMatmulAlgo_t algo;
	aisp_error *err;             /* ctx->err: where failures are explained */
	size_t *idx;                 /* device: sampled offsets into D */
	float *samp;                 /* device: sampled values */
};

/* buf[t] = the bits of input t of stream (seed, salt) in fmt, t < len. */
static __global__ void gemm_peak_fill(unsigned char *buf, size_t len, uint64_t seed,
				      uint64_t salt, enum qual_fmt fmt)
{
	for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < len;
	     t += (size_t)gridDim.x * blockDim.x) {
		uint32_t bits = qual_gemm_bits(qual_hash(seed, salt, t), fmt);

		if (fmt == QUAL_TF32)
			((uint32_t *)buf)[t] = bits;
		else if (fmt == QUAL_FP8)
			buf[t] = (unsigned char)bits;
		else
			((uint16_t *)buf)[t] = (uint16_t)bits;
	}
}

/* out[s] = D[idx[s]] as float, s < ns. */
static __global__ void gemm_peak_gather(const void *d, int bf16, const size_t *idx, float *out,
					int ns)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;

	if (s < ns)
		out[s] = bf16 ? __bfloat162float(((const __nv_bfloat16 *)d)[idx[s]])
			      : ((const float *)d)[idx[s]];
}

/* One GEMM on the stream; never synchronizes. */
static aisp_err gemm_peak_run(void *state)
{
	struct gemm_peak *g = (struct gemm_peak *)state;
	const float alpha = 1.0f, beta = 0.0f;
	cublasStatus_t s;

	if (g->skip[0])
		return AISP_OK;
	s = cublasLtMatmul(g->lt, g->op, &alpha, g->a, g->la, g->b, g->lb, &beta, g->d, g->ld, g->d,
			   g->ld, &g->algo, g->ws, GEMM_PEAK_WS, g->stream);
	if (s == CUBLAS_STATUS_SUCCESS)
		return AISP_OK;
	return aisp_fail(g->err, AISP_EDEVICE, "cublasLtMatmul: %s", cublasLtGetStatusString(s));
}

/* Free everything setup made; state may be NULL or half-built. */
static void gemm_peak_teardown(void *state)
{
	struct gemm_peak *g = (struct gemm_peak *)state;

	if (!g)
		return;
	if (g->stream)
		cudaStreamSynchronize(g->stream);
	if (g->la)
		cublasLtMatrixLayoutDestroy(g->la);
	if (g->lb)
		cublasLtMatrixLayoutDestroy(g->lb);
	if (g->ld)
		cublasLtMatrixLayoutDestroy(g->ld);
	if (g->op)
		cublasLtMatmulDescDestroy(g->op);
	if (g->lt)
		cublasLtDestroy(g->lt);
	cudaFree(g->a);
	cudaFree(g->b);
	cudaFree(g->d);
	cudaFree(g->ws);
	cudaFree(g->idx);
	cudaFree(g->samp);
	free(g);
}

/* Why this device cannot run fmt (into why), or 0 when it can. */
static int gemm_peak_unsupported(const struct cudaDeviceProp *p, enum qual_fmt fmt, char *why,
				 size_t len)
{
	int cc = p->major * 10 + p->minor, need = fmt == QUAL_FP8 ? 89 : fmt == QUAL_FP16 ? 70 : 80;

	if (cc >= need)
		return 0;
	snprintf(why, len, "%s GEMM needs sm_%d or newer; %.60s is sm_%d",
		 fmt == QUAL_FP8 ? "FP8" : fmt == QUAL_FP16 ? "FP16" : fmt == QUAL_BF16 ? "BF16" : "TF32",
		 need, p->name, cc);
	return 1;
}

/* Handle, operation D = A^T B and the layouts of A and B for g's format. */
static aisp_err gemm_peak_describe(struct gemm_peak *g)
{
	static const cudaDataType_t in[] = {CUDA_R_32F, CUDA_R_16F, CUDA_R_16BF, CUDA_R_8F_E4M3};
	cublasComputeType_t ct = g->fmt == QUAL_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
	cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
	int n = g->n;

	if (cublasLtCreate(&g->lt) || cublasLtMatmulDescCreate(&g->op, ct, CUDA_R_32F) ||
	    cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)) ||
	    cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)) ||
	    cublasLtMatrixLayoutCreate(&g->la, in[g->fmt], n, n, n) ||
	    cublasLtMatrixLayoutCreate(&g->lb, in[g->fmt], n, n, n))
		return AISP_EDEVICE;
	return AISP_OK;
}

/* Lay out D (and C) as type dt and ask the heuristic for an algorithm;
 * 0 when one was found. */
static int gemm_peak_plan(struct gemm_peak *g, cudaDataType_t dt)
{
	cublasLtMatmulPreference_t pref = NULL;
	cublasLtMatmulHeuristicResult_t res;
	size_t ws = GEMM_PEAK_WS;
	int found = 0, n = g->n;

	if (g->ld)
		cublasLtMatrixLayoutDestroy(g->ld);
	g->ld = NULL;
	if (cublasLtMatrixLayoutCreate(&g->ld, dt, n, n, n) ||
	    cublasLtMatmulPreferenceCreate(&pref) ||
	    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
						 &ws, sizeof(ws)) ||
	    cublasLtMatmulAlgoGetHeuristic(g->lt, g->op, g->la, g->lb, g->ld, g->ld, pref, 1, &res,
					   &found) != CUBLAS_STATUS_SUCCESS)
		found = 0;
	if (pref)
		cublasLtMatmulPreferenceDestroy(pref);
	if (!found)
		return -1;
	g->algo = res.algo;
	g->bf16_out = dt == CUDA_R_16BF;
	return 0;
}

/* Buffers, inputs drawn on the device, sample offsets, the cuBLASLt plan. */
static aisp_err gemm_peak_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
				void **state, enum qual_fmt fmt)
{
	struct gemm_peak *g = (struct gemm_peak *)calloc(1, sizeof(*g));
	size_t nn, hidx[GEMM_PEAK_SAMPLES];
	struct cudaDeviceProp prop;
	aisp_err rc = AISP_EDEVICE;

	*state = NULL;
	if (!g)
		return AISP_ENOMEM;
	g->fmt = fmt;
	g->n = (int)p->v[0];
	g->dev = ctx->device;
	g->stream = (cudaStream_t)ctx->stream;
	g->seed = ctx->seed;
	g->err = ctx->err;
	nn = (size_t)g->n * g->n;
	if (cudaGetDeviceProperties(&prop, ctx->device) != cudaSuccess)
		goto fail;
	snprintf(g->gpu, sizeof(g->gpu), "%s", prop.name);
	if (gemm_peak_unsupported(&prop, fmt, g->skip, sizeof(g->skip))) {
		*state = g;
		return AISP_OK;
	}
	rc = AISP_EINPUT;
	if (g->n % 16) /* cuBLASLt FP8 and aligned tensor-core tiles */
		goto fail;
	rc = AISP_ENOMEM;
	if (cudaMalloc(&g->a, nn * qual_fmt_size(fmt)) || cudaMalloc(&g->b, nn * qual_fmt_size(fmt)) ||
	    cudaMalloc(&g->d, nn * sizeof(float)) || cudaMalloc(&g->ws, GEMM_PEAK_WS) ||
	    cudaMalloc((void **)&g->idx, sizeof(hidx)) ||
	    cudaMalloc((void **)&g->samp, GEMM_PEAK_SAMPLES * sizeof(float)))
		goto fail;
	for (int s = 0; s < GEMM_PEAK_SAMPLES; s++) { /* logical (i, j) -> column-major i + j n */
		size_t at = qual_hash(g->seed, 9, s) % nn;

		hidx[s] = at / g->n + (at % g->n) * (size_t)g->n;
	}
	gemm_peak_fill<<<qual_blocks(g->dev, nn), QUAL_THREADS, 0, g->stream>>>(
		(unsigned char *)g->a, nn, g->seed, 1, fmt);
	gemm_peak_fill<<<qual_blocks(g->dev, nn), QUAL_THREADS, 0, g->stream>>>(
		(unsigned char *)g->b, nn, g->seed, 2, fmt);
	rc = AISP_EDEVICE;
	if (cudaGetLastError() || cudaMemcpyAsync(g->idx, hidx, sizeof(hidx), cudaMemcpyHostToDevice,
						  g->stream) ||
	    cudaStreamSynchronize(g->stream) || gemm_peak_describe(g))
		goto fail;
	if (gemm_peak_plan(g, CUDA_R_32F) && (fmt != QUAL_FP8 || gemm_peak_plan(g, CUDA_R_16BF)))
		snprintf(g->skip, sizeof(g->skip), "cuBLASLt offers no %dx%d algorithm for "
			 "this precision on %.60s", g->n, g->n, prop.name);
	*state = g;
	return AISP_OK;
fail:
	gemm_peak_teardown(g);
	if (rc == AISP_EINPUT)
		return aisp_fail(ctx->err, rc, "n = %d: must be a multiple of 16", (int)p->v[0]);
	return qual_fail(ctx->err, rc, "gemm_peak setup (buffers, inputs, cuBLASLt handle and "
			 "layouts)");
}

static aisp_err gemm_peak_setup_tf32(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_TF32);
}

static aisp_err gemm_peak_setup_fp16(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_FP16);
}

static aisp_err gemm_peak_setup_bf16(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_BF16);
}

static aisp_err gemm_peak_setup_fp8(const struct aisp_ctx *ctx, const struct aisp_params *p,
				    void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_FP8);
}

/* The host twin's tolerance, plus BF16 output rounding when D is BF16. */
static double gemm_peak_tolerance(const struct gemm_peak *g)
{
	double t = 1e-4 * fmax(1.0, sqrt(g->n / 256.0)) * (g->fmt == QUAL_FP8 ? 20.0 : 1.0);

	return g->bf16_out ? t + 4e-3 : t;
}

/* Float64 value of D(i, j) from the hash (the logical matrices of the twins). */
static double gemm_peak_ref(const struct gemm_peak *g, size_t i, size_t j)
{
	double ref = 0.0;
	size_t n = (size_t)g->n;

	for (size_t q = 0; q < n; q++)
		ref += qual_gemm_value(qual_hash(g->seed, 1, i * n + q)) *
		       qual_gemm_value(qual_hash(g->seed, 2, j * n + q));
	return ref;
}

/* Poison D, run once, compare sampled entries with float64 sums. */
static aisp_err gemm_peak_verify(void *state, struct aisp_check *out)
{
	static const char *const names[] = {"tf32", "fp16", "bf16", "fp8 e4m3"};
	struct gemm_peak *g = (struct gemm_peak *)state;
	struct qual_peak pk = qual_peak_of(g->gpu);
	size_t nn = (size_t)g->n * g->n, bad = 0;
	float hs[GEMM_PEAK_SAMPLES];
	double num = 0.0, den = 0.0;
	aisp_err rc;

	out->rel_error = out->tolerance = NAN;
	if (g->skip[0]) {
		out->passed = 1;
		out->skipped = 1;
		snprintf(out->message, sizeof(out->message), "%s", g->skip);
		return AISP_OK;
	}
	if (cudaMemsetAsync(g->d, 0xff, nn * sizeof(float), g->stream))
		return qual_fail(g->err, AISP_EDEVICE, "gemm_peak verify: poison D");
	if ((rc = gemm_peak_run(g)))
		return rc;
	gemm_peak_gather<<<1, GEMM_PEAK_SAMPLES, 0, g->stream>>>(g->d, g->bf16_out, g->idx, g->samp,
								  GEMM_PEAK_SAMPLES);
	if (cudaGetLastError() || cudaMemcpyAsync(hs, g->samp, sizeof(hs), cudaMemcpyDeviceToHost,
						  g->stream) ||
	    cudaStreamSynchronize(g->stream))
		return qual_fail(g->err, AISP_EDEVICE, "gemm_peak verify: GEMM and sample gather");
	for (int s = 0; s < GEMM_PEAK_SAMPLES; s++) {
		size_t at = qual_hash(g->seed, 9, s) % nn;
		double ref = gemm_peak_ref(g, at / g->n, at % g->n), d = (double)hs[s] - ref;

		bad += !isfinite(hs[s]);
		num += d * d;
		den += ref * ref;
	}
	out->rel_error = bad ? NAN : sqrt(num / (den > 0.0 ? den : 1.0));
	out->tolerance = gemm_peak_tolerance(g);
	out->passed = !bad && out->rel_error <= out->tolerance;
	snprintf(out->message, sizeof(out->message),
		 "%d^3 %s cuBLASLt, D %s: %d samples vs fp64 rel err %.3g (tol %.3g), %zu non-finite; "
		 "datasheet dense peak %.1f TFLOP/s (%s)",
		 g->n, names[g->fmt], g->bf16_out ? "bf16" : "fp32", GEMM_PEAK_SAMPLES,
		 out->rel_error, out->tolerance, bad,
		 g->fmt == QUAL_TF32 ? pk.tf32 : g->fmt == QUAL_FP8 ? pk.fp8 : pk.fp16, pk.model);
	return AISP_OK;
}

/* 2 n^3 flop per iteration (as the host twin). */
static double gemm_peak_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[0] * p->v[0];
}

static const struct aisp_variant gemm_peak_variants[] = {
	{"baseline_tf32", AISP_ROLE_BASELINE, "cuBLASLt TF32 tensor cores, FP32 accumulate",
	 gemm_peak_setup_tf32, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_fp16", AISP_ROLE_OPTIMIZED, "cuBLASLt FP16 inputs, FP32 accumulate",
	 gemm_peak_setup_fp16, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_bf16", AISP_ROLE_OPTIMIZED, "cuBLASLt BF16 inputs, FP32 accumulate",
	 gemm_peak_setup_bf16, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_fp8", AISP_ROLE_OPTIMIZED, "cuBLASLt FP8 E4M3 inputs (TN), FP32 accumulate",
	 gemm_peak_setup_fp8, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
};

extern "C" const struct aisp_target qual_gemm_peak_cuda = {
	AISP_ABI_VERSION,
	"qual:gemm_peak",
	AISP_BACKEND_CUDA,
	"dense square GEMM throughput in TF32, FP16, BF16, FP8 through cuBLASLt (flop/s)",
	"throughput",
	gemm_peak_params,
	sizeof(gemm_peak_params) / sizeof(gemm_peak_params[0]),
	gemm_peak_variants,
	sizeof(gemm_peak_variants) / sizeof(gemm_peak_variants[0]),
	gemm_peak_flops,
	"flop",
	NULL,
	gemm_peak_flops,
	0,
};
