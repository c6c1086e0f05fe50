/*
 * test_registry.c - the registry's contract, in every build: every target
 * has a host twin; twins share one card (the target's header): a CUDA
 * twin's card says what its host twin's says (name, text, parameters with
 * both backends' defaults and ranges, work per iteration at the defaults);
 * every default of every backend is valid, so the CUDA defaults are
 * checked even where no CUDA twin is built; a twin's variants are named
 * once, the baseline first, each with its functions; test targets join
 * with registry_extend, which refuses a repeat or another ABI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "registry.h"

extern const struct aisp_target *const aisp_test_targets[];

/* 1 when x and y are the same number (NaN equal to NaN). */
static int same(double x, double y)
{
	return x == y || (isnan(x) && isnan(y));
}

/* f at p, or NAN when the card has no f. */
static double eval(double (*f)(const struct aisp_params *), const struct aisp_params *p)
{
	return f ? f(p) : NAN;
}

/* Fail unless cards a and b say the same: name, text, parameters, and the
 * work, bytes and flops they give for each backend's defaults. */
static void cards_agree(const struct aisp_target *ta, const struct aisp_target *tb)
{
	const struct aisp_card *a = ta->card, *b = tb->card;

	assert_string_equal(a->name, b->name);
	assert_string_equal(a->description, b->description);
	assert_string_equal(a->goal, b->goal);
	assert_string_equal(a->work_unit ? a->work_unit : "", b->work_unit ? b->work_unit : "");
	assert_int_equal(a->test_only, b->test_only);
	assert_int_equal(a->n_params, b->n_params);
	for (size_t i = 0; i < a->n_params; i++) {
		const struct aisp_param *x = &a->params[i], *y = &b->params[i];

		if (strcmp(x->name, y->name) || x->type != y->type || x->min != y->min ||
		    x->max != y->max || strcmp(x->help, y->help) ||
		    x->def[AISP_BACKEND_HOST] != y->def[AISP_BACKEND_HOST] ||
		    x->def[AISP_BACKEND_CUDA] != y->def[AISP_BACKEND_CUDA])
			fail_msg("%s: parameter %zu (%s) differs between twins", a->name, i, x->name);
	}
	for (int be = 0; be < AISP_N_BACKENDS; be++) {
		struct aisp_params p = {.n = a->n_params};

		for (size_t i = 0; i < a->n_params; i++)
			p.v[i] = a->params[i].def[be];
		if (!same(eval(a->work, &p), eval(b->work, &p)) ||
		    !same(eval(a->bytes, &p), eval(b->bytes, &p)) ||
		    !same(eval(a->flops, &p), eval(b->flops, &p)))
			fail_msg("%s: work, bytes or flops differ between twins", a->name);
	}
}

/* Fail unless every default of every backend is in range and typed. */
static void defaults_valid(const struct aisp_card *c)
{
	assert_true(c->n_params <= AISP_MAX_PARAMS);
	for (size_t i = 0; i < c->n_params; i++)
		for (int be = 0; be < AISP_N_BACKENDS; be++) {
			const struct aisp_param *x = &c->params[i];
			double d = x->def[be];

			if (!(d >= x->min && d <= x->max) ||
			    (x->type == AISP_PARAM_INT && d != floor(d)))
				fail_msg("%s: %s default %g (backend %d) is not a valid value",
					 c->name, x->name, d, be);
		}
}

/* Fail unless t's variants are named once each, the baseline first, and
 * each has setup, run and verify (teardown is optional). */
static void variants_sound(const struct aisp_target *t)
{
	assert_true(t->n_variants > 0);
	assert_int_equal(t->variants[0].role, AISP_ROLE_BASELINE);
	for (size_t v = 0; v < t->n_variants; v++) {
		const struct aisp_ops *o = t->variants[v].ops;

		assert_int_equal(registry_variant_index(t, t->variants[v].name), (int)v);
		if (!o || !o->setup || !o->run || !o->verify)
			fail_msg("%s %s: a function is missing", t->card->name,
				 t->variants[v].name);
	}
}

static void test_twins_share_one_card(void **st)
{
	const struct aisp_target *const *all = registry_all();
	size_t cuda = 0;

	(void)st;
	for (size_t i = 0; all[i]; i++) {
		const struct aisp_target *t = all[i], *host;

		assert_int_equal(t->abi_version, AISP_ABI_VERSION);
		assert_non_null(t->card);
		assert_ptr_equal(registry_find(t->card->name, t->backend), t);
		host = registry_find(t->card->name, AISP_BACKEND_HOST);
		if (!host)
			fail_msg("%s has no host twin", t->card->name);
		cards_agree(t, host);
		defaults_valid(t->card);
		variants_sound(t);
		cuda += t->backend == AISP_BACKEND_CUDA;
	}
#ifdef AISP_HAVE_CUDA
	assert_true(cuda > 0);
#else
	assert_int_equal(cuda, 0);
#endif
}

static void test_find_and_suggest(void **st)
{
	(void)st;
	assert_non_null(registry_find("ch01:gemm", AISP_BACKEND_HOST));
	assert_null(registry_find("ch01:gemn", AISP_BACKEND_HOST));
	assert_string_equal(registry_suggest("ch01:gemn"), "ch01:gemm");
	assert_null(registry_suggest("zzzzzzzzzzzzzzzzzzzzzzzz"));
}

/* Test targets join once; a repeat or another ABI is refused. */
static void test_extend(void **st)
{
	static const struct aisp_card card = {.name = "test:other_abi"};
	static const struct aisp_target other = {AISP_ABI_VERSION + 1, &card, AISP_BACKEND_HOST};
	const struct aisp_target *const bad[] = {&other, NULL};
	aisp_error e = {0};

	(void)st;
	assert_null(registry_find("test:axpy", AISP_BACKEND_HOST));
	assert_int_equal(registry_extend(aisp_test_targets, &e), AISP_OK);
	assert_non_null(registry_find("test:axpy", AISP_BACKEND_HOST));
	assert_int_equal(registry_extend(aisp_test_targets, &e), AISP_EINTERNAL);
	assert_non_null(strstr(e.msg, "added twice"));
	assert_int_equal(registry_extend(bad, &e), AISP_EINTERNAL);
	assert_non_null(strstr(e.msg, "ABI"));
	test_twins_share_one_card(st); /* the test targets keep the contract too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twins_share_one_card),
		cmocka_unit_test(test_find_and_suggest),
		cmocka_unit_test(test_extend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
