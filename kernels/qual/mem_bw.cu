/*
 * mem_bw.cu - qual:mem_bw on CUDA: device memory bandwidth of a copy and of
 * a STREAM triad over arrays far past L2 (50 MB on H100), counting bytes
 * read plus written:
 *   baseline_copy    a = b        cudaMemcpyAsync device to device, 2 arrays
 *   optimized_triad  a = b + 3c   grid-stride kernel, double2 loads, 3 arrays
 * Both move `mib` MiB per iteration (default 3072: 1.5 GiB arrays for the
 * copy, 1 GiB for the triad), so throughput is bytes/s for both; roles are
 * structural, as in the host twin (mem_bw_host.c). Element counts round
 * down to even.
 *
 * Verify poisons a (NaN), runs once and counts on the device the elements
 * that differ from the value recomputed from the hash: exact integers, so
 * equality is the test. The message quotes the datasheet peak (qual.h) so
 * that throughput / peak is the share of the HBM peak.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual_cuda.cuh"

static const struct aisp_param mem_bw_params[] = {
	{"mib", AISP_PARAM_INT, 3072, 3, 65536,
	 "MiB read plus written per iteration (copy: 2 arrays of mib/2, triad: 3 of mib/3)"},
};

/* Everything one variant owns. */
struct mem_bw {
	int triad, dev;
	unsigned blocks;             /* grid of the triad */
	cudaStream_t stream;
	uint64_t seed;
	size_t n;                    /* elements per array, even */
	double *a, *b, *c;
	unsigned long long *bad;     /* device mismatch counter */
	char gpu[256];
	aisp_error *err;             /* ctx->err: where failures are explained */
};

/* a = b + 3c, two elements per thread and step. */
static __global__ void mem_bw_triad(double2 *a, const double2 *b, const double2 *c, size_t n2)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n2;
	     i += (size_t)gridDim.x * blockDim.x) {
		double2 x = b[i], y = c[i];

		a[i] = make_double2(x.x + 3.0 * y.x, x.y + 3.0 * y.y);
	}
}

/* *bad += elements of a that differ from the copy's or the triad's value. */
static __global__ void mem_bw_check(const double *a, size_t n, uint64_t seed, int triad,
				    unsigned long long *bad)
{
	unsigned long long mine = 0;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		double want = qual_int_value(qual_hash(seed, 1, i));

		if (triad)
			want += 3.0 * qual_int_value(qual_hash(seed, 2, i));
		mine += !(a[i] == want);
	}
	if (mine)
		atomicAdd(bad, mine);
}

/* One iteration on the stream; never synchronizes. */
static aisp_err mem_bw_run(void *state)
{
	struct mem_bw *m = (struct mem_bw *)state;

	if (!m->triad)
		return qual_cuda(m->err, cudaMemcpyAsync(m->a, m->b, m->n * sizeof(double),
							 cudaMemcpyDeviceToDevice, m->stream),
				 "mem_bw: cudaMemcpyAsync D2D");
	mem_bw_triad<<<m->blocks, QUAL_THREADS, 0, m->stream>>>(
		(double2 *)m->a, (const double2 *)m->b, (const double2 *)m->c, m->n / 2);
	return qual_cuda(m->err, cudaGetLastError(), "mem_bw: triad launch");
}

/* Free everything setup made; state may be NULL or half-built. */
static void mem_bw_teardown(void *state)
{
	struct mem_bw *m = (struct mem_bw *)state;

	if (!m)
		return;
	if (m->stream)
		cudaStreamSynchronize(m->stream);
	cudaFree(m->a);
	cudaFree(m->b);
	cudaFree(m->c);
	cudaFree(m->bad);
	free(m);
}

