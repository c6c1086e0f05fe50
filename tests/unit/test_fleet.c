/* test_fleet.c - fleet statistics on in-memory fleets: per-GPU medians over
 * runs, fleet median/p10/p90/MAD, robust z and the outlier rule, best
 * variant and speedup, counts. Expected numbers come from numpy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expect.h"
#include "fleet.h"
#include "gather.h"
#include "rankfile.h"

#define NV 3
static const char *const vnames[NV] = {"base", "opt1", "opt2"};
static const char *const vroles[NV] = {"baseline", "optimized", "optimized"};

/* Add GPU gpu on node (one rank file of run run_id in dir) with medians
 * med[NV]; NAN marks a variant absent, a negative value a crashed one. */
static void add_gpu(struct fleet *f, const char *dir, const char *run_id, const char *gpu,
		    const char *node, int rank, int world, const double med[NV])
{
	struct rankfile_root r = {0};
	struct rankfile_variant v[NV];
	aisp_error err = {0};
	size_t n = 0;

	r.schema_version = 1;
	r.rank = rank;
	r.world_size = world;
	snprintf(r.run_id, sizeof(r.run_id), "%s", run_id);
	snprintf(r.node, sizeof(r.node), "%s", node);
	snprintf(r.hostname, sizeof(r.hostname), "%s", node);
	snprintf(r.gpu_uuid, sizeof(r.gpu_uuid), "%s", gpu);
	snprintf(r.hardware_key, sizeof(r.hardware_key), "hk");
	snprintf(r.backend, sizeof(r.backend), "cuda");
	snprintf(r.status, sizeof(r.status), "complete");
	snprintf(r.git_commit, sizeof(r.git_commit), "c0ffee");
	for (int i = 0; i < NV; i++) {
		if (isnan(med[i]))
			continue;
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].instance, sizeof(v[n].instance), "ch01:gemm");
		snprintf(v[n].target, sizeof(v[n].target), "ch01:gemm");
		snprintf(v[n].variant, sizeof(v[n].variant), "%s", vnames[i]);
		snprintf(v[n].role, sizeof(v[n].role), "%s", vroles[i]);
		snprintf(v[n].status, sizeof(v[n].status), "%s", med[i] < 0 ? "crashed" : "ok");
		snprintf(v[n].work_unit, sizeof(v[n].work_unit), "flop");
		v[n].n_samples = med[i] < 0 ? 0 : 20;
		v[n].median_ms = med[i] < 0 ? NAN : med[i];
		v[n].p10_ms = v[n].p75_ms = v[n].p90_ms = v[n].median_ms;
		v[n].work = v[n].bytes = v[n].flops = NAN;
		v[n].iterations = 20;
		v[n].warmup = 5;
		n++;
	}
	assert_int_equal(fleet_add_result(f, dir, &r, v, n, &err), AISP_OK);
}

/* The five-GPU fleet of these tests: g5 (node n3) is 50% slow, g3 crashed opt2. */
static void five_gpus(struct fleet *f)
{
	static const double m[5][NV] = {
		{1.00, 0.10, 0.20}, {1.02, 0.11, 0.21}, {0.98, 0.09, -1},
		{1.01, 0.10, 0.22}, {1.50, 0.15, 0.30},
	};
	static const char *const nodes[5] = {"n1", "n1", "n2", "n2", "n3"};
	char gpu[16];

	fleet_init(f);
	for (int i = 0; i < 5; i++) {
		snprintf(gpu, sizeof(gpu), "g%d", i + 1);
		add_gpu(f, "d1", "run1", gpu, nodes[i], i, 5, m[i]);
	}
}

static void assert_close(double got, double want)
{
	if (!(fabs(got - want) <= 1e-12 * fabs(want)))
		fail_msg("got %.17g, want %.17g", got, want);
}

/* Variant of fleet f by name. */
static const struct fleet_var *var(const struct fleet *f, const char *name)
{
	for (size_t i = 0; i < f->n_vars; i++)
		if (!strcmp(fleet_str(f, f->vars[i].var), name))
			return &f->vars[i];
	fail_msg("no variant %s", name);
	return NULL;
}

