/* hblas_host.c - blocked float32 / bfloat16 GEMM for the ch01 host twins. */
#include "hblas.h"

/* Smaller of a and b. */
static size_t hblas_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Full MR x NR tile: C = (acc ? C : 0) + sum over p < kc of a(i,p) b(p,j). */
static void hblas_tile_f32(size_t kc, const float *a, size_t rsa, size_t csa,
			   const float *restrict b, size_t ldb,
			   float *restrict c, size_t ldc, int acc)
{
	float t[HBLAS_MR][HBLAS_NR];

#pragma GCC unroll 4
	for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
		for (size_t j = 0; j < HBLAS_NR; j++)
			t[i][j] = acc ? c[i * ldc + j] : 0.0f;
	for (size_t p = 0; p < kc; p++) {
		const float *restrict bp = b + p * ldb;
#pragma GCC unroll 4
		for (size_t i = 0; i < HBLAS_MR; i++) {
			float ai = a[i * rsa + p * csa];
#pragma GCC unroll 16
			for (size_t j = 0; j < HBLAS_NR; j++)
				t[i][j] += ai * bp[j];
		}
	}
#pragma GCC unroll 4
	for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
		for (size_t j = 0; j < HBLAS_NR; j++)
			c[i * ldc + j] = t[i][j];
}

/* Edge tile of mr x nr: same sums, same order, no register tile. */
static void hblas_edge_f32(size_t mr, size_t nr, size_t kc,
			   const float *a, size_t rsa, size_t csa,
			   const float *restrict b, size_t ldb,
			   float *restrict c, size_t ldc, int acc)
{
	for (size_t i = 0; i < mr; i++) {
		for (size_t j = 0; j < nr; j++) {
			float s = acc ? c[i * ldc + j] : 0.0f;

			for (size_t p = 0; p < kc; p++)
				s += a[i * rsa + p * csa] * b[p * ldb + j];
			c[i * ldc + j] = s;
		}
	}
}

/* C = 0 when k is 0 and nothing is accumulated (an empty sum). */
static void hblas_zero(size_t m, size_t n, float *c, size_t ldc)
{
	for (size_t i = 0; i < m; i++)
		memset(c + i * ldc, 0, n * sizeof(*c));
}

void hblas_sgemm(size_t m, size_t n, size_t k,
		 const float *a, size_t rsa, size_t csa,
		 const float *b, size_t ldb,
		 float *c, size_t ldc, int acc)
{
	if (k == 0 && !acc)
		hblas_zero(m, n, c, ldc);
	for (size_t pc = 0; pc < k; pc += HBLAS_KC) {
		size_t kc = hblas_min(HBLAS_KC, k - pc);
		int ac = acc || pc > 0;

		for (size_t j = 0; j < n; j += HBLAS_NR) {
			size_t nr = hblas_min(HBLAS_NR, n - j);
			const float *bp = b + pc * ldb + j;

			for (size_t i = 0; i < m; i += HBLAS_MR) {
				size_t mr = hblas_min(HBLAS_MR, m - i);
				const float *ap = a + i * rsa + pc * csa;
				float *cp = c + i * ldc + j;

				if (mr == HBLAS_MR && nr == HBLAS_NR)
					hblas_tile_f32(kc, ap, rsa, csa, bp, ldb,
						       cp, ldc, ac);
				else
					hblas_edge_f32(mr, nr, kc, ap, rsa, csa,
						       bp, ldb, cp, ldc, ac);
			}
		}
	}
}

/* The tile of hblas_tile_f32 with A in bfloat16 (B already unpacked). */
static void hblas_tile_bf16(size_t kc, const uint16_t *a, size_t rsa,
			    size_t csa, const float *restrict b, size_t ldb,
			    float *restrict c, size_t ldc, int acc)
{
	float t[HBLAS_MR][HBLAS_NR];

#pragma GCC unroll 4
	for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
		for (size_t j = 0; j < HBLAS_NR; j++)
			t[i][j] = acc ? c[i * ldc + j] : 0.0f;
	for (size_t p = 0; p < kc; p++) {
		const float *restrict bp = b + p * ldb;
#pragma GCC unroll 4
		for (size_t i = 0; i < HBLAS_MR; i++) {
			float ai = hblas_bf16_to_f32(a[i * rsa + p * csa]);
#pragma GCC unroll 16
			for (size_t j = 0; j < HBLAS_NR; j++)
				t[i][j] += ai * bp[j];
		}
	}
#pragma GCC unroll 4
	for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
		for (size_t j = 0; j < HBLAS_NR; j++)
			c[i * ldc + j] = t[i][j];
}

/* The edge tile of hblas_edge_f32 with A in bfloat16. */
static void hblas_edge_bf16(size_t mr, size_t nr, size_t kc,
			    const uint16_t *a, size_t rsa, size_t csa,
			    const float *restrict b, size_t ldb,
			    float *restrict c, size_t ldc, int acc)
{
	for (size_t i = 0; i < mr; i++) {
		for (size_t j = 0; j < nr; j++) {
			float s = acc ? c[i * ldc + j] : 0.0f;

			for (size_t p = 0; p < kc; p++)
				s += hblas_bf16_to_f32(a[i * rsa + p * csa]) *
				     b[p * ldb + j];
			c[i * ldc + j] = s;
		}
	}
}

/* Unpack a kc x nr strip of bfloat16 B into w (leading dimension NR). */
static void hblas_unpack(size_t kc, size_t nr, const uint16_t *b, size_t ldb,
			 float *restrict w)
{
	for (size_t p = 0; p < kc; p++)
		for (size_t j = 0; j < nr; j++)
			w[p * HBLAS_NR + j] = hblas_bf16_to_f32(b[p * ldb + j]);
}

void hblas_sgemm_bf16(size_t m, size_t n, size_t k,
		      const uint16_t *a, size_t rsa, size_t csa,
		      const uint16_t *b, size_t ldb,
		      float *c, size_t ldc, int acc, float *work)
{
	if (k == 0 && !acc)
		hblas_zero(m, n, c, ldc);
	for (size_t pc = 0; pc < k; pc += HBLAS_KC) {
		size_t kc = hblas_min(HBLAS_KC, k - pc);
		int ac = acc || pc > 0;

		for (size_t j = 0; j < n; j += HBLAS_NR) {
			size_t nr = hblas_min(HBLAS_NR, n - j);

			hblas_unpack(kc, nr, b + pc * ldb + j, ldb, work);
			for (size_t i = 0; i < m; i += HBLAS_MR) {
				size_t mr = hblas_min(HBLAS_MR, m - i);
				const uint16_t *ap = a + i * rsa + pc * csa;
				float *cp = c + i * ldc + j;

				if (mr == HBLAS_MR && nr == HBLAS_NR)
					hblas_tile_bf16(kc, ap, rsa, csa, work,
							HBLAS_NR, cp, ldc, ac);
				else
					hblas_edge_bf16(mr, nr, kc, ap, rsa,
							csa, work, HBLAS_NR,
							cp, ldc, ac);
			}
		}
	}
}
