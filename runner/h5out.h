/*
 * h5out.h - the per-rank HDF5 file, RUN_DIR/rank-NNNNN.h5.
 *
 * Layout (schema_version 1; readers: analysis/, h5py, h5dump):
 *   /  attributes (strings are variable-length UTF-8, numbers int64/float64):
 *      schema_version, tool, tool_version, git_commit, run_id, job_name,
 *      job_sha256, command_line, node (SLURMD_NODENAME or host name),
 *      hostname, rank, world_size, local_rank, local_size, backend,
 *      gpu_index, gpu_name, gpu_uuid, gpu_serial, driver, cuda_version,
 *      hardware_key, seed, start_utc, end_utc, status (running | complete |
 *      interrupted), test_knobs (every AISP_TEST_* variable in the rank's
 *      environment as "NAME=value", space separated and sorted; "" in a
 *      real run; a resumed file keeps the knobs of every attempt)
 *   /targets/<instance>/           attributes: target, and param.<name> per
 *                                   parameter (float64)
 *   /targets/<instance>/<variant>/  attributes: status (ok | verify_failed |
 *      crashed | timeout | error | skipped), message, role (baseline |
 *      optimized), technique, host_launch (1: the variant's time per
 *      iteration is bound by the host's launch path, AISP_VARIANT_HOST_LAUNCH:
 *      verdicts judge its device_ms, not median_ms; 0 otherwise, and on the
 *      host backend), iterations, warmup, n_samples,
 *      iterations_per_sample (each sample is the mean of that many
 *      back-to-back iterations), median_ms,
 *      mean_ms, stddev_ms, p10_ms, p75_ms, p90_ms, p99_ms, min_ms, max_ms,
 *      mad_ms, launches_per_iteration, kernels_per_iteration (-1: not
 *      counted), work_per_iteration, work_unit, throughput,
 *      throughput_unit ("<work_unit>/s"), bytes_per_iteration,
 *      flops_per_iteration, rel_error, tolerance, elapsed_s, signal, seed,
 *      worker_start_ms, worker_open_ms (0 unless a worker was started for it),
 *      check.<name> (float64) for each named value its verification
 *      measured (struct aisp_check_value: e.g. check.loss_first,
 *      check.err:W1)
 *      How it was measured (runner/measure.c; NAN, -1 or "" when unknown, e.g.
 *      on the host backend or for a variant that did not run):
 *        host_ms (median host time to enqueue one iteration during the timed
 *        samples: near median_ms means the host's launch path sets the pace),
 *        warmup_spent_ms, warmup_clock_steady (1: the SM clock held still,
 *        two reads 100 ms apart within 1%, when the samples began; 0: still
 *        moving at the cap; -1: not checked), warmup_clock_start_mhz,
 *        warmup_clock_end_mhz (NVML, as the warm-up began and at its last
 *        read; 0 unknown), sm_clock_start_mhz, sm_clock_end_mhz (NVML, read by the
 *        worker right before and after the timed samples, 0 unknown),
 *        worker_cpu, worker_cpu_pinned, cpu_migrated (the worker was on
 *        another CPU at the end of the samples), involuntary_switches (times
 *        the worker was preempted during the samples), measure_switches
 *        (AISP_MEASURE diagnostic switches in effect; "" in a normal run)
 *      The timer pass (after the samples: one batch of timer_iterations
 *      iterations, a sample's or more so that it lasts >= 20 ms, between the
 *      same CUDA events as a sample, CUPTI recording the device work only;
 *      never a timing source for median_ms), per iteration: timer_events_ms (our events), timer_span_ms (CUPTI: first
 *      start to last end of the batch's device work), timer_kernels_ms
 *        (CUPTI: summed durations of its kernels, memcpys and memsets)
 *      The counted pass (CUPTI, one untimed batch after the samples; never a
 *      timing source for median_ms): count_iterations, device_ops_per_iteration
 *        (kernels, memcpys and memsets that ran), device_ms (their summed
 *        GPU durations per iteration), device_span_ms (first start to last
 *        end on the GPU's clock, per iteration: an independent timer of the
 *        same region as count_event_ms), count_event_ms (CUDA events around
 *        that batch, per iteration), kernel_names ("name xN; ..." of what ran)
 *      --profile minimal (a pass of its own after every timed sample, in a
 *      worker under Nsight Compute; its numbers never enter samples_ms):
 *        profile_status (none | ok | partial | no_kernels | failed | skipped),
 *        profile_message (why, for anything but ok), profile_kernel_ms (sum
 *        of gpu__time_duration per profiled iteration), profile_kernels
 *        (kernels profiled per iteration), profile_mem_pct, profile_sm_pct
 *        (speed-of-light shares of peak, duration-weighted)
 *   /targets/<instance>/<variant>/samples_ms   float64[n], chunked; every
 *      timed iteration, raw, in order
 *   /targets/<instance>/<variant>/gpu_before, gpu_after   groups whose
 *      attributes are struct gpu_facts (sm_clock_mhz, temperature_c, ...)
 *
 * Kill safety: the file lives in memory (HDF5 core driver) and every commit
 * writes its whole image to rank-NNNNN.h5.tmp, fsyncs and renames it over
 * the rank file. A rank killed at any instant leaves the previous complete
 * file: at most the target in flight is lost.
 */
