/*
 * perf_driver.c - ch01:performance on CUDA without the runner: own stream
 * and cuBLAS handle, each variant set up, verified and timed (CUDA events
 * around run(), median after warm-up), and the checks that need a test
 * hook (perf_hooks.h). Every check prints one line with PASS or FAIL.
 *
 *   perf_driver [--PARAM value ...] [--variant all|baseline|optimized]
 *               [--iters N] [--warmup N] [--verify 0|1] [--seed S]
 *               [--update lt|fused|pre] [--branches 0|1|2] [--ab 1]
 *               [--mutant NAME] [--profile REPS] [--curve N] [--curve-tol X]
 *               [--unit-update 1]
 *
 * --PARAM sets a target parameter (input, hidden, ...). --update and
 * --branches recapture the fused graph (cuBLASLt update + cast, the own
 * fused update kernel, or that kernel with the masters prefetched; branch
 * level). --ab 1 times and verifies branch
 * levels 0, 1, 2 and requires the same losses and parameters bit for bit
 * (a race between branches shows here). --mutant NAME plants a mutant of
 * the fused step (perf_hooks.h) and PASSes when verification catches it.
 * --curve N runs both variants N iterations from the same start and
 * compares their per-step losses. --unit-update 1 checks the own update
 * kernel alone (both forms) at M = hidden, N = input, K = microbatch * accum.
 * Exit status 0 when every check passed, 1 otherwise, 2 on bad usage.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aisp.h"
#include "perf_hooks.h"

extern const struct aisp_target ch01_performance_cuda;

struct opts {
	int iters, warmup, verify, curve, profile, ab, unit, branches, update;
	const char *variant, *mutant;
	uint64_t seed;
	double curve_tol;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static const char *const update_names[] = {"lt", "fused", "pre"};
static const char *const update_text[] = {"cuBLASLt + cast", "own fused kernel",
					  "own fused kernel, masters prefetched"};

/* The update form named name (lt, fused, pre), or -1. */
static int update_of(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, update_names[i]))
			return i;
	return -1;
}

/* Parse argv into o and the target parameters p; 0 on success. */
static int parse(int argc, char **argv, struct opts *o, struct aisp_params *p)
{
	const struct aisp_target *t = &ch01_performance_cuda;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || strncmp(argv[i], "--", 2))
			return -1;
		const char *k = argv[i] + 2, *v = argv[i + 1];
		int idx = aisp_param_index(t, k);

		if (idx >= 0)
			p->v[idx] = atof(v);
		else if (!strcmp(k, "iters"))
			o->iters = atoi(v);
		else if (!strcmp(k, "warmup"))
			o->warmup = atoi(v);
		else if (!strcmp(k, "verify"))
			o->verify = atoi(v);
		else if (!strcmp(k, "ab"))
			o->ab = atoi(v);
		else if (!strcmp(k, "branches"))
			o->branches = atoi(v);
		else if (!strcmp(k, "update") && update_of(v) >= 0)
			o->update = update_of(v);
		else if (!strcmp(k, "mutant"))
			o->mutant = v;
		else if (!strcmp(k, "profile"))
			o->profile = atoi(v);
		else if (!strcmp(k, "curve"))
			o->curve = atoi(v);
		else if (!strcmp(k, "curve-tol"))
			o->curve_tol = atof(v);
		else if (!strcmp(k, "unit-update"))
			o->unit = atoi(v);
		else if (!strcmp(k, "variant"))
			o->variant = v;
		else if (!strcmp(k, "seed"))
			o->seed = strtoull(v, NULL, 0);
		else
			return -1;
	}
	return 0;
}

/* Median, min and max of o->iters run() times of v in ms. 0 on success. */
static int time_variant(const struct aisp_variant *v, void *st, cudaStream_t s,
			const struct opts *o, double *med, double *lo, double *hi)
{
	cudaEvent_t a = NULL, b = NULL;
	double *ms = calloc((size_t)o->iters, sizeof(double));
	int bad = !ms || cudaEventCreate(&a) || cudaEventCreate(&b);

	for (int i = 0; i < o->warmup && !bad; i++)
		bad = v->ops->run(st) != AISP_OK;
	bad = bad || cudaStreamSynchronize(s);
	for (int i = 0; i < o->iters && !bad; i++) {
		float f = 0.0f;

		bad = cudaEventRecord(a, s) || v->ops->run(st) != AISP_OK || cudaEventRecord(b, s) ||
		      cudaEventSynchronize(b) || cudaEventElapsedTime(&f, a, b);
		ms[i] = f;
	}
	if (!bad) {
		qsort(ms, (size_t)o->iters, sizeof(double), cmp_double);
		*med = o->iters % 2 ? ms[o->iters / 2]
				    : 0.5 * (ms[o->iters / 2 - 1] + ms[o->iters / 2]);
		*lo = ms[0];
		*hi = ms[o->iters - 1];
	}
	if (a)
		cudaEventDestroy(a);
	if (b)
		cudaEventDestroy(b);
	free(ms);
	return bad;
}

