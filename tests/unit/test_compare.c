/* test_compare.c - the verdict engine on in-memory fleets against
 * expectations made by gather from a healthy reference fleet: siblings after
 * the common shift, the shift as a fleet finding, the small-fleet fallback,
 * noise floors, tolerance resolution, device facts, worst first. */
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
#include "job.h"
#include "rankfile.h"

#define NG 5
#define NV 3
static const char *const vnames[NV] = {"base", "opt1", "opt2"};
static const char *const vroles[NV] = {"baseline", "optimized", "optimized"};
static const char *const nodes[8] = {"n1", "n1", "n2", "n2", "n3", "n3", "n4", "n4"};
static const double healthy[NG][NV] = {
	{1.00, 0.100, 0.20}, {1.02, 0.101, 0.21}, {0.98, 0.099, 0.22},
	{1.01, 0.100, 0.20}, {0.99, 0.1005, 0.21},
};

/* Device facts of a healthy GPU, and of GPU throttled_gpu when >= 0. */
static int throttled_gpu = -1;

/* Host-launch-bound variants: launch_var (an index in vnames, -1 none) is
 * flagged, and every variant has a device time: 0.8 x its healthy median,
 * times the fleet's factor, times dev_factor[g] (NAN: none, as without
 * CUPTI), whatever its median does (the host's launch path). */
static int launch_var = -1;
static double dev_factor[8] = {1, 1, 1, 1, 1, 1, 1, 1};

/* Back to no host-launch-bound variant and steady device times. */
static void launch_reset(void)
{
	launch_var = -1;
	for (int g = 0; g < 8; g++)
		dev_factor[g] = 1.0;
}

static void facts_of(int g, struct rankfile_facts *a)
{
	memset(a, 0, sizeof(*a));
	a->valid = 1;
	a->sm_clock_mhz = a->max_sm_clock_mhz = 1980;
	a->temperature_c = 45;
	a->power_w = 400;
	a->power_limit_w = 700;
	a->pcie_gen = 5;
	a->pcie_width = 16;
	if (g == throttled_gpu) {
		a->sm_clock_mhz = 1100;
		a->throttle_reasons = 0x8 | 0x1; /* HW slowdown; idle is no fault */
	}
}

/* A finished fleet of the first ng GPUs of m, each scaled by x (NAN:
 * absent, -2: skipped, other negative values: crashed). */
static void make_fleet_n(struct fleet *f, const double m[][NV], int ng, double x)
{
	aisp_error err = {0};

	fleet_init(f);
	for (int g = 0; g < ng; g++) {
		struct rankfile_root r = {0};
		struct rankfile_variant v[NV];
		size_t n = 0;

		r.rank = g;
		r.world_size = ng;
		r.gpu_index = g % 2;
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
			snprintf(v[n].message, sizeof(v[n].message), "%s",
				 m[g][i] == -2 ? "no FP8 before sm_89" : "");
			snprintf(v[n].work_unit, sizeof(v[n].work_unit), "bytes");
			v[n].n_samples = m[g][i] < 0 ? 0 : 20;
			v[n].median_ms = m[g][i] < 0 ? NAN : m[g][i] * x;
			v[n].p10_ms = v[n].p75_ms = v[n].p90_ms = v[n].median_ms;
			v[n].mad_ms = 0.001 * v[n].median_ms;
			v[n].work = 4.2e9; /* bytes per iteration: 4.2 TB/s at 1 ms */
			v[n].bytes = v[n].flops = NAN;
			v[n].host_launch = i == launch_var;
			v[n].device_ms = m[g][i] < 0 ? NAN : 0.8 * healthy[g % NG][i] * x * dev_factor[g];
			facts_of(g, &v[n].before);
			facts_of(g, &v[n].after);
			n++;
		}
		assert_int_equal(fleet_add_result(f, "d", &r, v, n, &err), AISP_OK);
	}
	assert_int_equal(fleet_finish(f, &err), AISP_OK);
}

static void make_fleet(struct fleet *f, const double m[NG][NV])
{
	make_fleet_n(f, m, NG, 1.0);
}

