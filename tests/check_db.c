/*
 * check_db: the one translation of libpq's outcomes into salesd's errors,
 * against a real PostgreSQL. A statement the server refuses (bad SQL, a
 * constraint) is -EIO, the same again next time; a connection lost under a
 * statement (its backend terminated) is -EAGAIN, worth trying later; a
 * server that cannot be reached at all is db_connect's -ECONNREFUSED. The
 * owners of the tables (ledger, delivery, etl, report's slugs) report a lost
 * connection the same way.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/db.h"
#include "base/migrate.h"
#include "base/period.h"
#include "base/util.h"
#include "deliver/delivery.h"
#include "engine/ledger.h"
#include "etl/etl.h"
#include "pgtest.h"
#include "report/slug.h"
#include "testutil.h"

static char *conninfo;

static void
setup(void)
{
	conninfo = pgtest_create_db("db");
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

/* Terminate c's backend from another session, and wait until it is gone. */
static void
terminate(PGconn *c)
{
	char *sql = util_printf("SELECT pg_terminate_backend(%d)", PQbackendPID(c));
	char *probe = util_printf("SELECT count(*) FROM pg_stat_activity WHERE pid = %d", PQbackendPID(c));
	char *v = NULL;

	pgtest_exec(conninfo, sql);
	for (int i = 0; i < 200; i++) {
		free(v);
		v = pgtest_query1(conninfo, probe);
		if (v != NULL && strcmp(v, "0") == 0)
			break;
		usleep(10000);
	}
	ck_assert_str_eq(v, "0");
	free(v);
	free(sql);
	free(probe);
}

START_TEST(test_ok)
{
	PGconn *c = connect_migrated();
	PGresult *res = NULL;
	char *cause = NULL;

	ck_assert_int_eq(db_query(c, "SELECT $1::int + 1", 1, (const char *[]){ "41" }, &res, "test", &cause), 0);
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "42");
	ck_assert_int_eq(db_check(c, res, PGRES_TUPLES_OK, "test", &cause), 0);
	ck_assert_ptr_null(cause);
	PQclear(res);
	/* Rows or none: both complete. */
	ck_assert_int_eq(db_query(c, "CREATE TEMP TABLE t (k int PRIMARY KEY)", 0, NULL, NULL, NULL, &cause), 0);
	ck_assert_int_eq(db_exec(c, "INSERT INTO t VALUES (1); SELECT 1", &cause), 0);
	ck_assert_ptr_null(cause);
	PQfinish(c);
}
END_TEST

START_TEST(test_refused_is_eio)
{
	PGconn *c = connect_migrated();
	PGresult *res = (PGresult *)1;
	char *cause = NULL;

	/* A syntax error: the server's words, with what we were doing first. */
	ck_assert_int_eq(db_query(c, "SELEC 1", 0, NULL, &res, "test", &cause), -EIO);
	ck_assert_ptr_eq(res, (PGresult *)1);
	ck_assert_msg(strncmp(cause, "test: ", 6) == 0 && tu_contains(cause, "syntax error"), "%s", cause);
	ck_assert_ptr_null(strchr(cause, '\n'));
	/* A constraint. */
	ck_assert_int_eq(db_exec(c, "CREATE TEMP TABLE t (k int PRIMARY KEY); INSERT INTO t VALUES (1)", &cause), 0);
	ck_assert_int_eq(db_exec(c, "INSERT INTO t VALUES (1)", &cause), -EIO);
	ck_assert_msg(tu_contains(cause, "duplicate key"), "%s", cause);
	/* A missing table. */
	ck_assert_int_eq(db_query(c, "SELECT * FROM nowhere", 0, NULL, NULL, NULL, &cause), -EIO);
	ck_assert_msg(tu_contains(cause, "nowhere"), "%s", cause);
	/* A result of another kind than wanted, on a healthy connection. */
	res = PQexec(c, "SELECT 1");
	ck_assert_int_eq(db_check(c, res, PGRES_COPY_IN, NULL, &cause), -EIO);
	PQclear(res);
	/* Inside a failed transaction, until the rollback. */
	ck_assert_int_eq(db_exec(c, "BEGIN", &cause), 0);
	ck_assert_int_eq(db_exec(c, "SELEC 1", &cause), -EIO);
	ck_assert_int_eq(db_exec(c, "SELECT 1", &cause), -EIO);
	ck_assert_msg(tu_contains(cause, "aborted"), "%s", cause);
	db_rollback(c);
	ck_assert_int_eq(db_exec(c, "SELECT 1", &cause), 0);
	/* NULL cause is fine. */
	ck_assert_int_eq(db_exec(c, "SELEC 1", NULL), -EIO);
	free(cause);
	PQfinish(c);
}
END_TEST

START_TEST(test_lost_is_eagain)
{
	PGconn *c = connect_migrated();
	PGresult *res = NULL;
	char *cause = NULL;

	terminate(c);
	ck_assert_int_eq(db_query(c, "SELECT 1", 0, NULL, &res, "test", &cause), -EAGAIN);
	ck_assert_ptr_null(res);
	ck_assert_int_ne(PQstatus(c), CONNECTION_OK);
	ck_assert_msg(strncmp(cause, "test: ", 6) == 0, "%s", cause);
	/* Every later statement, and a call without a result (a failed send). */
	ck_assert_int_eq(db_exec(c, "SELECT 1", &cause), -EAGAIN);
	ck_assert_int_eq(db_check(c, NULL, PGRES_COMMAND_OK, "send", &cause), -EAGAIN);
	db_rollback(c);
	free(cause);
	PQfinish(c);
}
END_TEST

