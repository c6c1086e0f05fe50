/*
 * ch01_host.h - test hooks of the ch01 host twins. Only unit tests call
 * these; the harness sees the targets through struct aisp_target alone.
 * Every function takes the state a variant's setup returned.
 */
#ifndef AISP_CH01_HOST_H
#define AISP_CH01_HOST_H

#include <stddef.h>

#include "aisp.h"

/* ch01:gemm: the output C (batch x m x n floats); *n gets its length. */
const float *gemm_host_output(void *state, size_t *n);

/* ch01:gemm: scale the float64 reference by (1 + rel), so that a correct
 * output must fail the next verify when rel is above the tolerance. */
void gemm_host_perturb_ref(void *state, double rel);

/* ch01:performance: the float32 master parameters (mlp_ref.h layout);
 * a test may change them (a planted mutant) and judge them again. */
float *perf_host_params(void *state, size_t *n);

/* ch01:performance: judge the parameters and losses as they are now
 * against the float64 reference, as verify does after its iteration. */
void perf_host_judge(void *state, struct aisp_check *out);

/* ch01:performance: the loss of each SGD step of the last iteration. */
const double *perf_host_losses(void *state, size_t *n);

/* ch01:performance: scale the float64 reference (final parameters and
 * losses) by (1 + rel), as gemm_host_perturb_ref. */
void perf_host_perturb_ref(void *state, double rel);

#endif /* AISP_CH01_HOST_H */
