/* rankfile_guard.c - read a rank file in a child process with a time limit:
 * HDF5 can crash or spin on corrupt input, and gather must only skip the
 * file. The child streams fixed-size records back through a pipe. */
#include "rankfile.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One record from the child: a variant, or the end with the root facts. */
struct guard_rec {
	char kind;                     /* 'V' variant, 'E' end */
	aisp_err rc;                   /* at 'E': the read's result */
	char msg[sizeof(((aisp_error *)0)->msg)];
	struct rankfile_root root;     /* at 'E' */
	struct rankfile_variant v;     /* at 'V' (samples not sent) */
};

/* Write all n bytes of buf to fd; -1 on error. */
static int guard_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Child side: each variant goes down the pipe as it is read. */
static aisp_err guard_send(void *ctx, const struct rankfile_root *root,
			   const struct rankfile_variant *v, aisp_error *err)
{
	struct guard_rec *rec = calloc(1, sizeof(*rec));
	int fd = *(int *)ctx, bad;

	(void)root;
	if (!rec)
		return aisp_fail(err, AISP_ENOMEM, "out of memory");
	rec->kind = 'V';
	rec->v = *v;
	rec->v.samples = NULL;
	bad = guard_write(fd, rec, sizeof(*rec));
	free(rec);
	return bad ? aisp_fail(err, AISP_EIO, "pipe: %s", strerror(errno)) : AISP_OK;
}

/* Child: read path, send the variants, then the end record; never returns. */
static void guard_child(const char *path, int fd)
{
	struct guard_rec *end = calloc(1, sizeof(*end));
	aisp_error e = {0};

	if (!end)
		_exit(1);
	end->kind = 'E';
	end->rc = rankfile_read(path, &end->root, guard_send, &fd, &e);
	memcpy(end->msg, e.msg, sizeof(end->msg));
	_exit(guard_write(fd, end, sizeof(*end)) ? 1 : 0);
}

/* Seconds on the monotonic clock. */
static double guard_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Read the child's records into *buf (grown); 0 at EOF, 1 on timeout. */
static int guard_collect(int fd, char **buf, size_t *len, double deadline)
{
	size_t cap = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		double left = deadline - guard_now();
		ssize_t r;

		if (left <= 0)
			return 1;
		if (poll(&p, 1, (int)(left * 1000) + 1) == 0)
			return 1;
		if (*len + 65536 > cap) {
			char *nb = realloc(*buf, cap = cap ? 2 * cap : 262144);

			if (!nb)
				return 0;
			*buf = nb;
		}
		r = read(fd, *buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		*len += (size_t)r;
	}
}

/* Why the child gave no end record: its signal or exit status. */
static aisp_err guard_died(const char *path, int status, aisp_error *err)
{
	if (WIFSIGNALED(status))
		return aisp_fail(err, AISP_EINPUT,
				 "%s: reading it killed the HDF5 reader (signal %d): corrupt file",
				 path, WTERMSIG(status));
	return aisp_fail(err, AISP_EINPUT, "%s: the reader exited with status %d: corrupt file",
			 path, WEXITSTATUS(status));
}

aisp_err rankfile_read_guarded(const char *path, struct rankfile_root *root,
			       rankfile_fn fn, void *ctx, double timeout_s,
			       aisp_error *err)
{
	int fds[2], status = 0, late;
	char *buf = NULL;
	size_t len = 0, n;
	const struct guard_rec *recs;
	aisp_err rc = AISP_OK;
	pid_t pid;

	memset(root, 0, sizeof(*root));
	if (pipe(fds) != 0)
		return aisp_fail(err, AISP_EIO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return aisp_fail(err, AISP_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		guard_child(path, fds[1]);
	}
	close(fds[1]);
	late = guard_collect(fds[0], &buf, &len, guard_now() + timeout_s);
	close(fds[0]);
	if (late)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	recs = (const struct guard_rec *)buf;
	n = len / sizeof(*recs);
	if (late) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: reading it took over %g s (corrupt file?)",
			       path, timeout_s);
	} else if (n == 0 || len % sizeof(*recs) || recs[n - 1].kind != 'E') {
		rc = guard_died(path, status, err);
	} else {
		*root = recs[n - 1].root;
		rc = recs[n - 1].rc == AISP_ENOMEM ? AISP_EINPUT : recs[n - 1].rc;
		if (rc != AISP_OK)
			aisp_fail(err, rc, "%s", recs[n - 1].msg);
		for (size_t i = 0; rc == AISP_OK && fn && i + 1 < n; i++)
			rc = fn(ctx, root, &recs[i].v, err);
	}
	free(buf);
	return rc;
}
