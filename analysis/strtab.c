/* strtab.c - string interning with FNV-1a and linear probing. */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

void strtab_init(struct strtab *t)
{
	memset(t, 0, sizeof(*t));
}

/* FNV-1a hash of s. */
static uint32_t strtab_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Rebuild the slots with twice the room; 0 on success. */
static int strtab_grow(struct strtab *t)
{
	uint32_t n = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (uint32_t id = 0; id < t->n; id++) {
		uint32_t i = strtab_hash(t->strs[id]) & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = id + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

uint32_t strtab_intern(struct strtab *t, const char *s)
{
	uint32_t i;
	char *copy;

	if ((t->n + 1) * 2 > t->nslots && strtab_grow(t))
		return UINT32_MAX;
	i = strtab_hash(s) & (t->nslots - 1);
	for (; t->slots[i]; i = (i + 1) & (t->nslots - 1))
		if (!strcmp(t->strs[t->slots[i] - 1], s))
			return t->slots[i] - 1;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 256;
		char **strs = realloc(t->strs, cap * sizeof(*strs));

		if (!strs)
			return UINT32_MAX;
		t->strs = strs;
		t->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return UINT32_MAX;
	t->strs[t->n] = copy;
	t->slots[i] = t->n + 1;
	return t->n++;
}

const char *strtab_get(const struct strtab *t, uint32_t id)
{
	return id < t->n ? t->strs[id] : "";
}

void strtab_free(struct strtab *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
