/* gather_tol.c - the tolerances a baseline stores: each run's resolved job
 * (RUN_DIR/job.yaml) gives its targets' tolerances; without one, the noise
 * measured or the default (rules in analysis/README.md, "Tolerance"). */
#include "gather.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"
#include "job.h"

/* Job target t's tolerance (from dir/job.yaml) onto every instance of f of
 * that name (on any hardware key); a different earlier value is noted. */
static void gather_tol_apply(struct fleet *f, const struct job_target *t, const char *dir,
			     FILE *log)
{
	for (size_t i = 0; i < f->n_insts; i++) {
		struct fleet_inst *in = &f->insts[i];
		double lo = fabs(t->tol_lower), hi = fabs(t->tol_upper);

		if (strcmp(fleet_str(f, in->inst), t->instance))
			continue;
		if (log && ((!isnan(in->job_lower) && !isnan(lo) && lo != in->job_lower) ||
			    (!isnan(in->job_upper) && !isnan(hi) && hi != in->job_upper)))
			fprintf(log, "gather: %s: the runs' jobs set different tolerances for %s; the latest run's (%s/job.yaml) is kept\n",
				fleet_str(f, in->hk), t->instance, dir);
		if (!isnan(lo))
			in->job_lower = lo;
		if (!isnan(hi))
			in->job_upper = hi;
	}
}

/* qsort_r order of run indices by end time (then reading order). */
static int gather_cmp_end(const void *a, const void *b, void *arg)
{
	const struct fleet *f = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(fleet_str(f, f->runs[x].end_utc), fleet_str(f, f->runs[y].end_utc));

	return c ? c : (x > y) - (x < y);
}

int gather_job_tolerances(struct fleet *f, FILE *log)
{
	size_t *order = malloc((f->n_runs + 1) * sizeof(*order));
	int bad = 0;

	if (!order) {
		if (log)
			fprintf(log, "gather: out of memory: the runs' job files are not read\n");
		return 1;
	}
	for (size_t i = 0; i < f->n_runs; i++)
		order[i] = i;
	qsort_r(order, f->n_runs, sizeof(*order), gather_cmp_end, f);
	for (size_t k = 0; k < f->n_runs; k++) {
		const char *dir = fleet_str(f, f->runs[order[k]].dir);
		char path[4200];
		aisp_error err = {0};
		struct job job;

		if (k > 0 && f->runs[order[k]].dir == f->runs[order[k - 1]].dir)
			continue;
		snprintf(path, sizeof(path), "%s/job.yaml", dir);
		if (access(path, F_OK) != 0) {
			if (log)
				fprintf(log, "gather: %s: no job.yaml: its targets' tolerances come from the noise or the default\n",
					dir);
			continue;
		}
		job_init(&job);
		if (job_load(path, &job, &err) != AISP_OK) {
			bad++;
			if (log)
				fprintf(log, "gather: %s (its tolerances are not used)\n", err.msg);
			continue;
		}
		for (size_t t = 0; t < job.n_targets; t++)
			gather_tol_apply(f, &job.targets[t], dir, log);
		job_free(&job);
	}
	free(order);
	return bad;
}

/* obj[key] = x (a real), 1 when that failed. */
static int gather_tol_set(json_t *obj, const char *key, double x)
{
	return json_object_set_new(obj, key, json_real(x)) != 0;
}

/* The tolerance of instance in from its variants' noise (of what each is
 * judged by: a host-launch-bound variant's device time); NAN when no
 * variant's run-to-run noise was measured (then it says nothing). */
static double gather_tol_noise(const struct fleet *f, const struct fleet_inst *in)
{
	double t = NAN;
	int known = 0;

	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];
		double x = fleet_noise_tolerance(fleet_judged_detectable(v), f->min_delta);

		known |= isfinite(fleet_judged_noise_run(v));
		if (v->n_ok > 0 && (isnan(t) || x > t))
			t = x;
	}
	return known ? t : NAN;
}

aisp_err gather_tolerance(const struct fleet *f, const struct fleet_inst *in, json_t *ex,
			  FILE *log, aisp_error *err)
{
	double hand_lo, hand_hi, noise = gather_tol_noise(f, in), lo, hi;
	const char *src;
	int has = expect_tolerance(ex, &hand_lo, &hand_hi, &src), hand, bad = 0;
	json_t *t;

	hand = has && !strcmp(src, "hand");
	if (!hand)
		hand_lo = hand_hi = NAN;
	lo = !isnan(in->job_lower) ? in->job_lower : !isnan(hand_lo) ? hand_lo :
	     !isnan(noise) ? noise : EXPECT_TOL_DEFAULT;
	hi = !isnan(in->job_upper) ? in->job_upper : !isnan(hand_hi) ? hand_hi :
	     !isnan(noise) ? noise : EXPECT_TOL_DEFAULT;
	src = !isnan(in->job_lower) || !isnan(in->job_upper) ? "job" : hand ? "hand" :
	      !isnan(noise) ? "noise" : "default";
	if (hand && !strcmp(src, "hand"))
		return AISP_OK; /* a person's tolerance, kept as it is (no source: "hand") */
	if (hand && log && strcmp(src, "hand"))
		fprintf(log, "gather: %s %s: the job's tolerance (lower %g, upper %g) replaces the one set by hand (lower %g, upper %g)\n",
			fleet_str(f, in->hk), fleet_str(f, in->inst), lo, hi, hand_lo, hand_hi);
	t = json_object();
	bad = !t || gather_tol_set(t, "lower", lo) || gather_tol_set(t, "upper", hi) ||
	      json_object_set_new(t, "source", json_string(src)) != 0;
	if (bad || json_object_set_new(ex, "tolerance", t) != 0) {
		if (bad)
			json_decref(t);
		return aisp_fail(err, AISP_ENOMEM, "expectations: out of memory");
	}
	return AISP_OK;
}
