/*
 * gemm.h - ch01:gemm, what both twins share (gemm_host.c, gemm.cu): `batch`
 * independent FP32 GEMMs C[b] = A[b] * B[b] (row-major, m x k times k x n),
 * the book's case study of launch amortization: separate calls vs one
 * batched call vs one strided-batched call (and, on CUDA, a tiled kernel of
 * ours and a CUDA graph of the separate calls).
 *
 * Inputs: A then B, uniform(-1, 1), drawn in row-major order over the whole
 * contiguous batch from rng streams (seed, salt 1) and (seed, salt 2)
 * (aisp_rng_fill_unit), so both twins compute on the same matrices.
 */
#ifndef AISP_CH01_GEMM_H
#define AISP_CH01_GEMM_H

#include <math.h>

#include "aisp.h"

/* How a variant issues the batch (its argument). */
enum gemm_kind { GEMM_SEPARATE, GEMM_BATCHED, GEMM_STRIDED, GEMM_TILED, GEMM_GRAPH };

static const enum gemm_kind gemm_kinds[] = {GEMM_SEPARATE, GEMM_BATCHED, GEMM_STRIDED,
					    GEMM_TILED, GEMM_GRAPH};

static const struct aisp_param gemm_params[] = {
	{"m", AISP_PARAM_INT, {32, 32}, 1, 8192, "rows of A and C"},
	{"n", AISP_PARAM_INT, {256, 256}, 1, 8192, "columns of B and C"},
	{"k", AISP_PARAM_INT, {256, 256}, 1, 8192, "columns of A, rows of B"},
	{"batch", AISP_PARAM_INT, {40, 40}, 1, 4096, "independent GEMMs per iteration"},
};

/* 2 m n k FLOPs per GEMM. */
static inline double gemm_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[1] * p->v[2] * p->v[3];
}

/* Each of A, B and C read or written once (float32). */
static inline double gemm_bytes(const struct aisp_params *p)
{
	double m = p->v[0], n = p->v[1], k = p->v[2];

	return 4.0 * p->v[3] * (m * k + k * n + m * n);
}

/*
 * Relative tolerance for float32 GEMMs against float64. Each element is a
 * float32 sum of k products: the rounding error grows like sqrt(k) * 2^-24
 * for random signs (k * 2^-24 in the worst case). Measured ||C - ref|| /
 * ||ref|| is about 3e-7 at k = 256 (inputs uniform(-1, 1)); 1e-5 leaves a
 * 30x margin and still catches one wrong element in 10^4 off by 1e-3. A
 * TF32 result (~3e-4) fails it.
 */
static inline double gemm_tolerance(double k)
{
	return 1e-5 * fmax(1.0, sqrt(k / 256.0));
}

static const struct aisp_card gemm_card = {
	.name = "ch01:gemm",
	.description = "40 independent FP32 GEMMs: separate calls vs batched vs strided batched",
	.goal = "speed", .params = gemm_params, .n_params = AISP_COUNT(gemm_params),
	.work = gemm_flops, .work_unit = "flop", .bytes = gemm_bytes, .flops = gemm_flops,
};

#endif /* AISP_CH01_GEMM_H */
