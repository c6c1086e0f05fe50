/* test_rankfile.c - the contract between the writer (runner/h5out.c) and the
 * reader (analysis/rankfile.c): what one writes the other reads; truncated,
 * foreign and corrupt files are named errors, in process and guarded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5out.h"
#include "rankfile.h"
#include "stats.h"

static char dir[] = "/tmp/test_rankfile.XXXXXX";

/* Write a rank file at path: rank 3 on node n7, one target with a baseline
 * (samples 1..9 ms) and a crashed optimized variant. */
static void write_rank_file(const char *path)
{
	static const double s[9] = {5, 1, 9, 2, 8, 3, 7, 4, 6};
	struct rank_info info = {0};
	struct variant_result r = {0};
	struct h5out *h;
	aisp_error err = {0};

	snprintf(info.git_commit, sizeof(info.git_commit), "abc123");
	snprintf(info.run_id, sizeof(info.run_id), "run-x");
	snprintf(info.node, sizeof(info.node), "n7");
	snprintf(info.hostname, sizeof(info.hostname), "host7");
	snprintf(info.backend, sizeof(info.backend), "host");
	snprintf(info.gpu.name, sizeof(info.gpu.name), "Test CPU");
	snprintf(info.gpu.uuid, sizeof(info.gpu.uuid), "cpu-n7-1");
	snprintf(info.hardware_key, sizeof(info.hardware_key), "host_test");
	snprintf(info.start_utc, sizeof(info.start_utc), "2026-01-01T00:00:00Z");
	snprintf(info.test_knobs, sizeof(info.test_knobs), "AISP_TEST_SLOW_PCT=5");
	info.rank = 3;
	info.world_size = 4;
	info.local_rank = 1;
	assert_int_equal(h5out_open(path, &info, 0, &h, &err), AISP_OK);
	r.before.valid = r.after.valid = 1;
	r.before.sm_clock_mhz = 1980;
	r.after.sm_clock_mhz = 1100;
	r.after.max_sm_clock_mhz = 1980;
	r.after.temperature_c = 83;
	r.after.power_w = 650.5;
	r.after.power_limit_w = 700;
	r.after.throttle_reasons = 0x48;
	r.after.ecc_corrected = 7;
	r.after.ecc_uncorrected = 1;
	r.after.retired_pages = 2;
	r.after.pcie_gen = 4;
	r.after.pcie_width = 8;
	snprintf(r.instance, sizeof(r.instance), "ch01:gemm");
	snprintf(r.target, sizeof(r.target), "ch01:gemm");
	snprintf(r.variant, sizeof(r.variant), "baseline_gemm");
	snprintf(r.status, sizeof(r.status), "ok");
	snprintf(r.work_unit, sizeof(r.work_unit), "flop");
	r.role = AISP_ROLE_BASELINE;
	r.samples = (double *)s;
	r.n_samples = 9;
	r.iterations = 9;
	r.warmup = 2;
	r.work = r.flops = 1e6;
	r.bytes = 4096;
	r.throughput = r.rel_error = r.tolerance = NAN;
	r.launches_api = r.launches_kernels = -1;
	r.host_launch = 1;
	r.device_ms = 0.5;
	stats_summarize(s, 9, &r.stats);
	assert_int_equal(h5out_write_variant(h, &r, &err), AISP_OK);
	snprintf(r.variant, sizeof(r.variant), "optimized_gemm");
	snprintf(r.status, sizeof(r.status), "crashed");
	snprintf(r.message, sizeof(r.message), "signal 11");
	r.role = AISP_ROLE_OPTIMIZED;
	r.n_samples = 0;
	r.signal = 11;
	r.host_launch = 0;
	r.device_ms = NAN;
	stats_summarize(s, 0, &r.stats);
	assert_int_equal(h5out_write_variant(h, &r, &err), AISP_OK);
	assert_int_equal(h5out_close(h, "complete", "2026-01-01T00:01:00Z", &err), AISP_OK);
}

/* Collects what the reader reports. */
struct seen {
	int n;
	struct rankfile_variant v[4];
	struct rankfile_root root;
	aisp_err rc[4];
	char msg[4][1024];
	int files;
};

