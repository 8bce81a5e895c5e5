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
#include "etl/extract.h"
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
	if (r == 0)
		return load_reject(b->load, row->line, rej.field, rej.reason, row->raw, row->rawlen, cause);
	return load_line(b->load, row->line, &line, cause);
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
	if (csv_new(&b->csv, on_record, b) < 0 || salesrow_file_new(&b->file, b->rules, b->day) < 0)
		return util_fail(cause, -ENOMEM, "out of memory");
	return load_copy_begin(b->load, b->order_type, cause);
}

static int
sink_restart(void *arg, const char *why, char **cause)
{
	struct body *b = arg;
	int r;

	if ((r = load_copy_abort(b->load, why, cause)) < 0)
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
	if ((r = load_copy_end(b->load, &rows, cause)) < 0)
		return r;
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
threshold(const struct config *cfg)
{
	return strtod(cfg->source.reject_threshold, NULL) / 100;
}

int
etl_run_day(const struct config *cfg, int32_t day, etl_progress_fn progress_fn, void *arg,
    struct etl_result *res, char **cause)
{
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
	if ((r = db_connect(&c, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		r = r == -ECONNREFUSED ? -EAGAIN : r;
		goto out;
	}
	/* A second session computes half of the KPIs; without one, all run on the first. */
	if (db_connect(&c2, cfg->database.conninfo, cfg->database.schema, NULL) < 0)
		c2 = NULL;
	if ((r = load_begin(&l, c, c2, day, &lo, cause)) < 0)
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
	res->lines = load_nlines(l);
	res->rejected = load_nrejects(l);
	snprintf(res->date_format, sizeof res->date_format, "%s", salesrow_date_format_name(b.format));
	rate = res->lines + res->rejected > 0 ? (double)res->rejected / (double)(res->lines + res->rejected) : 0;
	/* Rejects beyond what can be recorded: whatever the threshold, nobody could check them. */
	if (load_rejects_dropped(l) > 0 || (res->rejected > 0 && rate > threshold(cfg))) {
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
	if ((r = load_commit(l, types_text, cause)) < 0)
		goto out;
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
