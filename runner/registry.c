/* registry.c - the target registry: the only global table in aisp. */
#include "registry.h"

#include <math.h>
#include <string.h>

#include "text.h"

/* The host twin of every target (targets.def). */
#define AISP_TARGET(x) extern const struct aisp_target x##_host;
#include "targets.def"
#undef AISP_TARGET

static const struct aisp_target *const builtin[] = {
#define AISP_TARGET(x) &x##_host,
#include "targets.def"
#undef AISP_TARGET
	NULL,
};

#ifdef AISP_HAVE_CUDA
/* The CUDA twins of the plug-in, as its catalog lists them (generated). */
extern const struct registry_catalog registry_cuda_catalog[];
static struct aisp_target catalog_twins[REGISTRY_MAX];
#endif

/* The built-in targets, the catalog's CUDA twins, then those added or
 * loaded in their place; NULL-terminated. */
static const struct aisp_target *table[REGISTRY_MAX + 1];
static size_t n_table;

/* Index in table of the twin of name for backend b, or -1. */
static int registry_index(const char *name, enum aisp_backend_kind b);

/* The catalog's CUDA twins, each with its host twin's card. */
static void registry_fill_catalog(void)
{
#ifdef AISP_HAVE_CUDA
	for (size_t i = 0; registry_cuda_catalog[i].name && n_table < REGISTRY_MAX; i++) {
		const struct registry_catalog *c = &registry_cuda_catalog[i];
		int host = registry_index(c->name, AISP_BACKEND_HOST);

		if (host < 0)
			continue; /* test_registry: every catalog twin is in the table */
		catalog_twins[i] = (struct aisp_target){AISP_ABI_VERSION, table[host]->card,
							AISP_BACKEND_CUDA, c->variants, c->n_variants};
		table[n_table++] = &catalog_twins[i];
	}
#endif
}

/* Fill the table on first use. */
static void registry_fill(void)
{
	if (n_table)
		return;
	for (; builtin[n_table]; n_table++)
		table[n_table] = builtin[n_table];
	registry_fill_catalog();
}

static int registry_index(const char *name, enum aisp_backend_kind b)
{
	for (size_t i = 0; i < n_table; i++)
		if (table[i]->backend == b && !strcmp(table[i]->card->name, name))
			return (int)i;
	return -1;
}

const struct aisp_target *const *registry_all(void)
{
	registry_fill();
	return table;
}

aisp_err registry_extend(const struct aisp_target *const *more, aisp_error *err)
{
	registry_fill();
	for (size_t i = 0; more[i]; i++) {
		const struct aisp_target *t = more[i];

		if (t->abi_version != AISP_ABI_VERSION)
			return aisp_fail(err, AISP_EINTERNAL, "target %s: ABI %d, aisp has %d",
					 t->card->name, t->abi_version, AISP_ABI_VERSION);
		if (registry_index(t->card->name, t->backend) >= 0)
			return aisp_fail(err, AISP_EINTERNAL, "target %s added twice",
					 t->card->name);
		if (n_table == REGISTRY_MAX)
			return aisp_fail(err, AISP_EINTERNAL, "more than %d targets",
					 REGISTRY_MAX);
		table[n_table++] = t;
	}
	return AISP_OK;
}

/* 1 when f and g give the same number at p (both absent counts as same). */
static int same_work(double (*f)(const struct aisp_params *),
		     double (*g)(const struct aisp_params *), const struct aisp_params *p)
{
	double x = f ? f(p) : NAN, y = g ? g(p) : NAN;

	return x == y || (isnan(x) && isnan(y));
}

