/*
 * test_kernels_host.c - the host targets: ch01:gemm, ch01:performance and
 * test:fault (tests/targets/). Every variant verifies at the default and at odd small
 * shapes, fails against a perturbed reference, is deterministic for a seed;
 * the gemm variants agree; training lowers the loss and bf16 follows fp32;
 * planted mutants of a training iteration fail its check on the tensor hit;
 * the float64 MLP reference matches finite differences; the faults fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aisp.h"
#include "ch01_host.h"
#include "mlp_ref.h"
#include "registry.h"
#include "test_ctx.h"

extern const struct aisp_target *const aisp_test_targets[];

/* The host twin of name (asserted present). */
static const struct aisp_target *target(const char *name)
{
	const struct aisp_target *t = registry_find(name, AISP_BACKEND_HOST);

	assert_non_null(t);
	return t;
}

/* Defaults of t with the values of the NULL-terminated (name, value)
 * list set. */
static struct aisp_params params(const struct aisp_target *t, ...)
{
	struct aisp_params p;
	const char *name;
	va_list ap;

	aisp_params_defaults(t, &p);
	va_start(ap, t);
	while ((name = va_arg(ap, const char *))) {
		int i = aisp_param_index(t, name);

		assert_true(i >= 0);
		p.v[i] = va_arg(ap, double);
	}
	va_end(ap);
	assert_int_equal(aisp_params_validate(t, &p, NULL), AISP_OK);
	return p;
}

/* The host context of every test here, with the harness's services (the
 * memory targets take with aisp_alloc lives until it closes). */
static struct aisp_ctx the_ctx;

/* the_ctx with seed. */
static struct aisp_ctx *ctx_of(uint64_t seed)
{
	the_ctx.seed = seed;
	return &the_ctx;
}

/* Teardown of variant v of t, where it has one. */
static void teardown(const struct aisp_target *t, size_t v, void *s)
{
	if (t->variants[v].ops->teardown)
		t->variants[v].ops->teardown(s);
}

static int group_setup(void **st)
{
	(void)st;
	test_ctx_open(&the_ctx, 0);
	return 0;
}

static int group_teardown(void **st)
{
	(void)st;
	test_ctx_close(&the_ctx);
	return 0;
}

/* Set up variant v of t, verify once; return the state (check in *chk). */
static void *setup_verify(const struct aisp_target *t, size_t v,
			  const struct aisp_params *p, uint64_t seed,
			  struct aisp_check *chk)
{
	void *s = NULL;

	assert_int_equal(test_setup(ctx_of(seed), t, v, p, &s), AISP_OK);
	assert_non_null(s);
	memset(chk, 0, sizeof(*chk));
	assert_int_equal(t->variants[v].ops->verify(s, chk), AISP_OK);
	return s;
}

/* Every variant of t passes its check with p; tolerance is sane. */
static void all_pass(const struct aisp_target *t, const struct aisp_params *p)
{
	for (size_t v = 0; v < t->n_variants; v++) {
		struct aisp_check chk;
		void *s = setup_verify(t, v, p, 7, &chk);

		if (!chk.passed)
			fail_msg("%s: %s", t->variants[v].name, chk.message);
		assert_true(chk.rel_error <= chk.tolerance);
		assert_true(chk.tolerance > 0.0 && chk.tolerance < 0.5);
		teardown(t, v, s);
	}
}

/* ||a - b|| / ||b|| over n floats. */
static double rel_diff(const float *a, const float *b, size_t n)
{
	double num = 0.0, den = 0.0;

	for (size_t i = 0; i < n; i++) {
		num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		den += (double)b[i] * b[i];
	}
	return sqrt(num / den);
}

