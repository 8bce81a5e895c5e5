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
	/* The original keeps the string it always had: its Message-ID does not change with this. */
	if (k->version > 1)
		return util_printf("%s/%s/%s/%s/%s/v%d", k->report, k->period, k->store, k->channel, k->recipient,
		    k->version);
	return util_printf("%s/%s/%s/%s/%s", k->report, k->period, k->store, k->channel, k->recipient);
}

/* The key's version as a parameter: 0 means the original, version 1. */
static void
version_text(const struct delivery_key *k, char buf[16])
{
	snprintf(buf, 16, "%d", k->version > 1 ? k->version : 1);
}

static int
exec(PGconn *c, const char *sql, int n, const char *const *p, PGresult **out, char **cause)
{
	return db_query(c, sql, n, p, out, "database: delivery ledger", cause);
}

const char *
delivery_strstate(enum delivery_state st)
{
	static const char *const names[] = { "none", "sending", "sent", "failed", "unknown" };

	return (size_t)st < UTIL_NELEM(names) ? names[st] : "?";
}

/* The state of a "state" column's text (NULL: no row). */
static enum delivery_state
state_of(const char *text)
{
	for (int s = DELIVERY_STATE_SENDING; text != NULL && s <= DELIVERY_STATE_UNKNOWN; s++)
		if (strcmp(text, delivery_strstate((enum delivery_state)s)) == 0)
			return (enum delivery_state)s;
	return DELIVERY_STATE_NONE;
}

/*
 * The one way a delivery changes state: sql returns the row's old and new
 * state (no row: nothing changed), and a change is told to the ledger's
 * observer as "old -> new". *now (may be NULL) gets the state after it.
 */
static int
transition(struct delivery_ledger *l, const struct delivery_key *k, const char *sql, int n,
    const char *const *p, const char *why, enum delivery_state *now, char **cause)
{
	enum delivery_state from = DELIVERY_STATE_NONE, to = DELIVERY_STATE_NONE;
	PGresult *res;
	int e;

	if ((e = exec(l->c, sql, n, p, &res, cause)) < 0)
		return e;
	if (PQntuples(res) == 1) {
		from = state_of(PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0));
		to = state_of(PQgetvalue(res, 0, 1));
		if (from != to && l->on_change != NULL)
			l->on_change(l->arg, k, from, to, why);
	}
	PQclear(res);
	if (now != NULL)
		*now = to;
	return 0;
}

/* The row of a key, as SQL: $1..$6 are report, period, store, channel, recipient, version. */
#define KEY_IS "report = $1 AND period = $2 AND store = $3 AND channel = $4 AND recipient = $5 AND version = $6"

int
delivery_begin(struct delivery_ledger *l, const struct delivery_key *k, const char *message_id,
    const char *figures, bool force, enum delivery_decision *decision, char **cause)
{
	char version[16];
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, version, message_id,
	    force ? "t" : "f", figures };
	enum delivery_state now;
	int e;

	version_text(k, version);
	/*
	 * One statement decides and records, under the row's lock: a new row or
	 * a failed one (or anything, forced) becomes 'sending', with the figures
	 * it is about to carry; a 'sending' one (its sender died in the gap)
	 * becomes 'unknown'; 'sent' and 'unknown' stay, and so do their figures.
	 * The new state is the decision.
	 */
	if ((e = transition(l, k, "WITH old AS (SELECT state FROM delivery WHERE " KEY_IS ") "
	    "INSERT INTO delivery AS d (report, period, store, channel, recipient, version, state, message_id, "
	    "figures) VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, $9) "
	    "ON CONFLICT (report, period, store, channel, recipient, version) DO UPDATE SET "
	    "state = CASE WHEN $8::boolean OR d.state = 'failed' THEN 'sending' "
	    "WHEN d.state = 'sending' THEN 'unknown' ELSE d.state END, "
	    "attempts = d.attempts + CASE WHEN $8::boolean OR d.state = 'failed' THEN 1 ELSE 0 END, "
	    "figures = CASE WHEN $8::boolean OR d.state = 'failed' THEN coalesce($9, d.figures) "
	    "ELSE d.figures END, "
	    "message_id = coalesce($7, d.message_id), updated_at = now() "
	    "RETURNING (SELECT state FROM old), d.state", 9, p, force ? "forced" : NULL, &now, cause)) < 0)
		return e;
	*decision = now == DELIVERY_STATE_SENDING ? DELIVERY_SEND : now == DELIVERY_STATE_SENT ?
	    DELIVERY_SENT_BEFORE : DELIVERY_UNKNOWN;
	return 0;
}

int
delivery_finish(struct delivery_ledger *l, const struct delivery_key *k, enum delivery_state outcome,
    const char *reply, char **cause)
{
	char version[16];
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, version,
	    delivery_strstate(outcome), reply };

	if (outcome != DELIVERY_STATE_SENT && outcome != DELIVERY_STATE_FAILED && outcome != DELIVERY_STATE_UNKNOWN)
		return util_fail(cause, -EINVAL, "a send ends sent, failed or unknown, not %s",
		    delivery_strstate(outcome));
	version_text(k, version);
	/* o is the row before the update: its state is the old one. */
	return transition(l, k, "UPDATE delivery d SET state = $7, reply = $8, updated_at = now(), "
	    "sent_at = CASE WHEN $7 = 'sent' THEN now() END FROM delivery o "
	    "WHERE o.id = d.id AND d.report = $1 AND d.period = $2 AND d.store = $3 AND d.channel = $4 "
	    "AND d.recipient = $5 AND d.version = $6 RETURNING o.state, d.state", 8, p, reply, NULL, cause);
}