static void test_fleet_numbers(void **state)
{
	struct fleet f;
	aisp_error err = {0};
	const struct fleet_var *b;

	(void)state;
	five_gpus(&f);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	assert_int_equal(f.n_insts, 1);
	assert_int_equal(f.n_vars, 3);
	b = var(&f, "base");
	assert_int_equal(b->n_gpus, 5);
	assert_int_equal(b->n_ok, 5);
	assert_int_equal(b->n_nodes, 3);
	assert_close(b->median, 1.01);
	assert_close(b->p10, 0.988);
	assert_close(b->p90, 1.308);
	assert_close(b->mad, 0.010000000000000009);
	for (size_t j = b->gpu0; j < b->gpu0 + b->n_gpus; j++) {
		const struct fleet_gpu *g = &f.gpus[j];

		if (!strcmp(fleet_str(&f, g->gpu), "g5")) {
			assert_close(g->z, 33.050047214353135);
			assert_true(g->outlier);
			assert_string_equal(fleet_str(&f, g->node), "n3");
		} else {
			assert_false(g->outlier);
		}
		if (!strcmp(fleet_str(&f, g->gpu), "g2"))
			assert_close(g->z, 0.6744907594765952);
	}
	assert_int_equal(b->n_outliers, 1);
	assert_int_equal(var(&f, "opt2")->n_failed, 1);
	assert_close(var(&f, "opt2")->median, 0.215);
	assert_string_equal(fleet_str(&f, f.vars[f.insts[0].best].var), "opt1");
	assert_close(f.insts[0].best_speedup, 10.1);
	assert_int_equal(f.insts[0].n_gpus, 5);
	assert_int_equal(f.insts[0].n_nodes, 3);
	assert_false(fleet_incomplete(&f));
	fleet_free(&f);
}

/* A GPU measured in two runs: its median is the median of its run medians. */
static void test_gpu_over_runs(void **state)
{
	static const double again[NV] = {1.04, 0.10, 0.20};
	struct fleet f;
	aisp_error err = {0};
	const struct fleet_var *b;

	(void)state;
	five_gpus(&f);
	add_gpu(&f, "d2", "run2", "g1", "n1", 0, 1, again);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	assert_int_equal(f.n_runs, 2);
	b = var(&f, "base");
	assert_int_equal(b->n_gpus, 5);
	assert_close(f.gpus[b->gpu0].median, 1.02); /* g1 sorts first */
	assert_int_equal(f.gpus[b->gpu0].n_runs, 2);
	assert_close(b->median, 1.02);
	fleet_free(&f);
}

/* The min_delta rule: a GPU 1.5% slower with a huge z is not an outlier. */
static void test_min_delta(void **state)
{
	static const double m[NV] = {1.015, NAN, NAN};
	struct fleet f;
	aisp_error err = {0};
	char gpu[16];

	(void)state;
	fleet_init(&f);
	for (int i = 0; i < 4; i++) {
		static const double same[NV] = {1.0, NAN, NAN};

		snprintf(gpu, sizeof(gpu), "g%d", i);
		add_gpu(&f, "d", "r", gpu, "n", i, 5, same);
	}
	add_gpu(&f, "d", "r", "g9", "n", 4, 5, m);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	assert_true(isinf(f.gpus[4].z));
	assert_false(f.gpus[4].outlier);
	assert_int_equal(f.vars[0].n_outliers, 0);
	fleet_free(&f);
}

/* One result of variant vname of ch01:gemm with status st: median m, sample
 * MAD rel x m, 20 samples. */
