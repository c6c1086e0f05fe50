/* h5out.c - the per-rank HDF5 file, kept in memory and committed atomically. */
#include "h5out.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "text.h"

struct h5out {
	hid_t file;
	char path[4096];
	int dirty;          /* changed since the last commit */
	double commit_ms;   /* how long the last commit took */
};

/* Write a scalar variable-length UTF-8 string attribute (replacing any). */
static herr_t attr_str(hid_t loc, const char *name, const char *value)
{
	hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), a;
	herr_t rc = -1;

	H5Tset_size(type, H5T_VARIABLE);
	H5Tset_cset(type, H5T_CSET_UTF8);
	if (H5Aexists(loc, name) > 0)
		H5Adelete(loc, name);
	a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0) {
		rc = H5Awrite(a, type, &value);
		H5Aclose(a);
	}
	H5Sclose(space);
	H5Tclose(type);
	return rc;
}

/* Write a scalar attribute of native type mem stored as file type ftype. */
static herr_t attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mem, const void *v)
{
	hid_t space = H5Screate(H5S_SCALAR), a;
	herr_t rc = -1;

	if (H5Aexists(loc, name) > 0)
		H5Adelete(loc, name);
	a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0) {
		rc = H5Awrite(a, mem, v);
		H5Aclose(a);
	}
	H5Sclose(space);
	return rc;
}

static herr_t attr_i64(hid_t loc, const char *name, long long v)
{
	return attr_num(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v);
}

