/* run.c - `aisp bench run`: one rank's whole run, from options to exit status. */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "gpuinfo.h"
#include "profile_ncu.h"
#include "profile_pass.h"
#include "prov.h"
#include "registry.h"
#include "sha256.h"
#include "sigs.h"
#include "text.h"

/* What one rank knows about itself, gathered to rank 0 for the map. */
struct rank_slot {
	char node[64], host[64], device[16], name[96], uuid[96];
	int rank, local_rank;
};

/* State of one rank's run. */
struct run {
	struct run_opts opts;
	struct job job;
	enum aisp_backend_kind backend;
	struct gpuinfo *gi;
	struct rank_info info;
	char dir[2048];
	char *job_yaml;          /* resolved job as YAML */
	size_t job_yaml_len;
	struct work_item *items;
	double *timeouts;
	size_t n_items;
	struct worker worker;
	struct sched sched;
	run_expect_fn update_fn;   /* --update-expectations writer (the dispatcher's) */
};

/* 1 when this process is rank 0 by the launcher's environment (before MPI_Init). */
static int env_rank0(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
					   "SLURM_PROCID", NULL};

	for (int i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return atoi(v) == 0;
	}
	return 1;
}

/* The error of a failed mkdir: the disk's (EIO) or a bad path (usage). */
static aisp_err make_dirs_fail(const char *path, aisp_error *err)
{
	int e = errno;

	return aisp_fail(err, e == EIO || e == ENOSPC || e == EDQUOT ? AISP_EIO : AISP_EUSAGE,
			 "%s: %s", path, strerror(e));
}

