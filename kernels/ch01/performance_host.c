/*
 * performance_host.c - ch01:performance on the host: the book's training-
 * goodput pair on a small MLP (mlp_ref.h), one iteration = `microbatches`
 * microbatches of `microbatch` samples of a fixed seeded data set, one SGD
 * step per group of `accum` microbatches (the last group takes what is left).
 *
 * baseline_performance: FP32, eager: per microbatch a forward and backward
 * pass of separate operations (GEMM, then bias, then ReLU; per-microbatch
 * gradients added into .grad-style accumulators), the loss scaled so the
 * group's step equals the fused one.
 * optimized_performance: a group fused into one batch of accum*microbatch
 * samples; weights (a bf16 copy of float32 master weights, refreshed after
 * each step, as mixed-precision training does), activations and activation
 * gradients stored in bfloat16 (uint16_t, round to nearest even), float32
 * products and sums; bias, ReLU and conversion fused into one pass after
 * each GEMM; weight gradients written straight into the step's buffer.
 * Why float32 master weights: an SGD update below half a bf16 ulp of its
 * weight (2^-9 relative) would be lost, and at the default shape and lr
 * 0.01, 98% of the first step's updates are that small (measured).
 *
 * Both variants use the same blocked GEMM (hblas.h), so the difference is
 * only batch fusion, fused element-wise passes and the storage precision.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch01_host.h"
#include "hblas.h"
#include "mlp_ref.h"
#include "performance.h"

/* The variants' argument: the storage precision of the compute copies. */
enum perf_prec { PERF_PREC_F32, PERF_PREC_BF16 };
static const enum perf_prec perf_f32 = PERF_PREC_F32, perf_bf16 = PERF_PREC_BF16;

/* Everything one variant owns. Matrices are row-major [rows][width]. */
struct perf {
	struct mlp_shape sh;
	struct mlp_layout lay;
	size_t mb, nmb, accum;   /* microbatch, microbatches, accum */
	size_t n, group, steps;  /* samples, most samples per step, steps */
	float lr;
	int bf16;                /* 1: optimized variant */
	float *x;                /* data set [n][input] */
	int32_t *y;              /* labels [n] */
	uint16_t *xh;            /* data set in bf16 (optimized) */
	float *w0, *w, *g, *gt;  /* params: initial, master, grad, microbatch grad */
	float *wt;               /* f32 weights transposed, [in][out] per layer */
	uint16_t *wh, *wth;      /* bf16 weights, as laid out and transposed */
	float *h1, *h2, *z, *d1, *d2, *dz;      /* f32 [group][width] */
	uint16_t *h1h, *h2h, *d1h, *d2h, *dzh;  /* bf16 [group][width] */
	float *work;             /* hblas packing scratch */
	double *loss;            /* loss of each step of the last iteration */
	double *ref_p, *ref_loss;/* float64 reference of one iteration from w0 */
};

/* h[s][o] += b[o]: the eager bias pass. */
static void perf_bias(float *h, size_t S, size_t n, const float *b)
{
	for (size_t s = 0; s < S; s++)
		for (size_t o = 0; o < n; o++)
			h[s * n + o] += b[o];
}

/* max(v, 0), NaN to 0, in a form compilers turn into maxss (no branch). */
static inline float perf_relu1(float v)
{
	return v > 0.0f ? v : 0.0f;
}

/* v where the ReLU output bits hbits are not +0 (h >= 0), else 0; with
 * integer masks, since a data-dependent branch here mispredicts half the
 * time. */
static inline float perf_mask1(float v, uint32_t hbits)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	u &= -(uint32_t)(hbits != 0);
	memcpy(&v, &u, sizeof(v));
	return v;
}

/* h = max(h, 0): the eager ReLU pass. */
static void perf_relu(float *h, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h[i] = perf_relu1(h[i]);
}

/* d = 0 where the ReLU output h is 0: the eager ReLU-backward pass. */
static void perf_relu_bwd(float *d, const float *h, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t hb;

		memcpy(&hb, &h[i], sizeof(hb));
		d[i] = perf_mask1(d[i], hb);
	}
}

