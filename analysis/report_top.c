/* report_top.c - the first screen of the report: what the run is and what it
 * is judged against, the verdict line, the nodes by severity, the drain list;
 * and each node's details further down (the node table links to them). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

#define REP_PASS_ROWS 8     /* passing nodes listed one per row up to this */
#define REP_LINE_NODES 3    /* nodes named in the verdict line */
#define REP_DETAIL_ITEMS 12 /* items listed per GPU in a node's details */

/* What GPU g of variant v is judged by, and the fleet's: the device time of
 * a host-launch-bound variant, else the median. */
static double rep_judged(const struct fleet_var *v, const struct fleet_gpu *g)
{
	return v->host_launch ? g->device : g->median;
}

static double rep_judged_fleet(const struct fleet_var *v)
{
	return v->host_launch ? v->dev.median : v->median;
}

/* qsort_r order of nodes: worst verdict, most slow or failed items, largest
 * excess, then name. */
static int rep_cmp_node(const void *a, const void *b, void *arg)
{
	const struct rep_node *x = a, *y = b;
	const struct fleet *f = arg;
	int bx = x->slow + x->failed, by = y->slow + y->failed;
	double ex = isfinite(x->excess) ? x->excess : -INFINITY;
	double ey = isfinite(y->excess) ? y->excess : -INFINITY;

	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	if (bx != by)
		return bx < by ? 1 : -1;
	if (ex != ey)
		return ex < ey ? 1 : -1;
	return strcmp(fleet_str(f, x->node), fleet_str(f, y->node));
}

/* Nodes from compare's verdicts, worst first (compare's order): counts of
 * items from compare, of GPUs from its GPU verdicts. */
static void rep_nodes_judged(struct rep *r, size_t *slot)
{
	const struct compare_result *c = r->c;

	for (size_t k = 0; k < c->n_nodes; k++) {
		const struct compare_unit *u = &c->nodes[c->order[k]];
		struct rep_node *n = &r->nodes[r->n_nodes];

		*n = (struct rep_node){u->id, u->v, c->order[k], 0, 0, (int)u->n_items, (int)u->n_slow,
				       (int)u->n_failed, u->worst, NAN};
		if (u->worst != FLEET_NONE && u->v != VERDICT_PASS)
			n->excess = c->items[u->worst].excess;
		slot[u->id] = r->n_nodes++;
	}
	for (size_t i = 0; i < c->n_gpus; i++) {
		struct rep_node *n;

		if (slot[c->gpus[i].node] == FLEET_NONE)
			continue; /* every GPU's node is a node of c: not reached */
		n = &r->nodes[slot[c->gpus[i].node]];
		n->gpus++;
		n->gpus_bad += c->gpus[i].drain;
	}
}

/* Nodes without a baseline: gather's outlier rule against this fleet. */
static void rep_nodes_fleet(struct rep *r, size_t *slot)
{
	const struct fleet *f = r->f;

	for (size_t i = 0; i < f->n_files; i++) {
		uint32_t id = f->files[i].node;

		if (slot[id] == FLEET_NONE) {
			r->nodes[r->n_nodes] = (struct rep_node){id, VERDICT_PASS, FLEET_NONE, 0, 0, 0, 0,
								 0, FLEET_NONE, NAN};
			slot[id] = r->n_nodes++;
		}
	}
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];

		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
			const struct fleet_gpu *g = &f->gpus[j];
			struct rep_node *n = &r->nodes[slot[g->node]];
			double ex = rep_judged(v, g) / rep_judged_fleet(v) - 1.0;

			n->items++;
			if (!g->outlier)
				continue;
			n->slow++;
			n->v = VERDICT_OUTLIER;
			if (!(ex <= n->excess))
				n->excess = ex;
		}
	}
}

