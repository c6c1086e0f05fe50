/*
 * gemm_splitk.cuh - the second hand-written batched FP32 GEMM of ch01:gemm
 * (C[b] = A[b] * B[b], row-major, contiguous batches, as gemm_tiled.cuh),
 * built for many small GEMMs whose data stays in L2 between iterations.
 * Included by gemm_tiled.cuh; include that header, not this one.
 *
 * One block owns a 32 x BN tile of one GEMM and a 1/CL slice of k; the CL
 * blocks of a thread-block cluster (sm_90+) share the tile. Inside a block,
 * KS groups of threads split every BK-deep chunk of k. Every chunk of the
 * block's slice is requested at once (cp.async, STAGES deep) so that the
 * whole slice is in flight after the first instructions.
 *
 * The end is one reduce-scatter: the KS groups leave their partial tiles in
 * shared memory, all threads add them, and each sum goes straight to the
 * cluster block that owns its rows (32/CL rows each; distributed shared
 * memory), one cluster barrier, then each block adds the CL partials of its
 * rows and writes them to C. No block waits for another except there.
 *
 * Math (template MATH):
 *   FFMA    plain FP32 fused multiply-add, thread tile TM rows x 4 columns.
 *   TF32X3  tensor cores (mma.sync m16n8k8) with each operand split into a
 *           TF32 high part and a TF32 remainder, x*y ~ xh*yh + xh*yl + xl*yh
 *           (the "3xTF32" scheme): FP32 accuracy, since the dropped xl*yl and
 *           the remainders' rounding are ~2^-22 relative. Warp tile 32 x 32.
 *   TF32    one TF32 product per term (~3e-4 relative error): NOT FP32, never
 *           a variant; the sweep keeps it as the control that verification
 *           must fail, and as the speed bound of the tensor-core path.
 *   NONE    no math (the sweep's diagnostic of everything else).
 * The MMA fragments use a permuted k order (lane t holds k = 2t, 2t+1) and
 * column order (n8 tile j, column f is column 4f + j of the warp's 32), so a
 * lane reads A as float2 and B as float4 and writes C as float4; a sum over
 * k does not depend on its order, and the output columns are mapped back.
 *
 * With PDL the launch allows programmatic dependent launch: the next kernel
 * in the stream may be scheduled while this one finishes, and every block
 * waits (griddepcontrol.wait) for the previous grid to complete, with its
 * memory visible, before touching global memory. Only launch latency and
 * block start overlap; results are exactly as without it.
 *
 * The fast path needs m % 32, n % BN and k % (BK * CL) all zero; other
 * shapes take gemm_tiled::naive_kernel.
 */
#ifndef AISP_GEMM_SPLITK_CUH
#define AISP_GEMM_SPLITK_CUH

#ifndef AISP_GEMM_TILED_CUH
#error "include gemm_tiled.cuh, which includes gemm_splitk.cuh"
#endif

#include <stdint.h>

namespace gemm_splitk {

/* NONE does no math at all (loads, barriers and the reduction only): a
 * diagnostic of the sweep whose output is wrong by design. */
enum math { FFMA = 0, TF32X3 = 1, TF32 = 2, NONE = 3 };

/* Compile-time shape of one configuration. */
template <int BN_, int BK_, int KS_, int CL_, int MATH_, int STAGES_ = 4, int MINB_ = 1,
	  int PDL_ = 0, int TM_ = 4>
struct cfg {
	static constexpr int BM = 32, BN = BN_, BK = BK_, KS = KS_, CL = CL_, MATH = MATH_;
	static constexpr int STAGES = STAGES_, MINB = MINB_, PDL = PDL_, TM = TM_;
	static constexpr bool MMA = MATH == TF32X3 || MATH == TF32;
	static constexpr int RG = BM / TM, CQ = BN / 4;   /* FFMA: row groups, column quads */
	/* threads of one k-group: FFMA one per TM x 4 outputs; MMA a warp per 32 columns */
	static constexpr int TPG = MMA ? BN : RG * CQ;
	static constexpr int THREADS = TPG * KS;
	static constexpr int KB = BK / KS;               /* k per group per chunk */
	static constexpr int LDA = MMA ? (BK + 31) / 32 * 32 + 8 : BK + 4;
	static constexpr int LDB = MMA ? BN + 4 : BN;
	static constexpr int A_FLOATS = BM * LDA;
	static constexpr int STAGE_FLOATS = A_FLOATS + BK * LDB;
	static constexpr int LDP = BN + 4;               /* row of a partial tile */
	static constexpr int PART_FLOATS = KS > 1 ? KS * BM * LDP : 0;
	static constexpr int RECV_FLOATS = CL > 1 ? BM * BN : 0;
	static constexpr int RPS = BM / CL;              /* rows each cluster rank owns */
	static constexpr int NACC = MMA ? 8 : TM;        /* float4 accumulators per thread */

