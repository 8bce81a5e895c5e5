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
#include "util.h"

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
	const char *argv[12] = { tu_salesd() };
	struct tu_result r;
	size_t n = 1;
	va_list ap;

	va_start(ap, a0);
	for (const char *a = a0; a != NULL && n < 11; a = va_arg(ap, const char *))
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

/* Commands of later milestones say plainly that they are not there yet. */
START_TEST(test_not_available)
{
	static const char *const cmds[][3] = {
		{ "migrate", NULL, NULL },
		{ "run", "etl", NULL },
		{ "backfill", "etl", NULL },
		{ "status", NULL, NULL },
		{ "whatsapp-login", NULL, NULL },
	};

	for (size_t i = 0; i < UTIL_NELEM(cmds); i++) {
		struct tu_result r = salesd(NULL, cmds[i][0], cmds[i][1], NULL);

		ck_assert_int_eq(r.status, 64);
		ck_assert(tu_contains(r.err, "is not available"));
		ck_assert_str_eq(r.out, "");
		tu_result_done(&r);
	}
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
	tcase_add_test(tc, test_not_available);
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
