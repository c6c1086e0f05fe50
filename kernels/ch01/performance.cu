/*
 * performance.cu - ch01:performance on CUDA: the training-goodput pair.
 *
 * An MLP input -> hidden -> ReLU -> hidden -> ReLU -> classes, softmax
 * cross-entropy, plain SGD; one iteration is `microbatches` microbatches of
 * `microbatch` samples and one SGD step per `accum` microbatches.
 *
 *   baseline_performance:  eager FP32 (TF32 GEMMs): cuBLAS per microbatch,
 *                          gradients accumulated, one SGD step per group.
 *   optimized_performance: FP16 weights, FP32 accumulation, each group as
 *                          one batch; cuBLASLt epilogues (bias+ReLU+mask,
 *                          ReLU gradient), SGD folded into the weight-update
 *                          GEMMs, own softmax/bias kernels, one CUDA graph;
 *                          lazy weights (struct perf_lazy): W1 read and
 *                          written once per iteration, W2 written every
 *                          PERF_PERIOD_DEFAULT steps, the steps in between
 *                          corrected through Gram matrices (same SGD steps).
 *
 * Matrices are row-major [rows x features] on the host side of the story,
 * i.e. column-major [features x rows] for cuBLAS: a weight W [out x in] is the
 * column-major (in x out) matrix with leading dimension in.
 */
#include "performance_cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "mlp_ref.h"
#include "performance.h"
}

#define PERF_WORKSPACE (32u << 20)
#define PERF_SEG_ALIGN 64 /* floats: every parameter tensor starts 256-byte aligned */

/*
 * Lazy weights (v4, notes/performance.md): the SGD steps of one iteration
 * without rewriting W1 every step, and W2 only every `period` steps. A
 * weight after t steps is W + a * sum_t D_t X_t^T (a = -lr/B, D_t the
 * step's output gradient, X_t its input), so a product with it is the
 * product with the stored W plus a low-rank correction through the Gram
 * matrix of the inputs: W1 is read once per iteration for all 2048 samples
 * and updated once with K = 2048; W2 is read by fc2/dx2 as before and
 * updated once per period with K = period*B.
 */
#define PERF_PMAX 8            /* longest W2 update period */
#define PERF_LAZY_MAXSTEPS 64  /* lazy W1: SGD steps per iteration at most */
#define PERF_LAZY_MAXS 16384   /* lazy W1: samples per iteration at most */
#define PERF_PERIOD_DEFAULT 4  /* W2 update period of the default graph; 0: v3 graph */
#define PERF_GRAM_PARTS 32     /* split-K parts of the 1-step W2 Gram */

struct perf_lazy {
	int ok;     /* buffers and descriptors built */
	const char *why; /* when not: the first part that failed (test hook) */
	int period; /* 0: v3 graph (all weights every step); else lazy, W2 every period steps */
	__half *p1;   /* [S x H] x W1^T at the iteration's start */
	__half *g1;   /* [S x S] X X^T of the iteration's inputs */
	__half *dh1;  /* [S x H] dh1 of every step */
	__half *zb;   /* [B x B] zeros: the empty correction of step 0 */
	__half *base; /* [B x H] fc2 / dx2 product with the stored W2 */
	__half *gram; /* [(PMAX-1)B x B] Gram of a W2 correction */
	float *part;  /* split-K parts of that Gram */
	int split[PERF_PMAX];
	int w1split; /* > 0: W1 updated for steps < w1split on side3 after that step's dx2 */
	int w1sm;    /* SMs that update asks for (0: all) */
	void *ws3;   /* cuBLASLt workspace of side3 */
	struct perf_gemm base1, gram1, dw1, fc2b, dx2b, dw1a, dw1b;
	struct perf_gemm corr1[PERF_LAZY_MAXSTEPS];
	struct perf_gemm gram2[PERF_PMAX], corr2[PERF_PMAX], corrdx[PERF_PMAX];
	struct perf_gemm dw2[PERF_PMAX + 1];
};

static void lz_free(struct perf_lazy *z);

/* fork/join events of the graph: one per op, the side join, the dW2 join */
#define OPT_NEV 18
#define OPT_EV_SIDE (OP_N)
#define OPT_EV_DW2 (OP_N + 1)
#define OPT_EV_DW1A (OP_N + 2)

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

/* The FP32 engine: parameters, gradients and one microbatch's activations. */
struct perf_f32 {
	float *p, *g;
	float *h1, *h2, *z, *dz, *dh1, *dh2;
};

struct perf_base {
	struct perf_data d;
	struct perf_f32 f;
};

struct perf_opt {
	struct perf_data d;
	cublasLtHandle_t lt;
	void *ws, *ws_side, *ws_side2; /* cuBLASLt workspace per concurrent stream */
	__half *xh, *w1, *w2, *w3, *b1h, *b2h;
	float *w3m, *b1m, *b2m, *b3m;
	__half *h1, *h2, *dh1, *dh2, *dz;
	float *z;
	void *mask1, *mask2;
	int fallback; /* 1: ReLU masks by own kernel, not cuBLASLt epilogues */
	struct perf_gemm fc1, fc2, fc3, dx3, dw3, dx2, dw2, dw1;
	int branches; /* 1: small ops on a side branch; 2: and dW2 on a second;
		       * 3: as 2, the main stream's kernels at higher priority */
	cudaStream_t cap, side, side2, side2lo, side3;
	cudaEvent_t ev[OPT_NEV];
	cudaGraph_t graph;
	cudaGraphExec_t exec;
	struct perf_lazy lz;
};

/* Read the shape from p; EINPUT when the groups do not tile the microbatches. */
static aisp_err perf_shape_get(const struct aisp_params *p, struct perf_shape *s)
{
	if (p->n != sizeof(perf_params) / sizeof(perf_params[0]))
		return AISP_EINPUT;
	s->input = (int)p->v[0];
	s->hidden = (int)p->v[1];
	s->classes = (int)p->v[2];
	s->microbatch = (int)p->v[3];
	s->microbatches = (int)p->v[4];
	s->accum = (int)p->v[5];
	s->lr = p->v[6];
	s->cp = (s->classes + 7) / 8 * 8;
	s->samples = s->microbatch * s->microbatches;
	s->group = s->microbatch * s->accum;
	if (s->accum > s->microbatches || s->microbatches % s->accum)
		return AISP_EINPUT;
	return AISP_OK;
}

/* Offsets of W1 b1 W2 b2 W3 b3 in one vector, each PERF_SEG_ALIGN aligned. */
static void perf_layout_make(const struct perf_shape *s, struct perf_layout *l)
{
	size_t len[PERF_NSEG] = {
		(size_t)s->hidden * s->input, (size_t)s->hidden,
		(size_t)s->hidden * s->hidden, (size_t)s->hidden,
		(size_t)s->classes * s->hidden, (size_t)s->classes,
	};
	size_t at = 0;

	for (int i = 0; i < PERF_NSEG; i++) {
		l->off[i] = at;
		l->len[i] = len[i];
		at += (len[i] + PERF_SEG_ALIGN - 1) / PERF_SEG_ALIGN * PERF_SEG_ALIGN;
	}
	l->total = at;
}

/*
 * Draw the inputs and initial parameters from seed exactly as the host twin
 * does (mlp_ref.h: same streams, so its float64 reference applies), then
 * spread the parameters into the padded layout l (padding zero).
 */
static aisp_err perf_draw(const struct perf_shape *s, const struct perf_layout *l,
			  uint64_t seed, float *x, int *y, float *p)
{
	struct mlp_shape ms = {(size_t)s->input, (size_t)s->hidden, (size_t)s->classes};
	struct mlp_layout ml;
	float *flat;

	mlp_layout_of(&ms, &ml);
	flat = (float *)malloc(ml.total * sizeof(float));
	if (!flat)
		return AISP_ENOMEM;
	mlp_init_params(&ms, seed, flat);
	mlp_make_data(&ms, seed, (size_t)s->samples, x, (int32_t *)y);
	memset(p, 0, l->total * sizeof(*p));
	for (int k = 0; k < PERF_NSEG; k++)
		memcpy(p + l->off[k], flat + ml.off[k], l->len[k] * sizeof(float));
	free(flat);
	return AISP_OK;
}

/* Free what perf_data_init made; safe on a zeroed struct. */
static void perf_data_free(struct perf_data *d)
{
	cudaFree(d->x);
	cudaFree(d->y);
	cudaFree(d->p0);
	cudaFree(d->loss);
}

/* Draw on the host and upload x, labels and initial parameters. */
static aisp_err perf_data_init(struct perf_data *d, const struct aisp_ctx *ctx,
			       const struct aisp_params *p)
{
	float *hx = NULL, *hp = NULL;
	int *hy = NULL;
	aisp_err rc;

	memset(d, 0, sizeof(*d));
	if ((rc = perf_shape_get(p, &d->sh)) != AISP_OK)
		return rc;
	perf_layout_make(&d->sh, &d->lay);
	d->stream = (cudaStream_t)ctx->stream;
	d->blas = (cublasHandle_t)ctx->blas;
	size_t nx = (size_t)d->sh.samples * d->sh.input;
	hx = (float *)malloc(nx * sizeof(float));
	hy = (int *)malloc((size_t)d->sh.samples * sizeof(int));
	hp = (float *)malloc(d->lay.total * sizeof(float));
	if (!hx || !hy || !hp) {
		rc = AISP_ENOMEM;
		goto out;
	}
	rc = perf_draw(&d->sh, &d->lay, ctx->seed, hx, hy, hp);
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&d->x, nx * sizeof(float)));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&d->y, (size_t)d->sh.samples * sizeof(int)));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&d->p0, d->lay.total * sizeof(float)));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&d->loss, (size_t)d->sh.samples * sizeof(float)));
	/* async on the (maybe non-blocking) stream, then wait: no race with the
	 * kernels that follow, and the host buffers may be freed */
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpyAsync(d->x, hx, nx * sizeof(float), cudaMemcpyHostToDevice,
					     d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpyAsync(d->y, hy, (size_t)d->sh.samples * sizeof(int),
					     cudaMemcpyHostToDevice, d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpyAsync(d->p0, hp, d->lay.total * sizeof(float),
					     cudaMemcpyHostToDevice, d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(d->stream));
out:
	free(hx);
	free(hy);
	free(hp);
	if (rc != AISP_OK)
		perf_data_free(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* FP32 engine: the baseline (TF32) and the GPU reference (plain FP32) */

/* C = op(A) op(B) + beta*C in FP32 storage with compute type ct. */
static aisp_err f32_gemm(cublasHandle_t h, cublasComputeType_t ct, cublasOperation_t opa,
			 cublasOperation_t opb, int m, int n, int k, const float *a,
			 int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
	const float one = 1.0f;

	return perf_blas(cublasGemmEx(h, opa, opb, m, n, k, &one, a, CUDA_R_32F, lda, b,
				      CUDA_R_32F, ldb, &beta, c, CUDA_R_32F, ldc, ct,
				      CUBLAS_GEMM_DEFAULT));
}

/* Free the engine's buffers; safe on a zeroed struct. */
static void f32_free(struct perf_f32 *f)
{
	float *all[] = {f->p, f->g, f->h1, f->h2, f->z, f->dz, f->dh1, f->dh2};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cudaFree(all[i]);
	memset(f, 0, sizeof(*f));
}

/* Allocate parameters (= d->p0), zeroed gradients and activations. */
static aisp_err f32_alloc(struct perf_f32 *f, const struct perf_data *d)
{
	const struct perf_shape *s = &d->sh;
	size_t act = (size_t)s->microbatch * s->hidden * sizeof(float);
	size_t logit = (size_t)s->microbatch * s->cp * sizeof(float);
	size_t pbytes = d->lay.total * sizeof(float);
	aisp_err rc;

	memset(f, 0, sizeof(*f));
	rc = perf_cu(cudaMalloc(&f->p, pbytes));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->g, pbytes));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->h1, act));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->h2, act));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->dh1, act));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->dh2, act));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->z, logit));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&f->dz, logit));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemsetAsync(f->g, 0, pbytes, d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpyAsync(f->p, d->p0, pbytes, cudaMemcpyDeviceToDevice,
					     d->stream));
	if (rc != AISP_OK)
		f32_free(f);
	return rc;
}

