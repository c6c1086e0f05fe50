/*
 * perf_hooks.cu - test-only access to ch01:performance on CUDA for the GPU
 * driver (perf_driver.cu): switch the fused graph's update kernel and
 * branches, capture planted mutants of the fused step, read the step
 * losses and the parameters, time each operation of a step, and check the
 * own update kernel alone against float64. Built into tests/gpu only; the
 * target (kernels/ch01/performance.cu) knows nothing of it.
 */
#include "perf_hooks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/ch01/performance_cuda.h"

/* The state as the fused variant's, or NULL for the baseline's. */
static struct perf_opt *opt_of(void *state)
{
	struct perf_data *d = (struct perf_data *)state;

	return d->fused ? (struct perf_opt *)state : NULL;
}

extern "C" int perf_test_is_fused(void *state)
{
	return opt_of(state) != NULL;
}

extern "C" int perf_test_steps(void *state)
{
	return ((struct perf_data *)state)->sh.steps;
}

extern "C" aisp_err perf_test_step_losses(void *state, double *loss)
{
	return perf_step_losses((struct perf_data *)state, loss);
}

extern "C" void perf_test_graph(void *state, int *branches, int *update, int *fused_ok,
				int *fallback)
{
	struct perf_opt *o = opt_of(state);

	*branches = o ? o->branches : -1;
	*update = o ? o->update : -1;
	*fused_ok = o ? o->fused_ok : 0;
	*fallback = o ? o->fallback : 0;
}

extern "C" aisp_err perf_test_set_graph(void *state, int branches, int update)
{
	struct perf_opt *o = opt_of(state);
	aisp_err rc;

	if (!o || branches < 0 || branches > 2 || update < PERF_UPDATE_LT ||
	    update > PERF_UPDATE_FUSED_PRE || (update != PERF_UPDATE_LT && !o->fused_ok))
		return AISP_EINPUT;
	rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	o->branches = branches;
	o->update = update;
	return rc == AISP_OK ? perf_opt_capture(o) : rc;
}

extern "C" size_t perf_test_nparams(void *state)
{
	return ((struct perf_data *)state)->lay.total;
}

extern "C" aisp_err perf_test_params(void *state, float *host)
{
	struct perf_opt *o = opt_of(state);
	size_t n = ((struct perf_data *)state)->lay.total;
	float *dev = NULL;
	aisp_err rc;

	if (!o)
		return AISP_EINPUT;
	rc = perf_cu(cudaMalloc(&dev, n * sizeof(float)));
	if (rc == AISP_OK)
		rc = perf_opt_export(o, dev, o->d.stream);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(host, dev, n * sizeof(float), cudaMemcpyDeviceToHost));
	cudaFree(dev);
	return rc;
}

/* The planted mutants: which operations of which step a mutant leaves out,
 * and whether it doubles the learning rate. */
static int mutant_skips(const char *name, int op, int g, int steps)
{
	if (!strcmp(name, "w1")) /* W1 not updated */
		return op == OP_DW1 || op == OP_CAST1;
	if (!strcmp(name, "w2")) /* W2 not updated */
		return op == OP_DW2 || op == OP_CAST2;
	if (!strcmp(name, "bias")) /* the b2 update dropped */
		return op == OP_DB2;
	if (!strcmp(name, "copy")) /* the FP16 copy of W1 not refreshed */
		return op == OP_CAST1;
	if (!strcmp(name, "step")) /* one SGD step (the middle one) not applied */
		return g == steps / 2 &&
		       (op == OP_DW1 || op == OP_CAST1 || op == OP_DB1 || op == OP_DW2 ||
			op == OP_CAST2 || op == OP_DB2 || op == OP_DW3 || op == OP_CAST3 ||
			op == OP_DB3);
	return 0;
}

extern "C" aisp_err perf_test_mutant(void *state, const char *name)
{
	static const char *const known[] = {"w1", "w2", "bias", "copy", "step", "lr2"};
	struct perf_opt *o = opt_of(state);
	cudaStream_t m;
	float alpha;
	int found = 0;
	aisp_err rc;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		found |= !strcmp(name, known[i]);
	if (!o || !found || (!strcmp(name, "copy") && o->update != PERF_UPDATE_LT))
		return AISP_EINPUT; /* the own kernel writes the copy with the master */
	m = o->st[PERF_ST_MAIN];
	alpha = o->alpha;
	rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	if (rc != AISP_OK)
		return rc;
	rc = perf_cu(cudaStreamBeginCapture(m, cudaStreamCaptureModeThreadLocal));
	if (rc != AISP_OK)
		return rc;
	if (!strcmp(name, "lr2"))
		o->alpha = 2.0f * alpha;
	for (int g = 0; g < o->d.sh.steps && rc == AISP_OK; g++)
		for (int op = 0; op < OP_N && rc == AISP_OK; op++)
			if (!mutant_skips(name, op, g, o->d.sh.steps))
				rc = perf_opt_op(o, op, g, m, o->ws[PERF_ST_MAIN]);
	o->alpha = alpha;
	return perf_opt_instantiate(o, rc);
}

