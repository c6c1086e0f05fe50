/*
 * gemm_peak_host.c - qual:gemm_peak on the host (gemm_peak.h): each
 * iteration decodes A and B from the variant's format to float (O(n^2))
 * and runs the blocked SGEMM of qual_sgemm_host.c (O(n^3)). B is stored
 * row-major, drawn column-major as the CUDA twin's.
 */
#include <stdio.h>

#include "gemm_peak.h"

/* Everything one variant owns. */
struct gemm_peak {
	enum qual_fmt fmt;
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

/* One iteration: decode both inputs, multiply. */
static aisp_err gemm_peak_run(void *state)
{
	struct gemm_peak *g = state;

	gemm_peak_decode(g, g->a, g->af);
	gemm_peak_decode(g, g->b, g->bf);
	qual_sgemm(g->n, g->af, g->bf, g->c);
	return AISP_OK;
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

/* Buffers from the harness; encode A (row-major) and B (row-major, drawn
 * column-major). */
static aisp_err gemm_peak_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
				void **state)
{
	struct gemm_peak *g = aisp_alloc(ctx, sizeof(*g));
	enum qual_fmt fmt = *(const enum qual_fmt *)ctx->variant->arg;
	size_t n = (size_t)p->v[0], es = qual_fmt_size(fmt);

	if (!g)
		return AISP_ENOMEM;
	g->fmt = fmt;
	g->seed = ctx->seed;
	g->n = n;
	g->a = aisp_alloc(ctx, n * n * es);
	g->b = aisp_alloc(ctx, n * n * es);
	g->af = aisp_alloc(ctx, n * n * sizeof(float));
	g->bf = aisp_alloc(ctx, n * n * sizeof(float));
	g->c = aisp_alloc(ctx, n * n * sizeof(float));
	if (!g->a || !g->b || !g->af || !g->bf || !g->c)
		return AISP_ENOMEM;
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

/* Poison C, run once, compare sampled entries with a float64 reference. */
static aisp_err gemm_peak_verify(void *state, struct aisp_check *out)
{
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
		size_t at = gemm_peak_sample(g->seed, n, s);
		double ref = gemm_peak_ref(g->seed, n, at / n, at % n), d;

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
		 n, n, n, gemm_peak_fmt_name[g->fmt], samples, out->rel_error, out->tolerance, bad);
	return AISP_OK;
}

static const struct aisp_ops gemm_peak_ops = {gemm_peak_setup, gemm_peak_run, gemm_peak_verify};

static const struct aisp_variant gemm_peak_variants[] = {
	{"baseline_tf32", AISP_ROLE_BASELINE, "TF32 inputs, FP32 accumulate", &gemm_peak_ops,
	 &gemm_peak_fmt[QUAL_TF32]},
	{"optimized_fp16", AISP_ROLE_OPTIMIZED, "FP16 inputs, FP32 accumulate", &gemm_peak_ops,
	 &gemm_peak_fmt[QUAL_FP16]},
	{"optimized_bf16", AISP_ROLE_OPTIMIZED, "BF16 inputs, FP32 accumulate", &gemm_peak_ops,
	 &gemm_peak_fmt[QUAL_BF16]},
	{"optimized_fp8", AISP_ROLE_OPTIMIZED, "FP8 E4M3 inputs, FP32 accumulate", &gemm_peak_ops,
	 &gemm_peak_fmt[QUAL_FP8]},
};

const struct aisp_target qual_gemm_peak_host = {AISP_ABI_VERSION, &gemm_peak_card,
						AISP_BACKEND_HOST, AISP_LIST(gemm_peak_variants)};