int report_nodes(struct rep *r)
{
	size_t n = r->f->s.n + 1, *slot = malloc(n * sizeof(*slot));

	r->nodes = calloc(r->f->n_files + 1, sizeof(*r->nodes));
	if (!slot || !r->nodes) {
		free(slot);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		slot[i] = FLEET_NONE;
	if (r->c) {
		rep_nodes_judged(r, slot);
	} else {
		rep_nodes_fleet(r, slot);
		qsort_r(r->nodes, r->n_nodes, sizeof(*r->nodes), rep_cmp_node, (void *)r->f);
	}
	free(slot);
	return 0;
}

/* qsort order of ints. */
static int rep_cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Fleet GPU rows of node n that are judged outlier or worse, as "GPU 0, 3". */
static const char *rep_bad_gpus(struct rep *r, const struct rep_node *n)
{
	char *b = r->cells[r->next++ % REP_CELLS];
	size_t k = 0, cap = sizeof(r->cells[0]);
	int seen[64], ns = 0;

	b[0] = '\0';
	for (size_t i = 0; i < r->f->n_gpus; i++) {
		const struct fleet_gpu *g = &r->f->gpus[i];
		int bad = r->c ? r->gv[i] >= VERDICT_OUTLIER : g->outlier, dup = 0;

		if (g->node != n->node || !bad)
			continue;
		for (int j = 0; j < ns; j++)
			dup |= seen[j] == g->gpu_index;
		if (!dup && ns < 64)
			seen[ns++] = g->gpu_index;
	}
	qsort(seen, (size_t)ns, sizeof(*seen), rep_cmp_int);
	for (int j = 0; j < ns && k + 16 < cap; j++)
		k += (size_t)snprintf(b + k, cap - k, "%s%d", j ? ", " : "", seen[j]);
	return rep_fmt(r, "%s %s", ns > 1 ? "GPUs" : "GPU", b);
}

/* What the worst item of node n was: "ch01:gemm/baseline_gemm +29% (0.2893 ->
 * 0.3747 ms)", or without a baseline the worst outlier against the fleet. */
static const char *rep_worst(struct rep *r, const struct rep_node *n)
{
	const struct compare_item *it;
	char amounts[128];

	if (!r->c) {
		for (size_t i = 0; i < r->f->n_vars; i++) {
			const struct fleet_var *v = &r->f->vars[i];

			for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++)
				if (r->f->gpus[j].node == n->node && r->f->gpus[j].outlier &&
				    rep_judged(v, &r->f->gpus[j]) / rep_judged_fleet(v) - 1.0 == n->excess)
					return rep_fmt(r, "%s/%s %s%s vs this fleet's median (%s -> %s ms)",
						       fleet_str(r->f, v->inst), fleet_str(r->f, v->var),
						       v->host_launch ? "device time " : "",
						       rep_pct(r, n->excess), rep_num(r, rep_judged_fleet(v)),
						       rep_num(r, rep_judged(v, &r->f->gpus[j])));
		}
		return "";
	}
	if (n->worst == FLEET_NONE || n->v == VERDICT_PASS)
		return "";
	it = &r->c->items[n->worst];
	if (n->v == VERDICT_FAILED || n->v == VERDICT_MISSING || n->v == VERDICT_UNJUDGED ||
	    !isfinite(n->excess))
		return rep_fmt(r, "%s: %s", it->label, it->reason);
	compare_amounts(r->f, it, amounts, sizeof(amounts));
	return rep_fmt(r, "%s %s (%s)", it->label, rep_pct(r, n->excess), amounts);
}

/* The line about node n in the verdict: "n04 (GPU 0: 6 of 12 items slow,
 * worst ...)". */
static const char *rep_node_line(struct rep *r, const struct rep_node *n)
{
	const char *what = n->failed && !n->slow ?
		rep_fmt(r, "%d of %d items failed", n->failed, n->items) :
		rep_fmt(r, "%d of %d items slow%s", n->slow, n->items,
			n->failed ? rep_fmt(r, ", %d failed", n->failed) : "");

	return rep_fmt(r, "%s (%s: %s; worst %s)", fleet_str(r->f, n->node), rep_bad_gpus(r, n),
		       what, rep_worst(r, n));
}

