/*
 * nccl_host.c - qual:nccl on the host: there are no GPUs to all-reduce
 * across, so verify reports the variant skipped (not failed) and the
 * harness records status "skipped". It keeps the CUDA twin's parameters
 * so one job file serves both backends. run is never timed; it honours the
 * test knob like every qual twin all the same.
 */
#include "aisp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

/* Same table as nccl.cu except the default. */
static const struct aisp_param nccl_params[] = {
	{"mib", AISP_PARAM_INT, 64, 1, 16384, "MiB all-reduced per GPU per iteration (float32)"},
};

/* What setup keeps: only the knob. */
struct nccl_host {
	int knob;
};

/* Nothing to do; stretched by the knob like the other twins. */
static aisp_err nccl_run(void *state)
{
	struct nccl_host *s = state;

	qual_stretch(s->knob, qual_now());
	return AISP_OK;
}

static aisp_err nccl_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state)
{
	struct nccl_host *s = calloc(1, sizeof(*s));

	(void)p;
	*state = s;
	if (!s)
		return AISP_ENOMEM;
	s->knob = ctx->test_knob;
	return AISP_OK;
}

/* Report skipped: a host has no GPUs and no NCCL communicator. */
static aisp_err nccl_verify(void *state, struct aisp_check *out)
{
	(void)state;
	out->rel_error = NAN;
	out->tolerance = NAN;
	out->passed = 1;
	out->skipped = 1;
	snprintf(out->message, sizeof(out->message),
		 "host backend has no GPUs to all-reduce across");
	return AISP_OK;
}

static void nccl_teardown(void *state)
{
	free(state);
}

/* Bytes all-reduced per GPU per iteration (algorithm bandwidth). */
static double nccl_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_variant nccl_variants[] = {
	{"baseline_allreduce", AISP_ROLE_BASELINE, "NCCL all-reduce (sum, float32) over the node's GPUs",
	 nccl_setup, nccl_run, nccl_verify, nccl_teardown},
};

const struct aisp_target qual_nccl_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:nccl",
	.backend = AISP_BACKEND_HOST,
	.description = "all-reduce bus bandwidth over the node's GPUs (skipped with one GPU or none)",
	.goal = "throughput",
	.params = nccl_params,
	.n_params = sizeof(nccl_params) / sizeof(nccl_params[0]),
	.variants = nccl_variants,
	.n_variants = sizeof(nccl_variants) / sizeof(nccl_variants[0]),
	.work = nccl_bytes,
	.work_unit = "bytes",
	.bytes = nccl_bytes,
};