/* mkdir -p path. */
static aisp_err make_dirs(const char *path, aisp_error *err)
{
	char tmp[2048];

	if (text_copy(tmp, sizeof(tmp), path))
		return aisp_fail(err, AISP_EUSAGE, "%s: path too long", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return make_dirs_fail(tmp, err);
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return make_dirs_fail(tmp, err);
	return AISP_OK;
}

/* A directory that already holds a run (job.yaml or rank 0's file) is never
 * written over: only --resume continues it. */
static aisp_err refuse_existing_run(const char *dir, aisp_error *err)
{
	static const char *const names[] = {"job.yaml", "rank-00000.h5"};
	char path[2200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (access(path, F_OK) == 0)
			return aisp_fail(err, AISP_EUSAGE, "%s already holds a run (%s): "
					 "--resume %s to finish it, or another --out",
					 dir, names[i], dir);
	}
	return AISP_OK;
}

/* Write text to dir/name. */
static aisp_err write_text(const char *dir, const char *name, const char *text, size_t len,
			   aisp_error *err)
{
	char path[2200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return aisp_fail(err, AISP_EIO, "%s: %s", path, strerror(errno));
	if (fwrite(text, 1, len, f) != len || fclose(f))
		return aisp_fail(err, AISP_EIO, "%s: write failed", path);
	return AISP_OK;
}

/* Decide the backend: auto picks CUDA where a GPU is visible. */
static aisp_err pick_backend(struct run *r, aisp_error *err)
{
	int gpus = gpuinfo_count(r->gi);
	int built = registry_has_backend(AISP_BACKEND_CUDA);
	char lib[4200];

	backend_cuda_path(lib, sizeof(lib));
	if (r->opts.backend == RUN_BACKEND_HOST) {
		r->backend = AISP_BACKEND_HOST;
		return AISP_OK;
	}
	if (r->opts.backend == RUN_BACKEND_CUDA && !built)
		return aisp_fail(err, AISP_EUSAGE, "--backend cuda: aisp was built without CUDA "
				 "(rebuild on a machine with nvcc)");
	if (r->opts.backend == RUN_BACKEND_CUDA && !gpus)
		return aisp_fail(err, AISP_EUSAGE, "--backend cuda: no GPU found (NVML sees none)");
	/* A GPU to use and a CUDA build, but the plug-in is not there: say so
	 * rather than measure the host where the GPU was meant. */
	if (built && gpus && !backend_cuda_present())
		return aisp_fail(err, AISP_EUSAGE, "%s: %d GPU%s found but the CUDA backend %s is "
				 "missing (install it beside the binary, or --backend host)",
				 r->opts.backend == RUN_BACKEND_CUDA ? "--backend cuda" : "--backend auto",
				 gpus, gpus == 1 ? "" : "s", lib);
	r->backend = built && gpus ? AISP_BACKEND_CUDA : AISP_BACKEND_HOST;
	return AISP_OK;
}

/* The resolved job as YAML text and its digest. */
static aisp_err render_job(struct run *r, aisp_error *err)
{
	FILE *f = open_memstream(&r->job_yaml, &r->job_yaml_len);
	aisp_err rc;

	if (!f)
		return aisp_fail(err, AISP_ENOMEM, "job text");
	rc = job_write_yaml(&r->job, f, err);
	fclose(f);
	if (!rc)
		sha256_hex(r->job_yaml, r->job_yaml_len, r->info.job_sha256);
	return rc;
}

/* Count rank-*.h5 files in dir. */
static int count_rank_files(const char *dir)
{
	char path[2200];
	int n = 0;

	for (;; n++) {
		snprintf(path, sizeof(path), "%s/rank-%05d.h5", dir, n);
		if (access(path, F_OK))
			return n;
	}
}

/* --resume: the job file must be unchanged and the rank count the same. */
static aisp_err check_resume(struct run *r, aisp_error *err)
{
	struct job given;
	struct run_opts o = r->opts;
	char *text = NULL, sha[72];
	size_t len = 0;
	FILE *f;
	aisp_err rc;
	int files = count_rank_files(r->dir);

	if (files != r->info.world_size)
		return aisp_fail(err, AISP_EUSAGE, "--resume %s: the run had %d ranks, this one has %d",
				 r->dir, files, r->info.world_size);
	if (!o.job_path)
		return AISP_OK;
	o.resume_dir = NULL;
	rc = run_resolve_job(&o, r->backend, &given, err);
	if (rc)
		return rc;
	f = open_memstream(&text, &len);
	rc = f ? job_write_yaml(&given, f, err) : AISP_ENOMEM;
	if (f)
		fclose(f);
	job_free(&given);
	if (!rc) {
		sha256_hex(text, len, sha);
		if (strcmp(sha, r->info.job_sha256))
			rc = aisp_fail(err, AISP_EUSAGE, "--resume %s: job %s differs from the run's job.yaml",
				       r->dir, o.job_path);
	}
	free(text);
	return rc;
}

/* qsort order of C strings. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every AISP_TEST_* variable of this process's environment as "NAME=value"
 * pairs, sorted, space separated, into dst[n] ("" when none): the rank file
 * records that a test knob shaped its numbers. A space or control character
 * in a value becomes '?', so that each knob stays one word. */
static void test_knobs(char *dst, size_t n)
{
	extern char **environ;
	const char *k[64];
	size_t nk = 0, len = 0;

	dst[0] = '\0';
	for (char **e = environ; e && *e && nk < 64; e++)
		if (!strncmp(*e, "AISP_TEST_", 10))
			k[nk++] = *e;
	qsort(k, nk, sizeof(*k), cmp_str);
	for (size_t i = 0; i < nk && len + 1 < n; i++) {
		size_t start = len;

		len += (size_t)snprintf(dst + len, n - len, "%s%s", i ? " " : "", k[i]);
		len = len < n ? len : n - 1;
		for (size_t j = start + (i ? 1 : 0); j < len; j++)
			if ((unsigned char)dst[j] <= ' ' || dst[j] == 0x7f)
				dst[j] = '?';
	}
}

/* Rank 0 names the run directory and writes job.yaml and command.txt. */
static aisp_err prepare_dir(struct run *r, int argc, char **argv, aisp_error *err)
{
	char cmd[2048] = "aisp bench";
	aisp_err rc = AISP_OK;
	int failed, cut = 0;

	for (int i = 0; i < argc; i++) {
		strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 1);
	}
	text_copy(r->info.command_line, sizeof(r->info.command_line), cmd);
	test_knobs(r->info.test_knobs, sizeof(r->info.test_knobs));
	if (r->info.rank == 0)
		prov_run_id(r->info.run_id, sizeof(r->info.run_id));
	MPI_Bcast(r->info.run_id, sizeof(r->info.run_id), MPI_CHAR, 0, MPI_COMM_WORLD);
	if (r->opts.resume_dir)
		cut = text_copy(r->dir, sizeof(r->dir), r->opts.resume_dir);
	else if (r->opts.out_dir)
		cut = text_copy(r->dir, sizeof(r->dir), r->opts.out_dir);
	else
		snprintf(r->dir, sizeof(r->dir), "runs/%s", r->info.run_id);
	if (cut)
		rc = aisp_fail(err, AISP_EUSAGE, "%s: run directory path too long (at most %zu bytes)",
			       r->opts.resume_dir ? "--resume" : "--out", sizeof(r->dir) - 1);
	if (r->info.rank == 0 && !rc && !r->opts.resume_dir) {
		rc = refuse_existing_run(r->dir, err);
		if (!rc)
			rc = make_dirs(r->dir, err);
		if (!rc)
			rc = write_text(r->dir, "job.yaml", r->job_yaml, r->job_yaml_len, err);
		if (!rc)
			rc = write_text(r->dir, "command.txt", cmd, strlen(cmd), err);
	}
	if (r->info.rank == 0 && !rc && r->opts.resume_dir)
		rc = check_resume(r, err);
	failed = rc != AISP_OK;
	MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (failed && !rc)
		rc = aisp_fail(err, AISP_EUSAGE, "rank 0 could not prepare %s", r->dir);
	return rc;
}

/* Device facts for sched: NVML on CUDA, the host stand-in otherwise. */
static void read_facts(void *arg, struct gpu_facts *out)
{
	struct run *r = arg;

	if (r->backend == AISP_BACKEND_CUDA && !gpuinfo_read(r->gi, r->info.gpu.index, out, NULL))
		return;
	*out = r->info.gpu;
}

/* Fill this rank's identity: node, local rank, device and hardware key. */
static aisp_err identify(struct run *r, aisp_error *err)
{
	struct rank_info *in = &r->info;
	MPI_Comm local;
	int gpus = gpuinfo_count(r->gi);

	MPI_Comm_rank(MPI_COMM_WORLD, &in->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &in->world_size);
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, in->rank, MPI_INFO_NULL, &local);
	MPI_Comm_rank(local, &in->local_rank);
	MPI_Comm_size(local, &in->local_size);
	MPI_Comm_free(&local);
	prov_node_name(in->node, sizeof(in->node));
	if (gethostname(in->hostname, sizeof(in->hostname)))
		text_copy(in->hostname, sizeof(in->hostname), "unknown");
	text_copy(in->tool_version, sizeof(in->tool_version), AISP_VERSION);
	text_copy(in->git_commit, sizeof(in->git_commit), AISP_GIT_COMMIT);
	text_copy(in->backend, sizeof(in->backend), r->backend == AISP_BACKEND_CUDA ? "cuda" : "host");
	text_copy(in->status, sizeof(in->status), "running");
	prov_utc_now(in->start_utc, sizeof(in->start_utc));
	if (r->backend == AISP_BACKEND_HOST) {
		gpuinfo_host(in->node, in->local_rank, &in->gpu);
	} else {
		int dev = r->opts.gpu >= 0 ? r->opts.gpu : in->local_rank % gpus;

		if (dev >= gpus)
			return aisp_fail(err, AISP_EUSAGE, "--gpu %d: only %d GPUs visible", dev, gpus);
		if (gpuinfo_read(r->gi, dev, &in->gpu, err))
			return err->code;
		in->gpu.index = dev;
	}
	prov_hardware_key(&in->gpu, r->backend == AISP_BACKEND_CUDA ? gpus : 1,
			  r->backend == AISP_BACKEND_HOST, in->hardware_key, sizeof(in->hardware_key));
	text_copy(in->job_name, sizeof(in->job_name), r->job.name);
	in->seed = r->job.seed;
	return AISP_OK;
}

