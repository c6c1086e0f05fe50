/* report.c - `aisp report RUN_DIR... [--expectations FILE] -o report.md|.html`:
 * run facts, per-target table, rank -> host -> GPU map, outliers and, in
 * HTML, one SVG plot per variant (written here: no plotting dependency).
 * Every string that comes from input is escaped for the output format. */
#include "analysis.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "expect.h"
#include "gather.h"
#include "job.h"
#include "report.h"

static const char report_usage[] =
	"usage: aisp report RUN_DIR... [--expectations FILE] -o report.md|report.html\n"
	"                   [--format md|html] [--z Z] [--min-delta F] [--job FILE.yaml]\n"
	"                   [--tolerance-lower F] [--tolerance-upper F] [--drain-list FILE]\n"
	"  The verdicts are compare's, with compare's options (aisp compare --help).\n"
	"  A report a person reads: run facts, per-target table, rank -> host -> GPU\n"
	"  map, outliers and verdicts; HTML adds per-variant SVG plots of the per-GPU\n"
	"  medians and sample spread. -o - writes markdown to standard output.\n"
	"exit: as compare with --expectations (0, 1, 3), else 0 or 3; 2 bad input\n";

void rep_text(struct rep *r, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", r->o); break;
		case '<': fputs("&lt;", r->o); break;
		case '>': fputs("&gt;", r->o); break;
		case '"': fputs("&quot;", r->o); break;
		case '\'': fputs("&#39;", r->o); break;
		case '|': fputs(r->html ? "|" : "\\|", r->o); break;
		case '\n': case '\r': fputc(' ', r->o); break;
		case '\\': fputs(r->html ? "\\" : "\\\\", r->o); break;
		case '`': case '*': case '_': case '[': case ']':
			if (!r->html)
				fputc('\\', r->o);
			fputc(*s, r->o);
			break;
		default: fputc(*s, r->o);
		}
	}
}

/* A heading of level 1..3. */
static void rep_h(struct rep *r, int level, const char *s)
{
	if (r->html) {
		fprintf(r->o, "<h%d>", level);
		rep_text(r, s);
		fprintf(r->o, "</h%d>\n", level);
	} else {
		fprintf(r->o, "\n%.*s ", level, "###");
		rep_text(r, s);
		fputs("\n\n", r->o);
	}
}

