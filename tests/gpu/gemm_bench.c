/*
 * gemm_bench.c - GPU check and benchmark of ch01:gemm on CUDA without the
 * runner: the target's own setup/verify/run/teardown driven through the
 * CUDA backend's ops, the way the harness drives them.
 *
 * For each variant: verify (poisoned output vs float64), launches per
 * iteration (CUPTI: API launch calls and kernels run), then the timing the
 * harness does (events around one run, median of --iters) and two extra
 * views: back-to-back (one event pair around 100 runs: launch overlap) and
 * cold L2 (128 MiB written between samples, untimed). GPU facts from NVML
 * before and after. Optional: --profile BASE reruns one variant under
 * Nsight Compute and prints its speed-of-light shares.
 *
 *   gemm_bench [--iters N] [--variant NAME] [--shape m,n,k,batch] [--seed S]
 *              [--profile BASE] [--ceiling-tbs 3.0]
 * Exit 0 when every variant verified, 1 otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cuda_runtime.h>

#include "aisp.h"
#include "backend.h"
#include "gpuinfo.h"
#include "profile_ncu.h"
#include "services.h"
#include "stats.h"

extern const struct aisp_target ch01_gemm_cuda;

#define FLUSH_BYTES (128u << 20)
#define B2B_RUNS 100

struct opts {
	int iters, warmup, count;
	const char *variant, *profile;
	double ceiling_tbs;
	uint64_t seed;
	struct aisp_params p;
};

struct row {
	const char *name;
	struct aisp_check check;
	long api, kernels;
	struct stats_summary warm, cold;
	double b2b_ms;
	aisp_err rc;
	char err[1200];
};

/* Print NVML facts of CUDA ordinal 0 with a label. */
static void print_facts(const char *label)
{
	struct gpuinfo *gi = NULL;
	struct gpu_facts f;
	aisp_error e = {0};

	if (gpuinfo_open(&gi, &e) || gpuinfo_read(gi, 0, &f, &e)) {
		printf("facts %s: none (%s)\n", label, e.msg);
		gpuinfo_close(gi);
		return;
	}
	printf("facts %s: gpus=%d name=\"%s\" uuid=%s serial=%s pci=%s driver=%s cuda=%s "
	       "sm=%u/%uMHz mem=%u/%uMHz temp=%uC power=%.1f/%.1fW throttle=0x%llx "
	       "ecc=%llu/%llu retired=%llu pcie=gen%d x%d memtotal=%llu\n",
	       label, gpuinfo_count(gi), f.name, f.uuid, f.serial, f.pci_bus_id, f.driver,
	       f.cuda_version, f.sm_clock_mhz, f.max_sm_clock_mhz, f.mem_clock_mhz,
	       f.max_mem_clock_mhz, f.temperature_c, f.power_w, f.power_limit_w,
	       f.throttle_reasons, f.ecc_corrected, f.ecc_uncorrected, f.retired_pages,
	       f.pcie_gen, f.pcie_width, f.mem_total_bytes);
	gpuinfo_close(gi);
}

/* Median etc. of n timed single runs; flush (if not NULL) written before each. */
static aisp_err time_runs(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			  const struct aisp_variant *v, void *st, int n, void *flush,
			  struct stats_summary *out, aisp_error *e)
{
	double *ms = calloc((size_t)n, sizeof(double));
	aisp_err rc = AISP_OK;

	if (!ms)
		return aisp_fail(e, AISP_ENOMEM, "samples");
	for (int i = 0; i < n && !rc; i++) {
		if (flush && cudaMemsetAsync(flush, i & 0xff, FLUSH_BYTES,
					     (cudaStream_t)ctx->stream) != cudaSuccess)
			rc = aisp_fail(e, AISP_EDEVICE, "flush memset");
		if (!rc)
			rc = be->time_begin(ctx, e);
		if (!rc && (rc = v->ops->run(st)))
			aisp_fail(e, rc, "run");
		if (!rc)
			rc = be->time_end(ctx, &ms[i], e);
	}
	if (!rc)
		rc = stats_summarize(ms, (size_t)n, out);
	free(ms);
	return rc;
}

