/*
 * job.c - job files. libyaml's event API builds a small tree (so aliases,
 * tags, duplicate keys and deep nesting are refused before anything else
 * looks at the input), then a schema walk fills struct job. Every error is
 * "file:line:col: field.path: what" and returns AISP_EINPUT.
 */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "registry.h"
#include "text.h"

#define JOB_MAX_DEPTH 5          /* top map, targets, entry, sweep, sweep values */
#define JOB_MAX_NODES 1000000   /* job_write_yaml of 10000 full instances fits */
#define JOB_MAX_KEYS 64          /* keys in one mapping */
#define JOB_MAX_INSTANCES 10000
#define JOB_MAX_FILE (16 << 20)  /* so does its text */
#define JOB_NUM_MAX 32           /* room for a formatted double */
#define JOB_PATH_MAX 256         /* room for a field path */

enum ynode_kind { YN_SCALAR, YN_MAP, YN_SEQ };

/* A node of the parsed document; maps hold key, value, key, value, ... */
struct ynode {
	enum ynode_kind kind;
	int line, col;   /* 1-based */
	int quoted;      /* a quoted scalar is a string, never a number or null */
	char *text;      /* scalar value */
	size_t n, cap;
	struct ynode **kid;
};

/* Where an instance came from: its entry's "target" node and index. */
struct jsrc {
	const struct ynode *at;
	size_t entry;
};

/* State of one load: the input and file name for messages, the tree under
 * construction, and the source of each instance made so far. */
struct jload {
	const char *file;
	const char *text;
	size_t len;
	aisp_error *err;
	struct ynode *root;
	struct ynode *stack[JOB_MAX_DEPTH];
	size_t depth, n_nodes;
	int n_docs;
	struct jsrc *src;    /* parallel to job->targets */
};

/* Fail with "file:line:col: path: what" (line/col of node at, or given). */
static aisp_err jfail_at(const struct jload *ld, int line, int col,
			 const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static aisp_err jfail_at(const struct jload *ld, int line, int col,
			 const char *path, const char *fmt, ...)
{
	char what[768], where[JOB_PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s", path);
	/* values and keys from the file never reach a terminal as control codes */
	for (char *c = what; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	for (char *c = where; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return aisp_fail(ld->err, AISP_EINPUT, "%s:%d:%d: %s: %s", ld->file,
			 line, col, where, what);
}

#define jfail(ld, node, path, ...) \
	jfail_at((ld), (node)->line, (node)->col, (path), __VA_ARGS__)

/* Format a field path into dst[JOB_PATH_MAX], cut if too long. */
static void jpath(char *dst, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void jpath(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, JOB_PATH_MAX, fmt, ap);
	va_end(ap);
}

/* ---- the tree ---------------------------------------------------------- */

/* Free node and everything below it. */
static void ynode_free(struct ynode *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->n; i++)
		ynode_free(y->kid[i]);
	free(y->kid);
	free(y->text);
	free(y);
}

/* 1 when scalar y is YAML null: empty, ~ or null, unquoted. */
static int ynode_is_null(const struct ynode *y)
{
	return y->kind == YN_SCALAR && !y->quoted &&
	       (!y->text[0] || !strcmp(y->text, "~") || !strcasecmp(y->text, "null"));
}

/* What y is, for "expected X, got Y" messages. */
static const char *ynode_describe(const struct ynode *y, char *buf, size_t n)
{
	if (y->kind == YN_MAP)
		return "a mapping";
	if (y->kind == YN_SEQ)
		return "a list";
	if (ynode_is_null(y))
		return "null";
	snprintf(buf, n, "%s'%.40s%s'", y->quoted ? "the string " : "", y->text,
		 strlen(y->text) > 40 ? "..." : "");
	return buf;
}

/* Field path of the slot the next node goes into, from the open collections,
 * with ".key" appended when key is not NULL. */
static void jload_path(const struct jload *ld, const char *key, char *buf,
		       size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ld->depth && o < size; i++) {
		const struct ynode *c = ld->stack[i];
		int top = i + 1 == ld->depth;

		if (c->kind == YN_MAP) {
			size_t k = top ? (c->n % 2 ? c->n - 1 : (size_t)-1) : c->n - 2;

			if (k != (size_t)-1)
				o += snprintf(buf + o, size - o, "%s%s", o ? "." : "",
					      c->kid[k]->text);
		} else {
			o += snprintf(buf + o, size - o, "[%zu]", top ? c->n : c->n - 1);
		}
	}
	if (key && o < size)
		snprintf(buf + o, size - o, "%s%s", o ? "." : "", key);
	if (!buf[0])
		snprintf(buf, size, "(top)");
}

/* Fail at a libyaml mark with the current field path. */
static aisp_err jload_fail_mark(const struct jload *ld, yaml_mark_t m,
				const char *what)
{
	char path[JOB_PATH_MAX];

	jload_path(ld, NULL, path, sizeof(path));
	return jfail_at(ld, (int)m.line + 1, (int)m.column + 1, path, "%s", what);
}

/* Append child to parent (checks key rules and duplicates in maps). */
static aisp_err jload_attach(struct jload *ld, struct ynode *parent,
			     struct ynode *y, yaml_mark_t m)
{
	if (parent->kind == YN_MAP && parent->n % 2 == 0) {
		if (y->kind != YN_SCALAR || ynode_is_null(y))
			return jload_fail_mark(ld, m, "keys must be non-empty strings");
		if (parent->n / 2 >= JOB_MAX_KEYS)
			return jload_fail_mark(ld, m, "too many keys in one mapping (at most 64)");
		for (size_t i = 0; i < parent->n; i += 2) {
			if (strcmp(parent->kid[i]->text, y->text))
				continue;
			char path[JOB_PATH_MAX];

			jload_path(ld, y->text, path, sizeof(path));
			return jfail_at(ld, (int)m.line + 1, (int)m.column + 1, path,
					"duplicate key '%.60s' (first at line %d)", y->text,
					parent->kid[i]->line);
		}
	}
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? 2 * parent->cap : 8;
		struct ynode **k = realloc(parent->kid, cap * sizeof(*k));

		if (!k)
			return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
		parent->kid = k;
		parent->cap = cap;
	}
	parent->kid[parent->n++] = y;
	return AISP_OK;
}

/* A new node from event ev, attached to the open collection (or the root). */
static aisp_err jload_add(struct jload *ld, const yaml_event_t *ev,
			  enum ynode_kind kind, struct ynode **out)
{
	struct ynode *y;
	aisp_err rc;

	if (++ld->n_nodes > JOB_MAX_NODES)
		return jload_fail_mark(ld, ev->start_mark, "too many nodes (at most 1000000)");
	y = calloc(1, sizeof(*y));
	if (!y)
		return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
	y->kind = kind;
	y->line = (int)ev->start_mark.line + 1;
	y->col = (int)ev->start_mark.column + 1;
	if (kind == YN_SCALAR) {
		const char *v = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;

		y->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		y->text = strndup(v, len);
		if (!y->text) {
			free(y);
			return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
		}
		if (strlen(y->text) != len) {
			ynode_free(y);
			return jload_fail_mark(ld, ev->start_mark, "NUL character in a string");
		}
	}
	if (ld->depth == 0) {
		ld->root = y;
		rc = AISP_OK;
	} else {
		rc = jload_attach(ld, ld->stack[ld->depth - 1], y, ev->start_mark);
		if (rc)
			ynode_free(y);
	}
	*out = y;
	return rc;
}

/* The explicit tag of ev, or NULL. */
static const yaml_char_t *jload_tag(const yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT)
		return ev->data.scalar.tag;
	if (ev->type == YAML_MAPPING_START_EVENT)
		return ev->data.mapping_start.tag;
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return ev->data.sequence_start.tag;
	return NULL;
}

