/* prov.h - provenance: times, node names, run ids and hardware keys. */
#ifndef AISP_PROV_H
#define AISP_PROV_H

#include <stddef.h>

#include "gpuinfo.h"

/* Current UTC time as "2026-11-25T13:05:01Z". */
void prov_utc_now(char *dst, size_t n);

/* The node a rank runs on: SLURMD_NODENAME under Slurm, else the host name. */
void prov_node_name(char *dst, size_t n);

/* A new run id: "<UTC compact>-<pid hex><random hex>". */
void prov_run_id(char *dst, size_t n);

/* hardware_key as the book harness derives it: the device name slugged,
 * without "nvidia_", prefixed "<N>x_" for N > 1 devices per node; the host
 * backend gives "host_<cpu slug>". */
void prov_hardware_key(const struct gpu_facts *g, int devices_per_node, int host,
		       char *dst, size_t n);

#endif /* AISP_PROV_H */
