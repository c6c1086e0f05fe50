/*
 * profile_ncu.h - `--profile minimal`: run a worker under Nsight Compute
 * (speed-of-light section per kernel, clocks and caches left alone, only
 * kernels inside the NVTX range MEASURE_PROFILE_RANGE) and read back the
 * achieved share of peak memory bandwidth and compute, the kernels' summed
 * gpu__time_duration, and ncu's own error lines. Independent of the runner:
 * the caller (profile_pass.c) prepends the argv prefix to the worker's argv.
 */
#ifndef AISP_PROFILE_NCU_H
#define AISP_PROFILE_NCU_H

#include <stddef.h>

#include "aisp.h"

/* Entries profile_ncu_argv may fill (the caller's argv array needs more
 * room for the worker's own arguments and the NULL). */
#define PROFILE_NCU_ARGV_MAX 24

/* What a report says: duration-weighted shares of peak, and the kernels. */
struct ncu_summary {
	double mem_pct, sm_pct;  /* NAN when no row had both */
	double time_ms;          /* sum of gpu__time_duration, NAN without that column */
	long kernels;            /* kernel rows with numbers */
};

/* Find ncu: $AISP_NCU if set, else the first `ncu` on path_env (a $PATH-style
 * list), else the newest match of opt_glob (a glob such as
 * "/opt/nvidia/nsight-compute/<any>/ncu"). Either may be NULL.
 * AISP_EINPUT "not installed" when there is none. */
aisp_err profile_ncu_find_in(const char *path_env, const char *opt_glob, char *out,
			     size_t n, aisp_error *err);

/* profile_ncu_find_in with $PATH plus $CUDA_HOME/bin (default /usr/local/cuda)
 * and /opt/nvidia/nsight-compute/<any>/ncu. */
aisp_err profile_ncu_find(char *out, size_t n, aisp_error *err);

/* The argv prefix that runs a program under ncu: SpeedOfLight section,
 * --clock-control none, --cache-control none, every process, only kernels
 * inside the push/pop NVTX range "aisp_profile" (AISP_NCU_FILTER=none: all
 * kernels), report to report_base.ncu-rep (overwritten), ncu's own messages
 * to log_path. Fills argv[0..*n), each entry malloc'd (free them with
 * profile_ncu_argv_free); max is argv's room. Every kernel profiled is
 * replayed for its counters, so profiled passes should be short. */
aisp_err profile_ncu_argv(const char *report_base, const char *log_path, char **argv,
			  size_t max, size_t *n, aisp_error *err);

/* Free the n entries profile_ncu_argv made. */
void profile_ncu_argv_free(char **argv, size_t n);

/* Achieved % of peak memory throughput and of SM (compute) throughput from
 * an .ncu-rep, through `ncu --import report --csv --page raw`: the mean over
 * the report's kernels weighted by their durations. */
aisp_err profile_ncu_parse(const char *report, double *mem_pct, double *sm_pct,
			   aisp_error *err);

/* The same from the text of `ncu --csv --page raw` output. */
aisp_err profile_ncu_parse_csv(const char *csv, double *mem_pct, double *sm_pct,
			       aisp_error *err);

/* The whole summary of an .ncu-rep (through `ncu --import`), or of CSV text. */
aisp_err profile_ncu_summary(const char *report, struct ncu_summary *out, aisp_error *err);
aisp_err profile_ncu_summary_csv(const char *csv, struct ncu_summary *out, aisp_error *err);

/* The first "==ERROR==" line of an ncu log file (else its first "==WARNING=="
 * line), without the prefix and line break, into out; 1 when one was found,
 * 0 when none (out ""), -1 when the log cannot be read. */
int profile_ncu_log_error(const char *log_path, char *out, size_t n);

#endif /* AISP_PROFILE_NCU_H */
