/* sched.c - every and spread modes over MPI, progress to rank 0. */
#include "sched.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "registry.h"
#include "sigs.h"
#include "text.h"

/* Launchers deliver one stop more than once within milliseconds (srun signals
 * the step and the process group): only a signal this long after the first
 * counts as the user's second one. */
#define SCHED_SECOND_SIGNAL_MS 2000.0

enum { TAG_REPORT = 101, TAG_REQUEST = 102, TAG_ITEM = 103, TAG_DONE = 104 };

/* Mark the run interrupted; the first signal's time starts the grace period. */
static void note_stop(struct sched *s)
{
	if (!s->interrupted)
		s->stop_ms = clock_now_ms();
	s->interrupted = 1;
}

/* Record a report on rank 0 and print its progress line. */
static aisp_err keep_report(struct sched *s, const struct sched_report *m, aisp_error *err)
{
	const struct work_item *it = &s->items[m->item];

	if (s->n_reports == s->cap_reports) {
		size_t cap = s->cap_reports ? 2 * s->cap_reports : 64;
		struct sched_report *p = realloc(s->reports, cap * sizeof(*p));

		if (!p)
			return aisp_fail(err, AISP_ENOMEM, "progress reports");
		s->reports = p;
		s->cap_reports = cap;
	}
	s->reports[s->n_reports++] = *m;
	if (!strcmp(m->status, "ok"))
		printf("[%zu/%zu] %s %s rank %d ... %.4g ms\n", s->n_reports, s->expected,
		       it->instance, it->variant, m->rank, m->median_ms);
	else
		printf("[%zu/%zu] %s %s rank %d ... %s\n", s->n_reports, s->expected,
		       it->instance, it->variant, m->rank, m->status);
	fflush(stdout);
	return AISP_OK;
}

/* Next item index to hand out in spread mode, or -1 when none is left. */
static int next_spread_item(struct sched *s)
{
	while (s->next_item < s->n_items && s->skip && s->skip[s->next_item])
		s->next_item++;
	return s->next_item < s->n_items ? (int)s->next_item++ : -1;
}

/* Rank 0: answer every message that has arrived, without blocking. */
static aisp_err serve(struct sched *s, aisp_error *err)
{
	for (;;) {
		struct sched_report m;
		MPI_Status st;
		int flag = 0, item;

		MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, s->comm, &flag, &st);
		if (!flag)
			return AISP_OK;
		if (st.MPI_TAG == TAG_REPORT) {
			MPI_Recv(&m, sizeof(m), MPI_BYTE, st.MPI_SOURCE, TAG_REPORT, s->comm,
				 MPI_STATUS_IGNORE);
			aisp_err rc = keep_report(s, &m, err);

			if (rc)
				return rc;
		} else if (st.MPI_TAG == TAG_REQUEST) {
			MPI_Recv(&item, 1, MPI_INT, st.MPI_SOURCE, TAG_REQUEST, s->comm,
				 MPI_STATUS_IGNORE);
			item = s->interrupted ? -1 : next_spread_item(s);
			MPI_Send(&item, 1, MPI_INT, st.MPI_SOURCE, TAG_ITEM, s->comm);
		} else if (st.MPI_TAG == TAG_DONE) {
			MPI_Recv(&item, 1, MPI_INT, st.MPI_SOURCE, TAG_DONE, s->comm,
				 MPI_STATUS_IGNORE);
			s->done_ranks++;
		} else {
			return aisp_fail(err, AISP_EINTERNAL, "unexpected MPI tag %d", st.MPI_TAG);
		}
	}
}

static aisp_err serve_tick(void *arg, aisp_error *err)
{
	return serve(arg, err);
}

