/*
 * test_run_report.c - the run table's throughput text (run_rate_text): the
 * unit of each target's work with an SI prefix, never a bare "/s".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "run.h"

static void expect_rate(double v, const char *unit, const char *want)
{
	char buf[40];

	run_rate_text(v, unit, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("%g %s: '%s', expected '%s'", v, unit ? unit : "(null)", buf, want);
}

static void test_units(void **state)
{
	(void)state;
	expect_rate(2.262e10, "flop", "22.6 GFLOP/s");
	expect_rate(9.5e14, "flop", "950 TFLOP/s");
	expect_rate(2.462e9, "bytes", "2.46 GB/s");
	expect_rate(3.35e12, "bytes", "3.35 TB/s");
	expect_rate(9.318e4, "samples", "93.2k samples/s");
	expect_rate(4.563e8, "launch", "456M launches/s");
	expect_rate(12.0, "samples", "12 samples/s");
}

static void test_edges(void **state)
{
	(void)state;
	expect_rate(999.4, "bytes", "999 B/s");
	expect_rate(999.6, "bytes", "1 kB/s");     /* never "1e+03 B/s" */
	expect_rate(0.5, "flop", "0.5 FLOP/s");
	expect_rate(NAN, "flop", "-");
	expect_rate(INFINITY, "flop", "-");
	expect_rate(-1.0, "flop", "-");
	expect_rate(1e9, NULL, "-");
	expect_rate(1e9, "", "-");
	expect_rate(1e30, "bytes", "1e+12 EB/s"); /* past the last prefix */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
