/*
 * registry.h - the table of targets (the one global): one line per target
 * in targets.def, a host twin built in and, with CUDA=1, a CUDA twin in the
 * plug-in lib/aisp-cuda.so. Until a worker loads the plug-in, the CUDA
 * twins come from a catalog generated from it at build time (their
 * variants' names, roles, techniques and flags; the card is the host twin's):
 * enough to list, resolve and schedule them, not to run them.
 */
#ifndef AISP_REGISTRY_H
#define AISP_REGISTRY_H

#include "aisp.h"

#define REGISTRY_MAX 64

/* A CUDA twin as the build's catalog knows it (generated: catalog-gen). */
struct registry_catalog {
	const char *name;                    /* NULL ends the catalog */
	const struct aisp_variant *variants; /* without ops */
	size_t n_variants;
};

/* All targets of every backend built in (and added), NULL-terminated. */
const struct aisp_target *const *registry_all(void);

/* Add the NULL-terminated targets more (a test binary's own, before any
 * other use of the registry). AISP_EINTERNAL when the table is full, a
 * name repeats for the same backend, or a target's ABI differs. */
aisp_err registry_extend(const struct aisp_target *const *more, aisp_error *err);

/* Put the loaded twins of backend b (a plug-in's) in place of the catalog's.
 * Each catalog twin must be there once, agreeing in card and variants
 * (registry_twins_agree); on any mismatch nothing changes. */
aisp_err registry_attach(enum aisp_backend_kind b, const struct aisp_target *const *loaded,
			 aisp_error *err);

/* 1 when the registry has twins of backend b (catalog or loaded). */
int registry_has_backend(enum aisp_backend_kind b);

/* AISP_OK when twins a and b of one target say the same: card (name, text,
 * parameters with every default, work, bytes and flops at each backend's
 * defaults) and, with variants set, the same variants (name, role,
 * technique, flags) in the same order; else AISP_EINTERNAL saying what
 * differs. Set variants only for two twins of one backend (the catalog's
 * and the plug-in's): twins of different backends have variants of their
 * own, and their flags differ (a host twin has no launch path). */
aisp_err registry_twins_agree(const struct aisp_target *a, const struct aisp_target *b,
			      int variants, aisp_error *err);

/* The twin of name for backend b, or NULL. Test-only targets are found too. */
const struct aisp_target *registry_find(const char *name,
					enum aisp_backend_kind b);

/* Index of variant name in t, or -1. */
int registry_variant_index(const struct aisp_target *t, const char *name);

/* Nearest known target name to name (for "did you mean"), or NULL. */
const char *registry_suggest(const char *name);

#endif /* AISP_REGISTRY_H */