/* A paragraph from a format string (the result is escaped). */
static void rep_p(struct rep *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep_p(struct rep *r, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs(r->html ? "<p>" : "", r->o);
	rep_text(r, buf);
	fputs(r->html ? "</p>\n" : "\n\n", r->o);
}

/* A table row of n cells ("|"-separated format, values escaped); header
 * rows are the first of a table. */
static void rep_row(struct rep *r, int header, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	fputs(r->html ? (header ? "<table>\n<tr>" : "<tr>") : "|", r->o);
	for (int i = 0; i < n; i++) {
		const char *cell = va_arg(ap, const char *);

		fputs(r->html ? (header ? "<th>" : "<td>") : " ", r->o);
		rep_text(r, cell ? cell : "");
		fputs(r->html ? (header ? "</th>" : "</td>") : " |", r->o);
	}
	fputs(r->html ? "</tr>\n" : "\n", r->o);
	if (header && !r->html) {
		fputs("|", r->o);
		for (int i = 0; i < n; i++)
			fputs("---|", r->o);
		fputs("\n", r->o);
	}
	va_end(ap);
}

/* Close the table that rep_row opened. */
static void rep_table_end(struct rep *r)
{
	fputs(r->html ? "</table>\n" : "\n", r->o);
}

const char *rep_fmt(struct rep *r, const char *fmt, ...)
{
	char *b = r->cells[r->next++ % REP_CELLS];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(r->cells[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* A number for a cell: "-" when not finite. */
static const char *rep_num(struct rep *r, double x)
{
	return isfinite(x) ? rep_fmt(r, "%.6g", x) : "-";
}

/* Run facts: runs, hardware keys, GPUs, nodes, skipped files. */
static void report_facts(struct rep *r, const struct fleet *f)
{
	rep_h(r, 2, "Runs");
	rep_row(r, 1, 7, "run", "directory", "git commit", "start (UTC)", "end (UTC)",
		"rank files", "aisp version");
	for (size_t i = 0; i < f->n_runs; i++) {
		const struct fleet_run *u = &f->runs[i];

		rep_row(r, 0, 7, fleet_str(f, u->run_id), fleet_str(f, u->dir),
			fleet_str(f, u->git_commit), fleet_str(f, u->start_utc),
			fleet_str(f, u->end_utc), rep_fmt(r, "%d of %lld", u->n_files, u->world_size),
			fleet_str(f, u->tool_version));
	}
	rep_table_end(r);
	for (size_t i = 0; i < f->n_insts; i++)
		if (i == 0 || f->insts[i].hk != f->insts[i - 1].hk)
			rep_p(r, "hardware_key %s: %d GPUs on %d nodes (%s)", fleet_str(f, f->insts[i].hk),
			      f->insts[i].n_gpus, f->insts[i].n_nodes, fleet_str(f, f->insts[i].inst));
	for (size_t i = 0; i < f->n_skips; i++)
		rep_p(r, "skipped: %s", f->skips[i].why);
	for (size_t i = 0; i < f->n_files; i++)
		if (fleet_str(f, f->files[i].knobs)[0])
			rep_p(r, "test knobs in effect: run %s rank %d: %s",
			      fleet_str(f, f->runs[f->files[i].run].run_id), f->files[i].rank,
			      fleet_str(f, f->files[i].knobs));
}

/* Worst verdict of each fleet GPU row (index in f->gpus); -1 if not judged. */
static int *report_gpu_verdicts(const struct fleet *f, const struct compare_result *c)
{
	int *v = malloc((f->n_gpus + 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < f->n_gpus; i++)
		v[i] = c ? VERDICT_PASS : -1;
	for (size_t i = 0; c && i < c->n_items; i++)
		if (c->items[i].gpu_idx != FLEET_NONE && (int)c->items[i].v > v[c->items[i].gpu_idx])
			v[c->items[i].gpu_idx] = (int)c->items[i].v;
	return v;
}

/* Per target instance and variant: the fleet numbers and worst verdict. */
static void report_targets(struct rep *r, const struct fleet *f, const int *gv)
{
	rep_h(r, 2, "Targets");
	rep_row(r, 1, 13, "hardware_key", "target", "variant", "role", "GPUs ok/all",
		"median ms", "p10 ms", "p90 ms", "MAD ms", "sample p90 ms", "speedup",
		"outliers", "verdict");
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];
		int worst = -1;

		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++)
			worst = gv[j] > worst ? gv[j] : worst;
		rep_row(r, 0, 13, fleet_str(f, v->hk), fleet_str(f, v->inst), fleet_str(f, v->var),
			fleet_str(f, v->role), rep_fmt(r, "%d/%zu", v->n_ok, v->n_gpus),
			rep_num(r, v->median), rep_num(r, v->p10), rep_num(r, v->p90), rep_num(r, v->mad),
			rep_num(r, v->sample_p90), rep_num(r, v->speedup), rep_fmt(r, "%d", v->n_outliers),
			worst < 0 ? "-" : compare_verdict_name((enum verdict)worst));
	}
	rep_table_end(r);
}

/* The rank -> host -> GPU map, with each GPU's verdict when judged. */
static void report_map(struct rep *r, const struct fleet *f,
		       const struct compare_result *c)
{
	rep_h(r, 2, "Rank to host to GPU");
	rep_row(r, 1, 9, "run", "rank", "node", "hostname", "GPU index", "GPU name", "GPU UUID",
		"file status", "verdict");
	for (size_t i = 0; i < f->n_files; i++) {
		const struct fleet_file *ff = &f->files[i];
		const char *verdict = "-";

		for (size_t j = 0; c && j < c->n_gpus; j++)
			if (c->gpus[j].id == ff->gpu)
				verdict = compare_verdict_name(c->gpus[j].v);
		rep_row(r, 0, 9, fleet_str(f, f->runs[ff->run].run_id), rep_fmt(r, "%d", ff->rank),
			fleet_str(f, ff->node), fleet_str(f, ff->host), rep_fmt(r, "%d", ff->gpu_index),
			fleet_str(f, ff->gpu_name), fleet_str(f, ff->gpu), fleet_str(f, ff->status),
			verdict);
	}
	rep_table_end(r);
}

/* Fleet outliers (gather's rule) and every item that did not pass. */
static void report_outliers(struct rep *r, const struct fleet *f,
			    const struct compare_result *c)
{
	int any = 0;

	rep_h(r, 2, "Outliers and findings");
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];

		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
			const struct fleet_gpu *g = &f->gpus[j];

			if (!g->outlier)
				continue;
			if (!any++)
				rep_row(r, 1, 7, "verdict", "target/variant", "GPU", "node", "rank",
					"median ms", "why");
			rep_row(r, 0, 7, "outlier", rep_fmt(r, "%s/%s", fleet_str(f, v->inst),
							    fleet_str(f, v->var)),
				fleet_str(f, g->gpu), fleet_str(f, g->node), rep_fmt(r, "%d", g->rank),
				rep_num(r, g->median), rep_fmt(r, "z=%+.1f, %+.1f%% vs this fleet's median %.6g ms",
							    g->z, 100.0 * (g->median / v->median - 1.0),
							    v->median));
		}
	}
	for (size_t i = 0; c && i < c->n_items; i++) {
		const struct compare_item *it = &c->items[i];

		if (it->v == VERDICT_PASS)
			continue;
		if (!any++)
			rep_row(r, 1, 7, "verdict", "target/variant", "GPU", "node", "rank",
				"median ms", "why");
		rep_row(r, 0, 7, compare_verdict_name(it->v), it->label,
			it->gpu == UINT32_MAX ? "-" : fleet_str(f, it->gpu),
			it->node == UINT32_MAX ? "-" : fleet_str(f, it->node),
			it->gpu_idx == FLEET_NONE ? "-" : rep_fmt(r, "%d", f->gpus[it->gpu_idx].rank),
			rep_num(r, it->observed), it->reason);
	}
	if (any)
		rep_table_end(r);
	else
		rep_p(r, "none");
}

