/*
 * stop_at_rename.c - LD_PRELOAD shim for the kill tests (test-only).
 *
 * Every rename() onto a path ending in AISP_RENAME_SUFFIX is counted; the
 * AISP_RENAME_STOP-th one stops the process with SIGSTOP before it happens,
 * so a test can SIGKILL it exactly between the write of the new image (the
 * .tmp file, written and fsynced) and the rename that would publish it.
 * AISP_RENAME_LOG names a file that gets one line per counted rename.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to)
{
	static int (*real_rename)(const char *, const char *);
	static int count;
	const char *suffix = getenv("AISP_RENAME_SUFFIX");
	const char *stop = getenv("AISP_RENAME_STOP");
	const char *log = getenv("AISP_RENAME_LOG");
	size_t n = strlen(to), m = suffix ? strlen(suffix) : 0;

	if (!real_rename)
		real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (suffix && n >= m && !strcmp(to + n - m, suffix)) {
		count++;
		if (log) {
			FILE *f = fopen(log, "a");

			if (f) {
				fprintf(f, "%d %s\n", count, to);
				fclose(f);
			}
		}
		if (stop && count == atoi(stop))
			raise(SIGSTOP);
	}
	return real_rename(from, to);
}
