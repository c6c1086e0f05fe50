/*
 * perf_hooks.h - test-only hooks into ch01:performance on CUDA
 * (perf_hooks.cu), for the GPU driver perf_driver.cu. Every function takes
 * the state a variant's setup returned; the fused variant's hooks return
 * AISP_EINPUT for the baseline's state.
 */
#ifndef AISP_PERF_HOOKS_H
#define AISP_PERF_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "aisp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 for the fused (optimized) variant's state. */
int perf_test_is_fused(void *state);
/* SGD steps per iteration. */
int perf_test_steps(void *state);
/* Mean loss of each step of the last iteration into loss[steps]; syncs. */
aisp_err perf_test_step_losses(void *state, double *loss);
/* The fused graph: branch level, update kernel (0 cuBLASLt + cast, 1 own
 * fused kernel, 2 the same with the masters prefetched), whether the own
 * kernel takes this shape, ReLU-mask fallback. */
void perf_test_graph(void *state, int *branches, int *update, int *fused_ok, int *fallback);
/* Recapture the fused graph with branches (0-2) and update (0-2). */
aisp_err perf_test_set_graph(void *state, int branches, int update);
/* Length of the padded parameter vector, and the fused variant's FP32
 * masters in it after the last run (host floats). */
size_t perf_test_nparams(void *state);
aisp_err perf_test_params(void *state, float *host);
/* Replace the fused graph by a serial one with a planted mutant: "w1", "w2"
 * (not updated), "bias" (b2 update dropped), "copy" (FP16 copy of W1 not
 * refreshed; cuBLASLt update only), "step" (the middle step's updates
 * dropped), "lr2" (lr doubled). EINPUT for an unknown one. */
aisp_err perf_test_mutant(void *state, const char *name);
/* Eager median time of each operation of one fused step, as text. */
aisp_err perf_test_profile(void *state, int reps, char *buf, size_t cap);
/* The own update kernel (form prefetch 0 or 1) alone, M x N x K from seed,
 * against float64 (and its FP16 copy against the master); *ok when within
 * the bound. */
aisp_err perf_test_update_unit(int M, int N, int K, int prefetch, uint64_t seed, char *buf,
			       size_t cap, int *ok);

#ifdef __cplusplus
}
#endif

#endif /* AISP_PERF_HOOKS_H */