/* Print the named check values on one line. */
static void print_values(const char *name, const struct aisp_check *c)
{
	printf("%-24s values:", name);
	for (size_t i = 0; i < c->n_values; i++)
		printf(" %s=%.3g", c->values[i].name, c->values[i].value);
	printf("\n");
}

/* Verify once; print PASS/FAIL with what (and the values); 1 when it failed. */
static int verify_once(const struct aisp_variant *v, void *st, const char *what,
		       struct aisp_check *chk)
{
	aisp_err rc;

	memset(chk, 0, sizeof(*chk));
	rc = v->ops->verify(st, chk);
	printf("%-24s verify%s %s: %s\n", v->name, what,
	       rc != AISP_OK ? aisp_err_name(rc) : chk->passed ? "PASS" : "FAIL", chk->message);
	print_values(v->name, chk);
	return rc != AISP_OK || !chk->passed;
}

/* One iteration from the initial parameters (verify leaves them so):
 * its step losses and FP32 masters into loss and p. 1 on failure. */
static int one_iteration(const struct aisp_variant *v, void *st, double *loss, float *p)
{
	return v->ops->run(st) != AISP_OK || perf_test_step_losses(st, loss) != AISP_OK ||
	       perf_test_params(st, p) != AISP_OK;
}

/* Branch levels 0, 1, 2 of the fused graph: each timed and verified, and
 * one iteration's losses and parameters equal to level 0's bit for bit. */
static int branch_ab(const struct aisp_variant *v, void *st, const struct aisp_ctx *ctx,
		     const struct opts *o)
{
	size_t n = perf_test_nparams(st), steps = (size_t)perf_test_steps(st);
	float *p0 = malloc(n * sizeof(float)), *p = malloc(n * sizeof(float));
	double *l0 = calloc(steps, sizeof(double)), *l = calloc(steps, sizeof(double));
	int bad = !p0 || !p || !l0 || !l, vbad = 0, branches, update, fits, fb;

	perf_test_graph(st, &branches, &update, &fits, &fb);
	for (int br = 0; br <= 2 && !bad; br++) {
		struct aisp_check chk;
		double med = NAN, lo = NAN, hi = NAN;
		char what[32];

		bad = perf_test_set_graph(st, br, update) != AISP_OK;
		if (!bad && o->iters > 0)
			bad = time_variant(v, st, (cudaStream_t)ctx->stream, o, &med, &lo, &hi);
		if (!bad && o->iters > 0)
			printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  (branches %d, "
			       "update %s)\n",
			       v->name, med, lo, hi, br, update_names[update]);
		snprintf(what, sizeof(what), " (branches %d)", br);
		if (!bad)
			vbad |= verify_once(v, st, what, &chk);
		bad = bad || one_iteration(v, st, br ? l : l0, br ? p : p0);
		if (!bad && br) {
			int same = !memcmp(l, l0, steps * sizeof(double)) &&
				   !memcmp(p, p0, n * sizeof(float));
			printf("%-24s branches %d vs 0: losses and parameters %s -> %s\n", v->name,
			       br, same ? "bit-identical" : "DIFFER (a race)", same ? "PASS" : "FAIL");
			bad = !same;
		}
	}
	bad |= perf_test_set_graph(st, branches, update) != AISP_OK;
	free(p0);
	free(p);
	free(l0);
	free(l);
	return bad | vbad;
}

/* Plant mutant o->mutant in the fused step: PASS when verify catches it. */
static int mutant(const struct aisp_variant *v, void *st, const struct opts *o)
{
	struct aisp_check chk;
	aisp_err rc = perf_test_mutant(st, o->mutant);

	if (rc != AISP_OK) {
		printf("%-24s mutant %s: cannot plant (%s) -> FAIL\n", v->name, o->mutant,
		       aisp_err_name(rc));
		return 1;
	}
	memset(&chk, 0, sizeof(chk));
	rc = v->ops->verify(st, &chk);
	printf("%-24s mutant %s: %s -> %s\n  %s\n", v->name, o->mutant,
	       rc != AISP_OK ? aisp_err_name(rc) : chk.passed ? "NOT caught" : "caught",
	       rc == AISP_OK && !chk.passed ? "PASS" : "FAIL", chk.message);
	print_values(v->name, &chk);
	return rc != AISP_OK || chk.passed;
}

