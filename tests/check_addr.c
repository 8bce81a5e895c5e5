/*
 * check_addr: the one address rule (base/addr.h), and proof that every part
 * that meets an address applies it alike: the configuration's [smtp] from,
 * the recipients file and the message headers accept exactly the addresses
 * addr_check accepts (the configuration used to take addresses that the
 * message builder refused at sending time).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "base/config.h"
#include "base/util.h"
#include "deliver/mime.h"
#include "deliver/recipients.h"
#include "testutil.h"

static const char *const good[] = { "a@b.c", "first.last+tag@mail.example.co.in", "x_y-z@d-1.example",
	"o'brien@example.ie" };
static const char *const bad[] = { "", "@b.c", "a@", "a@b", "a b@c.d", "a@b.c\r\nBcc: e@f.g", "<a@b.c>",
	"a@b@c.d", "\xe0\xa4\xb9@b.c", "a@b.c.", "a@.b.c", "a,b@c.d", "a;b@c.d", "a:b@c.d", "\"a\"@b.c",
	"a@b.c\x7f", "root@localhost" };

START_TEST(test_check)
{
	char *why = NULL;

	for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
		ck_assert_msg(addr_check(good[k], NULL) == 0, "%s", good[k]);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		ck_assert_msg(addr_check(bad[k], &why) == -EINVAL, "%s", bad[k]);
		ck_assert_ptr_nonnull(why);
		free(why);
		why = NULL;
	}
	ck_assert_int_eq(addr_check("a@localhost", &why), -EINVAL);
	ck_assert_msg(strstr(why, "not a full domain name") != NULL, "%s", why);
	free(why);
}
END_TEST

START_TEST(test_split)
{
	char name[64], addr[ADDR_MAX + 1], *why = NULL;

	ck_assert_int_eq(addr_split("Sales Reports <reports@example.com>", name, sizeof name, addr, sizeof addr,
	    NULL), 0);
	ck_assert_str_eq(name, "Sales Reports");
	ck_assert_str_eq(addr, "reports@example.com");
	ck_assert_int_eq(addr_split("reports@example.com", name, sizeof name, addr, sizeof addr, NULL), 0);
	ck_assert_str_eq(name, "");
	ck_assert_int_eq(addr_split("Reports <reports@example.com", name, sizeof name, addr, sizeof addr, &why),
	    -EINVAL);
	ck_assert_msg(strstr(why, "unbalanced") != NULL, "%s", why);
	free(why);
	why = NULL;
	ck_assert_int_eq(addr_split("Reports <a b@example.com>", name, sizeof name, addr, sizeof addr, &why), -EINVAL);
	free(why);
}
END_TEST

/* The verdict of each part on address a. */
static bool
config_takes(const char *dir, const char *a)
{
	char *text = util_printf("[smtp]\nfrom = Reports <%s>\n", a), *path = tu_write(dir, "salesd.conf", text);
	struct config_source src = { .path = path };
	struct config *c = NULL;
	char *cause = NULL;
	bool ok = config_load(&c, &src, &cause) == 0;

	config_free(c);
	free(cause);
	free(path);
	free(text);
	return ok;
}

static bool
recipients_take(const char *dir, const char *a)
{
	char *text = util_printf("store,email,whatsapp\nX,%s,\n", a), *path = tu_write(dir, "r.csv", text);
	struct recipients *r = NULL;
	char **problems = NULL, *cause = NULL;
	size_t n = 0;
	bool ok;

	ok = recipients_load(path, &r, &problems, &cause) == 0 && recipients_email(r, "X", &n) != NULL && n == 1;
	recipients_free(r);
	util_strv_free(problems);
	free(cause);
	free(path);
	free(text);
	return ok;
}

static bool
mime_takes(const char *a)
{
	struct mime_address to = { NULL, a };
	struct mime_message m = { .from = { "Reports", "reports@example.com" }, .to = &to, .nto = 1,
	    .subject = "s", .text = "t", .key = "daily/2026-11-22/*/email/x", .date = 1 };
	char *out = NULL, *cause = NULL;
	size_t len;
	bool ok = mime_build(&m, &out, &len, &cause) == 0;

	free(out);
	free(cause);
	return ok;
}

START_TEST(test_one_rule_everywhere)
{
	char *dir = tu_tmpdir();

	for (size_t k = 0; k < sizeof good / sizeof good[0] + sizeof bad / sizeof bad[0]; k++) {
		const char *a = k < sizeof good / sizeof good[0] ? good[k] : bad[k - sizeof good / sizeof good[0]];
		bool want = addr_check(a, NULL) == 0;

		/* A line break cannot even be written into a one-line file or a CSV field: header safety covers it. */
		if (strpbrk(a, "\r\n,\"") != NULL || a[0] == '\0')
			continue;
		ck_assert_msg(config_takes(dir, a) == want, "config and the rule disagree on \"%s\"", a);
		ck_assert_msg(recipients_take(dir, a) == want, "the recipients file and the rule disagree on \"%s\"", a);
		ck_assert_msg(mime_takes(a) == want, "the message and the rule disagree on \"%s\"", a);
	}
	tu_rmrf(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_one_rule_everywhere);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
