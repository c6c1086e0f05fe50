/* compare_unit.c - from judged items to GPUs and nodes: how many items were
 * slow, the worst one, the device facts that differ from the siblings',
 * and one line each that an operator can act on. */
#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *compare_verdict_name(enum verdict v)
{
	static const char *const names[VERDICT_COUNT] = {
		"pass", "improved", "skipped", "unjudged", "missing", "outlier", "regressed", "failed",
	};

	return (unsigned)v < VERDICT_COUNT ? names[v] : "?";
}

/* NVML clock-event (throttle) reasons that slow a GPU down, by name; idle,
 * applications-clocks and display-clock reasons are not faults. */
static const struct {
	unsigned long long bit;
	const char *name;
} compare_throttles[] = {
	{0x8, "HW slowdown"}, {0x40, "HW thermal"}, {0x80, "HW power brake"},
	{0x20, "SW thermal"}, {0x4, "SW power cap"}, {0x10, "sync boost"},
};
#define COMPARE_N_THROTTLES (sizeof(compare_throttles) / sizeof(compare_throttles[0]))

/* printf appended to buf[n] at *len (after sep when buf is not empty); cut at n. */
static void compare_cat(char *buf, size_t n, size_t *len, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void compare_cat(char *buf, size_t n, size_t *len, const char *sep, const char *fmt, ...)
{
	va_list ap;

	if (*len + 1 >= n)
		return;
	if (*len)
		*len += (size_t)snprintf(buf + *len, n - *len, "%s", sep);
	if (*len + 1 >= n) {
		*len = n - 1;
		return;
	}
	va_start(ap, fmt);
	*len += (size_t)vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (*len >= n)
		*len = n - 1;
}

void compare_throttle_names(unsigned long long mask, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < COMPARE_N_THROTTLES; i++)
		if (mask & compare_throttles[i].bit)
			compare_cat(buf, n, &len, ", ", "%s", compare_throttles[i].name);
}

/* Siblings' facts of one variant: medians and how many set each throttle. */
struct compare_sib {
	int n;                                /* siblings with facts */
	double sm, temp, power_frac, limit, gen, width, ecc_c, ecc_u, retired;
	int throttled[COMPARE_N_THROTTLES];
};

/* The facts compared with the siblings' medians. */
enum compare_fact {
	FACT_SM, FACT_TEMP, FACT_POWER_FRAC, FACT_LIMIT, FACT_GEN, FACT_WIDTH, FACT_ECC_C,
	FACT_ECC_U, FACT_RETIRED
};

/* Value of fact k in a. */
static double compare_fact_of(const struct rankfile_facts *a, enum compare_fact k)
{
	switch (k) {
	case FACT_SM: return a->sm_clock_mhz;
	case FACT_TEMP: return a->temperature_c;
	case FACT_POWER_FRAC: return a->power_limit_w > 0.0 ? a->power_w / a->power_limit_w : 0.0;
	case FACT_LIMIT: return a->power_limit_w;
	case FACT_GEN: return a->pcie_gen;
	case FACT_WIDTH: return a->pcie_width;
	case FACT_ECC_C: return (double)a->ecc_corrected;
	case FACT_ECC_U: return (double)a->ecc_uncorrected;
	case FACT_RETIRED: return (double)a->retired_pages;
	}
	return NAN;
}

/* Median of fact k after the item over the GPUs of v other than gi that
 * recorded facts; x is scratch of v->n_gpus. */
static double compare_sib_median(const struct fleet *f, const struct fleet_var *v, size_t gi,
				 double *x, enum compare_fact k)
{
	size_t m = 0;

	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++)
		if (j != gi && f->gpus[j].after.valid)
			x[m++] = compare_fact_of(&f->gpus[j].after, k);
	return stats_median_inplace(x, m);
}

