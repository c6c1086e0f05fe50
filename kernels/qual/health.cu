/*
 * health.cu - qual:health on CUDA: NVML facts judged rather than timed.
 *
 * Load: BF16 GEMMs n x n x n (cublasGemmEx on the backend's handle, FP32
 * accumulate), the timed part (flop/s). verify keeps the load running for
 * load_ms, two batches of GEMMs in flight (a batch doubles when the queue
 * ran dry between polls), and samples NVML facts (gpuinfo) every ~20 ms:
 * hottest temperature, highest power, lowest SM clock (after the first
 * quarter of the load, once clocks have ramped up) and every throttle
 * reason seen. Then it judges, against the params (qual.h):
 *   temperature under load, volatile ECC (uncorrected, corrected),
 *   retired pages / remapped rows, SM clock under load as % of its max,
 *   power as % of the limit, throttle reasons in bad_throttle, and free
 *   device memory before the load.
 * Any fact over its threshold fails the check with the reason; without
 * NVML the variant reports itself skipped. Polling reads the clock: it is
 * the health probe, not a timing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>

#include "qual_cuda.cuh"

extern "C" {
#include "gpuinfo.h"
}

#define HEALTH_POLL_NS 20000000L
#define HEALTH_RAMP_FRAC 0.25 /* first quarter of the load: clocks still ramping */

static const struct aisp_param health_params[] = QUAL_HEALTH_PARAMS(8192, 3000);

/* What was seen while the load ran. */
struct health_seen {
	unsigned hot_c, clock_min;
	double power_max;
	unsigned long long throttle;
	int samples, clock_samples;
};

/* Everything the variant owns. */
struct health {
	int n, dev;
	cudaStream_t stream;
	cublasHandle_t blas;
	struct gpuinfo *gi;
	double lim[AISP_MAX_PARAMS];
	double mem_free_pct;
	void *a, *b, *c;             /* BF16 n x n */
	cudaEvent_t ev[2];
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

/* Free everything setup made; state may be NULL or half-built. */
static void health_teardown(void *state)
{
	struct health *h = (struct health *)state;

	if (!h)
		return;
	if (h->stream)
		cudaStreamSynchronize(h->stream);
	for (int i = 0; i < 2; i++)
		if (h->ev[i])
			cudaEventDestroy(h->ev[i]);
	cudaFree(h->a);
	cudaFree(h->b);
	cudaFree(h->c);
	gpuinfo_close(h->gi);
	free(h);
}

/* Free memory share first, then buffers, inputs and NVML. */
static aisp_err health_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct health *h = (struct health *)calloc(1, sizeof(*h));
	size_t nn, fr = 0, tot = 0;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!h)
		return AISP_ENOMEM;
	h->n = (int)p->v[QH_N];
	h->dev = ctx->device;
	h->stream = (cudaStream_t)ctx->stream;
	h->blas = (cublasHandle_t)ctx->blas;
	h->err = ctx->err;
	memcpy(h->lim, p->v, sizeof(h->lim));
	nn = (size_t)h->n * h->n;
	h->mem_free_pct = cudaMemGetInfo(&fr, &tot) == cudaSuccess && tot ? 100.0 * fr / tot : NAN;
	if (cudaMalloc(&h->a, nn * 2) || cudaMalloc(&h->b, nn * 2) || cudaMalloc(&h->c, nn * 2))
		goto fail;
	health_fill<<<qual_blocks(h->dev, nn), QUAL_THREADS, 0, h->stream>>>((uint16_t *)h->a, nn,
									    ctx->seed, 1);
	health_fill<<<qual_blocks(h->dev, nn), QUAL_THREADS, 0, h->stream>>>((uint16_t *)h->b, nn,
									    ctx->seed, 2);
	rc = AISP_EDEVICE;
	if (!h->blas || cudaGetLastError() || cudaStreamSynchronize(h->stream) ||
	    cublasSetPointerMode(h->blas, CUBLAS_POINTER_MODE_HOST) ||
	    cudaEventCreateWithFlags(&h->ev[0], cudaEventDisableTiming) ||
	    cudaEventCreateWithFlags(&h->ev[1], cudaEventDisableTiming))
		goto fail;
	if (gpuinfo_open(&h->gi, NULL) != AISP_OK) {
		gpuinfo_close(h->gi);
		h->gi = NULL;
	}
	*state = h;
	return AISP_OK;
fail:
	health_teardown(h);
	return qual_fail(ctx->err, rc, "health setup (buffers, inputs, events)");
}

/* Fold one NVML sample into seen; the SM clock only once the load has
 * run a while (clock_ok), so that the ramp up from idle is not judged. */
static void health_sample(const struct health *h, struct health_seen *seen, int clock_ok)
{
	struct gpu_facts f;

	memset(&f, 0, sizeof(f));
	if (gpuinfo_read(h->gi, h->dev, &f, NULL) != AISP_OK || !f.valid)
		return;
	seen->hot_c = f.temperature_c > seen->hot_c ? f.temperature_c : seen->hot_c;
	seen->power_max = fmax(seen->power_max, f.power_w);
	if (clock_ok) {
		if (!seen->clock_samples || f.sm_clock_mhz < seen->clock_min)
			seen->clock_min = f.sm_clock_mhz;
		seen->clock_samples++;
	}
	seen->throttle |= f.throttle_reasons;
	seen->samples++;
}

