/*
 * performance_cuda.h - internals of ch01:performance on CUDA, shared by
 * performance.cu (the target), performance_kernels.cu (own kernels),
 * performance_lt.cu (cuBLASLt helper) and the GPU tests (tests/gpu), which
 * reach the fused step's operations through the functions declared here.
 * Not part of the runner contract.
 */
#ifndef AISP_PERFORMANCE_CUDA_H
#define AISP_PERFORMANCE_CUDA_H

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

extern "C" {
#include "aisp.h"
}

/* Parameters of the MLP in one place. */
struct perf_shape {
	int input, hidden, classes;
	int microbatch, microbatches, accum;
	double lr;
	int cp;      /* classes rounded up to 8: leading dimension of logits */
	int samples; /* microbatch * microbatches */
	int group;   /* microbatch * accum: samples per SGD step */
	int steps;   /* microbatches / accum */
};

/* The six parameter tensors, in this order, in one padded vector
 * (mlp_ref.h's order: W row-major [out][in]). */
enum { PERF_W1, PERF_B1, PERF_W2, PERF_B2, PERF_W3, PERF_B3, PERF_NSEG };

struct perf_layout {
	size_t off[PERF_NSEG];
	size_t len[PERF_NSEG];
	size_t total;
};

/* Inputs and the initial parameters, the same for both variants. */
struct perf_data {
	struct perf_shape sh;
	struct perf_layout lay;
	cudaStream_t stream;
	cublasHandle_t blas;
	float *x;    /* [samples x input] */
	int *y;      /* [samples] labels */
	float *p0;   /* initial parameters, padded layout */
	float *loss; /* [samples] per-sample loss of the last iteration */
	int fused;   /* 1 in struct perf_opt, 0 in struct perf_base */
};

/* How the fused step updates W1 and W2 (the variant's switch). */
enum perf_update {
	PERF_UPDATE_LT = 0,    /* cuBLASLt GEMM into the FP32 master (beta 1), then a cast */
	PERF_UPDATE_FUSED = 1, /* own kernel: master and FP16 copy written in one pass */
	PERF_UPDATE_FUSED_PRE = 2, /* the same, masters prefetched into shared memory */
};

/* The operations of one fused step, in stream order. */
enum perf_op {
	OP_FC1, OP_FC2, OP_FC3, OP_XENT, OP_DX3, OP_MASK2, OP_DW3, OP_CAST3, OP_DB3,
	OP_DX2, OP_MASK1, OP_DW2, OP_CAST2, OP_DB2, OP_DW1, OP_CAST1, OP_DB1, OP_N
};

/* Names of the operations, for reports. */
extern const char *const perf_op_name[OP_N];

/* One cuBLASLt GEMM, built once (performance_lt.cu). */
struct perf_gemm {
	cublasLtMatmulDesc_t desc;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulAlgo_t algo;
};

/* Streams of the fused graph; GEMMs on different streams may run at once,
 * so each stream has its own cuBLASLt workspace. */
enum { PERF_ST_MAIN, PERF_ST_SIDE, PERF_ST_SIDE2, PERF_NST };
#define PERF_NEV (OP_N + 2) /* one fork event per op, the side join, the dW2 join */
#define PERF_EV_SIDE (OP_N)
#define PERF_EV_DW2 (OP_N + 1)

/* The fused (optimized) variant. */
struct perf_opt {
	struct perf_data d;
	cublasLtHandle_t lt;
	void *ws[PERF_NST];             /* cuBLASLt workspace per stream */
	__half *xh;                     /* the data in FP16 */
	float *w1m, *w2m, *w3m;         /* FP32 master weights */
	float *b1m, *b2m, *b3m;         /* FP32 master biases */
	__half *w1, *w2, *w3, *b1h, *b2h; /* FP16 copies the GEMMs read */
	__half *h1, *h2, *dh1, *dh2, *dz; /* activations and their gradients */
	float *z;                       /* logits (FP32) */
	void *mask1, *mask2;            /* ReLU bit masks (cuBLASLt AUX) */
	int fallback;                   /* 1: ReLU masks by own kernel, not epilogues */
	struct perf_gemm fc1, fc2, fc3, dx3, dw3, dx2, dw2, dw1;
	float alpha;                    /* update scale -lr/group (dz is the summed
					 * loss's gradient, see performance.cu) */
	int update;                     /* enum perf_update of the captured graph */
	int fused_ok;                   /* the shape allows the own update kernel */
	int branches;                   /* 0 serial; 1 small ops on a side stream;
					 * 2 and dW2 on a second one */
	cudaStream_t st[PERF_NST];      /* capture stream, side, side2 */
	cudaEvent_t ev[PERF_NEV];
	cudaGraph_t graph;
	cudaGraphExec_t exec;
};

