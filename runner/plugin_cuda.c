/*
 * plugin_cuda.c - the entry of the CUDA plug-in, lib/aisp-cuda.so: the
 * CUDA backend (backend_cuda.c) and the CUDA twin of every target
 * (runner/targets.def; the .cu files under kernels/). Built only with
 * CUDA=1, into the shared object alone; aisp_cuda_plugin is its one
 * exported symbol.
 */
#include "backend.h"

#define AISP_TARGET(x) extern const struct aisp_target x##_cuda;
#include "targets.def"
#undef AISP_TARGET

static const struct aisp_target *const cuda_twins[] = {
#define AISP_TARGET(x) &x##_cuda,
#include "targets.def"
#undef AISP_TARGET
	NULL,
};

static const struct aisp_plugin cuda_plugin = {AISP_ABI_VERSION, &backend_cuda, cuda_twins};

const struct aisp_plugin *aisp_cuda_plugin(void)
{
	return &cuda_plugin;
}
