/*
 * fuzz_job.c - libFuzzer harness for job files: job_load_buffer on any bytes
 * must return (never crash, leak or hang); a job that loads must write out
 * and load back to the same number of instances with the same names.
 *
 * Build and run from the repository root (needs clang with libFuzzer):
 *   mkdir -p build-fuzz && clang -g -O1 \
 *     -fsanitize=fuzzer,address,undefined -Irunner -I/usr/include/hdf5/serial \
 *     -I/usr/lib/x86_64-linux-gnu/openmpi/include -Ikernels/ch01 \
 *     -o build-fuzz/fuzz_job tests/fuzz/fuzz_job.c runner/job.c runner/text.c \
 *     runner/registry.c runner/params.c runner/error.c \
 *     $(find kernels -name '*_host.c') -lyaml -lm
 *   rm -rf build-fuzz/corpus-job && cp -r tests/fuzz/corpus/job build-fuzz/corpus-job
 *   build-fuzz/fuzz_job -max_total_time=60 -max_len=4096 build-fuzz/corpus-job
 * (fuzzing into a copy keeps the checked-in corpus small). Inputs that once
 * crashed go into tests/fuzz/corpus/job/ as crash-*.yaml once fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* Write job, load it back and abort unless the instances match. */
static void fuzz_round_trip(const struct job *job)
{
	char *text = NULL;
	size_t len = 0;
	struct job back;
	aisp_error err;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	if (job_write_yaml(job, f, &err)) {
		fprintf(stderr, "write failed: %s\n", err.msg);
		abort();
	}
	fclose(f);
	if (job_load_buffer(text, len, "written.yaml", &back, &err)) {
		fprintf(stderr, "reload failed: %s\n%s", err.msg, text);
		abort();
	}
	if (back.n_targets != job->n_targets)
		abort();
	for (size_t i = 0; i < job->n_targets; i++)
		if (strcmp(back.targets[i].instance, job->targets[i].instance) ||
		    memcmp(&back.targets[i].params, &job->targets[i].params,
			   sizeof(job->targets[i].params)))
			abort();
	job_free(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job job;
	aisp_error err;

	if (job_load_buffer((const char *)data, size, "fuzz.yaml", &job, &err) == AISP_OK)
		fuzz_round_trip(&job);
	job_free(&job);
	return 0;
}