/* Median of reps eager runs (ms) of op of step 0 on the state's stream. */
static aisp_err time_op(struct perf_opt *o, int op, int reps, cudaEvent_t ev[2], double *ms)
{
	cudaStream_t st = o->d.stream;
	double t[64];
	aisp_err rc = AISP_OK;

	reps = reps < 1 ? 1 : reps > 63 ? 63 : reps;
	for (int r = 0; r <= reps && rc == AISP_OK; r++) {
		float f = 0.0f;

		rc = perf_cu(cudaEventRecord(ev[0], st));
		if (rc == AISP_OK)
			rc = perf_opt_op(o, op, 0, st, o->ws[PERF_ST_MAIN]);
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventRecord(ev[1], st));
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventSynchronize(ev[1]));
		if (rc == AISP_OK)
			rc = perf_cu(cudaEventElapsedTime(&f, ev[0], ev[1]));
		if (r > 0) /* the first is a warm-up */
			t[r - 1] = f;
	}
	for (int i = 1; i < reps; i++) /* insertion sort: reps is small */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	*ms = rc == AISP_OK ? t[reps / 2] : NAN;
	return rc;
}

extern "C" aisp_err perf_test_profile(void *state, int reps, char *buf, size_t cap)
{
	struct perf_opt *o = opt_of(state);
	cudaEvent_t ev[2] = {NULL, NULL};
	size_t used = 0;
	double total = 0.0;
	aisp_err rc;

	if (!o)
		return AISP_EINPUT;
	buf[0] = 0;
	rc = perf_cu(cudaEventCreate(&ev[0]));
	if (rc == AISP_OK)
		rc = perf_cu(cudaEventCreate(&ev[1]));
	for (int op = 0; op < OP_N && rc == AISP_OK; op++) {
		double ms = 0.0;

		rc = time_op(o, op, reps, ev, &ms);
		total += rc == AISP_OK ? ms : 0.0;
		if (rc == AISP_OK && used < cap)
			used += snprintf(buf + used, cap - used, "  %-26s %8.1f us\n",
					 perf_op_name[op], ms * 1e3);
	}
	if (used < cap)
		snprintf(buf + used, cap - used, "  sum of one step's ops      %8.1f us\n",
			 total * 1e3);
	for (int i = 0; i < 2; i++)
		if (ev[i])
			cudaEventDestroy(ev[i]);
	if (rc == AISP_OK)
		rc = perf_opt_reset(o, o->d.stream);
	if (rc == AISP_OK)
		rc = perf_cu(cudaStreamSynchronize(o->d.stream));
	return rc;
}

/* Fill n halfs with uniform(-1, 1) values from seed, and their floats. */
static void fill_half(__half *h, float *f, size_t n, uint64_t seed, uint64_t salt)
{
	aisp_rng_fill_unit(f, n, seed, salt);
	for (size_t i = 0; i < n; i++) {
		h[i] = __float2half_rn(f[i]);
		f[i] = __half2float(h[i]);
	}
}

/* Host buffers of the update-kernel check. */
struct unit_buf {
	__half *a, *b, *wh;
	float *af, *bf, *w0, *w;
};

static void unit_free(struct unit_buf *u)
{
	free(u->a);
	free(u->b);
	free(u->wh);
	free(u->af);
	free(u->bf);
	free(u->w0);
	free(u->w);
}

/* Run perf_k_update (form prefetch) once on the device over u's inputs
 * into u->w, u->wh. */
static aisp_err unit_run(struct unit_buf *u, int M, int N, int K, float alpha, int prefetch)
{
	size_t na = (size_t)K * M, nb = (size_t)K * N, nw = (size_t)M * N;
	__half *da = NULL, *db = NULL, *dh = NULL;
	float *dw = NULL;
	aisp_err rc;

	rc = perf_cu(cudaMalloc(&da, na * 2));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&db, nb * 2));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&dh, nw * 2));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMalloc(&dw, nw * 4));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(da, u->a, na * 2, cudaMemcpyHostToDevice));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(db, u->b, nb * 2, cudaMemcpyHostToDevice));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(dw, u->w0, nw * 4, cudaMemcpyHostToDevice));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemset(dh, 0xff, nw * 2)); /* poison: NaN halfs */
	if (rc == AISP_OK)
		rc = perf_k_update_prepare();
	if (rc == AISP_OK)
		rc = perf_k_update(da, M, db, N, dw, dh, M, N, K, alpha, prefetch, 0);
	if (rc == AISP_OK)
		rc = perf_cu(cudaDeviceSynchronize());
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(u->w, dw, nw * 4, cudaMemcpyDeviceToHost));
	if (rc == AISP_OK)
		rc = perf_cu(cudaMemcpy(u->wh, dh, nw * 2, cudaMemcpyDeviceToHost));
	cudaFree(da);
	cudaFree(db);
	cudaFree(dh);
	cudaFree(dw);
	return rc;
}

