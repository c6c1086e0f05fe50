/*
 * gemm_sweep.cu - pick ch01:gemm's hand-written kernel on the device. Every
 * candidate configuration (kernels/ch01/gemm_tiled.cuh: the first tiled
 * kernel "v1"; gemm_splitk.cuh: "ff" FFMA, "x3" 3xTF32 tensor cores, and two
 * controls: "tf" plain TF32, "no" no math at all) is
 *   - verified against a float64 reference on four shapes (the job's, two
 *     more the fast path takes, one it does not), output poisoned with NaN
 *     before each run, fresh inputs per shape; relative error
 *     ||C - ref|| / ||ref|| against the product's tolerance 1e-5 x
 *     max(1, sqrt(k / 256)); and run twice on the job shape, bitwise equal
 *     (a moving result is a race). The controls must FAIL.
 *   - timed as aisp times with the ch01 job's min_sample_ms 0.5: a sample is
 *     one event pair around back-to-back launches lasting >= 0.5 ms (count
 *     from the best of three single launches), per-launch time = sample /
 *     count, median of the samples; in two passes (forward, then reverse
 *     order) to show drift. Also: single launches (event pair around one
 *     launch, median) and single launches with L2 flushed (128 MiB written).
 * Before them it measures the floors: launch alone (empty kernels of the same
 * grid), the workload's bytes alone (a kernel that reads A and B once and
 * writes C, back to back: L2-resident), L2 read and HBM copy bandwidth, and
 * the FFMA and TF32 mma.sync rates. cuBLAS strided-batched runs beside.
 *
 *   gemm_sweep [--shape m,n,k,batch] [--only a,b] [--exclude a,b] [--list]
 *              [--samples N] [--no-floors]
 *   gemm_sweep --run NAME [--iters N]   (launch NAME N times: for profilers)
 * Names as --list prints them; --only, --exclude and --run take patterns
 * (fnmatch: "x3*", "* c[2-8] *"), comma-separated. The table comes
 * last, fastest first. Exit 0 when all verified (and the controls failed), 1
 * when not, 3 on a CUDA error that poisons the context ("CRASH: NAME").
 *
 * Build: one translation unit (nvcc gemm_sweep.cu), or in parallel: each of
 * -DSWEEP_PART=0..SWEEP_PARTS-1 and -DSWEEP_MAIN compiled alone, then linked.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fnmatch.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "../../kernels/ch01/gemm_tiled.cuh"
#include "aisp.h"
#include "clock.h"

#define SWEEP_PARTS 4
#if defined(SWEEP_PART)
#define SWEEP_HAS_PART(p) (SWEEP_PART == (p))
#define SWEEP_HAS_MAIN 0
#elif defined(SWEEP_MAIN)
#define SWEEP_HAS_PART(p) 0
#define SWEEP_HAS_MAIN 1
#else
#define SWEEP_HAS_PART(p) 1
#define SWEEP_HAS_MAIN 1
#endif

/* Occupancy facts of a candidate on one shape. */
struct occ {
	int threads, smem, regs, blocks, cl, per_sm, clusters; /* clusters: co-resident, GPU-wide */
};

/* Launches needed to hold all blocks at once (1: one wave). */
inline double occ_waves(const occ &o, int sms)
{
	if (o.cl > 1)
		return o.clusters > 0 ? (double)o.blocks / ((double)o.clusters * o.cl) : NAN;
	return o.per_sm > 0 ? (double)o.blocks / ((double)o.per_sm * sms) : NAN;
}

typedef cudaError_t (*launch_fn)(const float *, const float *, float *, int, int, int, int,
				 cudaStream_t);

/* One candidate: generated name and C++ type, its launch and setup. */
struct cand {
	const char *(*name)();
	const char *(*type)();
	launch_fn launch;
	cudaError_t (*prepare)();
	void (*info)(int m, int n, int k, int batch, occ *o);
	int control; /* plain TF32 or no math: verification must fail */
};

/* ---- per-family templates (instantiated in the parts) --------------------- */

/* Fill o for kernel f with the given launch shape. */
inline void occ_fill(const void *f, int threads, int smem, int blocks, int cl, occ *o)
{
	cudaFuncAttributes fa = {};
	cudaLaunchConfig_t lc = {};
	cudaLaunchAttribute at[1];

	o->threads = threads;
	o->smem = smem;
	o->blocks = blocks;
	o->cl = cl;
	o->regs = cudaFuncGetAttributes(&fa, f) == cudaSuccess ? fa.numRegs : -1;
	if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&o->per_sm, f, threads, smem) !=
	    cudaSuccess)
		o->per_sm = -1;
	o->clusters = 0;
	if (cl > 1) {
		lc.gridDim = dim3(blocks);
		lc.blockDim = dim3(threads);
		lc.dynamicSmemBytes = smem;
		at[0].id = cudaLaunchAttributeClusterDimension;
		at[0].val.clusterDim.x = cl;
		at[0].val.clusterDim.y = 1;
		at[0].val.clusterDim.z = 1;
		lc.attrs = at;
		lc.numAttrs = 1;
		if (cudaOccupancyMaxActiveClusters(&o->clusters, f, &lc) != cudaSuccess)
			o->clusters = -1;
	}
	cudaGetLastError();
}

