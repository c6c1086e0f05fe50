/* history_gather.c - the records of one refresh: what gather just wrote to
 * an expectations file, appended to history.h5 beside it (history.h). */
#include "history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"
#include "gather.h"
#include "sha256.h"
#include "text.h"

/* qsort_r order of run indices by run_id. */
static int history_cmp_run(const void *a, const void *b, void *arg)
{
	const struct fleet *f = arg;

	return strcmp(fleet_str(f, f->runs[*(const size_t *)a].run_id),
		      fleet_str(f, f->runs[*(const size_t *)b].run_id));
}

/* qsort order of char[13] commits. */
static int history_cmp_commit(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* s joined into dst[n] with ", ", cut with "..." when it does not fit. */
static void history_join(char *dst, size_t n, const char *const *s, size_t k)
{
	size_t len = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		int w = snprintf(dst + len, n - len, "%s%s", i ? "," : "", s[i]);

		if (w < 0 || (size_t)w >= n - len) {
			if (n > 4)
				memcpy(dst + n - 4, "...", 4);
			return;
		}
		len += (size_t)w;
	}
}

/* The runs of instance in: sorted ids, their sha256, the latest end time and
 * the distinct commits (12 digits) into e. */
static aisp_err history_runs(const struct fleet *f, const struct fleet_inst *in,
			     struct history_rec *e, aisp_error *err)
{
	size_t *idx = calloc(f->n_runs + 1, sizeof(*idx)), n = 0, len = 1, nc = 0;
	const char **ids = calloc(2 * (f->n_runs + 1), sizeof(*ids)), **distinct;
	char (*commits)[13] = calloc(f->n_runs + 1, sizeof(*commits)), *all = NULL;
	char *used = calloc(f->n_runs + 1, 1);
	aisp_err rc = AISP_OK;

	if (!idx || !ids || !commits || !used)
		goto oom;
	distinct = ids + f->n_runs + 1;
	for (size_t i = 0; i < f->n_rows; i++)
		if (f->rows[i].hk == in->hk && f->rows[i].inst == in->inst)
			used[f->rows[i].run] = 1;
	for (size_t r = 0; r < f->n_runs; r++)
		if (used[r])
			idx[n++] = r;
	qsort_r(idx, n, sizeof(*idx), history_cmp_run, (void *)f);
	for (size_t i = 0; i < n; i++) {
		const struct fleet_run *u = &f->runs[idx[i]];

		ids[i] = fleet_str(f, u->run_id);
		len += strlen(ids[i]) + 1;
		if (strcmp(fleet_str(f, u->end_utc), e->data_utc) > 0)
			text_copy(e->data_utc, sizeof(e->data_utc), fleet_str(f, u->end_utc));
		snprintf(commits[i], sizeof(commits[i]), "%s", fleet_str(f, u->git_commit));
	}
	if (!(all = malloc(len)))
		goto oom;
	history_join(all, len, ids, n);
	sha256_hex(all, strlen(all), e->runs_sha256);
	history_join(e->runs, sizeof(e->runs), ids, n);
	qsort(commits, n, sizeof(*commits), history_cmp_commit);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(commits[i], commits[i - 1]))
			distinct[nc++] = commits[i];
	history_join(e->commits, sizeof(e->commits), distinct, nc);
	e->n_runs = (long long)n;
	goto out;
oom:
	rc = aisp_fail(err, AISP_ENOMEM, "history: out of memory");
out:
	free(commits);
	free(all);
	free(ids);
	free(idx);
	free(used);
	return rc;
}

/* The noise of variant var in example ex: the number at
 * fleet.variants.<v>.noise, else NAN. */
static double history_noise(const json_t *ex, const char *var)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(ex, "fleet"),
							  "variants"), var);
	const json_t *n = json_object_get(v, "noise");

	return json_is_number(n) ? json_number_value(n) : NAN;
}

/* One record per variant of instance in (example ex) appended to h unless
 * already there; *added counts the new ones. */
