/*
 * measure.c - set-up, verification, warm-up, timed samples, timer pass,
 * counted pass.
 *
 * Order per variant: setup, verify, warm-up (count, time, then until the SM
 * clock holds still), calibrate the batch of a sample, timed samples (CUDA
 * events; the host's enqueue time, CPU and preemptions recorded beside
 * them), then two passes with CUPTI on. The timer pass: one sample's batch
 * between the same events while CUPTI records only the device work (no
 * API callbacks, which slow launches), so that our events and CUPTI's
 * timestamps time the same region under the same launch cadence. The
 * counted pass: one untimed batch with the callbacks too (launch calls,
 * kernels, device durations, names). Both after the samples keep CUPTI out
 * of the item's timed region; AISP_MEASURE switches put the counted pass
 * back in front (the old order) or leave CUPTI out, to measure its cost.
 */
#include "measure.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clock.h"
#include "stats.h"
#include "text.h"
#include "services.h"

static const struct {
	const char *word;
	unsigned bit;
} switch_words[] = {
	{"count-first", MEASURE_COUNT_FIRST},
	{"nocount", MEASURE_NO_COUNT},
	{"noclockwarm", MEASURE_NO_CLOCK_WARMUP},
	{"nopin", MEASURE_NO_PIN},
	{"keepworker", MEASURE_KEEP_WORKER},
};

#define N_SWITCH_WORDS (sizeof(switch_words) / sizeof(switch_words[0]))

aisp_err measure_switches_parse(const char *text, unsigned *out, aisp_error *err)
{
	const char *p = text ? text : "";

	*out = 0;
	while (*p) {
		size_t len = strcspn(p, ", "), i;

		for (i = 0; len && i < N_SWITCH_WORDS; i++)
			if (strlen(switch_words[i].word) == len && !strncmp(p, switch_words[i].word, len))
				break;
		if (len && i == N_SWITCH_WORDS)
			return aisp_fail(err, AISP_EINPUT, "AISP_MEASURE: unknown switch '%.*s' "
					 "(known: count-first, nocount, noclockwarm, nopin, "
					 "keepworker)",
					 (int)(len > 40 ? 40 : len), p);
		if (len)
			*out |= switch_words[i].bit;
		p += len + (p[len] != '\0');
	}
	return AISP_OK;
}

void measure_switches_text(unsigned switches, char *buf, size_t n)
{
	size_t len = 0;

	if (n)
		buf[0] = '\0';
	for (size_t i = 0; i < N_SWITCH_WORDS && len < n; i++)
		if (switches & switch_words[i].bit)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "",
						switch_words[i].word);
}

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

/*
 * Test knob (AISP_TEST_SLOW_PCT, tests only): a timed region that began at
 * t0 (s) and has just enqueued its work waits for it, then sleeps inside
 * the region until it has lasted (1 + pct/100) times as long, so a
 * "degraded GPU" of a simulated fleet is slower in proportion to its real
 * work, and really takes that long (time limits see it). Targets never
 * time themselves; pct 0 (every real run) returns at once.
 */
static aisp_err stretch(const struct aisp_backend_ops *be, struct aisp_ctx *ctx, double t0,
			int pct, aisp_error *err)
{
	aisp_err rc;

	if (pct <= 0)
		return AISP_OK;
	if ((rc = be->sync(ctx, err)))
		return rc;
	clock_sleep_until_s(t0 + (clock_now_s() - t0) * (1.0 + pct / 100.0));
	return AISP_OK;
}

/* Time n back-to-back iterations as one region of *ms; *host_ms (may be
 * NULL) gets the host time spent enqueuing them. */
static aisp_err time_batch(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state, int n, int slow_pct,
			   double *ms, double *host_ms, aisp_error *err)
{
	aisp_err rc = be->time_begin(ctx, err);
	double h0 = clock_now_ms(), t0 = clock_now_s();

	for (int i = 0; i < n && !rc; i++)
		rc = v->ops->run(state);
	if (host_ms)
		*host_ms = clock_now_ms() - h0;
	if (!rc)
		rc = stretch(be, ctx, t0, slow_pct, err);
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
		aisp_err rc = time_batch(be, ctx, v, state, 1, o->slow_pct, &ms, NULL, err);

		if (rc)
			return rc;
		best = ms < best ? ms : best;
	}
	if (best > 0 && best < o->min_sample_ms)
		*per_sample = (int)fmin(ceil(o->min_sample_ms / best), 100000);
	return AISP_OK;
}

