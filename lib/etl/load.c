/*
 * load: a day's lines into PostgreSQL in one transaction (see load.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "etl/load.h"
#include "base/period.h"
#include "etl/salesrow.h"
#include "base/util.h"

/* COPY data is handed to libpq in pieces of about this size. */
#define COPY_CHUNK (256 * 1024)

struct buf {
	char *p;
	size_t len, cap;
};

struct load {
	PGconn *c;
	PGconn *c2;                     /* a second connection for KPI queries, or NULL */
	int32_t day;
	char date[16];                  /* YYYY-MM-DD */
	char table[48];                 /* sales_line_YYYYMMDD */
	char *exclude;                  /* {a,b} array literal for $2 */
	bool in_tx;
	bool in_copy;
	char *order_type;
	struct buf copy;                /* COPY text waiting for libpq */
	struct buf rejects;             /* COPY text of etl_reject rows */
	size_t rejects_mark;            /* rejects.len when this order type began */
	uint64_t nrejects, nrejects_mark;
	uint64_t nkept, nkept_mark;     /* rejects whose rows are in rejects (the rest: over the cap) */
	struct buf text;                /* scratch: a reject's text made safe */
	uint64_t nlines, type_lines;
	struct load_count *counts;      /* load_store_lines */
	size_t ncounts;
	bool counted;
};

static int
buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* One value in COPY text format: backslash escapes for \, tab, LF and CR; NULL as \N. */
static int
buf_value(struct buf *b, const char *v, size_t len, bool last)
{
	char *o;

	if (buf_reserve(b, v == NULL ? 3 : len * 2 + 1) < 0)
		return -ENOMEM;
	o = b->p + b->len;
	if (v == NULL) {
		*o++ = '\\';
		*o++ = 'N';
	} else {
		for (size_t i = 0; i < len; i++) {
			char ch = v[i];

			switch (ch) {
			case '\\': *o++ = '\\'; *o++ = '\\'; break;
			case '\t': *o++ = '\\'; *o++ = 't'; break;
			case '\n': *o++ = '\\'; *o++ = 'n'; break;
			case '\r': *o++ = '\\'; *o++ = 'r'; break;
			default: *o++ = ch; break;
			}
		}
	}
	*o++ = last ? '\n' : '\t';
	b->len = (size_t)(o - b->p);
	return 0;
}

static int
buf_str(struct buf *b, const char *v, bool last)
{
	return buf_value(b, v, v ? strlen(v) : 0, last);
}

/*
 * Text that PostgreSQL will take, into l->text: valid UTF-8 is kept; a byte
 * that is not part of a valid character, and NUL, becomes "\xHH". With
 * escape_backslash a backslash becomes "\\", so that the stored text reads
 * back to the bytes received, unambiguously.
 */
static int
safe_text(struct load *l, const char *s, size_t len, bool escape_backslash)
{
	static const char hex[] = "0123456789abcdef";
	struct buf *b = &l->text;
	size_t i = 0;

	b->len = 0;
	while (i < len) {
		size_t n = util_utf8_valid(s + i, len - i);

		if (buf_reserve(b, n * 2 + 4) < 0)
			return -ENOMEM;
		for (size_t k = 0; k < n; k++) {
			if (escape_backslash && s[i + k] == '\\')
				b->p[b->len++] = '\\';
			b->p[b->len++] = s[i + k];
		}
		i += n;
		if (i < len) {
			b->p[b->len++] = '\\';
			b->p[b->len++] = 'x';
			b->p[b->len++] = hex[(unsigned char)s[i] >> 4];
			b->p[b->len++] = hex[(unsigned char)s[i] & 15];
			i++;
		}
	}
	return 0;
}

static int
run(struct load *l, const char *sql, int n, const char *const *params, char **cause)
{
	return db_query(l->c, sql, n, params, NULL, "database", cause);
}

