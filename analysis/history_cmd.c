/* history_cmd.c - `aisp history BASELINE_DIR [--target T] [--k K]`: how each
 * variant's baseline moved across refreshes, and which ones creep. */
#include "analysis.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history.h"

static const char history_usage[] =
	"usage: aisp history BASELINE_DIR [--target T] [--k K]\n"
	"  How each baseline moved: one line per refresh (every gather that wrote\n"
	"  expectations into BASELINE_DIR appended one to BASELINE_DIR/history.h5)\n"
	"  with the fleet median, its step from the refresh before and its change\n"
	"  since the first; flags a creep: over the last K refreshes the fleet\n"
	"  median got worse by more than the tolerance though each step was inside it.\n"
	"  BASELINE_DIR may also be history.h5 or an expectations file beside it.\n"
	"  --target T   only target T (an instance \"ch01:gemm\", a target, or a\n"
	"               chapter \"ch01\")\n"
	"  --k K        refreshes in the creep window (default 5, at least 3)\n"
	"exit: 0 no creep, 1 a creep, 2 bad usage or input (no history file)\n";

/* 1 when the record's target matches t: the instance, its target (the
 * instance without "[...]") or its chapter (before ':'). */
static int history_match(const char *target, const char *t)
{
	size_t n = strcspn(target, "["), c = strcspn(target, ":");

	return !t || !strcmp(target, t) || (strlen(t) == n && !strncmp(target, t, n)) ||
	       (strlen(t) == c && !strncmp(target, t, c));
}

/* A signed percentage into buf, "-" when not finite. */
static const char *history_pct(double x, char *buf, size_t n)
{
	if (!isfinite(x))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%+.1f%%", 100.0 * x);
	return buf;
}

/* A time in ms with 6 significant digits, "-" when not finite. */
static const char *history_ms(double x, char *buf, size_t n)
{
	if (!isfinite(x))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.6g", x);
	return buf;
}

/* The commits of a record shortened: the first one, "+N" for the others. */
static const char *history_commits(const char *c, char *buf, size_t n)
{
	size_t k = 0;

	for (const char *p = c; *p; p++)
		k += *p == ',';
	if (k)
		snprintf(buf, n, "%.12s +%zu", c, k);
	else
		snprintf(buf, n, "%.12s", c);
	return buf;
}

/* One series (record indices idx[0..n), in append order): header, one line
 * per refresh, the creep line; 1 when it creeps. */
static int history_print_series(const struct history *h, const size_t *idx, size_t n, int k)
{
	const struct history_rec *last = &h->recs[idx[n - 1]], *first = &h->recs[idx[0]];
	struct history_creep cr;
	char a[32], b[32], c[32], d[32], e[32], g[32], s[32], cm[48];
	int creeps = history_creep(h, idx, n, k, NAN, &cr);

	printf("\n%s %s/%s (%s): %zu refresh%s\n  fleet median %s -> %s ms (%s), tolerance +%g%%, noise %s\n",
	       last->hk, last->target, last->variant, last->role, n, n == 1 ? "" : "es",
	       history_ms(first->median, a, sizeof(a)), history_ms(last->median, b, sizeof(b)),
	       history_pct(last->median / first->median - 1.0, c, sizeof(c)),
	       100.0 * cr.tol, isfinite(last->noise) ? history_pct(last->noise, d, sizeof(d)) + 1 : "-");
	printf("  %3s  %-16s %4s %5s %5s  %-16s %11s %11s %11s %8s %9s\n", "#", "data (UTC)", "runs",
	       "GPUs", "nodes", "commits", "median ms", "p10 ms", "p90 ms", "step", "vs first");
	for (size_t i = 0; i < n; i++) {
		const struct history_rec *r = &h->recs[idx[i]];
		double step = i ? r->median / h->recs[idx[i - 1]].median - 1.0 : NAN;

		printf("  %3zu  %-16.16s %4lld %5lld %5lld  %-16s %11s %11s %11s %8s %9s\n", i + 1,
		       r->data_utc, r->n_runs, r->gpus, r->nodes,
		       history_commits(r->commits, cm, sizeof(cm)), history_ms(r->median, a, sizeof(a)),
		       history_ms(r->p10, b, sizeof(b)), history_ms(r->p90, c, sizeof(c)),
		       history_pct(step, s, sizeof(s)),
		       history_pct(i ? r->median / first->median - 1.0 : NAN, e, sizeof(e)));
	}
	if (creeps)
		printf("  CREEP: fleet median %s over the last %d refreshes, each step within the +%g%% tolerance (largest %s)\n",
		       history_pct(cr.change, g, sizeof(g)), cr.n, 100.0 * cr.tol,
		       history_pct(cr.max_step, s, sizeof(s)));
	return creeps;
}