/* Rank 0 prints the rank -> node -> device map. Collective. */
static void print_map(const struct run *r)
{
	struct rank_slot me = {0}, *all = NULL;
	const struct rank_info *in = &r->info;

	text_copy(me.node, sizeof(me.node), in->node);
	text_copy(me.host, sizeof(me.host), in->hostname);
	snprintf(me.device, sizeof(me.device), "%s:%d", in->backend, in->gpu.index);
	text_copy(me.name, sizeof(me.name), in->gpu.name);
	text_copy(me.uuid, sizeof(me.uuid), in->gpu.uuid);
	me.rank = in->rank;
	me.local_rank = in->local_rank;
	if (in->rank == 0)
		all = calloc((size_t)in->world_size, sizeof(*all));
	MPI_Gather(&me, sizeof(me), MPI_BYTE, all, sizeof(me), MPI_BYTE, 0, MPI_COMM_WORLD);
	if (!all)
		return;
	printf("%-5s %-16s %-16s %-5s %-8s %-28s %s\n", "rank", "node", "host", "local",
	       "device", "name", "uuid");
	for (int i = 0; i < in->world_size; i++)
		printf("%-5d %-16s %-16s %-5d %-8s %-28s %s\n", all[i].rank, all[i].node, all[i].host,
		       all[i].local_rank, all[i].device, all[i].name, all[i].uuid);
	fflush(stdout);
	free(all);
}

