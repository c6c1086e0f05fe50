/* test_expect.c - expectations files: lossless read of the book's anchors,
 * byte-exact deterministic writes, and clear errors for bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"

static char fixtures[1024];

/* Whole file at dir/name, malloc'd and NUL-terminated. */
static char *slurp(const char *name, size_t *len)
{
	char path[2048];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The anchor reads, and one write gives back the very same bytes, twice. */
static void roundtrip(const char *name)
{
	size_t len;
	char *orig = slurp(name, &len), *once, *twice;
	aisp_error err = {0};
	json_t *root, *again;

	assert_int_equal(expect_parse(orig, len, name, &root, &err), AISP_OK);
	once = expect_dump(root);
	assert_non_null(once);
	assert_string_equal(once, orig);
	assert_int_equal(expect_parse(once, strlen(once), name, &again, &err), AISP_OK);
	assert_true(json_equal(root, again));
	twice = expect_dump(again);
	assert_string_equal(once, twice);
	free(orig);
	free(once);
	free(twice);
	json_decref(root);
	json_decref(again);
}

static void test_roundtrip_b200(void **state)
{
	(void)state;
	roundtrip("expectations_b200.json");
}

static void test_roundtrip_2x_b200(void **state)
{
	(void)state;
	roundtrip("expectations_2x_b200.json");
}

/* Every field of the anchor reads with its value and type. */
static void test_fields_read(void **state)
{
	size_t len;
	char *text = slurp("expectations_b200.json", &len);
	aisp_error err = {0};
	json_t *root, *ex, *m;

	(void)state;
	assert_int_equal(expect_parse(text, len, "b200", &root, &err), AISP_OK);
	assert_string_equal(expect_str(root, "hardware_key"), "b200");
	assert_int_equal(json_object_size(json_object_get(root, "examples")), 7);
	ex = json_object_get(json_object_get(root, "examples"), "gemm_cuda");
	m = json_object_get(ex, "metrics");
	assert_true(expect_num(m, "baseline_time_ms") == 0.28933333333333333);
	assert_true(json_is_null(json_object_get(m, "baseline_throughput.goodput")));
	assert_true(json_is_false(json_object_get(m, "is_regression")));
	assert_string_equal(expect_str(m, "baseline_throughput.schemaVersion"), "1.0");
	assert_true(json_is_integer(json_object_get(json_object_get(ex, "provenance"),
						    "iterations")));
	assert_string_equal(expect_str(json_object_get(ex, "metadata"),
					  "best_optimization"), "strided");
	free(text);
	json_decref(root);
}

/* Python's repr of doubles, as json.dump writes them. */
static void test_format_real(void **state)
{
	static const struct { double v; const char *s; } cases[] = {
		{0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {41.0, "41.0"},
		{0.1, "0.1"}, {1e-05, "1e-05"}, {0.0001, "0.0001"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"},
		{123456789012345678.0, "1.2345678901234568e+17"},
		{1.5e-7, "1.5e-07"}, {2.5e300, "2.5e+300"}, {-3.25, "-3.25"},
		{0.29033333333333333, "0.29033333333333333"},
		{1008246153846.1539, "1008246153846.1539"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{100.0, "100.0"}, {0.013, "0.013"},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_format_real(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
	}
	expect_format_real(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "null");
}

/* Strings escape like Python's ensure_ascii; unknown fields survive. */
static void test_strings_and_unknown_fields(void **state)
{
	static const char text[] =
		"{\"schema_version\": 2, \"hardware_key\": \"h\", \"zz_new\": [1, 2.5, {}],"
		" \"examples\": {\"e_host\": {\"example\": \"e\", \"type\": \"host\","
		" \"metrics\": {\"baseline_time_ms\": 2}, \"metadata\": {},"
		" \"provenance\": {\"note\": \"a\\\"b\\\\c\\n\\t\\u0001\\u007f \\u00e9 \\ud83d\\ude00\"},"
		" \"aa_unknown\": {\"x\": null}}}}";
	static const char want[] =
		"{\n  \"examples\": {\n    \"e_host\": {\n      \"aa_unknown\": {\n"
		"        \"x\": null\n      },\n      \"example\": \"e\",\n"
		"      \"metadata\": {},\n      \"metrics\": {\n"
		"        \"baseline_time_ms\": 2\n      },\n      \"provenance\": {\n"
		"        \"note\": \"a\\\"b\\\\c\\n\\t\\u0001\\u007f \\u00e9 \\ud83d\\ude00\"\n"
		"      },\n      \"type\": \"host\"\n    }\n  },\n"
		"  \"hardware_key\": \"h\",\n  \"schema_version\": 2,\n"
		"  \"zz_new\": [\n    1,\n    2.5,\n    {}\n  ]\n}\n";
	aisp_error err = {0};
	json_t *root;
	char *out;

	(void)state;
	assert_int_equal(expect_parse(text, strlen(text), "t", &root, &err), AISP_OK);
	out = expect_dump(root);
	assert_string_equal(out, want);
	free(out);
	json_decref(root);
}

/* Parse text expecting failure code with a message holding each needle. */
static void expect_bad(const char *text, aisp_err code, ...)
{
	aisp_error err = {0};
	json_t *root = (json_t *)1;
	const char *needle;
	va_list ap;

	assert_int_equal(expect_parse(text, strlen(text), "bad.json", &root, &err), code);
	assert_null(root);
	assert_non_null(strstr(err.msg, "bad.json"));
	va_start(ap, code);
	while ((needle = va_arg(ap, const char *)))
		if (!strstr(err.msg, needle))
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	va_end(ap);
}

#define GOOD_EX "{\"example\": \"e\", \"type\": \"host\", \"metrics\": " \
	"{\"baseline_time_ms\": 2.0}, \"metadata\": {}, \"provenance\": {}}"

static void test_bad_json(void **state)
{
	(void)state;
	expect_bad("{\"schema_version\": 2,\n \"hardware_key\": }", AISP_EINPUT,
		   "bad.json:2:", "bad JSON", NULL);
	expect_bad("", AISP_EINPUT, "bad JSON", NULL);
	expect_bad("{\"a\": 1, \"a\": 2}", AISP_EINPUT, "bad JSON", "duplicate", NULL);
	expect_bad("[1, 2]", AISP_EINPUT, "top level", "an array", NULL);
}

static void test_wrong_schema(void **state)
{
	(void)state;
	expect_bad("{\"schema_version\": 1, \"hardware_key\": \"h\", \"examples\": {}}",
		   AISP_EINPUT, "schema_version: 1", "expected 2", NULL);
	expect_bad("{\"schema_version\": \"2\", \"hardware_key\": \"h\", \"examples\": {}}",
		   AISP_EINPUT, "schema_version: a string", "integer", NULL);
	expect_bad("{\"schema_version\": 2.0, \"hardware_key\": \"h\", \"examples\": {}}",
		   AISP_EINPUT, "schema_version: a real", NULL);
}

static void test_missing_fields(void **state)
{
	(void)state;
	expect_bad("{\"hardware_key\": \"h\", \"examples\": {}}", AISP_EINPUT,
		   "schema_version: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"examples\": {}}", AISP_EINPUT,
		   "hardware_key: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"\", \"examples\": {}}",
		   AISP_EINPUT, "hardware_key: a string", "non-empty", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\"}", AISP_EINPUT,
		   "examples: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {},"
		   " \"provenance\": {}}}}", AISP_EINPUT,
		   "examples.g_cuda.metrics: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {},"
		   " \"metrics\": {\"best_speedup\": 2}, \"provenance\": {}}}}", AISP_EINPUT,
		   "examples.g_cuda.metrics.baseline_time_ms: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"type\": \"cuda\", \"metadata\": {},"
		   " \"metrics\": {\"baseline_time_ms\": 2}, \"provenance\": {}}}}",
		   AISP_EINPUT, "examples.g_cuda.example: missing", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {},"
		   " \"metrics\": {\"baseline_time_ms\": \"fast\"}, \"provenance\": {}}}}",
		   AISP_EINPUT, "examples.g_cuda.metrics.baseline_time_ms: a string",
		   "expected a number", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {},"
		   " \"metrics\": {\"baseline_time_ms\": 1, \"x\": [1]}, \"provenance\": {}}}}",
		   AISP_EINPUT, "examples.g_cuda.metrics.x: an array", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g\": " GOOD_EX ", \"h\": 3}}", AISP_EINPUT,
		   "examples.h: an integer, expected an object", NULL);
	expect_bad("{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":"
		   " {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {},"
		   " \"metrics\": {\"baseline_time_ms\": 1}, \"provenance\": {},"
		   " \"fleet\": {\"variants\": {\"base\": {\"p10_ms\": 1}}}}}}",
		   AISP_EINPUT, "examples.g_cuda.fleet.variants.base.median_ms: missing",
		   NULL);
}

/* tolerance.source is one of gather's words; noise fields are numbers or
 * null (a variant that failed everywhere has no noise); judged_by is
 * median_ms or device_ms, the latter with a device_median_ms. */
static void test_tolerance_and_noise_fields(void **state)
{
#define EX_WITH(extra) "{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\":" \
	" {\"g_cuda\": {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {}," \
	" \"metrics\": {\"baseline_time_ms\": 1}, \"provenance\": {}, " extra "}}}"
	static const char good[] = EX_WITH(
		"\"tolerance\": {\"lower\": 0.1, \"upper\": 0.111, \"source\": \"job\"},"
		" \"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1, \"noise\": 0.01,"
		" \"noise_run\": null, \"noise_run_pairs\": 0, \"detectable\": 0.0437}}}");
	aisp_error err = {0};
	json_t *root;

	(void)state;
	assert_int_equal(expect_parse(good, strlen(good), "t", &root, &err), AISP_OK);
	json_decref(root);
	expect_bad(EX_WITH("\"tolerance\": {\"upper\": 0.1, \"source\": \"guess\"}"),
		   AISP_EINPUT, "examples.g_cuda.tolerance.source: 'guess'",
		   "expected job, noise, default or hand", NULL);
	expect_bad(EX_WITH("\"tolerance\": {\"upper\": 0.1, \"source\": 3}"),
		   AISP_EINPUT, "examples.g_cuda.tolerance.source: an integer", NULL);
	expect_bad(EX_WITH("\"tolerance\": {\"upper\": \"10%\"}"),
		   AISP_EINPUT, "examples.g_cuda.tolerance.upper: a string", NULL);
	expect_bad(EX_WITH("\"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1,"
			   " \"noise\": \"low\"}}}"),
		   AISP_EINPUT, "examples.g_cuda.fleet.variants.v.noise: a string", NULL);
	/* judged_by: what a verdict judges (a host-launch-bound variant: device_ms) */
	static const char dev[] = EX_WITH("\"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1,"
					  " \"judged_by\": \"device_ms\", \"device_median_ms\": 0.5,"
					  " \"device_noise_run\": null, \"device_gpus\": 4}}}");

	assert_int_equal(expect_parse(dev, strlen(dev), "t", &root, &err), AISP_OK);
	json_decref(root);
	expect_bad(EX_WITH("\"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1,"
			   " \"judged_by\": \"host_ms\"}}}"),
		   AISP_EINPUT, "examples.g_cuda.fleet.variants.v.judged_by: 'host_ms'",
		   "expected median_ms or device_ms", NULL);
	expect_bad(EX_WITH("\"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1,"
			   " \"judged_by\": \"device_ms\"}}}"),
		   AISP_EINPUT, "examples.g_cuda.fleet.variants.v.device_median_ms: missing", NULL);
	expect_bad(EX_WITH("\"fleet\": {\"variants\": {\"v\": {\"median_ms\": 1,"
			   " \"judged_by\": \"device_ms\", \"device_median_ms\": \"0.5\"}}}"),
		   AISP_EINPUT, "examples.g_cuda.fleet.variants.v.device_median_ms: a string", NULL);
#undef EX_WITH
}

/* A fleet variant that failed on every GPU has a null median: valid. */
static void test_fleet_null_median(void **state)
{
	static const char text[] =
		"{\"schema_version\": 2, \"hardware_key\": \"h\", \"examples\": {\"g_cuda\":"
		" {\"example\": \"g\", \"type\": \"cuda\", \"metadata\": {}, \"provenance\": {},"
		" \"metrics\": {\"baseline_time_ms\": 1}, \"fleet\": {\"variants\":"
		" {\"v\": {\"median_ms\": null}}}}}}";
	aisp_error err = {0};
	json_t *root;

	(void)state;
	assert_int_equal(expect_parse(text, strlen(text), "t", &root, &err), AISP_OK);
	json_decref(root);
}

/* save writes atomically and load reads the same tree; a tolerance is read
 * as magnitudes with its source ("hand" when the file does not say one). */
static void test_save_load_tolerance(void **state)
{
	char dir[] = "/tmp/test_expect.XXXXXX", path[1100];
	aisp_error err = {0};
	json_t *root, *back, *ex;
	const char *src;
	double lo, hi;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/e.json", dir);
	root = expect_new("8x_h100");
	ex = json_loads(GOOD_EX, 0, NULL);
	assert_non_null(ex);
	assert_int_equal(expect_tolerance(ex, &lo, &hi, &src), 0);
	assert_true(isnan(lo) && isnan(hi));
	json_object_set_new(ex, "tolerance", json_pack("{s:f,s:f}", "lower", -0.1,
						       "upper", 0.4));
	assert_int_equal(expect_tolerance(ex, &lo, &hi, &src), 1);
	assert_true(lo == 0.1 && hi == 0.4);
	assert_string_equal(src, "hand");
	json_object_set_new(json_object_get(ex, "tolerance"), "source", json_string("job"));
	expect_tolerance(ex, &lo, &hi, &src);
	assert_string_equal(src, "job");
	json_object_set_new(json_object_get(root, "examples"), "e_host", ex);
	assert_int_equal(expect_save(root, path, &err), AISP_OK);
	assert_int_equal(expect_load(path, &back, &err), AISP_OK);
	assert_true(json_equal(root, back));
	json_decref(back);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/e.json.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/none.json", dir);
	assert_int_equal(expect_load(path, &back, &err) , AISP_EINPUT);
	assert_non_null(strstr(err.msg, "none.json"));
	json_decref(root);
	snprintf(path, sizeof(path), "%s/e.json", dir);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_b200),
		cmocka_unit_test(test_roundtrip_2x_b200),
		cmocka_unit_test(test_fields_read),
		cmocka_unit_test(test_format_real),
		cmocka_unit_test(test_strings_and_unknown_fields),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_wrong_schema),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_fleet_null_median),
		cmocka_unit_test(test_save_load_tolerance),
		cmocka_unit_test(test_tolerance_and_noise_fields),
	};
	const char *env = getenv("AISP_FIXTURES");
	struct stat st;

	(void)argc;
	if (env)
		snprintf(fixtures, sizeof(fixtures), "%s", env);
	else if (stat("tests/fixtures", &st) == 0)
		snprintf(fixtures, sizeof(fixtures), "tests/fixtures");
	else
		snprintf(fixtures, sizeof(fixtures), "%.900s/../../tests/fixtures",
			 dirname(strdup(argv[0])));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
