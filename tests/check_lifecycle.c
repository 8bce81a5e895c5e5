/*
 * check_lifecycle: the real "salesd serve" under the sd_notify protocol, as
 * systemd would run it: READY=1 with a STATUS line; WATCHDOG=1 when
 * WATCHDOG_USEC is set; SIGHUP with a good configuration (RELOADING=1 with
 * MONOTONIC_USEC, then READY=1 and the new value in effect) and with a broken
 * one (still running, old value kept, the error logged with file:line);
 * SIGTERM (STOPPING=1, exit 0); entries in the journal when stderr is the
 * journal stream; and no secret in any output at any log level.
 */
#include <check.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pgtest.h"
#include "testutil.h"
#include "base/util.h"

#define SECRET "Pa55w0rd-NEVER-PRINT-9f3a"

static char *dir, *conninfo;
static char *config_one, *config_two, *config_broken;

/* 2026-11-24 12:00 in Asia/Kolkata: the daemons' clock (SALESD_FAKE_NOW). */
#define NOON_24 "1795501800"

/* Common settings: the test database, the secret, no catch-up work. */
#define COMMON \
	"[salesd]\n" \
	"timezone = Asia/Kolkata\n" \
	"[database]\n" \
	"conninfo = %s\n" \
	"[source]\n" \
	"password = " SECRET "\n"

static void
setup(void)
{
	dir = tu_tmpdir();
	conninfo = pgtest_create_db("lifecycle");
	config_one = util_printf(COMMON
	    "[job one]\n"
	    "kind = selftest\n"
	    "schedule = 0 3 * * *\n"
	    "catchup = 0s\n", conninfo);
	config_two = util_printf(COMMON
	    "[job one]\n"
	    "kind = selftest\n"
	    "schedule = 30 2 * * *\n"
	    "catchup = 0s\n"
	    "[job two]\n"
	    "kind = selftest\n"
	    "after = one\n", conninfo);
	/* Broken on line 8, with the secret on a broken line too. */
	config_broken = util_printf(COMMON
	    "[smtp]\n"
	    "url = htp://mail:25\n"
	    "password = " SECRET "\n"
	    "password = " SECRET "\n", conninfo);
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
	free(config_one);
	free(config_two);
	free(config_broken);
	tu_rmrf(dir);
	free(dir);
}

/* The STATUS= line of a datagram log, last one wins. */
static char *
last_status(const char *log)
{
	const char *p = NULL, *q;

	for (q = log; (q = strstr(q, "STATUS=")) != NULL; q++)
		p = q + 7;
	if (p == NULL)
		return NULL;
	return strndup(p, strcspn(p, "\n|"));
}

struct daemon {
	struct tu_child child;
	int notify;
	char *conf, *errpath, *notify_path;
	char *env[4];
};

static void
daemon_start(struct daemon *d, const char *config, const char *watchdog_usec)
{
	const char *argv[] = { tu_salesd(), "--config", NULL, "--log-level", "debug", "serve", NULL };

	memset(d, 0, sizeof *d);
	d->conf = tu_write(dir, "salesd.conf", config);
	d->errpath = util_printf("%s/stderr", dir);
	d->notify_path = util_printf("%s/notify", dir);
	d->notify = tu_notify_socket(d->notify_path);
	d->env[0] = util_printf("NOTIFY_SOCKET=%s", d->notify_path);
	d->env[1] = util_printf("SALESD_FAKE_NOW=" NOON_24);
	if (watchdog_usec != NULL)
		d->env[2] = util_printf("WATCHDOG_USEC=%s", watchdog_usec);
	argv[2] = d->conf;
	ck_assert_int_eq(tu_spawn(&d->child, (char *const *)(uintptr_t)argv, d->env, d->errpath), 0);
}

static void
daemon_done(struct daemon *d)
{
	tu_kill(&d->child);
	close(d->notify);
	free(d->conf);
	free(d->errpath);
	free(d->notify_path);
	for (size_t i = 0; i < UTIL_NELEM(d->env); i++)
		free(d->env[i]);
}

START_TEST(test_ready_reload_stop)
{
	struct daemon d;
	char *log = NULL, *status, *err, *want;

	daemon_start(&d, config_one, NULL);
	ck_assert_msg(tu_notify_wait(d.notify, "READY=1", 10000, &log), "no READY=1: %s", log);
	status = last_status(log);
	ck_assert_str_eq(status, "idle; next: one at 2026-11-25 03:00 IST");
	free(status);

	/* A good new configuration: RELOADING=1 with a timestamp, then READY=1. */
	free(tu_write(dir, "salesd.conf", config_two));
	free(log);
	log = NULL;
	ck_assert_int_eq(kill(d.child.pid, SIGHUP), 0);
	ck_assert_msg(tu_notify_wait(d.notify, "RELOADING=1", 10000, &log), "no RELOADING=1: %s", log);
	ck_assert(tu_contains(log, "MONOTONIC_USEC="));
	ck_assert_msg(tu_notify_wait(d.notify, "READY=1", 10000, &log), "no READY=1 after reload: %s", log);
	status = last_status(log);
	ck_assert_str_eq(status, "idle; next: one at 2026-11-25 02:30 IST");
	free(status);

	/* A broken one: still running, the old value kept, the error logged with file:line. */
	free(tu_write(dir, "salesd.conf", config_broken));
	free(log);
	log = NULL;
	ck_assert_int_eq(kill(d.child.pid, SIGHUP), 0);
	ck_assert(tu_notify_wait(d.notify, "RELOADING=1", 10000, &log));
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	status = last_status(log);
	ck_assert_str_eq(status, "idle; next: one at 2026-11-25 02:30 IST");
	free(status);
	ck_assert_int_eq(kill(d.child.pid, 0), 0);
	err = tu_read(d.errpath);
	want = util_printf("%s:8: [smtp] url: unsupported scheme \"htp\"", d.conf);
	ck_assert_msg(tu_contains(err, want), "stderr lacks \"%s\": %s", want, err);
	ck_assert(tu_contains(err, "keeping the previous configuration"));
	free(want);
	free(err);

	/* SIGTERM: STOPPING=1 and exit 0. */
	free(log);
	log = NULL;
	ck_assert_int_eq(kill(d.child.pid, SIGTERM), 0);
	ck_assert(tu_notify_wait(d.notify, "STOPPING=1", 10000, &log));
	ck_assert_int_eq(tu_wait(&d.child, 10000), 0);

	/* Debug level, a reload error on the secret's lines: the secret never shows. */
	err = tu_read(d.errpath);
	ck_assert(tu_contains(err, "stopped"));
	ck_assert_msg(!tu_contains(err, SECRET), "secret in stderr: %s", err);
	free(err);
	free(log);
	daemon_done(&d);
}
END_TEST

