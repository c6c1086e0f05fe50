/*
 * cli.h - the aisp command line: the dispatcher above runner/ and
 * analysis/. The aisp binary's main calls it; a test binary calls it too,
 * after adding its own targets to the registry.
 */
#ifndef AISP_CLI_H
#define AISP_CLI_H

/* aisp COMMAND ...: the process exit status (0, 1, 2 or 3). */
int cli_main(int argc, char **argv);

#endif /* AISP_CLI_H */
