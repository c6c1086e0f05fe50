/*
 * profile_ncu.c - Nsight Compute for `--profile minimal`: where ncu is, the
 * argv prefix that runs a worker under it, and the speed-of-light shares
 * read back from its report.
 */
#include "profile_ncu.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure.h"
#include "text.h"

#define NCU_OPT_GLOB "/opt/nvidia/nsight-compute/*/ncu"
#define NCU_MEM_METRIC "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed"
#define NCU_SM_METRIC "sm__throughput.avg.pct_of_peak_sustained_elapsed"
#define NCU_TIME_METRIC "gpu__time_duration.sum"
#define NCU_MAX_COLS 4096
#define NCU_MAX_OUTPUT (256u << 20)
#define NCU_NVTX_RANGE MEASURE_PROFILE_RANGE "/" /* push/pop range of that name */

/* 1 when path names an executable regular file. */
static int ncu_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* First dir/ncu on a $PATH-style list into out; 0 when found. */
static int ncu_on_path(const char *path_env, char *out, size_t n)
{
	const char *p = path_env;

	while (p && *p) {
		size_t len = strcspn(p, ":");

		if (len > 0 && (size_t)snprintf(out, n, "%.*s/ncu", (int)len, p) < n &&
		    ncu_executable(out))
			return 0;
		p += len + (p[len] == ':');
	}
	return -1;
}

/* Newest (last in sorted order) executable match of pattern; 0 when found. */
static int ncu_in_glob(const char *pattern, char *out, size_t n)
{
	glob_t g;
	int rc = -1;

	if (glob(pattern, 0, NULL, &g))
		return -1;
	for (size_t i = g.gl_pathc; i-- > 0 && rc;)
		if (ncu_executable(g.gl_pathv[i]) && !text_copy(out, n, g.gl_pathv[i]))
			rc = 0;
	globfree(&g);
	return rc;
}

aisp_err profile_ncu_find_in(const char *path_env, const char *opt_glob, char *out,
			     size_t n, aisp_error *err)
{
	const char *env = getenv("AISP_NCU");

	if (env && *env) {
		if (ncu_executable(env) && !text_copy(out, n, env))
			return AISP_OK;
		return aisp_fail(err, AISP_EINPUT, "AISP_NCU=%s: not an executable", env);
	}
	if (!ncu_on_path(path_env, out, n))
		return AISP_OK;
	if (opt_glob && !ncu_in_glob(opt_glob, out, n))
		return AISP_OK;
	return aisp_fail(err, AISP_EINPUT,
			 "--profile minimal: Nsight Compute (ncu) not installed: not on PATH, "
			 "not in %s, not in $CUDA_HOME/bin (set AISP_NCU to its path)",
			 opt_glob ? opt_glob : "(no glob)");
}

aisp_err profile_ncu_find(char *out, size_t n, aisp_error *err)
{
	const char *path = getenv("PATH"), *cuda = getenv("CUDA_HOME");
	char buf[8192];

	snprintf(buf, sizeof(buf), "%s:%s/bin", path ? path : "",
		 cuda && *cuda ? cuda : "/usr/local/cuda");
	return profile_ncu_find_in(buf, NCU_OPT_GLOB, out, n, err);
}

void profile_ncu_argv_free(char **argv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(argv[i]);
		argv[i] = NULL;
	}
}

aisp_err profile_ncu_argv(const char *report_base, const char *log_path, char **argv,
			  size_t max, size_t *n, aisp_error *err)
{
	char ncu[4096];
	const char *filter = getenv("AISP_NCU_FILTER");
	int all = filter && !strcmp(filter, "none");
	const char *tail[] = {"--section", "SpeedOfLight", "--clock-control", "none",
			      "--cache-control", "none", "--target-processes", "all",
			      "--force-overwrite", "--export", report_base, "--log-file", log_path,
			      "--nvtx", "--nvtx-include", NCU_NVTX_RANGE};
	size_t want = 1 + sizeof(tail) / sizeof(tail[0]) - (all ? 3 : 0);
	aisp_err rc;

	*n = 0;
	if (!report_base || !*report_base || !log_path || !*log_path)
		return aisp_fail(err, AISP_EINTERNAL, "profile_ncu_argv: no report or log path");
	if (max < want)
		return aisp_fail(err, AISP_EINTERNAL, "profile_ncu_argv: room for %zu, need %zu",
				 max, want);
	if ((rc = profile_ncu_find(ncu, sizeof(ncu), err)))
		return rc;
	argv[0] = strdup(ncu);
	for (size_t i = 0; argv[i] && i + 1 < want; i++)
		argv[i + 1] = strdup(tail[i]);
	for (*n = 0; *n < want && argv[*n]; (*n)++)
		;
	if (*n < want) {
		profile_ncu_argv_free(argv, *n);
		*n = 0;
		return aisp_fail(err, AISP_ENOMEM, "profile_ncu_argv: out of memory");
	}
	return AISP_OK;
}