	/* Shared floats for a block slice of `chunks` chunks of k. */
	static __host__ __device__ constexpr int smem_floats(int chunks)
	{
		return ((chunks < STAGES ? chunks : STAGES) * STAGE_FLOATS > PART_FLOATS
				? (chunks < STAGES ? chunks : STAGES) * STAGE_FLOATS
				: PART_FLOATS) + RECV_FLOATS;
	}
	static constexpr int SMEM_FLOATS = smem_floats(STAGES);
	/* what the variant says it does, when this is the product */
	static constexpr const char *TEXT =
		MATH == FFMA ? (PDL ? "one launch of a hand-written split-k FP32 kernel (FFMA; all "
				      "of k in flight by cp.async, partials reduce-scattered "
				      "across a thread-block cluster; programmatic dependent launch)"
				    : "one launch of a hand-written split-k FP32 kernel (FFMA; all "
				      "of k in flight by cp.async, partials reduce-scattered "
				      "across a thread-block cluster)")
		: MATH == TF32X3
			? (PDL ? "one launch of a hand-written split-k GEMM on tensor cores at FP32 "
				 "accuracy (3xTF32: each operand split into two TF32 parts, three "
				 "products per term; all of k in flight by cp.async, partials "
				 "reduce-scattered across a thread-block cluster; programmatic "
				 "dependent launch)"
			       : "one launch of a hand-written split-k GEMM on tensor cores at FP32 "
				 "accuracy (3xTF32: each operand split into two TF32 parts, three "
				 "products per term; all of k in flight by cp.async, partials "
				 "reduce-scattered across a thread-block cluster)")
			: MATH == TF32 ? "plain TF32 tensor cores (a control: not FP32, never a variant)"
				       : "no math (a diagnostic: wrong output by design, never a variant)";

	static_assert(!MMA || BN % 32 == 0, "MMA: whole 32-column warp tiles");
	static_assert(BN % 4 == 0 && BM % TM == 0 && BK % KS == 0, "tile shape");
	static_assert(KB % (MMA ? 8 : 4) == 0, "k per group: whole MMA (8) or float4 (4) steps");
	static_assert(THREADS % 32 == 0 && THREADS <= 1024, "block size");
	static_assert(CL >= 1 && CL <= 16 && BM % CL == 0, "cluster size");
	static_assert(SMEM_FLOATS * 4 <= 227 * 1024, "shared memory per block");

	static bool fits(int m, int n, int k)
	{
		return m % BM == 0 && n % BN == 0 && k % (BK * CL) == 0;
	}
	static cudaError_t prepare();
	static cudaError_t launch(const float *a, const float *b, float *c, int m, int n, int k,
				  int batch, cudaStream_t stream);
};

/* ---- small device helpers ------------------------------------------------ */

/* FP32 -> TF32 by rounding the 13 dropped bits to nearest (ties away), low
 * bits cleared: two integer operations. (cvt.rna.tf32.f32 is four or five
 * on sm_90, with a NaN and infinity guard that finite inputs do not need; a
 * magnitude within half a TF32 step of FLT_MAX rounds to infinity here.) */
__device__ __forceinline__ uint32_t tf32_round(float x)
{
	return (__float_as_uint(x) + 0x1000u) & 0xffffe000u;
}

/* x ~ hi + lo: hi is x rounded to TF32, lo = x - hi exactly in FP32 (|lo| <=
 * 2^-11 |x|), given as its bits plus half a TF32 step: the tensor cores
 * truncate an operand to TF32, so lo enters rounded to nearest and the part
 * of x lost is at most 2^-22 |x| (CUTLASS calls this rounding
 * round_half_ulp_truncate). */
__device__ __forceinline__ void tf32_split(float x, uint32_t &hi, uint32_t &lo)
{
	hi = tf32_round(x);
	lo = __float_as_uint(x - __uint_as_float(hi)) + 0x1000u;
}

/* d += a * b on one m16n8k8 TF32 tile (FP32 accumulate). */
__device__ __forceinline__ void mma_tf32(float &d0, float &d1, float &d2, float &d3,
					 const uint32_t (&a)[4], const uint32_t (&b)[2])
{
	asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
	    "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
	    : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
	    : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* Component j (compile-time after unrolling) of a float4. */
__device__ __forceinline__ float &comp(float4 &v, int j)
{
	return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
}

__device__ __forceinline__ float4 add4(float4 a, float4 b)
{
	return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}

/* Address of the same shared-memory offset in cluster block `rank`. */
__device__ __forceinline__ uint32_t cluster_map(const void *p, int rank)
{
	uint32_t r;

	asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n"
		     : "=r"(r) : "r"(gemm_tiled::smem_addr(p)), "r"(rank));
	return r;
}

__device__ __forceinline__ void cluster_store4(uint32_t addr, float4 v)
{
	asm volatile("st.shared::cluster.v4.f32 [%0], {%1, %2, %3, %4};\n"
		     :: "r"(addr), "f"(v.x), "f"(v.y), "f"(v.z), "f"(v.w) : "memory");
}

/* ---- per-thread roles ------------------------------------------------------ */

/* Where thread t of a k-group keeps its outputs: acc[i] is the float4 at
 * (row(i), col(i)) of the block tile. */
template <class C>
struct role {
	int t;

