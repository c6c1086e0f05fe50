/*
 * test_backend_cuda.c - runner/backend_cuda.c where it is built (CUDA=1),
 * linked in (the plug-in's objects); test_plugin.c loads the plug-in.
 * Without a GPU (CI): open fails with the CUDA error's own text and close
 * is safe on the half-made context. With a GPU (test_gpu.h): open, an event-timed empty region,
 * counting with no launch (0 and 0), tracing (no call count), NVTX ranges,
 * close. Each machine registers only the tests that apply to it (a test that
 * cannot run there is not a skip: CI fails on skips); the line before
 * cmocka's says which were left out and where they run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "test_gpu.h"

#ifdef AISP_HAVE_CUDA
static void test_ops_table(void **st)
{
	(void)st;
	assert_ptr_equal(aisp_cuda_plugin()->ops, &backend_cuda);
	assert_int_equal(aisp_cuda_plugin()->abi_version, AISP_ABI_VERSION);
	assert_string_equal(backend_cuda.name, "cuda");
	assert_non_null(backend_cuda.count_begin);
	assert_non_null(backend_cuda.count_end);
	assert_non_null(backend_cuda.trace_begin);
	assert_non_null(backend_cuda.range_push);
	assert_non_null(backend_cuda.range_pop);
	assert_non_null(backend_cuda.mem_alloc);
	assert_non_null(backend_cuda.mem_free);
}

static void test_open_without_gpu_says_why(void **st)
{
	(void)st;
	struct aisp_ctx ctx = {0};
	aisp_error e = {0};

	assert_int_equal(backend_cuda.open(0, &ctx, &e), AISP_EDEVICE);
	assert_int_equal(e.code, AISP_EDEVICE);
	assert_non_null(strstr(e.msg, "cudaSetDevice"));
	assert_non_null(strstr(e.msg, "cudaError")); /* the runtime's own name */
	backend_cuda.close(&ctx);
	assert_null(ctx.priv);
	backend_cuda.close(&ctx); /* twice is fine */
}

static void test_gpu_time_and_count(void **st)
{
	(void)st;
	struct aisp_ctx ctx = {0};
	aisp_error e = {0};
	struct backend_count c;
	double ms = -1;

	assert_int_equal(backend_cuda.open(0, &ctx, &e), AISP_OK);
	assert_non_null(ctx.stream);
	assert_non_null(ctx.blas);
	backend_cuda.range_push(&ctx, "test_backend_cuda");
	assert_int_equal(backend_cuda.time_begin(&ctx, &e), AISP_OK);
	assert_int_equal(backend_cuda.time_end(&ctx, &ms, &e), AISP_OK);
	assert_true(ms >= 0.0 && ms < 100.0);
	assert_int_equal(backend_cuda.count_begin(&ctx, &e), AISP_OK);
	assert_int_equal(backend_cuda.count_begin(&ctx, &e), AISP_EINTERNAL);
	assert_int_equal(backend_cuda.count_end(&ctx, &c, &e), AISP_OK);
	assert_int_equal(c.api, 0);
	assert_int_equal(c.kernels, 0);
	assert_int_equal(c.ops, 0);
	assert_true(isnan(c.device_ms)); /* nothing ran: no device time */
	assert_string_equal(c.names, "");
	assert_int_equal(backend_cuda.count_end(&ctx, &c, &e), AISP_EINTERNAL);
	/* tracing: no launch calls counted (-1); again while on: forget, go on */
	assert_int_equal(backend_cuda.trace_begin(&ctx, &e), AISP_OK);
	assert_int_equal(backend_cuda.trace_begin(&ctx, &e), AISP_OK);
	assert_int_equal(backend_cuda.count_begin(&ctx, &e), AISP_EINTERNAL);
	assert_int_equal(backend_cuda.count_end(&ctx, &c, &e), AISP_OK);
	assert_int_equal(c.api, -1);
	assert_int_equal(c.ops, 0);
	backend_cuda.range_pop(&ctx);
	assert_int_equal(backend_cuda.sync(&ctx, &e), AISP_OK);
	backend_cuda.close(&ctx);
	assert_null(ctx.priv);
}

/* The tests that apply here: with a GPU the timed and counted region,
 * without one the open that says why; none in a build without CUDA. */
int main(void)
{
	const struct CMUnitTest with_gpu[] = {
		cmocka_unit_test(test_ops_table),
		cmocka_unit_test(test_gpu_time_and_count),
	};
	const struct CMUnitTest without_gpu[] = {
		cmocka_unit_test(test_ops_table),
		cmocka_unit_test(test_open_without_gpu_says_why),
	};

	if (test_machine_has_gpu())
		return cmocka_run_group_tests(with_gpu, NULL, NULL);
	printf("test_backend_cuda: no GPU here: test_gpu_time_and_count left out "
	       "(it runs where there is one: make test on a GPU node)\n");
	return cmocka_run_group_tests(without_gpu, NULL, NULL);
}
#else
int main(void)
{
	printf("test_backend_cuda: built without CUDA (CUDA=0): no CUDA backend to test\n");
	return 0;
}
#endif
