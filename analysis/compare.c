/* compare.c - `aisp compare RUN_DIR... --expectations FILE`: verdicts per
 * target, variant, GPU and node; fleet-wide findings; a drain list with the
 * reason beside every node; the exit status. */
#include "analysis.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "expect.h"
#include "gather.h"
#include "history.h"
#include "job.h"
#include "text.h"

static const char compare_usage[] =
	"usage: aisp compare RUN_DIR... --expectations FILE [--drain-list FILE]\n"
	"                    [--z Z] [--min-delta F] [--tolerance-lower F]\n"
	"                    [--tolerance-upper F] [--job FILE.yaml] [--verbose]\n"
	"  Judge every target, variant and GPU of the runs (one fleet) against FILE:\n"
	"  each GPU against its siblings after the run's common shift, that shift\n"
	"  once against the baseline (a fleet-wide finding: nobody drained); with\n"
	"  fewer than 4 GPUs, each GPU against the baseline alone.\n"
	"  --drain-list FILE  write 'node reason' lines for nodes to drain\n"
	"  --z Z              robust z above which a slower GPU is an outlier (3.5)\n"
	"  --min-delta F      ...when also slower than its siblings by F (0.02)\n"
	"  --tolerance-lower F, --tolerance-upper F  fractions (default: --job's,\n"
	"                     else the baseline's, else from its noise, else 0.25)\n"
	"  --job FILE         take per-target tolerances from this job file\n"
	"  --verbose          print passing items too\n"
	"exit: 0 all pass, 1 regression/outlier/failed or a fleet-wide regression,\n"
	"      2 bad input, 3 incomplete\n";

enum { OPT_DRAIN = 0x100, OPT_Z, OPT_MIN_DELTA, OPT_TOL_LOWER, OPT_TOL_UPPER, OPT_JOB,
       OPT_EXPECT, OPT_VERBOSE };

const struct option compare_options[COMPARE_N_OPTIONS + 1] = {
	{"expectations", required_argument, NULL, OPT_EXPECT},
	{"drain-list", required_argument, NULL, OPT_DRAIN},
	{"z", required_argument, NULL, OPT_Z},
	{"min-delta", required_argument, NULL, OPT_MIN_DELTA},
	{"tolerance-lower", required_argument, NULL, OPT_TOL_LOWER},
	{"tolerance-upper", required_argument, NULL, OPT_TOL_UPPER},
	{"job", required_argument, NULL, OPT_JOB},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{NULL, 0, NULL, 0},
};

void compare_args_init(struct compare_args *a)
{
	memset(a, 0, sizeof(*a));
	a->o.z = FLEET_Z_DEFAULT;
	a->o.min_delta = FLEET_MIN_DELTA_DEFAULT;
	a->o.tol_lower = a->o.tol_upper = NAN;
}

/* Parse a real option value in [lo, hi]; -1 (and a message) when bad. */
static int compare_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
			double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "aisp %s: --%s: '%s': expected a number in [%g, %g]\n", cmd, opt, s,
			lo, hi);
		return -1;
	}
	return 0;
}

int compare_parse_option(const char *cmd, int c, const char *arg, struct compare_args *a)
{
	switch (c) {
	case OPT_EXPECT: a->expect = arg; return 0;
	case OPT_DRAIN: a->drain = arg; return 0;
	case OPT_JOB: a->job = arg; return 0;
	case OPT_VERBOSE: a->verbose = 1; return 0;
	case OPT_Z: return compare_real(cmd, "z", arg, 0, 1e6, &a->o.z);
	case OPT_MIN_DELTA: return compare_real(cmd, "min-delta", arg, 0, 100, &a->o.min_delta);
	case OPT_TOL_LOWER: return compare_real(cmd, "tolerance-lower", arg, 0, 1, &a->o.tol_lower);
	case OPT_TOL_UPPER: return compare_real(cmd, "tolerance-upper", arg, 0, 100, &a->o.tol_upper);
	default: return 1;
	}
}

aisp_err compare_load_inputs(const struct compare_args *a, json_t **exp, struct job *job,
			     aisp_error *err)
{
	aisp_err rc;

	*exp = NULL;
	if (a->expect && (rc = expect_load(a->expect, exp, err)))
		return rc;
	if (a->job && (rc = job_load(a->job, job, err)))
		return rc;
	return AISP_OK;
}

/* Distinct git commits of the expectations' examples, comma separated. */
static void compare_exp_commits(const json_t *exp, char *buf, size_t n)
{
	const char *k, *c;
	json_t *ex;
	size_t len = 0;

	buf[0] = '\0';
	json_object_foreach(json_object_get(exp, "examples"), k, ex) {
		c = expect_str(json_object_get(ex, "provenance"), "git_commit");
		if (!c || strstr(buf, c))
			continue;
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? ", " : "", c);
		if (len >= n)
			break;
	}
	if (!buf[0])
		snprintf(buf, n, "unknown");
}

