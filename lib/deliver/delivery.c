/*
 * delivery: the delivery ledger (see delivery.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "deliver/delivery.h"
#include "base/util.h"

const char *
delivery_strdecision(enum delivery_decision d)
{
	switch (d) {
	case DELIVERY_SEND:
		return "send";
	case DELIVERY_SENT_BEFORE:
		return "sent before";
	case DELIVERY_UNKNOWN:
		return "unknown (it may have gone out: the sender died or lost the server's reply)";
	}
	return "?";
}

char *
delivery_key_string(const struct delivery_key *k)
{
	return util_printf("%s/%s/%s/%s/%s", k->report, k->period, k->store, k->channel, k->recipient);
}

static int
exec(PGconn *c, const char *sql, int n, const char *const *p, PGresult **out, char **cause)
{
	return db_query(c, sql, n, p, out, "database: delivery ledger", cause);
}

int
delivery_begin(PGconn *c, const struct delivery_key *k, const char *message_id, bool force,
    enum delivery_decision *decision, char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, message_id,
	    force ? "t" : "f" };
	PGresult *res;
	int e;

	/*
	 * One statement decides and records, under the row's lock: a new row or
	 * a failed one (or anything, forced) becomes 'sending'; a 'sending' one
	 * (its sender died in the gap) becomes 'unknown'; 'sent' and 'unknown'
	 * stay. The new state is the decision.
	 */
	if ((e = exec(c, "INSERT INTO delivery AS d (report, period, store, channel, recipient, state, message_id) "
	    "VALUES ($1, $2, $3, $4, $5, 'sending', $6) "
	    "ON CONFLICT (report, period, store, channel, recipient) DO UPDATE SET "
	    "state = CASE WHEN $7::boolean OR d.state = 'failed' THEN 'sending' "
	    "WHEN d.state = 'sending' THEN 'unknown' ELSE d.state END, "
	    "attempts = d.attempts + CASE WHEN $7::boolean OR d.state = 'failed' THEN 1 ELSE 0 END, "
	    "message_id = coalesce($6, d.message_id), updated_at = now() "
	    "RETURNING d.state", 7, p, &res, cause)) < 0)
		return e;
	if (strcmp(PQgetvalue(res, 0, 0), "sending") == 0)
		*decision = DELIVERY_SEND;
	else if (strcmp(PQgetvalue(res, 0, 0), "sent") == 0)
		*decision = DELIVERY_SENT_BEFORE;
	else
		*decision = DELIVERY_UNKNOWN;
	PQclear(res);
	return 0;
}

int
delivery_finish(PGconn *c, const struct delivery_key *k, bool sent, const char *reply, char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, sent ? "sent" : "failed",
	    reply };

	return exec(c, "UPDATE delivery SET state = $6, reply = $7, updated_at = now(), "
	    "sent_at = CASE WHEN $6 = 'sent' THEN now() END "
	    "WHERE report = $1 AND period = $2 AND store = $3 AND channel = $4 AND recipient = $5", 7, p,
	    NULL, cause);
}

int
delivery_finish_unknown(PGconn *c, const struct delivery_key *k, const char *what, char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, what };

	return exec(c, "UPDATE delivery SET state = 'unknown', reply = $6, updated_at = now() "
	    "WHERE report = $1 AND period = $2 AND store = $3 AND channel = $4 AND recipient = $5", 6, p,
	    NULL, cause);
}

