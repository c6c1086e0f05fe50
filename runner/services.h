/*
 * services.h - what the harness offers targets through their context
 * (aisp.h: aisp_alloc, aisp_facts, aisp_hold): memory the harness frees
 * after the variant, device facts as the harness reads them (NVML on CUDA,
 * /proc and /sys on the host) and a load held for a while with those facts
 * sampled, so that no target reads a clock or sleeps.
 */
#ifndef AISP_SERVICES_H
#define AISP_SERVICES_H

#include "backend.h"

/* Offer the services on ctx, an open context of backend be: sets
 * ctx->alloc, ctx->facts, ctx->hold and ctx->harness. NVML is loaded on
 * first use. */
aisp_err services_open(struct aisp_ctx *ctx, const struct aisp_backend_ops *be,
		       aisp_error *err);

/* Free the memory that targets took with aisp_alloc and
 * aisp_device_alloc (after the variant's teardown: the work is waited for
 * first). Nothing to do on a context without services. */
void services_release(struct aisp_ctx *ctx);

/* Take them back and free what they hold; safe after a failed open. */
void services_close(struct aisp_ctx *ctx);

/* The host's facts now: hottest thermal zone, EDAC error counts,
 * HardwareCorrupted pages, lowest CPU clock vs its maximum, available
 * memory; NAN (throttle -1) for what the host does not report. */
void services_host_facts(struct aisp_facts *out);

#endif /* AISP_SERVICES_H */
