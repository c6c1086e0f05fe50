/* rng.h - kept for old includes: the seeded random numbers live in aisp.h. */
#ifndef AISP_RNG_H
#define AISP_RNG_H
#include "aisp.h"
#endif /* AISP_RNG_H */