/* The probe's SM clock now, 0 when there is none. */
static unsigned probe_clock(const struct measure_probe *probe)
{
	return probe && probe->sm_clock_mhz ? probe->sm_clock_mhz(probe->arg) : 0;
}

/* Times this thread was preempted so far, -1 unknown. */
static long preemptions(void)
{
	struct rusage u;

	return getrusage(RUSAGE_THREAD, &u) ? -1 : u.ru_nivcsw;
}

/* Before the samples: CPU, preemptions, clock; after them: the changes. */
static void samples_context(const struct measure_probe *probe, struct variant_result *r,
			    int after, long *ivcsw)
{
	int cpu = sched_getcpu();

	if (!after) {
		r->worker_cpu = cpu;
		r->worker_cpu_pinned = probe ? probe->cpu_pinned : 0;
		*ivcsw = preemptions();
		r->sm_clock_start_mhz = probe_clock(probe);
		return;
	}
	long now = preemptions();

	r->sm_clock_end_mhz = probe_clock(probe);
	r->cpu_migrated = cpu != r->worker_cpu;
	r->involuntary_switches = *ivcsw >= 0 && now >= 0 ? now - *ivcsw : -1;
}

/* Time samples into r->samples until the adaptive stop; r->host_ms is the
 * median host enqueue time per iteration. */
static aisp_err timed_loop(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state,
			   const struct measure_opts *o, const struct measure_probe *probe,
			   struct variant_result *r, aisp_error *err)
{
	size_t cap = (size_t)o->max_iterations;
	double t0, *scratch, *host;
	aisp_err rc = AISP_OK;
	long ivcsw = -1;

	r->samples = malloc(cap * sizeof(double));
	scratch = malloc(cap * sizeof(double));
	host = malloc(cap * sizeof(double));
	if (!r->samples || !scratch || !host) {
		rc = aisp_fail(err, AISP_ENOMEM, "no memory for %zu samples", cap);
		goto out;
	}
	samples_context(probe, r, 0, &ivcsw);
	t0 = clock_now_s();
	while (!should_stop(r->samples, r->n_samples, scratch, o, clock_now_s() - t0)) {
		double ms, hms;

		rc = time_batch(be, ctx, v, state, r->per_sample, o->slow_pct, &ms, &hms, err);
		if (rc)
			goto out;
		host[r->n_samples] = hms / r->per_sample;
		r->samples[r->n_samples++] = ms / r->per_sample;
	}
	samples_context(probe, r, 1, &ivcsw);
	r->host_ms = stats_median_inplace(host, r->n_samples);
out:
	free(host);
	free(scratch);
	return rc;
}

/* x / n rounded to the nearest whole count; -1 stays -1. */
static long per_iteration(long x, int n)
{
	return x < 0 ? -1 : (x + n / 2) / n;
}

/* Untimed: n iterations with CUPTI on (launch calls, kernels, device
 * durations and names), also bracketed by events. */
static aisp_err count_pass(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state, int n,
			   struct variant_result *r, aisp_error *err)
{
	struct backend_count c;
	double ms = NAN;
	aisp_err rc, rc2;

	if (!be->count_begin || n < 1)
		return AISP_OK;
	if ((rc = be->count_begin(ctx, err)))
		return rc;
	rc = time_batch(be, ctx, v, state, n, 0, &ms, NULL, err);
	rc2 = be->count_end(ctx, &c, rc ? NULL : err); /* stop counting either way */
	if (rc || rc2)
		return rc ? rc : rc2;
	r->count_iterations = n;
	r->launches_api = per_iteration(c.api, n);
	r->launches_kernels = per_iteration(c.kernels, n);
	r->device_ops = per_iteration(c.ops, n);
	r->device_ms = c.device_ms / n;
	r->device_span_ms = c.span_ms / n;
	r->count_event_ms = ms / n;
	text_copy(r->kernel_names, sizeof(r->kernel_names), c.names);
	return AISP_OK;
}

/* Iterations of the timer pass: a sample's batch, or more, so that the batch
 * lasts about MEASURE_TIMER_MIN_MS (the first launches under CUPTI cost the
 * host extra; a 1 ms kernel timed alone would carry that inside its events),
 * at most MEASURE_COUNT_MAX_ITER. */
static int timer_batch(const struct variant_result *r)
{
	double last = r->n_samples ? r->samples[r->n_samples - 1] : NAN;
	double want = last > 0 ? ceil(MEASURE_TIMER_MIN_MS / last) : 1.0;
	int n = r->per_sample > want ? r->per_sample : (int)fmin(want, 1e9);

	return n < MEASURE_COUNT_MAX_ITER ? n : MEASURE_COUNT_MAX_ITER;
}

