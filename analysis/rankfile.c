/* rankfile.c - read a per-rank HDF5 file (runner/h5out.h) without crashing
 * on corrupt, truncated or foreign input. */
#include "rankfile.h"

#include <ctype.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats.h"
#include "text.h"

#define RANKFILE_SCHEMA 1
#define RANKFILE_MAX_SAMPLES (1u << 26)

/* Replace bytes of s that are not valid UTF-8 (or are control characters)
 * by '?', so that JSON, HTML and terminals get clean text. */
static void rankfile_clean(char *s)
{
	unsigned char *u = (unsigned char *)s;

	while (*u) {
		int n = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1 : (*u & 0xf0) == 0xe0 ? 2 :
			(*u & 0xf8) == 0xf0 ? 3 : -1;
		int ok = n >= 0 && !(n == 0 && *u < 0x20) && !(n == 1 && *u < 0xc2);

		for (int i = 1; ok && i <= n; i++)
			ok = (u[i] & 0xc0) == 0x80;
		if (!ok) {
			*u++ = '?';
			continue;
		}
		u += n + 1;
	}
}

void rankfile_quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

int rankfile_is_name(const char *name)
{
	const char *p = name + 5;

	if (strncmp(name, "rank-", 5) || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return !strcmp(p, ".h5");
}

/* State of one read: the file, its scratch sample buffer and the callback. */
struct rankfile_read {
	const char *path;
	struct rankfile_root *root;
	rankfile_fn fn;
	void *ctx;
	aisp_error *err;
	aisp_err rc;
	double *buf, *tmp;     /* samples (sorted) and scratch of the same size */
	size_t cap;
	const char *instance;
	char target[AISP_NAME_MAX];
};

/* String attribute name of obj (variable or fixed length) into dst[n]. */
static aisp_err rankfile_str(hid_t obj, const char *name, char *dst, size_t n,
			     const char *path, const char *where, aisp_error *err)
{
	hid_t a = -1, t = -1, mt = -1;
	aisp_err rc = AISP_OK;
	char *v = NULL;

	dst[0] = '\0';
	if (H5Aexists(obj, name) <= 0)
		return aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: missing",
				 path, where, name);
	if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (t = H5Aget_type(a)) < 0 ||
	    H5Tget_class(t) != H5T_STRING) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: not a string",
			       path, where, name);
		goto out;
	}
	if (H5Tis_variable_str(t) > 0) {
		mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		H5Tset_cset(mt, H5Tget_cset(t));
		if (H5Aread(a, mt, &v) < 0 || !v) {
			rc = aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: unreadable",
				       path, where, name);
			goto out;
		}
		snprintf(dst, n, "%s", v);
		H5free_memory(v);
		rankfile_clean(dst);
	} else {
		size_t sz = H5Tget_size(t);
		char *tmp = calloc(1, sz + 1);

		if (!tmp || H5Aread(a, t, tmp) < 0)
			rc = aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: unreadable",
				       path, where, name);
		else
			snprintf(dst, n, "%s", tmp);
		free(tmp);
		rankfile_clean(dst);
	}
out:
	if (mt >= 0)
		H5Tclose(mt);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* Numeric attribute name of obj as a double; absent gives NAN when optional. */
static aisp_err rankfile_num(hid_t obj, const char *name, double *out, int required,
			     const char *path, const char *where, aisp_error *err)
{
	hid_t a = -1, t = -1;
	aisp_err rc = AISP_OK;
	H5T_class_t c;

	*out = NAN;
	if (H5Aexists(obj, name) <= 0)
		return required ? aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: missing",
					    path, where, name) : AISP_OK;
	if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (t = H5Aget_type(a)) < 0 ||
	    ((c = H5Tget_class(t)) != H5T_INTEGER && c != H5T_FLOAT) ||
	    H5Aread(a, H5T_NATIVE_DOUBLE, out) < 0)
		rc = aisp_fail(err, AISP_EINPUT, "%s: %s attribute %s: not a readable number",
			       path, where, name);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* Root attributes; a file without schema_version and tool "aisp" is foreign. */
