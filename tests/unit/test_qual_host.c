/*
 * test_qual_host.c - the host twins of the qual chapter through the
 * registry: every variant sets up, verifies and runs on small parameters;
 * health fails with its reason on a planted bad threshold; nccl reports
 * itself skipped; the input values are what the checks rely on (non-zero
 * integers, exact GEMM inputs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qual.h"
#include "registry.h"
#include "test_ctx.h"

/* The host twin of name with its defaults, small values set by name=value pairs. */
static const struct aisp_target *twin(const char *name, struct aisp_params *p,
				      const char *const *set, const double *val, int nset)
{
	const struct aisp_target *t = registry_find(name, AISP_BACKEND_HOST);
	aisp_error err = {0};

	assert_non_null(t);
	aisp_params_defaults(t, p);
	for (int i = 0; i < nset; i++) {
		int k = aisp_param_index(t, set[i]);

		assert_true(k >= 0);
		p->v[k] = val[i];
	}
	assert_int_equal(aisp_params_validate(t, p, &err), AISP_OK);
	return t;
}

/* Set up variant vi, verify into c, run once more, tear down. */
static void check_variant(const struct aisp_target *t, size_t vi, const struct aisp_params *p,
			  struct aisp_check *c)
{
	const struct aisp_ops *ops = t->variants[vi].ops;
	struct aisp_ctx ctx;
	void *state = NULL;

	memset(c, 0, sizeof(*c));
	test_ctx_open(&ctx, 42);
	assert_int_equal(test_setup(&ctx, t, vi, p, &state), AISP_OK);
	assert_non_null(state);
	assert_int_equal(ops->verify(state, c), AISP_OK);
	assert_int_equal(ops->run(state), AISP_OK);
	if (ops->teardown)
		ops->teardown(state);
	test_ctx_close(&ctx);
}

/* Every variant of name passes its check and is not skipped. */
static void all_pass(const char *name, const char *const *set, const double *val, int nset)
{
	struct aisp_params p;
	const struct aisp_target *t = twin(name, &p, set, val, nset);

	assert_true(t->n_variants >= 1);
	assert_string_equal(t->variants[0].name, t->variants[0].role == AISP_ROLE_BASELINE
			    ? t->variants[0].name : "first variant must be the baseline");
	for (size_t i = 0; i < t->n_variants; i++) {
		struct aisp_check c;

		check_variant(t, i, &p, &c);
		if (!c.passed || c.skipped)
			fail_msg("%s %s: %s", name, t->variants[i].name, c.message);
	}
	assert_non_null(t->card->work);
	assert_true(t->card->work(&p) > 0);
}

static void test_mem_bw(void **st)
{
	static const char *const k[] = {"mib"};
	static const double v[] = {3};

	(void)st;
	all_pass("qual:mem_bw", k, v, 1);
}

static void test_gemm_peak(void **st)
{
	static const char *const k[] = {"n"};
	static const double v[] = {70}; /* partial 64-blocks */

	(void)st;
	all_pass("qual:gemm_peak", k, v, 1);
}

static void test_launch(void **st)
{
	static const char *const k[] = {"launches"};
	static const double v[] = {1000};

	(void)st;
	all_pass("qual:launch", k, v, 1);
}

static void test_pcie(void **st)
{
	static const char *const k[] = {"mib"};
	static const double v[] = {1};

	(void)st;
	all_pass("qual:pcie", k, v, 1);
}

static void test_health_ok(void **st)
{
	static const char *const k[] = {"n", "load_ms"};
	static const double v[] = {32, 1};

	(void)st;
	all_pass("qual:health", k, v, 2);
}

/* A threshold no machine meets (all memory free) fails, naming the fact. */
static void test_health_planted_bad(void **st)
{
	static const char *const k[] = {"n", "load_ms", "min_mem_free_pct"};
	static const double v[] = {32, 1, 100};
	struct aisp_params p;
	const struct aisp_target *t = twin("qual:health", &p, k, v, 3);
	struct aisp_check c;

	(void)st;
	check_variant(t, 0, &p, &c);
	assert_false(c.passed);
	assert_false(c.skipped);
	assert_non_null(strstr(c.message, "unhealthy"));
	assert_non_null(strstr(c.message, "mem_free_pct"));
	assert_non_null(strstr(c.message, "< 100"));
}

static void test_nccl_skipped(void **st)
{
	static const char *const k[] = {"mib"};
	static const double v[] = {1};
	struct aisp_params p;
	const struct aisp_target *t = twin("qual:nccl", &p, k, v, 1);
	struct aisp_check c;

	(void)st;
	check_variant(t, 0, &p, &c);
	assert_int_equal(c.skipped, 1);
	assert_non_null(strstr(c.message, "no GPUs"));
}

/* Bandwidth inputs are non-zero integers in [-1024, 1024]; GEMM inputs
 * are +-{0.5..1.75} in steps of 1/8 at most, exact in float. */
static void test_input_values(void **st)
{
	(void)st;
	for (uint64_t i = 0; i < 100000; i++) {
		double x = qual_int_value(qual_hash(7, 1, i)), g = qual_gemm_value(qual_hash(7, 2, i));

		assert_true(x != 0.0 && fabs(x) <= 1024.0 && x == floor(x));
		assert_true(fabs(g) >= 0.5 && fabs(g) <= 1.75 && g * 8.0 == floor(g * 8.0));
	}
	assert_true(qual_hash(1, 1, 0) != qual_hash(1, 2, 0));
	assert_true(qual_hash(1, 1, 0) != qual_hash(2, 1, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_bw),
		cmocka_unit_test(test_gemm_peak),
		cmocka_unit_test(test_launch),
		cmocka_unit_test(test_pcie),
		cmocka_unit_test(test_health_ok),
		cmocka_unit_test(test_health_planted_bad),
		cmocka_unit_test(test_nccl_skipped),
		cmocka_unit_test(test_input_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
