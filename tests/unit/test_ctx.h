/*
 * test_ctx.h - unit tests drive a variant by hand the way the worker does:
 * a host backend context with the harness's services (device facts, held
 * load), ctx->variant set before setup.
 */
#ifndef AISP_TEST_CTX_H
#define AISP_TEST_CTX_H

#include "backend.h"
#include "services.h"

/* Open a host context with seed and the harness's services. */
static inline void test_ctx_open(struct aisp_ctx *ctx, uint64_t seed)
{
	memset(ctx, 0, sizeof(*ctx));
	assert_int_equal(backend_host.open(0, ctx, NULL), AISP_OK);
	assert_int_equal(services_open(ctx, &backend_host, NULL), AISP_OK);
	ctx->seed = seed;
}

/* Free what test_ctx_open made. */
static inline void test_ctx_close(struct aisp_ctx *ctx)
{
	services_close(ctx);
	backend_host.close(ctx);
}

/* Setup of variant vi of t on ctx (ctx->variant set as the harness does). */
static inline aisp_err test_setup(struct aisp_ctx *ctx, const struct aisp_target *t, size_t vi,
				  const struct aisp_params *p, void **state)
{
	ctx->variant = &t->variants[vi];
	return t->variants[vi].ops->setup(ctx, p, state);
}

#endif /* AISP_TEST_CTX_H */
