/*
 * mem_bw_host.c - qual:mem_bw on the host: memory bandwidth of a copy and
 * of a STREAM triad over arrays far larger than the last-level cache.
 *
 * Both variants move the same bytes per iteration (param mib, read plus
 * written), so the target's work is one number and throughput is bytes/s:
 *   baseline_copy    a = b        two arrays of mib/2 (memcpy)
 *   optimized_triad  a = b + 3c   three arrays of mib/3
 * (The roles are structural: compare judges the triad's ratio to the copy
 * on the same GPU; the triad is not an optimization of the copy.) Arrays are
 * doubles; element counts round down, so the bytes moved fall short of
 * mib MiB by under 24 bytes.
 *
 * Inputs: b and c are non-zero integers from qual_hash (seed, 1) and
 * (seed, 2); the results are exact, so verify checks every element for
 * equality with the value recomputed from the hash (not from b and c).
 */
#include "aisp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qual.h"

/* Same table as mem_bw.cu except the default (the twins share names and order). */
static const struct aisp_param mem_bw_params[] = {
	{"mib", AISP_PARAM_INT, 768, 3, 65536,
	 "MiB read plus written per iteration (copy: 2 arrays of mib/2, triad: 3 of mib/3)"},
};

/* Everything one variant owns. */
struct mem_bw {
	int triad;          /* 0: copy, 1: triad */
	int knob;           /* ctx->test_knob */
	uint64_t seed;
	size_t n;           /* elements per array */
	double *a, *b, *c;  /* a: output; c unused by the copy */
};

/* One iteration: the copy or the triad, stretched by the test knob. */
static aisp_err mem_bw_run(void *state)
{
	struct mem_bw *m = state;
	double t0 = m->knob > 0 ? qual_now() : 0.0;

	if (!m->triad) {
		memcpy(m->a, m->b, m->n * sizeof(double));
	} else {
		double *restrict a = m->a;
		const double *restrict b = m->b, *restrict c = m->c;

		for (size_t i = 0; i < m->n; i++)
			a[i] = b[i] + 3.0 * c[i];
	}
	qual_stretch(m->knob, t0);
	return AISP_OK;
}

/* Free everything setup made; state may be NULL or half-built. */
static void mem_bw_teardown(void *state)
{
	struct mem_bw *m = state;

	if (!m)
		return;
	free(m->a);
	free(m->b);
	free(m->c);
	free(m);
}

/* Allocate the arrays and fill the inputs from the seed. */
static aisp_err mem_bw_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state, int triad)
{
	struct mem_bw *m = calloc(1, sizeof(*m));
	double bytes = p->v[0] * QUAL_MIB;

	*state = NULL;
	if (!m)
		return AISP_ENOMEM;
	m->triad = triad;
	m->knob = ctx->test_knob;
	m->seed = ctx->seed;
	m->n = (size_t)(bytes / (triad ? 24.0 : 16.0));
	m->a = malloc(m->n * sizeof(double));
	m->b = malloc(m->n * sizeof(double));
	m->c = triad ? malloc(m->n * sizeof(double)) : NULL;
	if (!m->a || !m->b || (triad && !m->c)) {
		mem_bw_teardown(m);
		return AISP_ENOMEM;
	}
	for (size_t i = 0; i < m->n; i++) {
		m->a[i] = NAN;
		m->b[i] = qual_int_value(qual_hash(m->seed, 1, i));
		if (triad)
			m->c[i] = qual_int_value(qual_hash(m->seed, 2, i));
	}
	*state = m;
	return AISP_OK;
}

static aisp_err mem_bw_setup_copy(const struct aisp_ctx *ctx, const struct aisp_params *p,
				  void **state)
{
	return mem_bw_setup(ctx, p, state, 0);
}

static aisp_err mem_bw_setup_triad(const struct aisp_ctx *ctx, const struct aisp_params *p,
				   void **state)
{
	return mem_bw_setup(ctx, p, state, 1);
}

/* Poison a, run once, check every element against the hash's value. */
static aisp_err mem_bw_verify(void *state, struct aisp_check *out)
{
	struct mem_bw *m = state;
	size_t bad = 0;
	aisp_err rc;

	for (size_t i = 0; i < m->n; i++)
		m->a[i] = NAN;
	if ((rc = mem_bw_run(m)))
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		double want = qual_int_value(qual_hash(m->seed, 1, i));

		if (m->triad)
			want += 3.0 * qual_int_value(qual_hash(m->seed, 2, i));
		bad += m->a[i] != want; /* NaN counts as wrong */
	}
	out->rel_error = (double)bad / (double)m->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s over %d arrays of %.1f MiB (host memory): %zu of %zu doubles wrong; "
		 "throughput counts bytes read + written",
		 m->triad ? "triad a = b + 3c" : "copy a = b", m->triad ? 3 : 2,
		 (double)m->n * 8.0 / QUAL_MIB, bad, m->n);
	return AISP_OK;
}

/* Bytes read plus written per iteration. */
static double mem_bw_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_variant mem_bw_variants[] = {
	{"baseline_copy", AISP_ROLE_BASELINE, "memcpy of mib/2 MiB (read + write)",
	 mem_bw_setup_copy, mem_bw_run, mem_bw_verify, mem_bw_teardown},
	{"optimized_triad", AISP_ROLE_OPTIMIZED, "STREAM triad a = b + 3c over three arrays of mib/3",
	 mem_bw_setup_triad, mem_bw_run, mem_bw_verify, mem_bw_teardown},
};

const struct aisp_target qual_mem_bw_host = {
	.abi_version = AISP_ABI_VERSION,
	.name = "qual:mem_bw",
	.backend = AISP_BACKEND_HOST,
	.description = "memory bandwidth: copy and triad well past the last-level cache (bytes/s)",
	.goal = "throughput",
	.params = mem_bw_params,
	.n_params = sizeof(mem_bw_params) / sizeof(mem_bw_params[0]),
	.variants = mem_bw_variants,
	.n_variants = sizeof(mem_bw_variants) / sizeof(mem_bw_variants[0]),
	.work = mem_bw_bytes,
	.work_unit = "bytes",
	.bytes = mem_bw_bytes,
};
