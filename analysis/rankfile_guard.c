/* rankfile_guard.c - read rank files in a child process with a time limit
 * per file: HDF5 can crash or spin on corrupt input, and gather must only
 * skip that file. One child reads file after file and streams fixed-size
 * records back through a pipe; a new child is started only after a bad one. */
#include "rankfile.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One record from the child: a variant, or the end of file index. */
struct guard_rec {
	char kind;                     /* 'V' variant, 'E' end of a file */
	aisp_err rc;                   /* at 'E': the read's result */
	size_t index;                  /* file index in the caller's list */
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

/* Child side of the pipe and its scratch record. */
struct guard_child {
	int fd;
	struct guard_rec *rec;
};

/* Child: each variant goes down the pipe as it is read. */
static aisp_err guard_send(void *ctx, const struct rankfile_root *root,
			   const struct rankfile_variant *v, aisp_error *err)
{
	struct guard_child *c = ctx;

	(void)root;
	c->rec->kind = 'V';
	c->rec->v = *v;
	c->rec->v.samples = NULL;
	if (guard_write(c->fd, c->rec, sizeof(*c->rec)))
		return aisp_fail(err, AISP_EIO, "pipe: %s", strerror(errno));
	return AISP_OK;
}

/* Child: read paths[i..n), an end record after each; never returns. */
static void guard_child(char *const *paths, size_t i, size_t n, int fd)
{
	struct guard_child c = {fd, calloc(1, sizeof(struct guard_rec))};

	if (!c.rec)
		_exit(1);
	for (; i < n; i++) {
		aisp_error e = {0};
		aisp_err rc = rankfile_read(paths[i], &c.rec->root, guard_send, &c, &e);

		c.rec->kind = 'E';
		c.rec->rc = rc;
		c.rec->index = i;
		memcpy(c.rec->msg, e.msg, sizeof(c.rec->msg));
		if (guard_write(fd, c.rec, sizeof(*c.rec)))
			_exit(1);
	}
	_exit(0);
}

/* Seconds on the monotonic clock. */
static double guard_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Parent state of one list read. */
struct guard {
	char *const *paths;
	size_t n, next;                /* next: first file without a result */
	rankfile_fn fn;
	rankfile_done_fn done;
	void *ctx;
	char *buf;                     /* bytes read, not yet consumed */
	size_t len, cap;
};

/* Consume whole records in g->buf: at each end record replay the file's
 * variants to fn, then done. Returns fn's failure, if any. */
static aisp_err guard_consume(struct guard *g, size_t *first, aisp_error *err)
{
	const size_t sz = sizeof(struct guard_rec);
	size_t at = *first;
	aisp_err rc = AISP_OK;

	while (rc == AISP_OK && g->len - at >= sz) {
		const struct guard_rec *e = (const struct guard_rec *)(g->buf + at);
		aisp_error fe = {0};

		at += sz;
		if (e->kind != 'E')
			continue;
		for (size_t p = *first; rc == AISP_OK && e->rc == AISP_OK && p + sz < at; p += sz)
			rc = g->fn(g->ctx, &e->root, &((const struct guard_rec *)(g->buf + p))->v, err);
		if (e->rc != AISP_OK)
			aisp_fail(&fe, e->rc == AISP_ENOMEM ? AISP_EINPUT : e->rc, "%s", e->msg);
		if (rc == AISP_OK)
			g->done(g->ctx, e->index, &e->root, fe.code, &fe);
		g->next = e->index + 1;
		*first = at;
	}
	return rc;
}

/* Read from the child until EOF (0), a stall past timeout_s on one file
 * (1) or fn's failure (-1, in *rc). */
static int guard_pump(struct guard *g, int fd, double timeout_s, aisp_err *rc,
		      aisp_error *err)
{
	double deadline = guard_now() + timeout_s;
	size_t first = 0, before;

	g->len = 0;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		double left = deadline - guard_now();
		ssize_t r;
		int ready;

		if (left <= 0)
			return 1;
		ready = poll(&p, 1, (int)(left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready == 0)
			return 1;
		if (g->len + 65536 > g->cap) {
			if (first > 0) { /* drop consumed records */
				memmove(g->buf, g->buf + first, g->len - first);
				g->len -= first;
				first = 0;
			}
			if (g->len + 65536 > g->cap) {
				size_t cap = g->cap ? 2 * g->cap : 262144;
				char *nb = realloc(g->buf, cap);

				if (!nb) {
					*rc = aisp_fail(err, AISP_ENOMEM, "out of memory");
					return -1;
				}
				g->buf = nb;
				g->cap = cap;
			}
		}
		r = read(fd, g->buf + g->len, g->cap - g->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		g->len += (size_t)r;
		before = g->next;
		if ((*rc = guard_consume(g, &first, err)) != AISP_OK)
			return -1;
		if (g->next != before)
			deadline = guard_now() + timeout_s;
	}
}

/* Report file g->next as bad: its reader died with status, or stalled. */
static void guard_bad_file(struct guard *g, int late, int status, double timeout_s)
{
	aisp_error e = {0};
	struct rankfile_root none = {0};
	const char *path = g->paths[g->next];

	if (late)
		aisp_fail(&e, AISP_EINPUT, "%s: reading it took over %g s (corrupt file?)", path,
			  timeout_s);
	else if (WIFSIGNALED(status))
		aisp_fail(&e, AISP_EINPUT, "%s: reading it killed the HDF5 reader (signal %d): corrupt file",
			  path, WTERMSIG(status));
	else
		aisp_fail(&e, AISP_EINPUT, "%s: the reader exited with status %d: corrupt file",
			  path, WEXITSTATUS(status));
	g->done(g->ctx, g->next, &none, e.code, &e);
	g->next++;
}

/* One child over paths[g->next..n); AISP_OK unless fn, fork or pipe failed. */
static aisp_err guard_round(struct guard *g, double timeout_s, aisp_error *err)
{
	aisp_err rc = AISP_OK;
	int fds[2], status = 0, how;
	pid_t pid;

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
		guard_child(g->paths, g->next, g->n, fds[1]);
	}
	close(fds[1]);
	how = guard_pump(g, fds[0], timeout_s, &rc, err);
	close(fds[0]);
	if (how != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (how >= 0 && g->next < g->n)
		guard_bad_file(g, how == 1, status, timeout_s);
	return rc;
}

aisp_err rankfile_read_many(char *const *paths, size_t n, rankfile_fn fn,
			    rankfile_done_fn done, void *ctx, double timeout_s,
			    aisp_error *err)
{
	struct guard g = {paths, n, 0, fn, done, ctx, NULL, 0, 0};
	aisp_err rc = AISP_OK;

	if (timeout_s <= 0) {
		for (size_t i = 0; i < n && rc == AISP_OK; i++) {
			struct rankfile_root root;
			aisp_error e = {0};
			aisp_err frc = rankfile_read(paths[i], &root, fn, ctx, &e);

			if (frc == AISP_ENOMEM)
				return aisp_fail(err, frc, "%s", e.msg);
			done(ctx, i, &root, frc, &e);
		}
		return AISP_OK;
	}
	while (rc == AISP_OK && g.next < n)
		rc = guard_round(&g, timeout_s, err);
	free(g.buf);
	return rc;
}
