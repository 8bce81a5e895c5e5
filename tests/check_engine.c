/*
 * check_engine: the scheduler and DAG engine end to end: the real salesd
 * binary ("run", "backfill", "serve", "status") against a real PostgreSQL,
 * with selftest jobs that write marker lines ("job period store attempt pid").
 * Time is injected with SALESD_FAKE_NOW instead of waiting for it.
 *
 * Proven here: idempotent runs and --force; upstream work run first; retries
 * with back-off; giving up; timeouts killing the whole process group; kill -9
 * of a task child (retried) and of the daemon (recovered after restart, done
 * work not redone); two daemons on one database (each instance exactly once);
 * catch-up within the window and a report of what lies beyond it; a schedule
 * firing on time; reload while a task runs; a clean child environment; the
 * database down.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "pgtest.h"
#include "testutil.h"
#include "base/util.h"

/* 2026-11-24 12:00 in Asia/Kolkata, and 01:29:58 that night. */
#define NOON_24 "1795501800"
#define BEFORE_FIRE_24 "1795463998"

static char *dir, *conninfo, *marker;
static int parallel = 2;

static void
setup(void)
{
	dir = tu_tmpdir();
	conninfo = pgtest_create_db("engine");
	marker = util_printf("%s/marker", dir);
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
	free(marker);
	tu_rmrf(dir);
	free(dir);
}

/* A configuration: common settings plus the given job sections. */
static char *
config(const char *jobs)
{
	char *text = util_printf(
	    "[salesd]\n"
	    "timezone = Asia/Kolkata\n"
	    "max_parallel = %d\n"
	    "kill_grace = 300ms\n"
	    "stop_timeout = 5s\n"
	    "[database]\n"
	    "conninfo = %s\n"
	    "%s", parallel, conninfo, jobs);
	char *path = tu_write(dir, "salesd.conf", text);

	free(text);
	return path;
}

static int
marker_lines(void)
{
	char *text = tu_read(marker);
	int n = 0;

	for (char *p = text; p != NULL && *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* How often "job period" starts a line of the marker file. */
static int
marker_count(const char *job_period)
{
	char *text = tu_read(marker), *line, *save = NULL;
	size_t len = strlen(job_period);
	int n = 0;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, job_period, len) == 0 && line[len] == ' ')
			n++;
	free(text);
	return n;
}

/* salesd [--config conf] ARGS... with env; returns the result. */
static struct tu_result
salesd(const char *conf, char *const *env, const char *a0, ...)
{
	const char *argv[16] = { tu_salesd(), "--config", conf };
	struct tu_result r;
	size_t n = 3;
	va_list ap;

	va_start(ap, a0);
	for (const char *a = a0; a != NULL && n < 15; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run((char *const *)(uintptr_t)argv, env, 120, &r), 0);
	return r;
}

static void drain_notify(void);

static bool
wait_for(bool (*cond)(void *), void *arg, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		drain_notify();
		if (cond(arg))
			return true;
		usleep(50000);
	}
	return cond(arg);
}

static bool
marker_has(void *arg)
{
	return marker_lines() >= *(int *)arg;
}

static char *
query(const char *sql)
{
	return pgtest_query1(conninfo, sql);
}

START_TEST(test_run_idempotent_and_force)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\naction = marker %s\n", marker);
	char *conf = config(jobs);
	struct tu_result r;

	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_msg(r.status == 0, "run failed: %s", r.err);
	ck_assert_int_eq(marker_count("a 2026-11-23 - 1"), 1);
	tu_result_done(&r);
	/* Done is done. */
	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(marker_lines(), 1);
	tu_result_done(&r);
	/* Unless forced: a second attempt. */
	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", "--force", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(marker_count("a 2026-11-23 - 2"), 1);
	ck_assert_int_eq(marker_lines(), 2);
	tu_result_done(&r);
	free(jobs);
	free(conf);
}
END_TEST

