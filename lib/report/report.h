/*
 * report: the report model. A report (daily, weekly or monthly; company-wide
 * or one store) is built once from PostgreSQL as plain numbers and names, and
 * then rendered twice (pdf.c, xlsx.c) without further queries, so both files
 * always show the same figures.
 *
 * Every figure is an exact integer: money in minor units (paise, cents; the
 * database rounds each sum to 2 decimals), quantities in thousandths, orders
 * as a count. Comparisons keep the baseline as a sum over its windows and are
 * computed with integer arithmetic (report_growth), so nothing depends on
 * binary floating point. Semantics: DESIGN.md "KPI semantics" and
 * docs/reports.md.
 */
#ifndef SALESD_REPORT_H
#define SALESD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/config.h"
#include "base/period.h"

enum report_kind {
	REPORT_DAILY,
	REPORT_WEEKLY,
	REPORT_MONTHLY,
};

/* The tables a report can hold; which ones depends on the kind and scope. */
enum report_dim {
	REPORT_STORES,          /* daily company; weekly and monthly company */
	REPORT_CATEGORIES,      /* daily: top-level categories (all of them) */
	REPORT_SUBCATEGORIES,   /* weekly, monthly: sub-categories, top 50 */
	REPORT_BRANDS,          /* daily and weekly/monthly: top 50 */
	REPORT_PRODUCTS,        /* top 100 */
	REPORT_NDIMS,
};

/*
 * One line of a table, or the total of the report. The b_ fields are the
 * baseline summed over r->base_windows windows (daily: the 7 days before;
 * weekly and monthly: the 2 periods before), so the baseline average of a
 * figure is b_x / base_windows.
 */
struct report_row {
	char *name;             /* store, category, brand or product name (UTF-8) */
	char *id;               /* products: the product id; NULL otherwise */
	int64_t orders;         /* distinct invoices */
	int64_t sales;          /* minor units */
	int64_t quantity;       /* thousandths */
	int64_t cost;           /* minor units */
	int64_t b_orders, b_sales, b_quantity, b_cost;
	/*
	 * Stores of a daily report whose day went out incomplete with a
	 * warning: "missing" or "short" (docs/completeness.md), shown in place
	 * of a change that would read as a fall in sales; else NULL. Static.
	 */
	const char *gap;
};

/*
 * A table and, for weekly and monthly reports, its Dropped list: the keys
 * of the baseline's top (the table's own cut, by baseline sales; stores:
 * every one) that sold nothing in the period, so that what vanished is seen
 * although only what sold is ranked. A dropped row has its baseline figures
 * and none of the period.
 */
struct report_table {
	enum report_dim dim;
	bool present;           /* this report kind and scope has this table */
	struct report_row *rows; /* sorted by sales descending, then name */
	size_t n;
	size_t total;           /* keys before the top-N cut (n <= total) */
	size_t top;             /* the top-N cut; 0: every key (stores, daily categories) */
	struct report_row *dropped; /* baseline sales descending, then name (bytewise) */
	size_t ndropped;        /* at most REPORT_DROPPED_MAX */
	size_t dropped_total;   /* every dropped key (ndropped <= dropped_total) */
};

/* One day of the 30-day trend (daily reports). */
struct report_point {
	int32_t day;
	int64_t sales;          /* minor units; 0 for a day without sales */
};

enum report_grouping {
	REPORT_GROUPING_INDIAN,  /* 12,34,567.89 */
	REPORT_GROUPING_WESTERN, /* 1,234,567.89 */
};