/* Expectations gathered from the first ng GPUs of m. */
static json_t *reference_of(const double m[][NV], int ng)
{
	struct fleet f;
	aisp_error err = {0};
	json_t *root = expect_new("hk");

	make_fleet_n(&f, m, ng, 1.0);
	assert_int_equal(gather_merge_examples(&f, f.insts[0].hk, root, NULL, &err), AISP_OK);
	if (expect_validate(root, "ref", &err) != AISP_OK)
		fail_msg("%s", err.msg);
	fleet_free(&f);
	return root;
}

static json_t *reference_n(int ng)
{
	return reference_of(healthy, ng);
}

static json_t *reference(void)
{
	return reference_n(NG);
}

/* Judge the first ng GPUs of m scaled by x against exp (tol_upper: NAN or
 * an override). */
static void judge_n(const double m[][NV], int ng, double x, const json_t *exp, double tol_upper,
		    struct fleet *f, struct compare_result *r)
{
	struct compare_opts o = {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, tol_upper, NULL};
	aisp_error err = {0};

	make_fleet_n(f, m, ng, x);
	assert_int_equal(compare_fleet(f, exp, "exp", &o, r, &err), AISP_OK);
}

static void judge(const double m[NG][NV], const json_t *exp, double tol_upper,
		  struct fleet *f, struct compare_result *r)
{
	judge_n(m, NG, 1.0, exp, tol_upper, f, r);
}

/* Item label on GPU gpu ("-": the whole variant; "fleet": its finding). */
static const struct compare_item *item(const struct fleet *f, const struct compare_result *r,
				       const char *label, const char *gpu)
{
	for (size_t i = 0; i < r->n_items; i++) {
		const struct compare_item *it = &r->items[i];
		const char *g = it->fleet ? "fleet" : it->gpu == UINT32_MAX ? "-" :
				fleet_str(f, it->gpu);

		if (!strcmp(it->label, label) && !strcmp(g, gpu))
			return it;
	}
	fail_msg("no item %s on %s", label, gpu);
	return NULL;
}

/* Unit of node name. */
static const struct compare_unit *node(const struct fleet *f, const struct compare_result *r,
				       const char *name)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!strcmp(fleet_str(f, r->nodes[i].id), name))
			return &r->nodes[i];
	fail_msg("no node %s", name);
	return NULL;
}

/* 1 when a note of r holds text. */
static int has_note(const struct compare_result *r, const char *text)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strstr(r->notes[i], text))
			return 1;
	return 0;
}

/* Fail, showing text, unless text holds want. */
static void holds(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("'%s' does not hold '%s'", text, want);
}

static void with(double m[NG][NV], int g, int v, double x)
{
	memcpy(m, healthy, sizeof(healthy));
	m[g][v] = x;
}

static void done(struct fleet *f, struct compare_result *r, json_t *exp)
{
	compare_result_free(r);
	fleet_free(f);
	json_decref(exp);
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
	assert_int_equal(r.n_drain, 0);
	assert_int_equal(r.n_fleet, 0);
	assert_string_equal(node(&f, &r, "n1")->line, "n1: 6 items, all pass");
	done(&f, &r, exp);
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
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/base", "g5")->reason,
			       "+49.3% vs its siblings (median 1.005 ms of 4 GPUs"));
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g4")->v, VERDICT_PASS);
	assert_int_equal(node(&f, &r, "n3")->v, VERDICT_REGRESSED);
	assert_true(node(&f, &r, "n3")->drain);
	assert_int_equal(node(&f, &r, "n1")->v, VERDICT_PASS);
	assert_int_equal(r.nodes[r.order[0]].id, node(&f, &r, "n3")->id);
	assert_int_equal(r.n_drain, 1);
	assert_int_equal(r.exit_status, 1);
	done(&f, &r, exp);
}

/* 20% slower: inside the 25% tolerance, far outside the fleet spread. */
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
	assert_int_equal(node(&f, &r, "n3")->v, VERDICT_OUTLIER);
	assert_true(node(&f, &r, "n3")->drain);
	assert_int_equal(r.exit_status, 1);
	done(&f, &r, exp);
}

/* Every GPU 30% slower than the baseline: one fleet finding per variant,
 * exit 1, nobody drained. */
