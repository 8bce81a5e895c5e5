/*
 * xlsx: the report model as an Excel workbook, for the people who sort,
 * filter and compute with the figures the PDF shows. A Summary sheet (the
 * headline figures against their baseline, the daily trend, a bar chart of
 * the biggest stores or brands), then one sheet per table of the report,
 * with the table's Dropped list (weekly, monthly) under it.
 *
 * Every figure is a real number with a number format: money in major units
 * with the currency and the report's digit grouping, quantities in units,
 * growth, shares and margins as fractions shown as percentages. Every name
 * is a string cell, whatever it looks like: names come from the POS, and a
 * product called "=HYPERLINK(...)" must stay text, never become a formula.
 *
 * libxlsxwriter runs in constant-memory mode: each sheet streams to a scratch
 * file in tmpdir, one row at a time, so a sheet's rows are written strictly
 * top to bottom and the sheets one after the other. What is not a cell
 * (column widths, frozen panes, the autofilter, conditional formats, charts)
 * may be added at any time. Chart caches are not written in this mode; Excel
 * and LibreOffice compute the chart from its cells when they open the file.
 *
 * libxlsxwriter errors are sticky in struct xlsx: the first one is kept with
 * the sheet and row it happened on, every write after it is skipped, and
 * xlsx_render turns it into a negative errno and a cause.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "report/numfmt.h"
#include "report/report.h"
#include "base/util.h"
#include "report/xlsx.h"

/* Excel counts days from 1899-12-30 (1900 date system): 1970-01-01 is day 25569. */
#define EXCEL_EPOCH_DAY 25569

/* Where the chart goes on the Summary: right of the headline figures. */
#define CHART_COL 5

/* Cell formats, made once per workbook. */
enum xf {
	XF_TITLE,       /* the report's title */
	XF_LABEL,       /* bold text: labels and block titles */
	XF_HEAD,        /* the header row of a table */
	XF_NEW,         /* "new" in a growth column, right-aligned like the numbers */
	XF_MONEY,       /* major units, currency, digit grouping, 2 decimals */
	XF_NUM,         /* whole numbers: orders, whole quantities */
	XF_FRAC,        /* quantities with up to 3 decimals */
	XF_PCT,         /* share and margin: 0.123 shown as 12.3% */
	XF_GROWTH,      /* growth: 0.123 shown as +12.3% */
	XF_PP,          /* a margin change in percentage points */
	XF_DATE,
	XF_GOOD,        /* conditional: growth above 0 */
	XF_BAD,         /* conditional: growth below 0 */
	XF_N,
};

/* Number formats that do not depend on the report. */
static const char *const fixed_numfmt[XF_N] = {
	[XF_PCT] = "0.0%",
	[XF_GROWTH] = "+0.0%;-0.0%;0.0%",
	[XF_PP] = "+0.0\" pp\";-0.0\" pp\";0.0\" pp\"",
	[XF_DATE] = "yyyy-mm-dd",
};

/* What a column of a table sheet shows; see put_cell(). */
enum col {
	COL_ID, COL_NAME, COL_ORDERS, COL_ORDERS_GROWTH, COL_QUANTITY, COL_SALES, COL_SALES_GROWTH,
	COL_SHARE, COL_AOV, COL_AOV_GROWTH, COL_COST, COL_PROFIT, COL_MARGIN,
};

struct column {
	enum col what;
	const char *title;
};

/* Daily stores, categories and brands: each figure against its 7-day baseline. */
static const struct column daily_cols[] = {
	{ COL_NAME, "Name" }, { COL_ORDERS, "Orders" }, { COL_ORDERS_GROWTH, "Orders growth" },
	{ COL_SALES, "Sales" }, { COL_SALES_GROWTH, "Sales growth" },
	{ COL_AOV, "AOV" }, { COL_AOV_GROWTH, "AOV growth" },
};

/* Keyed by name, as kpi_product_day is: no id column. */
static const struct column daily_product_cols[] = {
	{ COL_NAME, "Product" }, { COL_ORDERS, "Orders" },
	{ COL_QUANTITY, "Quantity" }, { COL_SALES, "Sales" }, { COL_SALES_GROWTH, "Sales growth" },
};