/* Warm up, count launches of one iteration, time warm, back-to-back, cold. */
static aisp_err measure(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			const struct aisp_variant *v, void *st, const struct opts *o,
			void *flush, struct row *r, aisp_error *e)
{
	int b2b = o->iters < B2B_RUNS ? o->iters : B2B_RUNS;
	aisp_err rc = AISP_OK;
	double ms = 0;

	for (int i = 0; i < o->warmup && i < o->iters && !rc; i++)
		rc = v->ops->run(st);
	if (rc || (rc = be->sync(ctx, e)))
		return rc;
	if (o->count) {
		struct backend_count c;

		if ((rc = be->count_begin(ctx, e)) || (rc = v->ops->run(st)) ||
		    (rc = be->count_end(ctx, &c, e)))
			return rc;
		r->api = c.api;
		r->kernels = c.kernels;
	}
	if ((rc = time_runs(be, ctx, v, st, o->iters, NULL, &r->warm, e)))
		return rc;
	if ((rc = be->time_begin(ctx, e)))
		return rc;
	for (int i = 0; i < b2b && !rc; i++)
		rc = v->ops->run(st);
	if (rc || (rc = be->time_end(ctx, &ms, e)))
		return rc;
	r->b2b_ms = ms / b2b;
	if (flush)
		rc = time_runs(be, ctx, v, st, o->iters < 500 ? o->iters : 500, flush,
			       &r->cold, e);
	return rc;
}

/* Setup, verify, measure and tear down one variant into r. */
static void run_variant(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
			const struct aisp_variant *v, const struct opts *o, void *flush,
			struct row *r)
{
	aisp_error e = {0};
	void *st = NULL;

	memset(r, 0, sizeof(*r));
	r->name = v->name;
	r->api = r->kernels = -1;
	r->warm.median = r->cold.median = r->b2b_ms = NAN;
	r->check.rel_error = NAN;
	be->range_push(ctx, v->name);
	ctx->variant = v;
	ctx->err = &e;
	if ((r->rc = v->ops->setup(ctx, &o->p, &st))) {
		snprintf(r->err, sizeof(r->err), "setup: %s", aisp_err_name(r->rc));
		goto out;
	}
	if ((r->rc = v->ops->verify(st, &r->check)) || (r->rc = be->sync(ctx, &e))) {
		snprintf(r->err, sizeof(r->err), "verify: %s %s", aisp_err_name(r->rc), e.msg);
		goto out;
	}
	if (!r->check.passed)
		goto out;
	if ((r->rc = measure(be, ctx, v, st, o, flush, r, &e)))
		snprintf(r->err, sizeof(r->err), "measure: %s %s", aisp_err_name(r->rc), e.msg);
out:
	if (st && v->ops->teardown)
		v->ops->teardown(st);
	services_release(ctx);
	ctx->err = NULL;
	be->range_pop(ctx);
}

/* Rerun this program on one variant under ncu and print the SOL shares. */
static int profile_one(const char *self, const char *base, const char *variant)
{
	char *argv[PROFILE_NCU_ARGV_MAX + 8], report[1024], log[1024];
	size_t n = 0;
	aisp_error e = {0};
	double mem = NAN, sm = NAN;
	int status = -1;
	pid_t pid;

	snprintf(log, sizeof(log), "%s.log", base);
	if (profile_ncu_argv(base, log, argv, PROFILE_NCU_ARGV_MAX, &n, &e)) {
		printf("profile: %s\n", e.msg);
		return 1;
	}
	argv[n] = (char *)self;
	argv[n + 1] = (char *)"--variant";
	argv[n + 2] = (char *)variant;
	argv[n + 3] = (char *)"--iters";
	argv[n + 4] = (char *)"3";
	argv[n + 5] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	profile_ncu_argv_free(argv, n);
	snprintf(report, sizeof(report), "%s.ncu-rep", base);
	if (profile_ncu_parse(report, &mem, &sm, &e)) {
		printf("profile %s: ncu status %d: %s\n", variant, status, e.msg);
		return 1;
	}
	printf("profile %s: memory %.1f%% of peak, compute (SM) %.1f%% of peak (%s)\n",
	       variant, mem, sm, report);
	return 0;
}

