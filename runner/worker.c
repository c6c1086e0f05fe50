/* worker.c - the worker child (device side) and its keeper (rank side). */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "gpuinfo.h"
#include "pin.h"
#include "registry.h"
#include "services.h"
#include "text.h"

#define WORKER_START_TIMEOUT_S 120.0
#define WORKER_TICK_MS 2

extern char **environ;

struct rbuf {
	char *p;
	size_t len, cap;
};

/* ---- wire format ------------------------------------------------------ */

/* Write item as text lines ending in "end" to f. */
static void item_write(FILE *f, const struct work_item *it)
{
	fprintf(f, "instance %s\ntarget %s\nvariant %s\nseed %llu\nknob %d\n",
		it->instance, it->target, it->variant, it->seed, it->test_knob);
	fprintf(f, "iterations %d\nwarmup %d\nwarmup_ms %.17g\nmax_iterations %d\n",
		it->opts.iterations, it->opts.warmup, it->opts.warmup_ms, it->opts.max_iterations);
	fprintf(f, "time_budget_s %.17g\nci_target %.17g\nmin_sample_ms %.17g\nprofile %d\n",
		it->opts.time_budget_s, it->opts.ci_target, it->opts.min_sample_ms,
		it->opts.profile);
	fprintf(f, "params %zu", it->params.n);
	for (size_t i = 0; i < it->params.n; i++)
		fprintf(f, " %.17g", it->params.v[i]);
	fputs("\nend\n", f);
}

/* Copy the value after "key " in line into dst. */
static void copy_value(char *dst, size_t n, const char *line, size_t keylen)
{
	text_copy(dst, n, line[keylen] ? line + keylen + 1 : "");
}

/* Parse one "key value" line of an item into it; unknown keys are ignored. */
static void item_line(struct work_item *it, char *line)
{
	char *v = strchr(line, ' ');
	size_t k = v ? (size_t)(v - line) : strlen(line);

#define KEY(s) (k == sizeof(s) - 1 && !strncmp(line, s, k))
	if (KEY("instance"))
		copy_value(it->instance, sizeof(it->instance), line, k);
	else if (KEY("target"))
		copy_value(it->target, sizeof(it->target), line, k);
	else if (KEY("variant"))
		copy_value(it->variant, sizeof(it->variant), line, k);
	else if (KEY("seed") && v)
		it->seed = strtoull(v, NULL, 10);
	else if (KEY("knob") && v)
		it->test_knob = atoi(v);
	else if (KEY("iterations") && v)
		it->opts.iterations = atoi(v);
	else if (KEY("warmup") && v)
		it->opts.warmup = atoi(v);
	else if (KEY("warmup_ms") && v)
		it->opts.warmup_ms = strtod(v, NULL);
	else if (KEY("max_iterations") && v)
		it->opts.max_iterations = atoi(v);
	else if (KEY("time_budget_s") && v)
		it->opts.time_budget_s = strtod(v, NULL);
	else if (KEY("ci_target") && v)
		it->opts.ci_target = strtod(v, NULL);
	else if (KEY("min_sample_ms") && v)
		it->opts.min_sample_ms = strtod(v, NULL);
	else if (KEY("profile") && v)
		it->opts.profile = atoi(v);
	else if (KEY("params") && v) {
		char *end;

		it->params.n = strtoul(v, &end, 10);
		if (it->params.n > AISP_MAX_PARAMS)
			it->params.n = AISP_MAX_PARAMS;
		for (size_t i = 0; i < it->params.n; i++)
			it->params.v[i] = strtod(end, &end);
	}
#undef KEY
}

