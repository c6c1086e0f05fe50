/* run_report.c - the table rank 0 prints at the end of a run. */
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "stats.h"
#include "text.h"

/* Median over ranks of the ok medians of item, and counts; NAN if none.
 * *bad is the first report of item that is not ok, or NULL. */
static double item_median(const struct sched *s, int item, int *ok, int *all,
			  const struct sched_report **bad)
{
	double *m = malloc((s->n_reports ? s->n_reports : 1) * sizeof(double)), med;
	size_t n = 0;

	*ok = *all = 0;
	*bad = NULL;
	for (size_t i = 0; m && i < s->n_reports; i++) {
		if (s->reports[i].item != item)
			continue;
		(*all)++;
		if (!strcmp(s->reports[i].status, "ok")) {
			(*ok)++;
			m[n++] = s->reports[i].median_ms;
		} else if (!*bad) {
			*bad = &s->reports[i];
		}
	}
	med = n ? stats_median_inplace(m, n) : NAN;
	free(m);
	return med;
}

/* Index of the baseline item of the same instance as item, or -1. */
static int baseline_of(const struct sched *s, size_t item)
{
	for (size_t i = 0; i < s->n_items; i++)
		if (!strcmp(s->items[i].instance, s->items[item].instance) &&
		    strstr(s->items[i].variant, "baseline") == s->items[i].variant)
			return (int)i;
	return -1;
}

/* The check values of item's first report that has them (measure_check_text),
 * or "". */
static const char *check_values(const struct sched *s, int item)
{
	for (size_t i = 0; i < s->n_reports; i++)
		if (s->reports[i].item == item && s->reports[i].check[0])
			return s->reports[i].check;
	return "";
}

/* 1 when the job says the variants of instance are alternatives of one
 * workload (job key "alternatives: true"), so a speedup means something. */
static int alternatives(const struct job *job, const char *instance)
{
	for (size_t i = 0; job && i < job->n_targets; i++)
		if (!strcmp(job->targets[i].instance, instance))
			return job->targets[i].alternatives;
	return 0;
}

/* v per second in unit (a target's work_unit: "flop", "bytes", "samples",
 * "launch", ...) with an SI prefix: "22.6 GFLOP/s", "2.46 GB/s",
 * "93.2k samples/s". "-" when v or the unit is unknown. */
void run_rate_text(double v, const char *unit, char *buf, size_t n)
{
	static const char *const prefix[] = {"", "k", "M", "G", "T", "P", "E"};
	const char *sym = NULL, *word = unit;
	size_t p = 0;

	if (!unit || !*unit || !isfinite(v) || v < 0) {
		snprintf(buf, n, "-");
		return;
	}
	if (!strcmp(unit, "flop"))
		sym = "FLOP";
	else if (!strcmp(unit, "bytes") || !strcmp(unit, "byte"))
		sym = "B";
	else if (!strcmp(unit, "launch"))
		word = "launches";
	while (v >= 999.5 && p + 1 < sizeof(prefix) / sizeof(prefix[0])) {
		v /= 1000.0;
		p++;
	}
	if (sym)
		snprintf(buf, n, "%.3g %s%s/s", v, prefix[p], sym);
	else
		snprintf(buf, n, "%.3g%s %s/s", v, prefix[p], word);
}

/* Throughput of item at median med, as text in the target's unit. */
static void throughput_text(const struct sched *s, int item, double med,
			    const char *unit, char *buf, size_t n)
{
	for (size_t i = 0; i < s->n_reports; i++)
		if (s->reports[i].item == item && isfinite(s->reports[i].throughput) && med > 0) {
			run_rate_text(s->reports[i].throughput * s->reports[i].median_ms / med,
				      unit, buf, n);
			return;
		}
	snprintf(buf, n, "-");
}

/* The check column: the check values, and for an item not ok (bad) why
 * ("why: host backend has no GPUs to all-reduce across"). */
static void check_text(const struct sched_report *bad, const char *values, char *buf,
		       size_t n)
{
	char why[sizeof(bad->message)];

	if (!bad) {
		snprintf(buf, n, "%s", values);
		return;
	}
	text_printable(why, sizeof(why), bad->message);
	snprintf(buf, n, "%s%s%s%s", values, values[0] && why[0] ? "; " : "",
		 why[0] ? "why: " : "", why);
}

void run_print_summary(const struct sched *s, const struct job *job,
		       enum aisp_backend_kind backend)
{
	printf("\n%-28s %-32s %7s %12s %9s %18s  %-13s %s\n", "target", "variant", "ranks",
	       "median ms", "speedup", "throughput", "verification", "check");
	for (size_t i = 0; i < s->n_items; i++) {
		const struct aisp_target *t = registry_find(s->items[i].target, backend);
		int ok, all, bok, ball, b = baseline_of(s, i);
		const struct sched_report *bad, *bbad;
		double med = item_median(s, (int)i, &ok, &all, &bad), base = NAN;
		char ranks[16], median[24] = "-", speed[16] = "-", thr[40];
		char check[sizeof(bad->check) + sizeof("; why: ") + sizeof(bad->message)];

		if (!all)
			continue;
		if (b >= 0 && alternatives(job, s->items[i].instance))
			base = item_median(s, b, &bok, &ball, &bbad);
		snprintf(ranks, sizeof(ranks), "%d/%d", ok, all);
		if (isfinite(med))
			snprintf(median, sizeof(median), "%.5g", med);
		if (isfinite(base) && isfinite(med) && med > 0)
			snprintf(speed, sizeof(speed), "%.2fx", base / med);
		throughput_text(s, (int)i, med, t ? t->card->work_unit : NULL, thr, sizeof(thr));
		check_text(bad, check_values(s, (int)i), check, sizeof(check));
		printf("%-28s %-32s %7s %12s %9s %18s  %-13s %s\n", s->items[i].instance,
		       s->items[i].variant, ranks, median, speed, thr, bad ? bad->status : "passed",
		       check);
	}
	fflush(stdout);
}
