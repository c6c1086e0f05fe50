/*
 * mem_bw_host.c - qual:mem_bw on the host (mem_bw.h): the copy is a
 * memcpy, the triad a plain loop, over arrays in host memory.
 */
#include <math.h>
#include <stdio.h>

#include "mem_bw.h"

/* Everything one variant owns. */
struct mem_bw {
	const struct mem_bw_kind *kind;
	uint64_t seed;
	size_t n;           /* elements per array */
	double *a, *b, *c;  /* a: output; c unused by the copy */
};

/* One iteration: the copy or the triad. */
static aisp_err mem_bw_run(void *state)
{
	struct mem_bw *m = state;

	if (!m->kind->triad) {
		memcpy(m->a, m->b, m->n * sizeof(double));
	} else {
		double *restrict a = m->a;
		const double *restrict b = m->b, *restrict c = m->c;

		for (size_t i = 0; i < m->n; i++)
			a[i] = b[i] + 3.0 * c[i];
	}
	return AISP_OK;
}

/* Arrays from the harness; the inputs drawn from the seed. */
static aisp_err mem_bw_setup(const struct aisp_ctx *ctx, const struct aisp_params *p,
			     void **state)
{
	struct mem_bw *m = aisp_alloc(ctx, sizeof(*m));

	if (!m)
		return AISP_ENOMEM;
	m->kind = ctx->variant->arg;
	m->seed = ctx->seed;
	m->n = mem_bw_elements(p, m->kind);
	m->a = aisp_alloc(ctx, m->n * sizeof(double));
	m->b = aisp_alloc(ctx, m->n * sizeof(double));
	m->c = m->kind->triad ? aisp_alloc(ctx, m->n * sizeof(double)) : NULL;
	if (!m->a || !m->b || (m->kind->triad && !m->c))
		return AISP_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		m->b[i] = qual_int_value(qual_hash(m->seed, 1, i));
		if (m->c)
			m->c[i] = qual_int_value(qual_hash(m->seed, 2, i));
	}
	*state = m;
	return AISP_OK;
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
	for (size_t i = 0; i < m->n; i++)
		bad += m->a[i] != mem_bw_want(m->seed, m->kind->triad, i); /* NaN is wrong */
	out->rel_error = (double)bad / (double)m->n;
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "%s over %d arrays of %.1f MiB (host memory): %zu of %zu doubles wrong; "
		 "throughput counts bytes read + written",
		 m->kind->what, m->kind->arrays, (double)m->n * 8.0 / QUAL_MIB, bad, m->n);
	return AISP_OK;
}

static const struct aisp_ops mem_bw_ops = {mem_bw_setup, mem_bw_run, mem_bw_verify};

static const struct aisp_variant mem_bw_variants[] = {
	{"baseline_copy", AISP_ROLE_BASELINE, "memcpy of mib/2 MiB (read + write)", &mem_bw_ops,
	 &mem_bw_kind_copy},
	{"optimized_triad", AISP_ROLE_OPTIMIZED, "STREAM triad a = b + 3c over three arrays of mib/3",
	 &mem_bw_ops, &mem_bw_kind_triad},
};

const struct aisp_target qual_mem_bw_host = {AISP_ABI_VERSION, &mem_bw_card, AISP_BACKEND_HOST,
					     AISP_LIST(mem_bw_variants)};
