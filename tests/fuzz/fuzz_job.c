/*
 * fuzz_job.c - libFuzzer harness for job files: job_load_buffer on any bytes
 * must return (never crash, leak or hang); a job that loads must write out
 * and load back to the same number of instances with the same names.
 *
 * Built and run by `make fuzz` (clang with libFuzzer; the sources are
 * FUZZ_SRC_job in the Makefile), over a copy of tests/fuzz/corpus/job/
 * (fuzzing into a copy keeps the checked-in corpus small). Inputs that once
 * crashed go into tests/fuzz/corpus/job/ as crash-*.yaml once fixed. The
 * test-only targets (tests/targets/) are added to the registry first, as
 * in the test binary: corpus files name test:fault.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "registry.h"

extern const struct aisp_target *const aisp_test_targets[];

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

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once, before any input: the test targets join the registry. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return registry_extend(aisp_test_targets, NULL) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job job;
	aisp_error err;

	if (job_load_buffer((const char *)data, size, "fuzz.yaml", &job, &err) == AISP_OK)
		fuzz_round_trip(&job);
	job_free(&job);
	return 0;
}
