/*
 * expect.c - expectations files (schema v2): lossless read, validation that
 * names the file and the field, and the book harness's exact text format.
 */
#include "expect.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

/* A growing text buffer; on allocation failure it sets oom and stops. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

/* Append n bytes of s to b. */
static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append the string s to b. */
static void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Split the shortest round-trip %e form of v into sign, digits and the
 * decimal exponent; digits holds at most 17 digits. */
static void expect_shortest(double v, int *neg, char *digits, int *exp10)
{
	char tmp[40], *e;
	size_t k = 0;

	for (int prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	*neg = tmp[0] == '-';
	for (const char *s = tmp + *neg; *s && *s != 'e'; s++)
		if (*s != '.')
			digits[k++] = *s;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	e = strchr(tmp, 'e');
	*exp10 = e ? atoi(e + 1) : 0;
}

void expect_format_real(double v, char *buf, size_t n)
{
	char d[24], out[64], *p = out;
	int neg, x, decpt, nd;

	if (!isfinite(v)) {
		snprintf(buf, n, "null");
		return;
	}
	expect_shortest(v, &neg, d, &x);
	nd = (int)strlen(d);
	decpt = x + 1;
	if (neg)
		*p++ = '-';
	if (decpt <= -4 || decpt > 16) {         /* 1e-05, 1.5e+16 */
		*p++ = d[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		p += sprintf(p, "e%c%02d", x < 0 ? '-' : '+', abs(x));
	} else if (decpt <= 0) {                 /* 0.00123 */
		*p++ = '0';
		*p++ = '.';
		for (int i = 0; i < -decpt; i++)
			*p++ = '0';
		memcpy(p, d, (size_t)nd);
		p += nd;
	} else if (decpt >= nd) {                /* 1200.0 */
		memcpy(p, d, (size_t)nd);
		p += nd;
		for (int i = nd; i < decpt; i++)
			*p++ = '0';
		*p++ = '.';
		*p++ = '0';
	} else {                                 /* 12.5 */
		memcpy(p, d, (size_t)decpt);
		p += decpt;
		*p++ = '.';
		memcpy(p, d + decpt, (size_t)(nd - decpt));
		p += nd - decpt;
	}
	*p = '\0';
	snprintf(buf, n, "%s", out);
}

/* Next code point of UTF-8 s (valid, as jansson guarantees); advances *i. */
static unsigned long expect_utf8_next(const unsigned char *s, size_t *i)
{
	unsigned long c = s[*i];
	int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;

	if (more)
		c &= 0x3fu >> more;
	(*i)++;
	while (more-- > 0)
		c = (c << 6) | (s[(*i)++] & 0x3fu);
	return c;
}

/* Append s[0..n) as a JSON string the way Python's ensure_ascii does. */
static void expect_dump_string(struct sbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[32];
	size_t i = 0;

	sbuf_add(b, "\"", 1);
	while (i < n) {
		unsigned long c = expect_utf8_next(u, &i);

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sbuf_add(b, esc, 2);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
			   c == '\f') {
			const char *m = c == '\n' ? "\\n" : c == '\r' ? "\\r" :
					c == '\t' ? "\\t" : c == '\b' ? "\\b" : "\\f";
			sbuf_add(b, m, 2);
		} else if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			sbuf_add(b, esc, 1);
		} else if (c < 0x10000) {
			snprintf(esc, sizeof(esc), "\\u%04lx", c);
			sbuf_add(b, esc, 6);
		} else {
			c -= 0x10000;
			snprintf(esc, sizeof(esc), "\\u%04lx\\u%04lx",
				 0xd800 | (c >> 10), 0xdc00 | (c & 0x3ff));
			sbuf_add(b, esc, 12);
		}
	}
	sbuf_add(b, "\"", 1);
}

static void expect_dump_value(struct sbuf *b, const json_t *v, int depth);

/* Newline and two spaces per level. */
static void expect_indent(struct sbuf *b, int depth)
{
	sbuf_add(b, "\n", 1);
	for (int i = 0; i < depth; i++)
		sbuf_add(b, "  ", 2);
}

/* qsort order of object keys: by bytes, i.e. by code point in UTF-8. */
static int expect_cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append an object with sorted keys. */
static void expect_dump_object(struct sbuf *b, const json_t *o, int depth)
{
	size_t n = json_object_size(o), i = 0;
	const char **keys, *k;
	json_t *v;

	if (n == 0) {
		sbuf_puts(b, "{}");
		return;
	}
	keys = malloc(n * sizeof(*keys));
	if (!keys) {
		b->oom = 1;
		return;
	}
	json_object_foreach((json_t *)o, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), expect_cmp_key);
	sbuf_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		expect_indent(b, depth + 1);
		expect_dump_string(b, keys[i], strlen(keys[i]));
		sbuf_add(b, ": ", 2);
		expect_dump_value(b, json_object_get(o, keys[i]), depth + 1);
		if (i + 1 < n)
			sbuf_add(b, ",", 1);
	}
	expect_indent(b, depth);
	sbuf_add(b, "}", 1);
	free(keys);
}

