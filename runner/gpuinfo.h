/*
 * gpuinfo.h - facts about the device a rank measures: through NVML loaded
 * with dlopen on GPU nodes (never changing clocks), from /proc on the host.
 * No CUDA context is made here: the rank process calls this, not the worker.
 */
#ifndef AISP_GPUINFO_H
#define AISP_GPUINFO_H

#include "aisp.h"

struct gpu_facts {
	int valid;                     /* 1 when filled */
	int index;                     /* CUDA ordinal in this process */
	int nvml_index;                /* NVML (physical) index, -1 on host */
	char name[96];                 /* "NVIDIA H100 80GB HBM3", or CPU model */
	char uuid[96];                 /* "GPU-...", or "cpu-<node>-<local rank>" */
	char serial[64];
	char pci_bus_id[32];
	char driver[32];
	char cuda_version[16];         /* driver's CUDA version, "13.0" */
	unsigned sm_clock_mhz, mem_clock_mhz, max_sm_clock_mhz, max_mem_clock_mhz;
	unsigned temperature_c;
	double power_w, power_limit_w;
	unsigned long long throttle_reasons;   /* NVML bit mask */
	unsigned long long ecc_corrected, ecc_uncorrected; /* volatile totals */
	unsigned long long retired_pages;      /* retired or remapped rows */
	int pcie_gen, pcie_width;
	unsigned long long mem_total_bytes, mem_free_bytes;
};

struct gpuinfo; /* opaque: the NVML library handle and its symbols */

#define GPUINFO_MAX_GPUS 64

/* Map CUDA ordinals to NVML indices as CUDA_VISIBLE_DEVICES value cvd does
 * (NULL: all n in order). Entries are NVML indices or UUID prefixes
 * ("GPU-8f2..."), comma-separated; the first invalid or repeated entry ends
 * the list, as in CUDA. uuids[i] is NVML device i's UUID. Fills map[0..ret). */
int gpuinfo_map_visible(const char *cvd, const char (*uuids)[96], int n, int *map, int max);

/* Load NVML if present; *gi is NULL-safe to use and free either way. */
aisp_err gpuinfo_open(struct gpuinfo **gi, aisp_error *err);
void gpuinfo_close(struct gpuinfo *gi);

/* Number of GPUs this process may use (CUDA_VISIBLE_DEVICES respected), 0 if none. */
int gpuinfo_count(const struct gpuinfo *gi);

/* Facts of CUDA ordinal index; on failure out->valid stays 0. */
aisp_err gpuinfo_read(const struct gpuinfo *gi, int index, struct gpu_facts *out,
		      aisp_error *err);

/* Host stand-in: CPU model as name, "cpu-<node>-<local_rank>" as UUID. */
void gpuinfo_host(const char *node, int local_rank, struct gpu_facts *out);

#endif /* AISP_GPUINFO_H */
