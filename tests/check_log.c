/*
 * check_log: the logging module: target detection, level parsing and
 * filtering, line formats, and real journal entries with salesd's fields
 * (received on a journal socket of our own in a private mount namespace).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <pty.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "testutil.h"

START_TEST(test_levels)
{
	int level = -1;

	ck_assert_int_eq(log_parse_level("err", &level), 0);
	ck_assert_int_eq(level, LOG_ERR);
	ck_assert_int_eq(log_parse_level("warning", &level), 0);
	ck_assert_int_eq(level, LOG_WARNING);
	ck_assert_int_eq(log_parse_level("debug", &level), 0);
	ck_assert_int_eq(level, LOG_DEBUG);
	ck_assert_int_eq(log_parse_level("error", &level), 0);
	ck_assert_int_eq(level, LOG_ERR);
	ck_assert_int_eq(log_parse_level("loud", &level), -EINVAL);
	ck_assert_str_eq(log_level_name(LOG_NOTICE), "notice");
	ck_assert_str_eq(log_level_name(42), "?");
}
END_TEST

START_TEST(test_format_plain)
{
	struct log_fields f = { .job = "etl", .period = "2026-11-23", .attempt = 2 };
	char buf[256];

	log_format_line(buf, sizeof buf, LOG_TARGET_PLAIN, LOG_INFO, &f, 0, "loaded 12 lines");
	ck_assert_str_eq(buf, "<6>loaded 12 lines job=etl period=2026-11-23 attempt=2");
	log_format_line(buf, sizeof buf, LOG_TARGET_PLAIN, LOG_ERR, NULL, 0, "boom");
	ck_assert_str_eq(buf, "<3>boom");
	/* Cut, never overrun. */
	ck_assert_uint_eq(log_format_line(buf, 8, LOG_TARGET_PLAIN, LOG_ERR, &f, 0, "a long message"), 7);
	ck_assert_str_eq(buf, "<3>a lo");
}
END_TEST

/* "चाँदनी चौक" (Chandni Chowk): 3-byte characters and one space. */
#define CHANDNI "\xe0\xa4\x9a\xe0\xa4\xbe\xe0\xa4\x81\xe0\xa4\xa6\xe0\xa4\xa8\xe0\xa5\x80 " \
	"\xe0\xa4\x9a\xe0\xa5\x8c\xe0\xa4\x95"

/* Strict UTF-8, as jansson (and the journal's readers) see it. */
static bool
valid_utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	json_decref(j);
	return j != NULL;
}

/* A line cut short ends on a whole character, in the message and in a field. */
START_TEST(test_format_cut_utf8)
{
	struct log_fields f = { .store = CHANDNI };
	char buf[64];

	/* "<3>" and 4 bytes of the message: snprintf would end in the first byte of the second character. */
	ck_assert_uint_eq(log_format_line(buf, 8, LOG_TARGET_PLAIN, LOG_ERR, NULL, 0, CHANDNI), 6);
	ck_assert_str_eq(buf, "<3>\xe0\xa4\x9a");
	/* "<6>ok store=" is 12 bytes; 16 leave 4 for the store: one character and a stray byte. */
	ck_assert_uint_eq(log_format_line(buf, 17, LOG_TARGET_PLAIN, LOG_INFO, &f, 0, "ok"), 15);
	ck_assert_str_eq(buf, "<6>ok store=\xe0\xa4\x9a");
	for (size_t len = 1; len <= sizeof buf; len++) {
		size_t n = log_format_line(buf, len, LOG_TARGET_PLAIN, LOG_INFO, &f, 0, "Worst: " CHANDNI);

		ck_assert_uint_eq(n, strlen(buf));
		ck_assert_msg(valid_utf8(buf, n), "buffer of %zu: \"%s\" is not UTF-8", len, buf);
	}
}
END_TEST

START_TEST(test_format_terminal)
{
	struct log_fields f = { .store = "Koramangala" };
	char buf[256];

	setenv("TZ", "UTC", 1);
	/* 2026-11-24 00:25:01.250 UTC */
	log_format_line(buf, sizeof buf, LOG_TARGET_TERMINAL, LOG_WARNING, &f,
	    1795479901250000LL, "slow");
	ck_assert_str_eq(buf, "2026-11-24 00:25:01.250 warning slow store=Koramangala");
}
END_TEST

START_TEST(test_detect)
{
	int p[2], master, slave;
	struct stat st;
	char env[64];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(log_detect(p[1], NULL), LOG_TARGET_PLAIN);
	ck_assert_int_eq(fstat(p[1], &st), 0);
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	ck_assert_int_eq(log_detect(p[1], env), LOG_TARGET_JOURNAL);
	/* JOURNAL_STREAM inherited from a parent whose stderr went elsewhere. */
	ck_assert_int_eq(log_detect(p[1], "1:2"), LOG_TARGET_PLAIN);
	ck_assert_int_eq(log_detect(p[1], "garbage"), LOG_TARGET_PLAIN);
	ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	ck_assert_int_eq(log_detect(slave, NULL), LOG_TARGET_TERMINAL);
	close(master);
	close(slave);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_emit_filters_and_splits)
{
	struct logger *lg;
	char buf[1024];
	ssize_t n;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	lg = log_new(LOG_TARGET_PLAIN, p[1], LOG_INFO);
	log_at(lg, LOG_DEBUG, NULL, "not shown");
	log_at(lg, LOG_ERR, NULL, "first\nsecond");
	log_set_level(lg, LOG_DEBUG);
	ck_assert_int_eq(log_get_level(lg), LOG_DEBUG);
	log_at(lg, LOG_DEBUG, NULL, "now shown %d", 7);
	close(p[1]);
	n = read(p[0], buf, sizeof buf - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "<3>first\n<3>second\n<7>now shown 7\n");
	log_free(lg);
	close(p[0]);
}
END_TEST

