/* registry.c - the target registry: the only global table in aisp. */
#include "registry.h"

#include <string.h>

#include "text.h"

/* The twins of every target (targets.def). */
#define AISP_TARGET(x) extern const struct aisp_target x##_host;
#include "targets.def"
#undef AISP_TARGET
#ifdef AISP_HAVE_CUDA
#define AISP_TARGET(x) extern const struct aisp_target x##_cuda;
#include "targets.def"
#undef AISP_TARGET
#endif

static const struct aisp_target *const builtin[] = {
#define AISP_TARGET(x) &x##_host,
#include "targets.def"
#undef AISP_TARGET
#ifdef AISP_HAVE_CUDA
#define AISP_TARGET(x) &x##_cuda,
#include "targets.def"
#undef AISP_TARGET
#endif
	NULL,
};

/* The built-in targets, then those added; NULL-terminated. */
static const struct aisp_target *table[REGISTRY_MAX + 1];
static size_t n_table;

/* Fill the table with the built-in targets on first use. */
static void registry_fill(void)
{
	if (n_table)
		return;
	for (; builtin[n_table]; n_table++)
		table[n_table] = builtin[n_table];
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
		if (registry_find(t->card->name, t->backend))
			return aisp_fail(err, AISP_EINTERNAL, "target %s added twice",
					 t->card->name);
		if (n_table == REGISTRY_MAX)
			return aisp_fail(err, AISP_EINTERNAL, "more than %d targets",
					 REGISTRY_MAX);
		table[n_table++] = t;
	}
	return AISP_OK;
}

const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b)
{
	const struct aisp_target *const *all = registry_all();

	for (size_t i = 0; all[i]; i++)
		if (all[i]->backend == b && !strcmp(all[i]->card->name, name))
			return all[i];
	return NULL;
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
	const struct aisp_target *const *all = registry_all();
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; all[i]; i++) {
		if (all[i]->card->test_only)
			continue;
		size_t d = text_edit_distance(name, all[i]->card->name);
		if (d < best_d) {
			best_d = d;
			best = all[i]->card->name;
		}
	}
	return best_d <= strlen(name) / 2 + 2 ? best : NULL;
}
