/*
 * test_profile_ncu.c - runner/profile_ncu.c without Nsight Compute: finding
 * ncu (on a PATH list, through a glob, "not installed"), the argv prefix
 * (clocks never controlled, SOL section, report path) and the CSV reader on
 * text in the layout of `ncu --import X --csv --page raw`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile_ncu.h"

/* A temp dir holding an executable file dir/ncu; path written to dir. */
static void make_fake_ncu(char *dir, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(dir, n, "/tmp/aisp-ncu-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ncu", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void remove_fake_ncu(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/ncu", dir);
	unlink(path);
	rmdir(dir);
}

static void test_find_on_path_and_glob(void **st)
{
	char dir[256], list[1024], glob[512], out[512], want[512];
	aisp_error e = {0};

	(void)st;
	unsetenv("AISP_NCU");
	make_fake_ncu(dir, sizeof(dir));
	snprintf(want, sizeof(want), "%s/ncu", dir);
	snprintf(list, sizeof(list), "/nonexistent/bin::%s", dir);
	assert_int_equal(profile_ncu_find_in(list, NULL, out, sizeof(out), &e), AISP_OK);
	assert_string_equal(out, want);
	snprintf(glob, sizeof(glob), "%s/nc?", dir);
	assert_int_equal(profile_ncu_find_in("/nonexistent", glob, out, sizeof(out), &e), AISP_OK);
	assert_string_equal(out, want);
	remove_fake_ncu(dir);
}

static void test_not_installed(void **st)
{
	char out[512];
	aisp_error e = {0};

	(void)st;
	unsetenv("AISP_NCU");
	assert_int_equal(profile_ncu_find_in("/nonexistent", "/nonexistent/*/ncu", out,
					     sizeof(out), &e), AISP_EINPUT);
	assert_non_null(strstr(e.msg, "not installed"));
	setenv("AISP_NCU", "/nonexistent/ncu", 1);
	assert_int_equal(profile_ncu_find_in(NULL, NULL, out, sizeof(out), &e), AISP_EINPUT);
	assert_non_null(strstr(e.msg, "AISP_NCU"));
	unsetenv("AISP_NCU");
}

/* 1 when argv[0..n) holds a then b consecutively. */
static int has_pair(char **argv, size_t n, const char *a, const char *b)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (!strcmp(argv[i], a) && !strcmp(argv[i + 1], b))
			return 1;
	return 0;
}

static void test_argv_prefix(void **st)
{
	char dir[256], path[512], *argv[PROFILE_NCU_ARGV_MAX];
	size_t n = 0;
	aisp_error e = {0};

	(void)st;
	make_fake_ncu(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ncu", dir);
	setenv("AISP_NCU", path, 1);
	unsetenv("AISP_NCU_FILTER");
	assert_int_equal(profile_ncu_argv("/tmp/run/rank-0.gemm", "/tmp/run/r.log", argv,
					  PROFILE_NCU_ARGV_MAX, &n, &e), AISP_OK);
	assert_true(n >= 3);
	assert_string_equal(argv[0], path);
	assert_true(has_pair(argv, n, "--clock-control", "none"));
	assert_true(has_pair(argv, n, "--cache-control", "none"));
	assert_true(has_pair(argv, n, "--section", "SpeedOfLight"));
	assert_true(has_pair(argv, n, "--export", "/tmp/run/rank-0.gemm"));
	assert_true(has_pair(argv, n, "--log-file", "/tmp/run/r.log"));
	assert_true(has_pair(argv, n, "--nvtx-include", "aisp_profile/"));
	profile_ncu_argv_free(argv, n);
	setenv("AISP_NCU_FILTER", "none", 1); /* every kernel: no NVTX filter */
	assert_int_equal(profile_ncu_argv("/tmp/b", "/tmp/l", argv, PROFILE_NCU_ARGV_MAX, &n, &e),
			 AISP_OK);
	for (size_t i = 0; i < n; i++)
		assert_null(strstr(argv[i], "nvtx"));
	profile_ncu_argv_free(argv, n);
	unsetenv("AISP_NCU_FILTER");
	assert_int_equal(profile_ncu_argv("x", "y", argv, 2, &n, &e), AISP_EINTERNAL);
	assert_int_equal(n, 0);
	assert_int_equal(profile_ncu_argv("x", NULL, argv, PROFILE_NCU_ARGV_MAX, &n, &e),
			 AISP_EINTERNAL);
	unsetenv("AISP_NCU");
	remove_fake_ncu(dir);
}

/* Layout of `ncu --import r.ncu-rep --csv --page raw`: header, units, rows. */
static const char csv_two_kernels[] =
	"\"ID\",\"Process ID\",\"Process Name\",\"Kernel Name\","
	"\"gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed\","
	"\"gpu__time_duration.sum\",\"sm__throughput.avg.pct_of_peak_sustained_elapsed\"\n"
	"\"\",\"\",\"\",\"\",\"%\",\"usecond\",\"%\"\n"
	"\"0\",\"4242\",\"gemm_bench\",\"void gemm_tiled::tiled_kernel<a, b>(float)\","
	"\"60.00\",\"3.00\",\"40.00\"\n"
	"\"1\",\"4242\",\"gemm_bench\",\"sgemm_kernel\",\"20.00\",\"1.00\",\"80.00\"\n";

static void test_parse_weighted_by_duration(void **st)
{
	double mem = 0, sm = 0;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_parse_csv(csv_two_kernels, &mem, &sm, &e), AISP_OK);
	/* (3 * 60 + 1 * 20) / 4 = 50; (3 * 40 + 1 * 80) / 4 = 50 */
	assert_true(fabs(mem - 50.0) < 1e-9);
	assert_true(fabs(sm - 50.0) < 1e-9);
}

static void test_parse_thousands_and_na(void **st)
{
	const char csv[] =
		"==PROF== Disconnected\n"
		"\"ID\",\"sm__throughput.avg.pct_of_peak_sustained_elapsed\","
		"\"gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed\","
		"\"gpu__time_duration.sum\"\n"
		"\"\",\"%\",\"%\",\"nsecond\"\n"
		"\"0\",\"10.5\",\"n/a\",\"1,000\"\n"
		"\"1\",\"30\",\"70\",\"1,000\"\n";
	double mem = 0, sm = 0;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_parse_csv(csv, &mem, &sm, &e), AISP_OK);
	assert_true(fabs(mem - 70.0) < 1e-9); /* the n/a row is skipped */
	assert_true(fabs(sm - 30.0) < 1e-9);
}