START_TEST(test_run_upstream_first)
{
	char *jobs = util_printf(
	    "[job a]\nkind = selftest\nschedule = 30 1 * * *\naction = marker %s\n"
	    "[job w]\nkind = selftest\nafter = a\nperiod = week\naction = marker %s\n"
	    "[job s]\nkind = selftest\nafter = w\nperiod = week\nscope = stores\nstores = north, south\n"
	    "action = marker %s\n", marker, marker, marker);
	char *conf = config(jobs);
	struct tu_result r;
	char *text, *w, *last_a;

	r = salesd(conf, NULL, "run", "s", "--date", "2026-11-18", NULL);
	ck_assert_msg(r.status == 0, "run failed: %s", r.err);
	tu_result_done(&r);
	/* Every day of ISO week 47, then the week, then one task per store. */
	for (int d = 16; d <= 22; d++) {
		char day[32];

		snprintf(day, sizeof day, "a 2026-11-%02d", d);
		ck_assert_int_eq(marker_count(day), 1);
	}
	ck_assert_int_eq(marker_count("w 2026-W47"), 1);
	ck_assert_int_eq(marker_count("s 2026-W47 north"), 1);
	ck_assert_int_eq(marker_count("s 2026-W47 south"), 1);
	ck_assert_int_eq(marker_lines(), 10);
	text = tu_read(marker);
	w = strstr(text, "w 2026-W47");
	last_a = strstr(text, "a 2026-11-22");
	ck_assert(last_a != NULL && w != NULL && last_a < w);
	ck_assert(strstr(text, "s 2026-W47") > w);
	free(text);
	free(jobs);
	free(conf);
}
END_TEST

START_TEST(test_retries_with_backoff)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 3\n"
	    "retry_delay = 50ms\nretry_max_delay = 200ms\naction = fail-until 2, marker %s\n", marker);
	char *conf = config(jobs);
	struct tu_result r;
	char *v;

	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_msg(r.status == 0, "run failed: %s", r.err);
	ck_assert(tu_contains(r.err, "retrying in"));
	tu_result_done(&r);
	ck_assert_int_eq(marker_count("a 2026-11-23 - 3"), 1);
	ck_assert_int_eq(marker_lines(), 1);
	v = query("SELECT string_agg(state, ',' ORDER BY attempt) FROM salesd.task_attempt");
	ck_assert_str_eq(v, "failed,failed,succeeded");
	free(v);
	free(jobs);
	free(conf);
}
END_TEST

START_TEST(test_give_up_and_status)
{
	char *conf = config("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 1\n"
	    "retry_delay = 50ms\naction = fail\n");
	struct tu_result r;
	json_t *o;

	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.err, "giving up after 2 attempts"));
	ck_assert(tu_contains(r.err, "salesd run a --date 2026-11-23 --force"));
	tu_result_done(&r);
	r = salesd(conf, NULL, "status", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "Failures"));
	ck_assert(tu_contains(r.out, "failed on purpose (selftest)"));
	ck_assert(tu_contains(r.out, "Next runs (Asia/Kolkata)"));
	tu_result_done(&r);
	r = salesd(conf, NULL, "status", "--json", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(o = json_loads(r.out, 0, NULL));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "failures")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(o, "failures"), 0),
	    "attempts")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "recent")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(o, "next"), 0), "job")), "a");
	json_decref(o);
	tu_result_done(&r);
	free(conf);
}
END_TEST

/*
 * A forced run gets the job's whole retry budget again: the first failure
 * after --force is retried, and the ledger keeps every attempt of both rounds.
 */
START_TEST(test_force_gets_full_retries)
{
	char *conf = config("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 2\n"
	    "retry_delay = 20ms\nretry_max_delay = 50ms\naction = fail\n");
	struct tu_result r;
	char *v;

	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "giving up after 3 attempts"), "%s", r.err);
	tu_result_done(&r);
	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", "--force", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "retrying in"), "a forced run was not retried: %s", r.err);
	ck_assert_msg(tu_contains(r.err, "giving up after 3 attempts"), "%s", r.err);
	tu_result_done(&r);
	v = query("SELECT string_agg(attempt || ':' || state, ',' ORDER BY attempt) FROM salesd.task_attempt");
	ck_assert_str_eq(v, "1:failed,2:failed,3:failed,4:failed,5:failed,6:failed");
	free(v);
	v = query("SELECT attempts || ' ' || round_start || ' ' || state FROM salesd.task_instance");
	ck_assert_str_eq(v, "6 3 failed");
	free(v);
	free(conf);
}
END_TEST

/*
 * One rule for every failure (exitcode.h): 75 is retried; 65, 67, 77 and 78
 * are not, whatever retries says; 1 is retried where the job kind allows.
 */
