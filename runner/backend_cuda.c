/*
 * backend_cuda.c - the CUDA backend: one device, one stream, one cuBLAS
 * handle bound to it, events around each timed iteration, launch counting
 * with CUPTI and NVTX ranges. Built only with CUDA=1.
 *
 * cuBLAS math mode is CUBLAS_DEFAULT_MATH (pure FP32 for Sgemm: no TF32
 * tensor cores); a target that wants TF32 sets it on its own handle copy.
 *
 * Counting (count_begin/count_end, one untimed pass: measure.c) uses two
 * CUPTI APIs; tracing (trace_begin/count_end, the timer pass) only the
 * second, since the callbacks are what costs the most per launch call:
 *  - the callback API (with our state as userdata) counts launch *calls*:
 *    runtime launches and graph launches, plus driver launches not made from
 *    inside a runtime launch (cuBLAS and friends call the driver directly);
 *  - the activity API sees the device work that actually *ran*: kernels
 *    (graph nodes too), memcpys and memsets, each with its start and end on
 *    the GPU's clock. From these come the kernel count, the summed device
 *    time, the span from the first start to the last end (a timer that is
 *    not ours, for the events to agree with) and the names of what ran (so
 *    that a library choosing another kernel in another process shows).
 * CUPTI's activity buffer callbacks take no user pointer, so the counter
 * in use is found through cupti_owner: the one file-level variable here,
 * set by count_begin or trace_begin and cleared by count_end (one counter
 * per process).
 */
#include "backend.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cupti.h>
#include <nvtx3/nvToolsExt.h>

#define CUDA_WORKSPACE_BYTES (32u << 20) /* cuBLAS workspace (Hopper advice) */
#define CUPTI_BUF_BYTES (1u << 20)
#define CUPTI_BUF_ALIGN 8
#define CUPTI_NAMES 16        /* distinct names kept per counted pass */
#define CUPTI_NAME_LEN 160

/* One distinct name of device work seen in a counted pass. */
struct cupti_name {
	char name[CUPTI_NAME_LEN];
	long n;
	uint64_t first;        /* earliest start, to list names in order */
};

struct cuda_priv {
	cudaStream_t stream;
	cublasHandle_t blas;
	cudaEvent_t ev_begin, ev_end;
	void *workspace;
	CUpti_SubscriberHandle sub;
	int subscribed, activity_on;
	int busy;              /* another CUPTI client (ncu, nsys): no counts */
	int calls;             /* launch calls counted (count_begin), not only traced */
	int rt_depth;          /* inside a counted runtime launch call */
	long api, kernels, ops;
	uint64_t busy_ns, first_ns, last_ns; /* device activity of the pass */
	uint64_t since_ns;     /* records that start before it are forgotten */
	struct cupti_name names[CUPTI_NAMES];
	int n_names, names_dropped;
};

static struct cuda_priv *cupti_owner;

static aisp_err cupti_activity_set(int on, aisp_error *err);

/* AISP_OK when e is cudaSuccess, else an EDEVICE error naming what failed. */
static aisp_err cuda_ok(cudaError_t e, const char *what, aisp_error *err)
{
	if (e == cudaSuccess)
		return AISP_OK;
	return aisp_fail(err, AISP_EDEVICE, "%s: %s: %s", what,
			 cudaGetErrorName(e), cudaGetErrorString(e));
}

/* AISP_OK when s is CUBLAS_STATUS_SUCCESS, else an EDEVICE error. */
static aisp_err cublas_ok(cublasStatus_t s, const char *what, aisp_error *err)
{
	if (s == CUBLAS_STATUS_SUCCESS)
		return AISP_OK;
	return aisp_fail(err, AISP_EDEVICE, "%s: %s: %s", what,
			 cublasGetStatusName(s), cublasGetStatusString(s));
}

/* AISP_OK when r is CUPTI_SUCCESS, else an EDEVICE error with CUPTI's text. */
static aisp_err cupti_ok(CUptiResult r, const char *what, aisp_error *err)
{
	const char *msg = NULL;

	if (r == CUPTI_SUCCESS)
		return AISP_OK;
	if (cuptiGetResultString(r, &msg) != CUPTI_SUCCESS || !msg)
		msg = "unknown CUPTI error";
	return aisp_fail(err, AISP_EDEVICE, "%s: CUPTI error %d: %s", what,
			 (int)r, msg);
}

