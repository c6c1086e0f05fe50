/* mlp_ref_host.c - the ch01:performance model: seeded data and a float64
 * reference of its training (see mlp_ref.h). Plain loops, no blocking: it
 * is the yardstick, not a benchmark. */
#include "mlp_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offsets and lengths of the six parameter segments of shape s. */
void mlp_layout_of(const struct mlp_shape *s, struct mlp_layout *l)
{
	size_t off = 0;

	l->in[0] = s->input;
	l->out[0] = s->hidden;
	l->in[1] = s->hidden;
	l->out[1] = s->hidden;
	l->in[2] = s->hidden;
	l->out[2] = s->classes;
	for (int i = 0; i < 3; i++) {
		l->off[2 * i] = off;
		l->len[2 * i] = l->out[i] * l->in[i];
		off += l->len[2 * i];
		l->off[2 * i + 1] = off;
		l->len[2 * i + 1] = l->out[i];
		off += l->len[2 * i + 1];
	}
	l->total = off;
}

/* Multiply-adds of one sample's forward pass. */
double mlp_macs(const struct mlp_shape *s)
{
	return (double)s->input * s->hidden + (double)s->hidden * s->hidden +
	       (double)s->hidden * s->classes;
}

/* nn.Linear-style uniform parameters from (seed, salt 101). */
void mlp_init_params(const struct mlp_shape *s, uint64_t seed, float *params)
{
	struct mlp_layout l;
	struct aisp_rng r;

	mlp_layout_of(s, &l);
	aisp_rng_init(&r, seed, 101);
	for (int i = 0; i < 3; i++) {
		double bound = 1.0 / sqrt((double)l.in[i]);
		size_t end = l.off[2 * i + 1] + l.len[2 * i + 1];

		for (size_t j = l.off[2 * i]; j < end; j++)
			params[j] = (float)aisp_rng_uniform(&r, -bound, bound);
	}
}

/* Inputs from (seed, 102), labels from the teacher (seed, 103). */
void mlp_make_data(const struct mlp_shape *s, uint64_t seed, size_t n,
		   float *x, int32_t *y)
{
	struct aisp_rng t;

	aisp_rng_fill_unit(x, n * s->input, seed, 102);
	for (size_t i = 0; i < n; i++) {
		double best = -INFINITY;

		aisp_rng_init(&t, seed, 103); /* same teacher for every sample */
		y[i] = 0;
		for (size_t c = 0; c < s->classes; c++) {
			double z = 0.0;

			for (size_t j = 0; j < s->input; j++)
				z += aisp_rng_uniform(&t, -1.0, 1.0) *
				     (double)x[i * s->input + j];
			if (z > best) {
				best = z;
				y[i] = (int32_t)c;
			}
		}
	}
}

/* Buffers of one step of up to S samples. */
struct mlp_ref_buf {
	double *x, *h1, *h2, *z, *d1, *d2, *dz, *grad;
};

/* out[s][o] = act(b[o] + sum_i in[s][i] W[o][i]) for S samples. */
static void mlp_ref_linear(const double *in, size_t S, size_t nin,
			   const double *w, const double *b, size_t nout,
			   int relu, double *out)
{
	for (size_t s = 0; s < S; s++) {
		for (size_t o = 0; o < nout; o++) {
			double v = b[o];

			for (size_t i = 0; i < nin; i++)
				v += in[s * nin + i] * w[o * nin + i];
			out[s * nout + o] = relu && v < 0.0 ? 0.0 : v;
		}
	}
}

/* Weight and bias gradients of a layer from dout [S][nout], in [S][nin];
 * din (may be NULL) = dout W, masked where the ReLU output in is 0. */
static void mlp_ref_backward(const double *dout, const double *in, size_t S,
			     size_t nin, size_t nout, const double *w,
			     double *gw, double *gb, double *din)
{
	memset(gw, 0, nout * nin * sizeof(*gw));
	memset(gb, 0, nout * sizeof(*gb));
	for (size_t s = 0; s < S; s++) {
		for (size_t o = 0; o < nout; o++) {
			double d = dout[s * nout + o];

			gb[o] += d;
			for (size_t i = 0; i < nin; i++)
				gw[o * nin + i] += d * in[s * nin + i];
		}
	}
	if (!din)
		return;
	for (size_t s = 0; s < S; s++) {
		for (size_t i = 0; i < nin; i++) {
			double v = 0.0;

			for (size_t o = 0; o < nout; o++)
				v += dout[s * nout + o] * w[o * nin + i];
			din[s * nin + i] = in[s * nin + i] > 0.0 ? v : 0.0;
		}
	}
}

