/*
 * stats.c - statistics of timing samples. Quantiles follow numpy's default
 * "linear" method, including its interpolation formula, so that numpy gives
 * the same numbers to the last bit or two.
 */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* qsort comparator for doubles (inputs are NaN-free). */
static int stats_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* a + (b - a) * t the way numpy's _lerp computes it (exact at t = 0 and 1). */
static double stats_lerp(double a, double b, double t)
{
	double d = b - a;

	if (a == b)
		return a;
	return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

double stats_quantile_sorted(const double *sorted, size_t n, double q)
{
	double h, lo;
	size_t i;

	if (n == 0 || isnan(q))
		return NAN;
	if (q <= 0.0)
		return sorted[0];
	if (q >= 1.0)
		return sorted[n - 1];
	h = q * (double)(n - 1);
	lo = floor(h);
	i = (size_t)lo;
	if (i + 1 >= n)
		return sorted[n - 1];
	return stats_lerp(sorted[i], sorted[i + 1], h - lo);
}

/* Median of sorted[0..n): the middle value, or the mean of the two middle ones. */
static double stats_median_sorted(const double *sorted, size_t n)
{
	if (n == 0)
		return NAN;
	if (n % 2)
		return sorted[n / 2];
	return (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

double stats_median_inplace(double *x, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(x, n, sizeof(*x), stats_cmp_double);
	return stats_median_sorted(x, n);
}

double stats_mad(const double *x, size_t n, double med, double *scratch)
{
	for (size_t i = 0; i < n; i++)
		scratch[i] = fabs(x[i] - med);
	return stats_median_inplace(scratch, n);
}

double stats_robust_z(double x, double median, double mad)
{
	if (mad > 0.0)
		return (x - median) / (1.4826 * mad);
	if (x == median)
		return 0.0;
	return x > median ? INFINITY : -INFINITY;
}

/* Half the spread of order statistics floor(n/2 - 0.98 sqrt n) and
 * ceil(n/2 + 0.98 sqrt n) (0-based, clamped), over |median|. A zero median
 * gives 0 when the interval is empty, else INFINITY. */
double stats_median_ci_rel(const double *sorted, size_t n)
{
	double half = (double)n / 2.0, w = 0.98 * sqrt((double)n);
	double lo = floor(half - w), hi = ceil(half + w), med, width;

	if (n < 6)
		return INFINITY;
	if (lo < 0.0)
		lo = 0.0;
	if (hi > (double)(n - 1))
		hi = (double)(n - 1);
	med = fabs(stats_median_sorted(sorted, n));
	width = (sorted[(size_t)hi] - sorted[(size_t)lo]) / 2.0;
	if (med == 0.0)
		return width == 0.0 ? 0.0 : INFINITY;
	return width / med;
}

/* Every field NAN and n = 0: the summary of no samples. */
static void stats_summary_empty(struct stats_summary *out)
{
	out->n = 0;
	out->median = out->mean = out->stddev = NAN;
	out->p10 = out->p75 = out->p90 = out->p99 = NAN;
	out->min = out->max = out->mad = NAN;
}

/* Mean and sample standard deviation (n - 1 in the denominator, 0 for n = 1),
 * two-pass so large offsets do not cancel. */
static void stats_mean_stddev(const double *x, size_t n, double *mean,
			      double *stddev)
{
	double sum = 0.0, ss = 0.0, m;

	for (size_t i = 0; i < n; i++)
		sum += x[i];
	m = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

aisp_err stats_summarize(const double *x, size_t n, struct stats_summary *out)
{
	double *sorted;

	stats_summary_empty(out);
	if (n == 0)
		return AISP_OK;
	if (n > SIZE_MAX / sizeof(*sorted))
		return AISP_ENOMEM;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return AISP_ENOMEM;
	memcpy(sorted, x, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), stats_cmp_double);
	out->n = n;
	out->median = stats_median_sorted(sorted, n);
	stats_mean_stddev(x, n, &out->mean, &out->stddev);
	out->p10 = stats_quantile_sorted(sorted, n, 0.10);
	out->p75 = stats_quantile_sorted(sorted, n, 0.75);
	out->p90 = stats_quantile_sorted(sorted, n, 0.90);
	out->p99 = stats_quantile_sorted(sorted, n, 0.99);
	out->min = sorted[0];
	out->max = sorted[n - 1];
	out->mad = stats_mad(x, n, out->median, sorted);
	free(sorted);
	return AISP_OK;
}
