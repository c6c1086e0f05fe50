/*
 * test_h5out.c - runner/h5out.c commits: h5out_put_variant changes the file
 * in memory only, h5out_commit puts it on disk (a new file renamed over the
 * old one), a commit with nothing new writes nothing, h5out_write_variant
 * does both, h5out_commit_ms says what a commit took, the test knobs of
 * every attempt stay in a resumed file, and a variant's named check values
 * are attributes check.<name>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5out.h"

struct fixture {
	char dir[64], path[128];
	struct h5out *h;
	double samples[3];
	struct variant_result r;
};

/* A fresh rank file in a temporary directory and a result to write. */
static int setup(void **st)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct rank_info info = {0};
	aisp_error e = {0};

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_h5out.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/rank-00000.h5", f->dir);
	snprintf(info.status, sizeof(info.status), "running");
	if (h5out_open(f->path, &info, 0, &f->h, &e))
		return -1;
	f->samples[0] = 1.0, f->samples[1] = 2.0, f->samples[2] = 3.0;
	snprintf(f->r.instance, sizeof(f->r.instance), "test:x");
	snprintf(f->r.target, sizeof(f->r.target), "test:x");
	snprintf(f->r.variant, sizeof(f->r.variant), "baseline_x");
	snprintf(f->r.status, sizeof(f->r.status), "ok");
	f->r.samples = f->samples;
	f->r.n_samples = 3;
	f->r.work = f->r.bytes = f->r.flops = f->r.throughput = NAN;
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	struct fixture *f = *st;
	char tmp[160];

	h5out_close(f->h, "complete", "", NULL);
	unlink(f->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	unlink(tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* 1 when the file on disk holds /targets/<instance>/<variant>. */
static int on_disk(const struct fixture *f)
{
	char link[2 * AISP_NAME_MAX + 16];
	hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	int found;

	assert_true(file >= 0);
	snprintf(link, sizeof(link), "/targets/%s", f->r.instance);
	found = H5Lexists(file, link, H5P_DEFAULT) > 0;
	if (found) {
		snprintf(link, sizeof(link), "/targets/%s/%s", f->r.instance, f->r.variant);
		found = H5Lexists(file, link, H5P_DEFAULT) > 0;
	}
	H5Fclose(file);
	return found;
}

/* The inode of the file on disk: each commit renames a new file over it. */
static ino_t inode(const struct fixture *f)
{
	struct stat sb;

	assert_int_equal(stat(f->path, &sb), 0);
	return sb.st_ino;
}

static void test_put_stays_in_memory_until_commit(void **st)
{
	struct fixture *f = *st;
	aisp_error e = {0};

	assert_int_equal(h5out_put_variant(f->h, &f->r, &e), AISP_OK);
	assert_false(on_disk(f));
	assert_int_equal(h5out_commit(f->h, &e), AISP_OK);
	assert_true(on_disk(f));
	assert_true(h5out_has_ok(f->h, f->r.instance, f->r.variant));
}

static void test_commit_without_changes_writes_nothing(void **st)
{
	struct fixture *f = *st;
	aisp_error e = {0};
	ino_t before;

	assert_int_equal(h5out_put_variant(f->h, &f->r, &e), AISP_OK);
	assert_int_equal(h5out_commit(f->h, &e), AISP_OK);
	before = inode(f);
	assert_int_equal(h5out_commit(f->h, &e), AISP_OK);
	assert_true(inode(f) == before);
	assert_int_equal(h5out_put_variant(f->h, &f->r, &e), AISP_OK);
	assert_int_equal(h5out_commit(f->h, &e), AISP_OK);
	assert_true(inode(f) != before);
}

static void test_write_variant_commits(void **st)
{
	struct fixture *f = *st;
	aisp_error e = {0};

	assert_int_equal(h5out_write_variant(f->h, &f->r, &e), AISP_OK);
	assert_true(on_disk(f));
	assert_true(h5out_commit_ms(f->h) > 0.0);
}

/* The variant's named check values become float64 attributes check.<name>. */
static void test_check_values_are_attributes(void **st)
{
	struct fixture *f = *st;
	aisp_error e = {0};
	char path[2 * AISP_NAME_MAX + 16];
	double v = 0.0;
	hid_t file, g, a;

	f->r.n_checks = 2;
	snprintf(f->r.checks[0].name, sizeof(f->r.checks[0].name), "loss_first");
	f->r.checks[0].value = 2.5;
	snprintf(f->r.checks[1].name, sizeof(f->r.checks[1].name), "err:W1");
	f->r.checks[1].value = 0.125;
	assert_int_equal(h5out_write_variant(f->h, &f->r, &e), AISP_OK);
	file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(file >= 0);
	snprintf(path, sizeof(path), "/targets/%s/%s", f->r.instance, f->r.variant);
	g = H5Gopen2(file, path, H5P_DEFAULT);
	assert_true(g >= 0);
	a = H5Aopen(g, "check.err:W1", H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
	assert_true(v == 0.125);
	H5Aclose(a);
	assert_true(H5Aexists(g, "check.loss_first") > 0);
	assert_true(H5Aexists(g, "check.loss_last") == 0);
	H5Gclose(g);
	H5Fclose(file);
}

/* The root attribute test_knobs of the file on disk into buf[n]. */
static void knobs_on_disk(const struct fixture *f, char *buf, size_t n)
{
	hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT), a, t;
	char *v = NULL;

	assert_true(file >= 0);
	a = H5Aopen(file, "test_knobs", H5P_DEFAULT);
	assert_true(a >= 0);
	t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	assert_true(H5Aread(a, t, &v) >= 0);
	snprintf(buf, n, "%s", v);
	H5free_memory(v);
	H5Tclose(t);
	H5Aclose(a);
	H5Fclose(file);
}

/* Reopen f's file (resume) as a rank whose knobs are knobs, and close it. */
static void attempt(struct fixture *f, const char *knobs)
{
	struct rank_info info = {0};
	aisp_error e = {0};

	snprintf(info.status, sizeof(info.status), "running");
	snprintf(info.test_knobs, sizeof(info.test_knobs), "%s", knobs);
	assert_int_equal(h5out_open(f->path, &info, 1, &f->h, &e), AISP_OK);
	assert_int_equal(h5out_close(f->h, "interrupted", "", &e), AISP_OK);
	f->h = NULL;
}

static void test_knobs_of_every_attempt(void **st)
{
	struct fixture *f = *st;
	struct rank_info info = {0};
	aisp_error e = {0};
	char k[512];

	assert_int_equal(h5out_close(f->h, "interrupted", "", &e), AISP_OK);
	f->h = NULL;
	knobs_on_disk(f, k, sizeof(k));
	assert_string_equal(k, "");
	attempt(f, "AISP_TEST_SLOW_PCT=50");
	knobs_on_disk(f, k, sizeof(k));
	assert_string_equal(k, "AISP_TEST_SLOW_PCT=50");
	attempt(f, "AISP_TEST_SLOW_PCT=50 AISP_TEST_TARGETS=1");
	attempt(f, "");
	knobs_on_disk(f, k, sizeof(k));
	assert_string_equal(k, "AISP_TEST_SLOW_PCT=50 AISP_TEST_TARGETS=1");
	snprintf(info.status, sizeof(info.status), "running");
	assert_int_equal(h5out_open(f->path, &info, 0, &f->h, &e), AISP_OK); /* a new run */
	knobs_on_disk(f, k, sizeof(k));
	assert_string_equal(k, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_stays_in_memory_until_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_without_changes_writes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_variant_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_values_are_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knobs_of_every_attempt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