static void test_fleet_shift(void **state)
{
	json_t *exp = reference();
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	judge_n(healthy, NG, 1.3, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "fleet");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	assert_non_null(strstr(it->reason, "fleet-wide: median of 5 GPUs +30.0%"));
	assert_non_null(strstr(it->reason, "5 of 5 GPUs beyond the tolerance +25% (default)"));
	assert_non_null(strstr(it->reason, "not a node fault"));
	assert_int_equal(r.n_fleet, NV);
	for (size_t i = 0; i < r.n_gpus; i++)
		assert_int_equal(r.gpus[i].v, VERDICT_PASS);
	assert_int_equal(r.n_drain, 0);
	assert_int_equal(r.exit_status, 1);
	done(&f, &r, exp);
}

/* The shift, and g5 a further 25% slower: the finding, and only n3. */
static void test_fleet_shift_and_one_gpu(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	memcpy(m, healthy, sizeof(healthy));
	for (int v = 0; v < NV; v++)
		m[4][v] *= 1.25;
	judge_n((const double (*)[NV])m, NG, 1.3, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "fleet")->v, VERDICT_REGRESSED);
	assert_true(node(&f, &r, "n3")->drain);
	assert_false(node(&f, &r, "n1")->drain);
	assert_false(node(&f, &r, "n2")->drain);
	assert_int_equal(r.n_drain, 1);
	assert_non_null(strstr(node(&f, &r, "n3")->line, "n3: 3 of 3 items slow; worst ch01:gemm/"));
	done(&f, &r, exp);
}

/* Half the fleet broken (node n2's GPUs 31x slow, tolerance 4): the half
 * within the tolerance of the baseline is the reference, not the median
 * of all; n2 drained, n1 not, no fleet finding. */
static void test_half_fleet_broken(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	memcpy(m, healthy, sizeof(m));
	for (int v = 0; v < NV; v++)
		m[2][v] *= 31, m[3][v] *= 31;
	judge_n((const double (*)[NV])m, 4, 1.0, exp, 4.0, &f, &r);
	assert_true(node(&f, &r, "n2")->drain);
	assert_false(node(&f, &r, "n1")->drain);
	assert_int_equal(r.n_fleet, 0);
	assert_true(has_note(&r, "ch01:gemm/base: 2 of 4 GPUs are beyond the tolerance against the baseline: the other 2 are the reference"));
	compare_result_free(&r);
	fleet_free(&f);
	/* Three of four broken: that is a fleet-wide shift (the median moved). */
	for (int v = 0; v < NV; v++)
		m[1][v] *= 31;
	judge_n((const double (*)[NV])m, 4, 1.0, exp, 4.0, &f, &r);
	assert_int_equal(r.n_fleet, NV);
	done(&f, &r, exp);
}

/* Three GPUs: too few siblings; each against the baseline alone, said in
 * a note; then a fleet-wide shift drains them all (nothing tells it). */
static void test_small_fleet(void **state)
{
	json_t *exp = reference();
	struct compare_result r;
	struct fleet f;

	(void)state;
	judge_n(healthy, 3, 1.0, exp, NAN, &f, &r);
	assert_int_equal(r.exit_status, 0);
	assert_true(has_note(&r, "ch01:gemm: 3 GPUs with results, fewer than 4: each judged against the baseline alone"));
	compare_result_free(&r);
	fleet_free(&f);
	judge_n(healthy, 3, 1.3, exp, NAN, &f, &r);
	assert_int_equal(r.n_fleet, 0);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g1")->v, VERDICT_REGRESSED);
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/base", "g1")->reason, "baseline alone"));
	assert_int_equal(r.n_drain, 2);
	done(&f, &r, exp);
}

/* A baseline from one GPU has no fleet spread: said, and never divided by;
 * five siblings are judged with their own spread. */
static void test_one_gpu_baseline(void **state)
{
	json_t *exp = reference_n(1);
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	judge_n(healthy, 2, 1.0, exp, NAN, &f, &r);
	assert_true(has_note(&r, "ch01:gemm: the baseline rests on one GPU: fleet spread unknown"));
	assert_true(isnan(item(&f, &r, "ch01:gemm/base", "g2")->z));
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);
	with(m, 4, 0, 1.2);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_true(has_note(&r, "fleet spread unknown (the spread is this run's siblings')"));
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g5")->v, VERDICT_OUTLIER);
	assert_true(isfinite(item(&f, &r, "ch01:gemm/base", "g5")->z));
	done(&f, &r, exp);
}

