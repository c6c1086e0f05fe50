/*
 * run.h - `aisp bench run` and `aisp bench list-targets`: options, the
 * resolved job, the run directory, and the table printed at the end.
 */
#ifndef AISP_RUN_H
#define AISP_RUN_H

#include "job.h"
#include "sched.h"

enum run_backend { RUN_BACKEND_AUTO, RUN_BACKEND_HOST, RUN_BACKEND_CUDA };

/* Options of `aisp bench run`; unset numbers are -1 (NAN for reals). */
struct run_opts {
	const char *targets, *job_path, *out_dir, *resume_dir;
	int iterations, warmup, max_iterations, mode, gpu;
	double timeout_s, time_budget_s, min_sample_ms, warmup_ms;
	long long seed;
	enum run_backend backend;
	int profile;               /* 0 none, 1 minimal */
	int update_expectations;
	int quiet;                 /* this rank prints no errors (not rank 0) */
};

/* What `bench run --update-expectations` calls on rank 0 after a run:
 * write the expectations of run_dir to out_path (gather's writer, handed
 * in by the dispatcher: the runner knows nothing of analysis). */
typedef aisp_err (*run_expect_fn)(const char *run_dir, const char *out_path, aisp_error *err);

/* Entry of `aisp bench ...`; argv[0] is "bench". Returns the exit status. */
int bench_main(int argc, char **argv, run_expect_fn expect_fn);

/* Parse `bench run` options into o. AISP_EUSAGE with a message on bad input. */
aisp_err run_parse_opts(int argc, char **argv, struct run_opts *o, aisp_error *err);

/* Build the job of a run from o for backend: job file or --targets, the
 * --targets filter, option overrides, and each target's twin for backend. */
aisp_err run_resolve_job(const struct run_opts *o, enum aisp_backend_kind backend,
			 struct job *job, aisp_error *err);

/* The work items of job (instance x variant), with per-item time limits. */
aisp_err run_items(const struct job *job, enum aisp_backend_kind backend,
		   struct work_item **items, double **timeouts, size_t *n,
		   aisp_error *err);

/* Rank 0: print the table of the run (target, variant, ranks ok, median,
 * speedup vs the baseline where job says the variants are alternatives,
 * throughput in the target's unit, verification, and the check column: the
 * values a check measured and, for a row not ok, why). */
void run_print_summary(const struct sched *s, const struct job *job,
		       enum aisp_backend_kind backend);

/* v per second of unit (a target's work_unit) with an SI prefix, as text
 * ("22.6 GFLOP/s", "2.46 GB/s", "93.2k samples/s"), or "-". */
void run_rate_text(double v, const char *unit, char *buf, size_t n);

#endif /* AISP_RUN_H */