/* Forward and loss of microbatch mb: h1, h2, logits, dz and per-sample loss. */
static aisp_err f32_forward(struct perf_f32 *f, const struct perf_data *d,
			    cublasComputeType_t ct, int mb)
{
	const struct perf_shape *s = &d->sh;
	const size_t *o = d->lay.off;
	const float *x = d->x + (size_t)mb * s->microbatch * s->input;
	int n = s->microbatch, H = s->hidden;
	float scale = 1.0f / (float)s->group;
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	aisp_err rc;

	rc = f32_gemm(d->blas, ct, T, N, H, n, s->input, f->p + o[PERF_W1], s->input, x,
		      s->input, 0.0f, f->h1, H);
	if (rc == AISP_OK)
		rc = perf_k_bias_act(f->h1, f->p + o[PERF_B1], H, H, n, 1, d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, T, N, H, n, H, f->p + o[PERF_W2], H, f->h1, H,
			      0.0f, f->h2, H);
	if (rc == AISP_OK)
		rc = perf_k_bias_act(f->h2, f->p + o[PERF_B2], H, H, n, 1, d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, T, N, s->classes, n, H, f->p + o[PERF_W3], H,
			      f->h2, H, 0.0f, f->z, s->cp);
	if (rc == AISP_OK)
		rc = perf_k_bias_act(f->z, f->p + o[PERF_B3], s->classes, s->cp, n, 0,
				     d->stream);
	if (rc == AISP_OK)
		rc = perf_k_softmax_xent_f32(f->z, d->y + (size_t)mb * n, s->classes, s->cp,
					     n, scale, f->dz, d->loss + (size_t)mb * n,
					     d->stream);
	return rc;
}

/* Backward of microbatch mb into the gradients (overwritten when first). */
static aisp_err f32_backward(struct perf_f32 *f, const struct perf_data *d,
			     cublasComputeType_t ct, int mb, int first)
{
	const struct perf_shape *s = &d->sh;
	const size_t *o = d->lay.off;
	const float *x = d->x + (size_t)mb * s->microbatch * s->input;
	int n = s->microbatch, H = s->hidden;
	float beta = first ? 0.0f : 1.0f;
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	aisp_err rc;

	rc = f32_gemm(d->blas, ct, N, T, H, s->classes, n, f->h2, H, f->dz, s->cp, beta,
		      f->g + o[PERF_W3], H);
	if (rc == AISP_OK)
		rc = perf_k_bias_grad_f32(f->dz, s->classes, s->cp, n, 1.0f, beta,
					  f->g + o[PERF_B3], d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, N, N, H, n, s->classes, f->p + o[PERF_W3], H,
			      f->dz, s->cp, 0.0f, f->dh2, H);
	if (rc == AISP_OK)
		rc = perf_k_relu_bwd_f32(f->dh2, f->h2, H, H, n, d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, N, T, H, H, n, f->h1, H, f->dh2, H, beta,
			      f->g + o[PERF_W2], H);
	if (rc == AISP_OK)
		rc = perf_k_bias_grad_f32(f->dh2, H, H, n, 1.0f, beta, f->g + o[PERF_B2],
					  d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, N, N, H, n, H, f->p + o[PERF_W2], H, f->dh2, H,
			      0.0f, f->dh1, H);
	if (rc == AISP_OK)
		rc = perf_k_relu_bwd_f32(f->dh1, f->h1, H, H, n, d->stream);
	if (rc == AISP_OK)
		rc = f32_gemm(d->blas, ct, N, T, s->input, H, n, x, s->input, f->dh1, H, beta,
			      f->g + o[PERF_W1], s->input);
	if (rc == AISP_OK)
		rc = perf_k_bias_grad_f32(f->dh1, H, H, n, 1.0f, beta, f->g + o[PERF_B1],
					  d->stream);
	return rc;
}

/* One iteration, eager: every microbatch, one SGD step per accum of them. */
static aisp_err f32_iteration(struct perf_f32 *f, const struct perf_data *d,
			      cublasComputeType_t ct)
{
	const struct perf_shape *s = &d->sh;
	aisp_err rc = AISP_OK;

	for (int mb = 0; mb < s->microbatches && rc == AISP_OK; mb++) {
		rc = f32_forward(f, d, ct, mb);
		if (rc == AISP_OK)
			rc = f32_backward(f, d, ct, mb, mb % s->accum == 0);
		if (rc == AISP_OK && mb % s->accum == s->accum - 1)
			rc = perf_k_sgd(f->p, f->g, (float)s->lr, d->lay.total, d->stream);
	}
	return rc;
}

/* Parameters back to their initial values. */
static aisp_err f32_reset(struct perf_f32 *f, const struct perf_data *d)
{
	return perf_cu(cudaMemcpyAsync(f->p, d->p0, d->lay.total * sizeof(float),
				       cudaMemcpyDeviceToDevice, d->stream));
}

/* ------------------------------------------------------------------ */
/* baseline_performance                                                */

static void base_teardown(void *state)
{
	struct perf_base *b = (struct perf_base *)state;

	if (!b)
		return;
	cudaStreamSynchronize(b->d.stream);
	f32_free(&b->f);
	perf_data_free(&b->d);
	free(b);
}

static aisp_err base_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state)
{
	struct perf_base *b = (struct perf_base *)calloc(1, sizeof(*b));
	aisp_err rc;

	*state = NULL;
	if (!b)
		return AISP_ENOMEM;
	rc = perf_data_init(&b->d, ctx, p);
	if (rc == AISP_OK)
		rc = f32_alloc(&b->f, &b->d);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(b->d.stream));
	if (rc != AISP_OK) {
		base_teardown(b);
		return rc;
	}
	*state = b;
	return AISP_OK;
}

static aisp_err base_run(void *state)
{
	struct perf_base *b = (struct perf_base *)state;

	return f32_iteration(&b->f, &b->d, CUBLAS_COMPUTE_32F_FAST_TF32);
}

/* ------------------------------------------------------------------ */
/* optimized_performance                                               */

/* Largest power of two up to 256 that divides bytes. */
static uint32_t perf_align_of(size_t bytes)
{
	uint32_t a = 256;

	while (a > 1 && bytes % a)
		a /= 2;
	return a;
}

/* The eight GEMMs of one fused step; fallback drops the ReLU-mask epilogues. */
static aisp_err opt_gemms_init(struct perf_opt *o, int fallback)
{
	const struct perf_shape *s = &o->d.sh;
	int B = s->group, H = s->hidden, I = s->input, C = s->classes, cp = s->cp;
	int aux_ld = (H + 127) / 128 * 128;
	uint32_t ax = perf_align_of((size_t)B * I * sizeof(__half));
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	cudaDataType_t h = CUDA_R_16F, f = CUDA_R_32F;
	cublasLtEpilogue_t fwd = fallback ? CUBLASLT_EPILOGUE_RELU_BIAS
					  : CUBLASLT_EPILOGUE_RELU_AUX_BIAS;
	cublasLtEpilogue_t bwd = fallback ? CUBLASLT_EPILOGUE_DEFAULT : CUBLASLT_EPILOGUE_DRELU;
	cublasLtEpilogue_t none = CUBLASLT_EPILOGUE_DEFAULT, bias = CUBLASLT_EPILOGUE_BIAS;
	void *m1 = fallback ? NULL : o->mask1, *m2 = fallback ? NULL : o->mask2;
	const struct perf_gemm_cfg cfg[8] = {
		{T, N, H, B, I, h, h, h, I, I, H, fwd, o->b1h, m1, aux_ld, ax, 0, 0, 0, 0},
		{T, N, H, B, H, h, h, h, H, H, H, fwd, o->b2h, m2, aux_ld, 0, 0, 0, 0, 0},
		{T, N, C, B, H, h, h, f, H, H, cp, bias, o->b3m, NULL, 0, 0, 0, 0, 0, 0},
		{N, N, H, B, cp, h, h, h, H, cp, H, bwd, NULL, m2, aux_ld, 0, 0, 0, 0, 0},
		{N, T, H, C, B, h, h, f, H, cp, H, none, NULL, NULL, 0, 0, 0, 0, 0, 0},
		{N, N, H, B, H, h, h, h, H, H, H, bwd, NULL, m1, aux_ld, 0, 0, 0, 0, 0},
		{N, T, H, H, B, h, h, h, H, H, H, none, NULL, NULL, 0, 0, 0, 0, 0, 0},
		{N, T, I, H, B, h, h, h, I, H, I, none, NULL, NULL, 0, ax, 0, 0, 0, 0},
	};
	struct perf_gemm *g[8] = {&o->fc1, &o->fc2, &o->fc3, &o->dx3,
				  &o->dw3, &o->dx2, &o->dw2, &o->dw1};
	aisp_err rc = AISP_OK;

	for (int i = 0; i < 8 && rc == AISP_OK; i++)
		rc = perf_gemm_init(g[i], o->lt, &cfg[i], PERF_WORKSPACE);
	if (rc != AISP_OK)
		for (int i = 0; i < 8; i++)
			perf_gemm_destroy(g[i]);
	o->fallback = fallback;
	return rc;
}

/* The operations of one fused step, in stream order. */
enum {
	OP_FC1, OP_FC2, OP_FC3, OP_XENT, OP_DX3, OP_MASK2, OP_DW3, OP_CAST3, OP_DB3,
	OP_DX2, OP_MASK1, OP_DW2, OP_DB2, OP_DW1, OP_DB1, OP_N
};

static_assert(OP_N + 3 <= OPT_NEV, "one fork event per op and three joins");

static const char *const opt_op_names[OP_N] = {
	"fc1 (bias+relu+mask)", "fc2 (bias+relu+mask)", "fc3 (bias, fp32 out)", "softmax-xent",
	"dx3 (drelu)", "mask2 (fallback)", "dw3 (sgd, fp32 master)", "cast w3", "db3 (sgd)",
	"dx2 (drelu)", "mask1 (fallback)", "dw2 (sgd folded)", "db2 (sgd)",
	"dw1 (sgd folded)", "db1 (sgd)",
};

/* One cuBLASLt call: D = C = c (in place), alpha, beta. */
struct opt_gemm_call {
	const struct perf_gemm *gemm;
	const void *a, *b;
	void *c;
	float alpha, beta;
};

