/*
 * backend_cuda.c - the CUDA backend: one device, one stream, one cuBLAS
 * handle bound to it, events around each timed iteration, launch counting
 * with CUPTI and NVTX ranges. Built only with CUDA=1.
 *
 * cuBLAS math mode is CUBLAS_DEFAULT_MATH (pure FP32 for Sgemm: no TF32
 * tensor cores); a target that wants TF32 sets it on its own handle copy.
 *
 * Launch counting uses two CUPTI APIs:
 *  - the callback API (with our state as userdata) counts launch *calls*:
 *    runtime launches and graph launches, plus driver launches not made from
 *    inside a runtime launch (cuBLAS and friends call the driver directly);
 *  - the activity API counts kernels that actually *ran* (graph nodes too).
 * CUPTI's activity buffer callbacks take no user pointer, so the counter
 * in use is found through cupti_owner: the one file-level variable here,
 * set by count_begin and cleared by count_end (one counter per process).
 */
#include "backend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cupti.h>
#include <nvtx3/nvToolsExt.h>

#define CUDA_WORKSPACE_BYTES (32u << 20) /* cuBLAS workspace (Hopper advice) */
#define CUPTI_BUF_BYTES (1u << 20)
#define CUPTI_BUF_ALIGN 8

struct cuda_priv {
	cudaStream_t stream;
	cublasHandle_t blas;
	cudaEvent_t ev_begin, ev_end;
	void *workspace;
	CUpti_SubscriberHandle sub;
	int subscribed, activity_on;
	int busy;              /* another CUPTI client (ncu, nsys): no counts */
	int rt_depth;          /* inside a counted runtime launch call */
	long api, kernels;
};

static struct cuda_priv *cupti_owner;

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
		cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
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

/* CUPTI hands back a filled buffer: count its kernel records, free it. */
static void CUPTIAPI cupti_buf_complete(CUcontext cu, uint32_t stream_id, uint8_t *buf,
					size_t size, size_t valid)
{
	CUpti_Activity *rec = NULL;

	(void)cu;
	(void)stream_id;
	(void)size;
	while (cupti_owner && valid > 0 &&
	       cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS) {
		if (rec->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL ||
		    rec->kind == CUPTI_ACTIVITY_KIND_KERNEL)
			cupti_owner->kernels++;
	}
	free(buf);
}

/* Enable the launch callbacks of one domain. */
static aisp_err cupti_enable_domain(struct cuda_priv *p, CUpti_CallbackDomain dom,
				    aisp_error *err)
{
	return cupti_ok(cuptiEnableDomain(1, p->sub, dom), "cuptiEnableDomain", err);
}

/* Start counting: launch-call callbacks and kernel activity records. Under
 * another CUPTI client (a profiler) counting is skipped: count_end gives -1. */
static aisp_err cuda_count_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	CUptiResult r;
	aisp_err rc;

	if (cupti_owner)
		return aisp_fail(err, AISP_EINTERNAL, "CUPTI counting already on");
	if ((rc = cuda_sync(ctx, err)))
		return rc;
	p->api = p->kernels = 0;
	p->rt_depth = 0;
	p->busy = 0;
	r = cuptiSubscribe(&p->sub, cupti_on_api, p);
	if (r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
		p->busy = 1; /* under a profiler: counts are unknown (-1), not an error */
		return AISP_OK;
	}
	if ((rc = cupti_ok(r, "cuptiSubscribe", err)))
		return rc;
	p->subscribed = 1;
	cupti_owner = p;
	if ((rc = cupti_enable_domain(p, CUPTI_CB_DOMAIN_RUNTIME_API, err)) ||
	    (rc = cupti_enable_domain(p, CUPTI_CB_DOMAIN_DRIVER_API, err)) ||
	    (rc = cupti_ok(cuptiActivityRegisterCallbacks(cupti_buf_request,
							   cupti_buf_complete),
			   "cuptiActivityRegisterCallbacks", err)) ||
	    (rc = cupti_ok(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL),
			   "cuptiActivityEnable(CONCURRENT_KERNEL)", err)))
		goto out;
	p->activity_on = 1;
	return AISP_OK;
out:
	cuptiUnsubscribe(p->sub);
	p->subscribed = 0;
	cupti_owner = NULL;
	return rc;
}

/* Stop counting: wait for the work, flush the records, report both counts. */
static aisp_err cuda_count_end(struct aisp_ctx *ctx, long *api, long *kernels,
			       aisp_error *err)
{
	struct cuda_priv *p = ctx->priv;
	aisp_err rc, rc2;

	*api = *kernels = -1;
	if (p->busy) {
		p->busy = 0;
		return cuda_sync(ctx, err);
	}
	if (cupti_owner != p || !p->subscribed)
		return aisp_fail(err, AISP_EINTERNAL, "CUPTI counting not on");
	rc = cuda_sync(ctx, err);
	if (!rc)
		rc = cupti_ok(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED),
			      "cuptiActivityFlushAll", err);
	rc2 = cupti_ok(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL),
		       "cuptiActivityDisable", rc ? NULL : err);
	p->activity_on = 0;
	/* Collect any record still buffered, then let go of CUPTI. */
	cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
	cuptiUnsubscribe(p->sub);
	p->subscribed = 0;
	cupti_owner = NULL;
	if (rc || rc2)
		return rc ? rc : rc2;
	*api = p->api;
	*kernels = p->kernels;
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
	.count_end = cuda_count_end,
	.range_push = cuda_range_push,
	.range_pop = cuda_range_pop,
	.mem_alloc = cuda_mem_alloc,
	.mem_free = cuda_mem_free,
};
