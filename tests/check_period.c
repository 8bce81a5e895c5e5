/*
 * check_period: days, ISO weeks and months: civil conversions and ISO weeks
 * against glibc (gmtime_r, strftime %G-W%V) for every day of 1970-2100,
 * parsing and formatting round trips, closing days, and errors.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/period.h"

static void
period_str(enum period_kind kind, int32_t day, char *buf)
{
	struct period p = period_containing(kind, day);

	period_format(&p, buf);
}

/* Every day from 1970 to 2100 against glibc's calendar. */
START_TEST(test_against_glibc)
{
	int32_t last = period_day_from_civil(2100, 12, 31);

	for (int32_t day = 0; day <= last; day++) {
		time_t t = (time_t)day * 86400;
		char want[32], got[PERIOD_STRLEN];
		struct period p;
		struct tm tm;
		int y, m, d;

		gmtime_r(&t, &tm);
		period_civil_from_day(day, &y, &m, &d);
		ck_assert_int_eq(y, tm.tm_year + 1900);
		ck_assert_int_eq(m, tm.tm_mon + 1);
		ck_assert_int_eq(d, tm.tm_mday);
		ck_assert_int_eq(period_day_from_civil(y, m, d), day);
		ck_assert_int_eq(period_weekday(day), tm.tm_wday == 0 ? 7 : tm.tm_wday);

		strftime(want, sizeof want, "%G-W%V", &tm);
		period_str(PERIOD_WEEK, day, got);
		ck_assert_str_eq(got, want);
		strftime(want, sizeof want, "%Y-%m", &tm);
		period_str(PERIOD_MONTH, day, got);
		ck_assert_str_eq(got, want);
		strftime(want, sizeof want, "%Y-%m-%d", &tm);
		period_str(PERIOD_DAY, day, got);
		ck_assert_str_eq(got, want);

		/* Parsing what was formatted gives the period back. */
		period_str(PERIOD_WEEK, day, got);
		ck_assert_int_eq(period_parse(got, &p, NULL), 0);
		ck_assert_int_eq(p.kind, PERIOD_WEEK);
		ck_assert(p.first <= day && day <= p.last && p.last - p.first == 6);
		ck_assert_int_eq(period_weekday(p.first), 1);
	}
}
END_TEST

START_TEST(test_months_and_closing)
{
	struct period p, q;
	char buf[PERIOD_STRLEN];
	int32_t day;

	ck_assert_int_eq(period_parse("2024-02", &p, NULL), 0);
	ck_assert_int_eq(p.last - p.first + 1, 29);
	ck_assert_int_eq(period_parse("2100-02", &p, NULL), 0);
	ck_assert_int_eq(p.last - p.first + 1, 28);
	q = period_next(&p);
	period_format(&q, buf);
	ck_assert_str_eq(buf, "2100-03");
	q = period_prev(&p);
	period_format(&q, buf);
	ck_assert_str_eq(buf, "2100-01");

	/* Sunday 2026-11-22 closes week 47; the Monday after does not close one. */
	ck_assert_int_eq(period_parse_date("2026-11-22", &day, NULL), 0);
	p = period_latest_closed(PERIOD_WEEK, day);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-W47");
	p = period_latest_closed(PERIOD_WEEK, day + 1);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-W47");
	p = period_latest_closed(PERIOD_WEEK, day - 1);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-W46");
	/* 2026-11-30 closes November. */
	ck_assert_int_eq(period_parse_date("2026-11-30", &day, NULL), 0);
	p = period_latest_closed(PERIOD_MONTH, day);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-11");
	p = period_latest_closed(PERIOD_MONTH, day - 1);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-10");
	p = period_latest_closed(PERIOD_DAY, day);
	period_format(&p, buf);
	ck_assert_str_eq(buf, "2026-11-30");
}
END_TEST

START_TEST(test_week53_and_year_edges)
{
	struct period p;
	char buf[PERIOD_STRLEN];
	char *cause = NULL;

	/* 2026 starts on a Thursday: it has 53 ISO weeks; 2027 has 52. */
	ck_assert_int_eq(period_parse("2026-W53", &p, NULL), 0);
	period_format_date(p.first, buf);
	ck_assert_str_eq(buf, "2026-12-28");
	period_format_date(p.last, buf);
	ck_assert_str_eq(buf, "2027-01-03");
	ck_assert_int_eq(period_parse("2027-W53", &p, &cause), -EINVAL);
	ck_assert_str_eq(cause, "\"2027-W53\": 2027 has weeks 1 to 52");
	free(cause);
	/* 2024-12-30 belongs to ISO week 2025-W01. */
	ck_assert_int_eq(period_parse("2025-W01", &p, NULL), 0);
	period_format_date(p.first, buf);
	ck_assert_str_eq(buf, "2024-12-30");
}
END_TEST

START_TEST(test_errors)
{
	static const char *const bad[] = {
		"2026-13-01", "2026-02-30", "2026-2-3", "26-11-22", "2026-11-22x",
		"2026-W00", "2026-W5", "2026-00", "2026-13", "", "yesterday", "2026/11/22",
	};
	struct period p;
	int32_t day;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(period_parse(bad[i], &p, &cause) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_nonnull(strstr(cause, bad[i]));
		free(cause);
		cause = NULL;
	}
	ck_assert_int_eq(period_parse_date("2026-11-22T00", &day, &cause), -EINVAL);
	ck_assert_str_eq(cause, "\"2026-11-22T00\" is not a date (expected YYYY-MM-DD)");
	free(cause);
}
END_TEST

START_TEST(test_range)
{
	struct period out[8];
	char buf[PERIOD_STRLEN];
	int32_t a, b;

	period_parse_date("2026-11-20", &a, NULL);
	period_parse_date("2026-12-02", &b, NULL);
	ck_assert_uint_eq(period_range(PERIOD_DAY, a, b, NULL, 0), 13);
	ck_assert_uint_eq(period_range(PERIOD_WEEK, a, b, out, 8), 3);
	period_format(&out[0], buf);
	ck_assert_str_eq(buf, "2026-W47");
	period_format(&out[2], buf);
	ck_assert_str_eq(buf, "2026-W49");
	ck_assert_uint_eq(period_range(PERIOD_MONTH, a, b, out, 8), 2);
	ck_assert_uint_eq(period_range(PERIOD_MONTH, b, a, out, 8), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("period");
	TCase *tc = tcase_create("calendar");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_against_glibc);
	tcase_add_test(tc, test_months_and_closing);
	tcase_add_test(tc, test_week53_and_year_edges);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_range);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