/* Mean softmax cross-entropy of logits z [S][C]; dz = d(mean loss)/dz. */
static double mlp_ref_xent(const double *z, const int32_t *y, size_t S,
			   size_t C, double *dz)
{
	double loss = 0.0;

	for (size_t s = 0; s < S; s++) {
		const double *zs = z + s * C;
		double mx = zs[0], sum = 0.0;

		for (size_t c = 1; c < C; c++)
			mx = fmax(mx, zs[c]);
		for (size_t c = 0; c < C; c++)
			sum += exp(zs[c] - mx);
		loss += log(sum) - (zs[y[s]] - mx);
		for (size_t c = 0; c < C; c++)
			dz[s * C + c] = (exp(zs[c] - mx) / sum -
					 (c == (size_t)y[s])) / (double)S;
	}
	return loss / (double)S;
}

/* One SGD step on samples x [S][input], y [S]; returns the mean loss. */
static double mlp_ref_step(const struct mlp_layout *l, double *p,
			   const float *x, const int32_t *y, size_t S,
			   double lr, struct mlp_ref_buf *b)
{
	double *g = b->grad, loss;

	for (size_t i = 0; i < S * l->in[0]; i++)
		b->x[i] = x[i];
	mlp_ref_linear(b->x, S, l->in[0], p + l->off[MLP_W1], p + l->off[MLP_B1],
		       l->out[0], 1, b->h1);
	mlp_ref_linear(b->h1, S, l->in[1], p + l->off[MLP_W2], p + l->off[MLP_B2],
		       l->out[1], 1, b->h2);
	mlp_ref_linear(b->h2, S, l->in[2], p + l->off[MLP_W3], p + l->off[MLP_B3],
		       l->out[2], 0, b->z);
	loss = mlp_ref_xent(b->z, y, S, l->out[2], b->dz);
	mlp_ref_backward(b->dz, b->h2, S, l->in[2], l->out[2], p + l->off[MLP_W3],
			 g + l->off[MLP_W3], g + l->off[MLP_B3], b->d2);
	mlp_ref_backward(b->d2, b->h1, S, l->in[1], l->out[1], p + l->off[MLP_W2],
			 g + l->off[MLP_W2], g + l->off[MLP_B2], b->d1);
	mlp_ref_backward(b->d1, b->x, S, l->in[0], l->out[0], p + l->off[MLP_W1],
			 g + l->off[MLP_W1], g + l->off[MLP_B1], NULL);
	for (size_t i = 0; i < l->total; i++)
		p[i] -= lr * g[i];
	return loss;
}

/* Free the step buffers. */
static void mlp_ref_buf_free(struct mlp_ref_buf *b)
{
	free(b->x);
	free(b->h1);
	free(b->h2);
	free(b->z);
	free(b->d1);
	free(b->d2);
	free(b->dz);
	free(b->grad);
}

/* Float64 SGD from params0 over the data in order (mlp_ref.h). */
aisp_err mlp_ref_train(const struct mlp_shape *s, const float *params0,
		       const float *x, const int32_t *y, size_t n,
		       size_t step_samples, size_t steps, double lr,
		       double *loss, double *params)
{
	struct mlp_layout l;
	struct mlp_ref_buf b;
	size_t S = step_samples < n ? step_samples : n, lo = 0;
	aisp_err rc = AISP_OK;

	if (n == 0 || step_samples == 0)
		return AISP_EINPUT;
	mlp_layout_of(s, &l);
	b.x = malloc(S * s->input * sizeof(double));
	b.h1 = malloc(S * s->hidden * sizeof(double));
	b.h2 = malloc(S * s->hidden * sizeof(double));
	b.z = malloc(S * s->classes * sizeof(double));
	b.d1 = malloc(S * s->hidden * sizeof(double));
	b.d2 = malloc(S * s->hidden * sizeof(double));
	b.dz = malloc(S * s->classes * sizeof(double));
	b.grad = malloc(l.total * sizeof(double));
	if (!b.x || !b.h1 || !b.h2 || !b.z || !b.d1 || !b.d2 || !b.dz || !b.grad) {
		rc = AISP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.total; i++)
		params[i] = params0[i];
	for (size_t t = 0; t < steps; t++) {
		size_t cnt = n - lo < S ? n - lo : S;

		loss[t] = mlp_ref_step(&l, params, x + lo * s->input, y + lo,
				       cnt, lr, &b);
		lo = lo + cnt == n ? 0 : lo + cnt;
	}
out:
	mlp_ref_buf_free(&b);
	return rc;
}

