/*
 * check_util: the shared helpers; so far cutting text on a UTF-8 character
 * boundary (util_utf8_prefix, util_utf8_cut, util_utf8_snprintf), which
 * every place that shortens a store name, a chat name or a server's reply
 * relies on.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* "चाँदनी चौक" (Chandni Chowk): 3-byte characters and one space. */
#define CHANDNI "\xe0\xa4\x9a\xe0\xa4\xbe\xe0\xa4\x81\xe0\xa4\xa6\xe0\xa4\xa8\xe0\xa5\x80 " \
	"\xe0\xa4\x9a\xe0\xa5\x8c\xe0\xa4\x95"

/* Strict UTF-8 as jansson checks it: an oracle independent of util. */
static bool
valid_utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	json_decref(j);
	return j != NULL;
}

START_TEST(test_prefix_ascii)
{
	ck_assert_uint_eq(util_utf8_prefix("hello", 10), 5);
	ck_assert_uint_eq(util_utf8_prefix("hello", 5), 5);
	ck_assert_uint_eq(util_utf8_prefix("hello", 3), 3);
	ck_assert_uint_eq(util_utf8_prefix("hello", 0), 0);
	ck_assert_uint_eq(util_utf8_prefix("", 0), 0);
	ck_assert_uint_eq(util_utf8_prefix("", 4), 0);
}
END_TEST

/* Every limit inside a character of 2, 3 and 4 bytes lands before it; one at its end keeps it. */
START_TEST(test_prefix_straddling)
{
	static const struct {
		const char *s;
		size_t max, want;
	} cases[] = {
		{ "ab\xc3\xa9z", 2, 2 },                /* é: 2 bytes at 2..3 */
		{ "ab\xc3\xa9z", 3, 2 },
		{ "ab\xc3\xa9z", 4, 4 },
		{ "ab\xe0\xa4\x9az", 3, 2 },            /* च: 3 bytes at 2..4 */
		{ "ab\xe0\xa4\x9az", 4, 2 },
		{ "ab\xe0\xa4\x9az", 5, 5 },
		{ "ab\xf0\x9f\x98\x80z", 3, 2 },        /* U+1F600: 4 bytes at 2..5 */
		{ "ab\xf0\x9f\x98\x80z", 4, 2 },
		{ "ab\xf0\x9f\x98\x80z", 5, 2 },
		{ "ab\xf0\x9f\x98\x80z", 6, 6 },
		{ "\xe0\xa4\x9a", 1, 0 },               /* nothing whole fits */
		{ "\xe0\xa4\x9a", 2, 0 },
		{ "\xe0\xa4\x9a", 3, 3 },
	};

	for (size_t i = 0; i < UTIL_NELEM(cases); i++)
		ck_assert_msg(util_utf8_prefix(cases[i].s, cases[i].max) == cases[i].want,
		    "case %zu: max %zu: got %zu, want %zu", i, cases[i].max,
		    util_utf8_prefix(cases[i].s, cases[i].max), cases[i].want);
}
END_TEST

/* Bytes that were never UTF-8 stay: the cut only spares whole characters, it does not repair. */
START_TEST(test_prefix_invalid)
{
	/* Continuation bytes without a lead. */
	ck_assert_uint_eq(util_utf8_prefix("a\x80\x80\x80\x80z", 3), 3);
	ck_assert_uint_eq(util_utf8_prefix("\x80\x80\x80\x80\x80", 4), 4);
	/* Bytes that are never UTF-8, and an ASCII byte after a lead. */
	ck_assert_uint_eq(util_utf8_prefix("a\xff\xfez", 2), 2);
	/* A lead byte just before the limit goes, whatever follows it (the helper does not look past max). */
	ck_assert_uint_eq(util_utf8_prefix("a\xc3z", 2), 1);
	ck_assert_uint_eq(util_utf8_prefix("caf\xe9 au lait", 4), 3);   /* Latin-1 "café" */
	ck_assert_uint_eq(util_utf8_prefix("a\xc3zz", 3), 3);
	/* More continuation bytes than the lead asks for. */
	ck_assert_uint_eq(util_utf8_prefix("\xc3\xa9\xa9z", 3), 3);
}
END_TEST

START_TEST(test_cut_in_place)
{
	char s[64];

	strcpy(s, "Worst: " CHANDNI);
	/* "Worst: " is 7 bytes; a limit of 9 falls inside the first character. */
	ck_assert_uint_eq(util_utf8_cut(s, 9), 7);
	ck_assert_str_eq(s, "Worst: ");
	strcpy(s, "Worst: " CHANDNI);
	ck_assert_uint_eq(util_utf8_cut(s, 10), 10);
	ck_assert_str_eq(s, "Worst: \xe0\xa4\x9a");
	strcpy(s, "short");
	ck_assert_uint_eq(util_utf8_cut(s, 60), 5);
	ck_assert_str_eq(s, "short");
}
END_TEST

/* Every cut of a mixed text is valid UTF-8 and as long as possible (at most 3 bytes short). */
START_TEST(test_cut_every_limit)
{
	const char *text = "Sales \xe2\x82\xb9" "1,23,456 (+4.5%) Best: " CHANDNI " \xf0\x9f\x93\x88 Caf\xc3\xa9";
	size_t len = strlen(text);

	for (size_t max = 0; max <= len + 2; max++) {
		char *s = strdup(text);
		size_t n;

		ck_assert_ptr_nonnull(s);
		n = util_utf8_cut(s, max);
		ck_assert_uint_eq(n, strlen(s));
		ck_assert_uint_le(n, max);
		ck_assert_uint_le(max < len ? max - n : len - n, 3);
		ck_assert_msg(valid_utf8(s, n), "limit %zu gives invalid UTF-8", max);
		ck_assert(memcmp(s, text, n) == 0);
		free(s);
	}
}
END_TEST

START_TEST(test_snprintf)
{
	char buf[12];
	int n;

	/* Fits: same as snprintf. */
	n = util_utf8_snprintf(buf, sizeof buf, "%s!", "\xc3\xa9t\xc3\xa9");
	ck_assert_int_eq(n, 6);
	ck_assert_str_eq(buf, "\xc3\xa9t\xc3\xa9!");
	/* "store=" (6) + च (3) + ा (3): snprintf would keep 11 bytes, the last one a third of ा. */
	n = util_utf8_snprintf(buf, sizeof buf, "store=%s", CHANDNI);
	ck_assert_int_eq(n, (int)(6 + strlen(CHANDNI)));
	ck_assert_str_eq(buf, "store=\xe0\xa4\x9a");
	ck_assert(valid_utf8(buf, strlen(buf)));
	/* A 4-byte character against a 1-byte buffer end, and the degenerate sizes. */
	n = util_utf8_snprintf(buf, 5, "abc%s", "\xf0\x9f\x98\x80");
	ck_assert_int_eq(n, 7);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(util_utf8_snprintf(buf, 1, "%s", "\xc3\xa9"), 2);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(util_utf8_snprintf(NULL, 0, "%s", "\xc3\xa9"), 2);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = tcase_create("utf8-cut");
	tcase_add_test(tc, test_prefix_ascii);
	tcase_add_test(tc, test_prefix_straddling);
	tcase_add_test(tc, test_prefix_invalid);
	tcase_add_test(tc, test_cut_in_place);
	tcase_add_test(tc, test_cut_every_limit);
	tcase_add_test(tc, test_snprintf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