static void test_gemm_default(void **unused)
{
	const struct aisp_target *t = target("ch01:gemm");
	struct aisp_params p = params(t, NULL);

	(void)unused;
	assert_int_equal(t->n_variants, 3);
	assert_string_equal(t->variants[0].name, "baseline_gemm");
	assert_string_equal(t->variants[1].name, "optimized_gemm_batched");
	assert_string_equal(t->variants[2].name, "optimized_gemm_strided");
	assert_string_equal(t->card->work_unit, "flop");
	assert_true(t->card->work(&p) == 2.0 * 32 * 256 * 256 * 40);
	assert_true(t->card->bytes(&p) == 4.0 * 40 * (32 * 256 + 256 * 256 + 32 * 256));
	all_pass(t, &p);
}

static void test_gemm_odd(void **unused)
{
	const struct aisp_target *t = target("ch01:gemm");
	struct aisp_params p = params(t, "m", 3.0, "n", 5.0, "k", 7.0,
				      "batch", 2.0, NULL);
	struct aisp_params q = params(t, "m", 70.0, "n", 19.0, "k", 300.0,
				      "batch", 3.0, NULL);

	(void)unused;
	all_pass(t, &p);
	all_pass(t, &q); /* two A blocks, two B panels, edge tiles */
}

/* A reference off by 1e-3 (100x the tolerance) fails every variant. */
static void test_gemm_corrupt(void **unused)
{
	const struct aisp_target *t = target("ch01:gemm");
	struct aisp_params p = params(t, "m", 3.0, "n", 5.0, "k", 7.0,
				      "batch", 2.0, NULL);

	(void)unused;
	for (size_t v = 0; v < t->n_variants; v++) {
		struct aisp_check chk;
		void *s = setup_verify(t, v, &p, 7, &chk);

		assert_true(chk.passed);
		gemm_host_perturb_ref(s, 1e-3);
		assert_int_equal(t->variants[v].ops->verify(s, &chk), AISP_OK);
		assert_false(chk.passed);
		assert_true(chk.rel_error > chk.tolerance);
		teardown(t, v, s);
	}
}

/* The three variants compute the same C (within 1e-6; in fact the same
 * float32 sums in the same order); a different seed gives a different C;
 * the same seed the same bits. */
static void test_gemm_agree_deterministic(void **unused)
{
	const struct aisp_target *t = target("ch01:gemm");
	struct aisp_params p = params(t, "m", 70.0, "n", 19.0, "k", 300.0,
				      "batch", 3.0, NULL);
	struct aisp_check chk;
	void *s[3], *again, *other;
	const float *c[3], *c2;
	size_t n, n2;

	(void)unused;
	for (size_t v = 0; v < 3; v++) {
		s[v] = setup_verify(t, v, &p, 11, &chk);
		c[v] = gemm_host_output(s[v], &n);
	}
	assert_int_equal(n, 70 * 19 * 3);
	assert_true(rel_diff(c[1], c[0], n) < 1e-6);
	assert_true(rel_diff(c[2], c[0], n) < 1e-6);
	again = setup_verify(t, 2, &p, 11, &chk);
	c2 = gemm_host_output(again, &n2);
	assert_memory_equal(c2, c[2], n * sizeof(float));
	other = setup_verify(t, 2, &p, 12, &chk);
	assert_true(rel_diff(gemm_host_output(other, &n2), c[2], n) > 0.1);
	for (size_t v = 0; v < 3; v++)
		teardown(t, v, s[v]);
	teardown(t, 2, again);
	teardown(t, 2, other);
}

/* Milliseconds one run of state s takes. */
static double run_ms(const struct aisp_variant *v, void *s)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(v->ops->run(s), AISP_OK);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return 1e3 * (double)(b.tv_sec - a.tv_sec) +
	       1e-6 * (double)(b.tv_nsec - a.tv_nsec);
}

