/*
 * perf_driver.cu - standalone driver of ch01:performance on CUDA, without
 * the runner: own stream and cuBLAS handle, setup/verify/run/teardown of each
 * variant, run() timed with CUDA events (median after warm-up), a table.
 *
 *   perf_driver [--name value ...] [--iters N] [--warmup N] [--variant all|baseline|optimized]
 *               [--verify 0|1] [--curve N] [--seed S] [--profile REPS] [--ab 1] [--tune REPS]
 *
 * --name value sets a target parameter (input, hidden, ...). --curve N runs
 * both variants N iterations from the same start and compares their per-step
 * losses (the FP16 curve must follow the FP32 one and fall). --profile REPS
 * times each op of one fused step and every heuristic algo of its GEMMs; --ab 1
 * also times the fused graph with branch levels 0, 1 and 3 (default 2); --tune REPS picks the
 * fastest heuristic algo per GEMM and times again. --period P recaptures the
 * fused graph with W2 update period P (0: the v3 graph, every weight every
 * step; 1..8: lazy W1, see performance.cu) before verify and timing;
 * --ab-period 1 times and verifies periods 0 1 2 4 8 after the rest.
 * --w1split S --w1sm N: lazy W1 update in two parts, steps < S on a side
 * stream asking for N SMs (0: all), the rest at the end (S 0: one update);
 * --ab-split 1 times and verifies split 0, steps-2 and steps-3 with all and
 * half the SMs; --profile-lazy REPS times each lazy operation; --branches N
 * recaptures with graph branch level N (default 2) first. Exit status 0
 * when every check passed, 1 otherwise, 2 on bad usage.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "aisp.h"
extern const struct aisp_target ch01_performance_cuda;
aisp_err perf_cuda_step_losses(void *state, double *loss);
int perf_cuda_fallback(void *state);
aisp_err perf_cuda_profile(void *state, int reps, char *buf, size_t cap);
aisp_err perf_cuda_set_branches(void *state, int on);
aisp_err perf_cuda_autotune(void *state, int reps, char *buf, size_t cap);
int perf_cuda_period(void *state, int *lazy_ok);
aisp_err perf_cuda_set_period(void *state, int p);
aisp_err perf_cuda_set_w1split(void *state, int split, int sm);
int perf_cuda_w1split(void *state, int *sm);
aisp_err perf_cuda_profile_lazy(void *state, int reps, char *buf, size_t cap);
const char *perf_cuda_lazy_why(void *state);
}

struct opts {
	int iters, warmup, verify, curve, profile, ab, tune, period, ab_period;
	int w1split, w1sm, ab_split, profile_lazy, branches;
	const char *variant;
	uint64_t seed;
	double curve_tol;
};

/* Compare doubles for qsort. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
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
		else if (!strcmp(k, "tune"))
			o->tune = atoi(v);
		else if (!strcmp(k, "ab"))
			o->ab = atoi(v);
		else if (!strcmp(k, "period"))
			o->period = atoi(v);
		else if (!strcmp(k, "ab-period"))
			o->ab_period = atoi(v);
		else if (!strcmp(k, "w1split"))
			o->w1split = atoi(v);
		else if (!strcmp(k, "w1sm"))
			o->w1sm = atoi(v);
		else if (!strcmp(k, "branches"))
			o->branches = atoi(v);
		else if (!strcmp(k, "ab-split"))
			o->ab_split = atoi(v);
		else if (!strcmp(k, "profile-lazy"))
			o->profile_lazy = atoi(v);
		else if (!strcmp(k, "profile"))
			o->profile = atoi(v);
		else if (!strcmp(k, "curve"))
			o->curve = atoi(v);
		else if (!strcmp(k, "curve-tol"))
			o->curve_tol = atof(v);
		else if (!strcmp(k, "variant"))
			o->variant = v;
		else if (!strcmp(k, "seed"))
			o->seed = strtoull(v, NULL, 0);
		else
			return -1;
	}
	return 0;
}

/* Median of n run() times of variant v in ms (events around each run). */
static int time_variant(const struct aisp_variant *v, void *st, cudaStream_t s,
			const struct opts *o, double *med, double *lo, double *hi)
{
	cudaEvent_t a, b;
	double *ms = (double *)calloc((size_t)o->iters, sizeof(double));

	if (!ms || cudaEventCreate(&a) || cudaEventCreate(&b))
		return -1;
	for (int i = 0; i < o->warmup; i++)
		if (v->ops->run(st) != AISP_OK)
			return -1;
	if (cudaStreamSynchronize(s))
		return -1;
	for (int i = 0; i < o->iters; i++) {
		float f;
		cudaEventRecord(a, s);
		if (v->ops->run(st) != AISP_OK)
			return -1;
		cudaEventRecord(b, s);
		if (cudaEventSynchronize(b) || cudaEventElapsedTime(&f, a, b))
			return -1;
		ms[i] = f;
	}
	qsort(ms, (size_t)o->iters, sizeof(double), cmp_double);
	*med = o->iters % 2 ? ms[o->iters / 2]
			    : 0.5 * (ms[o->iters / 2 - 1] + ms[o->iters / 2]);
	*lo = ms[0];
	*hi = ms[o->iters - 1];
	cudaEventDestroy(a);
	cudaEventDestroy(b);
	free(ms);
	return 0;
}

