/*
 * pcie_host.c - qual:pcie on the host (pcie.h): copies between two host
 * buffers standing in for pinned host memory and device memory.
 */
#include <stdio.h>

#include "pcie.h"

/* Everything one variant owns. */
struct pcie {
	const struct pcie_dir *dir;
	uint64_t seed;
	size_t n;             /* 64-bit words */
	uint64_t *src, *dst;  /* "host" and "device" in the variant's direction */
};

/* One copy in the variant's direction. */
static aisp_err pcie_run(void *state)
{
	struct pcie *c = state;

	memcpy(c->dst, c->src, c->n * sizeof(uint64_t));
	return AISP_OK;
}

/* Both ends from the harness; the source filled with the hash. */
static aisp_err pcie_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state)
{
	struct pcie *c = aisp_alloc(ctx, sizeof(*c));

	if (!c)
		return AISP_ENOMEM;
	c->dir = ctx->variant->arg;
	c->seed = ctx->seed;
	c->n = (size_t)(pcie_bytes(p) / 8.0);
	c->src = aisp_alloc(ctx, c->n * sizeof(uint64_t));
	c->dst = aisp_alloc(ctx, c->n * sizeof(uint64_t));
	if (!c->src || !c->dst)
		return AISP_ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		c->src[i] = qual_hash(c->seed, 3, i);
	*state = c;
	return AISP_OK;
}

/* Poison the destination, copy once, check every word against the hash. */
static aisp_err pcie_verify(void *state, struct aisp_check *out)
{
	struct pcie *c = state;
	uint64_t *dst = c->dst;
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
		 c->dir->name, (double)c->n * 8.0 / QUAL_MIB, bad, c->n);
	return AISP_OK;
}

static const struct aisp_ops pcie_ops = {pcie_setup, pcie_run, pcie_verify};

static const struct aisp_variant pcie_variants[] = {
	{"baseline_h2d", AISP_ROLE_BASELINE, "host to device copy (host: memcpy)", &pcie_ops,
	 &pcie_h2d},
	{"optimized_d2h", AISP_ROLE_OPTIMIZED, "device to host copy (host: memcpy)", &pcie_ops,
	 &pcie_d2h},
};

const struct aisp_target qual_pcie_host = {AISP_ABI_VERSION, &pcie_card, AISP_BACKEND_HOST,
					   AISP_LIST(pcie_variants)};