static aisp_err rankfile_root(hid_t f, const char *path, struct rankfile_root *r,
			      aisp_error *err)
{
	char tool[32];
	double sv, rank, ws, lr, gi;
	aisp_err rc;

	if (rankfile_str(f, "tool", tool, sizeof(tool), path, "root", err) ||
	    strcmp(tool, "aisp") || H5Aexists(f, "schema_version") <= 0)
		return aisp_fail(err, AISP_EINPUT,
				 "%s: not an aisp rank file (root attributes tool=aisp and schema_version missing)",
				 path);
	if ((rc = rankfile_num(f, "schema_version", &sv, 1, path, "root", err)))
		return rc;
	if (sv != RANKFILE_SCHEMA)
		return aisp_fail(err, AISP_EINPUT, "%s: root attribute schema_version: %g, expected %d",
				 path, sv, RANKFILE_SCHEMA);
	if ((rc = rankfile_num(f, "rank", &rank, 1, path, "root", err)) ||
	    (rc = rankfile_num(f, "world_size", &ws, 1, path, "root", err)) ||
	    (rc = rankfile_num(f, "local_rank", &lr, 0, path, "root", err)) ||
	    (rc = rankfile_num(f, "gpu_index", &gi, 0, path, "root", err)))
		return rc;
	r->schema_version = (long long)sv;
	r->rank = (long long)rank;
	r->world_size = (long long)ws;
	r->local_rank = isnan(lr) ? -1 : (long long)lr;
	r->gpu_index = isnan(gi) ? -1 : (long long)gi;
	if ((rc = rankfile_str(f, "hardware_key", r->hardware_key, sizeof(r->hardware_key), path, "root", err)) ||
	    (rc = rankfile_str(f, "run_id", r->run_id, sizeof(r->run_id), path, "root", err)) ||
	    (rc = rankfile_str(f, "node", r->node, sizeof(r->node), path, "root", err)) ||
	    (rc = rankfile_str(f, "gpu_uuid", r->gpu_uuid, sizeof(r->gpu_uuid), path, "root", err)) ||
	    (rc = rankfile_str(f, "git_commit", r->git_commit, sizeof(r->git_commit), path, "root", err)) ||
	    (rc = rankfile_str(f, "status", r->status, sizeof(r->status), path, "root", err)))
		return rc;
	/* Descriptive facts: absent is tolerated, left empty. */
	rankfile_str(f, "hostname", r->hostname, sizeof(r->hostname), path, "root", NULL);
	rankfile_str(f, "backend", r->backend, sizeof(r->backend), path, "root", NULL);
	rankfile_str(f, "gpu_name", r->gpu_name, sizeof(r->gpu_name), path, "root", NULL);
	rankfile_str(f, "tool_version", r->tool_version, sizeof(r->tool_version), path, "root", NULL);
	rankfile_str(f, "start_utc", r->start_utc, sizeof(r->start_utc), path, "root", NULL);
	rankfile_str(f, "end_utc", r->end_utc, sizeof(r->end_utc), path, "root", NULL);
	rankfile_str(f, "test_knobs", r->test_knobs, sizeof(r->test_knobs), path, "root", NULL);
	if (!r->hardware_key[0] || !r->gpu_uuid[0] || !r->node[0])
		return aisp_fail(err, AISP_EINPUT, "%s: root attributes hardware_key, node and gpu_uuid must not be empty",
				 path);
	if (!text_is_safe_name(r->hardware_key)) /* it names expectations_<key>.json */
		return aisp_fail(err, AISP_EINPUT, "%s: root attribute hardware_key: '%s' is not a safe file name",
				 path, r->hardware_key);
	return AISP_OK;
}