static void add_var(struct fleet *f, const char *run, const char *gpu, const char *vname,
		    const char *st, double m, double rel)
{
	struct rankfile_root r = {0};
	struct rankfile_variant v = {0};
	aisp_error err = {0};

	r.world_size = 3;
	snprintf(r.run_id, sizeof(r.run_id), "%s", run);
	snprintf(r.node, sizeof(r.node), "n-%s", gpu);
	snprintf(r.gpu_uuid, sizeof(r.gpu_uuid), "%s", gpu);
	snprintf(r.hardware_key, sizeof(r.hardware_key), "hk");
	snprintf(r.status, sizeof(r.status), "complete");
	snprintf(v.instance, sizeof(v.instance), "ch01:gemm");
	snprintf(v.target, sizeof(v.target), "ch01:gemm");
	snprintf(v.variant, sizeof(v.variant), "%s", vname);
	snprintf(v.role, sizeof(v.role), "%s", strcmp(vname, "base") ? "optimized" : "baseline");
	snprintf(v.status, sizeof(v.status), "%s", st);
	v.n_samples = 20;
	v.median_ms = v.p10_ms = v.p75_ms = v.p90_ms = m;
	v.mad_ms = rel * m;
	v.work = v.bytes = v.flops = NAN;
	assert_int_equal(fleet_add_result(f, run, &r, &v, 1, &err), AISP_OK);
}

/* One result of variant base with status ok. */
static void add_base(struct fleet *f, const char *run, const char *gpu, double m, double rel)
{
	add_var(f, run, gpu, "base", "ok", m, rel);
}

/* Noise of a variant (fleet.h), numbers from numpy: g1 and g2 measured in
 * three runs, g3 once. Within-run 0.7413%, its median's standard error
 * 0.2077%, run to run 0.9125% over 4 pairs: the noise is the run to run. */
static void test_noise(void **state)
{
	static const double g1[3] = {1.00, 1.02, 0.99}, g2[3] = {2.0, 2.0, 2.1};
	const struct fleet_var *b;
	aisp_error err = {0};
	struct fleet f;
	char run[16];

	(void)state;
	fleet_init(&f);
	for (int i = 0; i < 3; i++) {
		snprintf(run, sizeof(run), "r%d", i);
		add_base(&f, run, "g1", g1[i], 0.005);
		add_base(&f, run, "g2", g2[i], 0.005);
	}
	add_base(&f, "r0", "g3", 1.0, 0.005);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	b = var(&f, "base");
	assert_close(b->noise_within, 0.0074129999999999995);
	assert_close(b->noise_run, 0.009124733822810833);
	assert_int_equal(b->noise_run_pairs, 4);
	assert_close(b->noise, 0.009124733822810833);
	assert_close(b->detectable, 0.039877353738732066);
	assert_close(fleet_noise_tolerance(b->detectable, 0.02), 0.04);
	assert_close(fleet_noise_tolerance(0.0123, 0.02), 0.02);
	fleet_free(&f);

	/* Per target: two variants with a result (a third only skipped), so
	 * each is judged at 0.05%: z(0.9995) = 3.2905 (numpy/scipy). */
	fleet_init(&f);
	for (int i = 0; i < 3; i++) {
		snprintf(run, sizeof(run), "r%d", i);
		add_base(&f, run, "g1", g1[i], 0.005);
		add_base(&f, run, "g2", g2[i], 0.005);
		add_var(&f, run, "g1", "opt", "ok", g1[i], 0.005);
		add_var(&f, run, "g1", "fp8", "skipped", 1.0, 0.0);
	}
	add_base(&f, "r0", "g3", 1.0, 0.005);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	b = var(&f, "base");
	assert_close(b->noise, 0.009124733822810833);
	assert_close(b->detectable, 3.2905267314918945 * sqrt(2.0) * b->noise);
	assert_close(var(&f, "opt")->detectable, 3.2905267314918945 * sqrt(2.0) *
						 var(&f, "opt")->noise);
	assert_true(isnan(var(&f, "fp8")->detectable));
	assert_close(fleet_normal_upper(0.001), FLEET_Z_FALSE_DRAIN);
	assert_close(fleet_normal_upper(0.00025), 3.480756404346213);
	assert_true(isnan(fleet_normal_upper(0.5)) && isnan(fleet_normal_upper(0.0)));
	fleet_free(&f);

	/* One run: no run to run noise, the median's standard error. */
	fleet_init(&f);
	add_base(&f, "r0", "g1", 1.0, 0.005);
	add_base(&f, "r0", "g2", 1.0, 0.005);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	b = var(&f, "base");
	assert_true(isnan(b->noise_run));
	assert_int_equal(b->noise_run_pairs, 0);
	assert_close(b->noise, 1.2533 * 1.4826 * 0.005 / sqrt(20.0));
	fleet_free(&f);

	/* Samples and runs that agree exactly: the floor, never zero. */
	fleet_init(&f);
	add_base(&f, "r0", "g1", 1.0, 0.0);
	add_base(&f, "r1", "g1", 1.0, 0.0);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	b = var(&f, "base");
	assert_true(b->noise_within == 0.0 && b->noise_run == 0.0);
	assert_close(b->noise, FLEET_NOISE_FLOOR);
	fleet_free(&f);
}

