/* gather_mpi.c - `mpirun -np N aisp gather`: rank r reads rank files
 * r, r + N, r + 2N... (guarded, as a single gather does), packs each file's
 * results into fixed-size records and sends them to rank 0, which replays
 * them in file order: the result is byte for byte that of one process. */
#include "gather.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "rankfile.h"

/* Header of one file's records; n_vars struct rankfile_variant follow. */
struct gm_end {
	size_t index, n_vars;
	aisp_err rc;
	char msg[sizeof(((aisp_error *)0)->msg)];
	struct rankfile_root root;
};

/* This rank's packed output and the variants of the file being read. */
struct gm_pack {
	char *p;
	size_t len, cap;
	struct rankfile_variant *cur;
	size_t n_cur, cap_cur;
	size_t base, stride;           /* global index = base + i * stride */
	int oom;
};

/* Append n bytes of x to the pack. */
static void gm_add(struct gm_pack *b, const void *x, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 20;
		char *p;

		while (b->len + n > cap)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, x, n);
	b->len += n;
}

/* rankfile callback: hold the variant until its file is done. */
static aisp_err gm_on_variant(void *ctx, const struct rankfile_root *r,
			      const struct rankfile_variant *v, aisp_error *err)
{
	struct gm_pack *b = ctx;

	(void)r;
	if (b->n_cur == b->cap_cur) {
		size_t cap = b->cap_cur ? 2 * b->cap_cur : 16;
		void *p = realloc(b->cur, cap * sizeof(*b->cur));

		if (!p)
			return aisp_fail(err, AISP_ENOMEM, "out of memory");
		b->cur = p;
		b->cap_cur = cap;
	}
	b->cur[b->n_cur] = *v;
	b->cur[b->n_cur++].samples = NULL;
	return AISP_OK;
}

/* rankfile done callback: header, then the file's variants when it was good. */
static void gm_on_file(void *ctx, size_t index, const struct rankfile_root *r, aisp_err rc,
		       const aisp_error *e)
{
	struct gm_pack *b = ctx;
	struct gm_end *end = calloc(1, sizeof(*end));

	if (!end) {
		b->oom = 1;
		return;
	}
	end->index = b->base + index * b->stride;
	end->rc = rc;
	end->n_vars = rc == AISP_OK ? b->n_cur : 0;
	end->root = *r;
	memcpy(end->msg, e->msg, sizeof(end->msg));
	gm_add(b, end, sizeof(*end));
	gm_add(b, b->cur, end->n_vars * sizeof(*b->cur));
	b->n_cur = 0;
	free(end);
}

/* Rank 0: replay the packs of all ranks (all[0..len)) in file order. */
static aisp_err gm_replay(struct fleet *f, const struct fleet_list *l, const char *all,
			  size_t len, aisp_error *err)
{
	const struct gm_end **by = calloc(l->n + 1, sizeof(*by));
	aisp_err rc = AISP_OK;

	if (!by)
		return aisp_fail(err, AISP_ENOMEM, "gather: out of memory");
	for (size_t at = 0; at + sizeof(struct gm_end) <= len;) {
		const struct gm_end *e = (const struct gm_end *)(all + at);

		if (e->index < l->n)
			by[e->index] = e;
		at += sizeof(*e) + e->n_vars * sizeof(struct rankfile_variant);
	}
	for (size_t i = 0; i < l->n && rc == AISP_OK; i++) {
		const struct gm_end *e = by[i];

		if (!e)
			rc = fleet_add_bad(f, l->paths[i], "not read: its MPI rank failed");
		else if (e->rc != AISP_OK)
			rc = fleet_add_bad(f, l->paths[i], e->msg);
		else
			rc = fleet_add_result(f, l->dirs[i], &e->root,
					      (const struct rankfile_variant *)(e + 1), e->n_vars, err);
	}
	free(by);
	return rc == AISP_ENOMEM ? aisp_fail(err, rc, "gather: out of memory") : rc;
}

/* Read this rank's share of l into a pack. */
static void gm_read_share(const struct fleet *f, const struct fleet_list *l, int rank,
			  int size, struct gm_pack *b)
{
	size_t n = l->n > (size_t)rank ? (l->n - (size_t)rank + (size_t)size - 1) / (size_t)size : 0;
	char **mine = calloc(n + 1, sizeof(*mine));
	aisp_error err = {0};

	b->base = (size_t)rank;
	b->stride = (size_t)size;
	if (!mine) {
		b->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		mine[i] = l->paths[(size_t)rank + i * (size_t)size];
	if (rankfile_read_many(mine, n, gm_on_variant, gm_on_file, b,
			       f->unguarded ? 0.0 : f->file_timeout_s, &err) != AISP_OK)
		b->oom = 1;
	free(mine);
	free(b->cur);
	b->cur = NULL;
}

aisp_err gather_load_mpi(struct fleet *f, char *const *dirs, int n_dirs, double z,
			 double min_delta, MPI_Comm comm, aisp_error *err)
{
	struct gm_pack b = {0};
	struct fleet_list l;
	int rank, size, mine, *counts = NULL, *displs = NULL;
	char *all = NULL;
	aisp_err rc;

	MPI_Comm_rank(comm, &rank);
	MPI_Comm_size(comm, &size);
	f->z_threshold = z;
	f->min_delta = min_delta;
	rankfile_quiet();
	if ((rc = fleet_list_dirs(f, dirs, (size_t)n_dirs, &l, err)))
		return rc; /* every rank lists the same directories: all fail alike */
	gm_read_share(f, &l, rank, size, &b);
	mine = b.oom || b.len > INT_MAX ? 0 : (int)b.len;
	if (rank == 0 && (!(counts = calloc((size_t)size, sizeof(int))) ||
			  !(displs = calloc((size_t)size, sizeof(int)))))
		mine = -1; /* cannot receive: still take part, then fail */
	MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm);
	if (rank == 0 && counts && displs) {
		long long total = 0;

		for (int i = 0; i < size; i++) {
			displs[i] = (int)total;
			total += counts[i] > 0 ? counts[i] : 0;
		}
		all = total <= INT_MAX ? malloc((size_t)total + 1) : NULL;
		if (!all)
			memset(counts, 0, (size_t)size * sizeof(int));
	}
	MPI_Gatherv(b.p, mine > 0 ? mine : 0, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, comm);
	rc = AISP_OK;
	if (rank == 0) {
		size_t total = 0;

		for (int i = 0; counts && i < size; i++)
			total += counts[i] > 0 ? (size_t)counts[i] : 0;
		if (!counts || !displs || (!all && total))
			rc = aisp_fail(err, AISP_ENOMEM, "gather: out of memory");
		else if (!(rc = gm_replay(f, &l, all, total, err)))
			rc = fleet_finish(f, err);
	}
	free(all);
	free(counts);
	free(displs);
	free(b.p);
	fleet_list_free(&l);
	return rc;
}
