/*
 * hblas.h - a small blocked single-precision GEMM for the host twins of the
 * ch01 targets, plus bfloat16 emulation (uint16_t, round to nearest even).
 *
 * C (m x n) = A (m x k) * B (k x n), or C += A * B. A is addressed with a
 * row stride and a column stride (a(i,p) = a[i*rsa + p*csa]) so that one
 * kernel does both A*B and A^T*B; B and C are row-major with leading
 * dimensions. BLIS-style: a KC-row panel of B and an MC-row block of A are
 * packed (converted from bfloat16 when they are) into float32 tiles padded
 * with zeros, and a register tile of HBLAS_MR x HBLAS_NR of C accumulates
 * over p in order (i-k-j), so every element is the sequential float32 sum
 * over p, the same sum a naive i-j-k loop makes.
 */
#ifndef AISP_HBLAS_H
#define AISP_HBLAS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HBLAS_MR 4    /* rows of the register tile */
#define HBLAS_NR 16   /* columns of the register tile (vectorized) */
#define HBLAS_KC 256  /* rows of the packed B panel */
#define HBLAS_MC 64   /* rows of the packed A block */

_Static_assert(HBLAS_MC % HBLAS_MR == 0, "A blocks hold whole MR-row panels");

/* Floats of scratch a GEMM with n columns needs (packed A and B). */
#define HBLAS_WORK(n) ((size_t)HBLAS_KC * \
	(((size_t)(n) + HBLAS_NR - 1) / HBLAS_NR * HBLAS_NR + HBLAS_MC))

/* C = (acc ? C : 0) + A * B in float32; work holds HBLAS_WORK(n) floats. */
void hblas_sgemm(size_t m, size_t n, size_t k,
		 const float *a, size_t rsa, size_t csa,
		 const float *b, size_t ldb,
		 float *c, size_t ldc, int acc, float *work);

/* Same with A and B in bfloat16, float32 products and sums into C. */
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
	uint32_t r, q;

	memcpy(&u, &f, sizeof(u));
	r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
	q = (u >> 16) | 0x40u;
	return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? q : r); /* no branch */
}

#endif /* AISP_HBLAS_H */
