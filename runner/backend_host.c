/* backend_host.c - the host backend: CLOCK_MONOTONIC around each iteration. */
#include "backend.h"

#include <stdlib.h>
#include <time.h>

struct host_state {
	struct timespec t0;
};

static aisp_err host_open(int device, struct aisp_ctx *ctx, aisp_error *err)
{
	ctx->backend = AISP_BACKEND_HOST;
	ctx->device = device;
	ctx->stream = NULL;
	ctx->blas = NULL;
	ctx->priv = calloc(1, sizeof(struct host_state));
	if (!ctx->priv)
		return aisp_fail(err, AISP_ENOMEM, "host backend: out of memory");
	return AISP_OK;
}

static void host_close(struct aisp_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static aisp_err host_time_begin(struct aisp_ctx *ctx, aisp_error *err)
{
	struct host_state *s = ctx->priv;

	(void)err;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	return AISP_OK;
}

static aisp_err host_time_end(struct aisp_ctx *ctx, double *ms, aisp_error *err)
{
	struct host_state *s = ctx->priv;
	struct timespec t1;

	(void)err;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - s->t0.tv_sec) * 1e3 +
	      (double)(t1.tv_nsec - s->t0.tv_nsec) * 1e-6;
	return AISP_OK;
}

static aisp_err host_sync(struct aisp_ctx *ctx, aisp_error *err)
{
	(void)ctx;
	(void)err;
	return AISP_OK;
}

const struct aisp_backend_ops backend_host = {
	.name = "host",
	.kind = AISP_BACKEND_HOST,
	.open = host_open,
	.close = host_close,
	.time_begin = host_time_begin,
	.time_end = host_time_end,
	.sync = host_sync,
};
