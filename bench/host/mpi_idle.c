/*
 * mpi_idle.c - where a rank of `aisp bench run` waits, measured from outside
 * through the MPI profiling interface (PMPI): preload it into every rank
 *   mpirun -x LD_PRELOAD=BUILD/bench/mpi_idle.so -x AISP_BENCH_MPI_DIR=DIR ...
 * and each rank writes DIR/mpi-rank-NNNNN.txt at MPI_Finalize, "key value":
 *   init_s       time in MPI_Init (a singleton starts an orted here)
 *   span_s       MPI_Init returned -> MPI_Finalize called
 *   finalize_s   time in MPI_Finalize (a singleton stops its orted here)
 *   recv_s       time blocked in MPI_Recv (ranks > 0 in spread mode: waiting
 *                for rank 0 to hand out the next item), recv_n calls
 *   send_s       time in MPI_Send, send_n calls
 *   coll_s       time in collectives (start-up agreement and the end)
 *   last_coll_s  the last collective before MPI_Finalize: the exit-status
 *                agreement, i.e. waiting for the slowest rank to finish
 *   probe_n      MPI_Iprobe calls (rank 0 polling for requests and reports)
 * The runner is not changed or rebuilt for this. The counters are file-scope
 * state: an interposer has no other place to keep them (one process, one
 * thread calls MPI in aisp).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct idle_counters {
	double init_s, t_init, recv_s, send_s, coll_s, last_coll_s;
	long recv_n, send_n, probe_n;
};

static struct idle_counters idle;

/* Seconds on the monotonic clock. */
static double idle_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Account one collective call that began at t0. */
static void idle_coll(double t0)
{
	double d = idle_now() - t0;

	idle.coll_s += d;
	idle.last_coll_s = d;
}

int MPI_Init(int *argc, char ***argv)
{
	double t0 = idle_now();
	int rc = PMPI_Init(argc, argv);

	idle.t_init = idle_now();
	idle.init_s = idle.t_init - t0;
	return rc;
}

int MPI_Finalize(void)
{
	double t0 = idle_now(), span = t0 - idle.t_init;
	const char *dir = getenv("AISP_BENCH_MPI_DIR");
	char path[4096];
	int rank = 0, rc;
	FILE *f;

	PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
	rc = PMPI_Finalize();
	snprintf(path, sizeof(path), "%s/mpi-rank-%05d.txt", dir ? dir : ".", rank);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "rank %d\ninit_s %.9f\nspan_s %.9f\nfinalize_s %.9f\nrecv_s %.9f\n"
			"recv_n %ld\nsend_s %.9f\nsend_n %ld\ncoll_s %.9f\nlast_coll_s %.9f\n"
			"probe_n %ld\n", rank, idle.init_s, span, idle_now() - t0, idle.recv_s,
			idle.recv_n, idle.send_s, idle.send_n, idle.coll_s, idle.last_coll_s,
			idle.probe_n);
		fclose(f);
	}
	return rc;
}

int MPI_Recv(void *buf, int count, MPI_Datatype type, int src, int tag, MPI_Comm comm,
	     MPI_Status *st)
{
	double t0 = idle_now();
	int rc = PMPI_Recv(buf, count, type, src, tag, comm, st);

	idle.recv_s += idle_now() - t0;
	idle.recv_n++;
	return rc;
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dst, int tag, MPI_Comm comm)
{
	double t0 = idle_now();
	int rc = PMPI_Send(buf, count, type, dst, tag, comm);

	idle.send_s += idle_now() - t0;
	idle.send_n++;
	return rc;
}

int MPI_Iprobe(int src, int tag, MPI_Comm comm, int *flag, MPI_Status *st)
{
	idle.probe_n++;
	return PMPI_Iprobe(src, tag, comm, flag, st);
}

int MPI_Bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
	double t0 = idle_now();
	int rc = PMPI_Bcast(buf, count, type, root, comm);

	idle_coll(t0);
	return rc;
}

int MPI_Gather(const void *sbuf, int scount, MPI_Datatype stype, void *rbuf, int rcount,
	       MPI_Datatype rtype, int root, MPI_Comm comm)
{
	double t0 = idle_now();
	int rc = PMPI_Gather(sbuf, scount, stype, rbuf, rcount, rtype, root, comm);

	idle_coll(t0);
	return rc;
}

int MPI_Allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype type, MPI_Op op,
		  MPI_Comm comm)
{
	double t0 = idle_now();
	int rc = PMPI_Allreduce(sbuf, rbuf, count, type, op, comm);

	idle_coll(t0);
	return rc;
}

int MPI_Barrier(MPI_Comm comm)
{
	double t0 = idle_now();
	int rc = PMPI_Barrier(comm);

	idle_coll(t0);
	return rc;
}