/* Where each side came from; a note when the commits differ. */
static void compare_print_sides(const struct fleet *f, const json_t *exp, const char *path)
{
	char ec[512], key[256];
	int differ = 0;

	compare_exp_commits(exp, ec, sizeof(ec));
	text_printable(ec, sizeof(ec), ec); /* strings of the file, shown as text only */
	for (size_t i = 0; i < f->n_runs; i++) {
		const char *rc = fleet_str(f, f->runs[i].git_commit);

		printf("compare: run %s in %s: git commit %s, %d rank files of %lld\n",
		       fleet_str(f, f->runs[i].run_id), fleet_str(f, f->runs[i].dir), rc,
		       f->runs[i].n_files, f->runs[i].world_size);
		differ |= strcmp(rc, ec) != 0;
	}
	printf("compare: expectations %s: hardware_key %s, git commit %s\n", path,
	       text_printable(key, sizeof(key), expect_str(exp, "hardware_key")), ec);
	if (differ)
		printf("compare: note: the commits differ; judged anyway\n");
}

void compare_print_knobs(const struct fleet *f, const char *cmd, FILE *out)
{
	for (size_t r = 0; r < f->n_runs; r++)
		for (size_t i = 0; i < f->n_files; i++) {
			const struct fleet_file *ff = &f->files[i];
			char ranks[256];
			size_t len = 0;
			int first = 1;

			if (ff->run != r || !fleet_str(f, ff->knobs)[0])
				continue;
			for (size_t j = 0; j < i && first; j++) /* each distinct set once */
				first = !(f->files[j].run == r && f->files[j].knobs == ff->knobs);
			if (!first)
				continue;
			for (size_t j = i; j < f->n_files && len < sizeof(ranks); j++)
				if (f->files[j].run == r && f->files[j].knobs == ff->knobs)
					len += (size_t)snprintf(ranks + len, sizeof(ranks) - len, "%s%d",
								len ? ", " : "", f->files[j].rank);
			fprintf(out, "%s: run %s: test knobs in effect on rank%s %s: %s\n", cmd,
				fleet_str(f, f->runs[r].run_id), strchr(ranks, ',') ? "s" : "", ranks,
				fleet_str(f, ff->knobs));
		}
}

/* The line of unit u without its leading "<name>: ". */
static const char *compare_unit_text(const struct fleet *f, const struct compare_unit *u)
{
	size_t k = strlen(fleet_str(f, u->id));

	return strlen(u->line) > k + 2 ? u->line + k + 2 : u->line;
}

/* One line per item: verdict, what, where, numbers, why. */
static void compare_print_item(const struct fleet *f, const struct compare_item *it)
{
	if (it->fleet) {
		printf("fleet     %s: %s: %s\n", it->label, compare_verdict_name(it->v), it->reason);
		return;
	}
	if (it->gpu == UINT32_MAX) {
		printf("%-9s %s: %s\n", compare_verdict_name(it->v), it->label, it->reason);
		return;
	}
	printf("%-9s %s GPU %s node %s rank %d: ", compare_verdict_name(it->v), it->label,
	       fleet_str(f, it->gpu), fleet_str(f, it->node), f->gpus[it->gpu_idx].rank);
	if (isfinite(it->observed))
		printf("%.6g ms, ", it->observed);
	printf("%s\n", it->reason[0] ? it->reason : "ok");
}

/* Notes, items, every GPU, every node (worst first), then the counts. */
static void compare_print(const struct fleet *f, const struct compare_result *r, int verbose)
{
	for (size_t i = 0; i < r->n_notes; i++)
		printf("compare: note: %s\n", r->notes[i]);
	for (size_t i = 0; i < r->n_items; i++)
		if (verbose || r->items[i].v != VERDICT_PASS)
			compare_print_item(f, &r->items[i]);
	for (size_t i = 0; i < r->n_gpus; i++) {
		const struct compare_unit *u = &r->gpus[i];

		printf("gpu %s node %s rank %d: %s", fleet_str(f, u->id), fleet_str(f, u->node),
		       u->rank, compare_verdict_name(u->v));
		if (u->v != VERDICT_PASS)
			printf(": %s", compare_unit_text(f, u));
		printf("\n");
	}
	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct compare_unit *u = &r->nodes[r->order[i]];

		printf("node %s: %s%s", fleet_str(f, u->id), compare_verdict_name(u->v),
		       u->drain ? " (drain)" : "");
		if (u->v != VERDICT_PASS)
			printf(": %s", compare_unit_text(f, u));
		printf("\n");
	}
	printf("compare: %zu pass, %zu improved, %zu skipped, %zu not judged, %zu missing, %zu outlier, %zu regressed, %zu failed; %zu fleet-wide; %zu of %zu nodes to drain; exit %d\n",
	       r->counts[VERDICT_PASS], r->counts[VERDICT_IMPROVED], r->counts[VERDICT_SKIPPED],
	       r->counts[VERDICT_UNJUDGED], r->counts[VERDICT_MISSING], r->counts[VERDICT_OUTLIER],
	       r->counts[VERDICT_REGRESSED], r->counts[VERDICT_FAILED], r->n_fleet, r->n_drain,
	       r->n_nodes, r->exit_status);
}