/* Copy src to dst (n bytes) with line breaks made spaces: one wire line. */
static void one_line(char *dst, size_t n, const char *src)
{
	text_copy(dst, n, src);
	for (char *c = dst; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

/* Write how r was measured (measure.c's context and counted pass) to f. */
static void result_write_context(FILE *f, const struct variant_result *r)
{
	char names[sizeof(r->kernel_names)];

	one_line(names, sizeof(names), r->kernel_names);
	fprintf(f, "host_ms %.17g\nwarmup %.17g %d %u %u\n", r->host_ms, r->warmup_spent_ms,
		r->warmup_clock_steady, r->warmup_clock_start_mhz, r->warmup_clock_end_mhz);
	fprintf(f, "sm_clocks %u %u\ncpu %d %d %d %ld\nswitches %s\n", r->sm_clock_start_mhz,
		r->sm_clock_end_mhz, r->worker_cpu, r->worker_cpu_pinned, r->cpu_migrated,
		r->involuntary_switches, r->measure_switches);
	fprintf(f, "count %d %ld %.17g %.17g %.17g\nkernel_names %s\n", r->count_iterations,
		r->device_ops, r->device_ms, r->device_span_ms, r->count_event_ms, names);
	fprintf(f, "timer %.17g %.17g %.17g %d\n", r->timer_events_ms, r->timer_span_ms,
		r->timer_kernels_ms, r->timer_iterations);
}

/* Write the worker's answer for r to f; restart asks the rank for a new worker. */
static void result_write(FILE *f, const struct variant_result *r, int restart)
{
	char msg[sizeof(r->message)];

	one_line(msg, sizeof(msg), r->message);
	fprintf(f, "status %s\nmessage %s\nrole %d\nhost_launch %d\ntechnique %s\nwork_unit %s\n",
		r->status, msg, (int)r->role, r->host_launch, r->technique, r->work_unit);
	result_write_context(f, r);
	fprintf(f, "launches %ld %ld\nwork %.17g\nbytes %.17g\nflops %.17g\n", r->launches_api,
		r->launches_kernels, r->work, r->bytes, r->flops);
	fprintf(f, "rel_error %.17g\ntolerance %.17g\nelapsed_s %.17g\nper_sample %d\n",
		r->rel_error, r->tolerance, r->elapsed_s, r->per_sample);
	for (size_t i = 0; i < r->n_checks && i < AISP_CHECK_VALUES; i++) {
		char name[sizeof(r->checks[i].name)];

		text_copy(name, sizeof(name), r->checks[i].name);
		for (char *c = name; *c; c++)
			if (*c == ' ' || *c == '\n' || *c == '\r')
				*c = '_';
		fprintf(f, "check %s %.17g\n", name[0] ? name : "_", r->checks[i].value);
	}
	fprintf(f, "restart %d\nsamples %zu", restart, r->n_samples);
	for (size_t i = 0; i < r->n_samples; i++)
		fprintf(f, " %.17g", r->samples[i]);
	fputs("\nend\n", f);
}

/* Parse one line of result_write_context into r; 1 when it was one. */
static int result_line_context(struct variant_result *r, const char *line, size_t k,
			       const char *v)
{
#define KEY(s) (k == sizeof(s) - 1 && !strncmp(line, s, k))
	if (KEY("host_ms") && v)
		r->host_ms = strtod(v, NULL);
	else if (KEY("warmup") && v)
		sscanf(v, "%lf %d %u %u", &r->warmup_spent_ms, &r->warmup_clock_steady,
		       &r->warmup_clock_start_mhz, &r->warmup_clock_end_mhz);
	else if (KEY("sm_clocks") && v)
		sscanf(v, "%u %u", &r->sm_clock_start_mhz, &r->sm_clock_end_mhz);
	else if (KEY("cpu") && v)
		sscanf(v, "%d %d %d %ld", &r->worker_cpu, &r->worker_cpu_pinned, &r->cpu_migrated,
		       &r->involuntary_switches);
	else if (KEY("switches"))
		copy_value(r->measure_switches, sizeof(r->measure_switches), line, k);
	else if (KEY("count") && v)
		sscanf(v, "%d %ld %lf %lf %lf", &r->count_iterations, &r->device_ops, &r->device_ms,
		       &r->device_span_ms, &r->count_event_ms);
	else if (KEY("kernel_names"))
		copy_value(r->kernel_names, sizeof(r->kernel_names), line, k);
	else if (KEY("timer") && v)
		sscanf(v, "%lf %lf %lf %d", &r->timer_events_ms, &r->timer_span_ms,
		       &r->timer_kernels_ms, &r->timer_iterations);
	else
		return 0;
#undef KEY
	return 1;
}

/* Parse one "key value" line of a result into r; sets *restart when asked. */
static aisp_err result_line(struct variant_result *r, char *line, int *restart)
{
	char *v = strchr(line, ' ');
	size_t k = v ? (size_t)(v - line) : strlen(line);

	if (result_line_context(r, line, k, v))
		return AISP_OK;
#define KEY(s) (k == sizeof(s) - 1 && !strncmp(line, s, k))
	if (KEY("status"))
		copy_value(r->status, sizeof(r->status), line, k);
	else if (KEY("message"))
		copy_value(r->message, sizeof(r->message), line, k);
	else if (KEY("technique"))
		copy_value(r->technique, sizeof(r->technique), line, k);
	else if (KEY("work_unit"))
		copy_value(r->work_unit, sizeof(r->work_unit), line, k);
	else if (KEY("role") && v)
		r->role = atoi(v) ? AISP_ROLE_OPTIMIZED : AISP_ROLE_BASELINE;
	else if (KEY("host_launch") && v)
		r->host_launch = atoi(v) != 0;
	else if (KEY("launches") && v)
		sscanf(v, "%ld %ld", &r->launches_api, &r->launches_kernels);
	else if (KEY("work") && v)
		r->work = strtod(v, NULL);
	else if (KEY("bytes") && v)
		r->bytes = strtod(v, NULL);
	else if (KEY("flops") && v)
		r->flops = strtod(v, NULL);
	else if (KEY("rel_error") && v)
		r->rel_error = strtod(v, NULL);
	else if (KEY("tolerance") && v)
		r->tolerance = strtod(v, NULL);
	else if (KEY("elapsed_s") && v)
		r->elapsed_s = strtod(v, NULL);
	else if (KEY("per_sample") && v)
		r->per_sample = atoi(v);
	else if (KEY("check") && v && r->n_checks < AISP_CHECK_VALUES) {
		struct aisp_check_value *c = &r->checks[r->n_checks];
		char *sp = strchr(v + 1, ' ');

		if (sp) {
			size_t len = (size_t)(sp - (v + 1));

			len = len < sizeof(c->name) - 1 ? len : sizeof(c->name) - 1;
			memcpy(c->name, v + 1, len);
			c->name[len] = '\0';
			c->value = strtod(sp + 1, NULL);
			r->n_checks++;
		}
	} else if (KEY("restart") && v)
		*restart = atoi(v);
	else if (KEY("samples") && v) {
		char *end;
		size_t n = strtoul(v, &end, 10);

		free(r->samples);
		r->samples = n ? malloc(n * sizeof(double)) : NULL;
		if (n && !r->samples)
			return AISP_ENOMEM;
		for (r->n_samples = 0; r->n_samples < n; r->n_samples++)
			r->samples[r->n_samples] = strtod(end, &end);
	}
#undef KEY
	return AISP_OK;
}

/* ---- worker side ------------------------------------------------------ */

/* Read one item from f; 1 on success, 0 at end of input. */
static int item_read(FILE *f, struct work_item *it)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int got = 0;

	memset(it, 0, sizeof(*it));
	while ((n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "end")) {
			got = 1;
			break;
		}
		item_line(it, line);
	}
	free(line);
	return got;
}

