/* report_tables.c - the report below the first screen: where the baseline
 * came from and how it moved, every target with its expected value, the
 * findings worst first, the rank -> host -> GPU map. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gather.h"

#define REP_FINDINGS 60      /* findings listed, worst first */
#define REP_HIST_POINTS 8    /* refreshes named in a markdown history line */

/* The example of instance in within the expectations, NULL if none. */
static const json_t *rep_example(const struct rep *r, const struct fleet_inst *in)
{
	char key[2 * AISP_NAME_MAX];

	if (!r->exp || strcmp(fleet_str(r->f, in->hk), expect_str(r->exp, "hardware_key")))
		return NULL;
	gather_example_key(r->f, in, key, sizeof(key));
	return json_object_get(json_object_get(r->exp, "examples"), key);
}

/* The reference of variant v (of instance in): as compare reads it (a
 * host-launch-bound variant's: its device time). */
static void rep_ref_of(const struct rep *r, const struct fleet_inst *in,
		       const struct fleet_var *v, const struct compare_opts *o, struct rep_ref *ref)
{
	const json_t *ex = rep_example(r, in);
	const json_t *fv = json_object_get(json_object_get(json_object_get(ex, "fleet"),
							   "variants"), fleet_str(r->f, v->var));
	const json_t *m = json_object_get(ex, "metrics");
	const char *best = expect_str(json_object_get(ex, "metadata"), "best_optimization");
	int is_base = in->baseline != FLEET_NONE && &r->f->vars[in->baseline] == v;
	struct compare_tol t;

	const char *noise = v->host_launch ? "device_noise" : "noise";

	ref->example = ex;
	ref->expected = expect_num(fv, v->host_launch ? "device_median_ms" : "median_ms");
	if (isnan(ref->expected) && is_base && !v->host_launch)
		ref->expected = expect_num(m, "baseline_time_ms");
	if (isnan(ref->expected) && best && !strcmp(best, fleet_str(r->f, v->var)) && !v->host_launch)
		ref->expected = expect_num(m, "best_optimized_time_ms");
	ref->noise = json_is_number(json_object_get(fv, noise)) ? expect_num(fv, noise) : NAN;
	compare_tolerance(r->f, in, ex, o, &t);
	ref->lower = t.lower;
	ref->upper = t.upper;
	ref->tol_source = t.source;
	ref->reference = NAN;
	ref->siblings = 0;
}

int report_refs(struct rep *r, const struct compare_opts *o)
{
	const struct fleet *f = r->f;

	if (!r->exp)
		return 0;
	r->refs = calloc(f->n_vars + 1, sizeof(*r->refs));
	if (!r->refs)
		return -1;
	for (size_t i = 0; i < f->n_insts; i++)
		for (size_t j = f->insts[i].var0; j < f->insts[i].var0 + f->insts[i].n_vars; j++)
			rep_ref_of(r, &f->insts[i], &f->vars[j], o, &r->refs[j]);
	for (size_t i = 0; i < f->n_vars; i++) /* what compare held each GPU to */
		for (size_t k = 0; r->c && k < r->c->n_items; k++) {
			const struct compare_item *it = &r->c->items[k];

			if (it->gpu_idx >= f->vars[i].gpu0 && it->gpu_idx < f->vars[i].gpu0 + f->vars[i].n_gpus &&
			    it->gpu_idx != FLEET_NONE && isfinite(it->reference)) {
				r->refs[i].reference = it->reference;
				r->refs[i].siblings = it->siblings;
				break;
			}
		}
	return 0;
}

/* The runs the baseline was gathered from (provenance.runs of its
 * examples, each run once). */
