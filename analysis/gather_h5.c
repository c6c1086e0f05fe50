/* gather_h5.c - fleet.h5: compound tables of GPUs, variants, runs and
 * skipped files (layout in gather.h). */
#include "gather.h"

#include <hdf5.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { COL_STR, COL_I64, COL_F64 };

/* One column of a compound table: name, offset in the row struct, kind. */
struct h5col {
	const char *name;
	size_t off;
	int kind;
};

/* Write rows[0..n) (each rowsize bytes, columns cols) as dataset name. */
static aisp_err gather_h5_table(hid_t file, const char *name, const struct h5col *cols,
				size_t ncols, size_t rowsize, const void *rows, size_t n,
				const char *path, aisp_error *err)
{
	hid_t str = H5Tcopy(H5T_C_S1), t = H5Tcreate(H5T_COMPOUND, rowsize), s = -1, d = -1;
	hsize_t dims[1] = {n};
	aisp_err rc = AISP_OK;

	H5Tset_size(str, H5T_VARIABLE);
	H5Tset_cset(str, H5T_CSET_UTF8);
	for (size_t i = 0; i < ncols; i++)
		H5Tinsert(t, cols[i].name, cols[i].off,
			  cols[i].kind == COL_STR ? str :
			  cols[i].kind == COL_I64 ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE);
	s = H5Screate_simple(1, dims, NULL);
	d = H5Dcreate2(file, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (s < 0 || d < 0 || (n && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0))
		rc = aisp_fail(err, AISP_EIO, "%s: /%s: cannot write", path, name);
	if (d >= 0)
		H5Dclose(d);
	if (s >= 0)
		H5Sclose(s);
	H5Tclose(t);
	H5Tclose(str);
	return rc;
}

struct h5gpu {
	const char *hk, *inst, *target, *var, *role, *node, *host, *gpu, *gpu_name, *run_id,
		*status;
	long long rank, gpu_index, n_runs;
	double median, p10, p75, p90, fleet_median, z, device;
};

#define C(s, f, k) {#f, offsetof(struct s, f), k}
static const struct h5col gpu_cols[] = {
	{"hardware_key", offsetof(struct h5gpu, hk), COL_STR},
	{"instance", offsetof(struct h5gpu, inst), COL_STR},
	C(h5gpu, target, COL_STR), {"variant", offsetof(struct h5gpu, var), COL_STR},
	C(h5gpu, role, COL_STR), C(h5gpu, node, COL_STR),
	{"hostname", offsetof(struct h5gpu, host), COL_STR},
	{"gpu_uuid", offsetof(struct h5gpu, gpu), COL_STR}, C(h5gpu, gpu_name, COL_STR),
	C(h5gpu, run_id, COL_STR), C(h5gpu, rank, COL_I64), C(h5gpu, gpu_index, COL_I64),
	C(h5gpu, n_runs, COL_I64), {"median_ms", offsetof(struct h5gpu, median), COL_F64},
	{"p10_ms", offsetof(struct h5gpu, p10), COL_F64},
	{"p75_ms", offsetof(struct h5gpu, p75), COL_F64},
	{"p90_ms", offsetof(struct h5gpu, p90), COL_F64},
	{"fleet_median_ms", offsetof(struct h5gpu, fleet_median), COL_F64},
	C(h5gpu, z, COL_F64), C(h5gpu, status, COL_STR),
	{"device_ms", offsetof(struct h5gpu, device), COL_F64},
};

/* /gpus: one row per GPU per variant. */
static aisp_err gather_h5_gpus(const struct fleet *f, hid_t file, const char *path,
			       aisp_error *err)
{
	struct h5gpu *rows = calloc(f->n_gpus + 1, sizeof(*rows));
	size_t k = 0;
	aisp_err rc;

	if (!rows)
		return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];

		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++, k++) {
			const struct fleet_gpu *g = &f->gpus[j];
			struct h5gpu *r = &rows[k];

			r->hk = fleet_str(f, v->hk);
			r->inst = fleet_str(f, v->inst);
			r->target = fleet_str(f, v->target);
			r->var = fleet_str(f, v->var);
			r->role = fleet_str(f, v->role);
			r->node = fleet_str(f, g->node);
			r->host = fleet_str(f, g->host);
			r->gpu = fleet_str(f, g->gpu);
			r->gpu_name = fleet_str(f, g->gpu_name);
			r->run_id = fleet_str(f, f->runs[g->run].run_id);
			r->status = g->outlier ? "outlier" : fleet_str(f, g->status);
			r->rank = g->rank;
			r->gpu_index = g->gpu_index;
			r->n_runs = g->n_runs;
			r->median = g->median;
			r->p10 = g->p10;
			r->p75 = g->p75;
			r->p90 = g->p90;
			r->fleet_median = v->host_launch ? v->dev.median : v->median;
			r->z = g->z;
			r->device = g->device;
		}
	}
	rc = gather_h5_table(file, "gpus", gpu_cols, sizeof(gpu_cols) / sizeof(gpu_cols[0]),
			     sizeof(*rows), rows, k, path, err);
	free(rows);
	return rc;
}

