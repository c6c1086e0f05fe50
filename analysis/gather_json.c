/* gather_json.c - the book-schema expectations of a fleet: one example per
 * target instance and hardware_key, plus aisp's fleet section. */
#include "gather.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"

/* A JSON number, or null when x is not finite. */
static json_t *gather_num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* obj[key] = v (v is stolen); 1 when that failed. */
static int gather_set(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) != 0 : 1;
}

/* The book's "<prefix>throughput.*" fields of variant v. */
static int gather_throughput(const struct fleet *f, const struct fleet_var *v,
			     const char *prefix, json_t *m)
{
	const char *unit = fleet_str(f, v->unit);
	double per_s = 1000.0 / v->median, work = v->work * per_s;
	int samples = !strcmp(unit, "samples"), tokens = !strcmp(unit, "tokens");
	int custom = unit[0] && !samples && !tokens && isfinite(work);
	char k[128];
	int bad = 0;

#define TP(name, val) (snprintf(k, sizeof(k), "%sthroughput." name, prefix), \
		       bad |= gather_set(m, k, (val)))
	TP("bytes_per_s", gather_num(v->bytes * per_s));
	TP("custom_unit_name", custom ? json_string(unit) : json_null());
	TP("custom_unit_per_s", custom ? gather_num(work) : json_null());
	TP("goodput", json_null());
	TP("latency_ms", gather_num(v->median));
	TP("requests_per_s", gather_num(per_s));
	TP("samples_per_s", samples ? gather_num(work) : json_null());
	TP("schemaVersion", json_string("1.0"));
	TP("tokens_per_s", tokens ? gather_num(work) : json_null());
#undef TP
	return bad;
}

/* The book's metrics of an instance: baseline, best optimized, speedup. */
static json_t *gather_metrics(const struct fleet *f, const struct fleet_inst *in)
{
	const struct fleet_var *b = &f->vars[in->baseline], *o;
	json_t *m = json_object();
	int bad = !m;

	bad |= gather_set(m, "baseline_time_ms", gather_num(b->median));
	bad |= gather_set(m, "baseline_p75_ms", gather_num(b->sample_p75));
	bad |= gather_set(m, "baseline_p90_ms", gather_num(b->sample_p90));
	bad |= gather_throughput(f, b, "baseline_", m);
	if (in->best != FLEET_NONE) {
		o = &f->vars[in->best];
		bad |= gather_set(m, "best_optimized_time_ms", gather_num(o->median));
		bad |= gather_set(m, "best_optimized_p75_ms", gather_num(o->sample_p75));
		bad |= gather_set(m, "best_optimized_p90_ms", gather_num(o->sample_p90));
		bad |= gather_set(m, "best_optimized_speedup", gather_num(in->best_speedup));
		bad |= gather_set(m, "best_speedup", gather_num(in->best_speedup));
		bad |= gather_throughput(f, o, "best_optimized_", m);
		bad |= gather_set(m, "is_regression", json_boolean(in->best_speedup < 1.0));
	}
	if (bad) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* The book's metadata: which optimization won and how much. */
static json_t *gather_metadata(const struct fleet *f, const struct fleet_inst *in)
{
	json_t *m = json_object();
	const struct fleet_var *o;
	int bad = !m;

	bad |= gather_set(m, "optimization_goal", json_string("speed"));
	if (in->best != FLEET_NONE) {
		o = &f->vars[in->best];
		bad |= gather_set(m, "best_optimization", json_string(fleet_str(f, o->var)));
		bad |= gather_set(m, "best_optimization_technique",
				  json_string(fleet_str(f, o->tech)));
		bad |= gather_set(m, "best_optimization_speedup", gather_num(in->best_speedup));
		bad |= gather_set(m, "best_optimization_time_ms", gather_num(o->median));
	}
	if (bad) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Runs that contributed rows to instance in, as a JSON list sorted by run
 * order; *latest gets the run with the greatest end time. */
static json_t *gather_runs(const struct fleet *f, const struct fleet_inst *in,
			   size_t *latest)
{
	json_t *list = json_array();
	size_t n = f->n_runs;
	char *used = calloc(n + 1, 1);

	*latest = FLEET_NONE;
	if (!used) {
		json_decref(list);
		return NULL;
	}
	for (size_t i = 0; i < f->n_rows; i++)
		if (f->rows[i].hk == in->hk && f->rows[i].inst == in->inst)
			used[f->rows[i].run] = 1;
	for (size_t r = 0; list && r < n; r++) {
		const struct fleet_run *run = &f->runs[r];
		json_t *o;

		if (!used[r])
			continue;
		if (*latest == FLEET_NONE || strcmp(fleet_str(f, run->end_utc),
						   fleet_str(f, f->runs[*latest].end_utc)) > 0)
			*latest = r;
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "run_id",
			      fleet_str(f, run->run_id), "git_commit", fleet_str(f, run->git_commit),
			      "dir", fleet_str(f, run->dir), "start_utc", fleet_str(f, run->start_utc),
			      "end_utc", fleet_str(f, run->end_utc), "rank_files",
			      (json_int_t)run->n_files, "world_size", (json_int_t)run->world_size);
		if (!o || json_array_append_new(list, o)) {
			json_decref(list);
			list = NULL;
		}
	}
	free(used);
	return list;
}

/* The book's provenance plus the list of runs merged. */
static json_t *gather_provenance(const struct fleet *f, const struct fleet_inst *in)
{
	const struct fleet_var *b = &f->vars[in->baseline];
	size_t latest;
	json_t *runs = gather_runs(f, in, &latest), *p;

	if (!runs || latest == FLEET_NONE) {
		json_decref(runs);
		return NULL;
	}
	p = json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:o}", "git_commit",
		      fleet_str(f, f->runs[latest].git_commit), "hardware_key", fleet_str(f, in->hk),
		      "iterations", (json_int_t)b->iterations, "warmup_iterations",
		      (json_int_t)b->warmup, "profile_name", "none", "timestamp",
		      fleet_str(f, f->runs[latest].end_utc), "runs", runs);
	return p;
}

