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
	int slow_pct;         /* test knob: every timed region (1 + slow_pct/100)x as long */
};

/* Run variant vi of t with p on an opened backend context and fill r:
 * status ("ok", "verify_failed", "error"), message (with the target's own
 * text from ctx->err), samples, launches, check, work/bytes/flops. */
void measure_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		     const struct aisp_target *t, size_t vi, const struct aisp_params *p,
		     const struct measure_opts *o, struct variant_result *r);

#endif /* AISP_MEASURE_H */