/*
 * Weekly and monthly products; brands and sub-categories use it without the
 * id. "Change" is the sales against the two periods before, as in the PDF.
 */
static const struct column period_cols[] = {
	{ COL_ID, "Product id" }, { COL_NAME, "Name" }, { COL_QUANTITY, "Quantity" },
	{ COL_SALES, "Sales" }, { COL_SALES_GROWTH, "Change" }, { COL_SHARE, "Share of sales" }, { COL_COST, "Cost" },
	{ COL_PROFIT, "Profit" }, { COL_MARGIN, "Margin" },
};

static const struct column period_store_cols[] = {
	{ COL_NAME, "Name" }, { COL_ORDERS, "Orders" }, { COL_SALES, "Sales" },
	{ COL_SALES_GROWTH, "Sales growth" }, { COL_COST, "Cost" }, { COL_PROFIT, "Profit" },
	{ COL_MARGIN, "Margin" },
};

/* One rendering. */
struct xlsx {
	const struct report *r;
	lxw_workbook *wb;
	lxw_format *f[XF_N];
	char *axis_numfmt;      /* the chart's value axis: money without decimals */
	const char *sheet;      /* the sheet being written, for a cause */
	lxw_error err;          /* the first error; every write after it is skipped */
	int err_errno;          /* errno when err came from the system */
	const char *err_sheet;  /* where err happened */
	lxw_row_t err_row;
};

/* Keep the first error and where it happened. */
static void
note(struct xlsx *x, lxw_error e, lxw_row_t row)
{
	if (e == LXW_NO_ERROR || x->err != LXW_NO_ERROR)
		return;
	x->err = e;
	x->err_sheet = x->sheet;
	x->err_row = row;
}

/* A text cell, never a formula (NULL s: no cell). */
static void
put_str(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const char *s, lxw_format *f)
{
	if (x->err == LXW_NO_ERROR && s != NULL)
		note(x, worksheet_write_string(ws, row, col, s, f), row);
}

static void
put_num(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, double v, lxw_format *f)
{
	if (x->err == LXW_NO_ERROR)
		note(x, worksheet_write_number(ws, row, col, v, f), row);
}

/*
 * Minor units as major units. Both are exact integers well below 2^53, so
 * the division gives the double nearest to the decimal amount: the value
 * Excel itself would store for it.
 */
static void
put_money(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t minor)
{
	put_num(x, ws, row, col, (double)minor / 100, x->f[XF_MONEY]);
}

/* Thousandths as units; whole quantities without a decimal point. */
static void
put_quantity(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t q)
{
	put_num(x, ws, row, col, (double)q / 1000, x->f[q % 1000 == 0 ? XF_NUM : XF_FRAC]);
}

/* num / den as a percentage; no cell when den is 0. */
static void
put_pct(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t num, int64_t den)
{
	int64_t tenths;

	if (report_pct(num, den, &tenths))
		put_num(x, ws, row, col, (double)tenths / 1000, x->f[XF_PCT]);
}

/*
 * cur against the baseline average num / den: the model's rounded growth as
 * a fraction (so the cell shows what the PDF prints), "new" without a
 * baseline, no cell when there is nothing either side.
 */
static void
put_growth(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int64_t cur, int64_t num,
    int64_t den)
{
	int64_t tenths;

	switch (report_growth(cur, num, den, &tenths)) {
	case REPORT_GROWTH_PCT:
		put_num(x, ws, row, col, (double)tenths / 1000, x->f[XF_GROWTH]);
		break;
	case REPORT_GROWTH_NEW:
		put_str(x, ws, row, col, "new", x->f[XF_NEW]);
		break;
	case REPORT_GROWTH_NONE:
		break;
	}
}

static void
set_width(struct xlsx *x, lxw_worksheet *ws, lxw_col_t col, double width)
{
	if (x->err == LXW_NO_ERROR)
		note(x, worksheet_set_column(ws, col, col, width, NULL), 0);
}