/* One result with status ok of variant vname on gpu in run: median m,
 * device time dev (NAN: none) and the host_launch flag hl. */
static void add_dev(struct fleet *f, const char *run, const char *gpu, const char *vname,
		    double m, double dev, int hl)
{
	struct rankfile_root r = {0};
	struct rankfile_variant v = {0};
	aisp_error err = {0};

	r.world_size = 4;
	snprintf(r.run_id, sizeof(r.run_id), "%s", run);
	snprintf(r.node, sizeof(r.node), "n-%s", gpu);
	snprintf(r.gpu_uuid, sizeof(r.gpu_uuid), "%s", gpu);
	snprintf(r.hardware_key, sizeof(r.hardware_key), "hk");
	snprintf(r.backend, sizeof(r.backend), "cuda");
	snprintf(r.status, sizeof(r.status), "complete");
	snprintf(v.instance, sizeof(v.instance), "ch01:gemm");
	snprintf(v.target, sizeof(v.target), "ch01:gemm");
	snprintf(v.variant, sizeof(v.variant), "%s", vname);
	snprintf(v.role, sizeof(v.role), "%s", strcmp(vname, "base") ? "optimized" : "baseline");
	snprintf(v.status, sizeof(v.status), "ok");
	v.n_samples = 20;
	v.median_ms = v.p10_ms = v.p75_ms = v.p90_ms = m;
	v.mad_ms = 0.01 * m;
	v.work = v.bytes = v.flops = NAN;
	v.device_ms = dev;
	v.host_launch = hl;
	assert_int_equal(fleet_add_result(f, run, &r, &v, 1, &err), AISP_OK);
}

/* A host-launch-bound variant (base) is judged by its device time: per GPU
 * the median of its runs' device_ms, fleet median, p10, p90, MAD, z and
 * outliers of those, noise from device_ms alone (numbers from numpy). g2's
 * median is the slowest (the host's launch path) but its device time is
 * not: g4 is the outlier. gather writes it as judged_by device_ms. */