int
delivery_lookup(struct delivery_ledger *l, const struct delivery_key *k, bool force,
    enum delivery_decision *decision, char **cause)
{
	char version[16];
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, version };
	PGresult *res;
	const char *state;
	int e;

	version_text(k, version);
	/* updated_at stays: the daily cap counts this delivery on the day it was begun. */
	if ((e = transition(l, k, "UPDATE delivery d SET state = 'unknown' FROM delivery o WHERE o.id = d.id "
	    "AND d.report = $1 AND d.period = $2 AND d.store = $3 AND d.channel = $4 AND d.recipient = $5 "
	    "AND d.version = $6 AND d.state = 'sending' RETURNING o.state, d.state", 6, p,
	    "its sender died after sending", NULL, cause)) < 0 ||
	    (e = exec(l->c, "SELECT state FROM delivery WHERE " KEY_IS, 6, p, &res, cause)) < 0)
		return e;
	state = PQntuples(res) ? PQgetvalue(res, 0, 0) : "failed";
	*decision = force || strcmp(state, "failed") == 0 ? DELIVERY_SEND : strcmp(state, "sent") == 0 ?
	    DELIVERY_SENT_BEFORE : DELIVERY_UNKNOWN;
	PQclear(res);
	return 0;
}

int
delivery_latest(struct delivery_ledger *l, const struct delivery_key *k, struct delivery_latest *out,
    char **cause)
{
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient };
	struct delivery_latest x = { 0 };
	PGresult *res;
	int e;

	/* With the figures of the version before it: what a correction corrects. */
	if ((e = exec(l->c, "SELECT d.version, d.state, d.figures, b.figures FROM delivery d "
	    "LEFT JOIN delivery b ON b.report = d.report AND b.period = d.period AND b.store = d.store "
	    "AND b.channel = d.channel AND b.recipient = d.recipient AND b.version = d.version - 1 "
	    "WHERE d.report = $1 AND d.period = $2 AND d.store = $3 AND d.channel = $4 AND d.recipient = $5 "
	    "ORDER BY d.version DESC LIMIT 1", 5, p, &res, cause)) < 0)
		return e;
	if (PQntuples(res) == 1) {
		x.version = atoi(PQgetvalue(res, 0, 0));
		x.state = state_of(PQgetvalue(res, 0, 1));
		if ((!PQgetisnull(res, 0, 2) && (x.figures = strdup(PQgetvalue(res, 0, 2))) == NULL) ||
		    (!PQgetisnull(res, 0, 3) && (x.corrects = strdup(PQgetvalue(res, 0, 3))) == NULL)) {
			PQclear(res);
			delivery_latest_done(&x);
			return util_fail(cause, -ENOMEM, "out of memory");
		}
	}
	PQclear(res);
	*out = x;
	return 0;
}

void
delivery_latest_done(struct delivery_latest *x)
{
	if (x == NULL)
		return;
	free(x->figures);
	free(x->corrects);
	*x = (struct delivery_latest){ 0 };
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
delivery_fail(struct delivery_ledger *l, const struct delivery_key *k, const char *reason, char **cause)
{
	char version[16];
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, version, reason };

	version_text(k, version);
	return transition(l, k, "WITH old AS (SELECT state FROM delivery WHERE " KEY_IS ") "
	    "INSERT INTO delivery AS d (report, period, store, channel, recipient, version, state, reply) "
	    "VALUES ($1, $2, $3, $4, $5, $6, 'failed', $7) "
	    "ON CONFLICT (report, period, store, channel, recipient, version) DO UPDATE SET "
	    "reply = $7, attempts = d.attempts + 1, updated_at = now() WHERE d.state = 'failed' "
	    "RETURNING (SELECT state FROM old), d.state", 7, p, reason, NULL, cause);
}

int
delivery_link_fallback(struct delivery_ledger *l, const struct delivery_key *k, const char *chat, char **cause)
{
	char version[16];
	const char *p[] = { k->report, k->period, k->store, k->channel, k->recipient, version, chat };
	PGresult *res = NULL;
	int e;

	version_text(k, version);
	/* The chat's latest version: the one the fallback stands in for. */
	e = exec(l->c, "UPDATE delivery SET fallback_of = (SELECT id FROM delivery WHERE report = $1 AND "
	    "period = $2 AND store = $3 AND channel = 'whatsapp' AND recipient = $7 ORDER BY version DESC LIMIT 1) "
	    "WHERE " KEY_IS, 7, p, &res, cause);
	PQclear(res);
	return e;
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
		free(d->fallback_for);
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
	/* A fallback e-mail names the WhatsApp chat it stands in for. */
	if ((e = exec(c, "SELECT d.report, d.period, d.store, d.channel, d.recipient, d.state, d.attempts, "
	    "(extract(epoch FROM d.updated_at) * 1000000)::bigint, d.reply, d.version, w.recipient "
	    "FROM delivery d LEFT JOIN delivery w ON w.id = d.fallback_of "
	    "ORDER BY d.updated_at DESC, d.id DESC LIMIT $1", 1, (const char *[]){ lim }, &res,
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
		d->version = atoi(PQgetvalue(res, k, 9));
		d->fallback_for = column(res, k, 10, true, &oom);
	}
	PQclear(res);
	if (oom) {
		delivery_list_done(&l);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}
