/*
 * nccl.cu - qual:nccl on CUDA: all-reduce (sum, float32, out of place) over
 * every GPU this process sees, one communicator per GPU from
 * ncclCommInitAll in a single process, one ncclAllReduce per GPU inside a
 * group per iteration.
 *
 * Who measures: the worker of CUDA device 0 (over all visible GPUs); the
 * workers of the other devices, and any process that sees one GPU, report
 * the variant skipped with the reason. Put qual:nccl last in a job: in
 * `every` mode the other ranks are then idle (done) while it runs.
 *
 * NCCL is loaded with dlopen (libnccl.so.2), so the build needs no NCCL
 * and a node without it reports skipped. NVLink SHARP / multicast is kept
 * off: NCCL_NVLS_ENABLE=0 is set before init unless the environment says
 * otherwise.
 *
 * Timing: the harness times ctx->stream (GPU 0). Each iteration records an
 * event there that the other GPUs' streams wait on before their part, and
 * GPU 0's stream waits for an event after each other GPU's part, so the
 * timed region spans the whole collective.
 *
 * Work is the bytes all-reduced per GPU (mib MiB): throughput is the
 * algorithm bandwidth; bus bandwidth = algbw x 2(n-1)/n, the factor is in
 * the check message. Correctness: GPU r sends (r+1) * k_j with k_j in 1..7
 * from qual_hash; every GPU must receive exactly k_j * n(n+1)/2.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nccl.h"
#include "qual_cuda.cuh"

#define NCCL_MAX_GPUS 64

/* The few NCCL symbols used, with their stable ABI types (nccl.h). */
typedef struct ncclComm *nccl_comm;
typedef int nccl_result;         /* ncclSuccess = 0 */
enum { NCCL_FLOAT32 = 7, NCCL_SUM = 0 };

struct nccl_api {
	void *lib;
	nccl_result (*init_all)(nccl_comm *, int, const int *);
	nccl_result (*destroy)(nccl_comm);
	nccl_result (*all_reduce)(const void *, void *, size_t, int, int, nccl_comm,
				  cudaStream_t);
	nccl_result (*group_start)(void);
	nccl_result (*group_end)(void);
	const char *(*error_string)(nccl_result);
};

/* Everything the variant owns. */
struct nccl {
	struct nccl_api api;
	int n, dev0;
	size_t count;                       /* floats per GPU */
	uint64_t seed;
	char skip[200];                     /* non-empty: why not measured here */
	nccl_comm comm[NCCL_MAX_GPUS];
	cudaStream_t s[NCCL_MAX_GPUS];      /* s[0] is ctx->stream */
	cudaEvent_t go, done[NCCL_MAX_GPUS];
	float *send[NCCL_MAX_GPUS], *recv[NCCL_MAX_GPUS];
	unsigned long long *bad[NCCL_MAX_GPUS];
	aisp_error *err;                    /* ctx->err: where failures are explained */
};

/* Load libnccl and its symbols; 0 on success. */
static int nccl_load(struct nccl_api *a)
{
	a->lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!a->lib)
		a->lib = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
	if (!a->lib)
		return -1;
	*(void **)&a->init_all = dlsym(a->lib, "ncclCommInitAll");
	*(void **)&a->destroy = dlsym(a->lib, "ncclCommDestroy");
	*(void **)&a->all_reduce = dlsym(a->lib, "ncclAllReduce");
	*(void **)&a->group_start = dlsym(a->lib, "ncclGroupStart");
	*(void **)&a->group_end = dlsym(a->lib, "ncclGroupEnd");
	*(void **)&a->error_string = dlsym(a->lib, "ncclGetErrorString");
	return a->init_all && a->destroy && a->all_reduce && a->group_start && a->group_end &&
	       a->error_string ? 0 : -1;
}

/* x[j] = (rank + 1) * k_j, k_j in 1..7 from the hash. */
static __global__ void nccl_fill(float *x, size_t n, uint64_t seed, int rank)
{
	for (size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x; j < n;
	     j += (size_t)gridDim.x * blockDim.x)
		x[j] = (float)((rank + 1) * (1 + (int)(qual_hash(seed, 4, j) % 7u)));
}

/* *bad += elements of x that are not k_j * tri (tri = n(n+1)/2). */
static __global__ void nccl_check(const float *x, size_t n, uint64_t seed, int tri,
				  unsigned long long *bad)
{
	unsigned long long mine = 0;

	for (size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x; j < n;
	     j += (size_t)gridDim.x * blockDim.x)
		mine += !(x[j] == (float)(tri * (1 + (int)(qual_hash(seed, 4, j) % 7u))));
	if (mine)
		atomicAdd(bad, mine);
}

