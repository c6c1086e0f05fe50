/*
 * launch_host.c - qual:launch on the host: the cost of issuing many tiny
 * units of work, the stand-in for kernel launch latency.
 *
 *   baseline_stream  `launches` calls, one at a time, of a do-almost-nothing
 *                    function through a pointer (a launch per kernel)
 *   optimized_graph  the same calls recorded once into a table of
 *                    (function, argument) nodes and replayed from it each
 *                    iteration (a graph replay)
 * The "kernel" adds one to a counter, so verify can check that exactly
 * `launches` of them ran. Work is launches (throughput launches/s; the
 * time per launch is 1 / throughput).
 */
#include "aisp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

/* Same table as launch.cu except the default. */
static const struct aisp_param launch_params[] = {
	{"launches", AISP_PARAM_INT, 1000000, 1, 100000000, "empty launches per iteration"},
};

typedef void (*launch_fn)(volatile unsigned long *ctr);

/* One recorded node of the host "graph". */
struct launch_node {
	launch_fn fn;
	volatile unsigned long *arg;
};

/* Everything one variant owns. */
struct launch {
	int graph;                  /* 0: one call at a time, 1: replay nodes */
	int knob;
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

/* One iteration: n calls or one replay of n nodes, stretched by the knob. */
static aisp_err launch_run(void *state)
{
	struct launch *l = state;
	double t0 = l->knob > 0 ? qual_now() : 0.0;

	if (!l->graph) {
		for (size_t i = 0; i < l->n; i++)
			l->fn(&l->ctr);
	} else {
		for (size_t i = 0; i < l->n; i++)
			l->nodes[i].fn(l->nodes[i].arg);
	}
	qual_stretch(l->knob, t0);
	return AISP_OK;
}

/* Free everything setup made; state may be NULL. */
static void launch_teardown(void *state)
{
	struct launch *l = state;

	if (!l)
		return;
	free(l->nodes);
	free(l);
}

/* Record the graph (graph variant) once. */
static aisp_err launch_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state, int graph)
{
	struct launch *l = calloc(1, sizeof(*l));

	*state = NULL;
	if (!l)
		return AISP_ENOMEM;
	l->graph = graph;
	l->knob = ctx->test_knob;
	l->n = (size_t)p->v[0];
	l->fn = launch_kernel;
	if (graph) {
		l->nodes = malloc(l->n * sizeof(*l->nodes));
		if (!l->nodes) {
			launch_teardown(l);
			return AISP_ENOMEM;
		}
		for (size_t i = 0; i < l->n; i++)
			l->nodes[i] = (struct launch_node){launch_kernel, &l->ctr};
	}
	*state = l;
	return AISP_OK;
}

static aisp_err launch_setup_stream(const struct aisp_ctx *ctx, const struct aisp_params *p,
				    void **state)
{
	return launch_setup(ctx, p, state, 0);
}

static aisp_err launch_setup_graph(const struct aisp_ctx *ctx, const struct aisp_params *p,
				   void **state)
{
	return launch_setup(ctx, p, state, 1);
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

/* Launches per iteration. */
static double launch_work(const struct aisp_params *p)
{
	return p->v[0];
}

static const struct aisp_variant launch_variants[] = {
	{"baseline_stream", AISP_ROLE_BASELINE, "one call per launch through a function pointer",
	 launch_setup_stream, launch_run, launch_verify, launch_teardown},
	{"optimized_graph", AISP_ROLE_OPTIMIZED, "calls recorded once into a node table, replayed",
	 launch_setup_graph, launch_run, launch_verify, launch_teardown},
};

const struct aisp_target qual_launch_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:launch",
	.backend = AISP_BACKEND_HOST,
	.description = "empty-kernel launch rate: stream launches vs graph replay (launches/s)",
	.goal = "throughput",
	.params = launch_params,
	.n_params = sizeof(launch_params) / sizeof(launch_params[0]),
	.variants = launch_variants,
	.n_variants = sizeof(launch_variants) / sizeof(launch_variants[0]),
	.work = launch_work,
	.work_unit = "launch",
};