/* Item index this rank runs next, or -1 when it is done. */
static int next_item(struct sched *s, int prev)
{
	int item = -1;

	if (s->interrupted)
		return -1;
	if (s->mode == JOB_MODE_EVERY) {
		for (item = prev + 1; item < (int)s->n_items; item++)
			if (!s->skip || !s->skip[item])
				return item;
		return -1;
	}
	if (s->rank == 0) /* answer waiting ranks first: items go out in order */
		return serve(s, NULL) ? -1 : next_spread_item(s);
	MPI_Send(&item, 1, MPI_INT, 0, TAG_REQUEST, s->comm);
	MPI_Recv(&item, 1, MPI_INT, 0, TAG_ITEM, s->comm, MPI_STATUS_IGNORE);
	return item;
}

/* Queue the summary of r until the rank file holding r is committed. */
static aisp_err queue_report(struct sched *s, int item, const struct variant_result *r,
			     aisp_error *err)
{
	struct sched_report *m;

	if (s->n_pending == s->cap_pending) {
		size_t cap = s->cap_pending ? 2 * s->cap_pending : 16;
		struct sched_report *p = realloc(s->pending, cap * sizeof(*p));

		if (!p)
			return aisp_fail(err, AISP_ENOMEM, "pending reports");
		s->pending = p;
		s->cap_pending = cap;
	}
	m = &s->pending[s->n_pending++];
	memset(m, 0, sizeof(*m));
	m->item = item;
	m->rank = s->rank;
	m->median_ms = r->stats.median;
	m->throughput = r->throughput;
	text_copy(m->status, sizeof(m->status), r->status);
	text_copy(m->message, sizeof(m->message), r->message);
	measure_check_text(r, m->check, sizeof(m->check));
	if (strcmp(r->status, "ok") && strcmp(r->status, "skipped")) /* skipped: not a failure */
		s->failures++;
	return AISP_OK;
}

/* 1 when the queued results should be committed now (see sched.h). */
static int commit_due(const struct sched *s)
{
	double since = clock_now_ms() - s->last_commit_ms;

	return since >= SCHED_COMMIT_RATIO * h5out_commit_ms(s->out) ||
	       since >= SCHED_COMMIT_MAX_MS;
}

/* Commit the rank file, then send the queued reports to rank 0 (rank 0
 * keeps its own and prints progress). */
static aisp_err commit_reports(struct sched *s, aisp_error *err)
{
	aisp_err rc = h5out_commit(s->out, err);

	s->last_commit_ms = clock_now_ms();
	for (size_t i = 0; !rc && i < s->n_pending; i++) {
		if (s->rank == 0)
			rc = keep_report(s, &s->pending[i], err);
		else
			MPI_Send(&s->pending[i], sizeof(s->pending[i]), MPI_BYTE, 0, TAG_REPORT,
				 s->comm);
	}
	s->n_pending = 0;
	return rc;
}

/* Fill the parts of r that the rank knows before the worker answers. */
static void result_init(const struct work_item *it, struct variant_result *r)
{
	memset(r, 0, sizeof(*r));
	text_copy(r->instance, sizeof(r->instance), it->instance);
	text_copy(r->target, sizeof(r->target), it->target);
	text_copy(r->variant, sizeof(r->variant), it->variant);
	text_copy(r->status, sizeof(r->status), "error");
	r->params = it->params;
	r->iterations = it->opts.iterations;
	r->warmup = it->opts.warmup;
	r->seed = it->seed;
	r->launches_api = r->launches_kernels = -1;
	r->work = r->bytes = r->flops = r->throughput = NAN;
	r->rel_error = r->tolerance = NAN;
	variant_result_unknown(r);
}