/* Set up, verify and time one variant; prints one table row. 0: all good. */
static int bench_variant(const struct aisp_variant *v, const struct aisp_ctx *ctx,
			 const struct aisp_params *p, const struct opts *o, double *med)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	struct aisp_check chk;
	double lo = 0, hi = 0;
	void *st = NULL;
	aisp_err rc;
	int bad = 0;

	*med = NAN;
	if ((rc = v->ops->setup(ctx, p, &st)) != AISP_OK) {
		printf("%-24s setup failed: %s (%s)\n", v->name, aisp_err_name(rc),
		       cudaGetErrorString(cudaGetLastError()));
		return 1;
	}
	if (o->period >= 0 && strstr(v->name, "optimized") &&
	    perf_cuda_set_period(st, o->period) != AISP_OK) {
		printf("%-24s period %d: not available\n", v->name, o->period);
		bad = 1;
	}
	if (o->branches >= 0 && strstr(v->name, "optimized") &&
	    perf_cuda_set_branches(st, o->branches) != AISP_OK) {
		printf("%-24s graph branches %d: not available\n", v->name, o->branches);
		bad = 1;
	}
	if (o->w1split >= 0 && strstr(v->name, "optimized") &&
	    perf_cuda_set_w1split(st, o->w1split, o->w1sm) != AISP_OK) {
		printf("%-24s W1 split %d (%d SMs): not available\n", v->name, o->w1split, o->w1sm);
		bad = 1;
	}
	if (strstr(v->name, "optimized")) {
		int ok = 0, per = perf_cuda_period(st, &ok);
		printf("%-24s graph: %s (lazy graph %s%s)\n", v->name,
		       per ? "lazy W1, W2 every P steps" : "v3, every weight every step",
		       ok ? "built" : "NOT built: ", perf_cuda_lazy_why(st));
		int sm = 0, split = perf_cuda_w1split(st, &sm);
		if (per)
			printf("%-24s W2 update period P = %d, W1 split %d (%d SMs)\n", v->name, per,
			       split, sm);
	}
	if (o->verify) {
		memset(&chk, 0, sizeof(chk));
		rc = v->ops->verify(st, &chk);
		printf("%-24s verify %s: %s\n", v->name,
		       rc != AISP_OK ? aisp_err_name(rc) : chk.passed ? "PASS" : "FAIL",
		       chk.message);
		bad |= rc != AISP_OK || !chk.passed;
	}
	if (o->iters > 0 && time_variant(v, st, (cudaStream_t)ctx->stream, o, med, &lo, &hi)) {
		printf("%-24s timing failed: %s\n", v->name,
		       cudaGetErrorString(cudaGetLastError()));
		bad = 1;
	}
	if (o->iters > 0 && !bad)
		printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  %12.0f samples/s%s\n",
		       v->name, *med, lo, hi, t->card->work(p) / (*med * 1e-3),
		       perf_cuda_fallback(st) ? "  (ReLU-mask fallback)" : "");
	if (o->ab && strstr(v->name, "optimized") && !bad) {
		double loss0[4096], loss[4096];
		memset(loss0, 0, sizeof(loss0));
		memset(loss, 0, sizeof(loss));
		for (int br = 0; br <= 3 && !bad; br += br == 1 ? 2 : 1) {
			double m2 = NAN;
			bad |= perf_cuda_set_branches(st, br) != AISP_OK ||
			       time_variant(v, st, (cudaStream_t)ctx->stream, o, &m2, &lo, &hi);
			printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  (graph branches %d)\n",
			       v->name, m2, lo, hi, br);
			if (o->verify && !bad) {
				memset(&chk, 0, sizeof(chk));
				bad |= v->ops->verify(st, &chk) != AISP_OK || !chk.passed;
				printf("%-24s verify (graph branches %d) %s: %s\n", v->name, br,
				       chk.passed ? "PASS" : "FAIL", chk.message);
				/* verify leaves the initial parameters: one iteration's
				 * losses must not depend on the branch level, bit for bit */
				bad |= v->ops->run(st) != AISP_OK ||
				       perf_cuda_step_losses(st, br ? loss : loss0) != AISP_OK;
				if (br && !bad && memcmp(loss, loss0, sizeof(loss))) {
					printf("%-24s graph branches %d: losses differ from level 0 (a race)\n",
					       v->name, br);
					bad = 1;
				}
			}
		}
		bad |= perf_cuda_set_branches(st, 2) != AISP_OK;
	}
	if (o->ab_period && strstr(v->name, "optimized") && !bad) {
		static const int per[] = {0, 1, 2, 4, 8};
		int built = 0, keep = perf_cuda_period(st, &built);
		for (size_t i = 0; i < sizeof(per) / sizeof(per[0]) && !bad; i++) {
			double m2 = NAN;
			bad |= perf_cuda_set_period(st, per[i]) != AISP_OK ||
			       time_variant(v, st, (cudaStream_t)ctx->stream, o, &m2, &lo, &hi);
			printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  (W2 period %d%s)\n",
			       v->name, m2, lo, hi, per[i], per[i] ? "" : ": v3 graph");
			if (o->verify && !bad) {
				memset(&chk, 0, sizeof(chk));
				bad |= v->ops->verify(st, &chk) != AISP_OK || !chk.passed;
				printf("%-24s verify (W2 period %d) %s: %s\n", v->name, per[i],
				       chk.passed ? "PASS" : "FAIL", chk.message);
			}
		}
		bad |= perf_cuda_set_period(st, keep) != AISP_OK;
	}
	if (o->ab_split && strstr(v->name, "optimized") && !bad) {
		const struct aisp_target *t = &ch01_performance_cuda;
		int steps = (int)(p->v[aisp_param_index(t, "microbatches")] /
				  p->v[aisp_param_index(t, "accum")]);
		int sms = 0;
		cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
		int keep_sm = 0, keep = perf_cuda_w1split(st, &keep_sm);
		const int sp[][2] = {{0, 0}, {steps - 2, 0}, {steps - 2, sms / 2},
				     {steps - 3, sms / 2}, {steps - 2, sms / 3}};
		for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]) && !bad; i++) {
			double m2 = NAN;
			if (sp[i][0] < 0)
				continue;
			bad |= perf_cuda_set_w1split(st, sp[i][0], sp[i][1]) != AISP_OK ||
			       time_variant(v, st, (cudaStream_t)ctx->stream, o, &m2, &lo, &hi);
			printf("%-24s median %9.3f ms  min %9.3f  max %9.3f  (W1 split %d, %d SMs)\n",
			       v->name, m2, lo, hi, sp[i][0], sp[i][1]);
			if (o->verify && !bad) {
				memset(&chk, 0, sizeof(chk));
				bad |= v->ops->verify(st, &chk) != AISP_OK || !chk.passed;
				printf("%-24s verify (W1 split %d, %d SMs) %s: %s\n", v->name, sp[i][0],
				       sp[i][1], chk.passed ? "PASS" : "FAIL", chk.message);
			}
		}
		bad |= perf_cuda_set_w1split(st, keep, keep_sm) != AISP_OK;
	}
	if (o->profile_lazy > 0 && strstr(v->name, "optimized") && !bad) {
		static char rep[8192];
		rc = perf_cuda_profile_lazy(st, o->profile_lazy, rep, sizeof(rep));
		printf("profile of the lazy graph's operations (%s, eager, median of %d):\n%s",
		       aisp_err_name(rc), o->profile_lazy, rep);
		bad |= rc != AISP_OK;
	}
	if (o->tune > 0 && strstr(v->name, "optimized") && !bad) {
		static char rep[4096];
		double m2 = NAN;
		bad |= perf_cuda_autotune(st, o->tune, rep, sizeof(rep)) != AISP_OK ||
		       time_variant(v, st, (cudaStream_t)ctx->stream, o, &m2, &lo, &hi);
		printf("%s%-24s median %9.3f ms  min %9.3f  max %9.3f  (autotuned GEMM algos)\n",
		       rep, v->name, m2, lo, hi);
	}
	if (o->profile > 0 && strstr(v->name, "optimized")) {
		static char rep[16384];
		rc = perf_cuda_profile(st, o->profile, rep, sizeof(rep));
		printf("profile of one fused step (%s):\n%s", aisp_err_name(rc), rep);
		bad |= rc != AISP_OK;
	}
	v->ops->teardown(st);
	return bad;
}