START_TEST(test_exit_classes)
{
	static const struct {
		const char *status;
		const char *attempts;
		int run_status;
	} cases[] = {
		{ "75", "3", 75 }, { "78", "1", 1 }, { "65", "1", 1 }, { "67", "1", 1 }, { "77", "1", 1 },
		{ "1", "3", 1 },
	};

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 2\n"
		    "retry_delay = 20ms\nretry_max_delay = 50ms\naction = exit %s\n", cases[k].status);
		char *conf = config(jobs), *v;
		struct tu_result r;

		if (k > 0)
			pgtest_exec(conninfo, "DELETE FROM salesd.task_instance");
		r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
		ck_assert_msg(r.status == cases[k].run_status, "exit %s: salesd run exited %d: %s", cases[k].status,
		    r.status, r.err);
		if (strcmp(cases[k].attempts, "1") == 0)
			ck_assert_msg(tu_contains(r.err, "not retried (exit status"), "exit %s: %s", cases[k].status,
			    r.err);
		tu_result_done(&r);
		v = query("SELECT attempts FROM salesd.task_instance");
		ck_assert_msg(strcmp(v, cases[k].attempts) == 0, "exit %s: %s attempts, not %s", cases[k].status, v,
		    cases[k].attempts);
		free(v);
		free(jobs);
		free(conf);
	}
}
END_TEST

static bool
pid_gone(pid_t pid)
{
	char path[64], *stat;
	bool gone;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	stat = tu_read(path);
	gone = stat == NULL || strstr(stat, ") Z ") != NULL;
	free(stat);
	return gone;
}

static pid_t
grandchild_pid(const char *log)
{
	/* "grandchild PID", not "step grandchild". */
	for (const char *p = log; p != NULL && (p = strstr(p, "grandchild ")) != NULL; p++)
		if (isdigit((unsigned char)p[11]))
			return (pid_t)atoi(p + 11);
	return 0;
}

START_TEST(test_timeout_kills_group)
{
	char *conf = config("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 0\n"
	    "timeout = 1s\naction = grandchild, hang-hard\n");
	struct tu_result r;
	pid_t g;
	char *v;

	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.err, "timed out after 1s; its process group was killed"));
	g = grandchild_pid(r.err);
	ck_assert_int_gt(g, 0);
	for (int i = 0; i < 50 && !pid_gone(g); i++)
		usleep(20000);
	ck_assert_msg(pid_gone(g), "grandchild %d survived", (int)g);
	tu_result_done(&r);
	v = query("SELECT state || ':' || exit_status FROM salesd.task_attempt");
	ck_assert_str_eq(v, "timeout:137");
	free(v);
	free(conf);
}
END_TEST

/* kill -9 of a running task child: a failed attempt, then a retry that completes. */
START_TEST(test_kill_task_child)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\nretries = 1\n"
	    "retry_delay = 50ms\naction = marker %s, sleep 1500ms\n", marker);
	char *conf = config(jobs), *errpath = util_printf("%s/run.err", dir), *text, *v;
	const char *argv[] = { tu_salesd(), "--config", conf, "run", "a", "--date", "2026-11-23", NULL };
	struct tu_child child;
	int one = 1;
	pid_t task;

	ck_assert_int_eq(tu_spawn(&child, (char *const *)(uintptr_t)argv, NULL, errpath), 0);
	ck_assert(wait_for(marker_has, &one, 20000));
	text = tu_read(marker);
	task = (pid_t)atoi(strrchr(text, ' ') + 1);
	free(text);
	ck_assert_int_gt(task, 0);
	ck_assert_int_eq(kill(task, SIGKILL), 0);
	ck_assert_int_eq(tu_wait(&child, 30000), 0);
	ck_assert_int_eq(marker_count("a 2026-11-23 - 2"), 1);
	v = query("SELECT string_agg(state || ':' || coalesce(error, ''), ',' ORDER BY attempt) FROM salesd.task_attempt");
	ck_assert_msg(tu_contains(v, "failed:killed by signal 9"), "attempts: %s", v);
	ck_assert(tu_contains(v, ",succeeded:"));
	free(v);
	tu_kill(&child);
	free(errpath);
	free(jobs);
	free(conf);
}
END_TEST

struct daemon {
	struct tu_child child;
	int notify;
	char *errpath, *notify_path;
	char *env[3];
};

/* Daemons running now: their notify sockets are drained while tests wait. */
static struct daemon *live[4];

/*
 * Read what the daemons told "systemd" so far. A datagram socket holds only
 * net.unix.max_dgram_qlen messages (10 here) and a full one blocks the
 * sender, as a stuck service manager would.
 */
