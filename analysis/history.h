/*
 * history.h - the history of every baseline. Each gather that writes
 * expectations appends one record per example and variant to history.h5
 * beside the expectations files; `aisp history DIR` prints the drift, the
 * report plots each variant's fleet median across refreshes, and compare
 * flags a slow creep.
 *
 * history.h5 (HDF5; strings variable-length UTF-8):
 *   /          attributes: schema_version (1), tool ("aisp")
 *   /records   compound, one row per refresh of an example's variant, in
 *              the order they were appended: hardware_key, example, target
 *              (the instance, "ch01:gemm"), variant, role, gathered_utc
 *              (when gather ran), data_utc (end of the latest run merged),
 *              runs (run ids, sorted, comma separated), runs_sha256 (of
 *              that list: the identity of a refresh), commits (distinct
 *              git commits of the runs, 12 digits, sorted), n_runs, gpus,
 *              gpus_ok, nodes, median_ms, p10_ms, p90_ms, mad_ms (across
 *              the per-GPU medians), noise (the example's
 *              fleet.variants.<v>.noise when it is a number, else NaN),
 *              tol_lower, tol_upper (the example's tolerance, fractions).
 *
 * Appending is atomic: the whole file is rewritten to history.h5.tmp,
 * fsynced and renamed over the old one, under an exclusive flock of the
 * directory so that two gathers into one directory lose nothing. A record
 * whose hardware_key, target, variant and runs_sha256 are already present
 * is not added again: a re-gather of the same runs adds nothing.
 *
 * Creep (history_creep): over the last k records of one variant (k >= 3),
 * every step from one refresh to the next is within the tolerance
 * (median_i / median_{i-1} - 1 <= upper) but the latest median is worse
 * than the first of the window by more than it (median_last /
 * median_first - 1 > upper): each refresh looked fine, the sum did not.
 */
#ifndef AISP_HISTORY_H
#define AISP_HISTORY_H

#include <stdio.h>

#include "aisp.h"
#include "fleet.h"

#define HISTORY_FILE "history.h5"
#define HISTORY_SCHEMA 1
#define HISTORY_CREEP_K 5        /* records in the creep window */
#define HISTORY_STR 256          /* longest string kept (longer: cut, "...") */

/* One refresh of one variant of one example. */
struct history_rec {
	char hk[AISP_NAME_MAX], example[2 * AISP_NAME_MAX], target[AISP_NAME_MAX];
	char variant[AISP_NAME_MAX], role[32];
	char gathered_utc[32], data_utc[32], runs_sha256[65];
	char runs[HISTORY_STR], commits[HISTORY_STR];
	long long n_runs, gpus, gpus_ok, nodes;
	double median, p10, p90, mad, noise, tol_lower, tol_upper;
};

struct history {
	struct history_rec *recs;
	size_t n, cap;
};

/* What history_creep found over one variant's window. */
struct history_creep {
	size_t first, last;          /* record indices: window start and end */
	int n;                       /* records in the window */
	double change;               /* median_last / median_first - 1 */
	double max_step;             /* the largest step (a fraction) */
	double tol;                  /* the tolerance it was held to */
};

/* Read path into h (empty when the file does not exist). */
aisp_err history_load(const char *path, struct history *h, aisp_error *err);

/* Write h to path atomically (path.tmp, fsync, rename). */
aisp_err history_save(const struct history *h, const char *path, aisp_error *err);

void history_free(struct history *h);

/* A new zeroed record at the end of h; NULL when out of memory. */
struct history_rec *history_push(struct history *h);

/* Append to dir/history.h5 one record per variant of every example of
 * hardware key hk that the expectations file json_path (just written from
 * f) holds; records already present are skipped. Notes go to log (may be
 * NULL). */
aisp_err history_append(const struct fleet *f, uint32_t hk, const char *json_path,
			const char *dir, FILE *log, aisp_error *err);

/* Indices (in h->recs order) of the records of hk, target, variant into
 * idx (room for h->n); the count. */
size_t history_series(const struct history *h, const char *hk, const char *target,
		      const char *variant, size_t *idx);

/* 1 when the last k records of series idx[0..n) creep (rule above), with
 * the details in *out; tolerance NAN: the latest record's upper, else 25%. */
int history_creep(const struct history *h, const size_t *idx, size_t n, int k,
		  double tolerance, struct history_creep *out);

/* qsort_r order of record indices (arg: the history): hardware key, target,
 * variant, then the order they were appended. */
int history_cmp_index(const void *a, const void *b, void *arg);

/* Every variant of hardware key hk (all keys when NULL) that creeps over
 * its last k records, in hardware key, target, variant order: *out
 * (malloc'd; free it) and *n. */
aisp_err history_creeping(const struct history *h, const char *hk, int k,
			  struct history_creep **out, size_t *n, aisp_error *err);

/* Print one line per variant of hardware key hk that creeps in the
 * history.h5 beside the expectations file exp_path ("<cmd>: creep ..."), to
 * out; a history that cannot be read is said too. The number of creeping
 * variants. */
size_t history_print_creep(const char *exp_path, const char *hk, const char *cmd, FILE *out);

/* The directory holding the file path ("." when path has no '/'). */
void history_dir_of(const char *path, char *buf, size_t n);

#endif /* AISP_HISTORY_H */
