/* registry.c - the target registry: the only global table in aisp. */
#include "registry.h"

#include <string.h>

#include "text.h"

extern const struct aisp_target ch01_gemm_host;
extern const struct aisp_target ch01_performance_host;
extern const struct aisp_target test_fault_host;
extern const struct aisp_target qual_mem_bw_host;
extern const struct aisp_target qual_gemm_peak_host;
extern const struct aisp_target qual_launch_host;
extern const struct aisp_target qual_pcie_host;
extern const struct aisp_target qual_health_host;
extern const struct aisp_target qual_nccl_host;
#ifdef AISP_HAVE_CUDA
extern const struct aisp_target ch01_gemm_cuda;
extern const struct aisp_target ch01_performance_cuda;
extern const struct aisp_target qual_mem_bw_cuda;
extern const struct aisp_target qual_gemm_peak_cuda;
extern const struct aisp_target qual_launch_cuda;
extern const struct aisp_target qual_pcie_cuda;
extern const struct aisp_target qual_health_cuda;
extern const struct aisp_target qual_nccl_cuda;
#endif

static const struct aisp_target *const registry[] = {
	&ch01_gemm_host,
	&ch01_performance_host,
	&qual_mem_bw_host,
	&qual_gemm_peak_host,
	&qual_launch_host,
	&qual_pcie_host,
	&qual_health_host,
	&qual_nccl_host,
#ifdef AISP_HAVE_CUDA
	&ch01_gemm_cuda,
	&ch01_performance_cuda,
	&qual_mem_bw_cuda,
	&qual_gemm_peak_cuda,
	&qual_launch_cuda,
	&qual_pcie_cuda,
	&qual_health_cuda,
	&qual_nccl_cuda,
#endif
	&test_fault_host,
	NULL,
};

const struct aisp_target *const *registry_all(void)
{
	return registry;
}

const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b)
{
	for (size_t i = 0; registry[i]; i++)
		if (registry[i]->backend == b && !strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

int registry_variant_index(const struct aisp_target *t, const char *name)
{
	for (size_t i = 0; i < t->n_variants; i++)
		if (!strcmp(t->variants[i].name, name))
			return (int)i;
	return -1;
}

const char *registry_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; registry[i]; i++) {
		if (registry[i]->test_only)
			continue;
		size_t d = text_edit_distance(name, registry[i]->name);
		if (d < best_d) {
			best_d = d;
			best = registry[i]->name;
		}
	}
	return best_d <= strlen(name) / 2 + 2 ? best : NULL;
}
