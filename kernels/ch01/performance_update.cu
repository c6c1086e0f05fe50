/*
 * performance_update.cu - the fused SGD update of one weight of
 * ch01:performance (performance_cuda.h: perf_k_update):
 *
 *   wm[m][n] += alpha * sum_k a[k][m] * b[k][n];  wh[m][n] = (half)wm[m][n]
 *
 * a weight-gradient GEMM (M x N, K = the step's batch) whose epilogue reads
 * the FP32 master once, writes it once and writes the FP16 copy: 10 bytes
 * a weight instead of 16 for a cuBLASLt GEMM into the master (read 4, write
 * 4) followed by a cast (read 4, write 2).
 *
 * A block of 256 threads owns a 128 x 128 tile of the weight. The operands
 * stream through shared memory in K-chunks of 32 (cp.async); 8 warps (2 x 4)
 * each compute 64 x 32 with mma.sync m16n8k16 (FP16 in, FP32 accumulate),
 * fragments loaded by ldmatrix .trans since both operands are stored
 * K-major. Rows of the shared tiles are padded by 16 bytes so that
 * ldmatrix's eight row addresses fall in different banks. Two blocks fit an
 * SM, so one's epilogue (memory) overlaps the other's main loop. Two forms:
 * prefetch 0: three stages, the epilogue loads the masters from global
 * memory (4 float2 a thread in flight); prefetch 1: two stages, the block's
 * 64 KB of masters copied into shared memory (cp.async, rows padded by 32
 * bytes for the epilogue's float2 reads) before the main loop starts, so
 * many more bytes are in flight while the tensor cores work.
 */
#include "performance_cuda.h"

#include <stdint.h>

#define UPD_BM 128                    /* tile rows (m) */
#define UPD_BN 128                    /* tile columns (n) */
#define UPD_BK 32                     /* K per stage */
#define UPD_THREADS 256
#define UPD_LDS (UPD_BM + 8)          /* halfs per shared row: 128 + 16 bytes */
#define UPD_LDM (UPD_BN + 8)          /* floats per shared master row: + 32 bytes */
#define UPD_STAGE (UPD_BK * UPD_LDS)  /* halfs per operand and stage */

/* Pipeline stages and shared bytes of the kernel form PRE (prefetch). */
#define UPD_STAGES(PRE) ((PRE) ? 2 : 3)
#define UPD_SMEM(PRE)                                                            \
	(UPD_STAGES(PRE) * 2 * UPD_STAGE * (int)sizeof(__half) +                 \
	 ((PRE) ? UPD_BM * UPD_LDM * (int)sizeof(float) : 0))

static_assert(UPD_BM == UPD_BN, "one shared row stride for both operands");

/* 16-byte asynchronous copy global -> shared (bypassing L1). */
__device__ __forceinline__ void upd_cp16(void *smem, const void *gmem)
{
	unsigned s = (unsigned)__cvta_generic_to_shared(smem);

	asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem)
		     : "memory");
}

__device__ __forceinline__ void upd_commit(void)
{
	asm volatile("cp.async.commit_group;\n" ::: "memory");
}

/* Wait until at most N of the committed copy groups are still in flight. */
template <int N> __device__ __forceinline__ void upd_wait(void)
{
	asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* Four 8x8 FP16 matrices from shared memory, transposed (ldmatrix .trans). */
__device__ __forceinline__ void upd_ldsm_t(unsigned r[4], const __half *smem)
{
	unsigned s = (unsigned)__cvta_generic_to_shared(smem);

	asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
		     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
		     : "r"(s)
		     : "memory");
}

