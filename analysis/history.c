/* history.c - history.h5: read, write atomically, append the refresh that
 * gather just wrote, and the creep rule (layout and rules in history.h). */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"
#include "text.h"

/* One row of /records as HDF5 reads and writes it. */
struct history_row {
	char *hk, *example, *target, *variant, *role, *gathered_utc, *data_utc;
	char *runs, *runs_sha256, *commits;
	long long n_runs, gpus, gpus_ok, nodes;
	double median, p10, p90, mad, noise, tol_lower, tol_upper;
};

enum { H_STR, H_I64, H_F64 };

static const struct {
	const char *name;
	size_t off;
	int kind;
} history_cols[] = {
#define S(f, n) {n, offsetof(struct history_row, f), H_STR}
#define I(f) {#f, offsetof(struct history_row, f), H_I64}
#define D(f, n) {n, offsetof(struct history_row, f), H_F64}
	S(hk, "hardware_key"), S(example, "example"), S(target, "target"),
	S(variant, "variant"), S(role, "role"), S(gathered_utc, "gathered_utc"),
	S(data_utc, "data_utc"), S(runs, "runs"), S(runs_sha256, "runs_sha256"),
	S(commits, "commits"), I(n_runs), I(gpus), I(gpus_ok), I(nodes),
	D(median, "median_ms"), D(p10, "p10_ms"), D(p90, "p90_ms"), D(mad, "mad_ms"),
	D(noise, "noise"), D(tol_lower, "tol_lower"), D(tol_upper, "tol_upper"),
#undef S
#undef I
#undef D
};
#define HISTORY_NCOLS (sizeof(history_cols) / sizeof(history_cols[0]))

/* The compound type of a row (close with H5Tclose); str is the string type. */
static hid_t history_type(hid_t str)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct history_row));

	for (size_t i = 0; t >= 0 && i < HISTORY_NCOLS; i++)
		H5Tinsert(t, history_cols[i].name, history_cols[i].off,
			  history_cols[i].kind == H_STR ? str :
			  history_cols[i].kind == H_I64 ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE);
	return t;
}

/* A variable-length UTF-8 string type (close with H5Tclose). */
static hid_t history_str_type(void)
{
	hid_t s = H5Tcopy(H5T_C_S1);

	H5Tset_size(s, H5T_VARIABLE);
	H5Tset_cset(s, H5T_CSET_UTF8);
	return s;
}

struct history_rec *history_push(struct history *h)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		void *p = realloc(h->recs, cap * sizeof(*h->recs));

		if (!p)
			return NULL;
		h->recs = p;
		h->cap = cap;
	}
	memset(&h->recs[h->n], 0, sizeof(h->recs[0]));
	return &h->recs[h->n++];
}

/* Copy a string read from the file: printable, cut with "..." if long. */
static void history_take(char *dst, size_t n, const char *src)
{
	if (text_copy(dst, n, src ? src : "") && n > 4)
		memcpy(dst + n - 4, "...", 4);
	text_printable(dst, n, dst);
}

/* Row r into record e. */
static void history_from_row(const struct history_row *r, struct history_rec *e)
{
	history_take(e->hk, sizeof(e->hk), r->hk);
	history_take(e->example, sizeof(e->example), r->example);
	history_take(e->target, sizeof(e->target), r->target);
	history_take(e->variant, sizeof(e->variant), r->variant);
	history_take(e->role, sizeof(e->role), r->role);
	history_take(e->gathered_utc, sizeof(e->gathered_utc), r->gathered_utc);
	history_take(e->data_utc, sizeof(e->data_utc), r->data_utc);
	history_take(e->runs, sizeof(e->runs), r->runs);
	history_take(e->runs_sha256, sizeof(e->runs_sha256), r->runs_sha256);
	history_take(e->commits, sizeof(e->commits), r->commits);
	e->n_runs = r->n_runs;
	e->gpus = r->gpus;
	e->gpus_ok = r->gpus_ok;
	e->nodes = r->nodes;
	e->median = r->median;
	e->p10 = r->p10;
	e->p90 = r->p90;
	e->mad = r->mad;
	e->noise = r->noise;
	e->tol_lower = r->tol_lower;
	e->tol_upper = r->tol_upper;
}

