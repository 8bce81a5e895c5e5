/*
 * check_ledger: the run ledger on a real PostgreSQL: migrations (idempotent,
 * newer schema refused), claims and outcomes, retries and giving up, claims
 * of a dead process recovered, and two connections racing for the same
 * instances, each instance claimed exactly once.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/db.h"
#include "engine/ledger.h"
#include "base/migrate.h"
#include "pgtest.h"
#include "testutil.h"
#include "base/util.h"

static char *conninfo;

static void
setup(void)
{
	conninfo = pgtest_create_db("ledger");
}

static void
teardown(void)
{
	pgtest_drop_db(conninfo);
	free(conninfo);
}

static PGconn *
connect_migrated(void)
{
	return pgtest_connect_migrated(conninfo);
}

static const struct ledger_key key = { "etl", "2026-11-23", "" };

START_TEST(test_migrate)
{
	PGconn *c = NULL;
	char *cause = NULL, *v;
	int from = -1, to = -1;

	ck_assert_int_eq(db_connect(&c, conninfo, "salesd", &cause), 0);
	ck_assert_int_eq(migrate_apply(c, "salesd", &from, &to, &cause), 0);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(to, migrate_latest());
	ck_assert_int_ge(migrate_latest(), 1);
	/* Again: nothing to do. */
	ck_assert_int_eq(migrate_apply(c, "salesd", &from, &to, &cause), 0);
	ck_assert_int_eq(from, to);
	v = pgtest_query1(conninfo, "SELECT count(*) FROM salesd.schema_migrations");
	ck_assert_int_eq(atoi(v), (int)nmigrations);
	free(v);
	/* A database from a newer salesd is refused, untouched. */
	pgtest_exec(conninfo, "INSERT INTO salesd.schema_migrations (version, name) VALUES (999, 'future')");
	ck_assert_int_eq(migrate_apply(c, "salesd", &from, &to, &cause), -EPROTO);
	ck_assert(tu_contains(cause, "at version 999, newer than this salesd knows"));
	free(cause);
	PQfinish(c);
}
END_TEST