static void rep_baseline_runs(struct rep *r)
{
	static const char *const head[] = {"run", "ended (UTC)", "git commit", "rank files", "targets"};
	const char *k;
	json_t *ex, *seen = json_object();

	if (!seen)
		return;
	json_object_foreach(json_object_get(r->exp, "examples"), k, ex) {
		size_t i;
		json_t *run;

		json_array_foreach(json_object_get(json_object_get(ex, "provenance"), "runs"), i, run) {
			const char *id = expect_str(run, "run_id");
			json_t *row;

			if (!id)
				continue;
			row = json_object_get(seen, id);
			if (!row && (row = json_pack("{s:O,s:i}", "run", run, "n", 0)))
				json_object_set_new(seen, id, row);
			if (row)
				json_object_set_new(row, "n", json_integer(json_integer_value(
						json_object_get(row, "n")) + 1));
		}
	}
	rep_tab_begin(r, "runs", 5, head);
	json_object_foreach(seen, k, ex) {
		const json_t *run = json_object_get(ex, "run");
		const char *c = expect_str(run, "git_commit");

		rep_td(r, NULL, NULL, k);
		rep_td(r, NULL, NULL, expect_str(run, "end_utc"));
		rep_td(r, NULL, NULL, c ? rep_fmt(r, "%.12s", c) : "-");
		rep_td(r, "num", NULL, rep_fmt(r, "%.0f of %.0f", expect_num(run, "rank_files"),
					       expect_num(run, "world_size")));
		rep_td(r, "num", NULL, rep_fmt(r, "%lld", (long long)json_integer_value(
						       json_object_get(ex, "n"))));
	}
	rep_tab_end(r);
	json_decref(seen);
}

/* The refreshes of variant v in the history, as a markdown line. */
static void rep_history_line(struct rep *r, const struct fleet_var *v)
{
	size_t *idx = malloc((r->hist->n + 1) * sizeof(*idx)), n, k = 0;
	char line[1024];

	if (!idx)
		return;
	n = history_series(r->hist, fleet_str(r->f, v->hk), fleet_str(r->f, v->inst),
			   fleet_str(r->f, v->var), idx);
	for (size_t i = n > REP_HIST_POINTS ? n - REP_HIST_POINTS : 0; n > 1 && i < n; i++)
		k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%s", k ? " -> " : "",
				      rep_num(r, r->hist->recs[idx[i]].median));
	if (n > 1)
		rep_li(r, "%s/%s: %s ms over %zu refreshes (%s since the first, %s)", fleet_str(r->f, v->inst),
		       fleet_str(r->f, v->var), line, n,
		       rep_pct(r, r->hist->recs[idx[n - 1]].median / r->hist->recs[idx[0]].median - 1.0),
		       r->hist->recs[idx[0]].data_utc);
	free(idx);
}

void report_baseline(struct rep *r)
{
	const char *hk;

	if (!r->exp)
		return;
	hk = expect_str(r->exp, "hardware_key");
	rep_h(r, 2, "baseline", "Where the baseline came from");
	rep_p(r, NULL, "%s: hardware %s, %zu examples, gathered from these runs (each target's expected "
	      "values, tolerance and noise are in the table of targets below):", r->exp_path, hk,
	      json_object_size(json_object_get(r->exp, "examples")));
	rep_baseline_runs(r);
	if (!r->hist->n) {
		rep_p(r, NULL, "No history.h5 beside it: the baseline's refreshes are not known.");
		return;
	}
	rep_p(r, NULL, "History (history.h5 beside it): %zu records; the fleet median of each variant "
	      "across refreshes%s", r->hist->n, r->html ? " is plotted under its plot above." :
	      " (variants refreshed more than once; aisp history prints them all):");
	if (r->html)
		return;
	for (size_t i = 0; i < r->f->n_vars; i++)
		rep_history_line(r, &r->f->vars[i]);
	fputc('\n', r->o);
}

/* Worst verdict among the GPUs of variant vi and how many GPUs have it. */
static int rep_var_verdict(const struct rep *r, size_t vi, int *count)
{
	const struct fleet_var *v = &r->f->vars[vi];
	int worst = -1;

	*count = 0;
	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
		int g = r->c ? r->gv[j] : r->f->gpus[j].outlier ? VERDICT_OUTLIER : VERDICT_PASS;

		if (g > worst)
			worst = g, *count = 0;
		*count += g == worst;
	}
	return worst;
}

/* The verdict cell of variant vi: worst verdict and how many GPUs have it. */
static void rep_var_verdict_cell(struct rep *r, size_t vi)
{
	int n, w = rep_var_verdict(r, vi, &n);

	rep_td(r, w < 0 ? NULL : rep_fmt(r, "badge v-%s", compare_verdict_name((enum verdict)w)), NULL,
	       w < 0 ? "-" : w == VERDICT_PASS ? "PASS" :
	       rep_fmt(r, "%s (%d GPU%s)", rep_verdict_label((enum verdict)w), n, n == 1 ? "" : "s"));
}