/* Make stream, cuBLAS handle (on the stream, own workspace) and two events. */
static aisp_err cuda_open(int device, struct aisp_ctx *ctx, aisp_error *err)
{
	struct cuda_priv *p;
	aisp_err rc;

	ctx->backend = AISP_BACKEND_CUDA;
	ctx->device = device;
	ctx->stream = ctx->blas = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return aisp_fail(err, AISP_ENOMEM, "cuda backend: out of memory");
	ctx->priv = p;
	if ((rc = cuda_ok(cudaSetDevice(device), "cudaSetDevice", err)) ||
	    (rc = cuda_ok(cudaStreamCreateWithFlags(&p->stream, cudaStreamNonBlocking),
			  "cudaStreamCreate", err)) ||
	    (rc = cuda_ok(cudaEventCreate(&p->ev_begin), "cudaEventCreate", err)) ||
	    (rc = cuda_ok(cudaEventCreate(&p->ev_end), "cudaEventCreate", err)) ||
	    (rc = cuda_ok(cudaMalloc(&p->workspace, CUDA_WORKSPACE_BYTES),
			  "cudaMalloc(cuBLAS workspace)", err)) ||
	    (rc = cublas_ok(cublasCreate(&p->blas), "cublasCreate", err)) ||
	    (rc = cublas_ok(cublasSetStream(p->blas, p->stream), "cublasSetStream", err)) ||
	    (rc = cublas_ok(cublasSetWorkspace(p->blas, p->workspace, CUDA_WORKSPACE_BYTES),
			    "cublasSetWorkspace", err)) ||
	    (rc = cublas_ok(cublasSetMathMode(p->blas, CUBLAS_DEFAULT_MATH),
			    "cublasSetMathMode", err)))
		return rc;
	ctx->stream = p->stream;
	ctx->blas = p->blas;
	return AISP_OK;
}

/* Stop any CUPTI counting left on, free handle, events, stream and state. */
static void cuda_close(struct aisp_ctx *ctx)
{
	struct cuda_priv *p = ctx ? ctx->priv : NULL;

	if (!p)
		return;
	if (p->activity_on)
		cupti_activity_set(0, NULL);
	if (p->subscribed)
		cuptiUnsubscribe(p->sub);
	if (cupti_owner == p)
		cupti_owner = NULL;
	if (p->stream)
		cudaStreamSynchronize(p->stream);
	if (p->blas)
		cublasDestroy(p->blas);
	cudaFree(p->workspace);
	if (p->ev_begin)
		cudaEventDestroy(p->ev_begin);
	if (p->ev_end)
		cudaEventDestroy(p->ev_end);
	if (p->stream)
		cudaStreamDestroy(p->stream);
	free(p);
	ctx->priv = NULL;
	ctx->stream = NULL;
	ctx->blas = NULL;
}

/* Record the begin event on the context's stream. */
static aisp_err cuda_time_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;

	return cuda_ok(cudaEventRecord(p->ev_begin, p->stream), "cudaEventRecord", err);
}

/* Record the end event, wait for it, and give the elapsed device time. */
static aisp_err cuda_time_end(struct aisp_ctx *ctx, double *ms, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	float f = 0.0f;
	aisp_err rc;

	*ms = 0.0;
	if ((rc = cuda_ok(cudaEventRecord(p->ev_end, p->stream), "cudaEventRecord", err)) ||
	    (rc = cuda_ok(cudaEventSynchronize(p->ev_end), "cudaEventSynchronize", err)) ||
	    (rc = cuda_ok(cudaEventElapsedTime(&f, p->ev_begin, p->ev_end),
			  "cudaEventElapsedTime", err)))
		return rc;
	*ms = (double)f;
	return AISP_OK;
}

/* Wait for the stream, then surface any error a launch left behind. */
static aisp_err cuda_sync(struct aisp_ctx *ctx, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	aisp_err rc;

	if ((rc = cuda_ok(cudaStreamSynchronize(p->stream), "cudaStreamSynchronize", err)))
		return rc;
	return cuda_ok(cudaGetLastError(), "kernel launch", err);
}

/* 1 for runtime callback ids that launch work (kernels or graphs). */
static int cupti_runtime_launch(CUpti_CallbackId id)
{
	switch (id) {
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunch_v3020:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunch_ptsz_v7000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_ptsz_v9000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_v10000:
	case CUPTI_RUNTIME_TRACE_CBID_cudaGraphLaunch_ptsz_v10000:
		return 1;
	default:
		return 0;
	}
}

