/* performance_host.c - ch01:performance on the host (STUB: filled in by the host-kernels work). */
#include "aisp.h"

static const struct aisp_param perf_params[] = {
	{"input", AISP_PARAM_INT, 128, 1, 65536, "input features"},
	{"hidden", AISP_PARAM_INT, 128, 1, 65536, "hidden size of both hidden layers"},
	{"classes", AISP_PARAM_INT, 10, 2, 1024, "output classes"},
	{"microbatch", AISP_PARAM_INT, 32, 1, 4096, "samples per microbatch"},
	{"microbatches", AISP_PARAM_INT, 16, 1, 4096, "microbatches per iteration"},
	{"accum", AISP_PARAM_INT, 8, 1, 4096, "microbatches per SGD step (fused group)"},
	{"lr", AISP_PARAM_REAL, 0.01, 1e-6, 1.0, "SGD learning rate"},
};

const struct aisp_target ch01_performance_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "ch01:performance",
	.backend = AISP_BACKEND_HOST,
	.description = "training-loop goodput: FP32 eager with gradient accumulation vs reduced precision with fused microbatches",
	.goal = "throughput",
	.params = perf_params,
	.n_params = sizeof(perf_params) / sizeof(perf_params[0]),
	.work_unit = "samples",
};