/* The worker's NVML view of its GPU, for the measuring loop's clock probe. */
struct worker_gpu {
	struct gpuinfo *gi;
	int dev;
	char bus_id[32];   /* NVML PCI bus id, "" unknown */
};

/* measure_probe's clock: the SM clock NVML reports now, 0 when unknown. */
static unsigned worker_sm_clock(void *arg)
{
	const struct worker_gpu *g = arg;
	struct gpu_facts f;

	return gpuinfo_read(g->gi, g->dev, &f, NULL) ? 0 : f.sm_clock_mhz;
}

/* Set up the probe of a CUDA worker: NVML for clocks, and (unless switched
 * off) the process on the GPU's local CPUs, before the context is made.
 * The host backend gets switches only. */
static void worker_probe(enum aisp_backend_kind kind, int dev, struct worker_gpu *g,
			 struct measure_probe *probe)
{
	struct gpu_facts f;
	char why[128];

	g->gi = NULL;
	g->dev = dev;
	g->bus_id[0] = '\0';
	if (kind != AISP_BACKEND_CUDA)
		return;
	memset(&f, 0, sizeof(f));
	if (gpuinfo_open(&g->gi, NULL) == AISP_OK && gpuinfo_count(g->gi) > dev &&
	    gpuinfo_read(g->gi, dev, &f, NULL) == AISP_OK) {
		probe->sm_clock_mhz = worker_sm_clock;
		probe->arg = g;
		text_copy(g->bus_id, sizeof(g->bus_id), f.pci_bus_id);
	}
	if (!(probe->switches & MEASURE_NO_PIN))
		pin_worker_local(g->bus_id, why, sizeof(why));
}