int rep_node_drained(const struct rep *r, uint32_t node)
{
	for (size_t i = 0; r->c && i < r->n_nodes && r->nodes[i].v >= VERDICT_OUTLIER; i++)
		if (r->nodes[i].node == node)
			return 1;
	return 0;
}

/* Nodes to drain: verdict outlier or worse. */
static size_t rep_n_drain(const struct rep *r)
{
	size_t k = 0;

	while (k < r->n_nodes && r->nodes[k].v >= VERDICT_OUTLIER)
		k++;
	return k;
}

/* The text of compare's line of unit u, without its leading "<name>: ". */
static const char *rep_unit_text(struct rep *r, const struct compare_unit *u)
{
	size_t k = strlen(fleet_str(r->f, u->id));

	return strlen(u->line) > k + 2 ? u->line + k + 2 : u->line;
}

/* Fleet findings (the run's common shift beyond the tolerance: nobody is
 * drained for it) as a paragraph of class cls. */
static void rep_fleet_line(struct rep *r, const char *cls)
{
	const struct compare_item *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < r->c->n_items; i++)
		if (r->c->items[i].fleet && r->c->items[i].v >= VERDICT_OUTLIER && !n++)
			first = &r->c->items[i];
	if (!n)
		return;
	rep_p(r, cls, "Fleet-wide: %zu variant%s slower on the whole fleet than the baseline. %s: %s%s", n,
	      n == 1 ? " is" : "s are", first->label, first->reason,
	      n > 1 ? rep_fmt(r, " (and %zu more in the findings)", n - 1) : "");
}

/* The verdict line: what to do, in one sentence. */
static void rep_verdict_line(struct rep *r)
{
	size_t nd = rep_n_drain(r), gpus = 0;
	const char *cls = nd ? "verdict drain" : r->exit_status == 3 ? "verdict warn" : "verdict ok";
	char line[4096];
	size_t k = 0;

	for (size_t i = 0; i < r->n_nodes; i++)
		gpus += (size_t)r->nodes[i].gpus;
	if (r->c && nd) {
		k = (size_t)snprintf(line, sizeof(line), "Drain %zu of %zu node%s: ", nd, r->n_nodes,
				     r->n_nodes == 1 ? "" : "s");
		for (size_t i = 0; i < nd && i < REP_LINE_NODES && k < sizeof(line); i++)
			k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%s", i ? ". " : "",
					      r->c->nodes[r->nodes[i].unit].line);
		if (nd > REP_LINE_NODES && k < sizeof(line))
			snprintf(line + k, sizeof(line) - k, ". And %zu more (table below)", nd - REP_LINE_NODES);
		rep_p(r, cls, "%s", line);
		rep_fleet_line(r, "verdict fleet");
	} else if (nd) {
		for (size_t i = 0; i < nd && i < REP_LINE_NODES && k < sizeof(line); i++)
			k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%s", i ? "; " : "",
					      rep_node_line(r, &r->nodes[i]));
		if (nd > REP_LINE_NODES && k < sizeof(line))
			snprintf(line + k, sizeof(line) - k, "; and %zu more (table below)", nd - REP_LINE_NODES);
		rep_p(r, cls, "No baseline given; outliers against this run's own fleet. Check %zu of %zu "
		      "node%s: %s", nd, r->n_nodes, r->n_nodes == 1 ? "" : "s", line);
	} else if (!r->c) {
		rep_p(r, cls, "No baseline given, and no GPU is an outlier against this run's own fleet "
		      "(%zu nodes); nothing to check.", r->n_nodes);
	} else if (r->c->n_fleet) {
		rep_fleet_line(r, "verdict fleet");
	} else if (r->exit_status == 3) {
		rep_p(r, cls, "Nothing to drain, but the run is incomplete: %zu results missing, %zu not "
		      "judged (see the findings).", r->c->counts[VERDICT_MISSING],
		      r->c->counts[VERDICT_UNJUDGED]);
	} else {
		rep_p(r, cls, "Nothing to drain: all %zu GPUs on %zu nodes are within the baseline's tolerance%s.",
		      gpus, r->n_nodes, r->c->counts[VERDICT_IMPROVED] ?
		      rep_fmt(r, " (%zu items faster than expected)", r->c->counts[VERDICT_IMPROVED]) : "");
	}
}

