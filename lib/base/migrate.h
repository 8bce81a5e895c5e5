/*
 * migrate: the database schema of salesd, embedded in the binary (sql/NNN_*.sql,
 * compiled in by cmake/embed_sql.cmake) and applied in order, each migration
 * once, under an advisory lock so that several instances starting together
 * apply it once. A database newer than this binary is refused.
 */
#ifndef SALESD_MIGRATE_H
#define SALESD_MIGRATE_H

#include <libpq-fe.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated: every migration, in version order. */
extern const struct migration migrations[];
extern const unsigned nmigrations;

/* The newest schema version this binary knows. */
int migrate_latest(void);

/*
 * Bring schema (created if missing) up to migrate_latest(). *from and *to
 * (may be NULL) get the versions before and after. Returns 0, -EPROTO when
 * the database is newer than this binary, or a database error as db_check
 * says (-EAGAIN: the connection lost; -EIO: refused), with the server's message.
 */
int migrate_apply(PGconn *c, const char *schema, int *from, int *to, char **cause);

#endif
