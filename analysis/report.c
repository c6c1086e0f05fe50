/* report.c - `aisp report` (being written). */
#include "analysis.h"

#include <stdio.h>

int report_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aisp report: not yet\n");
	return 2;
}
