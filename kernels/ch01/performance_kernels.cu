/*
 * performance_kernels.cu - the own kernels of ch01:performance on CUDA:
 * bias+ReLU, ReLU backward, softmax cross-entropy, bias gradients folded
 * into SGD, SGD and casts. Every launcher checks its launch. The fused
 * weight update is in performance_update.cu.
 */
#include "performance_cuda.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define PERF_THREADS 256
#define PERF_BG_COLS 32 /* columns per bias-gradient block */
#define PERF_BG_ROWS 16 /* row lanes per bias-gradient block */

/* Blocks for n elements at PERF_THREADS each, capped for grid-stride loops. */
static unsigned perf_blocks(size_t n)
{
	size_t b = (n + PERF_THREADS - 1) / PERF_THREADS;

	if (b > 65535u * 8)
		b = 65535u * 8;
	return b ? (unsigned)b : 1;
}

/* The launch status of the kernel just enqueued. */
static aisp_err perf_launched(void)
{
	return perf_cu(cudaGetLastError());
}

aisp_err perf_cu(cudaError_t e)
{
	if (e == cudaSuccess)
		return AISP_OK;
	return e == cudaErrorMemoryAllocation ? AISP_ENOMEM : AISP_EDEVICE;
}

aisp_err perf_blas(cublasStatus_t s)
{
	if (s == CUBLAS_STATUS_SUCCESS)
		return AISP_OK;
	return s == CUBLAS_STATUS_ALLOC_FAILED ? AISP_ENOMEM : AISP_EDEVICE;
}

/* h = act(h + bias) over rows columns of n features. */
__global__ void perf_bias_act_kernel(float *h, const float *bias, int n, int ld,
				     int rows, int relu)
{
	size_t total = (size_t)n * rows;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x) {
		int j = (int)(i % n);
		size_t b = i / n;
		float v = h[b * ld + j] + bias[j];
		h[b * ld + j] = relu ? fmaxf(v, 0.0f) : v;
	}
}

aisp_err perf_k_bias_act(float *h, const float *bias, int n, int ld, int rows,
			 int relu, cudaStream_t s)
{
	perf_bias_act_kernel<<<perf_blocks((size_t)n * rows), PERF_THREADS, 0, s>>>(
		h, bias, n, ld, rows, relu);
	return perf_launched();
}

/* dh = h > 0 ? dh : 0 elementwise over an n x rows block. */
template <typename T>
__global__ void perf_relu_bwd_kernel(T *dh, const T *h, int n, int ld, int rows)
{
	size_t total = (size_t)n * rows;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x) {
		size_t at = (i / n) * ld + i % n;
		if (!((float)h[at] > 0.0f))
			dh[at] = (T)0.0f;
	}
}

aisp_err perf_k_relu_bwd_f32(float *dh, const float *h, int n, int ld, int rows,
			     cudaStream_t s)
{
	perf_relu_bwd_kernel<float><<<perf_blocks((size_t)n * rows), PERF_THREADS, 0, s>>>(
		dh, h, n, ld, rows);
	return perf_launched();
}

aisp_err perf_k_relu_bwd_f16(__half *dh, const __half *h, int n, int ld, int rows,
			     cudaStream_t s)
{
	perf_relu_bwd_kernel<__half><<<perf_blocks((size_t)n * rows), PERF_THREADS, 0, s>>>(
		dh, h, n, ld, rows);
	return perf_launched();
}

/* One thread per sample: stable log-softmax, loss and scaled gradient. */
template <typename T>
__global__ void perf_softmax_xent_kernel(const float *z, const int *y, int classes,
					 int ld, int rows, float scale, T *dz, float *loss)
{
	int b = blockIdx.x * blockDim.x + threadIdx.x;

	if (b >= rows)
		return;
	const float *zb = z + (size_t)b * ld;
	float mx = zb[0];
	for (int j = 1; j < classes; j++)
		mx = fmaxf(mx, zb[j]);
	float sum = 0.0f;
	for (int j = 0; j < classes; j++)
		sum += expf(zb[j] - mx);
	float lse = mx + logf(sum);
	int label = y[b];
	loss[b] = lse - zb[label];
	for (int j = 0; j < ld; j++) {
		float g = 0.0f;
		if (j < classes)
			g = scale * (expf(zb[j] - lse) - (j == label ? 1.0f : 0.0f));
		dz[(size_t)b * ld + j] = (T)g;
	}
}

aisp_err perf_k_softmax_xent_f32(const float *z, const int *y, int classes, int ld,
				 int rows, float scale, float *dz, float *loss,
				 cudaStream_t s)
{
	unsigned blocks = (unsigned)((rows + 127) / 128);

	perf_softmax_xent_kernel<float><<<blocks, 128, 0, s>>>(z, y, classes, ld, rows,
							       scale, dz, loss);
	return perf_launched();
}

aisp_err perf_k_softmax_xent_f16(const float *z, const int *y, int classes, int ld,
				 int rows, float scale, __half *dz, float *loss,
				 cudaStream_t s)
{
	unsigned blocks = (unsigned)((rows + 127) / 128);

	perf_softmax_xent_kernel<__half><<<blocks, 128, 0, s>>>(z, y, classes, ld, rows,
								scale, dz, loss);
	return perf_launched();
}

/*
 * Column sums of dy (n features x rows samples) in a fixed order: each block
 * owns PERF_BG_COLS features; its row lanes stride over samples, then one
 * shared-memory pass adds the lanes. out = beta*out + alpha*sum; copy = half(out).
 */