int
delivery_lookup(PGconn *c, const struct delivery_key *k, bool force, enum delivery_decision *decision,
    char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient };
	PGresult *res;
	const char *state;
	int e;

	/* updated_at stays: the daily cap counts this delivery on the day it was begun. */
	if ((e = exec(c, "UPDATE delivery SET state = 'unknown' WHERE report = $1 AND period = $2 "
	    "AND store = $3 AND channel = $4 AND recipient = $5 AND state = 'sending'", 5, p, NULL, cause)) < 0 ||
	    (e = exec(c, "SELECT state FROM delivery WHERE report = $1 AND period = $2 AND store = $3 "
	    "AND channel = $4 AND recipient = $5", 5, p, &res, cause)) < 0)
		return e;
	state = PQntuples(res) ? PQgetvalue(res, 0, 0) : "failed";
	*decision = force || strcmp(state, "failed") == 0 ? DELIVERY_SEND : strcmp(state, "sent") == 0 ?
	    DELIVERY_SENT_BEFORE : DELIVERY_UNKNOWN;
	PQclear(res);
	return 0;
}

int
delivery_count_today(PGconn *c, const char *channel, const char *tz, long long *n, char **cause)
{
	const char *p[] = { channel, tz };
	PGresult *res;
	int e;

	/* A "sending" or "unknown" one may have gone out: it counts. */
	if ((e = exec(c, "SELECT count(*) FROM delivery WHERE channel = $1 AND state <> 'failed' "
	    "AND coalesce(sent_at, updated_at) >= date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2",
	    2, p, &res, cause)) < 0)
		return e;
	*n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int
delivery_fail(PGconn *c, const struct delivery_key *k, const char *reason, char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, reason };

	return exec(c, "INSERT INTO delivery AS d (report, period, store, channel, recipient, state, reply) "
	    "VALUES ($1, $2, $3, $4, $5, 'failed', $6) "
	    "ON CONFLICT (report, period, store, channel, recipient) DO UPDATE SET "
	    "reply = $6, attempts = d.attempts + 1, updated_at = now() WHERE d.state = 'failed'", 6, p, NULL, cause);
}

void
delivery_list_done(struct delivery_list *l)
{
	if (l == NULL)
		return;
	for (size_t k = 0; k < l->n; k++) {
		struct delivery_row *d = &l->v[k];

		free(d->report);
		free(d->period);
		free(d->store);
		free(d->channel);
		free(d->recipient);
		free(d->state);
		free(d->reply);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A copy of a column's text, or NULL for SQL NULL when nullable; *oom when the copy fails. */
static char *
column(const PGresult *res, int row, int col, bool nullable, bool *oom)
{
	char *v;

	if (nullable && PQgetisnull(res, row, col))
		return NULL;
	if ((v = strdup(PQgetvalue(res, row, col))) == NULL)
		*oom = true;
	return v;
}

int
delivery_list_recent(PGconn *c, unsigned limit, struct delivery_list *out, char **cause)
{
	struct delivery_list l = { 0 };
	char lim[16];
	PGresult *res;
	bool oom = false;
	int e;

	snprintf(lim, sizeof lim, "%u", limit);
	if ((e = exec(c, "SELECT report, period, store, channel, recipient, state, attempts, "
	    "(extract(epoch FROM updated_at) * 1000000)::bigint, reply "
	    "FROM delivery ORDER BY updated_at DESC, id DESC LIMIT $1", 1, (const char *[]){ lim }, &res,
	    cause)) < 0)
		return e;
	if (PQntuples(res) > 0 && (l.v = calloc((size_t)PQntuples(res), sizeof *l.v)) == NULL)
		oom = true;
	for (int k = 0; !oom && k < PQntuples(res); k++, l.n++) {
		struct delivery_row *d = &l.v[k];

		d->report = column(res, k, 0, false, &oom);
		d->period = column(res, k, 1, false, &oom);
		d->store = column(res, k, 2, false, &oom);
		d->channel = column(res, k, 3, false, &oom);
		d->recipient = column(res, k, 4, false, &oom);
		d->state = column(res, k, 5, false, &oom);
		d->attempts = atoi(PQgetvalue(res, k, 6));
		d->updated_usec = strtoll(PQgetvalue(res, k, 7), NULL, 10);
		d->reply = column(res, k, 8, true, &oom);
	}
	PQclear(res);
	if (oom) {
		delivery_list_done(&l);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}