/* AISP_OK when cards a and b say the same, else what differs. */
static aisp_err cards_agree(const struct aisp_card *a, const struct aisp_card *b,
			    aisp_error *err)
{
	if (strcmp(a->name, b->name) || strcmp(a->description, b->description) ||
	    strcmp(a->goal, b->goal) || a->test_only != b->test_only ||
	    strcmp(a->work_unit ? a->work_unit : "", b->work_unit ? b->work_unit : "") ||
	    a->n_params != b->n_params)
		return aisp_fail(err, AISP_EINTERNAL, "%s: name, text, goal or unit differ", a->name);
	for (size_t i = 0; i < a->n_params; i++) {
		const struct aisp_param *x = &a->params[i], *y = &b->params[i];

		if (strcmp(x->name, y->name) || x->type != y->type || x->min != y->min ||
		    x->max != y->max || strcmp(x->help, y->help) ||
		    memcmp(x->def, y->def, sizeof(x->def)))
			return aisp_fail(err, AISP_EINTERNAL, "%s: parameter %zu (%s) differs",
					 a->name, i, x->name);
	}
	for (int be = 0; be < AISP_N_BACKENDS; be++) {
		struct aisp_params p = {.n = a->n_params};

		for (size_t i = 0; i < a->n_params && i < AISP_MAX_PARAMS; i++)
			p.v[i] = a->params[i].def[be];
		if (!same_work(a->work, b->work, &p) || !same_work(a->bytes, b->bytes, &p) ||
		    !same_work(a->flops, b->flops, &p))
			return aisp_fail(err, AISP_EINTERNAL, "%s: work, bytes or flops differ",
					 a->name);
	}
	return AISP_OK;
}

aisp_err registry_twins_agree(const struct aisp_target *a, const struct aisp_target *b,
			      int variants, aisp_error *err)
{
	aisp_err rc = cards_agree(a->card, b->card, err);

	if (rc || !variants)
		return rc;
	if (a->n_variants != b->n_variants)
		return aisp_fail(err, AISP_EINTERNAL, "%s: %zu variants against %zu",
				 a->card->name, a->n_variants, b->n_variants);
	for (size_t v = 0; v < a->n_variants; v++) {
		const struct aisp_variant *x = &a->variants[v], *y = &b->variants[v];

		if (strcmp(x->name, y->name) || x->role != y->role || x->flags != y->flags ||
		    strcmp(x->technique ? x->technique : "", y->technique ? y->technique : ""))
			return aisp_fail(err, AISP_EINTERNAL, "%s: variant %s differs",
					 a->card->name, x->name);
	}
	return AISP_OK;
}

aisp_err registry_attach(enum aisp_backend_kind b, const struct aisp_target *const *loaded,
			 aisp_error *err)
{
	int at[REGISTRY_MAX], used[REGISTRY_MAX + 1] = {0};
	size_t n = 0, want = 0;
	aisp_err rc;

	registry_fill();
	for (size_t i = 0; i < n_table; i++)
		want += table[i]->backend == b;
	for (; loaded[n]; n++) {
		int i = n < REGISTRY_MAX && loaded[n]->abi_version == AISP_ABI_VERSION
			? registry_index(loaded[n]->card->name, b) : -1;

		if (i < 0 || used[i]++)
			return aisp_fail(err, AISP_EINTERNAL, "twin %s: not in the catalog, "
					 "repeated or of another ABI", loaded[n]->card->name);
		if ((rc = registry_twins_agree(table[i], loaded[n], 1, err)))
			return rc;
		at[n] = i;
	}
	if (n != want)
		return aisp_fail(err, AISP_EINTERNAL, "%zu twins for the catalog's %zu", n, want);
	for (size_t k = 0; k < n; k++)
		table[at[k]] = loaded[k];
	return AISP_OK;
}

int registry_has_backend(enum aisp_backend_kind b)
{
	registry_fill();
	for (size_t i = 0; i < n_table; i++)
		if (table[i]->backend == b)
			return 1;
	return 0;
}

const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b)
{
	int i;

	registry_fill();
	i = registry_index(name, b);
	return i < 0 ? NULL : table[i];
}

int registry_variant_index(const struct aisp_target *t, const char *name)
{
	for (size_t i = 0; i < t->n_variants; i++)
		if (!strcmp(t->variants[i].name, name))
			return (int)i;
	return -1;
}

const char *registry_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	registry_fill();
	for (size_t i = 0; i < n_table; i++) {
		if (table[i]->card->test_only)
			continue;
		size_t d = text_edit_distance(name, table[i]->card->name);
		if (d < best_d) {
			best_d = d;
			best = table[i]->card->name;
		}
	}
	return best_d <= strlen(name) / 2 + 2 ? best : NULL;
}
