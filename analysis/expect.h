/*
 * expect.h - expectations files: the book harness's schema v2 (JSON), read
 * and written with jansson, keyed by hardware_key.
 *
 * Reading is lossless: the whole document stays a json_t tree, so fields we
 * do not know survive a load/save. Writing is deterministic and byte for byte
 * what the book's Python harness writes (json.dump(indent=2, sort_keys=True)
 * plus a newline): keys sorted by code point, two-space indent, integers as
 * integers, reals in Python's repr form (shortest digits that read back to the
 * same double; exponent form when the decimal exponent is < -4 or > 15),
 * non-ASCII as \uXXXX. A non-finite real is written as null.
 *
 * aisp's additions to an example (all optional when reading):
 *   "fleet":     {"gpus", "nodes", "runs", "variants": {"<variant>": {"role",
 *                 "technique", "gpus", "failed", "outliers", "median_ms",
 *                 "p10_ms", "p90_ms", "mad_ms", "p75_ms", "speedup",
 *                 "noise", "noise_within", "noise_run", "noise_run_pairs",
 *                 "detectable", ...}}}  (noise: fleet.h)
 *   "tolerance": {"lower": 0.25, "upper": 0.25, "source": "job"} fractions
 *                (signs ignored) and where they came from (job: the runs'
 *                job file; noise: from the measured noise; default: 25%;
 *                hand: set by a person, kept by gather). How compare uses
 *                them: analysis/README.md, "Verdicts".
 * See analysis/README.md.
 */
#ifndef AISP_EXPECT_H
#define AISP_EXPECT_H

#include <jansson.h>
#include <stddef.h>

#include "aisp.h"

#define EXPECT_SCHEMA_VERSION 2
#define EXPECT_TOL_DEFAULT 0.25

/* Parse text[0..len) (name is used in messages) and validate it. */
aisp_err expect_parse(const char *text, size_t len, const char *name,
		      json_t **out, aisp_error *err);

/* Read and validate the expectations file at path; *out owned by caller. */
aisp_err expect_load(const char *path, json_t **out, aisp_error *err);

/* Check root against schema v2; err names the file (name) and the field. */
aisp_err expect_validate(const json_t *root, const char *name, aisp_error *err);

/* The deterministic text of root (malloc'd, NUL-terminated), or NULL. */
char *expect_dump(const json_t *root);

/* Write root to path atomically (path.tmp, fsync, rename). */
aisp_err expect_save(const json_t *root, const char *path, aisp_error *err);

/* Python repr of v into buf (at least 32 bytes); "null" when not finite. */
void expect_format_real(double v, char *buf, size_t n);

/* A new empty document: schema_version 2, hardware_key, no examples. */
json_t *expect_new(const char *hardware_key);

/* Number at obj.key (integer or real) or NAN when absent or not a number. */
double expect_num(const json_t *obj, const char *key);

/* String at obj.key or NULL (not expect_string: cmocka owns that name). */
const char *expect_str(const json_t *obj, const char *key);

/* The tolerance stored in an example, as magnitudes (NAN where absent), and
 * its source (job, noise, default or hand; "hand" when the file does not
 * say). 1 when the example holds one. */
int expect_tolerance(const json_t *example, double *lower, double *upper,
		     const char **source);

#endif /* AISP_EXPECT_H */