/* Identical medians here and in the baseline (MAD 0): z uses the noise
 * floor (0.1%), finite; a GPU 3% slower is an outlier, one 1% slower is not
 * (min_delta). */
static void test_noise_floor(void **state)
{
	static const double same[NG][NV] = {
		{1, 0.1, 0.2}, {1, 0.1, 0.2}, {1, 0.1, 0.2}, {1, 0.1, 0.2}, {1, 0.1, 0.2},
	};
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	json_t *exp = reference_of(same, NG);

	(void)state;
	memcpy(m, same, sizeof(m));
	m[0][0] = 1.03;
	m[1][1] = 0.101;
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g1")->v, VERDICT_OUTLIER);
	assert_true(fabs(item(&f, &r, "ch01:gemm/base", "g1")->z - 30.0) < 1e-6);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g2")->v, VERDICT_PASS);
	assert_true(isfinite(item(&f, &r, "ch01:gemm/opt1", "g2")->z));
	done(&f, &r, exp);
}

static void test_improved_failed_skipped_missing(void **state)
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
	assert_int_equal(node(&f, &r, "n2")->v, VERDICT_FAILED);
	assert_non_null(strstr(node(&f, &r, "n2")->line, "n2: 0 of 6 items slow, 1 failed; worst ch01:gemm/opt2 failed (status crashed"));
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);

	with(m, 3, 1, NAN);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g4")->v, VERDICT_MISSING);
	assert_int_equal(r.exit_status, 3);
	compare_result_free(&r);
	fleet_free(&f);

	/* Skipped where the baseline measured it: missing, never pass. */
	with(m, 2, 2, -2);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt2", "g3")->v, VERDICT_MISSING);
	assert_non_null(strstr(item(&f, &r, "ch01:gemm/opt2", "g3")->reason,
			       "skipped (no FP8 before sm_89), but the baseline measured it"));
	assert_int_equal(r.exit_status, 3);
	done(&f, &r, exp);
}

/* A variant skipped everywhere, in the baseline too: skipped (<reason>) on
 * every GPU, 0 of 5 ok is never pass, exit 0. */
static void test_skipped_everywhere(void **state)
{
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	json_t *exp;

	(void)state;
	memcpy(m, healthy, sizeof(m));
	for (int g = 0; g < NG; g++)
		m[g][2] = -2;
	make_fleet(&f, (const double (*)[NV])m);
	exp = expect_new("hk");
	{
		aisp_error err = {0};

		assert_int_equal(gather_merge_examples(&f, f.insts[0].hk, exp, NULL, &err), AISP_OK);
	}
	fleet_free(&f);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	for (int g = 1; g <= NG; g++) {
		char gpu[16];

		snprintf(gpu, sizeof(gpu), "g%d", g);
		assert_int_equal(item(&f, &r, "ch01:gemm/opt2", gpu)->v, VERDICT_SKIPPED);
		assert_string_equal(item(&f, &r, "ch01:gemm/opt2", gpu)->reason,
				    "skipped (no FP8 before sm_89)");
	}
	assert_int_equal(r.counts[VERDICT_SKIPPED], NG);
	assert_int_equal(r.gpus[0].v, VERDICT_SKIPPED);
	assert_false(r.gpus[0].drain);
	assert_int_equal(r.exit_status, 0);
	done(&f, &r, exp);
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
	done(&f, &r, exp);
}

/* The baseline alone (3 GPUs): time within a loose tolerance, but the
 * speedup over the same GPU's baseline fell by more than 25%: regressed.
 * With siblings, the fleet's speedup is judged once instead. */
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
	judge_n((const double (*)[NV])m, 3, 1.0, exp, 10.0, &f, &r);
	it = item(&f, &r, "ch01:gemm/opt1", "g2");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	assert_non_null(strstr(it->reason, "speedup"));
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g2")->v, VERDICT_PASS);
	compare_result_free(&r);
	fleet_free(&f);

	memcpy(m, healthy, sizeof(m));
	for (int g = 0; g < NG; g++)
		m[g][1] *= 1.4;
	judge((const double (*)[NV])m, exp, 10.0, &f, &r);
	it = item(&f, &r, "ch01:gemm/opt1", "fleet");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	assert_non_null(strstr(it->reason, "fleet-wide: speedup"));
	assert_int_equal(r.n_drain, 0);
	done(&f, &r, exp);
}

