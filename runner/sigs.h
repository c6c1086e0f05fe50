/*
 * sigs.h - SIGTERM and SIGINT as a file descriptor. The first signal is
 * read from the descriptor (the run stops cleanly and writes what it has);
 * after that the signals act as usual, so a second one ends the process.
 */
#ifndef AISP_SIGS_H
#define AISP_SIGS_H

/* Block SIGTERM/SIGINT in this thread (and threads made later) and return a
 * signalfd for them, or -1. Call before MPI_Init so MPI's threads inherit it. */
int sigs_open(void);

/* Read the pending signal from fd (0 if none), then unblock both signals. */
int sigs_take(int fd);

#endif /* AISP_SIGS_H */
