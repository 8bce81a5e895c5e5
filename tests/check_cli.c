/*
 * check_cli: the salesd command line, driven as a user would drive it:
 * version and help, check-config on good and broken files, configuration
 * layering from the command line, exit codes, and commands that are not
 * available yet saying so with exit 64.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "base/util.h"

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmrf(dir);
	free(dir);
}

/* Run salesd with up to 8 arguments (NULL-terminated) and an optional env. */
static struct tu_result
salesd(char *const env[], const char *a0, ...)
{
	const char *argv[20] = { tu_salesd() };
	struct tu_result r;
	size_t n = 1;
	va_list ap;

	va_start(ap, a0);
	for (const char *a = a0; a != NULL && n < 19; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run((char *const *)(uintptr_t)argv, env, 30, &r), 0);
	return r;
}

START_TEST(test_version_help)
{
	struct tu_result r = salesd(NULL, "--version", NULL);

	ck_assert_int_eq(r.status, 0);
	ck_assert(strncmp(r.out, "salesd ", 7) == 0);
	tu_result_done(&r);
	r = salesd(NULL, "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "usage: salesd"));
	ck_assert(tu_contains(r.out, "check-config"));
	tu_result_done(&r);
}
END_TEST

START_TEST(test_check_config_shipped)
{
	char *path = util_printf("%s/etc/salesd.conf", tu_source_dir());
	struct tu_result r = salesd(NULL, "check-config", "--config", path, NULL);

	/* Valid: prints nothing, exits 0. */
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	tu_result_done(&r);
	free(path);
}
END_TEST

START_TEST(test_check_config_broken)
{
	char *path = tu_write(dir, "salesd.conf",
	    "[salesd]\ntimezone = Asia/Kolkata\n\n[smtp]\nurl = htp://mail:25\n[smpt]\n");
	char *want1 = util_printf("%s:5: [smtp] url: unsupported scheme \"htp\" (expected smtp or smtps)\n", path);
	char *want2 = util_printf("%s:6: [smpt]: unknown section (did you mean [smtp]?)\n", path);
	struct tu_result r = salesd(NULL, "check-config", "--config", path, NULL);

	ck_assert_int_eq(r.status, 78);
	ck_assert_str_eq(r.out, "");
	ck_assert(tu_contains(r.err, want1));
	ck_assert(tu_contains(r.err, want2));
	tu_result_done(&r);
	free(want1);
	free(want2);
	free(path);
}
END_TEST

START_TEST(test_config_env_and_set)
{
	char *path = tu_write(dir, "salesd.conf", "[salesd]\nlog_level = loud\n");
	char *env_arg = util_printf("SALESD_CONFIG=%s", path);
	char *const env[] = { env_arg, NULL };
	struct tu_result r;

	/* $SALESD_CONFIG names the file when --config does not. */
	r = salesd(env, "check-config", NULL);
	ck_assert_int_eq(r.status, 78);
	ck_assert(tu_contains(r.err, "[salesd] log_level: unknown value \"loud\""));
	tu_result_done(&r);
	/*
	 * Every line of every file is checked, even one that --set overrides:
	 * the file would be broken again the moment the override goes.
	 */
	r = salesd(env, "--set", "salesd.log_level=debug", "check-config", NULL);
	ck_assert_int_eq(r.status, 78);
	tu_result_done(&r);
	/* --set wins over a valid file value; a bad --set is reported as such. */
	free(tu_write(dir, "salesd.conf", "[salesd]\nlog_level = info\n[smtp]\nurl = smtp://mail:25\n"));
	r = salesd(env, "--set", "smtp.url=smtps://other:465", "check-config", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_done(&r);
	r = salesd(env, "check-config", "--set", "salesd.log_level=debug", "--set", "smtp.url=x", NULL);
	ck_assert_int_eq(r.status, 78);
	ck_assert(tu_contains(r.err, "--set: [smtp] url: \"x\" is not a URL"));
	tu_result_done(&r);
	free(env_arg);
	free(path);
}
END_TEST

START_TEST(test_missing_config)
{
	struct tu_result r = salesd(NULL, "check-config", "--config", "/nonexistent/salesd.conf", NULL);

	ck_assert_int_eq(r.status, 78);
	ck_assert(tu_contains(r.err, "/nonexistent/salesd.conf: cannot read the configuration: No such file"));
	tu_result_done(&r);
}
END_TEST

START_TEST(test_serve_broken_config)
{
	char *path = tu_write(dir, "salesd.conf", "[salesd]\nstop_timeout = forever\n");
	char *want = util_printf("%s:2: [salesd] stop_timeout:", path);
	struct tu_result r = salesd(NULL, "serve", "--config", path, NULL);

	ck_assert_int_eq(r.status, 78);
	ck_assert(tu_contains(r.err, want));
	ck_assert(tu_contains(r.err, "not starting"));
	tu_result_done(&r);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_usage_errors)
{
	struct tu_result r;

	r = salesd(NULL, "frobnicate", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "unknown command \"frobnicate\""));
	tu_result_done(&r);
	r = salesd(NULL, "statsu", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "did you mean status?"));
	tu_result_done(&r);
	r = salesd(NULL, "--bogus", "check-config", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "unknown option --bogus"));
	tu_result_done(&r);
	r = salesd(NULL, "check-config", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "option --date does not apply"));
	tu_result_done(&r);
	r = salesd(NULL, "--log-level", "loud", "check-config", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "--log-level loud: unknown level"));
	tu_result_done(&r);
	r = salesd(NULL, "check-config", "--config", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "needs a value"));
	tu_result_done(&r);
}
END_TEST