/* 1 for driver callback ids that launch work (kernels or graphs). */
static int cupti_driver_launch(CUpti_CallbackId id)
{
	switch (id) {
	case CUPTI_DRIVER_TRACE_CBID_cuLaunch:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchGrid:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchGridAsync:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel:
	case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz:
	case CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch:
	case CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch_ptsz:
		return 1;
	default:
		return 0;
	}
}

/* CUPTI callback: count each launch call once (runtime, or bare driver). */
static void CUPTIAPI cupti_on_api(void *userdata, CUpti_CallbackDomain dom,
				  CUpti_CallbackId id, const void *data)
{
	struct cuda_priv *p = userdata;
	const CUpti_CallbackData *cb = data;

	if (dom == CUPTI_CB_DOMAIN_RUNTIME_API && cupti_runtime_launch(id)) {
		if (cb->callbackSite == CUPTI_API_ENTER) {
			p->api++;
			p->rt_depth++;
		} else if (p->rt_depth > 0) {
			p->rt_depth--;
		}
	} else if (dom == CUPTI_CB_DOMAIN_DRIVER_API && cupti_driver_launch(id) &&
		   cb->callbackSite == CUPTI_API_ENTER && p->rt_depth == 0) {
		p->api++;
	}
}

/* CUPTI asks for an empty activity buffer. */
static void CUPTIAPI cupti_buf_request(uint8_t **buf, size_t *size, size_t *max_records)
{
	*buf = aligned_alloc(CUPTI_BUF_ALIGN, CUPTI_BUF_BYTES);
	*size = *buf ? CUPTI_BUF_BYTES : 0;
	*max_records = 0;
}

/* Add one record's name (a kernel or a copy kind) to the pass's list. */
static void cupti_note_name(struct cuda_priv *p, const char *name, uint64_t start)
{
	for (int i = 0; i < p->n_names; i++) {
		if (strcmp(p->names[i].name, name))
			continue;
		p->names[i].n++;
		if (start < p->names[i].first)
			p->names[i].first = start;
		return;
	}
	if (p->n_names == CUPTI_NAMES) {
		p->names_dropped++;
		return;
	}
	snprintf(p->names[p->n_names].name, CUPTI_NAME_LEN, "%s", name);
	p->names[p->n_names].n = 1;
	p->names[p->n_names].first = start;
	p->n_names++;
}

/* Name of a memcpy record by its direction. */
static const char *cupti_copy_name(uint8_t kind)
{
	switch (kind) {
	case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD:
		return "memcpy HtoD";
	case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH:
		return "memcpy DtoH";
	case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD:
		return "memcpy DtoD";
	case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH:
		return "memcpy HtoH";
	case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP:
		return "memcpy PtoP";
	default:
		return "memcpy";
	}
}

/* Account one device operation that ran from start to end (GPU ns). */
static void cupti_note_op(struct cuda_priv *p, const char *name, uint64_t start, uint64_t end)
{
	p->ops++;
	if (end > start)
		p->busy_ns += end - start;
	if (!p->first_ns || start < p->first_ns)
		p->first_ns = start;
	if (end > p->last_ns)
		p->last_ns = end;
	cupti_note_name(p, name && *name ? name : "(unnamed)", start);
}

/* Account one activity record of the pass (not one that started before
 * p->since_ns: work that trace_begin forgot). */
static void cupti_note_record(struct cuda_priv *p, const CUpti_Activity *rec)
{
	if (rec->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL ||
	    rec->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
		const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)rec;

		if (k->start < p->since_ns)
			return;
		p->kernels++;
		cupti_note_op(p, k->name, k->start, k->end);
	} else if (rec->kind == CUPTI_ACTIVITY_KIND_MEMCPY) {
		const CUpti_ActivityMemcpy6 *m = (const CUpti_ActivityMemcpy6 *)rec;

		if (m->start >= p->since_ns)
			cupti_note_op(p, cupti_copy_name(m->copyKind), m->start, m->end);
	} else if (rec->kind == CUPTI_ACTIVITY_KIND_MEMSET) {
		const CUpti_ActivityMemset4 *m = (const CUpti_ActivityMemset4 *)rec;

		if (m->start >= p->since_ns)
			cupti_note_op(p, "memset", m->start, m->end);
	}
}