/* Mark the items this run already has as done (--resume). Collective. */
static aisp_err mark_done(struct run *r, aisp_error *err)
{
	r->sched.skip = calloc(r->n_items ? r->n_items : 1, 1);
	if (!r->sched.skip)
		return aisp_fail(err, AISP_ENOMEM, "resume bitmap");
	if (!r->opts.resume_dir)
		return AISP_OK;
	for (size_t i = 0; i < r->n_items; i++)
		r->sched.skip[i] = (unsigned char)h5out_has_ok(r->sched.out, r->items[i].instance,
								  r->items[i].variant);
	if (r->job.mode == JOB_MODE_SPREAD)
		MPI_Allreduce(MPI_IN_PLACE, r->sched.skip, (int)r->n_items, MPI_UNSIGNED_CHAR, MPI_MAX,
			      MPI_COMM_WORLD);
	return AISP_OK;
}

/* Reports rank 0 waits for. */
static size_t expected_reports(const struct run *r)
{
	size_t todo = 0;

	for (size_t i = 0; i < r->n_items; i++)
		todo += !r->sched.skip[i];
	if (r->job.mode == JOB_MODE_SPREAD)
		return todo;
	return todo * (size_t)r->info.world_size; /* approximate on resume: ranks differ */
}

/* --profile minimal: Nsight Compute must be there before anything runs. */
static aisp_err profile_check(const struct run *r, aisp_error *err)
{
	char ncu[4096];

	return r->opts.profile ? profile_ncu_find(ncu, sizeof(ncu), err) : AISP_OK;
}

/* --profile minimal: every variant this rank measured, again under ncu,
 * after the timed pass (profile_pass.h). */
static aisp_err profile_all(struct run *r, aisp_error *err)
{
	struct profile_pass pp = {
		.backend = r->backend, .device = r->info.gpu.index, .rank = r->info.rank,
		.dir = r->dir, .items = r->items, .timeouts = r->timeouts,
		.n_items = r->n_items, .out = r->sched.out, .sigfd = r->sched.sigfd,
		.iterations = PROFILE_PASS_ITERATIONS,
	};
	aisp_err rc = profile_pass_run(&pp, err);

	if (rc == AISP_EINTERRUPT)
		r->sched.interrupted = 1;
	return rc;
}

