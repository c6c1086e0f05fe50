/*
 * gemm_peak_host.c - qual:gemm_peak on the host: a square n x n GEMM with
 * inputs stored in the precision of each variant and FP32 accumulation,
 * the stand-in for the tensor-core peak GEMMs of gemm_peak.cu.
 *
 *   baseline_tf32   inputs stored as TF32 (float bits)
 *   optimized_fp16  inputs stored as FP16
 *   optimized_bf16  inputs stored as BF16
 *   optimized_fp8   inputs stored as FP8 E4M3
 * Each iteration decodes A and B to float (O(n^2)) and runs the blocked
 * SGEMM of qual_sgemm_host.c (O(n^3)). Work is 2 n^3 flop.
 *
 * Inputs: A(i,p) = qual_gemm_value(qual_hash(seed, 1, i*n + p)) and
 * B(p,j) = qual_gemm_value(qual_hash(seed, 2, j*n + p)), the logical
 * matrices of the CUDA twin (whose B is column-major). Every value is exact
 * in every format, so only accumulation differs from the float64 reference
 * of the sampled entries that verify checks.
 */
#include "aisp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

#define GEMM_PEAK_SAMPLES 256

/* Same table as gemm_peak.cu except the default. */
static const struct aisp_param gemm_peak_params[] = {
	{"n", AISP_PARAM_INT, 256, 16, 32768, "rows = columns = depth of the square GEMM"},
};

/* Everything one variant owns. */
struct gemm_peak {
	enum qual_fmt fmt;
	int knob;
	uint64_t seed;
	size_t n;
	unsigned char *a, *b; /* inputs in fmt, n*n elements each */
	float *af, *bf, *c;   /* decoded inputs and the output */
	float lut8[256];      /* FP8 E4M3 byte -> float */
};

/* Value of an FP16 bit pattern (normal, subnormal, inf/NaN). */
static float gemm_peak_half(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	float v = e == 0 ? ldexpf((float)m, -24)
		  : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(1024 + m), e - 25);

	return (h & 0x8000) ? -v : v;
}

/* Value of an FP8 E4M3 byte (no infinities; S.1111.111 is NaN). */
static float gemm_peak_e4m3(uint8_t x)
{
	int e = (x >> 3) & 15, m = x & 7;
	float v = e == 0 ? ldexpf((float)m, -9)
		  : (e == 15 && m == 7) ? NAN : ldexpf((float)(8 + m), e - 10);

	return (x & 0x80) ? -v : v;
}

/* Decode n*n elements of src in fmt into dst. */
static void gemm_peak_decode(const struct gemm_peak *g, const unsigned char *src, float *dst)
{
	size_t len = g->n * g->n;

	for (size_t i = 0; i < len; i++) {
		uint16_t h;
		uint32_t w;

		switch (g->fmt) {
		case QUAL_TF32:
			memcpy(&dst[i], src + 4 * i, 4);
			break;
		case QUAL_BF16:
			memcpy(&h, src + 2 * i, 2);
			w = (uint32_t)h << 16;
			memcpy(&dst[i], &w, 4);
			break;
		case QUAL_FP16:
			memcpy(&h, src + 2 * i, 2);
			dst[i] = gemm_peak_half(h);
			break;
		case QUAL_FP8:
			dst[i] = g->lut8[src[i]];
			break;
		}
	}
}

/* One iteration: decode both inputs, multiply; stretched by the knob. */
static aisp_err gemm_peak_run(void *state)
{
	struct gemm_peak *g = state;
	double t0 = g->knob > 0 ? qual_now() : 0.0;

	gemm_peak_decode(g, g->a, g->af);
	gemm_peak_decode(g, g->b, g->bf);
	qual_sgemm(g->n, g->af, g->bf, g->c);
	qual_stretch(g->knob, t0);
	return AISP_OK;
}

/* Free everything setup made; state may be NULL or half-built. */
static void gemm_peak_teardown(void *state)
{
	struct gemm_peak *g = state;

	if (!g)
		return;
	free(g->a);
	free(g->b);
	free(g->af);
	free(g->bf);
	free(g->c);
	free(g);
}

/* Store element (bits) at index i of a buffer of format fmt. */
static void gemm_peak_put(unsigned char *buf, enum qual_fmt fmt, size_t i, uint32_t bits)
{
	uint16_t h = (uint16_t)bits;
	uint8_t b = (uint8_t)bits;

	if (fmt == QUAL_TF32)
		memcpy(buf + 4 * i, &bits, 4);
	else if (fmt == QUAL_FP8)
		memcpy(buf + i, &b, 1);
	else
		memcpy(buf + 2 * i, &h, 2);
}

