/* pin.c - one CPU near its GPU for a worker (see pin.h). */
#include "pin.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a decimal CPU number at *p; -1 when there is none or it is too big. */
static long cpu_number(const char **p)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)**p))
		return -1;
	v = strtol(*p, &end, 10);
	*p = end;
	return v < CPU_SETSIZE ? v : -1;
}

int pin_parse_list(const char *text, cpu_set_t *set)
{
	const char *p = text;

	CPU_ZERO(set);
	if (!p)
		return -1;
	while (*p && *p != '\n') {
		long lo = cpu_number(&p), hi = lo;

		if (lo < 0)
			return -1;
		if (*p == '-') {
			p++;
			if ((hi = cpu_number(&p)) < lo)
				return -1;
		}
		for (long c = lo; c <= hi; c++)
			CPU_SET((int)c, set);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return CPU_COUNT(set) ? CPU_COUNT(set) : -1;
}

int pin_sysfs_bus_id(const char *id, char *out, size_t n)
{
	unsigned dom, bus, dev, fn;
	char tail;

	if (!id || sscanf(id, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4)
		return -1;
	return (size_t)snprintf(out, n, "%04x:%02x:%02x.%x", dom, bus, dev, fn) < n ? 0 : -1;
}

/* The k-th highest CPU of s (k < CPU_COUNT(s)). */
static int nth_highest(const cpu_set_t *s, int k)
{
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, s) && k-- == 0)
			return c;
	return -1;
}

int pin_choose(const cpu_set_t *local, const cpu_set_t *allowed, int dev)
{
	cpu_set_t both;
	const cpu_set_t *from = allowed;
	int n;

	if (local) {
		CPU_AND(&both, local, allowed);
		if (CPU_COUNT(&both))
			from = &both;
	}
	n = CPU_COUNT(from);
	if (!n)
		return -1;
	return nth_highest(from, (dev < 0 ? 0 : dev) % n);
}

/* Read the GPU's local CPU list from sysfs into *set; 0 when known. */
static int gpu_local_cpus(const char *bus_id, cpu_set_t *set)
{
	char name[32], path[96], text[4096];
	FILE *f;
	int ok;

	if (!bus_id || pin_sysfs_bus_id(bus_id, name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/local_cpulist", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(text, sizeof(text), f) && pin_parse_list(text, set) > 0;
	fclose(f);
	return ok ? 0 : -1;
}

int pin_worker_local(const char *bus_id, char *why, size_t n)
{
	cpu_set_t local, allowed, both;

	if (gpu_local_cpus(bus_id, &local)) {
		snprintf(why, n, "GPU locality unknown");
		return -1;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		snprintf(why, n, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	CPU_AND(&both, &local, &allowed);
	if (!CPU_COUNT(&both)) {
		snprintf(why, n, "no GPU-local CPU allowed");
		return -1;
	}
	if (sched_setaffinity(0, sizeof(both), &both)) {
		snprintf(why, n, "sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	snprintf(why, n, "%d GPU-local CPUs", CPU_COUNT(&both));
	return CPU_COUNT(&both);
}

int pin_worker(const char *bus_id, int dev, char *why, size_t n)
{
	cpu_set_t local, allowed, one;
	int cpu, have_local;

	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		snprintf(why, n, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	have_local = !gpu_local_cpus(bus_id, &local);
	cpu = pin_choose(have_local ? &local : NULL, &allowed, dev);
	if (cpu < 0) {
		snprintf(why, n, "no CPU allowed");
		return -1;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		snprintf(why, n, "sched_setaffinity(%d): %s", cpu, strerror(errno));
		return -1;
	}
	snprintf(why, n, "pinned to CPU %d (%s)", cpu,
		 have_local ? "GPU-local" : "GPU locality unknown");
	return cpu;
}
