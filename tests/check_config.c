/*
 * check_config: the configuration module: parsing, every validation error
 * with its file and line, layering (FILE, FILE.d, --set), secrets, defaults,
 * and two configurations alive in one process.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/config.h"
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

/* Load text as dir/salesd.conf with optional --set values; returns config_load's result. */
static int
load(const char *text, const char *const *sets, struct config **out, char **cause)
{
	char *path = tu_write(dir, "salesd.conf", text);
	struct config_source src = { .path = path, .sets = sets };
	int r;

	*out = NULL;
	*cause = NULL;
	r = config_load(out, &src, cause);
	free(path);
	return r;
}

/* The typed values of job name (the test fails if there is none). */
static const struct config_job *
job(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->njobs; i++)
		if (strcmp(c->jobs[i].name, name) == 0)
			return &c->jobs[i];
	ck_abort_msg("no job %s", name);
	return NULL;
}

/* Expect text to fail with an error containing want (after "salesd.conf:"). */
static void
expect_error(const char *text, const char *want)
{
	struct config *c;
	char *cause;
	int r = load(text, NULL, &c, &cause);

	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	if (strstr(cause, want) == NULL)
		ck_abort_msg("error \"%s\" does not contain \"%s\"", cause, want);
	free(cause);
}

START_TEST(test_good_file)
{
	struct config *c;
	char *cause;
	size_t n;
	char *const *list;

	ck_assert_int_eq(load(
	    "# comment\n"
	    "; another\n"
	    "[salesd]\n"
	    "timezone = Asia/Kolkata\n"
	    "exclude_stores = Head Office , Test Store,,\n"
	    "stop_timeout = 1m30s ; inline comment\n"
	    "[smtp]\n"
	    "url = smtps://mail.example.com:465\n"
	    "from = \"Reports <r@example.com>\"\n"
	    "[job etl]\n"
	    "kind = etl\n"
	    "schedule = 30 1 * * *\n"
	    "retries = 5\n"
	    "[job mail]\n"
	    "kind = email\n"
	    "after = etl\n"
	    "period = week\n", NULL, &c, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_str_eq(c->salesd.timezone, "Asia/Kolkata");
	list = c->salesd.exclude_stores.v;
	n = c->salesd.exclude_stores.n;
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0], "Head Office");
	ck_assert_str_eq(list[1], "Test Store");
	ck_assert_ptr_null(list[2]);
	ck_assert_uint_eq(c->salesd.stop_timeout_ms, 90000);
	ck_assert_str_eq(c->smtp.url, "smtps://mail.example.com:465");
	ck_assert_str_eq(c->smtp.from, "Reports <r@example.com>");
	/* Jobs in order of definition, with per-job defaults. */
	ck_assert_uint_eq(c->njobs, 2);
	ck_assert_str_eq(c->jobs[0].name, "etl");
	ck_assert_str_eq(c->jobs[1].name, "mail");
	ck_assert_int_eq(job(c, "etl")->retries, 5);
	ck_assert_int_eq(job(c, "mail")->retries, 3);
	ck_assert_str_eq(job(c, "mail")->period, "week");
	ck_assert_str_eq(job(c, "etl")->period, "day");
	ck_assert_str_eq(job(c, "mail")->after.v[0], "etl");
	ck_assert_str_eq(job(c, "etl")->schedule, "30 1 * * *");
	config_free(c);
}
END_TEST