/* The timer pass: with CUPTI recording the device work only, one untimed
 * iteration (the first launches under a newly enabled trace pay CUPTI's
 * set-up; its records are dropped), then one batch of n iterations timed
 * by the events exactly as a sample is: events, span and summed durations
 * of the same region, per iteration. */
static aisp_err timer_pass(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state, int n,
			   struct variant_result *r, aisp_error *err)
{
	struct backend_count c;
	double ms = NAN;
	aisp_err rc, rc2;

	if (!be->trace_begin || !be->count_end || n < 1)
		return AISP_OK;
	if ((rc = be->trace_begin(ctx, err)))
		return rc;
	rc = v->ops->run(state);
	if (!rc)
		rc = be->trace_begin(ctx, err); /* wait, forget the untimed iteration */
	if (!rc)
		rc = time_batch(be, ctx, v, state, n, 0, &ms, NULL, err);
	rc2 = be->count_end(ctx, &c, rc ? NULL : err); /* stop tracing either way */
	if (rc || rc2)
		return rc ? rc : rc2;
	r->timer_iterations = n;
	r->timer_events_ms = ms / n;
	r->timer_span_ms = c.span_ms / n;
	r->timer_kernels_ms = c.device_ms / n;
	return AISP_OK;
}

/* One warm-up round of n iterations, then wait for them. */
static aisp_err warm_round(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			   const struct aisp_variant *v, void *state, int n, aisp_error *err)
{
	aisp_err rc = AISP_OK;

	for (int i = 0; i < n && !rc; i++)
		rc = v->ops->run(state);
	return rc ? rc : be->sync(ctx, err);
}

/* 1 when clock c is within MEASURE_CLOCK_STEADY of the read before, prev. */
static int clock_steady(unsigned prev, unsigned c)
{
	double d = (double)c - (double)prev;

	return prev && fabs(d) <= MEASURE_CLOCK_STEADY * prev;
}

/* Untimed warm-up: o->warmup iterations, then rounds of them until
 * o->warmup_ms has passed and (with a clock probe) the SM clock holds
 * still, reads MEASURE_CLOCK_READ_MS apart within MEASURE_CLOCK_STEADY,
 * rising or falling (an idle GPU ramps up; a power-capped one comes down),
 * for at most MEASURE_CLOCK_MAX_MS more. r gets the clock at the start and
 * end, whether it held, and the time spent. */
static aisp_err warm_up(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			const struct aisp_variant *v, void *state, const struct measure_opts *o,
			const struct measure_probe *probe, struct variant_result *r,
			aisp_error *err)
{
	int round = o->warmup > 0 ? o->warmup : 1, check;
	double t0 = clock_now_ms(), last = -INFINITY, now;
	unsigned prev = 0, c;
	aisp_err rc;

	check = probe && probe->sm_clock_mhz && !(probe->switches & MEASURE_NO_CLOCK_WARMUP);
	r->warmup_clock_steady = check ? 0 : -1;
	r->warmup_clock_start_mhz = r->warmup_clock_end_mhz = check ? probe_clock(probe) : 0;
	rc = warm_round(be, ctx, v, state, o->warmup, err);
	while (!rc) {
		now = clock_now_ms() - t0;
		if (now >= o->warmup_ms && !check)
			break;
		if (now >= o->warmup_ms && now - last >= MEASURE_CLOCK_READ_MS) {
			if (!(c = probe_clock(probe))) {
				r->warmup_clock_steady = -1; /* NVML gave no clock */
				break;
			}
			r->warmup_clock_end_mhz = c;
			if (clock_steady(prev, c)) {
				r->warmup_clock_steady = 1;
				break;
			}
			prev = c;
			last = now;
		}
		if (now >= o->warmup_ms + MEASURE_CLOCK_MAX_MS)
			break;
		rc = warm_round(be, ctx, v, state, round, err);
	}
	r->warmup_spent_ms = clock_now_ms() - t0;
	return rc;
}

/* Warm-up, samples, timer pass and counted pass, in the order the switches
 * say. */
static aisp_err measure_timed(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			      const struct aisp_variant *v, void *state,
			      const struct measure_opts *o, const struct measure_probe *probe,
			      struct variant_result *r, aisp_error *err)
{
	unsigned sw = probe ? probe->switches : 0;
	aisp_err rc = warm_up(be, ctx, v, state, o, probe, r, err);

