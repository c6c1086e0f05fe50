/*
 * profile_pass.h - `--profile minimal` as a pass of its own. After every
 * timed sample of a rank is written, each variant the rank measured ok is
 * run again, one at a time, in a fresh worker under Nsight Compute
 * (profile_ncu.h): one untimed iteration, then `iterations` inside the NVTX
 * range that ncu is told to profile. What ncu reports goes into the
 * variant's profile_* attributes (h5out.h); nothing of the profiled pass
 * enters samples_ms or the table. A variant that cannot be profiled (ncu
 * fails, the worker dies, no kernel was profiled) says why in
 * profile_status and profile_message, and the pass goes on.
 */
#ifndef AISP_PROFILE_PASS_H
#define AISP_PROFILE_PASS_H

#include <stddef.h>

#include "h5out.h"
#include "worker.h"

#define PROFILE_PASS_ITERATIONS 1
#define PROFILE_FINISH_S 300.0 /* ncu writes its report when the worker exits */

struct profile_pass {
	enum aisp_backend_kind backend;
	int device;
	int rank;
	const char *dir;                /* run directory; reports go to dir/profile/ */
	const struct work_item *items;  /* the run's items */
	const double *timeouts;         /* per item, seconds */
	size_t n_items;
	struct h5out *out;              /* this rank's file, holding the timed pass */
	int sigfd;                      /* a signal here stops the pass */
	int iterations;                 /* profiled iterations per variant */
};

/* Profile each item of pp that this rank's file holds, writing profile_*
 * onto it and committing after each. Prints one line per item. Only a
 * signal (AISP_EINTERRUPT), an allocation or a file write makes it fail;
 * ncu's and the profiled worker's failures are results. */
aisp_err profile_pass_run(const struct profile_pass *pp, aisp_error *err);

#endif /* AISP_PROFILE_PASS_H */
