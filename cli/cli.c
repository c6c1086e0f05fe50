/*
 * cli.c - the aisp command: dispatch to bench, gather, compare, report and
 * worker. It sits above runner/ and analysis/ and is the one place that
 * joins them: `bench run --update-expectations` writes expectations with
 * gather's code, handed to the runner here.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "run.h"
#include "text.h"
#include "worker.h"

static void usage(FILE *f)
{
	fputs("aisp " AISP_VERSION " - fleet benchmark runner\n\n"
	      "usage: aisp bench list-targets [--chapter ch01]\n"
	      "       aisp bench run --targets ch01[,ch01:gemm,...] [--job FILE.yaml] [options]\n"
	      "       aisp gather RUN_DIR... [--out DIR]\n"
	      "       aisp compare RUN_DIR --expectations FILE [--drain-list FILE]\n"
	      "       aisp report RUN_DIR [--expectations FILE] -o report.md|report.html\n"
	      "       aisp history BASELINE_DIR [--target T]\n"
	      "       aisp version (or --version)\n\n"
	      "Every command takes --help. Exit status: 0 ok, 1 regression or failed check,\n"
	      "2 bad usage or input, 3 incomplete or interrupted.\n", f);
}

int cli_main(int argc, char **argv)
{
	static const char *const cmds[] = {"bench", "gather", "compare", "report", "history",
					   "version", NULL};
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("aisp %s (%s)\n", AISP_VERSION, AISP_GIT_COMMIT);
		return 0;
	}
	if (!strcmp(cmd, "bench"))
		return bench_main(argc - 1, argv + 1, expect_update_from_run);
	if (!strcmp(cmd, "gather"))
		return gather_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "compare"))
		return compare_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "history"))
		return history_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "worker"))
		return worker_main(argc - 1, argv + 1);
	for (int i = 0; cmds[i]; i++)
		if (text_edit_distance(cmd, cmds[i]) <= 2) {
			fprintf(stderr, "aisp: unknown command '%s'; did you mean '%s'?\n", cmd, cmds[i]);
			return 2;
		}
	fprintf(stderr, "aisp: unknown command '%s' (aisp --help)\n", cmd);
	return 2;
}
