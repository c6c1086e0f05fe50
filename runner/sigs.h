/*
 * sigs.h - SIGTERM and SIGINT as a file descriptor. They stay blocked for the
 * whole run and are read from the descriptor: the first stops the run cleanly
 * (the rank writes what it has); a second one while rank 0 still waits for
 * the other ranks aborts the job at once. Launchers often deliver one stop
 * twice (srun signals the step and the process group), so a second signal
 * must never kill a rank before its file is closed.
 */
#ifndef AISP_SIGS_H
#define AISP_SIGS_H

/* Block SIGTERM/SIGINT in this thread (and threads made later) and return a
 * signalfd for them, or -1. Call before MPI_Init so MPI's threads inherit it. */
int sigs_open(void);

/* Read the pending signal from fd (0 if none); the signals stay blocked. */
int sigs_take(int fd);

#endif /* AISP_SIGS_H */
