/* fleet_agg.c - aggregate fleet rows into per-GPU, per-variant and
 * per-instance results (statistics defined in fleet.h). */
#include "fleet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Sort context: the rank of every string id in strcmp order. */
struct fleet_order {
	const struct fleet *f;
	uint32_t *ord;
};

/* qsort_r order of string ids by their strings. */
static int fleet_cmp_id(const void *a, const void *b, void *arg)
{
	const struct fleet *f = arg;

	return strcmp(fleet_str(f, *(const uint32_t *)a), fleet_str(f, *(const uint32_t *)b));
}

/* ord[id] = position of string id in sorted order; NULL when out of memory. */
static uint32_t *fleet_string_order(const struct fleet *f)
{
	uint32_t n = f->s.n, *ids = malloc((n + 1) * sizeof(*ids)),
		 *ord = malloc((n + 1) * sizeof(*ord));

	if (!ids || !ord) {
		free(ids);
		free(ord);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	qsort_r(ids, n, sizeof(*ids), fleet_cmp_id, (void *)f);
	for (uint32_t i = 0; i < n; i++)
		ord[ids[i]] = i;
	free(ids);
	return ord;
}

/* Rows by hardware_key, instance, variant, GPU (names), then run. */
static int fleet_cmp_row(const void *a, const void *b, void *arg)
{
	const struct fleet_row *x = a, *y = b;
	const uint32_t *o = arg;
	int64_t d;

	if ((d = (int64_t)o[x->hk] - o[y->hk]) || (d = (int64_t)o[x->inst] - o[y->inst]) ||
	    (d = (int64_t)o[x->var] - o[y->var]) || (d = (int64_t)o[x->gpu] - o[y->gpu]))
		return d < 0 ? -1 : 1;
	return (x->run > y->run) - (x->run < y->run);
}

/* qsort order of uint32_t values. */
static int fleet_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Number of distinct values in v[0..n) (v is sorted). */
static int fleet_distinct(uint32_t *v, size_t n)
{
	int k = 0;

	qsort(v, n, sizeof(*v), fleet_cmp_u32);
	for (size_t i = 0; i < n; i++)
		k += i == 0 || v[i] != v[i - 1];
	return k;
}

/* Median of the finite values of x[0..n) (x reordered); NAN if none. */
static double fleet_median(double *x, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i]))
			x[k++] = x[i];
	return stats_median_inplace(x, k);
}

/* One GPU from its rows r[0..n) (all runs); scratch holds 5n doubles. */
static void fleet_make_gpu(const struct fleet *f, const struct fleet_row *r, size_t n,
			   uint32_t ok_id, double *scr, struct fleet_gpu *g)
{
	double *m = scr, *a = scr + n, *b = scr + 2 * n, *c = scr + 3 * n, *d = scr + 4 * n;
	size_t k = 0;

	memset(g, 0, sizeof(*g));
	g->status = r[n - 1].status;
	g->msg = r[n - 1].msg;
	for (size_t i = 0; i < n; i++) {
		if (r[i].status != ok_id) {
			g->msg = r[i].msg;
			continue;
		}
		m[k] = r[i].median;
		a[k] = r[i].p10;
		b[k] = r[i].p75;
		c[k] = r[i].p90;
		d[k++] = r[i].device; /* NAN where not measured: left out */
	}
	g->n_runs = (int)k;
	g->before = r[n - 1].before;
	g->after = r[n - 1].after;
	for (size_t i = n; k && i-- > 0;)
		if (r[i].status == ok_id) { /* the facts of the result it is judged by */
			g->before = r[i].before;
			g->after = r[i].after;
			break;
		}
	if (k)
		g->status = ok_id;
	g->median = k ? fleet_median(m, k) : NAN;
	g->p10 = k ? fleet_median(a, k) : NAN;
	g->p75 = k ? fleet_median(b, k) : NAN;
	g->p90 = k ? fleet_median(c, k) : NAN;
	g->device = k ? fleet_median(d, k) : NAN;
	g->gpu = r[n - 1].gpu;
	g->node = r[n - 1].node;
	g->host = r[n - 1].host;
	g->gpu_name = r[n - 1].gpu_name;
	g->run = r[n - 1].run;
	g->rank = r[n - 1].rank;
	g->gpu_index = r[n - 1].gpu_index;
	g->z = NAN;
	(void)f;
}

