/*
 * gpuinfo.c - device facts: NVML loaded with dlopen (never a link-time
 * dependency, so aisp builds and runs without a driver), and the host
 * stand-in from /proc. Only reads: no clock, power or mode is ever set.
 *
 * The NVML types and prototypes used are declared here (nvml.h is not
 * needed); they are the stable ones of the NVML API since CUDA 11.
 * CUDA ordinals map to NVML devices through CUDA_VISIBLE_DEVICES (indices
 * or UUID prefixes), assuming CUDA enumerates in PCI bus order as NVML does
 * (true for identical GPUs, and whenever CUDA_DEVICE_ORDER=PCI_BUS_ID).
 */
#include "gpuinfo.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

typedef int nvml_ret;                       /* nvmlReturn_t, 0 = success */
typedef struct nvml_dev_st *nvml_dev;        /* nvmlDevice_t */

struct nvml_pci {                            /* nvmlPciInfo_t (v3), padded */
	char bus_id_legacy[16];
	unsigned domain, bus, device, device_id, subsystem_id;
	char bus_id[32];
	char pad[192];
};

struct nvml_memory {                         /* nvmlMemory_t */
	unsigned long long total, free, used;
};

enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };
enum { NVML_ECC_CORRECTED = 0, NVML_ECC_UNCORRECTED = 1, NVML_ECC_VOLATILE = 0 };
enum { NVML_ERROR_INSUFFICIENT_SIZE = 7 };

/* The NVML entry points aisp uses; NULL when this library lacks one. */
struct nvml_api {
	nvml_ret (*init)(void);
	nvml_ret (*shutdown)(void);
	const char *(*error_string)(nvml_ret);
	nvml_ret (*count)(unsigned *);
	nvml_ret (*by_index)(unsigned, nvml_dev *);
	nvml_ret (*name)(nvml_dev, char *, unsigned);
	nvml_ret (*uuid)(nvml_dev, char *, unsigned);
	nvml_ret (*serial)(nvml_dev, char *, unsigned);
	nvml_ret (*pci)(nvml_dev, struct nvml_pci *);
	nvml_ret (*driver)(char *, unsigned);
	nvml_ret (*cuda_version)(int *);
	nvml_ret (*clock)(nvml_dev, int, unsigned *);
	nvml_ret (*max_clock)(nvml_dev, int, unsigned *);
	nvml_ret (*temperature)(nvml_dev, int, unsigned *);
	nvml_ret (*power)(nvml_dev, unsigned *);
	nvml_ret (*power_limit)(nvml_dev, unsigned *);
	nvml_ret (*throttle)(nvml_dev, unsigned long long *);
	nvml_ret (*ecc)(nvml_dev, int, int, unsigned long long *);
	nvml_ret (*retired)(nvml_dev, int, unsigned *, unsigned long long *);
	nvml_ret (*remapped)(nvml_dev, unsigned *, unsigned *, unsigned *, unsigned *);
	nvml_ret (*pcie_gen)(nvml_dev, unsigned *);
	nvml_ret (*pcie_width)(nvml_dev, unsigned *);
	nvml_ret (*memory)(nvml_dev, struct nvml_memory *);
};

struct gpuinfo {
	void *lib;                   /* dlopen handle, NULL without NVML */
	int inited;                  /* nvmlInit succeeded */
	struct nvml_api api;
	int n;                       /* GPUs this process may use */
	int map[GPUINFO_MAX_GPUS];   /* CUDA ordinal -> NVML index */
};

/* Look up sym (or alt, a newer/older name) in lib; NULL when absent. */
static void *nvml_sym(void *lib, const char *sym, const char *alt)
{
	void *f = dlsym(lib, sym);

	if (!f && alt)
		f = dlsym(lib, alt);
	return f;
}