template <class C>
static const char *name_v1()
{
	static char s[96];

	snprintf(s, sizeof(s), "v1 n%d k%d m%d s%d t%d c%d b%d", C::BN, C::BK, C::TM, C::KS,
		 C::STAGES, C::CL, C::MINB);
	return s;
}

template <class C>
static const char *type_v1()
{
	static char s[160];

	snprintf(s, sizeof(s), "gemm_tiled::cfg<%d, %d, %d, %d, %d, %d, %d, %d>", C::BM, C::BN,
		 C::BK, C::TM, C::KS, C::STAGES, C::CL, C::MINB);
	return s;
}

template <class C>
static void info_v1(int m, int n, int k, int batch, occ *o)
{
	occ_fill((const void *)gemm_tiled::tiled_kernel<C>, C::THREADS,
		 4 * C::smem_floats(k / C::BK / C::CL), n / C::BN * (m / C::BM) * batch * C::CL,
		 C::CL, o);
}

template <class C>
static const char *name_sk()
{
	static char s[96];
	static const char *math[] = {"ff", "x3", "tf", "no"};

	snprintf(s, sizeof(s), "%s n%d k%d s%d c%d t%d b%d%s%s", math[C::MATH], C::BN, C::BK,
		 C::KS, C::CL, C::STAGES, C::MINB, C::MATH == gemm_splitk::FFMA && C::TM != 4
		 ? (C::TM == 8 ? " m8" : " m?") : "", C::PDL ? " pdl" : "");
	return s;
}

template <class C>
static const char *type_sk()
{
	static char s[160];
	static const char *math[] = {"FFMA", "TF32X3", "TF32", "NONE"};

	snprintf(s, sizeof(s), "gemm_splitk::cfg<%d, %d, %d, %d, gemm_splitk::%s, %d, %d, %d, %d>",
		 C::BN, C::BK, C::KS, C::CL, math[C::MATH], C::STAGES, C::MINB, C::PDL, C::TM);
	return s;
}

template <class C>
static void info_sk(int m, int n, int k, int batch, occ *o)
{
	occ_fill((const void *)gemm_splitk::splitk_kernel<C>, C::THREADS,
		 4 * C::smem_floats(k / C::BK / C::CL), n / C::BN * (m / C::BM) * batch * C::CL,
		 C::CL, o);
}

/* v1: gemm_tiled::cfg<BM, BN, BK, TM, KS, STAGES, CL, MINB> */
#define V1(...)                                                                            \
	{name_v1<gemm_tiled::cfg<__VA_ARGS__>>, type_v1<gemm_tiled::cfg<__VA_ARGS__>>,      \
	 gemm_tiled::launch<gemm_tiled::cfg<__VA_ARGS__>>,                                  \
	 gemm_tiled::prepare<gemm_tiled::cfg<__VA_ARGS__>>, info_v1<gemm_tiled::cfg<__VA_ARGS__>>, 0}
/* splitk: gemm_splitk::cfg<BN, BK, KS, CL, MATH, STAGES, MINB, PDL, TM> */
#define SKC(ctl, ...)                                                                      \
	{name_sk<gemm_splitk::cfg<__VA_ARGS__>>, type_sk<gemm_splitk::cfg<__VA_ARGS__>>,    \
	 gemm_tiled::launch<gemm_splitk::cfg<__VA_ARGS__>>,                                 \
	 gemm_tiled::prepare<gemm_splitk::cfg<__VA_ARGS__>>,                                \
	 info_sk<gemm_splitk::cfg<__VA_ARGS__>>, ctl}
#define SK(...) SKC(0, __VA_ARGS__)
#define FF gemm_splitk::FFMA
#define X3 gemm_splitk::TF32X3
#define TF gemm_splitk::TF32
#define NO gemm_splitk::NONE

/* ---- the candidates, in parts compiled in parallel -------------------------- */

extern const cand sweep_part0[], sweep_part1[], sweep_part2[], sweep_part3[];
extern const int sweep_part0_n, sweep_part1_n, sweep_part2_n, sweep_part3_n;

#if SWEEP_HAS_PART(0)
/* the first kernel: the product as of 2026-11 and two of its best neighbours */
const cand sweep_part0[] = {
	V1(32, 32, 32, 4, 2, 3, 2, 5),
	V1(32, 32, 32, 4, 1, 5, 2, 8),
	V1(32, 64, 32, 4, 2, 5, 2, 3),
	/* FFMA with the new end (reduce-scatter) and all chunks in flight */
	SK(32, 32, 2, 2, FF, 4, 5, 0),
	SK(32, 32, 2, 2, FF, 4, 5, 1),
	SK(64, 32, 1, 4, FF, 4, 5, 0),
	SK(64, 32, 1, 4, FF, 4, 5, 1),
	/* 3xTF32, finer chunks (8 per block: a pipeline rather than all at once) */
	SK(32, 16, 2, 2, X3, 8, 5, 1),
};
const int sweep_part0_n = sizeof(sweep_part0) / sizeof(sweep_part0[0]);
#endif

#if SWEEP_HAS_PART(1)
const cand sweep_part1[] = {
	SK(32, 32, 1, 4, FF, 4, 10, 0),
	SK(128, 32, 1, 8, FF, 4, 5, 0, 8),
	/* 3xTF32, 32-column tiles */
	SK(32, 32, 2, 2, X3, 4, 5, 0),
	SK(32, 32, 2, 2, X3, 4, 5, 1),
	SK(32, 32, 1, 2, X3, 4, 5, 1),
	SK(32, 32, 4, 2, X3, 4, 5, 1),
	SK(32, 32, 2, 4, X3, 4, 8, 1),
};
const int sweep_part1_n = sizeof(sweep_part1) / sizeof(sweep_part1[0]);
#endif