/* Columns and values cut from a real report (ncu 2025.3, H100, tiled kernel,
 * 2026-11-25): quoted fields, commas inside the kernel name, units row. */
static const char csv_h100[] =
	"\"ID\",\"Process Name\",\"Kernel Name\",\"Grid Size\","
	"\"gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed\","
	"\"gpu__time_duration.sum\",\"launch__registers_per_thread\","
	"\"sm__throughput.avg.pct_of_peak_sustained_elapsed\"\n"
	"\"\",\"\",\"\",\"\",\"%\",\"us\",\"register/thread\",\"%\"\n"
	"\"0\",\"gemm_bench\",\"void tiled_kernel<cfg<32, 32, 32, 4, 2, 3, 1>>(const float *, "
	"const float *, float *, int, int, int)\",\"(8, 1, 40)\",\"40.309932\",\"11.200000\","
	"\"83\",\"39.646763\"\n"
	"\"1\",\"gemm_bench\",\"void tiled_kernel<cfg<32, 32, 32, 4, 2, 3, 1>>(const float *, "
	"const float *, float *, int, int, int)\",\"(8, 1, 40)\",\"40.361134\",\"11.136000\","
	"\"83\",\"39.697943\"\n"
	"\"2\",\"gemm_bench\",\"void tiled_kernel<cfg<32, 32, 32, 4, 2, 3, 1>>(const float *, "
	"const float *, float *, int, int, int)\",\"(8, 1, 40)\",\"40.596312\",\"11.104000\","
	"\"83\",\"39.924927\"\n";

static void test_parse_real_h100_rows(void **st)
{
	double mem = 0, sm = 0;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_parse_csv(csv_h100, &mem, &sm, &e), AISP_OK);
	/* duration-weighted means, computed with Python from the same rows */
	assert_true(fabs(mem - 40.42207760382775) < 1e-9);
	assert_true(fabs(sm - 39.7561730937799) < 1e-9);
}