static void
drain_notify(void)
{
	char buf[4096];

	for (size_t k = 0; k < UTIL_NELEM(live); k++)
		while (live[k] != NULL && recv(live[k]->notify, buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
}

static void
daemon_start(struct daemon *d, const char *conf, const char *fake_now, const char *name)
{
	const char *argv[] = { tu_salesd(), "--config", conf, "--log-level", "debug", "serve", NULL };

	memset(d, 0, sizeof *d);
	d->errpath = util_printf("%s/%s.err", dir, name);
	d->notify_path = util_printf("%s/%s.notify", dir, name);
	d->notify = tu_notify_socket(d->notify_path);
	d->env[0] = util_printf("NOTIFY_SOCKET=%s", d->notify_path);
	d->env[1] = util_printf("SALESD_FAKE_NOW=%s", fake_now);
	ck_assert_int_eq(tu_spawn(&d->child, (char *const *)(uintptr_t)argv, d->env, d->errpath), 0);
	for (size_t k = 0; k < UTIL_NELEM(live); k++)
		if (live[k] == NULL) {
			live[k] = d;
			break;
		}
}

/* The daemon's stderr so far, for failure messages (leaked: the test ends). */
static char *
daemon_log(const struct daemon *d)
{
	char *text = tu_read(d->errpath);
	size_t n;

	if (text == NULL)
		return util_printf("(nothing)");
	/* Check's messages are short: the last lines are what matters. */
	if ((n = strlen(text)) > 2500)
		memmove(text, text + n - 2500, 2501);
	return text;
}

static int
daemon_stop(struct daemon *d)
{
	int status = -1;

	if (d->child.pid > 0) {
		kill(d->child.pid, SIGTERM);
		status = tu_wait(&d->child, 20000);
	}
	tu_kill(&d->child);
	for (size_t k = 0; k < UTIL_NELEM(live); k++)
		if (live[k] == d)
			live[k] = NULL;
	close(d->notify);
	free(d->errpath);
	free(d->notify_path);
	for (size_t i = 0; i < UTIL_NELEM(d->env); i++)
		free(d->env[i]);
	return status;
}

static bool
succeeded_at_least(void *arg)
{
	char *v = query("SELECT to_regclass('salesd.task_instance')");
	bool ok;

	/* The daemons create the schema when they first connect. */
	if (v == NULL)
		return false;
	free(v);
	v = query("SELECT count(*) FROM salesd.task_instance WHERE state = 'succeeded'");
	ok = v != NULL && atoi(v) >= *(int *)arg;

	free(v);
	return ok;
}

/* Two daemons, one database: every instance runs exactly once. */
START_TEST(test_two_daemons)
{
	char *jobs = util_printf(
	    "[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 10d\naction = marker %s, sleep 50ms\n"
	    "[job b]\nkind = selftest\nafter = a\naction = marker %s\n", marker, marker);
	char *conf = config(jobs), *text, *line, *save = NULL;
	struct daemon d1, d2;
	int want = 20;

	daemon_start(&d1, conf, NOON_24, "d1");
	daemon_start(&d2, conf, NOON_24, "d2");
	if (!wait_for(succeeded_at_least, &want, 60000))
		ck_abort_msg("not all done; d1 said:\n%s", daemon_log(&d1));
	usleep(300000);
	ck_assert_int_eq(daemon_stop(&d1), 0);
	ck_assert_int_eq(daemon_stop(&d2), 0);
	/* Ten days of a and b (2026-11-14 .. 2026-11-23), each exactly once. */
	ck_assert_int_eq(marker_lines(), 20);
	text = tu_read(marker);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char jp[32];

		snprintf(jp, sizeof jp, "%.12s", line);
		ck_assert_msg(marker_count(jp) == 1, "%s ran %d times", jp, marker_count(jp));
	}
	free(text);
	ck_assert_int_eq(marker_count("a 2026-11-14"), 1);
	ck_assert_int_eq(marker_count("b 2026-11-23"), 1);
	free(jobs);
	free(conf);
}
END_TEST

/* kill -9 of the daemon mid-run: after a restart, done work stays done and the interrupted task completes. */
START_TEST(test_daemon_kill9_restart)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 3d\n"
	    "action = marker %s, sleep 700ms\n", marker);
	char *conf, *v;
	struct daemon d;
	int two = 2, three = 3;

	/* One task at a time, so exactly one is cut short. */
	parallel = 1;
	conf = config(jobs);
	daemon_start(&d, conf, NOON_24, "d1");
	/* Wait until the second task has started (its marker line is there), then kill -9. */
	ck_assert(wait_for(marker_has, &two, 30000));
	ck_assert_int_eq(kill(d.child.pid, SIGKILL), 0);
	ck_assert_int_eq(tu_wait(&d.child, 10000), 128 + SIGKILL);
	daemon_stop(&d);
	daemon_start(&d, conf, NOON_24, "d2");
	ck_assert(wait_for(succeeded_at_least, &three, 30000));
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* Three days; the one interrupted ran twice, the others once. */
	v = query("SELECT string_agg(i.period || ':' || a.attempt || ':' || a.state, ',' ORDER BY i.period, a.attempt) "
	    "FROM salesd.task_attempt a JOIN salesd.task_instance i ON i.id = a.instance_id");
	ck_assert_msg(tu_contains(v, ":1:abandoned,"), "attempts: %s", v);
	free(v);
	v = query("SELECT count(*) FROM salesd.task_attempt WHERE state = 'succeeded'");
	ck_assert_str_eq(v, "3");
	free(v);
	ck_assert_int_eq(marker_lines(), 4);
	free(jobs);
	free(conf);
}
END_TEST