/* The siblings of f->gpus[gi] in variant v; x is scratch of n_gpus. */
static void compare_siblings(const struct fleet *f, const struct fleet_var *v, size_t gi,
			     double *x, struct compare_sib *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t j = v->gpu0; j < v->gpu0 + v->n_gpus; j++) {
		const struct fleet_gpu *g = &f->gpus[j];

		if (j == gi || !g->after.valid)
			continue;
		s->n++;
		for (size_t i = 0; i < COMPARE_N_THROTTLES; i++)
			s->throttled[i] += ((g->after.throttle_reasons | g->before.throttle_reasons) &
					    compare_throttles[i].bit) != 0;
	}
	s->sm = compare_sib_median(f, v, gi, x, FACT_SM);
	s->temp = compare_sib_median(f, v, gi, x, FACT_TEMP);
	s->power_frac = compare_sib_median(f, v, gi, x, FACT_POWER_FRAC);
	s->limit = compare_sib_median(f, v, gi, x, FACT_LIMIT);
	s->gen = compare_sib_median(f, v, gi, x, FACT_GEN);
	s->width = compare_sib_median(f, v, gi, x, FACT_WIDTH);
	s->ecc_c = compare_sib_median(f, v, gi, x, FACT_ECC_C);
	s->ecc_u = compare_sib_median(f, v, gi, x, FACT_ECC_U);
	s->retired = compare_sib_median(f, v, gi, x, FACT_RETIRED);
	if (s->n == 0) /* counters: against zero; the rest against nothing */
		s->ecc_c = s->ecc_u = s->retired = 0.0;
}

/* Clock, throttle reasons, temperature, power (the facts of a running GPU). */
static void compare_facts_run(const struct rankfile_facts *a, const struct rankfile_facts *b,
			      const struct compare_sib *s, char *buf, size_t n, size_t *len)
{
	unsigned long long mask = a->throttle_reasons | b->throttle_reasons;

	if (a->sm_clock_mhz > 0 && s->n && a->sm_clock_mhz < 0.95 * s->sm) {
		compare_cat(buf, n, len, ", ", "SM clock %u MHz vs fleet %.0f", a->sm_clock_mhz, s->sm);
		if (a->max_sm_clock_mhz > 0)
			compare_cat(buf, n, len, "", " (max %u)", a->max_sm_clock_mhz);
	} else if (a->sm_clock_mhz > 0 && !s->n && a->sm_clock_mhz < 0.9 * a->max_sm_clock_mhz) {
		compare_cat(buf, n, len, ", ", "SM clock %u MHz of max %u", a->sm_clock_mhz,
			    a->max_sm_clock_mhz);
	}
	for (size_t i = 0; i < COMPARE_N_THROTTLES; i++)
		if ((mask & compare_throttles[i].bit) && 2 * s->throttled[i] < s->n + (s->n == 0))
			compare_cat(buf, n, len, ", ", "%s", compare_throttles[i].name);
	if (a->temperature_c > 0 && s->n && a->temperature_c >= s->temp + 10.0)
		compare_cat(buf, n, len, ", ", "temperature %u C vs fleet %.0f", a->temperature_c,
			    s->temp);
	if (a->power_limit_w > 0.0 && s->n && a->power_limit_w < 0.95 * s->limit)
		compare_cat(buf, n, len, ", ", "power limit %.0f W vs fleet %.0f", a->power_limit_w,
			    s->limit);
	else if (a->power_limit_w > 0.0 && s->n && a->power_w >= 0.98 * a->power_limit_w &&
		 s->power_frac < 0.95)
		compare_cat(buf, n, len, ", ", "power %.0f W at its limit %.0f W (fleet at %.0f%%)",
			    a->power_w, a->power_limit_w, 100.0 * s->power_frac);
}

/* PCIe link, ECC errors, retired or remapped pages (the facts of a part). */
static void compare_facts_part(const struct rankfile_facts *a, const struct rankfile_facts *b,
			       const struct compare_sib *s, char *buf, size_t n, size_t *len)
{
	if (a->pcie_gen > 0 && s->n && (a->pcie_gen < s->gen || a->pcie_width < s->width))
		compare_cat(buf, n, len, ", ", "PCIe gen%d x%d vs fleet gen%.0f x%.0f", a->pcie_gen,
			    a->pcie_width, s->gen, s->width);
	if (a->ecc_uncorrected > s->ecc_u || a->ecc_uncorrected > b->ecc_uncorrected)
		compare_cat(buf, n, len, ", ", "ECC uncorrected %llu (fleet %.0f, +%llu during the item)",
			    a->ecc_uncorrected, s->ecc_u,
			    a->ecc_uncorrected > b->ecc_uncorrected ? a->ecc_uncorrected - b->ecc_uncorrected : 0);
	if (a->ecc_corrected > s->ecc_c || a->ecc_corrected > b->ecc_corrected)
		compare_cat(buf, n, len, ", ", "ECC corrected %llu (fleet %.0f, +%llu during the item)",
			    a->ecc_corrected, s->ecc_c,
			    a->ecc_corrected > b->ecc_corrected ? a->ecc_corrected - b->ecc_corrected : 0);
	if (a->retired_pages > s->retired || a->retired_pages > b->retired_pages)
		compare_cat(buf, n, len, ", ", "retired/remapped pages %llu (fleet %.0f)",
			    a->retired_pages, s->retired);
}

