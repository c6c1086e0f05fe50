/* measure.c - set-up, verification, warm-up, launch count, timed loop. */
#include "measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "stats.h"
#include "text.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* 1 when the samples so far satisfy the adaptive stop. */
static int should_stop(const double *s, size_t n, double *scratch,
		       const struct measure_opts *o, double elapsed)
{
	if (n < (size_t)o->iterations)
		return 0;
	if (n >= (size_t)o->max_iterations || elapsed >= o->time_budget_s)
		return 1;
	if (n % 8)
		return 0;
	memcpy(scratch, s, n * sizeof(*s));
	qsort(scratch, n, sizeof(*s), cmp_double);
	return stats_median_ci_rel(scratch, n) <= o->ci_target;
}

/* Record a status and message in r; returns AISP_OK (r says what happened). */
static aisp_err set_status(struct variant_result *r, const char *status,
			   const char *what, aisp_err code, const aisp_error *e)
{
	text_copy(r->status, sizeof(r->status), status);
	snprintf(r->message, sizeof(r->message), "%s: %s%s%.400s", what,
		 aisp_err_name(code), e && e->msg[0] ? ": " : "", e ? e->msg : "");
	return AISP_OK;
}

/* Time n back-to-back iterations as one region of *ms. */
static aisp_err time_batch(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state, int n, double *ms,
			   aisp_error *err)
{
	aisp_err rc = be->time_begin(ctx, err);

	for (int i = 0; i < n && !rc; i++)
		rc = v->run(state);
	if (!rc)
		rc = be->time_end(ctx, ms, err);
	return rc;
}

/* Iterations per sample so that a sample lasts o->min_sample_ms: the
 * fastest of three single iterations decides. 1 when batching is off. */
static aisp_err calibrate(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			  const struct aisp_variant *v, void *state,
			  const struct measure_opts *o, int *per_sample, aisp_error *err)
{
	double best = INFINITY, ms;

	*per_sample = 1;
	if (o->min_sample_ms <= 0)
		return AISP_OK;
	for (int i = 0; i < 3; i++) {
		aisp_err rc = time_batch(be, ctx, v, state, 1, &ms, err);

		if (rc)
			return rc;
		best = ms < best ? ms : best;
	}
	if (best > 0 && best < o->min_sample_ms)
		*per_sample = (int)fmin(ceil(o->min_sample_ms / best), 100000);
	return AISP_OK;
}

/* Time samples into r->samples until the adaptive stop. */
static aisp_err timed_loop(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state,
			   const struct measure_opts *o, struct variant_result *r,
			   aisp_error *err)
{
	size_t cap = (size_t)o->max_iterations;
	double t0 = clock_now_s(), *scratch;
	aisp_err rc = AISP_OK;

	r->samples = malloc(cap * sizeof(double));
	scratch = malloc(cap * sizeof(double));
	if (!r->samples || !scratch) {
		rc = aisp_fail(err, AISP_ENOMEM, "no memory for %zu samples", cap);
		goto out;
	}
	while (!should_stop(r->samples, r->n_samples, scratch, o, clock_now_s() - t0)) {
		double ms;

		rc = time_batch(be, ctx, v, state, r->per_sample, &ms, err);
		if (rc)
			goto out;
		r->samples[r->n_samples++] = ms / r->per_sample;
	}
out:
	free(scratch);
	return rc;
}

/* Untimed: warm-up iterations, then one iteration with launches counted. */
static aisp_err warm_and_count(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			       const struct aisp_variant *v, void *state,
			       const struct measure_opts *o, struct variant_result *r,
			       aisp_error *err)
{
	int round = o->warmup > 0 ? o->warmup : 1;
	double t0 = clock_now_ms();
	aisp_err rc = AISP_OK;

	/* warmup iterations, then more rounds of them (synced after each) until
	 * warmup_ms has passed: an idle GPU's clocks take a while to ramp up */
	for (int i = 0; i < o->warmup && !rc; i++)
		rc = v->run(state);
	if (!rc)
		rc = be->sync(ctx, err);
	while (!rc && clock_now_ms() - t0 < o->warmup_ms) {
		for (int i = 0; i < round && !rc; i++)
			rc = v->run(state);
		if (!rc)
			rc = be->sync(ctx, err);
	}
	if (rc || !be->count_begin)
		return rc;
	rc = be->count_begin(ctx, err);
	if (!rc)
		rc = v->run(state);
	if (!rc)
		rc = be->sync(ctx, err);
	if (!rc)
		rc = be->count_end(ctx, &r->launches_api, &r->launches_kernels, err);
	return rc;
}