/* What a host-launch-bound variant v is judged by: judged_by and its
 * device-time statistics (fleet.h) into o; 1 when that failed. */
static int gather_device(const struct fleet_var *v, json_t *o)
{
	const struct fleet_device *d = &v->dev;
	int bad = gather_set(o, "judged_by", json_string(v->host_launch ? "device_ms" : "median_ms"));

	if (!v->host_launch)
		return bad;
	bad |= gather_set(o, "device_gpus", json_integer(d->n_gpus));
	bad |= gather_set(o, "device_median_ms", gather_num(d->median));
	bad |= gather_set(o, "device_p10_ms", gather_num(d->p10));
	bad |= gather_set(o, "device_p90_ms", gather_num(d->p90));
	bad |= gather_set(o, "device_mad_ms", gather_num(d->mad));
	bad |= gather_set(o, "device_min_ms", gather_num(d->min));
	bad |= gather_set(o, "device_max_ms", gather_num(d->max));
	bad |= gather_set(o, "device_noise_run", gather_num(d->noise_run));
	bad |= gather_set(o, "device_noise_run_pairs", json_integer(d->noise_run_pairs));
	bad |= gather_set(o, "device_noise", gather_num(d->noise));
	bad |= gather_set(o, "device_detectable", gather_num(d->detectable));
	return bad;
}

/* aisp's fleet section: counts and the spread of every variant. */
static json_t *gather_fleet(const struct fleet *f, const struct fleet_inst *in)
{
	json_t *vars = json_object(), *fl;

	for (size_t i = in->var0; vars && i < in->var0 + in->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];
		json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:I,s:s}",
				      "role", fleet_str(f, v->role), "technique",
				      fleet_str(f, v->tech), "gpus", (int)v->n_gpus, "ok", v->n_ok,
				      "failed", v->n_failed, "nodes", v->n_nodes, "outliers",
				      v->n_outliers, "iterations", (json_int_t)v->iterations,
				      "work_unit", fleet_str(f, v->unit));
		int bad = !o;

		bad |= gather_set(o, "skipped", json_integer(v->n_skipped));
		bad |= gather_set(o, "median_ms", gather_num(v->median));
		bad |= gather_set(o, "p10_ms", gather_num(v->p10));
		bad |= gather_set(o, "p90_ms", gather_num(v->p90));
		bad |= gather_set(o, "mad_ms", gather_num(v->mad));
		bad |= gather_set(o, "min_ms", gather_num(v->min));
		bad |= gather_set(o, "max_ms", gather_num(v->max));
		bad |= gather_set(o, "sample_p75_ms", gather_num(v->sample_p75));
		bad |= gather_set(o, "sample_p90_ms", gather_num(v->sample_p90));
		bad |= gather_set(o, "speedup", gather_num(v->speedup));
		bad |= gather_set(o, "noise_within", gather_num(v->noise_within));
		bad |= gather_set(o, "noise_run", gather_num(v->noise_run));
		bad |= gather_set(o, "noise_run_pairs", json_integer(v->noise_run_pairs));
		bad |= gather_set(o, "noise", gather_num(v->noise));
		bad |= gather_set(o, "detectable", gather_num(v->detectable));
		bad |= gather_device(v, o);
		if (bad || gather_set(vars, fleet_str(f, v->var), o)) {
			json_decref(vars);
			return NULL;
		}
	}
	fl = json_pack("{s:i,s:i,s:f,s:f,s:o}", "gpus", in->n_gpus, "nodes", in->n_nodes,
		       "z_threshold", f->z_threshold, "min_delta", f->min_delta, "variants", vars);
	return fl;
}