/* Apply one parser event to the tree. */
static aisp_err jload_event(struct jload *ld, const yaml_event_t *ev)
{
	struct ynode *y;
	aisp_err rc;

	if (jload_tag(ev))
		return jload_fail_mark(ld, ev->start_mark, "tags are not allowed");
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++ld->n_docs > 1)
			return jload_fail_mark(ld, ev->start_mark,
					       "more than one YAML document");
		return AISP_OK;
	case YAML_ALIAS_EVENT:
		return jload_fail_mark(ld, ev->start_mark, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		return jload_add(ld, ev, YN_SCALAR, &y);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ld->depth == JOB_MAX_DEPTH)
			return jload_fail_mark(ld, ev->start_mark,
					       "nesting deeper than a job file needs (5 levels)");
		rc = jload_add(ld, ev, ev->type == YAML_SEQUENCE_START_EVENT ?
			       YN_SEQ : YN_MAP, &y);
		if (!rc)
			ld->stack[ld->depth++] = y;
		return rc;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (ld->depth == 0)
			return aisp_fail(ld->err, AISP_EINTERNAL, "%s: unbalanced YAML events",
					 ld->file);
		ld->depth--;
		return AISP_OK;
	default:
		return AISP_OK;
	}
}

/* Message of a libyaml parser error, with its line and column. */
static aisp_err jload_syntax_error(struct jload *ld, const yaml_parser_t *p)
{
	char what[512];
	yaml_mark_t m = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR)
		return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
	if (p->error == YAML_READER_ERROR) {
		m.line = m.column = 0;
		for (size_t i = 0; i < p->problem_offset && i < ld->len; i++) {
			m.column = ld->text[i] == '\n' ? 0 : m.column + 1;
			m.line += ld->text[i] == '\n';
		}
		snprintf(what, sizeof(what), "%s (byte %zu)",
			 p->problem ? p->problem : "unreadable input", p->problem_offset);
	} else if (p->context) {
		snprintf(what, sizeof(what), "%s %s (line %zu)", p->problem, p->context,
			 p->context_mark.line + 1);
	} else {
		snprintf(what, sizeof(what), "%s", p->problem ? p->problem : "syntax error");
	}
	if (p->error == YAML_READER_ERROR)
		return jfail_at(ld, (int)m.line + 1, (int)m.column + 1, "(encoding)",
				"%s", what);
	return jload_fail_mark(ld, m, what);
}