/* One all-reduce over every GPU, fenced into ctx->stream; never synchronizes. */
static aisp_err nccl_run(void *state)
{
	struct nccl *c = (struct nccl *)state;
	nccl_result nr = 0;
	aisp_err rc = AISP_OK;

	if (c->skip[0])
		return AISP_OK;
	if (cudaEventRecord(c->go, c->s[0]))
		return qual_fail(c->err, AISP_EDEVICE, "nccl: start event");
	for (int i = 1; i < c->n; i++)
		if (cudaStreamWaitEvent(c->s[i], c->go, 0))
			return qual_fail(c->err, AISP_EDEVICE, "nccl: wait for start");
	c->api.group_start();
	for (int i = 0; i < c->n; i++) {
		nccl_result one = c->api.all_reduce(c->send[i], c->recv[i], c->count, NCCL_FLOAT32,
						    NCCL_SUM, c->comm[i], c->s[i]);

		nr = nr ? nr : one;
	}
	if (!nr)
		nr = c->api.group_end();
	else
		c->api.group_end();
	if (nr)
		rc = aisp_fail(c->err, AISP_EDEVICE, "ncclAllReduce: %s", c->api.error_string(nr));
	for (int i = 1; i < c->n && !rc; i++) {
		cudaSetDevice(i);
		if (cudaEventRecord(c->done[i], c->s[i]) || cudaStreamWaitEvent(c->s[0], c->done[i], 0))
			rc = qual_fail(c->err, AISP_EDEVICE, "nccl: fence into the timed stream");
	}
	cudaSetDevice(c->dev0);
	return rc;
}

/* Free everything setup made; state may be NULL or half-built. */
static void nccl_teardown(void *state)
{
	struct nccl *c = (struct nccl *)state;

	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		cudaSetDevice(i);
		if (c->s[i])
			cudaStreamSynchronize(c->s[i]);
		if (c->comm[i])
			c->api.destroy(c->comm[i]);
		if (i > 0 && c->s[i])
			cudaStreamDestroy(c->s[i]);
		if (c->done[i])
			cudaEventDestroy(c->done[i]);
		cudaFree(c->send[i]);
		cudaFree(c->recv[i]);
		cudaFree(c->bad[i]);
	}
	cudaSetDevice(c->dev0);
	if (c->go)
		cudaEventDestroy(c->go);
	if (c->api.lib)
		dlclose(c->api.lib);
	free(c);
}

/* Buffers, streams and events on GPU i; its send buffer filled. */
static aisp_err nccl_setup_gpu(struct nccl *c, int i)
{
	if (cudaSetDevice(i) || (i > 0 && cudaStreamCreateWithFlags(&c->s[i], cudaStreamNonBlocking)) ||
	    cudaEventCreateWithFlags(&c->done[i], cudaEventDisableTiming))
		return AISP_EDEVICE;
	if (cudaMalloc((void **)&c->send[i], c->count * sizeof(float)) ||
	    cudaMalloc((void **)&c->recv[i], c->count * sizeof(float)) ||
	    cudaMalloc((void **)&c->bad[i], sizeof(unsigned long long)))
		return AISP_ENOMEM;
	nccl_fill<<<qual_blocks(i, c->count), QUAL_THREADS, 0, c->s[i]>>>(c->send[i], c->count,
									   c->seed, i);
	return qual_cuda(c->err, cudaGetLastError(), "nccl: fill");
}

