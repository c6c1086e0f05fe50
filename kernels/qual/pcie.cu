/*
 * pcie.cu - qual:pcie on CUDA (pcie.h): pinned host <-> device copies,
 *   baseline_h2d   cudaMemcpyAsync from pinned host memory to the device
 *   optimized_d2h  cudaMemcpyAsync from the device to pinned host memory
 * Verify checks every word (on the device for h2d, on the host for d2h).
 * The message gives the link generation and width the harness reports now
 * (aisp_facts; the rank file's gpu_before/gpu_after have the same facts)
 * and the raw per-direction rate they allow.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pcie.h"
#include "qual_cuda.cuh"

/* Everything one variant owns. */
struct pcie {
	const struct pcie_dir *dir;
	const struct aisp_ctx *ctx;     /* for the link facts */
	int dev;
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

	if (c->dir->d2h)
		return qual_cuda(c->err, cudaMemcpyAsync(c->host, c->devp, c->n * 8,
							 cudaMemcpyDeviceToHost, c->stream),
				 "pcie: cudaMemcpyAsync D2H");
	return qual_cuda(c->err, cudaMemcpyAsync(c->devp, c->host, c->n * 8, cudaMemcpyHostToDevice,
						 c->stream),
			 "pcie: cudaMemcpyAsync H2D");
}

/* Free the pinned buffer (the rest is the harness's); state may be half-built. */
static void pcie_teardown(void *state)
{
	struct pcie *c = (struct pcie *)state;

	if (c->stream)
		cudaStreamSynchronize(c->stream);
	cudaFreeHost(c->host);
}

/* Pinned and device buffers; the source filled from the hash. */
static aisp_err pcie_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state)
{
	struct pcie *c = (struct pcie *)aisp_alloc(ctx, sizeof(*c));
	struct cudaDeviceProp prop;
	aisp_err rc = AISP_ENOMEM;

	*state = NULL;
	if (!c)
		return AISP_ENOMEM;
	c->dir = (const struct pcie_dir *)ctx->variant->arg;
	c->ctx = ctx;
	c->dev = ctx->device;
	c->stream = (cudaStream_t)ctx->stream;
	c->seed = ctx->seed;
	c->err = ctx->err;
	c->n = (size_t)(pcie_bytes(p) / 8.0);
	if (cudaGetDeviceProperties(&prop, ctx->device) == cudaSuccess)
		snprintf(c->gpu, sizeof(c->gpu), "%s", prop.name);
	c->devp = (uint64_t *)aisp_device_alloc(ctx, c->n * 8);
	c->bad = (unsigned long long *)aisp_device_alloc(ctx, sizeof(*c->bad));
	if (!c->devp || !c->bad || cudaHostAlloc((void **)&c->host, c->n * 8, cudaHostAllocDefault))
		goto fail;
	rc = AISP_EDEVICE;
	if (c->dir->d2h) {
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

/* Link generation and width of the device now (0 when unknown). */
static void pcie_link(const struct pcie *c, int *gen, int *width)
{
	struct aisp_facts f;

	*gen = *width = 0;
	if (aisp_facts(c->ctx, &f) == AISP_OK && f.pcie_gen > 0 && f.pcie_width > 0) {
		*gen = (int)f.pcie_gen;
		*width = (int)f.pcie_width;
	}
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

	if (c->dir->d2h)
		memset(c->host, 0xff, c->n * 8);
	else if (cudaMemsetAsync(c->devp, 0xff, c->n * 8, c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: poison");
	if (cudaMemsetAsync(c->bad, 0, sizeof(*c->bad), c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: reset counter");
	if ((rc = pcie_run(c)))
		return rc;
	if (!c->dir->d2h)
		qual_check_words<<<qual_blocks(c->dev, c->n), QUAL_THREADS, 0, c->stream>>>(
			c->devp, c->n, c->seed, 3, c->bad);
	if (cudaGetLastError() ||
	    cudaMemcpyAsync(&bad, c->bad, sizeof(bad), cudaMemcpyDeviceToHost, c->stream) ||
	    cudaStreamSynchronize(c->stream))
		return qual_fail(c->err, AISP_EDEVICE, "pcie verify: copy and check");
	if (c->dir->d2h)
		bad = pcie_check_host(c);
	pcie_link(c, &gen, &width);
	out->rel_error = (double)bad / (double)c->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s %.0f MiB pinned: %llu of %zu words wrong; link Gen%d x%d (%.1f GB/s raw per "
		 "direction); datasheet %.0f GB/s (%s)",
		 c->dir->name, (double)c->n * 8.0 / QUAL_MIB, bad, c->n, gen, width,
		 pcie_raw_gbs(gen, width), qual_peak_of(c->gpu).pcie_gbs, qual_peak_of(c->gpu).model);
	return AISP_OK;
}

static const struct aisp_ops pcie_ops = {pcie_setup, pcie_run, pcie_verify, pcie_teardown};

static const struct aisp_variant pcie_variants[] = {
	{"baseline_h2d", AISP_ROLE_BASELINE, "cudaMemcpyAsync pinned host to device", &pcie_ops,
	 &pcie_h2d},
	{"optimized_d2h", AISP_ROLE_OPTIMIZED, "cudaMemcpyAsync device to pinned host", &pcie_ops,
	 &pcie_d2h},
};

extern "C" const struct aisp_target qual_pcie_cuda = {AISP_ABI_VERSION, &pcie_card,
						       AISP_BACKEND_CUDA, AISP_LIST(pcie_variants)};
