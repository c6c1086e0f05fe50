/*
 * pcie.h - qual:pcie, what both twins share (pcie_host.c, pcie.cu): copy
 * bandwidth between host and device memory, one direction per variant:
 *   baseline_h2d   host to device
 *   optimized_d2h  device to host
 * The roles are structural (compare judges d2h against h2d on the same
 * GPU). Work is the bytes crossing the link per iteration (mib MiB);
 * unlike qual:mem_bw, a transfer counts its bytes once, not read + written.
 * The source holds 64-bit words qual_hash(seed, 3, i); verify poisons the
 * destination, copies once and checks every word.
 */
#ifndef AISP_QUAL_PCIE_H
#define AISP_QUAL_PCIE_H

#include "aisp.h"
#include "qual.h"

/* The variant's argument: the direction. */
struct pcie_dir {
	int d2h;             /* 0: host to device, 1: device to host */
	const char *name;    /* "h2d" | "d2h" */
};

static const struct pcie_dir pcie_h2d = {0, "h2d"};
static const struct pcie_dir pcie_d2h = {1, "d2h"};

static const struct aisp_param pcie_params[] = {
	{"mib", AISP_PARAM_INT, {64, 1024}, 1, 65536, "MiB copied per iteration"},
};

/* Bytes crossing the link per iteration. */
static inline double pcie_bytes(const struct aisp_params *p)
{
	return p->v[0] * QUAL_MIB;
}

static const struct aisp_card pcie_card = {
	.name = "qual:pcie",
	.description = "pinned host<->device copy bandwidth, both directions (bytes/s)",
	.goal = "throughput", .params = pcie_params, .n_params = AISP_COUNT(pcie_params),
	.work = pcie_bytes, .work_unit = "bytes", .bytes = pcie_bytes,
};

#endif /* AISP_QUAL_PCIE_H */
