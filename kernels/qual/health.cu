/*
 * health.cu - qual:health on CUDA (health.h): the load is BF16 GEMMs
 * n x n x n (cublasGemmEx on the backend's handle, FP32 accumulate); the
 * facts are NVML's as the harness reads them.
 */
#include <cublas_v2.h>

#include "health.h"
#include "qual_cuda.cuh"

/* Everything the variant owns. */
struct health {
	struct health_probe probe;   /* first: what the judgement needs */
	int n, dev;
	cudaStream_t stream;
	cublasHandle_t blas;
	void *a, *b, *c;             /* BF16 n x n */
	aisp_error *err;             /* ctx->err: where failures are explained */
};

/* A[t] = BF16 bits of qual_gemm_value(qual_hash(seed, salt, t)). */
static __global__ void health_fill(uint16_t *x, size_t n, uint64_t seed, uint64_t salt)
{
	for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < n;
	     t += (size_t)gridDim.x * blockDim.x)
		x[t] = (uint16_t)qual_gemm_bits(qual_hash(seed, salt, t), QUAL_BF16);
}

/* One GEMM of the load on the stream; never synchronizes. */
static aisp_err health_run(void *state)
{
	struct health *h = (struct health *)state;
	const float one = 1.0f, zero = 0.0f;
	cublasStatus_t s;

	s = cublasGemmEx(h->blas, CUBLAS_OP_N, CUBLAS_OP_N, h->n, h->n, h->n, &one, h->a,
			 CUDA_R_16BF, h->n, h->b, CUDA_R_16BF, h->n, &zero, h->c, CUDA_R_16BF, h->n,
			 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
	if (s == CUBLAS_STATUS_SUCCESS)
		return AISP_OK;
	return aisp_fail(h->err, AISP_EDEVICE, "health load: cublasGemmEx BF16: %s",
			 cublasGetStatusString(s));
}

/* Thresholds and free memory first, then buffers (the harness's) and inputs. */
static aisp_err health_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct health *h = (struct health *)aisp_alloc(ctx, sizeof(*h));
	size_t nn;

	if (!h)
		return AISP_ENOMEM;
	health_probe_init(&h->probe, ctx, p);
	h->n = (int)p->v[QH_N];
	h->dev = ctx->device;
	h->stream = (cudaStream_t)ctx->stream;
	h->blas = (cublasHandle_t)ctx->blas;
	h->err = ctx->err;
	nn = (size_t)h->n * h->n;
	h->a = aisp_device_alloc(ctx, nn * 2);
	h->b = aisp_device_alloc(ctx, nn * 2);
	h->c = aisp_device_alloc(ctx, nn * 2);
	if (!h->a || !h->b || !h->c)
		return AISP_ENOMEM;
	health_fill<<<qual_blocks(h->dev, nn), QUAL_THREADS, 0, h->stream>>>((uint16_t *)h->a, nn,
									    ctx->seed, 1);
	health_fill<<<qual_blocks(h->dev, nn), QUAL_THREADS, 0, h->stream>>>((uint16_t *)h->b, nn,
									    ctx->seed, 2);
	if (!h->blas || cudaGetLastError() || cudaStreamSynchronize(h->stream) ||
	    cublasSetPointerMode(h->blas, CUBLAS_POINTER_MODE_HOST))
		return qual_fail(ctx->err, AISP_EDEVICE, "health setup (inputs)");
	*state = h;
	return AISP_OK;
}

/* The load held for load_ms while the harness samples NVML; judged. */
static aisp_err health_verify(void *state, struct aisp_check *out)
{
	struct health *h = (struct health *)state;

	return health_probe_verify(&h->probe, h, out);
}

static const struct aisp_ops health_ops = {health_setup, health_run, health_verify};

static const struct aisp_variant health_variants[] = {
	{"baseline_health", AISP_ROLE_BASELINE,
	 "NVML facts judged under load; timed: BF16 cublasGemmEx load", &health_ops},
};

extern "C" const struct aisp_target qual_health_cuda = {AISP_ABI_VERSION, &health_card,
							 AISP_BACKEND_CUDA,
							 AISP_LIST(health_variants)};