/* Decide whether this worker measures; if so, communicators and buffers. */
static aisp_err nccl_setup(const struct aisp_ctx *ctx, const struct aisp_params *p, void **state)
{
	struct nccl *c = (struct nccl *)calloc(1, sizeof(*c));
	int devs[NCCL_MAX_GPUS];
	aisp_err rc = AISP_EDEVICE;
	nccl_result nr;

	*state = NULL;
	if (!c)
		return AISP_ENOMEM;
	c->dev0 = ctx->device;
	c->seed = ctx->seed;
	c->err = ctx->err;
	c->count = (size_t)(nccl_bytes(p) / sizeof(float));
	*state = c;
	if (cudaGetDeviceCount(&c->n) || c->n < 2) {
		snprintf(c->skip, sizeof(c->skip), "%d GPU visible, nothing to all-reduce "
			 "across", c->n);
		c->n = 0;
		return AISP_OK;
	}
	if (ctx->device != 0 || c->n > NCCL_MAX_GPUS || nccl_load(&c->api)) {
		snprintf(c->skip, sizeof(c->skip), ctx->device ? "measured by the worker "
			 "of GPU 0 over all %d GPUs" : c->n > NCCL_MAX_GPUS ? "%d GPUs, "
			 "more than this target handles" : "libnccl.so.2 not found "
			 "(%d GPUs)", c->n);
		c->n = 0;
		return AISP_OK;
	}
	setenv("NCCL_NVLS_ENABLE", "0", 0); /* keep NVLink multicast off unless asked */
	c->s[0] = (cudaStream_t)ctx->stream;
	for (int i = 0; i < c->n; i++)
		devs[i] = i;
	if ((nr = c->api.init_all(c->comm, c->n, devs))) {
		aisp_fail(ctx->err, rc, "ncclCommInitAll over %d GPUs: %s", c->n,
			  c->api.error_string(nr));
		goto fail;
	}
	for (int i = 0; i < c->n; i++)
		if ((rc = nccl_setup_gpu(c, i))) {
			qual_fail(ctx->err, rc, "nccl setup: streams, buffers, fill");
			goto fail;
		}
	cudaSetDevice(c->dev0);
	if (cudaEventCreateWithFlags(&c->go, cudaEventDisableTiming)) {
		qual_fail(ctx->err, rc, "nccl setup: start event");
		goto fail;
	}
	for (int i = 0; i < c->n; i++)
		if (cudaStreamSynchronize(c->s[i])) {
			qual_fail(ctx->err, rc, "nccl setup: fill");
			goto fail;
		}
	return AISP_OK;
fail:
	*state = NULL;
	nccl_teardown(c);
	return rc ? rc : AISP_EDEVICE;
}

/* Poison every receive buffer, all-reduce once, count wrong sums per GPU. */
static aisp_err nccl_verify(void *state, struct aisp_check *out)
{
	struct nccl *c = (struct nccl *)state;
	unsigned long long bad = 0, one;
	aisp_err rc;

	out->rel_error = out->tolerance = NAN;
	out->passed = 1;
	if (c->skip[0]) {
		out->skipped = 1;
		snprintf(out->message, sizeof(out->message), "%s", c->skip);
		return AISP_OK;
	}
	for (int i = 0; i < c->n; i++)
		if (cudaSetDevice(i) || cudaMemsetAsync(c->recv[i], 0xff, c->count * 4, c->s[i]) ||
		    cudaMemsetAsync(c->bad[i], 0, sizeof(one), c->s[i]) || cudaStreamSynchronize(c->s[i]))
			return qual_fail(c->err, AISP_EDEVICE, "nccl verify: poison");
	cudaSetDevice(c->dev0);
	if ((rc = nccl_run(c)))
		return rc;
	for (int i = 0; i < c->n; i++) {
		cudaSetDevice(i);
		nccl_check<<<qual_blocks(i, c->count), QUAL_THREADS, 0, c->s[i]>>>(
			c->recv[i], c->count, c->seed, c->n * (c->n + 1) / 2, c->bad[i]);
		if (cudaGetLastError() || cudaMemcpyAsync(&one, c->bad[i], sizeof(one),
							  cudaMemcpyDeviceToHost, c->s[i]) ||
		    cudaStreamSynchronize(c->s[i]))
			return qual_fail(c->err, AISP_EDEVICE, "nccl verify: check");
		bad += one;
	}
	cudaSetDevice(c->dev0);
	out->rel_error = (double)bad / ((double)c->count * c->n);
	out->tolerance = 0.0;
	out->passed = bad == 0;
	snprintf(out->message, sizeof(out->message),
		 "all-reduce sum of %.0f MiB float32 over %d GPUs: %llu of %zu wrong; "
		 "throughput = algbw, busbw = algbw x %.4f (2(n-1)/n)",
		 c->count * 4.0 / QUAL_MIB, c->n, bad, c->count * c->n, 2.0 * (c->n - 1) / c->n);
	return AISP_OK;
}

static const struct aisp_ops nccl_ops = {nccl_setup, nccl_run, nccl_verify, nccl_teardown};

static const struct aisp_variant nccl_variants[] = {
	{"baseline_allreduce", AISP_ROLE_BASELINE,
	 "ncclAllReduce sum float32, one process, ncclCommInitAll over all visible GPUs", &nccl_ops},
};

extern "C" const struct aisp_target qual_nccl_cuda = {AISP_ABI_VERSION, &nccl_card,
						       AISP_BACKEND_CUDA, AISP_LIST(nccl_variants)};