/* After the context is made: the worker's thread to its one CPU. */
static void worker_pin_thread(enum aisp_backend_kind kind, const struct worker_gpu *g,
			      struct measure_probe *probe)
{
	char why[128];

	if (kind == AISP_BACKEND_CUDA && !(probe->switches & MEASURE_NO_PIN))
		probe->cpu_pinned = pin_worker(g->bus_id, g->dev, why, sizeof(why)) >= 0;
}

/*
 * 1 when the next item needs a new worker: after a device error (the
 * context can be unusable), and after CUPTI was on for r (the timer or
 * counted pass) unless AISP_MEASURE=keepworker: CUPTI stays in the launch
 * path of the process once used. On an H200 (issue 16, notes/measure.md),
 * ch01:gemm optimized_gemm_graph after earlier items' counted passes took
 * the host 10-21 us per graph launch and 0.270-0.277 ms per iteration, in
 * processes that never started CUPTI 3-4 us and 0.265 ms.
 */
static int worker_restart(enum aisp_backend_kind kind, const struct measure_probe *probe,
			  const struct variant_result *r)
{
	if (kind != AISP_BACKEND_CUDA)
		return 0;
	if (!strcmp(r->status, "error"))
		return 1;
	return !(probe->switches & MEASURE_KEEP_WORKER) &&
	       (r->count_iterations > 0 || !isnan(r->timer_events_ms));
}

/* Measure one item on an open context into r. */
static void serve_item(const struct aisp_backend_ops *be, struct aisp_ctx *ctx,
		       const struct measure_probe *probe, const struct work_item *it,
		       struct variant_result *r)
{
	const struct aisp_target *t = registry_find(it->target, be->kind);
	struct measure_opts opts;
	aisp_error e = {0};
	double t0 = clock_now_s();
	int vi;

	text_copy(r->instance, sizeof(r->instance), it->instance);
	text_copy(r->status, sizeof(r->status), "error");
	variant_result_unknown(r);
	vi = t ? registry_variant_index(t, it->variant) : -1;
	if (vi < 0) {
		snprintf(r->message, sizeof(r->message), "no %s target %s with variant %s",
			 be->name, it->target, it->variant);
		return;
	}
	if (it->params.n != t->card->n_params || aisp_params_validate(t, &it->params, &e)) {
		snprintf(r->message, sizeof(r->message), "bad parameters: %.400s", e.msg);
		return;
	}
	ctx->seed = it->seed;
	opts = it->opts;
	opts.slow_pct = it->test_knob;
	measure_variant(be, ctx, t, (size_t)vi, &it->params, &opts, probe, r);
	r->elapsed_s = clock_now_s() - t0;
}

/* Parse worker arguments: --backend host|cuda --device N --parent PID. */
static int worker_args(int argc, char **argv, enum aisp_backend_kind *kind, int *dev,
		       pid_t *parent)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--backend"))
			*kind = strcmp(argv[i + 1], "cuda") ? AISP_BACKEND_HOST : AISP_BACKEND_CUDA;
		else if (!strcmp(argv[i], "--device"))
			*dev = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--parent"))
			*parent = (pid_t)atoi(argv[i + 1]);
		else
			return -1;
	}
	return 0;
}