const char *const mlp_seg_name[MLP_NSEG] = {"W1", "b1", "W2", "b2", "W3", "b3"};

/* Relative update error of segment k of o and the bound that storage adds. */
static double mlp_seg_error(const struct mlp_outcome *o, int k, double storage,
			    double *store_bound)
{
	double num = 0.0, upd = 0.0, ref = 0.0;

	for (size_t i = o->off[k]; i < o->off[k] + o->len[k]; i++) {
		double got = o->got32 ? (double)o->got32[i] : o->got64[i];
		double d = got - o->ref[i], u = o->ref[i] - (double)o->w0[i];

		num += d * d;
		upd += u * u;
		ref += o->ref[i] * o->ref[i];
	}
	*store_bound = upd > 0.0 ? (double)o->steps * storage * sqrt(ref / upd) : 0.0;
	/* no update at all in the reference: any change is an error */
	return upd > 0.0 ? sqrt(num / upd) : (num > 0.0 ? INFINITY : 0.0);
}

/* Relative error of the loss curve; the first and last losses. */
static double mlp_loss_error(const struct mlp_outcome *o)
{
	double num = 0.0, den = 0.0;

	for (size_t t = 0; t < o->steps; t++) {
		num += (o->loss[t] - o->ref_loss[t]) * (o->loss[t] - o->ref_loss[t]);
		den += o->ref_loss[t] * o->ref_loss[t];
	}
	return den > 0.0 ? sqrt(num / den) : NAN;
}

/* Judge one iteration (mlp_ref.h). */
void mlp_judge(const struct mlp_outcome *o, const struct mlp_tol *t, const char *what,
	       const char *ref, struct aisp_check *out)
{
	double err[MLP_NSEG + 1], tol[MLP_NSEG + 1], worst = -1.0;
	int n, w = MLP_NSEG;

	err[MLP_NSEG] = mlp_loss_error(o);
	tol[MLP_NSEG] = t->loss;
	for (int k = 0; k < MLP_NSEG; k++) {
		double store;

		err[k] = mlp_seg_error(o, k, t->storage, &store);
		tol[k] = t->seg[k] + store;
	}
	out->passed = 1;
	for (int k = 0; k <= MLP_NSEG; k++) {
		double r = err[k] / tol[k];

		out->passed &= err[k] <= tol[k]; /* false on NaN */
		if (!(r <= worst)) { /* NaN is the worst */
			worst = isnan(r) ? INFINITY : r;
			w = k;
		}
	}
	out->rel_error = err[w];
	out->tolerance = tol[w];
	aisp_check_put(out, "loss_first", o->loss[0]);
	aisp_check_put(out, "loss_last", o->loss[o->steps - 1]);
	aisp_check_put(out, "err:loss", err[MLP_NSEG]);
	aisp_check_put(out, "tol:loss", tol[MLP_NSEG]);
	n = snprintf(out->message, sizeof(out->message),
		     "%s, %zu steps vs %s: loss %.4f->%.4f (ref ->%.4f, err %.1e); "
		     "update err (bound):", what, o->steps, ref, o->loss[0],
		     o->loss[o->steps - 1], o->ref_loss[o->steps - 1], err[MLP_NSEG]);
	for (int k = 0; k < MLP_NSEG; k++) {
		char name[8];

		snprintf(name, sizeof(name), "err:%s", mlp_seg_name[k]);
		aisp_check_put(out, name, err[k]);
		snprintf(name, sizeof(name), "tol:%s", mlp_seg_name[k]);
		aisp_check_put(out, name, tol[k]);
		if (n >= 0 && (size_t)n < sizeof(out->message))
			n += snprintf(out->message + n, sizeof(out->message) - (size_t)n,
				      " %s %.1e (%.0e)", mlp_seg_name[k], err[k], tol[k]);
	}
}
