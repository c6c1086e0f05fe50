/* report_svg.c - one inline SVG plot per variant, written directly: per-GPU
 * median (dot) and the p10..p90 of its samples (bar), the fleet median
 * (dashed); outliers and non-passing GPUs in red. */
#include "report.h"

#include <math.h>
#include <string.h>

#define SVG_W 720.0
#define SVG_H 240.0
#define SVG_L 70.0   /* left margin: y labels */
#define SVG_R 10.0
#define SVG_T 24.0   /* top: title */
#define SVG_B 20.0
#define SVG_MAX_TITLES 512 /* per-GPU tooltips up to this many GPUs */

/* The y range of variant v: its GPUs' p10 .. p90, padded; 0 if none. */
static int svg_range(const struct fleet *f, const struct fleet_var *v, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
		const struct fleet_gpu *g = &f->gpus[j];

		if (isfinite(g->p10) && g->p10 < *lo)
			*lo = g->p10;
		if (isfinite(g->p90) && g->p90 > *hi)
			*hi = g->p90;
	}
	if (!(*hi >= *lo))
		return 0;
	if (*hi == *lo)
		*hi = *lo + (*lo ? fabs(*lo) * 0.01 : 1.0);
	*lo -= (*hi - *lo) * 0.05;
	*hi += (*hi - *lo) * 0.05;
	return 1;
}

/* Axes: three y ticks with labels, and the title. */
static void svg_axes(struct rep *r, const struct fleet *f, const struct fleet_var *v,
		     double lo, double hi)
{
	fprintf(r->o, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#000\"/>\n", SVG_L,
		SVG_T, SVG_L, SVG_H - SVG_B);
	for (int i = 0; i <= 2; i++) {
		double val = lo + (hi - lo) * i / 2.0;
		double y = SVG_H - SVG_B - (SVG_H - SVG_T - SVG_B) * i / 2.0;

		fprintf(r->o, "<text x=\"%g\" y=\"%g\" font-size=\"10\" text-anchor=\"end\">%.4g</text>\n",
			SVG_L - 4, y + 3, val);
	}
	fprintf(r->o, "<text x=\"%g\" y=\"14\" font-size=\"12\">", SVG_L);
	rep_text(r, rep_fmt(r, "%s %s/%s: per-GPU median and p10-p90 of samples, ms (%zu GPUs)",
			    fleet_str(f, v->hk), fleet_str(f, v->inst), fleet_str(f, v->var),
			    v->n_gpus));
	fputs("</text>\n", r->o);
}

void report_svg(struct rep *r, const struct fleet *f, const struct fleet_var *v,
		const int *gv)
{
	double lo, hi, plot_h = SVG_H - SVG_T - SVG_B, dx;

	if (!svg_range(f, v, &lo, &hi))
		return;
	dx = (SVG_W - SVG_L - SVG_R) / (double)v->n_gpus;
#define Y(val) (SVG_H - SVG_B - plot_h * ((val) - lo) / (hi - lo))
	fprintf(r->o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" role=\"img\">\n",
		SVG_W, SVG_H);
	svg_axes(r, f, v, lo, hi);
	if (isfinite(v->median))
		fprintf(r->o, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
			SVG_L, Y(v->median), SVG_W - SVG_R, Y(v->median));
	for (size_t k = 0; k < v->n_gpus; k++) {
		size_t j = v->gpu0 + k;
		const struct fleet_gpu *g = &f->gpus[j];
		double x = SVG_L + dx * ((double)k + 0.5);
		int bad = g->outlier || gv[j] > 2; /* outlier, regressed, failed */
		const char *col = bad ? "#c00" : "#1f5fa8";

		if (!isfinite(g->median))
			continue;
		fprintf(r->o, "<g><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-opacity=\"0.4\" stroke-width=\"%.2f\"/>"
			"<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" fill=\"%s\"/>", x, Y(g->p10), x,
			Y(g->p90), col, dx > 6 ? 3.0 : dx / 2, x, Y(g->median), dx > 8 ? 3.5 : 1.5, col);
		if (v->n_gpus <= SVG_MAX_TITLES) {
			fputs("<title>", r->o);
			rep_text(r, rep_fmt(r, "%s on %s (rank %d): median %.6g ms, z=%+.2f",
					    fleet_str(f, g->gpu), fleet_str(f, g->node), g->rank,
					    g->median, g->z));
			fputs("</title>", r->o);
		}
		fputs("</g>\n", r->o);
		if (bad && v->n_gpus <= 64) {
			fprintf(r->o, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#c00\" text-anchor=\"middle\">",
				x, Y(g->median) - 8);
			rep_text(r, fleet_str(f, g->node));
			fputs("</text>\n", r->o);
		}
	}
#undef Y
	fputs("</svg>\n", r->o);
}