/* Green above 0, red below, over one column of rows first..last. */
static void
signal_colours(struct xlsx *x, lxw_worksheet *ws, lxw_row_t first, lxw_row_t last, lxw_col_t col)
{
	lxw_conditional_format cf = {
		.type = LXW_CONDITIONAL_TYPE_CELL,
		.criteria = LXW_CONDITIONAL_CRITERIA_GREATER_THAN,
		.value = 0,
		.format = x->f[XF_GOOD],
	};

	if (x->err != LXW_NO_ERROR || last < first)
		return;
	note(x, worksheet_conditional_format_range(ws, first, col, last, col, &cf), first);
	cf.criteria = LXW_CONDITIONAL_CRITERIA_LESS_THAN;
	cf.format = x->f[XF_BAD];
	note(x, worksheet_conditional_format_range(ws, first, col, last, col, &cf), first);
}

/* A new sheet; NULL after an error (then nothing is written to it). */
static lxw_worksheet *
add_sheet(struct xlsx *x, const char *name)
{
	lxw_worksheet *ws;

	if (x->err != LXW_NO_ERROR)
		return NULL;
	x->sheet = name;
	errno = 0;
	/* In constant-memory mode this fails when tmpdir takes no scratch file. */
	if ((ws = workbook_add_worksheet(x->wb, name)) == NULL) {
		note(x, LXW_ERROR_CREATING_TMPFILE, 0);
		x->err_errno = errno;
	}
	return ws;
}

/*
 * A number format with the report's digit grouping: prefix (a quoted
 * currency or ""), the integer part, then dec (".00", ".###" or "").
 */
static char *
grouped(const struct report *r, const char *prefix, const char *dec)
{
	if (r->grouping == REPORT_GROUPING_WESTERN)
		return util_printf("%s#,##0%s", prefix, dec);
	/*
	 * Excel only groups by thousands, and a format has at most two
	 * conditions. Those place the lakh and crore commas as literals, right
	 * up to 99,99,99,999; past a hundred crore the extra digits run
	 * together before the first comma. Negative numbers (a loss) fall to
	 * the last section: grouped by thousands, with their sign.
	 */
	return util_printf("[>=10000000]%1$s##\\,##\\,##\\,##0%2$s;[>=100000]%1$s##\\,##\\,##0%2$s;"
	    "%1$s#,##0%2$s", prefix, dec);
}

/* The currency as a quoted literal of a number format; a quote or backslash in it is dropped. */
static char *
currency_literal(const char *currency)
{
	size_t n = strlen(currency);
	char *s, *p;

	if (n == 0)
		return strdup("");
	if ((s = p = malloc(n + 3)) == NULL)
		return NULL;
	*p++ = '"';
	for (const char *c = currency; *c != '\0'; c++)
		if (*c != '"' && *c != '\\')
			*p++ = *c;
	*p++ = '"';
	*p = '\0';
	return s;
}

