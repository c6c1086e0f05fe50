/* text.c - small string helpers. */
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aisp.h"

size_t text_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, prev, d;

	if (la > 256 || lb > 256)
		return la > lb ? la : lb;
	row = malloc((lb + 1) * sizeof(*row));
	if (!row)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t del = row[j] + 1, ins = row[j - 1] + 1;
			prev = row[j];
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	d = row[lb];
	free(row);
	return d;
}

int text_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (n == 0)
		return -1;
	if (l >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, l + 1);
	return 0;
}

int text_is_safe_name(const char *s)
{
	size_t l = strlen(s);

	if (l == 0 || l >= AISP_NAME_MAX || strstr(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.:=,@+-[]", *s))
			return 0;
	return 1;
}

char *text_printable(char *dst, size_t n, const char *src)
{
	if (dst != src)
		text_copy(dst, n, src);
	for (char *c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return dst;
}

void text_slug(char *dst, size_t n, const char *s)
{
	size_t o = 0;
	int gap = 0;

	for (; *s && o + 1 < n; s++) {
		if (isalnum((unsigned char)*s)) {
			if (gap && o > 0 && o + 2 < n)
				dst[o++] = '_';
			gap = 0;
			dst[o++] = (char)tolower((unsigned char)*s);
		} else {
			gap = 1;
		}
	}
	dst[o < n ? o : n - 1] = '\0';
}
