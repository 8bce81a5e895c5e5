/*
 * numfmt: figures as people read them (see numfmt.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "report/numfmt.h"

/*
 * The digits of v (>= 0) grouped: Western in threes; Indian in threes for
 * the last group and twos above it (12,34,567). Returns the length written.
 */
static size_t
group(char *out, uint64_t v, enum report_grouping g)
{
	char digits[24], rev[40];
	int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	size_t k = 0;

	for (int i = nd - 1, pos = 0; i >= 0; i--, pos++) {
		bool sep = false;

		if (pos > 0) {
			if (g == REPORT_GROUPING_WESTERN)
				sep = pos % 3 == 0;
			else
				sep = pos == 3 || (pos > 3 && (pos - 3) % 2 == 0);
		}
		if (sep)
			rev[k++] = ',';
		rev[k++] = digits[i];
	}
	for (size_t i = 0; i < k; i++)
		out[i] = rev[k - 1 - i];
	out[k] = '\0';
	return k;
}

static uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

char *
numfmt_money(char *buf, size_t len, int64_t minor, enum report_grouping g, const char *currency)
{
	char whole[40];
	uint64_t m = magnitude(minor);

	group(whole, m / 100, g);
	snprintf(buf, len, "%s%s%s.%02u", minor < 0 ? "-" : "", currency ? currency : "", whole,
	    (unsigned)(m % 100));
	return buf;
}

char *
numfmt_count(char *buf, size_t len, int64_t n, enum report_grouping g)
{
	char whole[40];

	group(whole, magnitude(n), g);
	snprintf(buf, len, "%s%s", n < 0 ? "-" : "", whole);
	return buf;
}

char *
numfmt_quantity(char *buf, size_t len, int64_t thousandths, enum report_grouping g)
{
	char whole[40], frac[8];
	uint64_t m = magnitude(thousandths);
	unsigned f = (unsigned)(m % 1000);

	group(whole, m / 1000, g);
	if (f == 0) {
		frac[0] = '\0';
	} else {
		snprintf(frac, sizeof frac, ".%03u", f);
		for (size_t k = strlen(frac); frac[k - 1] == '0'; k--)
			frac[k - 1] = '\0';
	}
	snprintf(buf, len, "%s%s%s", thousandths < 0 ? "-" : "", whole, frac);
	return buf;
}

char *
numfmt_pct(char *buf, size_t len, int64_t tenths, int sign)
{
	uint64_t m = magnitude(tenths);
	const char *s = tenths < 0 ? "-" : sign && tenths > 0 ? "+" : "";

	snprintf(buf, len, "%s%llu.%u%%", s, (unsigned long long)(m / 10), (unsigned)(m % 10));
	return buf;
}

char *
numfmt_points(char *buf, size_t len, int64_t tenths)
{
	char pct[NUMFMT_LEN];
	size_t n = strlen(numfmt_pct(pct, sizeof pct, tenths, 1));

	snprintf(buf, len, "%.*s pp", (int)(n - 1), pct);
	return buf;
}

char *
numfmt_growth(char *buf, size_t len, enum report_growth g, int64_t tenths)
{
	switch (g) {
	case REPORT_GROWTH_NEW:
		snprintf(buf, len, "new");
		return buf;
	case REPORT_GROWTH_PCT:
		return numfmt_pct(buf, len, tenths, 1);
	case REPORT_GROWTH_NONE:
	default:
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
}

void
numfmt_headline(const struct report *r, struct numfmt_headline *f)
{
	const struct report_row *t = &r->total;
	int64_t tenths, m;
	enum report_growth g = report_growth(t->sales, t->b_sales, r->base_windows, &tenths);

	numfmt_money(f->sales, sizeof f->sales, t->sales, r->grouping, r->currency);
	numfmt_growth(f->growth, sizeof f->growth, g, tenths);
	if (g == REPORT_GROWTH_NONE)
		snprintf(f->growth, sizeof f->growth, "n/a");
	numfmt_money(f->profit, sizeof f->profit, t->sales - t->cost, r->grouping, r->currency);
	if (report_pct(t->sales - t->cost, t->sales, &m))
		numfmt_pct(f->margin, sizeof f->margin, m, 0);
	else
		snprintf(f->margin, sizeof f->margin, "n/a");
	f->margin_change[0] = '\0';
	if (report_margin_change(t, &m))
		numfmt_points(f->margin_change, sizeof f->margin_change, m);
	snprintf(f->base, sizeof f->base, "the average of the %u %s before", r->base_windows,
	    r->kind == REPORT_DAILY ? "days" : r->kind == REPORT_WEEKLY ? "weeks" : "months");
}

void
numfmt_extreme_store(const struct report *r, bool best, char *buf, size_t len)
{
	const struct report_table *t = &r->tables[REPORT_STORES];
	const struct report_row *pick = NULL;
	int64_t pick_tenths = 0;
	char g[NUMFMT_LEN];

	snprintf(buf, len, "n/a");
	if (!t->present)
		return;
	/* Rows come by sales, descending: on equal growth the bigger store wins "best", the smaller "worst". */
	for (size_t i = 0; i < t->n; i++) {
		int64_t tenths;

		if (report_growth(t->rows[i].sales, t->rows[i].b_sales, r->base_windows, &tenths) != REPORT_GROWTH_PCT)
			continue;
		if (pick == NULL || (best ? tenths > pick_tenths : tenths <= pick_tenths)) {
			pick = &t->rows[i];
			pick_tenths = tenths;
		}
	}
	if (pick != NULL) {
		numfmt_growth(g, sizeof g, REPORT_GROWTH_PCT, pick_tenths);
		/* A store name too long for buf ends on a whole character. */
		util_utf8_snprintf(buf, len, "%s (%s)", pick->name, g);
	}
}

char *
numfmt_dropped_title(char *buf, size_t len, const struct report *r, const struct report_table *t)
{
	char n[NUMFMT_LEN], top[NUMFMT_LEN], cut[NUMFMT_LEN + 8] = "";

	if (t->top != 0)
		snprintf(cut, sizeof cut, "top %s ", numfmt_count(top, sizeof top, (int64_t)t->top, r->grouping));
	snprintf(buf, len, "Dropped: %s of the baseline's %s%s sold nothing in %s",
	    numfmt_count(n, sizeof n, (int64_t)t->dropped_total, r->grouping), cut, report_dim_plural(t->dim),
	    r->period_name);
	return buf;
}

char *
numfmt_dropped_more(char *buf, size_t len, const struct report *r, const struct report_table *t)
{
	char n[NUMFMT_LEN];

	if (t->dropped_total <= t->ndropped) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	snprintf(buf, len, "and %s more", numfmt_count(n, sizeof n, (int64_t)(t->dropped_total - t->ndropped),
	    r->grouping));
	return buf;
}