START_TEST(test_defaults_and_builtin_jobs)
{
	static const char *const jobs[] = {
		"etl", "daily-report", "daily-whatsapp", "weekly-reports",
		"weekly-email", "monthly-reports", "monthly-email",
	};
	struct config_origin o;
	struct config *c;
	char *cause, *want;

	ck_assert_int_eq(load("[salesd]\n", NULL, &c, &cause), 0);
	ck_assert_str_eq(c->salesd.timezone, "UTC");
	ck_assert_str_eq(c->database.schema, "salesd");
	ck_assert_str_eq(c->report.digit_grouping, "indian");
	ck_assert_uint_eq(c->salesd.stop_timeout_ms, 30000);
	ck_assert_ptr_null(c->smtp.url);
	ck_assert(!config_is_set(c, &c->salesd.timezone));
	/* A relative default path is relative to the main file's directory. */
	if (asprintf(&want, "%s/recipients.csv", dir) < 0)
		abort();
	ck_assert_str_eq(c->recipients.file, want);
	free(want);
	/* No job sections: the standard pipeline of DESIGN.md. */
	ck_assert_uint_eq(c->njobs, UTIL_NELEM(jobs));
	for (size_t i = 0; i < UTIL_NELEM(jobs); i++)
		ck_assert_str_eq(c->jobs[i].name, jobs[i]);
	ck_assert_str_eq(job(c, "weekly-email")->period, "week");
	ck_assert_str_eq(job(c, "daily-whatsapp")->after.v[0], "daily-report");
	ck_assert_int_eq(config_origin(c, &job(c, "etl")->kind, &o), 0);
	ck_assert_str_eq(o.file, "(built-in)");
	ck_assert_str_eq(o.section, "job etl");
	ck_assert_str_eq(o.key, "kind");
	config_free(c);
}
END_TEST

START_TEST(test_origin)
{
	struct config_origin o;
	struct config *c;
	char *cause, *path;

	ck_assert_int_eq(load("[salesd]\n\ntimezone = UTC\n[job a]\nkind = selftest\n", NULL, &c, &cause), 0);
	path = util_printf("%s/salesd.conf", dir);
	ck_assert_int_eq(config_origin(c, &c->salesd.timezone, &o), 0);
	ck_assert_str_eq(o.file, path);
	ck_assert_int_eq(o.line, 3);
	ck_assert_str_eq(o.section, "salesd");
	ck_assert_str_eq(o.key, "timezone");
	/* A job, or its name, stands for its section header. */
	ck_assert_int_eq(config_origin(c, &c->jobs[0], &o), 0);
	ck_assert_int_eq(o.line, 4);
	ck_assert_str_eq(o.section, "job a");
	ck_assert_ptr_null(o.key);
	ck_assert_int_eq(config_origin(c, &c->jobs[0].name, &o), 0);
	ck_assert_int_eq(o.line, 4);
	/* Unset without a default: the section header answers for the key. */
	ck_assert_int_eq(config_origin(c, &c->jobs[0].schedule, &o), 0);
	ck_assert_int_eq(o.line, 4);
	ck_assert_str_eq(o.key, "schedule");
	/* Neither key nor section in any file: the main file. */
	ck_assert_int_eq(config_origin(c, &c->smtp.url, &o), 0);
	ck_assert_str_eq(o.file, path);
	ck_assert_int_eq(o.line, 0);
	/* Not a field of this configuration. */
	ck_assert_int_eq(config_origin(c, &c->jobs[1], &o), -ENOENT);
	ck_assert_int_eq(config_origin(c, path, &o), -ENOENT);
	ck_assert_int_eq(config_origin(c, &c->smtp.cc.n, &o), -ENOENT);
	free(path);
	config_free(c);
}
END_TEST

