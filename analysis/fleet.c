/* fleet.c - stream rank files into rows, then aggregate per GPU, variant and
 * target instance (see fleet.h for the statistics). */
#include "fleet.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rankfile.h"
#include "stats.h"

void fleet_init(struct fleet *f)
{
	memset(f, 0, sizeof(*f));
	strtab_init(&f->s);
	f->z_threshold = FLEET_Z_DEFAULT;
	f->min_delta = FLEET_MIN_DELTA_DEFAULT;
	f->file_timeout_s = FLEET_FILE_TIMEOUT_S;
}

const char *fleet_str(const struct fleet *f, uint32_t id)
{
	return strtab_get(&f->s, id);
}

const char *fleet_example_name(const char *instance)
{
	const char *c = strchr(instance, ':'), *b = strchr(instance, '[');

	return c && (!b || c < b) ? c + 1 : instance;
}

/* Make room for one more element of size sz in *arr; 0 on success. */
static int fleet_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, c * sz);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

/* Record path as skipped with the reason why. */
static aisp_err fleet_skip(struct fleet *f, const char *path, const char *why)
{
	struct fleet_skip *s;

	if (fleet_grow((void **)&f->skips, &f->cap_skips, f->n_skips, sizeof(*s)))
		return AISP_ENOMEM;
	s = &f->skips[f->n_skips];
	s->path = strdup(path);
	s->why = strdup(why);
	if (!s->path || !s->why) {
		free(s->path);
		free(s->why);
		return AISP_ENOMEM;
	}
	f->n_skips++;
	return AISP_OK;
}

/* Index of the run (dir, run_id), added when new. */
static size_t fleet_run_of(struct fleet *f, const char *dir,
			   const struct rankfile_root *r)
{
	uint32_t d = strtab_intern(&f->s, dir), id = strtab_intern(&f->s, r->run_id);
	struct fleet_run *run;

	for (size_t i = f->n_runs; i-- > 0;)
		if (f->runs[i].dir == d && f->runs[i].run_id == id)
			return i;
	if (fleet_grow((void **)&f->runs, &f->cap_runs, f->n_runs, sizeof(*run)))
		return FLEET_NONE;
	run = &f->runs[f->n_runs];
	memset(run, 0, sizeof(*run));
	run->dir = d;
	run->run_id = id;
	run->git_commit = strtab_intern(&f->s, r->git_commit);
	run->start_utc = strtab_intern(&f->s, r->start_utc);
	run->end_utc = strtab_intern(&f->s, r->end_utc);
	run->tool_version = strtab_intern(&f->s, r->tool_version);
	run->world_size = r->world_size;
	return f->n_runs++;
}

/* Context of a list read: the fleet, the run directory, where the rows of
 * the file being read start, and the first error that is not the file's. */
struct fleet_stage {
	struct fleet *f;
	const char *const *dirs;    /* run directory of each file */
	char *const *paths;
	size_t first_row;
	aisp_err rc;
};

/* rankfile callback: one row per variant. */
static aisp_err fleet_on_variant(void *ctx, const struct rankfile_root *r,
				 const struct rankfile_variant *v, aisp_error *err)
{
	struct fleet_stage *st = ctx;
	struct fleet *f = st->f;
	struct fleet_row *row;
	struct strtab *s = &f->s;

	if (fleet_grow((void **)&f->rows, &f->cap_rows, f->n_rows, sizeof(*row)))
		return aisp_fail(err, AISP_ENOMEM, "out of memory");
	row = &f->rows[f->n_rows];
	row->hk = strtab_intern(s, r->hardware_key);
	row->inst = strtab_intern(s, v->instance);
	row->target = strtab_intern(s, v->target);
	row->var = strtab_intern(s, v->variant);
	row->role = strtab_intern(s, v->role);
	row->tech = strtab_intern(s, v->technique);
	row->unit = strtab_intern(s, v->work_unit);
	row->status = strtab_intern(s, v->status);
	row->msg = strtab_intern(s, v->message);
	row->backend = strtab_intern(s, r->backend);
	row->gpu = strtab_intern(s, r->gpu_uuid);
	row->node = strtab_intern(s, r->node);
	row->host = strtab_intern(s, r->hostname);
	row->gpu_name = strtab_intern(s, r->gpu_name);
	row->run = 0; /* set when the file is complete */
	row->rank = (int32_t)r->rank;
	row->gpu_index = (int32_t)r->gpu_index;
	row->iterations = v->iterations;
	row->warmup = v->warmup;
	row->n_samples = (uint32_t)v->n_samples;
	row->median = v->median_ms;
	row->p10 = v->p10_ms;
	row->p75 = v->p75_ms;
	row->p90 = v->p90_ms;
	row->mad = v->mad_ms;
	row->host_launch = v->host_launch;
	row->device = v->device_ms;
	row->work = v->work;
	row->bytes = v->bytes;
	row->before = v->before;
	row->after = v->after;
	if (s->n == 0 || row->hk == UINT32_MAX || row->inst == UINT32_MAX ||
	    row->target == UINT32_MAX || row->var == UINT32_MAX || row->role == UINT32_MAX ||
	    row->tech == UINT32_MAX || row->unit == UINT32_MAX || row->status == UINT32_MAX ||
	    row->msg == UINT32_MAX || row->backend == UINT32_MAX || row->gpu == UINT32_MAX ||
	    row->node == UINT32_MAX || row->host == UINT32_MAX || row->gpu_name == UINT32_MAX)
		return aisp_fail(err, AISP_ENOMEM, "out of memory");
	f->n_rows++;
	return AISP_OK;
}

