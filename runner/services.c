/* services.c - device facts and the held load offered to targets. */
#include "services.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gpuinfo.h"
#include "text.h"

#define HOLD_POLL_S 0.02     /* a batch of the load lasts at least this long */
#define HOLD_MAX_BATCH 4096
#define HOLD_RAMP_FRAC 0.25  /* first quarter of a hold: clocks still ramping */

/* One allocation a target made through the harness. */
struct services_block {
	void *p;
	int on_device;               /* freed by the backend's mem_free */
};

/* The harness's state behind ctx->harness. */
struct services {
	const struct aisp_backend_ops *be;
	struct gpuinfo *gi;          /* NVML, opened on the first CUDA facts */
	int gi_tried;
	struct services_block *blocks; /* the variant's aisp_alloc memory */
	size_t n_blocks, cap_blocks;
};

/* ctx->alloc: memory the harness frees in services_release. */
static void *services_alloc(const struct aisp_ctx *ctx, size_t bytes, int on_device)
{
	struct services *s = ctx->harness;
	struct aisp_ctx *c = (struct aisp_ctx *)ctx; /* the backends' mem_alloc reads ctx only */
	int dev = on_device && s->be->mem_alloc;
	void *p;

	if (s->n_blocks == s->cap_blocks) {
		size_t cap = s->cap_blocks ? 2 * s->cap_blocks : 16;
		struct services_block *b = realloc(s->blocks, cap * sizeof(*b));

		if (!b) {
			aisp_fail(ctx->err, AISP_ENOMEM, "harness: out of memory for its block list");
			return NULL;
		}
		s->blocks = b;
		s->cap_blocks = cap;
	}
	p = dev ? s->be->mem_alloc(c, bytes) : calloc(1, bytes ? bytes : 1);
	if (!p) {
		aisp_fail(ctx->err, AISP_ENOMEM, "%zu bytes of %s memory", bytes,
			  dev ? "device" : "host");
		return NULL;
	}
	s->blocks[s->n_blocks++] = (struct services_block){p, dev};
	return p;
}

void services_release(struct aisp_ctx *ctx)
{
	struct services *s = ctx->harness;

	if (!s || !s->n_blocks)
		return;
	s->be->sync(ctx, NULL);
	while (s->n_blocks > 0) {
		struct services_block *b = &s->blocks[--s->n_blocks];

		if (b->on_device)
			s->be->mem_free(ctx, b->p);
		else
			free(b->p);
	}
}

/* Facts with nothing known yet. */
static void facts_unknown(struct aisp_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->temp_c = f->power_w = f->power_limit_w = NAN;
	f->sm_clock_mhz = f->max_sm_clock_mhz = NAN;
	f->ecc_corrected = f->ecc_uncorrected = f->retired_pages = NAN;
	f->mem_free_pct = f->pcie_gen = f->pcie_width = NAN;
	f->throttle = -1;
}

/* First number of each file matching pattern times scale, summed (or the
 * largest with take_max); NAN if none. */
static double sum_files(const char *pattern, double scale, int take_max)
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
static double meminfo(const char *key)
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
static double cpu_mhz_min(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double lo = NAN;

	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':'))
			lo = fmin(isnan(lo) ? INFINITY : lo, strtod(strchr(line, ':') + 1, NULL));
	fclose(f);
	return lo;
}

void services_host_facts(struct aisp_facts *out)
{
	double total = meminfo("MemTotal"), avail = meminfo("MemAvailable");
	struct gpu_facts g;

	facts_unknown(out);
	gpuinfo_host("", 0, &g);
	text_copy(out->name, sizeof(out->name), g.name);
	out->temp_c = sum_files("/sys/class/thermal/thermal_zone*/temp", 1e-3, 1);
	out->ecc_corrected = sum_files("/sys/devices/system/edac/mc/mc*/ce_count", 1, 0);
	out->ecc_uncorrected = sum_files("/sys/devices/system/edac/mc/mc*/ue_count", 1, 0);
	out->retired_pages = meminfo("HardwareCorrupted") / 4.0;
	out->mem_free_pct = total > 0 ? 100.0 * avail / total : NAN;
	out->max_sm_clock_mhz = sum_files("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
					  1e-3, 1);
	out->sm_clock_mhz = cpu_mhz_min();
}

/* x, or NAN where NVML reported nothing (0). */
static double nvml_or_nan(double x)
{
	return x > 0 ? x : NAN;
}