/* The cells of variant vi: part 1 the judgement (name, expected, median,
 * change, verdict), part 2 the spread and the baseline's facts; HTML has
 * both in one row. */
static void rep_target_row(struct rep *r, size_t vi, int part)
{
	const struct fleet_var *v = &r->f->vars[vi];
	const struct rep_ref *ref = r->refs ? &r->refs[vi] : NULL;
	const json_t *fv = ref ? json_object_get(json_object_get(json_object_get(ref->example, "fleet"),
								  "variants"), fleet_str(r->f, v->var)) : NULL;
	/* a host-launch-bound variant is judged by, and shown with, its device time */
	int dev = v->host_launch;
	double med = dev ? v->dev.median : v->median;

	rep_td(r, NULL, NULL, rep_fmt(r, "%s/%s%s", fleet_str(r->f, v->inst), fleet_str(r->f, v->var),
				      dev ? " (device time)" : ""));
	if (part != 2) {
		rep_td(r, "num", NULL, ref ? rep_num(r, ref->expected) : "-");
		rep_td(r, "num", NULL, rep_num(r, med));
		rep_td(r, "num", NULL, ref ? rep_pct(r, med / ref->expected - 1.0) : "-");
		rep_var_verdict_cell(r, vi);
	}
	if (part == 1)
		return;
	rep_td(r, "num", NULL, rep_fmt(r, "%d/%zu", dev ? v->dev.n_gpus : v->n_ok, v->n_gpus));
	rep_td(r, "num", NULL, rep_fmt(r, "%s .. %s", rep_num(r, dev ? v->dev.p10 : v->p10),
				       rep_num(r, dev ? v->dev.p90 : v->p90)));
	rep_td(r, "num", NULL, ref && isfinite(ref->upper) ?
	       rep_fmt(r, "-%g%% +%g%% (%s)", 100.0 * ref->lower, 100.0 * ref->upper, ref->tol_source) :
	       "-");
	rep_td(r, "num", NULL, ref && isfinite(ref->noise) ? rep_fmt(r, "%.2g%%", 100.0 * ref->noise) : "-");
	rep_td(r, "num", NULL, fv ? rep_fmt(r, "%.0f/%.0f", expect_num(fv, "gpus"), expect_num(fv, "nodes")) :
	       "-");
}

/* The variants of hardware key hk (vars[from..to)) as one table (HTML) or
 * two narrower ones (markdown). */
static void rep_target_tables(struct rep *r, size_t from, size_t to)
{
	static const char *const head[] = {"target/variant", "expected ms", "median ms", "change",
					   "verdict", "GPUs ok", "p10 .. p90 ms", "tolerance", "noise",
					   "baseline GPUs/nodes"};
	static const char *const head2[] = {"target/variant", "GPUs ok", "p10 .. p90 ms", "tolerance",
					    "noise", "baseline GPUs/nodes"};

	rep_p(r, NULL, "hardware %s (times per iteration; expected: the baseline's fleet median; "
	      "\"device time\": a variant whose median includes the host's launch path, judged and "
	      "shown by its CUPTI device time):", fleet_str(r->f, r->f->vars[from].hk));
	rep_tab_begin(r, "targets", r->html ? 10 : 5, head);
	for (size_t i = from; i < to; i++)
		rep_target_row(r, i, r->html ? 0 : 1);
	rep_tab_end(r);
	if (r->html)
		return;
	rep_p(r, NULL, "The spread of this run, and the tolerance, noise and size of the baseline:");
	rep_tab_begin(r, NULL, 6, head2);
	for (size_t i = from; i < to; i++)
		rep_target_row(r, i, 2);
	rep_tab_end(r);
}

void report_targets(struct rep *r)
{
	size_t from = 0;

	rep_h(r, 2, "targets", "Targets: this run against the baseline");
	for (size_t i = 1; i <= r->f->n_vars; i++)
		if (i == r->f->n_vars || r->f->vars[i].hk != r->f->vars[from].hk) {
			rep_target_tables(r, from, i);
			from = i;
		}
}

