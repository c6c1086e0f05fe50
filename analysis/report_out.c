/* report_out.c - the output primitives of `aisp report` (escaping, headings,
 * paragraphs wrapped at 120 columns in markdown, tables aligned in markdown,
 * verdict labels, anchors): the leaf that report.c, report_top.c,
 * report_tables.c and report_svg.c all write through, so that none of them
 * calls another's caller. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"

/* Markdown: 1 when c is a letter or digit (emphasis marks inside a word do
 * not act in CommonMark for '_'). */
static int rep_alnum(char c)
{
	return isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

/* s escaped for r's format into buf[n] (cut when it does not fit); in_table:
 * markdown escapes '|' too. */
static void rep_escape(const struct rep *r, const char *s, int in_table, char *buf, size_t n)
{
	size_t k = 0;

	for (const char *p = s; *p && k + 8 < n; p++) {
		const char *e = NULL;
		char c = *p;

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (r->html) {
			e = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" :
			    c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
		} else if ((c == '|' && in_table) || c == '\\' || c == '<' || c == '`' || c == '*' ||
			   (c == '&' && (isalpha((unsigned char)p[1]) || p[1] == '#')) ||
			   (c == '_' && !(p > s && rep_alnum(p[-1]) && rep_alnum(p[1])))) {
			buf[k++] = '\\';
		}
		if (e) {
			k += (size_t)snprintf(buf + k, n - k, "%s", e);
			continue;
		}
		buf[k++] = c;
	}
	buf[k] = '\0';
}

void rep_text(struct rep *r, const char *s)
{
	char buf[4096];

	rep_escape(r, s, 0, buf, sizeof(buf));
	fputs(buf, r->o);
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

const char *rep_num(struct rep *r, double x)
{
	return isfinite(x) ? rep_fmt(r, "%.4g", x) : "-";
}

const char *rep_pct(struct rep *r, double x)
{
	if (!isfinite(x))
		return "-";
	return rep_fmt(r, fabs(x) < 0.1 ? "%+.1f%%" : "%+.0f%%", 100.0 * x);
}

void rep_h(struct rep *r, int level, const char *id, const char *text)
{
	if (r->html) {
		if (id)
			fprintf(r->o, "<h%d id=\"%s\">", level, id);
		else
			fprintf(r->o, "<h%d>", level);
		rep_text(r, text);
		fprintf(r->o, "</h%d>\n", level);
	} else {
		fprintf(r->o, "%.*s ", level, "###");
		rep_text(r, text);
		fputs("\n\n", r->o);
	}
}

/* Markdown: text (escaped) wrapped at REP_MD_WIDTH, the first line after
 * first, the others after indent; never a break before a character that
 * would start a block ('#', '-', '+', '>', a digit list). */
static void rep_wrap(struct rep *r, const char *text, const char *first, const char *indent)
{
	const char *p = text;
	size_t width = REP_MD_WIDTH - strlen(first);

	fputs(first, r->o);
	while (strlen(p) > width) {
		const char *cut = NULL;

		for (const char *q = p + width; q > p && !cut; q--)
			if (*q == ' ' && !strchr("#-+>*", q[1]) && !isdigit((unsigned char)q[1]))
				cut = q;
		if (!cut)
			cut = strchr(p + width, ' ');
		if (!cut)
			break;
		fprintf(r->o, "%.*s\n%s", (int)(cut - p), p, indent);
		p = cut + 1;
		width = REP_MD_WIDTH - strlen(indent);
	}
	fprintf(r->o, "%s\n", p);
}

/* fmt with ap, escaped for the output format into buf (REP_TEXT_BUF). */
#define REP_TEXT_BUF 8192
static void rep_vtext(const struct rep *r, char *buf, const char *fmt, va_list ap)
{
	char raw[REP_TEXT_BUF / 2];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	rep_escape(r, raw, 0, buf, REP_TEXT_BUF);
}

void rep_p(struct rep *r, const char *cls, const char *fmt, ...)
{
	char buf[REP_TEXT_BUF];
	va_list ap;

	va_start(ap, fmt);
	rep_vtext(r, buf, fmt, ap);
	va_end(ap);
	if (r->html) {
		if (cls)
			fprintf(r->o, "<p class=\"%s\">%s</p>\n", cls, buf);
		else
			fprintf(r->o, "<p>%s</p>\n", buf);
		return;
	}
	if (cls && !strncmp(cls, "verdict", 7) && strlen(buf) + 5 < sizeof(buf)) {
		memmove(buf + 2, buf, strlen(buf) + 1); /* the verdict line stands out */
		memcpy(buf, "**", 2);
		strcat(buf, "**");
	}
	rep_wrap(r, buf, "", "");
	fputc('\n', r->o);
}

void rep_li(struct rep *r, const char *fmt, ...)
{
	char buf[REP_TEXT_BUF];
	va_list ap;

	va_start(ap, fmt);
	rep_vtext(r, buf, fmt, ap);
	va_end(ap);
	if (r->html)
		fprintf(r->o, "<li>%s</li>\n", buf);
	else
		rep_wrap(r, buf, "- ", "  ");
}

void rep_tab_begin(struct rep *r, const char *cls, int ncols, const char *const *head)
{
	r->tab.ncols = ncols;
	r->tab.n = 0;
	if (r->html) {
		fprintf(r->o, "<table%s%s%s>\n<tr>", cls ? " class=\"" : "", cls ? cls : "",
			cls ? "\"" : "");
		for (int i = 0; i < ncols; i++) {
			fputs("<th>", r->o);
			rep_text(r, head[i]);
			fputs("</th>", r->o);
		}
		fputs("</tr>\n", r->o);
		return;
	}
	for (int i = 0; i < ncols; i++)
		rep_td(r, NULL, NULL, head[i]);
}

void rep_td(struct rep *r, const char *cls, const char *href, const char *text)
{
	struct rep_tab *t = &r->tab;

	if (r->html) {
		if (t->n % (size_t)t->ncols == 0)
			fputs("<tr>", r->o);
		int badge = cls && !strncmp(cls, "badge", 5); /* a label inside the cell */

		if (badge)
			fprintf(r->o, "<td><span class=\"%s\">", cls);
		else
			fprintf(r->o, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
		if (href)
			fprintf(r->o, "<a href=\"#%s\">", href);
		rep_text(r, text ? text : "");
		fputs(href ? "</a>" : "", r->o);
		fputs(badge ? "</span></td>" : "</td>", r->o);
		if (++t->n % (size_t)t->ncols == 0)
			fputs("</tr>\n", r->o);
		return;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **p = realloc(t->cells, cap * sizeof(*p));

		if (!p)
			return; /* out of memory: the cell is dropped */
		t->cells = p;
		t->cap = cap;
	}
	t->cells[t->n++] = strdup(text ? text : "");
}

/* Markdown: the escaped width of every column of the buffered table, cut
 * (widest first) until a row fits REP_MD_WIDTH. */
static void rep_tab_widths(struct rep *r, size_t *w)
{
	struct rep_tab *t = &r->tab;
	char buf[4096];
	size_t total;

	for (int c = 0; c < t->ncols; c++)
		w[c] = 3;
	for (size_t i = 0; i < t->n; i++) {
		rep_escape(r, t->cells[i] ? t->cells[i] : "", 1, buf, sizeof(buf));
		if (strlen(buf) > w[i % (size_t)t->ncols])
			w[i % (size_t)t->ncols] = strlen(buf);
	}
	for (;;) {
		int wide = 0;

		total = 1;
		for (int c = 0; c < t->ncols; c++) {
			total += w[c] + 3;
			wide = w[c] > w[wide] ? c : wide;
		}
		if (total <= REP_MD_WIDTH || w[wide] <= 8)
			break;
		w[wide] -= total - REP_MD_WIDTH < w[wide] - 8 ? total - REP_MD_WIDTH : w[wide] - 8;
	}
}

void rep_tab_end(struct rep *r)
{
	struct rep_tab *t = &r->tab;
	size_t w[REP_TAB_MAX];
	char buf[4096];

	if (r->html) {
		fputs("</table>\n", r->o);
		return;
	}
	rep_tab_widths(r, w);
	for (size_t i = 0; i < t->n; i++) {
		size_t c = i % (size_t)t->ncols, len;

		rep_escape(r, t->cells[i] ? t->cells[i] : "", 1, buf, sizeof(buf));
		len = strlen(buf);
		if (len > w[c]) { /* cut, never inside an escape */
			len = w[c] - 3;
			if (len && buf[len - 1] == '\\')
				len--;
			memcpy(buf + len, "...", 4);
			len += 3;
		}
		fprintf(r->o, "%s %s%*s", c ? " |" : "|", buf, (int)(w[c] - len), "");
		if (c + 1 == (size_t)t->ncols) {
			fputs(" |\n", r->o);
			for (int k = 0; i == (size_t)c && k < t->ncols; k++)
				fprintf(r->o, "%s%.*s", k ? "|" : "|", (int)w[k] + 2,
					"--------------------------------------------------------------"
					"--------------------------------------------------------------");
			if (i == (size_t)c)
				fputs("|\n", r->o);
		}
		free(t->cells[i]);
	}
	fputc('\n', r->o);
	t->n = 0;
}

const char *rep_verdict_label(enum verdict v)
{
	static const char *const labels[VERDICT_COUNT] = {
		"PASS", "IMPROVED", "SKIPPED", "NOT JUDGED", "MISSING", "OUTLIER", "REGRESSED", "FAILED",
	};

	return (unsigned)v < VERDICT_COUNT ? labels[v] : "?";
}

void rep_badge(struct rep *r, enum verdict v)
{
	if (r->html)
		fprintf(r->o, "<span class=\"badge v-%s\">%s</span>", compare_verdict_name(v),
			rep_verdict_label(v));
	else
		fputs(rep_verdict_label(v), r->o);
}

const char *rep_node_id(struct rep *r, uint32_t node)
{
	char *b = r->cells[r->next++ % REP_CELLS];
	const char *s = fleet_str(r->f, node);
	size_t k = (size_t)snprintf(b, sizeof(r->cells[0]), "node-");

	for (; *s && k + 1 < sizeof(r->cells[0]); s++)
		b[k++] = isalnum((unsigned char)*s) ? (char)tolower((unsigned char)*s) : '-';
	b[k] = '\0';
	return b;
}

const char *rep_gpu_name(struct rep *r, size_t gpu_idx)
{
	const struct fleet_gpu *g = &r->f->gpus[gpu_idx];

	return rep_fmt(r, "%s GPU %d", fleet_str(r->f, g->node), g->gpu_index);
}

