/* run_job.c - options of `bench run` and the job they resolve to. */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "text.h"

static const struct option run_options[] = {
	{"targets", required_argument, NULL, 't'},
	{"job", required_argument, NULL, 'j'},
	{"iterations", required_argument, NULL, 'i'},
	{"warmup", required_argument, NULL, 'w'},
	{"max-iterations", required_argument, NULL, 'M'},
	{"time-budget", required_argument, NULL, 'B'},
	{"min-sample-ms", required_argument, NULL, 'S'},
	{"warmup-ms", required_argument, NULL, 'W'},
	{"mode", required_argument, NULL, 'm'},
	{"backend", required_argument, NULL, 'b'},
	{"profile", required_argument, NULL, 'p'},
	{"out", required_argument, NULL, 'o'},
	{"resume", required_argument, NULL, 'r'},
	{"update-expectations", no_argument, NULL, 'u'},
	{"timeout", required_argument, NULL, 'T'},
	{"seed", required_argument, NULL, 's'},
	{"gpu", required_argument, NULL, 'g'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Parse a whole decimal integer in [lo, hi]. */
static aisp_err parse_int(const char *opt, const char *s, long long lo, long long hi,
			  long long *out, aisp_error *err)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < lo || *out > hi)
		return aisp_fail(err, AISP_EUSAGE, "--%s: '%s' is not an integer in [%lld, %lld]",
				 opt, s, lo, hi);
	return AISP_OK;
}

/* Parse a whole finite real in (0, hi]. */
static aisp_err parse_pos(const char *opt, const char *s, double hi, double *out,
			  aisp_error *err)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out) || *out <= 0 || *out > hi)
		return aisp_fail(err, AISP_EUSAGE, "--%s: '%s' is not a number in (0, %g]", opt, s, hi);
	return AISP_OK;
}

/* Index of s in the NULL-terminated words, or a usage error naming them. */
static aisp_err parse_word(const char *opt, const char *s, const char *const *words,
			   int *out, aisp_error *err)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(s, words[i])) {
			*out = i;
			return AISP_OK;
		}
	return aisp_fail(err, AISP_EUSAGE, "--%s: '%s' is not one of %s|%s%s%s", opt, s, words[0],
			 words[1], words[2] ? "|" : "", words[2] ? words[2] : "");
}

/* "unknown option --x; did you mean --y?" for the argument getopt refused. */
static aisp_err unknown_option(const char *arg, aisp_error *err)
{
	const char *best = NULL, *name = arg;
	size_t best_d = (size_t)-1;

	while (*name == '-')
		name++;
	for (const struct option *o = run_options; o->name; o++) {
		size_t d = text_edit_distance(name, o->name);

		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	if (best && best_d <= 3)
		return aisp_fail(err, AISP_EUSAGE, "unknown option '%s'; did you mean --%s?", arg, best);
	return aisp_fail(err, AISP_EUSAGE, "unknown option '%s' (see aisp bench run --help)", arg);
}

/* Apply one parsed option c with argument a to o. */
static aisp_err apply_option(int c, const char *a, struct run_opts *o, aisp_error *err)
{
	static const char *const modes[] = {"every", "spread", NULL};
	static const char *const backends[] = {"auto", "host", "cuda", NULL};
	static const char *const profiles[] = {"none", "minimal", NULL};
	long long v;
	int w;
	aisp_err rc = AISP_OK;

	switch (c) {
	case 't': o->targets = a; break;
	case 'j': o->job_path = a; break;
	case 'o': o->out_dir = a; break;
	case 'r': o->resume_dir = a; break;
	case 'u': o->update_expectations = 1; break;
	case 'i': rc = parse_int("iterations", a, 1, 10000000, &v, err); o->iterations = (int)v; break;
	case 'w': rc = parse_int("warmup", a, 0, 1000000, &v, err); o->warmup = (int)v; break;
	case 'M': rc = parse_int("max-iterations", a, 1, 10000000, &v, err); o->max_iterations = (int)v; break;
	case 'g': rc = parse_int("gpu", a, 0, 1023, &v, err); o->gpu = (int)v; break;
	case 's': rc = parse_int("seed", a, 0, (1LL << 62), &v, err); o->seed = v; break;
	case 'T': rc = parse_pos("timeout", a, 1e7, &o->timeout_s, err); break;
	case 'B': rc = parse_pos("time-budget", a, 1e7, &o->time_budget_s, err); break;
	case 'S': rc = parse_pos("min-sample-ms", a, 1e4, &o->min_sample_ms, err); break;
	case 'W': rc = parse_pos("warmup-ms", a, 6e5, &o->warmup_ms, err); break;
	case 'm': rc = parse_word("mode", a, modes, &o->mode, err); break;
	case 'b': rc = parse_word("backend", a, backends, &w, err); o->backend = (enum run_backend)w; break;
	case 'p': rc = parse_word("profile", a, profiles, &o->profile, err); break;
	default: rc = aisp_fail(err, AISP_EINTERNAL, "option %c", c);
	}
	return rc;
}

aisp_err run_parse_opts(int argc, char **argv, struct run_opts *o, aisp_error *err)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->iterations = o->warmup = o->max_iterations = o->mode = o->gpu = -1;
	o->seed = -1;
	o->timeout_s = o->time_budget_s = o->min_sample_ms = o->warmup_ms = NAN;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		aisp_err rc;

		if (c == 'h')
			return aisp_fail(err, AISP_OK, "help");
		if (c == '?')
			return unknown_option(argv[optind - 1], err);
		if (c == ':')
			return aisp_fail(err, AISP_EUSAGE, "option '%s' needs a value", argv[optind - 1]);
		rc = apply_option(c, optarg, o, err);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return aisp_fail(err, AISP_EUSAGE, "unexpected argument '%s'", argv[optind]);
	if (!o->targets && !o->job_path && !o->resume_dir)
		return aisp_fail(err, AISP_EUSAGE, "give --targets, --job or --resume");
	if (o->resume_dir && o->out_dir)
		return aisp_fail(err, AISP_EUSAGE, "--resume writes into RUN_DIR; drop --out");
	return AISP_OK;
}

