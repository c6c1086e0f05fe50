/*
 * test_stats.c - core/stats.c against numbers computed independently with
 * numpy 1.24 (/usr/bin/python3 tests/unit/stats_ref.py prints every expected
 * value below: np.median, np.mean, np.std(ddof=1), np.quantile(method=
 * "linear"), the MAD and the order-statistic CI written out in Python).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"

/* a and b agree to a relative 1e-12 (numpy sums pairwise, we do not). */
#define assert_close(a, b) assert_close_at((a), (b), #a, __FILE__, __LINE__)

static void assert_close_at(double a, double b, const char *what,
			    const char *file, int line)
{
	double tol = 1e-12 * fmax(1.0, fmax(fabs(a), fabs(b)));

	if (a == b || fabs(a - b) <= tol)
		return;
	fail_msg("%s:%d: %s = %.17g, expected %.17g", file, line, what, a, b);
}

struct expect {
	double median, mean, stddev, p10, p75, p90, p99, min, max, mad, ci_rel, q333;
};

/* Same values as gen() in stats_ref.py: same expression, same order. */
static void gen(double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 1.0 + 0.01 * (double)((i * 37) % 101) + 0.001 * (double)i;
}

/* Summary, quantile, median, MAD and CI of x against numpy's numbers. */
static void check_set(const double *x, size_t n, const struct expect *e)
{
	struct stats_summary s;
	double sorted[1000], scratch[1000];

	assert_true(n <= 1000);
	assert_int_equal(stats_summarize(x, n, &s), AISP_OK);
	assert_int_equal(s.n, n);
	assert_close(s.median, e->median);
	assert_close(s.mean, e->mean);
	assert_close(s.stddev, e->stddev);
	assert_close(s.p10, e->p10);
	assert_close(s.p75, e->p75);
	assert_close(s.p90, e->p90);
	assert_close(s.p99, e->p99);
	assert_close(s.min, e->min);
	assert_close(s.max, e->max);
	assert_close(s.mad, e->mad);
	memcpy(sorted, x, n * sizeof(*x));
	assert_close(stats_median_inplace(sorted, n), e->median);
	for (size_t i = 1; i < n; i++)
		assert_true(sorted[i - 1] <= sorted[i]);
	assert_close(stats_quantile_sorted(sorted, n, 0.333), e->q333);
	assert_close(stats_median_ci_rel(sorted, n), e->ci_rel);
	assert_close(stats_mad(x, n, e->median, scratch), e->mad);
}

static void test_seven(void **state)
{
	const double x[] = {3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6};
	const struct expect e = {
		3.0, 3.7285714285714286, 2.6985886964079855, 1.3, 4.5,
		6.600000000000001, 8.759999999999998, 1.0, 9.0, 1.5,
		1.3333333333333333, 2.5978000000000003,
	};

	(void)state;
	check_set(x, 7, &e);
}

static void test_ten_with_outlier(void **state)
{
	const double x[] = {0.51, 0.49, 0.5, 0.52, 0.48, 0.5, 3.9, 0.47, 0.53, 0.5};
	const struct expect e = {
		0.5, 0.8399999999999999, 1.075319074094341, 0.479,
		0.5175000000000001, 0.8669999999999989, 3.5967000000000002, 0.47,
		3.9, 0.015000000000000013, 3.42, 0.49997,
	};

	(void)state;
	check_set(x, 10, &e);
}

static void test_gen50(void **state)
{
	double x[50];
	const struct expect e = {
		1.525, 1.5247, 0.30114544929759945, 1.121, 1.77775,
		1.9290999999999998, 2.01971, 1.0, 2.03, 0.258,
		0.09475409836065579, 1.356657,
	};

	(void)state;
	gen(x, 50);
	check_set(x, 50, &e);
}

static void test_gen1000(void **state)
{
	static double x[1000];
	const struct expect e = {
		1.9995, 1.9996, 0.41162068897419574, 1.4468999999999999, 2.29125,
		2.5531, 2.85818, 1.0, 2.979, 0.2919999999999998,
		0.01600400100025002, 1.8146670000000003,
	};

	(void)state;
	gen(x, 1000);
	check_set(x, 1000, &e);
}

static void test_empty(void **state)
{
	struct stats_summary s;
	double x[1] = {1.0};

	(void)state;
	memset(&s, 0, sizeof(s));
	s.n = 7;
	assert_int_equal(stats_summarize(x, 0, &s), AISP_OK);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.median) && isnan(s.mean) && isnan(s.stddev));
	assert_true(isnan(s.p10) && isnan(s.p75) && isnan(s.p90) && isnan(s.p99));
	assert_true(isnan(s.min) && isnan(s.max) && isnan(s.mad));
	assert_true(isnan(stats_quantile_sorted(x, 0, 0.5)));
	assert_true(isnan(stats_median_inplace(x, 0)));
	assert_true(isinf(stats_median_ci_rel(x, 0)));
}