/* gb[o] = sum over s of d[s][o]. */
static void perf_colsum(const float *d, size_t S, size_t n, float *gb)
{
	memset(gb, 0, n * sizeof(*gb));
	for (size_t s = 0; s < S; s++)
		for (size_t o = 0; o < n; o++)
			gb[o] += d[s * n + o];
}

/*
 * Softmax cross-entropy of logits z [S][C] (plus bias b when not NULL):
 * dz = scale * (softmax - onehot); returns the sum of the S losses.
 */
static double perf_xent(const float *z, const float *b, const int32_t *y,
			size_t S, size_t C, float scale, float *dz)
{
	double loss = 0.0;

	for (size_t s = 0; s < S; s++) {
		float *d = dz + s * C, mx = -INFINITY, sum = 0.0f;

		for (size_t c = 0; c < C; c++) {
			d[c] = z[s * C + c] + (b ? b[c] : 0.0f);
			mx = fmaxf(mx, d[c]);
		}
		loss -= (double)(d[y[s]] - mx); /* not log(exp()): no underflow */
		for (size_t c = 0; c < C; c++) {
			d[c] = expf(d[c] - mx);
			sum += d[c];
		}
		loss += log((double)sum);
		for (size_t c = 0; c < C; c++)
			d[c] = scale * (d[c] / sum - (c == (size_t)y[s]));
	}
	return loss;
}

/* Layer l's weight gradient gw = dout^T in and bias gradient (float32). */
static void perf_grad_f32(const struct mlp_layout *l, int layer,
			  const float *dout, const float *in, size_t S, float *g,
			  float *work)
{
	size_t nin = l->in[layer], nout = l->out[layer];

	hblas_sgemm(nout, nin, S, dout, 1, nout, in, nin,
		    g + l->off[2 * layer], nin, 0, work);
	perf_colsum(dout, S, nout, g + l->off[2 * layer + 1]);
}

/* Eager FP32 forward and backward of S samples into p->gt; loss sum. */
static double perf_pass_f32(struct perf *p, const float *x, const int32_t *y,
			    size_t S, float scale)
{
	const struct mlp_layout *l = &p->lay;
	size_t I = l->in[0], H = l->out[0], C = l->out[2];
	const size_t *o = l->off;
	const float *w = p->w, *wt = p->wt;
	float *wk = p->work;
	double loss;

	hblas_sgemm(S, H, I, x, I, 1, wt + o[MLP_W1], H, p->h1, H, 0, wk);
	perf_bias(p->h1, S, H, w + o[MLP_B1]);
	perf_relu(p->h1, S * H);
	hblas_sgemm(S, H, H, p->h1, H, 1, wt + o[MLP_W2], H, p->h2, H, 0, wk);
	perf_bias(p->h2, S, H, w + o[MLP_B2]);
	perf_relu(p->h2, S * H);
	hblas_sgemm(S, C, H, p->h2, H, 1, wt + o[MLP_W3], C, p->z, C, 0, wk);
	perf_bias(p->z, S, C, w + o[MLP_B3]);
	loss = perf_xent(p->z, NULL, y, S, C, scale, p->dz);
	perf_grad_f32(l, 2, p->dz, p->h2, S, p->gt, wk);
	hblas_sgemm(S, H, C, p->dz, C, 1, w + o[MLP_W3], H, p->d2, H, 0, wk);
	perf_relu_bwd(p->d2, p->h2, S * H);
	perf_grad_f32(l, 1, p->d2, p->h1, S, p->gt, wk);
	hblas_sgemm(S, H, H, p->d2, H, 1, w + o[MLP_W2], H, p->d1, H, 0, wk);
	perf_relu_bwd(p->d1, p->h1, S * H);
	perf_grad_f32(l, 0, p->d1, x, S, p->gt, wk);
	return loss;
}

