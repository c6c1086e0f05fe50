/*
 * measure.h - the measuring loop: set up a variant, verify it, warm it up
 * (until the SM clock holds still), time iterations until the adaptive
 * stop, then two passes after the samples (CUPTI: nothing of them can
 * touch a timed sample): the timer pass, one sample's batch timed by our
 * events while CUPTI records the device work only, and the counted pass,
 * which also counts launch calls and names what ran. A profile
 * pass (opts.profile > 0, a worker under Nsight Compute) instead runs a few
 * iterations inside the NVTX range MEASURE_PROFILE_RANGE and times nothing.
 */
#ifndef AISP_MEASURE_H
#define AISP_MEASURE_H

#include <stddef.h>

#include "backend.h"
#include "h5out.h"

#define MEASURE_PROFILE_RANGE "aisp_profile"
#define MEASURE_COUNT_MAX_ITER 1000    /* iterations of the counted pass, at most */
#define MEASURE_TIMER_MIN_MS 20.0      /* the timer pass's batch lasts about this long at least */
#define MEASURE_CLOCK_READ_MS 100.0    /* clock-checked warm-up: reads this far apart */
#define MEASURE_CLOCK_MAX_MS 2000.0    /* ... for at most this much past warmup_ms */
#define MEASURE_CLOCK_STEADY 0.01      /* steady: two reads differ by at most 1% (one
					* 15 MHz step of an H100/H200 at >= 1500 MHz) */

struct measure_opts {
	int iterations;       /* at least this many timed iterations */
	int warmup;           /* untimed iterations first */
	int max_iterations;   /* never more than this many */
	double time_budget_s; /* past iterations, stop when this much time is spent */
	double ci_target;     /* ... or when the median's relative CI is within this */
	double min_sample_ms; /* a sample times back-to-back iterations until it
			       * lasts this long; its value is the mean per iteration */
	double warmup_ms;     /* repeat the warm-up until it has lasted this long */
	int profile;          /* > 0: a profile pass of this many iterations, untimed */
	int slow_pct;         /* test knob: every timed region (1 + slow_pct/100)x as long */
};

/* Diagnostic switches (environment AISP_MEASURE, comma separated words),
 * to find out what moves a measurement; none is on in a normal run, and
 * the ones in effect are recorded with every variant (measure_switches). */
enum measure_switch {
	MEASURE_COUNT_FIRST = 1u << 0,     /* "count-first": counted pass before the samples */
	MEASURE_NO_COUNT = 1u << 1,        /* "nocount": no counted or timer pass, no CUPTI */
	MEASURE_NO_CLOCK_WARMUP = 1u << 2, /* "noclockwarm": warm-up by count and time only */
	MEASURE_NO_PIN = 1u << 3,          /* "nopin": worker not pinned to a CPU (worker.c) */
	MEASURE_KEEP_WORKER = 1u << 4,     /* "keepworker": the next item in the same worker
					    * after CUPTI was on (worker.c) */
};

/* What the worker offers the loop beside the backend; may be NULL. */
struct measure_probe {
	unsigned (*sm_clock_mhz)(void *arg); /* current SM clock, 0 unknown; may be NULL */
	void *arg;
	unsigned switches;                   /* enum measure_switch bits */
	int cpu_pinned;                      /* 1 when the worker is pinned to a CPU */
};

/* Parse AISP_MEASURE text ("count-first,nopin"; NULL or "" is none) into
 * *out. AISP_EINPUT naming the first unknown word. */
aisp_err measure_switches_parse(const char *text, unsigned *out, aisp_error *err);

/* The words of switches, comma separated, into buf ("" for none). */
void measure_switches_text(unsigned switches, char *buf, size_t n);

/* Run variant vi of t with p on an opened backend context and fill r:
 * status ("ok", "verify_failed", "skipped", "error"), message (with the
 * target's own text from ctx->err), samples, launches, check, work/bytes/
 * flops and how it was measured (host_ms, clocks, CPU, warm-up, the timer
 * and counted passes). */
void measure_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		     const struct aisp_target *t, size_t vi, const struct aisp_params *p,
		     const struct measure_opts *o, const struct measure_probe *probe,
		     struct variant_result *r);

/* The compact check column of the run table from r's named check values
 * (aisp.h: "loss A->B, err max E (what)"); "" when it has none of them. */
void measure_check_text(const struct variant_result *r, char *buf, size_t n);

#endif /* AISP_MEASURE_H */
