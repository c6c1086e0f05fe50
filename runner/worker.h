/*
 * worker.h - the worker child that does the device work of a rank.
 *
 * A rank never touches the device itself: it starts `aisp worker` (the same
 * binary) and sends it work items over a pipe, one at a time; the worker
 * keeps one device context and answers with raw samples. A worker that dies,
 * hangs past the item's time limit or stops answering is recorded in the
 * result (crashed | timeout, signal, elapsed time) and replaced on the next
 * item.
 *
 * Wire format: text lines "key value", an item or result ending in "end".
 * Requests arrive on the worker's stdin; results go to its fd 3.
 *
 * A CUDA worker pins itself to one CPU near its GPU (pin.h) and reads the
 * SM clock through NVML for the measuring loop (measure.h); AISP_MEASURE
 * holds diagnostic switches (measure.h), checked when the worker starts.
 */
#ifndef AISP_WORKER_H
#define AISP_WORKER_H

#include <sys/types.h>

#include "h5out.h"
#include "measure.h"

/* One unit of work: one variant of one target instance. */
struct work_item {
	char instance[AISP_NAME_MAX];
	char target[AISP_NAME_MAX];
	char variant[AISP_NAME_MAX];
	struct aisp_params params;
	unsigned long long seed;
	int test_knob;
	struct measure_opts opts;
};

/* Called about every few ms while a rank waits for its worker. */
typedef aisp_err (*worker_tick_fn)(void *arg, aisp_error *err);

struct worker {
	pid_t pid;              /* 0 when no worker runs */
	int to_fd, from_fd;     /* request pipe (write end), result pipe (read end) */
	enum aisp_backend_kind backend;
	int device;
	const char *const *prefix; /* argv put before the worker (a profiler), or NULL */
	double start_ms;        /* last start: spawn to "ready", context creation included */
	double open_ms;         /* of which the worker's backend open took this long */
	int starts;             /* workers started so far */
};

/* Set up w for backend and device; no process is started yet. */
void worker_init(struct worker *w, enum aisp_backend_kind backend, int device,
		 const char *const *prefix);

/* Run item in the worker (starting one if needed) and fill r. A crash or
 * time-out is a result, not an error. sigfd (or -1) is polled: a signal on it
 * stops the worker and returns AISP_EINTERRUPT. tick (or NULL) runs while
 * waiting. */
aisp_err worker_run(struct worker *w, const struct work_item *item, double timeout_s,
		    int sigfd, worker_tick_fn tick, void *tick_arg,
		    struct variant_result *r, aisp_error *err);

/* Stop the worker (close its input, then kill after a grace period). */
void worker_stop(struct worker *w);

/* Close the worker's input and wait up to grace_s for it to exit (a
 * profiler in front of it writes its report then), returning its wait
 * status; -1 when it had to be killed (past the grace, or a signal on
 * sigfd, which stays pending) or none was running. */
int worker_finish(struct worker *w, double grace_s, int sigfd);

/* Entry of `aisp worker --backend B --device N`: serve items until EOF. */
int worker_main(int argc, char **argv);

#endif /* AISP_WORKER_H */
