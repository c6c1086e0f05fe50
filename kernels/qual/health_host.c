/*
 * health_host.c - qual:health on the host: machine facts judged against
 * thresholds, with a GEMM as the load (the timed part).
 *
 * Facts (read from /proc and /sys; those missing are n/a, not judged):
 *   temperature   hottest /sys/class/thermal zone, before and during load
 *   ECC           EDAC ce_count / ue_count summed over memory controllers
 *   retired pages /proc/meminfo HardwareCorrupted (kB / 4)
 *   clock         lowest "cpu MHz" of /proc/cpuinfo during the load, as a
 *                 share of cpufreq's cpuinfo_max_freq
 *   memory        MemAvailable / MemTotal of /proc/meminfo before the load
 * Power and throttle reasons have no portable host source: n/a here.
 * verify runs the GEMM back to back for load_ms, sampling facts between
 * GEMMs (that loop reads a clock: it is the health probe, not a timing).
 * Thresholds are the params (qual.h), shared with health.cu.
 */
#include "aisp.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

static const struct aisp_param health_params[] = QUAL_HEALTH_PARAMS(128, 200);

/* Host facts; NAN where the platform does not say. */
struct health_facts {
	double temp_c, ecc_ce, ecc_ue, bad_pages, mhz_min, mhz_max, mem_free_pct;
};

/* Everything one instance owns. */
struct health {
	int knob;
	size_t n;
	double load_ms;
	double lim[AISP_MAX_PARAMS];
	float *a, *b, *c;
};

/* Sum of the first number in each file matching pattern times scale; NAN if none. */
static double health_sum_files(const char *pattern, double scale, int take_max)
{
	glob_t g;
	double acc = NAN;

	if (glob(pattern, 0, NULL, &g))
		return NAN;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		double x;

		if (!f)
			continue;
		if (fscanf(f, "%lf", &x) == 1) {
			x *= scale;
			acc = isnan(acc) ? x : take_max ? fmax(acc, x) : acc + x;
		}
		fclose(f);
	}
	globfree(&g);
	return acc;
}

/* Value of "key:" in /proc/meminfo (kB), NAN if absent. */
static double health_meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double v = NAN;
	size_t k = strlen(key);

	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':') {
			v = strtod(line + k + 1, NULL);
			break;
		}
	fclose(f);
	return v;
}

/* Lowest "cpu MHz" over all CPUs in /proc/cpuinfo, NAN if none. */
static double health_cpu_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double lo = NAN;

	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':')) {
			double x = strtod(strchr(line, ':') + 1, NULL);

			lo = isnan(lo) ? x : fmin(lo, x);
		}
	fclose(f);
	return lo;
}

/* Read the facts that do not need the load. */
static void health_read(struct health_facts *h)
{
	double total = health_meminfo("MemTotal"), avail = health_meminfo("MemAvailable");

	h->temp_c = health_sum_files("/sys/class/thermal/thermal_zone*/temp", 1e-3, 1);
	h->ecc_ce = health_sum_files("/sys/devices/system/edac/mc/mc*/ce_count", 1, 0);
	h->ecc_ue = health_sum_files("/sys/devices/system/edac/mc/mc*/ue_count", 1, 0);
	h->bad_pages = health_meminfo("HardwareCorrupted") / 4.0;
	h->mem_free_pct = total > 0 ? 100.0 * avail / total : NAN;
	h->mhz_max = health_sum_files("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
				      1e-3, 1);
	h->mhz_min = health_cpu_mhz();
}

/* One GEMM of the load, stretched by the knob. */
static aisp_err health_run(void *state)
{
	struct health *h = state;
	double t0 = h->knob > 0 ? qual_now() : 0.0;

	qual_sgemm(h->n, h->a, h->b, h->c);
	qual_stretch(h->knob, t0);
	return AISP_OK;
}