/* The workbook's formats and document properties. */
static void
workbook_setup(struct xlsx *x)
{
	const struct report *r = x->r;
	char *numfmt[XF_N] = { NULL }, *cur = currency_literal(r->currency), *title;
	lxw_doc_properties props = { .company = r->company };

	if (cur != NULL && (numfmt[XF_MONEY] = grouped(r, cur, ".00")) != NULL &&
	    strlen(numfmt[XF_MONEY]) >= LXW_FORMAT_FIELD_LEN) {
		/* libxlsxwriter cuts a format at 127 bytes: rather lose a long currency than the grouping. */
		cur[0] = '\0';
		free(numfmt[XF_MONEY]);
		numfmt[XF_MONEY] = grouped(r, cur, ".00");
	}
	x->axis_numfmt = cur != NULL ? grouped(r, cur, "") : NULL;
	numfmt[XF_NUM] = grouped(r, "", "");
	numfmt[XF_FRAC] = grouped(r, "", ".###");
	if (cur == NULL || numfmt[XF_MONEY] == NULL || numfmt[XF_NUM] == NULL || numfmt[XF_FRAC] == NULL ||
	    x->axis_numfmt == NULL)
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED, 0);
	for (size_t i = 0; i < XF_N && x->err == LXW_NO_ERROR; i++) {
		if ((x->f[i] = workbook_add_format(x->wb)) == NULL)
			note(x, LXW_ERROR_MEMORY_MALLOC_FAILED, 0);
		else if (numfmt[i] != NULL || fixed_numfmt[i] != NULL)
			format_set_num_format(x->f[i], numfmt[i] != NULL ? numfmt[i] : fixed_numfmt[i]);
	}
	for (size_t i = 0; i < XF_N; i++)
		free(numfmt[i]);
	free(cur);
	if (x->err != LXW_NO_ERROR)
		return;
	format_set_bold(x->f[XF_TITLE]);
	format_set_font_size(x->f[XF_TITLE], 14);
	format_set_bold(x->f[XF_LABEL]);
	format_set_bold(x->f[XF_HEAD]);
	format_set_text_wrap(x->f[XF_HEAD]);
	format_set_align(x->f[XF_HEAD], LXW_ALIGN_VERTICAL_TOP);
	format_set_bg_color(x->f[XF_HEAD], 0xDDEBF7);
	format_set_bottom(x->f[XF_HEAD], LXW_BORDER_THIN);
	format_set_align(x->f[XF_NEW], LXW_ALIGN_RIGHT);
	format_set_font_color(x->f[XF_GOOD], 0x006100);
	format_set_bg_color(x->f[XF_GOOD], 0xC6EFCE);
	format_set_font_color(x->f[XF_BAD], 0x9C0006);
	format_set_bg_color(x->f[XF_BAD], 0xFFC7CE);
	if ((title = util_printf("salesd %s report %s", report_kind_name(r->kind), r->period_name)) == NULL) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED, 0);
		return;
	}
	props.title = title;
	note(x, workbook_set_properties(x->wb, &props), 0);
	free(title);
}

/* A headline figure of the Summary: now, and the baseline average num / den. */
struct headline {
	const char *label;
	enum xf xf;             /* XF_MONEY or XF_NUM */
	int64_t cur, num, den;
};

static void
put_figure(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, enum xf xf, int64_t v)
{
	if (xf == XF_MONEY)
		put_money(x, ws, row, col, v);
	else
		put_num(x, ws, row, col, (double)v, x->f[xf]);
}

/* The header row of a block or table. */
static void
put_header(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, const char *const *titles, size_t n)
{
	for (size_t c = 0; c < n; c++)
		put_str(x, ws, row, (lxw_col_t)c, titles[c], x->f[XF_HEAD]);
}

/*
 * The headline figures from row on: daily sales, orders and AOV; weekly and
 * monthly sales, cost, profit and the margin. Returns the next free row.
 */
static lxw_row_t
summary_headlines(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row)
{
	const struct report_row *t = &x->r->total;
	const int64_t w = x->r->base_windows;
	const bool daily = x->r->kind == REPORT_DAILY;
	const struct headline daily_h[] = {
		{ "Sales", XF_MONEY, t->sales, t->b_sales, w },
		{ "Orders", XF_NUM, t->orders, t->b_orders, w },
		{ "Average order value", XF_MONEY, report_aov(t), t->b_sales, t->b_orders },
	}, period_h[] = {
		{ "Sales", XF_MONEY, t->sales, t->b_sales, w },
		{ "Cost", XF_MONEY, t->cost, t->b_cost, w },
		{ "Profit", XF_MONEY, t->sales - t->cost, t->b_sales - t->b_cost, w },
	};
	const char *const head[] = { "Figure", "Value", "Baseline average", daily ? "Growth" : "Change" };
	const struct headline *h = daily ? daily_h : period_h;
	const size_t n = daily ? UTIL_NELEM(daily_h) : UTIL_NELEM(period_h);
	const lxw_row_t first = row + 1;
	int64_t m;

	put_header(x, ws, row++, head, UTIL_NELEM(head));
	for (size_t i = 0; i < n; i++, row++) {
		put_str(x, ws, row, 0, h[i].label, x->f[XF_LABEL]);
		put_figure(x, ws, row, 1, h[i].xf, h[i].cur);
		/* The baseline average rounded to the figure's unit; none for an AOV without orders. */
		if (h[i].den != 0)
			put_figure(x, ws, row, 2, h[i].xf, report_div_round(h[i].num, h[i].den));
		put_growth(x, ws, row, 3, h[i].cur, h[i].num, h[i].den);
	}
	if (!daily) {
		put_str(x, ws, row, 0, "Margin", x->f[XF_LABEL]);
		put_pct(x, ws, row, 1, t->sales - t->cost, t->sales);
		put_pct(x, ws, row, 2, t->b_sales - t->b_cost, t->b_sales);
		/* A change of a percentage is in points: 31.2% after 30.0% is +1.2 pp, not +4%. */
		if (report_margin_change(t, &m))
			put_num(x, ws, row, 3, (double)m / 10, x->f[XF_PP]);
		row++;
	}
	signal_colours(x, ws, first, row - 1, 3);
	return row;
}

