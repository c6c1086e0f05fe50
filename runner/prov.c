/* prov.c - provenance helpers. */
#include "prov.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

void prov_utc_now(char *dst, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void prov_node_name(char *dst, size_t n)
{
	const char *s = getenv("SLURMD_NODENAME");

	if (s && *s) {
		text_copy(dst, n, s);
		return;
	}
	if (gethostname(dst, n))
		text_copy(dst, n, "localhost");
	dst[n - 1] = '\0';
}

void prov_run_id(char *dst, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(dst, n, "%s-%x%05lx", when, (unsigned)getpid() & 0xffff,
		 (unsigned long)(ts.tv_nsec / 1000) & 0xfffff);
}

void prov_hardware_key(const struct gpu_facts *g, int devices_per_node, int host,
		       char *dst, size_t n)
{
	char slug[128];
	const char *s = slug;

	text_slug(slug, sizeof(slug), g->name);
	if (!strncmp(s, "nvidia_", 7))
		s += 7;
	if (host)
		snprintf(dst, n, "host_%s", s);
	else if (devices_per_node > 1)
		snprintf(dst, n, "%dx_%s", devices_per_node, s);
	else
		snprintf(dst, n, "%s", s);
}