/* d += a (16x16, row) * b (16x8, col): FP16 operands, FP32 accumulators. */
__device__ __forceinline__ void upd_mma(float d[4], const unsigned a[4], const unsigned b[2])
{
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
		     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
		     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
		     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* Start copying K-chunk k0 of both operands of the tile (m0, n0) into one
 * stage: 32 rows of 128 halfs each, 16 bytes a copy, 2 copies a thread. */
__device__ __forceinline__ void upd_load(__half *sa, __half *sb, const __half *a, int lda,
					 const __half *b, int ldb, int m0, int n0, int k0)
{
	for (int c = threadIdx.x; c < UPD_BK * (UPD_BM / 8); c += UPD_THREADS) {
		int r = c / (UPD_BM / 8), col = (c % (UPD_BM / 8)) * 8;

		upd_cp16(sa + r * UPD_LDS + col, a + (size_t)(k0 + r) * lda + m0 + col);
		upd_cp16(sb + r * UPD_LDS + col, b + (size_t)(k0 + r) * ldb + n0 + col);
	}
}

/*
 * One k16 slice kk of a stage: the warp's 4 x 4 tiles of 16 x 8. Lane l
 * addresses row l%8 of 8x8 matrix l/8. A (stored [k][m]): matrices
 * (m+0,k+0) (m+8,k+0) (m+0,k+8) (m+8,k+8), the A fragment's four registers.
 * B (stored [k][n]): (k+0,n+0) (k+8,n+0) (k+0,n+8) (k+8,n+8), the two
 * registers of two adjacent 8-column B fragments.
 */
__device__ __forceinline__ void upd_k16(const __half *sa, const __half *sb, int kk, int wm,
					int wn, float acc[4][4][4])
{
	int lane = threadIdx.x & 31, mat = lane >> 3, r = lane & 7;
	unsigned fa[4][4], fb[4][2];

	for (int i = 0; i < 4; i++) {
		int k = kk + r + (mat >> 1) * 8, m = wm * 64 + i * 16 + (mat & 1) * 8;

		upd_ldsm_t(fa[i], sa + k * UPD_LDS + m);
	}
	for (int jp = 0; jp < 2; jp++) {
		int k = kk + r + (mat & 1) * 8, n = wn * 32 + jp * 16 + (mat >> 1) * 8;
		unsigned t[4];

		upd_ldsm_t(t, sb + k * UPD_LDS + n);
		fb[2 * jp][0] = t[0];
		fb[2 * jp][1] = t[1];
		fb[2 * jp + 1][0] = t[2];
		fb[2 * jp + 1][1] = t[3];
	}
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			upd_mma(acc[i][j], fa[i], fb[j]);
}

/* Start copying the block's tile of masters into shared memory sm
 * (rows of UPD_LDM floats): 128 rows of 32 16-byte pieces. */
__device__ __forceinline__ void upd_load_master(float *sm, const float *wm, int N, int m0,
						int n0)
{
	for (int c = threadIdx.x; c < UPD_BM * (UPD_BN / 4); c += UPD_THREADS) {
		int r = c / (UPD_BN / 4), col = (c % (UPD_BN / 4)) * 4;

		upd_cp16(sm + r * UPD_LDM + col, wm + (size_t)(m0 + r) * N + n0 + col);
	}
}

/*
 * Epilogue: master += alpha * acc, copy = half(master). Accumulator (i, j)
 * holds rows g and g+8 of its 16 x 8 tile (g = lane/4), columns 2c and
 * 2c+1 (c = lane%4): float2 / half2 accesses, every 32-byte sector used.
 * The four masters of a row are loaded before any is written.
 */
__device__ __forceinline__ void upd_store(float *wm, __half *wh, const float *sm, int N,
					  int m0, int n0, int wmi, int wni, float alpha,
					  float acc[4][4][4])
{
	int lane = threadIdx.x & 31, g = lane >> 2, c = lane & 3;

	for (int i = 0; i < 4; i++) {
		for (int h = 0; h < 2; h++) {
			int r = wmi * 64 + i * 16 + g + h * 8, col = wni * 32 + 2 * c;
			size_t at = (size_t)(m0 + r) * (size_t)N + (size_t)(n0 + col);
			float2 *pm = (float2 *)(wm + at);
			__half2 *ph = (__half2 *)(wh + at);
			float2 old[4];

			for (int j = 0; j < 4; j++) /* sm: the prefetched tile */
				old[j] = sm ? *(const float2 *)(sm + r * UPD_LDM + col + j * 8)
					    : pm[j * 4];
			for (int j = 0; j < 4; j++) {
				float2 v;

				v.x = fmaf(alpha, acc[i][j][2 * h], old[j].x);
				v.y = fmaf(alpha, acc[i][j][2 * h + 1], old[j].y);
				pm[j * 4] = v;
				ph[j * 4] = __floats2half2_rn(v.x, v.y);
			}
		}
	}
}

template <int PRE>
__global__ void __launch_bounds__(UPD_THREADS, 2)
perf_update_kernel(const __half *__restrict__ a, int lda, const __half *__restrict__ b,
		   int ldb, float *__restrict__ wm, __half *__restrict__ wh, int N, int K,
		   float alpha)
{
	constexpr int stages = UPD_STAGES(PRE);
	extern __shared__ __align__(16) unsigned char upd_smem[];
	__half *sa = (__half *)upd_smem, *sb = sa + stages * UPD_STAGE;
	float *sm = PRE ? (float *)(sb + stages * UPD_STAGE) : NULL;
	int warp = threadIdx.x >> 5, wmi = warp >> 2, wni = warp & 3;
	int m0 = blockIdx.y * UPD_BM, n0 = blockIdx.x * UPD_BN, chunks = K / UPD_BK;
	float acc[4][4][4];

	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			for (int e = 0; e < 4; e++)
				acc[i][j][e] = 0.0f;
	if (PRE) { /* the oldest copy group: complete by the first wait below */
		upd_load_master(sm, wm, N, m0, n0);
		upd_commit();
	}
	for (int s = 0; s < stages - 1; s++) {
		if (s < chunks)
			upd_load(sa + s * UPD_STAGE, sb + s * UPD_STAGE, a, lda, b, ldb, m0, n0,
				 s * UPD_BK);
		upd_commit(); /* empty groups keep the count uniform */
	}
	for (int kt = 0; kt < chunks; kt++) {
		int next = kt + stages - 1, cur = kt % stages;

		upd_wait<stages - 2>(); /* chunk kt has landed (this thread's part) */
		__syncthreads();        /* ... every thread's; stage next%stages is free */
		if (next < chunks)
			upd_load(sa + (next % stages) * UPD_STAGE, sb + (next % stages) * UPD_STAGE,
				 a, lda, b, ldb, m0, n0, next * UPD_BK);
		upd_commit();
		for (int kk = 0; kk < UPD_BK; kk += 16)
			upd_k16(sa + cur * UPD_STAGE, sb + cur * UPD_STAGE, kk, wmi, wni, acc);
	}
	upd_wait<0>();
	__syncthreads(); /* the prefetched masters: every thread's pieces */
	upd_store(wm, wh, sm, N, m0, n0, wmi, wni, alpha, acc);
}

int perf_k_update_fits(const void *a, int lda, const void *b, int ldb, const void *wm,
		       const void *wh, int M, int N, int K)
{
	return M > 0 && N > 0 && K > 0 && M % UPD_BM == 0 && N % UPD_BN == 0 &&
	       K % UPD_BK == 0 && lda % 8 == 0 && ldb % 8 == 0 && lda >= M && ldb >= N &&
	       N / UPD_BN <= 65535 && M / UPD_BM <= 65535 && (uintptr_t)a % 16 == 0 &&
	       (uintptr_t)b % 16 == 0 && (uintptr_t)wm % 16 == 0 && (uintptr_t)wh % 16 == 0;
}

/* Allow form PRE its shared memory, and ask for the largest shared-memory
 * carve-out so that two blocks fit an SM. */
template <int PRE> static aisp_err upd_prepare(void)
{
	aisp_err rc = perf_cu(cudaFuncSetAttribute(perf_update_kernel<PRE>,
						   cudaFuncAttributeMaxDynamicSharedMemorySize,
						   UPD_SMEM(PRE)));

	if (rc == AISP_OK)
		rc = perf_cu(cudaFuncSetAttribute(perf_update_kernel<PRE>,
						  cudaFuncAttributePreferredSharedMemoryCarveout,
						  (int)cudaSharedmemCarveoutMaxShared));
	return rc;
}

aisp_err perf_k_update_prepare(void)
{
	aisp_err rc = upd_prepare<0>();

	return rc == AISP_OK ? upd_prepare<1>() : rc;
}

aisp_err perf_k_update(const __half *a, int lda, const __half *b, int ldb, float *wm,
		       __half *wh, int M, int N, int K, float alpha, int prefetch, cudaStream_t s)
{
	dim3 grid((unsigned)(N / UPD_BN), (unsigned)(M / UPD_BM));

	if (!perf_k_update_fits(a, lda, b, ldb, wm, wh, M, N, K))
		return AISP_EINPUT;
	if (prefetch)
		perf_update_kernel<1><<<grid, UPD_THREADS, UPD_SMEM(1), s>>>(a, lda, b, ldb, wm,
									     wh, N, K, alpha);
	else
		perf_update_kernel<0><<<grid, UPD_THREADS, UPD_SMEM(0), s>>>(a, lda, b, ldb, wm,
									     wh, N, K, alpha);
	return perf_cu(cudaGetLastError());
}
