/*
 * sched.h - scheduling work items over the MPI ranks of a run.
 *
 * Mode every: each rank runs every item (qualification: every GPU measured).
 * Mode spread: items are handed out one at a time by rank 0, so a sweep
 * finishes sooner on more ranks. In both modes every rank reports each
 * finished item to rank 0, which prints progress lines and the summary.
 * Rank 0 serves these messages while it waits for its own worker.
 *
 * Results go to the rank file in memory at once; the file is committed (its
 * whole image rewritten) when the time since the last commit reaches
 * SCHED_COMMIT_RATIO times what that commit took (at most
 * SCHED_COMMIT_MAX_MS), and at the end. Items of seconds are committed one
 * by one; a sweep of tiny items spends at most about 1/SCHED_COMMIT_RATIO of
 * its time committing. Reports wait for their commit: an item reported done
 * is on disk, and a rank killed loses only unreported items.
 */
#ifndef AISP_SCHED_H
#define AISP_SCHED_H

#include <mpi.h>

#include "h5out.h"
#include "job.h"
#include "worker.h"

#define SCHED_COMMIT_RATIO 10
#define SCHED_COMMIT_MAX_MS 1000.0

/* One finished item as rank 0 learns of it. */
struct sched_report {
	int item, rank;
	double median_ms, throughput;
	char status[16];
	char message[160]; /* why, when status is not ok (cut short) */
	char check[96];  /* compact check values (measure_check_text) */
};

struct sched {
	MPI_Comm comm;
	int rank, size;
	enum job_mode mode;
	const struct work_item *items;  /* the run's items, same on every rank */
	const double *timeouts;         /* per item, seconds */
	size_t n_items;
	unsigned char *skip;            /* items already done (resume), or NULL */
	struct worker *worker;
	struct h5out *out;
	int sigfd;
	/* Called on this rank after each item to fill device facts around it. */
	void (*facts)(void *arg, struct gpu_facts *out);
	void *facts_arg;
	/* Rank 0 only: every report received, in order of arrival. */
	struct sched_report *reports;
	size_t n_reports, cap_reports;
	size_t expected;                /* reports rank 0 waits for */
	/* Rank 0 state while serving. */
	size_t next_item;               /* spread: next index to hand out */
	int done_ranks;
	int interrupted;                /* this rank saw SIGTERM/SIGINT */
	int abandon;                    /* rank 0 saw a second one: abort the job */
	double stop_ms;                 /* when the first signal came (monotonic ms) */
	int failures;                   /* items on this rank not ok */
	/* This rank's reports written but not committed yet. */
	struct sched_report *pending;
	size_t n_pending, cap_pending;
	double last_commit_ms;          /* monotonic time the last commit ended */
};

/* Run this rank's share of the items, write each result to s->out, and
 * (rank 0) collect every rank's reports. AISP_EINTERRUPT if a signal
 * stopped it; other errors are I/O or MPI failures. Collective. */
aisp_err sched_run(struct sched *s, aisp_error *err);

#endif /* AISP_SCHED_H */