	if (!rc && (sw & MEASURE_COUNT_FIRST) && !(sw & MEASURE_NO_COUNT))
		rc = count_pass(be, ctx, v, state, 1, r, err);
	if (!rc)
		rc = calibrate(be, ctx, v, state, o, &r->per_sample, err);
	if (!rc)
		rc = timed_loop(be, ctx, v, state, o, probe, r, err);
	if (!rc && !(sw & MEASURE_NO_COUNT))
		rc = timer_pass(be, ctx, v, state, timer_batch(r), r, err);
	if (!rc && !(sw & (MEASURE_COUNT_FIRST | MEASURE_NO_COUNT)))
		rc = count_pass(be, ctx, v, state,
				r->per_sample < MEASURE_COUNT_MAX_ITER ? r->per_sample
								       : MEASURE_COUNT_MAX_ITER,
				r, err);
	return rc;
}

/* A profile pass: one untimed iteration, then o->profile iterations inside
 * the NVTX range the profiler is told to look at; no samples. */
static aisp_err measure_profiled(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
				 const struct aisp_variant *v, void *state,
				 const struct measure_opts *o, aisp_error *err)
{
	aisp_err rc = warm_round(be, ctx, v, state, 1, err);

	if (rc)
		return rc;
	if (be->range_push)
		be->range_push(ctx, MEASURE_PROFILE_RANGE);
	rc = warm_round(be, ctx, v, state, o->profile, err);
	if (be->range_pop)
		be->range_pop(ctx);
	return rc;
}

/* Fill the parts of r that depend only on the target and variant. */
static void result_start(const struct aisp_target *t, const struct aisp_variant *v,
			 const struct aisp_params *p, const struct measure_probe *probe,
			 struct variant_result *r)
{
	r->role = v->role;
	r->host_launch = (v->flags & AISP_VARIANT_HOST_LAUNCH) != 0;
	text_copy(r->technique, sizeof(r->technique), v->technique ? v->technique : v->name);
	r->launches_api = r->launches_kernels = -1;
	r->work = t->card->work ? t->card->work(p) : NAN;
	r->bytes = t->card->bytes ? t->card->bytes(p) : NAN;
	r->flops = t->card->flops ? t->card->flops(p) : NAN;
	text_copy(r->work_unit, sizeof(r->work_unit), t->card->work_unit ? t->card->work_unit : "");
	r->rel_error = r->tolerance = NAN;
	variant_result_unknown(r);
	measure_switches_text(probe ? probe->switches : 0, r->measure_switches,
			      sizeof(r->measure_switches));
}

/* After a passed check: time the variant, or profile it. */
static void measure_checked(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			    const struct aisp_variant *v, void *state,
			    const struct measure_opts *o, const struct measure_probe *probe,
			    const struct aisp_check *check, struct variant_result *r, aisp_error *e)
{
	aisp_err rc;

	if (o->profile > 0)
		rc = measure_profiled(be, ctx, v, state, o, e);
	else
		rc = measure_timed(be, ctx, v, state, o, probe, r, e);
	if (rc) {
		set_status(r, "error", o->profile > 0 ? "profile" : "run", rc, e);
		return;
	}
	text_copy(r->status, sizeof(r->status), "ok");
	if (o->profile > 0)
		snprintf(r->message, sizeof(r->message), "profile pass: %d iteration%s in NVTX "
			 "range %s, not timed", o->profile, o->profile == 1 ? "" : "s",
			 MEASURE_PROFILE_RANGE);
	else
		snprintf(r->message, sizeof(r->message), "%s", check->message);
}

void measure_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		     const struct aisp_target *t, size_t vi, const struct aisp_params *p,
		     const struct measure_opts *o, const struct measure_probe *probe,
		     struct variant_result *r)
{
	const struct aisp_variant *v = &t->variants[vi];
	struct aisp_check check = {.rel_error = NAN, .tolerance = NAN};
	int ranged = be->range_push && o->profile <= 0; /* a profile pass: one range only */
	aisp_error e = {0};
	void *state = NULL;
	aisp_err rc;

	result_start(t, v, p, probe, r);
	if (ranged)
		be->range_push(ctx, r->instance);
	ctx->err = &e; /* targets put their error text here */
	ctx->variant = v;
	rc = v->ops->setup(ctx, p, &state);
	if (rc) {
		set_status(r, "error", "setup", rc, &e);
		goto out;
	}
	rc = v->ops->verify(state, &check);
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
	measure_checked(be, ctx, v, state, o, probe, &check, r, &e);
out:
	ctx->err = NULL;
	ctx->variant = NULL;
	if (state && v->ops->teardown)
		v->ops->teardown(state);
	services_release(ctx);
	if (ranged)
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