/* Fill api from lib; 0 when the required entry points are all there. */
static int nvml_bind(void *lib, struct nvml_api *a)
{
	*(void **)&a->init = nvml_sym(lib, "nvmlInit_v2", "nvmlInit");
	*(void **)&a->shutdown = nvml_sym(lib, "nvmlShutdown", NULL);
	*(void **)&a->error_string = nvml_sym(lib, "nvmlErrorString", NULL);
	*(void **)&a->count = nvml_sym(lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
	*(void **)&a->by_index = nvml_sym(lib, "nvmlDeviceGetHandleByIndex_v2",
					  "nvmlDeviceGetHandleByIndex");
	*(void **)&a->name = nvml_sym(lib, "nvmlDeviceGetName", NULL);
	*(void **)&a->uuid = nvml_sym(lib, "nvmlDeviceGetUUID", NULL);
	*(void **)&a->serial = nvml_sym(lib, "nvmlDeviceGetSerial", NULL);
	*(void **)&a->pci = nvml_sym(lib, "nvmlDeviceGetPciInfo_v3", NULL);
	*(void **)&a->driver = nvml_sym(lib, "nvmlSystemGetDriverVersion", NULL);
	*(void **)&a->cuda_version = nvml_sym(lib, "nvmlSystemGetCudaDriverVersion_v2",
					      "nvmlSystemGetCudaDriverVersion");
	*(void **)&a->clock = nvml_sym(lib, "nvmlDeviceGetClockInfo", NULL);
	*(void **)&a->max_clock = nvml_sym(lib, "nvmlDeviceGetMaxClockInfo", NULL);
	*(void **)&a->temperature = nvml_sym(lib, "nvmlDeviceGetTemperature", NULL);
	*(void **)&a->power = nvml_sym(lib, "nvmlDeviceGetPowerUsage", NULL);
	*(void **)&a->power_limit = nvml_sym(lib, "nvmlDeviceGetEnforcedPowerLimit", NULL);
	*(void **)&a->throttle = nvml_sym(lib, "nvmlDeviceGetCurrentClocksEventReasons",
					  "nvmlDeviceGetCurrentClocksThrottleReasons");
	*(void **)&a->ecc = nvml_sym(lib, "nvmlDeviceGetTotalEccErrors", NULL);
	*(void **)&a->retired = nvml_sym(lib, "nvmlDeviceGetRetiredPages", NULL);
	*(void **)&a->remapped = nvml_sym(lib, "nvmlDeviceGetRemappedRows", NULL);
	*(void **)&a->pcie_gen = nvml_sym(lib, "nvmlDeviceGetCurrPcieLinkGeneration", NULL);
	*(void **)&a->pcie_width = nvml_sym(lib, "nvmlDeviceGetCurrPcieLinkWidth", NULL);
	*(void **)&a->memory = nvml_sym(lib, "nvmlDeviceGetMemoryInfo", NULL);
	return a->init && a->shutdown && a->count && a->by_index && a->name && a->uuid
		       ? 0 : -1;
}

/* NVML's text for r, or a number when the library has no error strings. */
static const char *nvml_text(const struct gpuinfo *gi, nvml_ret r, char *buf, size_t n)
{
	if (gi->api.error_string)
		return gi->api.error_string(r);
	snprintf(buf, n, "NVML error %d", r);
	return buf;
}

/* Index of the one uuid starting with prefix, -1 if none, -2 if several. */
static int map_by_uuid(const char *prefix, const char (*uuids)[96], int n)
{
	int hit = -1;

	for (int i = 0; i < n; i++) {
		if (strncmp(uuids[i], prefix, strlen(prefix)))
			continue;
		if (hit >= 0)
			return -2;
		hit = i;
	}
	return hit;
}

/* NVML index named by one CUDA_VISIBLE_DEVICES entry, or -1 (invalid). */
static int map_entry(const char *tok, const char (*uuids)[96], int n)
{
	char *end;
	long v;

	if (!*tok)
		return -1;
	if (!strncmp(tok, "GPU-", 4)) {
		int i = map_by_uuid(tok, uuids, n);

		return i < 0 ? -1 : i;
	}
	if (!isdigit((unsigned char)*tok))
		return -1; /* MIG-... and other forms are not supported here */
	v = strtol(tok, &end, 10);
	return *end || v >= n ? -1 : (int)v;
}

int gpuinfo_map_visible(const char *cvd, const char (*uuids)[96], int n, int *map, int max)
{
	char buf[1024], *save = NULL;
	int count = 0;

	if (!cvd) {
		for (count = 0; count < n && count < max; count++)
			map[count] = count;
		return count;
	}
	if (text_copy(buf, sizeof(buf), cvd))
		return 0;
	for (char *tok = strtok_r(buf, ",", &save); tok && count < max;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end = tok + strlen(tok);
		int idx, dup = 0;

		while (isspace((unsigned char)*tok))
			tok++;
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		idx = map_entry(tok, uuids, n);
		for (int j = 0; j < count; j++)
			dup |= map[j] == idx;
		if (idx < 0 || dup)
			break; /* CUDA ignores an invalid entry and all after it */
		map[count++] = idx;
	}
	return count;
}

/* Read every NVML device's UUID, then map the visible ones. */
static aisp_err gpuinfo_enumerate(struct gpuinfo *gi, aisp_error *err)
{
	char (*uuids)[96] = NULL, tmp[64];
	unsigned n = 0;
	nvml_ret r;
	aisp_err rc = AISP_OK;

	if ((r = gi->api.count(&n)))
		return aisp_fail(err, AISP_EDEVICE, "nvmlDeviceGetCount: %s",
				 nvml_text(gi, r, tmp, sizeof(tmp)));
	if (n > GPUINFO_MAX_GPUS)
		n = GPUINFO_MAX_GPUS;
	uuids = calloc(n ? n : 1, sizeof(*uuids));
	if (!uuids)
		return aisp_fail(err, AISP_ENOMEM, "gpuinfo: out of memory");
	for (unsigned i = 0; i < n; i++) {
		nvml_dev d;

		if ((r = gi->api.by_index(i, &d)) || (r = gi->api.uuid(d, uuids[i], 96))) {
			rc = aisp_fail(err, AISP_EDEVICE, "NVML device %u: %s", i,
				       nvml_text(gi, r, tmp, sizeof(tmp)));
			goto out;
		}
	}
	gi->n = gpuinfo_map_visible(getenv("CUDA_VISIBLE_DEVICES"),
				    (const char (*)[96])uuids, (int)n, gi->map,
				    GPUINFO_MAX_GPUS);
out:
	free(uuids);
	return rc;
}

aisp_err gpuinfo_open(struct gpuinfo **gi, aisp_error *err)
{
	struct gpuinfo *g = calloc(1, sizeof(*g));
	aisp_err rc;

	*gi = g;
	if (!g)
		return aisp_fail(err, AISP_ENOMEM, "gpuinfo: out of memory");
	g->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!g->lib)
		return AISP_OK; /* no driver here: 0 GPUs */
	if (nvml_bind(g->lib, &g->api))
		return AISP_OK; /* too old or not NVML: treated as absent */
	if (g->api.init())
		return AISP_OK; /* driver not loaded (no GPU): 0 GPUs */
	g->inited = 1;
	rc = gpuinfo_enumerate(g, err);
	if (rc)
		g->n = 0;
	return rc;
}

