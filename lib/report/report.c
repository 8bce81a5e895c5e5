/*
 * report: the report model, built from PostgreSQL (see report.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "report/report.h"
#include "base/util.h"

/* Figures of a row as the queries return them: 4 for the period, 4 for the baseline. */
#define ROW_FIGURES 8

enum report_kind
report_kind_of(enum period_kind pk)
{
	return pk == PERIOD_WEEK ? REPORT_WEEKLY : pk == PERIOD_MONTH ? REPORT_MONTHLY : REPORT_DAILY;
}

const char *
report_kind_name(enum report_kind kind)
{
	static const char *const names[] = { "daily", "weekly", "monthly" };

	return (size_t)kind < UTIL_NELEM(names) ? names[kind] : "?";
}

const char *
report_dim_title(enum report_dim dim)
{
	static const char *const titles[] = { "Stores", "Categories", "Sub-categories", "Brands", "Products" };

	return (size_t)dim < UTIL_NELEM(titles) ? titles[dim] : "?";
}

const char *
report_dim_plural(enum report_dim dim)
{
	static const char *const plurals[] = { "stores", "categories", "sub-categories", "brands", "products" };

	return (size_t)dim < UTIL_NELEM(plurals) ? plurals[dim] : "?";
}

bool
report_is_empty(const struct report *r)
{
	return r->total.orders == 0 && r->total.sales == 0 && r->total.quantity == 0;
}

/* a / b rounded half away from zero, for b > 0, in 128 bits so a x 1000 cannot overflow. */
static int64_t
div_round128(__int128 a, __int128 b)
{
	__int128 q;

	if (b < 0) {
		a = -a;
		b = -b;
	}
	q = a >= 0 ? (a * 2 + b) / (b * 2) : -((-a * 2 + b) / (b * 2));
	return (int64_t)q;
}

int64_t
report_div_round(int64_t a, int64_t b)
{
	return b == 0 ? 0 : div_round128(a, b);
}

enum report_growth
report_growth(int64_t cur, int64_t base_num, int64_t base_den, int64_t *tenths)
{
	*tenths = 0;
	if (base_num == 0 || base_den == 0)
		return cur == 0 ? REPORT_GROWTH_NONE : REPORT_GROWTH_NEW;
	/*
	 * (cur - num/den) / |num/den| x 1000 = (cur x den - num) x 1000 / |num|
	 * (den > 0): a loss turning into a profit is growth, not a fall.
	 */
	*tenths = div_round128(((__int128)cur * base_den - base_num) * 1000,
	    base_num < 0 ? -(__int128)base_num : base_num);
	return REPORT_GROWTH_PCT;
}

bool
report_pct(int64_t num, int64_t den, int64_t *tenths)
{
	*tenths = 0;
	if (den == 0)
		return false;
	*tenths = div_round128((__int128)num * 1000, den);
	return true;
}

int64_t
report_aov(const struct report_row *row)
{
	return report_div_round(row->sales, row->orders);
}

enum report_growth
report_aov_growth(const struct report_row *row, int64_t *tenths)
{
	return report_growth(report_aov(row), row->b_sales, row->b_orders, tenths);
}

bool
report_margin_change(const struct report_row *row, int64_t *tenths)
{
	int64_t now, before;

	*tenths = 0;
	if (!report_pct(row->sales - row->cost, row->sales, &now) ||
	    !report_pct(row->b_sales - row->b_cost, row->b_sales, &before))
		return false;
	*tenths = now - before;
	return true;
}

static void
row_free(struct report_row *row)
{
	free(row->name);
	free(row->id);
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t d = 0; d < REPORT_NDIMS; d++) {
		struct report_table *t = &r->tables[d];

		for (size_t k = 0; k < t->n; k++)
			row_free(&t->rows[k]);
		for (size_t k = 0; k < t->ndropped; k++)
			row_free(&t->dropped[k]);
		free(t->rows);
		free(t->dropped);
	}
	row_free(&r->total);
	free(r->company);
	free(r->store);
	free(r->currency);
	free(r->warning);
	free(r);
}

/* One query with text parameters; *out on success. */
static int
query(PGconn *c, const char *sql, int n, const char *const *p, PGresult **out, char **cause)
{
	return db_query(c, sql, n, p, out, "database", cause);
}

