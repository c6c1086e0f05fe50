/*
 * gemm_peak.cu - qual:gemm_peak on CUDA (gemm_peak.h): the GEMM through
 * cuBLASLt, D = A^T B (column-major, the "TN" layout FP8 needs, kept for
 * every precision so the variants differ only in types): TF32 through
 * CUBLAS_COMPUTE_32F_FAST_TF32, FP16/BF16/FP8 E4M3 (sm_89 and newer) with
 * FP32 accumulate. D is FP32 (for FP8, BF16 when cuBLASLt has no
 * FP32-output kernel). The algorithm is cuBLASLt's first heuristic pick
 * with a 64 MiB workspace. A precision the GPU lacks reports the variant
 * skipped, with the reason. Inputs are drawn on the device; the message
 * quotes the datasheet dense peak of the precision (qual.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublasLt.h>
#include <cuda_bf16.h>

#include "gemm_peak.h"
#include "qual_cuda.cuh"

#define GEMM_PEAK_WS (64u << 20)

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

/* Destroy the cuBLASLt handle and descriptors (the memory is the harness's);
 * state may be half-built. */
static void gemm_peak_teardown(void *state)
{
	struct gemm_peak *g = (struct gemm_peak *)state;

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
				void **state)
{
	struct gemm_peak *g = (struct gemm_peak *)aisp_alloc(ctx, sizeof(*g));
	enum qual_fmt fmt = *(const enum qual_fmt *)ctx->variant->arg;
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
	g->a = aisp_device_alloc(ctx, nn * qual_fmt_size(fmt));
	g->b = aisp_device_alloc(ctx, nn * qual_fmt_size(fmt));
	g->d = aisp_device_alloc(ctx, nn * sizeof(float));
	g->ws = aisp_device_alloc(ctx, GEMM_PEAK_WS);
	g->idx = (size_t *)aisp_device_alloc(ctx, sizeof(hidx));
	g->samp = (float *)aisp_device_alloc(ctx, GEMM_PEAK_SAMPLES * sizeof(float));
	if (!g->a || !g->b || !g->d || !g->ws || !g->idx || !g->samp)
		goto fail;
	for (int s = 0; s < GEMM_PEAK_SAMPLES; s++) { /* logical (i, j) -> column-major i + j n */
		size_t at = gemm_peak_sample(g->seed, g->n, s);

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

/* The host twin's tolerance, plus BF16 output rounding when D is BF16. */
static double gemm_peak_tolerance(const struct gemm_peak *g)
{
	double t = gemm_peak_tolerance(g->n, g->fmt);

	return g->bf16_out ? t + 4e-3 : t;
}

/* Poison D, run once, compare sampled entries with float64 sums. */
static aisp_err gemm_peak_verify(void *state, struct aisp_check *out)
{
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
		size_t at = gemm_peak_sample(g->seed, g->n, s);
		double ref = gemm_peak_ref(g->seed, g->n, at / g->n, at % g->n), d = (double)hs[s] - ref;

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
		 g->n, gemm_peak_fmt_name[g->fmt], g->bf16_out ? "bf16" : "fp32", GEMM_PEAK_SAMPLES,
		 out->rel_error, out->tolerance, bad,
		 g->fmt == QUAL_TF32 ? pk.tf32 : g->fmt == QUAL_FP8 ? pk.fp8 : pk.fp16, pk.model);
	return AISP_OK;
}

static const struct aisp_ops gemm_peak_ops = {gemm_peak_setup, gemm_peak_run, gemm_peak_verify,
					      gemm_peak_teardown};

static const struct aisp_variant gemm_peak_variants[] = {
	{"baseline_tf32", AISP_ROLE_BASELINE, "cuBLASLt TF32 tensor cores, FP32 accumulate",
	 &gemm_peak_ops, &gemm_peak_fmt[QUAL_TF32]},
	{"optimized_fp16", AISP_ROLE_OPTIMIZED, "cuBLASLt FP16 inputs, FP32 accumulate",
	 &gemm_peak_ops, &gemm_peak_fmt[QUAL_FP16]},
	{"optimized_bf16", AISP_ROLE_OPTIMIZED, "cuBLASLt BF16 inputs, FP32 accumulate",
	 &gemm_peak_ops, &gemm_peak_fmt[QUAL_BF16]},
	{"optimized_fp8", AISP_ROLE_OPTIMIZED, "cuBLASLt FP8 E4M3 inputs (TN), FP32 accumulate",
	 &gemm_peak_ops, &gemm_peak_fmt[QUAL_FP8]},
};

extern "C" const struct aisp_target qual_gemm_peak_cuda = {AISP_ABI_VERSION, &gemm_peak_card,
							    AISP_BACKEND_CUDA,
							    AISP_LIST(gemm_peak_variants)};