/* Set up the rank file, the worker and the scheduler of r. */
static aisp_err start_ranks(struct run *r, int sigfd, aisp_error *err)
{
	const char *knob = getenv("AISP_TEST_SLOW_PCT");
	char path[2200];
	aisp_err rc;

	snprintf(path, sizeof(path), "%s/rank-%05d.h5", r->dir, r->info.rank);
	rc = profile_check(r, err);
	if (!rc)
		rc = h5out_open(path, &r->info, r->opts.resume_dir != NULL, &r->sched.out, err);
	if (!rc)
		rc = run_items(&r->job, r->backend, &r->items, &r->timeouts, &r->n_items, err);
	if (rc)
		return rc;
	for (size_t i = 0; knob && i < r->n_items; i++)
		r->items[i].test_knob = atoi(knob);
	worker_init(&r->worker, r->backend, r->info.gpu.index, NULL);
	r->sched.comm = MPI_COMM_WORLD;
	r->sched.rank = r->info.rank;
	r->sched.size = r->info.world_size;
	r->sched.mode = r->job.mode;
	r->sched.items = r->items;
	r->sched.timeouts = r->timeouts;
	r->sched.n_items = r->n_items;
	r->sched.worker = &r->worker;
	r->sched.sigfd = sigfd;
	r->sched.facts = read_facts;
	r->sched.facts_arg = r;
	rc = mark_done(r, err);
	r->sched.expected = expected_reports(r);
	return rc;
}

/* Rank 0: write jobs/<chapter>/expectations_<key>.json from this run. */
static aisp_err update_expectations(const struct run *r, aisp_error *err)
{
	char chapter[AISP_NAME_MAX], dir[AISP_NAME_MAX + 8], path[512];
	aisp_err rc;

	snprintf(chapter, sizeof(chapter), "%s", r->job.n_targets ? r->job.targets[0].target : "x");
	chapter[strcspn(chapter, ":")] = '\0';
	snprintf(dir, sizeof(dir), "jobs/%s", chapter);
	rc = make_dirs(dir, err);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/expectations_%s.json", dir, r->info.hardware_key);
	rc = r->update_fn ? r->update_fn(r->dir, path, err)
			  : aisp_fail(err, AISP_EUSAGE, "not offered by this binary");
	if (!rc)
		printf("expectations written: %s\n", path);
	return rc;
}

/* Exit status of this rank's part: 0 ok, 1 failures, 3 interrupted. */
static int rank_status(const struct run *r, aisp_err rc)
{
	if (r->sched.interrupted || rc == AISP_EINTERRUPT)
		return 3;
	if (rc)
		return aisp_err_exit_status(rc) ? aisp_err_exit_status(rc) : 1;
	return r->sched.failures ? 1 : 0;
}