/* 1 when token (a chapter "ch01" or a target "ch01:gemm") selects name. */
static int token_selects(const char *tok, size_t len, const char *name)
{
	if (strlen(name) == len && !strncmp(tok, name, len))
		return 1;
	return !memchr(tok, ':', len) && !strncmp(tok, name, len) && name[len] == ':';
}

/* Check one --targets token: it must name a chapter or a target. */
static aisp_err check_token(const char *tok, size_t len, aisp_error *err)
{
	const struct aisp_target *const *all = registry_all();
	char name[AISP_NAME_MAX];
	const char *near;

	for (size_t i = 0; all[i]; i++)
		if (token_selects(tok, len, all[i]->card->name))
			return AISP_OK;
	snprintf(name, sizeof(name), "%.*s", (int)(len < 120 ? len : 120), tok);
	near = registry_suggest(name);
	if (near)
		return aisp_fail(err, AISP_EUSAGE, "--targets: unknown target '%s'; did you mean '%s'?",
				 name, near);
	return aisp_fail(err, AISP_EUSAGE, "--targets: unknown target '%s' (aisp bench list-targets)",
			 name);
}

/* 1 when the --targets list spec selects target name (NULL spec: all). */
static int spec_selects(const char *spec, const char *name)
{
	while (spec && *spec) {
		size_t len = strcspn(spec, ",");

		if (len && token_selects(spec, len, name))
			return 1;
		spec += len + (spec[len] == ',');
	}
	return !spec;
}

/* Validate every token of spec. */
static aisp_err check_spec(const char *spec, aisp_error *err)
{
	while (*spec) {
		size_t len = strcspn(spec, ",");
		aisp_err rc = len ? check_token(spec, len, err) : AISP_OK;

		if (rc)
			return rc;
		spec += len + (spec[len] == ',');
	}
	return AISP_OK;
}

/* Add every registry target of backend that spec selects and job lacks. */
static aisp_err add_selected(struct job *job, const char *spec,
			     enum aisp_backend_kind backend, int from_file, aisp_error *err)
{
	const struct aisp_target *const *all = registry_all();

	for (size_t i = 0; all[i]; i++) {
		int have = 0;

		if (all[i]->backend != backend || !spec_selects(spec, all[i]->card->name))
			continue;
		if (all[i]->card->test_only && !strstr(spec, all[i]->card->name))
			continue;
		for (size_t j = 0; j < job->n_targets; j++)
			have |= !strcmp(job->targets[j].target, all[i]->card->name);
		/* With a job file a chapter selects only the file's targets. */
		if (have || (from_file && !strstr(spec, all[i]->card->name)))
			continue;
		if (job_add_target(job, all[i], err))
			return err->code;
	}
	return AISP_OK;
}

/* Drop the job's targets that spec does not select. */
static void filter_job(struct job *job, const char *spec)
{
	size_t kept = 0;

	for (size_t i = 0; i < job->n_targets; i++)
		if (spec_selects(spec, job->targets[i].target))
			job->targets[kept++] = job->targets[i];
	job->n_targets = kept;
}

