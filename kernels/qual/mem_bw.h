/*
 * mem_bw.h - qual:mem_bw, what both twins share (mem_bw_host.c, mem_bw.cu):
 * memory bandwidth of a copy and of a STREAM triad over arrays far past
 * the last-level cache (host) or L2 (GPU), counting bytes read plus written.
 *
 * Both variants move `mib` MiB per iteration, so throughput is bytes/s:
 *   baseline_copy    a = b        two arrays of mib/2
 *   optimized_triad  a = b + 3c   three arrays of mib/3
 * (The roles are structural: compare judges the triad's ratio to the copy
 * on the same GPU; the triad is not an optimization of the copy.) Arrays
 * are doubles; b and c hold non-zero integers from qual_hash (seed, 1) and
 * (seed, 2), so results are exact and verify checks every element for
 * equality with the value recomputed from the hash.
 */
#ifndef AISP_QUAL_MEM_BW_H
#define AISP_QUAL_MEM_BW_H

#include "aisp.h"
#include "qual.h"

/* The variant's argument: copy or triad. */
struct mem_bw_kind {
	int triad;
	int arrays;          /* 2 or 3: each mib / arrays MiB */
	const char *what;    /* for the check message */
};

static const struct mem_bw_kind mem_bw_kind_copy = {0, 2, "copy a = b"};
static const struct mem_bw_kind mem_bw_kind_triad = {1, 3, "triad a = b + 3c"};

static const struct aisp_param mem_bw_params[] = {
	{"mib", AISP_PARAM_INT, {768, 3072}, 3, 65536,
	 "MiB read plus written per iteration (copy: 2 arrays of mib/2, triad: 3 of mib/3)"},
};

/* Bytes read plus written per iteration. */
static inline double mem_bw_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

/* Elements per array of kind k for p (doubles, rounded down to even). */
static inline size_t mem_bw_elements(const struct aisp_params *p, const struct mem_bw_kind *k)
{
	return (size_t)(mem_bw_bytes(p) / (8.0 * k->arrays)) & ~(size_t)1;
}

/* The value element i of a must hold after the variant ran. */
static inline QUAL_HD double mem_bw_want(uint64_t seed, int triad, size_t i)
{
	double want = qual_int_value(qual_hash(seed, 1, i));

	return triad ? want + 3.0 * qual_int_value(qual_hash(seed, 2, i)) : want;
}

static const struct aisp_card mem_bw_card = {
	.name = "qual:mem_bw",
	.description = "memory bandwidth: copy and triad well past the last-level cache (bytes/s)",
	.goal = "throughput", .params = mem_bw_params, .n_params = AISP_COUNT(mem_bw_params),
	.work = mem_bw_bytes, .work_unit = "bytes", .bytes = mem_bw_bytes,
};

#endif /* AISP_QUAL_MEM_BW_H */