/* Describe the fused graph; apply --update and --branches. 1 on failure. */
static int fused_graph(const struct aisp_variant *v, void *st, const struct opts *o)
{
	int branches, update, fits, fallback, bad = 0;

	perf_test_graph(st, &branches, &update, &fits, &fallback);
	if (o->update >= 0 || o->branches >= 0) {
		int br = o->branches >= 0 ? o->branches : branches;
		int up = o->update >= 0 ? o->update : update;

		bad = perf_test_set_graph(st, br, up) != AISP_OK;
		if (bad)
			printf("%-24s graph branches %d, update %s: not available here -> FAIL\n",
			       v->name, br, update_text[up]);
		perf_test_graph(st, &branches, &update, &fits, &fallback);
	}
	printf("%-24s graph: branches %d, update %s (own kernel %s)%s\n", v->name, branches,
	       update_text[update],
	       fits ? "fits this shape" : "does not fit this shape",
	       fallback ? ", ReLU-mask fallback kernels" : "");
	return bad;
}

/* Set up, verify and time one variant, and its requested checks. */
static int bench_variant(const struct aisp_variant *v, struct aisp_ctx *ctx,
			 const struct aisp_params *p, const struct opts *o, double *med)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	struct aisp_check chk;
	double lo = 0, hi = 0;
	void *st = NULL;
	aisp_err rc;
	int bad = 0, vbad = 0, fused;

	*med = NAN;
	ctx->variant = v;
	if ((rc = v->ops->setup(ctx, p, &st)) != AISP_OK) {
		printf("%-24s setup failed: %s (%s) -> FAIL\n", v->name, aisp_err_name(rc),
		       cudaGetErrorString(cudaGetLastError()));
		return 1;
	}
	fused = perf_test_is_fused(st);
	if (fused)
		bad |= fused_graph(v, st, o);
	/* a failed check fails the run but still lets it time and profile */
	if (o->verify && !bad)
		vbad = verify_once(v, st, "", &chk);
	if (o->mutant && fused && !bad && !vbad)
		bad |= mutant(v, st, o);
	if (o->iters > 0 && !o->ab && !o->mutant && !bad) {
		bad = time_variant(v, st, (cudaStream_t)ctx->stream, o, med, &lo, &hi);
		if (bad)
			printf("%-24s timing failed: %s -> FAIL\n", v->name,
			       cudaGetErrorString(cudaGetLastError()));
		else
			printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  %12.0f samples/s\n",
			       v->name, *med, lo, hi, t->card->work(p) / (*med * 1e-3));
	}
	if (o->ab && fused && !bad)
		bad |= branch_ab(v, st, ctx, o);
	if (o->profile > 0 && fused && !bad) {
		static char rep[8192];

		rc = perf_test_profile(st, o->profile, rep, sizeof(rep));
		printf("%-24s one step, each op alone (eager, median of %d): %s\n%s", v->name,
		       o->profile, aisp_err_name(rc), rep);
		bad |= rc != AISP_OK;
	}
	v->ops->teardown(st);
	return bad | vbad;
}

/* Run both variants o->curve iterations from the same start; compare the
 * per-step losses. 0: pass. */
