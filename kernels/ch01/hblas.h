/*
 * hblas.h - a small blocked single-precision GEMM for the host twins of the
 * ch01 targets, plus bfloat16 emulation (uint16_t, round to nearest even).
 *
 * C (m x n) = A (m x k) * B (k x n), or C += A * B. A is addressed with a
 * row stride and a column stride (a(i,p) = a[i*rsa + p*csa]) so that one
 * kernel does both A*B and A^T*B; B and C are row-major with leading
 * dimensions. The kernel runs i-k-j: a register tile of HBLAS_MR rows by
 * HBLAS_NR columns of C accumulates over p in order, so every element is the
 * sequential float32 sum over p, the same sum a naive i-j-k loop makes.
 */
#ifndef AISP_HBLAS_H
#define AISP_HBLAS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HBLAS_MR 4    /* rows of the register tile */
#define HBLAS_NR 16   /* columns of the register tile (vectorized) */
#define HBLAS_KC 256  /* rows of B kept in L1/L2 per pass */

/* Floats of scratch hblas_sgemm_bf16 needs (one unpacked B strip). */
#define HBLAS_BF16_WORK (HBLAS_KC * HBLAS_NR)

/* C = (acc ? C : 0) + A * B in float32, blocked i-k-j. */
void hblas_sgemm(size_t m, size_t n, size_t k,
		 const float *a, size_t rsa, size_t csa,
		 const float *b, size_t ldb,
		 float *c, size_t ldc, int acc);

/* Same with A and B in bfloat16, float32 products and sums into C.
 * work holds HBLAS_BF16_WORK floats (B strips are unpacked there). */
void hblas_sgemm_bf16(size_t m, size_t n, size_t k,
		      const uint16_t *a, size_t rsa, size_t csa,
		      const uint16_t *b, size_t ldb,
		      float *c, size_t ldc, int acc, float *work);

/* The float32 value of bfloat16 h (exact). */
static inline float hblas_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* f rounded to bfloat16, to nearest even; NaN stays a (quiet) NaN. */
static inline uint16_t hblas_f32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

#endif /* AISP_HBLAS_H */
