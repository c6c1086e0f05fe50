/* compare_core.c - the verdict engine: a finished fleet against an
 * expectations document (rules in compare.h). */
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

const char *compare_verdict_name(enum verdict v)
{
	static const char *const names[VERDICT_COUNT] = {
		"pass", "improved", "missing", "outlier", "regressed", "failed",
	};

	return (unsigned)v < VERDICT_COUNT ? names[v] : "?";
}

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
	it->expected = it->z = NAN;
	if (inst == UINT32_MAX)
		snprintf(it->label, sizeof(it->label), "%s", var_name);
	else
		snprintf(it->label, sizeof(it->label), "%s/%s", fleet_str(f, inst),
			 var_name ? var_name : fleet_str(f, var));
	return it;
}

/* Raise it to verdict v (never lower) with a reason. */
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

/* What a variant is held to: stored time, speedup and fleet spread. */
struct compare_ref {
	double expected, speedup, fleet_median, fleet_mad, lower, upper;
	const char *spread_from;
};

/* Reference of variant v of instance in from example ex (may be NULL). */
static void compare_ref_of(const struct fleet *f, const struct fleet_inst *in,
			   const struct fleet_var *v, const json_t *ex,
			   const struct compare_opts *o, struct compare_ref *ref)
{
	const json_t *fv = json_object_get(json_object_get(json_object_get(ex, "fleet"),
							   "variants"), fleet_str(f, v->var));
	const json_t *m = json_object_get(ex, "metrics");
	const char *best = expect_str(json_object_get(ex, "metadata"), "best_optimization");
	int is_base = in->baseline != FLEET_NONE && &f->vars[in->baseline] == v;
	int is_best = best && !strcmp(best, fleet_str(f, v->var));

	ref->expected = expect_num(fv, "median_ms");
	ref->speedup = is_base ? NAN : expect_num(fv, "speedup");
	if (isnan(ref->expected) && is_base)
		ref->expected = expect_num(m, "baseline_time_ms");
	if (isnan(ref->expected) && is_best)
		ref->expected = expect_num(m, "best_optimized_time_ms");
	if (isnan(ref->speedup) && is_best)
		ref->speedup = expect_num(m, "best_speedup");
	ref->fleet_median = expect_num(fv, "median_ms");
	ref->fleet_mad = expect_num(fv, "mad_ms");
	ref->spread_from = "stored fleet";
	if (!(ref->fleet_mad > 0.0) && v->n_ok >= 3) {
		ref->fleet_median = v->median;
		ref->fleet_mad = v->mad;
		ref->spread_from = "this run's fleet";
	} else if (!(ref->fleet_mad > 0.0)) {
		ref->fleet_median = ref->fleet_mad = NAN;
	}
	expect_tolerance(ex, &ref->lower, &ref->upper);
	if (o->job)
		for (size_t i = 0; i < o->job->n_targets; i++)
			if (!strcmp(o->job->targets[i].instance, fleet_str(f, in->inst))) {
				if (!isnan(o->job->targets[i].tol_lower))
					ref->lower = fabs(o->job->targets[i].tol_lower);
				if (!isnan(o->job->targets[i].tol_upper))
					ref->upper = fabs(o->job->targets[i].tol_upper);
			}
	if (!isnan(o->tol_lower))
		ref->lower = o->tol_lower;
	if (!isnan(o->tol_upper))
		ref->upper = o->tol_upper;
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

/* Append the throughput of variant v at median ms against expected ms, for
 * targets that state their work ("flop", "B"...): reads better than time. */
static void compare_throughput(const struct fleet *f, const struct fleet_var *v,
			       double ms, double expected, struct compare_item *it)
{
	size_t len = strlen(it->reason);
	const char *unit = fleet_str(f, v->unit);

	if (!(v->work > 0.0) || !unit[0] || !isfinite(expected) || len + 8 > sizeof(it->reason))
		return;
	snprintf(it->reason + len, sizeof(it->reason) - len, "; throughput %.4g %s/s vs %.4g",
		 v->work * 1000.0 / ms, unit, v->work * 1000.0 / expected);
}

/* Judge one GPU's result g of variant v. */
static void compare_gpu(const struct fleet *f, const struct fleet_inst *in,
			const struct fleet_var *v, const struct fleet_gpu *g,
			const struct compare_ref *ref, const struct compare_opts *o,
			struct compare_item *it)
{
	double ratio, base, sp;

	it->expected = ref->expected;
	if (!strcmp(fleet_str(f, g->status), "skipped")) { /* not applicable here */
		compare_set(it, VERDICT_PASS, "skipped: %s", fleet_str(f, g->msg));
		return;
	}
	if (strcmp(fleet_str(f, g->status), "ok")) {
		compare_set(it, VERDICT_FAILED, "status %s: %s", fleet_str(f, g->status),
			    fleet_str(f, g->msg));
		return;
	}
	ratio = g->median / ref->expected;
	if (ratio > 1.0 + ref->upper)
		compare_set(it, VERDICT_REGRESSED, "%+.1f%% vs expected %.6g ms (tolerance +%g%%)",
			    100.0 * (ratio - 1.0), ref->expected, 100.0 * ref->upper);
	else if (ratio < 1.0 - ref->lower)
		compare_set(it, VERDICT_IMPROVED, "%+.1f%% vs expected %.6g ms (tolerance -%g%%)",
			    100.0 * (ratio - 1.0), ref->expected, 100.0 * ref->lower);
	if (it->v != VERDICT_PASS)
		compare_throughput(f, v, g->median, ref->expected, it);
	else if (isnan(ratio))
		compare_set(it, VERDICT_PASS, "no stored time");
	it->z = stats_robust_z(g->median, ref->fleet_median, ref->fleet_mad);
	if (it->z > o->z && g->median > ref->fleet_median * (1.0 + o->min_delta))
		compare_set(it, VERDICT_OUTLIER, "outlier: z=%+.1f, %+.1f%% vs %s median %.6g ms",
			    it->z, 100.0 * (g->median / ref->fleet_median - 1.0),
			    ref->spread_from, ref->fleet_median);
	base = compare_base_on(f, in, g);
	sp = base / g->median;
	/* Only when the variant itself got slower: a faster baseline on this GPU
	 * is not a regression of the optimization. NAN for the baseline: false. */
	if (ratio > 1.0 && sp < ref->speedup * (1.0 - ref->lower))
		compare_set(it, VERDICT_REGRESSED, "speedup %.4g below expected %.4g (tolerance -%g%%)",
			    sp, ref->speedup, 100.0 * ref->lower);
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

/* Every variant and GPU of instance in against example ex (may be NULL). */
static int compare_inst(const struct fleet *f, const struct fleet_inst *in, const json_t *ex,
			const struct compare_opts *o, size_t *idx, struct compare_result *r)
{
	const json_t *fv = json_object_get(json_object_get(ex, "fleet"), "variants");
	const char *best = expect_str(json_object_get(ex, "metadata"), "best_optimization");
	const char *k;
	json_t *val;

	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];
		struct compare_ref ref;

		compare_ref_of(f, in, v, ex, o, &ref);
		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
			struct compare_item *it = compare_add(r, f, v->inst, v->var, NULL, j);

			if (!it)
				return -1;
			compare_gpu(f, in, v, &f->gpus[j], &ref, o, it);
			if (!ex && it->v == VERDICT_PASS)
				snprintf(it->reason, sizeof(it->reason), "no stored expectation");
		}
		if (compare_missing_gpus(f, in, v, idx, r))
			return -1;
	}
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

