/* gather.c - `aisp gather RUN_DIR... [--out DIR]`: fleet statistics of any
 * number of runs, fleet.h5 and expectations_<hardware_key>.json. */
#include "analysis.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "gather.h"
#include "history.h"
#include "rankfile.h"
#include "text.h"

static const char gather_usage[] =
	"usage: aisp gather RUN_DIR... [--out DIR] [--z Z] [--min-delta F]\n"
	"  Merge the rank files of any number of runs into fleet statistics per\n"
	"  hardware_key, target and variant; write DIR/fleet.h5 and\n"
	"  DIR/expectations_<hardware_key>.json (an existing file is updated).\n"
	"  --out DIR        output directory (default: .)\n"
	"  --z Z            robust z above which a slower GPU is an outlier (3.5)\n"
	"  --min-delta F    ...and only when slower than the fleet median by more\n"
	"                   than this fraction (0.02)\n"
	"  --file-timeout S skip a file whose reading takes longer (30; each file\n"
	"                   is read in a child process: HDF5 may hang or crash on\n"
	"                   corrupt input)\n"
	"  --no-guard       read files in this process: faster, but a file that\n"
	"                   crashes HDF5 then takes gather down with it\n"
	"  --allow-test-knobs  gather rank files written under AISP_TEST_* knobs\n"
	"                   (refused otherwise: a test run is not a baseline)\n"
	"  Each target's tolerance is taken from the runs' job.yaml, else kept\n"
	"  when set by hand, else follows from the measured noise, else 25%.\n"
	"exit: 0 ok, 2 bad usage or input, 3 a file skipped or a run incomplete\n";

aisp_err gather_load(struct fleet *f, char *const *dirs, int n_dirs, double z,
		     double min_delta, aisp_error *err)
{
	aisp_err rc;

	f->z_threshold = z;
	f->min_delta = min_delta;
	rankfile_quiet();
	if ((rc = fleet_add_dirs(f, dirs, (size_t)n_dirs, err)))
		return rc;
	return fleet_finish(f, err);
}

void gather_print_problems(const struct fleet *f, const char *cmd, FILE *out)
{
	for (size_t i = 0; i < f->n_skips; i++)
		fprintf(out, "%s: skipped %s\n", cmd, f->skips[i].why);
	for (size_t i = 0; i < f->n_runs; i++) {
		const struct fleet_run *r = &f->runs[i];

		if (r->n_files < r->world_size)
			fprintf(out, "%s: incomplete run %s in %s: %d of %lld rank files\n", cmd,
				fleet_str(f, r->run_id), fleet_str(f, r->dir), r->n_files,
				r->world_size);
		if (r->n_unfinished)
			fprintf(out, "%s: incomplete run %s in %s: %d rank files not complete\n",
				cmd, fleet_str(f, r->run_id), fleet_str(f, r->dir), r->n_unfinished);
	}
}

/* Parse a real option value in [lo, hi]; -1 when bad. */
static int gather_real(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "aisp: --%s: '%s': expected a number in [%g, %g]\n", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

/* One line per variant, then one per outlier GPU. */
static void gather_print_summary(const struct fleet *f)
{
	printf("gather: %zu rank files from %zu runs, %zu skipped\n", f->n_files, f->n_runs,
	       f->n_skips);
	for (size_t i = 0; i < f->n_vars; i++) {
		const struct fleet_var *v = &f->vars[i];

		printf("gather: %s %s/%s: %zu GPUs on %d nodes, median %.6g ms (p10 %.6g, p90 %.6g, MAD %.3g), speedup %.4g, %d failed, %d outliers",
		       fleet_str(f, v->hk), fleet_str(f, v->inst), fleet_str(f, v->var), v->n_gpus,
		       v->n_nodes, v->median, v->p10, v->p90, v->mad, v->speedup, v->n_failed,
		       v->n_outliers);
		if (v->n_skipped)
			printf(", %d skipped", v->n_skipped);
		printf("\n");
		if (v->host_launch)
			printf("gather: %s %s/%s: host-launch-bound, judged by device time (CUPTI): %d of %d GPUs, median %.6g ms (p10 %.6g, p90 %.6g, MAD %.3g), noise %.2g%%, detectable %.2g%%\n",
			       fleet_str(f, v->hk), fleet_str(f, v->inst), fleet_str(f, v->var),
			       v->dev.n_gpus, v->n_ok, v->dev.median, v->dev.p10, v->dev.p90, v->dev.mad,
			       100.0 * v->dev.noise, 100.0 * v->dev.detectable);
		for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
			const struct fleet_gpu *g = &f->gpus[j];
			double x = v->host_launch ? g->device : g->median;
			double m = v->host_launch ? v->dev.median : v->median;

			if (g->outlier)
				printf("gather: outlier %s %s/%s: GPU %s on node %s (rank %d of run %s): %s%.6g ms, %+.1f%% vs fleet median, z=%+.1f\n",
				       fleet_str(f, v->hk), fleet_str(f, v->inst), fleet_str(f, v->var),
				       fleet_str(f, g->gpu), fleet_str(f, g->node), g->rank,
				       fleet_str(f, f->runs[g->run].run_id),
				       v->host_launch ? "device time " : "", x, 100.0 * (x / m - 1.0), g->z);
		}
	}
}