#ifndef AISP_H5OUT_H
#define AISP_H5OUT_H

#include <stddef.h>

#include "aisp.h"
#include "gpuinfo.h"
#include "stats.h"

#define H5OUT_SCHEMA_VERSION 1
#define VARIANT_NAMES_MAX 1024

/* Everything measured for one variant of one target instance. */
struct variant_result {
	char instance[AISP_NAME_MAX];
	char target[AISP_NAME_MAX];
	char variant[AISP_NAME_MAX];
	enum aisp_role role;
	int host_launch;           /* 1: the variant is AISP_VARIANT_HOST_LAUNCH */
	char technique[AISP_TEXT_MAX];
	char status[16];           /* ok | verify_failed | crashed | timeout | error | skipped */
	char message[512];
	int iterations, warmup;
	int per_sample;            /* back-to-back iterations in each sample (>= 1) */
	double *samples;           /* owned, n_samples values in ms */
	size_t n_samples;
	struct stats_summary stats;
	long launches_api, launches_kernels; /* per iteration, -1 if not counted */
	double work, bytes, flops; /* per iteration, NAN if unknown */
	char work_unit[32];
	double throughput;         /* work per second at the median, NAN if none */
	double rel_error, tolerance;
	size_t n_checks;           /* named values of the verification */
	struct aisp_check_value checks[AISP_CHECK_VALUES];
	double elapsed_s;          /* wall time the worker spent on this variant */
	double worker_start_ms;    /* spawn to "ready" of a worker started for this item, else 0 */
	double worker_open_ms;     /* of which its backend open (device context) took, else 0 */
	int signal;                /* signal that ended the worker, 0 if none */
	unsigned long long seed;
	struct aisp_params params;
	const char *const *param_names; /* n = params.n, borrowed from the target */
	struct gpu_facts before, after;
	/* How it was measured (see the layout above); variant_result_unknown
	 * sets all of these to "not known". */
	double host_ms, warmup_spent_ms;
	int warmup_clock_steady;
	unsigned warmup_clock_start_mhz, warmup_clock_end_mhz;
	unsigned sm_clock_start_mhz, sm_clock_end_mhz;
	int worker_cpu, worker_cpu_pinned, cpu_migrated;
	long involuntary_switches;
	char measure_switches[64];
	int count_iterations;
	long device_ops;           /* per iteration */
	double device_ms, device_span_ms, count_event_ms; /* per iteration */
	double timer_events_ms, timer_span_ms, timer_kernels_ms; /* per iteration */
	int timer_iterations;      /* the timer pass's batch, 0 when none ran */
	char kernel_names[VARIANT_NAMES_MAX];
	/* --profile minimal, filled by the profile pass (runner/profile_pass.c). */
	char profile_status[16];
	char profile_message[256];
	double profile_kernel_ms, profile_mem_pct, profile_sm_pct;
	long profile_kernels;
};

/* Root facts of a rank file. */
struct rank_info {
	char tool_version[32], git_commit[48], run_id[64];
	char job_name[AISP_NAME_MAX], job_sha256[72];
	char command_line[2048];
	char node[128], hostname[128];
	int rank, world_size, local_rank, local_size;
	char backend[8];
	struct gpu_facts gpu;
	char hardware_key[128];
	unsigned long long seed;
	char start_utc[32], end_utc[32];
	char status[16];           /* running | complete | interrupted */
	char test_knobs[512];      /* AISP_TEST_* in effect, "" if none */
};

struct h5out; /* opaque: the in-memory file and its path */

/* Create path (or, with resume, load the existing file at path) in memory and
 * write info as root attributes; commits once so the file exists at once. */
aisp_err h5out_open(const char *path, const struct rank_info *info, int resume,
		    struct h5out **out, aisp_error *err);

/* 1 if the file already holds instance/variant with status ok. */
int h5out_has_ok(const struct h5out *h, const char *instance, const char *variant);

/* Add (or replace) one variant's results and commit the file atomically. */
aisp_err h5out_write_variant(struct h5out *h, const struct variant_result *r,
			     aisp_error *err);

/* Add (or replace) one variant's results in memory only; h5out_commit puts
 * them on disk. A rank killed in between loses them. */
aisp_err h5out_put_variant(struct h5out *h, const struct variant_result *r,
			   aisp_error *err);

/* Commit the file atomically if it changed since the last commit. */
aisp_err h5out_commit(struct h5out *h, aisp_error *err);

/* Milliseconds the last commit took (the whole image, written and synced). */
double h5out_commit_ms(const struct h5out *h);

/* Set status and end_utc, commit, and free. h may be NULL. */
aisp_err h5out_close(struct h5out *h, const char *status, const char *end_utc,
		     aisp_error *err);

/* Set r's measuring context and profile fields to "not known" (NAN, -1,
 * "", profile_status "none"); other fields are left alone. */
void variant_result_unknown(struct variant_result *r);

/* Write the profile fields of r (profile_*) onto the already written
 * /targets/<instance>/<variant> in memory; h5out_commit puts them on disk.
 * AISP_EINPUT when that variant is not in the file. */
aisp_err h5out_put_profile(struct h5out *h, const struct variant_result *r,
			   aisp_error *err);

/* Free the result's samples. */
void variant_result_free(struct variant_result *r);

#endif /* AISP_H5OUT_H */