/* CUPTI hands back a filled buffer: account its records, free it. */
static void CUPTIAPI cupti_buf_complete(CUcontext cu, uint32_t stream_id, uint8_t *buf,
					size_t size, size_t valid)
{
	CUpti_Activity *rec = NULL;

	(void)cu;
	(void)stream_id;
	(void)size;
	while (cupti_owner && valid > 0 &&
	       cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS)
		cupti_note_record(cupti_owner, rec);
	free(buf);
}

/* The activity kinds a counted pass records. */
static const CUpti_ActivityKind cupti_kinds[] = {
	CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL,
	CUPTI_ACTIVITY_KIND_MEMCPY,
	CUPTI_ACTIVITY_KIND_MEMSET,
};

/* Enable (on) or disable every kind of cupti_kinds; on failure while
 * enabling, those already enabled are disabled again. */
static aisp_err cupti_activity_set(int on, aisp_error *err)
{
	size_t n = sizeof(cupti_kinds) / sizeof(cupti_kinds[0]);
	aisp_err rc = AISP_OK;

	for (size_t i = 0; i < n; i++) {
		if (!on) {
			aisp_err r = cupti_ok(cuptiActivityDisable(cupti_kinds[i]),
					      "cuptiActivityDisable", rc ? NULL : err);

			rc = rc ? rc : r;
		} else if ((rc = cupti_ok(cuptiActivityEnable(cupti_kinds[i]),
					  "cuptiActivityEnable", err))) {
			while (i-- > 0)
				cuptiActivityDisable(cupti_kinds[i]);
			return rc;
		}
	}
	return rc;
}

/* Enable the launch callbacks of one domain. */
static aisp_err cupti_enable_domain(struct cuda_priv *p, CUpti_CallbackDomain dom,
				    aisp_error *err)
{
	return cupti_ok(cuptiEnableDomain(1, p->sub, dom), "cuptiEnableDomain", err);
}

/* Forget what the last pass saw. */
static void cupti_reset(struct cuda_priv *p)
{
	p->api = p->kernels = p->ops = 0;
	p->busy_ns = p->first_ns = p->last_ns = 0;
	p->n_names = p->names_dropped = 0;
	p->rt_depth = 0;
}

/* Start CUPTI for a pass: subscribe (which also tells whether another
 * CUPTI client, a profiler, is there: then nothing is recorded and the pass
 * ends without counts), with calls the launch-call callbacks, and the
 * device activity records. */
static aisp_err cupti_start(struct aisp_ctx *ctx, int calls, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	CUptiResult r;
	aisp_err rc;

	if (cupti_owner)
		return aisp_fail(err, AISP_EINTERNAL, "CUPTI counting already on");
	if ((rc = cuda_sync(ctx, err)))
		return rc;
	cupti_reset(p);
	p->since_ns = 0;
	p->busy = 0;
	p->calls = calls;
	r = cuptiSubscribe(&p->sub, cupti_on_api, p);
	if (r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
		p->busy = 1; /* under a profiler: counts are unknown (-1), not an error */
		return AISP_OK;
	}
	if ((rc = cupti_ok(r, "cuptiSubscribe", err)))
		return rc;
	p->subscribed = 1;
	cupti_owner = p;
	if ((calls && ((rc = cupti_enable_domain(p, CUPTI_CB_DOMAIN_RUNTIME_API, err)) ||
		       (rc = cupti_enable_domain(p, CUPTI_CB_DOMAIN_DRIVER_API, err)))) ||
	    (rc = cupti_ok(cuptiActivityRegisterCallbacks(cupti_buf_request,
							   cupti_buf_complete),
			   "cuptiActivityRegisterCallbacks", err)) ||
	    (rc = cupti_activity_set(1, err)))
		goto out;
	p->activity_on = 1;
	return AISP_OK;
out:
	cuptiUnsubscribe(p->sub);
	p->subscribed = 0;
	cupti_owner = NULL;
	return rc;
}

/* Start counting: launch-call callbacks and device activity records. */
static aisp_err cuda_count_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	return cupti_start(ctx, 1, err);
}

/* Start tracing (device activity records only); while tracing already,
 * wait for the work so far and forget it: its records, whenever CUPTI hands
 * them back, start before since_ns (no forced flush here: it would leave
 * the next launch to wait for a new activity buffer inside the timing). */