template <typename T>
__global__ void perf_bias_grad_kernel(const T *dy, int n, int ld, int rows, float alpha,
				      float beta, float *out, __half *copy)
{
	__shared__ float part[PERF_BG_ROWS][PERF_BG_COLS + 1];
	int j = blockIdx.x * PERF_BG_COLS + threadIdx.x;
	float acc = 0.0f;

	if (j < n)
		for (int b = threadIdx.y; b < rows; b += PERF_BG_ROWS)
			acc += (float)dy[(size_t)b * ld + j];
	part[threadIdx.y][threadIdx.x] = acc;
	__syncthreads();
	if (threadIdx.y != 0 || j >= n)
		return;
	for (int r = 1; r < PERF_BG_ROWS; r++)
		acc += part[r][threadIdx.x];
	float v = alpha * acc;
	if (beta != 0.0f)
		v += beta * out[j];
	out[j] = v;
	if (copy)
		copy[j] = __float2half_rn(v);
}

aisp_err perf_k_bias_grad_f32(const float *dy, int n, int ld, int rows, float alpha,
			      float beta, float *out, cudaStream_t s)
{
	dim3 block(PERF_BG_COLS, PERF_BG_ROWS);
	unsigned blocks = (unsigned)((n + PERF_BG_COLS - 1) / PERF_BG_COLS);

	perf_bias_grad_kernel<float><<<blocks, block, 0, s>>>(dy, n, ld, rows, alpha, beta,
							      out, NULL);
	return perf_launched();
}

aisp_err perf_k_bias_grad_f16(const __half *dy, int n, int ld, int rows, float alpha,
			      float beta, float *out, __half *copy, cudaStream_t s)
{
	dim3 block(PERF_BG_COLS, PERF_BG_ROWS);
	unsigned blocks = (unsigned)((n + PERF_BG_COLS - 1) / PERF_BG_COLS);

	perf_bias_grad_kernel<__half><<<blocks, block, 0, s>>>(dy, n, ld, rows, alpha, beta,
							       out, copy);
	return perf_launched();
}

/* w -= lr * g. */
__global__ void perf_sgd_kernel(float *w, const float *g, float lr, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		w[i] -= lr * g[i];
}

aisp_err perf_k_sgd(float *w, const float *g, float lr, size_t n, cudaStream_t s)
{
	perf_sgd_kernel<<<perf_blocks(n), PERF_THREADS, 0, s>>>(w, g, lr, n);
	return perf_launched();
}

/* dst = (half)src, round to nearest. */
__global__ void perf_f32_to_f16_kernel(__half *dst, const float *src, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		dst[i] = __float2half_rn(src[i]);
}

/* dst = (float)src. */
__global__ void perf_f16_to_f32_kernel(float *dst, const __half *src, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		dst[i] = __half2float(src[i]);
}

/* dst[8i..8i+8) = (half)src[8i..8i+8) for i < n8: two 16-byte loads, one
 * 16-byte store per thread and step. */
__global__ void perf_f32_to_f16_x8_kernel(uint4 *dst, const float4 *src, size_t n8)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n8;
	     i += (size_t)gridDim.x * blockDim.x) {
		float4 a = src[2 * i], b = src[2 * i + 1];
		__half2 h[4] = {__floats2half2_rn(a.x, a.y), __floats2half2_rn(a.z, a.w),
				__floats2half2_rn(b.x, b.y), __floats2half2_rn(b.z, b.w)};
		uint4 v;

		memcpy(&v, h, sizeof(v));
		dst[i] = v;
	}
}

aisp_err perf_k_f32_to_f16(__half *dst, const float *src, size_t n, cudaStream_t s)
{
	size_t n8 = ((uintptr_t)dst % 16 || (uintptr_t)src % 16) ? 0 : n / 8;

	if (n8) {
		perf_f32_to_f16_x8_kernel<<<perf_blocks(n8), PERF_THREADS, 0, s>>>(
			(uint4 *)dst, (const float4 *)src, n8);
		aisp_err rc = perf_launched();
		if (rc != AISP_OK || n8 * 8 == n)
			return rc;
	}
	perf_f32_to_f16_kernel<<<perf_blocks(n - n8 * 8), PERF_THREADS, 0, s>>>(
		dst + n8 * 8, src + n8 * 8, n - n8 * 8);
	return perf_launched();
}

aisp_err perf_k_f16_to_f32(float *dst, const __half *src, size_t n, cudaStream_t s)
{
	perf_f16_to_f32_kernel<<<perf_blocks(n), PERF_THREADS, 0, s>>>(dst, src, n);
	return perf_launched();
}

/* *bad += number of i < n with h[i] != half(m[i]) (bit for bit). */
__global__ void perf_copy_mismatch_kernel(const float *m, const __half *h, size_t n,
					  unsigned long long *bad)
{
	unsigned long long mine = 0;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		mine += __half_as_ushort(__float2half_rn(m[i])) != __half_as_ushort(h[i]);
	if (mine)
		atomicAdd(bad, mine);
}

aisp_err perf_k_copy_mismatch(const float *m, const __half *h, size_t n,
			      unsigned long long *bad, cudaStream_t s)
{
	perf_copy_mismatch_kernel<<<perf_blocks(n), PERF_THREADS, 0, s>>>(m, h, n, bad);
	return perf_launched();
}
