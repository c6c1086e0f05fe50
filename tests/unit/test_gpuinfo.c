/*
 * test_gpuinfo.c - runner/gpuinfo.c without a GPU: the CUDA_VISIBLE_DEVICES
 * mapping (indices, UUID prefixes, CUDA's stop-at-first-invalid rule), the
 * no-NVML path (0 GPUs, reads fail cleanly) and the host stand-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuinfo.h"
#include "test_gpu.h"

static const char uuids[4][96] = {
	"GPU-8f2a0000-1111-2222-3333-444444444444",
	"GPU-8f2b0000-1111-2222-3333-444444444444",
	"GPU-c0de0000-1111-2222-3333-444444444444",
	"GPU-d00d0000-1111-2222-3333-444444444444",
};

/* Map cvd over the four UUIDs above; return the count, map in m. */
static int map(const char *cvd, int *m)
{
	return gpuinfo_map_visible(cvd, uuids, 4, m, GPUINFO_MAX_GPUS);
}

static void test_unset_is_identity(void **st)
{
	int m[GPUINFO_MAX_GPUS];

	(void)st;
	assert_int_equal(map(NULL, m), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(m[i], i);
	assert_int_equal(gpuinfo_map_visible(NULL, uuids, 4, m, 2), 2);
}

static void test_indices_reorder(void **st)
{
	int m[GPUINFO_MAX_GPUS];

	(void)st;
	assert_int_equal(map("2, 0", m), 2);
	assert_int_equal(m[0], 2);
	assert_int_equal(m[1], 0);
	assert_int_equal(map("", m), 0);
}

static void test_uuid_prefixes(void **st)
{
	int m[GPUINFO_MAX_GPUS];

	(void)st;
	assert_int_equal(map("GPU-d00d,GPU-8f2b0000-1111-2222-3333-444444444444", m), 2);
	assert_int_equal(m[0], 3);
	assert_int_equal(m[1], 1);
	/* "GPU-8f2" matches two devices: ambiguous, so invalid */
	assert_int_equal(map("GPU-8f2", m), 0);
}

static void test_first_invalid_ends_list(void **st)
{
	int m[GPUINFO_MAX_GPUS];

	(void)st;
	assert_int_equal(map("1,7,2", m), 1);   /* 7 is out of range */
	assert_int_equal(m[0], 1);
	assert_int_equal(map("3,3,0", m), 1);   /* a repeat is invalid */
	assert_int_equal(map("0,MIG-abc,1", m), 1);
	assert_int_equal(map("1x", m), 0);
	assert_int_equal(map("-1,0", m), 0);
}

/* Without libnvidia-ml (this machine, CI) open succeeds with 0 GPUs. */
static void test_no_nvml_zero_gpus(void **st)
{
	struct gpuinfo *gi = NULL;
	struct gpu_facts f;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(gpuinfo_open(&gi, &e), AISP_OK);
	assert_non_null(gi);
	assert_int_equal(gpuinfo_count(gi), 0);
	assert_int_equal(gpuinfo_read(gi, 0, &f, &e), AISP_EDEVICE);
	assert_int_equal(f.valid, 0);
	assert_non_null(strstr(e.msg, "ordinal 0"));
	gpuinfo_close(gi);
	assert_int_equal(gpuinfo_count(NULL), 0);
	gpuinfo_close(NULL);
}

static void test_host_facts(void **st)
{
	struct gpu_facts f;

	(void)st;
	gpuinfo_host("node7", 3, &f);
	assert_int_equal(f.valid, 1);
	assert_int_equal(f.index, 3);
	assert_int_equal(f.nvml_index, -1);
	assert_string_equal(f.uuid, "cpu-node7-3");
	assert_string_equal(f.driver, "none");
	assert_true(strlen(f.name) > 0);
}

/* test_no_nvml_zero_gpus only where there is no GPU (test_gpu.h): a
 * left-out test is named, never skipped (CI fails on skips). */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_is_identity),
		cmocka_unit_test(test_indices_reorder),
		cmocka_unit_test(test_uuid_prefixes),
		cmocka_unit_test(test_first_invalid_ends_list),
		cmocka_unit_test(test_host_facts),
		cmocka_unit_test(test_no_nvml_zero_gpus), /* last: left out with a GPU */
	};
	size_t n = sizeof(tests) / sizeof(tests[0]);

	if (test_machine_has_gpu()) {
		printf("test_gpuinfo: a GPU here: test_no_nvml_zero_gpus left out\n");
		n--;
	}
	return _cmocka_run_group_tests("test_gpuinfo", tests, n, NULL, NULL);
}
