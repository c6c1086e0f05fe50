/* report_svg.c - the plots of the report, inline SVG written directly (no
 * plotting dependency, no script needed to read them).
 *
 * Per variant: every GPU's median as a dot, GPUs sorted fastest to slowest
 * along x, its samples' p10..p90 as a bar; the baseline's expected time as
 * a solid line and its tolerance as a band (without a baseline: this
 * fleet's median); the GPUs judged outlier, regressed or failed in red,
 * labelled with node and GPU index; a histogram of the fleet's medians on
 * the right on the same y axis. Axes have titles, units and ticks at round
 * values. Under it, when history.h5 holds two refreshes or more, the fleet
 * median of each refresh. Every text stays inside the viewBox. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SVG_W 640.0
#define SVG_H 300.0
#define SVG_L 66.0          /* left: y tick labels and y title */
#define SVG_PR 556.0        /* right end of the plot area */
#define SVG_HL 566.0        /* histogram from here ... */
#define SVG_HR 632.0        /* ... to here */
#define SVG_T 46.0          /* top: title and subtitle */
#define SVG_B 252.0         /* bottom of the plot area */
#define SVG_HH 160.0        /* height of the history plot */
#define SVG_HT 30.0         /* top of the history plot area */
#define SVG_HB 120.0        /* bottom of the history plot area */
#define SVG_BINS 24
#define SVG_LABELS 10       /* red GPUs labelled per plot */
#define SVG_TITLE_CHARS 64
#define SVG_BAD "#c62828"
#define SVG_OK "#1f5fa8"
#define SVG_BASE "#2e7d32"

/* A y axis: value range, ticks, the unit's scale and name. */
struct svg_axis {
	double lo, hi, step, scale;
	int decimals;
	const char *unit;
};

/* A round tick step near span / n: 1, 2, 2.5 or 5 times a power of ten. */
static double svg_step(double span, int n)
{
	double raw = span / n, p = pow(10.0, floor(log10(raw))), m = raw / p;

	return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 2.5 ? 2.5 : m <= 5.0 ? 5.0 : 10.0) * p;
}

/* Axis over [lo, hi] in ms: ticks at round values, in us below 0.1 ms. */
static void svg_axis_of(double lo, double hi, int nticks, struct svg_axis *a)
{
	double m;

	if (!(hi > lo)) {
		double pad = lo ? fabs(lo) * 0.05 : 1.0;

		lo -= pad;
		hi += pad;
	}
	a->scale = hi < 0.1 ? 1000.0 : 1.0;
	a->unit = hi < 0.1 ? "\xc2\xb5s" : "ms";
	a->step = svg_step((hi - lo) * a->scale, nticks);
	a->lo = floor(lo * a->scale / a->step) * a->step;
	a->hi = ceil(hi * a->scale / a->step) * a->step;
	if (a->lo < 0.0 && lo >= 0.0)
		a->lo = 0.0;
	m = a->step / pow(10.0, floor(log10(a->step)));
	a->decimals = (int)fmax(0.0, ceil(-log10(a->step) - 1e-9)) + (fabs(m - 2.5) < 1e-9);
}

/* y of value x (ms) on axis a between pixel rows top and bottom. */
static double svg_y(const struct svg_axis *a, double x, double top, double bottom)
{
	return bottom - (bottom - top) * (x * a->scale - a->lo) / (a->hi - a->lo);
}