int worker_main(int argc, char **argv)
{
	enum aisp_backend_kind kind = AISP_BACKEND_HOST;
	const struct aisp_backend_ops *be;
	struct measure_probe probe = {0};
	struct worker_gpu gpu = {0};
	struct aisp_ctx ctx = {0};
	struct work_item it;
	aisp_error e = {0};
	pid_t parent = 0;
	int dev = 0;
	double t0;
	FILE *out;

	if (worker_args(argc, argv, &kind, &dev, &parent)) {
		fprintf(stderr, "aisp worker: internal command, started by `aisp bench run`\n"
				"usage: aisp worker --backend host|cuda --device N [--parent PID]\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent && getppid() != parent)
		return 1;
	out = fdopen(3, "w");
	if (!out) {
		fprintf(stderr, "aisp worker: no result pipe\n");
		return 1;
	}
	if (measure_switches_parse(getenv("AISP_MEASURE"), &probe.switches, &e)) {
		fprintf(out, "status error\nmessage %s\nend\n", e.msg);
		fclose(out);
		return 1;
	}
	worker_probe(kind, dev, &gpu, &probe);
	t0 = clock_now_s();
	if (backend_load(kind, &be, &e) || be->open(dev, &ctx, &e) ||
	    services_open(&ctx, be, &e)) {
		fprintf(out, "status error\nmessage %s backend open failed: %s\nend\n",
			kind == AISP_BACKEND_CUDA ? "cuda" : "host", e.msg);
		fclose(out);
		gpuinfo_close(gpu.gi);
		return 1;
	}
	worker_pin_thread(kind, &gpu, &probe);
	fprintf(out, "ready %.6f\nend\n", (clock_now_s() - t0) * 1e3);
	fflush(out);
	while (item_read(stdin, &it)) {
		struct variant_result r = {0};
		int restart;

		serve_item(be, &ctx, &probe, &it, &r);
		restart = worker_restart(kind, &probe, &r);
		result_write(out, &r, restart);
		fflush(out);
		variant_result_free(&r);
		if (restart)
			break;
	}
	services_close(&ctx);
	be->close(&ctx);
	gpuinfo_close(gpu.gi);
	fclose(out);
	return 0;
}

/* ---- rank side -------------------------------------------------------- */

void worker_init(struct worker *w, enum aisp_backend_kind backend, int device,
		 const char *const *prefix)
{
	memset(w, 0, sizeof(*w));
	w->to_fd = w->from_fd = -1;
	w->backend = backend;
	w->device = device;
	w->prefix = prefix;
}

/* Close the pipes and reap the process; *sig gets the signal that ended it. */
static void worker_reap(struct worker *w, int kill_it, int *sig, int *code)
{
	int st = 0;

	if (w->to_fd >= 0)
		close(w->to_fd);
	if (w->from_fd >= 0)
		close(w->from_fd);
	w->to_fd = w->from_fd = -1;
	if (w->pid > 0) {
		if (kill_it)
			kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = 0;
	if (sig)
		*sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (code)
		*code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int worker_finish(struct worker *w, double grace_s, int sigfd)
{
	struct pollfd pf = {.fd = sigfd, .events = POLLIN};
	double until = clock_now_s() + grace_s;
	int st = -1, got = 0;

	if (w->pid <= 0)
		return -1;
	close(w->to_fd); /* EOF: the worker closes its context and exits */
	w->to_fd = -1;
	while (clock_now_s() < until) {
		if (waitpid(w->pid, &st, WNOHANG) == w->pid) {
			w->pid = 0;
			got = 1;
			break;
		}
		if (sigfd >= 0 && poll(&pf, 1, 0) > 0)
			break; /* a stop request: not waiting any longer */
		usleep(2000);
	}
	worker_reap(w, 1, NULL, NULL);
	return got ? st : -1;
}

void worker_stop(struct worker *w)
{
	worker_finish(w, 2.0, -1);
}

enum wait_end { WAIT_DONE, WAIT_EOF, WAIT_TIMEOUT, WAIT_SIGNAL, WAIT_ERROR };

/* 1 when b holds a complete message (its last line is "end"). */
static int rbuf_complete(const struct rbuf *b)
{
	return (b->len == 4 && !memcmp(b->p, "end\n", 4)) ||
	       (b->len > 4 && !memcmp(b->p + b->len - 5, "\nend\n", 5));
}

/* Read from the worker into b until a complete message, EOF, the deadline or
 * a signal on sigfd; tick runs between polls. */
static enum wait_end wait_message(struct worker *w, struct rbuf *b, double deadline,
				  int sigfd, worker_tick_fn tick, void *arg, aisp_error *err)
{
	struct pollfd pf[2] = {{.fd = w->from_fd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};

	for (;;) {
		double left = deadline - clock_now_s();
		int ms = left <= 0 ? 0 : (int)(left * 1e3) + 1;

		if (tick && ms > WORKER_TICK_MS)
			ms = WORKER_TICK_MS;
		if (left <= 0)
			return WAIT_TIMEOUT;
		if (poll(pf, sigfd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
			return aisp_fail(err, AISP_EIO, "poll: %s", strerror(errno)), WAIT_ERROR;
		if (sigfd >= 0 && (pf[1].revents & POLLIN))
			return WAIT_SIGNAL;
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n;

			if (b->cap - b->len < 65536) {
				char *p = realloc(b->p, b->cap * 2 + 65536);

				if (!p)
					return aisp_fail(err, AISP_ENOMEM, "worker buffer"), WAIT_ERROR;
				b->p = p;
				b->cap = b->cap * 2 + 65536;
			}
			n = read(w->from_fd, b->p + b->len, b->cap - b->len - 1);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				return WAIT_EOF;
			if (n > 0) {
				b->len += (size_t)n;
				b->p[b->len] = '\0';
				if (rbuf_complete(b))
					return WAIT_DONE;
			}
		}
		if (tick && tick(arg, err))
			return WAIT_ERROR;
	}
}

/* Spawn the worker process with its pipes; fills w->pid and fds. */
static aisp_err worker_spawn(struct worker *w, aisp_error *err)
{
	char dev[16], parent[16], *argv[32];
	char *exe = realpath("/proc/self/exe", NULL); /* a profiler in front needs the path */
	int req[2] = {-1, -1}, res[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	size_t n = 0;
	int rc;

	if (!exe || pipe2(req, O_CLOEXEC) || pipe2(res, O_CLOEXEC)) {
		rc = aisp_fail(err, AISP_EIO, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (const char *const *p = w->prefix; p && *p && n < 20; p++)
		argv[n++] = (char *)*p;
	snprintf(dev, sizeof(dev), "%d", w->device);
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	argv[n++] = exe;
	argv[n++] = "worker";
	argv[n++] = "--backend";
	argv[n++] = w->backend == AISP_BACKEND_CUDA ? "cuda" : "host";
	argv[n++] = "--device";
	argv[n++] = dev;
	argv[n++] = "--parent";
	argv[n++] = w->prefix && w->prefix[0] ? "0" : parent;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, req[0], 0);
	posix_spawn_file_actions_adddup2(&fa, res[1], 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&w->pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		w->pid = 0;
		rc = aisp_fail(err, AISP_EIO, "cannot start worker %s: %s", argv[0], strerror(rc));
		goto fail;
	}
	close(req[0]);
	close(res[1]);
	w->to_fd = req[1];
	w->from_fd = res[0];
	w->starts++;
	free(exe);
	return AISP_OK;
fail:
	free(exe);
	for (int i = 0; i < 2; i++) {
		if (req[i] >= 0)
			close(req[i]);
		if (res[i] >= 0)
			close(res[i]);
	}
	return rc;
}

/* Start a worker and wait for its "ready" line. */
static aisp_err worker_start(struct worker *w, int sigfd, worker_tick_fn tick, void *arg,
			     aisp_error *err)
{
	struct rbuf b = {0};
	double t0 = clock_now_s();
	enum wait_end end;
	aisp_err rc;

	rc = worker_spawn(w, err);
	if (rc)
		return rc;
	end = wait_message(w, &b, t0 + WORKER_START_TIMEOUT_S, sigfd, tick, arg, err);
	if (end == WAIT_DONE && !strncmp(b.p, "ready ", 6)) {
		w->open_ms = strtod(b.p + 6, NULL);
		w->start_ms = (clock_now_s() - t0) * 1e3;
		free(b.p);
		return AISP_OK;
	}
	worker_reap(w, 1, NULL, NULL);
	if (end == WAIT_SIGNAL)
		rc = aisp_fail(err, AISP_EINTERRUPT, "interrupted while starting the worker");
	else if (end != WAIT_ERROR)
		rc = aisp_fail(err, AISP_EDEVICE, "worker did not start: %s",
			       b.len ? b.p : "no answer");
	else
		rc = err ? err->code : AISP_EIO;
	free(b.p);
	return rc;
}

/* Fill r for a worker that died or was killed on item. */
static void record_loss(struct worker *w, struct variant_result *r, enum wait_end end,
			double elapsed, double timeout_s)
{
	int sig = 0, code = 0;

	worker_reap(w, 1, &sig, &code);
	r->elapsed_s = elapsed;
	if (end == WAIT_TIMEOUT) {
		text_copy(r->status, sizeof(r->status), "timeout");
		snprintf(r->message, sizeof(r->message),
			 "no result after %.3f s (limit %.3f s); worker killed", elapsed, timeout_s);
		r->signal = SIGKILL;
		return;
	}
	text_copy(r->status, sizeof(r->status), "crashed");
	r->signal = sig;
	if (sig)
		snprintf(r->message, sizeof(r->message), "worker killed by signal %d (%s) after %.3f s",
			 sig, strsignal(sig), elapsed);
	else
		snprintf(r->message, sizeof(r->message), "worker exited with status %d after %.3f s",
			 code, elapsed);
}

/* Send item to the worker; 0 on success, -1 if the worker is gone. */
static int send_item(struct worker *w, const struct work_item *item)
{
	char *text = NULL;
	size_t len = 0, off = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -1;
	item_write(f, item);
	fclose(f);
	while (off < len) {
		ssize_t n = write(w->to_fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(text);
	return off == len ? 0 : -1;
}

/* 1 when a signal arrives on sigfd within 100 ms: a worker that died just
 * now was most likely stopped by the same signal (srun signals the whole
 * process group), so its death is the run's interruption, not a crash. */
static int signal_pending(int sigfd)
{
	struct pollfd pf = {.fd = sigfd, .events = POLLIN};

	return sigfd >= 0 && poll(&pf, 1, 100) > 0;
}

/* Parse a complete result message into r; *restart set if the worker asked. */
static aisp_err parse_result(char *text, struct variant_result *r, int *restart)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strcmp(line, "end") && result_line(r, line, restart))
			return AISP_ENOMEM;
	return AISP_OK;
}

aisp_err worker_run(struct worker *w, const struct work_item *item, double timeout_s,
		    int sigfd, worker_tick_fn tick, void *tick_arg,
		    struct variant_result *r, aisp_error *err)
{
	struct rbuf b = {0};
	enum wait_end end;
	int restart = 0;
	double t0;
	aisp_err rc = AISP_OK;

	if (!w->pid && (rc = worker_start(w, sigfd, tick, tick_arg, err)))
		return rc;
	t0 = clock_now_s();
	if (send_item(w, item)) {
		record_loss(w, r, WAIT_EOF, clock_now_s() - t0, timeout_s);
		return AISP_OK;
	}
	end = wait_message(w, &b, t0 + timeout_s, sigfd, tick, tick_arg, err);
	if (end == WAIT_DONE) {
		rc = parse_result(b.p, r, &restart);
		if (restart)
			worker_reap(w, 0, NULL, NULL);
	} else if (end == WAIT_SIGNAL || (end == WAIT_EOF && signal_pending(sigfd))) {
		worker_reap(w, 1, NULL, NULL);
		rc = aisp_fail(err, AISP_EINTERRUPT, "interrupted during %s %s", item->instance,
			       item->variant);
	} else if (end == WAIT_ERROR) {
		worker_reap(w, 1, NULL, NULL);
		rc = err ? err->code : AISP_EIO;
	} else {
		record_loss(w, r, end, clock_now_s() - t0, timeout_s);
	}
	free(b.p);
	return rc;
}