static int64_t
num(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Columns col.. of a result: orders, sales, quantity, cost, then the baseline's (nfig 4 or 8). */
static void
row_figures(struct report_row *row, const PGresult *res, int k, int col, int nfig)
{
	int64_t *f[ROW_FIGURES] = { &row->orders, &row->sales, &row->quantity, &row->cost,
	    &row->b_orders, &row->b_sales, &row->b_quantity, &row->b_cost };

	for (int i = 0; i < nfig; i++)
		*f[i] = num(res, k, col + i);
}

static void
row_add(struct report_row *to, const struct report_row *row)
{
	to->orders += row->orders;
	to->sales += row->sales;
	to->quantity += row->quantity;
	to->cost += row->cost;
	to->b_orders += row->b_orders;
	to->b_sales += row->b_sales;
	to->b_quantity += row->b_quantity;
	to->b_cost += row->b_cost;
}

/* Biggest sales first; then the bigger baseline; then by name, so the order is stable. */
static int
row_cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->sales != y->sales)
		return x->sales < y->sales ? 1 : -1;
	if (x->b_sales != y->b_sales)
		return x->b_sales < y->b_sales ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* A Dropped list's order: the biggest baseline first, then by name. */
static int
dropped_cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->b_sales != y->b_sales)
		return x->b_sales < y->b_sales ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Sort the table's rows and keep the first top (0: all). */
static void
table_finish(struct report_table *t, size_t top)
{
	t->top = top;
	qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
	if (t->total < t->n)
		t->total = t->n;
	if (top != 0 && t->n > top) {
		for (size_t k = top; k < t->n; k++)
			row_free(&t->rows[k]);
		t->n = top;
	}
	t->present = true;
}

/* Sort the table's Dropped list and keep its first REPORT_DROPPED_MAX rows; the rest are counted. */
static void
dropped_finish(struct report_table *t)
{
	qsort(t->dropped, t->ndropped, sizeof *t->dropped, dropped_cmp);
	if (t->dropped_total < t->ndropped)
		t->dropped_total = t->ndropped;
	for (size_t k = REPORT_DROPPED_MAX; k < t->ndropped; k++)
		row_free(&t->dropped[k]);
	if (t->ndropped > REPORT_DROPPED_MAX)
		t->ndropped = REPORT_DROPPED_MAX;
}