/* Measure, close the rank file and agree on the exit status. Collective. */
static int measure_all(struct run *r, int sigfd, aisp_error *err)
{
	char end[32];
	aisp_err rc, crc;
	int status;

	rc = start_ranks(r, sigfd, err);
	if (!rc)
		rc = sched_run(&r->sched, err);
	worker_stop(&r->worker);
	if (!rc && r->opts.profile && !r->sched.interrupted)
		rc = profile_all(r, err);
	if (rc && rc != AISP_EINTERRUPT)
		fprintf(stderr, "aisp: rank %d: %s\n", r->info.rank, err->msg);
	prov_utc_now(end, sizeof(end));
	crc = h5out_close(r->sched.out, r->sched.interrupted ? "interrupted" : "complete", end, err);
	if (crc)
		fprintf(stderr, "aisp: rank %d: %s\n", r->info.rank, err->msg);
	status = rank_status(r, rc ? rc : crc);
	if (r->sched.abandon) { /* a second signal: the file is closed, stop the job now */
		fprintf(stderr, "aisp: %s\n", err->msg);
		MPI_Abort(MPI_COMM_WORLD, status);
	}
	MPI_Allreduce(MPI_IN_PLACE, &status, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return status;
}

/* Rank 0's closing lines: the table, the directory, expectations. */
static int finish(struct run *r, int status, aisp_error *err)
{
	if (r->info.rank != 0)
		return status;
	run_print_summary(&r->sched);
	printf("run: %s (%d rank%s, %s, %s)%s\n", r->dir, r->info.world_size,
	       r->info.world_size > 1 ? "s" : "", r->info.backend, r->info.hardware_key,
	       status == 3 ? " INTERRUPTED" : status ? " WITH FAILURES" : "");
	if (r->opts.update_expectations && status != 3 && update_expectations(r, err)) {
		fprintf(stderr, "aisp: --update-expectations: %s\n", err->msg);
		return status ? status : 1;
	}
	return status;
}

/* Free everything r holds. */
static void run_free(struct run *r)
{
	job_free(&r->job);
	free(r->job_yaml);
	free(r->items);
	free(r->timeouts);
	free(r->sched.skip);
	free(r->sched.reports);
	gpuinfo_close(r->gi);
}

/* Everything that needs no other rank: the device list, the backend, the job
 * and its text. Runs before MPI_Init, so that a bad command line or job file
 * ends with its message and exit 2 without starting MPI: a singleton torn
 * down right after MPI_Init crashed now and then in Open MPI's teardown on a
 * busy machine (SIGSEGV after the message, hostile_job.sh, hostile_cli.sh). */
static int run_prepare(struct run *r)
{
	aisp_error err = {0};
	aisp_err rc;

	rc = gpuinfo_open(&r->gi, &err);
	if (!rc)
		rc = pick_backend(r, &err);
	if (!rc)
		rc = run_resolve_job(&r->opts, r->backend, &r->job, &err);
	if (!rc)
		rc = render_job(r, &err);
	if (!rc)
		return 0;
	if (env_rank0() || rc != AISP_EUSAGE)
		fprintf(stderr, "aisp bench run: %s\n", err.msg);
	return aisp_err_exit_status(rc) ? aisp_err_exit_status(rc) : 1;
}

/* Everything after MPI_Init up to the exit status. */
static int run_ranks(struct run *r, int argc, char **argv, int sigfd)
{
	aisp_error err = {0};
	aisp_err rc;
	int status;

	MPI_Comm_rank(MPI_COMM_WORLD, &r->info.rank);
	rc = identify(r, &err);
	if (!rc)
		rc = prepare_dir(r, argc, argv, &err);
	if (rc) {
		if (r->info.rank == 0 || rc != AISP_EUSAGE)
			fprintf(stderr, "aisp bench run: %s\n", err.msg);
		return aisp_err_exit_status(rc) ? aisp_err_exit_status(rc) : 1;
	}
	if (r->info.rank == 0) {
		printf("aisp %s: job %s, %zu target%s, mode %s, backend %s%s\n", AISP_VERSION,
		       r->job.name, r->job.n_targets, r->job.n_targets == 1 ? "" : "s",
		       job_mode_name(r->job.mode), r->info.backend,
		       r->backend == AISP_BACKEND_CUDA ? " (GPU found)"
		       : gpuinfo_count(r->gi) ? " (chosen)" : " (no GPU found)");
		printf("run dir: %s\n", r->dir);
	}
	print_map(r);
	status = measure_all(r, sigfd, &err);
	return finish(r, status, &err);
}

static void run_usage(FILE *f)
{
	fputs("usage: aisp bench run --targets ch01[,ch01:gemm,...] [options]\n"
	      "       aisp bench run --job FILE.yaml [options]\n"
	      "       aisp bench run --resume RUN_DIR [--job FILE.yaml]\n"
	      "Runs benchmark targets on every MPI rank (singleton, mpirun or srun) and\n"
	      "writes RUN_DIR/rank-NNNNN.h5 per rank.\n\n"
	      "  --targets LIST          chapters or targets, comma separated\n"
	      "  --job FILE              job file (jobs/ch01/job.yaml)\n"
	      "  --iterations N          minimum timed iterations per variant\n"
	      "  --warmup N              warm-up iterations\n"
	      "  --warmup-ms MS          and warm up at least MS (idle GPU clocks ramp up)\n"
	      "  --max-iterations N      adaptive stop cap\n"
	      "  --time-budget S         adaptive stop: seconds per variant\n"
	      "  --min-sample-ms MS      a sample times back-to-back iterations lasting >= MS\n"
	      "  --mode every|spread     every rank runs everything | items handed out\n"
	      "  --backend auto|cuda|host  auto: CUDA where a GPU is found\n"
	      "  --profile none|minimal  minimal: after the timed pass, each variant once more\n"
	      "                          under Nsight Compute (never a timing source)\n"
	      "  --out DIR               run directory (default runs/<run id>)\n"
	      "  --resume RUN_DIR        re-run what is missing or failed\n"
	      "  --update-expectations   write jobs/<chapter>/expectations_<hardware_key>.json\n"
	      "  --timeout S             worker time limit per variant\n"
	      "  --seed N                seed of all random inputs\n"
	      "  --gpu N                 device ordinal (default: local rank)\n"
	      "Exit: 0 ok, 1 a failed check or crash, 2 bad usage, 3 interrupted.\n", f);
}

/* `aisp bench run`. */
static int bench_run(int argc, char **argv, run_expect_fn update_fn)
{
	struct run r;
	aisp_error err = {0};
	int sigfd, status;

	memset(&r, 0, sizeof(r));
	r.update_fn = update_fn;
	if (run_parse_opts(argc, argv, &r.opts, &err)) {
		if (env_rank0())
			fprintf(stderr, "aisp bench run: %s\n", err.msg);
		return 2;
	}
	if (err.code == AISP_OK && !strcmp(err.msg, "help")) {
		run_usage(stdout);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN); /* a dead worker's pipe is an error code, not death */
	status = run_prepare(&r);
	if (status) {
		run_free(&r);
		return status;
	}
	sigfd = sigs_open();
	MPI_Init(&argc, &argv);
	status = run_ranks(&r, argc, argv, sigfd);
	run_free(&r);
	MPI_Finalize();
	return status;
}

/* `aisp bench list-targets [--chapter chNN]`: targets, backends and variants. */
static int list_targets(int argc, char **argv)
{
	const struct aisp_target *const *all = registry_all();
	const char *chapter = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: aisp bench list-targets [--chapter chNN]\n"
			     "Lists the targets built in, their backends, variants and parameters.");
			return 0;
		}
		if (!strcmp(argv[i], "--chapter") && i + 1 < argc) {
			chapter = argv[++i];
			continue;
		}
		fprintf(stderr, "aisp bench list-targets: unknown argument '%s'\n", argv[i]);
		return 2;
	}
	for (size_t i = 0; all[i]; i++) {
		const struct aisp_target *t = all[i];
		size_t cl = chapter ? strlen(chapter) : 0;

		if (t->card->test_only && !getenv("AISP_TEST_TARGETS"))
			continue;
		if (chapter && (strncmp(t->card->name, chapter, cl) || t->card->name[cl] != ':'))
			continue;
		printf("%-20s %-5s %s\n", t->card->name, t->backend == AISP_BACKEND_CUDA ? "cuda" : "host",
		       t->card->description);
		for (size_t v = 0; v < t->n_variants; v++)
			printf("    %-32s %s\n", t->variants[v].name,
			       t->variants[v].role == AISP_ROLE_BASELINE ? "baseline" : "optimized");
		printf("    params:");
		for (size_t p = 0; p < t->card->n_params; p++)
			printf(" %s=%g", t->card->params[p].name, t->card->params[p].def[t->backend]);
		printf("\n");
	}
	return 0;
}

int bench_main(int argc, char **argv, run_expect_fn expect_fn)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		puts("usage: aisp bench list-targets [--chapter chNN]\n"
		     "       aisp bench run --targets LIST | --job FILE | --resume DIR [options]\n"
		     "See aisp bench run --help.");
		return sub ? 0 : 2;
	}
	if (!strcmp(sub, "run"))
		return bench_run(argc - 1, argv + 1, expect_fn);
	if (!strcmp(sub, "list-targets"))
		return list_targets(argc - 1, argv + 1);
	fprintf(stderr, "aisp bench: unknown command '%s'%s\n", sub,
		text_edit_distance(sub, "run") <= 2 ? "; did you mean 'run'?"
		: text_edit_distance(sub, "list-targets") <= 4 ? "; did you mean 'list-targets'?" : "");
	return 2;
}