#if SWEEP_HAS_PART(2)
const cand sweep_part2[] = {
	/* 3xTF32, 64-column tiles: A read 4 times instead of 8 */
	SK(64, 32, 2, 4, X3, 4, 5, 0),
	SK(64, 32, 2, 4, X3, 4, 5, 1),
	SK(64, 32, 1, 4, X3, 4, 5, 1),
	SK(64, 64, 2, 4, X3, 4, 5, 1),
	SK(64, 32, 2, 2, X3, 4, 3, 1),
	SK(32, 64, 2, 2, X3, 4, 5, 1),
	SK(32, 32, 2, 2, X3, 2, 5, 1),
	/* the control: plain TF32, must fail verification */
	SKC(1, 64, 32, 2, 4, TF, 4, 5, 1),
};
const int sweep_part2_n = sizeof(sweep_part2) / sizeof(sweep_part2[0]);
#endif

#if SWEEP_HAS_PART(3)
const cand sweep_part3[] = {
	/* 3xTF32, 128-column tiles: A read twice, 8-block clusters */
	SK(128, 32, 1, 8, X3, 4, 5, 0),
	SK(128, 32, 1, 8, X3, 4, 5, 1),
	SK(128, 32, 2, 4, X3, 4, 3, 1),
	/* no cluster: all of k in one block, 8 warps over k */
	SK(32, 64, 8, 1, X3, 4, 3, 0),
	SK(32, 64, 8, 1, X3, 4, 3, 1),
	SK(64, 64, 4, 1, X3, 4, 2, 1),
	/* fewer, larger blocks: 2-block clusters of 64 threads over 64 columns */
	SK(64, 32, 1, 2, X3, 4, 5, 1),
	/* diagnostics (wrong output by design): no math, the rest as x3 */
	SKC(1, 32, 32, 2, 2, NO, 4, 5, 1),
	SKC(1, 64, 32, 2, 4, NO, 4, 5, 1),
};
const int sweep_part3_n = sizeof(sweep_part3) / sizeof(sweep_part3[0]);
#endif

#if SWEEP_HAS_MAIN

static const cand *const parts[SWEEP_PARTS] = {sweep_part0, sweep_part1, sweep_part2,
					       sweep_part3};
static const int *const part_n[SWEEP_PARTS] = {&sweep_part0_n, &sweep_part1_n, &sweep_part2_n,
					      &sweep_part3_n};

#define FLUSH_BYTES (128u << 20)

/* Exit on a CUDA error outside any candidate. */
static void check(cudaError_t e, const char *what)
{
	if (e != cudaSuccess) {
		fprintf(stderr, "gemm_sweep: %s: %s\n", what, cudaGetErrorString(e));
		printf("CRASH: %s: %s\n", what, cudaGetErrorString(e));
		exit(3);
	}
}

/* ---- problems: one shape, its inputs, its float64 reference ----------------- */

struct problem {
	int m, n, k, batch;
	size_t na, nb, nc;
	float *a, *b, *c;
	std::vector<float> ha, hb, hc, first;
	std::vector<double> ref;
	double tol;
};

/* Draw inputs (seeded like the target's), copy them, compute the reference. */
static void problem_init(problem &p, int m, int n, int k, int batch, uint64_t seed)
{
	p.m = m, p.n = n, p.k = k, p.batch = batch;
	p.na = (size_t)batch * m * k;
	p.nb = (size_t)batch * k * n;
	p.nc = (size_t)batch * m * n;
	p.ha.resize(p.na);
	p.hb.resize(p.nb);
	p.hc.resize(p.nc);
	p.ref.assign(p.nc, 0.0);
	p.tol = 1e-5 * std::max(1.0, std::sqrt(k / 256.0));
	aisp_rng_fill_unit(p.ha.data(), p.na, seed, 1);
	aisp_rng_fill_unit(p.hb.data(), p.nb, seed, 2);
	for (int z = 0; z < batch; z++)
		for (int i = 0; i < m; i++)
			for (int q = 0; q < k; q++) {
				double av = p.ha[((size_t)z * m + i) * k + q];
				const float *brow = &p.hb[((size_t)z * k + q) * n];
				double *crow = &p.ref[((size_t)z * m + i) * n];

				for (int j = 0; j < n; j++)
					crow[j] += av * brow[j];
			}
	check(cudaMalloc(&p.a, p.na * 4), "malloc A");
	check(cudaMalloc(&p.b, p.nb * 4), "malloc B");
	check(cudaMalloc(&p.c, p.nc * 4), "malloc C");
	check(cudaMemcpy(p.a, p.ha.data(), p.na * 4, cudaMemcpyHostToDevice), "copy A");
	check(cudaMemcpy(p.b, p.hb.data(), p.nb * 4, cudaMemcpyHostToDevice), "copy B");
}

/* ---- results ------------------------------------------------------------------ */

struct result {
	const cand *c;
	std::string name, err;   /* err: why it could not run */
	double rel[4], worst;    /* per shape; worst of rel / tol */
	int ok, det, ran;        /* verified, bitwise repeatable, timed */
	double b2b[2], single, cold;
	int per_sample;
	occ o;
};

