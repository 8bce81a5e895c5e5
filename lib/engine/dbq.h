/*
 * dbq: the daemon's way to PostgreSQL without blocking its loop. Requests
 * are blocking functions on one connection, run one at a time, in order, on
 * libuv's thread pool; their completion callbacks run on the loop thread.
 * One connection matters: it holds the ledger's advisory locks, so the
 * claims of this process live exactly as long as this connection does.
 *
 * The connection is opened (and the schema migrated) by the first request
 * and opened again after it broke. A request that could not reach the server
 * completes with -ECONNREFUSED (db_connect), one whose connection broke under
 * it with -EAGAIN (db_check); dbq_generation() changes each time a new
 * connection replaces a lost one, telling the caller that the locks of the
 * old one are gone.
 */
#ifndef SALESD_DBQ_H
#define SALESD_DBQ_H

#include <libpq-fe.h>
#include <uv.h>

/* Runs on a pool thread; returns 0 or a negative error with *cause. */
typedef int (*dbq_fn)(PGconn *c, void *arg, char **cause);
/* Runs on the loop thread; cause may be NULL. r is -ECANCELED after dbq_close. */
typedef void (*dbq_done)(void *arg, int r, const char *cause);

struct dbq;

/* conninfo and schema are copied. */
int dbq_new(struct dbq **out, uv_loop_t *loop, const char *conninfo, const char *schema, char **cause);

/* Queue a request; done is always called exactly once. */
void dbq_push(struct dbq *q, dbq_fn fn, dbq_done done, void *arg);

/* How many connections have been lost and replaced so far. */
unsigned dbq_generation(const struct dbq *q);

/* Requests waiting or running. */
unsigned dbq_pending(const struct dbq *q);

/*
 * Stop: queued requests complete with -ECANCELED, the running one finishes,
 * the connection closes, then closed(arg) runs and q is freed.
 */
void dbq_close(struct dbq *q, void (*closed)(void *arg), void *arg);

#endif