static void test_perf_default_and_odd(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, NULL);
	struct aisp_params odd = params(t, "input", 3.0, "hidden", 5.0,
					"classes", 3.0, "microbatch", 7.0,
					"microbatches", 5.0, "accum", 2.0, NULL);
	struct aisp_params big = params(t, "input", 17.0, "hidden", 33.0,
					"classes", 4.0, "microbatch", 5.0,
					"microbatches", 6.0, "accum", 4.0,
					"lr", 0.5, NULL);

	(void)unused;
	assert_int_equal(t->n_variants, 2);
	assert_string_equal(t->variants[0].name, "baseline_performance");
	assert_string_equal(t->variants[1].name, "optimized_performance");
	assert_string_equal(t->card->work_unit, "samples");
	assert_true(t->card->work(&p) == 512.0);
	/* forward 2 MACs, weight grads 2, input grads 2 (layers 2, 3) */
	assert_true(t->card->flops(&p) ==
		    512.0 * (4.0 * (128 * 128 + 128 * 128 + 128 * 10) +
			     2.0 * (128 * 128 + 128 * 10)));
	all_pass(t, &p);
	all_pass(t, &odd); /* 3 steps, the last one a short group */
	all_pass(t, &big);
}

/* A reference off by 25% (beyond even the bf16 tolerance) fails. */
static void test_perf_corrupt(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, "microbatches", 4.0, "accum", 2.0, NULL);

	(void)unused;
	for (size_t v = 0; v < t->n_variants; v++) {
		struct aisp_check chk;
		void *s = setup_verify(t, v, &p, 5, &chk);

		assert_true(chk.passed);
		perf_host_perturb_ref(s, v == 0 ? 1e-3 : 0.25);
		assert_int_equal(t->variants[v].ops->verify(s, &chk), AISP_OK);
		assert_false(chk.passed);
		teardown(t, v, s);
	}
}

/* After one verified iteration from the same seed, the bf16 variant's
 * weight change agrees with the fp32 one (same data, same init, same
 * steps): within 15% overall, as its check against float64. */
static void test_perf_variants_agree(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, "microbatches", 4.0, "accum", 2.0, NULL);
	struct mlp_shape sh = {128, 128, 10};
	struct aisp_check chk;
	void *a = setup_verify(t, 0, &p, 31, &chk);
	void *b = setup_verify(t, 1, &p, 31, &chk);
	size_t n;
	const float *wa = perf_host_params(a, &n), *wb = perf_host_params(b, &n);
	float *w0 = malloc(n * sizeof(*w0)), *ua = malloc(n * sizeof(*ua));
	float *ub = malloc(n * sizeof(*ub));

	(void)unused;
	assert_non_null(w0);
	assert_non_null(ua);
	assert_non_null(ub);
	mlp_init_params(&sh, 31, w0);
	for (size_t i = 0; i < n; i++) {
		ua[i] = wa[i] - w0[i];
		ub[i] = wb[i] - w0[i];
	}
	assert_true(rel_diff(ub, ua, n) < 0.15);
	free(w0);
	free(ua);
	free(ub);
	teardown(t, 0, a);
	teardown(t, 1, b);
}

/* Value name of a check, asserted present. */
static double check_value(const struct aisp_check *c, const char *name)
{
	for (size_t i = 0; i < c->n_values; i++)
		if (!strcmp(c->values[i].name, name))
			return c->values[i].value;
	fail_msg("no check value %s", name);
	return NAN;
}

/* Judge the state's parameters (set to w) and expect a failure on the
 * tensor named seg; then restore good and expect a pass again. */
static void expect_caught(void *s, const float *w, const float *good, size_t n,
			  const char *seg, const char *what)
{
	char err[16], tol[16];
	struct aisp_check chk;
	size_t m;
	float *p = perf_host_params(s, &m);

	assert_int_equal(m, n);
	memcpy(p, w, n * sizeof(float));
	perf_host_judge(s, &chk);
	snprintf(err, sizeof(err), "err:%s", seg);
	snprintf(tol, sizeof(tol), "tol:%s", seg);
	if (chk.passed || !(check_value(&chk, err) > check_value(&chk, tol)))
		fail_msg("mutant %s not caught on %s: %s", what, seg, chk.message);
	memcpy(p, good, n * sizeof(float));
	perf_host_judge(s, &chk);
	if (!chk.passed)
		fail_msg("after mutant %s: %s", what, chk.message);
}

