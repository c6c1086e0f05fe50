/* profile_pass.c - `--profile minimal`: each variant again, under ncu (see profile_pass.h). */
#include "profile_pass.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "profile_ncu.h"
#include "text.h"

/* Paths of one item's report base, report and log under dir/profile/. */
struct profile_paths {
	char base[2300], report[2320], log[2320];
};

/* Fill r's profile fields: status and message ("what: detail"). */
static void profile_set(struct variant_result *r, const char *status, const char *what,
			const char *detail)
{
	size_t len;

	text_copy(r->profile_status, sizeof(r->profile_status), status);
	text_copy(r->profile_message, sizeof(r->profile_message), what);
	len = strlen(r->profile_message);
	if (detail && *detail && len + 3 < sizeof(r->profile_message))
		snprintf(r->profile_message + len, sizeof(r->profile_message) - len, "%s%s",
			 len ? ": " : "", detail);
}

/* 1 when ncu's log at path holds needle anywhere (ncu says "No kernels were
 * profiled." as a warning after others, e.g. for a variant that is one
 * cudaMemcpy). */
static int log_says(const char *path, const char *needle)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* Judge a profiled item from the worker's answer, ncu's exit and report. */
static void profile_judge(const struct profile_paths *pa, const struct variant_result *wr,
			  int wstatus, int iterations, struct variant_result *r)
{
	char why[256], msg[300];
	struct ncu_summary sum;
	aisp_error e = {0};
	int ncu_ok = wstatus >= 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;

	profile_ncu_log_error(pa->log, why, sizeof(why));
	if (strcmp(wr->status, "ok")) {
		snprintf(msg, sizeof(msg), "profiled worker %s: %.120s", wr->status, wr->message);
		profile_set(r, "failed", msg, why);
		return;
	}
	if (access(pa->report, R_OK)) {
		profile_set(r, log_says(pa->log, "No kernels") ? "no_kernels" : "failed",
			    "ncu wrote no report", why);
		return;
	}
	if (profile_ncu_summary(pa->report, &sum, &e)) {
		profile_set(r, strstr(e.msg, "no kernel rows") ? "no_kernels" : "failed", e.msg, why);
		return;
	}
	r->profile_kernels = (sum.kernels + iterations / 2) / iterations;
	r->profile_kernel_ms = sum.time_ms / iterations;
	r->profile_mem_pct = sum.mem_pct;
	r->profile_sm_pct = sum.sm_pct;
	if (!ncu_ok) {
		snprintf(msg, sizeof(msg), "ncu %s %d, %ld kernel%s profiled",
			 wstatus >= 0 && WIFEXITED(wstatus) ? "exit status" : "ended, status",
			 wstatus >= 0 && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : wstatus,
			 sum.kernels, sum.kernels == 1 ? "" : "s");
		profile_set(r, "partial", msg, why);
		return;
	}
	profile_set(r, "ok", "", NULL);
}

/* Run item i in a worker under ncu into wr; *wstatus is ncu's wait status.
 * A failure to start ncu or the worker is a result in wr, not an error. */
static aisp_err profile_run_worker(const struct profile_pass *pp, size_t i,
				   const struct profile_paths *pa, struct variant_result *wr,
				   int *wstatus, aisp_error *err)
{
	char *argv[PROFILE_NCU_ARGV_MAX + 1];
	struct work_item it = pp->items[i];
	struct worker w;
	aisp_error e = {0};
	size_t n = 0;
	aisp_err rc;

	*wstatus = -1;
	if (profile_ncu_argv(pa->base, pa->log, argv, PROFILE_NCU_ARGV_MAX, &n, &e)) {
		text_copy(wr->message, sizeof(wr->message), e.msg);
		return AISP_OK;
	}
	argv[n] = NULL;
	it.opts.profile = pp->iterations;
	worker_init(&w, pp->backend, pp->device, (const char *const *)argv);
	rc = worker_run(&w, &it, pp->timeouts[i], pp->sigfd, NULL, NULL, wr, &e);
	if (rc != AISP_EINTERRUPT)
		*wstatus = worker_finish(&w, PROFILE_FINISH_S, pp->sigfd);
	else
		worker_stop(&w);
	profile_ncu_argv_free(argv, n);
	if (rc == AISP_EINTERRUPT || rc == AISP_ENOMEM)
		return aisp_fail(err, rc, "%s", e.msg);
	if (rc) /* ncu or the worker did not start: a result */
		text_copy(wr->message, sizeof(wr->message), e.msg);
	return AISP_OK;
}

/* Profile item i (already ok in the rank file) into r. */
static aisp_err profile_item(const struct profile_pass *pp, size_t i, struct variant_result *r,
			     aisp_error *err)
{
	struct profile_paths pa;
	struct variant_result wr = {0};
	int wstatus;
	aisp_err rc;

	snprintf(pa.base, sizeof(pa.base), "%s/profile/rank-%05d-item-%03zu", pp->dir, pp->rank, i);
	snprintf(pa.report, sizeof(pa.report), "%s.ncu-rep", pa.base);
	snprintf(pa.log, sizeof(pa.log), "%s.log", pa.base);
	unlink(pa.report); /* a report left by an earlier pass must not pass for this one's */
	text_copy(wr.status, sizeof(wr.status), "error");
	rc = profile_run_worker(pp, i, &pa, &wr, &wstatus, err);
	if (!rc)
		profile_judge(&pa, &wr, wstatus, pp->iterations, r);
	variant_result_free(&wr);
	return rc;
}

/* Print one progress line for item i of the pass. */
static void profile_print(const struct profile_pass *pp, size_t i, const struct variant_result *r)
{
	const struct work_item *it = &pp->items[i];

	if (!strcmp(r->profile_status, "ok") || !strcmp(r->profile_status, "partial"))
		printf("profile rank %d: %s %s ... %s: %ld kernel%s, %.4g ms, memory %.1f%%, "
		       "SM %.1f%% of peak%s%s\n", pp->rank, it->instance, it->variant,
		       r->profile_status, r->profile_kernels, r->profile_kernels == 1 ? "" : "s",
		       r->profile_kernel_ms, r->profile_mem_pct, r->profile_sm_pct,
		       r->profile_message[0] ? "; " : "", r->profile_message);
	else
		printf("profile rank %d: %s %s ... %s: %s\n", pp->rank, it->instance, it->variant,
		       r->profile_status, r->profile_message);
	fflush(stdout);
}

aisp_err profile_pass_run(const struct profile_pass *pp, aisp_error *err)
{
	char dir[2200];
	aisp_err rc = AISP_OK;

	snprintf(dir, sizeof(dir), "%s/profile", pp->dir);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return aisp_fail(err, AISP_EIO, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; !rc && i < pp->n_items; i++) {
		const struct work_item *it = &pp->items[i];
		struct variant_result r;

		memset(&r, 0, sizeof(r));
		variant_result_unknown(&r);
		text_copy(r.instance, sizeof(r.instance), it->instance);
		text_copy(r.variant, sizeof(r.variant), it->variant);
		if (!h5out_has_ok(pp->out, it->instance, it->variant))
			continue; /* not measured here (spread mode), or not ok: nothing to profile */
		rc = profile_item(pp, i, &r, err);
		if (rc)
			break;
		profile_print(pp, i, &r);
		rc = h5out_put_profile(pp->out, &r, err);
		if (!rc)
			rc = h5out_commit(pp->out, err);
	}
	return rc;
}
