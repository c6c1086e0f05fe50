/* gpuinfo.c - device facts. NVML part: STUB (0 GPUs) until the CUDA backend work. */
#include "gpuinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct gpuinfo {
	int n;
};

aisp_err gpuinfo_open(struct gpuinfo **gi, aisp_error *err)
{
	(void)err;
	*gi = calloc(1, sizeof(**gi));
	return *gi ? AISP_OK : AISP_ENOMEM;
}

void gpuinfo_close(struct gpuinfo *gi)
{
	free(gi);
}

int gpuinfo_count(const struct gpuinfo *gi)
{
	return gi ? gi->n : 0;
}

aisp_err gpuinfo_read(const struct gpuinfo *gi, int index, struct gpu_facts *out,
		      aisp_error *err)
{
	(void)gi;
	memset(out, 0, sizeof(*out));
	return aisp_fail(err, AISP_EDEVICE, "no NVML device %d", index);
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
