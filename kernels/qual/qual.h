/*
 * qual.h - helpers shared by the qual targets (CUDA files) and their host
 * twins: a counter-based input hash usable on host and device, exact input
 * values for GEMMs in every precision, and the datasheet peaks that check
 * messages quote. Each target's own header (mem_bw.h, ...) holds what its
 * twins share: parameters, work per iteration, variant arguments.
 *
 * Inputs are a pure function of (seed, salt, index), so a device kernel and
 * a host reference compute the same value for any element without copying
 * the buffer; every value is chosen to be exact in the arithmetic that
 * consumes it, so outputs are checked for equality (bandwidth targets) or
 * against a float64 reference with only accumulation error (GEMMs).
 */
#ifndef AISP_QUAL_H
#define AISP_QUAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __CUDACC__
#define QUAL_HD __host__ __device__
#else
#define QUAL_HD
#endif

#define QUAL_MIB (1024.0 * 1024.0)

/* 64 well-mixed bits of element i of stream (seed, salt) (splitmix64). */
static inline QUAL_HD uint64_t qual_hash(uint64_t seed, uint64_t salt, uint64_t i)
{
	uint64_t z = seed ^ (salt * 0x9E3779B97F4A7C15ull);

	z += (i + 1) * 0xD1B54A32D192ED03ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A non-zero integer in [-1024, 1024] from h: exact in float and double,
 * and b + 3c of two of them is exact too (triad checks use equality). */
static inline QUAL_HD double qual_int_value(uint64_t h)
{
	int64_t v = (int64_t)(h % 2048u) - 1024;

	return (double)(v >= 0 ? v + 1 : v);
}

/* GEMM input formats (the gemm_peak variants, in table order). */
enum qual_fmt { QUAL_TF32 = 0, QUAL_FP16, QUAL_BF16, QUAL_FP8 };

/* A GEMM input from h: +-(1 + m/4) * 2^(e-1), m in 0..3, e in 0..1, i.e.
 * one of 16 values in [-1.75, -0.5] u [0.5, 1.75]. Two mantissa bits and
 * two exponents: exact in TF32, FP16, BF16 and FP8 E4M3 alike, and every
 * product is exact in FP32, so a GEMM's only error is accumulation. */
static inline QUAL_HD double qual_gemm_value(uint64_t h)
{
	double v = (1.0 + (double)((h >> 1) & 3u) / 4.0) * (((h >> 3) & 1u) ? 1.0 : 0.5);

	return (h & 1u) ? -v : v;
}

/* The bits of qual_gemm_value(h) in format fmt (low bits of the result). */
static inline QUAL_HD uint32_t qual_gemm_bits(uint64_t h, enum qual_fmt fmt)
{
	uint32_t s = (uint32_t)(h & 1u), m = (uint32_t)((h >> 1) & 3u);
	uint32_t e = (uint32_t)((h >> 3) & 1u); /* unbiased exponent e - 1 */

	switch (fmt) {
	case QUAL_TF32:
		return s << 31 | (126u + e) << 23 | m << 21;
	case QUAL_BF16:
		return (s << 31 | (126u + e) << 23 | m << 21) >> 16;
	case QUAL_FP16:
		return s << 15 | (14u + e) << 10 | m << 8;
	case QUAL_FP8:
		return s << 7 | (6u + e) << 3 | m << 1;
	}
	return 0;
}

/* Bytes per element of format fmt. */
static inline QUAL_HD size_t qual_fmt_size(enum qual_fmt fmt)
{
	return fmt == QUAL_TF32 ? 4 : fmt == QUAL_FP8 ? 1 : 2;
}

/* Datasheet peaks of a GPU model (dense, no sparsity); 0 where unknown. */
struct qual_peak {
	const char *model;      /* what the figures are for */
	double hbm_gbs;         /* memory bandwidth, GB/s */
	double tf32, fp16, fp8; /* TFLOP/s; bf16 = fp16 */
	double pcie_gbs;        /* per direction, GB/s */
};

/* Peaks for the device named name ("NVIDIA H100 80GB HBM3"), or zeros. */
static inline struct qual_peak qual_peak_of(const char *name)
{
	static const struct {
		const char *needle;
		struct qual_peak p;
	} tab[] = {
		{"H100 80GB HBM3", {"H100 SXM", 3350, 494.7, 989.4, 1978.9, 64}},
		{"H100 SXM", {"H100 SXM", 3350, 494.7, 989.4, 1978.9, 64}},
		{"H100 NVL", {"H100 NVL", 3900, 417.5, 835, 1670, 64}},
		{"H100 PCIe", {"H100 PCIe", 2000, 378, 756, 1513, 64}},
		{"H200", {"H200 SXM", 4800, 494.7, 989.4, 1978.9, 64}},
		{"B200", {"B200", 8000, 1100, 2250, 4500, 64}},
	};
	struct qual_peak none = {"unknown", 0, 0, 0, 0, 0};

	for (size_t i = 0; name && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strstr(name, tab[i].needle))
			return tab[i].p;
	return none;
}

/* Blocked single-precision C = A * B, n x n row-major (qual_sgemm_host.c). */
void qual_sgemm(size_t n, const float *a, const float *b, float *c);

#endif /* AISP_QUAL_H */
