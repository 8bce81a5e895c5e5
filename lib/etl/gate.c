/*
 * gate: the completeness gate (see gate.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/period.h"
#include "base/util.h"
#include "etl/gate.h"

/* Too few days to tell what is usual: nothing is expected yet. */
#define GATE_MIN_WEEKS 3
#define GATE_MIN_DAYS  3
/*
 * A store that usually sells fewer lines than this on the weekday is not
 * judged: a quiet day and an absence cannot be told apart (a head office
 * with a few sales a day has days without any).
 */
#define GATE_MIN_STORE_LINES 10

const char *
gate_strkind(enum gate_kind k)
{
	switch (k) {
	case GATE_MISSING:
		return "missing";
	case GATE_SHORT:
		return "short";
	case GATE_DAY:
		return "day";
	}
	return "?";
}

static int
add_gap(struct gate_verdict *out, const char *store, enum gate_kind kind, int64_t lines, int64_t median)
{
	struct gate_gap *v = realloc(out->v, (out->n + 1) * sizeof *v);

	if (v == NULL)
		return -ENOMEM;
	out->v = v;
	if ((v[out->n].store = strdup(store)) == NULL)
		return -ENOMEM;
	v[out->n].kind = kind;
	v[out->n].lines = lines;
	v[out->n].median = median;
	out->n++;
	return 0;
}

static bool
is_closed(const struct gate_rules *r, const char *store)
{
	for (size_t i = 0; i < r->nclosed; i++)
		if (strcmp(r->closed[i], store) == 0)
			return true;
	return false;
}

static int64_t
lines_today(const struct load_count *today, size_t n, const char *store)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(today[i].store, store) == 0)
			return today[i].lines;
	return 0;
}

/*
 * The stores against the same weekday of the four weeks before: how many of
 * those days were loaded, and per store on how many it sold and its median.
 * A day counts when it was loaded (complete or not): an incomplete day in
 * the history costs a store one week of four, not its place.
 */
static int
judge_stores(PGconn *c, const struct gate_rules *r, const char *date, const struct load_count *today,
    size_t n, struct gate_verdict *out, char **cause)
{
	const char *p[] = { date };
	PGresult *res;
	int e, weeks;

	if ((e = db_query(c, "WITH hist AS (SELECT day FROM etl_day WHERE day IN ($1::date - 7, "
	    "$1::date - 14, $1::date - 21, $1::date - 28) AND state IN ('loaded', 'incomplete')) "
	    "SELECT s.store, count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY s.lines), "
	    "(SELECT count(*) FROM hist) FROM etl_store_day s JOIN hist USING (day) "
	    "GROUP BY s.store ORDER BY s.store COLLATE \"C\"", 1, p, &res, "database: completeness", cause)) < 0)
		return e;
	for (int k = 0; k < PQntuples(res) && e == 0; k++) {
		const char *store = PQgetvalue(res, k, 0);
		int sold = atoi(PQgetvalue(res, k, 1));
		int64_t median = strtoll(PQgetvalue(res, k, 2), NULL, 10), got;

		weeks = atoi(PQgetvalue(res, k, 3));
		/* Expected: enough history, and it sold on most of those weekdays. */
		if (weeks < GATE_MIN_WEEKS || sold * 2 <= weeks || median < GATE_MIN_STORE_LINES ||
		    is_closed(r, store))
			continue;
		got = lines_today(today, n, store);
		if (got == 0)
			e = add_gap(out, store, GATE_MISSING, 0, median);
		else if ((double)got < r->short_store * (double)median)
			e = add_gap(out, store, GATE_SHORT, got, median);
	}
	PQclear(res);
	return e == -ENOMEM ? util_fail(cause, e, "out of memory") : e;
}

/*
 * The whole day against the median of the 7 days before it, closed stores
 * left out of both: a store that closed for good does not make every day
 * after it look short.
 */
