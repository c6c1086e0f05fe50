/* fault_host.c - test-only target test:fault (STUB: filled in by the host-kernels work). */
#include "aisp.h"

static const struct aisp_param fault_params[] = {
	{"mode", AISP_PARAM_INT, 0, 0, 6, "0 ok, 1 crash, 2 hang, 3 abort, 4 alloc failure, 5 slow, 6 verify failure"},
	{"ms", AISP_PARAM_REAL, 1, 0, 60000, "time one iteration takes"},
};

const struct aisp_target test_fault_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "test:fault",
	.backend = AISP_BACKEND_HOST,
	.description = "test-only fault target",
	.goal = "speed",
	.params = fault_params,
	.n_params = sizeof(fault_params) / sizeof(fault_params[0]),
	.test_only = 1,
};