/* Allocate the arrays and fill the inputs on the device from the seed. */
static aisp_err mem_bw_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state, int triad)
{
	struct mem_bw *m = (struct mem_bw *)calloc(1, sizeof(*m));
	struct cudaDeviceProp prop;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!m)
		return AISP_ENOMEM;
	m->triad = triad;
	m->dev = ctx->device;
	m->stream = (cudaStream_t)ctx->stream;
	m->seed = ctx->seed;
	m->err = ctx->err;
	m->n = (size_t)(p->v[0] * QUAL_MIB / (triad ? 24.0 : 16.0)) & ~(size_t)1;
	m->blocks = qual_blocks(m->dev, m->n / 2);
	if (cudaGetDeviceProperties(&prop, ctx->device) == cudaSuccess)
		snprintf(m->gpu, sizeof(m->gpu), "%s", prop.name);
	if (cudaMalloc((void **)&m->a, m->n * sizeof(double)) != cudaSuccess ||
	    cudaMalloc((void **)&m->b, m->n * sizeof(double)) != cudaSuccess ||
	    (triad && cudaMalloc((void **)&m->c, m->n * sizeof(double)) != cudaSuccess) ||
	    cudaMalloc((void **)&m->bad, sizeof(*m->bad)) != cudaSuccess)
		goto fail;
	qual_fill_int<<<qual_blocks(m->dev, m->n), QUAL_THREADS, 0, m->stream>>>(m->b, m->n,
										    m->seed, 1);
	if (triad)
		qual_fill_int<<<qual_blocks(m->dev, m->n), QUAL_THREADS, 0, m->stream>>>(
			m->c, m->n, m->seed, 2);
	rc = AISP_EDEVICE;
	if (cudaGetLastError() != cudaSuccess || cudaStreamSynchronize(m->stream) != cudaSuccess)
		goto fail;
	*state = m;
	return AISP_OK;
fail:
	mem_bw_teardown(m);
	return qual_fail(ctx->err, rc, "mem_bw setup (allocate, fill)");
}

static aisp_err mem_bw_setup_copy(const struct aisp_ctx *ctx, const struct aisp_params *p,
				  void **state)
{
	return mem_bw_setup(ctx, p, state, 0);
}

static aisp_err mem_bw_setup_triad(const struct aisp_ctx *ctx, const struct aisp_params *p,
				   void **state)
{
	return mem_bw_setup(ctx, p, state, 1);
}

/* Poison a, run once, count wrong elements on the device. */
static aisp_err mem_bw_verify(void *state, struct aisp_check *out)
{
	struct mem_bw *m = (struct mem_bw *)state;
	struct qual_peak pk = qual_peak_of(m->gpu);
	unsigned long long bad = 0;
	aisp_err rc;

	if (cudaMemsetAsync(m->a, 0xff, m->n * sizeof(double), m->stream) != cudaSuccess ||
	    cudaMemsetAsync(m->bad, 0, sizeof(*m->bad), m->stream) != cudaSuccess)
		return qual_fail(m->err, AISP_EDEVICE, "mem_bw verify: poison");
	if ((rc = mem_bw_run(m)))
		return rc;
	mem_bw_check<<<qual_blocks(m->dev, m->n), QUAL_THREADS, 0, m->stream>>>(
		m->a, m->n, m->seed, m->triad, m->bad);
	if (cudaGetLastError() != cudaSuccess ||
	    cudaMemcpyAsync(&bad, m->bad, sizeof(bad), cudaMemcpyDeviceToHost, m->stream) ||
	    cudaStreamSynchronize(m->stream) != cudaSuccess)
		return qual_fail(m->err, AISP_EDEVICE, "mem_bw verify: run and check");
	out->rel_error = (double)bad / (double)m->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s, %d arrays of %.0f MiB: %llu of %zu doubles wrong; bytes read + written; "
		 "datasheet HBM peak %.0f GB/s (%s)",
		 m->triad ? "triad a = b + 3c" : "copy a = b", m->triad ? 3 : 2,
		 (double)m->n * 8.0 / QUAL_MIB, bad, m->n, pk.hbm_gbs, pk.model);
	return AISP_OK;
}

/* Bytes read plus written per iteration (as the host twin). */
static double mem_bw_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_variant mem_bw_variants[] = {
	{"baseline_copy", AISP_ROLE_BASELINE, "cudaMemcpyAsync device to device (read + write)",
	 mem_bw_setup_copy, mem_bw_run, mem_bw_verify, mem_bw_teardown},
	{"optimized_triad", AISP_ROLE_OPTIMIZED, "STREAM triad kernel a = b + 3c, double2 accesses",
	 mem_bw_setup_triad, mem_bw_run, mem_bw_verify, mem_bw_teardown},
};

extern "C" const struct aisp_target qual_mem_bw_cuda = {
	AISP_ABI_VERSION,
	"qual:mem_bw",
	AISP_BACKEND_CUDA,
	"memory bandwidth: copy and triad well past L2 (bytes/s)",
	"throughput",
	mem_bw_params,
	sizeof(mem_bw_params) / sizeof(mem_bw_params[0]),
	mem_bw_variants,
	sizeof(mem_bw_variants) / sizeof(mem_bw_variants[0]),
	mem_bw_bytes,
	"bytes",
	mem_bw_bytes,
	NULL,
	0,
};