void compare_facts(const struct fleet *f, const struct fleet_var *v, size_t gi, char *buf,
		   size_t n)
{
	const struct fleet_gpu *g = &f->gpus[gi];
	double *x = malloc((v->n_gpus + 1) * sizeof(*x));
	struct compare_sib s;
	size_t len = 0;

	buf[0] = '\0';
	if (!g->after.valid) {
		snprintf(buf, n, "device facts not recorded");
		free(x);
		return;
	}
	if (!x) {
		snprintf(buf, n, "device facts not compared (out of memory)");
		return;
	}
	compare_siblings(f, v, gi, x, &s);
	compare_facts_run(&g->after, g->before.valid ? &g->before : &g->after, &s, buf, n, &len);
	compare_facts_part(&g->after, g->before.valid ? &g->before : &g->after, &s, buf, n, &len);
	if (!len)
		snprintf(buf, n, "no device fact differs");
	free(x);
}

/* "T" and the scale for x (k, M, G, T, P). */
static const char *compare_prefix(double x, double *scale)
{
	static const char *const p[] = {"", "k", "M", "G", "T", "P"};
	size_t i = 0;

	*scale = 1.0;
	while (i + 1 < sizeof(p) / sizeof(p[0]) && fabs(x) >= 1000.0 * *scale) {
		*scale *= 1000.0;
		i++;
	}
	return p[i];
}

void compare_amounts(const struct fleet *f, const struct compare_item *it, char *buf, size_t n)
{
	const char *unit = it->unit == UINT32_MAX ? "" : fleet_str(f, it->unit), *pre;
	double ref = it->work * 1000.0 / it->reference, obs = it->work * 1000.0 / it->observed;
	double scale;

	if (!(it->work > 0.0) || !unit[0] || !isfinite(ref) || !isfinite(obs)) {
		snprintf(buf, n, "%.6g -> %.6g ms", it->reference, it->observed);
		return;
	}
	pre = compare_prefix(ref, &scale);
	if (!strcmp(unit, "bytes") || !strcmp(unit, "B") || !strcmp(unit, "flop"))
		snprintf(buf, n, "%.3g -> %.3g %s%s/s", ref / scale, obs / scale, pre,
			 strcmp(unit, "flop") ? "B" : "FLOP");
	else
		snprintf(buf, n, "%.3g%s -> %.3g%s %.40s/s", ref / scale, pre, obs / scale, pre, unit);
}

/* 1 when item a is worse than item b: severity, then relative excess. */
static int compare_worse(const struct compare_item *a, const struct compare_item *b)
{
	if (a->v != b->v)
		return a->v > b->v;
	return a->excess > b->excess;
}

/* Variant of f whose GPU rows hold row gi. */
static const struct fleet_var *compare_var_of(const struct fleet *f, size_t gi)
{
	size_t lo = 0, hi = f->n_vars;

	while (hi - lo > 1) { /* vars' rows are consecutive, in order */
		size_t mid = lo + (hi - lo) / 2;

		if (f->vars[mid].gpu0 <= gi)
			lo = mid;
		else
			hi = mid;
	}
	return &f->vars[lo];
}

/* What the worst item of a unit says: "+70.0% (4.2 -> 2.5 TB/s)", "device
 * time (CUPTI) +30.0% (...)" for a host-launch-bound variant, or the
 * failure, into buf[n]. */