/* A message longer than the logger keeps is cut between characters, not inside one. */
START_TEST(test_emit_cut_utf8)
{
	static char big[8192 + 64], buf[sizeof big + 64];
	struct logger *lg;
	size_t at = 0, got = 0;
	ssize_t n;
	int p[2];

	/* 8190 bytes of "x", then 3-byte characters: the 8191-byte limit falls inside the first. */
	memset(big, 'x', 8190);
	at = 8190;
	while (at + sizeof CHANDNI < sizeof big) {
		memcpy(big + at, CHANDNI, sizeof CHANDNI - 1);
		at += sizeof CHANDNI - 1;
	}
	big[at] = '\0';
	ck_assert_int_eq(pipe(p), 0);
	lg = log_new(LOG_TARGET_PLAIN, p[1], LOG_INFO);
	log_at(lg, LOG_ERR, NULL, "%s", big);
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	ck_assert_uint_gt(got, 8000);
	ck_assert_msg(valid_utf8(buf, got), "the line ends in \"%s\"", buf + got - 8);
	ck_assert_str_eq(buf + got - 4, "xxx\n");
	log_free(lg);
	close(p[0]);
}
END_TEST

/* Parse "FIELD=value\n" journal datagrams (values without newlines). */
static const char *
field(const char *dgram, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = dgram; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			snprintf(out, len, "%.*s", (int)(l - nl - 1), p + nl + 1);
			return out;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

/*
 * A private mount namespace with a tmpfs over /run, so our socket stands at
 * the path libsystemd always sends to. Needs root (CI runs as root).
 */
START_TEST(test_journal_fields)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct log_fields f = { "etl", "2026-11-23", "Koramangala", "run-42", 3 };
	struct logger *lg;
	char dgram[8192], v[256];
	ssize_t n;
	int fd;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
	ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
	ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
	strcpy(sa.sun_path, "/run/systemd/journal/socket");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);

	lg = log_new(LOG_TARGET_JOURNAL, STDERR_FILENO, LOG_INFO);
	log_at(lg, LOG_WARNING, &f, "retrying in %ds", 30);
	n = recv(fd, dgram, sizeof dgram - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	dgram[n] = '\0';
	ck_assert_str_eq(field(dgram, "MESSAGE", v, sizeof v), "retrying in 30s");
	ck_assert_str_eq(field(dgram, "PRIORITY", v, sizeof v), "4");
	ck_assert_str_eq(field(dgram, "SYSLOG_IDENTIFIER", v, sizeof v), "salesd");
	ck_assert(tu_contains(field(dgram, "CODE_FILE", v, sizeof v), "check_log.c"));
	ck_assert_ptr_nonnull(field(dgram, "CODE_LINE", v, sizeof v));
	ck_assert(tu_contains(field(dgram, "CODE_FUNC", v, sizeof v), "test_journal_fields"));
	ck_assert_str_eq(field(dgram, "SALESD_JOB", v, sizeof v), "etl");
	ck_assert_str_eq(field(dgram, "SALESD_PERIOD", v, sizeof v), "2026-11-23");
	ck_assert_str_eq(field(dgram, "SALESD_STORE", v, sizeof v), "Koramangala");
	ck_assert_str_eq(field(dgram, "SALESD_RUN", v, sizeof v), "run-42");
	ck_assert_str_eq(field(dgram, "SALESD_ATTEMPT", v, sizeof v), "3");

	/* Fields that do not apply are left out, and levels filter here too. */
	log_at(lg, LOG_DEBUG, &f, "filtered");
	log_at(lg, LOG_INFO, NULL, "plain");
	n = recv(fd, dgram, sizeof dgram - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	dgram[n] = '\0';
	ck_assert_str_eq(field(dgram, "MESSAGE", v, sizeof v), "plain");
	ck_assert_ptr_null(field(dgram, "SALESD_JOB", v, sizeof v));
	log_free(lg);
	close(fd);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_format_plain);
	tcase_add_test(tc, test_format_terminal);
	tcase_add_test(tc, test_format_cut_utf8);
	tcase_add_test(tc, test_emit_cut_utf8);
	tcase_add_test(tc, test_detect);
	tcase_add_test(tc, test_emit_filters_and_splits);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal");
	if (geteuid() == 0)
		tcase_add_test(tc, test_journal_fields);
	else
		fprintf(stderr, "check_log: journal test needs root (a private mount namespace); not run\n");
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