	__device__ int row(int i) const
	{
		if (C::MMA) /* i = mt * 4 + h * 2 + c: m16 tile mt, half h, column quad c */
			return 16 * (i >> 2) + 8 * ((i >> 1) & 1) + ((t & 31) >> 2);
		return t / C::CQ + i * C::RG;
	}
	__device__ int col(int i) const
	{
		if (C::MMA)
			return 32 * (t >> 5) + 8 * (t & 3) + 4 * (i & 1);
		return (t % C::CQ) * 4;
	}
};

/* ---- one chunk of math ------------------------------------------------------ */

/* FFMA: acc += group g's k-slice of the chunk in (as, bs). */
template <class C>
__device__ __forceinline__ void chunk_ffma(const float *as, const float *bs, int g, role<C> r,
					   float4 (&acc)[C::NACC])
{
	const int rg = r.t / C::CQ, cq = r.t % C::CQ;

#pragma unroll
	for (int s = 0; s < C::KB / 4; s++) {
		const int kk = g * C::KB + 4 * s;
		float4 av[C::TM], bv[4];

#pragma unroll
		for (int i = 0; i < C::TM; i++)
			av[i] = *reinterpret_cast<const float4 *>(as + (rg + i * C::RG) * C::LDA + kk);
#pragma unroll
		for (int q = 0; q < 4; q++)
			bv[q] = *reinterpret_cast<const float4 *>(bs + (kk + q) * C::LDB + cq * 4);
#pragma unroll
		for (int i = 0; i < C::TM; i++) {
			const float a4[4] = {av[i].x, av[i].y, av[i].z, av[i].w};

#pragma unroll
			for (int q = 0; q < 4; q++) {
				acc[i].x = fmaf(a4[q], bv[q].x, acc[i].x);
				acc[i].y = fmaf(a4[q], bv[q].y, acc[i].y);
				acc[i].z = fmaf(a4[q], bv[q].z, acc[i].z);
				acc[i].w = fmaf(a4[q], bv[q].w, acc[i].w);
			}
		}
	}
}

/* Tensor cores: acc += group g's k-slice of the chunk, warp tile 32 x 32.
 * Lane (gq = lane / 4, tq = lane % 4) reads A[row][kk + 2tq .. +1] for rows
 * gq, gq + 8, gq + 16, gq + 24 and B[kk + 2tq (+1)][4gq .. 4gq + 3]. */
template <class C>
__device__ __forceinline__ void chunk_mma(const float *as, const float *bs, int g, role<C> r,
					  float4 (&acc)[C::NACC])
{
	const int lane = r.t & 31, gq = lane >> 2, tq = lane & 3, n0 = 32 * (r.t >> 5);

#pragma unroll
	for (int s = 0; s < C::KB / 8; s++) {
		const int kk = g * C::KB + 8 * s;
		uint32_t ah[2][4], al[2][4], bh[4][2], bl[4][2];
		float4 bv[2];

#pragma unroll
		for (int mt = 0; mt < 2; mt++) {
#pragma unroll
			for (int h = 0; h < 2; h++) {
				float2 v = *reinterpret_cast<const float2 *>(
					as + (16 * mt + 8 * h + gq) * C::LDA + kk + 2 * tq);

				/* a0 (row gq, k 2tq), a1 (gq+8, 2tq), a2 (gq, 2tq+1), a3 (gq+8, 2tq+1) */
				if (C::MATH == TF32X3) {
					tf32_split(v.x, ah[mt][h], al[mt][h]);
					tf32_split(v.y, ah[mt][h + 2], al[mt][h + 2]);
				} else {
					ah[mt][h] = tf32_round(v.x);
					ah[mt][h + 2] = tf32_round(v.y);
				}
			}
		}
#pragma unroll
		for (int e = 0; e < 2; e++)
			bv[e] = *reinterpret_cast<const float4 *>(bs + (kk + 2 * tq + e) * C::LDB + n0 +
								  4 * gq);
#pragma unroll
		for (int j = 0; j < 4; j++) {
#pragma unroll
			for (int e = 0; e < 2; e++) {
				if (C::MATH == TF32X3)
					tf32_split(comp(bv[e], j), bh[j][e], bl[j][e]);
				else
					bh[j][e] = tf32_round(comp(bv[e], j));
			}
		}
#pragma unroll
		for (int mt = 0; mt < 2; mt++) {
#pragma unroll
			for (int j = 0; j < 4; j++) {
				float &d0 = comp(acc[4 * mt + 0], j), &d1 = comp(acc[4 * mt + 1], j);
				float &d2 = comp(acc[4 * mt + 2], j), &d3 = comp(acc[4 * mt + 3], j);

				if (C::MATH == TF32X3) { /* small terms first */
					mma_tf32(d0, d1, d2, d3, al[mt], bh[j]);
					mma_tf32(d0, d1, d2, d3, ah[mt], bl[j]);
				}
				mma_tf32(d0, d1, d2, d3, ah[mt], bh[j]);
			}
		}
	}
}

/* The copies of one thread: chunk c of A (32 x BK) and of B (BK x BN) in
 * 16-byte pieces, the same rows and columns for every chunk, so the
 * addresses are computed once and a chunk only moves them along k. */
template <class C>
struct loader {
	static constexpr int AQ = C::BM * C::BK / 4, BQ = C::BK * C::BN / 4; /* pieces */
	static constexpr int AR = C::THREADS / (C::BK / 4), BR = C::THREADS / (C::BN / 4);
	static_assert(C::THREADS % (C::BK / 4) == 0 && C::THREADS % (C::BN / 4) == 0,
		      "a thread copies the same columns of every row it copies");
	const float *a, *b; /* this thread's first piece of chunk 0 */
	size_t astep, bstep; /* to the thread's next row of A, of B */
	int adst, bdst;      /* its first piece in a stage (floats) */