static void compare_worst_text(const struct fleet *f, const struct compare_item *it, char *buf,
			       size_t n)
{
	char amounts[96];
	size_t len = 0;

	buf[0] = '\0';
	if (it->v == VERDICT_OUTLIER || it->v == VERDICT_REGRESSED || it->v == VERDICT_IMPROVED) {
		compare_amounts(f, it, amounts, sizeof(amounts));
		compare_cat(buf, n, &len, "", "%s %s%+.1f%%%s (%s)", it->label,
			    it->device ? "device time (CUPTI) " : "", 100.0 * it->excess,
			    it->siblings ? "" : " vs baseline", amounts);
	} else {
		compare_cat(buf, n, &len, "", "%s %s (%s)", it->label, compare_verdict_name(it->v),
			    it->reason);
	}
}

/* Facts and line of unit u named who; gpu: 1 for a GPU, 0 for a node whose
 * GPUs' units (with facts) are gpus[0..n_gpus). */
static void compare_describe(const struct fleet *f, const struct compare_result *r,
			     struct compare_unit *u, const char *who, int gpu)
{
	const struct compare_item *it = u->worst == FLEET_NONE ? NULL : &r->items[u->worst];
	char worst[400];
	size_t len = 0;

	u->facts[0] = '\0';
	if (u->drain && gpu)
		compare_facts(f, compare_var_of(f, it->gpu_idx), it->gpu_idx, u->facts,
			      sizeof(u->facts));
	for (size_t i = 0; u->drain && !gpu && i < r->n_gpus; i++)
		if (r->gpus[i].worst == u->worst)
			snprintf(u->facts, sizeof(u->facts), "%s", r->gpus[i].facts);
	if (!it || it->v == VERDICT_PASS) {
		snprintf(u->line, sizeof(u->line), "%s: %zu items, all pass", who, u->n_items);
		return;
	}
	compare_cat(u->line, sizeof(u->line), &len, "", "%s: %zu of %zu items slow", who, u->n_slow,
		    u->n_items);
	if (u->n_failed)
		compare_cat(u->line, sizeof(u->line), &len, "", ", %zu failed", u->n_failed);
	compare_worst_text(f, it, worst, sizeof(worst));
	compare_cat(u->line, sizeof(u->line), &len, "", "; worst %s", worst);
	if (!gpu)
		compare_cat(u->line, sizeof(u->line), &len, "", " on GPU %d (%s)",
			    f->gpus[it->gpu_idx].gpu_index, fleet_str(f, it->gpu));
	if (u->facts[0])
		compare_cat(u->line, sizeof(u->line), &len, "", "; %s", u->facts);
}

/* qsort_r order of GPU verdicts: by node name, then UUID. */
static int compare_cmp_unit(const void *a, const void *b, void *arg)
{
	const struct compare_unit *x = a, *y = b;
	const struct fleet *f = arg;
	int c = strcmp(fleet_str(f, x->node), fleet_str(f, y->node));

	return c ? c : strcmp(fleet_str(f, x->id), fleet_str(f, y->id));
}

/* qsort_r order of node indices, worst first: drain, severity, items slow
 * or failed, excess of the worst item, then name. */