/* samples_ms of variant group g into rd->buf, sorted; *n its length. */
static aisp_err rankfile_samples(struct rankfile_read *rd, hid_t g, const char *where,
				 size_t *n)
{
	hid_t d = -1, s = -1;
	hssize_t len;
	aisp_err rc = AISP_OK;

	*n = 0;
	if (H5Lexists(g, "samples_ms", H5P_DEFAULT) <= 0)
		return AISP_OK;
	if ((d = H5Dopen2(g, "samples_ms", H5P_DEFAULT)) < 0 ||
	    (s = H5Dget_space(d)) < 0 || H5Sget_simple_extent_ndims(s) != 1 ||
	    (len = H5Sget_simple_extent_npoints(s)) < 0) {
		rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s/samples_ms: not a 1-d dataset",
			       rd->path, where);
		goto out;
	}
	if ((size_t)len > RANKFILE_MAX_SAMPLES) {
		rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s/samples_ms: %lld samples: implausible",
			       rd->path, where, (long long)len);
		goto out;
	}
	if ((size_t)len > rd->cap) {
		double *b = realloc(rd->buf, (size_t)len * sizeof(*b)), *t;

		if (b)
			rd->buf = b;
		t = b ? realloc(rd->tmp, (size_t)len * sizeof(*t)) : NULL;
		if (t)
			rd->tmp = t;
		if (!b || !t) {
			rc = aisp_fail(rd->err, AISP_ENOMEM, "%s: %s/samples_ms: out of memory",
				       rd->path, where);
			goto out;
		}
		rd->cap = (size_t)len;
	}
	if (len > 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
			       rd->buf) < 0) {
		rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s/samples_ms: unreadable (truncated?)",
			       rd->path, where);
		goto out;
	}
	*n = (size_t)len;
	for (size_t i = 0; i < *n; i++)
		if (!isfinite(rd->buf[i])) {
			rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s/samples_ms[%zu]: not finite",
				       rd->path, where, i);
			goto out;
		}
	stats_median_inplace(rd->buf, *n); /* sorts */
out:
	if (s >= 0)
		H5Sclose(s);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

/* Device facts of group name under variant group g (absent: valid 0). A
 * fact that is there but not a number is an error, as for any attribute. */
static aisp_err rankfile_facts(struct rankfile_read *rd, hid_t g, const char *name,
			       const char *where, struct rankfile_facts *out)
{
	static const char *const keys[] = {
		"valid", "pcie_gen", "pcie_width", "sm_clock_mhz", "max_sm_clock_mhz",
		"temperature_c", "power_w", "power_limit_w", "throttle_reasons",
		"ecc_corrected", "ecc_uncorrected", "retired_pages",
	};
	double x[sizeof(keys) / sizeof(keys[0])];
	char at[3 * AISP_NAME_MAX + 16];
	aisp_err rc = AISP_OK;
	hid_t s;

	memset(out, 0, sizeof(*out));
	if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
		return AISP_OK;
	snprintf(at, sizeof(at), "%s/%s", where, name);
	if ((s = H5Gopen2(g, name, H5P_DEFAULT)) < 0)
		return aisp_fail(rd->err, AISP_EINPUT, "%s: %s: not a group", rd->path, at);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == AISP_OK; i++) {
		rc = rankfile_num(s, keys[i], &x[i], 0, rd->path, at, rd->err);
		if (rc == AISP_OK && !(x[i] >= 0.0 && x[i] < 1.8e19))
			x[i] = 0.0; /* absent (NAN) or nonsense: not known */
	}
	H5Gclose(s);
	out->valid = x[0] != 0.0;
	out->pcie_gen = (int)x[1];
	out->pcie_width = (int)x[2];
	out->sm_clock_mhz = (unsigned)fmin(x[3], 4e9);
	out->max_sm_clock_mhz = (unsigned)fmin(x[4], 4e9);
	out->temperature_c = (unsigned)fmin(x[5], 4e9);
	out->power_w = x[6];
	out->power_limit_w = x[7];
	out->throttle_reasons = (unsigned long long)x[8];
	out->ecc_corrected = (unsigned long long)x[9];
	out->ecc_uncorrected = (unsigned long long)x[10];
	out->retired_pages = (unsigned long long)x[11];
	return rc;
}

int rankfile_host_launch(const char *backend, const char *target, const char *var)
{
	static const char *const flagged[][2] = {
		{"ch01:gemm", "baseline_gemm"}, {"ch01:gemm", "optimized_gemm_batched"},
		{"ch01:gemm", "optimized_gemm_strided"}, {"qual:launch", "baseline_stream"},
	};

	if (strcmp(backend, "cuda"))
		return 0;
	for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++)
		if (!strcmp(flagged[i][0], target) && !strcmp(flagged[i][1], var))
			return 1;
	return 0;
}

