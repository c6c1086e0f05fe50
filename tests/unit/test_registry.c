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
 * each has setup, run and verify (teardown is optional), or, a CUDA twin
 * from the catalog before the plug-in is loaded, none (test_plugin). */
static void variants_sound(const struct aisp_target *t)
{
	assert_true(t->n_variants > 0);
	assert_int_equal(t->variants[0].role, AISP_ROLE_BASELINE);
	for (size_t v = 0; v < t->n_variants; v++) {
		const struct aisp_ops *o = t->variants[v].ops;
		const char *tech = t->variants[v].technique;

		/* the rank file holds the text whole: never cut on the way */
		if (tech && strlen(tech) >= AISP_TEXT_MAX)
			fail_msg("%s %s: technique text over %d bytes", t->card->name,
				 t->variants[v].name, AISP_TEXT_MAX - 1);

		assert_int_equal(registry_variant_index(t, t->variants[v].name), (int)v);
		if (!o && t->backend == AISP_BACKEND_CUDA)
			continue;
		if (!o || !o->setup || !o->run || !o->verify)
			fail_msg("%s %s: a function is missing", t->card->name,
				 t->variants[v].name);
	}
}

static void test_twins_share_one_card(void **st)
{
	const struct aisp_target *const *all = registry_all();
	aisp_error e = {0};
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
		if (registry_twins_agree(t, host, 0, &e))
			fail_msg("%s", e.msg);
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

/* Twice the bytes of qual:mem_bw (a twin that counts its work otherwise). */
static double double_bytes(const struct aisp_params *p)
{
	return 2.0 * p->v[0] * 1024.0 * 1024.0;
}

/* registry_twins_agree sees a drifted default, text or work count. */
static void test_twins_agree_detects_drift(void **st)
{
	const struct aisp_target *t = registry_find("qual:mem_bw", AISP_BACKEND_HOST);
	struct aisp_param params[AISP_MAX_PARAMS];
	struct aisp_card card;
	struct aisp_target twin;
	aisp_error e = {0};

	(void)st;
	assert_non_null(t);
	assert_true(t->card->n_params <= AISP_MAX_PARAMS);
	twin = *t;
	twin.card = &card;
	card = *t->card;
	memcpy(params, t->card->params, t->card->n_params * sizeof(params[0]));
	card.params = params;
	assert_int_equal(registry_twins_agree(t, &twin, 1, &e), AISP_OK);
	params[0].def[AISP_BACKEND_CUDA] += 1;
	assert_int_equal(registry_twins_agree(t, &twin, 1, &e), AISP_EINTERNAL);
	assert_non_null(strstr(e.msg, "parameter 0 (mib) differs"));
	params[0] = t->card->params[0];
	card.description = "another workload";
	assert_int_equal(registry_twins_agree(t, &twin, 1, &e), AISP_EINTERNAL);
	card.description = t->card->description;
	card.work = double_bytes;
	assert_int_equal(registry_twins_agree(t, &twin, 1, &e), AISP_EINTERNAL);
	assert_non_null(strstr(e.msg, "work, bytes or flops differ"));
}

/* 1 when variant var of target name is one a verdict judges by device
 * time: the CUDA twins whose median is bound by the host's launch path. */
static int launch_bound(const char *name, const char *var)
{
	static const char *const flagged[][2] = {
		{"ch01:gemm", "baseline_gemm"}, {"ch01:gemm", "optimized_gemm_batched"},
		{"ch01:gemm", "optimized_gemm_strided"}, {"qual:launch", "baseline_stream"},
	};

	for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++)
		if (!strcmp(flagged[i][0], name) && !strcmp(flagged[i][1], var))
			return 1;
	return 0;
}

/* AISP_VARIANT_HOST_LAUNCH: set on exactly the launch-bound CUDA variants
 * (the catalog carries it), never on a host twin (test targets aside:
 * test:axpy flags one to carry it through a host run); twins of one backend
 * must agree on it, twins of two backends need not. */
static void test_host_launch_flags(void **st)
{
	const struct aisp_target *const *all = registry_all();
	const struct aisp_target *h = registry_find("qual:launch", AISP_BACKEND_HOST);
	struct aisp_variant vars[8];
	struct aisp_target twin;
	aisp_error e = {0};
	size_t n = 0;

	(void)st;
	for (size_t i = 0; all[i]; i++)
		for (size_t v = 0; !all[i]->card->test_only && v < all[i]->n_variants; v++) {
			const struct aisp_variant *x = &all[i]->variants[v];
			int want = all[i]->backend == AISP_BACKEND_CUDA &&
				   launch_bound(all[i]->card->name, x->name);

			if (!!(x->flags & AISP_VARIANT_HOST_LAUNCH) != want)
				fail_msg("%s %s (backend %d): host_launch %u, want %d",
					 all[i]->card->name, x->name, all[i]->backend, x->flags, want);
			n += want;
		}
#ifdef AISP_HAVE_CUDA
	assert_int_equal(n, 4);
#else
	assert_int_equal(n, 0);
#endif
	assert_non_null(h);
	assert_true(h->n_variants <= 8);
	memcpy(vars, h->variants, h->n_variants * sizeof(vars[0]));
	twin = *h;
	twin.variants = vars;
	assert_int_equal(registry_twins_agree(h, &twin, 1, &e), AISP_OK);
	vars[0].flags = AISP_VARIANT_HOST_LAUNCH;
	assert_int_equal(registry_twins_agree(h, &twin, 0, &e), AISP_OK);
	assert_int_equal(registry_twins_agree(h, &twin, 1, &e), AISP_EINTERNAL);
	assert_non_null(strstr(e.msg, "variant baseline_stream differs"));
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
		cmocka_unit_test(test_twins_agree_detects_drift),
		cmocka_unit_test(test_host_launch_flags),
		cmocka_unit_test(test_find_and_suggest),
		cmocka_unit_test(test_extend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