void measure_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		     const struct aisp_target *t, size_t vi, const struct aisp_params *p,
		     const struct measure_opts *o, struct variant_result *r)
{
	const struct aisp_variant *v = &t->variants[vi];
	struct aisp_check check = {.rel_error = NAN, .tolerance = NAN};
	aisp_error e = {0};
	void *state = NULL;
	aisp_err rc;

	r->role = v->role;
	text_copy(r->technique, sizeof(r->technique), v->technique ? v->technique : v->name);
	r->launches_api = r->launches_kernels = -1;
	r->work = t->work ? t->work(p) : NAN;
	r->bytes = t->bytes ? t->bytes(p) : NAN;
	r->flops = t->flops ? t->flops(p) : NAN;
	text_copy(r->work_unit, sizeof(r->work_unit), t->work_unit ? t->work_unit : "");
	r->rel_error = r->tolerance = NAN;
	if (be->range_push)
		be->range_push(ctx, r->instance);
	ctx->err = &e; /* targets put their error text here */
	ctx->variant = v;
	rc = v->setup(ctx, p, &state);
	if (rc) {
		set_status(r, "error", "setup", rc, &e);
		goto out;
	}
	rc = v->verify(state, &check);
	if (!rc)
		rc = be->sync(ctx, &e);
	r->rel_error = check.rel_error;
	r->tolerance = check.tolerance;
	r->n_checks = check.n_values < AISP_CHECK_VALUES ? check.n_values : AISP_CHECK_VALUES;
	memcpy(r->checks, check.values, r->n_checks * sizeof(r->checks[0]));
	if (rc) {
		set_status(r, "error", "verify", rc, &e);
		goto out;
	}
	if (check.skipped) { /* the variant cannot run here: recorded, not timed, not a failure */
		text_copy(r->status, sizeof(r->status), "skipped");
		snprintf(r->message, sizeof(r->message), "%s", check.message);
		goto out;
	}
	if (!check.passed) {
		text_copy(r->status, sizeof(r->status), "verify_failed");
		snprintf(r->message, sizeof(r->message), "%s", check.message);
		goto out;
	}
	rc = warm_and_count(be, ctx, v, state, o, r, &e);
	if (!rc)
		rc = calibrate(be, ctx, v, state, o, &r->per_sample, &e);
	if (!rc)
		rc = timed_loop(be, ctx, v, state, o, r, &e);
	if (rc) {
		set_status(r, "error", "run", rc, &e);
		goto out;
	}
	text_copy(r->status, sizeof(r->status), "ok");
	snprintf(r->message, sizeof(r->message), "%s", check.message);
out:
	ctx->err = NULL;
	ctx->variant = NULL;
	if (state)
		v->teardown(state);
	if (be->range_pop)
		be->range_pop(ctx);
}

/* Index of the largest "err:" value of r, or -1. */
static int worst_err(const struct variant_result *r)
{
	int w = -1;

	for (size_t i = 0; i < r->n_checks; i++)
		if (!strncmp(r->checks[i].name, "err:", 4) &&
		    (w < 0 || !(r->checks[i].value <= r->checks[w].value))) /* NaN wins */
			w = (int)i;
	return w;
}

void measure_check_text(const struct variant_result *r, char *buf, size_t n)
{
	double first = NAN, last = NAN;
	int have = 0, w = worst_err(r);
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n_checks; i++) {
		if (!strcmp(r->checks[i].name, "loss_first")) {
			first = r->checks[i].value;
			have |= 1;
		} else if (!strcmp(r->checks[i].name, "loss_last")) {
			last = r->checks[i].value;
			have |= 2;
		}
	}
	if (have == 3)
		used = (size_t)snprintf(buf, n, "loss %.4f->%.4f", first, last);
	if (w >= 0 && used < n)
		snprintf(buf + used, n - used, "%serr max %.1e (%s)", used ? ", " : "",
			 r->checks[w].value, r->checks[w].name + 4);
}