/* Split one CSV line in place into fields (quotes removed); returns count. */
static size_t csv_split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		char *w;

		if (*p == '"') {
			w = f[n++] = ++p;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++; /* "" inside quotes is one quote */
				*w++ = *p++;
			}
			if (*p == '"')
				p++;
		} else {
			w = f[n++] = p;
			while (*p && *p != ',')
				p++;
			w = p;
		}
		if (*p != ',') {
			*w = '\0';
			break;
		}
		*w = '\0';
		p++;
	}
	return n;
}

/* Number in s ("1,234.5" allowed); 0 when it is one, -1 for "n/a" etc. */
static int csv_number(const char *s, double *v)
{
	char buf[64], *end;
	size_t j = 0;

	for (; *s && j + 1 < sizeof(buf); s++)
		if (*s != ',')
			buf[j++] = *s;
	buf[j] = '\0';
	if (!j)
		return -1;
	*v = strtod(buf, &end);
	return *end ? -1 : 0;
}

/* Column index of name among the n header fields, or -1. */
static int csv_col(char **h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(h[i], name))
			return (int)i;
	return -1;
}

struct ncu_sums {
	double mem, sm, weight;   /* duration-weighted shares */
	size_t rows;              /* rows with both shares */
	double time_ms;           /* summed durations, in ms */
	long timed;               /* rows with a duration */
};

/* Column indices of the metrics in the header row; time scale from units. */
struct ncu_cols {
	int mem, sm, time;
	double to_ms;             /* gpu__time_duration unit -> ms */
};

/* ms per unit of a duration column's unit text ("nsecond", "us", ...). */
static double ncu_unit_ms(const char *u)
{
	static const struct {
		const char *unit;
		double ms;
	} tab[] = {{"nsecond", 1e-6}, {"ns", 1e-6}, {"usecond", 1e-3}, {"us", 1e-3},
		   {"msecond", 1.0}, {"ms", 1.0}, {"second", 1e3}, {"s", 1e3}};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(u, tab[i].unit))
			return tab[i].ms;
	return 1e-6; /* ncu's base unit for durations */
}

/* Add one kernel row: shares weighted by its duration (1 when unknown). */
static void ncu_add_row(char **f, size_t n, const struct ncu_cols *c, struct ncu_sums *s)
{
	double mem, sm, w = NAN;

	if (c->time >= 0 && (size_t)c->time < n && !csv_number(f[c->time], &w) && w > 0.0) {
		s->time_ms += w * c->to_ms;
		s->timed++;
	} else {
		w = NAN;
	}
	if ((size_t)c->mem >= n || (size_t)c->sm >= n || csv_number(f[c->mem], &mem) ||
	    csv_number(f[c->sm], &sm))
		return;
	if (!(w > 0.0))
		w = 1.0;
	s->mem += w * mem;
	s->sm += w * sm;
	s->weight += w;
	s->rows++;
}