/*
 * A held task (an incomplete day before its settle deadline) is tried again
 * by the daemon beyond its retry limit, until it is no longer held; then it
 * still has its whole retry budget for real failures.
 */
START_TEST(test_daemon_held_beyond_retries)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 1d\nretries = 1\n"
	    "retry_delay = 100ms\nretry_max_delay = 200ms\n"
	    "action = hold-until-attempt 2, fail-until 3, marker %s\n", marker);
	char *conf = config(jobs), *v;
	struct daemon d;
	int one = 1;

	daemon_start(&d, conf, NOON_24, "held");
	if (!wait_for(marker_has, &one, 30000))
		ck_abort_msg("never ran past its holds:\n%s", daemon_log(&d));
	usleep(300000);
	v = tu_read(d.errpath);
	ck_assert_msg(tu_contains(v, "a 2026-11-23 held: attempt 1 held on purpose"), "log: %s", v);
	free(v);
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* Held twice, then a failure that its one retry heals: the holds did not use that retry up. */
	ck_assert_int_eq(marker_count("a 2026-11-23 - 4"), 1);
	v = query("SELECT string_agg(exit_status::text, ',' ORDER BY attempt) FROM salesd.task_attempt");
	ck_assert_str_eq(v, "75,75,1,0");
	free(v);
	free(jobs);
	free(conf);
}
END_TEST

/*
 * A restated day (named in an upstream task's result): what follows it runs
 * again, as an ordinary run (no --force: a delivery sends no duplicates,
 * only corrections), and what follows that too.
 */
START_TEST(test_daemon_restated_day_runs_again)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 2d\n"
	    "action = marker %s, restate 2026-11-22\n"
	    "[job b]\nkind = selftest\nafter = a\naction = marker %s\n"
	    "[job c]\nkind = selftest\nafter = b\naction = marker %s\n", marker, marker, marker);
	char *conf, *text;
	struct daemon d;
	int six = 6;

	parallel = 1;
	conf = config(jobs);
	daemon_start(&d, conf, NOON_24, "restated");
	/* a, b, c for 11-22 and 11-23, then b and c for 11-22 again: 8 lines. */
	six = 8;
	if (!wait_for(marker_has, &six, 30000))
		ck_abort_msg("not run again:\n%s", daemon_log(&d));
	usleep(300000);
	ck_assert_int_eq(daemon_stop(&d), 0);
	ck_assert_int_eq(marker_count("b 2026-11-22"), 2);
	ck_assert_int_eq(marker_count("c 2026-11-22"), 2);
	ck_assert_int_eq(marker_count("b 2026-11-23"), 1);
	ck_assert_int_eq(marker_count("a 2026-11-22"), 1);
	text = tu_read(marker);
	ck_assert_msg(!tu_contains(text, "forced"), "run again without --force: %s", text);
	ck_assert_msg(tu_contains(text, "c 2026-11-22 - 2 "), "c ran again in a new attempt: %s", text);
	/* Told so (--again): a delivery job then sends corrections only. */
	for (char *line = strstr(text, "c 2026-11-22 - 2 "); line != NULL; line = NULL) {
		char *end = strchr(line, '\n');

		if (end != NULL)
			*end = '\0';
		ck_assert_msg(tu_contains(line, " again"), "without --again: %s", line);
	}
	free(text);
	free(jobs);
	free(conf);
}
END_TEST

