/*
 * registry.h - the NULL-terminated table of targets (the one global).
 * Adding a target is one new file under kernels/ plus one line in registry.c.
 */
#ifndef AISP_REGISTRY_H
#define AISP_REGISTRY_H

#include "aisp.h"

/* All targets of every backend built in, NULL-terminated. */
const struct aisp_target *const *registry_all(void);

/* The twin of name for backend b, or NULL. Test-only targets are found too. */
const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b);

/* Index of variant name in t, or -1. */
int registry_variant_index(const struct aisp_target *t, const char *name);

/* Nearest known target name to name (for "did you mean"), or NULL. */
const char *registry_suggest(const char *name);

#endif /* AISP_REGISTRY_H */