/* One row of the node table. */
static void rep_node_row(struct rep *r, const struct rep_node *n)
{
	int bad = n->v != VERDICT_PASS;
	const char *worst = rep_worst(r, n), *reason = "";

	if (r->c && bad)
		reason = r->c->nodes[n->unit].facts;
	/* only a drained node has a details section to link to */
	rep_td(r, "node", r->c && rep_node_drained(r, n->node) ? rep_node_id(r, n->node) : NULL,
	       fleet_str(r->f, n->node));
	rep_td(r, rep_fmt(r, "badge v-%s", compare_verdict_name(n->v)), NULL,
	       rep_verdict_label(n->v));
	rep_td(r, "num", NULL, !n->gpus ? "-" : bad && n->gpus_bad ?
	       rep_fmt(r, "%d of %d: %s", n->gpus_bad, n->gpus, rep_bad_gpus(r, n)) :
	       rep_fmt(r, "%d of %d", n->gpus_bad, n->gpus));
	rep_td(r, "num", NULL, rep_fmt(r, "%d of %d", n->slow + n->failed, n->items));
	rep_td(r, NULL, NULL, bad ? worst : "");
	if (r->html)
		rep_td(r, NULL, NULL, bad ? reason : "");
}

/* Passing nodes beyond REP_PASS_ROWS, collapsed into one row. */
static void rep_pass_rows(struct rep *r, size_t from)
{
	size_t n = r->n_nodes - from;
	int gpus = 0, items = 0;

	if (n <= REP_PASS_ROWS) {
		for (size_t i = from; i < r->n_nodes; i++)
			rep_node_row(r, &r->nodes[i]);
		return;
	}
	for (size_t i = from; i < r->n_nodes; i++) {
		gpus += r->nodes[i].gpus;
		items += r->nodes[i].items;
	}
	rep_td(r, NULL, NULL, r->html ? rep_fmt(r, "%zu other nodes (%s ... %s)", n,
						fleet_str(r->f, r->nodes[from].node),
						fleet_str(r->f, r->nodes[r->n_nodes - 1].node)) :
	       rep_fmt(r, "%zu others", n));
	rep_td(r, "badge v-pass", NULL, "PASS");
	rep_td(r, "num", NULL, rep_fmt(r, "0 of %d", gpus));
	rep_td(r, "num", NULL, rep_fmt(r, "0 of %d", items));
	rep_td(r, NULL, NULL, "");
	if (r->html)
		rep_td(r, NULL, NULL, "");
}

/* The node table, worst first. */
static void rep_node_table(struct rep *r)
{
	static const char *const head_html[] = {"node", "verdict", "GPUs bad", "items bad",
						"worst item: excess (held to -> measured)",
						"device facts that differ"};
	static const char *const head_md[] = {"node", "verdict", "GPUs bad", "items bad",
					      "worst item: excess (held to -> measured)"};
	size_t pass = 0;

	while (pass < r->n_nodes && r->nodes[pass].v != VERDICT_PASS)
		pass++;
	rep_h(r, 2, "nodes", "Nodes, worst first");
	rep_tab_begin(r, "nodes", r->html ? 6 : 5, r->html ? head_html : head_md);
	for (size_t i = 0; i < pass; i++)
		rep_node_row(r, &r->nodes[i]);
	rep_pass_rows(r, pass);
	rep_tab_end(r);
}