aisp_err profile_ncu_summary_csv(const char *csv, struct ncu_summary *out, aisp_error *err)
{
	char *text = strdup(csv ? csv : ""), *save = NULL, **f = NULL;
	struct ncu_sums s = {0};
	struct ncu_cols c = {-1, -1, -1, 1e-6};
	int line_no = 0;
	aisp_err rc = AISP_OK;

	f = calloc(NCU_MAX_COLS, sizeof(*f));
	if (!text || !f) {
		rc = aisp_fail(err, AISP_ENOMEM, "ncu csv: out of memory");
		goto out;
	}
	for (char *line = strtok_r(text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		size_t n = csv_split(line, f, NCU_MAX_COLS);

		if (c.mem < 0 && n > 0 && !strcmp(f[0], "ID")) {
			c.mem = csv_col(f, n, NCU_MEM_METRIC);
			c.sm = csv_col(f, n, NCU_SM_METRIC);
			c.time = csv_col(f, n, NCU_TIME_METRIC);
			if (c.mem < 0 || c.sm < 0) {
				rc = aisp_fail(err, AISP_EINPUT, "ncu csv: no %s column",
					       c.mem < 0 ? NCU_MEM_METRIC : NCU_SM_METRIC);
				goto out;
			}
			line_no = 1;
		} else if (c.mem >= 0 && line_no++ == 1) {
			if (c.time >= 0 && (size_t)c.time < n) /* line 2 holds the units */
				c.to_ms = ncu_unit_ms(f[c.time]);
		} else if (c.mem >= 0) {
			ncu_add_row(f, n, &c, &s);
		}
	}
	if (c.mem < 0 || (!s.rows && !s.timed)) {
		rc = aisp_fail(err, AISP_EINPUT, "ncu csv: %s", c.mem < 0 ? "no header row"
								  : "no kernel rows");
		goto out;
	}
	out->mem_pct = s.rows ? s.mem / s.weight : NAN;
	out->sm_pct = s.rows ? s.sm / s.weight : NAN;
	out->time_ms = s.timed ? s.time_ms : NAN;
	out->kernels = (long)(s.rows > (size_t)s.timed ? s.rows : (size_t)s.timed);
out:
	free(f);
	free(text);
	return rc;
}

aisp_err profile_ncu_parse_csv(const char *csv, double *mem_pct, double *sm_pct,
			       aisp_error *err)
{
	struct ncu_summary sum;
	aisp_err rc = profile_ncu_summary_csv(csv, &sum, err);

	if (!rc && !isfinite(sum.mem_pct))
		rc = aisp_fail(err, AISP_EINPUT, "ncu csv: no kernel rows");
	if (!rc) {
		*mem_pct = sum.mem_pct;
		*sm_pct = sum.sm_pct;
	}
	return rc;
}

/* Run argv, its stdout into a malloc'd string *out; stderr goes to ours. */
static aisp_err ncu_capture(char *const argv[], char **out, aisp_error *err)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int fd[2], status = 0;
	pid_t pid;
	ssize_t got;

	*out = NULL;
	if (!buf || pipe(fd)) {
		free(buf);
		return aisp_fail(err, AISP_EIO, "ncu: pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while (pid > 0 && (got = read(fd[0], buf + len, cap - len - 1)) != 0) {
		char *nb;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || len + got + 1 >= NCU_MAX_OUTPUT)
			break;
		len += (size_t)got;
		if (cap - len > 1)
			continue;
		if (!(nb = realloc(buf, cap * 2)))
			break;
		buf = nb;
		cap *= 2;
	}
	close(fd[0]);
	buf[len] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		free(buf);
		return aisp_fail(err, AISP_EIO, "ncu --import %s failed (status %d)", argv[2],
				 pid < 0 ? -1 : status);
	}
	*out = buf;
	return AISP_OK;
}

aisp_err profile_ncu_summary(const char *report, struct ncu_summary *out, aisp_error *err)
{
	char ncu[4096], *csv = NULL;
	aisp_error e = {0};
	aisp_err rc;

	if (access(report, R_OK))
		return aisp_fail(err, AISP_EINPUT, "%s: %s", report, strerror(errno));
	if ((rc = profile_ncu_find(ncu, sizeof(ncu), err)))
		return rc;
	{
		char *argv[] = {ncu, (char *)"--import", (char *)report, (char *)"--csv",
				(char *)"--page", (char *)"raw", NULL};

		rc = ncu_capture(argv, &csv, &e);
	}
	if (!rc)
		rc = profile_ncu_summary_csv(csv, out, &e);
	if (rc == AISP_EINPUT)
		aisp_fail(err, rc, "%s: %s", report, e.msg);
	else if (rc)
		aisp_fail(err, rc, "%s", e.msg);
	free(csv);
	return rc;
}

aisp_err profile_ncu_parse(const char *report, double *mem_pct, double *sm_pct,
			   aisp_error *err)
{
	struct ncu_summary sum;
	aisp_err rc = profile_ncu_summary(report, &sum, err);

	if (!rc && !isfinite(sum.mem_pct))
		rc = aisp_fail(err, AISP_EINPUT, "%s: no kernel rows with shares of peak", report);
	if (!rc) {
		*mem_pct = sum.mem_pct;
		*sm_pct = sum.sm_pct;
	}
	return rc;
}

/* Copy line (after prefix, without its line break) into out. */
static void log_line_copy(const char *line, size_t prefix, char *out, size_t n)
{
	const char *p = line + prefix;

	while (*p == ' ')
		p++;
	text_copy(out, n, p);
	out[strcspn(out, "\r\n")] = '\0';
}

int profile_ncu_log_error(const char *log_path, char *out, size_t n)
{
	char line[1024];
	int found = 0;
	FILE *f = log_path ? fopen(log_path, "r") : NULL;

	if (n)
		out[0] = '\0';
	if (!f)
		return -1;
	while (found < 2 && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "==ERROR==", 9)) {
			log_line_copy(line, 9, out, n);
			found = 2;
		} else if (!found && !strncmp(line, "==WARNING==", 11)) {
			log_line_copy(line, 11, out, n);
			found = 1;
		}
	}
	fclose(f);
	return found ? 1 : 0;
}
