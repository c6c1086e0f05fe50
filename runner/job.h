/*
 * job.h - job files (YAML, read with libyaml) and the resolved job a run
 * executes. A job lists target instances: a registry target with its
 * parameters, the variants to run, and per-target limits. A "sweep" in a
 * job file expands into one instance per combination of values.
 *
 * Every error names file:line:column and the field.
 */
#ifndef AISP_JOB_H
#define AISP_JOB_H

#include <stdio.h>

#include "aisp.h"

enum job_mode { JOB_MODE_EVERY = 0, JOB_MODE_SPREAD = 1 };

#define JOB_MAX_VARIANTS 16

struct job_target {
	char target[AISP_NAME_MAX];   /* registry name, "ch01:gemm" */
	char instance[AISP_NAME_MAX]; /* target, or "ch01:gemm[m=64,k=128]" in a sweep */
	struct aisp_params params;    /* complete and validated */
	unsigned long long set_mask;  /* bit i: params.v[i] was given in the file
				       * (others are the host twin's defaults) */
	size_t n_variants;            /* 0: all variants of the target */
	char variants[JOB_MAX_VARIANTS][AISP_NAME_MAX];
	double timeout_s;             /* worker time limit for one variant */
	double tol_lower, tol_upper;  /* compare tolerance; NAN: the default */
	int alternatives;             /* 1 ("alternatives: true"): the variants are
				       * alternatives of one workload (same inputs,
				       * same result), so a speedup over the baseline
				       * means something; 0: separate measurements */
	int line;                     /* line in the job file, 0 if none */
};

struct job {
	char path[1024];              /* file it came from, "" if built from flags */
	char name[AISP_NAME_MAX];
	int iterations;               /* minimum timed iterations per variant (>= 1) */
	int warmup;                   /* warm-up iterations (>= 0) */
	double warmup_ms;             /* ... and warm up at least this long (clocks
				       * of an idle GPU ramp up first) */
	int max_iterations;           /* adaptive stop never goes past this */
	double time_budget_s;         /* adaptive stop: time budget per variant */
	double ci_target;             /* adaptive stop: relative CI of the median (0.01) */
	double min_sample_ms;         /* time back-to-back iterations until a sample
				       * lasts this long (0: one iteration a sample) */
	double timeout_s;             /* default worker limit per variant */
	enum job_mode mode;
	unsigned long long seed;
	size_t n_targets;
	struct job_target *targets;   /* owned */
};

/* Defaults of a job with no targets: 20 iterations, 5 warm-up, every, seed 42. */
void job_init(struct job *job);

/* Read a job file; on error *job is left empty and err says file:line:col: field. */
aisp_err job_load(const char *path, struct job *job, aisp_error *err);

/* Same from a buffer; name is used in messages. */
aisp_err job_load_buffer(const char *text, size_t len, const char *name,
			 struct job *job, aisp_error *err);

/* Append an instance of target with its default parameters and all variants. */
aisp_err job_add_target(struct job *job, const struct aisp_target *t,
			aisp_error *err);

/* Write the resolved job as YAML that job_load reads back to the same job. */
aisp_err job_write_yaml(const struct job *job, FILE *f, aisp_error *err);

/* Free the targets; the job is empty afterwards. */
void job_free(struct job *job);

const char *job_mode_name(enum job_mode m);

#endif /* AISP_JOB_H */