/* The stream everything runs on, and 4 bytes to write when checking it. */
struct lane {
	cudaStream_t s;
	void *scratch;
};

/* 1 when the context still works after an error (the error was not sticky). */
static int context_alive(const lane &l)
{
	cudaGetLastError();
	return cudaMemsetAsync(l.scratch, 0, 4, l.s) == cudaSuccess &&
	       cudaStreamSynchronize(l.s) == cudaSuccess;
}

/* Record a candidate's CUDA error in r; exit 3 when the context is lost. */
static bool failed(cudaError_t e, result &r, const char *what, const lane &l)
{
	if (e == cudaSuccess)
		return false;
	r.err = std::string(what) + ": " + cudaGetErrorString(e);
	if (!context_alive(l)) {
		fprintf(stderr, "gemm_sweep: CRASH in %s: %s\n", r.name.c_str(), r.err.c_str());
		printf("CRASH: %s: %s\n", r.name.c_str(), r.err.c_str());
		exit(3);
	}
	return true;
}

/* Poison C, launch, read C back: 0 on success (C in p.hc). */
static cudaError_t run_once(const cand &c, problem &p, cudaStream_t s)
{
	cudaError_t e = cudaMemsetAsync(p.c, 0xff, p.nc * 4, s);

	if (e == cudaSuccess)
		e = c.launch(p.a, p.b, p.c, p.m, p.n, p.k, p.batch, s);
	if (e == cudaSuccess)
		e = cudaMemcpyAsync(p.hc.data(), p.c, p.nc * 4, cudaMemcpyDeviceToHost, s);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(s);
	return e;
}

