/*
 * targets.c - the test-only targets of this folder, listed for the test
 * binary (tests/aisp_test.c) and for unit tests and fuzzers that add them
 * to the registry (registry_extend). One line per target in targets.def.
 */
#include "aisp.h"

#define AISP_TEST_TARGET(x) extern const struct aisp_target x;
#include "targets.def"
#undef AISP_TEST_TARGET

/* NULL-terminated, for registry_extend. */
extern const struct aisp_target *const aisp_test_targets[];

const struct aisp_target *const aisp_test_targets[] = {
#define AISP_TEST_TARGET(x) &x,
#include "targets.def"
#undef AISP_TEST_TARGET
	NULL,
};