/* Baseline group of nmb microbatches from sample lo: p->g, mean loss. */
static double perf_group_f32(struct perf *p, size_t lo, size_t nmb)
{
	size_t rows = nmb * p->mb, I = p->sh.input;
	float scale = 1.0f / (float)rows;
	double loss = 0.0;

	memset(p->g, 0, p->lay.total * sizeof(*p->g));
	for (size_t m = 0; m < nmb; m++) {
		size_t s0 = lo + m * p->mb;

		loss += perf_pass_f32(p, p->x + s0 * I, p->y + s0, p->mb, scale);
		for (size_t i = 0; i < p->lay.total; i++)
			p->g[i] += p->gt[i];
	}
	return loss / (double)rows;
}

/* Fused forward epilogue: out = bf16(act(c + b)). */
static void perf_fwd_epi(const float *c, size_t S, size_t n, const float *b,
			 int relu, uint16_t *out)
{
	for (size_t s = 0; s < S; s++) {
		for (size_t o = 0; o < n; o++) {
			float v = c[s * n + o] + b[o];
			uint32_t u;
			uint16_t h = hblas_f32_to_bf16(v);

			/* ReLU on the rounded bits: keep h when v > 0 (sign
			 * clear, not zero), by mask, as a branch mispredicts */
			memcpy(&u, &v, sizeof(u));
			h &= (uint16_t)-(uint16_t)(!relu || (int32_t)u > 0);
			out[s * n + o] = h;
		}
	}
}

/* Fused backward epilogue: d masked by ReLU output h, gb = column sums,
 * out = bf16(d). With h NULL there is no mask (the logits' gradient). */
static void perf_bwd_epi(float *d, const uint16_t *h, size_t S, size_t n,
			 float *gb, uint16_t *out)
{
	memset(gb, 0, n * sizeof(*gb));
	for (size_t s = 0; s < S; s++) {
		for (size_t o = 0; o < n; o++) {
			float v = d[s * n + o];

			v = h ? perf_mask1(v, h[s * n + o]) : v;
			gb[o] += v;
			out[s * n + o] = hblas_f32_to_bf16(v);
		}
	}
}

/* Fused bf16 forward and backward of S samples from lo into p->g. */
static double perf_group_bf16(struct perf *p, size_t lo, size_t S)
{
	const struct mlp_layout *l = &p->lay;
	size_t I = l->in[0], H = l->out[0], C = l->out[2];
	const uint16_t *x = p->xh + lo * I, *wh = p->wh, *wth = p->wth;
	const size_t *o = l->off;
	float *w = p->w, *g = p->g, *wk = p->work;
	double loss;

	hblas_sgemm_bf16(S, H, I, x, I, 1, wth + o[MLP_W1], H, p->h1, H, 0, wk);
	perf_fwd_epi(p->h1, S, H, w + o[MLP_B1], 1, p->h1h);
	hblas_sgemm_bf16(S, H, H, p->h1h, H, 1, wth + o[MLP_W2], H, p->h2, H, 0, wk);
	perf_fwd_epi(p->h2, S, H, w + o[MLP_B2], 1, p->h2h);
	hblas_sgemm_bf16(S, C, H, p->h2h, H, 1, wth + o[MLP_W3], C, p->z, C, 0, wk);
	loss = perf_xent(p->z, w + o[MLP_B3], p->y + lo, S, C,
			 1.0f / (float)S, p->dz);
	perf_bwd_epi(p->dz, NULL, S, C, g + o[MLP_B3], p->dzh);
	hblas_sgemm_bf16(C, H, S, p->dzh, 1, C, p->h2h, H, g + o[MLP_W3], H, 0, wk);
	hblas_sgemm_bf16(S, H, C, p->dzh, C, 1, wh + o[MLP_W3], H, p->d2, H, 0, wk);
	perf_bwd_epi(p->d2, p->h2h, S, H, g + o[MLP_B2], p->d2h);
	hblas_sgemm_bf16(H, H, S, p->d2h, 1, H, p->h1h, H, g + o[MLP_W2], H, 0, wk);
	hblas_sgemm_bf16(S, H, H, p->d2h, H, 1, wh + o[MLP_W2], H, p->d1, H, 0, wk);
	perf_bwd_epi(p->d1, p->h1h, S, H, g + o[MLP_B1], p->d1h);
	hblas_sgemm_bf16(H, I, S, p->d1h, 1, H, x, I, g + o[MLP_W1], I, 0, wk);
	return loss / (double)S;
}

