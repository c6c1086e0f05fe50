/*
 * performance_params.h - the parameters of ch01:performance, one table for
 * both twins (performance.cu, performance_host.c): names, order, types,
 * ranges and help are the same; only the defaults of the shape differ (the
 * book's shape on CUDA, a small one on the host, which has no tensor cores).
 *
 *	static const struct aisp_param perf_params[] = PERF_PARAMS(8192, 8192, 64);
 */
#ifndef AISP_PERFORMANCE_PARAMS_H
#define AISP_PERFORMANCE_PARAMS_H

#include "aisp.h"

/* Indices into the table (and into struct aisp_params.v). */
enum {
	PERF_P_INPUT, PERF_P_HIDDEN, PERF_P_CLASSES, PERF_P_MICROBATCH,
	PERF_P_MICROBATCHES, PERF_P_ACCUM, PERF_P_LR, PERF_P_N
};

/* The table's initializer with the given default input, hidden and
 * microbatches. */
#define PERF_PARAMS(INPUT, HIDDEN, MICROBATCHES)                                        \
	{                                                                               \
		{"input", AISP_PARAM_INT, INPUT, 1, 65536, "input features"},             \
		{"hidden", AISP_PARAM_INT, HIDDEN, 1, 65536,                              \
		 "hidden size of both hidden layers"},                                    \
		{"classes", AISP_PARAM_INT, 10, 2, 1024, "output classes"},               \
		{"microbatch", AISP_PARAM_INT, 32, 1, 4096, "samples per microbatch"},    \
		{"microbatches", AISP_PARAM_INT, MICROBATCHES, 1, 4096,                   \
		 "microbatches per iteration"},                                           \
		{"accum", AISP_PARAM_INT, 8, 1, 4096,                                     \
		 "microbatches per SGD step (fused group)"},                              \
		{"lr", AISP_PARAM_REAL, 0.01, 1e-6, 1.0, "SGD learning rate"},            \
	}

#endif /* AISP_PERFORMANCE_PARAMS_H */
