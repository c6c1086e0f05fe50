/*
 * profile_ncu.h - `--profile minimal`: run a worker under Nsight Compute
 * (speed-of-light section per kernel, clocks left alone) and read back the
 * achieved share of peak memory bandwidth and compute. Independent of the
 * runner: the caller prepends the argv prefix to the worker's own argv.
 */
#ifndef AISP_PROFILE_NCU_H
#define AISP_PROFILE_NCU_H

#include <stddef.h>

#include "aisp.h"

/* Entries profile_ncu_argv may fill (the caller's argv array needs more
 * room for the worker's own arguments and the NULL). */
#define PROFILE_NCU_ARGV_MAX 16

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
 * --clock-control none, every process, report to report_base.ncu-rep
 * (overwritten). Fills argv[0..*n), each entry malloc'd (free them with
 * profile_ncu_argv_free); max is argv's room. Every kernel launched is
 * replayed for its counters, so profiled runs should be short. */
aisp_err profile_ncu_argv(const char *report_base, char **argv, size_t max, size_t *n,
			  aisp_error *err);

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

#endif /* AISP_PROFILE_NCU_H */