/* Enqueue a batch of GEMMs and mark its end with event ev. */
static aisp_err health_batch(struct health *h, int gemms, cudaEvent_t ev)
{
	aisp_err rc = AISP_OK;

	for (int i = 0; i < gemms && !rc; i++)
		rc = health_run(h);
	return rc ? rc : qual_cuda(h->err, cudaEventRecord(ev, h->stream), "health load: event");
}

/* Keep two batches in flight for load_ms, sampling facts between polls. */
static aisp_err health_load(struct health *h, struct health_seen *seen)
{
	struct timespec nap = {0, HEALTH_POLL_NS};
	double start = qual_now(), stop = start + h->lim[QH_LOAD_MS] * 1e-3;
	int gemms = 1, k = 0;
	aisp_err rc;

	if ((rc = health_batch(h, gemms, h->ev[0])) || (rc = health_batch(h, gemms, h->ev[1])))
		return rc;
	while (qual_now() < stop) {
		nanosleep(&nap, NULL);
		health_sample(h, seen, qual_now() - start > HEALTH_RAMP_FRAC * (stop - start));
		if (cudaEventQuery(h->ev[k]) != cudaSuccess)
			continue;
		if (cudaEventQuery(h->ev[k ^ 1]) == cudaSuccess && gemms < 4096)
			gemms *= 2; /* both done: the queue ran dry, feed it more */
		if ((rc = health_batch(h, gemms, h->ev[k])))
			return rc;
		k ^= 1;
	}
	return qual_cuda(h->err, cudaStreamSynchronize(h->stream), "health load: GEMMs");
}

/* Run the load, sample NVML, judge every fact against its threshold. */
static aisp_err health_verify(void *state, struct aisp_check *out)
{
	struct health *h = (struct health *)state;
	struct health_seen seen = {0, 0, 0.0, 0, 0, 0};
	struct qual_verdict v;
	struct gpu_facts f;
	aisp_err rc;

	memset(&v, 0, sizeof(v));
	memset(&f, 0, sizeof(f));
	out->rel_error = out->tolerance = NAN;
	out->passed = 1;
	if (!h->gi || gpuinfo_read(h->gi, h->dev, &f, NULL) != AISP_OK || !f.valid) {
		out->skipped = 1;
		snprintf(out->message, sizeof(out->message),
			 "no NVML facts for GPU %d, nothing to judge", h->dev);
		return AISP_OK;
	}
	if ((rc = health_load(h, &seen)))
		return rc;
	gpuinfo_read(h->gi, h->dev, &f, NULL);
	qual_judge(&v, "temp_c", seen.samples ? seen.hot_c : NAN, h->lim[QH_MAX_TEMP], 1);
	qual_judge(&v, "ecc_ue", (double)f.ecc_uncorrected, h->lim[QH_MAX_UE], 1);
	qual_judge(&v, "ecc_ce", (double)f.ecc_corrected, h->lim[QH_MAX_CE], 1);
	qual_judge(&v, "retired", (double)f.retired_pages, h->lim[QH_MAX_RETIRED], 1);
	qual_judge(&v, "clock_pct", f.max_sm_clock_mhz && seen.clock_samples ? 100.0 * seen.clock_min /
			 f.max_sm_clock_mhz : NAN, h->lim[QH_MIN_CLOCK_PCT], 0);
	qual_judge(&v, "power_pct", f.power_limit_w > 0 && seen.samples ? 100.0 * seen.power_max /
			 f.power_limit_w : NAN, h->lim[QH_MAX_POWER_PCT], 1);
	qual_judge(&v, "bad_throttle", (double)(seen.throttle & (unsigned long long)
						h->lim[QH_BAD_THROTTLE]), 0, 1);
	qual_judge(&v, "mem_free_pct", h->mem_free_pct, h->lim[QH_MIN_MEM_FREE_PCT], 0);
	out->passed = !v.failed;
	snprintf(out->message, sizeof(out->message), "%s (%d samples, throttle 0x%llx): %.200s",
		 v.failed ? "unhealthy" : "healthy", seen.samples, seen.throttle,
		 v.failed ? v.bad : v.facts);
	return AISP_OK;
}

/* 2 n^3 flop per GEMM of the load. */
static double health_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[QH_N] * p->v[QH_N] * p->v[QH_N];
}

static const struct aisp_variant health_variants[] = {
	{"baseline_health", AISP_ROLE_BASELINE,
	 "NVML facts judged under load; timed: BF16 cublasGemmEx load",
	 health_setup, health_run, health_verify, health_teardown},
};

extern "C" const struct aisp_target qual_health_cuda = {
	AISP_ABI_VERSION,
	"qual:health",
	AISP_BACKEND_CUDA,
	"health facts judged (ECC, retired pages, clocks, temperature, power) under a GEMM load",
	"throughput",
	health_params,
	sizeof(health_params) / sizeof(health_params[0]),
	health_variants,
	sizeof(health_variants) / sizeof(health_variants[0]),
	health_flops,
	"flop",
	NULL,
	health_flops,
	0,
};
