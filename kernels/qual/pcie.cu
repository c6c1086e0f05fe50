/*
 * pcie.cu - qual:pcie on CUDA: pinned host <-> device copy bandwidth.
 *   baseline_h2d   cudaMemcpyAsync from pinned host memory to the device
 *   optimized_d2h  cudaMemcpyAsync from the device to pinned host memory
 * Work is the bytes crossing the link per iteration (mib MiB, counted once).
 * Roles are structural, as in the host twin (pcie_host.c).
 *
 * The source holds 64-bit words qual_hash(seed, 3, i); verify poisons the
 * destination, copies once and checks every word (on the device for h2d,
 * on the host for d2h). The message gives the link generation and width
 * NVML reports now (gpuinfo; the rank file's gpu_before/gpu_after have the
 * same facts) and the raw per-direction rate they allow.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual_cuda.cuh"

extern "C" {
#include "gpuinfo.h"
}

static const struct aisp_param pcie_params[] = {
	{"mib", AISP_PARAM_INT, 1024, 1, 65536, "MiB copied per iteration"},
};

/* Everything one variant owns. */
struct pcie {
	int d2h, dev;
	cudaStream_t stream;
	uint64_t seed;
	size_t n;               /* 64-bit words */
	uint64_t *host, *devp;  /* pinned host buffer, device buffer */
	unsigned long long *bad;
	char gpu[256];
	aisp_error *err;        /* ctx->err: where failures are explained */
};

/* One copy in the variant's direction; never synchronizes. */
static aisp_err pcie_run(void *state)
{
	struct pcie *c = (struct pcie *)state;

	if (c->d2h)
		return qual_cuda(c->err, cudaMemcpyAsync(c->host, c->devp, c->n * 8,
							 cudaMemcpyDeviceToHost, c->stream),
				 "pcie: cudaMemcpyAsync D2H");
	return qual_cuda(c->err, cudaMemcpyAsync(c->devp, c->host, c->n * 8, cudaMemcpyHostToDevice,
						 c->stream),
			 "pcie: cudaMemcpyAsync H2D");
}

/* Free everything setup made; state may be NULL or half-built. */
static void pcie_teardown(void *state)
{
	struct pcie *c = (struct pcie *)state;

	if (!c)
		return;
	if (c->stream)
		cudaStreamSynchronize(c->stream);
	cudaFreeHost(c->host);
	cudaFree(c->devp);
	cudaFree(c->bad);
	free(c);
}

/* Pinned and device buffers; the source filled from the hash. */
static aisp_err pcie_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state, int d2h)
{
	struct pcie *c = (struct pcie *)calloc(1, sizeof(*c));
	struct cudaDeviceProp prop;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!c)
		return AISP_ENOMEM;
	c->d2h = d2h;
	c->dev = ctx->device;
	c->stream = (cudaStream_t)ctx->stream;
	c->seed = ctx->seed;
	c->err = ctx->err;
	c->n = (size_t)(p->v[0] * QUAL_MIB / 8.0);
	if (cudaGetDeviceProperties(&prop, ctx->device) == cudaSuccess)
		snprintf(c->gpu, sizeof(c->gpu), "%s", prop.name);
	if (cudaHostAlloc((void **)&c->host, c->n * 8, cudaHostAllocDefault) ||
	    cudaMalloc((void **)&c->devp, c->n * 8) || cudaMalloc((void **)&c->bad, sizeof(*c->bad)))
		goto fail;
	rc = AISP_EDEVICE;
	if (d2h) {
		qual_fill_words<<<qual_blocks(c->dev, c->n), QUAL_THREADS, 0, c->stream>>>(
			c->devp, c->n, c->seed, 3);
		if (cudaGetLastError() || cudaStreamSynchronize(c->stream))
			goto fail;
	} else {
		for (size_t i = 0; i < c->n; i++)
			c->host[i] = qual_hash(c->seed, 3, i);
	}
	*state = c;
	return AISP_OK;
fail:
	pcie_teardown(c);
	return qual_fail(ctx->err, rc, "pcie setup (pinned and device buffers, fill)");
}

static aisp_err pcie_setup_h2d(const struct aisp_ctx *ctx, const struct aisp_params *p,
			       void **state)
{
	return pcie_setup(ctx, p, state, 0);
}