	__device__ loader(const float *a0, const float *b0, int n, int k)
	{
		const unsigned t = threadIdx.x;

		a = a0 + (size_t)(t / (C::BK / 4)) * k + t % (C::BK / 4) * 4;
		b = b0 + (size_t)(t / (C::BN / 4)) * n + t % (C::BN / 4) * 4;
		astep = (size_t)AR * k;
		bstep = (size_t)BR * n;
		adst = t / (C::BK / 4) * C::LDA + t % (C::BK / 4) * 4;
		bdst = C::A_FLOATS + t / (C::BN / 4) * C::LDB + t % (C::BN / 4) * 4;
	}

	/* Queue chunk c into stage. */
	__device__ __forceinline__ void issue(float *stage, int c, int n) const
	{
		const float *pa = a + c * C::BK, *pb = b + (size_t)c * C::BK * n;

#pragma unroll
		for (int i = 0; i < (AQ + C::THREADS - 1) / C::THREADS; i++)
			if (AQ % C::THREADS == 0 || threadIdx.x + i * C::THREADS < AQ)
				gemm_tiled::cp_async16(stage + adst + i * AR * C::LDA, pa + i * astep);
#pragma unroll
		for (int i = 0; i < (BQ + C::THREADS - 1) / C::THREADS; i++)
			if (BQ % C::THREADS == 0 || threadIdx.x + i * C::THREADS < BQ)
				gemm_tiled::cp_async16(stage + bdst + i * BR * C::LDB, pb + i * bstep);
	}
};

/* ---- the end: reduce-scatter ------------------------------------------------ */

/* Hand the float4 v at tile (row, col) on: to C when the block is alone, else
 * to the recv area of the cluster block owning the row, in slot `rank`. */
template <class C>
__device__ __forceinline__ void emit(float4 v, int row, int col, float *c, int n, float *recv,
				     int rank)
{
	if (C::CL == 1) {
		*reinterpret_cast<float4 *>(c + (size_t)row * n + col) = v;
		return;
	}
	const int owner = row / C::RPS;

	cluster_store4(cluster_map(recv + ((rank * C::RPS) + row % C::RPS) * C::BN + col, owner),
		       v);
}

/* Sum the block's KS partials and hand each float4 on (emit); then, in a
 * cluster, wait for every block's share and write this block's rows to C. */
template <class C>
__device__ __forceinline__ void finish(float *smem, float *recv, float4 (&acc)[C::NACC], int g,
				       role<C> r, int rank, float *c, int n)
{
	if (C::KS > 1) {
		__syncthreads(); /* the stages are free: partials may overwrite them */
#pragma unroll
		for (int i = 0; i < C::NACC; i++)
			*reinterpret_cast<float4 *>(smem + (g * C::BM + r.row(i)) * C::LDP +
						    r.col(i)) = acc[i];
		__syncthreads();
	}
	if (C::CL > 1) /* every block of the cluster has started: its recv area exists */
		asm volatile("barrier.cluster.wait;\n" ::: "memory");
	if (C::KS == 1) {
#pragma unroll
		for (int i = 0; i < C::NACC; i++)
			emit<C>(acc[i], r.row(i), r.col(i), c, n, recv, rank);
	} else {
		constexpr int TQ = C::BM * C::BN / 4; /* float4s of the tile */

#pragma unroll
		for (int i = 0; i < (TQ + C::THREADS - 1) / C::THREADS; i++) {
			const unsigned q = threadIdx.x + i * C::THREADS;
			const int row = q / (C::BN / 4), col = q % (C::BN / 4) * 4;
			float4 s;

			if (TQ % C::THREADS != 0 && q >= TQ)
				break;
			s = *reinterpret_cast<const float4 *>(smem + row * C::LDP + col);
#pragma unroll
			for (int j = 1; j < C::KS; j++)
				s = add4(s, *reinterpret_cast<const float4 *>(
						    smem + (j * C::BM + row) * C::LDP + col));
			emit<C>(s, row, col, c, n, recv, rank);
		}
	}
	if (C::CL == 1)
		return;
	asm volatile("barrier.cluster.arrive.release;\n" ::: "memory");
	asm volatile("barrier.cluster.wait.acquire;\n" ::: "memory");
	constexpr int OQ = C::RPS * C::BN / 4; /* float4s this block owns */

#pragma unroll
	for (int i = 0; i < (OQ + C::THREADS - 1) / C::THREADS; i++) {
		const unsigned q = threadIdx.x + i * C::THREADS;
		const int row = q / (C::BN / 4), col = q % (C::BN / 4) * 4;
		float4 s;

		if (OQ % C::THREADS != 0 && q >= OQ)
			break;
		s = *reinterpret_cast<const float4 *>(recv + row * C::BN + col);
#pragma unroll
		for (int j = 1; j < C::CL; j++)
			s = add4(s, *reinterpret_cast<const float4 *>(
					    recv + (j * C::RPS + row) * C::BN + col));
		*reinterpret_cast<float4 *>(c + (size_t)(rank * C::RPS + row) * n + col) = s;
	}
}

/* ---- the kernel ------------------------------------------------------------- */

/* Grid: batch * (m / 32) * (n / BN) * CL blocks in x, clusters of CL along x
 * (block x = tile * CL + rank); C::THREADS threads. */
template <class C>
__global__ void __launch_bounds__(C::THREADS, C::MINB)
splitk_kernel(const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ c,
	      int m, int n, int k)
{
	extern __shared__ __align__(16) float smem[];
	const int rank = C::CL > 1 ? (int)(blockIdx.x % C::CL) : 0;
	const int tile = (int)(blockIdx.x / C::CL), nt = n / C::BN, mtiles = m / C::BM;
	const int n0 = (tile % nt) * C::BN, m0 = ((tile / nt) % mtiles) * C::BM;
	const int z = tile / nt / mtiles;
	const int g = threadIdx.x / C::TPG;
	const int chunks = k / C::BK / C::CL, first = rank * chunks;
	const role<C> r = {(int)(threadIdx.x % C::TPG)};
	float *recv = smem + C::smem_floats(chunks) - C::RECV_FLOATS;
	float4 acc[C::NACC];

	if (C::CL > 1)
		asm volatile("barrier.cluster.arrive.relaxed;\n" ::: "memory");
	if (C::PDL) {
		asm volatile("griddepcontrol.wait;\n" ::: "memory");
		asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
	}
	a += (size_t)z * m * k + (size_t)m0 * k;
	b += (size_t)z * k * n + n0;
	c += (size_t)z * m * n + (size_t)m0 * n + n0;
#pragma unroll
	for (int i = 0; i < C::NACC; i++)
		acc[i] = make_float4(0.f, 0.f, 0.f, 0.f);
	const loader<C> ld(a, b, n, k);

#pragma unroll
	for (int s = 0; s < C::STAGES - 1; s++) {
		if (s < chunks)
			ld.issue(smem + s * C::STAGE_FLOATS, first + s, n);
		gemm_tiled::cp_async_commit();
	}
	for (int ch = 0; ch < chunks; ch++) {
		const int next = ch + C::STAGES - 1;
		const float *st = smem + (ch % C::STAGES) * C::STAGE_FLOATS;

		if (next < chunks)
			ld.issue(smem + (next % C::STAGES) * C::STAGE_FLOATS, first + next, n);
		gemm_tiled::cp_async_commit();
		gemm_tiled::cp_async_wait<C::STAGES - 1>();
		__syncthreads();
		if (C::MMA)
			chunk_mma<C>(st, st + C::A_FLOATS, g, r, acc);
		else if (C::MATH == FFMA)
			chunk_ffma<C>(st, st + C::A_FLOATS, g, r, acc);
		if (ch + C::STAGES < chunks) /* this stage is refilled next round */
			__syncthreads();
	}
	finish<C>(smem, recv, acc, g, r, rank, c, n);
}

/* ---- host side --------------------------------------------------------------- */

/* Allow the kernel its largest dynamic shared memory, and clusters past 8. */
template <int BN, int BK, int KS, int CL, int MATH, int STAGES, int MINB, int PDL, int TM>
cudaError_t cfg<BN, BK, KS, CL, MATH, STAGES, MINB, PDL, TM>::prepare()
{
	typedef cfg<BN, BK, KS, CL, MATH, STAGES, MINB, PDL, TM> C;
	cudaError_t e = cudaFuncSetAttribute(splitk_kernel<C>,
					     cudaFuncAttributeMaxDynamicSharedMemorySize,
					     4 * SMEM_FLOATS);

	if (e == cudaSuccess && CL > 8)
		e = cudaFuncSetAttribute(splitk_kernel<C>,
					 cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
	return e;
}

/* Enqueue: the fast path when the shape fits (clusters of CL, PDL when asked),
 * else the naive kernel. Returns the launch error. */
template <int BN, int BK, int KS, int CL, int MATH, int STAGES, int MINB, int PDL, int TM>
cudaError_t cfg<BN, BK, KS, CL, MATH, STAGES, MINB, PDL, TM>::launch(
	const float *a, const float *b, float *c, int m, int n, int k, int batch,
	cudaStream_t stream)
{
	typedef cfg<BN, BK, KS, CL, MATH, STAGES, MINB, PDL, TM> C;
	cudaLaunchConfig_t lc = {};
	cudaLaunchAttribute at[2];
	unsigned na = 0;

	if (!fits(m, n, k)) {
		dim3 block(32, 8), grid((n + 31) / 32, (m + 7) / 8, batch);

		gemm_tiled::naive_kernel<><<<grid, block, 0, stream>>>(a, b, c, m, n, k);
		return cudaGetLastError();
	}
	lc.gridDim = dim3((unsigned)batch * (m / BM) * (n / BN) * CL);
	lc.blockDim = dim3(THREADS);
	lc.dynamicSmemBytes = 4 * smem_floats(k / BK / CL);
	lc.stream = stream;
	if (CL > 1) {
		at[na].id = cudaLaunchAttributeClusterDimension;
		at[na].val.clusterDim.x = CL;
		at[na].val.clusterDim.y = 1;
		at[na].val.clusterDim.z = 1;
		na++;
	}
	if (PDL) {
		at[na].id = cudaLaunchAttributeProgrammaticStreamSerialization;
		at[na].val.programmaticStreamSerializationAllowed = 1;
		na++;
	}
	lc.attrs = at;
	lc.numAttrs = na;
	return cudaLaunchKernelEx(&lc, splitk_kernel<C>, a, b, c, m, n, k);
}

} /* namespace gemm_splitk */

#endif /* AISP_GEMM_SPLITK_CUH */
