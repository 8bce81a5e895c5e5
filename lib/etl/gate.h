/*
 * gate: the completeness gate (docs/completeness.md). A day just loaded is
 * judged against the chain's own recent history, before anything is
 * delivered from it:
 *
 * - a store that sold on most of the same weekdays of the last four weeks
 *   (at least three of them loaded), and is not in [salesd] closed_stores,
 *   but has no lines today is missing;
 * - such a store with fewer lines than [source] short_store of its median
 *   on those days is short;
 * - the whole day is short when its lines fall below [source] short_day of
 *   the median of the 7 days before (three of them loaded at least), or when
 *   it is empty while one of those days was not.
 *
 * Any of these makes the day incomplete. A chain with too little history
 * passes: nothing is expected of it yet; so does a store that usually sells
 * fewer than 10 lines on the weekday (a quiet day and an absence look alike). A store absent on the same weekday
 * most weeks (a weekly closing day, a closed or new store) is not expected.
 *
 * Blocking libpq calls: for task children, never the daemon loop.
 */
#ifndef SALESD_GATE_H
#define SALESD_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "etl/load.h"

struct gate_rules {
	double short_store;             /* 0.20: a store below 20 % of its median is short */
	double short_day;               /* 0.50: a day below 50 % of the 7-day median is short */
	char *const *closed;            /* [salesd] closed_stores, never expected */
	size_t nclosed;
};

enum gate_kind {
	GATE_MISSING,                   /* an expected store without lines */
	GATE_SHORT,                     /* a store far below its median */
	GATE_DAY,                       /* the whole day far below the 7-day median */
};

struct gate_gap {
	char *store;                    /* "" for GATE_DAY */
	enum gate_kind kind;
	int64_t lines;                  /* loaded */
	int64_t median;                 /* expected (the median it is judged against) */
};

struct gate_verdict {
	struct gate_gap *v;             /* stores by name, then the day */
	size_t n;                       /* 0: complete */
};

/* "missing", "short", "day": the words of etl_gap.kind. */
const char *gate_strkind(enum gate_kind k);

/*
 * Judge day (days since 1970-01-01), whose per-store line counts are
 * today[0..n), against the history on c: *out gets the gaps (none: the day
 * is complete). 0, or a database error as db_check says, or -ENOMEM.
 */
int gate_judge(PGconn *c, const struct gate_rules *r, int32_t day, const struct load_count *today,
    size_t n, struct gate_verdict *out, char **cause);

/*
 * The gaps in words, for the log, etl_day.error and the banner of a report
 * delivered with a warning: "missing: Koramangala (no lines; usually 812);
 * short: Indiranagar (40 lines, 8% of its usual 500)". NULL when out of memory.
 */
char *gate_describe(const struct gate_verdict *v);

/* Replace the day's rows of etl_gap with the verdict's, on c (in the caller's transaction). */
int gate_record(PGconn *c, int32_t day, const struct gate_verdict *v, char **cause);

void gate_verdict_done(struct gate_verdict *v);

#endif