/* Read the rows of dataset d (n of them) into h. */
static aisp_err history_read_rows(hid_t d, hsize_t n, struct history *h, const char *path,
				  aisp_error *err)
{
	struct history_row *rows = calloc(n + 1, sizeof(*rows));
	hid_t str = history_str_type(), t = history_type(str), sp = H5Dget_space(d);
	aisp_err rc = AISP_OK;

	if (!rows) {
		rc = aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (n && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: /records: unreadable (not an aisp history file?)",
			       path);
		goto out;
	}
	for (hsize_t i = 0; i < n && rc == AISP_OK; i++) {
		struct history_rec *e = history_push(h);

		if (!e)
			rc = aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
		else
			history_from_row(&rows[i], e);
	}
	if (n)
		H5Dvlen_reclaim(t, sp, H5P_DEFAULT, rows);
out:
	free(rows);
	H5Sclose(sp);
	H5Tclose(t);
	H5Tclose(str);
	return rc;
}

aisp_err history_load(const char *path, struct history *h, aisp_error *err)
{
	hid_t f = -1, d = -1, sp = -1;
	hsize_t n = 0;
	aisp_err rc = AISP_OK;

	memset(h, 0, sizeof(*h));
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? AISP_OK :
		       aisp_fail(err, AISP_EINPUT, "%s: %s", path, strerror(errno));
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if (H5Fis_hdf5(path) <= 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
		return aisp_fail(err, AISP_EINPUT, "%s: not an HDF5 file", path);
	if (H5Lexists(f, "records", H5P_DEFAULT) <= 0 ||
	    (d = H5Dopen2(f, "records", H5P_DEFAULT)) < 0 || (sp = H5Dget_space(d)) < 0 ||
	    H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &n, NULL) < 0) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: /records: missing or not a table", path);
		goto out;
	}
	rc = history_read_rows(d, n, h, path, err);
out:
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	H5Fclose(f);
	if (rc != AISP_OK)
		history_free(h);
	return rc;
}

/* Rows pointing into the records of h (strings borrowed); NULL on ENOMEM. */
static struct history_row *history_rows(const struct history *h)
{
	struct history_row *rows = calloc(h->n + 1, sizeof(*rows));

	for (size_t i = 0; rows && i < h->n; i++) {
		struct history_rec *e = &h->recs[i];

		rows[i] = (struct history_row){e->hk, e->example, e->target, e->variant, e->role,
					       e->gathered_utc, e->data_utc, e->runs,
					       e->runs_sha256, e->commits, e->n_runs, e->gpus,
					       e->gpus_ok, e->nodes, e->median, e->p10, e->p90,
					       e->mad, e->noise, e->tol_lower, e->tol_upper};
	}
	return rows;
}

/* Root attributes: schema_version and tool. */
static void history_attrs(hid_t f)
{
	hid_t sp = H5Screate(H5S_SCALAR), str = history_str_type(), a;
	long long v = HISTORY_SCHEMA;
	const char *tool = "aisp";

	a = H5Acreate2(f, "schema_version", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_LLONG, &v);
	H5Aclose(a);
	a = H5Acreate2(f, "tool", str, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, str, &tool);
	H5Aclose(a);
	H5Tclose(str);
	H5Sclose(sp);
}

/* Write h into the new file tmp. */
static aisp_err history_write_tmp(const struct history *h, const char *tmp, aisp_error *err)
{
	struct history_row *rows = history_rows(h);
	hid_t str = history_str_type(), t = history_type(str), f, sp = -1, d = -1;
	hsize_t dims[1] = {h->n};
	aisp_err rc = AISP_OK;

	f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (!rows || f < 0) {
		rc = aisp_fail(err, rows ? AISP_EIO : AISP_ENOMEM, "%s: cannot create", tmp);
		goto out;
	}
	history_attrs(f);
	sp = H5Screate_simple(1, dims, NULL);
	d = H5Dcreate2(f, "records", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (sp < 0 || d < 0 || (h->n && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0))
		rc = aisp_fail(err, AISP_EIO, "%s: /records: cannot write", tmp);
out:
	if (d >= 0)
		H5Dclose(d);
	if (sp >= 0)
		H5Sclose(sp);
	if (f >= 0 && H5Fclose(f) < 0 && rc == AISP_OK)
		rc = aisp_fail(err, AISP_EIO, "%s: cannot close", tmp);
	H5Tclose(t);
	H5Tclose(str);
	free(rows);
	return rc;
}

aisp_err history_save(const struct history *h, const char *path, aisp_error *err)
{
	char tmp[4200];
	aisp_err rc;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return aisp_fail(err, AISP_EINPUT, "%s: path too long", path);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	if ((rc = history_write_tmp(h, tmp, err)))
		goto fail;
	fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		rc = aisp_fail(err, AISP_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return AISP_OK;
fail:
	unlink(tmp);
	return rc;
}

void history_free(struct history *h)
{
	free(h->recs);
	memset(h, 0, sizeof(*h));
}

void history_dir_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

size_t history_series(const struct history *h, const char *hk, const char *target,
		      const char *variant, size_t *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->recs[i].hk, hk) && !strcmp(h->recs[i].target, target) &&
		    !strcmp(h->recs[i].variant, variant))
			idx[n++] = i;
	return n;
}

