/*
 * report_sample: synthetic report models (see report_sample.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_sample.h"

/* Names that stress shaping, ellipsis and formula injection. */
static const char *const awkward[] = {
	"=HYPERLINK(\"http://example.com\",\"click\")",
	"+91 98450 12345",
	"\xe0\xa4\xb9\xe0\xa4\xb2\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae "
	    "\xe0\xa4\xad\xe0\xa5\x81\xe0\xa4\x9c\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe",      /* Devanagari */
	"\xe0\xae\x9a\xe0\xae\xb0\xe0\xae\xb5\xe0\xae\xa3\xe0\xae\xa9\xe0\xaf\x8d "
	    "\xe0\xae\xb8\xe0\xaf\x8d\xe0\xae\x9f\xe0\xaf\x8b\xe0\xae\xb0\xe0\xaf\x8d",      /* Tamil */
	"\xd8\xb3\xd9\x88\xd9\x82 \xd8\xa7\xd9\x84\xd8\xae\xd9\x8a\xd8\xb1",                /* Arabic */
	"Organic Cold-Pressed Virgin Coconut Oil, Family Pack with Free Steel Dispenser 5 L",
	"Caf\xc3\xa9 \"Quotes\" & Sons, <b>not bold</b>",
	"-5 Degrees Ice Cream",
	"@Home Essentials",
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static void
fill_row(struct report_row *row, size_t i, size_t n, const char *prefix, bool empty, unsigned windows)
{
	char name[128];
	/* Falling sales so the table is already in order; the odd cases below. */
	int64_t sales = (int64_t)(n - i) * 123457 + 99;

	if (i < sizeof awkward / sizeof awkward[0])
		snprintf(name, sizeof name, "%s", awkward[i]);
	else
		snprintf(name, sizeof name, "%s %03zu", prefix, i + 1);
	row->name = xstrdup(name);
	row->orders = empty ? 0 : (int64_t)(n - i) * 3 + 1;
	row->sales = empty ? 0 : sales;
	row->quantity = empty ? 0 : (int64_t)(n - i) * 4500 + (i % 3 == 0 ? 250 : 0);
	row->cost = empty ? 0 : sales * 7 / 10;
	row->b_orders = (int64_t)windows * (row->orders + (i % 2 ? 2 : -1));
	row->b_sales = (int64_t)windows * (sales + (i % 2 ? 5000 : -7000));
	row->b_quantity = (int64_t)windows * row->quantity;
	row->b_cost = row->b_sales * 6 / 10;
	if (row->b_orders < 0)
		row->b_orders = 0;
	if (i == 1) {           /* no baseline: "new" */
		row->b_orders = row->b_sales = row->b_quantity = row->b_cost = 0;
	}
	if (i == 2 && !empty) { /* nothing now, something before: 0 and a red signal */
		row->orders = row->sales = row->quantity = row->cost = 0;
	}
}

static void
fill_table(struct report *r, enum report_dim dim, size_t rows, size_t top, const char *prefix, bool empty)
{
	struct report_table *t = &r->tables[dim];
	size_t n = top && rows > top ? top : rows;

	t->dim = dim;
	t->present = true;
	t->top = top;
	t->total = rows;
	t->n = empty ? 0 : n;
	if (t->n == 0)
		return;
	if ((t->rows = calloc(t->n, sizeof *t->rows)) == NULL)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		fill_row(&t->rows[i], i, rows, prefix, false, r->base_windows);
		if (dim == REPORT_PRODUCTS) {
			char id[32];

			snprintf(id, sizeof id, "P%05zu", i + 1);
			t->rows[i].id = xstrdup(id);
		}
	}
}

/*
 * A Dropped list of total keys (weekly, monthly), of which the model keeps
 * the first REPORT_DROPPED_MAX, by baseline descending; the first name is
 * one too long for its line. An empty period has one too: the renderers
 * leave it out with the tables.
 */
