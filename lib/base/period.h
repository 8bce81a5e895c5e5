/*
 * period: sales periods: a day, an ISO week (Monday to Sunday) or a calendar
 * month, as an inclusive range of civil days. Days are counted from
 * 1970-01-01 (day 0) in the proleptic Gregorian calendar; no time zone is
 * involved here: callers turn an instant into a business-local date first.
 *
 * Periods are written "2026-11-22", "2026-W47" and "2026-11", as in report
 * paths and the ledger.
 */
#ifndef SALESD_PERIOD_H
#define SALESD_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum period_kind {
	PERIOD_DAY,
	PERIOD_WEEK,
	PERIOD_MONTH,
};

struct period {
	enum period_kind kind;
	int32_t first;  /* first day, inclusive */
	int32_t last;   /* last day, inclusive */
};

/* Longest formatted period or date, with the NUL. */
#define PERIOD_STRLEN 11

/* "day", "week", "month" <-> kind. */
int period_kind_parse(const char *s, enum period_kind *kind);
const char *period_kind_name(enum period_kind kind);

/* Civil date <-> day number. */
int32_t period_day_from_civil(int year, int month, int mday);
void period_civil_from_day(int32_t day, int *year, int *month, int *mday);
/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int period_weekday(int32_t day);

/* Parse a strict "YYYY-MM-DD" date; -EINVAL with *cause on anything else. */
int period_parse_date(const char *s, int32_t *day, char **cause);
/* "YYYY-MM-DD" into buf (at least PERIOD_STRLEN bytes). */
void period_format_date(int32_t day, char *buf);

/* The period of a kind that contains day. */
struct period period_containing(enum period_kind kind, int32_t day);
/* The period right after / before p. */
struct period period_next(const struct period *p);
struct period period_prev(const struct period *p);
/* The latest period of a kind that has ended on or before day. */
struct period period_latest_closed(enum period_kind kind, int32_t day);

/* Format p as "2026-11-22", "2026-W47" or "2026-11" (buf: PERIOD_STRLEN). */
void period_format(const struct period *p, char *buf);
/* Parse any of the three forms; -EINVAL with *cause naming the problem. */
int period_parse(const char *s, struct period *p, char **cause);

/* Periods of kind (oldest first) that overlap [first, last]: count, or fill out[max]. */
size_t period_range(enum period_kind kind, int32_t first, int32_t last, struct period *out, size_t max);

#endif
