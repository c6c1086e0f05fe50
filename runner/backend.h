/*
 * backend.h - what the measuring loop needs from a backend: a device context,
 * a timer around one iteration, launch counting and trace ranges.
 * The host backend is always built; the CUDA one only with CUDA=1.
 */
#ifndef AISP_BACKEND_H
#define AISP_BACKEND_H

#include "aisp.h"

struct aisp_backend_ops {
	const char *name;               /* "host" | "cuda" */
	enum aisp_backend_kind kind;
	/* Make a context on device: stream and BLAS handle in ctx, state in ctx->priv. */
	aisp_err (*open)(int device, struct aisp_ctx *ctx, aisp_error *err);
	/* Free what open made; safe on a context whose open failed. */
	void (*close)(struct aisp_ctx *ctx);
	/* Mark the start of one timed region on ctx's stream. */
	aisp_err (*time_begin)(struct aisp_ctx *ctx, aisp_error *err);
	/* Mark its end, wait for it, and give the region's length in ms. */
	aisp_err (*time_end)(struct aisp_ctx *ctx, double *ms, aisp_error *err);
	/* Wait for all work queued on ctx (after setup, verify, warm-up). */
	aisp_err (*sync)(struct aisp_ctx *ctx, aisp_error *err);
	/* Start counting kernel launches (NULL: not supported). */
	aisp_err (*count_begin)(struct aisp_ctx *ctx, aisp_error *err);
	/* Stop counting: *api = launch calls made, *kernels = kernels run. */
	aisp_err (*count_end)(struct aisp_ctx *ctx, long *api, long *kernels,
			      aisp_error *err);
	/* Labelled trace range (NVTX on CUDA); may be NULL. */
	void (*range_push)(struct aisp_ctx *ctx, const char *label);
	void (*range_pop)(struct aisp_ctx *ctx);
	/* Device memory for aisp_device_alloc (NULL: host memory serves). */
	void *(*mem_alloc)(struct aisp_ctx *ctx, size_t bytes);
	void (*mem_free)(struct aisp_ctx *ctx, void *p);
};

extern const struct aisp_backend_ops backend_host;
#ifdef AISP_HAVE_CUDA
extern const struct aisp_backend_ops backend_cuda;
#endif

/* The ops of kind, or NULL when that backend is not built in. */
const struct aisp_backend_ops *backend_get(enum aisp_backend_kind kind);

#endif /* AISP_BACKEND_H */
