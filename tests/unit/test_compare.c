/* test_compare.c - verdict rules of compare on in-memory fleets against
 * expectations made by gather from a healthy reference fleet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "expect.h"
#include "fleet.h"
#include "gather.h"
#include "rankfile.h"

#define NG 5
#define NV 3
static const char *const vnames[NV] = {"base", "opt1", "opt2"};
static const char *const vroles[NV] = {"baseline", "optimized", "optimized"};
static const char *const nodes[NG] = {"n1", "n1", "n2", "n2", "n3"};
static const double healthy[NG][NV] = {
	{1.00, 0.100, 0.20}, {1.02, 0.101, 0.21}, {0.98, 0.099, 0.22},
	{1.01, 0.100, 0.20}, {0.99, 0.1005, 0.21},
};

/* A finished fleet of NG GPUs with medians m (NAN: absent, -2: skipped,
 * other negative values: crashed). */
static void make_fleet(struct fleet *f, const double m[NG][NV])
{
	aisp_error err = {0};

	fleet_init(f);
	for (int g = 0; g < NG; g++) {
		struct rankfile_root r = {0};
		struct rankfile_variant v[NV];
		size_t n = 0;

		r.rank = g;
		r.world_size = NG;
		snprintf(r.run_id, sizeof(r.run_id), "run");
		snprintf(r.node, sizeof(r.node), "%s", nodes[g]);
		snprintf(r.gpu_uuid, sizeof(r.gpu_uuid), "g%d", g + 1);
		snprintf(r.hardware_key, sizeof(r.hardware_key), "hk");
		snprintf(r.backend, sizeof(r.backend), "cuda");
		snprintf(r.status, sizeof(r.status), "complete");
		for (int i = 0; i < NV; i++) {
			if (isnan(m[g][i]))
				continue;
			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].instance, sizeof(v[n].instance), "ch01:gemm");
			snprintf(v[n].target, sizeof(v[n].target), "ch01:gemm");
			snprintf(v[n].variant, sizeof(v[n].variant), "%s", vnames[i]);
			snprintf(v[n].role, sizeof(v[n].role), "%s", vroles[i]);
			snprintf(v[n].status, sizeof(v[n].status), "%s", m[g][i] == -2 ? "skipped" :
				 m[g][i] < 0 ? "crashed" : "ok");
			v[n].n_samples = m[g][i] < 0 ? 0 : 20;
			v[n].median_ms = m[g][i] < 0 ? NAN : m[g][i];
			v[n].p10_ms = v[n].p75_ms = v[n].p90_ms = v[n].median_ms;
			v[n].work = v[n].bytes = v[n].flops = NAN;
			n++;
		}
		assert_int_equal(fleet_add_result(f, "d", &r, v, n, &err), AISP_OK);
	}
	assert_int_equal(fleet_finish(f, &err), AISP_OK);
}

/* Expectations gathered from the healthy fleet. */
static json_t *reference(void)
{
	struct fleet f;
	aisp_error err = {0};
	json_t *root = expect_new("hk");

	make_fleet(&f, healthy);
	assert_int_equal(gather_merge_examples(&f, f.insts[0].hk, root, NULL, &err), AISP_OK);
	if (expect_validate(root, "ref", &err) != AISP_OK)
		fail_msg("%s", err.msg);
	fleet_free(&f);
	return root;
}

/* Judge fleet m against exp with default options (tol_upper overrides). */
static void judge(const double m[NG][NV], const json_t *exp, double tol_upper,
		  struct fleet *f, struct compare_result *r)
{
	struct compare_opts o = {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, tol_upper, NULL};
	aisp_error err = {0};

	make_fleet(f, m);
	assert_int_equal(compare_fleet(f, exp, "exp", &o, r, &err), AISP_OK);
}

/* Verdict of item label on GPU gpu ("-" for the whole variant). */
static const struct compare_item *item(const struct fleet *f, const struct compare_result *r,
				       const char *label, const char *gpu)
{
	for (size_t i = 0; i < r->n_items; i++) {
		const struct compare_item *it = &r->items[i];
		const char *g = it->gpu == UINT32_MAX ? "-" : fleet_str(f, it->gpu);

		if (!strcmp(it->label, label) && !strcmp(g, gpu))
			return it;
	}
	fail_msg("no item %s on %s", label, gpu);
	return NULL;
}

/* Verdict of node name. */
static enum verdict node_verdict(const struct fleet *f, const struct compare_result *r,
				 const char *name)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!strcmp(fleet_str(f, r->nodes[i].id), name))
			return r->nodes[i].v;
	fail_msg("no node %s", name);
	return VERDICT_COUNT;
}

static void with(double m[NG][NV], int g, int v, double x)
{
	memcpy(m, healthy, sizeof(healthy));
	m[g][v] = x;
}

