/*
 * backend.h - what the measuring loop needs from a backend: a device context,
 * a timer around one iteration, launch counting and trace ranges.
 * The host backend is built in; the CUDA one (CUDA=1) is a plug-in,
 * lib/aisp-cuda.so beside the binary, that only a worker using it loads
 * (backend_load), so that no other process maps the CUDA libraries.
 */
#ifndef AISP_BACKEND_H
#define AISP_BACKEND_H

#include "aisp.h"

#define BACKEND_NAMES_MAX 1024

/* What one counted or traced pass saw: launch calls (counted passes only),
 * and on the device (CUPTI activity records of kernels, memcpys and
 * memsets) how long the work ran. Device times are NAN when the backend
 * cannot see them. */
struct backend_count {
	long api, kernels;    /* launch calls made, kernels run; -1 unknown */
	long ops;             /* device operations seen: kernels + memcpys + memsets */
	double device_ms;     /* sum of their durations */
	double span_ms;       /* first start to last end */
	char names[BACKEND_NAMES_MAX]; /* "name xN; ..." in order of first start */
};

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
	/* Start recording the device work only, without the API callbacks of
	 * count_begin (they slow every launch): the timer pass. Called again
	 * while recording, it waits for the work so far and forgets it. Ended
	 * by count_end (api -1). NULL: not supported. */
	aisp_err (*trace_begin)(struct aisp_ctx *ctx, aisp_error *err);
	/* Stop counting (or tracing) and fill *out (api/kernels -1 and times
	 * NAN when the counts are unknown, e.g. under a profiler). */
	aisp_err (*count_end)(struct aisp_ctx *ctx, struct backend_count *out,
			      aisp_error *err);
	/* Labelled trace range (NVTX on CUDA); may be NULL. */
	void (*range_push)(struct aisp_ctx *ctx, const char *label);
	void (*range_pop)(struct aisp_ctx *ctx);
	/* Device memory for aisp_device_alloc (NULL: host memory serves). */
	void *(*mem_alloc)(struct aisp_ctx *ctx, size_t bytes);
	void (*mem_free)(struct aisp_ctx *ctx, void *p);
};

extern const struct aisp_backend_ops backend_host;
extern const struct aisp_backend_ops backend_cuda; /* in the plug-in only */

/* What a backend plug-in hands over: its ops and its twins of the targets. */
struct aisp_plugin {
	int abi_version;                         /* AISP_ABI_VERSION */
	const struct aisp_backend_ops *ops;
	const struct aisp_target *const *twins;  /* NULL-terminated */
};

/* The plug-in's one exported symbol (runner/plugin_cuda.c). */
const struct aisp_plugin *aisp_cuda_plugin(void);

/* Path of the CUDA plug-in into buf: $AISP_CUDA_LIB, else the first that
 * exists of lib/, ../lib/aisp/ (an installed prefix) and ../lib/ (tools in
 * the build tree) beside the running binary; lib/ when none does. */
void backend_cuda_path(char *buf, size_t n);

/* 1 when this binary has a CUDA backend (the registry knows CUDA twins) and
 * its plug-in file is there to load. */
int backend_cuda_present(void);

/* The ops of kind, loading its plug-in for CUDA (dlopen) and putting the
 * plug-in's twins in the registry in place of the catalog's. A clear
 * error when the plug-in is missing, does not load or does not match. */
aisp_err backend_load(enum aisp_backend_kind kind, const struct aisp_backend_ops **be,
		      aisp_error *err);

/* backend_load of the plug-in at path (tests). */
aisp_err backend_load_path(const char *path, const struct aisp_backend_ops **be,
			   aisp_error *err);

#endif /* AISP_BACKEND_H */
