/*
 * aisp.h - the core contract of aisp: one error type, the target descriptor
 * (a card both twins share, variants per backend), parameters, the context
 * handed to every target, and what the harness offers targets (seeded
 * inputs, device facts, a held load).
 *
 * Target code includes only this header (and headers of its own folder):
 * the build puts nothing else on its include path. It never times itself,
 * never sleeps or spins, never prints and never exits: it returns an
 * aisp_err and the harness does the rest.
 */
#ifndef AISP_H
#define AISP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AISP_ABI_VERSION 3 /* 3: struct aisp_variant gained flags */
#define AISP_MAX_PARAMS 16
#define AISP_NAME_MAX 128
#define AISP_TEXT_MAX 512 /* a variant's technique or a card's description, with its NUL */

/* One error type, returned everywhere. AISP_OK is 0. */
typedef enum aisp_err {
	AISP_OK = 0,
	AISP_EUSAGE,      /* bad command line (exit 2) */
	AISP_EINPUT,      /* bad input file or value (exit 2) */
	AISP_EIO,         /* file system or HDF5 failure */
	AISP_ENOMEM,      /* host or device allocation failed */
	AISP_EDEVICE,     /* CUDA, cuBLAS, NVML or driver failure */
	AISP_EVERIFY,     /* a result check failed */
	AISP_EINCOMPLETE, /* a rank, target or file is missing (exit 3) */
	AISP_EREGRESSION, /* a regression or outlier was found (exit 1) */
	AISP_ETIMEOUT,    /* a worker ran past its time limit */
	AISP_ECRASH,      /* a worker died */
	AISP_EINTERRUPT,  /* a signal asked us to stop */
	AISP_EINTERNAL    /* a broken invariant */
} aisp_err;

/* An error with its message: code plus "file:line: field: what" text. */
typedef struct aisp_error {
	aisp_err code;
	char msg[1024];
} aisp_error;