/* Verdicts of the nodes (worst first, each with compare's line), the
 * fleet-wide findings, the notes and the counts, when judged. */
static void report_verdicts(struct rep *r, const struct fleet *f,
			    const struct compare_result *c, const char *exp_path)
{
	rep_h(r, 2, "Verdict");
	rep_p(r, "against %s: %zu pass, %zu improved, %zu skipped, %zu missing, %zu outlier, %zu regressed, %zu failed; %zu fleet-wide; %zu of %zu nodes to drain; exit status %d",
	      exp_path, c->counts[VERDICT_PASS], c->counts[VERDICT_IMPROVED],
	      c->counts[VERDICT_SKIPPED], c->counts[VERDICT_MISSING], c->counts[VERDICT_OUTLIER],
	      c->counts[VERDICT_REGRESSED], c->counts[VERDICT_FAILED], c->n_fleet, c->n_drain,
	      c->n_nodes, c->exit_status);
	for (size_t i = 0; i < c->n_items; i++)
		if (c->items[i].fleet)
			rep_p(r, "fleet %s: %s: %s", c->items[i].label,
			      compare_verdict_name(c->items[i].v), c->items[i].reason);
	for (size_t i = 0; i < c->n_notes; i++)
		rep_p(r, "note: %s", c->notes[i]);
	rep_row(r, 1, 3, "node", "verdict", "worst finding");
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct compare_unit *u = &c->nodes[c->order[i]];
		size_t k = strlen(fleet_str(f, u->id)) + 2;

		rep_row(r, 0, 3, fleet_str(f, u->id), compare_verdict_name(u->v),
			u->v != VERDICT_PASS && strlen(u->line) > k ? u->line + k : "");
	}
	rep_table_end(r);
}

/* The whole document. */
static void report_write(struct rep *r, const struct fleet *f,
			 const struct compare_result *c, const char *exp_path)
{
	int *gv = report_gpu_verdicts(f, c);

	if (r->html)
		fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>aisp report</title>\n"
		      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
		      "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
		      "th{background:#eee}.bad{color:#c00}</style></head><body>\n", r->o);
	rep_h(r, 1, "aisp report");
	report_facts(r, f);
	if (c)
		report_verdicts(r, f, c, exp_path);
	if (gv)
		report_targets(r, f, gv);
	report_outliers(r, f, c);
	report_map(r, f, c);
	if (r->html && gv) {
		rep_h(r, 2, "Per-GPU medians across the fleet");
		rep_p(r, "One column per GPU: the dot is its median, the bar its samples' p10 to p90; the dashed line is the fleet median. Red: outlier or not passing.");
		for (size_t i = 0; i < f->n_vars; i++)
			report_svg(r, f, &f->vars[i], gv);
	}
	if (r->html)
		fputs("</body></html>\n", r->o);
	free(gv);
}

/* Options of report: compare's, plus the output. */
struct report_args {
	struct compare_args c;
	const char *out, *format;
};

