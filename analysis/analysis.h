/*
 * analysis.h - entry points of the analysis commands, called by the
 * dispatcher in cli/cli.c with argv starting at the subcommand name
 * ("gather", "compare", "report", "history"). Each parses its own options, supports
 * --help and returns the process exit status: 0 ok, 1 regression, outlier or
 * failed check, 2 bad usage or input, 3 incomplete (a rank, target or file
 * missing or skipped). See analysis/README.md.
 */
#ifndef AISP_ANALYSIS_H
#define AISP_ANALYSIS_H

#include "aisp.h"

/* aisp gather RUN_DIR... [--out DIR] [--z Z] [--min-delta F] */
int gather_main(int argc, char **argv);

/* aisp compare RUN_DIR... --expectations FILE [--drain-list FILE] ... */
int compare_main(int argc, char **argv);

/* aisp report RUN_DIR... [--expectations FILE] -o report.md|report.html */
int report_main(int argc, char **argv);

/* aisp history BASELINE_DIR [--target T] [--k K] */
int history_main(int argc, char **argv);

/* Write the book-schema expectations of one run (same code as gather) to
 * out_json_path; an existing valid file there is updated, keeping examples
 * and fields this run does not produce. The run must hold one hardware_key. */
aisp_err expect_update_from_run(const char *run_dir, const char *out_json_path,
				aisp_error *err);

#endif /* AISP_ANALYSIS_H */