/* Float64 value of element (m, n) of the product sum_k a[k][m] b[k][n]. */
static double unit_ref(const struct unit_buf *u, int M, int N, int K, int m, int n)
{
	double s = 0.0;

	for (int k = 0; k < K; k++)
		s += (double)u->af[(size_t)k * M + m] * u->bf[(size_t)k * N + n];
	return s;
}

extern "C" aisp_err perf_test_update_unit(int M, int N, int K, int prefetch, uint64_t seed,
					  char *buf, size_t cap, int *ok)
{
	struct unit_buf u;
	size_t nw = (size_t)M * N, checked = 0, copy_bad = 0;
	double num = 0.0, den = 0.0, worst = 0.0;
	float alpha = -0.01f / 256.0f;
	int wm = -1, wn = -1;
	aisp_err rc;

	*ok = 0;
	buf[0] = 0;
	memset(&u, 0, sizeof(u));
	if (!perf_k_update_fits((void *)256, M, (void *)256, N, (void *)256, (void *)256, M, N, K))
		return AISP_EINPUT;
	u.a = (__half *)malloc((size_t)K * M * 2);
	u.b = (__half *)malloc((size_t)K * N * 2);
	u.wh = (__half *)malloc(nw * 2);
	u.af = (float *)malloc((size_t)K * M * 4);
	u.bf = (float *)malloc((size_t)K * N * 4);
	u.w0 = (float *)malloc(nw * 4);
	u.w = (float *)malloc(nw * 4);
	rc = u.a && u.b && u.wh && u.af && u.bf && u.w0 && u.w ? AISP_OK : AISP_ENOMEM;
	if (rc == AISP_OK) {
		fill_half(u.a, u.af, (size_t)K * M, seed, 1);
		fill_half(u.b, u.bf, (size_t)K * N, seed, 2);
		aisp_rng_fill_unit(u.w0, nw, seed, 3);
		for (size_t i = 0; i < nw; i++) /* weights of a layer's size: 2^-6 */
			u.w0[i] *= 0x1p-6f;
		rc = unit_run(&u, M, N, K, alpha, prefetch);
	}
	/* every element when small, else a stride that visits every tile */
	size_t step = nw <= (1u << 20) ? 1 : 997;
	for (size_t i = 0; rc == AISP_OK && i < nw; i += step) {
		int m = (int)(i / N), n = (int)(i % N);
		double want = unit_ref(&u, M, N, K, m, n);
		double got = ((double)u.w[i] - u.w0[i]) / alpha;
		double e = fabs(got - want);

		num += e * e;
		den += want * want;
		if (!(e <= worst)) {
			worst = e;
			wm = m;
			wn = n;
		}
		checked++;
	}
	for (size_t i = 0; rc == AISP_OK && i < nw; i += step == 1 ? 1 : 13)
		copy_bad += __half_as_ushort(__float2half_rn(u.w[i])) != __half_as_ushort(u.wh[i]);
	if (rc == AISP_OK) {
		double rel = sqrt(num / den);
		/* FP32 sums of K exact FP16 products in another order, and the
		 * master's rounding (2^-24 of |w| <= 2^-6 against an update of
		 * |alpha| sqrt(K)/3): ~1e-6; a wrong index gives ~1 */
		double tol = 1e-4;
		*ok = rel <= tol && copy_bad == 0;
		if (!*ok) /* where it goes wrong: the first 4 x 12 updates, got / want */
			for (int m = 0; m < 4 && m < M; m++) {
				printf("  row %d:", m);
				for (int n = 0; n < 12 && n < N; n++)
					printf(" %.3g/%.3g",
					       ((double)u.w[(size_t)m * N + n] - u.w0[(size_t)m * N + n]) /
						       alpha,
					       unit_ref(&u, M, N, K, m, n));
				printf("\n");
			}
		snprintf(buf, cap,
			 "update kernel%s %dx%dx%d: %zu products checked vs float64, rel err %.2e "
			 "(<= %.0e), worst abs %.3g at (%d, %d); %zu FP16 copies differ from half(master)",
			 prefetch ? " (prefetch)" : "", M, N, K, checked, rel, tol, worst, wm, wn,
			 copy_bad);
	}
	unit_free(&u);
	return rc;
}