/* Each invalid value, with the line it is on and what is wrong. */
START_TEST(test_value_errors)
{
	expect_error("[smtp]\nurl = htp://mail:25\n",
	    "salesd.conf:2: [smtp] url: unsupported scheme \"htp\" (expected smtp or smtps)");
	expect_error("[smtp]\nurl = smtp://\n", "salesd.conf:2: [smtp] url: \"smtp://\" is not a URL");
	expect_error("[smtp]\nurl = smtp://u:p@mail:25\n", "credentials in the URL are not allowed");
	expect_error("[source]\nbase_url = ftp://pos\n", "unsupported scheme \"ftp\" (expected http or https)");
	expect_error("[salesd]\ntimezone = Mars/Base\n",
	    "salesd.conf:2: [salesd] timezone: unknown time zone \"Mars/Base\"");
	expect_error("[salesd]\ntimezone = ../../etc/passwd\n", "is not a time zone name");
	expect_error("[salesd]\nstop_timeout = 90\n",
	    "salesd.conf:2: [salesd] stop_timeout: \"90\" has no unit (use ms, s, m, h or d, e.g. \"90s\")");
	expect_error("[salesd]\nstop_timeout = 5 parsecs\n", "is not a duration");
	expect_error("[salesd]\nstop_timeout = 5y\n", "unknown unit \"y\"");
	expect_error("[salesd]\nstop_timeout = 2h\n", "out of range 1s..3600s");
	expect_error("[salesd]\nlog_level = verbose\n", "unknown value \"verbose\" (expected err, warning, notice, info or debug)");
	expect_error("[report]\ndigit_grouping = indain\n", "(did you mean \"indian\"?");
	expect_error("[job a]\nkind = selftest\nretries = -1\n", "salesd.conf:3: [job a] retries: -1 is out of range 0..100");
	expect_error("[job a]\nkind = selftest\nretries = three\n", "\"three\" is not an integer");
	expect_error("[database]\nschema = Sales-D\n", "is not a plain SQL name");
	expect_error("[smtp]\nfrom = nobody\n", "is not an e-mail address");
	/* cc and bcc are checked at load by the same rule as every address, not at sending time. */
	expect_error("[smtp]\ncc = a@example.com, b c@example.com\n", "[smtp] cc: \"b c@example.com\" contains a space");
	expect_error("[smtp]\nbcc = archive@localhost\n", "not a full domain name");
	expect_error("[smtp]\nca_file = /nonexistent/ca.pem\n", "[smtp] ca_file: cannot read \"/nonexistent/ca.pem\"");
	expect_error("[whatsapp]\nchromium = chromium --headless\n", "a program, not a command line");
	expect_error("[report]\ncompany =\n", "[report] company: must not be empty");
}
END_TEST

START_TEST(test_structure_errors)
{
	expect_error("[smpt]\nurl = smtp://x:25\n", "salesd.conf:1: [smpt]: unknown section (did you mean [smtp]?)");
	expect_error("[bogus]\n", "salesd.conf:1: [bogus]: unknown section");
	expect_error("[smtp]\nuser = x\n", "salesd.conf:2: [smtp] user: unknown key (did you mean username?)");
	expect_error("[smtp]\nurll = smtp://x:25\n", "[smtp] urll: unknown key (did you mean url?)");
	expect_error("[smtp]\nzzz = 1\n", "[smtp] zzz: unknown key");
	expect_error("timezone = UTC\n", "salesd.conf:1: timezone: key outside of any section");
	expect_error("[salesd]\nthis line is wrong\n", "salesd.conf:2: syntax error");
	expect_error("[salesd\n", "salesd.conf:1: syntax error");
	expect_error("[salesd]\ntimezone = UTC\ntimezone = UTC\n",
	    "salesd.conf:3: [salesd] timezone: set twice in this file (first on line 2)");
	expect_error("[job a]\nkind = selftest\nafter = b\n  retries = 2\n",
	    "salesd.conf:4: [job a] after: indented line is read as a continuation");
	expect_error("[job]\nkind = etl\n", "salesd.conf:1: [job]: a job section needs a name");
	expect_error("[job Daily]\nkind = etl\n", "salesd.conf:1: [job Daily]: job name \"Daily\" must be");
	expect_error("[job a]\nperiod = day\n", "salesd.conf:1: [job a]: kind is required");
	expect_error("[job a]\nkind = etll\n", "[job a] kind: unknown value \"etll\" (did you mean \"etl\"?");
	expect_error("[salesd]\ntimezone_file = /etc/x\n", "only secrets can be read from a file");
}
END_TEST