static int compare_cmp_severity(const void *a, const void *b, void *arg)
{
	const struct compare_result *r = arg;
	const struct compare_unit *x = &r->nodes[*(const size_t *)a],
				  *y = &r->nodes[*(const size_t *)b];
	size_t bx = x->n_slow + x->n_failed, by = y->n_slow + y->n_failed;
	double ex = x->worst == FLEET_NONE ? 0.0 : r->items[x->worst].excess,
	       ey = y->worst == FLEET_NONE ? 0.0 : r->items[y->worst].excess;

	if (x->drain != y->drain)
		return y->drain - x->drain;
	if (x->v != y->v)
		return (int)y->v - (int)x->v;
	if (bx != by)
		return bx < by ? 1 : -1;
	if (ex != ey && !isnan(ex) && !isnan(ey))
		return ex < ey ? 1 : -1;
	return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/* Per GPU (string id): its worst item and counts. */
struct compare_acc {
	size_t worst, items, slow, failed;
};

/* One unit per GPU of a rank file with hardware key r->hk, from acc. */
static void compare_gpu_units(const struct fleet *f, struct compare_result *r,
			      const struct compare_acc *acc, char *seen)
{
	for (size_t i = 0; i < f->n_files; i++) {
		const struct fleet_file *ff = &f->files[i];
		const struct compare_acc *a = &acc[ff->gpu];
		struct compare_unit *u;

		if (ff->hk != r->hk || seen[ff->gpu])
			continue;
		seen[ff->gpu] = 1;
		u = &r->gpus[r->n_gpus++];
		memset(u, 0, sizeof(*u));
		u->id = ff->gpu;
		u->node = ff->node;
		u->rank = ff->rank;
		u->gpu_index = ff->gpu_index;
		u->worst = a->worst;
		u->v = a->worst == FLEET_NONE ? VERDICT_PASS : r->items[a->worst].v;
		u->drain = u->v >= VERDICT_OUTLIER;
		u->n_items = a->items;
		u->n_slow = a->slow;
		u->n_failed = a->failed;
	}
}

/* Nodes from the GPU units (sorted by node). */
static void compare_node_units(struct compare_result *r)
{
	for (size_t i = 0; i < r->n_gpus; i++) {
		const struct compare_unit *g = &r->gpus[i];
		struct compare_unit *u = r->n_nodes ? &r->nodes[r->n_nodes - 1] : NULL;

		if (!u || u->id != g->node) {
			u = &r->nodes[r->n_nodes++];
			memset(u, 0, sizeof(*u));
			u->id = u->node = g->node;
			u->rank = g->rank;
			u->gpu_index = g->gpu_index;
			u->worst = FLEET_NONE;
		}
		u->n_items += g->n_items;
		u->n_slow += g->n_slow;
		u->n_failed += g->n_failed;
		u->drain |= g->drain;
		if (g->worst != FLEET_NONE &&
		    (u->worst == FLEET_NONE || compare_worse(&r->items[g->worst], &r->items[u->worst]))) {
			u->v = g->v;
			u->worst = g->worst;
			u->rank = g->rank;
			u->gpu_index = g->gpu_index;
		}
	}
}

aisp_err compare_units(const struct fleet *f, struct compare_result *r, aisp_error *err)
{
	size_t n = f->s.n + 1;
	struct compare_acc *acc = malloc(n * sizeof(*acc));
	char *seen = calloc(n, 1);
	aisp_err rc = AISP_OK;

	r->gpus = calloc(f->n_files + 1, sizeof(*r->gpus));
	r->nodes = calloc(f->n_files + 1, sizeof(*r->nodes));
	r->order = calloc(f->n_files + 1, sizeof(*r->order));
	if (!acc || !seen || !r->gpus || !r->nodes || !r->order) {
		rc = aisp_fail(err, AISP_ENOMEM, "compare: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		acc[i] = (struct compare_acc){FLEET_NONE, 0, 0, 0};
	for (size_t i = 0; i < r->n_items; i++) {
		const struct compare_item *it = &r->items[i];
		struct compare_acc *a;

		if (it->gpu == UINT32_MAX)
			continue;
		a = &acc[it->gpu];
		a->items++;
		a->slow += it->v == VERDICT_OUTLIER || it->v == VERDICT_REGRESSED;
		a->failed += it->v == VERDICT_FAILED;
		if (it->v != VERDICT_PASS && (a->worst == FLEET_NONE || compare_worse(it, &r->items[a->worst])))
			a->worst = i;
	}
	compare_gpu_units(f, r, acc, seen);
	qsort_r(r->gpus, r->n_gpus, sizeof(*r->gpus), compare_cmp_unit, (void *)f);
	compare_node_units(r);
	for (size_t i = 0; i < r->n_gpus; i++)
		compare_describe(f, r, &r->gpus[i], fleet_str(f, r->gpus[i].id), 1);
	for (size_t i = 0; i < r->n_nodes; i++) {
		compare_describe(f, r, &r->nodes[i], fleet_str(f, r->nodes[i].id), 0);
		r->order[i] = i;
		r->n_drain += r->nodes[i].drain;
	}
	qsort_r(r->order, r->n_nodes, sizeof(*r->order), compare_cmp_severity, r);
out:
	free(acc);
	free(seen);
	return rc;
}
