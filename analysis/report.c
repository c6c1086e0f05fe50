/* report.c - `aisp report RUN_DIR... [--expectations FILE] -o report.md|.html`:
 * the document (first screen, plots, baseline, tables) and the command line.
 * Every string that comes from input is escaped for the output format
 * (rep_text, report_out.c). */
#include "analysis.h"

#include <ctype.h>
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
	"  A report a person reads in a minute: the verdict line, the nodes by\n"
	"  severity with the reason, the drain list; then per-variant plots (HTML),\n"
	"  where the baseline came from and how it moved (history.h5 beside FILE),\n"
	"  every target with its expected value, findings, rank -> host -> GPU map.\n"
	"  -o - writes markdown to standard output.\n"
	"exit: as compare with --expectations (0, 1, 3), else 0 or 3; 2 bad input\n";

/* HTML head: the style (colour always with a text label beside it). */
static void report_head(struct rep *r)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>aisp report</title>\n<style>\n"
	      "body{font-family:system-ui,sans-serif;margin:1.2em 2em;color:#111;max-width:100%}\n"
	      "h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.2em 0 .4em;"
	      "border-bottom:1px solid #ccc}h3{font-size:1em;margin:.8em 0 .3em}\n"
	      "p.context{color:#444;margin:.2em 0 .6em}\n"
	      "p.verdict{font-size:1.25em;font-weight:600;padding:.5em .8em;border-left:.5em solid;margin:.4em 0}\n"
	      "p.verdict.ok{background:#e8f5e9;border-color:#2e7d32}\n"
	      "p.verdict.drain{background:#fdecea;border-color:#c62828}\n"
	      "p.verdict.warn{background:#fff8e1;border-color:#f9a825}\n"
	      "p.verdict.fleet{background:#fff3e0;border-color:#ef6c00}\n"
	      "p.verdict.warn,p.verdict.fleet{font-size:1.05em;font-weight:500}\n"
	      "table{border-collapse:collapse;margin:.3em 0 .8em}\n"
	      "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%;text-align:left;vertical-align:top}\n"
	      "th{background:#eee;white-space:nowrap}td.num{text-align:right;white-space:nowrap;"
	      "font-variant-numeric:tabular-nums}\n"
	      ".badge{display:inline-block;padding:0 .4em;border-radius:3px;font-size:85%;font-weight:700;"
	      "white-space:nowrap}\n"
	      ".v-pass{color:#1b5e20;background:#e8f5e9}.v-improved{color:#0d47a1;background:#e3f2fd}\n"
	      ".v-missing{color:#6d4c00;background:#fff8e1}.v-outlier{color:#8a3a00;background:#ffe0b2}\n"
	      ".v-regressed{color:#fff;background:#c62828}.v-failed{color:#fff;background:#4a148c}\n"
	      ".v-skipped{color:#444;background:#eee}.v-unjudged{color:#444;background:#fff3cd}\n"
	      "pre.drain{background:#f6f6f6;border:1px solid #ccc;padding:.5em;white-space:pre-wrap;"
	      "overflow-wrap:anywhere}\n"
	      ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(600px,100%),1fr));gap:.8em 1.2em}\n"
	      ".plot{border:1px solid #ddd;padding:.3em;min-width:0}.plot svg{display:block;width:100%;height:auto}\n"
	      "td,th,p,li{overflow-wrap:anywhere}td.node{white-space:nowrap;overflow-wrap:normal}\n"
	      "</style></head><body>\n", r->o);
}

/* The whole document. */
static void report_write(struct rep *r)
{
	if (r->html)
		report_head(r);
	report_first_screen(r);
	if (r->html && r->f->n_vars) {
		rep_h(r, 2, "plots", "Every GPU per target and variant");
		rep_p(r, NULL, "%s",
		      r->c ? "Each dot is one GPU's median time (lower is better), GPUs sorted from fastest to "
			     "slowest; the bar is its samples' p10 to p90. The solid line is what each GPU was "
			     "held to and the shaded band its tolerance: the median of its siblings in this run "
			     "(the baseline, dashed, judges that median once, fleet-wide), or the baseline itself "
			     "when the fleet is too small. Red dots are the GPUs judged outlier, regressed or "
			     "failed, labelled with node and GPU index; the histogram on the right shows the "
			     "fleet's spread." :
			     "Each dot is one GPU's median time (lower is better), GPUs sorted from fastest to "
			     "slowest; the bar is its samples' p10 to p90; the solid line is this fleet's median. "
			     "Red dots are gather's outliers; the histogram on the right shows the spread.");
		fputs("<div class=\"plots\">\n", r->o);
		for (size_t i = 0; i < r->f->n_vars; i++)
			report_svg(r, i);
		fputs("</div>\n", r->o);
	}
	report_node_details(r);
	report_baseline(r);
	report_targets(r);
	report_findings(r);
	report_map(r);
	if (r->html)
		fputs("</body></html>\n", r->o);
}

