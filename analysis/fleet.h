/*
 * fleet.h - the fleet model shared by gather, compare and report: rank files
 * of any number of run directories are streamed in (one variant at a time,
 * samples reduced to a few quantiles at once), then aggregated per
 * hardware_key, target instance, variant and GPU.
 *
 * Memory: one small row per rank file and variant (no samples), so it grows
 * with GPUs x variants, never with samples.
 *
 * Per-GPU median: the median over that GPU's runs of each run's sample
 * median (a GPU measured once: its sample median). Fleet median, p10, p90
 * and MAD are taken over the per-GPU medians of GPUs with status ok (numpy
 * "linear" quantiles, core/stats.h). z = (gpu - fleet median) /
 * (1.4826 MAD); a GPU is an outlier when z > z_threshold and it is slower
 * than the fleet median by more than min_delta (a fraction), so that 1%
 * noise on a very quiet fleet does not drain nodes.
 *
 * Noise of a variant (relative spreads; analysis/README.md, "Noise"):
 *   noise_within  median over (GPU, run) results with status ok of
 *                 1.4826 MAD(samples) / median(samples);
 *   noise_run     for GPUs measured in k >= 2 runs: 1.4826 x the median over
 *                 those results of |ln(m_run / m_gpu)| sqrt(k / (k - 1))
 *                 (m_gpu: the GPU's median over its runs); NAN when no GPU
 *                 was measured twice. noise_run_pairs = sum of (k - 1);
 *   noise         max(noise_run, 1.2533 noise_within / sqrt(n), 0.001), n the
 *                 median number of samples: the spread of one GPU's median
 *                 from run to run, never zero;
 *   detectable    z(1 - 0.001/V) sqrt(2) noise, V the instance's variants
 *                 with a result (each is judged, and any one over drains):
 *                 the slowdown that passes a one-sided false-alarm
 *                 threshold of 0.1%/V on the difference of two medians as
 *                 noisy as that, so a healthy GPU is drained by a target at
 *                 most once in 1000 (V = 1: 4.37 noise; V = 4: 4.93 noise).
 *
 * Host-launch-bound variants (host_launch 1 in any of their rank files:
 * their median measures the host's launch path as much as the GPU) are
 * judged by their CUPTI device time instead (struct fleet_device): per GPU
 * the median over its ok runs of device_ms, then fleet median, p10, p90,
 * MAD, z and the outlier rule over the GPUs that have one, and
 *   dev.noise_run  the formula of noise_run on the runs' device_ms;
 *   dev.noise      max(dev.noise_run, 0.001): device_ms is one number per
 *                  run (no samples, so no within-run term); without a GPU
 *                  gathered twice it is the floor, a lower bound;
 *   dev.detectable z(1 - 0.001/V) sqrt(2) dev.noise, V as above.
 * The median and its statistics are kept for such a variant (the book's
 * metrics stay the medians); fleet_gpu.z and .outlier are the device's.
 */
#ifndef AISP_FLEET_H
#define AISP_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "aisp.h"
#include "rankfile.h"
#include "strtab.h"

#define FLEET_Z_DEFAULT 3.5
#define FLEET_MIN_DELTA_DEFAULT 0.02
#define FLEET_NONE ((size_t)-1)
#define FLEET_FILE_TIMEOUT_S 30.0
#define FLEET_NOISE_FLOOR 0.001          /* no variant is quieter than 0.1% */
#define FLEET_Z_FALSE_DRAIN 3.0902323061678132 /* one-sided normal 0.1% point */

/* One variant of one rank file. Strings are strtab ids. */
struct fleet_row {
	uint32_t hk, inst, target, var, role, tech, unit, status, msg, backend;
	uint32_t gpu, node, host, gpu_name, run;      /* run: index in runs */
	int32_t rank, gpu_index;
	long long iterations, warmup;
	uint32_t n_samples;
	int host_launch;                              /* rankfile_variant's */
	double median, p10, p75, p90, mad, work, bytes; /* mad: of the samples */
	double device;                                /* device_ms, NAN: none */
	struct rankfile_facts before, after;
};

/* One rank file that was read (for the rank -> host -> GPU map). */
struct fleet_file {
	uint32_t run, node, host, gpu, gpu_name, hk, status;
	uint32_t knobs;             /* test knobs in effect, "" when none */
	int32_t rank, gpu_index;
};

/* One run: a run_id in a directory. */
struct fleet_run {
	uint32_t dir, run_id, git_commit, start_utc, end_utc, tool_version;
	long long world_size;
	int n_files;         /* rank files read */
	int n_unfinished;    /* rank files whose status is not complete */
};

/* A file that was named and skipped. */
struct fleet_skip {
	char *path, *why;
};

/* One GPU's result for one variant, its runs merged. */
struct fleet_gpu {
	uint32_t gpu, node, host, gpu_name, status, msg, run;
	int32_t rank, gpu_index;
	int n_runs;                 /* runs with status ok */
	double median, p10, p75, p90;
	double device;              /* median over its ok runs of device_ms, NAN: none */
	double z;                   /* of what the variant is judged by */
	int outlier;
	struct rankfile_facts before, after; /* of its latest run */
};

/* A variant's device time across GPUs (see above); NAN and 0 when none. */
struct fleet_device {
	int n_gpus;                 /* GPUs with status ok and a device time */
	double median, p10, p90, mad, min, max;
	double noise_run, noise, detectable;
	int noise_run_pairs;
};