START_TEST(test_long_line)
{
	char text[512];

	snprintf(text, sizeof text, "[report]\ncompany = %0*d\n", 300, 0);
	expect_error(text, "salesd.conf:2: line is longer than 198 bytes");
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct config *c;
	char *cause;
	size_t lines = 0;

	ck_assert_int_eq(load("[salesd]\ntimezone = X/Y\nlog_level = loud\n[smtp]\nurl = htp://x\n",
	    NULL, &c, &cause), -EINVAL);
	for (char *p = cause; p && *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines + 1, 3);
	free(cause);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config_source src = { .path = "/nonexistent/salesd.conf" };
	struct config *c = NULL;
	char *cause = NULL;

	ck_assert_int_eq(config_load(&c, &src, &cause), -EINVAL);
	ck_assert_str_eq(cause, "/nonexistent/salesd.conf: cannot read the configuration: No such file or directory");
	free(cause);
}
END_TEST

/* FILE, then FILE.d/\*.conf in lexical order, then --set: the later wins. */
START_TEST(test_layering)
{
	const char *const sets[] = { "salesd.log_level=debug", "job b.retries=9", "job new.kind=selftest", NULL };
	struct config_origin o;
	struct config *c;
	char *cause, *d, *p;

	d = util_printf("%s/salesd.conf.d", dir);
	mkdir(d, 0755);
	free(tu_write(d, "20-second.conf", "[salesd]\ntimezone = Asia/Kolkata\n[job b]\nretries = 7\n"));
	free(tu_write(d, "10-first.conf", "[salesd]\ntimezone = Europe/Berlin\nstop_timeout = 10s\n"));
	free(tu_write(d, "30-ignored.conf.disabled", "[bogus]\n"));
	free(tu_write(d, ".hidden.conf", "[bogus]\n"));
	ck_assert_int_eq(load("[salesd]\ntimezone = UTC\nlog_level = warning\n"
	    "[job b]\nkind = selftest\nretries = 1\n", sets, &c, &cause), 0);
	ck_assert_str_eq(c->salesd.timezone, "Asia/Kolkata");
	ck_assert_uint_eq(c->salesd.stop_timeout_ms, 10000);
	ck_assert_str_eq(c->salesd.log_level, "debug");
	ck_assert_int_eq(job(c, "b")->retries, 9);
	/* A job may be defined by --set alone; files' jobs replace the built-in set. */
	ck_assert_uint_eq(c->njobs, 2);
	ck_assert_str_eq(job(c, "new")->kind, "selftest");
	ck_assert_int_eq(config_origin(c, &c->salesd.timezone, &o), 0);
	p = util_printf("%s/20-second.conf", d);
	ck_assert_str_eq(o.file, p);
	ck_assert_int_eq(o.line, 2);
	ck_assert_int_eq(config_origin(c, &c->salesd.log_level, &o), 0);
	ck_assert_str_eq(o.file, "--set");
	ck_assert(config_is_set(c, &c->salesd.log_level));
	free(p);
	free(d);
	config_free(c);
}
END_TEST

START_TEST(test_dropin_errors)
{
	struct config *c;
	char *cause, *d;

	d = util_printf("%s/salesd.conf.d", dir);
	mkdir(d, 0755);
	free(tu_write(d, "50-bad.conf", "[salesd]\n\nstop_timeout = soon\n"));
	ck_assert_int_eq(load("[salesd]\n", NULL, &c, &cause), -EINVAL);
	ck_assert(tu_contains(cause, "salesd.conf.d/50-bad.conf:3: [salesd] stop_timeout:"));
	free(cause);
	free(d);
}
END_TEST