static aisp_err on_variant(void *ctx, const struct rankfile_root *r,
			   const struct rankfile_variant *v, aisp_error *err)
{
	struct seen *s = ctx;

	(void)r;
	(void)err;
	if (s->n < 4)
		s->v[s->n++] = *v;
	return AISP_OK;
}

static void on_file(void *ctx, size_t index, const struct rankfile_root *r, aisp_err rc,
		    const aisp_error *e)
{
	struct seen *s = ctx;

	if (index < 4) {
		s->rc[index] = rc;
		snprintf(s->msg[index], sizeof(s->msg[index]), "%s", e->msg);
	}
	if (rc == AISP_OK)
		s->root = *r;
	s->files++;
}

/* What the writer wrote, the reader reads; the median is recomputed. */
static void check_good(const struct seen *s)
{
	assert_int_equal(s->n, 2);
	assert_string_equal(s->root.hardware_key, "host_test");
	assert_string_equal(s->root.node, "n7");
	assert_string_equal(s->root.gpu_uuid, "cpu-n7-1");
	assert_string_equal(s->root.run_id, "run-x");
	assert_string_equal(s->root.git_commit, "abc123");
	assert_string_equal(s->root.status, "complete");
	assert_int_equal(s->root.rank, 3);
	assert_int_equal(s->root.world_size, 4);
	assert_string_equal(s->v[0].variant, "baseline_gemm");
	assert_string_equal(s->v[0].instance, "ch01:gemm");
	assert_string_equal(s->v[0].role, "baseline");
	assert_string_equal(s->v[0].status, "ok");
	assert_int_equal(s->v[0].n_samples, 9);
	assert_true(s->v[0].median_ms == 5.0);
	assert_true(s->v[0].p90_ms == 8.2);
	assert_true(s->v[0].work == 1e6);
	assert_true(s->v[0].mad_ms == 2.0);
	assert_string_equal(s->root.test_knobs, "AISP_TEST_SLOW_PCT=5");
	assert_true(s->v[0].before.valid && s->v[0].before.sm_clock_mhz == 1980);
	assert_true(s->v[0].after.valid && s->v[0].after.sm_clock_mhz == 1100);
	assert_true(s->v[0].after.max_sm_clock_mhz == 1980 && s->v[0].after.temperature_c == 83);
	assert_true(s->v[0].after.power_w == 650.5 && s->v[0].after.power_limit_w == 700);
	assert_true(s->v[0].after.throttle_reasons == 0x48);
	assert_true(s->v[0].after.ecc_corrected == 7 && s->v[0].after.ecc_uncorrected == 1);
	assert_true(s->v[0].after.retired_pages == 2);
	assert_true(s->v[0].after.pcie_gen == 4 && s->v[0].after.pcie_width == 8);
	assert_string_equal(s->v[1].variant, "optimized_gemm");
	assert_string_equal(s->v[1].status, "crashed");
	assert_string_equal(s->v[1].message, "signal 11");
	assert_true(isnan(s->v[1].median_ms));
	assert_true(s->v[0].host_launch == 1 && s->v[0].device_ms == 0.5);
	assert_true(s->v[1].host_launch == 0 && isnan(s->v[1].device_ms));
}

static void test_writer_reader_contract(void **state)
{
	char path[128], *paths[1] = {path};
	struct seen s = {0}, g = {0};
	aisp_error err = {0};

	(void)state;
	snprintf(path, sizeof(path), "%s/rank-00003.h5", dir);
	write_rank_file(path);
	assert_int_equal(rankfile_read(path, &s.root, on_variant, &s, &err), AISP_OK);
	check_good(&s);
	assert_int_equal(rankfile_read_many(paths, 1, on_variant, on_file, &g, 10.0, &err),
			 AISP_OK);
	assert_int_equal(g.rc[0], AISP_OK);
	check_good(&g);
}

/* Truncated, foreign and non-HDF5 files: named errors, in process and
 * guarded; a good file after them is still read by the guarded reader. */
