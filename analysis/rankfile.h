/*
 * rankfile.h - read one per-rank HDF5 file (layout in runner/h5out.h) for the
 * analysis tools: the root facts, then one callback per target variant with
 * its samples summarized. HDF5's own error printing is off: every failure
 * comes back as an aisp_error naming the file and the attribute or object.
 */
#ifndef AISP_RANKFILE_H
#define AISP_RANKFILE_H

#include <stddef.h>

#include "aisp.h"

/* Root attributes the analysis needs. */
struct rankfile_root {
	long long schema_version, rank, world_size, local_rank, gpu_index;
	char tool_version[32], git_commit[64], run_id[64];
	char node[128], hostname[128], backend[16];
	char gpu_name[128], gpu_uuid[128], hardware_key[128];
	char start_utc[40], end_utc[40], status[16];
	char test_knobs[512];   /* AISP_TEST_* in effect ("" when none or absent) */
};

/* Device facts read before or after a variant (runner/gpuinfo.h, the NVML
 * facts; zeros on the host backend). valid 0: not recorded. */
struct rankfile_facts {
	int valid;
	int pcie_gen, pcie_width;
	unsigned sm_clock_mhz, max_sm_clock_mhz, temperature_c;
	double power_w, power_limit_w;
	unsigned long long throttle_reasons;   /* NVML clocks-event bit mask */
	unsigned long long ecc_corrected, ecc_uncorrected, retired_pages;
};

/* One variant of one target instance, samples summarized (NAN when none). */
struct rankfile_variant {
	char instance[AISP_NAME_MAX], target[AISP_NAME_MAX], variant[AISP_NAME_MAX];
	char role[16], technique[AISP_TEXT_MAX], status[16], message[256];
	char work_unit[32];
	long long iterations, warmup;
	size_t n_samples;
	double median_ms, p10_ms, p75_ms, p90_ms;
	double mad_ms;         /* median absolute deviation of the samples */
	double work, bytes, flops;
	double device_ms;      /* CUPTI device time per iteration, NAN: none */
	int host_launch;       /* 1: bound by the host's launch path (judged by
				* device_ms); see rankfile_host_launch */
	struct rankfile_facts before, after; /* gpu_before, gpu_after groups */
	const double *samples; /* sorted, borrowed for the callback only */
};

/* Called per variant; a non-OK return stops the read with that error. */
typedef aisp_err (*rankfile_fn)(void *ctx, const struct rankfile_root *root,
				const struct rankfile_variant *v, aisp_error *err);

/* Whether variant var of target on backend is host-launch-bound in a rank
 * file written before the attribute host_launch existed (aisp up to
 * 2026-12-04): the four CUDA variants that were flagged when it was
 * introduced (ch01:gemm baseline_gemm, optimized_gemm_batched,
 * optimized_gemm_strided; qual:launch baseline_stream), so that the rank
 * files measured before are judged as a new run of the same code would be.
 * A file that has the attribute is read as it says. */
int rankfile_host_launch(const char *backend, const char *target, const char *var);

/* Turn off HDF5's automatic error stack printing for this process. */
void rankfile_quiet(void);

/* Read path: fill *root, then call fn per variant in name order. A file that
 * is not HDF5, truncated, or not an aisp rank file gives AISP_EINPUT. */
aisp_err rankfile_read(const char *path, struct rankfile_root *root,
		       rankfile_fn fn, void *ctx, aisp_error *err);

/* Called once per file by rankfile_read_many, after fn ran for each of its
 * variants: rc is that file's result (err its message when not OK). */
typedef void (*rankfile_done_fn)(void *ctx, size_t index,
				 const struct rankfile_root *root, aisp_err rc,
				 const aisp_error *err);

/* Read paths[0..n) in order. With timeout_s > 0 the reading happens in a
 * child process, so that a file that makes the HDF5 library crash or spin
 * (it does, on some corrupt files) costs only that file: a child that dies
 * or spends more than timeout_s on one file is killed, the file reported
 * bad, and a new child goes on with the next file. fn and done run in this
 * process (v->samples is NULL then). Fails only when fn does or on fork,
 * pipe or memory failure. */
aisp_err rankfile_read_many(char *const *paths, size_t n, rankfile_fn fn,
			    rankfile_done_fn done, void *ctx, double timeout_s,
			    aisp_error *err);

/* 1 when name looks like a rank file: rank-<digits>.h5. */
int rankfile_is_name(const char *name);

#endif /* AISP_RANKFILE_H */