/* Record the file read (its rows' run, the rank -> GPU map entry). */
static aisp_err fleet_commit_file(struct fleet_stage *st, const struct rankfile_root *r,
				  const char *dir)
{
	struct fleet *f = st->f;
	struct fleet_file *ff;
	size_t run = fleet_run_of(f, dir, r);

	if (run == FLEET_NONE ||
	    fleet_grow((void **)&f->files, &f->cap_files, f->n_files, sizeof(*ff)))
		return AISP_ENOMEM;
	for (size_t i = st->first_row; i < f->n_rows; i++)
		f->rows[i].run = (uint32_t)run;
	f->runs[run].n_files++;
	if (strcmp(r->status, "complete"))
		f->runs[run].n_unfinished++;
	ff = &f->files[f->n_files++];
	ff->run = (uint32_t)run;
	ff->node = strtab_intern(&f->s, r->node);
	ff->host = strtab_intern(&f->s, r->hostname);
	ff->gpu = strtab_intern(&f->s, r->gpu_uuid);
	ff->gpu_name = strtab_intern(&f->s, r->gpu_name);
	ff->hk = strtab_intern(&f->s, r->hardware_key);
	ff->status = strtab_intern(&f->s, r->status);
	ff->knobs = strtab_intern(&f->s, r->test_knobs);
	ff->rank = (int32_t)r->rank;
	ff->gpu_index = (int32_t)r->gpu_index;
	return ff->status == UINT32_MAX || ff->knobs == UINT32_MAX ? AISP_ENOMEM : AISP_OK;
}

/* rankfile_read_many callback: keep a good file, name and drop a bad one. */
static void fleet_on_file(void *ctx, size_t index, const struct rankfile_root *r,
			  aisp_err rc, const aisp_error *e)
{
	struct fleet_stage *st = ctx;

	if (st->rc != AISP_OK)
		return;
	if (rc == AISP_OK)
		st->rc = fleet_commit_file(st, r, st->dirs[index]);
	else
		st->rc = fleet_skip(st->f, st->paths[index], e->msg);
	if (rc != AISP_OK || st->rc != AISP_OK)
		st->f->n_rows = st->first_row;
	st->first_row = st->f->n_rows;
}

/* Read paths[0..n) (file i of run directory dirs[i]) into f. */
static aisp_err fleet_add_paths(struct fleet *f, const char *const *dirs, char *const *paths,
				size_t n, aisp_error *err)
{
	struct fleet_stage st = {f, dirs, paths, f->n_rows, AISP_OK};
	aisp_err rc;

	rc = rankfile_read_many(paths, n, fleet_on_variant, fleet_on_file, &st,
				f->unguarded ? 0.0 : f->file_timeout_s, err);
	if (rc == AISP_OK && st.rc != AISP_OK)
		rc = aisp_fail(err, st.rc, "out of memory");
	return rc;
}

aisp_err fleet_add_result(struct fleet *f, const char *dir, const struct rankfile_root *root,
			  const struct rankfile_variant *v, size_t n, aisp_error *err)
{
	struct fleet_stage st = {f, &dir, NULL, f->n_rows, AISP_OK};
	aisp_err rc = AISP_OK;

	for (size_t i = 0; i < n && rc == AISP_OK; i++)
		rc = fleet_on_variant(&st, root, &v[i], err);
	if (rc == AISP_OK && fleet_commit_file(&st, root, dir) != AISP_OK)
		rc = aisp_fail(err, AISP_ENOMEM, "%s: out of memory", dir);
	if (rc != AISP_OK)
		f->n_rows = st.first_row;
	return rc;
}

aisp_err fleet_add_file(struct fleet *f, const char *dir, const char *path,
			aisp_error *err)
{
	char *paths[1] = {(char *)path};

	return fleet_add_paths(f, &dir, paths, 1, err);
}

