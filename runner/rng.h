/*
 * rng.h - seeded random numbers for target inputs (splitmix64).
 * Deterministic for a seed on every backend, so host twins and CUDA
 * targets draw identical inputs.
 */
#ifndef AISP_RNG_H
#define AISP_RNG_H

#include <stddef.h>
#include <stdint.h>

struct aisp_rng {
	uint64_t s;
};

/* Start a stream from seed and a per-use salt (e.g. 1 for A, 2 for B). */
static inline void aisp_rng_init(struct aisp_rng *r, uint64_t seed, uint64_t salt)
{
	r->s = seed ^ (salt * 0x9E3779B97F4A7C15ull);
}

/* Next 64 random bits. */
static inline uint64_t aisp_rng_next(struct aisp_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform double in [lo, hi). */
static inline double aisp_rng_uniform(struct aisp_rng *r, double lo, double hi)
{
	double u = (double)(aisp_rng_next(r) >> 11) * 0x1.0p-53;
	return lo + (hi - lo) * u;
}

/* Fill x[0..n) with floats uniform in [-1, 1) from stream (seed, salt): the
 * inputs both twins of a target draw, so they compute on the same numbers. */
static inline void aisp_rng_fill_unit(float *x, size_t n, uint64_t seed, uint64_t salt)
{
	struct aisp_rng r;

	aisp_rng_init(&r, seed, salt);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)aisp_rng_uniform(&r, -1.0, 1.0);
}

#endif /* AISP_RNG_H */