/* Float64 training of the default shape from the initial parameters,
 * rounded to float: lr scaled by lr_mul, the first `skip` steps left out. */
static void ref_trained(uint64_t seed, double lr_mul, size_t skip, float *out)
{
	struct mlp_shape sh = {128, 128, 10};
	struct mlp_layout l;
	size_t n = 512, group = 256, steps = 2;
	float *x = malloc(n * sh.input * sizeof(float)), *w0;
	int32_t *y = malloc(n * sizeof(int32_t));
	double loss[2], *p;

	mlp_layout_of(&sh, &l);
	w0 = malloc(l.total * sizeof(float));
	p = malloc(l.total * sizeof(double));
	assert_true(x && y && w0 && p);
	mlp_make_data(&sh, seed, n, x, y);
	mlp_init_params(&sh, seed, w0);
	assert_int_equal(mlp_ref_train(&sh, w0, x + skip * group * sh.input, y + skip * group,
				       n - skip * group, group, steps - skip, 0.01 * lr_mul,
				       loss, p),
			 AISP_OK);
	for (size_t i = 0; i < l.total; i++)
		out[i] = (float)p[i];
	free(x);
	free(y);
	free(w0);
	free(p);
}

/* Planted mutants of an iteration's outcome, each caught on the tensor it
 * breaks: any weight or bias not updated; and on every tensor: the lr
 * doubled, one SGD step of the two skipped. Both variants. */
static void test_perf_mutants(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, NULL);
	struct mlp_shape sh = {128, 128, 10};
	struct mlp_layout l;

	(void)unused;
	mlp_layout_of(&sh, &l);
	for (size_t v = 0; v < t->n_variants; v++) {
		struct aisp_check chk;
		void *s = setup_verify(t, v, &p, 5, &chk);
		size_t n;
		float *good = malloc(l.total * sizeof(float));
		float *w0 = malloc(l.total * sizeof(float)), *m = malloc(l.total * sizeof(float));

		const double *loss = perf_host_losses(s, &n);

		assert_true(good && w0 && m);
		assert_true(chk.passed);
		/* the losses before and after are named values of the check */
		assert_true(check_value(&chk, "loss_first") == loss[0]);
		assert_true(check_value(&chk, "loss_last") == loss[n - 1]);
		memcpy(good, perf_host_params(s, &n), l.total * sizeof(float));
		assert_int_equal(n, l.total);
		mlp_init_params(&sh, 5, w0);
		for (int k = 0; k < MLP_NSEG; k++) { /* tensor k not updated */
			memcpy(m, good, l.total * sizeof(float));
			memcpy(m + l.off[k], w0 + l.off[k], l.len[k] * sizeof(float));
			expect_caught(s, m, good, l.total, mlp_seg_name[k], "not updated");
		}
		ref_trained(5, 2.0, 0, m);
		for (int k = 0; k < MLP_NSEG; k++)
			expect_caught(s, m, good, l.total, mlp_seg_name[k], "lr doubled");
		ref_trained(5, 1.0, 1, m);
		for (int k = 0; k < MLP_NSEG; k++)
			expect_caught(s, m, good, l.total, mlp_seg_name[k], "step skipped");
		free(good);
		free(w0);
		free(m);
		teardown(t, v, s);
	}
}