static void test_one(void **state)
{
	struct stats_summary s;
	double x[1] = {2.5};

	(void)state;
	assert_int_equal(stats_summarize(x, 1, &s), AISP_OK);
	assert_int_equal(s.n, 1);
	assert_close(s.median, 2.5);
	assert_close(s.mean, 2.5);
	assert_close(s.stddev, 0.0);
	assert_close(s.p10, 2.5);
	assert_close(s.p99, 2.5);
	assert_close(s.mad, 0.0);
	assert_close(stats_quantile_sorted(x, 1, 0.7), 2.5);
	assert_true(isinf(stats_median_ci_rel(x, 1)));
}

/* numpy: x = [1, 3]: quantiles 1.2 2.5 2.8 2.98, std(ddof=1) sqrt(2), MAD 1. */
static void test_two(void **state)
{
	struct stats_summary s;
	const double x[2] = {3.0, 1.0};

	(void)state;
	assert_int_equal(stats_summarize(x, 2, &s), AISP_OK);
	assert_close(s.median, 2.0);
	assert_close(s.mean, 2.0);
	assert_close(s.stddev, 1.4142135623730951);
	assert_close(s.p10, 1.2);
	assert_close(s.p75, 2.5);
	assert_close(s.p90, 2.8);
	assert_close(s.p99, 2.98);
	assert_close(s.min, 1.0);
	assert_close(s.max, 3.0);
	assert_close(s.mad, 1.0);
	assert_true(x[0] == 3.0); /* input untouched */
}

static void test_all_equal(void **state)
{
	struct stats_summary s;
	double x[40];

	(void)state;
	for (size_t i = 0; i < 40; i++)
		x[i] = 0.125;
	assert_int_equal(stats_summarize(x, 40, &s), AISP_OK);
	assert_close(s.median, 0.125);
	assert_close(s.mean, 0.125);
	assert_close(s.stddev, 0.0);
	assert_close(s.p10, 0.125);
	assert_close(s.p99, 0.125);
	assert_close(s.mad, 0.0);
	assert_close(stats_median_ci_rel(x, 40), 0.0);
	for (size_t i = 0; i < 40; i++)
		x[i] = 0.0;
	assert_close(stats_median_ci_rel(x, 40), 0.0);
}

static void test_quantile_ends(void **state)
{
	const double x[] = {1.0, 2.0, 4.0, 8.0};

	(void)state;
	assert_close(stats_quantile_sorted(x, 4, 0.0), 1.0);
	assert_close(stats_quantile_sorted(x, 4, 1.0), 8.0);
	assert_close(stats_quantile_sorted(x, 4, -0.5), 1.0);
	assert_close(stats_quantile_sorted(x, 4, 1.5), 8.0);
	assert_close(stats_quantile_sorted(x, 4, 0.5), 3.0);
	/* numpy: np.quantile([1,2,4,8], 0.9) = 6.8 */
	assert_close(stats_quantile_sorted(x, 4, 0.9), 6.8);
	assert_true(isnan(stats_quantile_sorted(x, 4, NAN)));
}

/* numpy: x = 1..6: (x[5] - x[0]) / 2 / 3.5 = 0.7142857142857143; n = 5 is too few. */
static void test_ci_small(void **state)
{
	const double x[] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};

	(void)state;
	assert_true(isinf(stats_median_ci_rel(x, 5)));
	assert_close(stats_median_ci_rel(x, 6), 0.7142857142857143);
}

/* (5 - 3) / (1.4826 * 1.5) = 0.8993210126354603 (Python). */
static void test_robust_z(void **state)
{
	(void)state;
	assert_close(stats_robust_z(5.0, 3.0, 1.5), 0.8993210126354603);
	assert_close(stats_robust_z(1.0, 3.0, 1.5), -0.8993210126354603);
	assert_close(stats_robust_z(3.0, 3.0, 0.0), 0.0);
	assert_true(stats_robust_z(3.5, 3.0, 0.0) == INFINITY);
	assert_true(stats_robust_z(2.5, 3.0, 0.0) == -INFINITY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seven),
		cmocka_unit_test(test_ten_with_outlier),
		cmocka_unit_test(test_gen50),
		cmocka_unit_test(test_gen1000),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_two),
		cmocka_unit_test(test_all_equal),
		cmocka_unit_test(test_quantile_ends),
		cmocka_unit_test(test_ci_small),
		cmocka_unit_test(test_robust_z),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