/* Run both variants o->curve iterations; compare per-step losses. 0: pass. */
static int loss_curve(const struct aisp_ctx *ctx, const struct aisp_params *p,
		      const struct opts *o)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	int steps = (int)(p->v[aisp_param_index(t, "microbatches")] /
			  p->v[aisp_param_index(t, "accum")]);
	int n = steps * o->curve;
	double *l[2] = {(double *)calloc((size_t)n, sizeof(double)),
			(double *)calloc((size_t)n, sizeof(double))};
	double worst = 0.0;
	int bad = 0;

	for (int k = 0; k < 2 && !bad; k++) {
		const struct aisp_variant *v = &t->variants[k];
		void *st = NULL;
		bad |= v->ops->setup(ctx, p, &st) != AISP_OK;
		if (!bad && k == 1 && o->period >= 0)
			bad |= perf_cuda_set_period(st, o->period) != AISP_OK;
		if (!bad && k == 1 && o->w1split >= 0)
			bad |= perf_cuda_set_w1split(st, o->w1split, o->w1sm) != AISP_OK;
		for (int it = 0; it < o->curve && !bad; it++)
			bad |= v->ops->run(st) != AISP_OK ||
			       perf_cuda_step_losses(st, l[k] + (size_t)it * steps) != AISP_OK;
		v->ops->teardown(st);
	}
	if (bad) {
		printf("loss curve: device failure: %s\n", cudaGetErrorString(cudaGetLastError()));
		return 1;
	}
	printf("step   fp32(tf32)      fp16       rel diff\n");
	for (int i = 0; i < n; i++) {
		double d = fabs(l[1][i] - l[0][i]) / fabs(l[0][i]);
		worst = !(d <= worst) ? d : worst;
		if (i < 4 || i % steps == 0 || i == n - 1)
			printf("%4d  %11.6f  %11.6f  %9.2e\n", i, l[0][i], l[1][i], d);
	}
	int falls = l[0][n - 1] < l[0][0] && l[1][n - 1] < l[1][0];
	int pass = worst <= o->curve_tol && falls;
	printf("loss curve over %d steps: worst rel diff %.2e (<= %.0e), falls %s -> %s\n", n,
	       worst, o->curve_tol, falls ? "yes" : "NO", pass ? "PASS" : "FAIL");
	free(l[0]);
	free(l[1]);
	return !pass;
}