/* qsort order of file paths. */
static int fleet_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append dir's rank-*.h5 files (sorted) to l; an empty dir is recorded. */
static aisp_err fleet_list_dir(struct fleet *f, const char *dir, struct fleet_list *l,
			       aisp_error *err)
{
	char path[4096];
	size_t first = l->n;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return aisp_fail(err, AISP_EINPUT, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (!rankfile_is_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (fleet_grow((void **)&l->paths, &l->cap_paths, l->n, sizeof(*l->paths)) ||
		    fleet_grow((void **)&l->dirs, &l->cap_dirs, l->n, sizeof(*l->dirs)) ||
		    !(l->paths[l->n] = strdup(path))) {
			closedir(d);
			return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", dir);
		}
		l->dirs[l->n++] = dir;
	}
	closedir(d);
	if (l->n > first) {
		qsort(l->paths + first, l->n - first, sizeof(*l->paths), fleet_cmp_name);
		return AISP_OK;
	}
	f->n_dirs_empty++;
	snprintf(path, sizeof(path), "%s: no rank-*.h5 files", dir);
	return fleet_skip(f, dir, path) ? aisp_fail(err, AISP_ENOMEM, "out of memory") : AISP_OK;
}

aisp_err fleet_list_dirs(struct fleet *f, char *const *dirs, size_t n, struct fleet_list *l,
			 aisp_error *err)
{
	aisp_err rc = AISP_OK;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n && rc == AISP_OK; i++)
		rc = fleet_list_dir(f, dirs[i], l, err);
	return rc;
}

void fleet_list_free(struct fleet_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	free(l->dirs);
	memset(l, 0, sizeof(*l));
}

aisp_err fleet_add_dirs(struct fleet *f, char *const *dirs, size_t n, aisp_error *err)
{
	struct fleet_list l;
	aisp_err rc = fleet_list_dirs(f, dirs, n, &l, err);

	if (rc == AISP_OK && l.n)
		rc = fleet_add_paths(f, l.dirs, l.paths, l.n, err);
	fleet_list_free(&l);
	return rc;
}

aisp_err fleet_add_bad(struct fleet *f, const char *path, const char *why)
{
	return fleet_skip(f, path, why);
}

int fleet_has_test_knobs(const struct fleet *f)
{
	for (size_t i = 0; i < f->n_files; i++)
		if (fleet_str(f, f->files[i].knobs)[0])
			return 1;
	return 0;
}

double fleet_normal_upper(double p)
{
	double z = 0.0;

	if (!(p > 0.0 && p < 0.5))
		return NAN;
	/* Newton on Q(z) = erfc(z / sqrt 2) / 2 = p with Q'(z) = -phi(z). Q
	 * falls and is convex for z >= 0, so from z = 0 (Q = 1/2 > p) every
	 * step stays short of the root: the steps only shrink, no overshoot. */
	for (int i = 0; i < 100; i++) {
		double step = (0.5 * erfc(z / M_SQRT2) - p) / (exp(-0.5 * z * z) / sqrt(2.0 * M_PI));

		z += step;
		if (step <= 1e-15 * z)
			break;
	}
	return z;
}

double fleet_detectable(double noise, size_t n_variants)
{
	double v = n_variants > 1 ? (double)n_variants : 1.0;

	return fleet_normal_upper(0.001 / v) * M_SQRT2 * noise;
}

double fleet_judged_noise_run(const struct fleet_var *v)
{
	return v->host_launch ? v->dev.noise_run : v->noise_run;
}

double fleet_judged_detectable(const struct fleet_var *v)
{
	return v->host_launch ? v->dev.detectable : v->detectable;
}

double fleet_noise_tolerance(double detectable, double floor)
{
	double t = detectable > floor ? detectable : floor;

	return isfinite(t) ? ceil(t * 1000.0 - 1e-9) / 1000.0 : NAN;
}

int fleet_incomplete(const struct fleet *f)
{
	if (f->n_skips || f->n_dirs_empty)
		return 1;
	for (size_t i = 0; i < f->n_runs; i++)
		if (f->runs[i].n_unfinished ||
		    f->runs[i].n_files < f->runs[i].world_size)
			return 1;
	return 0;
}

void fleet_free(struct fleet *f)
{
	for (size_t i = 0; i < f->n_skips; i++) {
		free(f->skips[i].path);
		free(f->skips[i].why);
	}
	free(f->skips);
	free(f->rows);
	free(f->files);
	free(f->runs);
	free(f->gpus);
	free(f->vars);
	free(f->insts);
	strtab_free(&f->s);
	memset(f, 0, sizeof(*f));
}