/*
 * The GEMM of op for group g, or 0 when op is an own kernel. dz is the
 * gradient of the summed loss (loss scale B), undone in the updates'
 * alpha = -lr/B; every weight update is W += alpha * grad in place, after
 * the input gradient that reads the old W.
 */
static int opt_gemm_of(const struct perf_opt *o, int op, int g, struct opt_gemm_call *c)
{
	const struct perf_shape *s = &o->d.sh;
	const __half *x = o->xh + (size_t)g * s->group * s->input;
	__half *h1 = o->h1 + (size_t)(g % 2) * s->group * s->hidden;
	float a = (float)(-s->lr / s->group);
	const struct opt_gemm_call t[] = {
		{&o->fc1, o->w1, x, h1, 1.0f, 0.0f},
		{&o->fc2, o->w2, h1, o->h2, 1.0f, 0.0f},
		{&o->fc3, o->w3, o->h2, o->z, 1.0f, 0.0f},
		{&o->dx3, o->w3, o->dz, o->dh2, 1.0f, 0.0f},
		{&o->dw3, o->h2, o->dz, o->w3m, a, 1.0f},
		{&o->dx2, o->w2, o->dh2, o->dh1, 1.0f, 0.0f},
		{&o->dw2, h1, o->dh2, o->w2, a, 1.0f},
		{&o->dw1, x, o->dh1, o->w1, a, 1.0f},
	};
	const int ops[] = {OP_FC1, OP_FC2, OP_FC3, OP_DX3, OP_DW3, OP_DX2, OP_DW2, OP_DW1};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i] == op) {
			*c = t[i];
			return 1;
		}
	}
	return 0;
}

/* The workspace of GEMMs on stream st: GEMMs that may run at the same time
 * (graph branches) must not share one. */
static void *opt_workspace(const struct perf_opt *o, cudaStream_t st)
{
	if (st == o->side)
		return o->ws_side;
	if (st == o->side2 || st == o->side2lo)
		return o->ws_side2;
	if (st == o->side3)
		return o->lz.ws3;
	return o->ws;
}

/* Enqueue op of group g on st. */
static aisp_err opt_op(struct perf_opt *o, int op, int g, cudaStream_t st)
{
	const struct perf_shape *s = &o->d.sh;
	int B = s->group, H = s->hidden;
	float a = (float)(-s->lr / B);
	struct opt_gemm_call c;

	if (opt_gemm_of(o, op, g, &c))
		return perf_gemm_run(c.gemm, o->lt, c.a, c.b, c.c, c.c, c.alpha, c.beta,
				     opt_workspace(o, st), PERF_WORKSPACE, st);
	switch (op) {
	case OP_XENT:
		return perf_k_softmax_xent_f16(o->z, o->d.y + (size_t)g * B, s->classes, s->cp,
					       B, 1.0f, o->dz, o->d.loss + (size_t)g * B, st);
	case OP_MASK2:
		return o->fallback ? perf_k_relu_bwd_f16(o->dh2, o->h2, H, H, B, st) : AISP_OK;
	case OP_CAST3:
		return perf_k_f32_to_f16(o->w3, o->w3m, (size_t)s->classes * H, st);
	case OP_DB3:
		return perf_k_bias_grad_f16(o->dz, s->classes, s->cp, B, a, 1.0f, o->b3m, NULL,
					    st);
	case OP_MASK1:
		return o->fallback ? perf_k_relu_bwd_f16(o->dh1, o->h1 + (size_t)(g % 2) * B * H, H,
							 H, B, st)
				   : AISP_OK;
	case OP_DB2:
		return perf_k_bias_grad_f16(o->dh2, H, H, B, a, 1.0f, o->b2m, o->b2h, st);
	case OP_DB1:
		return perf_k_bias_grad_f16(o->dh1, H, H, B, a, 1.0f, o->b1m, o->b1h, st);
	}
	return AISP_EINTERNAL;
}

/* Parameters back to the initial ones: FP16 copies and FP32 masters. */
static aisp_err opt_reset(struct perf_opt *o, cudaStream_t st)
{
	const size_t *off = o->d.lay.off, *len = o->d.lay.len;
	const float *p0 = o->d.p0;
	aisp_err rc;

	rc = perf_k_f32_to_f16(o->w1, p0 + off[PERF_W1], len[PERF_W1], st);
	if (rc == AISP_OK)
		rc = perf_k_f32_to_f16(o->w2, p0 + off[PERF_W2], len[PERF_W2], st);
	if (rc == AISP_OK)
		rc = perf_k_f32_to_f16(o->w3, p0 + off[PERF_W3], len[PERF_W3], st);
	if (rc == AISP_OK)
		rc = perf_k_f32_to_f16(o->b1h, p0 + off[PERF_B1], len[PERF_B1], st);
	if (rc == AISP_OK)
		rc = perf_k_f32_to_f16(o->b2h, p0 + off[PERF_B2], len[PERF_B2], st);
	float *dst[4] = {o->w3m, o->b1m, o->b2m, o->b3m};
	int seg[4] = {PERF_W3, PERF_B1, PERF_B2, PERF_B3};
	for (int i = 0; i < 4 && rc == AISP_OK; i++)
		rc = perf_cu(cudaMemcpyAsync(dst[i], p0 + off[seg[i]], len[seg[i]] * sizeof(float),
					     cudaMemcpyDeviceToDevice, st));
	return rc;
}

/* Parameters as FP32 in the padded layout, into device vector p. */
static aisp_err opt_export(struct perf_opt *o, float *p, cudaStream_t st)
{
	const size_t *off = o->d.lay.off, *len = o->d.lay.len;
	aisp_err rc;

	rc = perf_cu(cudaMemsetAsync(p, 0, o->d.lay.total * sizeof(float), st));
	if (rc == AISP_OK)
		rc = perf_k_f16_to_f32(p + off[PERF_W1], o->w1, len[PERF_W1], st);
	if (rc == AISP_OK)
		rc = perf_k_f16_to_f32(p + off[PERF_W2], o->w2, len[PERF_W2], st);
	const float *src[4] = {o->w3m, o->b1m, o->b2m, o->b3m};
	int seg[4] = {PERF_W3, PERF_B1, PERF_B2, PERF_B3};
	for (int i = 0; i < 4 && rc == AISP_OK; i++)
		rc = perf_cu(cudaMemcpyAsync(p + off[seg[i]], src[i], len[seg[i]] * sizeof(float),
					     cudaMemcpyDeviceToDevice, st));
	return rc;
}

/* Device buffers of the fused variant (zeroed: W3's padding columns stay 0). */
static aisp_err opt_alloc(struct perf_opt *o)
{
	const struct perf_shape *s = &o->d.sh;
	size_t H = s->hidden, B = s->group, cp = s->cp;
	size_t aux = (H + 127) / 128 * 128 * B / 8;
	struct {
		void **p;
		size_t bytes;
	} b[] = {
		{(void **)&o->xh, (size_t)s->samples * s->input * 2},
		{(void **)&o->w1, H * s->input * 2}, {(void **)&o->w2, H * H * 2},
		{(void **)&o->w3, H * cp * 2}, {(void **)&o->b1h, H * 2},
		{(void **)&o->b2h, H * 2}, {(void **)&o->w3m, H * s->classes * 4},
		{(void **)&o->b1m, H * 4}, {(void **)&o->b2m, H * 4},
		{(void **)&o->b3m, cp * 4}, {(void **)&o->h1, 2 * PERF_PMAX * H * B * 2},
		{(void **)&o->h2, H * B * 2}, {(void **)&o->dh1, H * B * 2},
		{(void **)&o->dh2, PERF_PMAX * H * B * 2}, {(void **)&o->dz, cp * B * 2},
		{(void **)&o->z, cp * B * 4}, {&o->mask1, aux}, {&o->mask2, aux},
		{&o->ws, PERF_WORKSPACE}, {&o->ws_side, PERF_WORKSPACE},
		{&o->ws_side2, PERF_WORKSPACE},
	};
	aisp_err rc = AISP_OK;

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]) && rc == AISP_OK; i++) {
		rc = perf_cu(cudaMalloc(b[i].p, b[i].bytes));
		if (rc == AISP_OK)
			rc = perf_cu(cudaMemsetAsync(*b[i].p, 0, b[i].bytes, o->d.stream));
	}
	return rc;
}

static void opt_teardown(void *state)
{
	struct perf_opt *o = (struct perf_opt *)state;

	if (!o)
		return;
	cudaStreamSynchronize(o->d.stream);
	if (o->exec)
		cudaGraphExecDestroy(o->exec);
	if (o->graph)
		cudaGraphDestroy(o->graph);
	if (o->cap)
		cudaStreamDestroy(o->cap);
	if (o->side)
		cudaStreamDestroy(o->side);
	if (o->side2)
		cudaStreamDestroy(o->side2);
	if (o->side2lo)
		cudaStreamDestroy(o->side2lo);
	if (o->side3)
		cudaStreamDestroy(o->side3);
	for (int i = 0; i < OPT_NEV; i++)
		if (o->ev[i])
			cudaEventDestroy(o->ev[i]);
	struct perf_gemm *g[8] = {&o->fc1, &o->fc2, &o->fc3, &o->dx3,
				  &o->dw3, &o->dx2, &o->dw2, &o->dw1};
	for (int i = 0; i < 8; i++)
		perf_gemm_destroy(g[i]);
	lz_free(&o->lz);
	void *all[] = {o->xh, o->w1, o->w2, o->w3, o->b1h, o->b2h, o->w3m, o->b1m,
		       o->b2m, o->b3m, o->h1, o->h2, o->dh1, o->dh2, o->dz, o->z,
		       o->mask1, o->mask2, o->ws, o->ws_side, o->ws_side2};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cudaFree(all[i]);
	if (o->lt)
		cublasLtDestroy(o->lt);
	perf_data_free(&o->d);
	free(o);
}

/* With branches: the op after which op may start on the side stream, or -1
 * for the main stream. The side ops are small (W3, biases); the join before
 * the next step's first GEMM orders them before their buffers are reused. */
static int opt_side_after(int op)
{
	switch (op) {
	case OP_DW3:
	case OP_DB3:
		return OP_XENT;
	case OP_CAST3:
		return OP_DX3; /* dx3 reads the FP16 W3 that the cast rewrites */
	case OP_DB2:
		return OP_MASK2;
	case OP_DB1:
		return OP_MASK1;
	}
	return -1;
}

/* Enqueue op of step g on stream st after event `after` (when >= 0). */
static aisp_err opt_enqueue_after(struct perf_opt *o, int op, int g, cudaStream_t st,
				  int after)
{
	aisp_err rc = AISP_OK;

	if (after >= 0)
		rc = perf_cu(cudaStreamWaitEvent(st, o->ev[after], 0));
	return rc == AISP_OK ? opt_op(o, op, g, st) : rc;
}

/*
 * Enqueue step g on the capture stream. branches >= 1: small ops forked to
 * the side stream, joined before the next step. branches 2: dW2 forked to a
 * second side stream after dx2 (which reads the old W2), overlapping dW1 and
 * the next step's fc1 (h1 is double-buffered for that), joined before the
 * next fc2 reads W2. branches 3: the same, dW2 at low stream priority so
 * that the critical path (main stream) gets the SMs first.
 */
