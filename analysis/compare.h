/*
 * compare.h - the verdict engine: a run against an expectations file, shared
 * by `aisp compare` and `aisp report` (rules, formulas and thresholds in
 * analysis/README.md, "Verdicts").
 *
 * Per target instance and variant, with n GPUs of status ok in the run:
 *   n >= COMPARE_MIN_SIBLINGS: each GPU against its siblings. The run's
 *     common shift S = (fleet median of this run) / (stored expected time) is
 *     judged once, as a fleet finding (item with gpu UINT32_MAX, fleet 1):
 *     regressed when S > 1 + upper, nobody drained for it. Each GPU's
 *     excess e = m / (fleet median of this run) - 1 is regressed when
 *     e > upper, an outlier when e / sigma > z and e > min_delta, with
 *     sigma = max(this run's 1.4826 MAD / median, the stored fleet's, the
 *     stored noise); improved when e < -lower.
 *   n < COMPARE_MIN_SIBLINGS: the baseline alone (said in every reason): e
 *     = m / expected - 1 against the tolerance, z against the stored fleet
 *     spread (none from a baseline of one GPU: "fleet spread unknown"), and
 *     an optimized variant's speedup over the same GPU's baseline.
 * A host-launch-bound variant (fleet.h: host_launch) is judged by the same
 * rules on its CUPTI device time (per GPU device_ms, the stored
 * fleet.variants.<v>.device_* of the baseline), not on its median; a GPU
 * without a device time is not judged ("unjudged"), nor is any GPU against
 * a baseline without one when there are too few siblings; speedups over
 * such a variant are not judged.
 * Items, in increasing severity: pass, improved, skipped (not applicable on
 * this GPU: no NCCL, no FP8...), unjudged (not judged: a host-launch-bound
 * variant without a device time), missing (expected but not measured, or
 * skipped where the baseline measured it), outlier, regressed, failed
 * (status crashed, timeout, verify_failed, error).
 * Tolerance per instance: --tolerance-*, else --job's, else the example's
 * (gather wrote it: job, hand, noise or default), else from the stored
 * noise, else 25%.
 * A GPU's verdict is its worst item's (severity, then excess); a node's is
 * its worst GPU's; drain: verdict outlier, regressed or failed.
 */
#ifndef AISP_COMPARE_H
#define AISP_COMPARE_H

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "aisp.h"
#include "fleet.h"

#define COMPARE_MIN_SIBLINGS 4  /* fewer GPUs: the baseline alone */

struct job;

enum verdict {
	VERDICT_PASS = 0,
	VERDICT_IMPROVED,
	VERDICT_SKIPPED,
	VERDICT_UNJUDGED,
	VERDICT_MISSING,
	VERDICT_OUTLIER,
	VERDICT_REGRESSED,
	VERDICT_FAILED,
	VERDICT_COUNT
};

struct compare_opts {
	double z, min_delta;          /* outlier rule */
	double tol_lower, tol_upper;  /* NAN: from the job, the example, the noise, 25% */
	const struct job *job;        /* per-instance tolerances; may be NULL */
};

/* Tolerance of one instance and where it came from. */
struct compare_tol {
	double lower, upper;
	const char *source;           /* option, --job, job, hand, noise, default */
};

/* One judged target/variant/GPU, or a finding about a whole variant. */
struct compare_item {
	enum verdict v;
	uint32_t inst, var, gpu, node; /* var UINT32_MAX: not in the run; gpu,
				       * node UINT32_MAX: the whole variant */
	size_t gpu_idx;               /* in fleet gpus, FLEET_NONE if none */
	int fleet;                    /* 1: the run's common shift (a fleet finding) */
	int siblings;                 /* 1: judged against its siblings */
	int device;                   /* 1: observed, expected and reference are
				       * CUPTI device times (host-launch-bound) */
	char label[2 * AISP_NAME_MAX]; /* "instance/variant" */
	double observed;              /* this GPU's (or the fleet's) median, or its
				       * device time when device, ms */
	double event_ms;              /* device: the median of its events, which
				       * is not judged, ms; else NAN */
	double expected;              /* stored expected time, ms (NAN: none) */
	double reference;             /* what it was held to: the siblings' median
				       * or the expected time, ms */
	double excess;                /* observed / reference - 1 */
	double z;                     /* excess in units of the spread */
	double work;                  /* work per iteration (NAN: unknown) */
	uint32_t unit;                /* its work unit (string id) */
	char reason[320];
};