/* Run one item in the worker, write it and report it. */
static aisp_err run_item(struct sched *s, int item, aisp_error *err)
{
	const struct work_item *it = &s->items[item];
	const struct aisp_target *t = registry_find(it->target, s->worker->backend);
	int vi = t ? registry_variant_index(t, it->variant) : -1;
	const char *names[AISP_MAX_PARAMS];
	struct variant_result r;
	int starts = s->worker->starts;
	aisp_err rc;

	result_init(it, &r);
	if (vi >= 0) { /* the catalog's word, also for a worker that dies */
		r.role = t->variants[vi].role;
		r.host_launch = (t->variants[vi].flags & AISP_VARIANT_HOST_LAUNCH) != 0;
	}
	for (size_t i = 0; t && i < t->card->n_params && i < AISP_MAX_PARAMS; i++)
		names[i] = t->card->params[i].name;
	r.param_names = t ? names : NULL;
	if (s->facts)
		s->facts(s->facts_arg, &r.before);
	rc = worker_run(s->worker, it, s->timeouts[item], s->sigfd,
			s->rank == 0 ? serve_tick : NULL, s, &r, err);
	if (s->facts)
		s->facts(s->facts_arg, &r.after);
	if (s->worker->starts != starts) { /* this item paid for a worker start */
		r.worker_start_ms = s->worker->start_ms;
		r.worker_open_ms = s->worker->open_ms;
	}
	if (rc == AISP_EINTERRUPT) {
		sigs_take(s->sigfd);
		note_stop(s);
	}
	if (!rc || rc == AISP_EINTERRUPT) {
		aisp_err wrc;

		if (rc == AISP_EINTERRUPT) {
			text_copy(r.status, sizeof(r.status), "skipped");
			snprintf(r.message, sizeof(r.message), "interrupted by a signal");
		}
		/* Committed to the rank file before anyone is told it is done. */
		stats_summarize(r.samples, r.n_samples, &r.stats);
		r.throughput = r.n_samples && r.stats.median > 0 && isfinite(r.work)
				       ? r.work / (r.stats.median * 1e-3) : NAN;
		wrc = h5out_put_variant(s->out, &r, err);
		if (!wrc)
			wrc = queue_report(s, item, &r, err);
		if (!wrc && commit_due(s))
			wrc = commit_reports(s, err);
		if (wrc)
			rc = wrc;
	}
	variant_result_free(&r);
	return rc;
}

/* Rank 0: keep serving until every other rank said it is done. */
static aisp_err drain(struct sched *s, aisp_error *err)
{
	struct pollfd pf = {.fd = s->sigfd, .events = POLLIN};

	while (s->done_ranks < s->size - 1) {
		aisp_err rc = serve(s, err);

		if (rc)
			return rc;
		if (s->done_ranks >= s->size - 1)
			break;
		/* A first signal stops handing out items (the others finish theirs);
		 * a second one, not the launcher's copy of the first, gives up waiting. */
		if (poll(&pf, s->sigfd >= 0 ? 1 : 0, 1) > 0 && sigs_take(s->sigfd)) {
			if (s->interrupted && clock_now_ms() - s->stop_ms >= SCHED_SECOND_SIGNAL_MS) {
				s->abandon = 1;
				return aisp_fail(err, AISP_EINTERRUPT, "second signal: not waiting "
						 "for %d ranks", s->size - 1 - s->done_ranks);
			}
			note_stop(s);
		}
	}
	return serve(s, err);
}

aisp_err sched_run(struct sched *s, aisp_error *err)
{
	aisp_err rc = AISP_OK;
	int item = -1, zero = 0;

	while (!rc && (item = next_item(s, item)) >= 0)
		rc = run_item(s, item, err);
	if (rc == AISP_EINTERRUPT)
		s->interrupted = 1;
	if (!rc || rc == AISP_EINTERRUPT) { /* what is written, on disk and reported */
		aisp_err crc = commit_reports(s, err);

		if (!rc)
			rc = crc;
	}
	free(s->pending);
	s->pending = NULL;
	s->n_pending = s->cap_pending = 0;
	if (s->rank != 0) {
		MPI_Send(&zero, 1, MPI_INT, 0, TAG_DONE, s->comm);
		return rc;
	}
	{
		aisp_err drc = drain(s, err);

		if (!rc)
			rc = drc;
	}
	return rc;
}