/* Text at (x, y): escaped, with attributes attrs. */
static void svg_text(struct rep *r, double x, double y, const char *attrs, const char *s)
{
	fprintf(r->o, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	rep_text(r, s);
	fputs("</text>\n", r->o);
}

/* The y axis of a plot between top and bottom: line, ticks, labels, title. */
static void svg_y_axis(struct rep *r, const struct svg_axis *a, double top, double bottom,
		       double right, const char *title)
{
	fprintf(r->o, "<g class=\"axis y\" font-size=\"10\"><line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>\n",
		SVG_L, top, SVG_L, bottom);
	for (double t = a->lo; t <= a->hi + a->step * 1e-6; t += a->step) {
		double y = bottom - (bottom - top) * (t - a->lo) / (a->hi - a->lo);

		fprintf(r->o, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			"<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", SVG_L, y, right, y,
			SVG_L - 4, y + 3.5, a->decimals, fabs(t) < a->step * 1e-6 ? 0.0 : t);
	}
	fputs("</g>\n", r->o);
	fprintf(r->o, "<text class=\"axis-title y\" transform=\"translate(14 %.1f) rotate(-90)\" "
		"text-anchor=\"middle\" font-size=\"11\">", (top + bottom) / 2);
	rep_text(r, rep_fmt(r, "%s (%s)", title, a->unit));
	fputs("</text>\n", r->o);
}

/* An x axis of counts 1..n between x0 and x1 at row y: round ticks, title. */
static void svg_x_axis(struct rep *r, int n, double x0, double x1, double y, const char *title)
{
	double step = n <= 12 ? 1.0 : svg_step((double)n, 8);

	fprintf(r->o, "<g class=\"axis x\" font-size=\"10\"><line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/>\n",
		x0, y, x1, y);
	for (double t = n <= 12 ? 1.0 : step; t <= n + 1e-9; t += step) {
		double x = n == 1 ? (x0 + x1) / 2 : x0 + (x1 - x0) * (t - 1.0) / (n - 1.0);

		fprintf(r->o, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#333\"/>"
			"<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.0f</text>\n", x, y, x, y + 4, x,
			y + 15, t);
	}
	fputs("</g>\n", r->o);
	fprintf(r->o, "<text class=\"axis-title x\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\" font-size=\"11\">",
		(x0 + x1) / 2, y + 30);
	rep_text(r, title);
	fputs("</text>\n", r->o);
}

/* What the plot shows of GPU row j: its median, or with dev (a
 * host-launch-bound variant, judged by it) its device time. */
static double svg_value(const struct fleet *f, int dev, size_t j)
{
	return dev ? f->gpus[j].device : f->gpus[j].median;
}

/* The fleet and what of it a plot shows (qsort_r's argument). */
struct svg_sort {
	const struct fleet *f;
	int dev;
};

/* qsort_r order of GPU rows by the value shown, not finite last. */
static int svg_cmp_median(const void *a, const void *b, void *arg)
{
	const struct svg_sort *s = arg;
	double x = svg_value(s->f, s->dev, *(const size_t *)a);
	double y = svg_value(s->f, s->dev, *(const size_t *)b);

	if (!isfinite(x) || !isfinite(y))
		return isfinite(x) ? -1 : isfinite(y) ? 1 : 0;
	return x < y ? -1 : x > y;
}

/* What the plot of a variant shows: its GPUs sorted, the reference. */
struct svg_plot {
	size_t *idx, n, n_fin, n_bad;
	double ref, band_lo, band_hi;      /* what the GPUs were held to and its band (ms) */
	double base;                       /* the baseline's expected time when it is
					    * not the reference (siblings), else NAN */
	const char *ref_name;
	int dev;                           /* 1: device times (no sample bars) */
	struct svg_axis a;
};

/* 1 when GPU row j is judged bad (red). */
static int svg_bad(const struct rep *r, size_t j)
{
	return r->c ? r->gv[j] >= VERDICT_OUTLIER : r->f->gpus[j].outlier;
}

/* Sort the GPUs of variant vi and find the axis; 0 when nothing to plot. */
static int svg_prepare(struct rep *r, size_t vi, struct svg_plot *p)
{
	const struct fleet_var *v = &r->f->vars[vi];
	const struct rep_ref *ref = r->refs ? &r->refs[vi] : NULL;
	struct svg_sort sort = {r->f, v->host_launch};
	double lo = INFINITY, hi = -INFINITY;

	p->n = v->n_gpus;
	p->n_fin = p->n_bad = 0;
	p->dev = v->host_launch;
	for (size_t k = 0; k < p->n; k++) {
		double y = svg_value(r->f, p->dev, v->gpu0 + k);

		p->idx[k] = v->gpu0 + k;
		p->n_bad += (size_t)svg_bad(r, v->gpu0 + k);
		if (!isfinite(y))
			continue;
		p->n_fin++;
		lo = fmin(lo, y); /* the sample bars are clipped to the medians' range */
		hi = fmax(hi, y);
	}
	qsort_r(p->idx, p->n, sizeof(*p->idx), svg_cmp_median, &sort);
	/* compare holds each GPU to its siblings' median (the band around it);
	 * the baseline's expected time judges that median once (fleet-wide) */
	p->base = NAN;
	if (ref && ref->siblings && isfinite(ref->reference)) {
		p->ref = ref->reference;
		p->ref_name = "siblings' median";
		p->base = ref->expected;
	} else {
		p->ref = ref && isfinite(ref->expected) ? ref->expected :
			 p->dev ? v->dev.median : v->median;
		p->ref_name = ref && isfinite(ref->expected) ? "baseline" : "this fleet's median";
	}
	p->band_lo = p->band_hi = NAN;
	if (ref && isfinite(p->ref) && isfinite(ref->upper)) {
		p->band_lo = p->ref * (1.0 - ref->lower);
		p->band_hi = p->ref * (1.0 + ref->upper);
		lo = fmin(lo, p->band_lo);
		hi = fmax(hi, p->band_hi);
	}
	for (int k = 0; k < 2; k++) {
		double x = k ? p->base : p->ref;

		lo = isfinite(x) ? fmin(lo, x) : lo;
		hi = isfinite(x) ? fmax(hi, x) : hi;
	}
	if (!isfinite(lo) || !isfinite(hi))
		return 0;
	svg_axis_of(lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04, 5, &p->a);
	return 1;
}

/* Title and subtitle of the plot of variant vi. */
static void svg_titles(struct rep *r, size_t vi, const struct svg_plot *p)
{
	const struct fleet_var *v = &r->f->vars[vi];
	const struct rep_ref *ref = r->refs ? &r->refs[vi] : NULL;
	const char *name = rep_fmt(r, "%s / %s%s", fleet_str(r->f, v->inst), fleet_str(r->f, v->var),
				   p->dev ? " (device time)" : "");
	size_t len = strlen(name);

	fputs("<title>", r->o);
	rep_text(r, name);
	fputs("</title>\n", r->o);
	svg_text(r, 8, 18, "class=\"plot-title\" font-size=\"14\" font-weight=\"600\"",
		 len > SVG_TITLE_CHARS ? rep_fmt(r, "...%s", name + len - SVG_TITLE_CHARS + 3) : name);
	if (!r->c) {
		svg_text(r, 8, 36, "font-size=\"11\" fill=\"#444\"",
			 rep_fmt(r, "%zu GPUs; this fleet's median %s %s; %zu outliers", p->n,
				 rep_num(r, p->ref * p->a.scale), p->a.unit, p->n_bad));
		return;
	}
	svg_text(r, 8, 36, "font-size=\"11\" fill=\"#444\"",
		 rep_fmt(r, "%zu GPUs held to %s %s %s%s%s; %zu judged bad", p->n,
			 isfinite(p->base) ? "their median" : "the baseline",
			 rep_num(r, p->ref * p->a.scale), p->a.unit,
			 isfinite(p->band_hi) ? rep_fmt(r, " -%g%% +%g%%", 100.0 * ref->lower, 100.0 * ref->upper) : "",
			 isfinite(p->base) ? rep_fmt(r, " (baseline %s %s)", rep_num(r, p->base * p->a.scale),
						     p->a.unit) : "",
			 p->n_bad));
}

/* The reference line and the tolerance band. */
static void svg_reference(struct rep *r, const struct svg_plot *p)
{
	double y;

	if (isfinite(p->band_hi)) {
		double y1 = svg_y(&p->a, p->band_hi, SVG_T, SVG_B), y0 = svg_y(&p->a, p->band_lo, SVG_T, SVG_B);

		fprintf(r->o, "<rect class=\"band\" x=\"%g\" y=\"%.1f\" width=\"%g\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.12\"/>\n",
			SVG_L, y1, SVG_PR - SVG_L, y0 - y1, SVG_BASE);
		/* on the left: the slow GPUs and their labels are on the right */
		svg_text(r, SVG_L + 4, y1 - 3, "font-size=\"9\" fill=\"" SVG_BASE "\"",
			 rep_fmt(r, "+%g%%", 100.0 * (p->band_hi / p->ref - 1.0)));
		svg_text(r, SVG_L + 4, y0 + 10, "font-size=\"9\" fill=\"" SVG_BASE "\"",
			 rep_fmt(r, "-%g%%", 100.0 * (1.0 - p->band_lo / p->ref)));
	}
	if (isfinite(p->base)) { /* the baseline, dashed, when the siblings are the reference */
		y = svg_y(&p->a, p->base, SVG_T, SVG_B);
		fprintf(r->o, "<line class=\"baseline\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"5 3\"/>\n",
			SVG_L, y, SVG_PR, y);
		svg_text(r, SVG_PR - 4, y - 4, "font-size=\"9\" fill=\"#555\" text-anchor=\"end\"",
			 rep_fmt(r, "baseline %s %s", rep_num(r, p->base * p->a.scale), p->a.unit));
	}
	if (!isfinite(p->ref))
		return;
	y = svg_y(&p->a, p->ref, SVG_T, SVG_B);
	fprintf(r->o, "<line class=\"reference\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
		SVG_L, y, SVG_PR, y, SVG_BASE);
	svg_text(r, SVG_L + 44, y - 4, "font-size=\"9\" fill=\"" SVG_BASE "\"",
		 rep_fmt(r, "%s %s %s", p->ref_name, rep_num(r, p->ref * p->a.scale), p->a.unit));
}

/* x of the k-th of n sorted GPUs. */
static double svg_x(size_t k, size_t n)
{
	return n <= 1 ? (SVG_L + SVG_PR) / 2 : SVG_L + 10 + (SVG_PR - SVG_L - 20) * (double)k / (n - 1);
}

/* Every GPU: p10..p90 bar, median dot (red when bad, labelled); GPUs
 * without a median (failed) as red crosses on the top edge. A plot of
 * device times has dots only (one number per run: no samples), and a GPU
 * without one (not judged) is a grey cross. */
static void svg_points(struct rep *r, const struct svg_plot *p)
{
	double rad = p->n <= 64 ? 3.5 : p->n <= 256 ? 2.2 : 1.4, last_y = -100.0, last_x = -1000.0;
	int labels = 0;

	for (size_t k = 0; k < p->n; k++) {
		size_t j = p->idx[k];
		const struct fleet_gpu *g = &r->f->gpus[j];
		int bad = svg_bad(r, j);
		double x = svg_x(k, p->n), y, val = svg_value(r->f, p->dev, j);
		const char *col = bad ? SVG_BAD : SVG_OK;

		if (!isfinite(val)) { /* failed: no time, a cross on the top edge */
			col = bad || !p->dev ? SVG_BAD : "#888";
			fprintf(r->o, "<path d=\"M%.1f %g l6 6 m0 -6 l-6 6\" stroke=\"%s\" stroke-width=\"2\"/>\n",
				x - 3, SVG_T + 2, col);
			if (labels++ < SVG_LABELS)
				svg_text(r, x - 7, SVG_T + 9, rep_fmt(r, "class=\"label\" font-size=\"10\" "
					 "fill=\"%s\" text-anchor=\"end\"", col), rep_gpu_name(r, j));
			last_y = SVG_T + 6;
			last_x = x;
			continue;
		}
		y = svg_y(&p->a, val, SVG_T, SVG_B);
		if (!p->dev && isfinite(g->p10) && isfinite(g->p90) && p->n <= 256)
			fprintf(r->o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\"0.35\" stroke-width=\"%.1f\"/>\n",
				x, fmin(svg_y(&p->a, g->p10, SVG_T, SVG_B), SVG_B), x,
				fmax(svg_y(&p->a, g->p90, SVG_T, SVG_B), SVG_T), col, rad * 0.9);
		fprintf(r->o, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>",
			bad ? "gpu bad" : "gpu", x, y, rad, col);
		rep_text(r, rep_fmt(r, "%s (rank %d, %s): %s ms%s", rep_gpu_name(r, j), g->rank,
				    fleet_str(r->f, g->gpu), rep_num(r, val),
				    p->dev ? rep_fmt(r, " device time (median %s ms, not judged)",
						     rep_num(r, g->median)) : ""));
		fputs("</title></circle>\n", r->o);
		if (!bad || labels++ >= SVG_LABELS)
			continue;
		if (fabs(y - last_y) < 12 && x - last_x < 130) /* would overlap the last label */
			y = y < last_y ? last_y - 12 : last_y + 12;
		y = fmin(fmax(y, SVG_T + 10), SVG_B - 4);
		last_y = y;
		last_x = x;
		svg_text(r, x < (SVG_L + SVG_PR) / 2 ? x + 7 : x - 7, y + 3.5,
			 x < (SVG_L + SVG_PR) / 2 ? "class=\"label\" font-size=\"10\" fill=\"" SVG_BAD "\"" :
			 "class=\"label\" font-size=\"10\" fill=\"" SVG_BAD "\" text-anchor=\"end\"",
			 rep_gpu_name(r, j));
	}
	if (labels > SVG_LABELS)
		svg_text(r, SVG_PR - 2, SVG_T + 10, "font-size=\"10\" fill=\"" SVG_BAD "\" text-anchor=\"end\"",
			 rep_fmt(r, "+%d more in red", labels - SVG_LABELS));
}

/* The fleet's medians as a histogram along the y axis (bad GPUs in red). */
static void svg_histogram(struct rep *r, const struct svg_plot *p)
{
	int ok[SVG_BINS] = {0}, bad[SVG_BINS] = {0}, most = 1;
	double bh = (SVG_B - SVG_T) / SVG_BINS;

	for (size_t k = 0; k < p->n_fin; k++) {
		double val = svg_value(r->f, p->dev, p->idx[k]);
		int b = (int)((val * p->a.scale - p->a.lo) / (p->a.hi - p->a.lo) * SVG_BINS);

		b = b < 0 ? 0 : b >= SVG_BINS ? SVG_BINS - 1 : b;
		if (svg_bad(r, p->idx[k]))
			bad[b]++;
		else
			ok[b]++;
		most = ok[b] + bad[b] > most ? ok[b] + bad[b] : most;
	}
	fprintf(r->o, "<g class=\"histogram\"><text x=\"%g\" y=\"%g\" font-size=\"9\" fill=\"#444\">GPUs per bin</text>\n",
		SVG_HL, SVG_T - 4);
	for (int b = 0; b < SVG_BINS; b++) {
		double y = SVG_B - (b + 1) * bh, w0 = (SVG_HR - SVG_HL) * ok[b] / most;
		double w1 = (SVG_HR - SVG_HL) * bad[b] / most;

		w0 = ok[b] ? fmax(w0, 2.0) : 0.0; /* one GPU among thousands stays visible */
		w1 = bad[b] ? fmax(w1, 3.0) : 0.0;

		if (ok[b])
			fprintf(r->o, "<rect x=\"%g\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.6\"/>\n",
				SVG_HL, y + 0.5, w0, bh - 1, SVG_OK);
		if (bad[b])
			fprintf(r->o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
				SVG_HL + w0, y + 0.5, w1, bh - 1, SVG_BAD);
	}
	fprintf(r->o, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#333\"/></g>\n", SVG_HL, SVG_T,
		SVG_HL, SVG_B);
}

void report_svg(struct rep *r, size_t vi)
{
	struct svg_plot p = {0};

	p.idx = malloc((r->f->vars[vi].n_gpus + 1) * sizeof(*p.idx));
	if (!p.idx || !svg_prepare(r, vi, &p)) {
		free(p.idx);
		return;
	}
	fprintf(r->o, "<div class=\"plot\" id=\"plot-%zu\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %g %g\" width=\"%g\" height=\"%g\" role=\"img\" font-family=\"sans-serif\">\n",
		vi, SVG_W, SVG_H, SVG_W, SVG_H);
	svg_titles(r, vi, &p);
	svg_y_axis(r, &p.a, SVG_T, SVG_B, SVG_PR, p.dev ? "device time per iteration (CUPTI)" :
		   "median time per iteration");
	svg_reference(r, &p);
	svg_points(r, &p);
	svg_histogram(r, &p);
	svg_x_axis(r, (int)p.n, svg_x(0, p.n), svg_x(p.n - 1, p.n), SVG_B,
		   rep_fmt(r, "GPUs, fastest to slowest (%zu)", p.n));
	fputs("</svg>\n", r->o);
	report_svg_history(r, vi);
	fputs("</div>\n", r->o);
	free(p.idx);
}

/* The fleet median of each refresh of variant vi, with the creep verdict. */
void report_svg_history(struct rep *r, size_t vi)
{
	const struct fleet_var *v = &r->f->vars[vi];
	size_t *idx = malloc((r->hist->n + 1) * sizeof(*idx)), n;
	double lo = INFINITY, hi = -INFINITY, x0 = SVG_L + 10, x1 = SVG_PR - 10;
	struct history_creep cr;
	struct svg_axis a;
	int creeps;

	if (!idx)
		return;
	n = history_series(r->hist, fleet_str(r->f, v->hk), fleet_str(r->f, v->inst),
			   fleet_str(r->f, v->var), idx);
	for (size_t i = 0; i < n; i++) {
		lo = fmin(lo, r->hist->recs[idx[i]].median);
		hi = fmax(hi, r->hist->recs[idx[i]].median);
	}
	if (n < 2 || !isfinite(lo) || !isfinite(hi)) {
		free(idx);
		return;
	}
	creeps = history_creep(r->hist, idx, n, HISTORY_CREEP_K, NAN, &cr);
	svg_axis_of(lo, hi, 3, &a);
	fprintf(r->o, "<svg class=\"history\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %g %g\" "
		"width=\"%g\" height=\"%g\" role=\"img\" font-family=\"sans-serif\">\n<title>baseline history</title>\n",
		SVG_W, SVG_HH, SVG_W, SVG_HH);
	svg_text(r, 8, 14, "class=\"plot-title\" font-size=\"11\" font-weight=\"600\"",
		 rep_fmt(r, "Baseline history: fleet median of %zu refreshes, %s since the first%s", n,
			 rep_pct(r, r->hist->recs[idx[n - 1]].median / r->hist->recs[idx[0]].median - 1.0),
			 creeps ? rep_fmt(r, "; CREEP: %s over the last %d, each step within +%g%%",
					  rep_pct(r, cr.change), cr.n, 100.0 * cr.tol) : ""));
	svg_y_axis(r, &a, SVG_HT, SVG_HB, SVG_PR, "median");
	fputs("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"", r->o);
	fputs(creeps ? SVG_BAD : SVG_OK, r->o);
	fputs("\" points=\"", r->o);
	for (size_t i = 0; i < n; i++)
		fprintf(r->o, "%.1f,%.1f ", x0 + (x1 - x0) * (double)i / (n - 1),
			svg_y(&a, r->hist->recs[idx[i]].median, SVG_HT, SVG_HB));
	fputs("\"/>\n", r->o);
	for (size_t i = 0; i < n; i++) {
		const struct history_rec *h = &r->hist->recs[idx[i]];

		fprintf(r->o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", x0 + (x1 - x0) * (double)i / (n - 1),
			svg_y(&a, h->median, SVG_HT, SVG_HB), creeps ? SVG_BAD : SVG_OK);
		rep_text(r, rep_fmt(r, "refresh %zu: %s ms, %s, runs %s", i + 1, rep_num(r, h->median),
				    h->data_utc, h->runs));
		fputs("</title></circle>\n", r->o);
	}
	svg_x_axis(r, (int)n, x0, x1, SVG_HB, "refresh (gather) number, oldest first");
	fputs("</svg>\n", r->o);
	free(idx);
}