struct report {
	enum report_kind kind;
	struct period period;
	char period_name[PERIOD_STRLEN];  /* "2026-11-22", "2026-W47", "2026-11" */
	char *company;          /* [report] company */
	char *store;            /* NULL: company-wide */
	char *currency;         /* [report] currency, e.g. "₹" */
	enum report_grouping grouping;
	struct period base;     /* the baseline days, inclusive */
	unsigned base_windows;  /* 7 (daily) or 2 (weekly, monthly) */
	struct report_row total; /* the whole scope; name is the scope's title */
	struct report_point trend[30]; /* daily: D-29 .. D, oldest first */
	size_t ntrend;
	struct report_table tables[REPORT_NDIMS];
	/*
	 * NULL, or why the figures may be wrong: a day of the period released
	 * incomplete with a warning (docs/completeness.md), one line per day.
	 * The PDF's first page, the e-mail and the WhatsApp caption show it.
	 */
	char *warning;
};

/* Top-N cuts. */
#define REPORT_TOP_BRANDS        50
#define REPORT_TOP_SUBCATEGORIES 50
#define REPORT_TOP_PRODUCTS      100
#define REPORT_TOP_STORES_CHART  30
/* A Dropped list names at most this many keys; the others are counted ("and 3 more"). */
#define REPORT_DROPPED_MAX       10

/*
 * Build the model of a report for the period (of the kind's length) from the
 * tables of the connection's schema. store NULL: company-wide (excluded
 * stores left out). Fails with -EAGAIN when a day of the period has not been
 * loaded yet or the connection is lost, -EINPROGRESS when a day is incomplete
 * and not released (the report is held), -EBADMSG when a day is quarantined
 * (the report is withheld), and -EIO when the server refuses a query; *cause
 * says which day and what to do.
 */
int report_build(PGconn *c, const struct config *cfg, enum report_kind kind,
    const struct period *p, const char *store, struct report **out, char **cause);
void report_free(struct report *r);

/*
 * Whether every day of period p may be reported: 0; -EAGAIN when a day has
 * not been loaded; -EINPROGRESS when a day is incomplete and not released
 * (the report is held; *held gets the first such day); -EBADMSG when a day
 * is quarantined (withheld); or a database error. report_build checks it.
 */
int report_check_days(PGconn *c, const struct period *p, int32_t *held, char **cause);

/* The kind for a period kind, and its name ("daily", "weekly", "monthly"). */
enum report_kind report_kind_of(enum period_kind pk);
const char *report_kind_name(enum report_kind kind);
/* Table titles for headings and sheet names: "Stores", "Sub-categories", ... */
const char *report_dim_title(enum report_dim dim);
/* The keys of a table in a sentence: "stores", "sub-categories", ... */
const char *report_dim_plural(enum report_dim dim);

/* Nothing sold in the period (the report says so instead of empty tables). */
bool report_is_empty(const struct report *r);

/*
 * A figure against its baseline average base_num / base_den, e.g. sales
 * against b_sales / base_windows, or an AOV against b_sales / b_orders.
 */
enum report_growth {
	REPORT_GROWTH_NONE,     /* no baseline and nothing now: nothing to show */
	REPORT_GROWTH_NEW,      /* no baseline but something now: "new" */
	REPORT_GROWTH_PCT,      /* *tenths: growth in tenths of a percent, rounded half away from
	                         * zero, against the baseline's magnitude (a loss to a profit is up) */
};
enum report_growth report_growth(int64_t cur, int64_t base_num, int64_t base_den, int64_t *tenths);

/* num / den x 100 in tenths of a percent, rounded half away from zero; false when den is 0. */
bool report_pct(int64_t num, int64_t den, int64_t *tenths);

/* a / b rounded half away from zero; 0 when b is 0 (AOV = sales / orders). */
int64_t report_div_round(int64_t a, int64_t b);

/* A row's AOV (sales / orders, minor units; 0 without orders). */
int64_t report_aov(const struct report_row *row);
/* The AOV against the baseline's: the baseline's sales over its orders, not an average of AOVs. */
enum report_growth report_aov_growth(const struct report_row *row, int64_t *tenths);
/* The margin now minus the margin of the baseline, in tenths of a point; false when either sold nothing. */
bool report_margin_change(const struct report_row *row, int64_t *tenths);

#endif
