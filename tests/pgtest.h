/*
 * pgtest: one fresh PostgreSQL database per test, in the cluster that
 * tests/pg_cluster.sh started (ctest fixture "pg"; its socket directory is in
 * $SALESD_PGHOST). Every function aborts the test on error.
 */
#ifndef SALESD_PGTEST_H
#define SALESD_PGTEST_H

#include <libpq-fe.h>

/* Create a database named PREFIX_PID_N; returns its conninfo (caller frees). */
char *pgtest_create_db(const char *prefix);
/* Drop the database of conninfo, disconnecting whoever is still on it. */
void pgtest_drop_db(const char *conninfo);
/* The first column of the first row as text (caller frees); NULL for SQL NULL or no row. */
char *pgtest_query1(const char *conninfo, const char *sql);
/* Run one statement. */
void pgtest_exec(const char *conninfo, const char *sql);
/* A salesd connection (db_connect, schema "salesd") to conninfo with every migration applied; caller PQfinishes. */
PGconn *pgtest_connect_migrated(const char *conninfo);

#endif