/* Allocate, encode A (row-major) and B (row-major, drawn column-major). */
static aisp_err gemm_peak_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
				void **state, enum qual_fmt fmt)
{
	struct gemm_peak *g = calloc(1, sizeof(*g));
	size_t n, es = qual_fmt_size(fmt);

	*state = NULL;
	if (!g)
		return AISP_ENOMEM;
	g->fmt = fmt;
	g->knob = ctx->test_knob;
	g->seed = ctx->seed;
	n = g->n = (size_t)p->v[0];
	g->a = malloc(n * n * es);
	g->b = malloc(n * n * es);
	g->af = malloc(n * n * sizeof(float));
	g->bf = malloc(n * n * sizeof(float));
	g->c = malloc(n * n * sizeof(float));
	if (!g->a || !g->b || !g->af || !g->bf || !g->c) {
		gemm_peak_teardown(g);
		return AISP_ENOMEM;
	}
	for (int x = 0; x < 256; x++)
		g->lut8[x] = gemm_peak_e4m3((uint8_t)x);
	for (size_t r = 0; r < n; r++)
		for (size_t s = 0; s < n; s++) {
			gemm_peak_put(g->a, fmt, r * n + s,
				      qual_gemm_bits(qual_hash(g->seed, 1, r * n + s), fmt));
			gemm_peak_put(g->b, fmt, r * n + s, /* B(r, s), drawn at s*n + r */
				      qual_gemm_bits(qual_hash(g->seed, 2, s * n + r), fmt));
		}
	*state = g;
	return AISP_OK;
}

static aisp_err gemm_peak_setup_tf32(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_TF32);
}

static aisp_err gemm_peak_setup_fp16(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_FP16);
}

static aisp_err gemm_peak_setup_bf16(const struct aisp_ctx *ctx, const struct aisp_params *p,
				     void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_BF16);
}

static aisp_err gemm_peak_setup_fp8(const struct aisp_ctx *ctx, const struct aisp_params *p,
				    void **state)
{
	return gemm_peak_setup(ctx, p, state, QUAL_FP8);
}

/* Relative tolerance of FP32 accumulation over n exact products (fp8: 20x). */
static double gemm_peak_tolerance(size_t n, enum qual_fmt fmt)
{
	return 1e-4 * fmax(1.0, sqrt((double)n / 256.0)) * (fmt == QUAL_FP8 ? 20.0 : 1.0);
}

/* Poison C, run once, compare sampled entries with a float64 reference. */
static aisp_err gemm_peak_verify(void *state, struct aisp_check *out)
{
	static const char *const names[] = {"tf32", "fp16", "bf16", "fp8 e4m3"};
	struct gemm_peak *g = state;
	size_t n = g->n, samples = n * n < GEMM_PEAK_SAMPLES ? n * n : GEMM_PEAK_SAMPLES;
	double num = 0.0, den = 0.0;
	size_t bad = 0;
	aisp_err rc;

	for (size_t i = 0; i < n * n; i++)
		g->c[i] = NAN;
	if ((rc = gemm_peak_run(g)))
		return rc;
	for (size_t s = 0; s < samples; s++) {
		size_t at = qual_hash(g->seed, 9, s) % (n * n), i = at / n, j = at % n;
		double ref = 0.0, d;

		for (size_t p = 0; p < n; p++)
			ref += qual_gemm_value(qual_hash(g->seed, 1, i * n + p)) *
			       qual_gemm_value(qual_hash(g->seed, 2, j * n + p));
		bad += !isfinite(g->c[at]);
		d = (double)g->c[at] - ref;
		num += d * d;
		den += ref * ref;
	}
	out->rel_error = bad ? NAN : sqrt(num / (den > 0.0 ? den : 1.0));
	out->tolerance = gemm_peak_tolerance(n, g->fmt);
	out->passed = !bad && out->rel_error <= out->tolerance;
	snprintf(out->message, sizeof(out->message),
		 "%zux%zux%zu %s inputs, fp32 accumulate (host): %zu sampled entries vs fp64: "
		 "rel error %.3g (tol %.3g), %zu non-finite",
		 n, n, n, names[g->fmt], samples, out->rel_error, out->tolerance, bad);
	return AISP_OK;
}

/* 2 n^3 flop per iteration. */
static double gemm_peak_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * p->v[0] * p->v[0];
}

static const struct aisp_variant gemm_peak_variants[] = {
	{"baseline_tf32", AISP_ROLE_BASELINE, "TF32 inputs, FP32 accumulate",
	 gemm_peak_setup_tf32, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_fp16", AISP_ROLE_OPTIMIZED, "FP16 inputs, FP32 accumulate",
	 gemm_peak_setup_fp16, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_bf16", AISP_ROLE_OPTIMIZED, "BF16 inputs, FP32 accumulate",
	 gemm_peak_setup_bf16, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
	{"optimized_fp8", AISP_ROLE_OPTIMIZED, "FP8 E4M3 inputs, FP32 accumulate",
	 gemm_peak_setup_fp8, gemm_peak_run, gemm_peak_verify, gemm_peak_teardown},
};

const struct aisp_target qual_gemm_peak_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:gemm_peak",
	.backend = AISP_BACKEND_HOST,
	.description = "dense square GEMM throughput in TF32, FP16, BF16, FP8 (flop/s)",
	.goal = "throughput",
	.params = gemm_peak_params,
	.n_params = sizeof(gemm_peak_params) / sizeof(gemm_peak_params[0]),
	.variants = gemm_peak_variants,
	.n_variants = sizeof(gemm_peak_variants) / sizeof(gemm_peak_variants[0]),
	.work = gemm_peak_flops,
	.work_unit = "flop",
	.flops = gemm_peak_flops,
};