START_TEST(test_catch_up_window)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 3d\naction = marker %s\n",
	    marker);
	char *conf = config(jobs), *err;
	struct tu_result r;
	struct daemon d;
	int four = 4;

	/* The last success long ago: November 1st. */
	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-01", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_done(&r);
	daemon_start(&d, conf, NOON_24, "d1");
	ck_assert(wait_for(succeeded_at_least, &four, 30000));
	usleep(200000);
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* Within the window, oldest first: the 21st, 22nd and 23rd. */
	ck_assert_int_eq(marker_count("a 2026-11-21"), 1);
	ck_assert_int_eq(marker_count("a 2026-11-23"), 1);
	ck_assert_int_eq(marker_count("a 2026-11-20"), 0);
	ck_assert_int_eq(marker_lines(), 4);
	err = util_printf("%s/d1.err", dir);
	{
		char *log = tu_read(err);

		ck_assert_msg(tu_contains(log, "periods 2026-11-02 to 2026-11-20 were missed"), "log: %s", log);
		ck_assert(tu_contains(log, "salesd backfill a --from 2026-11-02 --to 2026-11-20"));
		free(log);
	}
	free(err);
	free(jobs);
	free(conf);
}
END_TEST

/* A schedule fires on time, for the day that just closed; STATUS names it first. */
/*
 * DST days in Europe/Berlin, each started two seconds before the moment:
 * 02:30 does not exist on 2026-03-29 (fires at 03:00 CEST, once); 02:30
 * happens twice on 2026-10-25 (fires at the first, and not at the second).
 */
#define SPRING_0159_58 "1774745998"     /* 2026-03-29 01:59:58 CET */
#define FALL_0229_58_CEST "1792888198"  /* 2026-10-25 02:29:58 CEST, first pass */
#define FALL_0229_58_CET "1792891798"   /* 2026-10-25 02:29:58 CET, second pass */

static void
dst_case(const char *fake_now, const char *ready_status, const char *after_status, const char *ran)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 2 * * * Europe/Berlin\n"
	    "catchup = 0s\naction = marker %s\n", marker);
	char *conf = config(jobs), *log = NULL;
	struct daemon d;

	unlink(marker);
	daemon_start(&d, conf, fake_now, "dst");
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert_msg(tu_contains(log, ready_status), "wanted %s: %s", ready_status, log);
	/* It fired: the next fire time moves on to the next day. Or it must not fire at all. */
	if (after_status != NULL)
		ck_assert_msg(tu_notify_wait(d.notify, after_status, 6000, &log), "wanted %s: %s",
		    after_status, log);
	usleep(after_status != NULL ? 300000 : 3000000);
	if (ran != NULL) {
		ck_assert_int_eq(marker_lines(), 1);
		ck_assert_int_eq(marker_count(ran), 1);
	} else
		ck_assert_int_eq(marker_lines(), 0);
	ck_assert_int_eq(daemon_stop(&d), 0);
	free(log);
	free(jobs);
	free(conf);
}

START_TEST(test_dst_days)
{
	dst_case(SPRING_0159_58, "STATUS=idle; next: a at 2026-03-29 03:00 CEST",
	    "STATUS=idle; next: a at 2026-03-30 02:30 CEST", "a 2026-03-28 - 1");
	dst_case(FALL_0229_58_CEST, "STATUS=idle; next: a at 2026-10-25 02:30 CEST",
	    "STATUS=idle; next: a at 2026-10-26 02:30 CET", "a 2026-10-24 - 1");
	/* Started between the two 02:30s: the day's firing is over. */
	dst_case(FALL_0229_58_CET, "STATUS=idle; next: a at 2026-10-26 02:30 CET", NULL, NULL);
}
END_TEST

