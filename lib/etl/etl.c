/*
 * etl: one day from the POS API into PostgreSQL (see etl.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/db.h"
#include "etl/etl.h"
#include "etl/digest.h"
#include "etl/extract.h"
#include "etl/gate.h"
#include "etl/load.h"
#include "base/period.h"
#include "etl/salesrow.h"
#include "base/util.h"

/* One order type's body on its way into the load. */
struct body {
	const char *order_type;
	const char *date;
	struct salesrow_rules *rules;
	int32_t day;
	struct load *load;
	struct csv *csv;
	struct salesrow_file *file;
	bool header;
	uint64_t bytes;
	enum salesrow_date_format format;
	etl_progress_fn progress;
	void *arg;
	const struct gate_verdict *verdict;
	struct digest digest;           /* this order type's records */
	struct digest total;            /* the order types that have ended */
	struct restate *restate;        /* the day changed after its reports could go out; or NULL */
};

/* A day's figures per store before a reload that changes it (etl_restatement). */
struct restate {
	char *stores, *sales, *lines;   /* array literals, parallel */
};

static void
progress(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
progress(struct body *b, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (b->progress == NULL)
		return;
	va_start(ap, fmt);
	msg = util_vprintf(fmt, ap);
	va_end(ap);
	b->progress(b->arg, msg ? msg : "(out of memory)");
	free(msg);
}

static int
on_record(void *arg, const struct csv_row *row, char **cause)
{
	struct body *b = arg;
	struct salesrow_line line;
	struct salesrow_reject rej;
	int r;

	if (!b->header) {
		b->header = true;
		if ((r = salesrow_header(b->file, row, cause)) < 0) {
			char *why = *cause;

			*cause = util_printf("%s %s: %s; nothing was loaded", b->order_type, b->date, why);
			free(why);
		}
		return r;
	}
	if ((r = salesrow_record(b->file, row, &line, &rej)) < 0)
		return util_fail(cause, r, "out of memory");
	if (r == 0) {
		const char *raw = row->raw;

		digest_add(&b->digest, "reject", &raw, &row->rawlen, 1);
		return b->load ? load_reject(b->load, row->line, rej.field, rej.reason, row->raw, row->rawlen,
		    cause) : 0;
	}
	digest_add(&b->digest, b->order_type, line.v, line.len, SR_NCOLS);
	return b->load ? load_line(b->load, row->line, &line, cause) : 0;
}

/* Fresh parser state for a body (first try or a retry). */
static int
body_open(struct body *b, char **cause)
{
	csv_free(b->csv);
	salesrow_file_free(b->file);
	b->csv = NULL;
	b->file = NULL;
	b->header = false;
	b->bytes = 0;
	digest_init(&b->digest);
	if (csv_new(&b->csv, on_record, b) < 0 || salesrow_file_new(&b->file, b->rules, b->day) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	return b->load ? load_copy_begin(b->load, b->order_type, cause) : 0;
}

static int
sink_restart(void *arg, const char *why, char **cause)
{
	struct body *b = arg;
	int r;

	if (b->load != NULL && (r = load_copy_abort(b->load, why, cause)) < 0)
		return r;
	return body_open(b, cause);
}

static int
sink_data(void *arg, const char *buf, size_t len, char **cause)
{
	struct body *b = arg;

	b->bytes += len;
	return csv_feed(b->csv, buf, len, cause);
}

static int
sink_end(void *arg, char **cause)
{
	struct body *b = arg;
	uint64_t rows = 0;
	int r;

	if ((r = csv_finish(b->csv, cause)) < 0)
		return r;
	if (!b->header)
		return util_fail(cause, -EPROTO, "%s %s: the body is empty, not even a header row; "
		    "the POS API sent nothing", b->order_type, b->date);
	if ((r = salesrow_finish(b->file, &b->format, cause)) < 0) {
		char *why = *cause;

		*cause = util_printf("%s %s: %s; nothing was loaded", b->order_type, b->date, why);
		free(why);
		return r;
	}
	if (b->load != NULL && (r = load_copy_end(b->load, &rows, cause)) < 0)
		return r;
	digest_merge(&b->total, &b->digest);
	if (b->load != NULL)
		progress(b, "%s %s: %llu lines, %llu bytes", b->order_type, b->date, (unsigned long long)rows,
		    (unsigned long long)b->bytes);
	return 0;
}

static void
on_notice(void *arg, const char *what)
{
	struct body *b = arg;

	progress(b, "%s %s: %s", b->order_type, b->date, what);
}

/* "1%" as 0.01. */
static double
percent(const char *v)
{
	return strtod(v, NULL) / 100;
}

/*
 * What changes with the day, in its last transaction: the gate's reasons,
 * and for a restated day what changed per store (etl_restatement, at the
 * version record_day just gave the day).
 */
static int
record_gaps(void *arg, PGconn *c, char **cause)
{
	const struct body *b = arg;
	int e;

	if ((e = gate_record(c, b->day, b->verdict, cause)) < 0 || b->restate == NULL)
		return e;
	return db_query(c, "INSERT INTO etl_restatement (day, version, store, old_lines, new_lines, old_sales, "
	    "new_sales) SELECT $1, (SELECT version FROM etl_day WHERE day = $1), coalesce(o.store, n.store), "
	    "coalesce(o.lines, 0), coalesce(n.lines, 0), coalesce(o.sales, 0), coalesce(n.sales, 0) "
	    "FROM (SELECT * FROM unnest($2::text[], $3::numeric[], $4::bigint[]) AS u(store, sales, lines)) o "
	    "FULL JOIN (SELECT k.store, k.sales, coalesce(s.lines, 0) AS lines FROM kpi_store_day k "
	    "LEFT JOIN etl_store_day s ON s.day = k.day AND s.store = k.store WHERE k.day = $1) n "
	    "ON n.store = o.store WHERE coalesce(o.sales, 0) <> coalesce(n.sales, 0) "
	    "OR coalesce(o.lines, 0) <> coalesce(n.lines, 0)", 4, (const char *[]){ b->date,
	    b->restate->stores, b->restate->sales, b->restate->lines }, NULL, "database: etl_restatement", cause);
}

static void
restate_free(struct restate *rs)
{
	if (rs == NULL)
		return;
	free(rs->stores);
	free(rs->sales);
	free(rs->lines);
	free(rs);
}

/*
 * Before a reload: was the day loaded before with other content, while its
 * reports could go out (loaded, or released)? Then it is a restatement: the
 * figures per store as they were go to *out (else NULL), and res->version
 * gets the day's version so far.
 */
static int
restate_begin(PGconn *c, const char *date, const char *digest, struct etl_result *res, struct restate **out,
    char **cause)
{
	struct restate *rs = NULL;
	PGresult *q = NULL;
	char **stores = NULL, **sales = NULL, **lines = NULL;
	int e, n;

	*out = NULL;
	if ((e = db_query(c, "SELECT version FROM etl_day WHERE day = $1 AND digest IS NOT NULL AND digest <> $2 "
	    "AND (state = 'loaded' OR released IS NOT NULL)", 2, (const char *[]){ date, digest }, &q,
	    "database", cause)) < 0)
		return e;
	n = PQntuples(q);
	if (n == 1)
		res->version = atoi(PQgetvalue(q, 0, 0));
	PQclear(q);
	if (n == 0)
		return 0;
	if ((e = db_query(c, "SELECT k.store, k.sales::text, coalesce(s.lines, 0)::text FROM kpi_store_day k "
	    "LEFT JOIN etl_store_day s ON s.day = k.day AND s.store = k.store WHERE k.day = $1", 1,
	    (const char *[]){ date }, &q, "database", cause)) < 0)
		return e;
	n = PQntuples(q);
	if ((rs = calloc(1, sizeof *rs)) == NULL || (stores = calloc((size_t)n + 1, sizeof *stores)) == NULL ||
	    (sales = calloc((size_t)n + 1, sizeof *sales)) == NULL ||
	    (lines = calloc((size_t)n + 1, sizeof *lines)) == NULL)
		e = -ENOMEM;
	for (int k = 0; e == 0 && k < n; k++) {
		stores[k] = PQgetvalue(q, k, 0);
		sales[k] = PQgetvalue(q, k, 1);
		lines[k] = PQgetvalue(q, k, 2);
	}
	if (e == 0 && ((rs->stores = db_text_array(stores, (size_t)n)) == NULL ||
	    (rs->sales = db_text_array(sales, (size_t)n)) == NULL || (rs->lines = db_text_array(lines, (size_t)n)) == NULL))
		e = -ENOMEM;
	free(stores);
	free(sales);
	free(lines);
	PQclear(q);
	if (e < 0) {
		restate_free(rs);
		return util_fail(cause, e, "out of memory");
	}
	*out = rs;
	return 0;
}

/* The day's release (etl_day.released) into res, after the load. */
static int
read_release(PGconn *c, const char *date, struct etl_result *res, char **cause)
{
	PGresult *q;
	int e;

	if ((e = db_query(c, "SELECT coalesce(released, '') FROM etl_day WHERE day = $1", 1,
	    (const char *[]){ date }, &q, "database", cause)) < 0)
		return e;
	if (PQntuples(q) == 1)
		snprintf(res->released, sizeof res->released, "%s", PQgetvalue(q, 0, 0));
	PQclear(q);
	return 0;
}

/* How run_day treats the day. */
enum run_mode {
	RUN_LOAD,               /* load it */
	RUN_CHECK,              /* only read it for its digest: no write, no database */
	RUN_RELOAD,             /* a recheck found it changed: load it, unless it became incomplete */
};

/*
 * The day from the POS API, as mode says. A recheck never replaces a day
 * loaded complete with one the gate finds incomplete: an API that answers
 * less for an old day than it did is far likelier to be failing than the
 * stores to have unsold; the loaded day stays, and res->incomplete says so.
 */
static int
run_day(const struct config *cfg, int32_t day, enum run_mode mode, etl_progress_fn progress_fn, void *arg,
    struct etl_result *res, char **cause)
{
	bool check_only = mode == RUN_CHECK;
	struct extract_options xo = {
		.base_url = cfg->source.base_url,
		.username = cfg->source.username,
		.password = cfg->source.password,
		.ca_file = cfg->source.ca_file,
		.connect_timeout_ms = (long)cfg->source.connect_timeout_ms,
		.stall_timeout_ms = (long)cfg->source.stall_timeout_ms,
		.retries = (int)cfg->source.request_retries,
		.retry_delay_ms = (long)cfg->source.request_retry_delay_ms,
	};
	struct salesrow_options so = {
		.customer = strcmp(cfg->source.customer_data, "keep") == 0 ?
		    SALESROW_CUSTOMER_KEEP : strcmp(cfg->source.customer_data, "hash") == 0 ?
		    SALESROW_CUSTOMER_HASH : SALESROW_CUSTOMER_DROP,
		.aliases_path = cfg->source.aliases,
		.hash_key = cfg->source.customer_hash_key,
	};
	struct load_options lo = { 0 };
	struct gate_rules gr = { 0 };
	struct gate_verdict gv = { 0 };
	const struct load_count *counts;
	size_t ncounts;
	char *gaps = NULL;
	struct body b = { 0 };
	struct salesrow_rules *rules = NULL;
	struct extract *x = NULL;
	struct load *l = NULL;
	PGconn *c = NULL, *c2 = NULL;
	char date[16], *types_text = NULL, *tmp;
	char *const *types;
	size_t ntypes;
	double rate;
	int r;

	memset(res, 0, sizeof *res);
	period_format_date(day, date);
	types = cfg->source.order_types.v;
	ntypes = cfg->source.order_types.n;
	lo.exclude_stores = cfg->salesd.exclude_stores.v;
	lo.nexclude = cfg->salesd.exclude_stores.n;
	if (xo.base_url == NULL || ntypes == 0)
		return util_fail(cause, -EINVAL, "[source] base_url and order_types must be set for the ETL");
	if (salesrow_date_format_parse(cfg->source.date_format, &so.date_format) < 0)
		return util_fail(cause, -EINVAL, "[source] date_format: unknown format");
	for (size_t i = 0; i < ntypes; i++) {
		tmp = util_printf("%s%s%s", types_text ? types_text : "", i ? "," : "", types[i]);
		free(types_text);
		if ((types_text = tmp) == NULL)
			return util_fail(cause, -ENOMEM, "out of memory");
	}
	b.date = date;
	b.day = day;
	b.progress = progress_fn;
	b.arg = arg;
	b.format = so.date_format;
	if ((r = salesrow_rules_new(&rules, &so, cause)) < 0)
		goto out;
	b.rules = rules;
	if (salesrow_rules_naliases(rules) > 0)
		progress(&b, "%zu aliases from %s", salesrow_rules_naliases(rules), so.aliases_path);
	if ((r = extract_new(&x, &xo, on_notice, &b, cause)) < 0)
		goto out;
	if (!check_only && (r = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		r = r == -ECONNREFUSED ? -EAGAIN : r;
		goto out;
	}
	/* A second session computes half of the KPIs; without one, all run on the first. */
	if (!check_only && db_connect(&c2, cfg->database.conninfo, cfg->database.schema, NULL) < 0)
		c2 = NULL;
	if (!check_only && (r = load_begin(&l, c, c2, day, &lo, cause)) < 0)
		goto out;
	b.load = l;
	for (size_t i = 0; i < ntypes; i++) {
		b.order_type = types[i];
		if ((r = body_open(&b, cause)) < 0)
			goto out;
		if ((r = extract_day(x, types[i], date, &(struct extract_sink){ sink_restart, sink_data,
		    sink_end, &b }, NULL, cause)) < 0)
			goto out;
	}
	if (check_only) {
		digest_format(&b.total, res->digest);
		res->lines = b.total.n;
		r = 0;
		goto out;
	}
	res->lines = load_nlines(l);
	res->rejected = load_nrejects(l);
	snprintf(res->date_format, sizeof res->date_format, "%s", salesrow_date_format_name(b.format));
	rate = res->lines + res->rejected > 0 ? (double)res->rejected / (double)(res->lines + res->rejected) : 0;
	/* Rejects beyond what can be recorded: whatever the threshold, nobody could check them. */
	if (load_rejects_dropped(l) > 0 || (res->rejected > 0 && rate > percent(cfg->source.reject_threshold))) {
		char *why = load_rejects_dropped(l) > 0 ?
		    util_printf("%s: %llu rows were rejected, more than can be recorded (%u MiB of them; "
		    "%llu are not in %s.etl_reject): the day is quarantined and its reports are withheld",
		    date, (unsigned long long)res->rejected, LOAD_REJECTS_MAX >> 20,
		    (unsigned long long)load_rejects_dropped(l), cfg->database.schema) :
		    util_printf("%s: %.2f%% of the rows were rejected (%llu of %llu), above "
		    "[source] reject_threshold %s: the day is quarantined and its reports are withheld; "
		    "the rows and reasons are in %s.etl_reject", date, rate * 100,
		    (unsigned long long)res->rejected, (unsigned long long)(res->lines + res->rejected),
		    cfg->source.reject_threshold, cfg->database.schema);

		if (why == NULL) {
			r = util_fail(cause, -ENOMEM, "out of memory");
			goto out;
		}
		if ((r = load_quarantine(l, types_text, why, cause)) < 0) {
			free(why);
			goto out;
		}
		res->quarantined = true;
		res->lines = 0;
		r = -EBADMSG;
		*cause = why;
		goto out;
	}
	/* The completeness gate: the day against the chain's own history, in the same transaction. */
	gr.short_store = percent(cfg->source.short_store);
	gr.short_day = percent(cfg->source.short_day);
	gr.closed = cfg->salesd.closed_stores.v;
	gr.nclosed = cfg->salesd.closed_stores.n;
	if ((r = load_store_lines(l, &counts, &ncounts, cause)) < 0 ||
	    (r = gate_judge(c, &gr, day, counts, ncounts, &gv, cause)) < 0)
		goto out;
	if (mode == RUN_RELOAD && gv.n > 0) {
		char *why = gate_describe(&gv);

		progress(&b, "%s: the POS system now answers with an incomplete day (%s); what was loaded "
		    "before stays", date, why ? why : "out of memory");
		free(why);
		res->incomplete = true;
		r = 0;
		goto out;
	}
	if (gv.n > 0 && (gaps = gate_describe(&gv)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto out;
	}
	b.verdict = &gv;
	digest_format(&b.total, res->digest);
	if ((r = restate_begin(c, date, res->digest, res, &b.restate, cause)) < 0 ||
	    (r = load_commit(l, types_text, &(struct load_outcome){ gv.n > 0 ? "incomplete" : "loaded", gaps,
	    res->digest, record_gaps, &b }, cause)) < 0 || (r = read_release(c, date, res, cause)) < 0)
		goto out;
	if (b.restate != NULL) {
		res->restated = true;
		res->version++;
		progress(&b, "%s was restated by the POS system: its content differs from version %d; loaded as "
		    "version %d, the differences per store are in %s.etl_restatement", date, res->version - 1,
		    res->version, cfg->database.schema);
	}
	if (gv.n > 0) {
		res->incomplete = true;
		util_utf8_snprintf(res->gaps, sizeof res->gaps, "%s", gaps);
		progress(&b, "%s loaded as incomplete: %llu lines, %llu rejected (orderDate as %s); %s", date,
		    (unsigned long long)res->lines, (unsigned long long)res->rejected, res->date_format, gaps);
	} else
		progress(&b, "%s loaded: %llu lines, %llu rejected (orderDate as %s)", date,
		    (unsigned long long)res->lines, (unsigned long long)res->rejected, res->date_format);
out:
	/*
	 * A lost connection to PostgreSQL heals by waiting, whatever the call
	 * that noticed it reported; bad data and bad configuration do not.
	 */
	if (r == -ECONNREFUSED || (r < 0 && r != -EBADMSG && r != -EINVAL && r != -ENOMEM && c != NULL &&
	    PQstatus(c) != CONNECTION_OK))
		r = -EAGAIN;
	load_free(l);
	restate_free(b.restate);
	gate_verdict_done(&gv);
	free(gaps);
	csv_free(b.csv);
	salesrow_file_free(b.file);
	PQfinish(c2);
	PQfinish(c);
	extract_free(x);
	salesrow_rules_free(rules);
	free(types_text);
	return r;
}

int
etl_stores_that_sold(PGconn *c, int32_t first, int32_t last, char ***stores, size_t *n, char **cause)
{
	char from[16], to[16];
	char **v = NULL;
	PGresult *res;
	int e, rows;

	period_format_date(first, from);
	period_format_date(last, to);
	if ((e = db_query(c, "SELECT DISTINCT store FROM kpi_store_day WHERE day BETWEEN $1 AND $2 "
	    "ORDER BY store", 2, (const char *[]){ from, to }, &res, "database", cause)) < 0)
		return e;
	rows = PQntuples(res);
	if ((v = calloc((size_t)rows + 1, sizeof *v)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	for (int k = 0; e == 0 && k < rows; k++)
		if ((v[k] = strdup(PQgetvalue(res, k, 0))) == NULL)
			e = util_fail(cause, -ENOMEM, "out of memory");
	PQclear(res);
	if (e < 0) {
		util_strv_free(v);
		return e;
	}
	*stores = v;
	*n = (size_t)rows;
	return 0;
}

int
etl_deadline(const struct config *cfg, const struct tz *zone, int32_t day, int64_t *out, char **cause)
{
	int y, m, d, hh = 0, mm = 0;

	period_civil_from_day(day + 1, &y, &m, &d);
	if (sscanf(cfg->source.settle_until, "%d:%d", &hh, &mm) != 2 ||
	    tz_from_civil(zone, y, m, d, hh, mm, 0, out) < 0)
		return util_fail(cause, -EINVAL, "[source] settle_until \"%s\": not a time of day",
		    cfg->source.settle_until);
	return 0;
}

int
etl_settle(const struct config *cfg, const struct tz *zone, int32_t day, int64_t now,
    struct etl_result *res, int64_t *deadline, char **cause)
{
	char date[16], when[64];
	PGconn *c = NULL;
	PGresult *q = NULL;
	struct tz_local lt;
	int e;

	if (!res->incomplete || res->released[0] != '\0')
		return 0;
	period_format_date(day, date);
	if ((e = etl_deadline(cfg, zone, day, deadline, cause)) < 0)
		return e;
	if (tz_to_local(zone, *deadline, &lt) < 0)
		return util_fail(cause, -EINVAL, "[salesd] timezone: the deadline is out of range");
	snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d %s", lt.year, lt.mon, lt.mday, lt.hour, lt.min,
	    lt.abbr);
	if (now < *deadline)
		return util_fail(cause, -EINPROGRESS, "%s is incomplete (%s): held; its reports wait, and the "
		    "ETL tries again until %s ([source] settle_until)", date, res->gaps, when);
	if (strcmp(cfg->source.incomplete, "deliver-with-warning") != 0)
		return util_fail(cause, -EBADMSG, "%s is still incomplete at %s (%s): withheld, its reports are "
		    "not delivered ([source] incomplete = withhold); once the data is right: salesd run etl "
		    "--date %s --force, or to send them as they are: salesd run etl --date %s --accept-incomplete",
		    date, when, res->gaps, date, date);
	if ((e = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0)
		return e == -ECONNREFUSED ? -EAGAIN : e;
	e = db_query(c, "UPDATE etl_day SET released = 'warning', released_by = $2, released_at = now() "
	    "WHERE day = $1 AND state = 'incomplete' AND released IS NULL", 2, (const char *[]){ date,
	    "salesd: [source] incomplete = deliver-with-warning" }, &q, "database", cause);
	PQclear(q);
	PQfinish(c);
	if (e < 0)
		return e;
	snprintf(res->released, sizeof res->released, "warning");
	return 0;
}

int
etl_accept(const struct config *cfg, int32_t day, const char *who, char **cause)
{
	char date[16];
	PGconn *c = NULL;
	PGresult *q = NULL;
	int e;

	period_format_date(day, date);
	if ((e = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0)
		return e == -ECONNREFUSED ? -EAGAIN : e;
	if ((e = db_query(c, "WITH r AS (UPDATE etl_day SET released = 'accepted', released_by = $2, "
	    "released_at = now() WHERE day = $1 AND state = 'incomplete' RETURNING day) "
	    "SELECT (SELECT count(*) FROM r), (SELECT state FROM etl_day WHERE day = $1)", 2,
	    (const char *[]){ date, who }, &q, "database", cause)) < 0)
		goto out;
	if (strcmp(PQgetvalue(q, 0, 0), "1") == 0)
		e = 0;
	else if (PQgetisnull(q, 0, 1))
		e = util_fail(cause, -ENOENT, "%s has not been loaded: there is nothing to accept "
		    "(salesd run etl --date %s loads it)", date, date);
	else
		e = util_fail(cause, -EALREADY, "%s is %s, not incomplete: there is nothing to accept", date,
		    PQgetvalue(q, 0, 1));
out:
	PQclear(q);
	PQfinish(c);
	return e;
}

int
etl_list_incomplete(PGconn *c, unsigned limit, struct etl_incomplete_list *out, char **cause)
{
	struct etl_incomplete_list l = { 0 };
	char lim[16];
	PGresult *res;
	int e;

	snprintf(lim, sizeof lim, "%u", limit);
	if ((e = db_query(c, "SELECT day::text, coalesce(released, ''), released_by, coalesce(error, '') "
	    "FROM etl_day WHERE state = 'incomplete' ORDER BY day DESC LIMIT $1", 1, (const char *[]){ lim },
	    &res, "database", cause)) < 0)
		return e;
	if ((l.v = calloc((size_t)PQntuples(res) + 1, sizeof *l.v)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	for (int k = 0; e == 0 && k < PQntuples(res); k++) {
		struct etl_incomplete *d = &l.v[l.n++];

		if ((d->day = strdup(PQgetvalue(res, k, 0))) == NULL ||
		    (d->released = strdup(PQgetvalue(res, k, 1))) == NULL ||
		    (!PQgetisnull(res, k, 2) && (d->released_by = strdup(PQgetvalue(res, k, 2))) == NULL) ||
		    (d->gaps = strdup(PQgetvalue(res, k, 3))) == NULL)
			e = util_fail(cause, -ENOMEM, "out of memory");
	}
	PQclear(res);
	if (e < 0)
		etl_incomplete_list_done(&l);
	else
		*out = l;
	return e;
}

void
etl_incomplete_list_done(struct etl_incomplete_list *l)
{
	if (l == NULL)
		return;
	for (size_t k = 0; k < l->n; k++) {
		free(l->v[k].day);
		free(l->v[k].released);
		free(l->v[k].released_by);
		free(l->v[k].gaps);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
etl_run_day(const struct config *cfg, int32_t day, etl_progress_fn progress_fn, void *arg,
    struct etl_result *res, char **cause)
{
	return run_day(cfg, day, RUN_LOAD, progress_fn, arg, res, cause);
}

int
etl_recheck_day(const struct config *cfg, int32_t day, etl_progress_fn progress_fn, void *arg,
    struct etl_result *res, char **cause)
{
	struct body b = { .progress = progress_fn, .arg = arg };
	char date[16], before[DIGEST_STRLEN] = "";
	bool before_complete = false;
	PGconn *c = NULL;
	PGresult *q = NULL;
	int r;

	memset(res, 0, sizeof *res);
	period_format_date(day, date);
	b.date = date;
	if ((r = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0)
		return r == -ECONNREFUSED ? -EAGAIN : r;
	r = db_query(c, "SELECT digest, state = 'loaded' FROM etl_day WHERE day = $1 AND digest IS NOT NULL AND "
	    "state <> 'quarantined'", 1, (const char *[]){ date }, &q, "database", cause);
	if (r == 0 && PQntuples(q) == 1) {
		snprintf(before, sizeof before, "%s", PQgetvalue(q, 0, 0));
		before_complete = strcmp(PQgetvalue(q, 0, 1), "t") == 0;
	}
	PQclear(q);
	/* Let the connection go: the download may take a while. */
	PQfinish(c);
	if (r < 0)
		return r;
	if (before[0] == '\0') {
		progress(&b, "%s: not rechecked (not loaded, quarantined, or loaded before restatements "
		    "were tracked)", date);
		return 0;
	}
	/* One download, no write, when nothing changed. */
	if ((r = run_day(cfg, day, RUN_CHECK, progress_fn, arg, res, cause)) < 0)
		return r;
	if (strcmp(res->digest, before) == 0) {
		progress(&b, "%s rechecked: unchanged (%llu records)", date, (unsigned long long)res->lines);
		return 0;
	}
	progress(&b, "%s rechecked: the POS system changed it; loading it again", date);
	return run_day(cfg, day, before_complete ? RUN_RELOAD : RUN_LOAD, progress_fn, arg, res, cause);
}

int
etl_list_restated(PGconn *c, unsigned limit, struct etl_restated_list *out, char **cause)
{
	struct etl_restated_list l = { 0 };
	char lim[16];
	PGresult *res;
	int e;

	snprintf(lim, sizeof lim, "%u", limit);
	if ((e = db_query(c, "SELECT day::text, version, (extract(epoch FROM max(restated_at)) * 1000000)::bigint, "
	    "string_agg(store || ': sales ' || old_sales || ' -> ' || new_sales || ', lines ' || old_lines || "
	    "' -> ' || new_lines, '; ' ORDER BY store) FROM etl_restatement GROUP BY day, version "
	    "ORDER BY max(restated_at) DESC LIMIT $1", 1, (const char *[]){ lim }, &res, "database", cause)) < 0)
		return e;
	if ((l.v = calloc((size_t)PQntuples(res) + 1, sizeof *l.v)) == NULL)
		e = util_fail(cause, -ENOMEM, "out of memory");
	for (int k = 0; e == 0 && k < PQntuples(res); k++) {
		struct etl_restated *d = &l.v[l.n++];

		d->version = atoi(PQgetvalue(res, k, 1));
		d->at_usec = strtoll(PQgetvalue(res, k, 2), NULL, 10);
		if ((d->day = strdup(PQgetvalue(res, k, 0))) == NULL ||
		    (d->changes = strdup(PQgetvalue(res, k, 3))) == NULL)
			e = util_fail(cause, -ENOMEM, "out of memory");
	}
	PQclear(res);
	if (e < 0)
		etl_restated_list_done(&l);
	else
		*out = l;
	return e;
}

void
etl_restated_list_done(struct etl_restated_list *l)
{
	if (l == NULL)
		return;
	for (size_t k = 0; k < l->n; k++) {
		free(l->v[k].day);
		free(l->v[k].changes);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