/* The history file that arg names: a directory's history.h5, an .h5 file,
 * or the history.h5 beside a file. */
static void history_resolve(const char *arg, char *path, size_t n)
{
	struct stat st;
	size_t len = strlen(arg);
	char dir[4096];

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(path, n, "%s/%s", arg, HISTORY_FILE);
	} else if (len > 3 && !strcmp(arg + len - 3, ".h5")) {
		snprintf(path, n, "%s", arg);
	} else {
		history_dir_of(arg, dir, sizeof(dir));
		snprintf(path, n, "%s/%s", dir, HISTORY_FILE);
	}
}

/* Print every series matching target; the exit status. */
static int history_print(const struct history *h, const char *path, const char *target, int k)
{
	size_t *idx = malloc((h->n + 1) * sizeof(*idx)), n = 0, series = 0, creeps = 0;

	if (!idx) {
		fprintf(stderr, "aisp history: out of memory\n");
		return 2;
	}
	for (size_t i = 0; i < h->n; i++)
		if (history_match(h->recs[i].target, target))
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), history_cmp_index, (void *)h);
	printf("history: %s: %zu records", path, h->n);
	if (target)
		printf(", %zu of target %s", n, target);
	printf("\n");
	for (size_t i = 0, j; i < n; i = j) {
		const struct history_rec *r = &h->recs[idx[i]];

		for (j = i + 1; j < n; j++) {
			const struct history_rec *q = &h->recs[idx[j]];

			if (strcmp(q->hk, r->hk) || strcmp(q->target, r->target) ||
			    strcmp(q->variant, r->variant))
				break;
		}
		creeps += (size_t)history_print_series(h, idx + i, j - i, k);
		series++;
	}
	free(idx);
	if (target && !n) {
		fprintf(stderr, "aisp history: %s: no record of target %s\n", path, target);
		return 2;
	}
	printf("\nhistory: %zu variants, %zu creeping\n", series, creeps);
	return creeps ? 1 : 0;
}

int history_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'}, {"k", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *target = NULL;
	struct history h = {0};
	aisp_error err = {0};
	char path[4200], *end;
	long k = HISTORY_CREEP_K;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': target = optarg; break;
		case 'k':
			k = strtol(optarg, &end, 10);
			if (*end || end == optarg || k < 3 || k > 1000000) {
				fprintf(stderr, "aisp history: --k: '%s': expected an integer in [3, 1000000]\n",
					optarg);
				return 2;
			}
			break;
		case 'h': fputs(history_usage, stdout); return 0;
		default: fputs(history_usage, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "aisp history: %s\n%s", optind >= argc ? "no BASELINE_DIR given" :
			"one BASELINE_DIR only", history_usage);
		return 2;
	}
	history_resolve(argv[optind], path, sizeof(path));
	if (history_load(path, &h, &err)) {
		fprintf(stderr, "aisp history: %s\n", err.msg);
		return 2;
	}
	if (h.n == 0) {
		fprintf(stderr, "aisp history: %s: no history (gather writes it beside the expectations files)\n",
			path);
		return 2;
	}
	status = history_print(&h, path, target, (int)k);
	history_free(&h);
	return status;
}