/* Example key "<example>_<type>" of instance in. */
void gather_example_key(const struct fleet *f, const struct fleet_inst *in,
			char *key, size_t n)
{
	const char *type = fleet_str(f, in->backend);

	snprintf(key, n, "%s_%s", fleet_example_name(fleet_str(f, in->inst)),
		 type[0] ? type : "host");
}

/* Set example's generated fields from instance in, keeping its other fields. */
static aisp_err gather_example(const struct fleet *f, const struct fleet_inst *in,
			       json_t *ex, FILE *log, aisp_error *err)
{
	const char *type = fleet_str(f, in->backend);
	int bad = 0;

	bad |= gather_set(ex, "example", json_string(fleet_example_name(fleet_str(f, in->inst))));
	bad |= gather_set(ex, "type", json_string(type[0] ? type : "host"));
	bad |= gather_set(ex, "target", json_string(fleet_str(f, in->target)));
	bad |= gather_set(ex, "metrics", gather_metrics(f, in));
	bad |= gather_set(ex, "metadata", gather_metadata(f, in));
	bad |= gather_set(ex, "provenance", gather_provenance(f, in));
	bad |= gather_set(ex, "fleet", gather_fleet(f, in));
	if (bad)
		return aisp_fail(err, AISP_ENOMEM, "expectations: out of memory");
	return gather_tolerance(f, in, ex, log, err);
}

aisp_err gather_merge_examples(const struct fleet *f, uint32_t hk, json_t *root,
			       FILE *log, aisp_error *err)
{
	json_t *exs = json_object_get(root, "examples");
	char key[2 * AISP_NAME_MAX];
	aisp_err rc;

	for (size_t i = 0; i < f->n_insts; i++) {
		const struct fleet_inst *in = &f->insts[i];
		json_t *ex;

		if (in->hk != hk)
			continue;
		if (in->baseline == FLEET_NONE || f->vars[in->baseline].n_ok == 0) {
			if (log)
				fprintf(log, "gather: %s %s: no baseline variant with status ok: no expectation written\n",
					fleet_str(f, hk), fleet_str(f, in->inst));
			continue;
		}
		gather_example_key(f, in, key, sizeof(key));
		ex = json_object_get(exs, key);
		if (!ex) {
			ex = json_object();
			if (!ex || json_object_set_new(exs, key, ex))
				return aisp_fail(err, AISP_ENOMEM, "expectations: out of memory");
		}
		if ((rc = gather_example(f, in, ex, log, err)))
			return rc;
	}
	return AISP_OK;
}

aisp_err gather_write_json(const struct fleet *f, uint32_t hk, const char *path,
			   FILE *log, aisp_error *err)
{
	json_t *root = NULL;
	aisp_err rc;

	if (access(path, F_OK) == 0) {
		if ((rc = expect_load(path, &root, err))) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			return aisp_fail(err, rc, "%.900s (it exists: fix or remove it)", why);
		}
		if (strcmp(expect_str(root, "hardware_key"), fleet_str(f, hk))) {
			rc = aisp_fail(err, AISP_EINPUT, "%s: hardware_key: %s, expected %s", path,
				       expect_str(root, "hardware_key"), fleet_str(f, hk));
			goto out;
		}
	} else if (!(root = expect_new(fleet_str(f, hk)))) {
		return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
	}
	if ((rc = gather_merge_examples(f, hk, root, log, err)) ||
	    (rc = expect_validate(root, path, err)))
		goto out;
	rc = expect_save(root, path, err);
out:
	json_decref(root);
	return rc;
}