int history_creep(const struct history *h, const size_t *idx, size_t n, int k,
		  double tolerance, struct history_creep *out)
{
	size_t w = k < 3 ? 3 : (size_t)k, first;
	double m0, tol;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	tol = isnan(tolerance) ? h->recs[idx[n - 1]].tol_upper : tolerance;
	if (!(tol >= 0.0))
		tol = EXPECT_TOL_DEFAULT;
	w = n < w ? n : w;
	first = n - w;
	*out = (struct history_creep){idx[first], idx[n - 1], (int)w, NAN, -INFINITY, tol};
	if (n < 3)
		return 0;
	m0 = h->recs[idx[first]].median;
	for (size_t i = first + 1; i < n; i++) {
		double step = h->recs[idx[i]].median / h->recs[idx[i - 1]].median - 1.0;

		if (!isfinite(step) || step > tol)
			return 0;
		out->max_step = step > out->max_step ? step : out->max_step;
	}
	out->change = h->recs[idx[n - 1]].median / m0 - 1.0;
	return isfinite(out->change) && out->change > tol;
}

int history_cmp_index(const void *a, const void *b, void *arg)
{
	const struct history *h = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct history_rec *x = &h->recs[i], *y = &h->recs[j];
	int c = strcmp(x->hk, y->hk);

	if (!c)
		c = strcmp(x->target, y->target);
	if (!c)
		c = strcmp(x->variant, y->variant);
	return c ? c : (i > j) - (i < j);
}

aisp_err history_creeping(const struct history *h, const char *hk, int k,
			  struct history_creep **out, size_t *n, aisp_error *err)
{
	size_t *idx = malloc((h->n + 1) * sizeof(*idx)), m = 0;

	*n = 0;
	*out = calloc(h->n + 1, sizeof(**out));
	if (!idx || !*out) {
		free(idx);
		free(*out);
		*out = NULL;
		return aisp_fail(err, AISP_ENOMEM, "history: out of memory");
	}
	for (size_t i = 0; i < h->n; i++)
		if (!hk || !strcmp(h->recs[i].hk, hk))
			idx[m++] = i;
	qsort_r(idx, m, sizeof(*idx), history_cmp_index, (void *)h);
	for (size_t i = 0, j; i < m; i = j) {
		const struct history_rec *r = &h->recs[idx[i]];

		for (j = i + 1; j < m; j++)
			if (strcmp(h->recs[idx[j]].hk, r->hk) || strcmp(h->recs[idx[j]].target, r->target) ||
			    strcmp(h->recs[idx[j]].variant, r->variant))
				break;
		if (history_creep(h, idx + i, j - i, k, NAN, &(*out)[*n]))
			(*n)++;
	}
	free(idx);
	return AISP_OK;
}

size_t history_print_creep(const char *exp_path, const char *hk, const char *cmd, FILE *out)
{
	struct history_creep *cr = NULL;
	struct history h = {0};
	aisp_error err = {0};
	char dir[4096], path[4200];
	size_t n = 0;

	history_dir_of(exp_path, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	if (history_load(path, &h, &err) || history_creeping(&h, hk, HISTORY_CREEP_K, &cr, &n, &err)) {
		fprintf(out, "%s: %s (baseline creep not checked)\n", cmd, err.msg);
		history_free(&h);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct history_rec *a = &h.recs[cr[i].first], *b = &h.recs[cr[i].last];

		fprintf(out, "%s: creep %s/%s: the baseline's fleet median %+.1f%% over its last %d refreshes (%s to %s), each step within the +%g%% tolerance (largest %+.1f%%): aisp history %s\n",
			cmd, b->target, b->variant, 100.0 * cr[i].change, cr[i].n, a->data_utc, b->data_utc,
			100.0 * cr[i].tol, 100.0 * cr[i].max_step, dir);
	}
	free(cr);
	history_free(&h);
	return n;
}