int rep_cmp_item(const void *a, const void *b, void *arg)
{
	const struct compare_result *c = arg;
	const struct compare_item *x = &c->items[*(const size_t *)a], *y = &c->items[*(const size_t *)b];
	double ex = x->excess, ey = y->excess;

	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	ex = isfinite(ex) ? ex : -INFINITY;
	ey = isfinite(ey) ? ey : -INFINITY;
	return ex < ey ? 1 : ex > ey ? -1 : (*(const size_t *)a > *(const size_t *)b) -
					    (*(const size_t *)a < *(const size_t *)b);
}

/* One finding: verdict, what, where, numbers, why. */
static void rep_finding(struct rep *r, const struct compare_item *it)
{
	const char *where = it->fleet ? "the whole fleet" :
			    it->gpu_idx == FLEET_NONE ? "-" : rep_gpu_name(r, it->gpu_idx);
	const char *change = rep_pct(r, it->excess);
	int link = !it->fleet && it->node != UINT32_MAX && rep_node_drained(r, it->node);

	if (!r->html) {
		rep_li(r, "%s %s on %s: %s ms, expected %s; %s", rep_verdict_label(it->v), it->label, where,
		       rep_num(r, it->observed), rep_num(r, it->expected), it->reason);
		return;
	}
	rep_td(r, rep_fmt(r, "badge v-%s", compare_verdict_name(it->v)), NULL, rep_verdict_label(it->v));
	rep_td(r, NULL, NULL, it->label);
	rep_td(r, NULL, link ? rep_node_id(r, it->node) : NULL, where);
	rep_td(r, "num", NULL, rep_num(r, it->observed));
	rep_td(r, "num", NULL, rep_num(r, it->expected));
	rep_td(r, "num", NULL, rep_num(r, it->reference));
	rep_td(r, "num", NULL, change);
	rep_td(r, NULL, NULL, it->reason);
}

/* Judged findings: every item that is not pass or improved, worst first. */
static void rep_judged_findings(struct rep *r)
{
	static const char *const head[] = {"verdict", "target/variant", "GPU", "measured ms",
					   "expected ms", "held to ms", "excess", "why"};
	const struct compare_result *c = r->c;
	size_t *idx = malloc((c->n_items + 1) * sizeof(*idx)), n = 0;

	if (!idx)
		return;
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].v >= VERDICT_UNJUDGED)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), rep_cmp_item, (void *)c);
	if (!n)
		rep_p(r, NULL, "None: every item passed%s.", c->counts[VERDICT_IMPROVED] ?
		      " or improved" : "");
	if (n && r->html)
		rep_tab_begin(r, "findings", 8, head);
	for (size_t i = 0; i < n && i < REP_FINDINGS; i++)
		rep_finding(r, &c->items[idx[i]]);
	if (n && r->html)
		rep_tab_end(r);
	else if (n)
		fputc('\n', r->o);
	if (n > REP_FINDINGS)
		rep_p(r, NULL, "... and %zu more (aisp compare lists them all).", n - REP_FINDINGS);
	free(idx);
}