/* Options of report: compare's, plus the output. */
struct report_args {
	struct compare_args c;
	const char *out, *format;
};

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

/* The history beside the expectations file (empty if none or unreadable:
 * the report goes on, and says so on stderr). */
static void report_history(const char *exp_path, struct history *h)
{
	char dir[4096], path[4200];
	aisp_error err = {0};

	memset(h, 0, sizeof(*h));
	if (!exp_path)
		return;
	history_dir_of(exp_path, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	if (history_load(path, h, &err))
		fprintf(stderr, "aisp report: %s (the history is left out)\n", err.msg);
}

/* Write the document to a.out through a.out.tmp (never a partial file). */
static aisp_err report_output(struct rep *r, const char *out, aisp_error *err)
{
	char tmp[4200];
	struct stat st = {0};
	int bad;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp) ||
	    (stat(out, &st) == 0 && S_ISDIR(st.st_mode)))
		return aisp_fail(err, AISP_EINPUT, "%s: %s", out,
				 S_ISDIR(st.st_mode) ? "is a directory" : "path too long");
	r->o = strcmp(out, "-") ? fopen(tmp, "w") : stdout;
	if (!r->o)
		return aisp_fail(err, AISP_EINPUT, "%s: %s", tmp, strerror(errno));
	report_write(r);
	if (r->o == stdout)
		return fflush(stdout) ? aisp_fail(err, AISP_EIO, "stdout: %s", strerror(errno)) : AISP_OK;
	bad = fflush(r->o) != 0 || ferror(r->o) || fsync(fileno(r->o)) != 0;
	if (fclose(r->o) != 0 || bad || rename(tmp, out) != 0) {
		unlink(tmp);
		return aisp_fail(err, AISP_EIO, "%s: %s", out, errno ? strerror(errno) : "write failed");
	}
	printf("report: wrote %s\n", out);
	return AISP_OK;
}

/* 0 when out names a file this command can write: .md/.markdown or
 * .html/.htm (or "-", markdown), or any name with --format, unless the name
 * says the other format. Else the reason on stderr, and 2. */
static int report_check_out(const char *out, const char *format)
{
	const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
	const char *ext = dot && (!slash || dot > slash) ? dot : "";
	int md = !strcmp(ext, ".md") || !strcmp(ext, ".markdown");
	int html = !strcmp(ext, ".html") || !strcmp(ext, ".htm");

	if (!strcmp(out, "-") && (!format || !strcmp(format, "md")))
		return 0;
	if (format && ((md && !strcmp(format, "html")) || (html && !strcmp(format, "md")))) {
		fprintf(stderr, "aisp report: -o %s: --format %s would write %s into it\n", out,
			format, md ? "HTML" : "markdown");
		return 2;
	}
	if (md || html || format)
		return 0;
	fprintf(stderr, "aisp report: -o %s: aisp writes markdown (.md) or HTML (.html), not "
		"%s; or say --format md|html\n", out, ext[0] ? ext : "a file without an extension");
	return 2;
}

/* Load, judge when asked, write; the exit status. */
static int report_run(char *const *dirs, int n, const struct report_args *a)
{
	struct compare_opts o = a->c.o;
	struct compare_result c = {0};
	struct job job;
	struct history h = {0};
	struct rep r = {0};
	aisp_error err = {0};
	json_t *exp = NULL;
	struct fleet f;
	const char *dot = strrchr(a->out, '.');
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
	report_history(a->c.expect, &h);
	r.f = &f;
	r.c = exp ? &c : NULL;
	r.exp = exp;
	r.exp_path = a->c.expect;
	r.hist = &h;
	r.exit_status = exp ? c.exit_status : fleet_incomplete(&f) ? 3 : 0;
	if (!(r.gv = report_gpu_verdicts(&f, r.c)) || report_refs(&r, &o) || report_nodes(&r)) {
		rc = aisp_fail(&err, AISP_ENOMEM, "report: out of memory");
		goto out;
	}
	rc = report_output(&r, a->out, &err);
	status = r.exit_status;
out:
	if (rc != AISP_OK) {
		fprintf(stderr, "aisp report: %s\n", err.msg);
		status = aisp_err_exit_status(rc);
	}
	free(r.gv);
	free(r.refs);
	free(r.nodes);
	free(r.tab.cells);
	history_free(&h);
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
	if (report_check_out(a.out, a.format))
		return 2;
	return report_run(argv + optind, argc - optind, &a);
}
