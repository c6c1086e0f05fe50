/*
 * mem_bw.cu - qual:mem_bw on CUDA (mem_bw.h): device memory bandwidth
 *   baseline_copy    cudaMemcpyAsync device to device, 2 arrays
 *   optimized_triad  grid-stride kernel, double2 loads, 3 arrays
 * (default mib 3072: 1.5 GiB arrays for the copy, 1 GiB for the triad).
 *
 * Verify poisons a (NaN), runs once and counts on the device the elements
 * that differ from the value recomputed from the hash. The message quotes
 * the datasheet peak (qual.h) so that throughput / peak is the share of
 * the HBM peak.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mem_bw.h"
#include "qual_cuda.cuh"

/* Everything one variant owns. */
struct mem_bw {
	const struct mem_bw_kind *kind;
	int dev;
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
	     i += (size_t)gridDim.x * blockDim.x)
		mine += !(a[i] == mem_bw_want(seed, triad, i));
	if (mine)
		atomicAdd(bad, mine);
}

/* One iteration on the stream; never synchronizes. */
static aisp_err mem_bw_run(void *state)
{
	struct mem_bw *m = (struct mem_bw *)state;

	if (!m->kind->triad)
		return qual_cuda(m->err, cudaMemcpyAsync(m->a, m->b, m->n * sizeof(double),
							 cudaMemcpyDeviceToDevice, m->stream),
				 "mem_bw: cudaMemcpyAsync D2D");
	mem_bw_triad<<<m->blocks, QUAL_THREADS, 0, m->stream>>>(
		(double2 *)m->a, (const double2 *)m->b, (const double2 *)m->c, m->n / 2);
	return qual_cuda(m->err, cudaGetLastError(), "mem_bw: triad launch");
}

/* Arrays from the harness; the inputs filled on the device from the seed. */
static aisp_err mem_bw_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct mem_bw *m = (struct mem_bw *)aisp_alloc(ctx, sizeof(*m));
	struct cudaDeviceProp prop;

	if (!m)
		return AISP_ENOMEM;
	m->kind = (const struct mem_bw_kind *)ctx->variant->arg;
	m->dev = ctx->device;
	m->stream = (cudaStream_t)ctx->stream;
	m->seed = ctx->seed;
	m->err = ctx->err;
	m->n = mem_bw_elements(p, m->kind);
	m->blocks = qual_blocks(m->dev, m->n / 2);
	if (cudaGetDeviceProperties(&prop, ctx->device) == cudaSuccess)
		snprintf(m->gpu, sizeof(m->gpu), "%s", prop.name);
	m->a = (double *)aisp_device_alloc(ctx, m->n * sizeof(double));
	m->b = (double *)aisp_device_alloc(ctx, m->n * sizeof(double));
	m->c = m->kind->triad ? (double *)aisp_device_alloc(ctx, m->n * sizeof(double)) : NULL;
	m->bad = (unsigned long long *)aisp_device_alloc(ctx, sizeof(*m->bad));
	if (!m->a || !m->b || (m->kind->triad && !m->c) || !m->bad)
		return AISP_ENOMEM;
	qual_fill_int<<<qual_blocks(m->dev, m->n), QUAL_THREADS, 0, m->stream>>>(m->b, m->n,
										    m->seed, 1);
	if (m->kind->triad)
		qual_fill_int<<<qual_blocks(m->dev, m->n), QUAL_THREADS, 0, m->stream>>>(
			m->c, m->n, m->seed, 2);
	if (cudaGetLastError() != cudaSuccess || cudaStreamSynchronize(m->stream) != cudaSuccess)
		return qual_fail(ctx->err, AISP_EDEVICE, "mem_bw setup (fill)");
	*state = m;
	return AISP_OK;
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
		m->a, m->n, m->seed, m->kind->triad, m->bad);
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
		 m->kind->what, m->kind->arrays, (double)m->n * 8.0 / QUAL_MIB, bad, m->n,
		 pk.hbm_gbs, pk.model);
	return AISP_OK;
}

static const struct aisp_ops mem_bw_ops = {mem_bw_setup, mem_bw_run, mem_bw_verify};

static const struct aisp_variant mem_bw_variants[] = {
	{"baseline_copy", AISP_ROLE_BASELINE, "cudaMemcpyAsync device to device (read + write)",
	 &mem_bw_ops, &mem_bw_kind_copy},
	{"optimized_triad", AISP_ROLE_OPTIMIZED, "STREAM triad kernel a = b + 3c, double2 accesses",
	 &mem_bw_ops, &mem_bw_kind_triad},
};

extern "C" const struct aisp_target qual_mem_bw_cuda = {AISP_ABI_VERSION, &mem_bw_card,
							 AISP_BACKEND_CUDA,
							 AISP_LIST(mem_bw_variants)};