void report_findings(struct rep *r)
{
	const struct fleet *f = r->f;
	size_t k = 0;

	rep_h(r, 2, "findings", "Findings, worst first");
	if (r->c) {
		rep_p(r, NULL, "%zu items judged: %zu pass, %zu improved (faster; not listed), %zu skipped "
		      "(not listed), %zu not judged, %zu missing, %zu outlier, %zu regressed, %zu failed; "
		      "%zu fleet-wide; "
		      "exit status %d. \"held to\" is what a GPU was judged against: its siblings' median "
		      "in this run, or the expected time when the fleet is too small.",
		      r->c->n_items, r->c->counts[VERDICT_PASS], r->c->counts[VERDICT_IMPROVED],
		      r->c->counts[VERDICT_SKIPPED], r->c->counts[VERDICT_UNJUDGED],
		      r->c->counts[VERDICT_MISSING],
		      r->c->counts[VERDICT_OUTLIER], r->c->counts[VERDICT_REGRESSED],
		      r->c->counts[VERDICT_FAILED], r->c->n_fleet, r->exit_status);
		if (r->c->n_notes && r->html)
			fputs("<ul>\n", r->o);
		for (size_t i = 0; i < r->c->n_notes; i++)
			rep_li(r, "note: %s", r->c->notes[i]);
		if (r->c->n_notes)
			fputs(r->html ? "</ul>\n" : "\n", r->o);
		rep_judged_findings(r);
		return;
	}
	if (r->html)
		fputs("<ul>\n", r->o);
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];

		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++, k += f->gpus[j - 1].outlier)
			if (f->gpus[j].outlier)
				rep_li(r, "OUTLIER %s/%s on %s (rank %d, %s): %s ms, %s vs this fleet's median %s "
				       "ms, z=%+.1f", fleet_str(f, v->inst), fleet_str(f, v->var),
				       rep_gpu_name(r, j), f->gpus[j].rank, fleet_str(f, f->gpus[j].gpu),
				       rep_num(r, f->gpus[j].median),
				       rep_pct(r, f->gpus[j].median / v->median - 1.0),
				       rep_num(r, v->median), f->gpus[j].z);
	}
	if (r->html)
		fputs("</ul>\n", r->o);
	if (!k)
		rep_p(r, NULL, "No GPU is an outlier against this run's own fleet.");
	fputc('\n', r->o);
}

void report_map(struct rep *r)
{
	static const char *const head_html[] = {"run", "rank", "node", "hostname", "GPU", "GPU name",
						"GPU UUID", "file status", "verdict"};
	static const char *const head_md[] = {"run", "rank", "node", "GPU", "GPU UUID", "file status",
					      "verdict"};
	static const char *const head_runs[] = {"run", "directory", "git commit", "start (UTC)",
						"end (UTC)", "rank files"};
	const struct fleet *f = r->f;

	rep_h(r, 2, "map", "The runs judged, rank to host to GPU");
	rep_tab_begin(r, "runs", 6, head_runs);
	for (size_t i = 0; i < f->n_runs; i++) {
		const struct fleet_run *u = &f->runs[i];

		rep_td(r, NULL, NULL, fleet_str(f, u->run_id));
		rep_td(r, NULL, NULL, fleet_str(f, u->dir));
		rep_td(r, NULL, NULL, rep_fmt(r, "%.12s", fleet_str(f, u->git_commit)));
		rep_td(r, NULL, NULL, fleet_str(f, u->start_utc));
		rep_td(r, NULL, NULL, fleet_str(f, u->end_utc));
		rep_td(r, "num", NULL, rep_fmt(r, "%d of %lld", u->n_files, u->world_size));
	}
	rep_tab_end(r);
	for (size_t i = 0; i < f->n_skips; i++)
		rep_p(r, NULL, "skipped: %s", f->skips[i].why);
	rep_tab_begin(r, "map", r->html ? 9 : 7, r->html ? head_html : head_md);
	for (size_t i = 0; i < f->n_files; i++) {
		const struct fleet_file *ff = &f->files[i];
		int v = -1;

		for (size_t j = 0; r->c && j < r->c->n_gpus; j++)
			if (r->c->gpus[j].id == ff->gpu)
				v = (int)r->c->gpus[j].v;
		rep_td(r, NULL, NULL, fleet_str(f, f->runs[ff->run].run_id));
		rep_td(r, "num", NULL, rep_fmt(r, "%d", ff->rank));
		rep_td(r, NULL, NULL, fleet_str(f, ff->node));
		if (r->html)
			rep_td(r, NULL, NULL, fleet_str(f, ff->host));
		rep_td(r, "num", NULL, rep_fmt(r, "%d", ff->gpu_index));
		if (r->html)
			rep_td(r, NULL, NULL, fleet_str(f, ff->gpu_name));
		rep_td(r, NULL, NULL, fleet_str(f, ff->gpu));
		rep_td(r, NULL, NULL, fleet_str(f, ff->status));
		rep_td(r, v < 0 ? NULL : rep_fmt(r, "badge v-%s", compare_verdict_name((enum verdict)v)),
		       NULL, v < 0 ? "-" : rep_verdict_label((enum verdict)v));
	}
	rep_tab_end(r);
}