START_TEST(test_claim_finish)
{
	PGconn *a = connect_migrated(), *b = connect_migrated();
	enum ledger_claim_result res;
	struct ledger_claim cl, cl2;
	char state[16], *v;

	ck_assert_int_eq(ledger_claim(a, &key, 3, false, 0, "host-a", 100, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	ck_assert_int_eq(cl.attempt, 1);
	ck_assert(!cl.recovered);
	ck_assert_int_eq(ledger_state(a, &key, state, NULL), 0);
	ck_assert_str_eq(state, "running");
	/* Held: nobody else gets it, not even with force. */
	ck_assert_int_eq(ledger_claim(b, &key, 3, false, 0, "host-b", 200, &res, &cl2, NULL), 0);
	ck_assert_int_eq(res, LEDGER_BUSY);
	ck_assert_int_eq(ledger_claim(b, &key, 3, true, 0, "host-b", 200, &res, &cl2, NULL), 0);
	ck_assert_int_eq(res, LEDGER_BUSY);
	ck_assert_int_eq(ledger_finish(a, &cl, LEDGER_SUCCEEDED, 0, NULL, false, 0, NULL), 0);
	/* Done: not run again unless forced. */
	ck_assert_int_eq(ledger_claim(b, &key, 3, false, 0, "host-b", 200, &res, &cl2, NULL), 0);
	ck_assert_int_eq(res, LEDGER_DONE);
	ck_assert_int_eq(ledger_claim(b, &key, 3, true, 0, "host-b", 200, &res, &cl2, NULL), 0);
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	ck_assert_int_eq(cl2.attempt, 2);
	ck_assert_int_eq(ledger_finish(b, &cl2, LEDGER_SUCCEEDED, 0, NULL, false, 0, NULL), 0);
	v = pgtest_query1(conninfo, "SELECT string_agg(attempt || ':' || state || ':' || host || ':' || pid, ',' "
	    "ORDER BY attempt) FROM salesd.task_attempt");
	ck_assert_str_eq(v, "1:succeeded:host-a:100,2:succeeded:host-b:200");
	free(v);
	PQfinish(a);
	PQfinish(b);
}
END_TEST

START_TEST(test_retry_and_give_up)
{
	PGconn *c = connect_migrated();
	enum ledger_claim_result res;
	struct ledger_claim cl;
	char state[16], *v;

	/* retries = 1: attempt 1 fails with a retry at t=1000s, attempt 2 fails for good. */
	ck_assert_int_eq(ledger_claim(c, &key, 1, false, 0, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_FAILED, 1, "exit status 1: boom", true,
	    1000 * 1000000LL, NULL), 0);
	ck_assert_int_eq(ledger_state(c, &key, state, NULL), 0);
	ck_assert_str_eq(state, "retry");
	ck_assert_int_eq(ledger_claim(c, &key, 1, false, 999 * 1000000LL, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_NOT_YET);
	ck_assert_int_eq(cl.not_before_usec, 1000 * 1000000LL);
	ck_assert_int_eq(ledger_claim(c, &key, 1, false, 1000 * 1000000LL, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	ck_assert_int_eq(cl.attempt, 2);
	ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_TIMEOUT, 137, "timed out", false, 0, NULL), 0);
	ck_assert_int_eq(ledger_state(c, &key, state, NULL), 0);
	ck_assert_str_eq(state, "failed");
	ck_assert_int_eq(ledger_claim(c, &key, 1, false, 2000 * 1000000LL, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_GAVE_UP);
	v = pgtest_query1(conninfo, "SELECT error FROM salesd.task_instance");
	ck_assert_str_eq(v, "timed out");
	free(v);
	v = pgtest_query1(conninfo, "SELECT string_agg(state || ':' || exit_status, ',' ORDER BY attempt) "
	    "FROM salesd.task_attempt");
	ck_assert_str_eq(v, "failed:1,timeout:137");
	free(v);
	PQfinish(c);
}
END_TEST

/* The claimer's connection dies: its attempt is abandoned and the next claim takes over. */
START_TEST(test_recover_abandoned)
{
	PGconn *a = connect_migrated(), *b = connect_migrated();
	enum ledger_claim_result res;
	struct ledger_claim cl;
	char *v;

	ck_assert_int_eq(ledger_claim(a, &key, 1, false, 0, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	PQfinish(a);
	/* The server notices the closed session; its advisory lock is gone. */
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(ledger_claim(b, &key, 1, false, 0, "h", 2, &res, &cl, NULL), 0);
		if (res != LEDGER_BUSY)
			break;
		usleep(20000);
	}
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	ck_assert(cl.recovered);
	ck_assert_int_eq(cl.attempt, 2);
	v = pgtest_query1(conninfo, "SELECT state FROM salesd.task_attempt WHERE attempt = 1");
	ck_assert_str_eq(v, "abandoned");
	free(v);
	/* That was the last allowed attempt: if this one dies too, the instance gives up. */
	PQfinish(b);
	b = connect_migrated();
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(ledger_claim(b, &key, 1, false, 0, "h", 3, &res, &cl, NULL), 0);
		if (res != LEDGER_BUSY)
			break;
		usleep(20000);
	}
	ck_assert_int_eq(res, LEDGER_GAVE_UP);
	v = pgtest_query1(conninfo, "SELECT state FROM salesd.task_instance");
	ck_assert_str_eq(v, "failed");
	free(v);
	PQfinish(b);
}
END_TEST

/*
 * A claim finished over a new connection (the old one was lost with its
 * lock): the server warns that the lock is not held, and nothing of it may
 * reach stderr (libpq's default notice processor prints it there).
 */
START_TEST(test_finish_after_reconnect_prints_nothing)
{
	PGconn *a = connect_migrated(), *b;
	enum ledger_claim_result res;
	struct ledger_claim cl;
	char *cause = NULL, *path = util_printf("/tmp/salesd-ledger-stderr.%d", (int)getpid()), *err;
	int saved = dup(2), fd;

	ck_assert_int_eq(ledger_claim(a, &key, 1, false, 0, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(res, LEDGER_CLAIMED);
	PQfinish(a);
	b = connect_migrated();
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	fflush(stderr);
	dup2(fd, 2);
	ck_assert_int_eq(ledger_finish(b, &cl, LEDGER_SUCCEEDED, 0, NULL, false, 0, &cause), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(fd);
	close(saved);
	err = tu_read(path);
	unlink(path);
	ck_assert_msg(err != NULL && err[0] == '\0', "printed: %s", err ? err : "(unreadable)");
	free(err);
	free(path);
	PQfinish(b);
}
END_TEST

START_TEST(test_count_succeeded)
{
	PGconn *c = connect_migrated();
	const char *days[] = { "2026-11-16", "2026-11-17", "2026-11-18" };
	enum ledger_claim_result res;
	struct ledger_claim cl;
	long n = -1;

	for (size_t i = 0; i < 2; i++) {
		struct ledger_key k = { "etl", days[i], "" };

		ck_assert_int_eq(ledger_claim(c, &k, 1, false, 0, "h", 1, &res, &cl, NULL), 0);
		ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_SUCCEEDED, 0, NULL, false, 0, NULL), 0);
	}
	ck_assert_int_eq(ledger_count_succeeded(c, "etl", days, 3, "", &n, NULL), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(ledger_count_succeeded(c, "etl", days, 3, "some store", &n, NULL), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(ledger_count_succeeded(c, "other", days, 3, NULL, &n, NULL), 0);
	ck_assert_int_eq(n, 0);
	PQfinish(c);
}
END_TEST

/* Two connections race for 40 instances; every one is claimed exactly once. */
struct racer {
	int claimed[40];
	int errors;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	PGconn *c = NULL;
	char period[16];

	if (db_connect(&c, conninfo, "salesd", NULL) < 0) {
		r->errors++;
		return NULL;
	}
	for (int i = 0; i < 40; i++) {
		struct ledger_key k = { "race", period, "" };
		enum ledger_claim_result res;
		struct ledger_claim cl;

		snprintf(period, sizeof period, "2026-10-%02d", i % 28 + 1);
		if (i >= 28)
			snprintf(period, sizeof period, "2026-09-%02d", i - 27);
		if (ledger_claim(c, &k, 0, false, 0, "h", i, &res, &cl, NULL) < 0) {
			r->errors++;
			continue;
		}
		if (res == LEDGER_CLAIMED) {
			r->claimed[i]++;
			if (ledger_finish(c, &cl, LEDGER_SUCCEEDED, 0, NULL, false, 0, NULL) < 0)
				r->errors++;
		}
	}
	PQfinish(c);
	return NULL;
}

START_TEST(test_race)
{
	struct racer r1 = { 0 }, r2 = { 0 };
	pthread_t t1, t2;
	char *v;

	PQfinish(connect_migrated());
	pthread_create(&t1, NULL, race, &r1);
	pthread_create(&t2, NULL, race, &r2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(r1.errors + r2.errors, 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(r1.claimed[i] + r2.claimed[i], 1);
	v = pgtest_query1(conninfo, "SELECT count(*) FROM salesd.task_attempt");
	ck_assert_str_eq(v, "40");
	free(v);
}
END_TEST

/* What "salesd status" and a restarting engine read: the ledger's own lists. */
START_TEST(test_lists)
{
	PGconn *c = connect_migrated();
	const struct ledger_key failing = { "report", "2026-W47", "Indiranagar" };
	const struct ledger_key running = { "email", "2026-11-23", "" };
	struct ledger_instance_list open = { 0 }, retries = { 0 }, failures = { 0 };
	struct ledger_attempt_list now = { 0 }, recent = { 0 };
	enum ledger_claim_result res;
	struct ledger_claim cl;
	char *cause = NULL, *last = (char *)1;

	ck_assert_int_eq(ledger_last_succeeded(c, "etl", &last, &cause), 0);
	ck_assert_ptr_null(last);
	/* etl succeeds; report fails once (retry at t=1000s), then for good; email stays running. */
	ck_assert_int_eq(ledger_claim(c, &key, 1, false, 0, "h", 1, &res, &cl, NULL), 0);
	ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_SUCCEEDED, 0, NULL, false, 0, NULL), 0);
	ck_assert_int_eq(ledger_claim(c, &failing, 1, false, 0, "h", 2, &res, &cl, NULL), 0);
	ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_FAILED, 1, "boom", true, 1000 * 1000000LL, NULL), 0);
	ck_assert_int_eq(ledger_list_retries(c, 50, &retries, &cause), 0);
	ck_assert_uint_eq(retries.n, 1);
	ck_assert_str_eq(retries.v[0].store, "Indiranagar");
	ck_assert_str_eq(retries.v[0].state, "retry");
	ck_assert_int_eq(retries.v[0].attempts, 1);
	ck_assert_int_eq(retries.v[0].not_before_usec, 1000 * 1000000LL);
	ck_assert_str_eq(retries.v[0].error, "boom");
	ck_assert_int_eq(ledger_claim(c, &failing, 1, false, 1000 * 1000000LL, "h", 3, &res, &cl, NULL), 0);
	ck_assert_int_eq(ledger_finish(c, &cl, LEDGER_FAILED, 1, "boom again", false, 0, NULL), 0);
	ck_assert_int_eq(ledger_claim(c, &running, 1, false, 0, "host-b", 4242, &res, &cl, NULL), 0);

	ck_assert_int_eq(ledger_last_succeeded(c, "etl", &last, &cause), 0);
	ck_assert_str_eq(last, "2026-11-23");
	free(last);
	ck_assert_int_eq(ledger_list_open(c, 100, &open, &cause), 0);
	ck_assert_uint_eq(open.n, 1);
	ck_assert_str_eq(open.v[0].job, "email");
	ck_assert_str_eq(open.v[0].store, "");
	ck_assert_int_eq(open.v[0].not_before_usec, 0);
	ck_assert_ptr_null(open.v[0].error);
	ck_assert_int_eq(ledger_list_failures(c, 20, &failures, &cause), 0);
	ck_assert_uint_eq(failures.n, 1);
	ck_assert_str_eq(failures.v[0].job, "report");
	ck_assert_int_eq(failures.v[0].attempts, 2);
	ck_assert_str_eq(failures.v[0].error, "boom again");
	ck_assert_int_gt(failures.v[0].updated_usec, 0);
	ck_assert_int_eq(ledger_list_running(c, &now, &cause), 0);
	ck_assert_uint_eq(now.n, 1);
	ck_assert_str_eq(now.v[0].host, "host-b");
	ck_assert_int_eq(now.v[0].pid, 4242);
	ck_assert_str_eq(now.v[0].state, "running");
	ck_assert_int_eq(ledger_list_recent(c, 3, &recent, &cause), 0);
	ck_assert_uint_eq(recent.n, 3);
	ck_assert_str_eq(recent.v[0].job, "email");
	ck_assert_str_eq(recent.v[1].job, "report");
	ck_assert_int_eq(recent.v[1].attempt, 2);
	ck_assert_str_eq(recent.v[1].state, "failed");
	ck_assert_str_eq(recent.v[1].error, "boom again");
	ck_assert(recent.v[1].seconds >= 0.0);
	ck_assert_int_le(recent.v[1].started_usec, recent.v[0].started_usec);
	ledger_instance_list_done(&open);
	ledger_instance_list_done(&retries);
	ledger_instance_list_done(&failures);
	ledger_attempt_list_done(&now);
	ledger_attempt_list_done(&recent);
	ck_assert_ptr_null(recent.v);
	ledger_attempt_list_done(&recent);
	ledger_attempt_list_done(NULL);
	ck_assert_ptr_null(cause);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("postgresql");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_migrate);
	tcase_add_test(tc, test_claim_finish);
	tcase_add_test(tc, test_retry_and_give_up);
	tcase_add_test(tc, test_recover_abandoned);
	tcase_add_test(tc, test_finish_after_reconnect_prints_nothing);
	tcase_add_test(tc, test_count_succeeded);
	tcase_add_test(tc, test_race);
	tcase_add_test(tc, test_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