/* Load, judge when asked, write; the exit status. */
static int report_run(char *const *dirs, int n, const struct report_args *a)
{
	struct compare_opts o = a->c.o;
	struct compare_result c = {0};
	struct job job;
	struct rep r = {0};
	aisp_error err = {0};
	json_t *exp = NULL;
	struct fleet f;
	const char *dot = strrchr(a->out, '.');
	char tmp[4200];
	struct stat st = {0};
	aisp_err rc;
	int status = 0;

	fleet_init(&f);
	job_init(&job);
	r.html = a->format ? !strcmp(a->format, "html") : dot && (!strcmp(dot, ".html") ||
								  !strcmp(dot, ".htm"));
	if ((rc = compare_load_inputs(&a->c, &exp, &job, &err)) ||
	    (rc = gather_load(&f, dirs, n, o.z, o.min_delta, &err)))
		goto out;
	o.job = a->c.job ? &job : NULL;
	if (f.n_insts == 0) {
		rc = aisp_fail(&err, AISP_EINCOMPLETE, "no readable results in the run directories given");
		goto out;
	}
	if (exp && (rc = compare_fleet(&f, exp, a->c.expect, &o, &c, &err)))
		goto out;
	if (exp && a->c.drain && (rc = compare_write_drain(&f, &c, a->c.drain, "report", &err)))
		goto out;
	/* out.tmp then rename: a failed write never leaves a partial report */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", a->out) >= (int)sizeof(tmp) ||
	    (stat(a->out, &st) == 0 && S_ISDIR(st.st_mode))) {
		rc = aisp_fail(&err, AISP_EINPUT, "%s: %s", a->out,
			       S_ISDIR(st.st_mode) ? "is a directory" : "path too long");
		goto out;
	}
	r.o = strcmp(a->out, "-") ? fopen(tmp, "w") : stdout;
	if (!r.o) {
		rc = aisp_fail(&err, AISP_EINPUT, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	report_write(&r, &f, exp ? &c : NULL, a->c.expect);
	if (r.o != stdout) {
		int bad = fflush(r.o) != 0 || ferror(r.o) || fsync(fileno(r.o)) != 0;

		if (fclose(r.o) != 0 || bad || rename(tmp, a->out) != 0) {
			rc = aisp_fail(&err, AISP_EIO, "%s: %s", a->out,
				       errno ? strerror(errno) : "write failed");
			unlink(tmp);
		} else {
			printf("report: wrote %s\n", a->out);
		}
	}
	status = exp ? c.exit_status : fleet_incomplete(&f) ? 3 : 0;
out:
	if (rc != AISP_OK) {
		fprintf(stderr, "aisp report: %s\n", err.msg);
		status = aisp_err_exit_status(rc);
	}
	compare_result_free(&c);
	fleet_free(&f);
	job_free(&job);
	json_decref(exp);
	return status;
}

int report_main(int argc, char **argv)
{
	struct option opts[COMPARE_N_OPTIONS + 4];
	struct report_args a = {0};
	int c, bad;

	memcpy(opts, compare_options, sizeof(compare_options));
	opts[COMPARE_N_OPTIONS] = (struct option){"out", required_argument, NULL, 'o'};
	opts[COMPARE_N_OPTIONS + 1] = (struct option){"format", required_argument, NULL, 'f'};
	opts[COMPARE_N_OPTIONS + 2] = (struct option){"help", no_argument, NULL, 'h'};
	opts[COMPARE_N_OPTIONS + 3] = (struct option){NULL, 0, NULL, 0};
	compare_args_init(&a.c);
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': a.c.expect = optarg; break;
		case 'o': a.out = optarg; break;
		case 'f': a.format = optarg; break;
		case 'h': fputs(report_usage, stdout); return 0;
		default:
			bad = compare_parse_option("report", c, optarg, &a.c);
			if (bad > 0)
				fputs(report_usage, stderr);
			if (bad)
				return 2;
		}
	}
	if (a.format && strcmp(a.format, "md") && strcmp(a.format, "html")) {
		fprintf(stderr, "aisp report: --format: '%s': expected md or html\n", a.format);
		return 2;
	}
	if (optind >= argc || !a.out) {
		fprintf(stderr, "aisp report: %s\n%s", optind >= argc ? "no RUN_DIR given" :
			"-o report.md|report.html is required", report_usage);
		return 2;
	}
	return report_run(argv + optind, argc - optind, &a);
}
