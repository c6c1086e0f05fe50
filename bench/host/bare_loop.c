/*
 * bare_loop.c - a target's run() timed in a plain loop, without the runner:
 * no worker, no pipe, no adaptive stop, no HDF5. The reference that aisp's
 * own samples for the same target are compared against (bench/host/overhead.sh,
 * bench/gpu/overhead_session.sh).
 *
 * For each variant: setup, verify and warm-up are timed as phases (they are
 * the target's own untimed work under aisp), then --iters iterations are timed
 * one by one (host: CLOCK_MONOTONIC; cuda: a CUDA event pair on the target's
 * stream, this file's own events, not the backend's timer), then the same
 * number back to back under one clock pair (block mean: no per-iteration
 * timer at all). One line per variant:
 *   bare TARGET VARIANT setup_ms=.. verify_ms=.. warmup_ms=.. iters=N
 *        median_ms=.. mean_ms=.. min_ms=.. block_mean_ms=..
 *
 * Built with the test-only targets (tests/targets/, e.g. test:fault).
 *   bare_loop --target T [--variant V] [--params k=v,...] [--backend host|cuda]
 *             [--iters N] [--warmup N] [--seed S] [--device D]
 * Exit 0 when every variant ran and verified, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef AISP_HAVE_CUDA
#include <cuda_runtime.h>
#endif

#include "aisp.h"
#include "backend.h"
#include "registry.h"
#include "services.h"
#include "stats.h"

extern const struct aisp_target *const aisp_test_targets[];

struct bare_opts {
	const char *target, *variant, *params;
	enum aisp_backend_kind backend;
	int iters, warmup, device;
	unsigned long long seed;
};

/* The timer of this driver: host clock, or CUDA events on ctx's stream. */
struct bare_timer {
	const struct aisp_ctx *ctx;
	double t0;
#ifdef AISP_HAVE_CUDA
	cudaEvent_t ev0, ev1;
#endif
};

/* Milliseconds on the monotonic clock. */
static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Start a timed region (host: read the clock; cuda: record ev0). */
static void timer_begin(struct bare_timer *t)
{
#ifdef AISP_HAVE_CUDA
	if (t->ctx->backend == AISP_BACKEND_CUDA) {
		cudaEventRecord(t->ev0, (cudaStream_t)t->ctx->stream);
		return;
	}
#endif
	t->t0 = now_ms();
}

/* End the region and return its length in ms (cuda: waits for ev1). */
static double timer_end(struct bare_timer *t)
{
#ifdef AISP_HAVE_CUDA
	if (t->ctx->backend == AISP_BACKEND_CUDA) {
		float ms = 0.0f;

		cudaEventRecord(t->ev1, (cudaStream_t)t->ctx->stream);
		cudaEventSynchronize(t->ev1);
		cudaEventElapsedTime(&ms, t->ev0, t->ev1);
		return ms;
	}
#endif
	return now_ms() - t->t0;
}