static void
fill_dropped(struct report *r, enum report_dim dim, size_t total, const char *prefix)
{
	struct report_table *t = &r->tables[dim];
	char name[192];

	t->dropped_total = total;
	t->ndropped = total < REPORT_DROPPED_MAX ? total : REPORT_DROPPED_MAX;
	if ((t->dropped = calloc(t->ndropped, sizeof *t->dropped)) == NULL)
		abort();
	for (size_t i = 0; i < t->ndropped; i++) {
		struct report_row *row = &t->dropped[i];

		if (i == 0)
			snprintf(name, sizeof name, "%s gone, with a name far too long for any line of the page, "
			    "longer than its width can ever hold, in the list of what was dropped", prefix);
		else
			snprintf(name, sizeof name, "%s gone %02zu", prefix, i + 1);
		row->name = xstrdup(name);
		row->b_sales = (int64_t)r->base_windows * ((int64_t)(total - i) * 765432 + 1);
		row->b_cost = row->b_sales * 6 / 10;
		row->b_quantity = (int64_t)r->base_windows * 12000;
		row->b_orders = (int64_t)r->base_windows * 7;
	}
}

struct report *
report_sample(enum report_kind kind, const char *store, size_t rows, bool empty)
{
	struct report *r = calloc(1, sizeof *r);
	int32_t d = period_day_from_civil(2026, 11, 22);

	if (r == NULL)
		abort();
	r->kind = kind;
	r->period = period_containing(kind == REPORT_DAILY ? PERIOD_DAY : kind == REPORT_WEEKLY ?
	    PERIOD_WEEK : PERIOD_MONTH, d);
	period_format(&r->period, r->period_name);
	r->company = xstrdup("Sharma & Sons Retail \xe0\xa4\xaa\xe0\xa5\x8d\xe0\xa4\xb0\xe0\xa4\xbe. \xe0\xa4\xb2\xe0\xa4\xbf.");
	r->store = store ? xstrdup(store) : NULL;
	r->currency = xstrdup("\xe2\x82\xb9");
	r->grouping = REPORT_GROUPING_INDIAN;
	r->base_windows = kind == REPORT_DAILY ? 7 : 2;
	r->base.kind = r->period.kind;
	r->base.last = r->period.first - 1;
	if (kind == REPORT_DAILY) {
		r->base.first = r->period.first - 7;
	} else {
		struct period before = period_prev(&r->period);

		r->base.first = period_prev(&before).first;
	}
	fill_row(&r->total, 0, rows ? rows : 1, store ? store : "Company", empty, r->base_windows);
	free(r->total.name);
	r->total.name = xstrdup(store ? store : "All stores");
	r->total.sales = empty ? 0 : 987654321;   /* ₹98,76,543.21 */
	r->total.cost = empty ? 0 : 701234567;
	r->total.orders = empty ? 0 : 43210;
	r->total.quantity = empty ? 0 : 91234500;
	/* A baseline a little below today's, summed over its windows. */
	r->total.b_sales = (int64_t)r->base_windows * 950000000;
	r->total.b_cost = (int64_t)r->base_windows * 680000000;
	r->total.b_orders = (int64_t)r->base_windows * 42000;
	r->total.b_quantity = (int64_t)r->base_windows * 90000000;
	if (kind == REPORT_DAILY) {
		r->ntrend = 30;
		for (size_t k = 0; k < 30; k++) {
			r->trend[k].day = r->period.first - 29 + (int32_t)k;
			r->trend[k].sales = k == 10 ? 0 : 900000000 + (int64_t)((k * 7919) % 13) * 10000000;
		}
		r->trend[29].sales = r->total.sales;
		if (store == NULL)
			fill_table(r, REPORT_STORES, rows, 0, "Store", empty);
		fill_table(r, REPORT_CATEGORIES, rows < 12 ? rows : 12, 0, "Category", empty);
		fill_table(r, REPORT_BRANDS, rows, REPORT_TOP_BRANDS, "Brand", empty);
		fill_table(r, REPORT_PRODUCTS, rows * 3, REPORT_TOP_PRODUCTS, "Product", empty);
	} else {
		if (store == NULL) {
			fill_table(r, REPORT_STORES, rows, 0, "Store", empty);
			fill_dropped(r, REPORT_STORES, 2, "Store");
		}
		fill_table(r, REPORT_BRANDS, rows, REPORT_TOP_BRANDS, "Brand", empty);
		fill_table(r, REPORT_SUBCATEGORIES, rows, REPORT_TOP_SUBCATEGORIES, "Sub-category", empty);
		fill_table(r, REPORT_PRODUCTS, rows * 3, REPORT_TOP_PRODUCTS, "Product", empty);
		/* More than the list names ("and 2 more"); the sub-categories lost none. */
		fill_dropped(r, REPORT_BRANDS, REPORT_DROPPED_MAX + 2, "Brand");
		fill_dropped(r, REPORT_PRODUCTS, 3, "Product");
	}
	return r;
}