/* The history.h5 in out, when there is one, must load (gather appends to it). */
static aisp_err gather_check_history(const char *out, aisp_error *err)
{
	struct history h;
	char path[4200], why[sizeof(err->msg)];
	aisp_err rc;

	snprintf(path, sizeof(path), "%s/%s", out, HISTORY_FILE);
	if ((rc = history_load(path, &h, err))) {
		snprintf(why, sizeof(why), "%s", err->msg);
		return aisp_fail(err, rc, "%.900s (it exists: fix or remove it)", why);
	}
	history_free(&h);
	return AISP_OK;
}

/* Before anything is written: every existing expectations file that gather
 * will update must load (else fleet.h5 would be new beside a stale one). */
static aisp_err gather_check_existing(const struct fleet *f, const char *out, aisp_error *err)
{
	char path[4096], why[sizeof(err->msg)];
	json_t *root;
	aisp_err rc;

	for (size_t i = 0; i < f->n_insts; i++) {
		const char *hk = fleet_str(f, f->insts[i].hk);

		if ((i > 0 && f->insts[i - 1].hk == f->insts[i].hk) || !text_is_safe_name(hk))
			continue; /* gather_write names an unsafe key */
		snprintf(path, sizeof(path), "%s/expectations_%s.json", out, hk);
		if (access(path, F_OK) != 0)
			continue;
		if ((rc = expect_load(path, &root, err))) {
			snprintf(why, sizeof(why), "%s", err->msg);
			return aisp_fail(err, rc, "%.900s (it exists: fix or remove it)", why);
		}
		json_decref(root);
	}
	return gather_check_history(out, err);
}

/* Refuse rank files written under test knobs unless allowed: name up to
 * three of them and how many there are; hint says what to do instead. */
static aisp_err gather_check_knobs(const struct fleet *f, int allow, const char *hint,
				   aisp_error *err)
{
	char list[600] = "";
	size_t n = 0, len = 0;

	for (size_t i = 0; i < f->n_files; i++) {
		const struct fleet_file *ff = &f->files[i];

		if (!fleet_str(f, ff->knobs)[0])
			continue;
		if (n++ < 3 && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s rank %d (%.80s)",
						len ? ", " : "", fleet_str(f, f->runs[ff->run].dir),
						ff->rank, fleet_str(f, ff->knobs));
	}
	if (!n)
		return AISP_OK;
	if (allow) {
		printf("gather: %zu rank files were written under test knobs: %s%s; gathered (--allow-test-knobs)\n",
		       n, list, n > 3 ? ", ..." : "");
		return AISP_OK;
	}
	return aisp_fail(err, AISP_EINPUT, "%zu rank files were written under test knobs: %s%s: a test run is not a baseline (%s)",
			 n, list, n > 3 ? ", ..." : "", hint);
}

/* fleet.h5 and one expectations file per hardware key into out. */
static aisp_err gather_write(const struct fleet *f, const char *out, aisp_error *err)
{
	char path[4096];
	aisp_err rc;

	if (mkdir(out, 0755) != 0 && errno != EEXIST)
		return aisp_fail(err, AISP_EINPUT, "%s: %s", out, strerror(errno));
	if ((rc = gather_check_existing(f, out, err)))
		return rc;
	snprintf(path, sizeof(path), "%s/fleet.h5", out);
	if ((rc = gather_write_h5(f, path, err)))
		return rc;
	printf("gather: wrote %s\n", path);
	for (size_t i = 0; i < f->n_insts; i++) {
		const char *hk = fleet_str(f, f->insts[i].hk);

		if (i > 0 && f->insts[i - 1].hk == f->insts[i].hk)
			continue;
		if (!text_is_safe_name(hk))
			return aisp_fail(err, AISP_EINPUT, "hardware_key '%s': not a safe file name", hk);
		snprintf(path, sizeof(path), "%s/expectations_%s.json", out, hk);
		if ((rc = gather_write_json(f, f->insts[i].hk, path, stderr, err)))
			return rc;
		printf("gather: wrote %s\n", path);
		/* history.h5 beside it: one record per variant of this refresh */
		if ((rc = history_append(f, f->insts[i].hk, path, out, stdout, err)))
			return rc;
	}
	return AISP_OK;
}

/* 1 when a launcher (mpirun, srun) started this process as one of several. */
static int gather_launched_mpi(void)
{
	const char *n = getenv("OMPI_COMM_WORLD_SIZE");

	if (!n)
		n = getenv("PMI_SIZE");
	if (!n) /* set by srun for its tasks, unlike SLURM_NTASKS of a batch script */
		n = getenv("SLURM_STEP_NUM_TASKS");
	return n && atoi(n) > 1;
}

/* Load the fleet, split over MPI ranks when launched as several; *root is
 * 0 on the ranks that only read. */
