/*
 * test_job.c - job files: the ch01 job, every error kind with its exact
 * "file:line:col: field: what", sweep expansion, round trip, job_add_target.
 * Fixture paths are relative to this file, so run from the repository root.
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

#include "job.h"
#include "registry.h"

extern const struct aisp_target *const aisp_test_targets[];

/* path of rel (relative to the repository root) as seen from the cwd. */
static void src_path(char *buf, size_t n, const char *rel)
{
	const char *slash = strrchr(__FILE__, '/');

	if (!slash)
		snprintf(buf, n, "../../%s", rel);
	else
		snprintf(buf, n, "%.*s/../../%s", (int)(slash - __FILE__), __FILE__, rel);
}

/* Load text as "t.yaml"; it must fail with AISP_EINPUT and exactly msg. */
static void expect_error(const char *text, const char *msg)
{
	struct job job;
	aisp_error err = {0};

	assert_int_equal(job_load_buffer(text, strlen(text), "t.yaml", &job, &err),
			 AISP_EINPUT);
	assert_int_equal(err.code, AISP_EINPUT);
	assert_string_equal(err.msg, msg);
	assert_int_equal(job.n_targets, 0);
	assert_null(job.targets);
	job_free(&job);
}

/* Load text as "t.yaml"; it must succeed. */
static void load_ok(const char *text, struct job *job)
{
	aisp_error err = {0};
	aisp_err rc = job_load_buffer(text, strlen(text), "t.yaml", job, &err);

	if (rc)
		fail_msg("load failed: %s", err.msg);
}

/* 1 when a and b are equal doubles, NAN equal to NAN. */
static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* a and b describe the same job (path aside). */
static void assert_same_job(const struct job *a, const struct job *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->iterations, b->iterations);
	assert_int_equal(a->warmup, b->warmup);
	assert_int_equal(a->max_iterations, b->max_iterations);
	assert_true(same(a->time_budget_s, b->time_budget_s));
	assert_true(same(a->ci_target, b->ci_target));
	assert_true(same(a->timeout_s, b->timeout_s));
	assert_int_equal(a->mode, b->mode);
	assert_true(a->seed == b->seed);
	assert_int_equal(a->n_targets, b->n_targets);
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct job_target *x = &a->targets[i], *y = &b->targets[i];

		assert_string_equal(x->target, y->target);
		assert_string_equal(x->instance, y->instance);
		assert_int_equal(x->params.n, y->params.n);
		for (size_t p = 0; p < x->params.n; p++)
			assert_true(x->params.v[p] == y->params.v[p]);
		assert_int_equal(x->n_variants, y->n_variants);
		for (size_t v = 0; v < x->n_variants; v++)
			assert_string_equal(x->variants[v], y->variants[v]);
		assert_true(same(x->timeout_s, y->timeout_s));
		assert_true(same(x->tol_lower, y->tol_lower));
		assert_true(same(x->tol_upper, y->tol_upper));
		assert_int_equal(x->alternatives, y->alternatives);
	}
}

/* load(write(job)) == job, and writing the reloaded job gives the same text. */
static void assert_round_trip(const struct job *job)
{
	char *text1 = NULL, *text2 = NULL;
	size_t len1 = 0, len2 = 0;
	struct job back;
	aisp_error err = {0};
	FILE *f = open_memstream(&text1, &len1);

	assert_non_null(f);
	assert_int_equal(job_write_yaml(job, f, &err), AISP_OK);
	fclose(f);
	if (job_load_buffer(text1, len1, "written.yaml", &back, &err))
		fail_msg("reload failed: %s\n%s", err.msg, text1);
	assert_same_job(job, &back);
	f = open_memstream(&text2, &len2);
	assert_non_null(f);
	assert_int_equal(job_write_yaml(&back, f, &err), AISP_OK);
	fclose(f);
	assert_string_equal(text1, text2);
	job_free(&back);
	free(text1);
	free(text2);
}

static void test_init(void **state)
{
	struct job job;

	(void)state;
	job_init(&job);
	assert_int_equal(job.iterations, 20);
	assert_int_equal(job.warmup, 5);
	assert_int_equal(job.max_iterations, 1000);
	assert_true(job.time_budget_s == 5.0);
	assert_true(job.ci_target == 0.01);
	assert_true(job.timeout_s == 300.0);
	assert_int_equal(job.mode, JOB_MODE_EVERY);
	assert_true(job.seed == 42);
	assert_int_equal(job.n_targets, 0);
	assert_null(job.targets);
	assert_string_equal(job_mode_name(JOB_MODE_EVERY), "every");
	assert_string_equal(job_mode_name(JOB_MODE_SPREAD), "spread");
}