/* dst [in][out] = src [out][in]^T for each layer's weights. */
static void perf_transpose(const struct mlp_layout *l, const float *src,
			   float *dst, uint16_t *dsth)
{
	for (int k = 0; k < 3; k++) {
		const float *a = src + l->off[2 * k];
		size_t nin = l->in[k], nout = l->out[k], o0 = l->off[2 * k];

		for (size_t o = 0; o < nout; o++)
			for (size_t i = 0; i < nin; i++) {
				if (dst)
					dst[o0 + i * nout + o] = a[o * nin + i];
				else
					dsth[o0 + i * nout + o] =
						hblas_f32_to_bf16(a[o * nin + i]);
			}
	}
}

/* Derive the compute copies of the master weights (after each step). */
static void perf_refresh(struct perf *p)
{
	if (!p->bf16) {
		perf_transpose(&p->lay, p->w, p->wt, NULL);
		return;
	}
	for (size_t i = 0; i < p->lay.total; i++)
		p->wh[i] = hblas_f32_to_bf16(p->w[i]);
	perf_transpose(&p->lay, p->w, NULL, p->wth);
}

/* One iteration: every group of the data set, one SGD step each. */
static aisp_err perf_run(void *state)
{
	struct perf *p = state;
	size_t mb0 = 0;

	for (size_t t = 0; t < p->steps; t++) {
		size_t nmb = p->nmb - mb0 < p->accum ? p->nmb - mb0 : p->accum;

		if (p->bf16)
			p->loss[t] = perf_group_bf16(p, mb0 * p->mb, nmb * p->mb);
		else
			p->loss[t] = perf_group_f32(p, mb0 * p->mb, nmb);
		for (size_t i = 0; i < p->lay.total; i++)
			p->w[i] -= p->lr * p->g[i];
		perf_refresh(p);
		mb0 += nmb;
	}
	return AISP_OK;
}

/* Free everything perf_setup made; p may be NULL or half-built. */
static void perf_teardown(void *state)
{
	struct perf *p = state;

	if (!p)
		return;
	free(p->x);
	free(p->y);
	free(p->xh);
	free(p->w0);
	free(p->w);
	free(p->g);
	free(p->gt);
	free(p->wt);
	free(p->wh);
	free(p->wth);
	free(p->h1);
	free(p->h2);
	free(p->z);
	free(p->d1);
	free(p->d2);
	free(p->dz);
	free(p->h1h);
	free(p->h2h);
	free(p->d1h);
	free(p->d2h);
	free(p->dzh);
	free(p->work);
	free(p->loss);
	free(p->ref_p);
	free(p->ref_loss);
	free(p);
}

/* Allocate the buffers of p (shape fields set); 0 when one failed. */
static int perf_alloc(struct perf *p)
{
	size_t G = p->group, I = p->sh.input, H = p->sh.hidden, C = p->sh.classes;
	size_t P = p->lay.total, f = sizeof(float), h = sizeof(uint16_t);
	int ok;

	p->x = malloc(p->n * I * f);
	p->y = malloc(p->n * sizeof(*p->y));
	p->w0 = malloc(P * f);
	p->w = malloc(P * f);
	p->g = malloc(P * f);
	p->h1 = malloc(G * H * f);
	p->h2 = malloc(G * H * f);
	p->z = malloc(G * C * f);
	p->d1 = malloc(G * H * f);
	p->d2 = malloc(G * H * f);
	p->dz = malloc(G * C * f);
	p->loss = malloc(p->steps * sizeof(double));
	p->ref_p = malloc(P * sizeof(double));
	p->ref_loss = malloc(p->steps * sizeof(double));
	p->work = malloc(HBLAS_WORK(I > H ? (I > C ? I : C) : (H > C ? H : C)) * f);
	ok = p->x && p->y && p->w0 && p->w && p->g && p->h1 && p->h2 && p->z &&
	     p->d1 && p->d2 && p->dz && p->loss && p->ref_p && p->ref_loss &&
	     p->work;
	if (!p->bf16) {
		p->gt = malloc(P * f);
		p->wt = malloc(P * f);
		return ok && p->gt && p->wt;
	}
	p->xh = malloc(p->n * I * h);
	p->wh = malloc(P * h);
	p->wth = malloc(P * h);
	p->h1h = malloc(G * H * h);
	p->h2h = malloc(G * H * h);
	p->d1h = malloc(G * H * h);
	p->d2h = malloc(G * H * h);
	p->dzh = malloc(G * C * h);
	return ok && p->xh && p->wh && p->wth && p->h1h && p->h2h && p->d1h &&
	       p->d2h && p->dzh;
}