static aisp_err history_add_inst(const struct fleet *f, const struct fleet_inst *in,
				 const json_t *ex, const char *key, const char *now,
				 struct history *h, size_t *added, aisp_error *err)
{
	struct history_rec base = {0};
	const char *src;
	aisp_err rc;

	if ((rc = history_runs(f, in, &base, err)))
		return rc;
	text_copy(base.hk, sizeof(base.hk), fleet_str(f, in->hk));
	text_copy(base.example, sizeof(base.example), key);
	text_copy(base.target, sizeof(base.target), fleet_str(f, in->inst));
	text_copy(base.gathered_utc, sizeof(base.gathered_utc), now);
	expect_tolerance(ex, &base.tol_lower, &base.tol_upper, &src);
	for (size_t i = in->var0; i < in->var0 + in->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];
		struct history_rec *e;
		int seen = 0;

		for (size_t j = 0; j < h->n && !seen; j++)
			seen = !strcmp(h->recs[j].runs_sha256, base.runs_sha256) &&
			       !strcmp(h->recs[j].hk, base.hk) &&
			       !strcmp(h->recs[j].target, base.target) &&
			       !strcmp(h->recs[j].variant, fleet_str(f, v->var));
		if (seen)
			continue;
		if (!(e = history_push(h)))
			return aisp_fail(err, AISP_ENOMEM, "history: out of memory");
		*e = base;
		text_copy(e->variant, sizeof(e->variant), fleet_str(f, v->var));
		text_copy(e->role, sizeof(e->role), fleet_str(f, v->role));
		e->gpus = (long long)v->n_gpus;
		e->gpus_ok = v->n_ok;
		e->nodes = v->n_nodes;
		e->median = v->median;
		e->p10 = v->p10;
		e->p90 = v->p90;
		e->mad = v->mad;
		e->noise = history_noise(ex, fleet_str(f, v->var));
		(*added)++;
	}
	return AISP_OK;
}

/* The records of every instance of hk that the expectations root holds. */
static aisp_err history_add_all(const struct fleet *f, uint32_t hk, const json_t *root,
				struct history *h, size_t *added, aisp_error *err)
{
	const json_t *exs = json_object_get(root, "examples");
	char key[2 * AISP_NAME_MAX], now[32];
	time_t t = time(NULL);
	struct tm tm;
	aisp_err rc;

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	for (size_t i = 0; i < f->n_insts; i++) {
		const json_t *ex;

		if (f->insts[i].hk != hk)
			continue;
		gather_example_key(f, &f->insts[i], key, sizeof(key));
		if (!(ex = json_object_get(exs, key)))
			continue; /* no expectation written (no baseline ok) */
		if ((rc = history_add_inst(f, &f->insts[i], ex, key, now, h, added, err)))
			return rc;
	}
	return AISP_OK;
}

aisp_err history_append(const struct fleet *f, uint32_t hk, const char *json_path,
			const char *dir, FILE *log, aisp_error *err)
{
	struct history h = {0};
	json_t *root = NULL;
	char path[4200];
	size_t before, added = 0;
	aisp_err rc;
	int lock;

	if (snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE) >= (int)sizeof(path))
		return aisp_fail(err, AISP_EINPUT, "%s: path too long", dir);
	/* one writer at a time per directory: a concurrent gather waits */
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		rc = aisp_fail(err, AISP_EIO, "%s: cannot lock: %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = expect_load(json_path, &root, err)) || (rc = history_load(path, &h, err)))
		goto out;
	before = h.n;
	if ((rc = history_add_all(f, hk, root, &h, &added, err)))
		goto out;
	if (added && (rc = history_save(&h, path, err)))
		goto out;
	if (log && added)
		fprintf(log, "gather: wrote %s (%zu new records, %zu in all)\n", path, added, h.n);
	else if (log)
		fprintf(log, "gather: %s: these runs are already recorded (%zu records; nothing added)\n",
			path, before);
out:
	if (lock >= 0)
		close(lock);
	json_decref(root);
	history_free(&h);
	return rc;
}