static void test_ch01_job(void **state)
{
	char path[1024];
	struct job job;
	aisp_error err = {0};
	const struct job_target *g, *p;

	(void)state;
	src_path(path, sizeof(path), "jobs/ch01/job.yaml");
	if (job_load(path, &job, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(job.path, path);
	assert_string_equal(job.name, "ch01");
	assert_int_equal(job.iterations, 20);
	assert_int_equal(job.warmup, 5);
	assert_int_equal(job.max_iterations, 1000);
	assert_true(job.time_budget_s == 5.0);
	assert_true(job.ci_target == 0.01);
	assert_true(job.timeout_s == 300.0);
	assert_int_equal(job.mode, JOB_MODE_EVERY);
	assert_true(job.seed == 42);
	assert_int_equal(job.n_targets, 2);
	g = &job.targets[0];
	assert_string_equal(g->target, "ch01:gemm");
	assert_string_equal(g->instance, "ch01:gemm");
	assert_int_equal(g->params.n, 4);
	assert_true(g->params.v[0] == 32 && g->params.v[1] == 256);
	assert_true(g->params.v[2] == 256 && g->params.v[3] == 40);
	assert_int_equal(g->n_variants, 0);
	assert_true(g->timeout_s == 300.0);
	assert_true(isnan(g->tol_lower) && isnan(g->tol_upper));
	assert_int_equal(g->line, 15);
	assert_int_equal(g->alternatives, 1);
	assert_true(job.min_sample_ms == 0.5 && job.warmup_ms == 300);
	p = &job.targets[1];
	assert_string_equal(p->instance, "ch01:performance");
	assert_int_equal(p->params.n, 7);
	assert_true(p->params.v[1] == 128 && p->params.v[6] == 0.01); /* defaults */
	assert_int_equal(p->n_variants, 2);
	assert_string_equal(p->variants[0], "baseline_performance");
	assert_string_equal(p->variants[1], "optimized_performance");
	assert_true(p->timeout_s == 600.0);
	assert_true(p->tol_lower == 0.25 && p->tol_upper == 0.25);
	assert_int_equal(p->line, 18);
	assert_int_equal(p->alternatives, 1);
	assert_round_trip(&job);
	job_free(&job);
	assert_int_equal(job.n_targets, 0);
	assert_null(job.targets);
}

static void test_sweep(void **state)
{
	static const char *const names[] = {
		"ch01:gemm[m=16,k=64]", "ch01:gemm[m=16,k=128]", "ch01:gemm[m=32,k=64]",
		"ch01:gemm[m=32,k=128]", "ch01:gemm[m=48,k=64]", "ch01:gemm[m=48,k=128]",
		"test:fault[ms=0.5]", "test:fault[ms=0.001]",
	};
	char path[1024];
	struct job job;
	aisp_error err = {0};

	(void)state;
	src_path(path, sizeof(path), "tests/unit/jobs/sweep.yaml");
	if (job_load(path, &job, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(job.mode, JOB_MODE_SPREAD);
	assert_true(job.seed == 18446744073709551615ULL);
	assert_int_equal(job.n_targets, 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(job.targets[i].instance, names[i]);
	/* m = 32, k = 128, n default, batch from params */
	assert_true(job.targets[3].params.v[0] == 32 && job.targets[3].params.v[2] == 128);
	assert_true(job.targets[3].params.v[1] == 256 && job.targets[3].params.v[3] == 4);
	assert_int_equal(job.targets[5].n_variants, 2);
	assert_string_equal(job.targets[5].variants[0], "optimized_gemm_strided");
	assert_true(isnan(job.targets[5].tol_lower) && job.targets[5].tol_upper == 0.1);
	assert_true(job.targets[5].timeout_s == 30.0);
	assert_true(job.targets[7].params.v[1] == 0.001 && job.targets[7].timeout_s == 2.5);
	assert_int_equal(job.targets[7].line, 17);
	assert_round_trip(&job);
	job_free(&job);
}

/* 10 x 10 x 10 x 10 = 10000 instances is the most a sweep may give. */
static void test_sweep_limit(void **state)
{
	const char *ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
	char text[512];
	struct job job;

	(void)state;
	snprintf(text, sizeof(text), "targets:\n  - target: ch01:gemm\n    sweep: "
		 "{m: %s, n: %s, k: %s, batch: %s}\n", ten, ten, ten, ten);
	load_ok(text, &job);
	assert_int_equal(job.n_targets, 10000);
	assert_string_equal(job.targets[9999].instance, "ch01:gemm[m=10,n=10,k=10,batch=10]");
	assert_round_trip(&job); /* the fuzzer found the writer's form over the node limit */
	job_free(&job);
	snprintf(text, sizeof(text), "targets:\n  - target: ch01:gemm\n    sweep: "
		 "{m: %s, n: %s, k: %s, batch: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}\n",
		 ten, ten, ten);
	expect_error(text, "t.yaml:3:12: targets[0].sweep: sweep gives 11000 instances "
		     "(at most 10000)");
}

static void test_add_target(void **state)
{
	struct job job;
	aisp_error err = {0};
	const struct aisp_target *g = registry_find("ch01:gemm", AISP_BACKEND_HOST);
	const struct aisp_target *f = registry_find("test:fault", AISP_BACKEND_HOST);

	(void)state;
	assert_non_null(g);
	assert_non_null(f);
	job_init(&job);
	job.timeout_s = 77;
	assert_int_equal(job_add_target(&job, g, &err), AISP_OK);
	assert_int_equal(job_add_target(&job, f, &err), AISP_OK);
	assert_int_equal(job_add_target(&job, g, &err), AISP_EINPUT);
	assert_int_equal(job.n_targets, 2);
	assert_string_equal(job.targets[0].instance, "ch01:gemm");
	assert_int_equal(job.targets[0].params.n, 4);
	assert_true(job.targets[0].params.v[3] == 40);
	assert_int_equal(job.targets[1].n_variants, 0);
	assert_true(job.targets[1].timeout_s == 77);
	assert_true(isnan(job.targets[1].tol_lower));
	/* a value %g would round, and a one-sided tolerance, survive the trip */
	job.targets[1].params.v[1] = 0.1 + 0.2;
	job.targets[1].tol_lower = 1.0 / 3.0;
	assert_round_trip(&job);
	job_free(&job);
}

static void test_file_errors(void **state)
{
	char path[1024], want[1200];
	struct job job;
	aisp_error err = {0};

	(void)state;
	src_path(path, sizeof(path), "tests/unit/jobs/bad_range.yaml");
	assert_int_equal(job_load(path, &job, &err), AISP_EINPUT);
	snprintf(want, sizeof(want), "%s:8:10: targets[1].params.m: 0 is out of range "
		 "[1, 8192]", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(job.n_targets, 0);
	src_path(path, sizeof(path), "tests/unit/jobs/no-such-file.yaml");
	assert_int_equal(job_load(path, &job, &err), AISP_EINPUT);
	assert_non_null(strstr(err.msg, "no-such-file.yaml: cannot open"));
}

#define T "targets:\n  - target: ch01:gemm\n"

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("name: x\niteration: 20\n" T,
		     "t.yaml:2:1: iteration: unknown key 'iteration' (did you mean 'iterations'?)");
	expect_error(T "    parms: {m: 1}\n",
		     "t.yaml:3:5: targets[0].parms: unknown key 'parms' (did you mean 'params'?)");
	expect_error(T "    params: {mm: 1}\n", "t.yaml:3:14: targets[0].params.mm: "
		     "unknown parameter 'mm' of ch01:gemm (did you mean 'm'?)");
	expect_error(T "    tolerance: {lowr: 1}\n", "t.yaml:3:17: targets[0].tolerance.lowr: "
		     "unknown key 'lowr' (did you mean 'lower'?)");
	expect_error("zzzzzz: 1\n" T, "t.yaml:1:1: zzzzzz: unknown key 'zzzzzz' (known: "
		     "name, iterations, warmup, warmup_ms, max_iterations, time_budget_s, ci_target, "
		     "min_sample_ms, timeout_s, mode, seed, targets)");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("iterations: twenty\n" T,
		     "t.yaml:1:13: iterations: expected an integer, got 'twenty'");
	expect_error("warmup: \"5\"\n" T,
		     "t.yaml:1:9: warmup: expected an integer, got the string '5'");
	expect_error("targets: {target: ch01:gemm}\n",
		     "t.yaml:1:10: targets: expected a list, got a mapping");
	expect_error(T "    params: [1, 2]\n",
		     "t.yaml:3:13: targets[0].params: expected a mapping, got a list");
	expect_error(T "    variants: baseline_gemm\n", "t.yaml:3:15: targets[0].variants: "
		     "expected a list, got 'baseline_gemm'");
	expect_error("name: [a]\n" T, "t.yaml:1:7: name: expected a string, got a list");
	expect_error("targets:\n  -\n", "t.yaml:2:4: targets[0]: expected a mapping, got null");
	expect_error("mode: evrey\n" T, "t.yaml:1:7: mode: expected every or spread, got 'evrey'");
	expect_error("time_budget_s: 0x10\n" T,
		     "t.yaml:1:16: time_budget_s: expected a number, got '0x10'");
	expect_error(T "    alternatives: yes\n", "t.yaml:3:19: targets[0].alternatives: "
		     "expected true or false, got 'yes'");
	expect_error(T "    alternatives: \"true\"\n", "t.yaml:3:19: targets[0].alternatives: "
		     "expected true or false, got the string 'true'");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("name: x\ntargets:\n  - target: test:fault\n  - target: ch01:gemm\n"
		     "    params: {n: 5,\n       m: 0}\n",
		     "t.yaml:6:11: targets[1].params.m: 0 is out of range [1, 8192]");
	expect_error("warmup: -1\n" T, "t.yaml:1:9: warmup: -1 is out of range [0, 1000000]");
	expect_error("ci_target: 1.5\n" T, "t.yaml:1:12: ci_target: 1.5 is out of range [0, 1]");
	expect_error(T "    timeout_s: 0\n",
		     "t.yaml:3:16: targets[0].timeout_s: 0 is out of range [0.001, 604800]");
	expect_error(T "    sweep: {batch: [1, 5000]}\n",
		     "t.yaml:3:24: targets[0].sweep.batch[1]: 5000 is out of range [1, 4096]");
	expect_error("iterations: 50\nmax_iterations: 10\n" T,
		     "t.yaml:2:17: max_iterations: 10 is less than iterations (50)");
}

static void test_not_integer(void **state)
{
	(void)state;
	expect_error(T "    params: {m: 2.5}\n",
		     "t.yaml:3:17: targets[0].params.m: 2.5 is not an integer");
	expect_error("iterations: 1e-1\n" T, "t.yaml:1:13: iterations: 1e-1 is out of range "
		     "[1, 1000000]");
	expect_error("seed: 4.5\n" T, "t.yaml:1:7: seed: 4.5 is not an integer");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_error("seed: 1\n" T "seed: 2\n",
		     "t.yaml:4:1: seed: duplicate key 'seed' (first at line 1)");
	expect_error(T "    params: {m: 2, m: 3}\n",
		     "t.yaml:3:20: targets[0].params.m: duplicate key 'm' (first at line 3)");
	expect_error(T "    target: ch01:gemm\n",
		     "t.yaml:3:5: targets[0].target: duplicate key 'target' (first at line 2)");
	expect_error(T "    sweep:\n      m: [1]\n      m: [2]\n",
		     "t.yaml:5:7: targets[0].sweep.m: duplicate key 'm' (first at line 4)");
}

static void test_empty_file(void **state)
{
	(void)state;
	expect_error("", "t.yaml:1:1: (top): empty job file");
	expect_error("# only a comment\n\n", "t.yaml:1:1: (top): empty job file");
}

static void test_not_mapping(void **state)
{
	(void)state;
	expect_error("- a\n- b\n", "t.yaml:1:1: (top): expected a mapping, got a list");
	expect_error("hello\n", "t.yaml:1:1: (top): expected a mapping, got 'hello'");
	expect_error("---\n", "t.yaml:2:1: (top): expected a mapping, got null");
}

static void test_missing(void **state)
{
	(void)state;
	expect_error("name: x\n",
		     "t.yaml:1:1: targets: missing (a job needs at least one target)");
	expect_error("targets: []\n",
		     "t.yaml:1:10: targets: empty list (a job needs at least one target)");
	expect_error("targets:\n  - params: {m: 1}\n",
		     "t.yaml:2:5: targets[0].target: missing (the registry target to run)");
}

static void test_syntax(void **state)
{
	(void)state;
	expect_error(T "   params: [\n", "t.yaml:3:4: targets[1]: did not find expected "
		     "'-' indicator while parsing a block collection (line 2)");
	expect_error("name: \"abc\n", "t.yaml:2:1: name: found unexpected end of stream "
		     "while scanning a quoted scalar (line 1)");
	expect_error("name: x\n\tseed: 1\n", "t.yaml:2:1: name: found a tab character that "
		     "violates indentation while scanning a plain scalar (line 1)");
	expect_error("name: \xff\n" T,
		     "t.yaml:1:7: (encoding): invalid leading UTF-8 octet (byte 6)");
	expect_error(T "---\nname: y\n", "t.yaml:3:1: (top): more than one YAML document");
}

static void test_aliases(void **state)
{
	(void)state;
	expect_error("name: &n x\n" T "    params: {m: *n}\n",
		     "t.yaml:4:17: targets[0].params.m: aliases are not allowed");
	/* the classic "billion laughs" never gets past its first alias */
	expect_error("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n",
		     "t.yaml:2:8: b[0]: aliases are not allowed");
	expect_error("name: !!str x\n" T, "t.yaml:1:7: name: tags are not allowed");
}

static void test_too_deep(void **state)
{
	(void)state;
	expect_error(T "    sweep: {m: [[1]]}\n", "t.yaml:3:17: targets[0].sweep.m[0]: "
		     "nesting deeper than a job file needs (5 levels)");
	expect_error("a: [[[[[[[[1]]]]]]]]\n",
		     "t.yaml:1:8: a[0][0][0][0]: nesting deeper than a job file needs (5 levels)");
}

static void test_huge_numbers(void **state)
{
	(void)state;
	expect_error("time_budget_s: 1e999\n" T,
		     "t.yaml:1:16: time_budget_s: 1e999 is too large for a double");
	expect_error("iterations: 99999999999999999999\n" T,
		     "t.yaml:1:13: iterations: 99999999999999999999 is out of range [1, 1000000]");
	expect_error("seed: 99999999999999999999\n" T, "t.yaml:1:7: seed: "
		     "99999999999999999999 is out of range [0, 18446744073709551615]");
	expect_error("ci_target: .inf\n" T, "t.yaml:1:12: ci_target: .inf is not a finite number");
	expect_error(T "    params: {m: -.NaN}\n",
		     "t.yaml:3:17: targets[0].params.m: -.NaN is not a finite number");
}

static void test_unsafe_names(void **state)
{
	(void)state;
	expect_error("name: ../etc\n" T, "t.yaml:1:7: name: unsafe name '../etc' (use "
		     "letters, digits and _.:=,@+-, no '..')");
	expect_error("name: \"a/b\"\n" T, "t.yaml:1:7: name: unsafe name 'a/b' (use "
		     "letters, digits and _.:=,@+-, no '..')");
	expect_error("name: \"a\\0b\"\n" T, "t.yaml:1:7: name: NUL character in a string");
	expect_error("targets:\n  - target: \"ch01:gemm;rm\"\n", "t.yaml:2:13: "
		     "targets[0].target: unsafe name 'ch01:gemm;rm' (use letters, digits and "
		     "_.:=,@+-, no '..')");
}

static void test_unknown_names(void **state)
{
	(void)state;
	expect_error("targets:\n  - target: ch01:gem\n", "t.yaml:2:13: targets[0].target: "
		     "unknown target 'ch01:gem' (did you mean 'ch01:gemm'?)");
	expect_error(T "    variants: [baseline_gemm, optimized_gemm_stride]\n",
		     "t.yaml:3:31: targets[0].variants[1]: unknown variant "
		     "'optimized_gemm_stride' of ch01:gemm (did you mean "
		     "'optimized_gemm_strided'?)");
	expect_error(T "    variants: [baseline_gemm, baseline_gemm]\n",
		     "t.yaml:3:31: targets[0].variants[1]: variant 'baseline_gemm' is listed twice");
	expect_error(T "    variants: []\n", "t.yaml:3:15: targets[0].variants: empty list "
		     "(leave variants out to run them all)");
}

static void test_too_many(void **state)
{
	(void)state;
	expect_error(T "    variants: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q]\n",
		     "t.yaml:3:15: targets[0].variants: too many variants (17, at most 16)");
	expect_error(T "    params: {a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1, "
		     "j: 1, k: 1, l: 1, m: 1, n: 1, o: 1, p: 1, q: 1}\n",
		     "t.yaml:3:13: targets[0].params: too many parameters (17, at most 16)");
}

static void test_sweep_errors(void **state)
{
	(void)state;
	expect_error(T "    params: {m: 4}\n    sweep: {m: [1, 2]}\n",
		     "t.yaml:4:13: targets[0].sweep.m: also set in params (line 3)");
	expect_error(T "    sweep: {m: [1, 2, 1.0]}\n",
		     "t.yaml:3:23: targets[0].sweep.m[2]: 1.0 is listed twice");
	expect_error(T "    sweep: {m: []}\n",
		     "t.yaml:3:16: targets[0].sweep.m: empty list of values");
	expect_error(T "  - target: ch01:gemm\n    params: {m: 64}\n",
		     "t.yaml:3:13: targets[1].target: instance 'ch01:gemm' is listed twice "
		     "(first at line 2; use sweep for several shapes)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_ch01_job),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_sweep_limit),
		cmocka_unit_test(test_add_target),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_not_integer),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_not_mapping),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_huge_numbers),
		cmocka_unit_test(test_unsafe_names),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_sweep_errors),
	};

	if (registry_extend(aisp_test_targets, NULL)) /* jobs name test:fault */
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