struct h5var {
	const char *hk, *inst, *target, *var, *role, *tech, *unit;
	long long gpus, ok, failed, skipped, nodes, outliers, best;
	double median, p10, p90, mad, sample_p75, sample_p90, speedup;
	double noise_within, noise_run, noise, detectable;
	long long noise_run_pairs;
	long long host_launch, device_gpus, device_noise_run_pairs;
	double device_median, device_p10, device_p90, device_mad;
	double device_noise_run, device_noise, device_detectable;
};

static const struct h5col var_cols[] = {
	{"hardware_key", offsetof(struct h5var, hk), COL_STR},
	{"instance", offsetof(struct h5var, inst), COL_STR}, C(h5var, target, COL_STR),
	{"variant", offsetof(struct h5var, var), COL_STR}, C(h5var, role, COL_STR),
	{"technique", offsetof(struct h5var, tech), COL_STR},
	{"work_unit", offsetof(struct h5var, unit), COL_STR}, C(h5var, gpus, COL_I64),
	C(h5var, ok, COL_I64), C(h5var, failed, COL_I64), C(h5var, skipped, COL_I64),
	C(h5var, nodes, COL_I64),
	C(h5var, outliers, COL_I64), C(h5var, best, COL_I64),
	{"median_ms", offsetof(struct h5var, median), COL_F64},
	{"p10_ms", offsetof(struct h5var, p10), COL_F64},
	{"p90_ms", offsetof(struct h5var, p90), COL_F64},
	{"mad_ms", offsetof(struct h5var, mad), COL_F64},
	{"sample_p75_ms", offsetof(struct h5var, sample_p75), COL_F64},
	{"sample_p90_ms", offsetof(struct h5var, sample_p90), COL_F64},
	C(h5var, speedup, COL_F64), C(h5var, noise_within, COL_F64), C(h5var, noise_run, COL_F64),
	C(h5var, noise, COL_F64), C(h5var, detectable, COL_F64),
	C(h5var, noise_run_pairs, COL_I64), C(h5var, host_launch, COL_I64),
	C(h5var, device_gpus, COL_I64),
	{"device_median_ms", offsetof(struct h5var, device_median), COL_F64},
	{"device_p10_ms", offsetof(struct h5var, device_p10), COL_F64},
	{"device_p90_ms", offsetof(struct h5var, device_p90), COL_F64},
	{"device_mad_ms", offsetof(struct h5var, device_mad), COL_F64},
	C(h5var, device_noise_run, COL_F64), C(h5var, device_noise_run_pairs, COL_I64),
	C(h5var, device_noise, COL_F64), C(h5var, device_detectable, COL_F64),
};

/* /variants: the fleet statistics of every variant. */
static aisp_err gather_h5_vars(const struct fleet *f, hid_t file, const char *path,
			       aisp_error *err)
{
	struct h5var *rows = calloc(f->n_vars + 1, sizeof(*rows));
	aisp_err rc;

	if (!rows)
		return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
	for (size_t in = 0; in < f->n_insts; in++) {
		for (size_t i = f->insts[in].var0; i < f->insts[in].var0 + f->insts[in].n_vars; i++) {
			const struct fleet_var *v = &f->vars[i];
			struct h5var *r = &rows[i];

			*r = (struct h5var){fleet_str(f, v->hk), fleet_str(f, v->inst),
					    fleet_str(f, v->target), fleet_str(f, v->var),
					    fleet_str(f, v->role), fleet_str(f, v->tech),
					    fleet_str(f, v->unit), (long long)v->n_gpus, v->n_ok,
					    v->n_failed, v->n_skipped, v->n_nodes, v->n_outliers,
					    f->insts[in].best == i, v->median, v->p10, v->p90, v->mad,
					    v->sample_p75, v->sample_p90, v->speedup,
					    v->noise_within, v->noise_run, v->noise, v->detectable,
					    v->noise_run_pairs, v->host_launch, v->dev.n_gpus,
					    v->dev.noise_run_pairs, v->dev.median, v->dev.p10,
					    v->dev.p90, v->dev.mad, v->dev.noise_run, v->dev.noise,
					    v->dev.detectable};
		}
	}
	rc = gather_h5_table(file, "variants", var_cols, sizeof(var_cols) / sizeof(var_cols[0]),
			     sizeof(*rows), rows, f->n_vars, path, err);
	free(rows);
	return rc;
}