void gpuinfo_close(struct gpuinfo *gi)
{
	if (!gi)
		return;
	if (gi->inited)
		gi->api.shutdown();
	if (gi->lib)
		dlclose(gi->lib);
	free(gi);
}

int gpuinfo_count(const struct gpuinfo *gi)
{
	return gi ? gi->n : 0;
}

/* Clocks, temperature, power and throttle reasons: the facts that move. */
static void gpuinfo_read_state(const struct nvml_api *a, nvml_dev d, struct gpu_facts *out)
{
	unsigned v = 0;

	if (a->clock && !a->clock(d, NVML_CLOCK_SM, &v))
		out->sm_clock_mhz = v;
	if (a->clock && !a->clock(d, NVML_CLOCK_MEM, &v))
		out->mem_clock_mhz = v;
	if (a->max_clock && !a->max_clock(d, NVML_CLOCK_SM, &v))
		out->max_sm_clock_mhz = v;
	if (a->max_clock && !a->max_clock(d, NVML_CLOCK_MEM, &v))
		out->max_mem_clock_mhz = v;
	if (a->temperature && !a->temperature(d, NVML_TEMPERATURE_GPU, &v))
		out->temperature_c = v;
	if (a->power && !a->power(d, &v))
		out->power_w = v / 1000.0;
	if (a->power_limit && !a->power_limit(d, &v))
		out->power_limit_w = v / 1000.0;
	if (a->throttle)
		a->throttle(d, &out->throttle_reasons);
}

