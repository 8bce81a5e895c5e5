/*
 * check_xlsx: the workbook renderer on synthetic models (report_sample),
 * checked from the outside with openpyxl through tests/xlsx_read.py: the
 * sheets and their header rows, figures as real numbers equal to the model
 * (money in major units, growth as the model's rounded fraction), names as
 * string cells equal to the input (formula-like ones included), "new",
 * frozen headers, autofilters, conditional formats, the chart, the Dropped
 * lists under the weekly and monthly tables, and a file
 * openpyxl loads without a warning. The workbooks stay in
 * $SALESD_ARTIFACTS/xlsx for a person to open.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_sample.h"
#include "testutil.h"
#include "base/util.h"
#include "report/xlsx.h"

#define FORMULA "=HYPERLINK(\"http://example.com\",\"click\")"
#define DEVANAGARI "\xe0\xa4\xb9\xe0\xa4\xb2\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\xae " \
	"\xe0\xa4\xad\xe0\xa5\x81\xe0\xa4\x9c\xe0\xa4\xbf\xe0\xa4\xaf\xe0\xa4\xbe"
#define STORE "Koramangala 4th Block"
#define INDIAN_MONEY "[>=10000000]\"\xe2\x82\xb9\"##\\,##\\,##\\,##0.00;[>=100000]\"\xe2\x82\xb9\"##\\,##\\,##0.00;" \
	"\"\xe2\x82\xb9\"#,##0.00"

/* The interpreter for xlsx_read.py: Debian's first, where python3-openpyxl lives. */
static const char *
python(void)
{
	static const char *const cands[] = { "/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3" };

	for (size_t i = 0; i < UTIL_NELEM(cands); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

static char *
script(void)
{
	char *p;

	if (asprintf(&p, "%s/tests/xlsx_read.py", tu_source_dir()) < 0)
		abort();
	return p;
}

/* Run python3 with args (NULL-terminated; no shell) for at most 2 minutes; fills res. */
static void
run_python(const char *const *args, struct tu_result *res)
{
	char *v[8];
	size_t n = 0;

	ck_assert_msg(python() != NULL, "python3 is not installed");
	v[n++] = strdup(python());
	for (; args[n - 1] != NULL && n < UTIL_NELEM(v) - 1; n++)
		v[n] = strdup(args[n - 1]);
	v[n] = NULL;
	ck_assert_int_eq(tu_run(v, NULL, 120, res), 0);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/* $SALESD_ARTIFACTS/xlsx/NAME.xlsx, the directories made if need be; a temporary directory outside ctest. */
static char *
artifact(const char *name)
{
	const char *base = getenv("SALESD_ARTIFACTS");
	char *dir, *path;

	if (base == NULL || *base == '\0') {
		dir = tu_tmpdir();
	} else {
		ck_assert(mkdir(base, 0755) == 0 || errno == EEXIST);
		if (asprintf(&dir, "%s/xlsx", base) < 0)
			abort();
		ck_assert(mkdir(dir, 0755) == 0 || errno == EEXIST);
	}
	if (asprintf(&path, "%s/%s.xlsx", dir, name) < 0)
		abort();
	free(dir);
	return path;
}

/* Every cell of every sheet: no formula anywhere (no user data may become one). */
static void
assert_no_formula(json_t *doc)
{
	const char *sheet, *ref;
	json_t *ws, *c;

	json_object_foreach(json_object_get(doc, "ws"), sheet, ws)
		json_object_foreach(json_object_get(ws, "cells"), ref, c)
			ck_assert_msg(strcmp(json_string_value(json_object_get(c, "t")), "f") != 0,
			    "%s!%s is a formula", sheet, ref);
}

/* The scratch files are gone once the workbook is written. */
static void
assert_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0, "left in %s: %s",
		    path, e->d_name);
	closedir(d);
}

/*
 * Render r to NAME.xlsx, scratch files in a directory of its own, and read
 * it back: openpyxl must load it with no warning (printed or recorded), and
 * no cell may be a formula. Frees r; returns the dump (json_decref).
 */
static json_t *
render(const char *name, struct report *r)
{
	char *path = artifact(name), *py = script(), *scratch = tu_tmpdir(), *cause = NULL;
	struct tu_result res;
	json_error_t jerr;
	json_t *doc;
	const char *load[] = { "-W", "always", "-c", "import sys, openpyxl; openpyxl.load_workbook(sys.argv[1])",
	    path, NULL };
	const char *dump[] = { py, path, NULL };

	ck_assert_msg(xlsx_render(r, path, scratch, &cause) == 0, "%s", cause);
	report_free(r);
	assert_empty_dir(scratch);
	/* As a user's script would load it: any warning printed is a failure. */
	run_python(load, &res);
	ck_assert_msg(res.status == 0 && res.err[0] == '\0', "openpyxl on %s: %d %s", path, res.status, res.err);
	tu_result_done(&res);
	run_python(dump, &res);
	ck_assert_msg(res.status == 0 && res.err[0] == '\0', "xlsx_read.py %s: %d %s", path, res.status, res.err);
	doc = json_loads(res.out, 0, &jerr);
	ck_assert_msg(doc != NULL, "xlsx_read.py output: %s", jerr.text);
	ck_assert_msg(json_array_size(json_object_get(doc, "warnings")) == 0, "openpyxl warns: %s",
	    json_string_value(json_array_get(json_object_get(doc, "warnings"), 0)));
	assert_no_formula(doc);
	tu_result_done(&res);
	free(scratch);
	free(py);
	free(path);
	return doc;
}

static json_t *
sheet(json_t *doc, const char *name)
{
	json_t *ws = json_object_get(json_object_get(doc, "ws"), name);

	ck_assert_msg(ws != NULL, "no sheet %s", name);
	return ws;
}

/* A cell by column letter and 1-based row; NULL when blank. */
static json_t *
cell(json_t *doc, const char *name, char col, size_t row)
{
	char ref[16];

	snprintf(ref, sizeof ref, "%c%zu", col, row);
	return json_object_get(json_object_get(sheet(doc, name), "cells"), ref);
}

/* A string cell equal to want, byte for byte. */
static void
assert_str(json_t *doc, const char *name, char col, size_t row, const char *want)
{
	json_t *c = cell(doc, name, col, row);

	ck_assert_msg(c != NULL, "%s!%c%zu is blank, want \"%s\"", name, col, row, want);
	ck_assert_str_eq(json_string_value(json_object_get(c, "t")), "s");
	ck_assert_str_eq(json_string_value(json_object_get(c, "v")), want);
}

/* A number cell equal to want, exactly: both are the double nearest the decimal. */
static void
assert_num(json_t *doc, const char *name, char col, size_t row, double want)
{
	json_t *c = cell(doc, name, col, row);

	ck_assert_msg(c != NULL, "%s!%c%zu is blank, want %.17g", name, col, row, want);
	ck_assert_str_eq(json_string_value(json_object_get(c, "t")), "n");
	ck_assert_msg(json_number_value(json_object_get(c, "v")) == want, "%s!%c%zu: %.17g, want %.17g",
	    name, col, row, json_number_value(json_object_get(c, "v")), want);
}

static const char *
numfmt_of(json_t *doc, const char *name, char col, size_t row)
{
	json_t *c = cell(doc, name, col, row);

	ck_assert_msg(c != NULL, "%s!%c%zu is blank", name, col, row);
	return json_string_value(json_object_get(c, "f"));
}

/* The sheet names, in order, equal to want (NULL-terminated). */
static void
assert_sheets(json_t *doc, const char *const *want)
{
	json_t *names = json_object_get(doc, "sheets");
	size_t n = 0;

	for (; want[n] != NULL; n++)
		ck_assert_str_eq(json_string_value(json_array_get(names, n)), want[n]);
	ck_assert_uint_eq(json_array_size(names), n);
}

/* Row 1 of a sheet equal to want (NULL-terminated); nothing after it. */
static void
assert_header(json_t *doc, const char *name, const char *const *want)
{
	size_t n = 0;

	for (; want[n] != NULL; n++)
		assert_str(doc, name, (char)('A' + n), 1, want[n]);
	ck_assert_ptr_null(cell(doc, name, (char)('A' + n), 1));
}

/* A table sheet's header frozen and its autofilter over ref. */
static void
assert_filter(json_t *doc, const char *name, const char *filter)
{
	json_t *ws = sheet(doc, name);

	ck_assert_str_eq(json_string_value(json_object_get(ws, "freeze")), "A2");
	ck_assert_str_eq(json_string_value(json_object_get(ws, "filter")), filter);
}

/* A table sheet: header frozen, autofilter over ref, rows data rows and nothing under them. */
static void
assert_table(json_t *doc, const char *name, const char *filter, json_int_t rows)
{
	assert_filter(doc, name, filter);
	ck_assert_int_eq(json_integer_value(json_object_get(sheet(doc, name), "max_row")), rows + 1);
}

/* A table's Dropped list as the model has it, kept before render() frees the model. */
struct dropped {
	char *names[REPORT_DROPPED_MAX];
	int64_t base[REPORT_DROPPED_MAX];       /* the baseline average, minor units */
	size_t n;
};

static void
dropped_keep(const struct report *r, enum report_dim dim, struct dropped *d)
{
	const struct report_table *t = &r->tables[dim];

	d->n = t->ndropped;
	for (size_t k = 0; k < d->n; k++) {
		d->names[k] = strdup(t->dropped[k].name);
		d->base[k] = report_div_round(t->dropped[k].b_sales, r->base_windows);
	}
}

/*
 * Under a table of rows rows, a blank row, then its Dropped list with the
 * names in column col: title, a header row, each key with its baseline
 * average as money, then more (NULL: no such line), and nothing after it.
 * Frees d's names.
 */
static void
assert_dropped(json_t *doc, const char *name, char col, size_t rows, const char *title, struct dropped *d,
    const char *more)
{
	size_t row = rows + 3;

	for (char c = 'A'; c <= 'I'; c++)
		ck_assert_ptr_null(cell(doc, name, c, rows + 2));
	assert_str(doc, name, col, row++, title);
	assert_str(doc, name, col, row, "Name");
	assert_str(doc, name, (char)(col + 1), row++, "Baseline average");
	for (size_t k = 0; k < d->n; k++, row++) {
		assert_str(doc, name, col, row, d->names[k]);
		assert_num(doc, name, (char)(col + 1), row, (double)d->base[k] / 100);
		ck_assert_str_eq(numfmt_of(doc, name, (char)(col + 1), row), INDIAN_MONEY);
		free(d->names[k]);
	}
	if (more != NULL)
		assert_str(doc, name, col, row++, more);
	ck_assert_int_eq(json_integer_value(json_object_get(sheet(doc, name), "max_row")), row - 1);
}

/* A conditional format over range, green above 0 and red below. */
static void
assert_signal(json_t *doc, const char *name, const char *range)
{
	json_t *cf = json_object_get(sheet(doc, name), "cf"), *f;
	size_t i;

	json_array_foreach(cf, i, f)
		if (strcmp(json_string_value(json_object_get(f, "range")), range) == 0) {
			ck_assert_uint_eq(json_array_size(json_object_get(f, "rules")), 2);
			ck_assert_str_eq(json_string_value(json_array_get(json_array_get(json_object_get(f, "rules"),
			    0), 1)), "greaterThan");
			return;
		}
	ck_abort_msg("%s: no conditional format on %s", name, range);
}

/* The chart part exists and draws cells of the Summary, names as text. */
static void
assert_chart(json_t *doc, bool want)
{
	json_t *chart = json_object_get(json_object_get(doc, "charts"), "xl/charts/chart1.xml");
	json_t *refs = json_object_get(chart, "refs");
	json_t *parts = json_object_get(doc, "parts"), *p;
	bool found = false;
	size_t i;

	json_array_foreach(parts, i, p)
		found = found || strcmp(json_string_value(p), "xl/charts/chart1.xml") == 0;
	ck_assert(found == want);
	if (!want)
		return;
	ck_assert_uint_eq(json_array_size(refs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(chart, "cat")), "strRef");
	json_array_foreach(refs, i, p)
		ck_assert_msg(strncmp(json_string_value(p), "Summary!$", 9) == 0, "%s", json_string_value(p));
}

static double
growth(int64_t cur, int64_t num, int64_t den)
{
	int64_t tenths;

	ck_assert_int_eq(report_growth(cur, num, den, &tenths), REPORT_GROWTH_PCT);
	return (double)tenths / 1000;
}

static double
pct(int64_t num, int64_t den)
{
	int64_t tenths;

	ck_assert(report_pct(num, den, &tenths));
	return (double)tenths / 1000;
}

START_TEST(test_daily_company)
{
	static const char *const sheets[] = { "Summary", "Stores", "Categories", "Brands", "Products", NULL };
	static const char *const kpi[] = { "Name", "Orders", "Orders growth", "Sales", "Sales growth", "AOV",
	    "AOV growth", NULL };
	static const char *const products[] = { "Product", "Orders", "Quantity", "Sales", "Sales growth", NULL };
	struct report *r = report_sample(REPORT_DAILY, NULL, 200, false);
	struct report_row t = r->total, s0 = r->tables[REPORT_STORES].rows[0], p0 = r->tables[REPORT_PRODUCTS].rows[0];
	int64_t trend0 = r->trend[0].sales;
	char *names[9], date0[PERIOD_STRLEN + 9];
	json_t *doc;

	/* The model is freed by render(): keep what is compared. */
	for (size_t i = 0; i < UTIL_NELEM(names); i++)
		names[i] = strdup(r->tables[REPORT_STORES].rows[i].name);
	period_format_date(r->trend[0].day, date0);
	strcat(date0, "T00:00:00");
	doc = render("daily-company", r);
	assert_sheets(doc, sheets);
	assert_str(doc, "Summary", 'A', 1, "Daily sales report");
	assert_str(doc, "Summary", 'B', 3, "All stores");
	assert_str(doc, "Summary", 'B', 4, "2026-11-22");
	assert_str(doc, "Summary", 'A', 8, "Sales");
	assert_num(doc, "Summary", 'B', 8, 9876543.21);
	ck_assert_str_eq(numfmt_of(doc, "Summary", 'B', 8), INDIAN_MONEY);
	assert_num(doc, "Summary", 'D', 8, growth(t.sales, t.b_sales, 7));
	assert_num(doc, "Summary", 'B', 9, 43210);
	assert_num(doc, "Summary", 'C', 9, (double)report_div_round(t.b_orders, 7));
	assert_num(doc, "Summary", 'B', 10, (double)report_div_round(t.sales, t.orders) / 100);
	assert_signal(doc, "Summary", "D8:D10");
	/* The trend: real dates. */
	ck_assert_str_eq(json_string_value(json_object_get(cell(doc, "Summary", 'A', 14), "t")), "d");
	ck_assert_str_eq(json_string_value(json_object_get(cell(doc, "Summary", 'A', 14), "v")), date0);
	ck_assert_str_eq(numfmt_of(doc, "Summary", 'A', 14), "yyyy-mm-dd");
	assert_num(doc, "Summary", 'B', 14, (double)trend0 / 100);
	assert_chart(doc, true);
	/* Stores: the awkward names are strings equal to the input. */
	assert_header(doc, "Stores", kpi);
	assert_table(doc, "Stores", "A1:G201", 200);
	for (size_t i = 0; i < UTIL_NELEM(names); i++) {
		assert_str(doc, "Stores", 'A', i + 2, names[i]);
		free(names[i]);
	}
	assert_str(doc, "Stores", 'A', 2, FORMULA);
	assert_str(doc, "Stores", 'A', 3, "+91 98450 12345");
	assert_str(doc, "Stores", 'A', 4, DEVANAGARI);
	assert_str(doc, "Stores", 'A', 9, "-5 Degrees Ice Cream");
	assert_str(doc, "Stores", 'A', 10, "@Home Essentials");
	assert_num(doc, "Stores", 'B', 2, (double)s0.orders);
	assert_num(doc, "Stores", 'D', 2, (double)s0.sales / 100);
	assert_num(doc, "Stores", 'E', 2, growth(s0.sales, s0.b_sales, 7));
	assert_num(doc, "Stores", 'G', 2, growth(report_div_round(s0.sales, s0.orders), s0.b_sales, s0.b_orders));
	ck_assert_str_eq(numfmt_of(doc, "Stores", 'E', 2), "+0.0%;-0.0%;0.0%");
	/* No baseline: "new"; nothing now: -100% and no AOV. */
	assert_str(doc, "Stores", 'C', 3, "new");
	assert_str(doc, "Stores", 'E', 3, "new");
	assert_num(doc, "Stores", 'D', 4, 0);
	assert_num(doc, "Stores", 'E', 4, -1);
	ck_assert_ptr_null(cell(doc, "Stores", 'F', 4));
	assert_signal(doc, "Stores", "C2:C201");
	assert_signal(doc, "Stores", "E2:E201");
	assert_signal(doc, "Stores", "G2:G201");
	assert_table(doc, "Categories", "A1:G13", 12);
	assert_table(doc, "Brands", "A1:G51", 50);
	/* Products: the top 100 with their ids; quantities in units. */
	assert_header(doc, "Products", products);
	assert_table(doc, "Products", "A1:E101", 100);
	assert_str(doc, "Products", 'A', 2, FORMULA);
	assert_num(doc, "Products", 'C', 2, (double)p0.quantity / 1000);
	ck_assert_str_eq(numfmt_of(doc, "Products", 'C', 2),
	    "[>=10000000]##\\,##\\,##\\,##0.###;[>=100000]##\\,##\\,##0.###;#,##0.###");
	assert_signal(doc, "Products", "E2:E101");
	json_decref(doc);
}
END_TEST

START_TEST(test_daily_empty)
{
	static const char *const sheets[] = { "Summary", "Stores", "Categories", "Brands", "Products", NULL };
	json_t *doc = render("daily-empty", report_sample(REPORT_DAILY, NULL, 20, true));

	assert_sheets(doc, sheets);
	assert_str(doc, "Summary", 'A', 7, "No sales in 2026-11-22");
	ck_assert_int_eq(json_integer_value(json_object_get(sheet(doc, "Summary"), "max_row")), 7);
	assert_chart(doc, false);
	assert_table(doc, "Stores", "A1:G1", 0);
	assert_str(doc, "Stores", 'A', 1, "Name");
	assert_table(doc, "Categories", "A1:G1", 0);
	assert_table(doc, "Brands", "A1:G1", 0);
	assert_table(doc, "Products", "A1:E1", 0);
	assert_str(doc, "Products", 'A', 1, "Product");
	json_decref(doc);
}
END_TEST

/* Weekly and monthly Summary: sales, cost, profit against the mean of two periods, the margin in points. */
static void
assert_period_summary(json_t *doc, const struct report_row *t)
{
	static const char *const labels[] = { "Sales", "Cost", "Profit", "Margin" };
	int64_t m, bm;

	for (size_t i = 0; i < UTIL_NELEM(labels); i++)
		assert_str(doc, "Summary", 'A', 8 + i, labels[i]);
	assert_str(doc, "Summary", 'D', 7, "Change");
	assert_num(doc, "Summary", 'B', 8, (double)t->sales / 100);
	assert_num(doc, "Summary", 'C', 8, (double)report_div_round(t->b_sales, 2) / 100);
	assert_num(doc, "Summary", 'D', 8, growth(t->sales, t->b_sales, 2));
	assert_num(doc, "Summary", 'B', 10, (double)(t->sales - t->cost) / 100);
	assert_num(doc, "Summary", 'D', 10, growth(t->sales - t->cost, t->b_sales - t->b_cost, 2));
	ck_assert(report_pct(t->sales - t->cost, t->sales, &m) && report_pct(t->b_sales - t->b_cost, t->b_sales, &bm));
	assert_num(doc, "Summary", 'B', 11, (double)m / 1000);
	assert_num(doc, "Summary", 'D', 11, (double)(m - bm) / 10);
	ck_assert_str_eq(numfmt_of(doc, "Summary", 'D', 11), "+0.0\" pp\";-0.0\" pp\";0.0\" pp\"");
	assert_signal(doc, "Summary", "D8:D11");
}

START_TEST(test_weekly_store)
{
	static const char *const sheets[] = { "Summary", "Sub-categories", "Brands", "Products", NULL };
	static const char *const products[] = { "Product id", "Name", "Quantity", "Sales", "Change",
	    "Share of sales", "Cost", "Profit", "Margin", NULL };
	struct report *r = report_sample(REPORT_WEEKLY, STORE, 60, false);
	struct report_row t = r->total, p0 = r->tables[REPORT_PRODUCTS].rows[0];
	struct dropped gone_brands, gone_products;
	json_t *doc;

	dropped_keep(r, REPORT_BRANDS, &gone_brands);
	dropped_keep(r, REPORT_PRODUCTS, &gone_products);
	doc = render("weekly-store", r);
	assert_sheets(doc, sheets);
	assert_str(doc, "Summary", 'A', 1, "Weekly sales report");
	assert_str(doc, "Summary", 'B', 3, STORE);
	assert_str(doc, "Summary", 'B', 4, "2026-W47, 2026-11-16 to 2026-11-22");
	assert_period_summary(doc, &t);
	assert_str(doc, "Summary", 'A', 13, "Top brands by sales");
	assert_str(doc, "Summary", 'A', 15, FORMULA);
	assert_chart(doc, true);
	assert_header(doc, "Products", products);
	assert_filter(doc, "Products", "A1:I101");
	/* What was in the baseline's top and sold nothing: under the table, names in the name column. */
	assert_dropped(doc, "Products", 'B', 100, "Dropped: 3 of the baseline's top 100 products sold nothing in "
	    "2026-W47", &gone_products, NULL);
	assert_str(doc, "Products", 'B', 2, FORMULA);
	assert_num(doc, "Products", 'D', 2, (double)p0.sales / 100);
	/* Each row against its own baseline, the two weeks before (issue #16). */
	assert_num(doc, "Products", 'E', 2, growth(p0.sales, p0.b_sales, 2));
	assert_str(doc, "Products", 'E', 3, "new");
	assert_signal(doc, "Products", "E2:E101");
	assert_num(doc, "Products", 'F', 2, pct(p0.sales, t.sales));
	assert_num(doc, "Products", 'H', 2, (double)(p0.sales - p0.cost) / 100);
	assert_num(doc, "Products", 'I', 2, pct(p0.sales - p0.cost, p0.sales));
	ck_assert_ptr_null(cell(doc, "Products", 'I', 4));      /* no sales, no margin */
	/* Brands and sub-categories: the same columns without the id. */
	assert_header(doc, "Brands", products + 1);
	assert_filter(doc, "Brands", "A1:H51");
	ck_assert_uint_eq(gone_brands.n, REPORT_DROPPED_MAX);
	assert_dropped(doc, "Brands", 'A', 50, "Dropped: 12 of the baseline's top 50 brands sold nothing in 2026-W47",
	    &gone_brands, "and 2 more");
	assert_header(doc, "Sub-categories", products + 1);
	/* The sub-categories lost none: no list. */
	assert_table(doc, "Sub-categories", "A1:H51", 50);
	assert_str(doc, "Sub-categories", 'A', 4, DEVANAGARI);
	json_decref(doc);
}
END_TEST

START_TEST(test_weekly_company)
{
	static const char *const sheets[] = { "Summary", "Stores", "Sub-categories", "Brands", "Products", NULL };
	static const char *const stores[] = { "Name", "Orders", "Sales", "Sales growth", "Cost", "Profit",
	    "Margin", NULL };
	struct report *r = report_sample(REPORT_WEEKLY, NULL, 40, false);
	struct report_row t = r->total, s0 = r->tables[REPORT_STORES].rows[0];
	struct dropped gone;
	json_t *doc;

	dropped_keep(r, REPORT_STORES, &gone);
	doc = render("weekly-company", r);
	assert_sheets(doc, sheets);
	assert_str(doc, "Summary", 'B', 3, "All stores");
	assert_period_summary(doc, &t);
	assert_str(doc, "Summary", 'A', 13, "Top stores by sales");
	assert_chart(doc, true);
	assert_header(doc, "Stores", stores);
	assert_filter(doc, "Stores", "A1:G41");
	/* Every store is in the table: no cut, so no "top" in the sentence. */
	assert_dropped(doc, "Stores", 'A', 40, "Dropped: 2 of the baseline's stores sold nothing in 2026-W47", &gone,
	    NULL);
	assert_num(doc, "Stores", 'B', 2, (double)s0.orders);
	assert_num(doc, "Stores", 'D', 2, growth(s0.sales, s0.b_sales, 2));
	assert_num(doc, "Stores", 'G', 2, pct(s0.sales - s0.cost, s0.sales));
	assert_str(doc, "Stores", 'D', 3, "new");
	assert_signal(doc, "Stores", "D2:D41");
	json_decref(doc);
}
END_TEST

START_TEST(test_monthly_store)
{
	static const char *const sheets[] = { "Summary", "Sub-categories", "Brands", "Products", NULL };
	struct report *r = report_sample(REPORT_MONTHLY, STORE, 150, false);
	struct report_row t = r->total;
	json_t *doc;

	doc = render("monthly-store", r);
	assert_sheets(doc, sheets);
	assert_str(doc, "Summary", 'A', 1, "Monthly sales report");
	assert_str(doc, "Summary", 'B', 4, "2026-11, 2026-11-01 to 2026-11-30");
	assert_period_summary(doc, &t);
	assert_table(doc, "Sub-categories", "A1:H51", 50);
	assert_filter(doc, "Products", "A1:I101");
	ck_assert_int_eq(json_integer_value(json_object_get(sheet(doc, "Products"), "max_row")), 101 + 6);
	assert_str(doc, "Products", 'B', 103, "Dropped: 3 of the baseline's top 100 products sold nothing in 2026-11");
	json_decref(doc);
}
END_TEST

/* An empty period: the table sheets keep their header only, without the Dropped lists the model has. */
START_TEST(test_monthly_empty)
{
	struct report *r = report_sample(REPORT_MONTHLY, NULL, 30, true);
	json_t *doc;

	ck_assert_uint_gt(r->tables[REPORT_BRANDS].ndropped, 0);
	doc = render("monthly-empty", r);
	assert_str(doc, "Summary", 'A', 7, "No sales in 2026-11");
	assert_table(doc, "Stores", "A1:G1", 0);
	assert_table(doc, "Brands", "A1:H1", 0);
	assert_table(doc, "Products", "A1:I1", 0);
	json_decref(doc);
}
END_TEST

/* Western grouping, and a currency that would break out of its quotes. */
START_TEST(test_western)
{
	struct report *r = report_sample(REPORT_DAILY, NULL, 5, false);
	json_t *doc;

	r->grouping = REPORT_GROUPING_WESTERN;
	free(r->currency);
	r->currency = strdup("US\"$");
	doc = render("daily-western", r);
	ck_assert_str_eq(numfmt_of(doc, "Summary", 'B', 8), "\"US$\"#,##0.00");
	ck_assert_str_eq(numfmt_of(doc, "Summary", 'B', 9), "#,##0");
	assert_num(doc, "Summary", 'B', 8, 9876543.21);
	json_decref(doc);
}
END_TEST

/* A path that cannot be written: the errno, the path in the cause, nothing left behind. */
START_TEST(test_bad_path)
{
	struct report *r = report_sample(REPORT_DAILY, NULL, 5, false);
	char *dir = tu_tmpdir(), *file = tu_write(dir, "file", "x"), *path, *cause = NULL;

	if (asprintf(&path, "%s/x.xlsx", file) < 0)
		abort();
	ck_assert_int_eq(xlsx_render(r, path, NULL, &cause), -ENOTDIR);
	ck_assert_msg(strstr(cause, path) != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	free(path);
	if (asprintf(&path, "%s/missing/x.xlsx", dir) < 0)
		abort();
	ck_assert_int_eq(xlsx_render(r, path, NULL, &cause), -ENOENT);
	ck_assert_msg(strstr(cause, path) != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	free(path);
	/* A missing scratch directory is an error (libxlsxwriter would use the current directory). */
	if (asprintf(&path, "%s/x.xlsx", dir) < 0)
		abort();
	ck_assert_int_eq(xlsx_render(r, path, "/nonexistent-salesd-scratch", &cause), -ENOENT);
	ck_assert_msg(strstr(cause, "/nonexistent-salesd-scratch") != NULL && strstr(cause, path) != NULL,
	    "%s", cause);
	ck_assert_int_eq(access(path, F_OK), -1);
	free(cause);
	free(path);
	free(file);
	free(dir);
	report_free(r);
}
END_TEST

/* A libxlsxwriter error half-way: where it happened, and no half-written file. */
START_TEST(test_write_error)
{
	struct report *r = report_sample(REPORT_DAILY, NULL, 5, false);
	char *dir = tu_tmpdir(), *path, *cause = NULL;
	struct report_row *row = &r->tables[REPORT_BRANDS].rows[1];

	/* Excel's limit is 32,767 characters a cell. */
	free(row->name);
	ck_assert_ptr_nonnull(row->name = malloc(40001));
	memset(row->name, 'x', 40000);
	row->name[40000] = '\0';
	if (asprintf(&path, "%s/x.xlsx", dir) < 0)
		abort();
	ck_assert_int_eq(xlsx_render(r, path, dir, &cause), -E2BIG);
	ck_assert_msg(strstr(cause, path) != NULL && strstr(cause, "Brands, row 3") != NULL, "%s", cause);
	ck_assert_int_eq(access(path, F_OK), -1);
	free(cause);
	free(path);
	free(dir);
	report_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("xlsx");
	TCase *daily = tcase_create("daily"), *period = tcase_create("period"), *fmt = tcase_create("formats");
	TCase *errs = tcase_create("errors");
	struct tu_result res = { 0 };
	char *argv[] = { python() ? strdup(python()) : NULL, script(), strdup("--probe"), NULL };
	SRunner *sr;
	int failed;

	/* Every check reads the workbook back with openpyxl: without it there is nothing to check. */
	if (argv[0] == NULL || tu_run(argv, NULL, 60, &res) != 0 || res.status != 0) {
		fprintf(stderr, "check_xlsx: skipped: python3 with openpyxl is needed (apt install python3-openpyxl)%s%s",
		    res.err && *res.err ? ": " : "\n", res.err ? res.err : "");
		return 77;
	}
	tu_result_done(&res);
	for (size_t i = 0; i < UTIL_NELEM(argv); i++)
		free(argv[i]);
	tcase_add_test(daily, test_daily_company);
	tcase_add_test(daily, test_daily_empty);
	tcase_add_test(period, test_weekly_store);
	tcase_add_test(period, test_weekly_company);
	tcase_add_test(period, test_monthly_store);
	tcase_add_test(period, test_monthly_empty);
	tcase_add_test(fmt, test_western);
	tcase_add_test(errs, test_bad_path);
	tcase_add_test(errs, test_write_error);
	suite_add_tcase(s, daily);
	suite_add_tcase(s, period);
	suite_add_tcase(s, fmt);
	suite_add_tcase(s, errs);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