static herr_t attr_f64(hid_t loc, const char *name, double v)
{
	return attr_num(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* Write the facts of one device as attributes of loc; nonzero on failure. */
static int write_facts(hid_t loc, const struct gpu_facts *g)
{
	int bad = 0;

	bad |= attr_i64(loc, "valid", g->valid) < 0;
	bad |= attr_i64(loc, "index", g->index) < 0;
	bad |= attr_str(loc, "name", g->name) < 0;
	bad |= attr_str(loc, "uuid", g->uuid) < 0;
	bad |= attr_i64(loc, "sm_clock_mhz", g->sm_clock_mhz) < 0;
	bad |= attr_i64(loc, "mem_clock_mhz", g->mem_clock_mhz) < 0;
	bad |= attr_i64(loc, "max_sm_clock_mhz", g->max_sm_clock_mhz) < 0;
	bad |= attr_i64(loc, "temperature_c", g->temperature_c) < 0;
	bad |= attr_f64(loc, "power_w", g->power_w) < 0;
	bad |= attr_f64(loc, "power_limit_w", g->power_limit_w) < 0;
	bad |= attr_i64(loc, "throttle_reasons", (long long)g->throttle_reasons) < 0;
	bad |= attr_i64(loc, "ecc_corrected", (long long)g->ecc_corrected) < 0;
	bad |= attr_i64(loc, "ecc_uncorrected", (long long)g->ecc_uncorrected) < 0;
	bad |= attr_i64(loc, "retired_pages", (long long)g->retired_pages) < 0;
	bad |= attr_i64(loc, "pcie_gen", g->pcie_gen) < 0;
	bad |= attr_i64(loc, "pcie_width", g->pcie_width) < 0;
	return bad;
}

/* Write the root attributes of info (test knobs: knobs); nonzero on failure. */
static int write_root(hid_t f, const struct rank_info *in, const char *knobs)
{
	int bad = 0;

	bad |= attr_i64(f, "schema_version", H5OUT_SCHEMA_VERSION) < 0;
	bad |= attr_str(f, "tool", "aisp") < 0;
	bad |= attr_str(f, "tool_version", in->tool_version) < 0;
	bad |= attr_str(f, "git_commit", in->git_commit) < 0;
	bad |= attr_str(f, "run_id", in->run_id) < 0;
	bad |= attr_str(f, "job_name", in->job_name) < 0;
	bad |= attr_str(f, "job_sha256", in->job_sha256) < 0;
	bad |= attr_str(f, "command_line", in->command_line) < 0;
	bad |= attr_str(f, "node", in->node) < 0;
	bad |= attr_str(f, "hostname", in->hostname) < 0;
	bad |= attr_i64(f, "rank", in->rank) < 0;
	bad |= attr_i64(f, "world_size", in->world_size) < 0;
	bad |= attr_i64(f, "local_rank", in->local_rank) < 0;
	bad |= attr_i64(f, "local_size", in->local_size) < 0;
	bad |= attr_str(f, "backend", in->backend) < 0;
	bad |= attr_i64(f, "gpu_index", in->gpu.index) < 0;
	bad |= attr_str(f, "gpu_name", in->gpu.name) < 0;
	bad |= attr_str(f, "gpu_uuid", in->gpu.uuid) < 0;
	bad |= attr_str(f, "gpu_serial", in->gpu.serial) < 0;
	bad |= attr_str(f, "driver", in->gpu.driver) < 0;
	bad |= attr_str(f, "cuda_version", in->gpu.cuda_version) < 0;
	bad |= attr_str(f, "hardware_key", in->hardware_key) < 0;
	bad |= attr_i64(f, "seed", (long long)in->seed) < 0;
	bad |= attr_str(f, "start_utc", in->start_utc) < 0;
	bad |= attr_str(f, "end_utc", in->end_utc) < 0;
	bad |= attr_str(f, "status", in->status) < 0;
	bad |= attr_str(f, "test_knobs", knobs) < 0;
	return bad;
}

/* Write buf to path through path.tmp, fsync and rename. */
static aisp_err write_atomic(const char *path, const void *buf, size_t len, aisp_error *err)
{
	char tmp[4200];
	size_t off = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return aisp_fail(err, AISP_EIO, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			aisp_fail(err, AISP_EIO, "%s: write: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return AISP_EIO;
		}
		off += (size_t)n;
	}
	if (fsync(fd) || close(fd) || rename(tmp, path)) {
		aisp_fail(err, AISP_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return AISP_EIO;
	}
	return AISP_OK;
}

/* Commit the in-memory file: its whole image replaces the file on disk. */
static aisp_err commit(struct h5out *h, aisp_error *err)
{
	double t0 = clock_now_ms();
	ssize_t size;
	void *buf;
	aisp_err rc;

	if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0 ||
	    (size = H5Fget_file_image(h->file, NULL, 0)) <= 0)
		return aisp_fail(err, AISP_EIO, "%s: cannot serialize HDF5 image", h->path);
	buf = malloc((size_t)size);
	if (!buf)
		return aisp_fail(err, AISP_ENOMEM, "%s: %zd bytes", h->path, size);
	if (H5Fget_file_image(h->file, buf, (size_t)size) != size)
		rc = aisp_fail(err, AISP_EIO, "%s: cannot serialize HDF5 image", h->path);
	else
		rc = write_atomic(h->path, buf, (size_t)size, err);
	free(buf);
	if (!rc)
		h->dirty = 0;
	h->commit_ms = clock_now_ms() - t0;
	return rc;
}

/* Open path in memory: a new file, or a copy of the existing one. */
static aisp_err open_image(struct h5out *h, int resume, aisp_error *err)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	/* Core driver without backing store: an existing file is read whole into
	 * memory at open and never written in place; commit() writes it anew. */
	H5Pset_fapl_core(fapl, 1 << 20, 0);
	if (resume)
		h->file = H5Fopen(h->path, H5F_ACC_RDWR, fapl);
	else
		h->file = H5Fcreate(h->path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	H5Pclose(fapl);
	if (h->file < 0)
		return aisp_fail(err, resume ? AISP_EINPUT : AISP_EIO, "%s: %s", h->path,
				 resume ? "not a readable rank file (cannot resume from it)"
					: "cannot create the HDF5 file in memory");
	return AISP_OK;
}

static void read_str_attr(hid_t loc, const char *name, char *dst, size_t n);

/* Knobs of a resumed file: those it holds plus the new ones not among them,
 * so that samples measured under a knob never lose its trace. */
static void merge_knobs(hid_t file, const char *now, char *dst, size_t n)
{
	char old[sizeof(((struct rank_info *)0)->test_knobs)];
	const char *p = now;

	read_str_attr(file, "test_knobs", old, sizeof(old));
	text_copy(dst, n, old);
	while (*p) {
		size_t len = strcspn(p, " "), have = strlen(dst);
		const char *q = dst;
		int found = 0;

		for (; *q && !found; q += strcspn(q, " "), q += *q == ' ')
			found = strcspn(q, " ") == len && !strncmp(q, p, len);
		if (!found && len && have + len + 2 <= n)
			snprintf(dst + have, n - have, "%s%.*s", have ? " " : "", (int)len, p);
		p += len;
		p += *p == ' ';
	}
}

aisp_err h5out_open(const char *path, const struct rank_info *info, int resume,
		    struct h5out **out, aisp_error *err)
{
	struct h5out *h = calloc(1, sizeof(*h));
	char knobs[sizeof(info->test_knobs)];
	aisp_err rc;
	hid_t g;

	*out = NULL;
	if (!h)
		return aisp_fail(err, AISP_ENOMEM, "h5out");
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	text_copy(h->path, sizeof(h->path), path);
	h->file = -1;
	rc = open_image(h, resume, err);
	if (rc)
		goto fail;
	if (resume)
		merge_knobs(h->file, info->test_knobs, knobs, sizeof(knobs));
	else
		text_copy(knobs, sizeof(knobs), info->test_knobs);
	if (write_root(h->file, info, knobs)) {
		rc = aisp_fail(err, AISP_EIO, "%s: cannot write root attributes", path);
		goto fail;
	}
	if (H5Lexists(h->file, "targets", H5P_DEFAULT) <= 0) {
		g = H5Gcreate2(h->file, "targets", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		if (g < 0) {
			rc = aisp_fail(err, AISP_EIO, "%s: cannot create /targets", path);
			goto fail;
		}
		H5Gclose(g);
	}
	rc = commit(h, err);
	if (rc)
		goto fail;
	*out = h;
	return AISP_OK;
fail:
	if (h->file >= 0)
		H5Fclose(h->file);
	free(h);
	return rc;
}

/* Read a string attribute into dst; "" when absent or not a string. */
static void read_str_attr(hid_t loc, const char *name, char *dst, size_t n)
{
	hid_t a, type, mem;
	char *v = NULL;

	dst[0] = '\0';
	if (H5Aexists(loc, name) <= 0 || (a = H5Aopen(loc, name, H5P_DEFAULT)) < 0)
		return;
	type = H5Aget_type(a);
	if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
		mem = H5Tcopy(H5T_C_S1);
		H5Tset_size(mem, H5T_VARIABLE);
		H5Tset_cset(mem, H5Tget_cset(type)); /* HDF5 converts no charsets */
		if (H5Aread(a, mem, &v) >= 0 && v) {
			text_copy(dst, n, v);
			H5free_memory(v);
		}
		H5Tclose(mem);
	}
	H5Tclose(type);
	H5Aclose(a);
}

int h5out_has_ok(const struct h5out *h, const char *instance, const char *variant)
{
	char path[2 * AISP_NAME_MAX + 16], status[16];
	hid_t g;

	snprintf(path, sizeof(path), "/targets/%s", instance);
	if (!text_is_safe_name(instance) || !text_is_safe_name(variant) ||
	    H5Lexists(h->file, path, H5P_DEFAULT) <= 0)
		return 0;
	snprintf(path, sizeof(path), "/targets/%s/%s", instance, variant);
	if (H5Lexists(h->file, path, H5P_DEFAULT) <= 0 ||
	    (g = H5Gopen2(h->file, path, H5P_DEFAULT)) < 0)
		return 0;
	read_str_attr(g, "status", status, sizeof(status));
	H5Gclose(g);
	return !strcmp(status, "ok");
}

/* Open /targets/<instance>, creating it with its target and parameters. */
static hid_t instance_group(struct h5out *h, const struct variant_result *r)
{
	char path[AISP_NAME_MAX + 16], name[AISP_NAME_MAX + 8];
	hid_t g;

	snprintf(path, sizeof(path), "/targets/%s", r->instance);
	if (H5Lexists(h->file, path, H5P_DEFAULT) > 0)
		return H5Gopen2(h->file, path, H5P_DEFAULT);
	g = H5Gcreate2(h->file, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g < 0)
		return g;
	attr_str(g, "target", r->target);
	for (size_t i = 0; i < r->params.n && r->param_names; i++) {
		snprintf(name, sizeof(name), "param.%s", r->param_names[i]);
		attr_f64(g, name, r->params.v[i]);
	}
	return g;
}

/* Write samples_ms as a chunked float64 dataset under g. */
static int write_samples(hid_t g, const struct variant_result *r)
{
	hsize_t dims[1] = {r->n_samples}, maxd[1] = {H5S_UNLIMITED};
	hsize_t chunk[1] = {r->n_samples ? (r->n_samples < 4096 ? r->n_samples : 4096) : 1};
	hid_t space = H5Screate_simple(1, dims, maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE), d;
	int bad = 1;

	H5Pset_chunk(dcpl, 1, chunk);
	d = H5Dcreate2(g, "samples_ms", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (d >= 0) {
		bad = r->n_samples && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
					       r->samples) < 0;
		H5Dclose(d);
	}
	H5Pclose(dcpl);
	H5Sclose(space);
	return bad;
}

/* Write how r was measured (host, clocks, CPU, the counted pass). */
static int write_measure_attrs(hid_t g, const struct variant_result *r)
{
	int bad = 0;

	bad |= attr_f64(g, "host_ms", r->host_ms) < 0;
	bad |= attr_f64(g, "warmup_spent_ms", r->warmup_spent_ms) < 0;
	bad |= attr_i64(g, "warmup_clock_steady", r->warmup_clock_steady) < 0;
	bad |= attr_i64(g, "warmup_clock_start_mhz", r->warmup_clock_start_mhz) < 0;
	bad |= attr_i64(g, "warmup_clock_end_mhz", r->warmup_clock_end_mhz) < 0;
	bad |= attr_i64(g, "sm_clock_start_mhz", r->sm_clock_start_mhz) < 0;
	bad |= attr_i64(g, "sm_clock_end_mhz", r->sm_clock_end_mhz) < 0;
	bad |= attr_i64(g, "worker_cpu", r->worker_cpu) < 0;
	bad |= attr_i64(g, "worker_cpu_pinned", r->worker_cpu_pinned) < 0;
	bad |= attr_i64(g, "cpu_migrated", r->cpu_migrated) < 0;
	bad |= attr_i64(g, "involuntary_switches", r->involuntary_switches) < 0;
	bad |= attr_str(g, "measure_switches", r->measure_switches) < 0;
	bad |= attr_i64(g, "count_iterations", r->count_iterations) < 0;
	bad |= attr_i64(g, "device_ops_per_iteration", r->device_ops) < 0;
	bad |= attr_f64(g, "device_ms", r->device_ms) < 0;
	bad |= attr_f64(g, "device_span_ms", r->device_span_ms) < 0;
	bad |= attr_f64(g, "count_event_ms", r->count_event_ms) < 0;
	bad |= attr_f64(g, "timer_events_ms", r->timer_events_ms) < 0;
	bad |= attr_f64(g, "timer_span_ms", r->timer_span_ms) < 0;
	bad |= attr_f64(g, "timer_kernels_ms", r->timer_kernels_ms) < 0;
	bad |= attr_i64(g, "timer_iterations", r->timer_iterations) < 0;
	bad |= attr_str(g, "kernel_names", r->kernel_names) < 0;
	return bad;
}

/* Write the profile pass's fields of r. */
static int write_profile_attrs(hid_t g, const struct variant_result *r)
{
	int bad = 0;

	bad |= attr_str(g, "profile_status", r->profile_status[0] ? r->profile_status
								   : "none") < 0;
	bad |= attr_str(g, "profile_message", r->profile_message) < 0;
	bad |= attr_f64(g, "profile_kernel_ms", r->profile_kernel_ms) < 0;
	bad |= attr_i64(g, "profile_kernels", r->profile_kernels) < 0;
	bad |= attr_f64(g, "profile_mem_pct", r->profile_mem_pct) < 0;
	bad |= attr_f64(g, "profile_sm_pct", r->profile_sm_pct) < 0;
	return bad;
}

/* Write the statistics and facts of r as attributes of g. */
static int write_variant_attrs(hid_t g, const struct variant_result *r)
{
	const struct stats_summary *s = &r->stats;
	char unit[48];
	int bad = 0;

	snprintf(unit, sizeof(unit), "%s/s", r->work_unit);
	bad |= attr_str(g, "status", r->status) < 0;
	bad |= attr_str(g, "message", r->message) < 0;
	bad |= attr_str(g, "role", r->role == AISP_ROLE_BASELINE ? "baseline" : "optimized") < 0;
	bad |= attr_str(g, "technique", r->technique) < 0;
	bad |= attr_i64(g, "host_launch", r->host_launch ? 1 : 0) < 0;
	bad |= attr_i64(g, "iterations", r->iterations) < 0;
	bad |= attr_i64(g, "warmup", r->warmup) < 0;
	bad |= attr_i64(g, "n_samples", (long long)r->n_samples) < 0;
	bad |= attr_i64(g, "iterations_per_sample", r->per_sample > 0 ? r->per_sample : 1) < 0;
	bad |= attr_f64(g, "median_ms", s->median) < 0;
	bad |= attr_f64(g, "mean_ms", s->mean) < 0;
	bad |= attr_f64(g, "stddev_ms", s->stddev) < 0;
	bad |= attr_f64(g, "p10_ms", s->p10) < 0;
	bad |= attr_f64(g, "p75_ms", s->p75) < 0;
	bad |= attr_f64(g, "p90_ms", s->p90) < 0;
	bad |= attr_f64(g, "p99_ms", s->p99) < 0;
	bad |= attr_f64(g, "min_ms", s->min) < 0;
	bad |= attr_f64(g, "max_ms", s->max) < 0;
	bad |= attr_f64(g, "mad_ms", s->mad) < 0;
	bad |= attr_i64(g, "launches_per_iteration", r->launches_api) < 0;
	bad |= attr_i64(g, "kernels_per_iteration", r->launches_kernels) < 0;
	bad |= attr_f64(g, "work_per_iteration", r->work) < 0;
	bad |= attr_str(g, "work_unit", r->work_unit) < 0;
	bad |= attr_f64(g, "throughput", r->throughput) < 0;
	bad |= attr_str(g, "throughput_unit", r->work_unit[0] ? unit : "") < 0;
	bad |= attr_f64(g, "bytes_per_iteration", r->bytes) < 0;
	bad |= attr_f64(g, "flops_per_iteration", r->flops) < 0;
	bad |= attr_f64(g, "rel_error", r->rel_error) < 0;
	bad |= attr_f64(g, "tolerance", r->tolerance) < 0;
	for (size_t i = 0; i < r->n_checks && i < AISP_CHECK_VALUES; i++) {
		char name[sizeof(r->checks[i].name) + 8];

		snprintf(name, sizeof(name), "check.%s", r->checks[i].name);
		bad |= attr_f64(g, name, r->checks[i].value) < 0;
	}
	bad |= attr_f64(g, "elapsed_s", r->elapsed_s) < 0;
	bad |= attr_f64(g, "worker_start_ms", r->worker_start_ms) < 0;
	bad |= attr_f64(g, "worker_open_ms", r->worker_open_ms) < 0;
	bad |= attr_i64(g, "signal", r->signal) < 0;
	bad |= attr_i64(g, "seed", (long long)r->seed) < 0;
	bad |= write_measure_attrs(g, r);
	bad |= write_profile_attrs(g, r);
	return bad;
}

/* Write one facts group named name under g. */
static int write_facts_group(hid_t g, const char *name, const struct gpu_facts *f)
{
	hid_t sub = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int bad;

	if (sub < 0)
		return 1;
	bad = write_facts(sub, f);
	H5Gclose(sub);
	return bad;
}

aisp_err h5out_put_variant(struct h5out *h, const struct variant_result *r,
			   aisp_error *err)
{
	hid_t gi, gv;
	int bad;

	if (!text_is_safe_name(r->instance) || !text_is_safe_name(r->variant))
		return aisp_fail(err, AISP_EINPUT, "%s: unsafe name %s/%s", h->path, r->instance,
				 r->variant);
	gi = instance_group(h, r);
	if (gi < 0)
		return aisp_fail(err, AISP_EIO, "%s: cannot create /targets/%s", h->path, r->instance);
	if (H5Lexists(gi, r->variant, H5P_DEFAULT) > 0)
		H5Ldelete(gi, r->variant, H5P_DEFAULT);
	gv = H5Gcreate2(gi, r->variant, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	bad = gv < 0;
	if (!bad) {
		bad |= write_samples(gv, r);
		bad |= write_variant_attrs(gv, r);
		bad |= write_facts_group(gv, "gpu_before", &r->before);
		bad |= write_facts_group(gv, "gpu_after", &r->after);
		H5Gclose(gv);
	}
	H5Gclose(gi);
	h->dirty = 1;
	if (bad)
		return aisp_fail(err, AISP_EIO, "%s: cannot write /targets/%s/%s", h->path,
				 r->instance, r->variant);
	return AISP_OK;
}

aisp_err h5out_write_variant(struct h5out *h, const struct variant_result *r,
			     aisp_error *err)
{
	aisp_err rc = h5out_put_variant(h, r, err);

	return rc ? rc : commit(h, err);
}

aisp_err h5out_commit(struct h5out *h, aisp_error *err)
{
	return h->dirty ? commit(h, err) : AISP_OK;
}

double h5out_commit_ms(const struct h5out *h)
{
	return h->commit_ms;
}

aisp_err h5out_close(struct h5out *h, const char *status, const char *end_utc,
		     aisp_error *err)
{
	aisp_err rc = AISP_OK;

	if (!h)
		return AISP_OK;
	if (attr_str(h->file, "status", status) < 0 || attr_str(h->file, "end_utc", end_utc) < 0)
		rc = aisp_fail(err, AISP_EIO, "%s: cannot write status", h->path);
	if (!rc)
		rc = commit(h, err);
	H5Fclose(h->file);
	free(h);
	return rc;
}

aisp_err h5out_put_profile(struct h5out *h, const struct variant_result *r,
			   aisp_error *err)
{
	char inst[AISP_NAME_MAX + 16], path[2 * AISP_NAME_MAX + 16];
	hid_t g;
	int bad;

	snprintf(inst, sizeof(inst), "/targets/%s", r->instance);
	snprintf(path, sizeof(path), "/targets/%s/%s", r->instance, r->variant);
	if (!text_is_safe_name(r->instance) || !text_is_safe_name(r->variant) ||
	    H5Lexists(h->file, inst, H5P_DEFAULT) <= 0 ||
	    H5Lexists(h->file, path, H5P_DEFAULT) <= 0 ||
	    (g = H5Gopen2(h->file, path, H5P_DEFAULT)) < 0)
		return aisp_fail(err, AISP_EINPUT, "%s: no %s to add a profile to", h->path, path);
	bad = write_profile_attrs(g, r);
	H5Gclose(g);
	h->dirty = 1;
	if (bad)
		return aisp_fail(err, AISP_EIO, "%s: cannot write the profile of %s", h->path, path);
	return AISP_OK;
}

void variant_result_unknown(struct variant_result *r)
{
	r->host_ms = r->warmup_spent_ms = NAN;
	r->warmup_clock_steady = -1;
	r->warmup_clock_start_mhz = r->warmup_clock_end_mhz = 0;
	r->sm_clock_start_mhz = r->sm_clock_end_mhz = 0;
	r->worker_cpu = -1;
	r->worker_cpu_pinned = r->cpu_migrated = 0;
	r->involuntary_switches = -1;
	r->measure_switches[0] = '\0';
	r->count_iterations = 0;
	r->device_ops = -1;
	r->device_ms = r->device_span_ms = r->count_event_ms = NAN;
	r->timer_events_ms = r->timer_span_ms = r->timer_kernels_ms = NAN;
	r->timer_iterations = 0;
	r->kernel_names[0] = '\0';
	text_copy(r->profile_status, sizeof(r->profile_status), "none");
	r->profile_message[0] = '\0';
	r->profile_kernel_ms = r->profile_mem_pct = r->profile_sm_pct = NAN;
	r->profile_kernels = -1;
}

void variant_result_free(struct variant_result *r)
{
	free(r->samples);
	r->samples = NULL;
	r->n_samples = 0;
}
