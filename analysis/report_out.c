/* report_out.c - the output stream of `aisp report`: escaping and the
 * rotating cell buffers, used by the tables (report.c) and the SVG plots
 * (report_svg.c) alike, so that neither calls into the other's file. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>

void rep_text(struct rep *r, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", r->o); break;
		case '<': fputs("&lt;", r->o); break;
		case '>': fputs("&gt;", r->o); break;
		case '"': fputs("&quot;", r->o); break;
		case '\'': fputs("&#39;", r->o); break;
		case '|': fputs(r->html ? "|" : "\\|", r->o); break;
		case '\n': case '\r': fputc(' ', r->o); break;
		case '\\': fputs(r->html ? "\\" : "\\\\", r->o); break;
		case '`': case '*': case '_': case '[': case ']':
			if (!r->html)
				fputc('\\', r->o);
			fputc(*s, r->o);
			break;
		default: fputc(*s, r->o);
		}
	}
}

const char *rep_fmt(struct rep *r, const char *fmt, ...)
{
	char *b = r->cells[r->next++ % REP_CELLS];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(r->cells[0]), fmt, ap);
	va_end(ap);
	return b;
}
