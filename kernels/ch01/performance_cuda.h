/*
 * performance_cuda.h - internals of ch01:performance on CUDA, shared by
 * performance.cu (target), performance_kernels.cu (own kernels) and
 * performance_lt.cu (cuBLASLt helper). Not part of the runner contract.
 */
#ifndef AISP_PERFORMANCE_CUDA_H
#define AISP_PERFORMANCE_CUDA_H

#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

extern "C" {
#include "aisp.h"
}

/* Parameters of the MLP in one place (indices of the params table). */
struct perf_shape {
	int input, hidden, classes;
	int microbatch, microbatches, accum;
	double lr;
	int cp;      /* classes rounded up to 8: leading dimension of logits */
	int samples; /* microbatch * microbatches */
	int group;   /* microbatch * accum: samples per SGD step */
};

/* The six parameter tensors, in this order, in one padded vector. */
enum { PERF_W1, PERF_B1, PERF_W2, PERF_B2, PERF_W3, PERF_B3, PERF_NSEG };

struct perf_layout {
	size_t off[PERF_NSEG];
	size_t len[PERF_NSEG];
	size_t total;
};

/* Map a CUDA status to an aisp_err (ENOMEM for allocation failures). */
aisp_err perf_cu(cudaError_t e);
/* Map a cuBLAS(Lt) status to an aisp_err. */
aisp_err perf_blas(cublasStatus_t s);

/* ---- own kernels (performance_kernels.cu); each checks its launch ---- */

/* h[b*ld+j] = act(h[b*ld+j] + bias[j]) for j < n, b < rows; relu if relu. */
aisp_err perf_k_bias_act(float *h, const float *bias, int n, int ld, int rows,
			 int relu, cudaStream_t s);
/* dh[i] = h[i] > 0 ? dh[i] : 0 over an n x rows block of leading dim ld. */
aisp_err perf_k_relu_bwd_f32(float *dh, const float *h, int n, int ld, int rows,
			     cudaStream_t s);
aisp_err perf_k_relu_bwd_f16(__half *dh, const __half *h, int n, int ld, int rows,
			     cudaStream_t s);
/*
 * Softmax cross-entropy over rows samples of classes logits (leading dim ld):
 * loss[b] = -log softmax(z_b)[y_b]; dz[b*ld+j] = scale * (p_bj - [j == y_b]),
 * pad rows j in [classes, ld) written as 0.
 */
aisp_err perf_k_softmax_xent_f32(const float *z, const int *y, int classes, int ld,
				 int rows, float scale, float *dz, float *loss,
				 cudaStream_t s);
aisp_err perf_k_softmax_xent_f16(const float *z, const int *y, int classes, int ld,
				 int rows, float scale, __half *dz, float *loss,
				 cudaStream_t s);
/*
 * Bias gradient folded into an update: out[j] = beta*out[j] + alpha*sum_b dy[b*ld+j];
 * copy[j] = (half)out[j] when copy is not NULL. Deterministic (no atomics).
 */
aisp_err perf_k_bias_grad_f32(const float *dy, int n, int ld, int rows, float alpha,
			      float beta, float *out, cudaStream_t s);
aisp_err perf_k_bias_grad_f16(const __half *dy, int n, int ld, int rows, float alpha,
			      float beta, float *out, __half *copy, cudaStream_t s);
/* w[i] -= lr * g[i] for i < n. */
aisp_err perf_k_sgd(float *w, const float *g, float lr, size_t n, cudaStream_t s);
/* Element casts over n elements. */
aisp_err perf_k_f32_to_f16(__half *dst, const float *src, size_t n, cudaStream_t s);
aisp_err perf_k_f16_to_f32(float *dst, const __half *src, size_t n, cudaStream_t s);
/* Deterministic split-K reduction: out[i] = (half)(scale * sum over s < splits of
 * part[s*n + i]), the splits added in order. */
aisp_err perf_k_split_sum(const float *part, int splits, size_t n, float scale, __half *out,
			  cudaStream_t s);

/* ---- cuBLASLt GEMM (performance_lt.cu) ---- */

/* One column-major GEMM D = alpha*op(A)op(B) + beta*C with an epilogue. */
struct perf_gemm_cfg {
	cublasOperation_t opa, opb;
	int m, n, k;
	cudaDataType_t ta, tb, tcd;
	int lda, ldb, ldc;
	cublasLtEpilogue_t epilogue;
	const void *bias;  /* BIAS epilogues; bias type follows D */
	void *aux;         /* ReLU bit mask for *_AUX / DRELU */
	int aux_ld;        /* in bits, multiple of 128 */
	uint32_t align_ab; /* alignment of A and B pointers in bytes; 0: 256 */
	int batch;         /* > 1: strided batch of GEMMs (offsets below, in elements) */
	int64_t stride_a, stride_b, stride_c;
};

struct perf_gemm {
	cublasLtMatmulDesc_t desc;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
};

/* Build descriptors and pick the heuristic's first algo; EDEVICE if none. */
aisp_err perf_gemm_init(struct perf_gemm *g, cublasLtHandle_t lt,
			const struct perf_gemm_cfg *c, size_t workspace);
/* The same, the heuristic asked for a kernel that leaves SMs to a concurrent
 * stream: sm_target SMs (CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET; 0: all). */
aisp_err perf_gemm_init_sm(struct perf_gemm *g, cublasLtHandle_t lt,
			   const struct perf_gemm_cfg *c, size_t workspace, int sm_target);
/* Enqueue D = alpha*op(A)op(B) + beta*C (C may equal D) on s. */
aisp_err perf_gemm_run(const struct perf_gemm *g, cublasLtHandle_t lt, const void *a,
		       const void *b, const void *c, void *d, float alpha, float beta,
		       void *workspace, size_t wsize, cudaStream_t s);
/* Up to max heuristic algos for g's descriptors (best first) into algos. */
aisp_err perf_gemm_candidates(const struct perf_gemm *g, cublasLtHandle_t lt, size_t workspace,
			      cublasLtMatmulAlgo_t *algos, int max, int *found);
/* Free the descriptors; safe on a zeroed struct. */
void perf_gemm_destroy(struct perf_gemm *g);

#endif /* AISP_PERFORMANCE_CUDA_H */