static void test_bad_files(void **state)
{
	char good[128], trunc[128], foreign[128], text[128];
	char *paths[4] = {trunc, foreign, text, good};
	struct seen s = {0};
	struct rankfile_root root;
	aisp_error err = {0};
	FILE *in, *out;
	char buf[2000];
	hid_t f;

	(void)state;
	snprintf(good, sizeof(good), "%s/rank-00000.h5", dir);
	snprintf(trunc, sizeof(trunc), "%s/rank-00001.h5", dir);
	snprintf(foreign, sizeof(foreign), "%s/rank-00002.h5", dir);
	snprintf(text, sizeof(text), "%s/rank-00004.h5", dir);
	write_rank_file(good);
	in = fopen(good, "rb");
	out = fopen(trunc, "wb");
	assert_int_equal(fwrite(buf, 1, fread(buf, 1, sizeof(buf), in), out), sizeof(buf));
	fclose(in);
	fclose(out);
	f = H5Fcreate(foreign, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	H5Fclose(f);
	out = fopen(text, "w");
	fputs("hello\n", out);
	fclose(out);
	assert_int_equal(rankfile_read(trunc, &root, NULL, NULL, &err), AISP_EINPUT);
	assert_non_null(strstr(err.msg, trunc));
	assert_int_equal(rankfile_read(foreign, &root, NULL, NULL, &err), AISP_EINPUT);
	assert_non_null(strstr(err.msg, "not an aisp rank file"));
	assert_int_equal(rankfile_read(text, &root, NULL, NULL, &err), AISP_EINPUT);
	assert_int_equal(rankfile_read_many(paths, 4, on_variant, on_file, &s, 10.0, &err),
			 AISP_OK);
	assert_int_equal(s.files, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.rc[i], AISP_EINPUT);
		assert_non_null(strstr(s.msg[i], paths[i]));
	}
	assert_int_equal(s.rc[3], AISP_OK);
	check_good(&s);
	for (int i = 0; i < 4; i++)
		unlink(paths[i]);
}

/* A rank file written before host_launch existed: the four CUDA variants
 * flagged when it came are read as flagged, nothing else. */
static void test_host_launch_absent(void **state)
{
	char path[128];
	struct seen s = {0};
	aisp_error err = {0};
	hid_t f, g;

	(void)state;
	assert_true(rankfile_host_launch("cuda", "ch01:gemm", "baseline_gemm"));
	assert_true(rankfile_host_launch("cuda", "ch01:gemm", "optimized_gemm_batched"));
	assert_true(rankfile_host_launch("cuda", "ch01:gemm", "optimized_gemm_strided"));
	assert_true(rankfile_host_launch("cuda", "qual:launch", "baseline_stream"));
	assert_false(rankfile_host_launch("cuda", "ch01:gemm", "optimized_gemm_graph"));
	assert_false(rankfile_host_launch("cuda", "qual:launch", "optimized_graph"));
	assert_false(rankfile_host_launch("host", "ch01:gemm", "baseline_gemm"));
	snprintf(path, sizeof(path), "%s/rank-00005.h5", dir);
	write_rank_file(path); /* baseline_gemm written with host_launch 1, on host */
	f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	g = H5Gopen2(f, "/targets/ch01:gemm/baseline_gemm", H5P_DEFAULT);
	assert_true(g >= 0 && H5Adelete(g, "host_launch") >= 0);
	H5Gclose(g);
	H5Fclose(f);
	assert_int_equal(rankfile_read(path, &s.root, on_variant, &s, &err), AISP_OK);
	assert_int_equal(s.v[0].host_launch, 0); /* absent, and a host file */
	unlink(path);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(rankfile_is_name("rank-00000.h5"));
	assert_true(rankfile_is_name("rank-123456.h5"));
	assert_false(rankfile_is_name("rank-.h5"));
	assert_false(rankfile_is_name("rank-0001.h5.tmp"));
	assert_false(rankfile_is_name("rank-00a1.h5"));
	assert_false(rankfile_is_name("fleet.h5"));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/rank-00003.h5", dir);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_reader_contract),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_host_launch_absent),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
