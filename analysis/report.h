/* report.h - internals of `aisp report`: the output stream and its
 * escaping (report_out.c), used by the tables (report.c) and the SVG plots
 * (report_svg.c). */
#ifndef AISP_REPORT_H
#define AISP_REPORT_H

#include <stdio.h>

#include "fleet.h"

#define REP_CELLS 16

/* The output: a stream, its format, and scratch for formatted cells. */
struct rep {
	FILE *o;
	int html;
	char cells[REP_CELLS][256];
	unsigned next;
};

/* Write s escaped for the format: HTML entities always (markdown renders
 * HTML), and markdown's table and emphasis characters in markdown. */
void rep_text(struct rep *r, const char *s);

/* printf into the next of REP_CELLS rotating buffers of r. */
const char *rep_fmt(struct rep *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An inline SVG plot of variant v: per-GPU median and p10..p90 of its
 * samples, the fleet median; gv[i] is the verdict of f->gpus[i] (-1: none). */
void report_svg(struct rep *r, const struct fleet *f, const struct fleet_var *v,
		const int *gv);

#endif /* AISP_REPORT_H */