/* Daily: the company's sales of the last 30 days, one real date per row. */
static lxw_row_t
summary_trend(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row)
{
	static const char *const head[] = { "Date", "Sales" };
	const struct report *r = x->r;

	put_str(x, ws, row++, 0, "Sales by day, last 30 days", x->f[XF_LABEL]);
	put_header(x, ws, row++, head, UTIL_NELEM(head));
	for (size_t k = 0; k < r->ntrend; k++, row++) {
		put_num(x, ws, row, 0, (double)r->trend[k].day + EXCEL_EPOCH_DAY, x->f[XF_DATE]);
		put_money(x, ws, row, 1, r->trend[k].sales);
	}
	return row;
}

/*
 * The biggest stores (a store's report: brands) by sales as a block of cells
 * from row on, and a bar chart of them anchored at chart_row. A chart only
 * draws cells, so the block is its data.
 */
static void
summary_chart(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_row_t chart_row)
{
	static const char *const head[] = { "Name", "Sales" };
	const struct report_table *t = &x->r->tables[REPORT_STORES];
	const char *title;
	lxw_chart_options opt = { .x_scale = 1.5, .y_scale = 1 };
	lxw_chart_series *series;
	lxw_chart *chart;
	lxw_row_t first;
	size_t n;

	if (!t->present || t->n == 0)
		t = &x->r->tables[REPORT_BRANDS];
	n = t->n < REPORT_TOP_STORES_CHART ? t->n : REPORT_TOP_STORES_CHART;
	if (!t->present || n == 0 || x->err != LXW_NO_ERROR)
		return;
	/* A fixed title: chart titles starting with "=" are formulas in libxlsxwriter. */
	title = t->dim == REPORT_STORES ? "Top stores by sales" : "Top brands by sales";
	put_str(x, ws, row++, 0, title, x->f[XF_LABEL]);
	put_header(x, ws, row++, head, UTIL_NELEM(head));
	first = row;
	for (size_t k = 0; k < n; k++, row++) {
		put_str(x, ws, row, 0, t->rows[k].name, NULL);
		put_money(x, ws, row, 1, t->rows[k].sales);
	}
	if ((chart = workbook_add_chart(x->wb, LXW_CHART_BAR)) == NULL ||
	    (series = chart_add_series(chart, NULL, NULL)) == NULL) {
		note(x, LXW_ERROR_MEMORY_MALLOC_FAILED, chart_row);
		return;
	}
	chart_series_set_categories(series, x->sheet, first, 0, row - 1, 0);
	chart_series_set_values(series, x->sheet, first, 1, row - 1, 1);
	/*
	 * The categories are names. libxlsxwriter learns that from the cells,
	 * which constant-memory mode has flushed already, and would declare
	 * numbers (c:numRef); declare text (c:strRef), still without a cache.
	 */
	series->categories->has_string_cache = LXW_TRUE;
	chart_title_set_name(chart, title);
	chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
	/* A bar chart's categories run upwards; reversed, the biggest is on top as in the block. */
	chart_axis_set_reverse(chart->y_axis);
	chart_axis_set_num_format(chart->x_axis, x->axis_numfmt);
	/* About 20 pixels a bar on the 288-pixel default height, plus the title and axis. */
	if (n > 10)
		opt.y_scale = (double)(n * 20 + 90) / 288;
	note(x, worksheet_insert_chart_opt(ws, chart_row, CHART_COL, chart, &opt), chart_row);
}

