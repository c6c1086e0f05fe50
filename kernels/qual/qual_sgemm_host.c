/*
 * qual_sgemm_host.c - the blocked FP32 GEMM of the qual host twins
 * (gemm_peak, health): C = A * B, square n x n, row-major.
 *
 * Cache blocking over i, k and j (QUAL_BLK x QUAL_BLK tiles) with an i-k-j
 * inner order, so the innermost loop streams a row of B and a row of C and
 * vectorizes. Every element of C is the float32 sum over p in increasing
 * order (the k blocks are visited in order), as a naive loop would make it.
 */
#include "qual.h"

#define QUAL_BLK 64

/* C[i0.., j0..] += A[i0.., k0..] * B[k0.., j0..] over one block triple. */
static void qual_sgemm_block(size_t n, const float *a, const float *b, float *c,
			     size_t i0, size_t k0, size_t j0)
{
	size_t i1 = i0 + QUAL_BLK < n ? i0 + QUAL_BLK : n;
	size_t k1 = k0 + QUAL_BLK < n ? k0 + QUAL_BLK : n;
	size_t j1 = j0 + QUAL_BLK < n ? j0 + QUAL_BLK : n;

	for (size_t i = i0; i < i1; i++) {
		float *restrict ci = c + i * n;

		for (size_t p = k0; p < k1; p++) {
			const float *restrict bp = b + p * n;
			float x = a[i * n + p];

			for (size_t j = j0; j < j1; j++)
				ci[j] += x * bp[j];
		}
	}
}

/* C = A * B for n x n row-major floats; C is overwritten. */
void qual_sgemm(size_t n, const float *a, const float *b, float *c)
{
	memset(c, 0, n * n * sizeof(*c));
	for (size_t i0 = 0; i0 < n; i0 += QUAL_BLK)
		for (size_t k0 = 0; k0 < n; k0 += QUAL_BLK)
			for (size_t j0 = 0; j0 < n; j0 += QUAL_BLK)
				qual_sgemm_block(n, a, b, c, i0, k0, j0);
}