START_TEST(test_fire_on_time)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 30 1 * * *\ncatchup = 0s\n"
	    "action = no-notify-env, marker %s\n", marker);
	char *conf = config(jobs), *log = NULL;
	struct daemon d;
	int one = 1;

	daemon_start(&d, conf, BEFORE_FIRE_24, "d1");
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert_msg(tu_contains(log, "STATUS=idle; next: a at 2026-11-24 01:30 IST"), "notify: %s", log);
	ck_assert_int_eq(marker_lines(), 0);
	ck_assert(wait_for(marker_has, &one, 10000));
	/* Fired at 01:30 on the 24th: the 23rd; and the task could not talk to systemd. */
	ck_assert_int_eq(marker_count("a 2026-11-23"), 1);
	usleep(200000);
	ck_assert_int_eq(daemon_stop(&d), 0);
	free(log);
	free(jobs);
	free(conf);
}
END_TEST

/* SIGHUP while a task runs: it finishes; the new jobs take over. */
START_TEST(test_reload_while_running)
{
	char *jobs1 = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 1d\n"
	    "action = marker %s, sleep 1500ms\n", marker);
	char *jobs2 = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 1d\n"
	    "action = marker %s\n[job c]\nkind = selftest\nschedule = 0 4 * * *\naction = succeed\n", marker);
	char *conf = config(jobs1), *log = NULL, *err;
	struct daemon d;
	int one = 1;

	daemon_start(&d, conf, NOON_24, "d1");
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert(wait_for(marker_has, &one, 10000));
	free(config(jobs2));
	kill(d.child.pid, SIGHUP);
	ck_assert(tu_notify_wait(d.notify, "RELOADING=1", 10000, &log));
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert(wait_for(succeeded_at_least, &one, 10000));
	ck_assert_int_eq(daemon_stop(&d), 0);
	err = util_printf("%s/d1.err", dir);
	free(log);
	log = tu_read(err);
	ck_assert(tu_contains(log, "configuration reloaded"));
	ck_assert(tu_contains(log, "a 2026-11-23 succeeded"));
	free(log);
	free(err);
	free(jobs1);
	free(jobs2);
	free(conf);
}
END_TEST

/* The database is down: the daemon stays up and says so; "run" exits 75. */
START_TEST(test_database_down)
{
	char *text = util_printf("[salesd]\ntimezone = Asia/Kolkata\n[database]\n"
	    "conninfo = host=%s/nowhere dbname=x connect_timeout=2\n"
	    "[job a]\nkind = selftest\nschedule = 0 3 * * *\ncatchup = 1d\n", dir);
	char *conf = tu_write(dir, "salesd.conf", text), *log = NULL;
	struct tu_result r;
	struct daemon d;

	daemon_start(&d, conf, NOON_24, "d1");
	ck_assert(tu_notify_wait(d.notify, "READY=1", 10000, &log));
	ck_assert_msg(tu_notify_wait(d.notify, "STATUS=database unreachable (cannot connect to PostgreSQL: "
	    "connection to server on socket \"", 10000, &log) || tu_contains(log, "database unreachable"),
	    "notify: %s", log);
	ck_assert_int_eq(kill(d.child.pid, 0), 0);
	ck_assert_int_eq(daemon_stop(&d), 0);
	r = salesd(conf, NULL, "run", "a", "--date", "2026-11-23", NULL);
	ck_assert_int_eq(r.status, 75);
	ck_assert(tu_contains(r.err, "cannot connect to PostgreSQL"));
	tu_result_done(&r);
	r = salesd(conf, NULL, "status", NULL);
	ck_assert_int_eq(r.status, 75);
	tu_result_done(&r);
	free(log);
	free(text);
	free(conf);
}
END_TEST

START_TEST(test_usage)
{
	char *conf = config("[job a]\nkind = selftest\nschedule = 0 3 * * *\n"
	    "[job m]\nkind = email\nafter = a\n");
	struct tu_result r;

	r = salesd(conf, NULL, "run", "nope", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "no job \"nope\""));
	tu_result_done(&r);
	r = salesd(conf, NULL, "run", "a", "--date", "2026-13-01", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "not a valid date"));
	tu_result_done(&r);
	r = salesd(conf, NULL, "backfill", "m", "--from", "2026-11-01", "--to", "2026-11-02", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "add --deliver"));
	tu_result_done(&r);
	r = salesd(conf, NULL, "run", "a", "--store", "x", NULL);
	ck_assert_int_eq(r.status, 64);
	ck_assert(tu_contains(r.err, "company-wide"));
	tu_result_done(&r);
	free(conf);
}
END_TEST