/* A host-launch-bound baseline whose median is 60% slower on g5 (the
 * host's launch path) while its device time is steady: nothing drained,
 * the reason says what was judged and what was not. */
static void test_launch_host_slow(void **state)
{
	json_t *exp;
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	launch_reset();
	launch_var = 0;
	exp = reference();
	with(m, 4, 0, 1.6);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g5");
	assert_int_equal(it->v, VERDICT_PASS);
	assert_true(it->device);
	assert_true(fabs(it->observed - 0.8 * 0.99) < 1e-12 && fabs(it->event_ms - 1.6) < 1e-12);
	holds(it->reason, "device time -");
	holds(it->reason, "% (CUPTI) vs its siblings");
	holds(it->reason, "the event median, host launch path included, was 1.6 ms, not judged");
	assert_true(has_note(&r, "ch01:gemm/base: its median includes the host's launch path: judged by its device time"));
	assert_int_equal(r.n_drain, 0);
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);
	/* the baseline alone (2 GPUs): the same, against the stored device time */
	m[1][0] = 1.6;
	judge_n((const double (*)[NV])m, 2, 1.0, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g2");
	assert_int_equal(it->v, VERDICT_PASS);
	holds(it->reason, "device time +2.0% (CUPTI) vs expected 0.8 ms (tolerance +25% default; baseline alone)");
	assert_int_equal(r.exit_status, 0);
	launch_reset();
	done(&f, &r, exp);
}

/* Its device time 30% slower on g5: that node is drained, for its device
 * time; alone (2 GPUs) too. */