/* Mean loss of each of `iters` iterations (mean over its steps). */
static void train(const struct aisp_target *t, size_t v,
		  const struct aisp_params *p, int iters, double *curve)
{
	void *s;

	assert_int_equal(test_setup(ctx_of(9), t, v, p, &s), AISP_OK);
	for (int i = 0; i < iters; i++) {
		size_t n;
		const double *l;

		assert_int_equal(t->variants[v].ops->run(s), AISP_OK);
		l = perf_host_losses(s, &n);
		curve[i] = 0.0;
		for (size_t k = 0; k < n; k++)
			curve[i] += l[k] / (double)n;
	}
	teardown(t, v, s);
}

/* 20 iterations lower the loss in both variants, and bf16 follows fp32
 * within 5% at every iteration. */
static void test_perf_training(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, "lr", 0.5, NULL);
	double f32[20], bf16[20];

	(void)unused;
	train(t, 0, &p, 20, f32);
	train(t, 1, &p, 20, bf16);
	if (!(f32[19] < 0.9 * f32[0] && bf16[19] < 0.9 * bf16[0]))
		fail_msg("loss fp32 %.4f -> %.4f, bf16 %.4f -> %.4f",
			 f32[0], f32[19], bf16[0], bf16[19]);
	for (int i = 0; i < 20; i++) {
		if (i > 0)
			assert_true(f32[i] < f32[i - 1]);
		if (!(fabs(bf16[i] - f32[i]) < 0.05 * f32[i]))
			fail_msg("iteration %d: bf16 %.5f vs fp32 %.5f", i,
				 bf16[i], f32[i]);
	}
}

/* Same seed, same parameters bit for bit after verify and two iterations;
 * another seed, other parameters. */
static void test_perf_deterministic(void **unused)
{
	const struct aisp_target *t = target("ch01:performance");
	struct aisp_params p = params(t, "microbatches", 4.0, "accum", 2.0, NULL);

	(void)unused;
	for (size_t v = 0; v < t->n_variants; v++) {
		struct aisp_check chk;
		void *a = setup_verify(t, v, &p, 21, &chk);
		void *b = setup_verify(t, v, &p, 21, &chk);
		void *c = setup_verify(t, v, &p, 22, &chk);
		size_t n;
		const float *pa = perf_host_params(a, &n);

		for (int i = 0; i < 2; i++) {
			assert_int_equal(t->variants[v].ops->run(a), AISP_OK);
			assert_int_equal(t->variants[v].ops->run(b), AISP_OK);
			assert_int_equal(t->variants[v].ops->run(c), AISP_OK);
		}
		assert_memory_equal(pa, perf_host_params(b, &n), n * sizeof(float));
		assert_true(rel_diff(perf_host_params(c, &n), pa, n) > 0.1);
		teardown(t, v, a);
		teardown(t, v, b);
		teardown(t, v, c);
	}
}

/* Loss of params (float) on the whole data set, by the float64 reference. */
static double ref_loss(const struct mlp_shape *sh, const float *params0,
		       const float *x, const int32_t *y, size_t n, double *after)
{
	double loss;

	assert_int_equal(mlp_ref_train(sh, params0, x, y, n, n, 1, 1.0, &loss,
				       after), AISP_OK);
	return loss;
}

/* The float64 reference's gradient (one step at lr 1) against central
 * differences of its loss, for parameters of every segment. */
static void test_mlp_ref_gradient(void **unused)
{
	struct mlp_shape sh = {6, 9, 4};
	struct mlp_layout l;
	enum { N = 40 };
	float x[N * 6], w[400];
	int32_t y[N];
	double after[400], scratch[400];
	int seen[4] = {0};

	(void)unused;
	mlp_layout_of(&sh, &l);
	assert_int_equal(l.total, 9 * 6 + 9 + 9 * 9 + 9 + 4 * 9 + 4);
	mlp_make_data(&sh, 3, N, x, y);
	mlp_init_params(&sh, 3, w);
	for (size_t i = 0; i < N; i++) {
		assert_true(y[i] >= 0 && y[i] < 4);
		seen[y[i]] = 1;
	}
	assert_true(seen[0] + seen[1] + seen[2] + seen[3] >= 3);
	assert_true(fabsf(w[0]) <= 1.0f / sqrtf(6.0f));
	ref_loss(&sh, w, x, y, N, after);
	for (size_t i = 0; i < l.total; i += 7) {
		float keep = w[i], h = 1e-3f;
		double lp, lm, fd, grad = (double)w[i] - after[i];

		w[i] = keep + h;
		lp = ref_loss(&sh, w, x, y, N, scratch);
		w[i] = keep - h;
		lm = ref_loss(&sh, w, x, y, N, scratch);
		fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
		w[i] = keep;
		if (!(fabs(fd - grad) <= 1e-4 + 1e-3 * fabs(grad)))
			fail_msg("param %zu: gradient %.8g, finite difference %.8g",
				 i, grad, fd);
	}
}

