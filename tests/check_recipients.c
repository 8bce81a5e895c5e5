/*
 * check_recipients: the recipients file: columns by name in any order,
 * several addresses per row, rows of one store adding up, "*" for the
 * company; bad rows reported by line and left out while the rest load;
 * unusable files refused with the reason; text quoted in a message cut
 * between characters; the same parse from a buffer; the optional
 * whatsapp_fallback column, per chat.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/recipients.h"
#include "testutil.h"
#include "base/util.h"

static struct recipients *
load(const char *content, char ***problems, int *err, char **cause)
{
	char *dir = tu_tmpdir(), *path = tu_write(dir, "recipients.csv", content);
	struct recipients *r = NULL;

	*err = recipients_load(path, &r, problems, cause);
	tu_rmrf(dir);
	free(path);
	free(dir);
	return r;
}

START_TEST(test_good)
{
	char **problems, *cause = NULL, *const *v;
	size_t n;
	int err;
	struct recipients *r = load("\xef\xbb\xbfwhatsapp,store,email\r\n"
	    "Sales Managers,*,ceo@example.com; cfo@example.com\r\n"
	    ",\"Koramangala, Bengaluru\",partner@kora.example.in\r\n"
	    ",\"Koramangala, Bengaluru\",owner@kora.example.in;partner@kora.example.in\r\n"
	    "Indiranagar Group,Indiranagar,\r\n", &problems, &err, &cause);

	ck_assert_msg(err == 0, "%s", cause ? cause : "");
	ck_assert_ptr_null(problems);
	v = recipients_email(r, RECIPIENTS_COMPANY, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "ceo@example.com");
	ck_assert_str_eq(v[1], "cfo@example.com");
	v = recipients_whatsapp(r, "*", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0], "Sales Managers");
	/* Two rows of one store add up, without the address twice. */
	v = recipients_email(r, "Koramangala, Bengaluru", &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1], "owner@kora.example.in");
	ck_assert_ptr_null(recipients_email(r, "Indiranagar", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(recipients_email(r, "Nowhere", &n));
	recipients_free(r);
}
END_TEST

START_TEST(test_bad_rows)
{
	char **problems, *cause = NULL;
	size_t n;
	int err;
	struct recipients *r = load("store,email,whatsapp\n"
	    "A,a@example.com,\n"
	    "B,not-an-address,\n"
	    ",c@example.com,\n"
	    "D,d@example.com;\"e\"@x,\n"
	    "E,,\n"
	    "F,f@example.com\r\nBcc: x@y.z,\n"
	    "G,g@example.com,\n", &problems, &err, &cause);

	ck_assert_msg(err == 0, "%s", cause ? cause : "");
	ck_assert_ptr_nonnull(problems);
	ck_assert_uint_eq(util_strv_len(problems), 5);
	ck_assert_msg(strstr(problems[0], "recipients.csv:3: email: \"not-an-address\" is not an e-mail address") != NULL,
	    "%s", problems[0]);
	ck_assert_msg(strstr(problems[1], ":4: store is empty") != NULL, "%s", problems[1]);
	ck_assert_msg(strstr(problems[2], "recipients.csv: line 5: a quote inside an unquoted field") != NULL,
	    "%s", problems[2]);
	ck_assert_msg(strstr(problems[3], ":6: store \"E\" has neither") != NULL, "%s", problems[3]);
	/* A line break in the file is a new row, never a header in a message. */
	ck_assert_msg(strstr(problems[4], ":8: ") != NULL, "%s", problems[4]);
	ck_assert_ptr_nonnull(recipients_email(r, "A", &n));
	ck_assert_ptr_nonnull(recipients_email(r, "G", &n));
	ck_assert_ptr_null(recipients_email(r, "B", &n));
	ck_assert_ptr_null(recipients_email(r, "D", &n));
	util_strv_free(problems);
	recipients_free(r);
}
END_TEST

START_TEST(test_unusable)
{
	char **problems, *cause = NULL;
	int err;

	ck_assert_ptr_null(load("", &problems, &err, &cause));
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_msg(strstr(cause, "empty") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_ptr_null(load("name,mail\nA,a@example.com\n", &problems, &err, &cause));
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_msg(strstr(cause, "recipients.csv:1: the header must name the columns store, email and whatsapp")
	    != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	/* The CSV parser's refusal names the file too. */
	ck_assert_ptr_null(load("store,email,whatsapp\nA,\"a@example.com\n", &problems, &err, &cause));
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_msg(strstr(cause, "recipients.csv: line 2: a quoted field is still open") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(recipients_load("/nonexistent/recipients.csv", &(struct recipients *){ NULL },
	    &problems, &cause), -ENOENT);
	ck_assert_msg(strstr(cause, "/nonexistent/recipients.csv") != NULL, "%s", cause);
	free(cause);
}
END_TEST

/* "चाँदनी चौक" (Chandni Chowk): 3-byte characters and one space; 28 bytes. */
#define CHANDNI "\xe0\xa4\x9a\xe0\xa4\xbe\xe0\xa4\x81\xe0\xa4\xa6\xe0\xa4\xa8\xe0\xa5\x80 " \
	"\xe0\xa4\x9a\xe0\xa5\x8c\xe0\xa4\x95"

/* Strict UTF-8, as jansson (and PostgreSQL) see it. */
static bool
valid_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* The header quoted in the message is cut at 80 bytes, between characters. */
START_TEST(test_header_cut_utf8)
{
	char **problems, *cause = NULL;
	int err;

	/* Byte 80 of the header is the second of a character (the third "चाँदनी चौक" starts at 60). */
	ck_assert_ptr_null(load("a," CHANDNI "," CHANDNI "," CHANDNI "\nA,a@example.com\n", &problems, &err, &cause));
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_msg(valid_utf8(cause), "not UTF-8: %s", cause);
	ck_assert_msg(strstr(cause, "(got \"a," CHANDNI "," CHANDNI ",\xe0\xa4\x9a\xe0\xa4\xbe\xe0\xa4\x81"
	    "\xe0\xa4\xa6\xe0\xa4\xa8\xe0\xa5\x80 \")") != NULL, "%s", cause);
	free(cause);
}
END_TEST

/* recipients_parse reads a buffer (no NUL needed) as recipients_load reads the file. */
START_TEST(test_parse_buffer)
{
	static const char text[] = "store,email,whatsapp\n"
	    CHANDNI ",cc@example.com," CHANDNI " Partners\n"
	    "*,boss@example.com,\n"
	    "B,bad,\n"
	    CHANDNI ",dd@example.com,\n"
	    "Trailing,t@example.com,X";
	char *copy = malloc(sizeof text - 1), **problems = NULL, *cause = NULL, *const *v;
	struct recipients *r = NULL;
	size_t n;

	/* Exactly the bytes, so ASan sees a read past them. */
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, sizeof text - 1);
	ck_assert_int_eq(recipients_parse("buffer", copy, sizeof text - 1, &r, &problems, &cause), 0);
	ck_assert_uint_eq(util_strv_len(problems), 1);
	ck_assert_str_eq(problems[0], "buffer:4: email: \"bad\" is not an e-mail address (local@domain); row left out");
	ck_assert_str_eq(recipients_store(r, 0), CHANDNI);
	ck_assert_str_eq(recipients_store(r, 1), "*");
	ck_assert_str_eq(recipients_store(r, 2), "Trailing");
	ck_assert_ptr_null(recipients_store(r, 3));
	v = recipients_email(r, CHANDNI, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1], "dd@example.com");
	v = recipients_whatsapp(r, "Trailing", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0], "X");
	util_strv_free(problems);
	recipients_free(r);
	free(copy);

	ck_assert_int_eq(recipients_parse("empty", "", 0, &r, &problems, &cause), -EBADMSG);
	ck_assert_ptr_null(r);
	ck_assert_ptr_null(problems);
	ck_assert_str_eq(cause, "empty: empty; expected the header store,email,whatsapp");
	free(cause);
}
END_TEST

/* whatsapp_fallback: the row's chat's addresses; a chat on two rows gets both; bad ones leave the row out. */
START_TEST(test_whatsapp_fallback)
{
	char **problems, *cause = NULL, *const *v;
	size_t n;
	int err;
	struct recipients *r = load("store,email,whatsapp,whatsapp_fallback\n"
	    "*,,Management,md@example.com;cfo@example.com\n"
	    "*,,Management,cfo@example.com;ops@example.com\n"
	    "*,,Store Partners,\n"
	    "*,,Family,not an address\n"
	    "Indiranagar,a@example.com,,x@example.com\n", &problems, &err, &cause);

	ck_assert_msg(err == 0, "%s", cause ? cause : "");
	ck_assert_ptr_nonnull(problems);
	ck_assert_ptr_nonnull(strstr(problems[0], ":5: whatsapp_fallback:"));
	ck_assert_ptr_nonnull(strstr(problems[1], ":6: whatsapp_fallback without a whatsapp chat"));
	ck_assert_ptr_null(problems[2]);
	v = recipients_whatsapp_fallback(r, "*", "Management", &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "md@example.com");
	ck_assert_str_eq(v[2], "ops@example.com");
	ck_assert_ptr_null(recipients_whatsapp_fallback(r, "*", "Store Partners", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(recipients_whatsapp_fallback(r, "*", "Family", &n));
	recipients_whatsapp(r, "*", &n);
	ck_assert_uint_eq(n, 2);
	util_strv_free(problems);
	recipients_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("recipients");
	TCase *tc = tcase_create("recipients");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad_rows);
	tcase_add_test(tc, test_unusable);
	tcase_add_test(tc, test_header_cut_utf8);
	tcase_add_test(tc, test_parse_buffer);
	tcase_add_test(tc, test_whatsapp_fallback);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
