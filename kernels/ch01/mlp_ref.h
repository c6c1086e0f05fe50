/*
 * mlp_ref.h - the ch01:performance model, its seeded weights and data, and
 * a float64 reference of its training, shared by the host twin and by the
 * CUDA target's checks on small shapes.
 *
 * Model: x -> Linear(hidden) -> ReLU -> Linear(hidden) -> ReLU ->
 * Linear(classes), softmax cross-entropy averaged over the samples of a
 * step, plain SGD (w -= lr * grad).
 *
 * Parameters live in one flat float vector, PyTorch's order and layout:
 * W1 [hidden][input], b1 [hidden], W2 [hidden][hidden], b2 [hidden],
 * W3 [classes][hidden], b3 [classes]; W row-major [out][in].
 *
 * Random streams (aisp_rng_* of aisp.h, seed from ctx->seed): parameters from salt
 * 101 in flat order; inputs x [n][input] uniform(-1, 1) from salt 102;
 * labels y = argmax_c (T x)_c for a teacher T [classes][input] uniform(-1, 1)
 * from salt 103, so that the labels are learnable and the loss falls.
 *
 * ch01:performance uses n = microbatches * microbatch samples and steps of
 * accum * microbatch of them. To check another implementation of it:
 *
 *	mlp_layout_of(&s, &l);                   params hold l.total floats
 *	mlp_init_params(&s, seed, w0);
 *	mlp_make_data(&s, seed, n, x, y);
 *	mlp_ref_train(&s, w0, x, y, n, accum * microbatch, steps, lr, loss, w);
 *
 * then judge the iteration with mlp_judge: its losses against loss[] and
 * the change of each segment (final - w0) against w - w0.
 */
#ifndef AISP_MLP_REF_H
#define AISP_MLP_REF_H

#include <stddef.h>
#include <stdint.h>

#include "aisp.h"

struct mlp_shape {
	size_t input, hidden, classes;
};

/* Segments of the flat parameter vector, in order. */
enum { MLP_W1, MLP_B1, MLP_W2, MLP_B2, MLP_W3, MLP_B3, MLP_NSEG };

/* Where each segment starts and how long it is; layer l (0..2) has weight
 * segment 2l and bias segment 2l+1, with in[l] inputs and out[l] outputs. */
struct mlp_layout {
	size_t off[MLP_NSEG], len[MLP_NSEG];
	size_t in[3], out[3];
	size_t total;
};

/* Fill l for shape s. */
void mlp_layout_of(const struct mlp_shape *s, struct mlp_layout *l);

/* Multiply-adds of one sample's forward pass (sum of in*out over layers). */
double mlp_macs(const struct mlp_shape *s);

/* Parameters from seed: every W and b of a layer uniform(-1/sqrt(in),
 * 1/sqrt(in)), PyTorch's nn.Linear default. params holds layout.total. */
void mlp_init_params(const struct mlp_shape *s, uint64_t seed, float *params);

/* The synthetic data set: n samples x [n][input], labels y [n]. */
void mlp_make_data(const struct mlp_shape *s, uint64_t seed, size_t n,
		   float *x, int32_t *y);

/*
 * Float64 training from params0 (float32, widened): `steps` SGD steps; the
 * samples are visited in order, each step takes step_samples of them, the
 * last step of a pass over the n samples takes what is left, and the next
 * step starts again at sample 0. loss[t] gets step t's mean loss (before
 * its update); params (layout.total doubles) the final parameters.
 * Returns AISP_ENOMEM when its buffers cannot be allocated.
 */
aisp_err mlp_ref_train(const struct mlp_shape *s, const float *params0,
		       const float *x, const int32_t *y, size_t n,
		       size_t step_samples, size_t steps, double lr,
		       double *loss, double *params);

/* Names of the segments as the checks print them: W1 b1 W2 b2 W3 b3. */
extern const char *const mlp_seg_name[MLP_NSEG];

/* One training iteration to judge, in any layout of the parameters that
 * puts segment k at off[k] with len[k] values. */
struct mlp_outcome {
	const size_t *off, *len;        /* MLP_NSEG segments */
	const float *w0;                /* initial parameters */
	const float *got32;             /* final parameters as float ... */
	const double *got64;            /* ... or double: exactly one is set */
	const double *ref;              /* the reference's final parameters */
	const double *loss, *ref_loss;  /* mean loss of each step */
	size_t steps;
};

/*
 * Bounds of a check: seg[k] on segment k's relative update error
 * ||(got - w0) - (ref - w0)|| / ||ref - w0||, loss on the steps' losses
 * ||loss - ref_loss|| / ||ref_loss||. storage: relative rounding of each
 * stored update (2^-24 for float32 master weights; twice that when the
 * reference stores float32 too); each segment's bound grows by
 * steps * storage * ||ref|| / ||ref - w0||, the most that rounding the
 * weights once per step can add to its update error.
 */
struct mlp_tol {
	double seg[MLP_NSEG];
	double loss;
	double storage;
};

/*
 * Judge o against t: passed when every segment and the loss are within
 * their bounds (NaN fails). rel_error and tolerance are those of the item
 * nearest its bound. Named values (aisp.h): loss_first and loss_last (the
 * mean loss of the iteration's first step, before any update, and of its
 * last), err:loss, tol:loss, err:<segment>, tol:<segment> (segment: W1 b1 W2
 * b2 W3 b3). The message names what and ref.
 */
void mlp_judge(const struct mlp_outcome *o, const struct mlp_tol *t, const char *what,
	       const char *ref, struct aisp_check *out);

#endif /* AISP_MLP_REF_H */