static aisp_err opt_capture_step(struct perf_opt *o, int g)
{
	aisp_err rc = AISP_OK;

	cudaStream_t s2 = o->branches == 3 ? o->side2lo : o->side2;
	int fork2 = o->branches >= 2;

	for (int op = 0; op < OP_N && rc == AISP_OK; op++) {
		int after = o->branches ? opt_side_after(op) : -1;
		if (op == OP_FC2 && g > 0 && fork2)
			rc = perf_cu(cudaStreamWaitEvent(o->cap, o->ev[OPT_EV_DW2], 0));
		if (rc != AISP_OK)
			break;
		if (op == OP_DW2 && fork2) {
			rc = opt_enqueue_after(o, op, g, s2, OP_MASK1);
			if (rc == AISP_OK)
				rc = perf_cu(cudaEventRecord(o->ev[OPT_EV_DW2], s2));
		} else if (after >= 0) {
			rc = opt_enqueue_after(o, op, g, o->side, after);
		} else {
			rc = opt_op(o, op, g, o->cap);
			if (rc == AISP_OK && o->branches)
				rc = perf_cu(cudaEventRecord(o->ev[op], o->cap));
		}
	}
	if (rc == AISP_OK && o->branches)
		rc = perf_cu(cudaEventRecord(o->ev[OPT_EV_SIDE], o->side));
	if (rc == AISP_OK && o->branches)
		rc = perf_cu(cudaStreamWaitEvent(o->cap, o->ev[OPT_EV_SIDE], 0));
	return rc;
}

/* ------------------------------------------------------------------ */
/* lazy weights (v4): see struct perf_lazy                             */

/* Split-K parts of the Gram of j steps against one: at most PERF_GRAM_PARTS / j
 * (a power of two), each a multiple of 128 rows (256-byte aligned parts). */
static int lz_parts(int hidden, int j)
{
	int p = 1;

	while (p * 2 <= PERF_GRAM_PARTS / j)
		p *= 2;
	while (p > 1 && (hidden % p || (hidden / p) % 128))
		p /= 2;
	return p;
}

/* Free the lazy buffers and descriptors; safe on a zeroed struct. */
static void lz_free(struct perf_lazy *z)
{
	struct perf_gemm *one[] = {&z->base1, &z->gram1, &z->dw1, &z->fc2b, &z->dx2b,
				   &z->dw1a, &z->dw1b};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		perf_gemm_destroy(one[i]);
	for (int i = 0; i < PERF_LAZY_MAXSTEPS; i++)
		perf_gemm_destroy(&z->corr1[i]);
	for (int i = 0; i < PERF_PMAX; i++) {
		perf_gemm_destroy(&z->gram2[i]);
		perf_gemm_destroy(&z->corr2[i]);
		perf_gemm_destroy(&z->corrdx[i]);
	}
	for (int i = 0; i <= PERF_PMAX; i++)
		perf_gemm_destroy(&z->dw2[i]);
	void *all[] = {z->p1, z->g1, z->dh1, z->zb, z->base, z->gram, z->part, z->ws3};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cudaFree(all[i]);
	memset(z, 0, sizeof(*z));
}

/* Zeroed device buffers of the lazy graph. */
static aisp_err lz_alloc(struct perf_opt *o)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	size_t H = s->hidden, B = s->group, S = s->samples, part = 0;

	for (int j = 1; j < PERF_PMAX; j++) {
		z->split[j] = lz_parts(s->hidden, j);
		size_t n = (size_t)z->split[j] * j * B * B;
		part = n > part ? n : part;
	}
	struct {
		void **p;
		size_t bytes;
	} b[] = {
		{(void **)&z->p1, S * H * 2}, {(void **)&z->g1, S * S * 2},
		{(void **)&z->dh1, S * H * 2}, {(void **)&z->zb, B * B * 2},
		{(void **)&z->base, B * H * 2}, {(void **)&z->gram, (PERF_PMAX - 1) * B * B * 2},
		{(void **)&z->part, part * 4}, {&z->ws3, PERF_WORKSPACE},
	};
	aisp_err rc = AISP_OK;

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]) && rc == AISP_OK; i++) {
		rc = perf_cu(cudaMalloc(b[i].p, b[i].bytes));
		if (rc == AISP_OK)
			rc = perf_cu(cudaMemsetAsync(*b[i].p, 0, b[i].bytes, o->d.stream));
	}
	return rc;
}

/* Descriptors of the lazy graph's W1 GEMMs (whole iteration, corrections). */
static aisp_err lz_init_w1(struct perf_opt *o, uint32_t al)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	int B = s->group, H = s->hidden, I = s->input, S = s->samples;
	int aux_ld = (H + 127) / 128 * 128, steps = s->microbatches / s->accum;
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	cudaDataType_t h = CUDA_R_16F;
	cublasLtEpilogue_t none = CUBLASLT_EPILOGUE_DEFAULT;
	const struct perf_gemm_cfg base1 = {T, N, H, S, I, h, h, h, I, I, H, none, NULL, NULL, 0,
					    al, 0, 0, 0, 0};
	const struct perf_gemm_cfg gram1 = {T, N, S, S, I, h, h, h, I, I, S, none, NULL, NULL, 0,
					    al, 0, 0, 0, 0};
	const struct perf_gemm_cfg dw1 = {N, T, I, H, S, h, h, h, I, H, I, none, NULL, NULL, 0,
					  al, 0, 0, 0, 0};
	aisp_err rc;

	rc = perf_gemm_init(&z->base1, o->lt, &base1, PERF_WORKSPACE);
	if (rc == AISP_OK)
		rc = perf_gemm_init(&z->gram1, o->lt, &gram1, PERF_WORKSPACE);
	if (rc == AISP_OK)
		rc = perf_gemm_init(&z->dw1, o->lt, &dw1, PERF_WORKSPACE);
	for (int g = 0; g < steps && rc == AISP_OK; g++) {
		/* step 0 has no correction: k = B against the zero block */
		const struct perf_gemm_cfg c = {N, N, H, B, g ? g * B : B, h, h, h, H,
						g ? S : B, H, CUBLASLT_EPILOGUE_RELU_AUX_BIAS,
						o->b1h, o->mask1, aux_ld, al, 0, 0, 0, 0};
		rc = perf_gemm_init(&z->corr1[g], o->lt, &c, PERF_WORKSPACE);
	}
	return rc;
}

/* Descriptors of the lazy graph's W2 GEMMs for every period up to PERF_PMAX. */
static aisp_err lz_init_w2(struct perf_opt *o, uint32_t al)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	int B = s->group, H = s->hidden, aux_ld = (H + 127) / 128 * 128;
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	cudaDataType_t h = CUDA_R_16F, f = CUDA_R_32F;
	cublasLtEpilogue_t none = CUBLASLT_EPILOGUE_DEFAULT;
	const struct perf_gemm_cfg fc2b = {T, N, H, B, H, h, h, h, H, H, H, none, NULL, NULL, 0,
					   al, 0, 0, 0, 0};
	const struct perf_gemm_cfg dx2b = {N, N, H, B, H, h, h, h, H, H, H, none, NULL, NULL, 0,
					   al, 0, 0, 0, 0};
	aisp_err rc;

	rc = perf_gemm_init(&z->fc2b, o->lt, &fc2b, PERF_WORKSPACE);
	if (rc == AISP_OK)
		rc = perf_gemm_init(&z->dx2b, o->lt, &dx2b, PERF_WORKSPACE);
	for (int j = 1; j < PERF_PMAX && rc == AISP_OK; j++) {
		int kc = H / z->split[j];
		const struct perf_gemm_cfg gram = {T, N, j * B, B, kc, h, h, f, H, H, j * B, none,
						   NULL, NULL, 0, al, z->split[j], kc, kc,
						   (int64_t)j * B * B};
		const struct perf_gemm_cfg c2 = {N, N, H, B, j * B, h, h, h, H, j * B, H,
						 CUBLASLT_EPILOGUE_RELU_AUX_BIAS, o->b2h, o->mask2,
						 aux_ld, al, 0, 0, 0, 0};
		const struct perf_gemm_cfg cx = {N, N, H, B, j * B, h, h, h, H, j * B, H,
						 CUBLASLT_EPILOGUE_DRELU, NULL, o->mask1, aux_ld, al,
						 0, 0, 0, 0};
		rc = perf_gemm_init(&z->gram2[j], o->lt, &gram, PERF_WORKSPACE);
		if (rc == AISP_OK)
			rc = perf_gemm_init(&z->corr2[j], o->lt, &c2, PERF_WORKSPACE);
		if (rc == AISP_OK)
			rc = perf_gemm_init(&z->corrdx[j], o->lt, &cx, PERF_WORKSPACE);
	}
	for (int n = 1; n <= PERF_PMAX && rc == AISP_OK; n++) {
		const struct perf_gemm_cfg dw = {N, T, H, H, n * B, h, h, h, H, H, H, none, NULL,
						 NULL, 0, al, 0, 0, 0, 0};
		rc = perf_gemm_init(&z->dw2[n], o->lt, &dw, PERF_WORKSPACE);
	}
	return rc;
}

/*
 * Build the lazy graph's buffers and GEMMs when the shape allows (ReLU-mask
 * epilogues present, few enough steps and samples, aligned slots); otherwise, or when
 * cuBLASLt has no algo for one of them, or memory is short, leave z->ok 0:
 * the v3 graph runs. Always AISP_OK; a broken device fails the next step.
 */
static aisp_err lz_init(struct perf_opt *o)
{
	const struct perf_shape *s = &o->d.sh;
	size_t B = s->group, H = s->hidden;
	int steps = s->microbatches / s->accum;
	/* every slot, block and split part it points into starts 256-byte aligned */
	int aligned = (B * H * 2) % 256 == 0 && (B * s->samples * 2) % 256 == 0 &&
		      (B * B * 4) % 256 == 0;
	uint32_t al = 256;
	aisp_err rc;

	memset(&o->lz, 0, sizeof(o->lz));
	const char *why = "shape (fallback epilogues, steps, samples or alignment)";
	if (o->fallback || !aligned || steps > PERF_LAZY_MAXSTEPS ||
	    s->samples > PERF_LAZY_MAXS) {
		o->lz.why = why;
		return AISP_OK;
	}
	rc = lz_alloc(o);
	why = "buffers";
	if (rc == AISP_OK) {
		why = "W1 GEMMs";
		rc = lz_init_w1(o, al);
	}
	if (rc == AISP_OK) {
		why = "W2 GEMMs";
		rc = lz_init_w2(o, al);
	}
	if (rc == AISP_OK) {
		why = "sync";
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	}
	if (rc != AISP_OK) { /* no memory or no algo for one of them: the v3 graph */
		cudaStreamSynchronize(o->d.stream);
		lz_free(&o->lz);
		o->lz.why = why;
		cudaGetLastError();
		return AISP_OK;
	}
	o->lz.ok = 1;
	o->lz.period = PERF_PERIOD_DEFAULT;
	return AISP_OK;
}

/*
 * W1 update in two parts (v5): steps < split on side3 (low priority, asking
 * for sm SMs, 0: all) once their dh1 exist, overlapping the last steps'
 * memory-bound GEMMs (fc2/dx2 keep about half the SMs busy), and the rest
 * at the end. split 0: one update at the end. EINPUT when split is not
 * below the steps or the split point is not 256-byte aligned in x.
 */
