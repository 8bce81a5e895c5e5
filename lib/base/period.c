/*
 * period: days, ISO weeks and months as ranges of civil days (see period.h).
 *
 * The civil-date conversions are the well-known era-based algorithms (400-year
 * cycles of 146097 days), exact for every date in range of int32_t days.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/period.h"
#include "base/util.h"

int
period_kind_parse(const char *s, enum period_kind *kind)
{
	if (strcmp(s, "day") == 0)
		*kind = PERIOD_DAY;
	else if (strcmp(s, "week") == 0)
		*kind = PERIOD_WEEK;
	else if (strcmp(s, "month") == 0)
		*kind = PERIOD_MONTH;
	else
		return -EINVAL;
	return 0;
}

const char *
period_kind_name(enum period_kind kind)
{
	switch (kind) {
	case PERIOD_DAY: return "day";
	case PERIOD_WEEK: return "week";
	case PERIOD_MONTH: return "month";
	}
	return "?";
}

/*
 * Format into a caller's PERIOD_STRLEN buffer. Dates in use have four-digit
 * years; a wider one is cut rather than overrunning the buffer.
 */
static void copy_out(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
copy_out(char *buf, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	snprintf(buf, PERIOD_STRLEN, "%.*s", PERIOD_STRLEN - 1, tmp);
}

int32_t
period_day_from_civil(int year, int month, int mday)
{
	int y = year - (month <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (unsigned)((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + mday - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int32_t)(era * 146097 + (int)doe - 719468);
}

void
period_civil_from_day(int32_t day, int *year, int *month, int *mday)
{
	int z = day + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int)yoe + era * 400 + (m <= 2);
}

int
period_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (4). */
	int w = (int)((day % 7 + 7) % 7); /* 0 = Thursday */

	return (w + 3) % 7 + 1;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* Read exactly n digits. */
static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
period_parse_date(const char *s, int32_t *day, char **cause)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return util_fail(cause, -EINVAL, "\"%s\" is not a date (expected YYYY-MM-DD)", s);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return util_fail(cause, -EINVAL, "\"%s\" is not a valid date", s);
	*day = period_day_from_civil(y, m, d);
	return 0;
}

void
period_format_date(int32_t day, char *buf)
{
	int y, m, d;

	period_civil_from_day(day, &y, &m, &d);
	copy_out(buf, "%04d-%02d-%02d", y, m, d);
}

/* Monday of ISO week 1 of an ISO year: the week holding January 4th. */
static int32_t
iso_week1_monday(int year)
{
	int32_t jan4 = period_day_from_civil(year, 1, 4);

	return jan4 - (period_weekday(jan4) - 1);
}

struct period
period_containing(enum period_kind kind, int32_t day)
{
	struct period p = { kind, day, day };
	int y, m, d;

	switch (kind) {
	case PERIOD_DAY:
		break;
	case PERIOD_WEEK:
		p.first = day - (period_weekday(day) - 1);
		p.last = p.first + 6;
		break;
	case PERIOD_MONTH:
		period_civil_from_day(day, &y, &m, &d);
		p.first = period_day_from_civil(y, m, 1);
		p.last = p.first + days_in_month(y, m) - 1;
		break;
	}
	return p;
}

struct period
period_next(const struct period *p)
{
	return period_containing(p->kind, p->last + 1);
}

struct period
period_prev(const struct period *p)
{
	return period_containing(p->kind, p->first - 1);
}

struct period
period_latest_closed(enum period_kind kind, int32_t day)
{
	struct period p = period_containing(kind, day);

	return p.last == day ? p : period_prev(&p);
}

void
period_format(const struct period *p, char *buf)
{
	int y, m, d;

	switch (p->kind) {
	case PERIOD_DAY:
		period_format_date(p->first, buf);
		break;
	case PERIOD_WEEK: {
		/* The ISO year is the year of the week's Thursday. */
		int32_t thursday = p->first + 3;
		int week;

		period_civil_from_day(thursday, &y, &m, &d);
		week = (thursday - iso_week1_monday(y)) / 7 + 1;
		copy_out(buf, "%04d-W%02d", y, week);
		break;
	}
	case PERIOD_MONTH:
		period_civil_from_day(p->first, &y, &m, &d);
		copy_out(buf, "%04d-%02d", y, m);
		break;
	}
}

int
period_parse(const char *s, struct period *p, char **cause)
{
	size_t len = strlen(s);
	int32_t day;
	int y, n;

	if (len == 10)
		return period_parse_date(s, &day, cause) < 0 ? -EINVAL :
		    (*p = period_containing(PERIOD_DAY, day), 0);
	if (len == 8 && s[4] == '-' && s[5] == 'W' && digits(s, 4, &y) && digits(s + 6, 2, &n)) {
		/* A year has week 53 when its December 28th falls in it. */
		struct period dec28 = period_containing(PERIOD_WEEK, period_day_from_civil(y, 12, 28));
		int weeks = (dec28.first - iso_week1_monday(y)) / 7 + 1;

		if (y < 1900 || n < 1 || n > weeks)
			return util_fail(cause, -EINVAL, "\"%s\": %d has weeks 1 to %d", s, y, weeks);
		*p = period_containing(PERIOD_WEEK, iso_week1_monday(y) + 7 * (n - 1));
		return 0;
	}
	if (len == 7 && s[4] == '-' && digits(s, 4, &y) && digits(s + 5, 2, &n)) {
		if (y < 1900 || n < 1 || n > 12)
			return util_fail(cause, -EINVAL, "\"%s\" is not a valid month", s);
		*p = period_containing(PERIOD_MONTH, period_day_from_civil(y, n, 1));
		return 0;
	}
	return util_fail(cause, -EINVAL, "\"%s\" is not a period "
	    "(expected YYYY-MM-DD, YYYY-Www or YYYY-MM)", s);
}

size_t
period_range(enum period_kind kind, int32_t first, int32_t last, struct period *out, size_t max)
{
	struct period p;
	size_t n = 0;

	if (last < first)
		return 0;
	for (p = period_containing(kind, first); p.first <= last; p = period_next(&p)) {
		if (out != NULL && n < max)
			out[n] = p;
		n++;
	}
	return n;
}