/* The verdict of one GPU or node. */
struct compare_unit {
	uint32_t id, node;            /* GPU uuid or node name; node of a GPU */
	int32_t rank, gpu_index;      /* of a GPU (a node: of its worst GPU) */
	enum verdict v;
	int drain;                    /* v is outlier, regressed or failed */
	size_t worst;                 /* index in items, FLEET_NONE if all pass */
	size_t n_items, n_slow, n_failed; /* judged, outlier/regressed, failed */
	char facts[256];              /* device facts of its worst item's GPU that
				       * differ from its siblings' (drained only),
				       * or "no device fact differs" */
	char line[640];               /* "n02: 8 of 16 items slow; worst ...; facts" */
};

struct compare_result {
	struct compare_item *items;
	size_t n_items, cap_items;
	struct compare_unit *gpus, *nodes; /* GPUs by node then UUID; nodes by name */
	size_t n_gpus, n_nodes;
	size_t counts[VERDICT_COUNT]; /* items of GPUs and variants, fleet findings apart */
	size_t n_fleet;               /* fleet findings that are regressions */
	size_t n_drain;               /* nodes to drain */
	size_t *order;                /* nodes, worst first: indices in nodes */
	char (*notes)[300];           /* what a reader must know to trust the
				       * verdicts: small fleets, one-GPU
				       * baselines, a spread wider than the
				       * tolerance, missing baselines */
	size_t n_notes, cap_notes;
	uint32_t hk;
	int exit_status;              /* 0, 1 or 3 */
};

const char *compare_verdict_name(enum verdict v);

/* Judge every instance of fleet f with hardware key of exp against exp
 * (named name in messages). f must be finished. */
aisp_err compare_fleet(const struct fleet *f, const json_t *exp, const char *name,
		       const struct compare_opts *o, struct compare_result *out,
		       aisp_error *err);

/* The per-GPU and per-node verdicts of r's items (r->gpus, r->nodes,
 * r->order, r->n_drain), each with its counts, worst item, device facts and
 * line; called by compare_fleet. */
aisp_err compare_units(const struct fleet *f, struct compare_result *r, aisp_error *err);

/* Tolerance of instance in judged against example ex (may be NULL). */
void compare_tolerance(const struct fleet *f, const struct fleet_inst *in, const json_t *ex,
		       const struct compare_opts *o, struct compare_tol *t);

/* Device facts of GPU row f->gpus[gi] (a result of variant v) that differ
 * from its siblings' (the other GPUs of v) or between its own before and
 * after, into buf[n]: "SM clock 1100 MHz vs fleet 1980, HW slowdown", or
 * "no device fact differs", or "device facts not recorded". */
void compare_facts(const struct fleet *f, const struct fleet_var *v, size_t gi, char *buf,
		   size_t n);

/* Names of the NVML clock-event (throttle) reasons in mask that slow a GPU
 * down ("HW slowdown, SW power cap"), into buf[n]; "" when none. */
void compare_throttle_names(unsigned long long mask, char *buf, size_t n);

/* "4.2 -> 2.5 TB/s" (throughput from work per iteration and unit) or
 * "0.29 -> 0.377 ms" of item it, into buf[n]. */
void compare_amounts(const struct fleet *f, const struct compare_item *it, char *buf, size_t n);

void compare_result_free(struct compare_result *r);

/* Command-line options of compare, shared by report (same verdicts). */
struct compare_args {
	const char *expect, *drain, *job;
	struct compare_opts o;
	int verbose;
};

/* Defaults of a (compare_args). */
void compare_args_init(struct compare_args *a);

/* getopt_long entries of the options compare and report share (NULL-ended
 * list of COMPARE_N_OPTIONS entries, values >= 0x100). */
#define COMPARE_N_OPTIONS 8
extern const struct option compare_options[COMPARE_N_OPTIONS + 1];

/* Apply shared option c (from compare_options) with value arg to a; 0 when
 * handled, 1 when c is not a shared option, -1 (and a message on stderr
 * naming cmd) on a bad value. */
int compare_parse_option(const char *cmd, int c, const char *arg, struct compare_args *a);

/* Load the expectations and --job of a; nothing judged. */
aisp_err compare_load_inputs(const struct compare_args *a, json_t **exp, struct job *job,
			     aisp_error *err);

/* Write the drain list of r at path ("node reason" per node to drain,
 * atomically); prints where it went. */
aisp_err compare_write_drain(const struct fleet *f, const struct compare_result *r,
			     const char *path, const char *cmd, aisp_error *err);

/* Test knobs of the runs, one line each ("<cmd>: run R: test knobs in
 * effect on ranks 0, 2: AISP_TEST_SLOW_PCT=50"), to out. */
void compare_print_knobs(const struct fleet *f, const char *cmd, FILE *out);

#endif /* AISP_COMPARE_H */