static aisp_err lz_split_init(struct perf_opt *o, int split, int sm)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	int B = s->group, H = s->hidden, I = s->input, S = s->samples;
	cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
	cudaDataType_t h = CUDA_R_16F;
	cublasLtEpilogue_t none = CUBLASLT_EPILOGUE_DEFAULT;
	aisp_err rc;

	if (split < 0 || split >= s->microbatches / s->accum || sm < 0 ||
	    (split && ((size_t)B * I * 2) % 256))
		return AISP_EINPUT;
	perf_gemm_destroy(&z->dw1a);
	perf_gemm_destroy(&z->dw1b);
	z->w1split = 0;
	z->w1sm = 0;
	if (!split)
		return AISP_OK;
	const struct perf_gemm_cfg a = {N, T, I, H, split * B, h, h, h, I, H, I, none, NULL,
					NULL, 0, 256, 0, 0, 0, 0};
	const struct perf_gemm_cfg b = {N, T, I, H, S - split * B, h, h, h, I, H, I, none,
					NULL, NULL, 0, 256, 0, 0, 0, 0};
	rc = perf_gemm_init_sm(&z->dw1a, o->lt, &a, PERF_WORKSPACE, sm);
	if (rc == AISP_OK)
		rc = perf_gemm_init(&z->dw1b, o->lt, &b, PERF_WORKSPACE);
	if (rc != AISP_OK) {
		perf_gemm_destroy(&z->dw1a);
		return rc;
	}
	z->w1split = split;
	z->w1sm = sm;
	return AISP_OK;
}

/* D = alpha*op(A)op(B) + beta*C with gemm g on st (st's workspace). */
static aisp_err lz_gemm(struct perf_opt *o, const struct perf_gemm *g, const void *a,
			const void *b, const void *c, void *d, float alpha, float beta,
			cudaStream_t st)
{
	return perf_gemm_run(g, o->lt, a, b, c, d, alpha, beta, opt_workspace(o, st),
			     PERF_WORKSPACE, st);
}

/* lz.gram = prev^T cur for the j steps of prev (H x jB) against cur (H x B):
 * a strided batch over split-K parts, then their fixed-order sum. */
static aisp_err lz_gram(struct perf_opt *o, int j, const __half *prev, const __half *cur,
			cudaStream_t st)
{
	struct perf_lazy *z = &o->lz;
	size_t n = (size_t)j * o->d.sh.group * o->d.sh.group;
	aisp_err rc;

	rc = lz_gemm(o, &z->gram2[j], prev, cur, z->part, z->part, 1.0f, 0.0f, st);
	return rc == AISP_OK ? perf_k_split_sum(z->part, z->split[j], n, 1.0f, z->gram, st) : rc;
}

/* Make `to` wait for what `from` enqueued so far (event ev); nothing when the same. */
static aisp_err lz_order(struct perf_opt *o, cudaStream_t from, cudaStream_t to, int ev)
{
	aisp_err rc;

	if (from == to)
		return AISP_OK;
	rc = perf_cu(cudaEventRecord(o->ev[ev], from));
	return rc == AISP_OK ? perf_cu(cudaStreamWaitEvent(to, o->ev[ev], 0)) : rc;
}

/* Layer 1 forward of step g: h1 = relu(x_g W1^T + a D_<g X_<g^T x_g + b1). */
static aisp_err lz_fc1(struct perf_opt *o, int g, __half *h1)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	size_t B = s->group, BH = B * s->hidden;
	float a = (float)(-s->lr / s->group);

	return lz_gemm(o, &z->corr1[g], z->dh1, g ? z->g1 + g * B * s->samples : z->zb,
		       z->p1 + g * BH, h1, a, 1.0f, o->cap);
}

/* Layer 2 forward of the step at j in its period: h2 = relu(W2 h1 + b2), W2
 * the stored one plus the period's earlier steps (h1p: their h1 slots). */
static aisp_err lz_fc2(struct perf_opt *o, int j, const __half *h1p, const __half *h1)
{
	struct perf_lazy *z = &o->lz;
	float a = (float)(-o->d.sh.lr / o->d.sh.group);
	aisp_err rc;

	if (j == 0)
		return lz_gemm(o, &o->fc2, o->w2, h1, o->h2, o->h2, 1.0f, 0.0f, o->cap);
	rc = lz_gemm(o, &z->fc2b, o->w2, h1, z->base, z->base, 1.0f, 0.0f, o->cap);
	if (rc == AISP_OK)
		rc = lz_gram(o, j, h1p, h1, o->cap);
	if (rc == AISP_OK)
		rc = lz_gemm(o, &z->corr2[j], o->dh2, z->gram, z->base, o->h2, a, 1.0f, o->cap);
	return rc;
}

/* Layer 1 input gradient of the step at j: dh1 = drelu(W2^T e), W2 as in lz_fc2. */
static aisp_err lz_dx2(struct perf_opt *o, int j, const __half *h1p, const __half *e,
		       __half *dh1)
{
	struct perf_lazy *z = &o->lz;
	float a = (float)(-o->d.sh.lr / o->d.sh.group);
	aisp_err rc;

	if (j == 0)
		return lz_gemm(o, &o->dx2, o->w2, e, dh1, dh1, 1.0f, 0.0f, o->cap);
	rc = lz_gemm(o, &z->dx2b, o->w2, e, z->base, z->base, 1.0f, 0.0f, o->cap);
	if (rc == AISP_OK)
		rc = lz_gram(o, j, o->dh2, e, o->cap);
	if (rc == AISP_OK)
		rc = lz_gemm(o, &z->corrdx[j], h1p, z->gram, z->base, dh1, a, 1.0f, o->cap);
	return rc;
}

/* dx3 of step g into e (main stream), with the small ops that follow the loss
 * (W3, b3 updates) and dx3 (W3 cast, b2 update) on side. */
static aisp_err lz_dx3(struct perf_opt *o, int g, const __half *e, cudaStream_t side)
{
	const struct perf_shape *s = &o->d.sh;
	float a = (float)(-s->lr / s->group);
	aisp_err rc;

	rc = lz_order(o, o->cap, side, OP_XENT);
	if (rc == AISP_OK)
		rc = opt_op(o, OP_DW3, g, side);
	if (rc == AISP_OK)
		rc = opt_op(o, OP_DB3, g, side);
	if (rc == AISP_OK)
		rc = lz_gemm(o, &o->dx3, o->w3, o->dz, e, (void *)e, 1.0f, 0.0f, o->cap);
	if (rc == AISP_OK)
		rc = lz_order(o, o->cap, side, OP_DX3);
	if (rc == AISP_OK)
		rc = opt_op(o, OP_CAST3, g, side);
	if (rc == AISP_OK)
		rc = perf_k_bias_grad_f16(e, s->hidden, s->hidden, s->group, a, 1.0f, o->b2m,
					  o->b2h, side);
	return rc;
}

/*
 * Enqueue step g of the lazy graph. Main stream: fc1 (with its correction),
 * fc2, fc3, loss, dx3, dx2; side (branches >= 1): W3, b3, cast, b2, b1,
 * joined at the step's end; side2 (branches >= 2; 3: low priority): the W2
 * update at a period's end, after the dx2 that reads the old W2, joined
 * before the next period's fc2. h1 has two halves of `period` slots: the
 * next period writes the other half while the update reads this one.
 */
static aisp_err lz_capture_step(struct perf_opt *o, int g)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	size_t BH = (size_t)s->group * s->hidden;
	int P = z->period, j = g % P, steps = s->microbatches / s->accum;
	float a = (float)(-s->lr / s->group);
	__half *h1p = o->h1 + (size_t)((g / P) % 2) * P * BH;
	__half *h1 = h1p + j * BH, *e = o->dh2 + j * BH, *dh1 = z->dh1 + g * BH;
	cudaStream_t m = o->cap, side = o->branches ? o->side : m;
	cudaStream_t s2 = o->branches >= 2 ? (o->branches == 3 ? o->side2lo : o->side2) : m;
	aisp_err rc;

	rc = lz_fc1(o, g, h1);
	if (rc == AISP_OK && j == 0 && g > 0 && s2 != m)
		rc = perf_cu(cudaStreamWaitEvent(m, o->ev[OPT_EV_DW2], 0));
	if (rc == AISP_OK)
		rc = lz_fc2(o, j, h1p, h1);
	if (rc == AISP_OK)
		rc = opt_op(o, OP_FC3, g, m);
	if (rc == AISP_OK)
		rc = opt_op(o, OP_XENT, g, m);
	if (rc == AISP_OK)
		rc = lz_dx3(o, g, e, side);
	if (rc == AISP_OK)
		rc = lz_dx2(o, j, h1p, e, dh1);
	if (rc == AISP_OK)
		rc = lz_order(o, m, side, OP_DX2);
	if (rc == AISP_OK)
		rc = perf_k_bias_grad_f16(dh1, s->hidden, s->hidden, s->group, a, 1.0f, o->b1m,
					  o->b1h, side);
	if (rc == AISP_OK && z->w1split && g == z->w1split - 1) {
		cudaStream_t s3 = o->branches >= 2 ? o->side3 : m;
		rc = lz_order(o, m, s3, OP_DW1);
		if (rc == AISP_OK)
			rc = lz_gemm(o, &z->dw1a, o->xh, z->dh1, o->w1, o->w1, a, 1.0f, s3);
		if (rc == AISP_OK && s3 != m)
			rc = perf_cu(cudaEventRecord(o->ev[OPT_EV_DW1A], s3));
	}
	if (rc == AISP_OK && (j == P - 1 || g == steps - 1)) {
		rc = lz_order(o, m, s2, OP_DW2);
		if (rc == AISP_OK)
			rc = lz_gemm(o, &z->dw2[j + 1], h1p, o->dh2, o->w2, o->w2, a, 1.0f, s2);
		if (rc == AISP_OK && s2 != m)
			rc = perf_cu(cudaEventRecord(o->ev[OPT_EV_DW2], s2));
	}
	return rc == AISP_OK ? lz_order(o, side, m, OPT_EV_SIDE) : rc;
}

/* Enqueue one lazy iteration: x W1^T and X X^T for all samples, every step,
 * then the one W1 update (K = samples) and the join of the last W2 update. */
static aisp_err lz_capture_iter(struct perf_opt *o)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	float a = (float)(-s->lr / s->group);
	cudaStream_t m = o->cap;
	aisp_err rc;

	rc = lz_gemm(o, &z->base1, o->w1, o->xh, z->p1, z->p1, 1.0f, 0.0f, m);
	if (rc == AISP_OK)
		rc = lz_gemm(o, &z->gram1, o->xh, o->xh, z->g1, z->g1, 1.0f, 0.0f, m);
	for (int g = 0; g < s->microbatches / s->accum && rc == AISP_OK; g++)
		rc = lz_capture_step(o, g);
	size_t at = (size_t)z->w1split * s->group;
	if (rc == AISP_OK && z->w1split && o->branches >= 2)
		rc = perf_cu(cudaStreamWaitEvent(m, o->ev[OPT_EV_DW1A], 0));
	if (rc == AISP_OK)
		rc = lz_gemm(o, z->w1split ? &z->dw1b : &z->dw1, o->xh + at * s->input,
			     z->dh1 + at * s->hidden, o->w1, o->w1, a, 1.0f, m);
	if (rc == AISP_OK && o->branches >= 2)
		rc = perf_cu(cudaStreamWaitEvent(m, o->ev[OPT_EV_DW2], 0));
	return rc;
}

