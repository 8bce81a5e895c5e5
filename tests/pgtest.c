/*
 * pgtest: databases for the test suites (see pgtest.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/db.h"
#include "base/migrate.h"
#include "pgtest.h"
#include "base/util.h"

#define PGTEST_USER "salesd_test"

static const char *
pgtest_host(void)
{
	const char *host = getenv("SALESD_PGHOST");

	if (host == NULL || *host == '\0')
		ck_abort_msg("SALESD_PGHOST is not set: run this suite through ctest, "
		    "whose fixture \"pg\" starts the test cluster (tests/pg_cluster.sh)");
	return host;
}

static PGconn *
pgtest_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK) {
		char *msg = util_printf("%s", PQerrorMessage(c));

		PQfinish(c);
		ck_abort_msg("cannot connect with \"%s\": %s", conninfo, msg);
	}
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

/* Run sql on a new connection; returns the result (caller clears). */
static PGresult *
pgtest_run(const char *conninfo, const char *sql)
{
	PGconn *c = pgtest_connect(conninfo);
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char *msg = util_printf("%s", PQerrorMessage(c));

		PQclear(res);
		PQfinish(c);
		ck_abort_msg("SQL failed: %s\n%s", sql, msg);
	}
	PQfinish(c);
	return res;
}

static char *
pgtest_admin_conninfo(void)
{
	return util_printf("host=%s user=" PGTEST_USER " dbname=postgres", pgtest_host());
}

char *
pgtest_create_db(const char *prefix)
{
	static unsigned counter;
	char *admin = pgtest_admin_conninfo(), *name, *sql;

	name = util_printf("%s_%ld_%u", prefix, (long)getpid(), counter++);
	sql = util_printf("CREATE DATABASE %s", name);
	PQclear(pgtest_run(admin, sql));
	free(sql);
	free(admin);
	sql = util_printf("host=%s user=" PGTEST_USER " dbname=%s", pgtest_host(), name);
	free(name);
	return sql;
}

void
pgtest_drop_db(const char *conninfo)
{
	const char *p = conninfo ? strstr(conninfo, "dbname=") : NULL;
	char *admin, *sql;

	if (p == NULL)
		return;
	admin = pgtest_admin_conninfo();
	sql = util_printf("DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)strcspn(p + 7, " "), p + 7);
	PQclear(pgtest_run(admin, sql));
	free(sql);
	free(admin);
}

char *
pgtest_query1(const char *conninfo, const char *sql)
{
	PGresult *res = pgtest_run(conninfo, sql);
	char *v = NULL;

	if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
		v = util_printf("%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

void
pgtest_exec(const char *conninfo, const char *sql)
{
	PQclear(pgtest_run(conninfo, sql));
}

PGconn *
pgtest_connect_migrated(const char *conninfo)
{
	PGconn *c = NULL;
	char *cause = NULL;

	if (db_connect(&c, conninfo, "salesd", &cause) < 0 || migrate_apply(c, "salesd", NULL, NULL, &cause) < 0)
		ck_abort_msg("%s", cause);
	return c;
}