static void test_parse_errors(void **st)
{
	double mem = 0, sm = 0;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_parse_csv("", &mem, &sm, &e), AISP_EINPUT);
	assert_int_equal(profile_ncu_parse_csv("\"ID\",\"x\"\n\"\",\"\"\n", &mem, &sm, &e),
			 AISP_EINPUT);
	assert_non_null(strstr(e.msg, "column"));
	assert_int_equal(profile_ncu_parse_csv(
				 "\"ID\",\"sm__throughput.avg.pct_of_peak_sustained_elapsed\","
				 "\"gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed\"\n"
				 "\"\",\"%\",\"%\"\n", &mem, &sm, &e), AISP_EINPUT);
	assert_non_null(strstr(e.msg, "no kernel rows"));
	assert_int_equal(profile_ncu_parse("/nonexistent.ncu-rep", &mem, &sm, &e), AISP_EINPUT);
}

static void test_summary_time_and_kernels(void **st)
{
	struct ncu_summary sum;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_summary_csv(csv_two_kernels, &sum, &e), AISP_OK);
	assert_int_equal(sum.kernels, 2);
	assert_true(fabs(sum.time_ms - 4e-3) < 1e-12); /* 3 + 1 usecond */
	assert_true(fabs(sum.mem_pct - 50.0) < 1e-9);
	assert_int_equal(profile_ncu_summary_csv(csv_h100, &sum, &e), AISP_OK);
	assert_int_equal(sum.kernels, 3);
	assert_true(fabs(sum.time_ms - 0.03344) < 1e-12); /* 11.2 + 11.136 + 11.104 us */
}

static void test_summary_units(void **st)
{
	const char csv[] =
		"\"ID\",\"gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed\","
		"\"gpu__time_duration.sum\",\"sm__throughput.avg.pct_of_peak_sustained_elapsed\"\n"
		"\"\",\"%\",\"msecond\",\"%\"\n"
		"\"0\",\"10\",\"2.5\",\"20\"\n"
		"\"1\",\"n/a\",\"0.5\",\"n/a\"\n";
	struct ncu_summary sum;
	aisp_error e = {0};

	(void)st;
	assert_int_equal(profile_ncu_summary_csv(csv, &sum, &e), AISP_OK);
	assert_true(fabs(sum.time_ms - 3.0) < 1e-12); /* both durations, in ms */
	assert_int_equal(sum.kernels, 2);              /* a kernel without shares counts */
	assert_true(fabs(sum.mem_pct - 10.0) < 1e-12);
}

/* Write text to a temp file; its path into path. */
static void temp_text(char *path, size_t n, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, n, "/tmp/aisp-ncu-log-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_log_error(void **st)
{
	char path[64], out[256];

	(void)st;
	temp_text(path, sizeof(path), "==PROF== Connected to process 42\n"
		  "==WARNING== Found outstanding GPU clock reset\n"
		  "==ERROR== Failed to profile \"sm80_xmma_gemm\" in process 42\n"
		  "==ERROR== second\n");
	assert_int_equal(profile_ncu_log_error(path, out, sizeof(out)), 1);
	assert_string_equal(out, "Failed to profile \"sm80_xmma_gemm\" in process 42");
	unlink(path);
	temp_text(path, sizeof(path), "==PROF== Disconnected\n==WARNING== No kernels were profiled.\n");
	assert_int_equal(profile_ncu_log_error(path, out, sizeof(out)), 1);
	assert_string_equal(out, "No kernels were profiled.");
	unlink(path);
	temp_text(path, sizeof(path), "==PROF== Disconnected\n");
	assert_int_equal(profile_ncu_log_error(path, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	unlink(path);
	assert_int_equal(profile_ncu_log_error("/nonexistent/log", out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_on_path_and_glob),
		cmocka_unit_test(test_not_installed),
		cmocka_unit_test(test_argv_prefix),
		cmocka_unit_test(test_parse_weighted_by_duration),
		cmocka_unit_test(test_parse_thousands_and_na),
		cmocka_unit_test(test_parse_real_h100_rows),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_summary_time_and_kernels),
		cmocka_unit_test(test_summary_units),
		cmocka_unit_test(test_log_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