int main(int argc, char **argv)
{
	const struct aisp_target *t = &ch01_performance_cuda;
	struct opts o = {20, 3, 1, 0, 0, 0, 0, -1, 0, -1, 0, 0, 0, -1, "all", 42, 1e-2};
	struct aisp_params p;
	struct aisp_ctx ctx;
	aisp_error err;
	cudaStream_t s;
	cublasHandle_t h;
	double med[2] = {NAN, NAN};
	int bad = 0;

	aisp_params_defaults(t, &p);
	if (parse(argc, argv, &o, &p) || aisp_params_validate(t, &p, &err) != AISP_OK) {
		fprintf(stderr, "usage: perf_driver [--param value ...] (see source)\n");
		return 2;
	}
	if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) || cublasCreate(&h) ||
	    cublasSetStream(h, s)) {
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
	printf("  (floor: %.3f GB, %.3f TFLOP per iteration)\n",
	       t->card->bytes ? t->card->bytes(&p) / 1e9 : NAN, t->card->flops(&p) / 1e12);
	if (o.curve > 0) {
		bad |= loss_curve(&ctx, &p, &o);
	} else {
		for (size_t k = 0; k < t->n_variants; k++) {
			const char *nm = t->variants[k].name;
			if (strcmp(o.variant, "all") && !strstr(nm, o.variant))
				continue;
			bad |= bench_variant(&t->variants[k], &ctx, &p, &o, &med[k]);
		}
		if (med[0] == med[0] && med[1] == med[1])
			printf("speedup %.2fx (baseline/optimized median)\n", med[0] / med[1]);
	}
	cublasDestroy(h);
	cudaStreamDestroy(s);
	return bad;
}