/* host_launch and device_ms of variant group g into v (absent host_launch:
 * rankfile_host_launch; absent or negative device_ms: NAN). */
static aisp_err rankfile_launch(struct rankfile_read *rd, hid_t g, const char *where,
				struct rankfile_variant *v)
{
	double hl;
	aisp_err rc;

	if ((rc = rankfile_num(g, "host_launch", &hl, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "device_ms", &v->device_ms, 0, rd->path, where, rd->err)))
		return rc;
	v->host_launch = isnan(hl) ? rankfile_host_launch(rd->root->backend, v->target,
							  v->variant) : hl != 0.0;
	if (!(v->device_ms > 0.0 && isfinite(v->device_ms)))
		v->device_ms = NAN; /* not measured (host backend, no CUPTI) */
	return AISP_OK;
}

/* Attributes and samples of one variant group, then the callback. */
static aisp_err rankfile_variant(struct rankfile_read *rd, hid_t g, const char *name)
{
	struct rankfile_variant v = {0};
	char where[3 * AISP_NAME_MAX];
	double it, wu;
	aisp_err rc;

	snprintf(where, sizeof(where), "/targets/%s/%s", rd->instance, name);
	snprintf(v.instance, sizeof(v.instance), "%s", rd->instance);
	snprintf(v.target, sizeof(v.target), "%s", rd->target);
	snprintf(v.variant, sizeof(v.variant), "%s", name);
	rankfile_clean(v.instance);
	rankfile_clean(v.variant);
	if ((rc = rankfile_str(g, "status", v.status, sizeof(v.status), rd->path, where, rd->err)) ||
	    (rc = rankfile_str(g, "role", v.role, sizeof(v.role), rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "iterations", &it, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "warmup", &wu, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "work_per_iteration", &v.work, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "bytes_per_iteration", &v.bytes, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_num(g, "flops_per_iteration", &v.flops, 0, rd->path, where, rd->err)) ||
	    (rc = rankfile_facts(rd, g, "gpu_before", where, &v.before)) ||
	    (rc = rankfile_facts(rd, g, "gpu_after", where, &v.after)) ||
	    (rc = rankfile_launch(rd, g, where, &v)) ||
	    (rc = rankfile_samples(rd, g, where, &v.n_samples)))
		return rc;
	rankfile_str(g, "technique", v.technique, sizeof(v.technique), rd->path, where, NULL);
	rankfile_str(g, "message", v.message, sizeof(v.message), rd->path, where, NULL);
	rankfile_str(g, "work_unit", v.work_unit, sizeof(v.work_unit), rd->path, where, NULL);
	v.iterations = isnan(it) ? -1 : (long long)it;
	v.warmup = isnan(wu) ? -1 : (long long)wu;
	v.samples = rd->buf;
	v.median_ms = stats_quantile_sorted(rd->buf, v.n_samples, 0.5);
	v.p10_ms = stats_quantile_sorted(rd->buf, v.n_samples, 0.10);
	v.p75_ms = stats_quantile_sorted(rd->buf, v.n_samples, 0.75);
	v.p90_ms = stats_quantile_sorted(rd->buf, v.n_samples, 0.90);
	v.mad_ms = v.n_samples ? stats_mad(rd->buf, v.n_samples, v.median_ms, rd->tmp) : NAN;
	if (!strcmp(v.status, "ok") && v.n_samples == 0) {
		snprintf(v.status, sizeof(v.status), "error");
		snprintf(v.message, sizeof(v.message), "status ok but no samples");
	}
	return rd->fn ? rd->fn(rd->ctx, rd->root, &v, rd->err) : AISP_OK;
}

/* H5Literate callback over an instance group: each child group is a variant. */
static herr_t rankfile_each_variant(hid_t g, const char *name, const H5L_info_t *info,
				    void *arg)
{
	struct rankfile_read *rd = arg;
	hid_t o;

	(void)info;
	if (strlen(name) >= AISP_NAME_MAX) { /* cut, it could merge with another */
		rd->rc = aisp_fail(rd->err, AISP_EINPUT, "%s: /targets/%s/%.40s...: variant name longer than %d characters",
				   rd->path, rd->instance, name, AISP_NAME_MAX - 1);
		return -1;
	}
	o = H5Oopen(g, name, H5P_DEFAULT);
	if (o < 0) {
		rd->rc = aisp_fail(rd->err, AISP_EINPUT, "%s: /targets/%s/%s: unreadable",
				   rd->path, rd->instance, name);
		return -1;
	}
	if (H5Iget_type(o) == H5I_GROUP)
		rd->rc = rankfile_variant(rd, o, name);
	H5Oclose(o);
	return rd->rc == AISP_OK ? 0 : -1;
}

/* H5Literate callback over /targets: each child group is a target instance. */
static herr_t rankfile_each_instance(hid_t g, const char *name, const H5L_info_t *info,
				     void *arg)
{
	struct rankfile_read *rd = arg;
	char where[AISP_NAME_MAX + 16];
	hsize_t idx = 0;
	hid_t o;

	(void)info;
	if (strlen(name) >= AISP_NAME_MAX) { /* cut, it could merge with another */
		rd->rc = aisp_fail(rd->err, AISP_EINPUT, "%s: /targets/%.40s...: instance name longer than %d characters",
				   rd->path, name, AISP_NAME_MAX - 1);
		return -1;
	}
	snprintf(where, sizeof(where), "/targets/%s", name);
	o = H5Gopen2(g, name, H5P_DEFAULT);
	if (o < 0) {
		rd->rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s: not a group", rd->path, where);
		return -1;
	}
	rd->instance = name;
	rd->rc = rankfile_str(o, "target", rd->target, sizeof(rd->target), rd->path,
			      where, rd->err);
	if (rd->rc == AISP_OK &&
	    H5Literate(o, H5_INDEX_NAME, H5_ITER_INC, &idx, rankfile_each_variant, rd) < 0 &&
	    rd->rc == AISP_OK)
		rd->rc = aisp_fail(rd->err, AISP_EINPUT, "%s: %s: unreadable", rd->path, where);
	H5Gclose(o);
	return rd->rc == AISP_OK ? 0 : -1;
}

aisp_err rankfile_read(const char *path, struct rankfile_root *root,
		       rankfile_fn fn, void *ctx, aisp_error *err)
{
	struct rankfile_read rd = {path, root, fn, ctx, err, AISP_OK, NULL, NULL, 0, NULL, ""};
	hid_t f = -1, t = -1;
	hsize_t idx = 0;
	struct stat st;

	memset(root, 0, sizeof(*root));
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { /* H5Fopen hangs on a FIFO */
		rd.rc = aisp_fail(err, AISP_EINPUT, "%s: not a regular file", path);
		goto out;
	}
	rankfile_quiet();
	f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0) {
		rd.rc = aisp_fail(err, AISP_EINPUT, "%s: not a readable HDF5 file (corrupt or truncated)",
				  path);
		goto out;
	}
	if ((rd.rc = rankfile_root(f, path, root, err)))
		goto out;
	if (H5Lexists(f, "targets", H5P_DEFAULT) <= 0)
		goto out; /* a rank that measured nothing yet */
	if ((t = H5Gopen2(f, "targets", H5P_DEFAULT)) < 0) {
		rd.rc = aisp_fail(err, AISP_EINPUT, "%s: /targets: not a group", path);
		goto out;
	}
	if (H5Literate(t, H5_INDEX_NAME, H5_ITER_INC, &idx, rankfile_each_instance, &rd) < 0 &&
	    rd.rc == AISP_OK)
		rd.rc = aisp_fail(err, AISP_EINPUT, "%s: /targets: unreadable", path);
out:
	if (t >= 0)
		H5Gclose(t);
	if (f >= 0)
		H5Fclose(f);
	free(rd.buf);
	free(rd.tmp);
	return rd.rc;
}