static void test_host_launch(void **state)
{
	static const char *const gpus[4] = {"g1", "g2", "g3", "g4"};
	static const double med[2][4] = {{1.0, 1.6, 1.2, 0.9}, {1.3, 1.0, 1.1, 1.0}};
	static const double dev[2][4] = {{0.50, 0.51, 0.49, 0.65}, {0.502, 0.508, NAN, 0.66}};
	const struct fleet_var *b, *o;
	json_t *root = expect_new("hk"), *fv;
	aisp_error err = {0};
	struct fleet f;

	(void)state;
	fleet_init(&f);
	for (int r = 0; r < 2; r++)
		for (int g = 0; g < 4; g++) {
			add_dev(&f, r ? "r1" : "r0", gpus[g], "base", med[r][g], dev[r][g], 1);
			add_dev(&f, r ? "r1" : "r0", gpus[g], "opt", 0.1, NAN, 0);
		}
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	b = var(&f, "base");
	o = var(&f, "opt");
	assert_true(b->host_launch && !o->host_launch);
	assert_close(b->median, 1.15); /* the medians' statistics are kept */
	assert_int_equal(b->dev.n_gpus, 4);
	assert_close(f.gpus[b->gpu0 + 2].device, 0.49); /* g3: its one run with one */
	assert_close(b->dev.median, 0.505);
	assert_close(b->dev.p10, 0.49330000000000002);
	assert_close(b->dev.p90, 0.61120000000000008);
	assert_close(b->dev.mad, 0.0095000000000000084);
	assert_close(b->dev.min, 0.49);
	assert_close(b->dev.max, 0.655);
	assert_close(b->dev.noise_run, 0.004185061501096648);
	assert_int_equal(b->dev.noise_run_pairs, 3);
	assert_close(b->dev.noise, 0.004185061501096648);
	assert_close(b->dev.detectable, 0.019475215213164618);
	assert_close(fleet_judged_detectable(b), b->dev.detectable);
	assert_close(fleet_judged_noise_run(o), o->noise_run);
	assert_close(f.gpus[b->gpu0 + 3].z, 10.649854096998864);
	assert_close(f.gpus[b->gpu0 + 1].z, 0.28399610925330321);
	assert_true(f.gpus[b->gpu0 + 3].outlier && !f.gpus[b->gpu0 + 1].outlier);
	assert_int_equal(b->n_outliers, 1);
	assert_int_equal(o->dev.n_gpus, 0);
	assert_true(isnan(o->dev.median) && isnan(o->dev.noise));
	assert_int_equal(gather_merge_examples(&f, f.insts[0].hk, root, NULL, &err), AISP_OK);
	if (expect_validate(root, "t", &err))
		fail_msg("%s", err.msg);
	fv = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(root, "examples"), "gemm_cuda"), "fleet"), "variants"), "base");
	assert_string_equal(expect_str(fv, "judged_by"), "device_ms");
	assert_close(expect_num(fv, "device_median_ms"), 0.505);
	assert_close(expect_num(fv, "device_noise"), b->dev.noise);
	assert_close(expect_num(fv, "device_detectable"), b->dev.detectable);
	assert_close(expect_num(fv, "device_gpus"), 4);
	assert_close(expect_num(fv, "median_ms"), 1.15);
	fv = json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(root, "examples"), "gemm_cuda"), "fleet"), "variants"), "opt");
	assert_string_equal(expect_str(fv, "judged_by"), "median_ms");
	assert_null(json_object_get(fv, "device_median_ms"));
	/* the tolerance follows the noise of what is judged: 2% (min_delta),
	 * not base's median's (run to run 18.5%: detectable 86%) */
	fv = json_object_get(json_object_get(json_object_get(root, "examples"), "gemm_cuda"),
			     "tolerance");
	assert_true(b->detectable > 0.8);
	assert_close(expect_num(fv, "upper"), 0.02);
	assert_string_equal(expect_str(fv, "source"), "noise");
	json_decref(root);
	fleet_free(&f);
}

/* Fewer rank files than world_size makes the fleet incomplete. */
static void test_incomplete(void **state)
{
	static const double m[NV] = {1.0, 0.1, 0.2};
	struct fleet f;
	aisp_error err = {0};

	(void)state;
	fleet_init(&f);
	add_gpu(&f, "d", "r", "g1", "n", 0, 2, m);
	assert_int_equal(fleet_finish(&f, &err), AISP_OK);
	assert_true(fleet_incomplete(&f));
	assert_string_equal(fleet_example_name("ch01:gemm"), "gemm");
	assert_string_equal(fleet_example_name("ch01:gemm[a=1:2]"), "gemm[a=1:2]");
	assert_string_equal(fleet_example_name("plain"), "plain");
	fleet_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_numbers),
		cmocka_unit_test(test_gpu_over_runs),
		cmocka_unit_test(test_min_delta),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_host_launch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
