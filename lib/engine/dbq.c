/*
 * dbq: serialised PostgreSQL requests on the thread pool (see dbq.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "engine/dbq.h"
#include "base/migrate.h"
#include "base/util.h"

struct dbq_req {
	dbq_fn fn;
	dbq_done done;
	void *arg;
	int r;
	char *cause;
	struct dbq_req *next;
};

struct dbq {
	uv_loop_t *loop;
	char *conninfo;
	char *schema;
	PGconn *conn;           /* touched only by the request in flight */
	bool migrated;
	bool had_connection;
	unsigned generation;
	unsigned pending;
	struct dbq_req *head, *tail;
	uv_work_t work;
	bool busy;              /* a request is on the pool */
	bool in_done;           /* a done callback runs: dbq_after goes on afterwards */
	bool closing;
	void (*closed)(void *);
	void *closed_arg;
};

static void dbq_next(struct dbq *q);

/* Pool thread: (re)connect if needed, then run the request. */
static void
dbq_work(uv_work_t *w)
{
	struct dbq *q = w->data;
	struct dbq_req *req = q->head;

	if (q->conn != NULL && PQstatus(q->conn) != CONNECTION_OK) {
		PQfinish(q->conn);
		q->conn = NULL;
	}
	if (q->conn == NULL) {
		req->r = db_connect(&q->conn, q->conninfo, q->schema, &req->cause);
		if (req->r < 0)
			return;
		if (q->had_connection)
			q->generation++;
		q->had_connection = true;
		/* The schema is brought up to date once per process, under a lock. */
		if (!q->migrated) {
			if ((req->r = migrate_apply(q->conn, q->schema, NULL, NULL, &req->cause)) < 0) {
				PQfinish(q->conn);
				q->conn = NULL;
				return;
			}
			q->migrated = true;
		}
	}
	if (req->fn != NULL)
		req->r = req->fn(q->conn, req->arg, &req->cause);
	/*
	 * A broken connection is noticed here and replaced by the next request.
	 * db_check has said -EAGAIN already; this covers a request that failed
	 * for another reason (out of memory) on a connection that broke too.
	 */
	if (req->r < 0 && PQstatus(q->conn) != CONNECTION_OK)
		req->r = -EAGAIN;
}

static void
dbq_finish_close(struct dbq *q)
{
	void (*closed)(void *) = q->closed;
	void *arg = q->closed_arg;

	PQfinish(q->conn);
	free(q->conninfo);
	free(q->schema);
	free(q);
	if (closed != NULL)
		closed(arg);
}

/* Loop thread: hand the result over, start the next request. */
static void
dbq_after(uv_work_t *w, int status)
{
	struct dbq *q = w->data;
	struct dbq_req *req = q->head;

	q->busy = false;
	q->head = req->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->pending--;
	/* The callback may push or close; either way q lives until dbq_next below. */
	q->in_done = true;
	req->done(req->arg, status == UV_ECANCELED ? -ECANCELED : req->r, req->cause);
	q->in_done = false;
	free(req->cause);
	free(req);
	dbq_next(q);
}

static void
dbq_next(struct dbq *q)
{
	if (q->busy || q->in_done)
		return;
	if (q->closing) {
		/* Everything still queued is cancelled; then the connection goes. */
		while (q->head != NULL) {
			struct dbq_req *req = q->head;

			q->head = req->next;
			q->pending--;
			req->done(req->arg, -ECANCELED, NULL);
			free(req);
		}
		q->tail = NULL;
		dbq_finish_close(q);
		return;
	}
	if (q->head == NULL)
		return;
	q->busy = true;
	q->work.data = q;
	if (uv_queue_work(q->loop, &q->work, dbq_work, dbq_after) < 0) {
		/* Cannot happen with a live loop; fail the request rather than hang. */
		q->head->r = -EIO;
		q->busy = false;
		dbq_after(&q->work, 0);
	}
}

int
dbq_new(struct dbq **out, uv_loop_t *loop, const char *conninfo, const char *schema, char **cause)
{
	struct dbq *q = calloc(1, sizeof *q);

	if (q == NULL || (q->conninfo = strdup(conninfo)) == NULL || (q->schema = strdup(schema)) == NULL) {
		if (q != NULL)
			free(q->conninfo);
		free(q);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	q->loop = loop;
	*out = q;
	return 0;
}

void
dbq_push(struct dbq *q, dbq_fn fn, dbq_done done, void *arg)
{
	struct dbq_req *req = calloc(1, sizeof *req);

	if (req == NULL || q->closing) {
		free(req);
		done(arg, q->closing ? -ECANCELED : -ENOMEM, NULL);
		return;
	}
	req->fn = fn;
	req->done = done;
	req->arg = arg;
	if (q->tail != NULL)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	q->pending++;
	dbq_next(q);
}

unsigned
dbq_generation(const struct dbq *q)
{
	return q->generation;
}

unsigned
dbq_pending(const struct dbq *q)
{
	return q->pending;
}

void
dbq_close(struct dbq *q, void (*closed)(void *arg), void *arg)
{
	if (q->closing)
		return;
	q->closing = true;
	q->closed = closed;
	q->closed_arg = arg;
	dbq_next(q);
}
