/* test_history.c - history.h5 round trip and the creep rule on hand-made
 * series (appending from a real gather: tests/e2e/history_fleet.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"

/* A history of one variant whose refreshes have medians m[0..n), plus a
 * record of another variant between each (series must skip it). */
static void make_series(struct history *h, const double *m, size_t n, double tol)
{
	for (size_t i = 0; i < n; i++) {
		struct history_rec *e = history_push(h), *o;

		assert_non_null(e);
		snprintf(e->hk, sizeof(e->hk), "hk");
		snprintf(e->target, sizeof(e->target), "ch01:gemm");
		snprintf(e->variant, sizeof(e->variant), "base");
		snprintf(e->runs_sha256, sizeof(e->runs_sha256), "%064zu", i);
		e->median = m[i];
		e->tol_upper = e->tol_lower = tol;
		o = history_push(h);
		assert_non_null(o);
		*o = h->recs[h->n - 2];
		snprintf(o->variant, sizeof(o->variant), "opt");
		o->median = 1.0;
	}
}

/* Creep of the "base" series with window k and the stored tolerance. */
static int creep_of(const double *m, size_t n, int k, double tol, struct history_creep *c)
{
	struct history h = {0};
	size_t idx[64], got;
	int r;

	make_series(&h, m, n, tol);
	got = history_series(&h, "hk", "ch01:gemm", "base", idx);
	assert_int_equal(got, n);
	r = history_creep(&h, idx, got, k, NAN, c);
	history_free(&h);
	return r;
}

/* Steps of +7% each: +31% over 5 refreshes beyond a 25% tolerance. */
static void test_creep(void **state)
{
	const double m[] = {1.0, 1.07, 1.1449, 1.225, 1.3108};
	struct history_creep c;

	(void)state;
	assert_true(creep_of(m, 5, 5, 0.25, &c));
	assert_int_equal(c.n, 5);
	assert_true(fabs(c.change - 0.3108) < 1e-9);
	assert_true(fabs(c.max_step - 0.07) < 1e-3);
	assert_true(fabs(c.tol - 0.25) < 1e-12);
	/* a wider tolerance holds it */
	assert_false(creep_of(m, 5, 5, 0.35, &c));
}

/* One step beyond the tolerance is a step regression, not a creep; a flat
 * or improving series never creeps; fewer than 3 refreshes never do. */
static void test_no_creep(void **state)
{
	const double jump[] = {1.0, 1.02, 1.30, 1.31, 1.32};
	const double flat[] = {1.0, 1.01, 0.99, 1.0, 1.02, 1.0};
	const double faster[] = {1.0, 0.9, 0.8, 0.7, 0.6};
	const double two[] = {1.0, 1.2};
	struct history_creep c;

	(void)state;
	assert_false(creep_of(jump, 5, 5, 0.25, &c));
	assert_false(creep_of(flat, 6, 5, 0.25, &c));
	assert_false(creep_of(faster, 5, 5, 0.25, &c));
	assert_false(creep_of(two, 2, 5, 0.25, &c));
	assert_int_equal(c.n, 2);
}

/* Only the last k refreshes count: an old creep that has since been
 * refreshed flat is no longer flagged, a recent one is. */
static void test_window(void **state)
{
	const double old[] = {1.0, 1.1, 1.2, 1.3, 1.3, 1.3, 1.3, 1.3};
	const double recent[] = {1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.3};
	struct history_creep c;

	(void)state;
	assert_true(creep_of(old, 4, 5, 0.25, &c));
	assert_false(creep_of(old, 8, 5, 0.25, &c));
	assert_true(creep_of(recent, 7, 4, 0.25, &c));
	assert_false(creep_of(recent, 7, 3, 0.25, &c)); /* +18% over the last 3 */
}

/* A series without a stored tolerance is held to 25%. */
static void test_default_tolerance(void **state)
{
	const double m[] = {1.0, 1.1, 1.2, 1.3};
	struct history_creep c;

	(void)state;
	assert_true(creep_of(m, 4, 5, NAN, &c));
	assert_true(fabs(c.tol - 0.25) < 1e-12);
}

/* Saved and loaded again: every field the same; a missing file is an
 * empty history; a file that is not HDF5 is a named error. */
static void test_round_trip(void **state)
{
	const double m[] = {1.5, 1.25, NAN};
	char dir[] = "/tmp/aisp-history-XXXXXX", path[128], bad[160];
	struct history h = {0}, g = {0};
	aisp_error err = {0};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	assert_int_equal(history_load(path, &g, &err), AISP_OK);
	assert_int_equal(g.n, 0);
	make_series(&h, m, 3, 0.111);
	snprintf(h.recs[0].runs, sizeof(h.recs[0].runs), "run-1,run-2");
	snprintf(h.recs[0].commits, sizeof(h.recs[0].commits), "0123456789ab");
	h.recs[0].gpus = 8;
	h.recs[0].noise = 0.004;
	assert_int_equal(history_save(&h, path, &err), AISP_OK);
	assert_int_equal(history_load(path, &g, &err), AISP_OK);
	assert_int_equal(g.n, h.n);
	for (size_t i = 0; i < h.n; i++) {
		assert_string_equal(g.recs[i].variant, h.recs[i].variant);
		assert_string_equal(g.recs[i].runs_sha256, h.recs[i].runs_sha256);
		assert_true(isnan(h.recs[i].median) ? isnan(g.recs[i].median) :
			    g.recs[i].median == h.recs[i].median);
	}
	assert_string_equal(g.recs[0].runs, "run-1,run-2");
	assert_string_equal(g.recs[0].commits, "0123456789ab");
	assert_int_equal(g.recs[0].gpus, 8);
	assert_true(g.recs[0].noise == 0.004 && g.recs[0].tol_upper == 0.111);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(bad, sizeof(bad), "%s.tmp", path);
	assert_int_not_equal(access(bad, F_OK), 0); /* renamed, not left */
	snprintf(bad, sizeof(bad), "%s/text.h5", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("not hdf5\n", f);
	fclose(f);
	history_free(&g);
	assert_int_equal(history_load(bad, &g, &err), AISP_EINPUT);
	assert_non_null(strstr(err.msg, "text.h5: not an HDF5 file"));
	unlink(bad);
	unlink(path);
	rmdir(dir);
	history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creep),
		cmocka_unit_test(test_no_creep),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_default_tolerance),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
