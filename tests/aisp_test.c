/*
 * aisp_test.c - the test binary (build/aisp-test): aisp with the test-only
 * targets of tests/targets/ added to its registry. End-to-end tests that
 * need them run it as $AISP_TEST; its worker is this binary too
 * (/proc/self/exe), so the targets run there as well.
 */
#include <stdio.h>

#include "cli.h"
#include "registry.h"

extern const struct aisp_target *const aisp_test_targets[];

int main(int argc, char **argv)
{
	aisp_error err = {0};

	if (registry_extend(aisp_test_targets, &err)) {
		fprintf(stderr, "aisp-test: %s\n", err.msg);
		return 2;
	}
	return cli_main(argc, argv);
}