/* The Summary sheet: what the report is, then its figures (or that there were none). */
static void
summary_sheet(struct xlsx *x)
{
	static const char *const titles[] = { "Daily sales report", "Weekly sales report", "Monthly sales report" };
	static const char *const windows[] = { "days", "weeks", "months" };
	const struct report *r = x->r;
	char first[PERIOD_STRLEN], last[PERIOD_STRLEN], bfirst[PERIOD_STRLEN], blast[PERIOD_STRLEN];
	char when[64], base[96], none[64];
	const char *const about[][2] = {
		{ "Company", r->company }, { "Store", r->store != NULL ? r->store : "All stores" },
		{ "Period", when }, { "Baseline", base },
	};
	lxw_worksheet *ws;
	lxw_row_t row = 0, head_row;

	if ((ws = add_sheet(x, "Summary")) == NULL)
		return;
	set_width(x, ws, 0, 30);
	set_width(x, ws, 1, 18);
	set_width(x, ws, 2, 18);
	set_width(x, ws, 3, 14);
	period_format_date(r->period.first, first);
	period_format_date(r->period.last, last);
	period_format_date(r->base.first, bfirst);
	period_format_date(r->base.last, blast);
	if (r->kind == REPORT_DAILY)
		snprintf(when, sizeof when, "%s", r->period_name);
	else
		snprintf(when, sizeof when, "%s, %s to %s", r->period_name, first, last);
	snprintf(base, sizeof base, "%s to %s, average of %u %s", bfirst, blast, r->base_windows,
	    windows[r->kind]);
	put_str(x, ws, row++, 0, titles[r->kind], x->f[XF_TITLE]);
	for (size_t i = 0; i < UTIL_NELEM(about); i++, row++) {
		put_str(x, ws, row, 0, about[i][0], x->f[XF_LABEL]);
		put_str(x, ws, row, 1, about[i][1], NULL);
	}
	row++;
	if (report_is_empty(r)) {
		snprintf(none, sizeof none, "No sales in %s", r->period_name);
		put_str(x, ws, row, 0, none, x->f[XF_LABEL]);
		return;
	}
	head_row = row;
	row = summary_headlines(x, ws, row);
	if (r->kind == REPORT_DAILY)
		row = summary_trend(x, ws, row + 1);
	summary_chart(x, ws, row + 1, head_row);
}

/* The columns of a table sheet for the report's kind. */
static const struct column *
table_columns(enum report_kind kind, enum report_dim dim, size_t *n)
{
	const struct column *cols = period_cols + 1;

	*n = UTIL_NELEM(period_cols) - 1;
	if (kind == REPORT_DAILY && dim == REPORT_PRODUCTS) {
		cols = daily_product_cols;
		*n = UTIL_NELEM(daily_product_cols);
	} else if (kind == REPORT_DAILY) {
		cols = daily_cols;
		*n = UTIL_NELEM(daily_cols);
	} else if (dim == REPORT_STORES) {
		cols = period_store_cols;
		*n = UTIL_NELEM(period_store_cols);
	} else if (dim == REPORT_PRODUCTS) {
		cols = period_cols;
		*n = UTIL_NELEM(period_cols);
	}
	return cols;
}

static bool
is_growth(enum col what)
{
	return what == COL_ORDERS_GROWTH || what == COL_SALES_GROWTH || what == COL_AOV_GROWTH;
}