/* Capture one iteration (every group's step; the lazy graph when lz.period)
 * into o->exec, replacing any. */
static aisp_err opt_capture(struct perf_opt *o)
{
	aisp_err rc, rc2;

	if (o->exec)
		cudaGraphExecDestroy(o->exec);
	if (o->graph)
		cudaGraphDestroy(o->graph);
	o->exec = NULL;
	o->graph = NULL;
	rc = perf_cu(cudaStreamBeginCapture(o->cap, cudaStreamCaptureModeThreadLocal));
	if (rc != AISP_OK)
		return rc;
	if (o->lz.period)
		rc = lz_capture_iter(o);
	for (int g = 0; !o->lz.period && g < o->d.sh.microbatches / o->d.sh.accum &&
			rc == AISP_OK; g++)
		rc = opt_capture_step(o, g);
	if (rc == AISP_OK && !o->lz.period && o->branches >= 2)
		rc = perf_cu(cudaStreamWaitEvent(o->cap, o->ev[OPT_EV_DW2], 0));
	rc2 = perf_cu(cudaStreamEndCapture(o->cap, &o->graph));
	if (rc == AISP_OK)
		rc = rc2;
	if (rc == AISP_OK)
		rc = perf_cu(cudaGraphInstantiate(&o->exec, o->graph, 0));
	return rc;
}

/* The capture and side streams and the fork/join events. */
static aisp_err opt_streams(struct perf_opt *o)
{
	aisp_err rc;

	int lo = 0, hi = 0;

	rc = perf_cu(cudaDeviceGetStreamPriorityRange(&lo, &hi));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamCreateWithPriority(&o->cap, cudaStreamNonBlocking, hi));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamCreateWithPriority(&o->side, cudaStreamNonBlocking, hi));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamCreateWithPriority(&o->side2, cudaStreamNonBlocking, hi));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamCreateWithPriority(&o->side2lo, cudaStreamNonBlocking, lo));
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamCreateWithPriority(&o->side3, cudaStreamNonBlocking, lo));
	for (int i = 0; i < OPT_NEV && rc == AISP_OK; i++)
		rc = perf_cu(cudaEventCreateWithFlags(&o->ev[i], cudaEventDisableTiming));
	return rc;
}

static aisp_err opt_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			  void **state)
{
	struct perf_opt *o = (struct perf_opt *)calloc(1, sizeof(*o));
	aisp_err rc;

	*state = NULL;
	if (!o)
		return AISP_ENOMEM;
	rc = perf_data_init(&o->d, ctx, p);
	o->d.fused = 1;
	if (rc == AISP_OK)
		rc = perf_blas(cublasLtCreate(&o->lt));
	if (rc == AISP_OK)
		rc = opt_alloc(o);
	if (rc == AISP_OK)
		rc = perf_k_f32_to_f16(o->xh, o->d.x, (size_t)o->d.sh.samples * o->d.sh.input,
				       o->d.stream);
	if (rc == AISP_OK)
		rc = opt_reset(o, o->d.stream);
	if (rc == AISP_OK && opt_gemms_init(o, 0) != AISP_OK)
		rc = opt_gemms_init(o, 1);
	if (rc == AISP_OK)
		rc = lz_init(o);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	o->branches = 2;
	if (rc == AISP_OK)
		rc = opt_streams(o);
	if (rc == AISP_OK)
		rc = opt_capture(o);
	if (rc != AISP_OK) {
		opt_teardown(o);
		return rc;
	}
	*state = o;
	return AISP_OK;
}

static aisp_err opt_run(void *state)
{
	struct perf_opt *o = (struct perf_opt *)state;

	return perf_cu(cudaGraphLaunch(o->exec, o->d.stream));
}

/* ------------------------------------------------------------------ */
/* verification                                                        */

/* Bounds of one precision; exact[k]: tensor k is stored in FP32. */
struct perf_tol {
	double loss, params, update;
	int exact[PERF_NSEG];
};

/* What one iteration from the initial parameters produced (host side). */
struct perf_outcome {
	double *step_loss; /* [steps] mean loss of each SGD step */
	double *p;         /* [lay.total] parameters after the iteration */
};

/* Largest reference the host computes in float64 (multiply-adds). */
#define PERF_HOST_REF_MACS 1.5e9

/* Wait for the stream, then copy the iteration's losses and parameters. */
static aisp_err perf_fetch(const struct perf_data *d, const float *dev_p, float *tmp,
			   struct perf_outcome *out)
{
	const struct perf_shape *s = &d->sh;
	int steps = s->microbatches / s->accum;
	float *l = NULL;
	aisp_err rc;

	rc = perf_cu(cudaStreamSynchronize(d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(tmp, dev_p, d->lay.total * sizeof(float),
					cudaMemcpyDeviceToHost));
	if (rc != AISP_OK)
		return rc;
	for (size_t i = 0; i < d->lay.total; i++)
		out->p[i] = tmp[i];
	if (!(l = (float *)malloc((size_t)s->samples * sizeof(float))))
		return AISP_ENOMEM;
	rc = perf_cu(cudaMemcpy(l, d->loss, (size_t)s->samples * sizeof(float),
				cudaMemcpyDeviceToHost));
	for (int t = 0; t < steps && rc == AISP_OK; t++) {
		double sum = 0.0;
		for (int i = 0; i < s->group; i++)
			sum += l[(size_t)t * s->group + i];
		out->step_loss[t] = sum / s->group;
	}
	free(l);
	return rc;
}

/* Float64 host reference (mlp_ref.h) of one iteration, in the padded layout. */
static aisp_err perf_ref_host(const struct perf_data *d, const float *p0,
			      struct perf_outcome *ref)
{
	const struct perf_shape *s = &d->sh;
	struct mlp_shape ms = {(size_t)s->input, (size_t)s->hidden, (size_t)s->classes};
	struct mlp_layout ml;
	size_t nx = (size_t)s->samples * s->input;
	float *x = (float *)malloc(nx * sizeof(float));
	float *flat = NULL;
	int32_t *y = (int32_t *)malloc((size_t)s->samples * sizeof(int32_t));
	double *pr = NULL;
	aisp_err rc = AISP_ENOMEM;

	mlp_layout_of(&ms, &ml);
	flat = (float *)malloc(ml.total * sizeof(float));
	pr = (double *)malloc(ml.total * sizeof(double));
	if (!x || !y || !flat || !pr)
		goto out;
	for (int k = 0; k < PERF_NSEG; k++)
		memcpy(flat + ml.off[k], p0 + d->lay.off[k], ml.len[k] * sizeof(float));
	rc = perf_cu(cudaMemcpy(x, d->x, nx * sizeof(float), cudaMemcpyDeviceToHost));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(y, d->y, (size_t)s->samples * sizeof(int32_t),
					cudaMemcpyDeviceToHost));
	if (rc == AISP_OK)
		rc = mlp_ref_train(&ms, flat, x, y, (size_t)s->samples, (size_t)s->group,
				   (size_t)(s->microbatches / s->accum), s->lr,
				   ref->step_loss, pr);
	if (rc == AISP_OK) {
		memset(ref->p, 0, d->lay.total * sizeof(double));
		for (int k = 0; k < PERF_NSEG; k++)
			memcpy(ref->p + d->lay.off[k], pr + ml.off[k], ml.len[k] * sizeof(double));
	}
out:
	free(x);
	free(y);
	free(flat);
	free(pr);
	return rc;
}

/* GPU reference in plain FP32 (no TF32) on engine f, for shapes too big for the host. */
static aisp_err perf_ref_gpu(const struct perf_data *d, struct perf_f32 *f, float *tmp,
			     struct perf_outcome *ref)
{
	aisp_err rc;

	rc = perf_cu(cudaMemsetAsync(d->loss, 0xff, (size_t)d->sh.samples * sizeof(float),
				     d->stream));
	if (rc == AISP_OK)
		rc = f32_reset(f, d);
	if (rc == AISP_OK)
		rc = f32_iteration(f, d, CUBLAS_COMPUTE_32F);
	if (rc == AISP_OK)
		rc = perf_fetch(d, f->p, tmp, ref);
	return rc;
}

/* ||a - b|| / ||b|| over the tensors in mask (padding skipped); a, b relative to base. */
static double perf_rel(const struct perf_layout *l, const int *mask, const double *a,
		       const double *b, const float *base)
{
	double num = 0.0, den = 0.0;

	for (int k = 0; k < PERF_NSEG; k++) {
		if (!mask[k])
			continue;
		for (size_t i = l->off[k]; i < l->off[k] + l->len[k]; i++) {
			double z = base ? base[i] : 0.0;
			double e = a[i] - b[i], r = b[i] - z;
			num += e * e;
			den += r * r;
		}
	}
	return den > 0.0 ? sqrt(num / den) : (num > 0.0 ? INFINITY : 0.0);
}

/* Judge got against ref: losses, parameters and updates of FP32 tensors. */
static void perf_judge(const struct perf_data *d, const float *p0,
		       const struct perf_outcome *got, const struct perf_outcome *ref,
		       const struct perf_tol *t, const char *refname, struct aisp_check *out)
{
	static const int all[PERF_NSEG] = {1, 1, 1, 1, 1, 1};
	int steps = d->sh.microbatches / d->sh.accum;
	double lnum = 0.0, lden = 0.0;

	for (int i = 0; i < steps; i++) {
		lnum += (got->step_loss[i] - ref->step_loss[i]) *
			(got->step_loss[i] - ref->step_loss[i]);
		lden += ref->step_loss[i] * ref->step_loss[i];
	}
	double le = sqrt(lnum / lden);
	double pe = perf_rel(&d->lay, all, got->p, ref->p, NULL);
	double ue = perf_rel(&d->lay, t->exact, got->p, ref->p, p0);
	double ua = perf_rel(&d->lay, all, got->p, ref->p, p0);

	out->rel_error = pe;
	out->tolerance = t->params;
	/* NaN compares false, so a NaN anywhere fails */
	out->passed = le <= t->loss && pe <= t->params && ue <= t->update;
	snprintf(out->message, sizeof(out->message),
		 "vs %s, %d steps: loss %.6f vs %.6f rel %.1e (<= %.0e); params rel %.1e "
		 "(<= %.0e); update rel %.1e (<= %.0e, fp32-stored); all updates %.1e",
		 refname, steps, got->step_loss[steps - 1], ref->step_loss[steps - 1], le,
		 t->loss, pe, t->params, ue, t->update, ua);
}

/* Host buffers of a verification: initial parameters, two outcomes, staging. */
struct perf_vbuf {
	float *p0, *tmp;
	struct perf_outcome got, ref;
};

static void perf_vbuf_free(struct perf_vbuf *v)
{
	free(v->p0);
	free(v->tmp);
	free(v->got.p);
	free(v->got.step_loss);
	free(v->ref.p);
	free(v->ref.step_loss);
}

