/* text.h - small string helpers shared by the CLI, job parser and reports. */
#ifndef AISP_TEXT_H
#define AISP_TEXT_H

#include <stddef.h>

/* Levenshtein distance between a and b (for "did you mean"). */
size_t text_edit_distance(const char *a, const char *b);

/* Copy src into dst of size n, always NUL-terminated; 0 if it fit, -1 if cut. */
int text_copy(char *dst, size_t n, const char *src);

/* 1 when s is a safe name for files and HDF5 paths: [A-Za-z0-9_.:=,@+-] and [ ],
 * not empty, no "..", at most AISP_NAME_MAX-1 characters. */
int text_is_safe_name(const char *s);

/* Copy src into dst of size n with control characters shown as '?', so text
 * read from a file never reaches a terminal as a control code (dst may be
 * src: cleaned in place); returns dst. */
char *text_printable(char *dst, size_t n, const char *src);

/* Lower-case slug of s: runs of non-alphanumerics become one '_'. */
void text_slug(char *dst, size_t n, const char *s);

#endif /* AISP_TEXT_H */