/* One variant of one target instance on one hardware_key, across GPUs. */
struct fleet_var {
	uint32_t hk, inst, target, var, role, tech, unit, backend;
	size_t gpu0, n_gpus;        /* its GPUs: gpus[gpu0 .. gpu0 + n_gpus) */
	int n_ok, n_failed, n_skipped, n_nodes, n_outliers; /* skipped: not applicable */
	double median, p10, p90, mad, min, max;   /* across per-GPU medians */
	double sample_p75, sample_p90;            /* median of per-GPU p75, p90 */
	double work, bytes;
	long long iterations, warmup;
	double speedup;             /* baseline median / this median, NAN if none */
	double noise_within, noise_run, noise, detectable; /* see above */
	int noise_run_pairs;
	int host_launch;            /* 1: judged by dev, not by the median */
	struct fleet_device dev;
};

/* One target instance on one hardware_key. */
struct fleet_inst {
	uint32_t hk, inst, target, backend;
	size_t var0, n_vars;        /* vars[var0 .. var0 + n_vars) */
	size_t baseline, best;      /* index in vars, FLEET_NONE if none */
	int n_gpus, n_nodes;
	double best_speedup;
	double job_lower, job_upper; /* tolerance the runs' job file set, NAN if none */
};

struct fleet {
	struct strtab s;
	double z_threshold, min_delta;
	double file_timeout_s;      /* limit on reading one file (guarded read) */
	int unguarded;              /* 1: read files in this process (faster) */
	struct fleet_row *rows;
	size_t n_rows, cap_rows;
	struct fleet_file *files;
	size_t n_files, cap_files;
	struct fleet_run *runs;
	size_t n_runs, cap_runs;
	struct fleet_skip *skips;
	size_t n_skips, cap_skips;
	struct fleet_gpu *gpus;
	size_t n_gpus;
	struct fleet_var *vars;
	size_t n_vars;
	struct fleet_inst *insts;
	size_t n_insts;
	int n_dirs_empty;           /* run directories without rank files */
};

/* An empty fleet with the default thresholds. */
void fleet_init(struct fleet *f);

/* Read every rank-*.h5 of the run directories dirs[0..n) (by name within a
 * directory). Bad files are recorded in skips and reading goes on; only a
 * directory that cannot be listed fails (before anything is read). */
aisp_err fleet_add_dirs(struct fleet *f, char *const *dirs, size_t n, aisp_error *err);

/* The rank files of some run directories, in reading order. */
struct fleet_list {
	char **paths;
	const char **dirs;          /* run directory of each path (borrowed) */
	size_t n, cap_paths, cap_dirs;
};

/* List the rank files of dirs[0..n) into *l (empty directories are
 * recorded in f's skips). */
aisp_err fleet_list_dirs(struct fleet *f, char *const *dirs, size_t n,
			 struct fleet_list *l, aisp_error *err);

void fleet_list_free(struct fleet_list *l);

/* Record path as bad (named and skipped) for the reason why. */
aisp_err fleet_add_bad(struct fleet *f, const char *path, const char *why);

/* Read one rank file (dir is the run directory it belongs to). */
aisp_err fleet_add_file(struct fleet *f, const char *dir, const char *path,
			aisp_error *err);

struct rankfile_root;
struct rankfile_variant;

/* Add one rank file's results without reading a file (unit tests, results
 * sent by other ranks): its root facts and n variants. */
aisp_err fleet_add_result(struct fleet *f, const char *dir,
			  const struct rankfile_root *root,
			  const struct rankfile_variant *v, size_t n, aisp_error *err);

/* Aggregate the rows into gpus, vars and insts. */
aisp_err fleet_finish(struct fleet *f, aisp_error *err);

/* 1 when a file was skipped, a directory was empty, or a run lacks ranks or
 * has unfinished rank files. */
int fleet_incomplete(const struct fleet *f);

/* String of id. */
const char *fleet_str(const struct fleet *f, uint32_t id);

/* The one-sided upper normal point z with P(Z > z) = p, 0 < p < 0.5
 * (p = 0.001: FLEET_Z_FALSE_DRAIN); NAN outside. */
double fleet_normal_upper(double p);

/* Smallest relative slowdown of one of n_variants variants detectable at
 * <= 0.1% false drains per target with a relative noise:
 * z(1 - 0.001 / n_variants) sqrt(2) noise (n_variants < 1 counts as 1). */
double fleet_detectable(double noise, size_t n_variants);

/* The run-to-run noise and detectable slowdown of what variant v is judged
 * by: its device time's when host_launch, else its median's. */
double fleet_judged_noise_run(const struct fleet_var *v);
double fleet_judged_detectable(const struct fleet_var *v);

/* Tolerance that follows from a detectable slowdown: max(detectable, floor)
 * rounded up to a multiple of 0.001. */
double fleet_noise_tolerance(double detectable, double floor);

/* 1 when one of the rank files read ran with test knobs. */
int fleet_has_test_knobs(const struct fleet *f);

/* Example name of an instance: the instance without its "chNN:" prefix. */
const char *fleet_example_name(const char *instance);

void fleet_free(struct fleet *f);

#endif /* AISP_FLEET_H */
