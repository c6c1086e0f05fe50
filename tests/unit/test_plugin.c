/*
 * test_plugin.c - the CUDA backend as a plug-in (runner/plugin.c), in
 * every build:
 *  - a binary without CUDA says so; a missing or foreign plug-in file is
 *    refused with its path and the reason, and nothing is loaded;
 *  - in a CUDA build (AISP_TEST_PLUGIN: build/lib/aisp-cuda.so): the
 *    registry knows every CUDA twin from the catalog before any load (names,
 *    variants, the host twin's card; no ops); loading the plug-in (no GPU
 *    needed) puts its twins in their place, each agreeing with the catalog;
 *    a twin list that differs from the catalog is refused and changes
 *    nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "registry.h"

static void test_missing_and_foreign(void **st)
{
	const struct aisp_backend_ops *be = NULL;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(backend_load(AISP_BACKEND_HOST, &be, &e), AISP_OK);
	assert_ptr_equal(be, &backend_host);
	assert_int_equal(backend_load_path("/nonexistent/aisp-cuda.so", &be, &e), AISP_EDEVICE);
	assert_null(be);
	assert_non_null(strstr(e.msg, "/nonexistent/aisp-cuda.so is missing"));
	assert_int_equal(backend_load_path("Makefile", &be, &e), AISP_EDEVICE);
	assert_non_null(strstr(e.msg, "does not load"));
#ifndef AISP_HAVE_CUDA
	assert_int_equal(backend_load(AISP_BACKEND_CUDA, &be, &e), AISP_EUSAGE);
	assert_non_null(strstr(e.msg, "built without CUDA"));
	assert_false(registry_has_backend(AISP_BACKEND_CUDA));
#endif
}

#ifdef AISP_HAVE_CUDA
extern const struct registry_catalog registry_cuda_catalog[];

/* Every catalog twin is in the registry, with the host twin's card, and
 * runs on nothing yet (no ops) or, once loaded, on the plug-in's. */
static void check_cuda_twins(int loaded)
{
	size_t n = 0;

	for (size_t i = 0; registry_cuda_catalog[i].name; i++, n++) {
		const struct aisp_target *t = registry_find(registry_cuda_catalog[i].name,
							    AISP_BACKEND_CUDA);
		const struct aisp_target *h = registry_find(registry_cuda_catalog[i].name,
							    AISP_BACKEND_HOST);

		assert_non_null(t);
		assert_non_null(h);
		assert_int_equal(t->n_variants, registry_cuda_catalog[i].n_variants);
		assert_int_equal(registry_twins_agree(t, h, 0, NULL), AISP_OK);
		for (size_t v = 0; v < t->n_variants; v++)
			if (loaded != (t->variants[v].ops != NULL))
				fail_msg("%s %s: ops %s", t->card->name, t->variants[v].name,
					 loaded ? "missing after the load" : "before any load");
	}
	assert_true(n >= 8);
}

static void test_catalog_then_load(void **st)
{
	static const struct aisp_variant one[] = {{"baseline_x", AISP_ROLE_BASELINE, "x"}};
	const struct aisp_target *gemm = registry_find("ch01:gemm", AISP_BACKEND_CUDA);
	struct aisp_target changed = *gemm;
	const struct aisp_target *const bad[] = {&changed, NULL};
	const struct aisp_backend_ops *be = NULL;
	aisp_error e = {0};

	(void)st;
	check_cuda_twins(0);
	changed.variants = one;
	changed.n_variants = 1;
	assert_int_equal(registry_attach(AISP_BACKEND_CUDA, bad, &e), AISP_EINTERNAL);
	assert_ptr_equal(registry_find("ch01:gemm", AISP_BACKEND_CUDA), gemm); /* unchanged */
	assert_int_equal(backend_load_path(AISP_TEST_PLUGIN, &be, &e), AISP_OK);
	assert_non_null(be);
	assert_string_equal(be->name, "cuda");
	check_cuda_twins(1);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_and_foreign),
#ifdef AISP_HAVE_CUDA
		cmocka_unit_test(test_catalog_then_load),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