/* ECC totals and retired pages (remapped rows on A100 and later). */
static void gpuinfo_read_health(const struct nvml_api *a, nvml_dev d, struct gpu_facts *out)
{
	unsigned corr = 0, unc = 0, pending = 0, failed = 0, pages = 0;

	if (a->ecc) {
		a->ecc(d, NVML_ECC_CORRECTED, NVML_ECC_VOLATILE, &out->ecc_corrected);
		a->ecc(d, NVML_ECC_UNCORRECTED, NVML_ECC_VOLATILE, &out->ecc_uncorrected);
	}
	if (a->remapped && !a->remapped(d, &corr, &unc, &pending, &failed)) {
		out->retired_pages = (unsigned long long)corr + unc;
		return;
	}
	for (int cause = 0; a->retired && cause < 2; cause++) {
		nvml_ret r;

		pages = 0;
		r = a->retired(d, cause, &pages, NULL);
		if (!r || r == NVML_ERROR_INSUFFICIENT_SIZE)
			out->retired_pages += pages;
	}
}

/* Identity: name, UUID, serial, PCI, driver and CUDA versions, memory. */
static void gpuinfo_read_identity(const struct nvml_api *a, nvml_dev d, struct gpu_facts *out)
{
	struct nvml_pci pci;
	struct nvml_memory mem;
	unsigned v = 0;
	int cv = 0;

	if (a->serial)
		a->serial(d, out->serial, sizeof(out->serial));
	memset(&pci, 0, sizeof(pci));
	if (a->pci && !a->pci(d, &pci)) {
		pci.bus_id[sizeof(pci.bus_id) - 1] = '\0';
		text_copy(out->pci_bus_id, sizeof(out->pci_bus_id), pci.bus_id);
	}
	if (a->driver)
		a->driver(out->driver, sizeof(out->driver));
	if (a->cuda_version && !a->cuda_version(&cv))
		snprintf(out->cuda_version, sizeof(out->cuda_version), "%d.%d", cv / 1000,
			 cv % 1000 / 10);
	if (a->pcie_gen && !a->pcie_gen(d, &v))
		out->pcie_gen = (int)v;
	if (a->pcie_width && !a->pcie_width(d, &v))
		out->pcie_width = (int)v;
	if (a->memory && !a->memory(d, &mem)) {
		out->mem_total_bytes = mem.total;
		out->mem_free_bytes = mem.free;
	}
}

aisp_err gpuinfo_read(const struct gpuinfo *gi, int index, struct gpu_facts *out,
		      aisp_error *err)
{
	char tmp[64];
	nvml_dev d;
	nvml_ret r;

	memset(out, 0, sizeof(*out));
	if (!gi || index < 0 || index >= gi->n)
		return aisp_fail(err, AISP_EDEVICE, "no NVML device for CUDA ordinal %d (%d visible)",
				 index, gi ? gi->n : 0);
	out->index = index;
	out->nvml_index = gi->map[index];
	if ((r = gi->api.by_index((unsigned)out->nvml_index, &d)) ||
	    (r = gi->api.name(d, out->name, sizeof(out->name))) ||
	    (r = gi->api.uuid(d, out->uuid, sizeof(out->uuid))))
		return aisp_fail(err, AISP_EDEVICE, "NVML device %d: %s", out->nvml_index,
				 nvml_text(gi, r, tmp, sizeof(tmp)));
	gpuinfo_read_identity(&gi->api, d, out);
	gpuinfo_read_state(&gi->api, d, out);
	gpuinfo_read_health(&gi->api, d, out);
	out->valid = 1;
	return AISP_OK;
}

/* CPU model from /proc/cpuinfo, or "cpu". */
static void host_cpu_model(char *dst, size_t n)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	text_copy(dst, n, "cpu");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		text_copy(dst, n, colon);
		break;
	}
	fclose(f);
}

void gpuinfo_host(const char *node, int local_rank, struct gpu_facts *out)
{
	memset(out, 0, sizeof(*out));
	out->valid = 1;
	out->index = local_rank;
	out->nvml_index = -1;
	host_cpu_model(out->name, sizeof(out->name));
	snprintf(out->uuid, sizeof(out->uuid), "cpu-%s-%d", node, local_rank);
	text_copy(out->driver, sizeof(out->driver), "none");
	text_copy(out->cuda_version, sizeof(out->cuda_version), "none");
}