static void test_healthy_passes(void **state)
{
	json_t *exp = reference();
	struct compare_result r;
	struct fleet f;

	(void)state;
	judge(healthy, exp, NAN, &f, &r);
	assert_int_equal(r.counts[VERDICT_PASS], NG * NV);
	assert_int_equal(r.exit_status, 0);
	assert_int_equal(r.n_gpus, NG);
	assert_int_equal(r.n_nodes, 3);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

static void test_regressed_and_node(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	with(m, 4, 0, 1.5);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g5")->v, VERDICT_REGRESSED);
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/base", "g5")->reason, "+50.0%"));
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g4")->v, VERDICT_PASS);
	assert_int_equal(node_verdict(&f, &r, "n3"), VERDICT_REGRESSED);
	assert_int_equal(node_verdict(&f, &r, "n1"), VERDICT_PASS);
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

/* 20% slower: inside the 25% tolerance, far outside the stored spread. */
static void test_outlier_within_tolerance(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	with(m, 4, 0, 1.2);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g5")->v, VERDICT_OUTLIER);
	assert_true(item(&f, &r, "ch01:gemm/base", "g5")->z > 3.5);
	assert_int_equal(node_verdict(&f, &r, "n3"), VERDICT_OUTLIER);
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

static void test_improved_failed_missing(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	with(m, 0, 0, 0.7);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g1")->v, VERDICT_IMPROVED);
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);

	with(m, 2, 2, -1);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt2", "g3")->v, VERDICT_FAILED);
	assert_int_equal(node_verdict(&f, &r, "n2"), VERDICT_FAILED);
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);

	with(m, 2, 2, -2);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt2", "g3")->v, VERDICT_PASS);
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/opt2", "g3")->reason, "skipped"));
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);

	with(m, 3, 1, NAN);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g4")->v, VERDICT_MISSING);
	assert_int_equal(r.exit_status, 3);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

/* A variant the file expects but no GPU ran: missing, exit 3. */
static void test_missing_variant(void **state)
{
	json_t *exp = reference();
	json_t *vars = json_object_get(json_object_get(json_object_get(
		json_object_get(exp, "examples"), "gemm_cuda"), "fleet"), "variants");
	struct compare_result r;
	struct fleet f;

	(void)state;
	json_object_set_new(vars, "opt3", json_pack("{s:f}", "median_ms", 0.05));
	judge(healthy, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt3", "-")->v, VERDICT_MISSING);
	assert_int_equal(r.exit_status, 3);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

/* Time within a loose tolerance, but the speedup over the same GPU's
 * baseline fell by more than 25%: regressed. */
static void test_speedup_regression(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	with(m, 1, 0, 0.8);
	m[1][1] = 0.12;
	judge((const double (*)[NV])m, exp, 10.0, &f, &r);
	it = item(&f, &r, "ch01:gemm/opt1", "g2");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	assert_non_null(strstr(it->reason, "speedup"));
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g2")->v, VERDICT_PASS);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

/* The book's own schema (no fleet section) is judged from its metrics. */
static void test_book_schema(void **state)
{
	json_t *exp = json_pack("{s:i,s:s,s:{s:{s:s,s:s,s:{s:f,s:f,s:f},s:{s:s},s:{}}}}",
				"schema_version", 2, "hardware_key", "hk", "examples", "gemm_cuda",
				"example", "gemm", "type", "cuda", "metrics", "baseline_time_ms", 1.0,
				"best_optimized_time_ms", 0.1, "best_speedup", 10.0, "metadata",
				"best_optimization", "opt1", "provenance");
	aisp_error err = {0};
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	assert_int_equal(expect_validate(exp, "book", &err), AISP_OK);
	with(m, 4, 0, 1.5);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g5")->v, VERDICT_REGRESSED);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g1")->v, VERDICT_PASS);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt2", "g1")->v, VERDICT_PASS);
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/opt2", "g1")->reason, "no stored time"));
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

static void test_other_hardware(void **state)
{
	json_t *exp = expect_new("8x_b200");
	struct compare_opts o = {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, NAN, NULL};
	struct compare_result r;
	aisp_error err = {0};
	struct fleet f;

	(void)state;
	make_fleet(&f, healthy);
	assert_int_equal(compare_fleet(&f, exp, "x.json", &o, &r, &err), AISP_EINPUT);
	assert_non_null(strstr(err.msg, "x.json: hardware_key 8x_b200"));
	compare_result_free(&r);
	fleet_free(&f);
	json_decref(exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_passes),
		cmocka_unit_test(test_regressed_and_node),
		cmocka_unit_test(test_outlier_within_tolerance),
		cmocka_unit_test(test_improved_failed_missing),
		cmocka_unit_test(test_missing_variant),
		cmocka_unit_test(test_speedup_regression),
		cmocka_unit_test(test_book_schema),
		cmocka_unit_test(test_other_hardware),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