/* whatsapp-login exists now; its arguments are checked before any browser starts. */
START_TEST(test_whatsapp_login_usage)
{
	struct tu_result r = salesd(NULL, "whatsapp-login", "now", NULL);

	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "takes no arguments"));
	ck_assert(!tu_contains(r.err, "is not available"));
	ck_assert_str_eq(r.out, "");
	tu_result_done(&r);
}
END_TEST

/* "salesd calendar": fire times across DST in the format of INTERFACES.md. */
START_TEST(test_calendar)
{
	struct tu_result r;

	/* Berlin, spring forward: 02:30 does not exist on 2026-03-29 and fires at 03:00 CEST. */
	r = salesd(NULL, "calendar", "30 2 * * *", "--tz", "Europe/Berlin",
	    "--from", "2026-03-28 00:00", "--count", "3", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out,
	    "2026-03-28 02:30:00 +0100 CET\n"
	    "2026-03-29 03:00:00 +0200 CEST\n"
	    "2026-03-30 02:30:00 +0200 CEST\n");
	tu_result_done(&r);
	/* Fall back: 02:30 happens twice on 2026-10-25 and fires at the first. */
	r = salesd(NULL, "calendar", "30 2 * * *", "--tz", "Europe/Berlin",
	    "--from", "2026-10-25 00:00", "--count", "2", NULL);
	ck_assert_str_eq(r.out,
	    "2026-10-25 02:30:00 +0200 CEST\n"
	    "2026-10-26 02:30:00 +0100 CET\n");
	tu_result_done(&r);
	/* Lord Howe moves by 30 minutes; the zone named in the expression wins over --tz. */
	r = salesd(NULL, "calendar", "15 2 * * * Australia/Lord_Howe", "--tz", "UTC",
	    "--from", "2026-10-03 00:00", "--count", "2", NULL);
	ck_assert_str_eq(r.out,
	    "2026-10-03 02:15:00 +1030 +1030\n"
	    "2026-10-04 02:30:00 +1100 +11\n");
	tu_result_done(&r);
	/*
	 * A zone in the expression needs no configuration and no --tz: nothing
	 * said about a missing file, even one named on purpose.
	 */
	r = salesd(NULL, "--config", "/nonexistent/salesd.conf", "calendar", "0 9 * * * Asia/Kolkata",
	    "--from", "2026-11-23 00:00", "--count", "1", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "2026-11-23 09:00:00 +0530 IST\n");
	ck_assert_str_eq(r.err, "");
	tu_result_done(&r);
	/* The five fields as separate arguments; --from counts itself. */
	r = salesd(NULL, "calendar", "0", "3", "*", "*", "mon", "--tz", "Asia/Kolkata",
	    "--from", "2026-11-23 03:00", "--count", "2", NULL);
	ck_assert_str_eq(r.out,
	    "2026-11-23 03:00:00 +0530 IST\n"
	    "2026-11-30 03:00:00 +0530 IST\n");
	tu_result_done(&r);
}
END_TEST

START_TEST(test_calendar_errors)
{
	struct tu_result r;

	r = salesd(NULL, "calendar", "61 * * * *", "--tz", "UTC", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert_msg(tu_contains(r.err, "minute field \"61\": value out of range 0-59"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	tu_result_done(&r);
	r = salesd(NULL, "calendar", "0 0 30 2 *", "--tz", "UTC", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.err, "never fires"));
	tu_result_done(&r);
	r = salesd(NULL, "calendar", "@daily", "--tz", "UTC", "--from", "2026-02-30 00:00", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "--from \"2026-02-30 00:00\""));
	tu_result_done(&r);
	r = salesd(NULL, "calendar", "@daily", "--tz", "UTC", "--count", "0", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "--count"));
	tu_result_done(&r);
	r = salesd(NULL, "calendar", "@daily", "--tz", "Mars/Olympus", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "Mars/Olympus"));
	tu_result_done(&r);
	r = salesd(NULL, "calendar", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "needs a cron expression"));
	tu_result_done(&r);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_version_help);
	tcase_add_test(tc, test_check_config_shipped);
	tcase_add_test(tc, test_check_config_broken);
	tcase_add_test(tc, test_config_env_and_set);
	tcase_add_test(tc, test_missing_config);
	tcase_add_test(tc, test_serve_broken_config);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_whatsapp_login_usage);
	tcase_add_test(tc, test_calendar);
	tcase_add_test(tc, test_calendar_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cli_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
