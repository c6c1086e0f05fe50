/*
 * launch.cu - qual:launch on CUDA: kernel launch cost, `launches` tiny
 * kernels per iteration (<<<1, 1>>>, one thread adds one to a counter so
 * verify can count the launches that ran; nothing else):
 *   baseline_stream  each kernel launched on the stream, one call apiece
 *   optimized_graph  the same launches captured once into a CUDA graph of
 *                    `launches` kernel nodes, replayed with one call
 * Work is launches: throughput is launches/s and the time per launch
 * (latency of back-to-back launches) is 1 / throughput. baseline_stream's
 * median is the host's launch rate (in a VM, its vCPU's: 46% between
 * processes on an H200 while CUPTI's device_ms held within 0.2%, issue 16);
 * optimized_graph and device_ms are the GPU side.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "launch.h"
#include "qual_cuda.cuh"

/* Everything one variant owns. */
struct launch {
	int graph;
	long n;
	cudaStream_t stream;
	unsigned *ctr;        /* device counter the kernels add to */
	cudaGraph_t g;
	cudaGraphExec_t exec;
	aisp_error *err;      /* ctx->err: where failures are explained */
};

/* The (almost) empty kernel: one thread, one increment. */
static __global__ void launch_tick(unsigned *ctr)
{
	*ctr += 1;
}

/* Launch the n kernels one by one on the stream. */
static aisp_err launch_enqueue(struct launch *l)
{
	for (long i = 0; i < l->n; i++)
		launch_tick<<<1, 1, 0, l->stream>>>(l->ctr);
	return qual_cuda(l->err, cudaGetLastError(), "launch: <<<1,1>>> launch");
}

/* One iteration: n launches, or one graph replay; never synchronizes. */
static aisp_err launch_run(void *state)
{
	struct launch *l = (struct launch *)state;

	if (!l->graph)
		return launch_enqueue(l);
	return qual_cuda(l->err, cudaGraphLaunch(l->exec, l->stream), "launch: cudaGraphLaunch");
}

/* Destroy the graph (the memory is the harness's); state may be half-built. */
static void launch_teardown(void *state)
{
	struct launch *l = (struct launch *)state;

	if (l->stream)
		cudaStreamSynchronize(l->stream);
	if (l->exec)
		cudaGraphExecDestroy(l->exec);
	if (l->g)
		cudaGraphDestroy(l->g);
}

/* Counter; for the graph variant, capture the launches once and upload. */
static aisp_err launch_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct launch *l = (struct launch *)aisp_alloc(ctx, sizeof(*l));
	int graph = ((const struct launch_kind *)ctx->variant->arg)->graph;
	aisp_err rc = AISP_EDEVICE;

	if (!l)
		return AISP_ENOMEM;
	l->graph = graph;
	l->n = (long)p->v[0];
	l->stream = (cudaStream_t)ctx->stream;
	l->err = ctx->err;
	l->ctr = (unsigned *)aisp_device_alloc(ctx, sizeof(*l->ctr));
	if (!l->ctr)
		return AISP_ENOMEM;
	if (graph) {
		if (cudaStreamBeginCapture(l->stream, cudaStreamCaptureModeThreadLocal))
			goto fail;
		rc = launch_enqueue(l);
		if (cudaStreamEndCapture(l->stream, &l->g) || rc ||
		    cudaGraphInstantiate(&l->exec, l->g, 0) ||
		    cudaGraphUpload(l->exec, l->stream) || cudaStreamSynchronize(l->stream)) {
			rc = AISP_EDEVICE;
			goto fail;
		}
	}
	*state = l;
	return AISP_OK;
fail:
	launch_teardown(l);
	return qual_fail(ctx->err, rc, graph ? "launch setup (capture, instantiate graph)"
					     : "launch setup");
}

/* Zero the counter, run once, check that exactly n kernels ran. */
static aisp_err launch_verify(void *state, struct aisp_check *out)
{
	struct launch *l = (struct launch *)state;
	unsigned got = 0;
	aisp_err rc;

	if (cudaMemsetAsync(l->ctr, 0, sizeof(*l->ctr), l->stream))
		return qual_fail(l->err, AISP_EDEVICE, "launch verify: reset counter");
	if ((rc = launch_run(l)))
		return rc;
	if (cudaMemcpyAsync(&got, l->ctr, sizeof(got), cudaMemcpyDeviceToHost, l->stream) ||
	    cudaStreamSynchronize(l->stream))
		return qual_fail(l->err, AISP_EDEVICE, "launch verify: run and read counter");
	out->rel_error = fabs((double)got - (double)l->n) / (double)l->n;
	out->tolerance = 0.0;
	out->passed = (long)got == l->n;
	snprintf(out->message, sizeof(out->message),
		 "%u of %ld <<<1,1>>> kernels ran (%s); time per launch = 1 / throughput",
		 got, l->n, l->graph ? "one graph replay" : "one launch call each");
	return AISP_OK;
}

static const struct aisp_ops launch_ops = {launch_setup, launch_run, launch_verify,
					   launch_teardown};

static const struct aisp_variant launch_variants[] = {
	{"baseline_stream", AISP_ROLE_BASELINE,
	 "one <<<1,1>>> launch call per kernel on a stream; the median is the host's launch path "
	 "(GPU side: optimized_graph, device_ms)", &launch_ops, &launch_stream,
	 AISP_VARIANT_HOST_LAUNCH},
	{"optimized_graph", AISP_ROLE_OPTIMIZED, "the launches captured once into a CUDA graph, replayed",
	 &launch_ops, &launch_graph},
};

extern "C" const struct aisp_target qual_launch_cuda = {AISP_ABI_VERSION, &launch_card,
							 AISP_BACKEND_CUDA,
							 AISP_LIST(launch_variants)};