/* Read the parameters into p's shape fields. */
static void perf_shape(struct perf *p, const struct aisp_params *prm)
{
	p->sh.input = (size_t)prm->v[PERF_P_INPUT];
	p->sh.hidden = (size_t)prm->v[PERF_P_HIDDEN];
	p->sh.classes = (size_t)prm->v[PERF_P_CLASSES];
	p->mb = (size_t)prm->v[PERF_P_MICROBATCH];
	p->nmb = (size_t)prm->v[PERF_P_MICROBATCHES];
	p->accum = (size_t)prm->v[PERF_P_ACCUM];
	p->lr = (float)prm->v[PERF_P_LR];
	p->n = p->mb * p->nmb;
	p->group = (p->accum < p->nmb ? p->accum : p->nmb) * p->mb;
	p->steps = (p->nmb + p->accum - 1) / p->accum;
	mlp_layout_of(&p->sh, &p->lay);
}

/* Data, weights and the float64 reference of one iteration; the variant's
 * argument (ctx->variant->arg) says the precision. */
static aisp_err perf_setup(const struct aisp_ctx *ctx,
			   const struct aisp_params *prm, void **state)
{
	struct perf *p;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!ctx->variant || !ctx->variant->arg)
		return aisp_fail(ctx->err, AISP_EINTERNAL, "ch01:performance: no variant argument");
	if (!(p = calloc(1, sizeof(*p))))
		return AISP_ENOMEM;
	p->bf16 = *(const enum perf_prec *)ctx->variant->arg == PERF_PREC_BF16;
	perf_shape(p, prm);
	if (!perf_alloc(p))
		goto fail;
	mlp_make_data(&p->sh, ctx->seed, p->n, p->x, p->y);
	mlp_init_params(&p->sh, ctx->seed, p->w0);
	memcpy(p->w, p->w0, p->lay.total * sizeof(float));
	if (p->bf16)
		for (size_t i = 0; i < p->n * p->sh.input; i++)
			p->xh[i] = hblas_f32_to_bf16(p->x[i]);
	perf_refresh(p);
	rc = mlp_ref_train(&p->sh, p->w0, p->x, p->y, p->n, p->group, p->steps,
			   (double)p->lr, p->ref_loss, p->ref_p);
	if (rc != AISP_OK)
		goto fail;
	*state = p;
	return AISP_OK;
fail:
	perf_teardown(p);
	return rc;
}

/* Fill n floats with NaN. */
static void perf_poison(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = NAN;
}

/*
 * Bounds against float64, per tensor (mlp_judge: relative update error of
 * W1 b1 W2 b2 W3 b3, and of the steps' losses); mlp_judge adds the float32
 * master weights' rounding (2^-24 per step). Worst cases measured over
 * seeds 1-10 on ten shapes (the default; lr 1e-6, 0.5 and 1; microbatch 8;
 * 2 to 8 steps; odd ones: 3/5/3, 17/33/4 at lr 0.5, 64/96/7), 2026-12-04:
 * fp32: 2.4e-4 W1 (within its storage bound), loss 1.6e-8;
 * bf16: 0.12 W1/b1/W2/b2 (17/33/4, lr 0.5; 0.05-0.07 elsewhere: the hidden
 * layers' gradients are sums of bf16 products that cancel to ~1/15 of their
 * terms, so their rounding is amplified), W3 7.6e-3, b3 1.3e-3, loss
 * 3.1e-4. A dropped update of any tensor or a doubled lr gives 1, a skipped
 * step of the default's two 0.4-0.7 (numpy emulation of this shape); the
 * planted mutants fail (test_perf_mutants).
 */