/* A set-up test:fault state (baseline variant) in mode. */
static void *fault_state(int mode, double ms)
{
	const struct aisp_target *t = target("test:fault");
	struct aisp_params p = params(t, "mode", (double)mode, "ms", ms, NULL);
	void *s = NULL;

	assert_int_equal(test_setup(ctx_of(1), t, 0, &p, &s), AISP_OK);
	return s;
}

static void test_fault_ok_slow_verify(void **unused)
{
	const struct aisp_target *t = target("test:fault");
	struct aisp_params p = params(t, "mode", 4.0, NULL);
	struct aisp_check chk;
	void *s = (void *)&chk;

	(void)unused;
	assert_true(t->card->test_only);
	assert_int_equal(t->n_variants, 2);
	assert_int_equal(t->variants[1].role, AISP_ROLE_OPTIMIZED);
	s = fault_state(0, 0.0);
	assert_int_equal(t->variants[0].ops->verify(s, &chk), AISP_OK);
	assert_true(chk.passed);
	teardown(t, 0, s);
	s = fault_state(6, 0.0);
	assert_int_equal(t->variants[0].ops->verify(s, &chk), AISP_OK);
	assert_false(chk.passed);
	teardown(t, 0, s);
	s = (void *)&chk;
	assert_int_equal(test_setup(ctx_of(1), t, 1, &p, &s), AISP_ENOMEM);
	assert_null(s);
	teardown(t, 1, NULL);
	s = fault_state(5, 20.0);
	assert_true(run_ms(&t->variants[0], s) >= 20.0);
	teardown(t, 0, s);
}

/* Run mode in a child; return its wait status after at most wait_ms. */
static int fault_child(int mode, int wait_ms)
{
	int st = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) { /* default dispositions: cmocka catches SIGSEGV */
		void *s;

		signal(SIGSEGV, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		s = fault_state(mode, 0.0);

		target("test:fault")->variants[0].ops->run(s);
		_exit(0);
	}
	for (int i = 0; i < wait_ms; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return -1; /* still running: hung */
}

static void test_fault_crash_abort_hang(void **unused)
{
	int st;

	(void)unused;
	st = fault_child(1, 5000);
	assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	st = fault_child(3, 5000);
	assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	assert_int_equal(fault_child(2, 300), -1);
	st = fault_child(0, 5000);
	assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gemm_default),
		cmocka_unit_test(test_gemm_odd),
		cmocka_unit_test(test_gemm_corrupt),
		cmocka_unit_test(test_gemm_agree_deterministic),
		cmocka_unit_test(test_perf_default_and_odd),
		cmocka_unit_test(test_perf_corrupt),
		cmocka_unit_test(test_perf_variants_agree),
		cmocka_unit_test(test_perf_mutants),
		cmocka_unit_test(test_perf_training),
		cmocka_unit_test(test_perf_deterministic),
		cmocka_unit_test(test_mlp_ref_gradient),
		cmocka_unit_test(test_fault_ok_slow_verify),
		cmocka_unit_test(test_fault_crash_abort_hang),
	};

	if (registry_extend(aisp_test_targets, NULL))
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
