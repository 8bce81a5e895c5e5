/*
 * check_numfmt: money, counts, quantities and percentages as reports print
 * them (Indian and Western grouping, negatives, the int64 limits), the
 * words over a Dropped list, and the integer growth, share and rounding
 * rules of report.h they are fed with.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/numfmt.h"
#include "report/report.h"

#define RUPEE "\xe2\x82\xb9"

START_TEST(test_money)
{
	static const struct { int64_t v; enum report_grouping g; const char *cur, *want; } cases[] = {
		{ 0, REPORT_GROUPING_INDIAN, RUPEE, RUPEE "0.00" },
		{ 5, REPORT_GROUPING_INDIAN, "", "0.05" },
		{ 99999, REPORT_GROUPING_INDIAN, NULL, "999.99" },
		{ 100000, REPORT_GROUPING_INDIAN, NULL, "1,000.00" },
		{ 123456789, REPORT_GROUPING_INDIAN, RUPEE, RUPEE "12,34,567.89" },
		{ 123456789, REPORT_GROUPING_WESTERN, "$", "$1,234,567.89" },
		{ 12345678901, REPORT_GROUPING_INDIAN, NULL, "12,34,56,789.01" },
		{ 12345678901, REPORT_GROUPING_WESTERN, NULL, "123,456,789.01" },
		{ -123456789, REPORT_GROUPING_INDIAN, RUPEE, "-" RUPEE "12,34,567.89" },
		{ -1, REPORT_GROUPING_WESTERN, NULL, "-0.01" },
		{ INT64_MAX, REPORT_GROUPING_WESTERN, NULL, "92,233,720,368,547,758.07" },
		{ INT64_MIN, REPORT_GROUPING_INDIAN, NULL, "-92,23,37,20,36,85,47,758.08" },
	};
	char buf[NUMFMT_LEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(numfmt_money(buf, sizeof buf, cases[i].v, cases[i].g, cases[i].cur), cases[i].want);
}
END_TEST

START_TEST(test_count_quantity)
{
	char buf[NUMFMT_LEN];

	ck_assert_str_eq(numfmt_count(buf, sizeof buf, 0, REPORT_GROUPING_INDIAN), "0");
	ck_assert_str_eq(numfmt_count(buf, sizeof buf, 999, REPORT_GROUPING_INDIAN), "999");
	ck_assert_str_eq(numfmt_count(buf, sizeof buf, 1000, REPORT_GROUPING_INDIAN), "1,000");
	ck_assert_str_eq(numfmt_count(buf, sizeof buf, 100000, REPORT_GROUPING_INDIAN), "1,00,000");
	ck_assert_str_eq(numfmt_count(buf, sizeof buf, 100000, REPORT_GROUPING_WESTERN), "100,000");
	ck_assert_str_eq(numfmt_count(buf, sizeof buf, -4321, REPORT_GROUPING_WESTERN), "-4,321");
	ck_assert_str_eq(numfmt_quantity(buf, sizeof buf, 12000, REPORT_GROUPING_INDIAN), "12");
	ck_assert_str_eq(numfmt_quantity(buf, sizeof buf, 12500, REPORT_GROUPING_INDIAN), "12.5");
	ck_assert_str_eq(numfmt_quantity(buf, sizeof buf, 1234567250, REPORT_GROUPING_INDIAN), "12,34,567.25");
	ck_assert_str_eq(numfmt_quantity(buf, sizeof buf, 1, REPORT_GROUPING_WESTERN), "0.001");
	ck_assert_str_eq(numfmt_quantity(buf, sizeof buf, -2050, REPORT_GROUPING_WESTERN), "-2.05");
}
END_TEST

START_TEST(test_pct_growth)
{
	char buf[NUMFMT_LEN];
	int64_t t;

	ck_assert_str_eq(numfmt_pct(buf, sizeof buf, 123, 0), "12.3%");
	ck_assert_str_eq(numfmt_pct(buf, sizeof buf, 123, 1), "+12.3%");
	ck_assert_str_eq(numfmt_pct(buf, sizeof buf, -40, 1), "-4.0%");
	ck_assert_str_eq(numfmt_pct(buf, sizeof buf, 0, 1), "0.0%");
	ck_assert_str_eq(numfmt_pct(buf, sizeof buf, -5, 0), "-0.5%");
	ck_assert_str_eq(numfmt_growth(buf, sizeof buf, REPORT_GROWTH_NEW, 0), "new");
	ck_assert_str_eq(numfmt_growth(buf, sizeof buf, REPORT_GROWTH_NONE, 7), "");
	ck_assert_str_eq(numfmt_growth(buf, sizeof buf, REPORT_GROWTH_PCT, 7), "+0.7%");
	ck_assert_str_eq(numfmt_points(buf, sizeof buf, 12), "+1.2 pp");
	ck_assert_str_eq(numfmt_points(buf, sizeof buf, -3), "-0.3 pp");
	ck_assert_str_eq(numfmt_points(buf, sizeof buf, 0), "0.0 pp");

	/* AOV and margin change of a row: the baseline's AOV is its sales over its orders. */
	{
		struct report_row row = { .orders = 4, .sales = 1000, .cost = 700, .b_orders = 10, .b_sales = 2000,
		    .b_cost = 1500 };

		ck_assert_int_eq(report_aov(&row), 250);
		ck_assert_int_eq(report_aov_growth(&row, &t), REPORT_GROWTH_PCT);
		ck_assert_int_eq(t, 250);       /* 250 against 200: +25.0% */
		ck_assert(report_margin_change(&row, &t));
		ck_assert_int_eq(t, 50);        /* 30.0% against 25.0%: +5.0 pp */
		row.b_sales = 0;
		ck_assert(!report_margin_change(&row, &t));
		row.orders = 0;
		ck_assert_int_eq(report_aov(&row), 0);
	}

	/* 110 against a 7-day total of 700 (average 100): +10.0%. */
	ck_assert_int_eq(report_growth(110, 700, 7, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, 100);
	/* Nothing today against a baseline: -100.0%, the red signal. */
	ck_assert_int_eq(report_growth(0, 700, 7, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, -1000);
	ck_assert_int_eq(report_growth(5, 0, 7, &t), REPORT_GROWTH_NEW);
	ck_assert_int_eq(report_growth(0, 0, 7, &t), REPORT_GROWTH_NONE);
	/* A loss of 100 turning into a profit of 100 is +200%, not -200%. */
	ck_assert_int_eq(report_growth(100, -100, 1, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, 2000);
	/* Half away from zero: 1/3 up = 33.33% -> 333; +0.05% -> 0.1%; -0.05% -> -0.1%. */
	ck_assert_int_eq(report_growth(4, 3, 1, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, 333);
	ck_assert_int_eq(report_growth(20010, 20000, 1, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, 1);
	ck_assert_int_eq(report_growth(19990, 20000, 1, &t), REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, -1);
	/* Large sums do not overflow: ₹9 lakh crore against 7 days of the same. */
	ck_assert_int_eq(report_growth(INT64_C(900000000000000000), INT64_C(6300000000000000000), 7, &t),
	    REPORT_GROWTH_PCT);
	ck_assert_int_eq(t, 0);

	ck_assert(report_pct(25, 100, &t));
	ck_assert_int_eq(t, 250);
	ck_assert(!report_pct(25, 0, &t));
	ck_assert(report_pct(-1, 3, &t));
	ck_assert_int_eq(t, -333);
	ck_assert_int_eq(report_div_round(1000, 3), 333);
	ck_assert_int_eq(report_div_round(1001, 2), 501);
	ck_assert_int_eq(report_div_round(-1001, 2), -501);
	ck_assert_int_eq(report_div_round(5, 0), 0);
}
END_TEST

/* The Dropped list's heading names the table's cut (none for the stores) and counts in the report's grouping. */
START_TEST(test_dropped)
{
	struct report r = { .grouping = REPORT_GROUPING_INDIAN, .period_name = "2026-W42" };
	struct report_table t = { .dim = REPORT_BRANDS, .top = REPORT_TOP_BRANDS, .ndropped = 3, .dropped_total = 3 };
	char buf[256];

	ck_assert_str_eq(numfmt_dropped_title(buf, sizeof buf, &r, &t),
	    "Dropped: 3 of the baseline's top 50 brands sold nothing in 2026-W42");
	ck_assert_str_eq(numfmt_dropped_more(buf, sizeof buf, &r, &t), "");
	t.dim = REPORT_STORES;
	t.top = 0;
	t.ndropped = REPORT_DROPPED_MAX;
	t.dropped_total = 123456;
	ck_assert_str_eq(numfmt_dropped_title(buf, sizeof buf, &r, &t),
	    "Dropped: 1,23,456 of the baseline's stores sold nothing in 2026-W42");
	ck_assert_str_eq(numfmt_dropped_more(buf, sizeof buf, &r, &t), "and 1,23,446 more");
	r.grouping = REPORT_GROUPING_WESTERN;
	t.dim = REPORT_SUBCATEGORIES;
	t.top = 1000;
	ck_assert_str_eq(numfmt_dropped_title(buf, sizeof buf, &r, &t),
	    "Dropped: 123,456 of the baseline's top 1,000 sub-categories sold nothing in 2026-W42");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("numfmt");
	TCase *tc = tcase_create("numfmt");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_money);
	tcase_add_test(tc, test_count_quantity);
	tcase_add_test(tc, test_pct_growth);
	tcase_add_test(tc, test_dropped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
