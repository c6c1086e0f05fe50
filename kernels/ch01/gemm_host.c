/* gemm_host.c - ch01:gemm on the host (STUB: filled in by the host-kernels work). */
#include "aisp.h"

static const struct aisp_param gemm_params[] = {
	{"m", AISP_PARAM_INT, 32, 1, 8192, "rows of A and C"},
	{"n", AISP_PARAM_INT, 256, 1, 8192, "columns of B and C"},
	{"k", AISP_PARAM_INT, 256, 1, 8192, "columns of A, rows of B"},
	{"batch", AISP_PARAM_INT, 40, 1, 4096, "independent GEMMs per iteration"},
};

const struct aisp_target ch01_gemm_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "ch01:gemm",
	.backend = AISP_BACKEND_HOST,
	.description = "40 independent FP32 GEMMs: separate calls vs batched vs strided batched",
	.goal = "speed",
	.params = gemm_params,
	.n_params = sizeof(gemm_params) / sizeof(gemm_params[0]),
};