/* Room for more rows after the n of *rows, zeroed. */
static int
rows_grow(struct report_row **rows, size_t n, size_t more, char **cause)
{
	struct report_row *grown = reallocarray(*rows, n + more, sizeof *grown);

	if (grown == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	memset(grown + n, 0, more * sizeof *grown);
	*rows = grown;
	return 0;
}

static int
table_grow(struct report_table *t, size_t more, char **cause)
{
	return rows_grow(&t->rows, t->n, more, cause);
}

/* Append row k of res: name in column 0, the period's and the baseline's figures from column 1. */
static int
table_add(struct report_table *t, const PGresult *res, int k, char **cause)
{
	struct report_row *row = &t->rows[t->n];

	if ((row->name = strdup(PQgetvalue(res, k, 0))) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	row_figures(row, res, k, 1, ROW_FIGURES);
	t->n++;
	return 0;
}

/*
 * Each day of the period must have been loaded; a quarantined day withholds
 * the report (its numbers would be wrong), a missing one is not there yet,
 * an incomplete one holds it until it is complete or released
 * (docs/completeness.md).
 */
int
report_check_days(PGconn *c, const struct period *p, int32_t *held, char **cause)
{
	char first[PERIOD_STRLEN], last[PERIOD_STRLEN], name[PERIOD_STRLEN];
	const char *params[] = { first, last };
	const char *kind = report_kind_name(report_kind_of(p->kind));
	PGresult *res;
	int e;

	*held = 0;
	period_format_date(p->first, first);
	period_format_date(p->last, last);
	period_format(p, name);
	if ((e = query(c, "SELECT d::date, e.state, e.error, d::date - DATE '1970-01-01' FROM "
	    "generate_series($1::date, $2::date, interval '1 day') d LEFT JOIN etl_day e ON e.day = d::date "
	    "WHERE e.state IS NULL OR e.state = 'quarantined' OR (e.state = 'incomplete' AND e.released IS NULL) "
	    "ORDER BY 1 LIMIT 1", 2, params, &res, cause)) < 0)
		return e;
	if (PQntuples(res) == 1) {
		const char *day = PQgetvalue(res, 0, 0), *state = PQgetvalue(res, 0, 1);

		if (PQgetisnull(res, 0, 1))
			e = util_fail(cause, -EAGAIN, "%s %s: the sales of %s have not been loaded; "
			    "the report waits for them (salesd run etl --date %s)", kind, name, day, day);
		else if (strcmp(state, "incomplete") == 0) {
			*held = (int32_t)atol(PQgetvalue(res, 0, 3));
			e = util_fail(cause, -EINPROGRESS, "%s %s: held: %s is incomplete (%s); the report waits "
			    "until it is complete or released (salesd run etl --date %s --accept-incomplete)", kind,
			    name, day, PQgetvalue(res, 0, 2), day);
		} else
			e = util_fail(cause, -EBADMSG, "%s %s: withheld: %s is quarantined (%s); "
			    "fix the data, run salesd run etl --date %s --force, then the report",
			    kind, name, day, PQgetvalue(res, 0, 2), day);
	}
	PQclear(res);
	return e;
}

/*
 * The warning a report carries when a day of its period was released
 * incomplete at its settle deadline ([source] incomplete =
 * deliver-with-warning): which days, and what they miss.
 */
static int
released_warning(PGconn *c, struct report *r, const char *first, const char *last, char **cause)
{
	const char *p[] = { first, last };
	PGresult *res;
	char *w = NULL, *tmp;
	int e;

	if ((e = query(c, "SELECT day, coalesce(error, '') FROM etl_day WHERE day BETWEEN $1 AND $2 "
	    "AND state = 'incomplete' AND released = 'warning' ORDER BY day", 2, p, &res, cause)) < 0)
		return e;
	for (int k = 0; k < PQntuples(res); k++) {
		tmp = util_printf("%s%sIncomplete data for %s: %s", w ? w : "", w ? "\n" : "",
		    PQgetvalue(res, k, 0), PQgetvalue(res, k, 1));
		free(w);
		if ((w = tmp) == NULL)
			break;
	}
	if (PQntuples(res) > 0 && w == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	PQclear(res);
	r->warning = w;
	return e;
}

/*
 * A KPI table's rows for the period and its baseline. Sums are rounded to
 * minor units (thousandths for quantities) per key and window.
 */
static int
kpi_rows(PGconn *c, const char *table, const char *key, const char *const p[3],
    const char *only_store, struct report_table *t, char **cause)
{
	static const char figures[] =
	    "coalesce(sum(orders) FILTER (WHERE day %1$s $3), 0), "
	    "round(coalesce(sum(sales) FILTER (WHERE day %1$s $3), 0) * 100)::bigint, "
	    "round(coalesce(sum(quantity) FILTER (WHERE day %1$s $3), 0) * 1000)::bigint, "
	    "round(coalesce(sum(cost) FILTER (WHERE day %1$s $3), 0) * 100)::bigint";
	const char *params[4] = { p[0], p[1], p[2], only_store };
	char *cur = util_printf(figures, ">="), *base = util_printf(figures, "<"), *sql = NULL;
	PGresult *res = NULL;
	int e;

	/* Byte order groups faster than the locale's; the rows are sorted here anyway. */
	if (cur == NULL || base == NULL || (sql = util_printf("SELECT %s COLLATE \"C\", %s, %s FROM %s "
	    "WHERE day BETWEEN $1 AND $2%s GROUP BY 1", key, cur, base, table,
	    only_store ? " AND store = $4" : "")) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	if ((e = query(c, sql, only_store ? 4 : 3, params, &res, cause)) < 0 ||
	    (e = table_grow(t, (size_t)PQntuples(res), cause)) < 0)
		goto out;
	for (int k = 0; k < PQntuples(res) && e == 0; k++)
		e = table_add(t, res, k, cause);
out:
	PQclear(res);
	free(sql);
	free(base);
	free(cur);
	return e;
}

/* Daily: the company's sales of each of the 30 days ending with the report's day. */
static int
trend(PGconn *c, struct report *r, char **cause)
{
	char first[PERIOD_STRLEN], last[PERIOD_STRLEN];
	const char *p[] = { first, last };
	PGresult *res;
	int e;

	period_format_date(r->period.last - 29, first);
	period_format_date(r->period.last, last);
	if ((e = query(c, "SELECT d::date - $1::date, round(coalesce(sum(k.sales), 0) * 100)::bigint "
	    "FROM generate_series($1::date, $2::date, interval '1 day') d "
	    "LEFT JOIN kpi_store_day k ON k.day = d::date GROUP BY d ORDER BY d", 2, p, &res, cause)) < 0)
		return e;
	for (int k = 0; k < PQntuples(res) && r->ntrend < UTIL_NELEM(r->trend); k++) {
		r->trend[r->ntrend].day = r->period.last - 29 + (int32_t)num(res, k, 0);
		r->trend[r->ntrend++].sales = num(res, k, 1);
	}
	PQclear(res);
	return 0;
}

/*
 * Weekly and monthly: brands, sub-categories and products of the period from
 * the sales lines in one scan (grouping sets), for one store or for every
 * store not excluded, each row with its baseline (the two periods before,
 * summed) so that its growth can be shown. A product is keyed by its name,
 * as in kpi_product_day; its id is shown when the name has only one in the
 * period. Orders are not counted here (0): these tables do not show them.
 * The same query gives each table's Dropped list (report.h).
 */
static int
period_tables(PGconn *c, struct report *r, const char *bfirst, const char *first, const char *last,
    const char *scope_param, char **cause)
{
	const char *p[] = { bfirst, last, scope_param, first };
	struct report_table *t;
	struct report_row *row;
	PGresult *res;
	char *sql;
	int e;

	/*
	 * One scan of the period and its baseline; "cur" tells them apart. These
	 * tables show no orders: no count(DISTINCT), which would sort every
	 * group. A key that sold in the period ("sold": it has a line in it) is
	 * a row; only the top of each table leaves the server, in row_cmp's
	 * order (sales, baseline sales, name bytewise), with how many keys sold.
	 * A key that did not sell is dropped when it is within the table's cut
	 * of the baseline (by baseline sales, then name; a LIMIT, a top-N heap
	 * rather than one more sort of every key) and had baseline sales; the
	 * first REPORT_DROPPED_MAX of them leave in dropped_cmp's order, with
	 * how many there were.
	 */
	sql = util_printf("WITH k AS (SELECT GROUPING(b, s, p) g, "
	    "CASE GROUPING(b, s, p) WHEN 3 THEN b WHEN 5 THEN coalesce(s, '(none)') ELSE p END "
	    "COLLATE \"C\" name, "
	    "round(coalesce(sum(total) FILTER (WHERE cur), 0) * 100)::bigint sales, "
	    "round(coalesce(sum(quantity) FILTER (WHERE cur), 0) * 1000)::bigint quantity, "
	    "round(coalesce(sum(cost_price * quantity) FILTER (WHERE cur), 0) * 100)::bigint cost, "
	    "round(coalesce(sum(total) FILTER (WHERE NOT cur), 0) * 100)::bigint b_sales, "
	    "round(coalesce(sum(quantity) FILTER (WHERE NOT cur), 0) * 1000)::bigint b_quantity, "
	    "round(coalesce(sum(cost_price * quantity) FILTER (WHERE NOT cur), 0) * 100)::bigint b_cost, "
	    "CASE WHEN min(product_id) FILTER (WHERE cur) = max(product_id) FILTER (WHERE cur) "
	    "THEN min(product_id) FILTER (WHERE cur) END id, bool_or(cur) sold "
	    "FROM (SELECT brand COLLATE \"C\" b, sub_category COLLATE \"C\" s, product COLLATE \"C\" p, "
	    "total, quantity, cost_price, product_id, day >= $4::date cur FROM sales_line "
	    "WHERE day BETWEEN $1 AND $2 AND %s) l GROUP BY GROUPING SETS ((b), (s), (p))), "
	    "cut (g, n) AS (VALUES (3, %d), (5, %d), (6, %d)) "
	    "SELECT g, name, 0, sales, quantity, cost, 0, b_sales, b_quantity, b_cost, id, keys, sold FROM ("
	    "SELECT k.*, count(*) OVER w keys, row_number() OVER (w ORDER BY sales DESC, b_sales DESC, name) rank "
	    "FROM k WHERE sold WINDOW w AS (PARTITION BY g)) t JOIN cut USING (g) WHERE rank <= n "
	    "UNION ALL "
	    "SELECT g, name, 0, sales, quantity, cost, 0, b_sales, b_quantity, b_cost, id, keys, sold FROM ("
	    "SELECT t.*, count(*) OVER w keys, row_number() OVER (w ORDER BY b_sales DESC, name) rank "
	    "FROM cut, LATERAL (SELECT * FROM k WHERE k.g = cut.g ORDER BY b_sales DESC, name LIMIT cut.n) t "
	    "WHERE NOT sold AND b_sales > 0 WINDOW w AS (PARTITION BY t.g)) d WHERE rank <= %d",
	    r->store != NULL ? "store = $3" : "store <> ALL ($3::text[])", REPORT_TOP_BRANDS,
	    REPORT_TOP_SUBCATEGORIES, REPORT_TOP_PRODUCTS, REPORT_DROPPED_MAX);
	if (sql == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	e = query(c, sql, 4, p, &res, cause);
	free(sql);
	if (e < 0)
		return e;
	for (size_t d = REPORT_SUBCATEGORIES; d <= REPORT_PRODUCTS && e == 0; d++)
		if ((e = table_grow(&r->tables[d], (size_t)PQntuples(res), cause)) == 0)
			e = rows_grow(&r->tables[d].dropped, 0, (size_t)PQntuples(res), cause);
	for (int k = 0; k < PQntuples(res) && e == 0; k++) {
		int64_t g = num(res, k, 0);
		bool sold = PQgetvalue(res, k, 12)[0] == 't';

		t = &r->tables[g == 3 ? REPORT_BRANDS : g == 5 ? REPORT_SUBCATEGORIES : REPORT_PRODUCTS];
		row = sold ? &t->rows[t->n] : &t->dropped[t->ndropped];
		/* Column 0 is the grouping: shift by one, the name is column 1. */
		if ((row->name = strdup(PQgetvalue(res, k, 1))) == NULL ||
		    (!PQgetisnull(res, k, 10) && t == &r->tables[REPORT_PRODUCTS] &&
		    (row->id = strdup(PQgetvalue(res, k, 10))) == NULL)) {
			free(row->name);
			e = util_fail(cause, -ENOMEM, "out of memory");
			break;
		}
		row_figures(row, res, k, 2, ROW_FIGURES);
		if (sold) {
			t->total = (size_t)num(res, k, 11);
			t->n++;
		} else {
			t->dropped_total = (size_t)num(res, k, 11);
			t->ndropped++;
		}
	}
	PQclear(res);
	if (e == 0) {
		table_finish(&r->tables[REPORT_BRANDS], REPORT_TOP_BRANDS);
		table_finish(&r->tables[REPORT_SUBCATEGORIES], REPORT_TOP_SUBCATEGORIES);
		table_finish(&r->tables[REPORT_PRODUCTS], REPORT_TOP_PRODUCTS);
		for (size_t d = REPORT_SUBCATEGORIES; d <= REPORT_PRODUCTS; d++)
			dropped_finish(&r->tables[d]);
	}
	return e;
}

/*
 * Weekly and monthly company reports: the Dropped list of the stores table,
 * whose cut is every store, from its rows (every store of the period or its
 * baseline). A store sold nothing in the period when it has no orders in
 * it: every line has an invoice. Such a store stays in the table too, at 0
 * against its baseline, since the table is every store and ends with their
 * total; the list adds the baseline it lost.
 */
static int
stores_dropped(struct report_table *t, char **cause)
{
	int e;

	if ((e = rows_grow(&t->dropped, 0, t->n, cause)) < 0)
		return e;
	for (size_t k = 0; k < t->n; k++) {
		const struct report_row *row = &t->rows[k];
		struct report_row *gone = &t->dropped[t->ndropped];

		if (row->orders != 0 || row->b_sales <= 0)
			continue;
		*gone = *row;
		gone->id = NULL;
		if ((gone->name = strdup(row->name)) == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		t->ndropped++;
	}
	dropped_finish(t);
	return 0;
}

/* The scope's total: the sum of the stores, or the one store's row. */
static int
set_total(struct report *r, char **cause)
{
	struct report_table *st = &r->tables[REPORT_STORES];

	if ((r->total.name = strdup(r->store ? r->store : "All stores")) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	for (size_t k = 0; k < st->n; k++)
		if (r->store == NULL || strcmp(st->rows[k].name, r->store) == 0)
			row_add(&r->total, &st->rows[k]);
	return 0;
}

/*
 * The stores the completeness gate found missing or short on day (a daily
 * report released with a warning): their rows say so instead of showing a
 * fall in sales that did not happen.
 */
static int
mark_gaps(PGconn *c, struct report_table *t, const char *day, char **cause)
{
	PGresult *res;
	int e;

	if ((e = query(c, "SELECT store, kind FROM etl_gap WHERE day = $1 AND kind IN ('missing', 'short')", 1,
	    (const char *[]){ day }, &res, cause)) < 0)
		return e;
	for (int k = 0; k < PQntuples(res); k++)
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->rows[i].name, PQgetvalue(res, k, 0)) == 0)
				t->rows[i].gap = strcmp(PQgetvalue(res, k, 1), "missing") == 0 ? "missing" : "short";
	PQclear(res);
	return 0;
}

int
report_build(PGconn *c, const struct config *cfg, enum report_kind kind, const struct period *p,
    const char *store, struct report **out, char **cause)
{
	struct report *r = calloc(1, sizeof *r);
	const char *company = cfg->report.company;
	char *const *excl;
	char first[PERIOD_STRLEN], last[PERIOD_STRLEN], bfirst[PERIOD_STRLEN], *exclude = NULL;
	const char *kp[3] = { bfirst, last, first };
	size_t nexcl;
	int32_t held;
	int e;

	*out = NULL;
	if (r == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	r->kind = kind;
	r->period = *p;
	period_format(p, r->period_name);
	r->grouping = strcmp(cfg->report.digit_grouping, "western") == 0 ?
	    REPORT_GROUPING_WESTERN : REPORT_GROUPING_INDIAN;
	r->base.kind = p->kind;
	r->base.last = p->first - 1;
	if (kind == REPORT_DAILY) {
		r->base.first = p->first - 7;
		r->base_windows = 7;
	} else {
		struct period before = period_prev(p);

		r->base.first = period_prev(&before).first;
		r->base_windows = 2;
	}
	excl = cfg->salesd.exclude_stores.v;
	nexcl = cfg->salesd.exclude_stores.n;
	if ((r->company = strdup(company ? company : "")) == NULL ||
	    (r->currency = strdup(cfg->report.currency)) == NULL ||
	    (store != NULL && (r->store = strdup(store)) == NULL) ||
	    (exclude = db_text_array(excl, nexcl)) == NULL) {
		e = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	if (kind == REPORT_DAILY && store != NULL) {
		e = util_fail(cause, -EINVAL, "daily reports are company-wide; a store has weekly and "
		    "monthly reports (run the job without --store, or give it scope = company)");
		goto fail;
	}
	period_format_date(p->first, first);
	period_format_date(p->last, last);
	period_format_date(r->base.first, bfirst);
	if ((e = report_check_days(c, p, &held, cause)) < 0 ||
	    (e = released_warning(c, r, first, last, cause)) < 0)
		goto fail;
	for (size_t d = 0; d < REPORT_NDIMS; d++)
		r->tables[d].dim = (enum report_dim)d;
	/* The stores' figures give the total of every kind; the company reports show them. */
	if ((e = kpi_rows(c, "kpi_store_day", "store", kp, store, &r->tables[REPORT_STORES], cause)) < 0 ||
	    (e = set_total(r, cause)) < 0)
		goto fail;
	table_finish(&r->tables[REPORT_STORES], 0);
	if (kind == REPORT_DAILY && store == NULL && r->warning != NULL &&
	    (e = mark_gaps(c, &r->tables[REPORT_STORES], first, cause)) < 0)
		goto fail;
	r->tables[REPORT_STORES].present = store == NULL;
	if (kind != REPORT_DAILY && store == NULL && (e = stores_dropped(&r->tables[REPORT_STORES], cause)) < 0)
		goto fail;
	if (kind == REPORT_DAILY) {
		if ((e = trend(c, r, cause)) < 0 ||
		    (e = kpi_rows(c, "kpi_category_day", "category", kp, NULL, &r->tables[REPORT_CATEGORIES], cause)) < 0 ||
		    (e = kpi_rows(c, "kpi_brand_day", "brand", kp, NULL, &r->tables[REPORT_BRANDS], cause)) < 0 ||
		    (e = kpi_rows(c, "kpi_product_day", "product", kp, NULL, &r->tables[REPORT_PRODUCTS], cause)) < 0)
			goto fail;
		table_finish(&r->tables[REPORT_CATEGORIES], 0);
		table_finish(&r->tables[REPORT_BRANDS], REPORT_TOP_BRANDS);
		table_finish(&r->tables[REPORT_PRODUCTS], REPORT_TOP_PRODUCTS);
	} else if ((e = period_tables(c, r, bfirst, first, last, store ? store : exclude, cause)) < 0) {
		goto fail;
	}
	free(exclude);
	*out = r;
	return 0;
fail:
	free(exclude);
	report_free(r);
	return e;
}
