/* compare.c - `aisp compare RUN_DIR... --expectations FILE`: verdicts per
 * target, variant, GPU and node; a drain list; the exit status. */
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
#include "job.h"
#include "text.h"

static const char compare_usage[] =
	"usage: aisp compare RUN_DIR... --expectations FILE [--drain-list FILE]\n"
	"                    [--z Z] [--min-delta F] [--tolerance-lower F]\n"
	"                    [--tolerance-upper F] [--job FILE.yaml] [--verbose]\n"
	"  Judge every target, variant and GPU of the runs against FILE: pass,\n"
	"  improved, missing, outlier, regressed or failed; then every GPU and node.\n"
	"  --drain-list FILE  write 'node reason' lines for nodes to drain\n"
	"  --z Z              robust z above which a slower GPU is an outlier (3.5)\n"
	"  --min-delta F      ...when also slower than the fleet median by F (0.02)\n"
	"  --tolerance-lower F, --tolerance-upper F  fractions (default: the\n"
	"                     example's \"tolerance\", the job file's, else 0.25)\n"
	"  --job FILE         take per-target tolerances from this job file\n"
	"  --verbose          print passing items too\n"
	"exit: 0 all pass, 1 regression/outlier/failed, 2 bad input, 3 incomplete\n";

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

/* One line per item: verdict, what, where, numbers, why. */
static void compare_print_item(const struct fleet *f, const struct compare_item *it)
{
	if (it->gpu == UINT32_MAX) {
		printf("%-9s %s: %s\n", compare_verdict_name(it->v), it->label, it->reason);
		return;
	}
	printf("%-9s %s GPU %s node %s rank %d: ", compare_verdict_name(it->v), it->label,
	       fleet_str(f, it->gpu), fleet_str(f, it->node), f->gpus[it->gpu_idx].rank);
	if (isfinite(it->observed))
		printf("%.6g ms, ", it->observed);
	if (isfinite(it->z))
		printf("z=%+.1f, ", it->z);
	printf("%s\n", it->reason[0] ? it->reason : "ok");
}

/* Items, then the verdict of every GPU and node, then the counts. */
static void compare_print(const struct fleet *f, const struct compare_result *r, int verbose)
{
	for (size_t i = 0; i < r->n_items; i++)
		if (verbose || r->items[i].v != VERDICT_PASS)
			compare_print_item(f, &r->items[i]);
	for (size_t i = 0; i < r->n_gpus; i++) {
		const struct compare_unit *u = &r->gpus[i];

		printf("gpu %s node %s rank %d: %s\n", fleet_str(f, u->id), fleet_str(f, u->node),
		       u->rank, compare_verdict_name(u->v));
	}
	for (size_t i = 0; i < r->n_nodes; i++) {
		const struct compare_unit *u = &r->nodes[i];

		printf("node %s: %s", fleet_str(f, u->id), compare_verdict_name(u->v));
		if (u->worst != FLEET_NONE && u->v != VERDICT_PASS)
			printf(" (GPU %s %s: %s)", fleet_str(f, r->items[u->worst].gpu),
			       r->items[u->worst].label, r->items[u->worst].reason);
		printf("\n");
	}
	printf("compare: %zu pass, %zu improved, %zu missing, %zu outlier, %zu regressed, %zu failed; exit %d\n",
	       r->counts[VERDICT_PASS], r->counts[VERDICT_IMPROVED], r->counts[VERDICT_MISSING],
	       r->counts[VERDICT_OUTLIER], r->counts[VERDICT_REGRESSED], r->counts[VERDICT_FAILED],
	       r->exit_status);
}

/* "node reason" per node whose verdict is outlier, regressed or failed. */
static aisp_err compare_drain(const struct fleet *f, const struct compare_result *r,
			      const char *path, aisp_error *err)
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
		const struct compare_unit *u = &r->nodes[i];
		const struct compare_item *it;
		char reason[512];

		if (u->v < VERDICT_OUTLIER)
			continue;
		it = &r->items[u->worst];
		snprintf(reason, sizeof(reason), "aisp %s: GPU %s %s: %s", compare_verdict_name(u->v),
			 fleet_str(f, it->gpu), it->label, it->reason);
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
	printf("compare: wrote %s (%d nodes to drain)\n", path, n);
	return AISP_OK;
}

/* Parse a real option value in [lo, hi]; -1 (and a message) when bad. */
static int compare_real(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "aisp compare: --%s: '%s': expected a number in [%g, %g]\n", opt, s,
			lo, hi);
		return -1;
	}
	return 0;
}

/* Options of compare (and report, which takes a subset). */
struct compare_args {
	const char *expect, *drain, *job;
	struct compare_opts o;
	int verbose;
};

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
	if ((rc = expect_load(a->expect, &exp, &err)) ||
	    (a->job && (rc = job_load(a->job, &job, &err))) ||
	    (rc = gather_load(&f, dirs, n, o.z, o.min_delta, &err)))
		goto out;
	o.job = a->job ? &job : NULL;
	compare_print_sides(&f, exp, a->expect);
	gather_print_problems(&f, "compare", stderr);
	if (f.n_insts == 0) {
		rc = aisp_fail(&err, AISP_EINCOMPLETE, "no readable results in the run directories given");
		goto out;
	}
	if ((rc = compare_fleet(&f, exp, a->expect, &o, &r, &err)))
		goto out;
	compare_print(&f, &r, a->verbose);
	if (a->drain)
		rc = compare_drain(&f, &r, a->drain, &err);
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
	static const struct option opts[] = {
		{"expectations", required_argument, NULL, 'e'},
		{"drain-list", required_argument, NULL, 'd'}, {"z", required_argument, NULL, 'z'},
		{"min-delta", required_argument, NULL, 'm'},
		{"tolerance-lower", required_argument, NULL, 'l'},
		{"tolerance-upper", required_argument, NULL, 'u'}, {"job", required_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct compare_args a = {NULL, NULL, NULL,
				 {FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, NAN, NAN, NULL}, 0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'e': a.expect = optarg; break;
		case 'd': a.drain = optarg; break;
		case 'j': a.job = optarg; break;
		case 'v': a.verbose = 1; break;
		case 'z': if (compare_real("z", optarg, 0, 1e6, &a.o.z)) return 2; break;
		case 'm': if (compare_real("min-delta", optarg, 0, 100, &a.o.min_delta)) return 2; break;
		case 'l': if (compare_real("tolerance-lower", optarg, 0, 1, &a.o.tol_lower)) return 2; break;
		case 'u': if (compare_real("tolerance-upper", optarg, 0, 100, &a.o.tol_upper)) return 2; break;
		case 'h': fputs(compare_usage, stdout); return 0;
		default: fputs(compare_usage, stderr); return 2;
		}
	}
	if (optind >= argc || !a.expect) {
		fprintf(stderr, "aisp compare: %s\n%s", optind >= argc ? "no RUN_DIR given" :
			"--expectations FILE is required", compare_usage);
		return 2;
	}
	return compare_run(argv + optind, argc - optind, &a);
}