/* Device-time statistics of variant v over its GPUs g (fleet.h); scratch
 * holds 2 n_gpus. */
static void fleet_make_dev(struct fleet_var *v, const struct fleet_gpu *g, uint32_t ok_id,
			   double *scr)
{
	struct fleet_device *d = &v->dev;
	double *m = scr, *t = scr + v->n_gpus;
	size_t k = 0;

	for (size_t i = 0; i < v->n_gpus; i++)
		if (g[i].status == ok_id && isfinite(g[i].device))
			m[k++] = g[i].device;
	d->n_gpus = (int)k;
	stats_median_inplace(m, k);
	d->median = stats_quantile_sorted(m, k, 0.5);
	d->p10 = stats_quantile_sorted(m, k, 0.10);
	d->p90 = stats_quantile_sorted(m, k, 0.90);
	d->min = k ? m[0] : NAN;
	d->max = k ? m[k - 1] : NAN;
	d->mad = k ? stats_mad(m, k, d->median, t) : NAN;
}

/* z and the outlier flag of every GPU of v, on what v is judged by. */
static void fleet_make_z(const struct fleet *f, struct fleet_var *v, struct fleet_gpu *g,
			 uint32_t ok_id)
{
	double med = v->host_launch ? v->dev.median : v->median;
	double mad = v->host_launch ? v->dev.mad : v->mad;

	for (size_t i = 0; i < v->n_gpus; i++) {
		double x = v->host_launch ? g[i].device : g[i].median;

		if (g[i].status != ok_id || isnan(x))
			continue;
		g[i].z = stats_robust_z(x, med, mad);
		g[i].outlier = g[i].z > f->z_threshold && x > med * (1.0 + f->min_delta);
		v->n_outliers += g[i].outlier;
	}
}

/* Fleet statistics of variant v over its GPUs; scratch holds 2 n_gpus. */
static void fleet_make_var(const struct fleet *f, struct fleet_var *v, struct fleet_gpu *g,
			   uint32_t ok_id, const uint32_t *ord, double *scr, uint32_t *nodes)
{
	double *m = scr, *t = scr + v->n_gpus;
	size_t k = 0;

	for (size_t i = 0; i < v->n_gpus; i++) {
		nodes[i] = ord[g[i].node];
		if (g[i].status == ok_id)
			m[k++] = g[i].median;
		else if (!strcmp(fleet_str(f, g[i].status), "skipped"))
			v->n_skipped++;
		else
			v->n_failed++;
	}
	v->n_ok = (int)k;
	v->n_nodes = fleet_distinct(nodes, v->n_gpus);
	stats_median_inplace(m, k);
	v->median = stats_quantile_sorted(m, k, 0.5);
	v->p10 = stats_quantile_sorted(m, k, 0.10);
	v->p90 = stats_quantile_sorted(m, k, 0.90);
	v->min = k ? m[0] : NAN;
	v->max = k ? m[k - 1] : NAN;
	v->mad = k ? stats_mad(m, k, v->median, t) : NAN;
	for (size_t i = 0, j = 0; i < v->n_gpus; i++)
		if (g[i].status == ok_id)
			m[j++] = g[i].p75;
	v->sample_p75 = fleet_median(m, k);
	for (size_t i = 0, j = 0; i < v->n_gpus; i++)
		if (g[i].status == ok_id)
			m[j++] = g[i].p90;
	v->sample_p90 = fleet_median(m, k);
	fleet_make_dev(v, g, ok_id, scr);
	fleet_make_z(f, v, g, ok_id);
}

/* Run-to-run noise (fleet.h's noise_run) of the rows r[0..n), sorted by GPU
 * and run, on their medians or, with device set, their device times;
 * *pairs gets the sum of (k - 1). NAN when no GPU has two. Scratch holds 2n. */