static aisp_err cuda_trace_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	aisp_err rc;

	if (cupti_owner != p || p->calls) /* not tracing yet (or under a profiler) */
		return cupti_start(ctx, 0, err);
	if ((rc = cuda_sync(ctx, err)) ||
	    (rc = cupti_ok(cuptiGetTimestamp(&p->since_ns), "cuptiGetTimestamp", err)))
		return rc;
	cupti_reset(p);
	return AISP_OK;
}

/* "name xN; ..." of the pass, in order of first start, into out. */
static void cupti_names_text(struct cuda_priv *p, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int done = 0; done < p->n_names; done++) {
		int best = -1;

		for (int i = 0; i < p->n_names; i++)
			if (p->names[i].n > 0 &&
			    (best < 0 || p->names[i].first < p->names[best].first))
				best = i;
		if (best < 0 || len >= n)
			break;
		len += (size_t)snprintf(out + len, n - len, "%s%s x%ld", len ? "; " : "",
					p->names[best].name, p->names[best].n);
		p->names[best].n = -p->names[best].n; /* taken */
	}
	if (p->names_dropped && len < n)
		snprintf(out + len, n - len, "; +%d more names", p->names_dropped);
	for (int i = 0; i < p->n_names; i++)
		p->names[i].n = p->names[i].n < 0 ? -p->names[i].n : p->names[i].n;
}

/* Stop counting: wait for the work, flush the records, report the pass. */
static aisp_err cuda_count_end(struct aisp_ctx *ctx, struct backend_count *out,
			       aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	aisp_err rc, rc2;

	memset(out, 0, sizeof(*out));
	out->api = out->kernels = out->ops = -1;
	out->device_ms = out->span_ms = NAN;
	if (p->busy) {
		p->busy = 0;
		snprintf(out->names, sizeof(out->names), "(not counted: another CUPTI client)");
		return cuda_sync(ctx, err);
	}
	if (cupti_owner != p || !p->subscribed)
		return aisp_fail(err, AISP_EINTERNAL, "CUPTI counting not on");
	rc = cuda_sync(ctx, err);
	if (!rc)
		rc = cupti_ok(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED),
			      "cuptiActivityFlushAll", err);
	rc2 = cupti_activity_set(0, rc ? NULL : err);
	p->activity_on = 0;
	/* Collect any record still buffered, then let go of CUPTI. */
	cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
	cuptiUnsubscribe(p->sub);
	p->subscribed = 0;
	cupti_owner = NULL;
	if (rc || rc2)
		return rc ? rc : rc2;
	out->api = p->calls ? p->api : -1;
	out->kernels = p->kernels;
	out->ops = p->ops;
	if (p->ops > 0) {
		out->device_ms = (double)p->busy_ns * 1e-6;
		out->span_ms = (double)(p->last_ns - p->first_ns) * 1e-6;
	}
	cupti_names_text(p, out->names, sizeof(out->names));
	return AISP_OK;
}

/* Open an NVTX range (shows in Nsight Systems and Compute). */
static void cuda_range_push(struct aisp_ctx *ctx, const char *label)
{
	(void)ctx;
	nvtxRangePushA(label);
}

/* Close the innermost NVTX range. */
static void cuda_range_pop(struct aisp_ctx *ctx)
{
	(void)ctx;
	nvtxRangePop();
}

/* Device memory for aisp_device_alloc; NULL when cudaMalloc fails. */
static void *cuda_mem_alloc(struct aisp_ctx *ctx, size_t bytes)
{
	void *p = NULL;

	(void)ctx;
	return cudaMalloc(&p, bytes ? bytes : 1) == cudaSuccess ? p : NULL;
}

/* Free what cuda_mem_alloc gave (the harness synced the stream first). */
static void cuda_mem_free(struct aisp_ctx *ctx, void *p)
{
	(void)ctx;
	cudaFree(p);
}

const struct aisp_backend_ops backend_cuda = {
	.name = "cuda",
	.kind = AISP_BACKEND_CUDA,
	.open = cuda_open,
	.close = cuda_close,
	.time_begin = cuda_time_begin,
	.time_end = cuda_time_end,
	.sync = cuda_sync,
	.count_begin = cuda_count_begin,
	.trace_begin = cuda_trace_begin,
	.count_end = cuda_count_end,
	.range_push = cuda_range_push,
	.range_pop = cuda_range_pop,
	.mem_alloc = cuda_mem_alloc,
	.mem_free = cuda_mem_free,
};
