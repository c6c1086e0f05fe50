/* params.c - target parameters: defaults, lookup and validation. */
#include "aisp.h"

#include <math.h>
#include <string.h>

int aisp_param_index(const struct aisp_target *t, const char *name)
{
	for (size_t i = 0; i < t->card->n_params; i++)
		if (!strcmp(t->card->params[i].name, name))
			return (int)i;
	return -1;
}

void aisp_params_defaults(const struct aisp_target *t, struct aisp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n = t->card->n_params;
	for (size_t i = 0; i < t->card->n_params && i < AISP_MAX_PARAMS; i++)
		p->v[i] = t->card->params[i].def[t->backend];
}

aisp_err aisp_params_validate(const struct aisp_target *t,
			      const struct aisp_params *p, aisp_error *err)
{
	const struct aisp_card *c = t->card;

	if (p->n != c->n_params || p->n > AISP_MAX_PARAMS)
		return aisp_fail(err, AISP_EINTERNAL, "%s: %zu parameter values for %zu parameters",
				 c->name, p->n, c->n_params);
	for (size_t i = 0; i < p->n; i++) {
		const struct aisp_param *d = &c->params[i];
		double v = p->v[i];

		if (!isfinite(v) || v < d->min || v > d->max)
			return aisp_fail(err, AISP_EINPUT,
					 "%s: parameter %s = %g is out of range [%g, %g]",
					 c->name, d->name, v, d->min, d->max);
		if (d->type == AISP_PARAM_INT && v != floor(v))
			return aisp_fail(err, AISP_EINPUT,
					 "%s: parameter %s = %g must be an integer",
					 c->name, d->name, v);
	}
	return AISP_OK;
}
