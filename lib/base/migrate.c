/*
 * migrate: apply the embedded schema migrations (see migrate.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/migrate.h"
#include "base/util.h"

int
migrate_latest(void)
{
	return nmigrations > 0 ? migrations[nmigrations - 1].version : 0;
}

int
migrate_apply(PGconn *c, const char *schema, int *from, int *to, char **cause)
{
	char *ident = NULL, *sql = NULL, *msg;
	PGresult *res = NULL;
	int current = 0, r;

	if ((ident = db_ident(c, schema)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	/*
	 * One transaction under a transaction-level advisory lock: a second
	 * instance waits here and then finds the work done.
	 */
	if ((r = db_exec(c, "BEGIN", cause)) < 0)
		goto out;
	if ((r = db_query(c, "SELECT pg_advisory_xact_lock($1::int, 0)", 1,
	    (const char *[]){ DB_LOCK_CLASS_TEXT }, NULL, NULL, cause)) < 0)
		goto rollback;
	if ((sql = util_printf("CREATE SCHEMA IF NOT EXISTS %s; SET LOCAL search_path TO %s; "
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY, name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", ident, ident)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto rollback;
	}
	if ((r = db_exec(c, sql, cause)) < 0)
		goto rollback;
	if ((r = db_query(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &res, NULL,
	    cause)) < 0)
		goto rollback;
	current = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (from != NULL)
		*from = current;
	if (current > migrate_latest()) {
		r = util_fail(cause, -EPROTO, "the database schema \"%s\" is at version %d, newer than "
		    "this salesd knows (%d): upgrade salesd, or point it at another database",
		    schema, current, migrate_latest());
		goto rollback;
	}
	for (unsigned i = 0; i < nmigrations; i++) {
		char version[16];

		if (migrations[i].version <= current)
			continue;
		if ((r = db_exec(c, migrations[i].sql, cause)) < 0) {
			/* A lost connection stays -EAGAIN: the migration may work next time. */
			msg = cause && *cause ? strdup(*cause) : NULL;
			r = util_fail(cause, r, "migration %s: %s", migrations[i].name, msg ? msg : "failed");
			free(msg);
			goto rollback;
		}
		snprintf(version, sizeof version, "%d", migrations[i].version);
		if ((r = db_query(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
		    2, (const char *[]){ version, migrations[i].name }, NULL, NULL, cause)) < 0)
			goto rollback;
		current = migrations[i].version;
	}
	if ((r = db_exec(c, "COMMIT", cause)) < 0)
		goto out;
	if (to != NULL)
		*to = current;
	goto out;
rollback:
	db_rollback(c);
out:
	PQclear(res);
	PQfreemem(ident);
	free(sql);
	return r;
}
