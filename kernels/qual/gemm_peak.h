/*
 * gemm_peak.h - qual:gemm_peak, what both twins share (gemm_peak_host.c,
 * gemm_peak.cu): a dense square n x n x n GEMM with inputs stored in the
 * precision of each variant and FP32 accumulation,
 *   baseline_tf32   TF32 inputs
 *   optimized_fp16  FP16 inputs
 *   optimized_bf16  BF16 inputs
 *   optimized_fp8   FP8 E4M3 inputs
 * Work is 2 n^3 flop. Inputs: A(i,p) = qual_gemm_value(qual_hash(seed, 1,
 * i*n + p)) and B(p,j) = qual_gemm_value(qual_hash(seed, 2, j*n + p)); every
 * value is exact in every format, so only accumulation differs from the
 * float64 reference of the GEMM_PEAK_SAMPLES entries verify checks (entry
 * qual_hash(seed, 9, s) mod n^2, row-major).
 */
#ifndef AISP_QUAL_GEMM_PEAK_H
#define AISP_QUAL_GEMM_PEAK_H

#include <math.h>

#include "aisp.h"
#include "qual.h"

#define GEMM_PEAK_SAMPLES 256

/* The variants' arguments (their input formats) and the formats' names. */
static const enum qual_fmt gemm_peak_fmt[] = {QUAL_TF32, QUAL_FP16, QUAL_BF16, QUAL_FP8};
static const char *const gemm_peak_fmt_name[] = {"tf32", "fp16", "bf16", "fp8 e4m3"};

static const struct aisp_param gemm_peak_params[] = {
	{"n", AISP_PARAM_INT, {256, 8192}, 16, 32768, "rows = columns = depth of the square GEMM"},
};

/* 2 n^3 flop per iteration. */
static inline double gemm_peak_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[0] * p->v[0];
}

/* Relative tolerance of FP32 accumulation over n exact products (fp8: 20x). */
static inline double gemm_peak_tolerance(size_t n, enum qual_fmt fmt)
{
	return 1e-4 * fmax(1.0, sqrt((double)n / 256.0)) * (fmt == QUAL_FP8 ? 20.0 : 1.0);
}

/* Row-major index into the n x n result of checked sample s. */
static inline size_t gemm_peak_sample(uint64_t seed, size_t n, size_t s)
{
	return qual_hash(seed, 9, s) % (n * n);
}

/* Float64 value of D(i, j) of the logical matrices, from the hash. */
static inline double gemm_peak_ref(uint64_t seed, size_t n, size_t i, size_t j)
{
	double ref = 0.0;

	for (size_t q = 0; q < n; q++)
		ref += qual_gemm_value(qual_hash(seed, 1, i * n + q)) *
		       qual_gemm_value(qual_hash(seed, 2, j * n + q));
	return ref;
}

static const struct aisp_card gemm_peak_card = {
	.name = "qual:gemm_peak",
	.description = "dense square GEMM throughput in TF32, FP16, BF16, FP8 (flop/s)",
	.goal = "throughput", .params = gemm_peak_params, .n_params = AISP_COUNT(gemm_peak_params),
	.work = gemm_peak_flops, .work_unit = "flop", .flops = gemm_peak_flops,
};

#endif /* AISP_QUAL_GEMM_PEAK_H */
