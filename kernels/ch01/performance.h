/*
 * performance.h - ch01:performance, what both twins share (performance_host.c,
 * performance.cu): a 3-layer MLP training loop, samples per iteration =
 * microbatch x microbatches, SGD every `accum` microbatches (mlp_ref.h).
 */
#ifndef AISP_CH01_PERFORMANCE_H
#define AISP_CH01_PERFORMANCE_H

#include "aisp.h"

static const struct aisp_param perf_params[] = {
	{"input", AISP_PARAM_INT, {128, 8192}, 1, 65536, "input features"},
	{"hidden", AISP_PARAM_INT, {128, 8192}, 1, 65536, "hidden size of both hidden layers"},
	{"classes", AISP_PARAM_INT, {10, 10}, 2, 1024, "output classes"},
	{"microbatch", AISP_PARAM_INT, {32, 32}, 1, 4096, "samples per microbatch"},
	{"microbatches", AISP_PARAM_INT, {16, 64}, 1, 4096, "microbatches per iteration"},
	{"accum", AISP_PARAM_INT, {8, 8}, 1, 4096, "microbatches per SGD step (fused group)"},
	{"lr", AISP_PARAM_REAL, {0.01, 0.01}, 1e-6, 1.0, "SGD learning rate"},
};

/* Samples per iteration. */
static inline double perf_samples(const struct aisp_params *p)
{
	return p->v[3] * p->v[4];
}

/* GEMM FLOPs per iteration: forward 2 MACs, weight gradients 2 MACs, input
 * gradients 2 MACs of layers 2 and 3 (none for the data), per sample.
 * Bias, ReLU, softmax and SGD (O(params + samples * width)) are left out. */
static inline double perf_flops(const struct aisp_params *p)
{
	double I = p->v[0], H = p->v[1], C = p->v[2];

	return 2.0 * perf_samples(p) * (2.0 * (I * H + H * H + H * C) + H * H + H * C);
}

static const struct aisp_card perf_card = {
	.name = "ch01:performance",
	.description = "training-loop goodput: FP32 eager with gradient accumulation vs reduced "
		       "precision with fused microbatches",
	.goal = "throughput", .params = perf_params, .n_params = AISP_COUNT(perf_params),
	.work = perf_samples, .work_unit = "samples", .flops = perf_flops,
};

#endif /* AISP_CH01_PERFORMANCE_H */
