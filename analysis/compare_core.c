/* compare_core.c - the verdict engine: every variant of a finished fleet
 * against an expectations document, each GPU against its siblings after the
 * run's common shift, that shift once against the baseline (rules in
 * compare.h and analysis/README.md, "Verdicts"). */
#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gather.h"
#include "job.h"
#include "stats.h"

/* Append an item; NULL when out of memory. */
static struct compare_item *compare_add(struct compare_result *r, const struct fleet *f,
					uint32_t inst, uint32_t var, const char *var_name,
					size_t gpu_idx)
{
	struct compare_item *it;

	if (r->n_items == r->cap_items) {
		size_t cap = r->cap_items ? 2 * r->cap_items : 256;
		void *p = realloc(r->items, cap * sizeof(*r->items));

		if (!p)
			return NULL;
		r->items = p;
		r->cap_items = cap;
	}
	it = &r->items[r->n_items++];
	memset(it, 0, sizeof(*it));
	it->inst = inst;
	it->var = var;
	it->gpu = gpu_idx == FLEET_NONE ? UINT32_MAX : f->gpus[gpu_idx].gpu;
	it->node = gpu_idx == FLEET_NONE ? UINT32_MAX : f->gpus[gpu_idx].node;
	it->gpu_idx = gpu_idx;
	it->observed = gpu_idx == FLEET_NONE ? NAN : f->gpus[gpu_idx].median;
	it->expected = it->reference = it->excess = it->z = it->work = it->event_ms = NAN;
	it->unit = UINT32_MAX;
	if (inst == UINT32_MAX)
		snprintf(it->label, sizeof(it->label), "%s", var_name);
	else
		snprintf(it->label, sizeof(it->label), "%s/%s", fleet_str(f, inst),
			 var_name ? var_name : fleet_str(f, var));
	return it;
}

/* Raise it to verdict v (never lower) with a reason; a reason of the same
 * verdict is appended after "; ". */