static aisp_err gather_load_any(struct fleet *f, char *const *dirs, int n, double z,
				double md, int *root, aisp_error *err)
{
	int rank = 0;

	*root = 1;
	if (!gather_launched_mpi())
		return gather_load(f, dirs, n, z, md, err);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	*root = rank == 0;
	return gather_load_mpi(f, dirs, n, z, md, MPI_COMM_WORLD, err);
}

/* Summary, outputs and the exit status of a loaded fleet. */
static aisp_err gather_finish(struct fleet *f, const char *out, int allow_knobs, aisp_err rc,
			      aisp_error *err)
{
	int bad_jobs = 0;

	if (rc == AISP_OK) {
		gather_print_problems(f, "gather", stderr);
		gather_print_summary(f);
		if (f->n_insts == 0)
			rc = aisp_fail(err, AISP_EINCOMPLETE, "no readable results in the run directories given");
		else if ((rc = gather_check_knobs(f, allow_knobs, "--allow-test-knobs gathers them anyway",
						   err)) == AISP_OK) {
			bad_jobs = gather_job_tolerances(f, stderr);
			rc = gather_write(f, out, err);
		}
	}
	if (rc != AISP_OK)
		fprintf(stderr, "aisp gather: %s\n", err->msg);
	else if (fleet_incomplete(f) || bad_jobs)
		rc = AISP_EINCOMPLETE;
	return rc;
}

int gather_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'}, {"z", required_argument, NULL, 'z'},
		{"min-delta", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
		{"file-timeout", required_argument, NULL, 't'}, {"no-guard", no_argument, NULL, 'g'},
		{"allow-test-knobs", no_argument, NULL, 'k'}, {NULL, 0, NULL, 0},
	};
	const char *out = ".";
	double z = FLEET_Z_DEFAULT, md = FLEET_MIN_DELTA_DEFAULT, ft = FLEET_FILE_TIMEOUT_S;
	aisp_error err = {0};
	struct fleet f;
	aisp_err rc;
	int c, unguarded = 0, root, status, allow_knobs = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'z': if (gather_real("z", optarg, 0.0, 1e6, &z)) return 2; break;
		case 'm': if (gather_real("min-delta", optarg, 0.0, 100.0, &md)) return 2; break;
		case 't': if (gather_real("file-timeout", optarg, 0.001, 1e6, &ft)) return 2; break;
		case 'g': unguarded = 1; break;
		case 'k': allow_knobs = 1; break;
		case 'h': fputs(gather_usage, stdout); return 0;
		default: fputs(gather_usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "aisp gather: no RUN_DIR given\n%s", gather_usage);
		return 2;
	}
	fleet_init(&f);
	f.file_timeout_s = ft;
	f.unguarded = unguarded;
	if (gather_launched_mpi())
		MPI_Init(&argc, &argv);
	rc = gather_load_any(&f, argv + optind, argc - optind, z, md, &root, &err);
	status = root ? aisp_err_exit_status(gather_finish(&f, out, allow_knobs, rc, &err)) : 0;
	fleet_free(&f);
	if (gather_launched_mpi()) {
		MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
		MPI_Finalize();
	}
	return status;
}

aisp_err expect_update_from_run(const char *run_dir, const char *out_json_path,
				aisp_error *err)
{
	char *dirs[1] = {(char *)run_dir}, dir[4096];
	struct fleet f;
	aisp_err rc;

	fleet_init(&f);
	f.unguarded = 1; /* files this run just wrote; no fork() inside an MPI rank */
	rc = gather_load(&f, dirs, 1, FLEET_Z_DEFAULT, FLEET_MIN_DELTA_DEFAULT, err);
	if (rc == AISP_OK && f.n_insts == 0)
		rc = aisp_fail(err, AISP_EINCOMPLETE, "%s: no readable results", run_dir);
	if (rc == AISP_OK && f.insts[0].hk != f.insts[f.n_insts - 1].hk)
		rc = aisp_fail(err, AISP_EINPUT, "%s: several hardware keys (%s, %s): one file cannot hold them",
			       run_dir, fleet_str(&f, f.insts[0].hk),
			       fleet_str(&f, f.insts[f.n_insts - 1].hk));
	if (rc == AISP_OK)
		rc = gather_check_knobs(&f, 0, "run without AISP_TEST_* variables to write expectations",
					err);
	if (rc == AISP_OK && gather_job_tolerances(&f, stderr))
		rc = aisp_fail(err, AISP_EINPUT, "%s/job.yaml: not readable", run_dir);
	if (rc == AISP_OK)
		rc = gather_write_json(&f, f.insts[0].hk, out_json_path, NULL, err);
	if (rc == AISP_OK) { /* history.h5 beside it, as gather */
		history_dir_of(out_json_path, dir, sizeof(dir));
		rc = history_append(&f, f.insts[0].hk, out_json_path, dir, NULL, err);
	}
	if (rc == AISP_OK && fleet_incomplete(&f))
		rc = aisp_fail(err, AISP_EINCOMPLETE, "%s: incomplete: %s", run_dir,
			       f.n_skips ? f.skips[0].why : "a rank file is missing or unfinished");
	fleet_free(&f);
	return rc;
}