/* NVML's facts of CUDA device dev, in the contract's terms. */
static aisp_err cuda_facts(struct services *s, int dev, struct aisp_facts *out, aisp_error *err)
{
	struct gpu_facts g;
	aisp_err rc;

	if (!s->gi_tried) {
		s->gi_tried = 1;
		if (gpuinfo_open(&s->gi, err)) {
			gpuinfo_close(s->gi);
			s->gi = NULL;
		}
	}
	if ((rc = gpuinfo_read(s->gi, dev, &g, err)))
		return rc;
	text_copy(out->name, sizeof(out->name), g.name);
	out->temp_c = g.temperature_c;
	out->power_w = nvml_or_nan(g.power_w);
	out->power_limit_w = nvml_or_nan(g.power_limit_w);
	out->sm_clock_mhz = g.sm_clock_mhz;
	out->max_sm_clock_mhz = nvml_or_nan(g.max_sm_clock_mhz);
	out->ecc_corrected = (double)g.ecc_corrected;
	out->ecc_uncorrected = (double)g.ecc_uncorrected;
	out->retired_pages = (double)g.retired_pages;
	out->mem_free_pct = g.mem_total_bytes ? 100.0 * (double)g.mem_free_bytes /
						(double)g.mem_total_bytes : NAN;
	out->pcie_gen = nvml_or_nan(g.pcie_gen);
	out->pcie_width = nvml_or_nan(g.pcie_width);
	out->throttle = (long long)g.throttle_reasons;
	return AISP_OK;
}

/* ctx->facts: the device's facts now. */
static aisp_err services_facts(const struct aisp_ctx *ctx, struct aisp_facts *out)
{
	facts_unknown(out);
	if (ctx->backend == AISP_BACKEND_HOST) {
		services_host_facts(out);
		return AISP_OK;
	}
	return cuda_facts(ctx->harness, ctx->device, out, ctx->err);
}

/* Fold one sample into h; the SM clock only past the ramp. */
static void hold_fold(struct aisp_held *h, const struct aisp_facts *f, int ramped)
{
	h->last = *f;
	h->temp_max = fmax(h->temp_max, f->temp_c);   /* fmax skips NAN */
	h->power_max = fmax(h->power_max, f->power_w);
	if (ramped)
		h->clock_min = fmin(h->clock_min, f->sm_clock_mhz);
	if (f->throttle >= 0)
		h->throttle_any = (h->throttle_any < 0 ? 0 : h->throttle_any) | f->throttle;
	h->samples++;
}

/* ctx->hold: run the variant back to back for ms, sampling facts between
 * batches (a batch doubles while it lasts under HOLD_POLL_S). */
static aisp_err services_hold(const struct aisp_ctx *ctx, void *state, double ms,
			      struct aisp_held *out)
{
	struct services *s = ctx->harness;
	aisp_err (*run)(void *) = ctx->variant->ops->run;
	double t0 = clock_now_s(), stop = t0 + ms * 1e-3;
	double ramp = t0 + HOLD_RAMP_FRAC * ms * 1e-3;
	struct aisp_facts f;
	long batch = 1;
	aisp_err rc = AISP_OK;

	memset(out, 0, sizeof(*out));
	facts_unknown(&out->last);
	out->temp_max = out->power_max = out->clock_min = NAN;
	out->throttle_any = -1;
	for (;;) {
		double t1 = clock_now_s();

		for (long i = 0; i < batch && !rc; i++, out->iterations++)
			rc = run(state);
		/* the backends' sync reads ctx only: the cast drops const for its type */
		if (rc || (rc = s->be->sync((struct aisp_ctx *)ctx, ctx->err)))
			return rc;
		if (services_facts(ctx, &f) == AISP_OK)
			hold_fold(out, &f, clock_now_s() >= ramp);
		if (clock_now_s() >= stop)
			break;
		if (clock_now_s() - t1 < HOLD_POLL_S && batch < HOLD_MAX_BATCH)
			batch *= 2;
	}
	out->ms = (clock_now_s() - t0) * 1e3;
	return AISP_OK;
}

aisp_err services_open(struct aisp_ctx *ctx, const struct aisp_backend_ops *be,
		       aisp_error *err)
{
	struct services *s = calloc(1, sizeof(*s));

	if (!s)
		return aisp_fail(err, AISP_ENOMEM, "harness services: out of memory");
	s->be = be;
	ctx->harness = s;
	ctx->alloc = services_alloc;
	ctx->facts = services_facts;
	ctx->hold = services_hold;
	return AISP_OK;
}

void services_close(struct aisp_ctx *ctx)
{
	struct services *s = ctx->harness;

	services_release(ctx);
	if (s) {
		gpuinfo_close(s->gi);
		free(s->blocks);
	}
	free(s);
	ctx->harness = NULL;
	ctx->alloc = NULL;
	ctx->facts = NULL;
	ctx->hold = NULL;
}