aisp_err compare_write_drain(const struct fleet *f, const struct compare_result *r,
			     const char *path, const char *cmd, aisp_error *err)
{
	char tmp[4200];
	struct stat st;
	FILE *out = NULL;
	int n = 0, bad;

	/* path.tmp then rename: a failed write never leaves a partial list */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return aisp_fail(err, AISP_EINPUT, "%s: path too long", path);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return aisp_fail(err, AISP_EINPUT, "%s: is a directory", path);
	out = fopen(tmp, "w");
	if (!out)
		return aisp_fail(err, AISP_EINPUT, "%s: %s", tmp, strerror(errno));
	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct compare_unit *u = &r->nodes[r->order[i]];
		char reason[sizeof(u->line) + 32];

		if (!u->drain)
			continue;
		snprintf(reason, sizeof(reason), "aisp %s: %s", compare_verdict_name(u->v),
			 compare_unit_text(f, u));
		for (char *p = reason; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\'' || *p == '\\')
				*p = ' ';
		fprintf(out, "%s %s\n", fleet_str(f, u->id), reason);
		n++;
	}
	bad = fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0;
	if (fclose(out) != 0 || bad || rename(tmp, path) != 0) {
		bad = errno;
		unlink(tmp);
		return aisp_fail(err, AISP_EIO, "%s: %s", path, bad ? strerror(bad) : "write failed");
	}
	printf("%s: wrote %s (%d nodes to drain)\n", cmd, path, n);
	return AISP_OK;
}

/* Load inputs, judge, print, drain; the exit status. */
static int compare_run(char *const *dirs, int n, const struct compare_args *a)
{
	struct compare_result r = {0};
	aisp_error err = {0};
	struct job job;
	struct compare_opts o = a->o;
	json_t *exp = NULL;
	struct fleet f;
	aisp_err rc;
	int status;

	job_init(&job);
	fleet_init(&f);
	if ((rc = compare_load_inputs(a, &exp, &job, &err)) ||
	    (rc = gather_load(&f, dirs, n, o.z, o.min_delta, &err)))
		goto out;
	o.job = a->job ? &job : NULL;
	compare_print_sides(&f, exp, a->expect);
	compare_print_knobs(&f, "compare", stdout);
	gather_print_problems(&f, "compare", stderr);
	if (f.n_insts == 0) {
		rc = aisp_fail(&err, AISP_EINCOMPLETE, "no readable results in the run directories given");
		goto out;
	}
	if ((rc = compare_fleet(&f, exp, a->expect, &o, &r, &err)))
		goto out;
	compare_print(&f, &r, a->verbose);
	/* the baseline's own drift: a creep no single refresh showed (history.h) */
	history_print_creep(a->expect, expect_str(exp, "hardware_key"), "compare", stdout);
	if (a->drain)
		rc = compare_write_drain(&f, &r, a->drain, "compare", &err);
out:
	if (rc != AISP_OK)
		fprintf(stderr, "aisp compare: %s\n", err.msg);
	status = rc != AISP_OK ? aisp_err_exit_status(rc) : r.exit_status;
	compare_result_free(&r);
	fleet_free(&f);
	job_free(&job);
	json_decref(exp);
	return status;
}

int compare_main(int argc, char **argv)
{
	struct option opts[COMPARE_N_OPTIONS + 2];
	struct compare_args a;
	int c, bad;

	memcpy(opts, compare_options, sizeof(compare_options));
	opts[COMPARE_N_OPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
	opts[COMPARE_N_OPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
	compare_args_init(&a);
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:vh", opts, NULL)) != -1) {
		if (c == 'e' || c == 'v')
			c = c == 'e' ? OPT_EXPECT : OPT_VERBOSE;
		if (c == 'h') {
			fputs(compare_usage, stdout);
			return 0;
		}
		bad = compare_parse_option("compare", c, optarg, &a);
		if (bad) {
			if (bad > 0)
				fputs(compare_usage, stderr);
			return 2;
		}
	}
	if (optind >= argc || !a.expect) {
		fprintf(stderr, "aisp compare: %s\n%s", optind >= argc ? "no RUN_DIR given" :
			"--expectations FILE is required", compare_usage);
		return 2;
	}
	return compare_run(argv + optind, argc - optind, &a);
}
