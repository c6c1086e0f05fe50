/*
 * fuzz_expect.c - libFuzzer harness for expectations files: expect_parse on
 * any bytes must return (never crash, leak or hang); a document that
 * validates must dump to text that parses and validates again and dumps to
 * the same bytes (the writer's output is a fixed point of the reader).
 *
 * Build and run from the repository root: make fuzz (all harnesses), or
 *   mkdir -p build-fuzz && clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Iinclude -iquote core -Ianalysis -o build-fuzz/fuzz_expect tests/fuzz/fuzz_expect.c \
 *     analysis/expect.c core/error.c core/text.c -ljansson -lm
 *   rm -rf build-fuzz/corpus-expect && cp -r tests/fuzz/corpus/expect build-fuzz/corpus-expect
 *   build-fuzz/fuzz_expect -max_total_time=60 -max_len=8192 build-fuzz/corpus-expect
 * Inputs that once crashed go into tests/fuzz/corpus/expect/ as crash-*.json
 * once fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

/* Dump root, parse the text back and abort unless it dumps identically. */
static void fuzz_round_trip(const json_t *root)
{
	char *text = expect_dump(root), *again;
	json_t *back;
	aisp_error err;

	if (!text)
		return;
	if (expect_parse(text, strlen(text), "dumped.json", &back, &err)) {
		fprintf(stderr, "reload failed: %s\n%s", err.msg, text);
		abort();
	}
	again = expect_dump(back);
	if (!again || strcmp(text, again)) {
		fprintf(stderr, "dump not stable:\n%s\n---\n%s", text,
			again ? again : "(null)");
		abort();
	}
	free(again);
	json_decref(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = NULL, *ex;
	aisp_error err;
	const char *k, *src;
	double lo, hi;

	if (expect_parse((const char *)data, size, "fuzz.json", &root, &err)) {
		if (strncmp(err.msg, "fuzz.json", 9)) { /* every error names the file */
			fprintf(stderr, "error without the file name: %s\n", err.msg);
			abort();
		}
		return 0;
	}

	json_object_foreach(json_object_get(root, "examples"), k, ex) {
		expect_tolerance(ex, &lo, &hi, &src);
		if (!src || (!isnan(lo) && lo < 0) || (!isnan(hi) && hi < 0))
			abort(); /* a source always, magnitudes only */
		(void)expect_num(json_object_get(ex, "metrics"), "baseline_time_ms");
		(void)expect_str(ex, "example");
	}
	fuzz_round_trip(root);
	json_decref(root);
	return 0;
}