/* Apply command-line overrides to job. */
static void override_job(const struct run_opts *o, struct job *job)
{
	if (o->iterations > 0)
		job->iterations = o->iterations;
	if (o->warmup >= 0)
		job->warmup = o->warmup;
	if (o->max_iterations > 0)
		job->max_iterations = o->max_iterations;
	if (job->max_iterations < job->iterations)
		job->max_iterations = job->iterations;
	if (o->mode >= 0)
		job->mode = (enum job_mode)o->mode;
	if (o->seed >= 0)
		job->seed = (unsigned long long)o->seed;
	if (isfinite(o->time_budget_s))
		job->time_budget_s = o->time_budget_s;
	if (isfinite(o->min_sample_ms))
		job->min_sample_ms = o->min_sample_ms;
	if (isfinite(o->warmup_ms))
		job->warmup_ms = o->warmup_ms;
	for (size_t i = 0; isfinite(o->timeout_s) && i < job->n_targets; i++)
		job->targets[i].timeout_s = o->timeout_s;
	if (isfinite(o->timeout_s))
		job->timeout_s = o->timeout_s;
}

/* Parameters the job file did not set take the defaults of backend's twin. */
static aisp_err twin_defaults(struct job *job, enum aisp_backend_kind backend, aisp_error *err)
{
	for (size_t i = 0; i < job->n_targets; i++) {
		struct job_target *jt = &job->targets[i];
		const struct aisp_target *t = registry_find(jt->target, backend);
		struct aisp_params def;

		if (!t)
			return aisp_fail(err, AISP_EUSAGE, "%s has no %s implementation", jt->target,
					 backend == AISP_BACKEND_CUDA ? "cuda" : "host");
		aisp_params_defaults(t, &def);
		for (size_t p = 0; p < t->card->n_params && p < jt->params.n; p++)
			if (!(jt->set_mask & (1ull << p)))
				jt->params.v[p] = def.v[p];
		jt->set_mask = (1ull << t->card->n_params) - 1;
		if (aisp_params_validate(t, &jt->params, err))
			return err->code;
	}
	return AISP_OK;
}

aisp_err run_resolve_job(const struct run_opts *o, enum aisp_backend_kind backend,
			 struct job *job, aisp_error *err)
{
	const char *path = o->resume_dir ? NULL : o->job_path;
	char resumed[4200];
	aisp_err rc;

	job_init(job);
	if (o->resume_dir) {
		snprintf(resumed, sizeof(resumed), "%s/job.yaml", o->resume_dir);
		path = resumed;
	}
	if (path && (rc = job_load(path, job, err)))
		return rc;
	if (!path)
		text_copy(job->name, sizeof(job->name), "adhoc");
	if (o->resume_dir)
		return AISP_OK; /* the stored job is already resolved */
	if (o->targets && (rc = check_spec(o->targets, err)))
		goto fail;
	if (path && o->targets)
		filter_job(job, o->targets);
	if (o->targets && (rc = add_selected(job, o->targets, backend, path != NULL, err)))
		goto fail;
	if (!job->n_targets) {
		rc = aisp_fail(err, AISP_EUSAGE, "no targets selected");
		goto fail;
	}
	override_job(o, job);
	if ((rc = twin_defaults(job, backend, err)))
		goto fail;
	return AISP_OK;
fail:
	job_free(job);
	return rc;
}

aisp_err run_items(const struct job *job, enum aisp_backend_kind backend,
		   struct work_item **items, double **timeouts, size_t *n,
		   aisp_error *err)
{
	size_t cap = 0, k = 0;

	for (size_t i = 0; i < job->n_targets; i++) {
		const struct aisp_target *t = registry_find(job->targets[i].target, backend);

		cap += t ? t->n_variants : 0;
	}
	*items = calloc(cap ? cap : 1, sizeof(**items));
	*timeouts = calloc(cap ? cap : 1, sizeof(**timeouts));
	if (!*items || !*timeouts)
		return aisp_fail(err, AISP_ENOMEM, "work items");
	for (size_t i = 0; i < job->n_targets; i++) {
		const struct job_target *jt = &job->targets[i];
		const struct aisp_target *t = registry_find(jt->target, backend);

		for (size_t v = 0; t && v < t->n_variants; v++) {
			struct work_item *it = &(*items)[k];
			int want = !jt->n_variants;

			for (size_t s = 0; s < jt->n_variants; s++)
				want |= !strcmp(jt->variants[s], t->variants[v].name);
			if (!want)
				continue;
			text_copy(it->instance, sizeof(it->instance), jt->instance);
			text_copy(it->target, sizeof(it->target), jt->target);
			text_copy(it->variant, sizeof(it->variant), t->variants[v].name);
			it->params = jt->params;
			it->seed = job->seed;
			it->opts = (struct measure_opts){job->iterations, job->warmup,
							 job->max_iterations, job->time_budget_s,
							 job->ci_target, job->min_sample_ms,
							 job->warmup_ms};
			(*timeouts)[k++] = jt->timeout_s > 0 ? jt->timeout_s : job->timeout_s;
		}
	}
	*n = k;
	return AISP_OK;
}