static void test_launch_device_slow(void **state)
{
	json_t *exp;
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	launch_reset();
	launch_var = 0;
	exp = reference();
	dev_factor[4] = 1.3;
	judge(healthy, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g5");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	holds(it->reason, "device time +28.1% (CUPTI) vs its siblings (median 0.804 ms of 4 GPUs; tolerance +25% default)");
	holds(it->reason, "the event median, host launch path included, was 0.99 ms, not judged");
	assert_true(node(&f, &r, "n3")->drain);
	holds(node(&f, &r, "n3")->line,
	      "worst ch01:gemm/base device time (CUPTI) +28.1% (5.22 -> 4.08 TB/s)");
	assert_int_equal(r.n_drain, 1);
	assert_int_equal(r.exit_status, 1);
	compare_result_free(&r);
	fleet_free(&f);
	dev_factor[1] = 1.3;
	judge_n(healthy, 2, 1.0, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g2");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	holds(it->reason, "device time +32.6% (CUPTI) vs expected 0.8 ms");
	launch_reset();
	done(&f, &r, exp);
}

/* No device time (CUPTI unavailable): not judged, never pass, never a
 * drain; exit 3. So for every GPU (a run under a profiler), and against a
 * baseline without device times when there are too few siblings. */
static void test_launch_no_device(void **state)
{
	json_t *exp, *old;
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	launch_reset();
	old = reference(); /* gathered before the variant was flagged */
	launch_var = 0;
	exp = reference();
	with(m, 4, 0, 3.0);
	dev_factor[4] = NAN;
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g5");
	assert_int_equal(it->v, VERDICT_UNJUDGED);
	holds(it->reason, "not judged (host launch path, no device time)");
	assert_int_equal(r.gpus[4].v, VERDICT_UNJUDGED);
	assert_string_equal(compare_verdict_name(r.gpus[4].v), "unjudged");
	assert_int_equal(r.n_drain, 0);
	assert_int_equal(r.counts[VERDICT_UNJUDGED], 1);
	assert_int_equal(r.exit_status, 3);
	compare_result_free(&r);
	fleet_free(&f);
	for (int g = 0; g < NG; g++)
		dev_factor[g] = NAN;
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(r.counts[VERDICT_UNJUDGED], NG);
	assert_int_equal(r.counts[VERDICT_PASS], NG * (NV - 1));
	assert_int_equal(r.n_drain, 0);
	assert_int_equal(r.exit_status, 3);
	compare_result_free(&r);
	fleet_free(&f);
	for (int g = 0; g < NG; g++)
		dev_factor[g] = 1.0;
	judge_n((const double (*)[NV])m, 2, 1.0, old, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "g1");
	assert_int_equal(it->v, VERDICT_UNJUDGED);
	holds(it->reason, "the baseline has no device time");
	compare_result_free(&r);
	fleet_free(&f);
	judge((const double (*)[NV])m, old, NAN, &f, &r); /* siblings: judged among themselves */
	assert_int_equal(item(&f, &r, "ch01:gemm/base", "g5")->v, VERDICT_PASS);
	assert_true(has_note(&r, "ch01:gemm/base: no stored time: each GPU judged against its siblings only"));
	assert_int_equal(r.exit_status, 0);
	json_decref(old);
	launch_reset();
	done(&f, &r, exp);
}

/* The whole fleet's device time 30% slower: one fleet finding, in device
 * time, nobody drained; the whole fleet's median 60% slower with steady
 * device times: nothing. */
static void test_launch_fleet_shift(void **state)
{
	json_t *exp;
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_item *it;

	(void)state;
	launch_reset();
	launch_var = 0;
	exp = reference();
	for (int g = 0; g < NG; g++)
		dev_factor[g] = 1.3;
	judge(healthy, exp, NAN, &f, &r);
	it = item(&f, &r, "ch01:gemm/base", "fleet");
	assert_int_equal(it->v, VERDICT_REGRESSED);
	holds(it->reason, "fleet-wide: device time median of 5 GPUs +30.0% (CUPTI) vs baseline 0.8 ms");
	assert_int_equal(r.n_fleet, 1);
	assert_int_equal(r.n_drain, 0);
	compare_result_free(&r);
	fleet_free(&f);
	for (int g = 0; g < NG; g++) {
		dev_factor[g] = 1.0;
		memcpy(m[g], healthy[g], sizeof(m[g]));
		m[g][0] *= 1.6;
	}
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(r.n_fleet, 0);
	assert_int_equal(r.exit_status, 0);
	launch_reset();
	done(&f, &r, exp);
}

/* Over a host-launch-bound baseline, speedups are not judged: a run whose
 * baseline median is 40% faster (a quicker host) does not make opt1, 0.5%
 * slower, a lost speedup (alone: 2 GPUs; with siblings: the fleet's). */
static void test_launch_speedup_not_judged(void **state)
{
	json_t *exp;
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;

	(void)state;
	launch_reset();
	launch_var = 0;
	exp = reference();
	memcpy(m, healthy, sizeof(m));
	for (int g = 0; g < NG; g++)
		m[g][0] *= 0.6, m[g][1] *= 1.005;
	judge_n((const double (*)[NV])m, 2, 1.0, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g1")->v, VERDICT_PASS);
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_int_equal(r.n_fleet, 0);
	assert_int_equal(r.exit_status, 0);
	compare_result_free(&r);
	fleet_free(&f);
	launch_reset(); /* the same run, nothing flagged: the speedup drains */
	json_decref(exp);
	exp = reference();
	judge_n((const double (*)[NV])m, 2, 1.0, exp, NAN, &f, &r);
	assert_int_equal(item(&f, &r, "ch01:gemm/opt1", "g1")->v, VERDICT_REGRESSED);
	compare_result_free(&r);
	fleet_free(&f);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	holds(item(&f, &r, "ch01:gemm/opt1", "fleet")->reason, "fleet-wide: speedup");
	done(&f, &r, exp);
}

/* The tolerance from the noise follows what is judged: device_detectable
 * for a variant judged_by device_ms. */
static void test_launch_tolerance(void **state)
{
	json_t *exp, *fv;
	struct compare_tol t;
	struct compare_opts o = {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, NAN, NULL};
	struct fleet f;

	(void)state;
	launch_reset();
	launch_var = 0;
	exp = reference();
	make_fleet(&f, healthy);
	fv = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(exp, "examples"), "gemm_cuda"), "fleet"), "variants"), "base");
	json_object_del(json_object_get(json_object_get(exp, "examples"), "gemm_cuda"), "tolerance");
	json_object_set_new(fv, "device_noise_run", json_real(0.01));
	json_object_set_new(fv, "device_detectable", json_real(0.061));
	json_object_set_new(fv, "noise_run", json_real(0.3));
	json_object_set_new(fv, "detectable", json_real(1.5));
	compare_tolerance(&f, &f.insts[0], json_object_get(json_object_get(exp, "examples"), "gemm_cuda"),
			  &o, &t);
	assert_true(fabs(t.upper - 0.061) < 1e-12);
	assert_string_equal(t.source, "noise");
	launch_reset();
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
	assert_true(has_note(&r, "ch01:gemm/opt2: no stored time: each GPU judged against its siblings only"));
	assert_int_equal(r.exit_status, 1);
	done(&f, &r, exp);
}