static double fleet_noise_run(const struct fleet_row *r, size_t n, uint32_t ok_id, int device,
			      double *scr, int *pairs)
{
	double *d = scr, *m = scr + n;
	size_t nd = 0;

	*pairs = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i, c = 0;
		double med;

		while (j < n && r[j].gpu == r[i].gpu)
			j++;
		for (size_t x = i; x < j; x++) {
			double y = device ? r[x].device : r[x].median;

			if (r[x].status == ok_id && y > 0.0 && isfinite(y))
				m[c++] = y;
		}
		if (c >= 2) {
			med = stats_median_inplace(m, c);
			for (size_t x = 0; x < c; x++)
				d[nd++] = fabs(log(m[x] / med)) * sqrt((double)c / (double)(c - 1));
			*pairs += (int)(c - 1);
		}
		i = j;
	}
	return nd ? 1.4826 * fleet_median(d, nd) : NAN;
}

/* Noise of variant v (fleet.h) from its rows r[0..n), sorted by GPU and
 * run, on its median and on its device time; scratch holds 2n doubles. */
static void fleet_make_noise(struct fleet_var *v, const struct fleet_row *r, size_t n,
			     uint32_t ok_id, double *scr)
{
	double *d = scr, within, se;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].status == ok_id && r[i].median > 0.0 && isfinite(r[i].mad))
			d[k++] = 1.4826 * r[i].mad / r[i].median;
	within = v->noise_within = fleet_median(d, k);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].status == ok_id)
			d[k++] = r[i].n_samples;
	se = k ? 1.2533 * within / sqrt(fleet_median(d, k)) : NAN;
	v->dev.noise_run = fleet_noise_run(r, n, ok_id, 1, scr, &v->dev.noise_run_pairs);
	v->dev.noise = v->dev.n_gpus ? FLEET_NOISE_FLOOR : NAN;
	if (v->dev.noise < v->dev.noise_run)
		v->dev.noise = v->dev.noise_run;
	v->noise_run = fleet_noise_run(r, n, ok_id, 0, scr, &v->noise_run_pairs);
	v->noise = v->n_ok ? FLEET_NOISE_FLOOR : NAN;
	if (v->noise < v->noise_run)
		v->noise = v->noise_run;
	if (v->noise < se)
		v->noise = se;
}

/* Detectable slowdown of each variant of instance in, per target: V is
 * the number of its variants with a result (those a verdict judges). */
static void fleet_make_detectable(struct fleet *f, const struct fleet_inst *in)
{
	size_t judged = 0;

	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		judged += f->vars[i].n_ok > 0;
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++) {
		f->vars[i].detectable = fleet_detectable(f->vars[i].noise, judged);
		f->vars[i].dev.detectable = fleet_detectable(f->vars[i].dev.noise, judged);
	}
}

/* Baseline, best optimized variant, speedups, counts and detectable
 * slowdowns of instance in. */
static void fleet_make_inst(struct fleet *f, struct fleet_inst *in, uint32_t base_id,
			    uint32_t opt_id, const uint32_t *ord, uint32_t *ids)
{
	size_t n = 0, m;

	in->baseline = in->best = FLEET_NONE;
	in->best_speedup = NAN;
	in->job_lower = in->job_upper = NAN;
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		if (f->vars[i].role == base_id && in->baseline == FLEET_NONE)
			in->baseline = i;
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++) {
		struct fleet_var *v = &f->vars[i];

		v->speedup = in->baseline != FLEET_NONE ? f->vars[in->baseline].median / v->median
							 : NAN;
		if (v->role == opt_id && v->n_ok > 0 &&
		    (in->best == FLEET_NONE || v->median < f->vars[in->best].median))
			in->best = i;
		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++)
			ids[n++] = ord[f->gpus[j].gpu];
	}
	if (in->best != FLEET_NONE)
		in->best_speedup = f->vars[in->best].speedup;
	in->n_gpus = fleet_distinct(ids, n);
	m = 0;
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++)
		for (size_t j = f->vars[i].gpu0; j < f->vars[i].gpu0 + f->vars[i].n_gpus; j++)
			ids[m++] = ord[f->gpus[j].node];
	in->n_nodes = fleet_distinct(ids, m);
	fleet_make_detectable(f, in);
}

