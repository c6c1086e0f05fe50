/*
 * nccl.h - qual:nccl, what both twins share (nccl_host.c, nccl.cu): an
 * all-reduce (sum, float32) over the node's GPUs. Work is the bytes
 * all-reduced per GPU (mib MiB): throughput is the algorithm bandwidth.
 * The host twin has no GPUs and reports the variant skipped, keeping the
 * parameters so one job file serves both backends.
 */
#ifndef AISP_QUAL_NCCL_H
#define AISP_QUAL_NCCL_H

#include "aisp.h"
#include "qual.h"

static const struct aisp_param nccl_params[] = {
	{"mib", AISP_PARAM_INT, {64, 256}, 1, 16384,
	 "MiB all-reduced per GPU per iteration (float32)"},
};

/* Bytes all-reduced per GPU per iteration (algorithm bandwidth). */
static inline double nccl_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_card nccl_card = {
	.name = "qual:nccl",
	.description = "all-reduce bus bandwidth over the node's GPUs (skipped with one GPU or none)",
	.goal = "throughput", .params = nccl_params, .n_params = AISP_COUNT(nccl_params),
	.work = nccl_bytes, .work_unit = "bytes", .bytes = nccl_bytes,
};

#endif /* AISP_QUAL_NCCL_H */