/* Tolerance: option, then --job, then the baseline's (with its source),
 * then the noise when the run-to-run noise is known, then 25%. */
static void test_tolerance_resolution(void **state)
{
	static const char job_text[] = "name: j\ntargets:\n  - target: ch01:gemm\n"
				       "    tolerance: {lower: 0.1, upper: 0.111}\n";
	struct compare_opts o = {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, NAN, NULL};
	json_t *exp = reference(), *ex = json_object_get(json_object_get(exp, "examples"),
							 "gemm_cuda");
	json_t *base = json_object_get(json_object_get(json_object_get(ex, "fleet"), "variants"),
				       "base");
	struct compare_tol t;
	aisp_error err = {0};
	struct fleet f;
	struct job job;

	(void)state;
	make_fleet(&f, healthy);
	assert_string_equal(expect_str(json_object_get(ex, "tolerance"), "source"), "default");
	json_object_del(ex, "tolerance");
	compare_tolerance(&f, &f.insts[0], ex, &o, &t);
	assert_true(t.upper == 0.25 && t.lower == 0.25);
	assert_string_equal(t.source, "default");
	json_object_set_new(base, "noise_run", json_real(0.01));
	json_object_set_new(base, "detectable", json_real(0.0437));
	compare_tolerance(&f, &f.insts[0], ex, &o, &t);
	assert_true(fabs(t.upper - 0.044) < 1e-12);
	assert_string_equal(t.source, "noise");
	json_object_set_new(ex, "tolerance", json_pack("{s:f,s:f}", "lower", 0.2, "upper", 0.3));
	compare_tolerance(&f, &f.insts[0], ex, &o, &t);
	assert_true(t.upper == 0.3 && t.lower == 0.2);
	assert_string_equal(t.source, "hand");
	job_init(&job);
	assert_int_equal(job_load_buffer(job_text, strlen(job_text), "j.yaml", &job, &err), AISP_OK);
	o.job = &job;
	compare_tolerance(&f, &f.insts[0], ex, &o, &t);
	assert_true(t.upper == 0.111 && t.lower == 0.1);
	assert_string_equal(t.source, "--job");
	o.tol_upper = 0.5;
	compare_tolerance(&f, &f.insts[0], ex, &o, &t);
	assert_true(t.upper == 0.5 && t.lower == 0.1);
	assert_string_equal(t.source, "option");
	job_free(&job);
	fleet_free(&f);
	json_decref(exp);
}

/* A throttled GPU 20% slow: drained, and the reason names the clock and
 * the throttle, not the idle bit; its siblings' facts do not differ. */
static void test_throttled_gpu_facts(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_unit *n2;

	(void)state;
	memcpy(m, healthy, sizeof(m));
	for (int v = 0; v < NV; v++)
		m[2][v] *= 1.2;
	throttled_gpu = 2;
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	throttled_gpu = -1;
	n2 = node(&f, &r, "n2");
	assert_true(n2->drain);
	assert_string_equal(n2->facts, "SM clock 1100 MHz vs fleet 1980 (max 1980), HW slowdown");
	assert_non_null(strstr(n2->line, "; SM clock 1100 MHz vs fleet 1980 (max 1980), HW slowdown"));
	assert_non_null(strstr(n2->line, "on GPU 0 (g3)"));
	done(&f, &r, exp);

	exp = reference();
	with(m, 4, 0, 1.5);
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	assert_string_equal(node(&f, &r, "n3")->facts, "no device fact differs");
	done(&f, &r, exp);
}

