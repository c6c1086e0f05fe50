/*
 * pcie_host.c - qual:pcie on the host: copies between two host buffers
 * standing in for pinned host memory and device memory.
 *
 *   baseline_h2d   "device" = "host"   (memcpy, host to device direction)
 *   optimized_d2h  "host" = "device"   (the other direction)
 * The roles are structural (compare judges d2h against h2d on the same
 * GPU). Work is the bytes crossing the link once per iteration (mib MiB);
 * unlike qual:mem_bw, a transfer counts its bytes once, not read + written.
 *
 * The source holds 64-bit words qual_hash(seed, 3, i); verify poisons the
 * destination, copies once and checks every word.
 */
#include "aisp.h"

#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

/* Same table as pcie.cu except the default. */
static const struct aisp_param pcie_params[] = {
	{"mib", AISP_PARAM_INT, 64, 1, 65536, "MiB copied per iteration"},
};

/* Everything one variant owns. */
struct pcie {
	int d2h;              /* 0: host to device, 1: device to host */
	int knob;
	uint64_t seed;
	size_t n;             /* 64-bit words */
	uint64_t *host, *dev; /* the two ends */
};

/* One copy in the variant's direction, stretched by the knob. */
static aisp_err pcie_run(void *state)
{
	struct pcie *c = state;
	double t0 = c->knob > 0 ? qual_now() : 0.0;

	if (c->d2h)
		memcpy(c->host, c->dev, c->n * sizeof(uint64_t));
	else
		memcpy(c->dev, c->host, c->n * sizeof(uint64_t));
	qual_stretch(c->knob, t0);
	return AISP_OK;
}

/* Free everything setup made; state may be NULL or half-built. */
static void pcie_teardown(void *state)
{
	struct pcie *c = state;

	if (!c)
		return;
	free(c->host);
	free(c->dev);
	free(c);
}

/* Allocate both ends; fill the source with the hash, poison the other. */
static aisp_err pcie_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state, int d2h)
{
	struct pcie *c = calloc(1, sizeof(*c));
	uint64_t *src, *dst;

	*state = NULL;
	if (!c)
		return AISP_ENOMEM;
	c->d2h = d2h;
	c->knob = ctx->test_knob;
	c->seed = ctx->seed;
	c->n = (size_t)(p->v[0] * QUAL_MIB / 8.0);
	c->host = malloc(c->n * sizeof(uint64_t));
	c->dev = malloc(c->n * sizeof(uint64_t));
	if (!c->host || !c->dev) {
		pcie_teardown(c);
		return AISP_ENOMEM;
	}
	src = d2h ? c->dev : c->host;
	dst = d2h ? c->host : c->dev;
	for (size_t i = 0; i < c->n; i++) {
		src[i] = qual_hash(c->seed, 3, i);
		dst[i] = ~src[i];
	}
	*state = c;
	return AISP_OK;
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

/* Poison the destination, copy once, check every word against the hash. */
static aisp_err pcie_verify(void *state, struct aisp_check *out)
{
	struct pcie *c = state;
	uint64_t *dst = c->d2h ? c->host : c->dev;
	size_t bad = 0;
	aisp_err rc;

	for (size_t i = 0; i < c->n; i++)
		dst[i] = ~qual_hash(c->seed, 3, i);
	if ((rc = pcie_run(c)))
		return rc;
	for (size_t i = 0; i < c->n; i++)
		bad += dst[i] != qual_hash(c->seed, 3, i);
	out->rel_error = (double)bad / (double)c->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s copy of %.1f MiB between host buffers: %zu of %zu words wrong; "
		 "host backend: no link (gen/width in gpu facts on CUDA)",
		 c->d2h ? "d2h" : "h2d", (double)c->n * 8.0 / QUAL_MIB, bad, c->n);
	return AISP_OK;
}

/* Bytes crossing the link per iteration. */
static double pcie_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_variant pcie_variants[] = {
	{"baseline_h2d", AISP_ROLE_BASELINE, "host to device copy (host: memcpy)",
	 pcie_setup_h2d, pcie_run, pcie_verify, pcie_teardown},
	{"optimized_d2h", AISP_ROLE_OPTIMIZED, "device to host copy (host: memcpy)",
	 pcie_setup_d2h, pcie_run, pcie_verify, pcie_teardown},
};

const struct aisp_target qual_pcie_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:pcie",
	.backend = AISP_BACKEND_HOST,
	.description = "pinned host<->device copy bandwidth, both directions (bytes/s)",
	.goal = "throughput",
	.params = pcie_params,
	.n_params = sizeof(pcie_params) / sizeof(pcie_params[0]),
	.variants = pcie_variants,
	.n_variants = sizeof(pcie_variants) / sizeof(pcie_variants[0]),
	.work = pcie_bytes,
	.work_unit = "bytes",
	.bytes = pcie_bytes,
};