/* Free everything setup made; state may be NULL or half-built. */
static void health_teardown(void *state)
{
	struct health *h = state;

	if (!h)
		return;
	free(h->a);
	free(h->b);
	free(h->c);
	free(h);
}

/* Allocate and fill the GEMM of the load; keep the thresholds. */
static aisp_err health_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct health *h = calloc(1, sizeof(*h));
	size_t n;

	*state = NULL;
	if (!h)
		return AISP_ENOMEM;
	h->knob = ctx->test_knob;
	n = h->n = (size_t)p->v[QH_N];
	h->load_ms = p->v[QH_LOAD_MS];
	memcpy(h->lim, p->v, sizeof(h->lim));
	h->a = malloc(n * n * sizeof(float));
	h->b = malloc(n * n * sizeof(float));
	h->c = malloc(n * n * sizeof(float));
	if (!h->a || !h->b || !h->c) {
		health_teardown(h);
		return AISP_ENOMEM;
	}
	for (size_t i = 0; i < n * n; i++) {
		h->a[i] = (float)qual_gemm_value(qual_hash(ctx->seed, 1, i));
		h->b[i] = (float)qual_gemm_value(qual_hash(ctx->seed, 2, i));
	}
	*state = h;
	return AISP_OK;
}

/* Facts before, GEMMs for load_ms with samples between them, judgement. */
static aisp_err health_verify(void *state, struct aisp_check *out)
{
	struct health *h = state;
	struct health_facts f0, f;
	struct qual_verdict v = {0};
	double stop = qual_now() + h->load_ms * 1e-3, hot, mhz;
	aisp_err rc;

	health_read(&f0);
	hot = f0.temp_c;
	mhz = f0.mhz_min;
	do {
		if ((rc = health_run(h)))
			return rc;
		health_read(&f);
		hot = isnan(hot) ? f.temp_c : fmax(hot, f.temp_c);
		mhz = isnan(mhz) ? f.mhz_min : fmin(mhz, f.mhz_min);
	} while (qual_now() < stop);
	qual_judge(&v, "temp_c", hot, h->lim[QH_MAX_TEMP], 1);
	qual_judge(&v, "ecc_ue", f.ecc_ue, h->lim[QH_MAX_UE], 1);
	qual_judge(&v, "ecc_ce", f.ecc_ce, h->lim[QH_MAX_CE], 1);
	qual_judge(&v, "retired_pages", f.bad_pages, h->lim[QH_MAX_RETIRED], 1);
	qual_judge(&v, "clock_pct", 100.0 * mhz / f.mhz_max, h->lim[QH_MIN_CLOCK_PCT], 0);
	qual_judge(&v, "mem_free_pct", f0.mem_free_pct, h->lim[QH_MIN_MEM_FREE_PCT], 0);
	out->rel_error = NAN;
	out->tolerance = NAN;
	out->passed = !v.failed;
	snprintf(out->message, sizeof(out->message), "%s: %.230s",
		 v.failed ? "unhealthy" : "healthy (host)", v.failed ? v.bad : v.facts);
	return AISP_OK;
}

/* 2 n^3 flop per GEMM of the load. */
static double health_flops(const struct aisp_params *p)
{
	return 2.0 * p->v[QH_N] * p->v[QH_N] * p->v[QH_N];
}

static const struct aisp_variant health_variants[] = {
	{"baseline_health", AISP_ROLE_BASELINE,
	 "facts judged against thresholds; timed: the FP32 GEMM load",
	 health_setup, health_run, health_verify, health_teardown},
};

const struct aisp_target qual_health_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:health",
	.backend = AISP_BACKEND_HOST,
	.description = "health facts judged (ECC, retired pages, clocks, temperature, power) under a GEMM load",
	.goal = "throughput",
	.params = health_params,
	.n_params = sizeof(health_params) / sizeof(health_params[0]),
	.variants = health_variants,
	.n_variants = sizeof(health_variants) / sizeof(health_variants[0]),
	.work = health_flops,
	.work_unit = "flop",
	.flops = health_flops,
};