/* The drain list: the lines compare --drain-list writes. */
static void rep_drain(struct rep *r)
{
	size_t nd = rep_n_drain(r);

	rep_h(r, 2, "drain", "Drain list");
	if (!r->c) {
		rep_p(r, NULL, "No baseline given: nothing is drained without one (aisp report --expectations FILE).");
		return;
	}
	if (!nd) {
		rep_p(r, NULL, "Nothing to drain.");
		return;
	}
	rep_p(r, NULL, "%zu node%s; the same lines as aisp compare --drain-list FILE (node, reason), ready for "
	      "scontrol update nodename=NODE state=drain reason=\"REASON\":", nd, nd == 1 ? "" : "s");
	if (r->html)
		fputs("<pre class=\"drain\">", r->o);
	else
		fputs("", r->o);
	for (size_t i = 0; i < nd; i++) {
		const struct compare_unit *u = &r->c->nodes[r->nodes[i].unit];
		char *line = (char *)rep_fmt(r, "%s aisp %s: %s", fleet_str(r->f, u->id),
					     compare_verdict_name(u->v), rep_unit_text(r, u));

		/* as compare_write_drain: no control characters or quotes in the reason */
		for (char *p = line + strlen(fleet_str(r->f, u->id)) + 1; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\'' || *p == '\\')
				*p = ' ';

		if (r->html) {
			rep_text(r, line);
			fputc('\n', r->o);
		} else {
			rep_li(r, "%s", line);
		}
	}
	fputs(r->html ? "</pre>\n" : "\n", r->o);
}

/* Where the run came from and what it is judged against, in one line. */
static void rep_context(struct rep *r)
{
	const struct fleet *f = r->f;
	const char *hk = f->n_insts ? fleet_str(f, f->insts[0].hk) : "-";
	int gpus = 0, nodes = 0;

	for (size_t i = 0; i < f->n_insts; i++) {
		gpus = f->insts[i].n_gpus > gpus ? f->insts[i].n_gpus : gpus;
		nodes = f->insts[i].n_nodes > nodes ? f->insts[i].n_nodes : nodes;
	}
	rep_p(r, "context", "%zu run%s (%s%s, %s) on hardware %s: %d GPUs on %d nodes, %zu targets. %s%s%s",
	      f->n_runs, f->n_runs == 1 ? "" : "s", fleet_str(f, f->runs[0].run_id),
	      f->n_runs > 1 ? rep_fmt(r, " ... %s", fleet_str(f, f->runs[f->n_runs - 1].run_id)) : "",
	      fleet_str(f, f->runs[0].end_utc), hk, gpus, nodes, f->n_insts,
	      r->c ? "Judged against " : "No baseline given.", r->c ? r->exp_path : "",
	      r->c ? " (where it came from: below)." : "");
}

/* A warning under the verdict line for each variant whose baseline creeps
 * (history.h5 beside the expectations; rule in history.h). */
static void rep_creep(struct rep *r)
{
	struct history_creep *cr = NULL;
	aisp_error err = {0};
	size_t n = 0;

	if (!r->exp || !r->hist->n ||
	    history_creeping(r->hist, expect_str(r->exp, "hardware_key"), HISTORY_CREEP_K, &cr, &n, &err))
		return;
	for (size_t i = 0; i < n && i < REP_LINE_NODES; i++) {
		const struct history_rec *e = &r->hist->recs[cr[i].last];

		rep_p(r, "verdict warn", "Baseline creep: the fleet median of %s/%s rose %s over its last %d "
		      "refreshes (%s to %s), each step within the +%g%% tolerance: the baseline hides it.",
		      e->target, e->variant, rep_pct(r, cr[i].change), cr[i].n,
		      r->hist->recs[cr[i].first].data_utc, e->data_utc, 100.0 * cr[i].tol);
	}
	if (n > REP_LINE_NODES)
		rep_p(r, "verdict warn", "Baseline creep in %zu more variants (aisp history shows them).",
		      n - REP_LINE_NODES);
	free(cr);
}

