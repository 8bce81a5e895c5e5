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

/* Run one statement without results; 0 or -EIO with the server's message. */
int db_exec(PGconn *c, const char *sql, char **cause);

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
