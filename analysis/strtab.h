/*
 * strtab.h - string interning: each distinct string is stored once and named
 * by a small integer id, so fleet rows stay small and compare by id.
 */
#ifndef AISP_STRTAB_H
#define AISP_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "aisp.h"

struct strtab {
	char **strs;       /* id -> string (owned) */
	uint32_t n, cap;   /* strings stored, room in strs */
	uint32_t *slots;   /* open addressing: id + 1, 0 for empty */
	uint32_t nslots;   /* power of two */
};

/* An empty table (zeroed struct is valid too). */
void strtab_init(struct strtab *t);

/* Id of s, adding it when new; UINT32_MAX when out of memory. */
uint32_t strtab_intern(struct strtab *t, const char *s);

/* String of id (valid until strtab_free). */
const char *strtab_get(const struct strtab *t, uint32_t id);

void strtab_free(struct strtab *t);

#endif /* AISP_STRTAB_H */