/* Allocate the buffers and download the initial parameters. */
static aisp_err perf_vbuf_init(struct perf_vbuf *v, const struct perf_data *d)
{
	size_t n = d->lay.total, steps = (size_t)(d->sh.microbatches / d->sh.accum);

	memset(v, 0, sizeof(*v));
	v->p0 = (float *)malloc(n * sizeof(float));
	v->tmp = (float *)malloc(n * sizeof(float));
	v->got.p = (double *)malloc(n * sizeof(double));
	v->ref.p = (double *)malloc(n * sizeof(double));
	v->got.step_loss = (double *)malloc(steps * sizeof(double));
	v->ref.step_loss = (double *)malloc(steps * sizeof(double));
	if (!v->p0 || !v->tmp || !v->got.p || !v->ref.p || !v->got.step_loss ||
	    !v->ref.step_loss)
		return AISP_ENOMEM;
	return perf_cu(cudaMemcpy(v->p0, d->p0, n * sizeof(float), cudaMemcpyDeviceToHost));
}

/* Small shapes: the float64 host reference; else plain FP32 on the GPU (engine f). */
static aisp_err perf_reference(const struct perf_data *d, struct perf_f32 *f,
			       struct perf_vbuf *v, const char **name)
{
	double macs = (double)d->sh.samples *
		      ((double)d->sh.hidden * (d->sh.input + d->sh.hidden + d->sh.classes));

	if (macs * 3.0 <= PERF_HOST_REF_MACS) {
		*name = "float64 host reference";
		return perf_ref_host(d, v->p0, &v->ref);
	}
	*name = "FP32 GPU path (no TF32)";
	return perf_ref_gpu(d, f, v->tmp, &v->ref);
}

/* Fill the check after a device failure during verification. */
static aisp_err perf_verify_failed(aisp_err rc, struct aisp_check *out)
{
	out->passed = 0;
	out->rel_error = NAN;
	snprintf(out->message, sizeof(out->message), "verification stopped: %s (%s)",
		 aisp_err_name(rc), cudaGetErrorString(cudaGetLastError()));
	return rc;
}

static aisp_err base_verify(void *state, struct aisp_check *out)
{
	/* TF32 operands keep 10 mantissa bits, as FP16 does: the update error
	 * (a difference of gradients) measured 0.6-1.6e-2 vs float64 and FP32 */
	static const struct perf_tol tol = {1e-3, 1e-4, 3e-2, {1, 1, 1, 1, 1, 1}};
	struct perf_base *b = (struct perf_base *)state;
	struct perf_data *d = &b->d;
	struct perf_vbuf v;
	const char *name = "";
	aisp_err rc;

	rc = perf_vbuf_init(&v, d);
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemsetAsync(d->loss, 0xff, (size_t)d->sh.samples * 4, d->stream));
	if (rc == AISP_OK)
		rc = f32_reset(&b->f, d);
	if (rc == AISP_OK)
		rc = base_run(b);
	if (rc == AISP_OK)
		rc = perf_fetch(d, b->f.p, v.tmp, &v.got);
	if (rc == AISP_OK)
		rc = perf_reference(d, &b->f, &v, &name);
	if (rc == AISP_OK)
		rc = f32_reset(&b->f, d);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(d->stream));
	if (rc == AISP_OK)
		perf_judge(d, v.p0, &v.got, &v.ref, &tol, name, out);
	perf_vbuf_free(&v);
	return rc == AISP_OK ? AISP_OK : perf_verify_failed(rc, out);
}

/* One fused iteration from the initial parameters; parameters into dev_p. */
static aisp_err opt_iterate_fresh(struct perf_opt *o, float *dev_p)
{
	struct perf_data *d = &o->d;
	aisp_err rc;

	rc = perf_cu(cudaMemsetAsync(d->loss, 0xff, (size_t)d->sh.samples * 4, d->stream));
	if (rc == AISP_OK)
		rc = opt_reset(o, d->stream);
	if (rc == AISP_OK)
		rc = opt_run(o);
	if (rc == AISP_OK)
		rc = opt_export(o, dev_p, d->stream);
	return rc;
}

static aisp_err opt_verify(void *state, struct aisp_check *out)
{
	static const struct perf_tol tol = {1e-2, 3e-3, 3e-2, {0, 1, 0, 1, 1, 1}};
	struct perf_opt *o = (struct perf_opt *)state;
	struct perf_data *d = &o->d;
	struct perf_f32 f;
	struct perf_vbuf v;
	const char *name = "";
	float *dev_p = NULL;
	aisp_err rc;

	memset(&f, 0, sizeof(f));
	rc = perf_vbuf_init(&v, d);
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&dev_p, d->lay.total * sizeof(float)));
	if (rc == AISP_OK)
		rc = opt_iterate_fresh(o, dev_p);
	if (rc == AISP_OK)
		rc = perf_fetch(d, dev_p, v.tmp, &v.got);
	cudaFree(dev_p);
	if (rc == AISP_OK)
		rc = f32_alloc(&f, d);
	if (rc == AISP_OK)
		rc = perf_reference(d, &f, &v, &name);
	f32_free(&f);
	if (rc == AISP_OK)
		rc = opt_reset(o, d->stream);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(d->stream));
	if (rc == AISP_OK)
		perf_judge(d, v.p0, &v.got, &v.ref, &tol, name, out);
	perf_vbuf_free(&v);
	return rc == AISP_OK ? AISP_OK : perf_verify_failed(rc, out);
}

/* ------------------------------------------------------------------ */
/* target                                                              */

static const struct aisp_ops perf_base_ops = {base_setup, base_run, base_verify, base_teardown};
static const struct aisp_ops perf_opt_ops = {opt_setup, opt_run, opt_verify, opt_teardown};

static const struct aisp_variant perf_variants[] = {
	{"baseline_performance", AISP_ROLE_BASELINE,
	 "FP32 eager (TF32 GEMMs): cuBLAS per microbatch, gradient accumulation", &perf_base_ops},
	{"optimized_performance", AISP_ROLE_OPTIMIZED,
	 "FP16 fused microbatches, lazy weights (W1 once per iteration, W2 every 4 steps, "
	 "Gram corrections), cuBLASLt epilogues, SGD folded into update GEMMs, CUDA graph",
	 &perf_opt_ops},
};

extern "C" const struct aisp_target ch01_performance_cuda = {AISP_ABI_VERSION, &perf_card,
							      AISP_BACKEND_CUDA,
							      AISP_LIST(perf_variants)};

/* ------------------------------------------------------------------ */
/* test hooks (tests/gpu): not used by the runner                      */

/* Mean loss of each SGD step of the last iteration into loss[steps]; syncs. */
extern "C" aisp_err perf_cuda_step_losses(void *state, double *loss)
{
	struct perf_data *d = (struct perf_data *)state;
	int steps = d->sh.microbatches / d->sh.accum;
	float *l = (float *)malloc((size_t)d->sh.samples * sizeof(float));
	aisp_err rc;

	if (!l)
		return AISP_ENOMEM;
	rc = perf_cu(cudaStreamSynchronize(d->stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(l, d->loss, (size_t)d->sh.samples * sizeof(float),
					cudaMemcpyDeviceToHost));
	for (int t = 0; t < steps && rc == AISP_OK; t++) {
		double sum = 0.0;
		for (int i = 0; i < d->sh.group; i++)
			sum += l[(size_t)t * d->sh.group + i];
		loss[t] = sum / d->sh.group;
	}
	free(l);
	return rc;
}

/* 1 when the fused variant fell back to own ReLU-mask kernels. */
extern "C" int perf_cuda_fallback(void *state)
{
	struct perf_data *d = (struct perf_data *)state;

	return d->fused ? ((struct perf_opt *)state)->fallback : 0;
}

/* Median of reps timings (ms) of op on group 0, eager on the state's stream;
 * with algo, the GEMM runs that algo instead of its own. */
static aisp_err opt_time_op(struct perf_opt *o, int op, const cublasLtMatmulAlgo_t *algo,
			    int reps, cudaEvent_t *ev, double *ms)
{
	cudaStream_t st = o->d.stream;
	double t[64];
	aisp_err rc = AISP_OK;

	reps = reps < 64 ? reps : 64;
	for (int r = 0; r <= reps && rc == AISP_OK; r++) {
		struct opt_gemm_call c;
		float f = 0.0f;
		rc = perf_cu(cudaEventRecord(ev[0], st));
		if (rc == AISP_OK && algo && opt_gemm_of(o, op, 0, &c)) {
			struct perf_gemm alt = *c.gemm;
			alt.algo = *algo;
			rc = perf_gemm_run(&alt, o->lt, c.a, c.b, c.c, c.c, c.alpha, c.beta, o->ws,
					   PERF_WORKSPACE, st);
		} else if (rc == AISP_OK) {
			rc = opt_op(o, op, 0, st);
		}
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventRecord(ev[1], st));
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventSynchronize(ev[1]));
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventElapsedTime(&f, ev[0], ev[1]));
		if (r > 0) /* the first is a warm-up */
			t[r - 1] = f;
	}
	for (int i = 1; i < reps; i++) /* insertion sort: reps is small */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	*ms = rc == AISP_OK ? t[reps / 2] : NAN;
	return rc;
}

/*
 * Test hook: per-op times of one fused step (eager, events around each op)
 * and, for each GEMM, the time of every heuristic candidate algo; a text
 * report into buf. Leaves the parameters reset to their initial values.
 */
extern "C" aisp_err perf_cuda_profile(void *state, int reps, char *buf, size_t cap)
{
	struct perf_opt *o = (struct perf_opt *)state;
	cudaEvent_t ev[2] = {NULL, NULL};
	size_t used = 0;
	double total = 0.0;
	aisp_err rc;

	if (!o->d.fused)
		return AISP_EINPUT;
	buf[0] = 0;
	rc = perf_cu(cudaEventCreate(&ev[0]));
	if (rc == AISP_OK)
		rc = perf_cu(cudaEventCreate(&ev[1]));
	for (int op = 0; op < OP_N && rc == AISP_OK; op++) {
		cublasLtMatmulAlgo_t algos[16];
		struct opt_gemm_call c;
		int found = 0;
		double ms;
		rc = opt_time_op(o, op, NULL, reps, ev, &ms);
		total += rc == AISP_OK ? ms : 0.0;
		if (rc == AISP_OK && used < cap)
			used += snprintf(buf + used, cap - used, "%-24s %8.1f us", opt_op_names[op],
					 ms * 1e3);
		if (rc == AISP_OK && opt_gemm_of(o, op, 0, &c))
			rc = perf_gemm_candidates(c.gemm, o->lt, PERF_WORKSPACE, algos, 16, &found);
		for (int i = 0; i < found && rc == AISP_OK; i++) {
			rc = opt_time_op(o, op, &algos[i], reps, ev, &ms);
			if (rc == AISP_OK && used < cap)
				used += snprintf(buf + used, cap - used, i ? " %.1f" : "  algos: %.1f",
						 ms * 1e3);
		}
		if (used < cap)
			used += snprintf(buf + used, cap - used, "\n");
	}
	if (used < cap)
		snprintf(buf + used, cap - used, "sum of ops, one step: %.1f us\n", total * 1e3);
	if (ev[0])
		cudaEventDestroy(ev[0]);
	if (ev[1])
		cudaEventDestroy(ev[1]);
	if (rc == AISP_OK)
		rc = opt_reset(o, o->d.stream);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	return rc;
}