/* ||hc - ref|| / ||ref||, NaN when any element is not finite. */
static double rel_error(const problem &p)
{
	double num = 0, den = 0;

	for (size_t i = 0; i < p.nc; i++) {
		double d = (double)p.hc[i] - p.ref[i];

		if (!std::isfinite(p.hc[i]))
			return NAN;
		num += d * d;
		den += p.ref[i] * p.ref[i];
	}
	return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

/* Verify r's candidate on every shape (shape 0 twice: bitwise equal?). */
static void verify(result &r, std::vector<problem> &ps, const lane &l)
{
	r.ok = 1;
	r.worst = 0;
	r.det = 0;
	for (size_t i = 0; i < ps.size(); i++) {
		if (failed(run_once(*r.c, ps[i], l.s), r, "verify", l)) {
			r.ok = 0;
			return;
		}
		r.rel[i] = rel_error(ps[i]);
		r.worst = std::isfinite(r.rel[i]) ? std::max(r.worst, r.rel[i] / ps[i].tol) : INFINITY;
		r.ok &= r.rel[i] <= ps[i].tol;
		if (i == 0) {
			ps[0].first = ps[0].hc;
			if (failed(run_once(*r.c, ps[0], l.s), r, "verify again", l)) {
				r.ok = 0;
				return;
			}
			r.det = !memcmp(ps[0].first.data(), ps[0].hc.data(), ps[0].nc * 4);
			r.ok &= r.det;
		}
	}
}

/* ---- timing ------------------------------------------------------------------- */

struct timer {
	cudaStream_t s;
	cudaEvent_t e0, e1;
	void *flush;

	lane l() const { return lane{s, flush}; }
};

static double median(std::vector<double> v)
{
	size_t n = v.size();

	std::sort(v.begin(), v.end());
	return n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ms of one event pair around `count` back-to-back calls of fn. */
template <class F>
static double time_batch(timer &t, F fn, int count)
{
	float ms = 0;

	check(cudaEventRecord(t.e0, t.s), "record");
	for (int i = 0; i < count; i++)
		fn();
	check(cudaEventRecord(t.e1, t.s), "record");
	check(cudaEventSynchronize(t.e1), "sync");
	check(cudaEventElapsedTime(&ms, t.e0, t.e1), "elapsed");
	return ms;
}

/* aisp's way (min_sample_ms 0.5): per-launch ms, median of `samples`. */
template <class F>
static double time_aisp(timer &t, F fn, int samples, int *per_sample)
{
	double best = INFINITY;
	std::vector<double> v;

	for (int i = 0; i < 3; i++)
		best = std::min(best, time_batch(t, fn, 1));
	*per_sample = best > 0 && best < 0.5 ? (int)std::min(std::ceil(0.5 / best), 1e5) : 1;
	for (int i = 0; i < samples; i++)
		v.push_back(time_batch(t, fn, *per_sample) / *per_sample);
	return median(v);
}

/* Median ms of single launches (L2 flushed before each when cold). */
template <class F>
static double time_single(timer &t, F fn, int samples, bool cold)
{
	std::vector<double> v;

	for (int i = 0; i < samples; i++) {
		if (cold)
			check(cudaMemsetAsync(t.flush, i & 0xff, FLUSH_BYTES, t.s), "flush");
		v.push_back(time_batch(t, fn, 1));
	}
	return median(v);
}

/* ---- floors: launch, bytes, bandwidths, rates ---------------------------------- */

/* Empty kernel; with PDL it takes part in programmatic dependent launch. */
template <int PDL>
__global__ void null_kernel()
{
	if (PDL) {
		asm volatile("griddepcontrol.wait;\n" ::: "memory");
		asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
	}
}

/* The workload's bytes and nothing else: read A and B once, write C once
 * (each element of C is a sum of loads, so none can be dropped). */
template <int PDL>
__global__ void bytes_kernel(const float4 *__restrict__ a, size_t na4,
			     const float4 *__restrict__ b, size_t nb4, float4 *__restrict__ c,
			     size_t nc4)
{
	const size_t t0 = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	const size_t nt = (size_t)gridDim.x * blockDim.x;
	float4 s = make_float4(0.f, 0.f, 0.f, 0.f);

	if (PDL) {
		asm volatile("griddepcontrol.wait;\n" ::: "memory");
		asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
	}
	for (size_t i = t0; i < na4; i += nt)
		s = gemm_splitk::add4(s, __ldcg(a + i));
#pragma unroll 8
	for (size_t i = t0; i < nb4; i += nt)
		s = gemm_splitk::add4(s, __ldcg(b + i));
	for (size_t i = t0; i < nc4; i += nt)
		c[i] = s;
}

/* Read n4 float4s `reps` times (L2-resident when small); out stays unwritten
 * unless the sum is exactly -1 (never, for these inputs). */
__global__ void l2_read_kernel(const float4 *__restrict__ x, size_t n4, int reps, float *out)
{
	const size_t t0 = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	const size_t nt = (size_t)gridDim.x * blockDim.x;
	float s = 0.f;

	for (int r = 0; r < reps; r++) {
#pragma unroll 8
		for (size_t i = t0; i < n4; i += nt) {
			float4 v = __ldcg(x + i);

			s += v.x + v.y + v.z + v.w;
		}
	}
	if (s == -1.0f)
		out[0] = s;
}

/* FFMA rate: 8 independent chains per thread. */
__global__ void ffma_kernel(int iters, float *out)
{
	float v[8], x = 1.0f + threadIdx.x * 1e-7f, y = 1e-7f;

#pragma unroll
	for (int j = 0; j < 8; j++)
		v[j] = j * 1e-3f;
	for (int i = 0; i < iters; i++) {
#pragma unroll
		for (int j = 0; j < 8; j++)
			v[j] = fmaf(v[j], x, y);
	}
	if (v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7] == -1.0f)
		out[0] = v[0];
}

/* TF32 mma.sync m16n8k8 rate: 8 independent accumulator tiles per warp. */
__global__ void mma_kernel(int iters, float *out)
{
	const uint32_t a[4] = {gemm_splitk::tf32_round(1.0f + threadIdx.x * 1e-3f),
			       gemm_splitk::tf32_round(0.5f), gemm_splitk::tf32_round(0.25f),
			       gemm_splitk::tf32_round(-0.75f)};
	const uint32_t b[2] = {gemm_splitk::tf32_round(0.125f),
			       gemm_splitk::tf32_round(-0.5f + threadIdx.x * 1e-3f)};
	float d[8][4] = {};

	for (int i = 0; i < iters; i++) {
#pragma unroll
		for (int j = 0; j < 8; j++)
			gemm_splitk::mma_tf32(d[j][0], d[j][1], d[j][2], d[j][3], a, b);
	}
	float s = 0;
#pragma unroll
	for (int j = 0; j < 8; j++)
		s += d[j][0] + d[j][1] + d[j][2] + d[j][3];
	if (s == -1.0f)
		out[0] = s;
}

/* Launch f with grid x block, optionally clusters of cl and PDL. */
template <class... Args>
static cudaError_t launch_ex(void (*f)(Args...), int grid, int block, int cl, int pdl,
			     cudaStream_t s, Args... args)
{
	cudaLaunchConfig_t lc = {};
	cudaLaunchAttribute at[2];
	unsigned na = 0;

	lc.gridDim = dim3(grid);
	lc.blockDim = dim3(block);
	lc.stream = s;
	if (cl > 1) {
		at[na].id = cudaLaunchAttributeClusterDimension;
		at[na].val.clusterDim.x = cl;
		at[na].val.clusterDim.y = 1;
		at[na].val.clusterDim.z = 1;
		na++;
	}
	if (pdl) {
		at[na].id = cudaLaunchAttributeProgrammaticStreamSerialization;
		at[na].val.programmaticStreamSerializationAllowed = 1;
		na++;
	}
	lc.attrs = at;
	lc.numAttrs = na;
	return cudaLaunchKernelEx(&lc, f, args...);
}

/* Copy bandwidth, bytes read + written, TB/s (median of reps). */
static double copy_tbs(timer &t, size_t bytes, int reps)
{
	void *x, *y;
	double ms;

	check(cudaMalloc(&x, bytes), "malloc");
	check(cudaMalloc(&y, bytes), "malloc");
	check(cudaMemset(x, 1, bytes), "memset");
	ms = time_single(t, [&] { cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice, t.s); },
			 reps, false);
	cudaFree(x);
	cudaFree(y);
	return 2.0 * bytes / (ms * 1e-3) / 1e12;
}

/* The floors of problem p on this device; printed, and the bytes floor kept. */
struct floors {
	double hbm_tbs, l2_tbs, ffma_tflops, mma_tflops;
	double null_us[4], bytes_us[2];
};