/* A per-store job without "stores": one task per store that sold in the period. */
START_TEST(test_per_store_from_sales)
{
	char *jobs = util_printf("[job w]\nkind = selftest\nperiod = week\nscope = stores\n"
	    "schedule = 0 3 * * mon\naction = marker %s\n", marker);
	char *conf = config(jobs);
	struct tu_result r;

	r = salesd(conf, NULL, "migrate", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_done(&r);
	pgtest_exec(conninfo, "INSERT INTO salesd.kpi_store_day (day, store, orders, sales, quantity, cost, aov) "
	    "VALUES ('2026-11-17', 'Koramangala, Bengaluru', 1, 10, 1, 5, 10), ('2026-11-22', 'Indiranagar', 1, 10, 1, 5, 10), "
	    "('2026-11-18', 'Indiranagar', 1, 10, 1, 5, 10), ('2026-11-10', 'Whitefield', 1, 10, 1, 5, 10)");
	r = salesd(conf, NULL, "run", "w", "--date", "2026-11-22", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_done(&r);
	ck_assert_int_eq(marker_lines(), 2);
	ck_assert_int_eq(marker_count("w 2026-W47 Koramangala, Bengaluru 1"), 1);
	ck_assert_int_eq(marker_count("w 2026-W47 Indiranagar 1"), 1);
	/* A week nobody sold in: nothing to run, and that is not a failure. */
	r = salesd(conf, NULL, "run", "w", "--date", "2026-11-08", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "no store sold anything"));
	tu_result_done(&r);
	ck_assert_int_eq(marker_lines(), 2);
	free(jobs);
	free(conf);
}
END_TEST

START_TEST(test_backfill)
{
	char *jobs = util_printf("[job a]\nkind = selftest\nschedule = 0 3 * * *\naction = marker %s\n", marker);
	char *conf = config(jobs), *text;
	char fake_now[] = "SALESD_FAKE_NOW=" NOON_24;
	char *const env[] = { fake_now, NULL };
	struct tu_result r;

	r = salesd(conf, env, "backfill", "a", "--from", "2026-11-20", "--to", "2026-11-25", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	/* The 24th and 25th have not closed on the 24th at noon. */
	ck_assert(tu_contains(r.err, "a 2026-11-24 has not closed yet"));
	tu_result_done(&r);
	ck_assert_int_eq(marker_lines(), 4);
	text = tu_read(marker);
	ck_assert(strstr(text, "a 2026-11-20") < strstr(text, "a 2026-11-23"));
	free(text);
	/* Again: all done, nothing runs; forced: every closed period runs again. */
	r = salesd(conf, env, "backfill", "a", "--from", "2026-11-20", "--to", "2026-11-23", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_done(&r);
	ck_assert_int_eq(marker_lines(), 4);
	r = salesd(conf, env, "backfill", "a", "--from", "2026-11-21", "--to", "2026-11-22", "--force", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_done(&r);
	ck_assert_int_eq(marker_lines(), 6);
	free(jobs);
	free(conf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("engine");
	TCase *run = tcase_create("run"), *daemon = tcase_create("daemon");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(run, setup, teardown);
	tcase_set_timeout(run, 120);
	tcase_add_test(run, test_run_idempotent_and_force);
	tcase_add_test(run, test_run_upstream_first);
	tcase_add_test(run, test_retries_with_backoff);
	tcase_add_test(run, test_give_up_and_status);
	tcase_add_test(run, test_force_gets_full_retries);
	tcase_add_test(run, test_exit_classes);
	tcase_add_test(run, test_timeout_kills_group);
	tcase_add_test(run, test_kill_task_child);
	tcase_add_test(run, test_usage);
	tcase_add_test(run, test_backfill);
	tcase_add_test(run, test_per_store_from_sales);
	suite_add_tcase(s, run);

	tcase_add_checked_fixture(daemon, setup, teardown);
	tcase_set_timeout(daemon, 120);
	tcase_add_test(daemon, test_two_daemons);
	tcase_add_test(daemon, test_daemon_kill9_restart);
	tcase_add_test(daemon, test_catch_up_window);
	tcase_add_test(daemon, test_fire_on_time);
	tcase_add_test(daemon, test_dst_days);
	tcase_add_test(daemon, test_reload_while_running);
	tcase_add_test(daemon, test_database_down);
	tcase_add_test(daemon, test_daemon_held_beyond_retries);
	tcase_add_test(daemon, test_daemon_restated_day_runs_again);
	suite_add_tcase(s, daemon);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