START_TEST(test_set_errors)
{
	const char *const bad1[] = { "nodot=1", NULL };
	const char *const bad2[] = { "smtp.url", NULL };
	const char *const bad3[] = { "smpt.url=smtp://x:25", NULL };
	const char *const bad4[] = { "smtp.url=htp://x", NULL };
	struct config *c;
	char *cause;

	ck_assert_int_eq(load("[salesd]\n", bad1, &c, &cause), -EINVAL);
	ck_assert(tu_contains(cause, "--set: \"nodot\": expected SECTION.KEY=VALUE"));
	free(cause);
	ck_assert_int_eq(load("[salesd]\n", bad2, &c, &cause), -EINVAL);
	ck_assert(tu_contains(cause, "expected SECTION.KEY=VALUE"));
	free(cause);
	ck_assert_int_eq(load("[salesd]\n", bad3, &c, &cause), -EINVAL);
	ck_assert(tu_contains(cause, "--set: [smpt]: unknown section (did you mean [smtp]?)"));
	free(cause);
	ck_assert_int_eq(load("[salesd]\n", bad4, &c, &cause), -EINVAL);
	ck_assert(tu_contains(cause, "--set: [smtp] url: unsupported scheme \"htp\""));
	free(cause);
}
END_TEST

START_TEST(test_secret_plain_and_file)
{
	struct config *c;
	char *cause, *pw, *text;

	pw = tu_write(dir, "smtp.pw", "from-a-file\n");
	text = util_printf("[smtp]\npassword_file = %s\n[source]\npassword = inline-secret\n", pw);
	ck_assert_int_eq(load(text, NULL, &c, &cause), 0);
	ck_assert_str_eq(c->smtp.password, "from-a-file");
	ck_assert_str_eq(c->source.password, "inline-secret");
		config_free(c);
	free(text);
	/* A relative KEY_file is relative to the file that names it. */
	ck_assert_int_eq(load("[smtp]\npassword_file = smtp.pw\n", NULL, &c, &cause), 0);
	ck_assert_str_eq(c->smtp.password, "from-a-file");
	config_free(c);
	free(pw);
}
END_TEST

START_TEST(test_secret_errors)
{
	char *empty = tu_write(dir, "empty.pw", "\n"), *text;

	expect_error("[smtp]\npassword = a\npassword_file = /x\n",
	    "salesd.conf:3: [smtp] password_file: both password and password_file are set; keep one");
	expect_error("[smtp]\npassword_file = /nonexistent/pw\n",
	    "salesd.conf:2: [smtp] password_file: cannot read \"/nonexistent/pw\": No such file or directory");
	text = util_printf("[smtp]\npassword_file = %s\n", empty);
	expect_error(text, "must hold the secret on one non-empty line");
	free(text);
	free(empty);
}
END_TEST

START_TEST(test_secret_credentials)
{
	struct config_source src = { 0 };
	struct config *c = NULL;
	char *cause = NULL, *creds, *path;

	creds = util_printf("%s/creds", dir);
	mkdir(creds, 0700);
	free(tu_write(creds, "smtp.password", "cred-secret"));
	free(tu_write(creds, "database.conninfo", "host=/run/pg dbname=x password=p\n"));
	path = tu_write(dir, "salesd.conf", "[source]\npassword = explicit\n");
	src.path = path;
	src.credentials_dir = creds;
	ck_assert_int_eq(config_load(&c, &src, &cause), 0);
	ck_assert_str_eq(c->smtp.password, "cred-secret");
	ck_assert_str_eq(c->database.conninfo, "host=/run/pg dbname=x password=p");
	/* An explicit value in the files wins over a credential. */
	free(tu_write(creds, "source.password", "from-credential"));
	config_free(c);
	ck_assert_int_eq(config_load(&c, &src, &cause), 0);
	ck_assert_str_eq(c->source.password, "explicit");
	config_free(c);
	free(path);
	free(creds);
}
END_TEST

/* No error message ever shows a secret value. */
START_TEST(test_secret_never_in_errors)
{
	const char *const sets[] = { "smtp.password=SeCrEt-On-CLI", NULL };
	struct config *c;
	char *cause;

	ck_assert_int_eq(load("[smtp]\npassword = SeCrEt-In-File\npassword = SeCrEt-Again\n"
	    "[database]\nconninfo = password=SeCrEt-Conn\nconninfo = x\n[bogus]\n",
	    sets, &c, &cause), -EINVAL);
	ck_assert(!tu_contains(cause, "SeCrEt"));
	ck_assert(tu_contains(cause, "[smtp] password: set twice in this file"));
	free(cause);
}
END_TEST

