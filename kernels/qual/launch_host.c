/*
 * launch_host.c - qual:launch on the host (launch.h), the stand-in for
 * kernel launch latency: the "kernel" is a do-almost-nothing function
 * called through a pointer; the "graph" a table of (function, argument)
 * nodes recorded once and replayed.
 */
#include <math.h>
#include <stdio.h>

#include "launch.h"

typedef void (*launch_fn)(volatile unsigned long *ctr);

/* One recorded node of the host "graph". */
struct launch_node {
	launch_fn fn;
	volatile unsigned long *arg;
};

/* Everything one variant owns. */
struct launch {
	int graph;                  /* 0: one call at a time, 1: replay nodes */
	size_t n;
	volatile unsigned long ctr; /* what the "kernels" count */
	launch_fn fn;               /* called through a pointer: never inlined */
	struct launch_node *nodes;  /* the recorded graph (graph variant) */
};

/* The empty kernel: one increment of the counter. */
static __attribute__((noinline)) void launch_kernel(volatile unsigned long *ctr)
{
	*ctr += 1;
}

/* One iteration: n calls or one replay of n nodes. */
static aisp_err launch_run(void *state)
{
	struct launch *l = state;

	if (!l->graph) {
		for (size_t i = 0; i < l->n; i++)
			l->fn(&l->ctr);
	} else {
		for (size_t i = 0; i < l->n; i++)
			l->nodes[i].fn(l->nodes[i].arg);
	}
	return AISP_OK;
}

/* Record the graph (graph variant) once. */
static aisp_err launch_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct launch *l = aisp_alloc(ctx, sizeof(*l));

	if (!l)
		return AISP_ENOMEM;
	l->graph = ((const struct launch_kind *)ctx->variant->arg)->graph;
	l->n = (size_t)p->v[0];
	l->fn = launch_kernel;
	if (l->graph) {
		l->nodes = aisp_alloc(ctx, l->n * sizeof(*l->nodes));
		if (!l->nodes)
			return AISP_ENOMEM;
		for (size_t i = 0; i < l->n; i++)
			l->nodes[i] = (struct launch_node){launch_kernel, &l->ctr};
	}
	*state = l;
	return AISP_OK;
}

/* Zero the counter, run once, check that every launch ran exactly once. */
static aisp_err launch_verify(void *state, struct aisp_check *out)
{
	struct launch *l = state;
	aisp_err rc;

	l->ctr = 0;
	if ((rc = launch_run(l)))
		return rc;
	out->rel_error = fabs((double)l->ctr - (double)l->n) / (double)l->n;
	out->tolerance = 0.0;
	out->passed = l->ctr == l->n;
	snprintf(out->message, sizeof(out->message),
		 "%lu of %zu host launches ran (%s); time per launch = 1 / throughput",
		 (unsigned long)l->ctr, l->n,
		 l->graph ? "replayed from a recorded table" : "one call at a time");
	return AISP_OK;
}

static const struct aisp_ops launch_ops = {launch_setup, launch_run, launch_verify};

static const struct aisp_variant launch_variants[] = {
	{"baseline_stream", AISP_ROLE_BASELINE, "one call per launch through a function pointer",
	 &launch_ops, &launch_stream},
	{"optimized_graph", AISP_ROLE_OPTIMIZED, "calls recorded once into a node table, replayed",
	 &launch_ops, &launch_graph},
};

const struct aisp_target qual_launch_host = {AISP_ABI_VERSION, &launch_card, AISP_BACKEND_HOST,
					     AISP_LIST(launch_variants)};
