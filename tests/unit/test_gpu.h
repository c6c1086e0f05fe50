/*
 * test_gpu.h - whether the machine running a unit test has an NVIDIA GPU,
 * so that each machine registers the tests that apply to it (a test that
 * cannot run here is left out and named, never skipped: CI fails on skips).
 */
#ifndef AISP_TEST_GPU_H
#define AISP_TEST_GPU_H

#include <stdlib.h>
#include <unistd.h>

/* 1 with a GPU: AISP_TEST_HAVE_GPU=1 or 0 says so; unset, the NVIDIA
 * kernel driver's /proc entry decides (independent of CUDA and NVML, the
 * code under test). */
static inline int test_machine_has_gpu(void)
{
	const char *v = getenv("AISP_TEST_HAVE_GPU");

	if (v && *v)
		return *v == '1';
	return access("/proc/driver/nvidia/version", F_OK) == 0;
}

#endif /* AISP_TEST_GPU_H */