/* Fill err (may be NULL) with code and a printf-style message; return code. */
aisp_err aisp_fail(aisp_error *err, aisp_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short stable name of an error code ("input", "device", ...). */
const char *aisp_err_name(aisp_err code);

/* Process exit status for an error code: 0, 1, 2 or 3 (design.md). */
int aisp_err_exit_status(aisp_err code);

enum aisp_role { AISP_ROLE_BASELINE = 0, AISP_ROLE_OPTIMIZED = 1 };

enum aisp_backend_kind { AISP_BACKEND_HOST = 0, AISP_BACKEND_CUDA = 1 };
#define AISP_N_BACKENDS 2

enum aisp_param_type { AISP_PARAM_INT = 0, AISP_PARAM_REAL = 1 };

/* Number of elements of array a; AISP_LIST(a) is "a, that number", for a
 * pointer and its count side by side in an initializer. */
#define AISP_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define AISP_LIST(a) (a), AISP_COUNT(a)

/* A target parameter: name, type, default on each backend and inclusive
 * valid range (the same on every backend, so one job file serves both). */
struct aisp_param {
	const char *name;
	enum aisp_param_type type;
	double def[AISP_N_BACKENDS]; /* [AISP_BACKEND_HOST], [AISP_BACKEND_CUDA]:
				      * a host twin runs a small shape, quick in CI */
	double min, max;
	const char *help;
};

/* Parameter values, in the order of the target's params table. */
struct aisp_params {
	size_t n;
	double v[AISP_MAX_PARAMS];
};

/* Facts about the device a variant runs on, as the harness reads them (NVML
 * on CUDA, /proc and /sys on the host). A fact the platform does not report
 * is NAN (throttle: -1). */
struct aisp_facts {
	char name[96];                 /* device model ("NVIDIA H100 80GB HBM3", CPU model) */
	double temp_c;                 /* hottest sensor */
	double power_w, power_limit_w;
	double sm_clock_mhz, max_sm_clock_mhz;
	double ecc_corrected, ecc_uncorrected; /* volatile totals */
	double retired_pages;          /* retired pages or remapped rows */
	double mem_free_pct;           /* free device (host: available) memory, % of total */
	double pcie_gen, pcie_width;   /* link now */
	long long throttle;            /* NVML throttle reason bits, -1 unknown */
};

/* What a held load saw (aisp_hold): the facts sampled while it ran. */
struct aisp_held {
	struct aisp_facts last;        /* the last sample (counters, link, name) */
	double temp_max, power_max;    /* highest over the samples, NAN if none */
	double clock_min;              /* lowest SM clock after the first quarter of
					* the hold (clocks ramp up from idle), NAN if none */
	long long throttle_any;        /* every throttle reason seen, -1 unknown */
	int samples;
	long iterations;               /* runs of the variant the load was made of */
	double ms;                     /* how long the load ran */
};

struct aisp_variant;

/* What the harness hands to setup: backend, device, stream, seed, the
 * variant being set up, and the services a target may use instead of
 * reaching into the harness (device facts, a held load). */
struct aisp_ctx {
	enum aisp_backend_kind backend;
	int device;        /* CUDA device ordinal in this process (0 on host) */
	void *stream;      /* cudaStream_t on CUDA, NULL on host */
	void *blas;        /* cublasHandle_t bound to stream on CUDA, NULL on host */
	uint64_t seed;     /* seed for all random inputs of this run */
	const struct aisp_variant *variant; /* the variant being set up (its arg) */
	aisp_error *err;   /* where a target may explain a failure (aisp_fail), or NULL */
	/* Services (aisp_alloc, aisp_facts, aisp_hold below); NULL where none
	 * is offered (a bare context in a unit test). */
	void *(*alloc)(const struct aisp_ctx *ctx, size_t bytes, int on_device);
	aisp_err (*facts)(const struct aisp_ctx *ctx, struct aisp_facts *out);
	aisp_err (*hold)(const struct aisp_ctx *ctx, void *state, double ms,
			 struct aisp_held *out);
	void *priv;        /* the backend's own state; targets leave it alone */
	void *harness;     /* the harness's own state; targets leave it alone */
};

#define AISP_CHECK_VALUES 16

/* A named number that a verification measured (a loss, one tensor's error),
 * written to the rank file as the variant's attribute check.<name>. The run
 * table shows two kinds compactly: "loss_first" and "loss_last" as
 * "loss A->B", and of the names "err:<what>" the largest as
 * "err max E (<what>)". */
struct aisp_check_value {
	char name[32];
	double value;
};

/* Result of one verification run. */
struct aisp_check {
	double rel_error;  /* ||out - ref|| / ||ref||, or NAN if not computed */
	double tolerance;  /* bound that rel_error was held to */
	int passed;        /* 1 when the check passed */
	int skipped;       /* 1: nothing to measure here (e.g. one GPU for an
			    * all-reduce): status "skipped", message says why */
	char message[256]; /* what was compared, or why it failed */
	size_t n_values;   /* named values measured, in values[0..n_values) */
	struct aisp_check_value values[AISP_CHECK_VALUES];
};

/* Append the value name = v to c; names are cut to 31 characters, values
 * past AISP_CHECK_VALUES are dropped. */
static inline void aisp_check_put(struct aisp_check *c, const char *name, double v)
{
	struct aisp_check_value *cv;
	size_t i = 0;

	if (c->n_values >= AISP_CHECK_VALUES)
		return;
	cv = &c->values[c->n_values++];
	for (; name[i] && i < sizeof(cv->name) - 1; i++)
		cv->name[i] = name[i];
	cv->name[i] = '\0';
	cv->value = v;
}

/* How a twin runs its variants (usually one set for all of them: setup
 * tells the variants apart by ctx->variant->arg). */
struct aisp_ops {
	/* Allocate and fill inputs from ctx->seed; *state owns everything. */
	aisp_err (*setup)(const struct aisp_ctx *ctx, const struct aisp_params *p, void **state);
	/* One timed iteration; on CUDA enqueue on ctx->stream, do not sync. */
	aisp_err (*run)(void *state);
	/* Poison outputs, run once, compare against the reference. */
	aisp_err (*verify)(void *state, struct aisp_check *out);
	/* Free what setup made besides aisp_alloc memory; state may be NULL.
	 * May be NULL itself when there is nothing else. */
	void (*teardown)(void *state);
};

/* Flags of a variant (struct aisp_variant's flags, or-ed). */
/* Its time per iteration is bound by the host's launch path: the median of
 * its events measures the CPU and the driver as much as the GPU (tiny
 * kernels launched back to back: they end before the host can issue the
 * next). A verdict judges such a variant by its CUPTI device time
 * (device_ms) instead of its median (analysis/README.md, "Host-launch-bound
 * variants"). Only a twin that launches on a device sets it: a host twin
 * has no launch path. */
#define AISP_VARIANT_HOST_LAUNCH 0x1u

/* One variant of a target, e.g. baseline_gemm or optimized_gemm_strided. */
struct aisp_variant {
	const char *name;
	enum aisp_role role;
	const char *technique;
	const struct aisp_ops *ops;
	const void *arg;   /* the variant's own argument (a precision, a kind),
			    * read by setup through ctx->variant->arg */
	unsigned flags;    /* AISP_VARIANT_* (last, so positional initializers
			    * that stop before it leave it 0) */
};

/*
 * What both twins of a target share, written once in the target's header
 * next to them (kernels/qual/mem_bw.h) and included by both: name, what it
 * measures, parameters (defaults per backend) and work per iteration.
 */
struct aisp_card {
	const char *name;                /* "ch01:gemm" */
	const char *description;
	const char *goal;                /* "speed" | "throughput" | "memory" */
	const struct aisp_param *params;
	size_t n_params;
	/* Work per iteration in work_unit ("samples", "flop", ...); may be NULL. */
	double (*work)(const struct aisp_params *p);
	const char *work_unit;
	/* Fewest bytes moved and FLOPs done per iteration (the floor); may be NULL. */
	double (*bytes)(const struct aisp_params *p);
	double (*flops)(const struct aisp_params *p);
	int test_only;                   /* fault targets: hidden unless enabled */
};

/* One backend's twin of a target: the shared card and this backend's
 * variants. A versioned entry of the NULL-terminated registry. */
struct aisp_target {
	int abi_version;                 /* AISP_ABI_VERSION */
	const struct aisp_card *card;
	enum aisp_backend_kind backend;  /* which backend this twin runs on */
	const struct aisp_variant *variants;
	size_t n_variants;
};

/* Zeroed host memory that the harness owns: it is freed after the
 * variant's teardown, and when setup fails, so a target that allocates
 * only here needs no teardown and no clean-up on its error paths. NULL
 * when out of memory (ctx->err says so). */
static inline void *aisp_alloc(const struct aisp_ctx *ctx, size_t bytes)
{
	if (!ctx->alloc) {
		aisp_fail(ctx->err, AISP_ENOMEM, "no harness memory offered here");
		return NULL;
	}
	return ctx->alloc(ctx, bytes, 0);
}

/* Device memory (cudaMalloc on CUDA, not initialized; zeroed host memory
 * on the host backend), owned by the harness as aisp_alloc's. */
static inline void *aisp_device_alloc(const struct aisp_ctx *ctx, size_t bytes)
{
	if (!ctx->alloc) {
		aisp_fail(ctx->err, AISP_ENOMEM, "no harness memory offered here");
		return NULL;
	}
	return ctx->alloc(ctx, bytes, 1);
}

/* Device facts now, through the harness (AISP_EDEVICE where none are offered). */
static inline aisp_err aisp_facts(const struct aisp_ctx *ctx, struct aisp_facts *out)
{
	if (!ctx->facts)
		return aisp_fail(ctx->err, AISP_EDEVICE, "no device facts offered here");
	return ctx->facts(ctx, out);
}

/* Run the variant being set up (state from its setup) back to back for ms
 * milliseconds, keeping the device busy, while the harness samples device
 * facts every ~20 ms: a load held for a health probe. The target reads no
 * clock; the harness does the timing. */
static inline aisp_err aisp_hold(const struct aisp_ctx *ctx, void *state, double ms,
				 struct aisp_held *out)
{
	if (!ctx->hold)
		return aisp_fail(ctx->err, AISP_EDEVICE, "no held load offered here");
	return ctx->hold(ctx, state, ms, out);
}

/* Seeded random numbers for target inputs (splitmix64): deterministic for a
 * seed on every backend, so host twins and CUDA targets draw identical inputs. */
struct aisp_rng {
	uint64_t s;
};

/* Start a stream from seed and a per-use salt (e.g. 1 for A, 2 for B). */
static inline void aisp_rng_init(struct aisp_rng *r, uint64_t seed, uint64_t salt)
{
	r->s = seed ^ (salt * 0x9E3779B97F4A7C15ull);
}

/* Next 64 random bits. */
static inline uint64_t aisp_rng_next(struct aisp_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform double in [lo, hi). */
static inline double aisp_rng_uniform(struct aisp_rng *r, double lo, double hi)
{
	double u = (double)(aisp_rng_next(r) >> 11) * 0x1.0p-53;
	return lo + (hi - lo) * u;
}

/* Fill x[0..n) with floats uniform in [-1, 1) from stream (seed, salt): the
 * inputs both twins of a target draw, so they compute on the same numbers. */
static inline void aisp_rng_fill_unit(float *x, size_t n, uint64_t seed, uint64_t salt)
{
	struct aisp_rng r;

	aisp_rng_init(&r, seed, salt);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)aisp_rng_uniform(&r, -1.0, 1.0);
}

/* Index of parameter name in target t, or -1. */
int aisp_param_index(const struct aisp_target *t, const char *name);

/* Fill p with the defaults of target t on its backend. */
void aisp_params_defaults(const struct aisp_target *t, struct aisp_params *p);

/* Check every value of p against t's ranges and integer types. */
aisp_err aisp_params_validate(const struct aisp_target *t,
			      const struct aisp_params *p, aisp_error *err);

#ifdef __cplusplus
}
#endif

#endif /* AISP_H */