/* Lost in the middle of a transaction: the same. */
START_TEST(test_lost_in_transaction)
{
	PGconn *c = connect_migrated();
	char *cause = NULL;

	ck_assert_int_eq(db_exec(c, "BEGIN", &cause), 0);
	ck_assert_int_eq(db_exec(c, "SELECT 1", &cause), 0);
	terminate(c);
	ck_assert_int_eq(db_exec(c, "SELECT 1", &cause), -EAGAIN);
	db_rollback(c);
	free(cause);
	PQfinish(c);
}
END_TEST

START_TEST(test_connect)
{
	PGconn *c = NULL;
	char *cause = NULL;

	/* Nobody listens there: worth trying later, and not the same as a lost connection. */
	ck_assert_int_eq(db_connect(&c, "host=/nonexistent-salesd-socket-dir", "salesd", &cause), -ECONNREFUSED);
	ck_assert_ptr_null(c);
	ck_assert_msg(tu_contains(cause, "cannot connect to PostgreSQL"), "%s", cause);
	/* A malformed string is the configuration. */
	ck_assert_int_eq(db_connect(&c, "host='unterminated", "salesd", &cause), -EINVAL);
	ck_assert_ptr_null(c);
	free(cause);
}
END_TEST

/* Each owner of tables says -EAGAIN for a lost connection, through db_check. */
START_TEST(test_owners_lost)
{
	const struct ledger_key key = { "etl", "2026-11-23", "" };
	const struct delivery_key dkey = { "daily", "2026-11-23", "*", "email", "a@b.c", 1 };
	PGconn *c;
	char *cause = NULL, state[16], **stores = NULL, slug[SLUG_LEN];
	struct ledger_attempt_list attempts = { 0 };
	struct ledger_instance_list instances = { 0 };
	struct delivery_list deliveries = { 0 };
	enum delivery_decision decision;
	size_t n = 0;

	c = connect_migrated();
	terminate(c);
	ck_assert_int_eq(ledger_state(c, &key, state, &cause), -EAGAIN);
	ck_assert_int_eq(ledger_list_recent(c, 20, &attempts, &cause), -EAGAIN);
	ck_assert_int_eq(ledger_list_open(c, 20, &instances, &cause), -EAGAIN);
	ck_assert_int_eq(delivery_begin(&(struct delivery_ledger){ c, NULL, NULL }, &dkey, NULL, NULL, false, &decision,
	    &cause), -EAGAIN);
	ck_assert_int_eq(delivery_list_recent(c, 20, &deliveries, &cause), -EAGAIN);
	ck_assert_int_eq(etl_stores_that_sold(c, 0, 1, &stores, &n, &cause), -EAGAIN);
	ck_assert_int_eq(slug_find(c, "Indiranagar", slug, &cause), -EAGAIN);
	ck_assert_int_eq(slug_assign(c, "Indiranagar", slug, &cause), -EAGAIN);
	ck_assert_int_eq(migrate_apply(c, "salesd", NULL, NULL, &cause), -EAGAIN);
	/* Untouched on failure. */
	ck_assert_ptr_null(attempts.v);
	ck_assert_ptr_null(instances.v);
	ck_assert_ptr_null(deliveries.v);
	ck_assert_ptr_null(stores);
	PQfinish(c);
	free(cause);
}
END_TEST

/* The engine's store list comes from etl: who sold in a period, by name, once each. */
START_TEST(test_stores_that_sold)
{
	PGconn *c = connect_migrated();
	char *cause = NULL, **stores = NULL;
	size_t n = 99;
	int32_t first = period_day_from_civil(2026, 11, 16), last = period_day_from_civil(2026, 11, 22);

	ck_assert_int_eq(etl_stores_that_sold(c, first, last, &stores, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(stores[0]);
	util_strv_free(stores);
	pgtest_exec(conninfo, "INSERT INTO salesd.kpi_store_day (day, store, orders, sales, quantity, cost, aov) "
	    "VALUES ('2026-11-15', 'Before', 1, 1, 1, 1, 1), ('2026-11-16', 'Koramangala', 1, 1, 1, 1, 1), "
	    "('2026-11-22', 'Indiranagar', 1, 1, 1, 1, 1), ('2026-11-20', 'Koramangala', 1, 1, 1, 1, 1), "
	    "('2026-11-23', 'After', 1, 1, 1, 1, 1)");
	ck_assert_int_eq(etl_stores_that_sold(c, first, last, &stores, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(stores[0], "Indiranagar");
	ck_assert_str_eq(stores[1], "Koramangala");
	ck_assert_ptr_null(stores[2]);
	util_strv_free(stores);
	free(cause);
	PQfinish(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("db");
	TCase *check = tcase_create("check");
	TCase *owners = tcase_create("owners");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(check, setup, teardown);
	tcase_set_timeout(check, 60);
	tcase_add_test(check, test_ok);
	tcase_add_test(check, test_refused_is_eio);
	tcase_add_test(check, test_lost_is_eagain);
	tcase_add_test(check, test_lost_in_transaction);
	tcase_add_test(check, test_connect);
	suite_add_tcase(s, check);
	tcase_add_checked_fixture(owners, setup, teardown);
	tcase_set_timeout(owners, 60);
	tcase_add_test(owners, test_owners_lost);
	tcase_add_test(owners, test_stores_that_sold);
	suite_add_tcase(s, owners);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
