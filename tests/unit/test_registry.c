/*
 * test_registry.c - the registry's contract: every target has a host twin,
 * and a CUDA twin has the same parameters as its host twin (names, order,
 * types, ranges; defaults may differ, e.g. GPU-sized shapes), because job
 * files are validated against the host twin's table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "registry.h"

/* 0 when a and b declare the same parameters; else the index that differs + 1. */
static size_t params_differ(const struct aisp_target *a, const struct aisp_target *b)
{
	if (a->n_params != b->n_params)
		return a->n_params + 1;
	for (size_t i = 0; i < a->n_params; i++) {
		const struct aisp_param *x = &a->params[i], *y = &b->params[i];

		if (strcmp(x->name, y->name) || x->type != y->type || x->min != y->min ||
		    x->max != y->max)
			return i + 1;
	}
	return 0;
}

static void test_every_target_has_a_host_twin_with_its_params(void **st)
{
	const struct aisp_target *const *all = registry_all();

	(void)st;
	for (size_t i = 0; all[i]; i++) {
		const struct aisp_target *t = all[i], *host;

		assert_int_equal(t->abi_version, AISP_ABI_VERSION);
		assert_true(t->n_variants > 0 && t->variants[0].role == AISP_ROLE_BASELINE);
		host = registry_find(t->name, AISP_BACKEND_HOST);
		assert_non_null(host);
		if (params_differ(t, host))
			fail_msg("%s: the %s twin's parameter %zu differs from the host twin's",
				 t->name, t->backend == AISP_BACKEND_CUDA ? "cuda" : "host",
				 params_differ(t, host) - 1);
		for (size_t p = 0; p < t->n_params; p++)
			assert_true(t->params[p].def >= t->params[p].min &&
				    t->params[p].def <= t->params[p].max);
	}
}

static void test_find_and_suggest(void **st)
{
	(void)st;
	assert_non_null(registry_find("ch01:gemm", AISP_BACKEND_HOST));
	assert_null(registry_find("ch01:gemn", AISP_BACKEND_HOST));
	assert_string_equal(registry_suggest("ch01:gemn"), "ch01:gemm");
	assert_null(registry_suggest("zzzzzzzzzzzzzzzzzzzzzzzz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_target_has_a_host_twin_with_its_params),
		cmocka_unit_test(test_find_and_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