START_TEST(test_sigint_and_reload_storm)
{
	struct daemon d;
	char *log = NULL;

	daemon_start(&d, config_one, NULL);
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	/* Several SIGHUPs in a row end in one consistent READY=1. */
	for (int i = 0; i < 5; i++)
		kill(d.child.pid, SIGHUP);
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	kill(d.child.pid, SIGINT);
	ck_assert(tu_notify_wait(d.notify, "STOPPING=1", 10000, &log));
	ck_assert_int_eq(tu_wait(&d.child, 10000), 0);
	free(log);
	daemon_done(&d);
}
END_TEST

START_TEST(test_watchdog)
{
	struct daemon d;
	char *log = NULL;
	int pings = 0;

	/* 200 ms: pings at half the interval, so several within a second. */
	daemon_start(&d, config_one, "200000");
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	while (pings < 3 && tu_notify_wait(d.notify, "WATCHDOG=1", 2000, NULL))
		pings++;
	ck_assert_int_eq(pings, 3);
	kill(d.child.pid, SIGTERM);
	ck_assert_int_eq(tu_wait(&d.child, 10000), 0);
	free(log);
	daemon_done(&d);
}
END_TEST

START_TEST(test_no_watchdog_without_env)
{
	struct daemon d;
	char *log = NULL;

	daemon_start(&d, config_one, NULL);
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert(!tu_notify_wait(d.notify, "WATCHDOG=1", 500, NULL));
	kill(d.child.pid, SIGTERM);
	ck_assert_int_eq(tu_wait(&d.child, 10000), 0);
	free(log);
	daemon_done(&d);
}
END_TEST

/*
 * Under systemd: stderr is the journal stream (JOURNAL_STREAM names it), so
 * entries go to the journal socket, which we provide in a private mount
 * namespace. Needs root.
 */
START_TEST(test_journal)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[] = { tu_salesd(), "--config", NULL, "serve", NULL };
	char *conf, *errpath, *env[2] = { NULL, NULL }, dgram[8192], *all = NULL, *err;
	struct tu_child child;
	struct stat st;
	int fd, status;
	FILE *fp;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
	ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
	ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
	strcpy(sa.sun_path, "/run/systemd/journal/socket");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);

	conf = tu_write(dir, "salesd.conf", config_one);
	errpath = util_printf("%s/stderr", dir);
	fp = fopen(errpath, "w");
	fclose(fp);
	ck_assert_int_eq(stat(errpath, &st), 0);
	env[0] = util_printf("JOURNAL_STREAM=%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	argv[2] = conf;
	ck_assert_int_eq(tu_spawn(&child, (char *const *)(uintptr_t)argv, env, errpath), 0);

	/* Collect datagrams until the start message arrives, then stop it. */
	for (int i = 0; i < 100 && !tu_contains(all, "salesd started"); i++) {
		struct timeval tv = { 0, 100000 };
		ssize_t n;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if ((n = recv(fd, dgram, sizeof dgram - 1, 0)) <= 0)
			continue;
		dgram[n] = '\0';
		char *joined = util_printf("%s%s\n--\n", all ? all : "", dgram);
		free(all);
		all = joined;
	}
	kill(child.pid, SIGTERM);
	status = tu_wait(&child, 10000);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(tu_contains(all, "MESSAGE=salesd started"), "journal got: %s", all);
	ck_assert(tu_contains(all, "SYSLOG_IDENTIFIER=salesd"));
	ck_assert(tu_contains(all, "PRIORITY=5"));
	ck_assert(tu_contains(all, "CODE_FILE="));
	ck_assert(tu_contains(all, "CODE_FUNC=serve_main"));
	/* Nothing went to stderr: the journal got it all. */
	err = tu_read(errpath);
	ck_assert_str_eq(err, "");
	free(err);
	free(all);
	free(env[0]);
	free(conf);
	free(errpath);
	tu_kill(&child);
	close(fd);
}
END_TEST

static Suite *
lifecycle_suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc;

	tc = tcase_create("notify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ready_reload_stop);
	tcase_add_test(tc, test_sigint_and_reload_storm);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_no_watchdog_without_env);
	suite_add_tcase(s, tc);

	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, setup, teardown);
	if (geteuid() == 0)
		tcase_add_test(tc, test_journal);
	else
		fprintf(stderr, "check_lifecycle: journal test needs root; not run\n");
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lifecycle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
