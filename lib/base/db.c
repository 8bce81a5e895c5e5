/*
 * db: connecting to PostgreSQL (see db.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/util.h"

char *
db_error(PGconn *c, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	char *out;

	if (msg == NULL || *msg == '\0')
		msg = c ? PQerrorMessage(c) : "no connection";
	if ((out = strdup(msg)) == NULL)
		return NULL;
	/* libpq ends messages with a newline and may put a detail on the next. */
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return util_trim(out);
}

char *
db_text_array(char *const *v, size_t n)
{
	size_t len = 3, k = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) * 2 + 3;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[k++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[k++] = ',';
		out[k++] = '"';
		for (const char *p = v[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				out[k++] = '\\';
			out[k++] = *p;
		}
		out[k++] = '"';
	}
	out[k++] = '}';
	out[k] = '\0';
	return out;
}

char *
db_ident(PGconn *c, const char *name)
{
	return PQescapeIdentifier(c, name, strlen(name));
}

/* The server ends the session: connection exceptions, shutdown, a terminated backend. */
static bool
db_session_ending(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state != NULL && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

int
db_check(PGconn *c, const PGresult *res, ExecStatusType want, const char *what, char **cause)
{
	char *msg;
	int e;

	if (res != NULL && PQresultStatus(res) == want)
		return 0;
	/*
	 * Only the connection tells a passing failure from a lasting one: the
	 * statement's own error says what the server refused, which would be
	 * refused again.
	 */
	e = c == NULL || PQstatus(c) != CONNECTION_OK || db_session_ending(res) ? -EAGAIN : -EIO;
	msg = db_error(c, res);
	if (what != NULL)
		e = util_fail(cause, e, "%s: %s", what, msg ? msg : "query failed");
	else
		e = util_fail(cause, e, "%s", msg ? msg : "query failed");
	free(msg);
	return e;
}

int
db_query(PGconn *c, const char *sql, int n, const char *const *p, PGresult **out, const char *what,
    char **cause)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	int e;

	/* Rows or none: the caller's SQL says which, both mean it ran. */
	if ((e = db_check(c, res, PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
	    what, cause)) < 0 || out == NULL)
		PQclear(res);
	else
		*out = res;
	return e;
}

int
db_exec(PGconn *c, const char *sql, char **cause)
{
	PGresult *res = PQexec(c, sql);
	int e = db_check(c, res, PQresultStatus(res) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
	    NULL, cause);

	PQclear(res);
	return e;
}

void
db_rollback(PGconn *c)
{
	PQclear(PQexec(c, "ROLLBACK"));
}

/*
 * libpq's default notice processor prints to stderr, and lib/ never prints.
 * The one warning met in practice is expected: unlocking an advisory lock
 * that a lost connection took along ("you don't own a lock"); errors come
 * back as results.
 */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int
db_connect(PGconn **out, const char *conninfo, const char *schema, char **cause)
{
	/* Ours first: settings in the operator's conninfo override them. */
	const char *const keys[] = { "application_name", "connect_timeout", "dbname", NULL };
	const char *const values[] = { "salesd", "10", conninfo, NULL };
	PQconninfoOption *opts;
	char *errmsg = NULL, *ident = NULL, *sql = NULL, *msg;
	PGconn *c;
	int r;

	/* A malformed string is a configuration error, not a reason to retry. */
	if ((opts = PQconninfoParse(conninfo, &errmsg)) == NULL) {
		r = util_fail(cause, -EINVAL, "[database] conninfo: %s", errmsg ? util_trim(errmsg) : "invalid");
		PQfreemem(errmsg);
		return r;
	}
	PQconninfoFree(opts);
	c = PQconnectdbParams(keys, values, 1);
	if (c == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	PQsetNoticeProcessor(c, db_notice, NULL);
	if (PQstatus(c) != CONNECTION_OK) {
		msg = db_error(c, NULL);
		r = util_fail(cause, -ECONNREFUSED, "cannot connect to PostgreSQL: %s", msg ? msg : "?");
		free(msg);
		PQfinish(c);
		return r;
	}
	if ((ident = db_ident(c, schema)) == NULL ||
	    (sql = util_printf("SET search_path TO %s, public; "
	    /* Migrations' "already exists, skipping" notices are not news. */
	    "SET client_min_messages TO warning", ident)) == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = db_exec(c, sql, cause)) < 0)
		goto fail;
	PQfreemem(ident);
	free(sql);
	*out = c;
	return 0;
fail:
	PQfreemem(ident);
	free(sql);
	PQfinish(c);
	return r;
}
