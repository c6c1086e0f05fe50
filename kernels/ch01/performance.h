/*
 * performance.h - ch01:performance, what both twins share (performance_host.c,
 * performance.cu): a 3-layer MLP training loop, samples per iteration =
 * microbatch x microbatches, SGD every `accum` microbatches (mlp_ref.h), every
 * weight and bias updated at every step.
 */
#ifndef AISP_CH01_PERFORMANCE_H
#define AISP_CH01_PERFORMANCE_H

#include "aisp.h"

/* Indices into the table (and into struct aisp_params.v). */
enum {
	PERF_P_INPUT, PERF_P_HIDDEN, PERF_P_CLASSES, PERF_P_MICROBATCH,
	PERF_P_MICROBATCHES, PERF_P_ACCUM, PERF_P_LR, PERF_P_N
};

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
	return p->v[PERF_P_MICROBATCH] * p->v[PERF_P_MICROBATCHES];
}

/* GEMM FLOPs per iteration: forward 2 MACs, weight gradients 2 MACs, input
 * gradients 2 MACs of layers 2 and 3 (none for the data), per sample.
 * Bias, ReLU, softmax and SGD (O(params + samples * width)) are left out. */
static inline double perf_flops(const struct aisp_params *p)
{
	double I = p->v[PERF_P_INPUT], H = p->v[PERF_P_HIDDEN], C = p->v[PERF_P_CLASSES];

	return 2.0 * perf_samples(p) * (2.0 * (I * H + H * H + H * C) + H * H + H * C);
}

/*
 * Fewest weight bytes per iteration of the every-step scheme with FP32
 * master weights and 16-bit copies (notes/performance.md): per step W1 is
 * read as a 16-bit copy by the forward GEMM (2 B a weight) and updated
 * (master read 4 + written 4, copy written 2); W2 the same plus the read of
 * its copy by the input-gradient GEMM (2). Activations (~40 MB a step at the
 * book's shape) and the small tensors are left out: 13.96 GB there.
 */
static inline double perf_bytes(const struct aisp_params *p)
{
	double I = p->v[PERF_P_INPUT], H = p->v[PERF_P_HIDDEN];
	double steps = (double)(long)(p->v[PERF_P_MICROBATCHES] / p->v[PERF_P_ACCUM]);

	return steps * (12.0 * I * H + 14.0 * H * H);
}

static const struct aisp_card perf_card = {
	.name = "ch01:performance",
	.description = "training-loop goodput: FP32 eager with gradient accumulation vs reduced "
		       "precision with fused microbatches",
	.goal = "throughput", .params = perf_params, .n_params = AISP_COUNT(perf_params),
	.work = perf_samples, .work_unit = "samples", .bytes = perf_bytes, .flops = perf_flops,
};

#endif /* AISP_CH01_PERFORMANCE_H */
