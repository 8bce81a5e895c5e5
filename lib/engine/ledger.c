/*
 * ledger: claims, attempts and outcomes in PostgreSQL (see ledger.h).
 *
 * The claim runs in one transaction that locks the instance row FOR UPDATE,
 * so two claimers are serialised on the row; the advisory lock taken inside
 * it outlives the transaction and marks the attempt as alive.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "engine/ledger.h"
#include "base/util.h"

const char *
ledger_strclaim(enum ledger_claim_result r)
{
	switch (r) {
	case LEDGER_CLAIMED: return "claimed";
	case LEDGER_DONE: return "done";
	case LEDGER_GAVE_UP: return "gave-up";
	case LEDGER_BUSY: return "busy";
	case LEDGER_NOT_YET: return "not-yet";
	}
	return "?";
}

/* Run a parameterised statement; *res is its result (caller clears). */
static int
query(PGconn *c, const char *sql, int n, const char *const *params, PGresult **res, char **cause)
{
	return db_query(c, sql, n, params, res, "ledger", cause);
}

/* Run a statement whose result is not needed. */
static int
run(PGconn *c, const char *sql, int n, const char *const *params, char **cause)
{
	return db_query(c, sql, n, params, NULL, "ledger", cause);
}

/* pg_try_advisory_lock on the instance; *got tells whether we hold it now. */
static int
try_lock(PGconn *c, const char *id, bool *got, char **cause)
{
	const char *p[] = { DB_LOCK_CLASS_TEXT, id };
	PGresult *res;
	int r;

	if ((r = query(c, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, p, &res, cause)) < 0)
		return r;
	*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

static void
unlock(PGconn *c, const char *id)
{
	const char *p[] = { DB_LOCK_CLASS_TEXT, id };

	/* Nothing to do about a failure: a lost connection has released the lock already. */
	(void)run(c, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, p, NULL);
}

int
ledger_claim(PGconn *c, const struct ledger_key *k, unsigned retries, bool force,
    int64_t now_usec, const char *host, int pid, enum ledger_claim_result *result,
    struct ledger_claim *claim, char **cause)
{
	const char *key[] = { k->job, k->period, k->store ? k->store : "" };
	char id[32] = "", attempts[16], roundtext[16], pidtext[16], nowtext[32];
	bool locked = false, got;
	PGresult *res = NULL;
	struct ledger_claim cl = { 0 };
	int r, n, round_start;
	char *state = NULL;

	snprintf(pidtext, sizeof pidtext, "%d", pid);
	snprintf(nowtext, sizeof nowtext, "%" PRId64, now_usec);
	if ((r = run(c, "BEGIN", 0, NULL, cause)) < 0)
		return r;
	/*
	 * Create the instance or find it, locked, in one round trip: a
	 * conflicting insert turns into a no-op update, which locks the row as
	 * SELECT ... FOR UPDATE would and returns it.
	 */
	if ((r = query(c, "INSERT INTO task_instance (job, period, store) VALUES ($1, $2, $3) "
	    "ON CONFLICT (job, period, store) DO UPDATE SET job = EXCLUDED.job "
	    "RETURNING id, state, attempts, "
	    "coalesce((extract(epoch FROM not_before) * 1000000)::bigint, 0), round_start", 3, key, &res,
	    cause)) < 0)
		goto rollback;
	snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
	state = strdup(PQgetvalue(res, 0, 1));
	n = atoi(PQgetvalue(res, 0, 2));
	round_start = atoi(PQgetvalue(res, 0, 4));
	cl.id = atoll(id);
	cl.not_before_usec = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	res = NULL;
	if (state == NULL) {
		r = util_fail(cause, -ENOMEM, "out of memory");
		goto rollback;
	}

	if (strcmp(state, "running") == 0) {
		/* Someone's attempt: alive while its connection holds the lock. */
		if ((r = try_lock(c, id, &got, cause)) < 0)
			goto rollback;
		if (!got) {
			*result = LEDGER_BUSY;
			goto commit;
		}
		locked = true;
		cl.recovered = true;
		if ((r = run(c, "UPDATE task_attempt SET state = 'abandoned', finished_at = now(), "
		    "error = 'the process running this attempt died' "
		    "WHERE instance_id = $1 AND state = 'running'", 1, (const char *[]){ id }, cause)) < 0)
			goto rollback;
		if (!force && (unsigned)(n - round_start) > retries) {
			if ((r = run(c, "UPDATE task_instance SET state = 'failed', updated_at = now(), "
			    "error = 'the process running the last attempt died' WHERE id = $1",
			    1, (const char *[]){ id }, cause)) < 0)
				goto rollback;
			*result = LEDGER_GAVE_UP;
			goto commit;
		}
	} else if (strcmp(state, "succeeded") == 0) {
		if (!force) {
			*result = LEDGER_DONE;
			goto commit;
		}
		cl.redo = true;
	} else if (!force && strcmp(state, "failed") == 0) {
		*result = LEDGER_GAVE_UP;
		goto commit;
	} else if (!force && strcmp(state, "retry") == 0 && cl.not_before_usec > now_usec) {
		*result = LEDGER_NOT_YET;
		*claim = cl;
		goto commit;
	}
	if (!locked) {
		/* Held by a live process of ours or another's: not ours to run. */
		if ((r = try_lock(c, id, &got, cause)) < 0)
			goto rollback;
		if (!got) {
			*result = LEDGER_BUSY;
			goto commit;
		}
		locked = true;
	}
	/*
	 * A forced run is an operator's decision to try again (after fixing
	 * something): it starts a new round with the job's whole retry budget.
	 * Every attempt stays in task_attempt, numbered on.
	 */
	if (force)
		round_start = n;
	cl.attempt = n + 1;
	cl.round_attempt = cl.attempt - round_start;
	snprintf(attempts, sizeof attempts, "%d", cl.attempt);
	snprintf(roundtext, sizeof roundtext, "%d", round_start);
	if ((r = run(c, "WITH i AS (UPDATE task_instance SET state = 'running', attempts = $2, "
	    "round_start = $5, not_before = NULL, updated_at = now() WHERE id = $1 RETURNING id) "
	    "INSERT INTO task_attempt (instance_id, attempt, state, host, pid) "
	    "SELECT id, $2, 'running', $3, $4 FROM i", 5,
	    (const char *[]){ id, attempts, host, pidtext, roundtext }, cause)) < 0)
		goto rollback;
	if ((r = run(c, "COMMIT", 0, NULL, cause)) < 0)
		goto fail;
	*result = LEDGER_CLAIMED;
	*claim = cl;
	free(state);
	return 0;
commit:
	free(state);
	state = NULL;
	if ((r = run(c, "COMMIT", 0, NULL, cause)) < 0)
		goto fail;
	/* Keep no lock for what we did not claim. */
	if (locked)
		unlock(c, id);
	return 0;
rollback:
	db_rollback(c);
fail:
	free(state);
	if (locked)
		unlock(c, id);
	return r;
}

int
ledger_finish(PGconn *c, const struct ledger_claim *claim, enum ledger_outcome outcome,
    int exit_status, const char *error, bool retry, int64_t not_before_usec, char **cause)
{
	static const char *const attempt_state[] = {
		[LEDGER_SUCCEEDED] = "succeeded", [LEDGER_FAILED] = "failed", [LEDGER_TIMEOUT] = "timeout",
	};
	char id[32], attempt[16], status[16], nb[32];
	const char *instance_state;
	int r;

	snprintf(id, sizeof id, "%lld", claim->id);
	snprintf(attempt, sizeof attempt, "%d", claim->attempt);
	snprintf(status, sizeof status, "%d", exit_status);
	snprintf(nb, sizeof nb, "%" PRId64, not_before_usec);
	if (outcome == LEDGER_SUCCEEDED)
		instance_state = "succeeded";
	else
		instance_state = retry ? "retry" : "failed";
	if ((r = run(c, "BEGIN", 0, NULL, cause)) < 0)
		return r;
	if ((r = run(c, "UPDATE task_attempt SET state = $3, finished_at = now(), exit_status = $4, "
	    "error = $5 WHERE instance_id = $1 AND attempt = $2", 5,
	    (const char *[]){ id, attempt, attempt_state[outcome], status, error }, cause)) < 0)
		goto rollback;
	if ((r = run(c, "UPDATE task_instance SET state = $2, updated_at = now(), error = $3, "
	    "not_before = CASE WHEN $2 = 'retry' THEN to_timestamp($4::bigint / 1000000.0) END "
	    "WHERE id = $1", 4,
	    (const char *[]){ id, instance_state, outcome == LEDGER_SUCCEEDED ? NULL : error, nb },
	    cause)) < 0)
		goto rollback;
	if ((r = run(c, "COMMIT", 0, NULL, cause)) < 0)
		return r;
	unlock(c, id);
	return 0;
rollback:
	db_rollback(c);
	return r;
}

int
ledger_state(PGconn *c, const struct ledger_key *k, char *state, char **cause)
{
	const char *key[] = { k->job, k->period, k->store ? k->store : "" };
	PGresult *res;
	int r;

	if ((r = query(c, "SELECT state FROM task_instance WHERE job = $1 AND period = $2 "
	    "AND store = $3", 3, key, &res, cause)) < 0)
		return r;
	snprintf(state, 16, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return 0;
}

int
ledger_count_succeeded(PGconn *c, const char *job, const char *const *periods, size_t n,
    const char *store, long *count, char **cause)
{
	char *array = NULL, *tmp;
	PGresult *res;
	int r;

	/* A text[] literal of periods; they are our own formatted strings. */
	array = strdup("{");
	for (size_t i = 0; array != NULL && i < n; i++) {
		tmp = util_printf("%s%s\"%s\"", array, i ? "," : "", periods[i]);
		free(array);
		array = tmp;
	}
	if (array == NULL || (tmp = util_printf("%s}", array)) == NULL) {
		free(array);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	free(array);
	array = tmp;
	r = query(c, "SELECT count(*) FROM task_instance WHERE job = $1 AND period = ANY($2::text[]) "
	    "AND state = 'succeeded' AND ($3::text IS NULL OR store = $3)", 3,
	    (const char *[]){ job, array, store }, &res, cause);
	free(array);
	if (r < 0)
		return r;
	*count = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* A copy of a column's text, or NULL for SQL NULL; *oom when the copy fails. */
static char *
text_or_null(const PGresult *res, int row, int col, bool *oom)
{
	char *v;

	if (PQgetisnull(res, row, col))
		return NULL;
	if ((v = strdup(PQgetvalue(res, row, col))) == NULL)
		*oom = true;
	return v;
}

/* A column's text, "" for SQL NULL, copied; *oom when the copy fails. */
static char *
text_copy(const PGresult *res, int row, int col, bool *oom)
{
	char *v = strdup(PQgetvalue(res, row, col));

	if (v == NULL)
		*oom = true;
	return v;
}

static int64_t
int_or_zero(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void
ledger_instance_list_done(struct ledger_instance_list *l)
{
	if (l == NULL)
		return;
	for (size_t k = 0; k < l->n; k++) {
		free(l->v[k].job);
		free(l->v[k].period);
		free(l->v[k].store);
		free(l->v[k].state);
		free(l->v[k].error);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
ledger_attempt_list_done(struct ledger_attempt_list *l)
{
	if (l == NULL)
		return;
	for (size_t k = 0; k < l->n; k++) {
		free(l->v[k].job);
		free(l->v[k].period);
		free(l->v[k].store);
		free(l->v[k].state);
		free(l->v[k].host);
		free(l->v[k].error);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * The instances a statement selects, in the columns of INSTANCE_COLUMNS,
 * into *out (untouched on failure).
 */
#define INSTANCE_COLUMNS "job, period, store, state, attempts, " \
	"(extract(epoch FROM updated_at) * 1000000)::bigint, " \
	"(extract(epoch FROM not_before) * 1000000)::bigint, error"

static int
list_instances(PGconn *c, const char *sql, int n, const char *const *p, struct ledger_instance_list *out,
    char **cause)
{
	struct ledger_instance_list l = { 0 };
	PGresult *res;
	bool oom = false;
	int r;

	if ((r = query(c, sql, n, p, &res, cause)) < 0)
		return r;
	if (PQntuples(res) > 0 && (l.v = calloc((size_t)PQntuples(res), sizeof *l.v)) == NULL)
		oom = true;
	for (int k = 0; !oom && k < PQntuples(res); k++, l.n++) {
		struct ledger_instance *i = &l.v[k];

		i->job = text_copy(res, k, 0, &oom);
		i->period = text_copy(res, k, 1, &oom);
		i->store = text_copy(res, k, 2, &oom);
		i->state = text_copy(res, k, 3, &oom);
		i->attempts = (int)int_or_zero(res, k, 4);
		i->updated_usec = int_or_zero(res, k, 5);
		i->not_before_usec = int_or_zero(res, k, 6);
		i->error = text_or_null(res, k, 7, &oom);
	}
	PQclear(res);
	if (oom) {
		ledger_instance_list_done(&l);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

/* The same for attempts, in the columns of ATTEMPT_COLUMNS (a: task_attempt, i: task_instance). */
#define ATTEMPT_COLUMNS "i.job, i.period, i.store, a.attempt, a.state, " \
	"(extract(epoch FROM a.started_at) * 1000000)::bigint, " \
	"round(extract(epoch FROM coalesce(a.finished_at, now()) - a.started_at)::numeric, 1), " \
	"a.host, a.pid, a.error"

static int
list_attempts(PGconn *c, const char *sql, int n, const char *const *p, struct ledger_attempt_list *out,
    char **cause)
{
	struct ledger_attempt_list l = { 0 };
	PGresult *res;
	bool oom = false;
	int r;

	if ((r = query(c, sql, n, p, &res, cause)) < 0)
		return r;
	if (PQntuples(res) > 0 && (l.v = calloc((size_t)PQntuples(res), sizeof *l.v)) == NULL)
		oom = true;
	for (int k = 0; !oom && k < PQntuples(res); k++, l.n++) {
		struct ledger_attempt *a = &l.v[k];

		a->job = text_copy(res, k, 0, &oom);
		a->period = text_copy(res, k, 1, &oom);
		a->store = text_copy(res, k, 2, &oom);
		a->attempt = (int)int_or_zero(res, k, 3);
		a->state = text_copy(res, k, 4, &oom);
		a->started_usec = int_or_zero(res, k, 5);
		a->seconds = strtod(PQgetvalue(res, k, 6), NULL);
		a->host = text_copy(res, k, 7, &oom);
		a->pid = (int)int_or_zero(res, k, 8);
		a->error = text_or_null(res, k, 9, &oom);
	}
	PQclear(res);
	if (oom) {
		ledger_attempt_list_done(&l);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

int
ledger_list_open(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause)
{
	char lim[16];

	snprintf(lim, sizeof lim, "%u", limit);
	return list_instances(c, "SELECT " INSTANCE_COLUMNS " FROM task_instance "
	    "WHERE state IN ('pending', 'running', 'retry') ORDER BY period, id LIMIT $1", 1,
	    (const char *[]){ lim }, out, cause);
}

int
ledger_list_retries(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause)
{
	char lim[16];

	snprintf(lim, sizeof lim, "%u", limit);
	return list_instances(c, "SELECT " INSTANCE_COLUMNS " FROM task_instance "
	    "WHERE state = 'retry' ORDER BY not_before LIMIT $1", 1, (const char *[]){ lim }, out, cause);
}

int
ledger_list_failures(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause)
{
	char lim[16];

	snprintf(lim, sizeof lim, "%u", limit);
	return list_instances(c, "SELECT " INSTANCE_COLUMNS " FROM task_instance "
	    "WHERE state = 'failed' ORDER BY updated_at DESC LIMIT $1", 1, (const char *[]){ lim }, out, cause);
}

int
ledger_list_running(PGconn *c, struct ledger_attempt_list *out, char **cause)
{
	return list_attempts(c, "SELECT " ATTEMPT_COLUMNS " FROM task_instance i "
	    "JOIN task_attempt a ON a.instance_id = i.id AND a.attempt = i.attempts "
	    "WHERE i.state = 'running' ORDER BY a.started_at", 0, NULL, out, cause);
}

int
ledger_list_recent(PGconn *c, unsigned limit, struct ledger_attempt_list *out, char **cause)
{
	char lim[16];

	snprintf(lim, sizeof lim, "%u", limit);
	return list_attempts(c, "SELECT " ATTEMPT_COLUMNS " FROM task_attempt a "
	    "JOIN task_instance i ON i.id = a.instance_id ORDER BY a.started_at DESC, a.attempt DESC LIMIT $1",
	    1, (const char *[]){ lim }, out, cause);
}

int
ledger_last_succeeded(PGconn *c, const char *job, char **period, char **cause)
{
	PGresult *res;
	char *v = NULL;
	int r;

	if ((r = query(c, "SELECT max(period) FROM task_instance WHERE job = $1 AND state = 'succeeded' "
	    "AND store = ''", 1, (const char *[]){ job }, &res, cause)) < 0)
		return r;
	if (!PQgetisnull(res, 0, 0) && (v = strdup(PQgetvalue(res, 0, 0))) == NULL)
		r = util_fail(cause, -ENOMEM, "out of memory");
	PQclear(res);
	if (r == 0)
		*period = v;
	return r;
}