/* One cell of a table row. */
static void
put_cell(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, enum col what,
    const struct report_row *rr)
{
	const int64_t w = x->r->base_windows;

	switch (what) {
	case COL_ID:
		put_str(x, ws, row, col, rr->id, NULL);
		break;
	case COL_NAME:
		put_str(x, ws, row, col, rr->name, NULL);
		break;
	case COL_ORDERS:
		put_num(x, ws, row, col, (double)rr->orders, x->f[XF_NUM]);
		break;
	case COL_ORDERS_GROWTH:
		/* A store missing or short in the source: its changes say so, not a fall (docs/completeness.md). */
		if (rr->gap == NULL)
			put_growth(x, ws, row, col, rr->orders, rr->b_orders, w);
		break;
	case COL_QUANTITY:
		put_quantity(x, ws, row, col, rr->quantity);
		break;
	case COL_SALES:
		put_money(x, ws, row, col, rr->sales);
		break;
	case COL_SALES_GROWTH:
		if (rr->gap != NULL)
			put_str(x, ws, row, col, rr->gap, x->f[XF_NEW]);
		else
			put_growth(x, ws, row, col, rr->sales, rr->b_sales, w);
		break;
	case COL_SHARE:
		put_pct(x, ws, row, col, rr->sales, x->r->total.sales);
		break;
	/* Without orders there is no average order (not one of 0), nor a change of it. */
	case COL_AOV:
		if (rr->orders != 0)
			put_money(x, ws, row, col, report_aov(rr));
		break;
	case COL_AOV_GROWTH:
		if (rr->orders != 0 && rr->gap == NULL)
			put_growth(x, ws, row, col, report_aov(rr), rr->b_sales, rr->b_orders);
		break;
	case COL_COST:
		put_money(x, ws, row, col, rr->cost);
		break;
	case COL_PROFIT:
		put_money(x, ws, row, col, rr->sales - rr->cost);
		break;
	case COL_MARGIN:
		put_pct(x, ws, row, col, rr->sales - rr->cost, rr->sales);
		break;
	}
}

/*
 * The Dropped list of t from row on, names in column col: its sentence, a
 * header row, each key with its baseline average beside it, then "and 2
 * more". It goes under its table, as in the PDF, rather than on a sheet of
 * its own: the table's sheet then holds everything about those keys, and
 * the sheets stay one per table. A blank row before it keeps it out of the
 * table's autofilter and out of what Excel takes for the table when sorting.
 */
static void
dropped_block(struct xlsx *x, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const struct report_table *t)
{
	char title[256], more[NUMFMT_LEN + 16];

	put_str(x, ws, row++, col, numfmt_dropped_title(title, sizeof title, x->r, t), x->f[XF_LABEL]);
	put_str(x, ws, row, col, "Name", x->f[XF_HEAD]);
	put_str(x, ws, row++, col + 1, "Baseline average", x->f[XF_HEAD]);
	for (size_t k = 0; k < t->ndropped; k++, row++) {
		put_str(x, ws, row, col, t->dropped[k].name, NULL);
		put_money(x, ws, row, col + 1, report_div_round(t->dropped[k].b_sales, x->r->base_windows));
	}
	if (numfmt_dropped_more(more, sizeof more, x->r, t)[0] != '\0')
		put_str(x, ws, row, col, more, NULL);
}

/*
 * A table as a sheet: a header row that stays in view and filters the rows
 * under it, then the table's Dropped list. An empty report keeps the sheet
 * with its header only, so every report of a kind has the same sheets (and
 * the Summary says why).
 */
static void
table_sheet(struct xlsx *x, const struct report_table *t)
{
	size_t ncols, n = report_is_empty(x->r) ? 0 : t->n;
	const struct column *cols = table_columns(x->r->kind, t->dim, &ncols);
	const lxw_row_t last = (lxw_row_t)n;
	lxw_col_t name = 0;
	lxw_worksheet *ws;

	if ((ws = add_sheet(x, report_dim_title(t->dim))) == NULL)
		return;
	for (lxw_col_t c = 0; c < ncols; c++) {
		set_width(x, ws, c, cols[c].what == COL_NAME ? 42 : cols[c].what == COL_ID ? 12 : 14);
		put_str(x, ws, 0, c, cols[c].title, x->f[XF_HEAD]);
		if (cols[c].what == COL_NAME)
			name = c;
	}
	for (size_t k = 0; k < n && x->err == LXW_NO_ERROR; k++)
		for (lxw_col_t c = 0; c < ncols; c++)
			put_cell(x, ws, (lxw_row_t)k + 1, c, cols[c].what, &t->rows[k]);
	if (x->err != LXW_NO_ERROR)
		return;
	worksheet_freeze_panes(ws, 1, 0);
	/* After the rows: in constant-memory mode a range may not end above the row being written. */
	note(x, worksheet_autofilter(ws, 0, 0, last, (lxw_col_t)(ncols - 1)), last);
	for (lxw_col_t c = 0; c < ncols; c++)
		if (is_growth(cols[c].what))
			signal_colours(x, ws, 1, last, c);
	/* Below the autofilter and the colours, which may not end above the row being written. */
	if (n > 0 && t->ndropped > 0)
		dropped_block(x, ws, last + 2, name, t);
}