/* Parse argv into o; 0 on success. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->iters = 1000;
	o->warmup = 20;
	o->count = 1;
	o->ceiling_tbs = 3.0;
	o->seed = 42;
	aisp_params_defaults(&ch01_gemm_cuda, &o->p);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--iters") && v)
			o->iters = atoi(argv[++i]);
		else if (!strcmp(a, "--variant") && v)
			o->variant = argv[++i];
		else if (!strcmp(a, "--profile") && v)
			o->profile = argv[++i];
		else if (!strcmp(a, "--seed") && v)
			o->seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--ceiling-tbs") && v)
			o->ceiling_tbs = atof(argv[++i]);
		else if (!strcmp(a, "--no-count"))
			o->count = 0;
		else if (!strcmp(a, "--shape") && v &&
			 sscanf(argv[++i], "%lf,%lf,%lf,%lf", &o->p.v[0], &o->p.v[1],
				&o->p.v[2], &o->p.v[3]) == 4)
			;
		else
			return -1;
	}
	return o->iters > 0 ? 0 : -1;
}

/* The table: one line per variant, then the floor it is measured against. */
static void print_table(const struct row *r, size_t n, const struct opts *o)
{
	double bytes = ch01_gemm_cuda.card->bytes(&o->p), flops = ch01_gemm_cuda.card->flops(&o->p);
	double floor_ms = bytes / (o->ceiling_tbs * 1e12) * 1e3;

	printf("\n%-24s %9s %5s %7s %10s %10s %10s %10s %10s %7s\n", "variant", "rel_err",
	       "ok", "api/kn", "median_ms", "p10_ms", "p90_ms", "b2b_ms", "coldL2_ms", "floor%");
	for (size_t i = 0; i < n; i++) {
		char launches[32];

		snprintf(launches, sizeof(launches), "%ld/%ld", r[i].api, r[i].kernels);
		printf("%-24s %9.2e %5s %7s %10.4f %10.4f %10.4f %10.4f %10.4f %6.1f%%%s%s\n",
		       r[i].name, r[i].check.rel_error, r[i].check.passed ? "yes" : "NO",
		       launches, r[i].warm.median, r[i].warm.p10, r[i].warm.p90, r[i].b2b_ms,
		       r[i].cold.median, 100.0 * floor_ms / r[i].warm.median,
		       r[i].err[0] ? "  " : "", r[i].err);
	}
	printf("shape m=%g n=%g k=%g batch=%g: %.3f MB, %.1f MFLOP, floor %.4f ms at %.2f TB/s\n",
	       o->p.v[0], o->p.v[1], o->p.v[2], o->p.v[3], bytes / 1e6, flops / 1e6, floor_ms,
	       o->ceiling_tbs);
	for (size_t i = 0; i < n; i++)
		printf("check %s: %s\n", r[i].name, r[i].check.message);
}

int main(int argc, char **argv)
{
	const struct aisp_backend_ops *be = &backend_cuda;
	const struct aisp_target *t = &ch01_gemm_cuda;
	struct row rows[16];
	struct aisp_ctx ctx = {0};
	struct opts o;
	aisp_error e = {0};
	void *flush = NULL;
	size_t n = 0;
	int bad = 0;

	if (parse_args(argc, argv, &o) || aisp_params_validate(t, &o.p, &e)) {
		fprintf(stderr, "usage: gemm_bench [--iters N] [--variant NAME] "
				"[--shape m,n,k,batch] [--profile BASE] [--no-count] %s\n", e.msg);
		return 2;
	}
	print_facts("before");
	if (be->open(0, &ctx, &e) || services_open(&ctx, be, &e)) {
		printf("open: %s\n", e.msg);
		return 1;
	}
	ctx.seed = o.seed;
	if (cudaMalloc(&flush, FLUSH_BYTES) != cudaSuccess)
		flush = NULL;
	for (size_t i = 0; i < t->n_variants && n < 16; i++) {
		if (o.variant && strcmp(o.variant, t->variants[i].name))
			continue;
		run_variant(be, &ctx, &t->variants[i], &o, flush, &rows[n]);
		bad |= rows[n].rc != AISP_OK || !rows[n].check.passed;
		n++;
	}
	cudaFree(flush);
	be->close(&ctx);
	print_table(rows, n, &o);
	print_facts("after");
	if (o.profile)
		bad |= profile_one(argv[0], o.profile, o.variant ? o.variant
								  : "optimized_gemm_tiled");
	return bad || !n;
}