static const struct mlp_tol perf_tol_f32 = {
	{1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4}, 1e-6, 0x1p-24};
static const struct mlp_tol perf_tol_bf16 = {
	{0.15, 0.15, 0.15, 0.15, 0.03, 0.01}, 3e-3, 0x1p-24};

/* Judge the parameters and losses of the last iteration (run from w0). */
static void perf_compare(struct perf *p, struct aisp_check *out)
{
	const struct mlp_outcome o = {
		p->lay.off, p->lay.len, p->w0, p->w, NULL, p->ref_p, p->loss,
		p->ref_loss, p->steps,
	};

	mlp_judge(&o, p->bf16 ? &perf_tol_bf16 : &perf_tol_f32,
		  p->bf16 ? "bf16 fused, fp32 masters" : "fp32 eager", "fp64", out);
}

/* Reset to the initial weights, poison, run one iteration, compare. */
static aisp_err perf_verify(void *state, struct aisp_check *out)
{
	struct perf *p = state;
	size_t G = p->group, H = p->sh.hidden, C = p->sh.classes;
	aisp_err rc;

	memcpy(p->w, p->w0, p->lay.total * sizeof(float));
	perf_refresh(p);
	for (size_t t = 0; t < p->steps; t++)
		p->loss[t] = NAN;
	perf_poison(p->g, p->lay.total);
	perf_poison(p->h1, G * H);
	perf_poison(p->h2, G * H);
	perf_poison(p->z, G * C);
	perf_poison(p->dz, G * C);
	perf_poison(p->d1, G * H);
	perf_poison(p->d2, G * H);
	rc = perf_run(p);
	if (rc != AISP_OK)
		return rc;
	perf_compare(p, out);
	return AISP_OK;
}

/* Test hook: judge the parameters as they are now (ch01_host.h). */
void perf_host_judge(void *state, struct aisp_check *out)
{
	memset(out, 0, sizeof(*out));
	perf_compare(state, out);
}

/* Test hook: float32 master parameters (ch01_host.h). */
float *perf_host_params(void *state, size_t *n)
{
	struct perf *p = state;

	*n = p->lay.total;
	return p->w;
}

/* Test hook: losses of the last iteration's steps (ch01_host.h). */
const double *perf_host_losses(void *state, size_t *n)
{
	struct perf *p = state;

	*n = p->steps;
	return p->loss;
}

/* Test hook: reference scaled by 1 + rel (ch01_host.h). */
void perf_host_perturb_ref(void *state, double rel)
{
	struct perf *p = state;

	for (size_t i = 0; i < p->lay.total; i++)
		p->ref_p[i] *= 1.0 + rel;
	for (size_t t = 0; t < p->steps; t++)
		p->ref_loss[t] *= 1.0 + rel;
}

static const struct aisp_ops perf_ops = {perf_setup, perf_run, perf_verify, perf_teardown};

static const struct aisp_variant perf_variants[] = {
	{"baseline_performance", AISP_ROLE_BASELINE,
	 "FP32 eager, gradient accumulation over microbatches", &perf_ops, &perf_f32},
	{"optimized_performance", AISP_ROLE_OPTIMIZED,
	 "bf16 GEMM operands with fp32 accumulation and fp32 master weights, fused "
	 "microbatches (one batch per SGD step) and epilogues",
	 &perf_ops, &perf_bf16},
};

const struct aisp_target ch01_performance_host = {AISP_ABI_VERSION, &perf_card, AISP_BACKEND_HOST,
						  AISP_LIST(perf_variants)};