/* Parse text into ld->root (NULL for a file with no document). */
static aisp_err jload_parse(struct jload *ld, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	aisp_err rc = AISP_OK;
	int done = 0;

	if (!yaml_parser_initialize(&p))
		return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = jload_syntax_error(ld, &p);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = jload_event(ld, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ---- scalars ------------------------------------------------------------- */

/* Shortest "%g" form of v that reads back as exactly v. */
static void job_fmt_num(double v, char buf[JOB_NUM_MAX])
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, JOB_NUM_MAX, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* 1 when s is a decimal number: [+-]digits[.digits][e[+-]digits]. */
static int job_num_syntax(const char *s)
{
	int digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* 1 when s is YAML's or C's spelling of infinity or NaN. */
static int job_num_special(const char *s)
{
	static const char *const names[] = {".inf", ".nan", "inf", "nan", "infinity"};

	if (*s == '+' || *s == '-')
		s++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return 1;
	return 0;
}

/* The number in scalar y: finite, in [min, max], an integer if integer. */
static aisp_err job_get_number(const struct jload *ld, const struct ynode *y,
			       const char *path, int integer, double min,
			       double max, double *out)
{
	char got[64], lo[JOB_NUM_MAX], hi[JOB_NUM_MAX];
	const char *want = integer ? "an integer" : "a number";
	double v;

	if (y->kind != YN_SCALAR || y->quoted || ynode_is_null(y))
		return jfail(ld, y, path, "expected %s, got %s", want,
			     ynode_describe(y, got, sizeof(got)));
	if (job_num_special(y->text))
		return jfail(ld, y, path, "%s is not a finite number", y->text);
	if (!job_num_syntax(y->text))
		return jfail(ld, y, path, "expected %s, got %s", want,
			     ynode_describe(y, got, sizeof(got)));
	errno = 0;
	v = strtod(y->text, NULL);
	if (errno == ERANGE || !isfinite(v))
		return jfail(ld, y, path, "%.40s is %s", y->text, fabs(v) > 1.0 ?
			     "too large for a double" : "too small for a double");
	job_fmt_num(min, lo);
	job_fmt_num(max, hi);
	if (v < min || v > max)
		return jfail(ld, y, path, "%.40s is out of range [%s, %s]", y->text, lo, hi);
	if (integer && v != floor(v))
		return jfail(ld, y, path, "%.40s is not an integer", y->text);
	*out = v;
	return AISP_OK;
}

/* The seed in scalar y: an integer in [0, 2^64 - 1]. */
static aisp_err job_get_seed(const struct jload *ld, const struct ynode *y,
			     const char *path, unsigned long long *out)
{
	const char *s = y->text;
	double v;
	aisp_err rc;

	if (y->kind == YN_SCALAR && !y->quoted && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		*out = strtoull(s, NULL, 10);
		if (errno == ERANGE)
			return jfail(ld, y, path, "%.40s is out of range [0, %llu]", s,
				     (unsigned long long)-1);
		return AISP_OK;
	}
	/* Anything else (1e3, -1, 2.5, strings) goes through the number rules. */
	rc = job_get_number(ld, y, path, 1, 0.0, 9007199254740992.0, &v);
	if (!rc)
		*out = (unsigned long long)v;
	return rc;
}

/* The string in scalar y, copied into out[size]. */
static aisp_err job_get_string(const struct jload *ld, const struct ynode *y,
			       const char *path, char *out, size_t size)
{
	char got[64];

	if (y->kind != YN_SCALAR || ynode_is_null(y))
		return jfail(ld, y, path, "expected a string, got %s",
			     ynode_describe(y, got, sizeof(got)));
	if (text_copy(out, size, y->text))
		return jfail(ld, y, path, "'%.40s...' is too long (at most %zu characters)",
			     y->text, size - 1);
	return AISP_OK;
}

/* A name that is safe for files and HDF5 paths, copied into out[AISP_NAME_MAX]. */
static aisp_err job_get_name(const struct jload *ld, const struct ynode *y,
			     const char *path, char *out)
{
	aisp_err rc = job_get_string(ld, y, path, out, AISP_NAME_MAX);

	if (!rc && !text_is_safe_name(out))
		return jfail(ld, y, path, "unsafe name '%.40s' (use letters, digits and "
			     "_.:=,@+-, no '..')", out);
	return rc;
}

/* Fail unless y is of the given kind (a mapping or a list). */
static aisp_err job_want(const struct jload *ld, const struct ynode *y,
			 const char *path, enum ynode_kind kind)
{
	char got[64];

	if (y->kind == kind)
		return AISP_OK;
	return jfail(ld, y, path, "expected %s, got %s",
		     kind == YN_MAP ? "a mapping" : "a list",
		     ynode_describe(y, got, sizeof(got)));
}

/* Fail for unknown name k ("key", "parameter", "variant" of owner, which may
 * be NULL) in path, suggesting the nearest of names[0..n). */
static aisp_err job_unknown(const struct jload *ld, const struct ynode *k,
			    const char *path, const char *what, const char *owner,
			    const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	char list[512] = "";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t d = text_edit_distance(k->text, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
		if (o < sizeof(list))
			o += snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
				      names[i]);
	}
	if (best && best_d <= strlen(k->text) / 2 + 1)
		return jfail(ld, k, path, "unknown %s '%.40s'%s%s (did you mean '%s'?)",
			     what, k->text, owner ? " of " : "", owner ? owner : "", best);
	return jfail(ld, k, path, "unknown %s '%.40s'%s%s (known: %s)", what, k->text,
		     owner ? " of " : "", owner ? owner : "", n ? list : "none");
}

/* ---- target entries ------------------------------------------------------ */

/* One entry of targets: the target, its fixed parameters and swept lists. */
struct jentry {
	const struct aisp_target *t;
	const struct ynode *node;                       /* the entry mapping */
	const struct ynode *target;                     /* its "target" value */
	size_t index;                                   /* i of targets[i] */
	char path[JOB_PATH_MAX];                        /* "targets[3]" */
	struct job_target proto;                        /* all but params/instance */
	struct aisp_params p;                           /* defaults + params */
	const struct ynode *set[AISP_MAX_PARAMS];       /* key in params, or NULL */
	const struct ynode *sweep[AISP_MAX_PARAMS];     /* value list, or NULL */
	const struct ynode *sweep_key[AISP_MAX_PARAMS];
	const struct ynode *sweep_node;
};

/* Names of t's parameters, for suggestions (at most AISP_MAX_PARAMS). */
static size_t job_param_names(const struct aisp_target *t, const char **names)
{
	size_t n = t->card->n_params < AISP_MAX_PARAMS ? t->card->n_params : AISP_MAX_PARAMS;

	for (size_t i = 0; i < n; i++)
		names[i] = t->card->params[i].name;
	return n;
}

/* Index of parameter key k of e's target; fails for unknown names. */
static aisp_err job_param_key(const struct jload *ld, const struct jentry *e,
			      const struct ynode *k, const char *path, int *idx)
{
	const char *names[AISP_MAX_PARAMS];

	*idx = aisp_param_index(e->t, k->text);
	if (*idx >= 0 && *idx < AISP_MAX_PARAMS)
		return AISP_OK;
	return job_unknown(ld, k, path, "parameter", e->t->card->name, names,
			   job_param_names(e->t, names));
}

/* A value of parameter idx of e's target, checked against its range and type. */
static aisp_err job_param_value(const struct jload *ld, const struct jentry *e,
				int idx, const struct ynode *y, const char *path,
				double *v)
{
	const struct aisp_param *d = &e->t->card->params[idx];

	return job_get_number(ld, y, path, d->type == AISP_PARAM_INT, d->min,
			      d->max, v);
}

/* "params: {name: value, ...}" of an entry. */
static aisp_err job_entry_params(const struct jload *ld, struct jentry *e,
				 const struct ynode *m, const char *path)
{
	char sub[JOB_PATH_MAX];
	aisp_err rc;
	int idx;

	if ((rc = job_want(ld, m, path, YN_MAP)))
		return rc;
	if (m->n / 2 > AISP_MAX_PARAMS)
		return jfail(ld, m, path, "too many parameters (%zu, at most %d)", m->n / 2,
			     AISP_MAX_PARAMS);
	for (size_t i = 0; i < m->n; i += 2) {
		jpath(sub, "%s.%s", path, m->kid[i]->text);
		if ((rc = job_param_key(ld, e, m->kid[i], sub, &idx)))
			return rc;
		if ((rc = job_param_value(ld, e, idx, m->kid[i + 1], sub, &e->p.v[idx])))
			return rc;
		e->set[idx] = m->kid[i];
	}
	return AISP_OK;
}

/* Fail naming the variants target t has. */
static aisp_err job_unknown_variant(const struct jload *ld, const struct ynode *y,
				    const char *path, const struct aisp_target *t)
{
	const char *names[JOB_MAX_VARIANTS];
	size_t n = t->n_variants < JOB_MAX_VARIANTS ? t->n_variants : JOB_MAX_VARIANTS;

	for (size_t i = 0; i < n; i++)
		names[i] = t->variants[i].name;
	return job_unknown(ld, y, path, "variant", t->card->name, names, n);
}

/* "variants: [name, ...]" of an entry: known, distinct, at most 16. */
static aisp_err job_entry_variants(const struct jload *ld, struct jentry *e,
				   const struct ynode *s, const char *path)
{
	struct job_target *jt = &e->proto;
	char sub[JOB_PATH_MAX];
	aisp_err rc;

	if ((rc = job_want(ld, s, path, YN_SEQ)))
		return rc;
	if (s->n == 0)
		return jfail(ld, s, path, "empty list (leave variants out to run them all)");
	if (s->n > JOB_MAX_VARIANTS)
		return jfail(ld, s, path, "too many variants (%zu, at most %d)", s->n,
			     JOB_MAX_VARIANTS);
	for (size_t i = 0; i < s->n; i++) {
		const struct ynode *y = s->kid[i];

		jpath(sub, "%s[%zu]", path, i);
		if ((rc = job_get_name(ld, y, sub, jt->variants[i])))
			return rc;
		if (registry_variant_index(e->t, y->text) < 0)
			return job_unknown_variant(ld, y, sub, e->t);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(jt->variants[j], jt->variants[i]))
				return jfail(ld, y, sub, "variant '%s' is listed twice",
					     y->text);
	}
	jt->n_variants = s->n;
	return AISP_OK;
}

/* "alternatives: true|false" of an entry. */
static aisp_err job_entry_alternatives(const struct jload *ld, struct jentry *e,
				       const struct ynode *y, const char *path)
{
	char got[64];

	if (y->kind == YN_SCALAR && !y->quoted && !strcmp(y->text, "true"))
		e->proto.alternatives = 1;
	else if (y->kind == YN_SCALAR && !y->quoted && !strcmp(y->text, "false"))
		e->proto.alternatives = 0;
	else
		return jfail(ld, y, path, "expected true or false, got %s",
			     ynode_describe(y, got, sizeof(got)));
	return AISP_OK;
}

/* "tolerance: {lower: x, upper: y}" of an entry. */
static aisp_err job_entry_tolerance(const struct jload *ld, struct jentry *e,
				    const struct ynode *m, const char *path)
{
	static const char *const keys[] = {"lower", "upper"};
	char sub[JOB_PATH_MAX];
	aisp_err rc;

	if ((rc = job_want(ld, m, path, YN_MAP)))
		return rc;
	for (size_t i = 0; i < m->n; i += 2) {
		const char *k = m->kid[i]->text;
		double *dst = !strcmp(k, "lower") ? &e->proto.tol_lower :
			      !strcmp(k, "upper") ? &e->proto.tol_upper : NULL;

		jpath(sub, "%s.%s", path, k);
		if (!dst)
			return job_unknown(ld, m->kid[i], sub, "key", NULL, keys, 2);
		if ((rc = job_get_number(ld, m->kid[i + 1], sub, 0, 0.0, 100.0, dst)))
			return rc;
	}
	return AISP_OK;
}

struct job_val {
	double v;
	size_t i;
};

/* qsort order of job_val: by value, then by position. */
static int job_val_cmp(const void *a, const void *b)
{
	const struct job_val *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Fail when list s (values already checked) holds the same value twice. */
static aisp_err job_sweep_distinct(const struct jload *ld, const struct ynode *s,
				   const char *path)
{
	struct job_val *val = malloc(s->n * sizeof(*val));
	char sub[JOB_PATH_MAX];
	aisp_err rc = AISP_OK;

	if (!val)
		return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
	for (size_t i = 0; i < s->n; i++) {
		val[i].v = strtod(s->kid[i]->text, NULL);
		val[i].i = i;
	}
	qsort(val, s->n, sizeof(*val), job_val_cmp);
	for (size_t i = 1; i < s->n && !rc; i++) {
		const struct ynode *y = s->kid[val[i].i];

		if (val[i].v != val[i - 1].v)
			continue;
		jpath(sub, "%s[%zu]", path, val[i].i);
		rc = jfail(ld, y, sub, "%.40s is listed twice", y->text);
	}
	free(val);
	return rc;
}

/* "sweep: {name: [v, ...], ...}" of an entry. */
static aisp_err job_entry_sweep(const struct jload *ld, struct jentry *e,
				const struct ynode *m, const char *path)
{
	char sub[JOB_PATH_MAX], item[JOB_PATH_MAX];
	aisp_err rc;
	double v;
	int idx;

	if ((rc = job_want(ld, m, path, YN_MAP)))
		return rc;
	if (m->n == 0)
		return jfail(ld, m, path, "empty mapping (name a parameter and its values)");
	if (m->n / 2 > AISP_MAX_PARAMS)
		return jfail(ld, m, path, "too many parameters (%zu, at most %d)", m->n / 2,
			     AISP_MAX_PARAMS);
	for (size_t i = 0; i < m->n; i += 2) {
		const struct ynode *s = m->kid[i + 1];

		jpath(sub, "%s.%s", path, m->kid[i]->text);
		if ((rc = job_param_key(ld, e, m->kid[i], sub, &idx)) ||
		    (rc = job_want(ld, s, sub, YN_SEQ)))
			return rc;
		if (s->n == 0)
			return jfail(ld, s, sub, "empty list of values");
		if (s->n > JOB_MAX_INSTANCES)
			return jfail(ld, s, sub, "too many values (%zu, at most %d)", s->n,
				     JOB_MAX_INSTANCES);
		for (size_t j = 0; j < s->n; j++) {
			jpath(item, "%s[%zu]", sub, j);
			if ((rc = job_param_value(ld, e, idx, s->kid[j], item, &v)))
				return rc;
		}
		if ((rc = job_sweep_distinct(ld, s, sub)))
			return rc;
		e->sweep[idx] = s;
		e->sweep_key[idx] = m->kid[i];
	}
	e->sweep_node = m;
	return AISP_OK;
}

/* The value of key in mapping m, or NULL. */
static const struct ynode *job_lookup(const struct ynode *m, const char *key)
{
	for (size_t i = 0; i < m->n; i += 2)
		if (!strcmp(m->kid[i]->text, key))
			return m->kid[i + 1];
	return NULL;
}

/* "target: name" of an entry: a safe name of a registry target. */
static aisp_err job_entry_target(const struct jload *ld, struct jentry *e)
{
	const struct ynode *y = job_lookup(e->node, "target");
	char path[JOB_PATH_MAX], name[AISP_NAME_MAX];
	const char *near;
	aisp_err rc;

	jpath(path, "%s.target", e->path);
	if (!y)
		return jfail(ld, e->node, path, "missing (the registry target to run)");
	if ((rc = job_get_name(ld, y, path, name)))
		return rc;
	e->target = y;
	e->t = registry_find(name, AISP_BACKEND_HOST);
	if (!e->t) {
		near = registry_suggest(name);
		if (near)
			return jfail(ld, y, path, "unknown target '%s' (did you mean '%s'?)",
				     name, near);
		return jfail(ld, y, path, "unknown target '%s' (see aisp bench "
			     "list-targets)", name);
	}
	if (e->t->card->n_params > AISP_MAX_PARAMS)
		return jfail(ld, y, path, "target %s has too many parameters", name);
	text_copy(e->proto.target, sizeof(e->proto.target), name);
	aisp_params_defaults(e->t, &e->p);
	return AISP_OK;
}

/* One key of an entry (other than target). */
static aisp_err job_entry_key(const struct jload *ld, struct jentry *e,
			      const struct ynode *k, const struct ynode *v)
{
	static const char *const keys[] = {"target", "params", "variants", "timeout_s",
					   "tolerance", "sweep", "alternatives"};
	char path[JOB_PATH_MAX];

	jpath(path, "%s.%s", e->path, k->text);
	if (!strcmp(k->text, "target"))
		return AISP_OK;
	if (!strcmp(k->text, "params"))
		return job_entry_params(ld, e, v, path);
	if (!strcmp(k->text, "variants"))
		return job_entry_variants(ld, e, v, path);
	if (!strcmp(k->text, "timeout_s"))
		return job_get_number(ld, v, path, 0, 0.001, 604800.0, &e->proto.timeout_s);
	if (!strcmp(k->text, "tolerance"))
		return job_entry_tolerance(ld, e, v, path);
	if (!strcmp(k->text, "sweep"))
		return job_entry_sweep(ld, e, v, path);
	if (!strcmp(k->text, "alternatives"))
		return job_entry_alternatives(ld, e, v, path);
	return job_unknown(ld, k, path, "key", NULL, keys, sizeof(keys) / sizeof(keys[0]));
}

/* Parse entry y (targets[i]) into e. */
static aisp_err job_entry_parse(const struct jload *ld, const struct job *job,
				const struct ynode *y, size_t i, struct jentry *e)
{
	aisp_err rc;

	memset(e, 0, sizeof(*e));
	e->node = y;
	e->index = i;
	jpath(e->path, "targets[%zu]", i);
	e->proto.timeout_s = job->timeout_s;
	e->proto.tol_lower = e->proto.tol_upper = NAN;
	e->proto.line = y->line;
	if ((rc = job_want(ld, y, e->path, YN_MAP)) || (rc = job_entry_target(ld, e)))
		return rc;
	for (size_t k = 0; k < y->n; k += 2)
		if ((rc = job_entry_key(ld, e, y->kid[k], y->kid[k + 1])))
			return rc;
	for (size_t p = 0; p < e->t->card->n_params; p++) {
		if (!e->set[p] || !e->sweep[p])
			continue;
		char path[JOB_PATH_MAX];

		jpath(path, "%s.sweep.%s", e->path, e->t->card->params[p].name);
		return jfail(ld, e->sweep_key[p], path, "also set in params (line %d)",
			     e->set[p]->line);
	}
	return AISP_OK;
}

/* Number of instances e's sweep gives (1 without a sweep), as a double. */
static double job_entry_count(const struct jentry *e)
{
	double n = 1.0;

	for (size_t p = 0; p < e->t->card->n_params; p++)
		if (e->sweep[p])
			n *= (double)e->sweep[p]->n;
	return n;
}

/* Fill instance k of e's sweep into jt: parameter values and its name. */
static aisp_err job_entry_instance(const struct jload *ld, const struct jentry *e,
				   size_t k, struct job_target *jt)
{
	char name[2 * AISP_NAME_MAX], num[JOB_NUM_MAX], path[JOB_PATH_MAX];
	size_t o, left = k;
	char sep = '[';
	aisp_error verr;

	*jt = e->proto;
	jt->params = e->p;
	jt->set_mask = 0;
	for (size_t p = 0; p < e->t->card->n_params; p++)
		if (e->set[p] || e->sweep[p])
			jt->set_mask |= 1ull << p;
	for (size_t p = e->t->card->n_params; p-- > 0;) {
		if (!e->sweep[p])
			continue;
		jt->params.v[p] = strtod(e->sweep[p]->kid[left % e->sweep[p]->n]->text, NULL);
		left /= e->sweep[p]->n;
	}
	o = (size_t)snprintf(name, sizeof(name), "%s", e->t->card->name);
	for (size_t p = 0; p < e->t->card->n_params && o < sizeof(name); p++) {
		if (!e->sweep[p])
			continue;
		job_fmt_num(jt->params.v[p], num);
		o += (size_t)snprintf(name + o, sizeof(name) - o, "%c%s=%s", sep,
				      e->t->card->params[p].name, num);
		sep = ',';
	}
	if (e->sweep_node && o < sizeof(name))
		o += (size_t)snprintf(name + o, sizeof(name) - o, "]");
	jpath(path, "%s.sweep", e->path);
	if (o >= sizeof(jt->instance))
		return jfail(ld, e->sweep_node, path, "instance name '%.60s...' is too long "
			     "(at most %d characters)", name, AISP_NAME_MAX - 1);
	memcpy(jt->instance, name, o + 1);
	if (aisp_params_validate(e->t, &jt->params, &verr))
		return jfail(ld, e->node, e->path, "%s", verr.msg);
	return AISP_OK;
}

/* Smallest power of two >= n (n >= 1): the capacity of an array of n. */
static size_t job_cap(size_t n)
{
	size_t c = 1;

	while (c < n)
		c *= 2;
	return c;
}

/* Room for want instances in job->targets (grown to a power of two, so
 * appending one at a time costs amortized O(1)). */
static aisp_err job_reserve(struct job *job, size_t want, aisp_error *err)
{
	struct job_target *grown;

	if (want <= (job->n_targets ? job_cap(job->n_targets) : 0))
		return AISP_OK;
	grown = realloc(job->targets, job_cap(want) * sizeof(*grown));
	if (!grown)
		return aisp_fail(err, AISP_ENOMEM, "job: out of memory");
	job->targets = grown;
	return AISP_OK;
}

/* Append every instance of entry e to job->targets. */
static aisp_err job_entry_expand(struct jload *ld, struct job *job,
				 const struct jentry *e)
{
	double count = job_entry_count(e);
	size_t total;
	struct jsrc *src;
	char path[JOB_PATH_MAX];
	aisp_err rc;

	jpath(path, "%s.sweep", e->path);
	if (count > JOB_MAX_INSTANCES)
		return jfail(ld, e->sweep_node, path, "sweep gives %.0f instances (at most %d)",
			     count, JOB_MAX_INSTANCES);
	if ((double)job->n_targets + count > JOB_MAX_INSTANCES)
		return jfail(ld, e->node, e->path, "job has more than %d target instances",
			     JOB_MAX_INSTANCES);
	total = job->n_targets + (size_t)count;
	if ((rc = job_reserve(job, total, ld->err)))
		return rc;
	if (total > (job->n_targets ? job_cap(job->n_targets) : 0)) {
		src = realloc(ld->src, job_cap(total) * sizeof(*src));
		if (!src)
			return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
		ld->src = src;
	}
	for (size_t k = 0; k < (size_t)count; k++) {
		if ((rc = job_entry_instance(ld, e, k, &job->targets[job->n_targets])))
			return rc;
		ld->src[job->n_targets].at = e->target;
		ld->src[job->n_targets].entry = e->index;
		job->n_targets++;
	}
	return AISP_OK;
}

struct job_inst {
	const char *name;
	size_t i;
};

/* qsort order of instances: by name, then by position. */
static int job_inst_cmp(const void *a, const void *b)
{
	const struct job_inst *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Fail when two instances of the job have the same name. */
static aisp_err job_check_distinct(const struct jload *ld, const struct job *job)
{
	struct job_inst *ix = malloc((job->n_targets + 1) * sizeof(*ix));
	aisp_err rc = AISP_OK;

	if (!ix)
		return aisp_fail(ld->err, AISP_ENOMEM, "%s: out of memory", ld->file);
	for (size_t i = 0; i < job->n_targets; i++) {
		ix[i].name = job->targets[i].instance;
		ix[i].i = i;
	}
	qsort(ix, job->n_targets, sizeof(*ix), job_inst_cmp);
	for (size_t i = 1; i < job->n_targets && !rc; i++) {
		const struct jsrc *at = &ld->src[ix[i].i];
		char path[JOB_PATH_MAX];

		if (strcmp(ix[i - 1].name, ix[i].name))
			continue;
		jpath(path, "targets[%zu].target", at->entry);
		rc = jfail(ld, at->at, path, "instance '%s' is listed twice (first at "
			   "line %d; use sweep for several shapes)", ix[i].name,
			   job->targets[ix[i - 1].i].line);
	}
	free(ix);
	return rc;
}

/* "targets: [...]": every entry, expanded. */
static aisp_err job_targets(struct jload *ld, struct job *job,
			    const struct ynode *s)
{
	struct jentry e;
	aisp_err rc;

	if ((rc = job_want(ld, s, "targets", YN_SEQ)))
		return rc;
	if (s->n == 0)
		return jfail(ld, s, "targets", "empty list (a job needs at least one target)");
	for (size_t i = 0; i < s->n; i++)
		if ((rc = job_entry_parse(ld, job, s->kid[i], i, &e)) ||
		    (rc = job_entry_expand(ld, job, &e)))
			return rc;
	return job_check_distinct(ld, job);
}

enum jkind { JF_NAME, JF_INT, JF_REAL, JF_MODE, JF_SEED, JF_TARGETS };

/* A top-level key: its kind, range and where it goes in struct job. */
struct jfield {
	const char *key;
	enum jkind kind;
	double min, max;
	size_t off;
};

static const struct jfield job_fields[] = {
	{"name", JF_NAME, 0, 0, offsetof(struct job, name)},
	{"iterations", JF_INT, 1, 1e6, offsetof(struct job, iterations)},
	{"warmup", JF_INT, 0, 1e6, offsetof(struct job, warmup)},
	{"warmup_ms", JF_REAL, 0, 600000, offsetof(struct job, warmup_ms)},
	{"max_iterations", JF_INT, 1, 1e7, offsetof(struct job, max_iterations)},
	{"time_budget_s", JF_REAL, 0, 604800, offsetof(struct job, time_budget_s)},
	{"ci_target", JF_REAL, 0, 1, offsetof(struct job, ci_target)},
	{"min_sample_ms", JF_REAL, 0, 10000, offsetof(struct job, min_sample_ms)},
	{"timeout_s", JF_REAL, 0.001, 604800, offsetof(struct job, timeout_s)},
	{"mode", JF_MODE, 0, 0, offsetof(struct job, mode)},
	{"seed", JF_SEED, 0, 0, offsetof(struct job, seed)},
	{"targets", JF_TARGETS, 0, 0, 0},
};
#define JOB_N_FIELDS (sizeof(job_fields) / sizeof(job_fields[0]))

/* Store the value y of top-level field f into job (targets are done later). */
static aisp_err job_field(const struct jload *ld, struct job *job,
			  const struct jfield *f, const struct ynode *y)
{
	char *dst = (char *)job + f->off, got[64];
	double v;
	aisp_err rc;

	switch (f->kind) {
	case JF_NAME:
		return job_get_name(ld, y, f->key, dst);
	case JF_INT:
		if (!(rc = job_get_number(ld, y, f->key, 1, f->min, f->max, &v)))
			*(int *)(void *)dst = (int)v;
		return rc;
	case JF_REAL:
		return job_get_number(ld, y, f->key, 0, f->min, f->max, (double *)(void *)dst);
	case JF_SEED:
		return job_get_seed(ld, y, f->key, &job->seed);
	case JF_MODE:
		if (y->kind == YN_SCALAR && !strcmp(y->text, "every"))
			job->mode = JOB_MODE_EVERY;
		else if (y->kind == YN_SCALAR && !strcmp(y->text, "spread"))
			job->mode = JOB_MODE_SPREAD;
		else
			return jfail(ld, y, f->key, "expected every or spread, got %s",
				     ynode_describe(y, got, sizeof(got)));
		return AISP_OK;
	case JF_TARGETS:
		return AISP_OK;
	}
	return AISP_EINTERNAL;
}

/* The field named by key k, or an "unknown key" failure. */
static aisp_err job_field_find(const struct jload *ld, const struct ynode *k,
			       const struct jfield **out)
{
	const char *names[JOB_N_FIELDS];

	for (size_t i = 0; i < JOB_N_FIELDS; i++) {
		names[i] = job_fields[i].key;
		if (!strcmp(k->text, names[i])) {
			*out = &job_fields[i];
			return AISP_OK;
		}
	}
	return job_unknown(ld, k, k->text, "key", NULL, names, JOB_N_FIELDS);
}

/* Fill job from the document root: settings first, then the targets. */
static aisp_err job_from_tree(struct jload *ld, struct job *job,
			      const struct ynode *root)
{
	const struct ynode *targets = NULL, *max_it = NULL;
	const struct jfield *f = NULL;
	aisp_err rc;

	if ((rc = job_want(ld, root, "(top)", YN_MAP)))
		return rc;
	for (size_t i = 0; i < root->n; i += 2) {
		if ((rc = job_field_find(ld, root->kid[i], &f)) ||
		    (rc = job_field(ld, job, f, root->kid[i + 1])))
			return rc;
		if (f->kind == JF_TARGETS)
			targets = root->kid[i + 1];
		if (!strcmp(f->key, "max_iterations"))
			max_it = root->kid[i + 1];
	}
	if (max_it && job->max_iterations < job->iterations)
		return jfail(ld, max_it, "max_iterations", "%d is less than iterations (%d)",
			     job->max_iterations, job->iterations);
	if (job->max_iterations < job->iterations)
		job->max_iterations = job->iterations;
	if (!targets)
		return jfail(ld, root, "targets", "missing (a job needs at least one target)");
	return job_targets(ld, job, targets);
}

/* ---- public -------------------------------------------------------------- */

void job_init(struct job *job)
{
	memset(job, 0, sizeof(*job));
	text_copy(job->name, sizeof(job->name), "job");
	job->iterations = 20;
	job->warmup = 5;
	job->max_iterations = 1000;
	job->time_budget_s = 5.0;
	job->ci_target = 0.01;
	job->timeout_s = 300.0;
	job->mode = JOB_MODE_EVERY;
	job->seed = 42;
}

void job_free(struct job *job)
{
	free(job->targets);
	job->targets = NULL;
	job->n_targets = 0;
}

const char *job_mode_name(enum job_mode m)
{
	return m == JOB_MODE_SPREAD ? "spread" : "every";
}

aisp_err job_load_buffer(const char *text, size_t len, const char *name,
			 struct job *job, aisp_error *err)
{
	struct jload ld = {.file = name, .text = text, .len = len, .err = err};
	aisp_err rc;

	job_init(job);
	if (len > JOB_MAX_FILE)
		rc = jfail_at(&ld, 1, 1, "(top)", "file is larger than 16 MiB");
	else
		rc = jload_parse(&ld, text, len);
	if (!rc && !ld.root)
		rc = jfail_at(&ld, 1, 1, "(top)", "empty job file");
	if (!rc)
		rc = job_from_tree(&ld, job, ld.root);
	ynode_free(ld.root);
	free(ld.src);
	if (rc) {
		job_free(job);
		job_init(job);
		return rc;
	}
	text_copy(job->path, sizeof(job->path), name);
	return AISP_OK;
}

/* Read all of f into *buf (malloc'd, *len bytes), at most JOB_MAX_FILE + 1. */
static aisp_err job_read_file(FILE *f, const char *path, char **buf, size_t *len,
			      aisp_error *err)
{
	size_t cap = 0, n = 0, got;
	char *b = NULL, *grown;

	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			grown = realloc(b, cap);
			if (!grown) {
				free(b);
				return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
			}
			b = grown;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0 && n <= JOB_MAX_FILE);
	if (ferror(f)) {
		free(b);
		return aisp_fail(err, AISP_EIO, "%s: read failed: %s", path, strerror(errno));
	}
	*buf = b;
	*len = n;
	return AISP_OK;
}

/* Open path for reading without hanging on a FIFO that has no writer (the
 * read then sees end of file); a directory is refused. */
static FILE *job_open(const char *path, aisp_error *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		aisp_fail(err, AISP_EINPUT, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "rb"))) {
		aisp_fail(err, AISP_EINPUT, "%s: cannot read: %s", path,
			  S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

aisp_err job_load(const char *path, struct job *job, aisp_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	aisp_err rc;
	FILE *f;

	job_init(job);
	f = job_open(path, err);
	if (!f)
		return AISP_EINPUT;
	rc = job_read_file(f, path, &buf, &len, err);
	fclose(f);
	if (!rc)
		rc = job_load_buffer(buf, len, path, job, err);
	free(buf);
	return rc;
}

aisp_err job_add_target(struct job *job, const struct aisp_target *t,
			aisp_error *err)
{
	struct job_target *jt;

	if (job->n_targets >= JOB_MAX_INSTANCES)
		return aisp_fail(err, AISP_EINPUT, "%s: more than %d target instances",
				 t->card->name, JOB_MAX_INSTANCES);
	if (!text_is_safe_name(t->card->name) || t->card->n_params > AISP_MAX_PARAMS)
		return aisp_fail(err, AISP_EINTERNAL, "%s: bad target descriptor", t->card->name);
	for (size_t i = 0; i < job->n_targets; i++)
		if (!strcmp(job->targets[i].instance, t->card->name))
			return aisp_fail(err, AISP_EINPUT, "%s: target listed twice", t->card->name);
	if (job_reserve(job, job->n_targets + 1, err))
		return AISP_ENOMEM;
	jt = &job->targets[job->n_targets++];
	memset(jt, 0, sizeof(*jt));
	text_copy(jt->target, sizeof(jt->target), t->card->name);
	text_copy(jt->instance, sizeof(jt->instance), t->card->name);
	aisp_params_defaults(t, &jt->params);
	jt->timeout_s = job->timeout_s;
	jt->tol_lower = jt->tol_upper = NAN;
	return AISP_OK;
}

/* Write s as a YAML double-quoted string. */
static void job_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Mark in swept[] the parameters named in jt's instance "target[k=v,...]". */
static aisp_err job_swept_params(const struct job_target *jt,
				 const struct aisp_target *t, int *swept,
				 aisp_error *err)
{
	size_t tl = strlen(jt->target), il = strlen(jt->instance);
	char inner[AISP_NAME_MAX], *save = NULL, *kv;

	memset(swept, 0, AISP_MAX_PARAMS * sizeof(*swept));
	if (!strcmp(jt->instance, jt->target))
		return AISP_OK;
	if (strncmp(jt->instance, jt->target, tl) || jt->instance[tl] != '[' ||
	    jt->instance[il - 1] != ']')
		goto bad;
	memcpy(inner, jt->instance + tl + 1, il - tl - 2);
	inner[il - tl - 2] = '\0';
	for (kv = strtok_r(inner, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		int idx;

		if (!eq)
			goto bad;
		*eq = '\0';
		idx = aisp_param_index(t, kv);
		if (idx < 0 || idx >= AISP_MAX_PARAMS)
			goto bad;
		swept[idx] = 1;
	}
	return AISP_OK;
bad:
	return aisp_fail(err, AISP_EINTERNAL, "instance '%s' does not match target %s",
			 jt->instance, jt->target);
}

/* Write "{name: value, ...}" of t's parameters where swept[i] == want. */
static void job_put_params(FILE *f, const struct aisp_target *t,
			   const struct aisp_params *p, const int *swept, int want)
{
	char num[JOB_NUM_MAX];
	int first = 1;

	for (size_t i = 0; i < t->card->n_params; i++) {
		if (swept[i] != want)
			continue;
		job_fmt_num(p->v[i], num);
		fprintf(f, "%s%s: %s%s", first ? "{" : ", ", t->card->params[i].name,
			want ? "[" : "", num);
		fputs(want ? "]" : "", f);
		first = 0;
	}
	fputs(first ? "{}" : "}", f);
}

/* Write one instance as a targets entry (a swept instance as a one-value sweep). */
static aisp_err job_put_target(FILE *f, const struct job_target *jt,
			       aisp_error *err)
{
	const struct aisp_target *t = registry_find(jt->target, AISP_BACKEND_HOST);
	char num[JOB_NUM_MAX];
	int swept[AISP_MAX_PARAMS], n_swept = 0;
	aisp_err rc;

	if (!t || t->card->n_params > AISP_MAX_PARAMS || jt->params.n != t->card->n_params)
		return aisp_fail(err, AISP_EINTERNAL, "job: bad target instance '%s'",
				 jt->instance);
	if ((rc = job_swept_params(jt, t, swept, err)))
		return rc;
	for (size_t i = 0; i < t->card->n_params; i++)
		n_swept += swept[i];
	fputs("  - target: ", f);
	job_put_str(f, jt->target);
	if ((size_t)n_swept < t->card->n_params) {
		fputs("\n    params: ", f);
		job_put_params(f, t, &jt->params, swept, 0);
	}
	if (n_swept) {
		fputs("\n    sweep: ", f);
		job_put_params(f, t, &jt->params, swept, 1);
	}
	for (size_t i = 0; i < jt->n_variants; i++) {
		fputs(i ? ", " : "\n    variants: [", f);
		job_put_str(f, jt->variants[i]);
	}
	job_fmt_num(jt->timeout_s, num);
	fprintf(f, "%s\n    timeout_s: %s\n", jt->n_variants ? "]" : "", num);
	if (jt->alternatives)
		fputs("    alternatives: true\n", f);
	if (!isnan(jt->tol_lower) || !isnan(jt->tol_upper)) {
		fputs("    tolerance: {", f);
		if (!isnan(jt->tol_lower)) {
			job_fmt_num(jt->tol_lower, num);
			fprintf(f, "lower: %s%s", num, isnan(jt->tol_upper) ? "" : ", ");
		}
		if (!isnan(jt->tol_upper)) {
			job_fmt_num(jt->tol_upper, num);
			fprintf(f, "upper: %s", num);
		}
		fputs("}\n", f);
	}
	return AISP_OK;
}

aisp_err job_write_yaml(const struct job *job, FILE *f, aisp_error *err)
{
	char budget[JOB_NUM_MAX], ci[JOB_NUM_MAX], timeout[JOB_NUM_MAX], ms[JOB_NUM_MAX];
	char wms[JOB_NUM_MAX];
	aisp_err rc;

	job_fmt_num(job->min_sample_ms, ms);
	job_fmt_num(job->warmup_ms, wms);
	job_fmt_num(job->time_budget_s, budget);
	job_fmt_num(job->ci_target, ci);
	job_fmt_num(job->timeout_s, timeout);
	fputs("# Resolved job, written by aisp; aisp bench run --job reads it back.\n"
	      "name: ", f);
	job_put_str(f, job->name);
	fprintf(f, "\niterations: %d\nwarmup: %d\nwarmup_ms: %s\nmax_iterations: %d\n"
		"time_budget_s: %s\nci_target: %s\nmin_sample_ms: %s\ntimeout_s: %s\n"
		"mode: %s\nseed: %llu\ntargets:%s\n", job->iterations, job->warmup, wms,
		job->max_iterations, budget, ci, ms, timeout, job_mode_name(job->mode),
		job->seed, job->n_targets ? "" : " []");
	for (size_t i = 0; i < job->n_targets; i++)
		if ((rc = job_put_target(f, &job->targets[i], err)))
			return rc;
	if (fflush(f) || ferror(f))
		return aisp_fail(err, AISP_EIO, "job: write failed: %s", strerror(errno));
	return AISP_OK;
}