/* Two configurations live side by side (how reload works). */
START_TEST(test_two_configs)
{
	struct config *a, *b;
	char *cause;

	ck_assert_int_eq(load("[salesd]\ntimezone = Europe/Berlin\n", NULL, &a, &cause), 0);
	ck_assert_int_eq(load("[salesd]\ntimezone = Asia/Kolkata\n", NULL, &b, &cause), 0);
	ck_assert_str_eq(a->salesd.timezone, "Europe/Berlin");
	ck_assert_str_eq(b->salesd.timezone, "Asia/Kolkata");
	ck_assert_ptr_eq(config_ref(a), a);
	config_free(a);
	ck_assert_str_eq(a->salesd.timezone, "Europe/Berlin");
	config_free(a);
	config_free(b);
	config_free(NULL);
}
END_TEST

START_TEST(test_duration)
{
	unsigned long long ms;
	char *cause = NULL;

	ck_assert_int_eq(config_parse_duration("250ms", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(config_parse_duration("1h30m", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 5400000);
	ck_assert_int_eq(config_parse_duration("2d", &ms, &cause), 0);
	ck_assert_uint_eq(ms, 172800000);
	ck_assert_int_eq(config_parse_duration("99999999999999999999s", &ms, &cause), -ERANGE);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_parse_duration("", &ms, &cause), -EINVAL);
	free(cause);
}
END_TEST

/* The shipped example configuration is valid. */
START_TEST(test_shipped_example)
{
	struct config_source src = { 0 };
	struct config *c = NULL;
	char *cause = NULL, *path;

	path = util_printf("%s/etc/salesd.conf", tu_source_dir());
	src.path = path;
	if (config_load(&c, &src, &cause) < 0)
		ck_abort_msg("%s", cause);
	ck_assert_uint_eq(c->njobs, 7);
	ck_assert_str_eq(c->salesd.timezone, "Asia/Kolkata");
	config_free(c);
	free(path);
}
END_TEST

/* The schema and the typed fields agree, key for field. */
START_TEST(test_schema_fields)
{
	char *cause = NULL;

	if (config_schema_check(&cause) < 0)
		ck_abort_msg("schema: %s", cause);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(test_typed_defaults)
{
	struct config *c;
	const struct config_job *etl, *report;
	char *cause;

	ck_assert_int_eq(load("[salesd]\n", NULL, &c, &cause), 0);
	ck_assert_str_eq(c->salesd.timezone, "UTC");
	ck_assert_str_eq(c->salesd.log_level, "info");
	ck_assert_int_eq(c->salesd.max_parallel, 2);
	ck_assert_uint_eq(c->salesd.kill_grace_ms, 10000);
	ck_assert_uint_eq(c->salesd.exclude_stores.n, 0);
	ck_assert_ptr_null(c->salesd.exclude_stores.v[0]);
	ck_assert_str_eq(c->database.conninfo, "dbname=salesd");
	/* Unset without a default: NULL, an empty list that can still be indexed, false, 0. */
	ck_assert_ptr_null(c->source.base_url);
	ck_assert_ptr_null(c->source.password);
	ck_assert_uint_eq(c->source.order_types.n, 0);
	ck_assert_ptr_nonnull(c->source.order_types.v);
	ck_assert_ptr_null(c->source.order_types.v[0]);
	ck_assert_int_eq(c->source.request_retries, 3);
	ck_assert_uint_eq(c->source.request_retry_delay_ms, 2000);
	ck_assert_str_eq(c->source.reject_threshold, "1%");
	ck_assert_uint_eq(c->smtp.connect_timeout_ms, 15000);
	ck_assert_uint_eq(c->smtp.timeout_ms, 120000);
	ck_assert(!c->smtp.allow_plain);
	ck_assert(c->smtp.attach_xlsx);
	ck_assert_uint_eq(c->smtp.cc.n, 0);
	ck_assert_uint_eq(c->smtp.bcc.n, 0);
	ck_assert(c->whatsapp.headless);
	ck_assert_int_eq(c->whatsapp.daily_cap, 50);
	ck_assert_uint_eq(c->whatsapp.batch_timeout_ms, 30 * 60000);
	/* A strategy list: ARIA first, the id of old last. */
	ck_assert_ptr_eq(strstr(c->whatsapp.selector_app, "[role=\"grid\"][aria-label=\"Chat list\"] | "),
	    c->whatsapp.selector_app);
	ck_assert(strstr(c->whatsapp.selector_app, "| #pane-side") != NULL);
	ck_assert_ptr_eq(strstr(c->whatsapp.dismiss_buttons, "OK | Got it | "), c->whatsapp.dismiss_buttons);
	ck_assert_str_eq(c->whatsapp.socket, "");
	ck_assert_str_eq(c->report.currency, "\xe2\x82\xb9");
	ck_assert_ptr_null(c->report.company);
	/* A job's defaults, per job. */
	etl = job(c, "etl");
	report = job(c, "weekly-reports");
	ck_assert_str_eq(etl->kind, "etl");
	ck_assert_str_eq(etl->schedule, "30 1 * * *");
	ck_assert_uint_eq(etl->after.n, 0);
	ck_assert_int_eq(etl->retries, 3);
	ck_assert_uint_eq(etl->retry_delay_ms, 60000);
	ck_assert_uint_eq(etl->retry_max_delay_ms, 3600000);
	ck_assert_uint_eq(etl->timeout_ms, 3600000);
	ck_assert_uint_eq(etl->catchup_ms, 3ULL * 86400000);
	ck_assert_str_eq(etl->scope, "company");
	ck_assert_str_eq(etl->action, "succeed");
	ck_assert(!config_is_set(c, &etl->action));
	ck_assert_str_eq(report->kind, "report");
	ck_assert_ptr_null(report->schedule);
	ck_assert_uint_eq(report->after.n, 1);
	ck_assert_str_eq(report->after.v[0], "etl");
	ck_assert_str_eq(report->scope, "both");
	ck_assert_str_eq(report->period, "week");
	config_free(c);
}
END_TEST

START_TEST(test_typed_overrides)
{
	const char *const sets[] = { "smtp.allow_plain=yes", "smtp.timeout=45m", "job b.retries=9",
		"job b.stores=Store A,Store B", NULL };
	struct config *c;
	const struct config_job *a, *b;
	char *cause, *d;

	d = util_printf("%s/salesd.conf.d", dir);
	mkdir(d, 0755);
	free(tu_write(d, "10-smtp.conf", "[smtp]\nconnect_timeout = 3s\nattach_xlsx = off\n"));
	ck_assert_int_eq(load("[salesd]\nmax_parallel = 7\nstop_timeout = 2m\n"
	    "[smtp]\nurl = smtp://mail.example.com:25\ncc = a@example.com, b@example.com\n"
	    "timeout = 5s\nconnect_timeout = 1s\n"
	    "[whatsapp]\npause_min = 1500ms\nheadless = no\n"
	    "[job a]\nkind = selftest\nschedule = 0 2 * * *\naction = succeed\n"
	    "[job b]\nkind = report\nafter = a\nperiod = week\nscope = stores\n"
	    "retry_delay = 1h30m\nretry_max_delay = 2h\ncatchup = 0s\nretries = 1\n", sets, &c, &cause), 0);
	ck_assert_int_eq(c->salesd.max_parallel, 7);
	ck_assert_uint_eq(c->salesd.stop_timeout_ms, 120000);
	ck_assert_str_eq(c->smtp.url, "smtp://mail.example.com:25");
	ck_assert_uint_eq(c->smtp.cc.n, 2);
	ck_assert_str_eq(c->smtp.cc.v[0], "a@example.com");
	ck_assert_str_eq(c->smtp.cc.v[1], "b@example.com");
	ck_assert_ptr_null(c->smtp.cc.v[2]);
	/* --set over the file, drop-in over the file. */
	ck_assert(c->smtp.allow_plain);
	ck_assert_uint_eq(c->smtp.timeout_ms, 2700000);
	ck_assert_uint_eq(c->smtp.connect_timeout_ms, 3000);
	ck_assert(!c->smtp.attach_xlsx);
	ck_assert_uint_eq(c->whatsapp.pause_min_ms, 1500);
	ck_assert(!c->whatsapp.headless);
	ck_assert(config_is_set(c, &c->smtp.timeout_ms));
	ck_assert(!config_is_set(c, &c->smtp.bcc));
	/* Jobs: only the files' jobs, each with its own typed keys. */
	ck_assert_uint_eq(c->njobs, 2);
	a = &c->jobs[0];
	b = &c->jobs[1];
	ck_assert_str_eq(a->name, "a");
	ck_assert_str_eq(a->action, "succeed");
	ck_assert(config_is_set(c, &a->action));
	ck_assert_str_eq(a->schedule, "0 2 * * *");
	ck_assert_str_eq(b->name, "b");
	ck_assert_int_eq(b->retries, 9);
	ck_assert_uint_eq(b->retry_delay_ms, 5400000);
	ck_assert_uint_eq(b->retry_max_delay_ms, 7200000);
	ck_assert_uint_eq(b->catchup_ms, 0);
	ck_assert_uint_eq(b->timeout_ms, 3600000);
	ck_assert_str_eq(b->scope, "stores");
	ck_assert_str_eq(b->period, "week");
	ck_assert_uint_eq(b->after.n, 1);
	ck_assert_str_eq(b->after.v[0], "a");
	ck_assert_uint_eq(b->stores.n, 2);
	ck_assert_str_eq(b->stores.v[1], "Store B");
	ck_assert_ptr_null(b->schedule);
	free(d);
	config_free(c);
}
END_TEST

/* Two configurations keep their own values (how reload is done). */
START_TEST(test_typed_two_configs)
{
	const char *const sets[] = { "smtp.timeout=10s", "job x.kind=selftest", "job x.schedule=* * * * *", NULL };
	struct config *a, *b;
	char *cause;

	ck_assert_int_eq(load("[smtp]\ntimeout = 3m\n", NULL, &a, &cause), 0);
	ck_assert_int_eq(load("[smtp]\ntimeout = 3m\n", sets, &b, &cause), 0);
	ck_assert_uint_eq(a->smtp.timeout_ms, 180000);
	ck_assert_uint_eq(b->smtp.timeout_ms, 10000);
	ck_assert_uint_eq(a->njobs, 7);
	ck_assert_uint_eq(b->njobs, 1);
	ck_assert_str_eq(b->jobs[0].name, "x");
	ck_assert_ptr_eq(config_ref(b), b);
	config_free(b);
	ck_assert_str_eq(b->jobs[0].schedule, "* * * * *");
	config_free(a);
	config_free(b);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_defaults_and_builtin_jobs);
	tcase_add_test(tc, test_origin);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_shipped_example);
	suite_add_tcase(s, tc);

	tc = tcase_create("typed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_fields);
	tcase_add_test(tc, test_typed_defaults);
	tcase_add_test(tc, test_typed_overrides);
	tcase_add_test(tc, test_typed_two_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_structure_errors);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("layering");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_layering);
	tcase_add_test(tc, test_dropin_errors);
	tcase_add_test(tc, test_set_errors);
	tcase_add_test(tc, test_two_configs);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_secret_plain_and_file);
	tcase_add_test(tc, test_secret_errors);
	tcase_add_test(tc, test_secret_credentials);
	tcase_add_test(tc, test_secret_never_in_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