static void compare_set(struct compare_item *it, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void compare_set(struct compare_item *it, enum verdict v, const char *fmt, ...)
{
	size_t len = strlen(it->reason);
	va_list ap;

	if (v < it->v)
		return;
	if (v > it->v)
		len = 0;
	it->v = v;
	if (len && len + 2 < sizeof(it->reason))
		it->reason[len++] = ';', it->reason[len++] = ' ';
	va_start(ap, fmt);
	vsnprintf(it->reason + len, sizeof(it->reason) - len, fmt, ap);
	va_end(ap);
}

/* Append printf text to it's reason. */
static void compare_more(struct compare_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void compare_more(struct compare_item *it, const char *fmt, ...)
{
	size_t len = strlen(it->reason);
	va_list ap;

	if (len + 1 >= sizeof(it->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(it->reason + len, sizeof(it->reason) - len, fmt, ap);
	va_end(ap);
}

/* Add a note (once per text); -1 when out of memory. */
static int compare_note(struct compare_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int compare_note(struct compare_result *r, const char *fmt, ...)
{
	char text[sizeof(r->notes[0])];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < r->n_notes; i++)
		if (!strcmp(r->notes[i], text))
			return 0;
	if (r->n_notes == r->cap_notes) {
		size_t cap = r->cap_notes ? 2 * r->cap_notes : 16;
		void *p = realloc(r->notes, cap * sizeof(*r->notes));

		if (!p)
			return -1;
		r->notes = p;
		r->cap_notes = cap;
	}
	memcpy(r->notes[r->n_notes++], text, sizeof(text));
	return 0;
}

/* What a variant is held to. */
struct compare_ref {
	double expected, speedup;   /* stored; NAN when none */
	double base_spread;         /* stored fleet's 1.4826 MAD / median; NAN: unknown */
	double noise;               /* stored noise, else this run's */
	double run_spread;          /* this run's 1.4826 MAD / median (of the reference GPUs) */
	double sigma;               /* the spread z divides by; NAN: none */
	double reference;           /* the siblings' median each GPU is held to */
	int n_ref;                  /* GPUs it rests on */
	int n_judged;               /* GPUs with a result to judge (ok; device:
				     * and a device time) */
	int siblings;               /* 1: each GPU against its siblings */
	int base_gpus;              /* GPUs of the stored fleet, 0 when not said */
	int device;                 /* 1: judged by device time (host-launch-bound);
				     * every time above is then a device time */
	int has_example;            /* the baseline has an example for it */
	const char *when, *commit;  /* of the baseline */
};

/* What GPU g is judged by: its device time or its median. */
static double compare_val(const struct compare_ref *ref, const struct fleet_gpu *g)
{
	return ref->device ? g->device : g->median;
}

/* Reference of variant v of instance in from example ex (may be NULL). */
static void compare_ref_of(const struct fleet *f, const struct fleet_inst *in,
			   const struct fleet_var *v, const json_t *ex, struct compare_ref *ref)
{
	const json_t *fv = json_object_get(json_object_get(json_object_get(ex, "fleet"),
							   "variants"), fleet_str(f, v->var));
	const json_t *m = json_object_get(ex, "metrics"), *p = json_object_get(ex, "provenance");
	const char *best = expect_str(json_object_get(ex, "metadata"), "best_optimization");
	int is_base = in->baseline != FLEET_NONE && &f->vars[in->baseline] == v;
	int is_best = best && !strcmp(best, fleet_str(f, v->var)), dev = v->host_launch;
	/* a speedup over (or of) a host-bound median is not judged */
	int sp = !is_base && !dev && !(in->baseline != FLEET_NONE &&
				       f->vars[in->baseline].host_launch);
	const char *med_key = dev ? "device_median_ms" : "median_ms";
	double mad = expect_num(fv, dev ? "device_mad_ms" : "mad_ms"),
	       ok = expect_num(fv, dev ? "device_gpus" : "ok"),
	       noise = expect_num(fv, dev ? "device_noise" : "noise");
	double med = dev ? v->dev.median : v->median, rmad = dev ? v->dev.mad : v->mad;

	ref->device = dev;
	ref->has_example = ex != NULL;
	ref->n_judged = dev ? v->dev.n_gpus : v->n_ok;
	ref->expected = expect_num(fv, med_key);
	ref->speedup = sp ? expect_num(fv, "speedup") : NAN;
	if (isnan(ref->expected) && is_base && !dev)
		ref->expected = expect_num(m, "baseline_time_ms");
	if (isnan(ref->expected) && is_best && !dev)
		ref->expected = expect_num(m, "best_optimized_time_ms");
	if (isnan(ref->speedup) && is_best && sp)
		ref->speedup = expect_num(m, "best_speedup");
	if (isnan(ok) && !dev)
		ok = expect_num(fv, "gpus");
	ref->base_gpus = ok >= 1 && ok < 1e9 ? (int)ok : 0;
	ref->base_spread = ref->base_gpus >= 2 && mad >= 0.0 && ref->expected > 0.0 ?
			   1.4826 * mad / expect_num(fv, med_key) : NAN;
	ref->noise = noise > 0.0 ? noise : dev ? v->dev.noise : v->noise;
	ref->siblings = ref->n_judged >= COMPARE_MIN_SIBLINGS;
	ref->reference = med;
	ref->n_ref = ref->n_judged;
	ref->run_spread = ref->n_judged >= 2 && med > 0.0 ? 1.4826 * rmad / med : NAN;
	ref->when = expect_str(p, "timestamp");
	ref->commit = expect_str(p, "git_commit");
	if (!ref->when)
		ref->when = "of unknown date";
	if (!ref->commit)
		ref->commit = "unknown";
}

/* The siblings' reference of variant v (ref->siblings): the run's median,
 * or, when at least half of its GPUs are within the tolerance of the
 * baseline and others are not, the median of those (a part of the fleet
 * broke; the rest did not shift). Then the spread z divides by. x is
 * scratch of 2 v->n_gpus. */
static void compare_reference(const struct fleet *f, const struct fleet_var *v,
			      const struct compare_tol *tol, double *x, struct compare_ref *ref)
{
	size_t k = 0;

	for (size_t j = v->gpu0; ref->siblings && j < v->gpu0 + v->n_gpus; j++) {
		const struct fleet_gpu *g = &f->gpus[j];
		double y = compare_val(ref, g);

		if (g->n_runs > 0 && isfinite(y) && y / ref->expected - 1.0 <= tol->upper)
			x[k++] = y;
	}
	if (ref->siblings && 2 * k >= (size_t)ref->n_judged && k < (size_t)ref->n_judged) {
		ref->reference = stats_median_inplace(x, k);
		ref->n_ref = (int)k;
		ref->run_spread = 1.4826 * stats_mad(x, k, ref->reference, x + v->n_gpus) /
				  ref->reference;
	}
	ref->sigma = ref->siblings ? fmax(fmax(ref->run_spread, ref->base_spread), ref->noise) :
		     isnan(ref->base_spread) ? NAN : fmax(ref->base_spread, ref->noise);
}

/* Median of the baseline on the same GPU as g, NAN if none. */
static double compare_base_on(const struct fleet *f, const struct fleet_inst *in,
			      const struct fleet_gpu *g)
{
	const struct fleet_var *b;
	size_t lo, hi;

	if (in->baseline == FLEET_NONE)
		return NAN;
	b = &f->vars[in->baseline];
	lo = b->gpu0;
	hi = b->gpu0 + b->n_gpus;
	while (lo < hi) { /* a variant's GPUs are in uuid order */
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fleet_str(f, f->gpus[mid].gpu), fleet_str(f, g->gpu));

		if (c == 0)
			return f->gpus[mid].median;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NAN;
}

/* "device time " and " (CUPTI)" around an excess of a device-time item,
 * "" for a median. */
#define COMPARE_WHAT(ref) ((ref)->device ? "device time " : "")
#define COMPARE_HOW(ref) ((ref)->device ? " (CUPTI)" : "")

/* GPU g against its siblings' median (ref->reference). */
static void compare_sibling(const struct fleet_gpu *g, const struct compare_ref *ref,
			    const struct compare_tol *tol, const struct compare_opts *o,
			    struct compare_item *it)
{
	double y = compare_val(ref, g), base = y / ref->expected - 1.0, m = ref->reference;
	const char *what = COMPARE_WHAT(ref), *how = COMPARE_HOW(ref);

	it->siblings = 1;
	it->reference = m;
	it->excess = y / m - 1.0;
	it->z = it->excess / ref->sigma;
	if (it->excess > tol->upper)
		compare_set(it, VERDICT_REGRESSED, "%s%+.1f%%%s vs its siblings (median %.6g ms of %d GPUs; tolerance +%g%% %s)",
			    what, 100.0 * it->excess, how, m, ref->n_ref, 100.0 * tol->upper, tol->source);
	else if (it->z > o->z && it->excess > o->min_delta)
		compare_set(it, VERDICT_OUTLIER, "%s%+.1f%%%s vs its siblings (median %.6g ms of %d GPUs): z=%+.1f, spread %.2g%%",
			    what, 100.0 * it->excess, how, m, ref->n_ref, it->z, 100.0 * ref->sigma);
	else if (it->excess < -tol->lower)
		compare_set(it, VERDICT_IMPROVED, "%s%+.1f%%%s vs its siblings (median %.6g ms of %d GPUs; tolerance -%g%% %s)",
			    what, 100.0 * it->excess, how, m, ref->n_ref, 100.0 * tol->lower, tol->source);
	else if (ref->device)
		compare_set(it, VERDICT_PASS, "device time %+.1f%% (CUPTI) vs its siblings (median %.6g ms of %d GPUs)",
			    100.0 * it->excess, m, ref->n_ref);
	if (it->v != VERDICT_PASS && isfinite(base))
		compare_more(it, "; %+.1f%% vs baseline %.6g ms", 100.0 * base, ref->expected);
}

/* GPU g against the baseline alone (too few siblings). */
static void compare_alone(const struct fleet *f, const struct fleet_inst *in,
			  const struct fleet_gpu *g, const struct compare_ref *ref,
			  const struct compare_tol *tol, const struct compare_opts *o,
			  struct compare_item *it)
{
	const char *what = COMPARE_WHAT(ref), *how = COMPARE_HOW(ref);
	double base, sp;

	it->reference = ref->expected;
	it->excess = compare_val(ref, g) / ref->expected - 1.0;
	if (isnan(it->excess)) {
		compare_set(it, VERDICT_PASS, "no stored time, too few GPUs for a sibling comparison");
		return;
	}
	if (it->excess > tol->upper)
		compare_set(it, VERDICT_REGRESSED, "%s%+.1f%%%s vs expected %.6g ms (tolerance +%g%% %s; baseline alone)",
			    what, 100.0 * it->excess, how, ref->expected, 100.0 * tol->upper, tol->source);
	else if (it->excess < -tol->lower)
		compare_set(it, VERDICT_IMPROVED, "%s%+.1f%%%s vs expected %.6g ms (tolerance -%g%% %s; baseline alone)",
			    what, 100.0 * it->excess, how, ref->expected, 100.0 * tol->lower, tol->source);
	it->z = it->excess / ref->sigma;
	if (it->z > o->z && it->excess > o->min_delta)
		compare_set(it, VERDICT_OUTLIER, "%s%+.1f%%%s vs the stored fleet median %.6g ms: z=%+.1f, spread %.2g%% (baseline alone)",
			    what, 100.0 * it->excess, how, ref->expected, it->z, 100.0 * ref->sigma);
	if (ref->device && it->v == VERDICT_PASS)
		compare_set(it, VERDICT_PASS, "device time %+.1f%% (CUPTI) vs expected %.6g ms (tolerance +%g%% %s; baseline alone)",
			    100.0 * it->excess, ref->expected, 100.0 * tol->upper, tol->source);
	base = compare_base_on(f, in, g);
	sp = base / g->median;
	/* Only when the variant itself got slower: a faster baseline on this GPU
	 * is not a regression of the optimization. NAN for the baseline: false. */
	if (it->excess > 0.0 && sp < ref->speedup * (1.0 - tol->lower))
		compare_set(it, VERDICT_REGRESSED, "speedup %.4g below expected %.4g (tolerance -%g%% %s; baseline alone)",
			    sp, ref->speedup, 100.0 * tol->lower, tol->source);
}

/* A host-launch-bound variant's GPU g (ref->device) that cannot be judged:
 * no device time here, or too few siblings and none in the baseline. 1
 * when so (it is then unjudged, never pass); else it is set up to be
 * judged by its device time. */
static int compare_unjudged(const struct fleet_gpu *g, const struct compare_ref *ref,
			    struct compare_item *it)
{
	it->device = 1;
	it->event_ms = g->median;
	it->observed = g->device;
	if (isnan(g->device))
		compare_set(it, VERDICT_UNJUDGED, "not judged (host launch path, no device time); the event median, host launch path included, was %.6g ms",
			    g->median);
	else if (!ref->siblings && isnan(ref->expected) && ref->has_example)
		compare_set(it, VERDICT_UNJUDGED, "not judged (host launch path, and the baseline has no device time: gather it from runs that recorded device_ms); device time %.6g ms, the event median %.6g ms",
			    g->device, g->median);
	return it->v == VERDICT_UNJUDGED;
}

/* Judge one GPU's result g of variant v. */
static void compare_gpu(const struct fleet *f, const struct fleet_inst *in,
			const struct fleet_var *v, const struct fleet_gpu *g,
			const struct compare_ref *ref, const struct compare_tol *tol,
			const struct compare_opts *o, struct compare_item *it)
{
	const char *status = fleet_str(f, g->status);

	it->expected = ref->expected;
	it->work = v->work;
	it->unit = v->unit;
	if (!strcmp(status, "skipped")) { /* not applicable here */
		if (isfinite(ref->expected))
			compare_set(it, VERDICT_MISSING, "skipped (%s), but the baseline measured it",
				    fleet_str(f, g->msg));
		else
			compare_set(it, VERDICT_SKIPPED, "skipped (%s)", fleet_str(f, g->msg));
		return;
	}
	if (strcmp(status, "ok")) {
		compare_set(it, VERDICT_FAILED, "status %s: %s", status, fleet_str(f, g->msg));
		return;
	}
	if (ref->device && compare_unjudged(g, ref, it))
		return;
	if (ref->siblings)
		compare_sibling(g, ref, tol, o, it);
	else
		compare_alone(f, in, g, ref, tol, o, it);
	if (ref->device)
		compare_more(it, "; the event median, host launch path included, was %.6g ms, not judged",
			     g->median);
}

/* The run's common shift of variant v against the baseline, judged once:
 * a fleet finding when beyond the tolerance; -1 when out of memory. */
static int compare_shift(const struct fleet *f, const struct fleet_var *v,
			 const struct compare_ref *ref, const struct compare_tol *tol,
			 struct compare_result *r)
{
	double s = ref->reference / ref->expected - 1.0;
	int slow = s > tol->upper, fast = s < -tol->lower, beyond = 0;
	int lost = s > 0.0 && v->speedup < ref->speedup * (1.0 - tol->lower);
	struct compare_item *it;

	if (!slow && !fast && !lost)
		return 0;
	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++)
		beyond += compare_val(ref, &f->gpus[j]) / ref->expected - 1.0 > tol->upper;
	it = compare_add(r, f, v->inst, v->var, NULL, FLEET_NONE);
	if (!it)
		return -1;
	it->fleet = 1;
	it->device = ref->device;
	it->event_ms = ref->device ? v->median : NAN;
	it->observed = ref->reference;
	it->expected = it->reference = ref->expected;
	it->excess = s;
	it->work = v->work;
	it->unit = v->unit;
	if (slow || fast)
		compare_set(it, slow ? VERDICT_REGRESSED : VERDICT_IMPROVED,
			    "fleet-wide: %smedian of %d GPUs %+.1f%%%s vs baseline %.6g ms (%s, commit %.12s); %d of %d GPUs beyond the tolerance %c%g%% (%s): %s",
			    COMPARE_WHAT(ref), ref->n_judged, 100.0 * s, COMPARE_HOW(ref),
			    ref->expected, ref->when, ref->commit,
			    slow ? beyond : 0, ref->n_judged, slow ? '+' : '-',
			    100.0 * (slow ? tol->upper : tol->lower), tol->source,
			    slow ? "not a node fault, nobody drained for it" : "faster everywhere");
	if (lost)
		compare_set(it, VERDICT_REGRESSED, "fleet-wide: speedup %.4g below expected %.4g (tolerance -%g%% %s)",
			    v->speedup, ref->speedup, 100.0 * tol->lower, tol->source);
	return 0;
}

/* Notes on how variant v could be judged; -1 when out of memory. */
static int compare_var_notes(const struct fleet *f, const struct fleet_var *v,
			     const struct compare_ref *ref, const struct compare_tol *tol,
			     struct compare_result *r)
{
	const char *inst = fleet_str(f, v->inst), *var = fleet_str(f, v->var);
	int n = ref->n_judged;

	if (ref->device && v->n_ok > 0 &&
	    compare_note(r, "%s/%s: its median includes the host's launch path: judged by its device time (CUPTI device_ms) on the %d of %d GPUs that have one; speedups over it are not judged",
			 inst, var, n, v->n_ok))
		return -1;
	if (ref->siblings && 4 * (n - ref->n_ref) >= n && /* a quarter or more */
	    compare_note(r, "%s/%s: %d of %d GPUs are beyond the tolerance against the baseline: the other %d are the reference (part of the fleet is slow; the rest did not shift)",
			 inst, var, n - ref->n_ref, n, ref->n_ref))
		return -1;
	if (n > 0 && !ref->siblings &&
	    compare_note(r, "%s: %d GPU%s with results, fewer than %d: each judged against the baseline alone (a fleet-wide shift cannot be told from a node fault)",
			 inst, n, n > 1 ? "s" : "", COMPARE_MIN_SIBLINGS))
		return -1;
	if (n > 0 && ref->base_gpus == 1 &&
	    compare_note(r, "%s: the baseline rests on one GPU: fleet spread unknown%s", inst,
			 ref->siblings ? " (the spread is this run's siblings')" : ""))
		return -1;
	if (ref->siblings && isnan(ref->expected) &&
	    compare_note(r, "%s/%s: no stored time: each GPU judged against its siblings only", inst,
			 var))
		return -1;
	if (ref->siblings && FLEET_Z_FALSE_DRAIN * ref->sigma > tol->upper &&
	    compare_note(r, "%s/%s: spread %.2g%% (3.09 x = %.2g%%) is wider than the tolerance +%g%% (%s): its drains may be noise",
			 inst, var, 100.0 * ref->sigma, 100.0 * FLEET_Z_FALSE_DRAIN * ref->sigma,
			 100.0 * tol->upper, tol->source))
		return -1;
	return 0;
}

/* 1 when variant name is in instance in of f. */
static int compare_has_var(const struct fleet *f, const struct fleet_inst *in, const char *name)
{
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		if (!strcmp(fleet_str(f, f->vars[i].var), name))
			return 1;
	return 0;
}

/* qsort_r order of GPU row indices by GPU UUID. */
static int compare_cmp_uuid(const void *a, const void *b, void *arg)
{
	const struct fleet *f = arg;

	return strcmp(fleet_str(f, f->gpus[*(const size_t *)a].gpu),
		      fleet_str(f, f->gpus[*(const size_t *)b].gpu));
}

/* GPUs that ran some variant of in but not v get a missing item; idx is
 * scratch for every GPU row of in. Rows of a variant are in uuid order. */
static int compare_missing_gpus(const struct fleet *f, const struct fleet_inst *in,
				const struct fleet_var *v, size_t *idx,
				struct compare_result *r)
{
	size_t n = 0, k = v->gpu0, end = v->gpu0 + v->n_gpus;

	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		for (size_t j = f->vars[i].gpu0; j < f->vars[i].gpu0 + f->vars[i].n_gpus; j++)
			idx[n++] = j;
	qsort_r(idx, n, sizeof(*idx), compare_cmp_uuid, (void *)f);
	for (size_t i = 0; i < n; i++) {
		const char *u = fleet_str(f, f->gpus[idx[i]].gpu);
		struct compare_item *it;
		int c = 1;

		if (i > 0 && f->gpus[idx[i]].gpu == f->gpus[idx[i - 1]].gpu)
			continue;
		while (k < end && (c = strcmp(fleet_str(f, f->gpus[k].gpu), u)) < 0)
			k++;
		if (k < end && c == 0)
			continue;
		it = compare_add(r, f, v->inst, v->var, NULL, idx[i]);
		if (!it)
			return -1;
		it->observed = NAN;
		compare_set(it, VERDICT_MISSING, "not measured on this GPU");
	}
	return 0;
}

/* Every GPU of variant v, its common shift and notes. */
static int compare_variant(const struct fleet *f, const struct fleet_inst *in,
			   const struct fleet_var *v, const json_t *ex,
			   const struct compare_tol *tol, const struct compare_opts *o,
			   size_t *idx, struct compare_result *r)
{
	double *x = malloc((2 * v->n_gpus + 1) * sizeof(*x));
	struct compare_ref ref;

	if (!x)
		return -1;
	compare_ref_of(f, in, v, ex, &ref);
	compare_reference(f, v, tol, x, &ref);
	free(x);
	if (ref.siblings && isfinite(ref.expected) && compare_shift(f, v, &ref, tol, r))
		return -1;
	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
		struct compare_item *it = compare_add(r, f, v->inst, v->var, NULL, j);

		if (!it)
			return -1;
		compare_gpu(f, in, v, &f->gpus[j], &ref, tol, o, it);
		if (!ex && it->v == VERDICT_PASS && !ref.siblings)
			snprintf(it->reason, sizeof(it->reason), "no stored expectation");
	}
	if (compare_var_notes(f, v, &ref, tol, r))
		return -1;
	return compare_missing_gpus(f, in, v, idx, r);
}

/* Every variant and GPU of instance in against example ex (may be NULL). */
static int compare_inst(const struct fleet *f, const struct fleet_inst *in, const json_t *ex,
			const struct compare_opts *o, size_t *idx, struct compare_result *r)
{
	const json_t *fv = json_object_get(json_object_get(ex, "fleet"), "variants");
	const char *best = expect_str(json_object_get(ex, "metadata"), "best_optimization");
	struct compare_tol tol;
	const char *k;
	json_t *val;

	compare_tolerance(f, in, ex, o, &tol);
	if (!ex && compare_note(r, "%s: no stored expectation for it", fleet_str(f, in->inst)))
		return -1;
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		if (compare_variant(f, in, &f->vars[i], ex, &tol, o, idx, r))
			return -1;
	json_object_foreach((json_t *)fv, k, val)
		if (!compare_has_var(f, in, k)) {
			struct compare_item *it = compare_add(r, f, in->inst, UINT32_MAX, k, FLEET_NONE);

			if (!it)
				return -1;
			compare_set(it, VERDICT_MISSING, "expected variant not in this run");
		}
	if (best && !json_object_get(fv, best) && !compare_has_var(f, in, best)) {
		struct compare_item *it = compare_add(r, f, in->inst, UINT32_MAX, best, FLEET_NONE);

		if (!it)
			return -1;
		compare_set(it, VERDICT_MISSING, "expected best optimization not in this run");
	}
	return 0;
}

/* Tolerance field: the option, --job's, the example's, the noise's or the
 * default, the first that is set; src names where it came from. */
static double compare_tol_pick(double opt, double job, double ex, const char *ex_src,
			       double noise, const char **src)
{
	const double v[] = {opt, job, ex, noise};
	const char *const s[] = {"option", "--job", ex_src, "noise"};

	for (size_t i = 0; i < 4; i++)
		if (!isnan(v[i])) {
			*src = s[i];
			return v[i];
		}
	*src = "default";
	return EXPECT_TOL_DEFAULT;
}

void compare_tolerance(const struct fleet *f, const struct fleet_inst *in, const json_t *ex,
		       const struct compare_opts *o, struct compare_tol *t)
{
	const json_t *fl = json_object_get(ex, "fleet"), *v;
	double ex_lo, ex_hi, job_lo = NAN, job_hi = NAN, noise = NAN, floor;
	const char *ex_src, *lo_src, *k;
	int known = 0;

	expect_tolerance(ex, &ex_lo, &ex_hi, &ex_src);
	floor = expect_num(fl, "min_delta");
	if (isnan(floor))
		floor = o->min_delta;
	json_object_foreach((json_t *)json_object_get(fl, "variants"), k, v) {
		const char *by = expect_str(v, "judged_by");
		int dev = by && !strcmp(by, "device_ms"); /* gather: judged by device time */
		double x = fleet_noise_tolerance(expect_num(v, dev ? "device_detectable" : "detectable"),
						 floor);

		known |= isfinite(expect_num(v, dev ? "device_noise_run" : "noise_run"));
		if (isfinite(x) && (isnan(noise) || x > noise))
			noise = x;
	}
	if (!known)
		noise = NAN;
	for (size_t i = 0; o->job && i < o->job->n_targets; i++)
		if (!strcmp(o->job->targets[i].instance, fleet_str(f, in->inst))) {
			job_lo = fabs(o->job->targets[i].tol_lower);
			job_hi = fabs(o->job->targets[i].tol_upper);
		}
	t->lower = compare_tol_pick(o->tol_lower, job_lo, ex_lo, ex_src, noise, &lo_src);
	t->upper = compare_tol_pick(o->tol_upper, job_hi, ex_hi, ex_src, noise, &t->source);
	(void)lo_src; /* the upper bound drains; its source is the one shown */
}

/* Hardware key id in f named by the expectations, UINT32_MAX if none. */
static uint32_t compare_find_hk(const struct fleet *f, const char *hk)
{
	for (size_t i = 0; i < f->n_insts; i++)
		if (!strcmp(fleet_str(f, f->insts[i].hk), hk))
			return f->insts[i].hk;
	return UINT32_MAX;
}

/* Every example of exs not in the run: a missing item each. */
static int compare_absent_examples(const struct fleet *f, const json_t *exs,
				   struct compare_result *r)
{
	char key[2 * AISP_NAME_MAX];
	const char *k;
	json_t *ex;

	json_object_foreach((json_t *)exs, k, ex) {
		int found = 0;

		for (size_t i = 0; i < f->n_insts && !found; i++) {
			gather_example_key(f, &f->insts[i], key, sizeof(key));
			found = f->insts[i].hk == r->hk && !strcmp(key, k);
		}
		if (!found) {
			struct compare_item *it = compare_add(r, f, UINT32_MAX, UINT32_MAX, k,
							      FLEET_NONE);

			if (!it)
				return -1;
			compare_set(it, VERDICT_MISSING, "expected example not in this run");
		}
	}
	return 0;
}

aisp_err compare_fleet(const struct fleet *f, const json_t *exp, const char *name,
		       const struct compare_opts *o, struct compare_result *out,
		       aisp_error *err)
{
	const json_t *exs = json_object_get(exp, "examples");
	const char *hk = expect_str(exp, "hardware_key");
	char key[2 * AISP_NAME_MAX];
	size_t *idx = malloc((f->n_gpus + 1) * sizeof(*idx));
	aisp_err rc = AISP_OK;

	memset(out, 0, sizeof(*out));
	out->hk = compare_find_hk(f, hk);
	if (!idx) {
		rc = aisp_fail(err, AISP_ENOMEM, "compare: out of memory");
		goto out;
	}
	if (out->hk == UINT32_MAX) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: hardware_key %s: the run has no results for it (it has %s)",
			       name, hk, f->n_insts ? fleet_str(f, f->insts[0].hk) : "none");
		goto out;
	}
	for (size_t i = 0; i < f->n_insts; i++) {
		if (f->insts[i].hk != out->hk)
			continue;
		gather_example_key(f, &f->insts[i], key, sizeof(key));
		if (compare_inst(f, &f->insts[i], json_object_get(exs, key), o, idx, out))
			goto oom;
	}
	if (compare_absent_examples(f, exs, out))
		goto oom;
	if ((rc = compare_units(f, out, err)))
		goto out;
	for (size_t i = 0; i < out->n_items; i++) {
		if (!out->items[i].fleet)
			out->counts[out->items[i].v]++;
		out->n_fleet += out->items[i].fleet && out->items[i].v >= VERDICT_OUTLIER;
	}
	out->exit_status = out->counts[VERDICT_FAILED] || out->counts[VERDICT_REGRESSED] ||
			   out->counts[VERDICT_OUTLIER] || out->n_fleet ? 1 :
			   out->counts[VERDICT_MISSING] || out->counts[VERDICT_UNJUDGED] ||
			   fleet_incomplete(f) ? 3 : 0;
	goto out;
oom:
	rc = aisp_fail(err, AISP_ENOMEM, "compare: out of memory");
out:
	free(idx);
	return rc;
}

void compare_result_free(struct compare_result *r)
{
	free(r->items);
	free(r->gpus);
	free(r->nodes);
	free(r->order);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}