/* Group sorted rows into gpus and vars. */
static aisp_err fleet_group(struct fleet *f, const uint32_t *ord, uint32_t ok_id,
			    double *scr, uint32_t *ids)
{
	size_t i = 0, var_start = 0, row_start = 0;

	while (i < f->n_rows) {
		const struct fleet_row *r = &f->rows[i];
		size_t j = i + 1;
		struct fleet_var *v;

		while (j < f->n_rows && f->rows[j].hk == r->hk && f->rows[j].inst == r->inst &&
		       f->rows[j].var == r->var && f->rows[j].gpu == r->gpu)
			j++;
		fleet_make_gpu(f, r, j - i, ok_id, scr, &f->gpus[f->n_gpus++]);
		i = j;
		if (i < f->n_rows && f->rows[i].hk == r->hk && f->rows[i].inst == r->inst &&
		    f->rows[i].var == r->var)
			continue;
		v = &f->vars[f->n_vars++];
		memset(v, 0, sizeof(*v));
		v->hk = r->hk;
		v->inst = r->inst;
		v->target = r->target;
		v->var = r->var;
		v->role = r->role;
		v->tech = r->tech;
		v->unit = r->unit;
		v->backend = r->backend;
		v->work = r->work;
		v->bytes = r->bytes;
		v->iterations = r->iterations;
		v->warmup = r->warmup;
		v->gpu0 = var_start;
		v->n_gpus = f->n_gpus - var_start;
		for (size_t x = row_start; x < i; x++)
			v->host_launch |= f->rows[x].host_launch;
		fleet_make_var(f, v, &f->gpus[var_start], ok_id, ord, scr, ids);
		fleet_make_noise(v, &f->rows[row_start], i - row_start, ok_id, scr);
		var_start = f->n_gpus;
		row_start = i;
	}
	return AISP_OK;
}

aisp_err fleet_finish(struct fleet *f, aisp_error *err)
{
	uint32_t ok_id = strtab_intern(&f->s, "ok"), base_id = strtab_intern(&f->s, "baseline"),
		 opt_id = strtab_intern(&f->s, "optimized"), *ord = NULL, *ids = NULL;
	size_t n = f->n_rows ? f->n_rows : 1;
	double *scr = NULL;
	aisp_err rc = AISP_OK;

	ord = fleet_string_order(f);
	scr = malloc(5 * n * sizeof(*scr));
	ids = malloc(n * sizeof(*ids));
	f->gpus = malloc(n * sizeof(*f->gpus));
	f->vars = malloc(n * sizeof(*f->vars));
	f->insts = malloc(n * sizeof(*f->insts));
	if (!ord || !scr || !ids || !f->gpus || !f->vars || !f->insts ||
	    ok_id == UINT32_MAX || base_id == UINT32_MAX || opt_id == UINT32_MAX) {
		rc = aisp_fail(err, AISP_ENOMEM, "fleet: out of memory");
		goto out;
	}
	if (f->n_rows)
		qsort_r(f->rows, f->n_rows, sizeof(*f->rows), fleet_cmp_row, ord);
	f->n_gpus = f->n_vars = f->n_insts = 0;
	fleet_group(f, ord, ok_id, scr, ids);
	for (size_t i = 0; i < f->n_vars;) {
		struct fleet_inst *in = &f->insts[f->n_insts++];
		size_t j = i + 1;

		while (j < f->n_vars && f->vars[j].hk == f->vars[i].hk &&
		       f->vars[j].inst == f->vars[i].inst)
			j++;
		memset(in, 0, sizeof(*in));
		in->hk = f->vars[i].hk;
		in->inst = f->vars[i].inst;
		in->target = f->vars[i].target;
		in->backend = f->vars[i].backend;
		in->var0 = i;
		in->n_vars = j - i;
		fleet_make_inst(f, in, base_id, opt_id, ord, ids);
		i = j;
	}
out:
	free(ord);
	free(scr);
	free(ids);
	return rc;
}
