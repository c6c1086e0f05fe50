/*
 * health.h - qual:health, what both twins share (health_host.c, health.cu):
 * device facts judged against thresholds while a GEMM load runs (the load
 * is the timed part, flop/s).
 *
 * verify asks the harness to hold the load for load_ms (aisp_hold: the
 * variant's run back to back, facts sampled every ~20 ms) and judges what
 * it saw: hottest temperature, volatile ECC (uncorrected, corrected),
 * retired pages / remapped rows, lowest SM clock after the first quarter
 * as % of its max, highest power as % of the limit, throttle reasons in
 * bad_throttle, and free memory before the load. A fact the platform does
 * not report is listed as n/a and not judged; without any device facts
 * (no NVML) the variant reports itself skipped.
 */
#ifndef AISP_QUAL_HEALTH_H
#define AISP_QUAL_HEALTH_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aisp.h"

/*
 * NVML throttle reason bits: 0x4 SW power cap (normal under a GEMM), 0x8 HW
 * slowdown, 0x20 SW thermal, 0x40 HW thermal, 0x80 HW power brake: 0xE8.
 */
static const struct aisp_param health_params[] = {
	{"n", AISP_PARAM_INT, {128, 8192}, 16, 32768, "square GEMM size of the load"},
	{"load_ms", AISP_PARAM_INT, {200, 3000}, 1, 600000, "ms of GEMM load while facts are sampled"},
	{"max_temp_c", AISP_PARAM_REAL, {87, 87}, 0, 200, "highest temperature under load"},
	{"max_ecc_uncorrected", AISP_PARAM_INT, {0, 0}, 0, 1e12, "volatile uncorrected ECC errors"},
	{"max_ecc_corrected", AISP_PARAM_INT, {1000, 1000}, 0, 1e12, "volatile corrected ECC errors"},
	{"max_retired_pages", AISP_PARAM_INT, {8, 8}, 0, 1e9, "retired pages or remapped rows"},
	{"min_clock_pct", AISP_PARAM_REAL, {50, 50}, 0, 100, "lowest SM clock under load, % of max"},
	{"max_power_pct", AISP_PARAM_REAL, {105, 105}, 0, 1000, "highest power under load, % of limit"},
	{"bad_throttle", AISP_PARAM_INT, {0xE8, 0xE8}, 0, 4294967295.0, "throttle reasons that fail"},
	{"min_mem_free_pct", AISP_PARAM_REAL, {10, 10}, 0, 100, "free memory before the load, % of total"},
};

enum health_param {
	QH_N, QH_LOAD_MS, QH_MAX_TEMP, QH_MAX_UE, QH_MAX_CE, QH_MAX_RETIRED,
	QH_MIN_CLOCK_PCT, QH_MAX_POWER_PCT, QH_BAD_THROTTLE, QH_MIN_MEM_FREE_PCT
};

/* What both twins keep for the judgement: the first member of their state. */
struct health_probe {
	const struct aisp_ctx *ctx;    /* for aisp_hold */
	double lim[AISP_MAX_PARAMS];   /* the params */
	double mem_free_pct;           /* before the load's buffers */
	int have_facts;                /* 0: the harness has no facts here */
};

/* Facts judged so far: what failed, and every fact with its value. */
struct health_verdict {
	int failed;
	char bad[256], facts[256];
};

/* Keep ctx and the thresholds; read the free memory before allocating. */
static inline void health_probe_init(struct health_probe *h, const struct aisp_ctx *ctx,
				     const struct aisp_params *p)
{
	struct aisp_facts f;

	h->ctx = ctx;
	memcpy(h->lim, p->v, sizeof(h->lim));
	h->have_facts = aisp_facts(ctx, &f) == AISP_OK;
	h->mem_free_pct = h->have_facts ? f.mem_free_pct : NAN;
}

/* Append fact `what` = x to v; with upper, x > lim fails, else x < lim.
 * NAN means the platform does not report it: listed as n/a, not judged. */
static inline void health_judge(struct health_verdict *v, const char *what, double x,
				double lim, int upper)
{
	size_t n = strlen(v->facts), b = strlen(v->bad);

	if (x != x) {
		snprintf(v->facts + n, sizeof(v->facts) - n, "%s%s n/a", n ? ", " : "", what);
		return;
	}
	snprintf(v->facts + n, sizeof(v->facts) - n, "%s%s %.4g", n ? ", " : "", what, x);
	if (upper ? x > lim : x < lim) {
		v->failed = 1;
		snprintf(v->bad + b, sizeof(v->bad) - b, "%s%s %.4g %s %.4g", b ? "; " : "",
			 what, x, upper ? ">" : "<", lim);
	}
}

/* Hold the load (state: the twin's, probe first) for load_ms and judge every
 * fact seen against its threshold into out. */
static inline aisp_err health_probe_verify(struct health_probe *h, void *state,
					   struct aisp_check *out)
{
	struct health_verdict v;
	struct aisp_held s;
	const double *lim = h->lim;
	aisp_err rc;

	memset(&v, 0, sizeof(v));
	out->rel_error = out->tolerance = NAN;
	out->passed = 1;
	if (!h->have_facts) {
		out->skipped = 1;
		snprintf(out->message, sizeof(out->message),
			 "no device facts for device %d, nothing to judge", h->ctx->device);
		return AISP_OK;
	}
	if ((rc = aisp_hold(h->ctx, state, lim[QH_LOAD_MS], &s)))
		return rc;
	health_judge(&v, "temp_c", s.temp_max, lim[QH_MAX_TEMP], 1);
	health_judge(&v, "ecc_ue", s.last.ecc_uncorrected, lim[QH_MAX_UE], 1);
	health_judge(&v, "ecc_ce", s.last.ecc_corrected, lim[QH_MAX_CE], 1);
	health_judge(&v, "retired", s.last.retired_pages, lim[QH_MAX_RETIRED], 1);
	health_judge(&v, "clock_pct", 100.0 * s.clock_min / s.last.max_sm_clock_mhz,
		     lim[QH_MIN_CLOCK_PCT], 0);
	health_judge(&v, "power_pct", 100.0 * s.power_max / s.last.power_limit_w,
		     lim[QH_MAX_POWER_PCT], 1);
	health_judge(&v, "bad_throttle", s.throttle_any < 0 ? NAN
		     : (double)(s.throttle_any & (long long)lim[QH_BAD_THROTTLE]), 0, 1);
	health_judge(&v, "mem_free_pct", h->mem_free_pct, lim[QH_MIN_MEM_FREE_PCT], 0);
	out->passed = !v.failed;
	snprintf(out->message, sizeof(out->message), "%s (%d samples over %ld GEMMs, throttle "
		 "0x%llx): %.190s", v.failed ? "unhealthy" : "healthy", s.samples, s.iterations,
		 s.throttle_any < 0 ? 0ull : (unsigned long long)s.throttle_any,
		 v.failed ? v.bad : v.facts);
	return AISP_OK;
}

/* 2 n^3 flop per GEMM of the load. */
static inline double health_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[QH_N] * p->v[QH_N] * p->v[QH_N];
}

static const struct aisp_card health_card = {
	.name = "qual:health",
	.description = "health facts judged (ECC, retired pages, clocks, temperature, power) "
		       "under a GEMM load",
	.goal = "throughput", .params = health_params, .n_params = AISP_COUNT(health_params),
	.work = health_flops, .work_unit = "flop", .flops = health_flops,
};

#endif /* AISP_QUAL_HEALTH_H */