static int loss_curve(struct aisp_ctx *ctx, const struct aisp_params *p, const struct opts *o)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	int steps = (int)(p->v[aisp_param_index(t, "microbatches")] /
			  p->v[aisp_param_index(t, "accum")]);
	int n = steps * o->curve, bad = 0;
	double *l[2] = {calloc((size_t)n, sizeof(double)), calloc((size_t)n, sizeof(double))};
	double worst = 0.0;

	for (int k = 0; k < 2 && !bad; k++) {
		const struct aisp_variant *v = &t->variants[k];
		void *st = NULL;

		ctx->variant = v;
		bad = !l[k] || v->ops->setup(ctx, p, &st) != AISP_OK;
		if (!bad && k == 1)
			bad = fused_graph(v, st, o);
		for (int it = 0; it < o->curve && !bad; it++)
			bad = v->ops->run(st) != AISP_OK ||
			      perf_test_step_losses(st, l[k] + (size_t)it * steps) != AISP_OK;
		if (st)
			v->ops->teardown(st);
	}
	if (bad) {
		printf("loss curve: device failure: %s -> FAIL\n",
		       cudaGetErrorString(cudaGetLastError()));
		free(l[0]);
		free(l[1]);
		return 1;
	}
	printf("step   fp32(tf32)      fp16       rel diff\n");
	for (int i = 0; i < n; i++) {
		double d = fabs(l[1][i] - l[0][i]) / fabs(l[0][i]);

		worst = !(d <= worst) ? d : worst;
		if (i < 2 || i % steps == 0 || i == n - 1)
			printf("%4d  %11.6f  %11.6f  %9.2e\n", i, l[0][i], l[1][i], d);
	}
	int falls = l[0][n - 1] < l[0][0] && l[1][n - 1] < l[1][0];
	int pass = worst <= o->curve_tol && falls;
	printf("loss curve over %d steps: %.4f->%.4f (fp32) %.4f->%.4f (fp16), worst rel diff "
	       "%.2e (<= %.0e), falls %s -> %s\n",
	       n, l[0][0], l[0][n - 1], l[1][0], l[1][n - 1], worst, o->curve_tol,
	       falls ? "yes" : "NO", pass ? "PASS" : "FAIL");
	free(l[0]);
	free(l[1]);
	return !pass;
}

/* The own update kernel alone at the shape of W1 (hidden x input x group). */
static int unit_update(const struct aisp_params *p, const struct opts *o)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	int M = (int)p->v[aisp_param_index(t, "hidden")];
	int N = (int)p->v[aisp_param_index(t, "input")];
	int K = (int)(p->v[aisp_param_index(t, "microbatch")] * p->v[aisp_param_index(t, "accum")]);
	int bad = 0;

	for (int pre = 0; pre < 2; pre++) {
		char buf[512];
		int ok = 0;
		aisp_err rc = perf_test_update_unit(M, N, K, pre, o->seed, buf, sizeof(buf), &ok);

		printf("%s%s -> %s\n", rc == AISP_OK ? "" : aisp_err_name(rc), buf,
		       rc == AISP_OK && ok ? "PASS" : "FAIL");
		bad |= rc != AISP_OK || !ok;
	}
	return bad;
}

int main(int argc, char **argv)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	struct opts o = {20, 3, 1, 0, 0, 0, 0, -1, -1, "all", NULL, 42, 2e-3};
	struct aisp_params p;
	struct aisp_ctx ctx;
	aisp_error err;
	cudaStream_t s;
	cublasHandle_t h;
	double med[2] = {NAN, NAN};
	int bad = 0;

	aisp_params_defaults(t, &p);
	if (parse(argc, argv, &o, &p) || aisp_params_validate(t, &p, &err) != AISP_OK) {
		fprintf(stderr, "usage: perf_driver [--param value ...] (see perf_driver.c)\n");
		return 2;
	}
	if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) ||
	    cublasCreate(&h) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetStream(h, s) != CUBLAS_STATUS_SUCCESS) {
		fprintf(stderr, "perf_driver: no CUDA device or cuBLAS\n");
		return 1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.backend = AISP_BACKEND_CUDA;
	ctx.stream = s;
	ctx.blas = h;
	ctx.seed = o.seed;
	printf("ch01:performance cuda:");
	for (size_t i = 0; i < t->card->n_params; i++)
		printf(" %s=%g", t->card->params[i].name, p.v[i]);
	printf("  (floor: %.3f GB, %.3f TFLOP per iteration)\n", t->card->bytes(&p) / 1e9,
	       t->card->flops(&p) / 1e12);
	if (o.unit)
		bad |= unit_update(&p, &o);
	else if (o.curve > 0)
		bad |= loss_curve(&ctx, &p, &o);
	else {
		for (size_t k = 0; k < t->n_variants; k++) {
			const char *nm = t->variants[k].name;

			if (strcmp(o.variant, "all") && !strstr(nm, o.variant))
				continue;
			bad |= bench_variant(&t->variants[k], &ctx, &p, &o, &med[k]);
		}
		if (isfinite(med[0]) && isfinite(med[1]))
			printf("speedup %.2fx (baseline/optimized median)\n", med[0] / med[1]);
	}
	cublasDestroy(h);
	cudaStreamDestroy(s);
	return bad;
}
