/* hblas_host.c - packed, blocked float32 / bfloat16 GEMM for the ch01 host
 * twins (see hblas.h). Operands come as a float32 pointer or a bfloat16
 * pointer (the other NULL); only the packing routines tell them apart. */
#include "hblas.h"

/* Smaller of a and b. */
static size_t hblas_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Pack kc rows of B (n columns) into NR-wide strips, strip s at
 * w + s*kc*NR, row p of it at + p*NR; columns past n are 0. */
static void hblas_pack_b(size_t kc, size_t n, const float *bf,
			 const uint16_t *bh, size_t ldb, float *restrict w)
{
	for (size_t j0 = 0; j0 < n; j0 += HBLAS_NR) {
		size_t nr = hblas_min(HBLAS_NR, n - j0);

		for (size_t p = 0; p < kc; p++) {
			float *d = w + j0 * kc + p * HBLAS_NR;

			if (bf && nr == HBLAS_NR) {
#pragma GCC unroll 16
				for (size_t j = 0; j < HBLAS_NR; j++)
					d[j] = bf[p * ldb + j0 + j];
				continue;
			}
			for (size_t j = 0; j < HBLAS_NR; j++) {
				size_t at = p * ldb + j0 + j;

				if (j >= nr)
					d[j] = 0.0f;
				else
					d[j] = bf ? bf[at] : hblas_bf16_to_f32(bh[at]);
			}
		}
	}
}

/* Pack an mc x kc block of A into MR-row panels, panel s at w + s*kc*MR,
 * column p of it at + p*MR; rows past mc are 0. */
static void hblas_pack_a(size_t mc, size_t kc, const float *af,
			 const uint16_t *ah, size_t rsa, size_t csa,
			 float *restrict w)
{
	for (size_t i0 = 0; i0 < mc; i0 += HBLAS_MR) {
		size_t mr = hblas_min(HBLAS_MR, mc - i0);

		for (size_t p = 0; p < kc; p++) {
			float *d = w + i0 * kc + p * HBLAS_MR;

			for (size_t i = 0; i < HBLAS_MR; i++) {
				size_t at = (i0 + i) * rsa + p * csa;

				if (i >= mr)
					d[i] = 0.0f;
				else
					d[i] = af ? af[at] : hblas_bf16_to_f32(ah[at]);
			}
		}
	}
}

/* Load the mr x nr corner of C into the tile t (zeros elsewhere, or all
 * zeros when nothing is accumulated). */
static void hblas_tile_load(float t[HBLAS_MR][HBLAS_NR], const float *c,
			    size_t ldc, size_t mr, size_t nr, int acc)
{
	if (acc && mr == HBLAS_MR && nr == HBLAS_NR) {
#pragma GCC unroll 4
		for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
			for (size_t j = 0; j < HBLAS_NR; j++)
				t[i][j] = c[i * ldc + j];
		return;
	}
	for (size_t i = 0; i < HBLAS_MR; i++)
		for (size_t j = 0; j < HBLAS_NR; j++)
			t[i][j] = acc && i < mr && j < nr ? c[i * ldc + j] : 0.0f;
}

/* Register tile: C[mr x nr] = (acc ? C : 0) + sum over p < kc of packed
 * a(:,p) b(p,:), p in order. */
static void hblas_kernel(size_t kc, const float *restrict a,
			 const float *restrict b, float *restrict c, size_t ldc,
			 size_t mr, size_t nr, int acc)
{
	float t[HBLAS_MR][HBLAS_NR];

	hblas_tile_load(t, c, ldc, mr, nr, acc);
	for (size_t p = 0; p < kc; p++) {
		const float *restrict bp = b + p * HBLAS_NR;
#pragma GCC unroll 4
		for (size_t i = 0; i < HBLAS_MR; i++) {
			float ai = a[p * HBLAS_MR + i];
#pragma GCC unroll 16
			for (size_t j = 0; j < HBLAS_NR; j++)
				t[i][j] += ai * bp[j];
		}
	}
	if (mr == HBLAS_MR && nr == HBLAS_NR) {
#pragma GCC unroll 4
		for (size_t i = 0; i < HBLAS_MR; i++)
#pragma GCC unroll 16
			for (size_t j = 0; j < HBLAS_NR; j++)
				c[i * ldc + j] = t[i][j];
		return;
	}
	for (size_t i = 0; i < mr; i++)
		for (size_t j = 0; j < nr; j++)
			c[i * ldc + j] = t[i][j];
}

/* C = 0 when k is 0 and nothing is accumulated (an empty sum). */
static void hblas_zero(size_t m, size_t n, float *c, size_t ldc)
{
	for (size_t i = 0; i < m; i++)
		memset(c + i * ldc, 0, n * sizeof(*c));
}

/* The blocked loops over packed panels, for either operand type. */
static void hblas_gemm(size_t m, size_t n, size_t k, const float *af,
		       const uint16_t *ah, size_t rsa, size_t csa,
		       const float *bf, const uint16_t *bh, size_t ldb,
		       float *c, size_t ldc, int acc, float *work)
{
	size_t np = (n + HBLAS_NR - 1) / HBLAS_NR * HBLAS_NR;
	float *pb = work, *pa = work + HBLAS_KC * np;

	if (k == 0 && !acc)
		hblas_zero(m, n, c, ldc);
	for (size_t pc = 0; pc < k; pc += HBLAS_KC) {
		size_t kc = hblas_min(HBLAS_KC, k - pc);

		hblas_pack_b(kc, n, bf ? bf + pc * ldb : NULL,
			     bh ? bh + pc * ldb : NULL, ldb, pb);
		for (size_t ic = 0; ic < m; ic += HBLAS_MC) {
			size_t mc = hblas_min(HBLAS_MC, m - ic), o = ic * rsa + pc * csa;

			hblas_pack_a(mc, kc, af ? af + o : NULL, ah ? ah + o : NULL,
				     rsa, csa, pa);
			for (size_t j0 = 0; j0 < n; j0 += HBLAS_NR)
				for (size_t i0 = 0; i0 < mc; i0 += HBLAS_MR)
					hblas_kernel(kc, pa + i0 * kc, pb + j0 * kc,
						     c + (ic + i0) * ldc + j0, ldc,
						     hblas_min(HBLAS_MR, mc - i0),
						     hblas_min(HBLAS_NR, n - j0),
						     acc || pc > 0);
		}
	}
}

/* C = (acc ? C : 0) + A * B, float32 operands (hblas.h). */
void hblas_sgemm(size_t m, size_t n, size_t k,
		 const float *a, size_t rsa, size_t csa,
		 const float *b, size_t ldb,
		 float *c, size_t ldc, int acc, float *work)
{
	hblas_gemm(m, n, k, a, NULL, rsa, csa, b, NULL, ldb, c, ldc, acc, work);
}

/* C = (acc ? C : 0) + A * B, bfloat16 operands (hblas.h). */
void hblas_sgemm_bf16(size_t m, size_t n, size_t k,
		      const uint16_t *a, size_t rsa, size_t csa,
		      const uint16_t *b, size_t ldb,
		      float *c, size_t ldc, int acc, float *work)
{
	hblas_gemm(m, n, k, NULL, a, rsa, csa, NULL, b, ldb, c, ldc, acc, work);
}