static void measure_floors(timer &t, problem &p, int sms, floors &f)
{
	const int blocks = 640, threads = 128;
	size_t l2n4 = p.nb / 4;
	float *out;
	int per;

	check(cudaMalloc(&out, 4), "malloc");
	f.hbm_tbs = copy_tbs(t, 1u << 30, 20);
	/* L2 read: B (10.5 MB at the job shape) 32 times per launch, back to back */
	auto l2 = [&] { l2_read_kernel<<<sms * 4, 512, 0, t.s>>>((const float4 *)p.b, l2n4, 32, out); };
	f.l2_tbs = 32.0 * p.nb * 4 / (time_aisp(t, l2, 10, &per) * 1e-3) / 1e12;
	auto ff = [&] { ffma_kernel<<<sms * 8, 256, 0, t.s>>>(4096, out); };
	f.ffma_tflops = 2.0 * sms * 8 * 256 * 8 * 4096.0 / (time_aisp(t, ff, 10, &per) * 1e-3) / 1e12;
	auto mm = [&] { mma_kernel<<<sms * 4, 128, 0, t.s>>>(2048, out); };
	f.mma_tflops = 2.0 * 1024 * 8 * 2048.0 * sms * 4 * 4 / (time_aisp(t, mm, 10, &per) * 1e-3) / 1e12;
	check(cudaGetLastError(), "rate kernels");
	/* launch alone: 640 empty blocks of 128 threads; clusters of 4; with PDL */
	const int shape[4][2] = {{1, 0}, {1, 1}, {4, 0}, {4, 1}};
	for (int i = 0; i < 4; i++) {
		auto nk = [&] {
			launch_ex(shape[i][1] ? null_kernel<1> : null_kernel<0>, blocks, threads,
				  shape[i][0], shape[i][1], t.s);
		};
		f.null_us[i] = 1e3 * time_aisp(t, nk, 40, &per);
	}
	for (int pdl = 0; pdl < 2; pdl++) {
		auto bk = [&] {
			launch_ex(pdl ? bytes_kernel<1> : bytes_kernel<0>, blocks, threads, 1, pdl,
				  t.s, (const float4 *)p.a, p.na / 4, (const float4 *)p.b, p.nb / 4,
				  (float4 *)p.c, p.nc / 4);
		};
		f.bytes_us[pdl] = 1e3 * time_aisp(t, bk, 40, &per);
	}
	check(cudaGetLastError(), "floor kernels");
	cudaFree(out);
}

static void print_floors(const problem &p, const floors &f)
{
	double bytes = 4.0 * (p.na + p.nb + p.nc), mac = (double)p.m * p.n * p.k * p.batch;

	printf("\nfloors, %dx%dx%d batch %d: %.2f MB, %.1f M multiply-adds\n", p.m, p.n, p.k,
	       p.batch, bytes / 1e6, mac / 1e6);
	printf("  HBM copy 1 GiB %.2f TB/s (read+write): bytes once from HBM   %7.2f us\n",
	       f.hbm_tbs, bytes / (f.hbm_tbs * 1e12) * 1e6);
	printf("  L2 read %.2f TB/s (10 MB x32 per launch): bytes once from L2  %7.2f us\n",
	       f.l2_tbs, bytes / (f.l2_tbs * 1e12) * 1e6);
	printf("  FFMA %.1f TFLOP/s: the multiply-adds as FFMA                %7.2f us\n",
	       f.ffma_tflops, 2 * mac / (f.ffma_tflops * 1e12) * 1e6);
	printf("  mma.sync TF32 %.1f TFLOP/s: as 3xTF32 (3 products per term) %7.2f us\n",
	       f.mma_tflops, 3 * 2 * mac / (f.mma_tflops * 1e12) * 1e6);
	printf("  back to back, 640 blocks x 128 threads (aisp's way):\n");
	printf("    empty kernel                %7.2f us   with PDL %7.2f us\n", f.null_us[0],
	       f.null_us[1]);
	printf("    empty, clusters of 4        %7.2f us   with PDL %7.2f us\n", f.null_us[2],
	       f.null_us[3]);
	printf("    read A, B once, write C     %7.2f us   with PDL %7.2f us  (L2-resident floor)\n",
	       f.bytes_us[0], f.bytes_us[1]);
}

/* ---- the table ------------------------------------------------------------------- */

static double sort_key(const result &r)
{
	return r.ran ? 0.5 * (r.b2b[0] + r.b2b[1]) : INFINITY;
}

static void print_table(std::vector<result> &res, double floor_us, int sms)
{
	std::vector<result *> v;

	for (auto &r : res)
		v.push_back(&r);
	std::stable_sort(v.begin(), v.end(), [](const result *x, const result *y) {
		bool gx = x->ok && !x->c->control, gy = y->ok && !y->c->control;
		return gx != gy ? gx : sort_key(*x) < sort_key(*y);
	});
	printf("\n%-26s %-5s %8s %6s %4s %4s %4s %5s %7s %7s %7s %7s %5s\n", "candidate", "check",
	       "err_job", "worst", "regs", "thr", "b/SM", "waves", "b2b1_us", "b2b2_us",
	       "single", "coldL2", "floor");
	for (const result *r : v) {
		const char *verdict = r->c->control ? (r->ok ? "BAD" : "ctl") : r->ok ? "PASS" : "FAIL";

		printf("%-26s %-5s %8.1e %5.2fx %4d %4d %4d %5.2f %7.2f %7.2f %7.2f %7.2f %4.0f%%%s%s%s\n",
		       r->name.c_str(), verdict, r->rel[0], r->worst, r->o.regs, r->o.threads,
		       r->o.per_sm, occ_waves(r->o, sms), r->b2b[0], r->b2b[1], r->single, r->cold,
		       r->ran ? 100.0 * floor_us / sort_key(*r) : 0.0,
		       r->det || r->err.size() ? "" : "  NOT-REPEATABLE", r->err.size() ? "  " : "",
		       r->err.c_str());
	}
}