/* Facts one by one against siblings, and the throttle names. */
static void test_facts_decoded(void **state)
{
	struct fleet f;
	char buf[256];
	const struct fleet_var *v;

	(void)state;
	compare_throttle_names(0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100, buf,
			       sizeof(buf));
	assert_string_equal(buf, "HW slowdown, HW thermal, HW power brake, SW thermal, SW power cap, sync boost");
	compare_throttle_names(0x1, buf, sizeof(buf));
	assert_string_equal(buf, "");
	make_fleet(&f, healthy);
	v = &f.vars[0];
	f.gpus[v->gpu0].after.temperature_c = 80;
	f.gpus[v->gpu0].after.pcie_gen = 4;
	f.gpus[v->gpu0].after.pcie_width = 8;
	f.gpus[v->gpu0].after.power_limit_w = 500;
	f.gpus[v->gpu0].after.ecc_uncorrected = 2;
	f.gpus[v->gpu0].after.retired_pages = 3;
	f.gpus[v->gpu0].after.throttle_reasons = 0x40;
	compare_facts(&f, v, v->gpu0, buf, sizeof(buf));
	assert_string_equal(buf, "HW thermal, temperature 80 C vs fleet 45, power limit 500 W vs fleet 700, "
			    "PCIe gen4 x8 vs fleet gen5 x16, ECC uncorrected 2 (fleet 0, +2 during the item), "
			    "retired/remapped pages 3 (fleet 0)");
	compare_facts(&f, v, v->gpu0 + 1, buf, sizeof(buf));
	assert_string_equal(buf, "no device fact differs");
	f.gpus[v->gpu0 + 1].after.valid = 0;
	compare_facts(&f, v, v->gpu0 + 1, buf, sizeof(buf));
	assert_string_equal(buf, "device facts not recorded");
	fleet_free(&f);
}

/* Worst first: of two regressed items the larger excess is the worst,
 * though it comes second; amounts read as throughput in the work unit. */
static void test_worst_first(void **state)
{
	json_t *exp = reference();
	double m[NG][NV];
	struct compare_result r;
	struct fleet f;
	const struct compare_unit *n3;

	(void)state;
	memcpy(m, healthy, sizeof(m));
	m[4][0] *= 1.3;
	m[4][1] *= 1.7;
	judge((const double (*)[NV])m, exp, NAN, &f, &r);
	n3 = node(&f, &r, "n3");
	assert_string_equal(r.items[n3->worst].label, "ch01:gemm/opt1");
	assert_int_equal(n3->n_slow, 2);
	assert_int_equal(n3->n_items, 3);
	assert_string_equal(n3->line, "n3: 2 of 3 items slow; worst ch01:gemm/opt1 +70.8% (42 -> 24.6 TB/s) on GPU 0 (g5); no device fact differs");
	done(&f, &r, exp);
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
	done(&f, &r, exp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_passes),
		cmocka_unit_test(test_regressed_and_node),
		cmocka_unit_test(test_outlier_within_tolerance),
		cmocka_unit_test(test_fleet_shift),
		cmocka_unit_test(test_fleet_shift_and_one_gpu),
		cmocka_unit_test(test_half_fleet_broken),
		cmocka_unit_test(test_small_fleet),
		cmocka_unit_test(test_one_gpu_baseline),
		cmocka_unit_test(test_noise_floor),
		cmocka_unit_test(test_improved_failed_skipped_missing),
		cmocka_unit_test(test_skipped_everywhere),
		cmocka_unit_test(test_missing_variant),
		cmocka_unit_test(test_speedup_regression),
		cmocka_unit_test(test_book_schema),
		cmocka_unit_test(test_tolerance_resolution),
		cmocka_unit_test(test_throttled_gpu_facts),
		cmocka_unit_test(test_facts_decoded),
		cmocka_unit_test(test_worst_first),
		cmocka_unit_test(test_other_hardware),
		cmocka_unit_test(test_launch_host_slow),
		cmocka_unit_test(test_launch_device_slow),
		cmocka_unit_test(test_launch_no_device),
		cmocka_unit_test(test_launch_fleet_shift),
		cmocka_unit_test(test_launch_speedup_not_judged),
		cmocka_unit_test(test_launch_tolerance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
