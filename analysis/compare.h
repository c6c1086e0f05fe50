/*
 * compare.h - verdicts of a run against an expectations file, shared by
 * `aisp compare` and `aisp report`.
 *
 * Per target instance, variant and GPU (in increasing severity):
 *   pass       within tolerance of the stored value and of the fleet spread
 *   improved   faster than expected * (1 - lower)
 *   missing    expected by the file (or run on other GPUs) but not measured
 *   outlier    robust z against the stored fleet spread (or, without one,
 *              this run's own spread when it has >= 3 GPUs) above z and
 *              slower than that fleet median by more than min_delta
 *   regressed  slower than expected * (1 + upper), or, for an optimized
 *              variant slower than expected, a speedup over the same GPU's
 *              baseline below expected speedup * (1 - lower)
 *   failed     the variant's status is not ok (crashed, verify_failed...);
 *              status skipped (not applicable: no NCCL, no FP8...) passes
 *              with the reason "skipped: <message>"
 * Expected time of a variant: the example's fleet.variants.<v>.median_ms;
 * else metrics.baseline_time_ms for the baseline and
 * metrics.best_optimized_time_ms for metadata.best_optimization.
 * A GPU's verdict is its worst item's, a node's its worst GPU's.
 */
#ifndef AISP_COMPARE_H
#define AISP_COMPARE_H

#include <jansson.h>

#include "aisp.h"
#include "fleet.h"

struct job;

enum verdict {
	VERDICT_PASS = 0,
	VERDICT_IMPROVED,
	VERDICT_MISSING,
	VERDICT_OUTLIER,
	VERDICT_REGRESSED,
	VERDICT_FAILED,
	VERDICT_COUNT
};

struct compare_opts {
	double z, min_delta;          /* outlier rule */
	double tol_lower, tol_upper;  /* NAN: from the example, else 25% */
	const struct job *job;        /* per-instance tolerances; may be NULL */
};

/* One judged target/variant/GPU (gpu == UINT32_MAX: the whole variant). */
struct compare_item {
	enum verdict v;
	uint32_t inst, var, gpu, node; /* var UINT32_MAX: not in the run */
	size_t gpu_idx;               /* in fleet gpus, FLEET_NONE if none */
	char label[2 * AISP_NAME_MAX]; /* "instance/variant" */
	double observed, expected, z;
	char reason[200];
};

/* The verdict of one GPU or node and the item that decided it. */
struct compare_unit {
	uint32_t id, node;            /* GPU uuid or node name; node of a GPU */
	int32_t rank;
	enum verdict v;
	size_t worst;                 /* index in items, FLEET_NONE if all pass */
};

struct compare_result {
	struct compare_item *items;
	size_t n_items, cap_items;
	struct compare_unit *gpus, *nodes;
	size_t n_gpus, n_nodes;
	size_t counts[VERDICT_COUNT];
	uint32_t hk;
	int exit_status;              /* 0, 1 or 3 */
};

const char *compare_verdict_name(enum verdict v);

/* Judge every instance of fleet f with hardware key of exp against exp
 * (named name in messages). f must be finished. */
aisp_err compare_fleet(const struct fleet *f, const json_t *exp, const char *name,
		       const struct compare_opts *o, struct compare_result *out,
		       aisp_error *err);

void compare_result_free(struct compare_result *r);

#endif /* AISP_COMPARE_H */
