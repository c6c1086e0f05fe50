/*
 * qual_cuda.cuh - device helpers shared by the qual CUDA targets: grid
 * sizes, hash fills and exact-equality checks (a mismatch count, so verify
 * reads back one number instead of the buffer).
 */
#ifndef AISP_QUAL_CUDA_CUH
#define AISP_QUAL_CUDA_CUH

#include <cuda_runtime.h>

extern "C" {
#include "aisp.h"
}
#include "qual.h"

#define QUAL_THREADS 256

/* Blocks for a grid-stride loop over n elements on device dev: enough to
 * fill every SM several times over, never more than the elements need. */
static inline unsigned qual_blocks(int dev, size_t n)
{
	int sms = 132;
	size_t want = (n + QUAL_THREADS - 1) / QUAL_THREADS;

	cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
	if (want > (size_t)sms * 16)
		want = (size_t)sms * 16;
	return want ? (unsigned)want : 1u;
}

/* x[i] = qual_int_value(qual_hash(seed, salt, i)) for i < n. */
static __global__ void qual_fill_int(double *x, size_t n, uint64_t seed, uint64_t salt)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] = qual_int_value(qual_hash(seed, salt, i));
}

/* x[i] = qual_hash(seed, salt, i) for i < n (raw 64-bit words). */
static __global__ void qual_fill_words(uint64_t *x, size_t n, uint64_t seed, uint64_t salt)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] = qual_hash(seed, salt, i);
}

/* *bad += number of i < n with x[i] != qual_hash(seed, salt, i). */
static __global__ void qual_check_words(const uint64_t *x, size_t n, uint64_t seed,
					uint64_t salt, unsigned long long *bad)
{
	unsigned long long mine = 0;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		mine += x[i] != qual_hash(seed, salt, i);
	if (mine)
		atomicAdd(bad, mine);
}

/* AISP_OK for cudaSuccess, else AISP_EDEVICE with "what: <e>" in err (may be NULL). */
static inline aisp_err qual_cuda(aisp_error *err, cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return AISP_OK;
	return aisp_fail(err, AISP_EDEVICE, "%s: %s", what, cudaGetErrorString(e));
}

/* rc, with "what: <the last CUDA runtime error>" put in err (may be NULL). */
static inline aisp_err qual_fail(aisp_error *err, aisp_err rc, const char *what)
{
	cudaError_t e = cudaGetLastError();

	return aisp_fail(err, rc, "%s: %s", what,
			 e == cudaSuccess ? "no CUDA error recorded" : cudaGetErrorString(e));
}

#endif /* AISP_QUAL_CUDA_CUH */
