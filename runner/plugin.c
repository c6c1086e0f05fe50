/*
 * plugin.c - backends by kind: the host one is built in; the CUDA one is
 * lib/aisp-cuda.so, opened with dlopen by the worker that uses it, so that
 * the dispatcher, list-targets, gather, compare, report and the ranks
 * never map cudart, cuBLAS or CUPTI. The registry already knows the CUDA
 * twins from its catalog (generated from the plug-in at build time); on
 * load they are replaced by the plug-in's own, which must match.
 */
#include "backend.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "text.h"

#define PLUGIN_CUDA_NAME "aisp-cuda.so"

void backend_cuda_path(char *buf, size_t n)
{
	static const char *const beside[] = {"lib", "../lib/aisp", "../lib"};
	const char *env = getenv("AISP_CUDA_LIB");
	char exe[PATH_MAX], alt[PATH_MAX + 32];
	ssize_t len;

	if (env && *env) {
		text_copy(buf, n, env);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	dirname(exe);
	snprintf(buf, n, "%s/lib/" PLUGIN_CUDA_NAME, exe);
	for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		snprintf(alt, sizeof(alt), "%s/%s/" PLUGIN_CUDA_NAME, exe, beside[i]);
		if (!access(alt, F_OK)) {
			text_copy(buf, n, alt);
			return;
		}
	}
}

int backend_cuda_present(void)
{
	char path[PATH_MAX + 32];

	if (!registry_has_backend(AISP_BACKEND_CUDA))
		return 0;
	backend_cuda_path(path, sizeof(path));
	return access(path, R_OK) == 0;
}

aisp_err backend_load_path(const char *path, const struct aisp_backend_ops **be,
			   aisp_error *err)
{
	const struct aisp_plugin *(*entry)(void);
	const struct aisp_plugin *pl;
	aisp_error why = {0};
	void *lib;

	*be = NULL;
	if (access(path, R_OK))
		return aisp_fail(err, AISP_EDEVICE, "CUDA backend %s is missing (it is built and "
				 "installed beside the aisp binary; --backend host runs without it)",
				 path);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return aisp_fail(err, AISP_EDEVICE, "CUDA backend %s does not load: %s", path,
				 dlerror());
	*(void **)&entry = dlsym(lib, "aisp_cuda_plugin");
	pl = entry ? entry() : NULL;
	if (!pl || pl->abi_version != AISP_ABI_VERSION || !pl->ops || !pl->twins) {
		dlclose(lib);
		return aisp_fail(err, AISP_EDEVICE, "CUDA backend %s: no aisp_cuda_plugin of ABI %d",
				 path, AISP_ABI_VERSION);
	}
	if (registry_attach(AISP_BACKEND_CUDA, pl->twins, &why)) {
		dlclose(lib);
		return aisp_fail(err, AISP_EDEVICE, "CUDA backend %s was built from other sources "
				 "than this aisp: %.600s", path, why.msg);
	}
	*be = pl->ops; /* the library stays loaded for the life of the process */
	return AISP_OK;
}

aisp_err backend_load(enum aisp_backend_kind kind, const struct aisp_backend_ops **be,
		      aisp_error *err)
{
	char path[PATH_MAX + 32];

	*be = NULL;
	if (kind == AISP_BACKEND_HOST) {
		*be = &backend_host;
		return AISP_OK;
	}
	if (kind != AISP_BACKEND_CUDA || !registry_has_backend(AISP_BACKEND_CUDA))
		return aisp_fail(err, AISP_EUSAGE, "this aisp was built without CUDA "
				 "(rebuild on a machine with nvcc)");
	backend_cuda_path(path, sizeof(path));
	return backend_load_path(path, be, err);
}