/* The errno for a libxlsxwriter error; sys: errno at the time, when it came from the system. */
static int
xlsx_errno(lxw_error e, int sys)
{
	switch (e) {
	case LXW_ERROR_MEMORY_MALLOC_FAILED:
		return -ENOMEM;
	case LXW_ERROR_CREATING_XLSX_FILE:
	case LXW_ERROR_CREATING_TMPFILE:
	case LXW_ERROR_READING_TMPFILE:
	case LXW_ERROR_ZIP_FILE_OPERATION:
		return sys > 0 ? -sys : -EIO;
	case LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED:
	case LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE:
		return -E2BIG;
	default:
		return -EIO;
	}
}

int
xlsx_render(const struct report *r, const char *path, const char *tmpdir, char **cause)
{
	struct xlsx x = { .r = r, .sheet = "workbook" };
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	char *scratch = NULL;
	lxw_error closed;
	int fd, e = 0, sys;

	/*
	 * A tmpdir that does not take files would not fail: libxlsxwriter then
	 * tries $TMPDIR, /tmp and the current directory in turn.
	 */
	if (tmpdir != NULL && access(tmpdir, W_OK | X_OK) < 0)
		return util_fail(cause, -errno, "%s: scratch directory %s: %s", path, tmpdir, strerror(errno));
	/*
	 * Try path now, for the real errno: libxlsxwriter opens it only in
	 * workbook_close, and failing there it leaks the sheets' scratch files.
	 */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
		return util_fail(cause, -errno, "%s: %s", path, strerror(errno));
	close(fd);
	/* libxlsxwriter copies the options; its tmpdir is not const. */
	if (tmpdir != NULL && (scratch = strdup(tmpdir)) == NULL) {
		e = util_fail(cause, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	opt.tmpdir = scratch;
	if ((x.wb = workbook_new_opt(path, &opt)) == NULL) {
		e = util_fail(cause, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	workbook_setup(&x);
	summary_sheet(&x);
	for (size_t d = 0; d < REPORT_NDIMS; d++)
		if (r->tables[d].present)
			table_sheet(&x, &r->tables[d]);
	/* Closed even after an error: it is what frees the workbook and its scratch files. */
	errno = 0;
	closed = workbook_close(x.wb);
	sys = errno;
	if (x.err == LXW_ERROR_CREATING_TMPFILE)
		e = util_fail(cause, xlsx_errno(x.err, x.err_errno), "%s: sheet %s: no scratch file in %s: %s",
		    path, x.err_sheet, tmpdir != NULL ? tmpdir : "the default directory",
		    x.err_errno > 0 ? strerror(x.err_errno) : "failed");
	else if (x.err != LXW_NO_ERROR)
		e = util_fail(cause, xlsx_errno(x.err, 0), "%s: %s, row %u: %s", path, x.err_sheet,
		    x.err_row + 1, lxw_strerror(x.err));
	else if (closed != LXW_NO_ERROR)
		e = util_fail(cause, xlsx_errno(closed, sys), "%s: %s%s%s", path, lxw_strerror(closed),
		    sys > 0 ? " " : "", sys > 0 ? strerror(sys) : "");
out:
	/* Nothing half-written stays behind. */
	if (e < 0)
		unlink(path);
	free(x.axis_numfmt);
	free(scratch);
	return e;
}
