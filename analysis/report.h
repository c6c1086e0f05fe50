/* report.h - internals of `aisp report`, shared by its parts:
 *   report.c        command line, the document
 *   report_out.c    output primitives (escaping, headings, paragraphs wrapped
 *                   at 120 columns in markdown, tables aligned in markdown)
 *   report_top.c    the first screen: verdict line, nodes by severity, the
 *                   drain list, each node's details
 *   report_tables.c where the baseline came from, targets with their
 *                   expected values, findings, the rank -> host -> GPU map
 *   report_svg.c    the plots (inline SVG written here)
 * Every string that comes from input goes through rep_text. */
#ifndef AISP_REPORT_H
#define AISP_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "compare.h"
#include "fleet.h"
#include "history.h"

#define REP_CELLS 24
#define REP_MD_WIDTH 120      /* markdown lines are at most this wide */
#define REP_TAB_MAX 16        /* columns of a table */

/* A table being written: markdown buffers its cells to align them. */
struct rep_tab {
	int ncols;
	char **cells;         /* raw (unescaped) text, row-major */
	size_t n, cap;
};

/* What the run is judged against, per variant of the fleet (index as
 * f->vars): expected time, tolerance, noise; NAN when unknown. */
struct rep_ref {
	double expected, lower, upper, noise;
	const char *tol_source;   /* where the tolerance came from (compare) */
	double reference;         /* what the GPUs were held to: their siblings'
				   * median, or the expected time; NAN: not judged */
	int siblings;             /* 1: judged against the siblings */
	const json_t *example;    /* the example, NULL if none */
};

/* One node's judgement, as the first screen shows it. */
struct rep_node {
	uint32_t node;
	enum verdict v;
	size_t unit;          /* index in c->nodes */
	int gpus, gpus_bad, items, slow, failed;
	size_t worst;         /* index in c->items, FLEET_NONE if none */
	double excess;        /* worst item's observed / expected - 1 */
};

/* The output and what every part reads. */
struct rep {
	FILE *o;
	int html;
	char cells[REP_CELLS][512];
	unsigned next;
	struct rep_tab tab;
	const struct fleet *f;
	const struct compare_result *c;   /* NULL without expectations */
	const json_t *exp;                /* NULL without expectations */
	const char *exp_path;
	struct rep_ref *refs;             /* per f->vars, NULL without exp */
	int *gv;                          /* worst verdict per f->gpus row, -1 none */
	struct rep_node *nodes;           /* by severity */
	size_t n_nodes;
	const struct history *hist;       /* may be empty */
	int exit_status;
};

/* Write s escaped for the format: HTML entities in HTML; in markdown only
 * what would change the rendering (a table bar, a tag, code or emphasis
 * marks where they would act). */
void rep_text(struct rep *r, const char *s);

/* printf into the next of REP_CELLS rotating buffers of r. */
const char *rep_fmt(struct rep *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A number with 4 significant digits ("-" when not finite); a signed
 * percentage of a fraction ("+29.5%"). */
const char *rep_num(struct rep *r, double x);
const char *rep_pct(struct rep *r, double x);

/* A heading of level 1..3 with an anchor id (may be NULL). */
void rep_h(struct rep *r, int level, const char *id, const char *text);

/* A paragraph (escaped; wrapped at REP_MD_WIDTH in markdown); cls: its HTML
 * class (may be NULL). */
void rep_p(struct rep *r, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A list item (markdown "- ", wrapped and indented); HTML <li>. */
void rep_li(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Start a table with ncols headers; rep_td adds the next cell (cls: HTML
 * class, href: HTML link target, both may be NULL); rep_tab_end closes it. */
void rep_tab_begin(struct rep *r, const char *cls, int ncols, const char *const *head);
void rep_td(struct rep *r, const char *cls, const char *href, const char *text);
void rep_tab_end(struct rep *r);

/* A verdict as a label: HTML a coloured badge with the name in capitals,
 * markdown the name in capitals (readable without colour). */
const char *rep_verdict_label(enum verdict v);
void rep_badge(struct rep *r, enum verdict v);

/* The anchor id of a node ("node-" and the name slugged). */
const char *rep_node_id(struct rep *r, uint32_t node);

/* 1 when node (a string id) is to be drained. */
int rep_node_drained(const struct rep *r, uint32_t node);

/* Short GPU name of a fleet GPU row: "n04 GPU 0". */
const char *rep_gpu_name(struct rep *r, size_t gpu_idx);

/* report_top.c: judge nodes (fills r->nodes), the first screen, the node
 * details. */
int report_nodes(struct rep *r);
void report_first_screen(struct rep *r);
void report_node_details(struct rep *r);

/* report_tables.c; rep_cmp_item: qsort_r order of indices of compare
 * items (arg: the compare_result), worst verdict first, then largest excess. */
int rep_cmp_item(const void *a, const void *b, void *arg);
void report_baseline(struct rep *r);
void report_targets(struct rep *r);
void report_findings(struct rep *r);
void report_map(struct rep *r);
int report_refs(struct rep *r, const struct compare_opts *o);

/* report_svg.c: the plot of variant vi (index in f->vars); the history plot
 * of that variant (nothing when it has fewer than 2 refreshes). */
void report_svg(struct rep *r, size_t vi);
void report_svg_history(struct rep *r, size_t vi);

#endif /* AISP_REPORT_H */
