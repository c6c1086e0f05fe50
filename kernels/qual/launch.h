/*
 * launch.h - qual:launch, what both twins share (launch_host.c, launch.cu):
 * the cost of issuing many tiny units of work,
 *   baseline_stream  `launches` launches, one call each
 *   optimized_graph  the same launches recorded once, replayed each iteration
 * Each unit adds one to a counter, so verify checks that exactly `launches`
 * of them ran. Work is launches (throughput launches/s; the time per launch
 * is 1 / throughput).
 */
#ifndef AISP_QUAL_LAUNCH_H
#define AISP_QUAL_LAUNCH_H

#include "aisp.h"

/* The variant's argument: one call each, or a replay. */
struct launch_kind {
	int graph;
};

static const struct launch_kind launch_stream = {0};
static const struct launch_kind launch_graph = {1};

static const struct aisp_param launch_params[] = {
	{"launches", AISP_PARAM_INT, {1000000, 1000}, 1, 100000000, "empty launches per iteration"},
};

/* Launches per iteration. */
static inline double launch_work(const struct aisp_params *p)
{
	return p->v[0];
}

static const struct aisp_card launch_card = {
	.name = "qual:launch",
	.description = "empty-kernel launch rate: stream launches vs graph replay (launches/s)",
	.goal = "throughput", .params = launch_params, .n_params = AISP_COUNT(launch_params),
	.work = launch_work, .work_unit = "launch",
};

#endif /* AISP_QUAL_LAUNCH_H */