/* A warning when test knobs (AISP_TEST_*) were in effect: such results are
 * not a real fleet's. */
static void rep_knobs(struct rep *r)
{
	const struct fleet *f = r->f;
	char line[1024];
	size_t k = 0, n = 0;

	line[0] = '\0';
	for (size_t i = 0; i < f->n_files; i++) {
		int seen = 0;

		if (!fleet_str(f, f->files[i].knobs)[0])
			continue;
		n++;
		for (size_t j = 0; j < i && !seen; j++)
			seen = f->files[j].knobs == f->files[i].knobs;
		if (!seen && k < sizeof(line))
			k += (size_t)snprintf(line + k, sizeof(line) - k, "%s%s", k ? "; " : "",
					      fleet_str(f, f->files[i].knobs));
	}
	if (n)
		rep_p(r, "verdict warn", "Test knobs were in effect on %zu of %zu rank files (%s): these are "
		      "not a real fleet's results.", n, f->n_files, line);
}

void report_first_screen(struct rep *r)
{
	rep_h(r, 1, NULL, "aisp report");
	rep_context(r);
	rep_verdict_line(r);
	rep_creep(r);
	rep_knobs(r);
	rep_node_table(r);
	rep_drain(r);
}

/* The items of GPU gpu (uuid id) judged missing or worse, worst first. */
static void rep_gpu_items(struct rep *r, uint32_t gpu)
{
	const struct compare_result *c = r->c;
	size_t *idx = malloc((c->n_items + 1) * sizeof(*idx)), n = 0;

	if (!idx)
		return;
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].gpu == gpu && c->items[i].v >= VERDICT_UNJUDGED)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), rep_cmp_item, (void *)c);
	for (size_t k = 0; k < n && k < REP_DETAIL_ITEMS; k++) {
		const struct compare_item *it = &c->items[idx[k]];

		rep_li(r, "%s %s: %s%s", rep_verdict_label(it->v), it->label,
		       isfinite(it->observed) ? rep_fmt(r, "%s ms, expected %s; ", rep_num(r, it->observed),
							rep_num(r, it->expected)) : "",
		       it->reason);
	}
	if (n > REP_DETAIL_ITEMS)
		rep_li(r, "and %zu more (see the findings)", n - REP_DETAIL_ITEMS);
	free(idx);
}

/* The rank file of GPU uuid gpu (its first), NULL if none. */
static const struct fleet_file *rep_file_of(const struct fleet *f, uint32_t gpu)
{
	for (size_t i = 0; i < f->n_files; i++)
		if (f->files[i].gpu == gpu)
			return &f->files[i];
	return NULL;
}

void report_node_details(struct rep *r)
{
	size_t nd = rep_n_drain(r);

	if (!r->c || !nd)
		return;
	rep_h(r, 2, "details", "Nodes to drain, in detail");
	for (size_t i = 0; i < nd; i++) {
		const struct rep_node *n = &r->nodes[i];

		rep_h(r, 3, rep_node_id(r, n->node), rep_fmt(r, "%s: %s, %s", fleet_str(r->f, n->node),
								rep_verdict_label(n->v), rep_bad_gpus(r, n)));
		for (size_t g = 0; g < r->c->n_gpus; g++) {
			const struct compare_unit *u = &r->c->gpus[g];
			const struct fleet_file *ff = rep_file_of(r->f, u->id);

			if (u->node != n->node || !u->drain || !ff)
				continue;
			rep_p(r, NULL, "%s GPU %d (rank %d, %s): %s: %s", fleet_str(r->f, n->node),
			      ff->gpu_index, u->rank, fleet_str(r->f, u->id), rep_verdict_label(u->v),
			      rep_unit_text(r, u));
			if (r->html)
				fputs("<ul>\n", r->o);
			rep_gpu_items(r, u->id);
			fputs(r->html ? "</ul>\n" : "\n", r->o);
		}
	}
}