/* Map a CUDA status to an aisp_err (ENOMEM for allocation failures). */
aisp_err perf_cu(cudaError_t e);
/* Map a cuBLAS(Lt) status to an aisp_err. */
aisp_err perf_blas(cublasStatus_t s);

/* ---- the fused step (performance.cu), for the target and tests/gpu ---- */

/* Enqueue operation op of step g on stream st (its workspace ws). */
aisp_err perf_opt_op(struct perf_opt *o, int op, int g, cudaStream_t st, void *ws);
/* Capture one iteration (every step) into o->exec, replacing any, with
 * o->branches and o->update as they are. */
aisp_err perf_opt_capture(struct perf_opt *o);
/* Replace o->exec by the graph captured on o->st[PERF_ST_MAIN] that ended
 * with capture status rc (tests/gpu capture their own, serially). */
aisp_err perf_opt_instantiate(struct perf_opt *o, aisp_err rc);
/* Parameters back to the initial ones: FP32 masters and FP16 copies. */
aisp_err perf_opt_reset(struct perf_opt *o, cudaStream_t st);
/* The masters as FP32 in the padded layout, into device vector p. */
aisp_err perf_opt_export(struct perf_opt *o, float *p, cudaStream_t st);
/* Mean loss of each step of the last iteration into loss[steps]; syncs. */
aisp_err perf_step_losses(const struct perf_data *d, double *loss);
/* The GEMM of op (NULL when op is an own kernel). */
const struct perf_gemm *perf_opt_gemm(const struct perf_opt *o, int op);

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
/* dst = (half)src (round to nearest) over n elements; 16-byte accesses when
 * both are 16-byte aligned. */
aisp_err perf_k_f32_to_f16(__half *dst, const float *src, size_t n, cudaStream_t s);
/* dst = (float)src over n elements. */
aisp_err perf_k_f16_to_f32(float *dst, const __half *src, size_t n, cudaStream_t s);
/* *bad += how many of h[0..n) differ from half(m[i]), bit for bit. */
aisp_err perf_k_copy_mismatch(const float *m, const __half *h, size_t n,
			      unsigned long long *bad, cudaStream_t s);

/*
 * The fused SGD update of one weight (performance_update.cu):
 *   wm[m][n] += alpha * sum_k a[k][m] * b[k][n];  wh[m][n] = (half)wm[m][n]
 * for m < M, n < N, k < K: a is the output gradient [K][lda] (M used), b the
 * layer input [K][ldb] (N used), both FP16 row-major; wm the FP32 master and
 * wh its FP16 copy, both [M][N]. FP16 products, FP32 sums (tensor cores).
 * One read and one write of the master, one write of the copy. prefetch:
 * the block's masters copied to shared memory before its main loop.
 */
aisp_err perf_k_update(const __half *a, int lda, const __half *b, int ldb, float *wm,
		       __half *wh, int M, int N, int K, float alpha, int prefetch,
		       cudaStream_t s);
/* 1 when perf_k_update takes this shape and these pointers. */
int perf_k_update_fits(const void *a, int lda, const void *b, int ldb, const void *wm,
		       const void *wh, int M, int N, int K);
/* Raise the kernel's shared-memory limit (once per process, before capture). */
aisp_err perf_k_update_prepare(void);

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
};

/* Build descriptors and pick the heuristic's first algo; EDEVICE if none. */
aisp_err perf_gemm_init(struct perf_gemm *g, cublasLtHandle_t lt,
			const struct perf_gemm_cfg *c, size_t workspace);
/* Enqueue D = alpha*op(A)op(B) + beta*C (C may equal D) on s. */
aisp_err perf_gemm_run(const struct perf_gemm *g, cublasLtHandle_t lt, const void *a,
		       const void *b, const void *c, void *d, float alpha, float beta,
		       void *workspace, size_t wsize, cudaStream_t s);
/* Up to max heuristic algos for g's descriptors (best first) into algos. */
aisp_err perf_gemm_candidates(const struct perf_gemm *g, cublasLtHandle_t lt, size_t workspace,
			      cublasLtMatmulAlgo_t *algos, int max, int *found);
/* Free the descriptors; safe on a zeroed struct. */
void perf_gemm_destroy(struct perf_gemm *g);

#define PERF_WORKSPACE (32u << 20)

#endif /* AISP_PERFORMANCE_CUDA_H */
