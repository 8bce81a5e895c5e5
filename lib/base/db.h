/*
 * db: connections to PostgreSQL for salesd: libpq connection string from the
 * configuration, salesd's schema first on the search_path, application_name
 * "salesd", and errors translated into a message and a negative errno that
 * says whether trying again later can help.
 */
#ifndef SALESD_DB_H
#define SALESD_DB_H

#include <stddef.h>

#include <libpq-fe.h>

/* Lock class of salesd's advisory locks: (DB_LOCK_CLASS, id). */
#define DB_LOCK_CLASS 0x53414c45 /* "SALE" */
#define DB_LOCK_CLASS_TEXT "1396788293"

/*
 * Connect with conninfo (a libpq string or URI; its own settings win) and
 * select schema (need not exist yet). Returns 0, -EINVAL for a malformed
 * conninfo, or -ECONNREFUSED when the server cannot be reached or refuses us
 * (worth retrying); *cause says why. The connection is the caller's (PQfinish).
 */
int db_connect(PGconn **out, const char *conninfo, const char *schema, char **cause);

/*
 * The one translation of a libpq outcome into salesd's errors, used by
 * every module that talks to PostgreSQL. res is a statement's result, or
 * NULL when a call that has none failed (PQputCopyData, PQsendQueryParams):
 * the reason is then on the connection. Returns 0 when res has status want;
 * otherwise, with "what: the server's message" in *cause (what may be NULL):
 *   -EAGAIN  the connection is lost (PQstatus is not CONNECTION_OK, or the
 *            server says it is ending the session: SQLSTATE class 08,
 *            57P01-57P03); the same work may succeed later on a new
 *            connection, so callers' exit codes say "temporary" (75);
 *   -EIO     the server refused the statement (SQL, constraint, permission,
 *            a missing table): it will refuse it again (exit status 1).
 * Connecting is db_connect's: -ECONNREFUSED means "cannot reach the server".
 * res stays the caller's.
 */
int db_check(PGconn *c, const PGresult *res, ExecStatusType want, const char *what, char **cause);

/*
 * Run sql with the text parameters p[0..n-1] (NULL is SQL NULL). A statement
 * that completes, with rows or without, is 0 with its result in *out (NULL:
 * not wanted; else the caller PQclears it); a failure is as db_check says,
 * *out untouched.
 */
int db_query(PGconn *c, const char *sql, int n, const char *const *p, PGresult **out, const char *what,
    char **cause);

/* Run statements without parameters or results (BEGIN, COMMIT, DDL); errors as db_check. */
int db_exec(PGconn *c, const char *sql, char **cause);

/*
 * End the transaction that failed: nothing to report, since the error that
 * led here is the one worth telling, and a lost connection took it along.
 */
void db_rollback(PGconn *c);

/* "salesd"-style identifier quoted for SQL (caller frees with PQfreemem). */
char *db_ident(PGconn *c, const char *name);

/*
 * A text[] literal of v[0..n-1] for a query parameter, every element quoted
 * ({"a","b"}); NULL when out of memory. Caller frees.
 */
char *db_text_array(char *const *v, size_t n);

/* The server's error of a failed result or connection, one line, no trailing newline. */
char *db_error(PGconn *c, const PGresult *res);

#endif
