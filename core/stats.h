/*
 * stats.h - statistics of timing samples. Quantiles interpolate linearly
 * between order statistics (numpy's default, "linear"), so an independent
 * numpy computation gives the same numbers.
 */
#ifndef AISP_STATS_H
#define AISP_STATS_H

#include <stddef.h>

#include "aisp.h"

struct stats_summary {
	size_t n;
	double median, mean, stddev, p10, p75, p90, p99, min, max; /* stddev: n - 1 */
	double mad; /* median absolute deviation from the median, unscaled */
};

/* Summarize x[0..n) (not modified); n == 0 gives all NAN and n = 0. */
aisp_err stats_summarize(const double *x, size_t n, struct stats_summary *out);

/* Quantile q in [0,1] of sorted[0..n), linear interpolation; NAN if n == 0. */
double stats_quantile_sorted(const double *sorted, size_t n, double q);

/* Median of x[0..n) (x is reordered); NAN if n == 0. */
double stats_median_inplace(double *x, size_t n);

/* Median absolute deviation of x[0..n) about med (scratch holds n doubles). */
double stats_mad(const double *x, size_t n, double med, double *scratch);

/* Robust z-score: (x - median) / (1.4826 * mad); 0 when mad is 0 and x == median,
 * +-INFINITY when mad is 0 and x differs. */
double stats_robust_z(double x, double median, double mad);

/* Relative half-width of a ~95% distribution-free confidence interval of the
 * median of sorted[0..n) (order statistics n/2 -+ 0.98 sqrt(n)), over the median.
 * INFINITY when n is too small (< 6). */
double stats_median_ci_rel(const double *sorted, size_t n);

#endif /* AISP_STATS_H */