/* Parse "k=v,k=v" over t's defaults into p; nonzero with a message if bad. */
static int parse_params(const struct aisp_target *t, const char *spec, struct aisp_params *p)
{
	char buf[512], *save = NULL;
	aisp_error e = {0};

	aisp_params_defaults(t, p);
	if (!spec)
		return 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		int i;

		if (!eq || (*eq = '\0', i = aisp_param_index(t, kv)) < 0) {
			fprintf(stderr, "bare_loop: %s: no parameter '%s'\n", t->card->name, kv);
			return 1;
		}
		p->v[i] = strtod(eq + 1, NULL);
	}
	if (aisp_params_validate(t, p, &e)) {
		fprintf(stderr, "bare_loop: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* Time the iterations of one set-up variant: per iteration, then as a block. */
static int time_loop(const struct aisp_variant *v, void *state, struct bare_timer *tm,
		     int iters, double *samples, double *block_mean)
{
	for (int i = 0; i < iters; i++) {
		timer_begin(tm);
		if (v->ops->run(state))
			return 1;
		samples[i] = timer_end(tm);
	}
	timer_begin(tm);
	for (int i = 0; i < iters; i++)
		if (v->ops->run(state))
			return 1;
	*block_mean = timer_end(tm) / iters;
	return 0;
}

/* Set up, verify, warm up and time variant v; print its line. 0 on success. */
static int bare_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			const struct aisp_target *t, const struct aisp_variant *v,
			const struct aisp_params *p, const struct bare_opts *o)
{
	struct aisp_check check = {0};
	struct bare_timer tm = {.ctx = ctx};
	struct stats_summary s;
	double t0, setup_ms, verify_ms, warm_ms, block = 0.0;
	double *samples = malloc((size_t)o->iters * sizeof(double));
	void *state = NULL;
	aisp_error e = {0};
	int bad = 1;

	if (!samples)
		return 1;
#ifdef AISP_HAVE_CUDA
	if (ctx->backend == AISP_BACKEND_CUDA &&
	    (cudaEventCreate(&tm.ev0) != cudaSuccess || cudaEventCreate(&tm.ev1) != cudaSuccess))
		goto out;
#endif
	t0 = now_ms();
	ctx->variant = v;
	if (v->ops->setup(ctx, p, &state) || be->sync(ctx, &e))
		goto out;
	setup_ms = now_ms() - t0;
	t0 = now_ms();
	if (v->ops->verify(state, &check) || be->sync(ctx, &e) || !check.passed)
		goto out;
	verify_ms = now_ms() - t0;
	t0 = now_ms();
	for (int i = 0; i < o->warmup; i++)
		if (v->ops->run(state))
			goto out;
	if (be->sync(ctx, &e))
		goto out;
	warm_ms = now_ms() - t0;
	if (time_loop(v, state, &tm, o->iters, samples, &block))
		goto out;
	stats_summarize(samples, (size_t)o->iters, &s);
	printf("bare %s %s setup_ms=%.6f verify_ms=%.6f warmup_ms=%.6f iters=%d median_ms=%.6f "
	       "mean_ms=%.6f min_ms=%.6f block_mean_ms=%.6f\n", t->card->name, v->name, setup_ms,
	       verify_ms, warm_ms, o->iters, s.median, s.mean, s.min, block);
	bad = 0;
out:
	if (bad)
		fprintf(stderr, "bare_loop: %s %s failed (%s%s)\n", t->card->name, v->name,
			check.message, e.msg);
	if (state && v->ops->teardown)
		v->ops->teardown(state);
	services_release(ctx);
#ifdef AISP_HAVE_CUDA
	if (ctx->backend == AISP_BACKEND_CUDA) {
		cudaEventDestroy(tm.ev0);
		cudaEventDestroy(tm.ev1);
	}
#endif
	free(samples);
	return bad;
}

/* Parse the command line into o; nonzero on bad usage. */
static int bare_args(int argc, char **argv, struct bare_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return 1;
		if (!strcmp(a, "--target"))
			o->target = v;
		else if (!strcmp(a, "--variant"))
			o->variant = v;
		else if (!strcmp(a, "--params"))
			o->params = v;
		else if (!strcmp(a, "--backend"))
			o->backend = strcmp(v, "cuda") ? AISP_BACKEND_HOST : AISP_BACKEND_CUDA;
		else if (!strcmp(a, "--iters"))
			o->iters = atoi(v);
		else if (!strcmp(a, "--warmup"))
			o->warmup = atoi(v);
		else if (!strcmp(a, "--seed"))
			o->seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--device"))
			o->device = atoi(v);
		else
			return 1;
		i++;
	}
	return !o->target || o->iters < 1 || o->warmup < 0;
}

int main(int argc, char **argv)
{
	struct bare_opts o = {.iters = 20, .warmup = 3, .seed = 42};
	const struct aisp_backend_ops *be;
	const struct aisp_target *t;
	struct aisp_ctx ctx = {0};
	struct aisp_params p;
	aisp_error e = {0};
	int fails = 0, ran = 0;

	if (bare_args(argc, argv, &o)) {
		fputs("usage: bare_loop --target T [--variant V] [--params k=v,...] "
		      "[--backend host|cuda] [--iters N] [--warmup N] [--seed S] [--device D]\n",
		      stderr);
		return 2;
	}
	if (registry_extend(aisp_test_targets, &e) || backend_load(o.backend, &be, &e)) {
		fprintf(stderr, "bare_loop: %s\n", e.msg);
		return 2;
	}
	t = registry_find(o.target, o.backend);
	if (!t || parse_params(t, o.params, &p)) {
		fprintf(stderr, "bare_loop: no %s target %s\n",
			o.backend == AISP_BACKEND_CUDA ? "cuda" : "host", o.target);
		return 2;
	}
	if (be->open(o.device, &ctx, &e) || services_open(&ctx, be, &e)) {
		fprintf(stderr, "bare_loop: backend open: %s\n", e.msg);
		return 1;
	}
	ctx.seed = o.seed;
	for (size_t i = 0; i < t->n_variants; i++) {
		if (o.variant && strcmp(o.variant, t->variants[i].name))
			continue;
		fails += bare_variant(be, &ctx, t, &t->variants[i], &p, &o);
		ran++;
	}
	services_close(&ctx);
	be->close(&ctx);
	if (!ran)
		fprintf(stderr, "bare_loop: %s has no variant %s\n", t->card->name, o.variant);
	return fails || !ran;
}