/* Append an array, one element per line. */
static void expect_dump_array(struct sbuf *b, const json_t *a, int depth)
{
	size_t n = json_array_size(a);

	if (n == 0) {
		sbuf_puts(b, "[]");
		return;
	}
	sbuf_add(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		expect_indent(b, depth + 1);
		expect_dump_value(b, json_array_get(a, i), depth + 1);
		if (i + 1 < n)
			sbuf_add(b, ",", 1);
	}
	expect_indent(b, depth);
	sbuf_add(b, "]", 1);
}

/* Append any JSON value at nesting depth. */
static void expect_dump_value(struct sbuf *b, const json_t *v, int depth)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		expect_dump_object(b, v, depth);
		break;
	case JSON_ARRAY:
		expect_dump_array(b, v, depth);
		break;
	case JSON_STRING:
		expect_dump_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		sbuf_puts(b, num);
		break;
	case JSON_REAL:
		expect_format_real(json_real_value(v), num, sizeof(num));
		sbuf_puts(b, num);
		break;
	case JSON_TRUE:
		sbuf_puts(b, "true");
		break;
	case JSON_FALSE:
		sbuf_puts(b, "false");
		break;
	default:
		sbuf_puts(b, "null");
		break;
	}
}

char *expect_dump(const json_t *root)
{
	struct sbuf b = {0};

	expect_dump_value(&b, root, 0);
	sbuf_add(&b, "\n", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

aisp_err expect_save(const json_t *root, const char *path, aisp_error *err)
{
	char tmp[4096];
	char *text = expect_dump(root);
	aisp_err rc = AISP_OK;
	size_t len;
	int fd = -1;

	if (!text)
		return aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
	len = strlen(text);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: path too long", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = aisp_fail(err, AISP_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fd = -1;
		rc = aisp_fail(err, AISP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (rc != AISP_OK)
		unlink(tmp);
	free(text);
	return rc;
}

json_t *expect_new(const char *hardware_key)
{
	json_t *root = json_object();

	if (!root)
		return NULL;
	if (json_object_set_new(root, "schema_version",
				json_integer(EXPECT_SCHEMA_VERSION)) ||
	    json_object_set_new(root, "hardware_key", json_string(hardware_key)) ||
	    json_object_set_new(root, "examples", json_object())) {
		json_decref(root);
		return NULL;
	}
	return root;
}

double expect_num(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *expect_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int expect_tolerance(const json_t *example, double *lower, double *upper,
		     const char **source)
{
	json_t *t = json_object_get(example, "tolerance");
	const char *src = expect_str(t, "source");

	*lower = fabs(expect_num(t, "lower"));
	*upper = fabs(expect_num(t, "upper"));
	*source = src ? src : "hand";
	return json_is_object(t) && !(isnan(*lower) && isnan(*upper));
}

static const char *expect_type_name(const json_t *v)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
		[JSON_REAL] = "a real", [JSON_TRUE] = "true",
		[JSON_FALSE] = "false", [JSON_NULL] = "null",
	};

	return v ? names[json_typeof(v)] : "missing";
}

/* Field key of obj (at dotted path where) must have type want ("object",
 * "string", "number", "integer"); absent is an error only when required. */
static aisp_err expect_need(const json_t *obj, const char *key, const char *want,
			    int required, const char *name, const char *where,
			    aisp_error *err)
{
	json_t *v = json_object_get(obj, key);
	int ok;

	if (!v && !required)
		return AISP_OK;
	if (!strcmp(want, "object"))
		ok = json_is_object(v);
	else if (!strcmp(want, "string"))
		ok = json_is_string(v) && json_string_length(v) > 0;
	else if (!strcmp(want, "text")) /* a string, possibly empty */
		ok = json_is_string(v);
	else if (!strcmp(want, "integer"))
		ok = json_is_integer(v);
	else
		ok = json_is_number(v);
	if (ok)
		return AISP_OK;
	return aisp_fail(err, AISP_EINPUT, "%s: %s%s%s: %s, expected %s%s", name,
			 where, *where ? "." : "", key, expect_type_name(v),
			 !strcmp(want, "string") ? "a non-empty " :
			 strchr("aeiou", want[0]) ? "an " : "a ",
			 !strcmp(want, "text") ? "string" : want);
}

/* Metric values are scalars: numbers, strings, booleans or null. */
static aisp_err expect_check_scalars(const json_t *obj, const char *name,
				     const char *where, aisp_error *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (json_is_object(v) || json_is_array(v))
			return aisp_fail(err, AISP_EINPUT,
					 "%s: %s.%s: %s, expected a number, string, boolean or null",
					 name, where, k, expect_type_name(v));
	return AISP_OK;
}

/* tolerance.source, when present: one of the words gather writes. */
static aisp_err expect_check_source(const json_t *tol, const char *name, const char *where,
				    aisp_error *err)
{
	static const char *const ok[] = {"job", "noise", "default", "hand"};
	json_t *v = json_object_get(tol, "source");
	char shown[64];

	if (!v)
		return AISP_OK;
	for (size_t i = 0; json_is_string(v) && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(json_string_value(v), ok[i]))
			return AISP_OK;
	if (json_is_string(v))
		snprintf(shown, sizeof(shown), "'%.40s'", json_string_value(v));
	else
		snprintf(shown, sizeof(shown), "%s", expect_type_name(v));
	text_printable(shown, sizeof(shown), shown);
	return aisp_fail(err, AISP_EINPUT, "%s: %s.source: %s, expected job, noise, default or hand",
			 name, where, shown);
}

/* fleet.variants.<v>.judged_by, when present: median_ms, or device_ms
 * with a device_median_ms (a number, or null when no GPU had one). */
static aisp_err expect_check_judged_by(const json_t *v, const char *name, const char *where,
				       aisp_error *err)
{
	json_t *j = json_object_get(v, "judged_by");
	char shown[64];

	if (!j || (json_is_string(j) && !strcmp(json_string_value(j), "median_ms")))
		return AISP_OK;
	if (json_is_string(j) && !strcmp(json_string_value(j), "device_ms"))
		return json_object_get(v, "device_median_ms") ? AISP_OK :
		       aisp_fail(err, AISP_EINPUT, "%s: %s.device_median_ms: missing (judged_by is device_ms)",
				 name, where);
	if (json_is_string(j))
		snprintf(shown, sizeof(shown), "'%.40s'", json_string_value(j));
	else
		snprintf(shown, sizeof(shown), "%s", expect_type_name(j));
	text_printable(shown, sizeof(shown), shown);
	return aisp_fail(err, AISP_EINPUT, "%s: %s.judged_by: %s, expected median_ms or device_ms",
			 name, where, shown);
}

/* aisp's optional fleet and tolerance sections of one example. */
static aisp_err expect_check_extras(const json_t *ex, const char *name,
				    const char *where, aisp_error *err)
{
	static const char *const noise_keys[] = {
		"noise", "noise_within", "noise_run", "detectable", "noise_run_pairs",
		"device_gpus", "device_median_ms", "device_p10_ms", "device_p90_ms",
		"device_mad_ms", "device_min_ms", "device_max_ms", "device_noise_run",
		"device_noise_run_pairs", "device_noise", "device_detectable",
	};
	json_t *fleet = json_object_get(ex, "fleet"), *vars, *v;
	char at[1024];
	const char *k;
	aisp_err rc;

	if ((rc = expect_need(ex, "fleet", "object", 0, name, where, err)) ||
	    (rc = expect_need(ex, "tolerance", "object", 0, name, where, err)))
		return rc;
	snprintf(at, sizeof(at), "%s.tolerance", where);
	if ((rc = expect_need(json_object_get(ex, "tolerance"), "lower", "number",
			      0, name, at, err)) ||
	    (rc = expect_need(json_object_get(ex, "tolerance"), "upper", "number",
			      0, name, at, err)) ||
	    (rc = expect_check_source(json_object_get(ex, "tolerance"), name, at, err)))
		return rc;
	if (!fleet)
		return AISP_OK;
	snprintf(at, sizeof(at), "%s.fleet", where);
	if ((rc = expect_need(fleet, "variants", "object", 0, name, at, err)))
		return rc;
	vars = json_object_get(fleet, "variants");
	json_object_foreach(vars, k, v) {
		snprintf(at, sizeof(at), "%s.fleet.variants", where);
		if ((rc = expect_need(vars, k, "object", 1, name, at, err)))
			return rc;
		snprintf(at, sizeof(at), "%s.fleet.variants.%s", where, k);
		if (!json_is_null(json_object_get(v, "median_ms")) && /* null: all failed */
		    (rc = expect_need(v, "median_ms", "number", 1, name, at, err)))
			return rc;
		for (size_t i = 0; i < sizeof(noise_keys) / sizeof(noise_keys[0]); i++)
			if (!json_is_null(json_object_get(v, noise_keys[i])) &&
			    (rc = expect_need(v, noise_keys[i], "number", 0, name, at, err)))
				return rc;
		if ((rc = expect_check_judged_by(v, name, at, err)))
			return rc;
	}
	return AISP_OK;
}

/* One entry of "examples": example, type, metrics, metadata, provenance. */
static aisp_err expect_check_example(const json_t *ex, const char *key,
				     const char *name, aisp_error *err)
{
	char where[256], at[1024];
	aisp_err rc;

	snprintf(where, sizeof(where), "examples.%s", key);
	if (!json_is_object(ex))
		return aisp_fail(err, AISP_EINPUT, "%s: %s: %s, expected an object",
				 name, where, expect_type_name(ex));
	if ((rc = expect_need(ex, "example", "string", 1, name, where, err)) ||
	    (rc = expect_need(ex, "type", "string", 1, name, where, err)) ||
	    (rc = expect_need(ex, "metrics", "object", 1, name, where, err)) ||
	    (rc = expect_need(ex, "metadata", "object", 1, name, where, err)) ||
	    (rc = expect_need(ex, "provenance", "object", 1, name, where, err)))
		return rc;
	snprintf(at, sizeof(at), "%s.metrics", where);
	if ((rc = expect_need(json_object_get(ex, "metrics"), "baseline_time_ms",
			      "number", 1, name, at, err)) ||
	    (rc = expect_check_scalars(json_object_get(ex, "metrics"), name, at, err)))
		return rc;
	snprintf(at, sizeof(at), "%s.provenance", where);
	if ((rc = expect_need(json_object_get(ex, "provenance"), "git_commit",
			      "text", 0, name, at, err)) ||
	    (rc = expect_need(json_object_get(ex, "provenance"), "hardware_key",
			      "text", 0, name, at, err)))
		return rc;
	return expect_check_extras(ex, name, where, err);
}

aisp_err expect_validate(const json_t *root, const char *name, aisp_error *err)
{
	json_t *ex, *sv;
	const char *k;
	aisp_err rc;

	if (!json_is_object(root))
		return aisp_fail(err, AISP_EINPUT, "%s: top level: %s, expected an object",
				 name, expect_type_name(root));
	if ((rc = expect_need(root, "schema_version", "integer", 1, name, "", err)))
		return rc;
	sv = json_object_get(root, "schema_version");
	if (json_integer_value(sv) != EXPECT_SCHEMA_VERSION)
		return aisp_fail(err, AISP_EINPUT,
				 "%s: schema_version: %" JSON_INTEGER_FORMAT
				 ", expected %d (the book harness's schema v2)",
				 name, json_integer_value(sv), EXPECT_SCHEMA_VERSION);
	if ((rc = expect_need(root, "hardware_key", "string", 1, name, "", err)) ||
	    (rc = expect_need(root, "examples", "object", 1, name, "", err)))
		return rc;
	json_object_foreach(json_object_get(root, "examples"), k, ex)
		if ((rc = expect_check_example(ex, k, name, err)))
			return rc;
	return AISP_OK;
}

aisp_err expect_parse(const char *text, size_t len, const char *name,
		      json_t **out, aisp_error *err)
{
	json_error_t je;
	json_t *root;
	aisp_err rc;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES,
			  &je);
	if (!root)
		return aisp_fail(err, AISP_EINPUT, "%s:%d:%d: bad JSON: %s", name,
				 je.line, je.column, je.text);
	rc = expect_validate(root, name, err);
	if (rc != AISP_OK) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return AISP_OK;
}

aisp_err expect_load(const char *path, json_t **out, aisp_error *err)
{
	/* O_NONBLOCK: a FIFO with no writer must not hang the open */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *f = NULL;
	char *text = NULL;
	struct stat st;
	long len;
	aisp_err rc;

	*out = NULL;
	if (fd < 0)
		return aisp_fail(err, AISP_EINPUT, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return aisp_fail(err, AISP_EINPUT, "%s: cannot read: not a regular file", path);
	}
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return aisp_fail(err, AISP_ENOMEM, "%s: %s", path, strerror(errno));
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: cannot read: %s", path,
			       strerror(errno));
		goto out;
	}
	text = malloc((size_t)len + 1);
	if (!text) {
		rc = aisp_fail(err, AISP_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (fread(text, 1, (size_t)len, f) != (size_t)len) {
		rc = aisp_fail(err, AISP_EINPUT, "%s: short read", path);
		goto out;
	}
	rc = expect_parse(text, (size_t)len, path, out, err);
out:
	free(text);
	fclose(f);
	return rc;
}
