/* analysis_main.c - a stand-in dispatcher for testing the analysis commands
 * before cli/cli.c wires them: `aisp-analysis gather|compare|report ...`. */
#include <stdio.h>
#include <string.h>

#include "analysis.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s gather|compare|report ...\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "gather"))
		return gather_main(argc - 1, argv + 1);
#ifndef GATHER_ONLY
	if (!strcmp(argv[1], "compare"))
		return compare_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
#endif
	fprintf(stderr, "%s: unknown command '%s'\n", argv[0], argv[1]);
	return 2;
}