/* ---- main ---------------------------------------------------------------------- */

struct opts {
	int m = 32, n = 256, k = 256, batch = 40, samples = 100, iters = 100;
	int list = 0, floors = 1;
	std::string only, exclude, run;
};

/* 1 when name matches a pattern of the comma-separated list (fnmatch:
 * "x3*", "* c[2-8] *"; a name without wildcards matches itself only). */
static int listed(const std::string &list, const std::string &name)
{
	size_t a = 0;

	while (a < list.size()) {
		size_t b = list.find(',', a);
		std::string w = list.substr(a, b == std::string::npos ? std::string::npos : b - a);

		if (!w.empty() && fnmatch(w.c_str(), name.c_str(), 0) == 0)
			return 1;
		if (b == std::string::npos)
			break;
		a = b + 1;
	}
	return 0;
}

static int parse(int argc, char **argv, opts &o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;

		if (!strcmp(a, "--shape") && v &&
		    sscanf(v, "%d,%d,%d,%d", &o.m, &o.n, &o.k, &o.batch) == 4)
			i++;
		else if (!strcmp(a, "--only") && v)
			o.only = argv[++i];
		else if (!strcmp(a, "--exclude") && v)
			o.exclude = argv[++i];
		else if (!strcmp(a, "--run") && v)
			o.run = argv[++i];
		else if (!strcmp(a, "--iters") && v)
			o.iters = atoi(argv[++i]);
		else if (!strcmp(a, "--samples") && v)
			o.samples = atoi(argv[++i]);
		else if (!strcmp(a, "--list"))
			o.list = 1;
		else if (!strcmp(a, "--no-floors"))
			o.floors = 0;
		else
			return -1;
	}
	return o.m > 0 && o.n > 0 && o.k > 0 && o.batch > 0 && o.samples > 0 && o.iters > 0 ? 0
												: -1;
}

/* cuBLAS strided-batched FP32 (default math) as a candidate beside ours. */
static cublasHandle_t blas;

static cudaError_t cublas_launch(const float *a, const float *b, float *c, int m, int n, int k,
				 int batch, cudaStream_t s)
{
	const float one = 1.0f, zero = 0.0f;

	(void)s; /* the handle is bound to the sweep's one stream in main */
	if (cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b, n,
				      (long long)k * n, a, k, (long long)m * k, &zero, c, n,
				      (long long)m * n, batch) != CUBLAS_STATUS_SUCCESS)
		return cudaErrorUnknown;
	return cudaGetLastError();
}

static const char *cublas_name() { return "cublasSgemmStridedBatched"; }
static cudaError_t cublas_prepare() { return cudaSuccess; }
static void cublas_info(int, int, int, int, occ *o) { memset(o, 0, sizeof(*o)); }

/* Every candidate selected by o, cuBLAS (when selected) first. */
static std::vector<const cand *> select(const opts &o)
{
	static const cand cublas = {cublas_name, cublas_name, cublas_launch, cublas_prepare,
				    cublas_info, 0};
	std::vector<const cand *> v;

	v.push_back(&cublas);
	for (int p = 0; p < SWEEP_PARTS; p++)
		for (int i = 0; i < *part_n[p]; i++)
			v.push_back(&parts[p][i]);
	v.erase(std::remove_if(v.begin(), v.end(), [&](const cand *c) {
			return (!o.only.empty() && !listed(o.only, c->name())) ||
			       listed(o.exclude, c->name());
		}), v.end());
	return v;
}

/* Prepare, describe and verify every candidate into res. */
static void verify_all(std::vector<result> &res, std::vector<problem> &ps, timer &t)
{
	for (result &r : res) {
		fprintf(stderr, "sweep: verify %s\n", r.name.c_str());
		memset(&r.o, 0, sizeof(r.o));
		if (failed(r.c->prepare(), r, "prepare", t.l())) {
			r.ok = 0;
			continue;
		}
		r.c->info(ps[0].m, ps[0].n, ps[0].k, ps[0].batch, &r.o);
		verify(r, ps, t.l());
	}
}

/* One timing pass over res in the given order; single and cold in pass 0. */
static void time_pass(std::vector<result> &res, problem &p, timer &t, int samples, int pass)
{
	for (size_t j = 0; j < res.size(); j++) {
		result &r = res[pass ? res.size() - 1 - j : j];
		auto fn = [&] { r.c->launch(p.a, p.b, p.c, p.m, p.n, p.k, p.batch, t.s); };

		if (!r.err.empty())
			continue;
		fprintf(stderr, "sweep: time %s (pass %d)\n", r.name.c_str(), pass + 1);
		for (int i = 0; i < 50; i++)
			fn();
		if (failed(cudaStreamSynchronize(t.s), r, "warm-up", t.l()) ||
		    failed(cudaGetLastError(), r, "warm-up", t.l()))
			continue;
		r.b2b[pass] = 1e3 * time_aisp(t, fn, samples, &r.per_sample);
		if (pass == 0) {
			r.single = 1e3 * time_single(t, fn, 300, false);
			r.cold = 1e3 * time_single(t, fn, 100, true);
		}
		if (failed(cudaGetLastError(), r, "timing", t.l()))
			continue;
		r.ran = 1;
	}
}