/* run() with a statement built from trusted parts (table names of digits). */
static int
runf(struct load *l, char **cause, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
runf(struct load *l, char **cause, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int e;

	va_start(ap, fmt);
	sql = util_vprintf(fmt, ap);
	va_end(ap);
	if (sql == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	e = run(l, sql, 0, NULL, cause);
	free(sql);
	return e;
}

int
load_begin(struct load **out, PGconn *c, PGconn *c2, int32_t day, const struct load_options *o,
    char **cause)
{
	struct load *l = calloc(1, sizeof *l);
	int y, m, d, e;

	if (l == NULL || (l->exclude = db_text_array(o->exclude_stores, o->nexclude)) == NULL) {
		free(l);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	l->c = c;
	l->c2 = c2;
	l->day = day;
	period_format_date(day, l->date);
	period_civil_from_day(day, &y, &m, &d);
	snprintf(l->table, sizeof l->table, "sales_line_%04d%02d%02d", y, m, d);
	if ((e = run(l, "BEGIN", 0, NULL, cause)) < 0)
		goto fail;
	l->in_tx = true;
	/* Left over by nothing (it never outlives its transaction), but be sure. */
	if ((e = runf(l, cause, "DROP TABLE IF EXISTS %s_new", l->table)) < 0 ||
	    (e = runf(l, cause, "CREATE TABLE %s_new (LIKE sales_line INCLUDING DEFAULTS, "
	    "CHECK (day = DATE '%s'))", l->table, l->date)) < 0)
		goto fail;
	*out = l;
	return 0;
fail:
	load_free(l);
	return e;
}

int
load_copy_begin(struct load *l, const char *order_type, char **cause)
{
	int e;

	free(l->order_type);
	if ((l->order_type = strdup(order_type)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	l->rejects_mark = l->rejects.len;
	l->nrejects_mark = l->nrejects;
	l->nkept_mark = l->nkept;
	l->type_lines = 0;
	l->copy.len = 0;
	if ((e = run(l, "SAVEPOINT order_type", 0, NULL, cause)) < 0)
		return e;
	{
		PGresult *res;
		char *sql = util_printf("COPY %s_new (day, order_type, line, invoice, store_invoice, "
		    "order_time, store, product_id, product, barcode, brand, category, sub_category, "
		    "quantity, selling_price, discount, total, cost_price, gst_amount, payment_method, "
		    "order_status, customer_name, customer_number) FROM STDIN", l->table);

		if (sql == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		res = PQexec(l->c, sql);
		free(sql);
		e = db_check(l->c, res, PGRES_COPY_IN, "database: COPY", cause);
		PQclear(res);
		if (e < 0)
			return e;
	}
	l->in_copy = true;
	return 0;
}

static int
copy_flush(struct load *l, char **cause)
{
	if (l->copy.len == 0)
		return 0;
	if (PQputCopyData(l->c, l->copy.p, (int)l->copy.len) != 1)
		return db_check(l->c, NULL, PGRES_COPY_IN, "database: COPY", cause);
	l->copy.len = 0;
	return 0;
}

int
load_line(struct load *l, uint64_t line_no, const struct salesrow_line *line, char **cause)
{
	char num[24];
	int e = 0;

	snprintf(num, sizeof num, "%llu", (unsigned long long)line_no);
	if (buf_str(&l->copy, l->date, false) < 0 || buf_str(&l->copy, l->order_type, false) < 0 ||
	    buf_str(&l->copy, num, false) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	for (int col = 0; col < SR_NCOLS; col++)
		if (buf_value(&l->copy, line->v[col], line->len[col], col == SR_NCOLS - 1) < 0)
			return util_fail(cause, -ENOMEM, "out of memory");
	l->type_lines++;
	if (l->copy.len >= COPY_CHUNK)
		e = copy_flush(l, cause);
	return e;
}

int
load_reject(struct load *l, uint64_t line_no, const char *field, const char *reason,
    const char *raw, size_t rawlen, char **cause)
{
	char num[24];

	/*
	 * Past the cap the reject is counted (so the day's share of rejects and
	 * etl_day.rejected stay exact) but not kept; etl quarantines such a day
	 * (load_rejects_dropped). Either way the parse goes on.
	 */
	l->nrejects++;
	if (l->rejects.len > LOAD_REJECTS_MAX)
		return 0;
	/* Cut the raw text on a UTF-8 boundary, so that a whole character is not escaped in halves. */
	if (rawlen > LOAD_REJECT_RAW_MAX) {
		rawlen = LOAD_REJECT_RAW_MAX;
		for (int k = 0; k < 3 && rawlen > 0 && ((unsigned char)raw[rawlen] & 0xc0) == 0x80; k++)
			rawlen--;
	}
	snprintf(num, sizeof num, "%llu", (unsigned long long)line_no);
	if (buf_str(&l->rejects, l->date, false) < 0 || buf_str(&l->rejects, l->order_type, false) < 0 ||
	    buf_str(&l->rejects, num, false) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	/* Every value must be text PostgreSQL takes: one bad byte would fail the day's COPY. */
	if (field == NULL) {
		if (buf_value(&l->rejects, NULL, 0, false) < 0)
			return util_fail(cause, -ENOMEM, "out of memory");
	} else if (safe_text(l, field, strlen(field), false) < 0 ||
	    buf_value(&l->rejects, l->text.p, l->text.len, false) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	if (safe_text(l, reason, strlen(reason), false) < 0 ||
	    buf_value(&l->rejects, l->text.p, l->text.len, false) < 0 ||
	    safe_text(l, raw, rawlen, true) < 0 || buf_value(&l->rejects, l->text.p, l->text.len, true) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	l->nkept++;
	return 0;
}

uint64_t
load_rejects_dropped(const struct load *l)
{
	return l->nrejects - l->nkept;
}

/* Wait for the COPY's result. */
static int
copy_result(struct load *l, char **cause)
{
	PGresult *res;
	int e = 0;

	while ((res = PQgetResult(l->c)) != NULL) {
		if (e == 0)
			e = db_check(l->c, res, PGRES_COMMAND_OK, "database: COPY", cause);
		PQclear(res);
	}
	return e;
}

int
load_copy_end(struct load *l, uint64_t *rows, char **cause)
{
	int e;

	if ((e = copy_flush(l, cause)) < 0)
		return e;
	l->in_copy = false;
	if (PQputCopyEnd(l->c, NULL) != 1)
		return db_check(l->c, NULL, PGRES_COMMAND_OK, "database: COPY", cause);
	if ((e = copy_result(l, cause)) < 0 || (e = run(l, "RELEASE SAVEPOINT order_type", 0, NULL, cause)) < 0)
		return e;
	l->nlines += l->type_lines;
	if (rows != NULL)
		*rows = l->type_lines;
	return 0;
}

int
load_copy_abort(struct load *l, const char *why, char **cause)
{
	char *ignored = NULL;

	if (l->in_copy) {
		l->in_copy = false;
		/* The server fails the COPY with our reason; that error is expected. */
		PQputCopyEnd(l->c, why);
		copy_result(l, &ignored);
		free(ignored);
	}
	l->copy.len = 0;
	l->rejects.len = l->rejects_mark;
	l->nrejects = l->nrejects_mark;
	l->nkept = l->nkept_mark;
	l->type_lines = 0;
	return run(l, "ROLLBACK TO SAVEPOINT order_type", 0, NULL, cause);
}

uint64_t
load_nlines(const struct load *l)
{
	return l->nlines;
}

uint64_t
load_nrejects(const struct load *l)
{
	return l->nrejects;
}

/* COPY len bytes of COPY text into the table of sql ("COPY ... FROM STDIN"). */
static int
copy_in(struct load *l, const char *sql, const char *data, size_t len, char **cause)
{
	PGresult *res = PQexec(l->c, sql);
	char *what = util_printf("database: %s", sql);
	int e = db_check(l->c, res, PGRES_COPY_IN, what ? what : "database: COPY", cause);

	PQclear(res);
	if (e < 0)
		goto out;
	for (size_t off = 0; off < len; off += COPY_CHUNK) {
		size_t n = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;

		if (PQputCopyData(l->c, data + off, (int)n) != 1)
			break;
	}
	if (PQputCopyEnd(l->c, NULL) != 1)
		e = db_check(l->c, NULL, PGRES_COMMAND_OK, what ? what : "database: COPY", cause);
	else
		e = copy_result(l, cause);
out:
	free(what);
	return e;
}

/* Replace the day's rejects with ours (in the open transaction). */
static int
store_rejects(struct load *l, char **cause)
{
	const char *p[] = { l->date };
	int e;

	if ((e = run(l, "DELETE FROM etl_reject WHERE day = $1", 1, p, cause)) < 0)
		return e;
	if (l->rejects.len == 0)
		return 0;
	return copy_in(l, "COPY etl_reject (day, order_type, line, field, reason, raw) FROM STDIN",
	    l->rejects.p, l->rejects.len, cause);
}

/* The day's row of etl_day; content with another digest than before is a new version. */
static int
record_day(struct load *l, const char *state, const char *order_types, const char *error, const char *digest,
    char **cause)
{
	char lines[24], rejected[24];
	const char *p[] = { l->date, state, lines, rejected, order_types, error, digest };

	snprintf(lines, sizeof lines, "%llu", (unsigned long long)l->nlines);
	snprintf(rejected, sizeof rejected, "%llu", (unsigned long long)l->nrejects);
	return run(l, "INSERT INTO etl_day (day, state, lines, rejected, order_types, error, loaded_at, digest) "
	    "VALUES ($1, $2, $3, $4, $5, $6, now(), $7) ON CONFLICT (day) DO UPDATE SET state = $2, "
	    "lines = $3, rejected = $4, order_types = $5, error = $6, loaded_at = now(), digest = $7, "
	    "version = etl_day.version + CASE WHEN etl_day.digest IS NOT NULL AND $7::text IS NOT NULL AND "
	    "etl_day.digest <> $7 THEN 1 ELSE 0 END", 7, p, cause);
}

int
load_store_lines(struct load *l, const struct load_count **v, size_t *n, char **cause)
{
	const char *p[] = { l->exclude };
	PGresult *res;
	char *sql;
	int e;

	if (!l->counted) {
		if ((sql = util_printf("SELECT store COLLATE \"C\", count(*) FROM %s_new WHERE store <> ALL ($1::text[]) "
		    "GROUP BY 1 ORDER BY 1", l->table)) == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		e = db_query(l->c, sql, 1, p, &res, "database", cause);
		free(sql);
		if (e < 0)
			return e;
		if ((l->counts = calloc((size_t)PQntuples(res) + 1, sizeof *l->counts)) == NULL) {
			PQclear(res);
			return util_fail(cause, -ENOMEM, "out of memory");
		}
		for (int k = 0; k < PQntuples(res); k++) {
			if ((l->counts[k].store = strdup(PQgetvalue(res, k, 0))) == NULL) {
				PQclear(res);
				return util_fail(cause, -ENOMEM, "out of memory");
			}
			l->counts[k].lines = strtoll(PQgetvalue(res, k, 1), NULL, 10);
			l->ncounts++;
		}
		PQclear(res);
		l->counted = true;
	}
	*v = l->counts;
	*n = l->ncounts;
	return 0;
}

/* Replace the day's rows of etl_store_day with the counts (none: leave it empty). */
static int
store_counts(struct load *l, bool keep, char **cause)
{
	char lines[24];
	int e;

	if ((e = run(l, "DELETE FROM etl_store_day WHERE day = $1", 1, (const char *[]){ l->date }, cause)) < 0)
		return e;
	for (size_t i = 0; keep && i < l->ncounts && e == 0; i++) {
		snprintf(lines, sizeof lines, "%lld", (long long)l->counts[i].lines);
		e = run(l, "INSERT INTO etl_store_day (day, store, lines) VALUES ($1, $2, $3)", 3,
		    (const char *[]){ l->date, l->counts[i].store, lines }, cause);
	}
	return e;
}

static const char *const kpi_tables[][2] = {
	{ "kpi_store_day", "store" },
	{ "kpi_category_day", "category" },
	{ "kpi_brand_day", "brand" },
	{ "kpi_product_day", "product" },
};
#define NKPI UTIL_NELEM(kpi_tables)

/* The KPI rows of one table, as a SELECT over the day's lines in table. */
static char *
kpi_select(const char *table, size_t k)
{
	/*
	 * Grouping needs equality, not the locale's order: byte order ("C")
	 * sorts the million keys and invoices faster.
	 */
	return util_printf("SELECT $1::date, %s COLLATE \"C\", count(DISTINCT invoice COLLATE \"C\"), "
	    "sum(total), sum(quantity), coalesce(sum(cost_price * quantity), 0), "
	    "round(sum(total) / count(DISTINCT invoice COLLATE \"C\"), 2) "
	    "FROM %s WHERE store <> ALL ($2::text[]) GROUP BY %s COLLATE \"C\"",
	    kpi_tables[k][1], table, kpi_tables[k][1]);
}

/* Send the SELECT of KPI table k on c. */
static int
kpi_send(struct load *l, PGconn *c, const char *table, size_t k, char **cause)
{
	const char *p[] = { l->date, l->exclude };
	char *sql = kpi_select(table, k);
	int ok;

	if (sql == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	ok = PQsendQueryParams(c, sql, 2, NULL, p, NULL, NULL, 0);
	free(sql);
	return ok ? 0 : db_check(c, NULL, PGRES_TUPLES_OK, "database", cause);
}

/* The result of the query in flight on c. */
static int
kpi_receive(PGconn *c, PGresult **out, char **cause)
{
	PGresult *res;
	int e = 0;

	*out = NULL;
	while ((res = PQgetResult(c)) != NULL) {
		if (e == 0)
			e = db_check(c, res, PGRES_TUPLES_OK, "database: KPI query", cause);
		if (e == 0 && *out == NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
			*out = res;
		else
			PQclear(res);
	}
	if (e < 0) {
		PQclear(*out);
		*out = NULL;
	}
	return e;
}

/*
 * The four KPI results of the day's lines in table. With a second
 * connection, two queries run at a time (the table must then be committed,
 * so that the other session sees it): the server sorts on both cores.
 */
static int
kpi_compute(struct load *l, const char *table, PGresult *out[NKPI], char **cause)
{
	int e = 0;

	for (size_t k = 0; k < NKPI; k++)
		out[k] = NULL;
	for (size_t k = 0; k < NKPI && e == 0; k += l->c2 ? 2 : 1) {
		if ((e = kpi_send(l, l->c, table, k, cause)) < 0)
			break;
		if (l->c2 != NULL && (e = kpi_send(l, l->c2, table, k + 1, cause)) < 0) {
			PGresult *ignored;

			kpi_receive(l->c, &ignored, NULL);
			PQclear(ignored);
			break;
		}
		e = kpi_receive(l->c, &out[k], cause);
		if (l->c2 != NULL) {
			int e2 = kpi_receive(l->c2, &out[k + 1], e == 0 ? cause : NULL);

			e = e < 0 ? e : e2;
		}
	}
	return e;
}

/* Replace the day's rows of every KPI table with res (NULL: leave them empty). */
static int
kpi_store(struct load *l, PGresult *res[NKPI], char **cause)
{
	const char *p[] = { l->date };
	struct buf b = { 0 };
	int e = 0;

	for (size_t k = 0; k < NKPI && e == 0; k++) {
		char *sql = util_printf("DELETE FROM %s WHERE day = $1", kpi_tables[k][0]);

		if (sql == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
		e = run(l, sql, 1, p, cause);
		free(sql);
		if (e < 0 || res == NULL || res[k] == NULL || PQntuples(res[k]) == 0)
			continue;
		b.len = 0;
		for (int row = 0; row < PQntuples(res[k]); row++)
			for (int col = 0; col < 7; col++)
				if (buf_value(&b, PQgetisnull(res[k], row, col) ? NULL : PQgetvalue(res[k], row, col),
				    (size_t)PQgetlength(res[k], row, col), col == 6) < 0) {
					free(b.p);
					return util_fail(cause, -ENOMEM, "out of memory");
				}
		sql = util_printf("COPY %s (day, %s, orders, sales, quantity, cost, aov) FROM STDIN",
		    kpi_tables[k][0], kpi_tables[k][1]);
		if (sql == NULL) {
			free(b.p);
			return util_fail(cause, -ENOMEM, "out of memory");
		}
		e = copy_in(l, sql, b.p, b.len, cause);
		free(sql);
	}
	free(b.p);
	return e;
}

int
load_commit(struct load *l, const char *order_types, const struct load_outcome *o, char **cause)
{
	char *newtable = util_printf("%s_new", l->table);
	PGresult *kpi[NKPI] = { NULL };
	const struct load_count *counts;
	size_t ncounts;
	int y, m, d, e;
	char next[16];

	if (newtable == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	if ((e = load_store_lines(l, &counts, &ncounts, cause)) < 0)
		goto out;
	period_civil_from_day(l->day + 1, &y, &m, &d);
	snprintf(next, sizeof next, "%04d-%02d-%02d", y, m, d);
	/*
	 * With a second connection the new lines are committed first, as a
	 * table nobody reads (not attached; a crash leaves it to the next
	 * load_begin, which drops it), so that both sessions can read them.
	 * The day itself changes only in the last transaction.
	 */
	if (l->c2 != NULL) {
		if ((e = run(l, "COMMIT", 0, NULL, cause)) < 0)
			goto out;
		l->in_tx = false;
	}
	/* The swap attaches the day; a matching index makes ATTACH adopt it, not build it. */
	if ((e = kpi_compute(l, newtable, kpi, cause)) < 0 ||
	    (e = runf(l, cause, "CREATE INDEX ON %s (store)", newtable)) < 0)
		goto out;
	if (!l->in_tx) {
		if ((e = run(l, "BEGIN", 0, NULL, cause)) < 0)
			goto out;
		l->in_tx = true;
	}
	if ((e = store_rejects(l, cause)) < 0 || (e = kpi_store(l, kpi, cause)) < 0 ||
	    (e = store_counts(l, true, cause)) < 0 ||
	    (e = runf(l, cause, "DROP TABLE IF EXISTS %s", l->table)) < 0 ||
	    (e = runf(l, cause, "ALTER TABLE %s RENAME TO %s", newtable, l->table)) < 0 ||
	    (e = runf(l, cause, "ALTER TABLE sales_line ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
	    l->table, l->date, next)) < 0 ||
	    (e = record_day(l, o->state, order_types, o->error, o->digest, cause)) < 0 ||
	    (o->hook != NULL && (e = o->hook(o->arg, l->c, cause)) < 0) ||
	    (e = run(l, "COMMIT", 0, NULL, cause)) < 0)
		goto out;
	l->in_tx = false;
	/*
	 * Fresh statistics for the reports' queries on the KPI tables: without
	 * them the planner takes the new rows for none and sorts on disk what it
	 * could hash. (The day's lines are left to autovacuum: analysing a
	 * million lines costs 0.7 s, and the per-store plans do not need it.)
	 * The day is committed; a failure here costs speed, not data.
	 */
	if (run(l, "ANALYZE kpi_store_day, kpi_category_day, kpi_brand_day, kpi_product_day", 0, NULL,
	    NULL) < 0)
		e = 0;
out:
	for (size_t k = 0; k < NKPI; k++)
		PQclear(kpi[k]);
	free(newtable);
	return e;
}

int
load_quarantine(struct load *l, const char *order_types, const char *error, char **cause)
{
	int e;

	if (l->in_copy) {
		char *ignored = NULL;

		l->in_copy = false;
		PQputCopyEnd(l->c, "quarantined");
		copy_result(l, &ignored);
		free(ignored);
	}
	if ((e = run(l, "ROLLBACK", 0, NULL, cause)) < 0)
		return e;
	l->in_tx = false;
	if ((e = run(l, "BEGIN", 0, NULL, cause)) < 0)
		return e;
	l->in_tx = true;
	if ((e = store_rejects(l, cause)) < 0 || (e = kpi_store(l, NULL, cause)) < 0 ||
	    (e = store_counts(l, false, cause)) < 0 ||
	    (e = run(l, "DELETE FROM etl_gap WHERE day = $1", 1, (const char *[]){ l->date }, cause)) < 0 ||
	    (e = runf(l, cause, "DROP TABLE IF EXISTS %s", l->table)) < 0)
		return e;
	l->nlines = 0;
	if ((e = record_day(l, "quarantined", order_types, error, NULL, cause)) < 0 ||
	    (e = run(l, "COMMIT", 0, NULL, cause)) < 0)
		return e;
	l->in_tx = false;
	return 0;
}

void
load_free(struct load *l)
{
	if (l == NULL)
		return;
	if (l->in_copy) {
		PGresult *res;

		PQputCopyEnd(l->c, "abandoned");
		while ((res = PQgetResult(l->c)) != NULL)
			PQclear(res);
	}
	if (l->in_tx)
		db_rollback(l->c);
	for (size_t i = 0; i < l->ncounts; i++)
		free(l->counts[i].store);
	free(l->counts);
	free(l->copy.p);
	free(l->rejects.p);
	free(l->text.p);
	free(l->exclude);
	free(l->order_type);
	free(l);
}
