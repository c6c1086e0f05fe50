/* run_report.c - the table rank 0 prints at the end of a run. */
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Median over ranks of the ok medians of item, and counts; NAN if none. */
static double item_median(const struct sched *s, int item, int *ok, int *all,
			  const char **bad)
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
			*bad = s->reports[i].status;
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

/* The check text of item's first report that has one, or "". */
static const char *check_text(const struct sched *s, int item)
{
	for (size_t i = 0; i < s->n_reports; i++)
		if (s->reports[i].item == item && s->reports[i].check[0])
			return s->reports[i].check;
	return "";
}

/* Throughput of item at median med, as text. */
static void throughput_text(const struct sched *s, int item, double med, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->n_reports; i++)
		if (s->reports[i].item == item && isfinite(s->reports[i].throughput) && med > 0) {
			snprintf(buf, n, "%.4g/s", s->reports[i].throughput *
						   s->reports[i].median_ms / med);
			return;
		}
}

void run_print_summary(const struct sched *s)
{
	printf("\n%-28s %-32s %7s %12s %9s %12s  %-13s %s\n", "target", "variant", "ranks",
	       "median ms", "speedup", "throughput", "verification", "check");
	for (size_t i = 0; i < s->n_items; i++) {
		int ok, all, bok, ball, b = baseline_of(s, i);
		const char *bad, *bbad;
		double med = item_median(s, (int)i, &ok, &all, &bad);
		double base = b >= 0 ? item_median(s, b, &bok, &ball, &bbad) : NAN;
		char ranks[16], speed[16] = "-", thr[32];

		if (!all)
			continue;
		snprintf(ranks, sizeof(ranks), "%d/%d", ok, all);
		if (isfinite(base) && isfinite(med) && med > 0)
			snprintf(speed, sizeof(speed), "%.2fx", base / med);
		throughput_text(s, (int)i, med, thr, sizeof(thr));
		printf("%-28s %-32s %7s %12.5g %9s %12s  %-13s %s\n", s->items[i].instance,
		       s->items[i].variant, ranks, med, speed, thr, bad ? bad : "passed",
		       check_text(s, (int)i));
	}
	fflush(stdout);
}