/* Test hook: recapture the fused graph with branches 0 (none), 1 or 2 (opt_capture_step). */
extern "C" aisp_err perf_cuda_set_branches(void *state, int on)
{
	struct perf_opt *o = (struct perf_opt *)state;
	aisp_err rc;

	if (!o->d.fused)
		return AISP_EINPUT;
	rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	o->branches = on;
	return rc == AISP_OK ? opt_capture(o) : rc;
}

/*
 * Test hook: for every GEMM of the fused step, time each heuristic candidate
 * (reps runs, median) and keep the fastest; then reset and recapture.
 * Writes the chosen candidate index per GEMM into buf.
 */
extern "C" aisp_err perf_cuda_autotune(void *state, int reps, char *buf, size_t cap)
{
	struct perf_opt *o = (struct perf_opt *)state;
	cudaEvent_t ev[2] = {NULL, NULL};
	size_t used = 0;
	aisp_err rc;

	if (!o->d.fused)
		return AISP_EINPUT;
	buf[0] = 0;
	rc = perf_cu(cudaEventCreate(&ev[0]));
	if (rc == AISP_OK)
		rc = perf_cu(cudaEventCreate(&ev[1]));
	for (int op = 0; op < OP_N && rc == AISP_OK; op++) {
		cublasLtMatmulAlgo_t algos[16];
		struct opt_gemm_call c;
		int found = 0, best = -1;
		double best_ms = INFINITY, ms;
		if (!opt_gemm_of(o, op, 0, &c))
			continue;
		rc = perf_gemm_candidates(c.gemm, o->lt, PERF_WORKSPACE, algos, 16, &found);
		for (int i = 0; i < found && rc == AISP_OK; i++) {
			rc = opt_time_op(o, op, &algos[i], reps, ev, &ms);
			if (rc == AISP_OK && ms < best_ms) {
				best_ms = ms;
				best = i;
			}
		}
		if (rc == AISP_OK && best >= 0)
			((struct perf_gemm *)c.gemm)->algo = algos[best];
		if (used < cap)
			used += snprintf(buf + used, cap - used, "%s: candidate %d of %d, %.1f us\n",
					 opt_op_names[op], best, found, best_ms * 1e3);
	}
	if (ev[0])
		cudaEventDestroy(ev[0]);
	if (ev[1])
		cudaEventDestroy(ev[1]);
	if (rc == AISP_OK)
		rc = opt_reset(o, o->d.stream);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	return rc == AISP_OK ? opt_capture(o) : rc;
}

/* Test hook: the W2 update period of the fused graph (0: the v3 graph), or -1
 * for the baseline; *lazy_ok: whether the lazy graph could be built. */
extern "C" int perf_cuda_period(void *state, int *lazy_ok)
{
	struct perf_data *d = (struct perf_data *)state;
	struct perf_opt *o = (struct perf_opt *)state;

	*lazy_ok = d->fused ? o->lz.ok : 0;
	return d->fused ? o->lz.period : -1;
}

/* Test hook: why the lazy graph was not built ("" when it was). */
extern "C" const char *perf_cuda_lazy_why(void *state)
{
	struct perf_data *d = (struct perf_data *)state;
	struct perf_opt *o = (struct perf_opt *)state;

	return d->fused && o->lz.why ? o->lz.why : "";
}

/* Test hook: recapture the fused graph with W2 update period p (1..PERF_PMAX,
 * lazy W1) or 0 (the v3 graph); EINPUT when the lazy graph is not built. */
extern "C" aisp_err perf_cuda_set_period(void *state, int p)
{
	struct perf_opt *o = (struct perf_opt *)state;
	aisp_err rc;

	if (!o->d.fused || p < 0 || p > PERF_PMAX || (p && !o->lz.ok))
		return AISP_EINPUT;
	rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	o->lz.period = p;
	return rc == AISP_OK ? opt_capture(o) : rc;
}

/* Test hook: W1 update split (lz_split_init: 0 = one update at the end) and
 * the SMs its first part asks for; recaptures. EINPUT without the lazy graph. */
extern "C" aisp_err perf_cuda_set_w1split(void *state, int split, int sm)
{
	struct perf_opt *o = (struct perf_opt *)state;
	aisp_err rc;

	if (!o->d.fused || !o->lz.ok)
		return AISP_EINPUT;
	rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	if (rc == AISP_OK)
		rc = lz_split_init(o, split, sm);
	return rc == AISP_OK ? opt_capture(o) : rc;
}

/* Names of the lazy graph's operations that perf_cuda_profile_lazy times. */
static const char *const lz_prof_names[] = {
	"x W1^T, all samples (base1)", "X X^T (gram1)", "W1 update, K = S (dw1)",
	"fc1 correction, step 1", "fc1 correction, last step", "fc2 with epilogue (j = 0)",
	"fc2 base, no epilogue", "Gram 1 step (gemm + sum)", "Gram P-1 steps (gemm + sum)",
	"fc2 correction, j = 1", "dx2 with drelu (j = 0)", "dx2 base, no epilogue",
	"dx2 correction, j = 1", "W2 update, K = B", "W2 update, K = P*B",
	"W1 update part 1 (dw1a)", "W1 update part 2 (dw1b)",
};

/* Enqueue the lazy operation i on st with step-1 operands; EINPUT: not present. */
static aisp_err lz_prof_op(struct perf_opt *o, int i, cudaStream_t st)
{
	const struct perf_shape *s = &o->d.sh;
	struct perf_lazy *z = &o->lz;
	size_t B = s->group, BH = B * s->hidden, at = (size_t)z->w1split * B;
	int P = z->period > 1 ? z->period : 2, last = s->microbatches / s->accum - 1;
	float a = (float)(-s->lr / s->group);
	__half *h1 = o->h1 + BH, *e = o->dh2 + BH;

	switch (i) {
	case 0: return lz_gemm(o, &z->base1, o->w1, o->xh, z->p1, z->p1, 1.0f, 0.0f, st);
	case 1: return lz_gemm(o, &z->gram1, o->xh, o->xh, z->g1, z->g1, 1.0f, 0.0f, st);
	case 2: return lz_gemm(o, &z->dw1, o->xh, z->dh1, o->w1, o->w1, a, 1.0f, st);
	case 3: return lz_gemm(o, &z->corr1[1], z->dh1, z->g1 + B * s->samples, z->p1 + BH,
			       h1, a, 1.0f, st);
	case 4: return last < 1 ? AISP_EINPUT
				: lz_gemm(o, &z->corr1[last], z->dh1,
					  z->g1 + last * B * s->samples, z->p1 + last * BH, h1,
					  a, 1.0f, st);
	case 5: return lz_gemm(o, &o->fc2, o->w2, h1, o->h2, o->h2, 1.0f, 0.0f, st);
	case 6: return lz_gemm(o, &z->fc2b, o->w2, h1, z->base, z->base, 1.0f, 0.0f, st);
	case 7: return lz_gram(o, 1, o->h1, h1, st);
	case 8: return lz_gram(o, P - 1, o->h1, o->h1 + (P - 1) * BH, st);
	case 9: return lz_gemm(o, &z->corr2[1], o->dh2, z->gram, z->base, o->h2, a, 1.0f, st);
	case 10: return lz_gemm(o, &o->dx2, o->w2, e, z->dh1, z->dh1, 1.0f, 0.0f, st);
	case 11: return lz_gemm(o, &z->dx2b, o->w2, e, z->base, z->base, 1.0f, 0.0f, st);
	case 12: return lz_gemm(o, &z->corrdx[1], o->h1, z->gram, z->base, z->dh1 + BH, a,
				1.0f, st);
	case 13: return lz_gemm(o, &z->dw2[1], o->h1, o->dh2, o->w2, o->w2, a, 1.0f, st);
	case 14: return lz_gemm(o, &z->dw2[P], o->h1, o->dh2, o->w2, o->w2, a, 1.0f, st);
	case 15: return !z->w1split ? AISP_EINPUT
				    : lz_gemm(o, &z->dw1a, o->xh, z->dh1, o->w1, o->w1, a,
					      1.0f, st);
	case 16: return !z->w1split ? AISP_EINPUT
				    : lz_gemm(o, &z->dw1b, o->xh + at * s->input,
					      z->dh1 + at * s->hidden, o->w1, o->w1, a, 1.0f, st);
	}
	return AISP_EINPUT;
}

/*
 * Test hook: eager times (median of reps, events) of the lazy graph's
 * operations (lz_prof_names), a text report into buf. Leaves the parameters
 * reset. EINPUT without the lazy graph.
 */
extern "C" aisp_err perf_cuda_profile_lazy(void *state, int reps, char *buf, size_t cap)
{
	struct perf_opt *o = (struct perf_opt *)state;
	cudaStream_t st = o->d.stream;
	cudaEvent_t ev[2] = {NULL, NULL};
	size_t used = 0;
	aisp_err rc;

	if (!o->d.fused || !o->lz.ok)
		return AISP_EINPUT;
	buf[0] = 0;
	reps = reps < 1 ? 1 : reps > 63 ? 63 : reps;
	rc = perf_cu(cudaEventCreate(&ev[0]));
	if (rc == AISP_OK)
		rc = perf_cu(cudaEventCreate(&ev[1]));
	for (int i = 0; i < (int)(sizeof(lz_prof_names) / sizeof(lz_prof_names[0])) &&
			rc == AISP_OK; i++) {
		double t[64];
		int n = 0;
		for (int r = 0; r <= reps && rc == AISP_OK; r++) {
			float f = 0.0f;
			rc = perf_cu(cudaEventRecord(ev[0], st));
			aisp_err op = rc == AISP_OK ? lz_prof_op(o, i, st) : rc;
			if (op == AISP_EINPUT)
				break;
			rc = op;
			if (rc == AISP_OK)
				rc = perf_cu(cudaEventRecord(ev[1], st));
			if (rc == AISP_OK)
				rc = perf_cu(cudaEventSynchronize(ev[1]));
			if (rc == AISP_OK)
				rc = perf_cu(cudaEventElapsedTime(&f, ev[0], ev[1]));
			if (r > 0) /* the first is a warm-up */
				t[n++] = f;
		}
		for (int x = 1; x < n; x++) /* insertion sort: n is small */
			for (int y = x; y > 0 && t[y] < t[y - 1]; y--) {
				double v = t[y];
				t[y] = t[y - 1];
				t[y - 1] = v;
			}
		if (rc == AISP_OK && n && used < cap)
			used += snprintf(buf + used, cap - used, "%-34s %8.1f us\n", lz_prof_names[i],
					 t[n / 2] * 1e3);
	}
	if (ev[0])
		cudaEventDestroy(ev[0]);
	if (ev[1])
		cudaEventDestroy(ev[1]);
	if (rc == AISP_OK)
		rc = opt_reset(o, st);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(st));
	return rc;
}

/* Test hook: the W1 update split of the lazy graph (0: none) and its SMs. */
extern "C" int perf_cuda_w1split(void *state, int *sm)
{
	struct perf_data *d = (struct perf_data *)state;
	struct perf_opt *o = (struct perf_opt *)state;

	*sm = d->fused ? o->lz.w1sm : 0;
	return d->fused ? o->lz.w1split : 0;
}
