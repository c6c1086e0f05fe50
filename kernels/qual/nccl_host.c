/*
 * nccl_host.c - qual:nccl on the host (nccl.h): there are no GPUs to
 * all-reduce across, so verify reports the variant skipped (not failed)
 * and the harness records status "skipped"; run is never timed.
 */
#include <math.h>
#include <stdio.h>

#include "nccl.h"

/* Nothing to set up: the state is a non-NULL token. */
static char nccl_token;

static aisp_err nccl_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			   void **state)
{
	(void)p;
	(void)ctx;
	*state = &nccl_token;
	return AISP_OK;
}

/* Nothing to do. */
static aisp_err nccl_run(void *state)
{
	(void)state;
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

/* Nothing to free. */
static void nccl_teardown(void *state)
{
	(void)state;
}

static const struct aisp_ops nccl_ops = {nccl_setup, nccl_run, nccl_verify, nccl_teardown};

static const struct aisp_variant nccl_variants[] = {
	{"baseline_allreduce", AISP_ROLE_BASELINE, "NCCL all-reduce (sum, float32) over the node's GPUs",
	 &nccl_ops},
};

const struct aisp_target qual_nccl_host = {AISP_ABI_VERSION, &nccl_card, AISP_BACKEND_HOST,
					   AISP_LIST(nccl_variants)};