struct h5run {
	const char *run_id, *dir, *git_commit, *start_utc, *end_utc;
	long long rank_files, world_size;
};

static const struct h5col run_cols[] = {
	C(h5run, run_id, COL_STR), C(h5run, dir, COL_STR), C(h5run, git_commit, COL_STR),
	C(h5run, start_utc, COL_STR), C(h5run, end_utc, COL_STR),
	C(h5run, rank_files, COL_I64), C(h5run, world_size, COL_I64),
};

struct h5skip {
	const char *path, *reason;
};

static const struct h5col skip_cols[] = {
	C(h5skip, path, COL_STR), C(h5skip, reason, COL_STR),
};
#undef C

/* /runs and /skipped. */
static aisp_err gather_h5_runs(const struct fleet *f, hid_t file, const char *path,
			       aisp_error *err)
{
	struct h5run *runs = calloc(f->n_runs + 1, sizeof(*runs));
	struct h5skip *skips = calloc(f->n_skips + 1, sizeof(*skips));
	aisp_err rc = AISP_ENOMEM;

	if (!runs || !skips) {
		rc = aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < f->n_runs; i++) {
		const struct fleet_run *r = &f->runs[i];

		runs[i] = (struct h5run){fleet_str(f, r->run_id), fleet_str(f, r->dir),
					 fleet_str(f, r->git_commit), fleet_str(f, r->start_utc),
					 fleet_str(f, r->end_utc), r->n_files, r->world_size};
	}
	for (size_t i = 0; i < f->n_skips; i++)
		skips[i] = (struct h5skip){f->skips[i].path, f->skips[i].why};
	if (!(rc = gather_h5_table(file, "runs", run_cols, sizeof(run_cols) / sizeof(run_cols[0]),
				   sizeof(*runs), runs, f->n_runs, path, err)))
		rc = gather_h5_table(file, "skipped", skip_cols, 2, sizeof(*skips), skips,
				     f->n_skips, path, err);
out:
	free(runs);
	free(skips);
	return rc;
}

/* Root attributes: a string or a number. */
static void gather_h5_attr(hid_t file, const char *name, const char *s, double x)
{
	hid_t sp = H5Screate(H5S_SCALAR), t, a;

	if (s) {
		t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		H5Tset_cset(t, H5T_CSET_UTF8);
		a = H5Acreate2(file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
		H5Awrite(a, t, &s);
		H5Tclose(t);
	} else {
		a = H5Acreate2(file, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
		H5Awrite(a, H5T_NATIVE_DOUBLE, &x);
	}
	H5Aclose(a);
	H5Sclose(sp);
}

aisp_err gather_write_h5(const struct fleet *f, const char *path, aisp_error *err)
{
	char tmp[4200];
	aisp_err rc;
	hid_t file;
	long long one = 1;
	hid_t sp, a;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (file < 0) {
		remove(tmp); /* it may exist, empty, when the first write failed */
		return aisp_fail(err, AISP_EIO, "%s: cannot create", tmp);
	}
	sp = H5Screate(H5S_SCALAR);
	a = H5Acreate2(file, "schema_version", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_LLONG, &one);
	H5Aclose(a);
	H5Sclose(sp);
	gather_h5_attr(file, "tool", "aisp", 0);
	gather_h5_attr(file, "tool_version", AISP_VERSION, 0);
	gather_h5_attr(file, "z_threshold", NULL, f->z_threshold);
	gather_h5_attr(file, "min_delta", NULL, f->min_delta);
	gather_h5_attr(file, "rank_files", NULL, (double)f->n_files);
	gather_h5_attr(file, "skipped", NULL, (double)f->n_skips);
	if (!(rc = gather_h5_gpus(f, file, tmp, err)) && !(rc = gather_h5_vars(f, file, tmp, err)))
		rc = gather_h5_runs(f, file, tmp, err);
	if (H5Fclose(file) < 0 && rc == AISP_OK)
		rc = aisp_fail(err, AISP_EIO, "%s: cannot close", tmp);
	if (rc == AISP_OK && rename(tmp, path) != 0)
		rc = aisp_fail(err, AISP_EIO, "%s: cannot rename to %s", tmp, path);
	if (rc != AISP_OK)
		remove(tmp);
	return rc;
}