/* Launch one candidate iters times (for a profiler); exit status. */
static int run_only(const std::vector<const cand *> &cs, problem &p, timer &t, int iters)
{
	if (cs.size() != 1) {
		fprintf(stderr, "gemm_sweep --run: %zu candidates match\n", cs.size());
		return 2;
	}
	check(cs[0]->prepare(), "prepare");
	for (int i = 0; i < iters; i++)
		check(cs[0]->launch(p.a, p.b, p.c, p.m, p.n, p.k, p.batch, t.s), "launch");
	check(cudaStreamSynchronize(t.s), "run");
	printf("ran %s %d times\n", cs[0]->name(), iters);
	return 0;
}

int main(int argc, char **argv)
{
	opts o;
	cudaDeviceProp dp;
	timer t;
	std::vector<problem> ps(4);
	std::vector<result> res;
	floors f = {};
	int bad = 0;

	if (parse(argc, argv, o)) {
		fprintf(stderr, "usage: gemm_sweep [--shape m,n,k,batch] [--only a,b] [--exclude a,b] "
				"[--list] [--samples N] [--no-floors] [--run NAME [--iters N]]\n");
		return 2;
	}
	std::vector<const cand *> cs = select(o);
	if (o.list) {
		for (const cand *c : cs)
			printf("%-28s %s%s\n", c->name(), c->type(), c->control ? "  (control)" : "");
		return 0;
	}
	check(cudaGetDeviceProperties(&dp, 0), "device");
	check(cudaStreamCreateWithFlags(&t.s, cudaStreamNonBlocking), "stream");
	check(cudaEventCreate(&t.e0), "event");
	check(cudaEventCreate(&t.e1), "event");
	check(cudaMalloc(&t.flush, FLUSH_BYTES), "malloc flush");
	if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetStream(blas, t.s) != CUBLAS_STATUS_SUCCESS) {
		fprintf(stderr, "gemm_sweep: cublasCreate failed\n");
		return 3;
	}
	printf("device: %s, %d SMs, L2 %.0f MB, cc %d.%d\n", dp.name, dp.multiProcessorCount,
	       dp.l2CacheSize / 1e6, dp.major, dp.minor);
	problem_init(ps[0], o.m, o.n, o.k, o.batch, 42);
	if (!o.run.empty()) {
		opts one;

		one.only = o.run;
		return run_only(select(one), ps[0], t, o.iters);
	}
	problem_init(ps[1], 64, 512, 512, 7, 7);   /* fast path, other m, n, k, batch */
	problem_init(ps[2], 96, 128, 1024, 3, 11); /* fast path, more chunks than stages */
	problem_init(ps[3], 33, 100, 70, 3, 9);    /* not the fast path: fallback */
	/* warm-up: a second of cuBLAS so that clocks leave idle before timing */
	for (double t0 = clock_now_s(); clock_now_s() - t0 < 1.0;) {
		for (int i = 0; i < 100; i++)
			cublas_launch(ps[0].a, ps[0].b, ps[0].c, o.m, o.n, o.k, o.batch, t.s);
		check(cudaStreamSynchronize(t.s), "warm-up");
	}
	if (o.floors) {
		measure_floors(t, ps[0], dp.multiProcessorCount, f);
		print_floors(ps[0], f);
		fflush(stdout);
	}
	for (const cand *c : cs) {
		result r = {};

		r.c = c;
		r.name = c->name();
		r.b2b[0] = r.b2b[1] = r.single = r.cold = NAN;
		for (double &x : r.rel)
			x = NAN;
		res.push_back(r);
	}
	verify_all(res, ps, t);
	time_pass(res, ps[0], t, o.samples, 0);
	time_pass(res, ps[0], t, o.samples, 1);
	for (const result &r : res)
		bad |= r.c->control ? r.ok : !r.ok;
	printf("\nshapes verified: ");
	for (const problem &p : ps)
		printf("%dx%dx%d b%d (tol %.2g)  ", p.m, p.n, p.k, p.batch, p.tol);
	printf("\nerr_job: rel error on the job shape; worst: largest error / tolerance over "
	       "shapes;\nb2b1/b2b2: aisp's way (samples >= 0.5 ms), passes 1 and 2; floor: "
	       "L2-resident floor / mean b2b\n");
	print_table(res, o.floors ? f.bytes_us[0] : NAN, dp.multiProcessorCount);
	const result *w = nullptr;
	for (const result &r : res)
		if (r.ok && !r.c->control && r.ran && r.c->name != cublas_name &&
		    (!w || sort_key(r) < sort_key(*w)))
			w = &r;
	if (w)
		printf("\nfastest verified: %s  %.2f us (b2b, mean of passes)\n"
		       "  product line: typedef %s product;\n",
		       w->name.c_str(), sort_key(*w), w->c->type());
	printf("sweep %s\n", bad ? "FAILED: a candidate failed verification or a control "
				    "passed" : "passed: every candidate verified, every control failed");
	return bad;
}

#endif /* SWEEP_HAS_MAIN */
