/*
 * registry.h - the NULL-terminated table of targets (the one global).
 * Adding a target is one file per backend under kernels/ (beside a header
 * with what its twins share) plus one line per twin in registry.c; a test
 * adds its own targets to its binary with registry_extend.
 */
#ifndef AISP_REGISTRY_H
#define AISP_REGISTRY_H

#include "aisp.h"

#define REGISTRY_MAX 64

/* All targets of every backend built in (and added), NULL-terminated. */
const struct aisp_target *const *registry_all(void);

/* Add the NULL-terminated targets more (a test binary's own, before any
 * other use of the registry). AISP_EINTERNAL when the table is full, a
 * name repeats for the same backend, or a target's ABI differs. */
aisp_err registry_extend(const struct aisp_target *const *more, aisp_error *err);

/* The twin of name for backend b, or NULL. Test-only targets are found too. */
const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b);

/* Index of variant name in t, or -1. */
int registry_variant_index(const struct aisp_target *t, const char *name);

/* Nearest known target name to name (for "did you mean"), or NULL. */
const char *registry_suggest(const char *name);

#endif /* AISP_REGISTRY_H */