static aisp_err pcie_setup_d2h(const struct aisp_ctx *ctx, const struct aisp_params *p,
			       void **state)
{
	return pcie_setup(ctx, p, state, 1);
}

/* Link generation and width of device dev from NVML (0 when unknown). */
static void pcie_link(int dev, int *gen, int *width)
{
	struct gpuinfo *gi = NULL;
	struct gpu_facts f;

	*gen = *width = 0;
	memset(&f, 0, sizeof(f));
	if (gpuinfo_open(&gi, NULL) == AISP_OK && gpuinfo_read(gi, dev, &f, NULL) == AISP_OK) {
		*gen = f.pcie_gen;
		*width = f.pcie_width;
	}
	gpuinfo_close(gi);
}

/* Raw GB/s per direction of a PCIe link (transfer rate x encoding x lanes). */
static double pcie_raw_gbs(int gen, int width)
{
	static const double gts[] = {0, 2.5, 5, 8, 16, 32, 64};
	double enc = gen <= 2 ? 0.8 : 128.0 / 130.0;

	if (gen < 1 || gen > 6)
		return 0.0;
	return gts[gen] * enc * width / 8.0;
}

/* Words of the destination that differ from the hash (host side). */
static size_t pcie_check_host(const struct pcie *c)
{
	size_t bad = 0;

	for (size_t i = 0; i < c->n; i++)
		bad += c->host[i] != qual_hash(c->seed, 3, i);
	return bad;
}

/* Poison the destination, copy once, check every word. */
static aisp_err pcie_verify(void *state, struct aisp_check *out)
{
	struct pcie *c = (struct pcie *)state;
	unsigned long long bad = 0;
	int gen, width;
	aisp_err rc;

	if (c->d2h)
		memset(c->host, 0xff, c->n * 8);
	else if (cudaMemsetAsync(c->devp, 0xff, c->n * 8, c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: poison");
	if (cudaMemsetAsync(c->bad, 0, sizeof(*c->bad), c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: reset counter");
	if ((rc = pcie_run(c)))
		return rc;
	if (!c->d2h)
		qual_check_words<<<qual_blocks(c->dev, c->n), QUAL_THREADS, 0, c->stream>>>(
			c->devp, c->n, c->seed, 3, c->bad);
	if (cudaGetLastError() ||
	    cudaMemcpyAsync(&bad, c->bad, sizeof(bad), cudaMemcpyDeviceToHost, c->stream) ||
	    cudaStreamSynchronize(c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: copy and check");
	if (c->d2h)
		bad = pcie_check_host(c);
	pcie_link(c->dev, &gen, &width);
	out->rel_error = (double)bad / (double)c->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s %.0f MiB pinned: %llu of %zu words wrong; link Gen%d x%d (%.1f GB/s raw per "
		 "direction); datasheet %.0f GB/s (%s)",
		 c->d2h ? "d2h" : "h2d", (double)c->n * 8.0 / QUAL_MIB, bad, c->n, gen, width,
		 pcie_raw_gbs(gen, width), qual_peak_of(c->gpu).pcie_gbs, qual_peak_of(c->gpu).model);
	return AISP_OK;
}

/* Bytes crossing the link per iteration (as the host twin). */
static double pcie_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_variant pcie_variants[] = {
	{"baseline_h2d", AISP_ROLE_BASELINE, "cudaMemcpyAsync pinned host to device",
	 pcie_setup_h2d, pcie_run, pcie_verify, pcie_teardown},
	{"optimized_d2h", AISP_ROLE_OPTIMIZED, "cudaMemcpyAsync device to pinned host",
	 pcie_setup_d2h, pcie_run, pcie_verify, pcie_teardown},
};

extern "C" const struct aisp_target qual_pcie_cuda = {
	AISP_ABI_VERSION,
	"qual:pcie",
	AISP_BACKEND_CUDA,
	"pinned host<->device copy bandwidth, both directions (bytes/s)",
	"throughput",
	pcie_params,
	sizeof(pcie_params) / sizeof(pcie_params[0]),
	pcie_variants,
	sizeof(pcie_variants) / sizeof(pcie_variants[0]),
	pcie_bytes,
	"bytes",
	pcie_bytes,
	NULL,
	0,
};