/* qsort_r order of GPU verdicts: by node name, then UUID. */
static int compare_cmp_unit(const void *a, const void *b, void *arg)
{
	const struct compare_unit *x = a, *y = b;
	const struct fleet *f = arg;
	int c = strcmp(fleet_str(f, x->node), fleet_str(f, y->node));

	return c ? c : strcmp(fleet_str(f, x->id), fleet_str(f, y->id));
}

/* Worst verdict per GPU (every GPU of a rank file with hardware key hk),
 * then per node. */
static aisp_err compare_units(const struct fleet *f, struct compare_result *r,
			      aisp_error *err)
{
	size_t n = f->s.n + 1, *worst = malloc(n * sizeof(*worst));
	char *seen = calloc(n, 1);
	aisp_err rc = AISP_OK;

	r->gpus = calloc(f->n_files + 1, sizeof(*r->gpus));
	r->nodes = calloc(f->n_files + 1, sizeof(*r->nodes));
	if (!worst || !seen || !r->gpus || !r->nodes) {
		rc = aisp_fail(err, AISP_ENOMEM, "compare: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		worst[i] = FLEET_NONE;
	for (size_t i = 0; i < r->n_items; i++) {
		uint32_t g = r->items[i].gpu;

		if (g != UINT32_MAX && (worst[g] == FLEET_NONE ||
					r->items[i].v > r->items[worst[g]].v))
			worst[g] = i;
	}
	for (size_t i = 0; i < f->n_files; i++) {
		const struct fleet_file *ff = &f->files[i];
		struct compare_unit *u;

		if (ff->hk != r->hk || seen[ff->gpu])
			continue;
		seen[ff->gpu] = 1;
		u = &r->gpus[r->n_gpus++];
		u->id = ff->gpu;
		u->node = ff->node;
		u->rank = ff->rank;
		u->worst = worst[ff->gpu];
		u->v = u->worst == FLEET_NONE ? VERDICT_PASS : r->items[u->worst].v;
	}
	qsort_r(r->gpus, r->n_gpus, sizeof(*r->gpus), compare_cmp_unit, (void *)f);
	for (size_t i = 0; i < r->n_gpus; i++) {
		const struct compare_unit *g = &r->gpus[i];
		struct compare_unit *u = r->n_nodes ? &r->nodes[r->n_nodes - 1] : NULL;

		if (!u || u->id != g->node) {
			u = &r->nodes[r->n_nodes++];
			*u = (struct compare_unit){g->node, g->node, g->rank, VERDICT_PASS, FLEET_NONE};
		}
		if (g->worst != FLEET_NONE && (u->worst == FLEET_NONE || g->v > u->v)) {
			u->v = g->v;
			u->worst = g->worst;
		}
	}
out:
	free(worst);
	free(seen);
	return rc;
}

/* Hardware key id in f named by the expectations, UINT32_MAX if none. */
static uint32_t compare_find_hk(const struct fleet *f, const char *hk)
{
	for (size_t i = 0; i < f->n_insts; i++)
		if (!strcmp(fleet_str(f, f->insts[i].hk), hk))
			return f->insts[i].hk;
	return UINT32_MAX;
}

aisp_err compare_fleet(const struct fleet *f, const json_t *exp, const char *name,
		       const struct compare_opts *o, struct compare_result *out,
		       aisp_error *err)
{
	const json_t *exs = json_object_get(exp, "examples");
	const char *hk = expect_str(exp, "hardware_key"), *k;
	char key[2 * AISP_NAME_MAX];
	size_t *idx = malloc((f->n_gpus + 1) * sizeof(*idx));
	aisp_err rc = AISP_OK;
	json_t *ex;

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
	json_object_foreach((json_t *)exs, k, ex) {
		int found = 0;

		for (size_t i = 0; i < f->n_insts && !found; i++) {
			gather_example_key(f, &f->insts[i], key, sizeof(key));
			found = f->insts[i].hk == out->hk && !strcmp(key, k);
		}
		if (!found) {
			struct compare_item *it = compare_add(out, f, UINT32_MAX, UINT32_MAX, k,
							      FLEET_NONE);

			if (!it)
				goto oom;
			compare_set(it, VERDICT_MISSING, "expected example not in this run");
		}
	}
	if ((rc = compare_units(f, out, err)))
		goto out;
	for (size_t i = 0; i < out->n_items; i++)
		out->counts[out->items[i].v]++;
	out->exit_status = out->counts[VERDICT_FAILED] || out->counts[VERDICT_REGRESSED] ||
			   out->counts[VERDICT_OUTLIER] ? 1 :
			   out->counts[VERDICT_MISSING] || fleet_incomplete(f) ? 3 : 0;
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
	memset(r, 0, sizeof(*r));
}