static int
judge_day(PGconn *c, const struct gate_rules *r, const char *date, int64_t total, struct gate_verdict *out,
    char **cause)
{
	char *closed = db_text_array(r->closed, r->nclosed);
	PGresult *res;
	int e, days;
	int64_t median, most;

	if (closed == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	e = db_query(c, "SELECT count(*), coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY t.lines), 0), "
	    "coalesce(max(t.lines), 0) FROM (SELECT d.day, coalesce((SELECT sum(s.lines) FROM etl_store_day s "
	    "WHERE s.day = d.day AND s.store <> ALL ($2::text[])), 0) AS lines FROM etl_day d "
	    "WHERE d.day BETWEEN $1::date - 7 AND $1::date - 1 AND d.state IN ('loaded', 'incomplete')) t",
	    2, (const char *[]){ date, closed }, &res, "database: completeness", cause);
	free(closed);
	if (e < 0)
		return e;
	days = atoi(PQgetvalue(res, 0, 0));
	median = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	most = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	/* Empty after days that were not: the POS has not synced, whatever the history's length. */
	if ((total == 0 && most > 0) ||
	    (days >= GATE_MIN_DAYS && (double)total < r->short_day * (double)median))
		if (add_gap(out, "", GATE_DAY, total, total == 0 && days < GATE_MIN_DAYS ? most : median) < 0)
			return util_fail(cause, -ENOMEM, "out of memory");
	return 0;
}

int
gate_judge(PGconn *c, const struct gate_rules *r, int32_t day, const struct load_count *today, size_t n,
    struct gate_verdict *out, char **cause)
{
	char date[16];
	int64_t total = 0;
	int e;

	memset(out, 0, sizeof *out);
	period_format_date(day, date);
	for (size_t i = 0; i < n; i++)
		if (!is_closed(r, today[i].store))
			total += today[i].lines;
	if ((e = judge_stores(c, r, date, today, n, out, cause)) < 0 ||
	    (e = judge_day(c, r, date, total, out, cause)) < 0)
		gate_verdict_done(out);
	return e;
}

/* 12345 as "12,345": counts in messages people read. */
static void
count_text(int64_t v, char *buf, size_t len)
{
	char digits[32];
	size_t nd, o = 0;

	nd = (size_t)snprintf(digits, sizeof digits, "%" PRId64, v < 0 ? -v : v);
	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/* Stores named in a description at most; the rest are counted (etl_gap has them all). */
#define GATE_DESCRIBE_MAX 8

char *
gate_describe(const struct gate_verdict *v)
{
	char *out = util_strdup(""), *tmp, got[32], usual[32];
	const char *sep = "";
	bool empty = false;
	size_t named = 0, stores = 0;

	/* An empty day is said as that: every store's absence follows from it. */
	for (size_t i = 0; i < v->n; i++) {
		if (v->v[i].kind == GATE_DAY && v->v[i].lines == 0)
			empty = true;
		stores += v->v[i].kind != GATE_DAY;
	}
	for (size_t i = 0; i < v->n && out != NULL; i++) {
		const struct gate_gap *g = &v->v[i];
		int pct = g->median > 0 ? (int)(g->lines * 100 / g->median) : 0;

		if (g->kind != GATE_DAY && (empty || named++ >= GATE_DESCRIBE_MAX)) {
			if (!empty && named == GATE_DESCRIBE_MAX + 1) {
				tmp = util_printf("%s%sand %zu more stores", out, sep, stores - GATE_DESCRIBE_MAX);
				free(out);
				out = tmp;
			}
			continue;
		}

		count_text(g->lines, got, sizeof got);
		count_text(g->median, usual, sizeof usual);
		switch (g->kind) {
		case GATE_MISSING:
			tmp = util_printf("%s%smissing: %s (no lines; usually %s)", out, sep, g->store, usual);
			break;
		case GATE_SHORT:
			tmp = util_printf("%s%sshort: %s (%s lines, %d%% of its usual %s)", out, sep, g->store, got,
			    pct, usual);
			break;
		default:
			tmp = g->lines == 0 ? util_printf("%s%sthe day is empty (usually %s lines)", out, sep, usual) :
			    util_printf("%s%sthe day: %s lines, %d%% of the 7-day median %s", out, sep, got, pct, usual);
			break;
		}
		free(out);
		out = tmp;
		sep = "; ";
	}
	return out;
}

int
gate_record(PGconn *c, int32_t day, const struct gate_verdict *v, char **cause)
{
	char date[16], lines[24], median[24];
	int e;

	period_format_date(day, date);
	if ((e = db_query(c, "DELETE FROM etl_gap WHERE day = $1", 1, (const char *[]){ date }, NULL,
	    "database: etl_gap", cause)) < 0)
		return e;
	for (size_t i = 0; i < v->n && e == 0; i++) {
		snprintf(lines, sizeof lines, "%" PRId64, v->v[i].lines);
		snprintf(median, sizeof median, "%" PRId64, v->v[i].median);
		e = db_query(c, "INSERT INTO etl_gap (day, store, kind, lines, median) VALUES ($1, $2, $3, $4, $5)",
		    5, (const char *[]){ date, v->v[i].store, gate_strkind(v->v[i].kind), lines, median }, NULL,
		    "database: etl_gap", cause);
	}
	return e;
}

void
gate_verdict_done(struct gate_verdict *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i].store);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}
