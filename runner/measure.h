/*
 * measure.h - the measuring loop: set up a variant, verify it, warm it up,
 * count its launches, then time iterations until the adaptive stop.
 */
#ifndef AISP_MEASURE_H
#define AISP_MEASURE_H

#include "backend.h"
#include "h5out.h"

struct measure_opts {
	int iterations;       /* at least this many timed iterations */
	int warmup;           /* untimed iterations first */
	int max_iterations;   /* never more than this many */
	double time_budget_s; /* past iterations, stop when this much time is spent */
	double ci_target;     /* ... or when the median's relative CI is within this */
	double min_sample_ms; /* a sample times back-to-back iterations until it
			       * lasts this long; its value is the mean per iteration */
	double warmup_ms;     /* repeat the warm-up until it has lasted this long */
};

/* Run variant vi of t with p on an opened backend context and fill r:
 * status ("ok", "verify_failed", "error"), message (with the target's own
 * text from ctx->err), samples, launches, check, work/bytes/flops. */
void measure_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		     const struct aisp_target *t, size_t vi, const struct aisp_params *p,
		     const struct measure_opts *o, struct variant_result *r);

/* The compact check column of the run table from r's named check values
 * (aisp.h: "loss A->B, err max E (what)"); "" when it has none of them. */
void measure_check_text(const struct variant_result *r, char *buf, size_t n);

#endif /* AISP_MEASURE_H */
