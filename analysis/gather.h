/*
 * gather.h - internals of `aisp gather` shared with compare and report:
 * the expectations JSON of a fleet and the fleet HDF5 file.
 *
 * fleet.h5 layout (compound datasets, strings variable-length UTF-8):
 *   /           attributes: schema_version (1), tool, tool_version,
 *               z_threshold, min_delta, rank_files, skipped
 *   /gpus       one row per GPU per hardware_key/instance/variant:
 *               hardware_key, instance, target, variant, role, node,
 *               hostname, gpu_uuid, gpu_name, run_id, rank, gpu_index,
 *               n_runs, median_ms, p10_ms, p75_ms, p90_ms,
 *               fleet_median_ms, z, status (ok | outlier | the failure),
 *               device_ms (median over its runs, NAN: none); for a
 *               host-launch-bound variant fleet_median_ms, z and outlier
 *               are of device_ms (what it is judged by)
 *   /variants   one row per hardware_key/instance/variant: counts, fleet
 *               median_ms, p10_ms, p90_ms, mad_ms, speedup, best (0/1),
 *               noise_within, noise_run, noise_run_pairs, noise, detectable,
 *               host_launch (0/1), device_gpus, device_median_ms,
 *               device_p10_ms, device_p90_ms, device_mad_ms,
 *               device_noise_run, device_noise_run_pairs, device_noise,
 *               device_detectable (fleet.h; NAN when no GPU had one)
 *   /runs       run_id, dir, git_commit, start_utc, end_utc, rank_files,
 *               world_size
 *   /skipped    path, reason
 */
#ifndef AISP_GATHER_H
#define AISP_GATHER_H

#include <jansson.h>
#include <mpi.h>
#include <stdio.h>

#include "aisp.h"
#include "fleet.h"

/* Example key "<example>_<type>" of instance in ("gemm_cuda"). */
void gather_example_key(const struct fleet *f, const struct fleet_inst *in,
			char *key, size_t n);

/* Set root's examples for every instance of hardware key hk; notes go to
 * log (may be NULL). */
aisp_err gather_merge_examples(const struct fleet *f, uint32_t hk, json_t *root,
			       FILE *log, aisp_error *err);

/* Read each run's RUN_DIR/job.yaml and set the instances' job_lower and
 * job_upper (the latest run's, by end time, when runs differ); notes go to
 * log. Returns how many job files could not be read (named in log). */
int gather_job_tolerances(struct fleet *f, FILE *log);

/* Set example ex's "tolerance" for instance in: the job's, else one set by
 * hand (kept), else from the variants' run-to-run noise, else the default;
 * "source" says which. */
aisp_err gather_tolerance(const struct fleet *f, const struct fleet_inst *in, json_t *ex,
			  FILE *log, aisp_error *err);

/* Write (or update) the expectations file of hk at path. */
aisp_err gather_write_json(const struct fleet *f, uint32_t hk, const char *path,
			   FILE *log, aisp_error *err);

/* Write fleet.h5 at path (atomically). */
aisp_err gather_write_h5(const struct fleet *f, const char *path, aisp_error *err);

/* Load and finish fleet f (fleet_init done by the caller) from run
 * directories, with outlier rule z, min_delta. */
aisp_err gather_load(struct fleet *f, char *const *dirs, int n_dirs, double z,
		     double min_delta, aisp_error *err);

/* Same as gather_load, the files split over the ranks of comm (every rank
 * calls it); the fleet is complete on rank 0 only. */
aisp_err gather_load_mpi(struct fleet *f, char *const *dirs, int n_dirs, double z,
			 double min_delta, MPI_Comm comm, aisp_error *err);

/* Print skipped files and unfinished runs to out, one line each. */
void gather_print_problems(const struct fleet *f, const char *cmd, FILE *out);

#endif /* AISP_GATHER_H */
