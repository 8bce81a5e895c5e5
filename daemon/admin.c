/*
 * admin: "salesd migrate", "salesd status" and "salesd whatsapp-login": the
 * commands that talk to the ledger or the browser directly, in the foreground
 * (blocking is fine here: no event loop of the daemon).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "engine/cron.h"
#include "base/db.h"
#include "base/migrate.h"
#include "base/tz.h"
#include "base/util.h"
#include "deliver/whatsapp.h"

/* Connect as the configuration says; prints the reason and returns an exit code on failure. */
static int
admin_connect(const struct config *cfg, PGconn **c)
{
	char *cause = NULL;
	int r = db_connect(c, cfg->database.conninfo, cfg->database.schema, &cause);

	if (r < 0) {
		fprintf(stderr, "salesd: %s\n", cause ? cause : "cannot connect");
		free(cause);
		return r == -EINVAL ? EX_CONFIG : EX_TEMPFAIL;
	}
	return 0;
}

int
cmd_migrate(struct cli *cli)
{
	struct config *cfg;
	struct dag *dag;
	PGconn *c = NULL;
	char *cause = NULL;
	int r, from = 0, to = 0;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: migrate takes no arguments\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	if ((r = admin_connect(cfg, &c)) != 0)
		goto out;
	if (migrate_apply(c, cfg->database.schema, &from, &to, &cause) < 0) {
		fprintf(stderr, "salesd: migrate: %s\n", cause ? cause : "failed");
		r = 1;
		goto out;
	}
	if (from == to)
		printf("schema %s is up to date (version %d)\n", cfg->database.schema, to);
	else
		printf("schema %s migrated from version %d to %d\n", cfg->database.schema,
		    from, to);
out:
	free(cause);
	PQfinish(c);
	dag_free(dag);
	config_free(cfg);
	return r;
}

/* Rows of a query as a JSON array of objects keyed by column name. */
static json_t *
rows_json(PGresult *res)
{
	json_t *a = json_array();

	for (int r = 0; r < PQntuples(res); r++) {
		json_t *o = json_object();

		for (int c = 0; c < PQnfields(res); c++) {
			const char *v = PQgetvalue(res, r, c);
			json_t *j;

			/* Numbers stay numbers (type OIDs from pg_type: int8, int2, int4; numeric). */
			if (PQgetisnull(res, r, c))
				j = json_null();
			else if (PQftype(res, c) == 20 || PQftype(res, c) == 21 || PQftype(res, c) == 23)
				j = json_integer(strtoll(v, NULL, 10));
			else if (PQftype(res, c) == 1700)
				j = json_real(strtod(v, NULL));
			else
				j = json_string(v);
			json_object_set_new(o, PQfname(res, c), j);
		}
		json_array_append_new(a, o);
	}
	return a;
}

static PGresult *
status_query(PGconn *c, const char *sql, const char *zone, int *failed)
{
	const char *p[] = { zone };
	PGresult *res = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		char *msg = db_error(c, res);

		fprintf(stderr, "salesd: status: %s\n", msg ? msg : "query failed");
		free(msg);
		*failed = 1;
	}
	return res;
}

int
cmd_status(struct cli *cli)
{
	static const char recent_sql[] =
	    "SELECT to_char(a.started_at AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS started, "
	    "i.job, i.period, i.store, a.attempt, a.state, "
	    "round(extract(epoch FROM coalesce(a.finished_at, now()) - a.started_at)::numeric, 1) AS seconds, "
	    "a.host, a.pid, a.error "
	    "FROM task_attempt a JOIN task_instance i ON i.id = a.instance_id "
	    "ORDER BY a.started_at DESC, a.attempt DESC LIMIT 20";
	static const char retry_sql[] =
	    "SELECT job, period, store, attempts, "
	    "to_char(not_before AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS next_attempt, error "
	    "FROM task_instance WHERE state = 'retry' AND $1 IS NOT NULL ORDER BY not_before LIMIT 50";
	static const char failed_sql[] =
	    "SELECT job, period, store, attempts, "
	    "to_char(updated_at AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS failed_at, error "
	    "FROM task_instance WHERE state = 'failed' ORDER BY updated_at DESC LIMIT 20";
	static const char running_sql[] =
	    "SELECT i.job, i.period, i.store, a.attempt, a.host, a.pid, "
	    "to_char(a.started_at AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS started "
	    "FROM task_instance i JOIN task_attempt a ON a.instance_id = i.id AND a.attempt = i.attempts "
	    "WHERE i.state = 'running' ORDER BY a.started_at";
	static const char deliveries_sql[] =
	    "SELECT to_char(updated_at AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS') AS at, report, period, store, "
	    "channel, recipient, state, attempts, reply FROM delivery ORDER BY updated_at DESC, id DESC LIMIT 20";
	const char *zone;
	struct config *cfg;
	struct dag *dag;
	PGconn *c = NULL;
	char *wa = NULL;
	PGresult *recent = NULL, *retry = NULL, *failed = NULL, *running = NULL, *deliveries = NULL;
	json_t *next = json_array();
	int r, qfail = 0;
	int64_t now = (util_now_realtime_usec() + cli_clock_offset()) / 1000000;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: status takes no arguments\n");
		json_decref(next);
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0) {
		json_decref(next);
		return r;
	}
	zone = cfg->salesd.timezone;
	for (size_t k = 0; k < dag_njobs(dag); k++) {
		const struct dag_job *j = dag_job(dag, k);
		int64_t t;
		char when[64];

		if (j->schedule == NULL || cron_next(j->schedule, now, &t) < 0)
			continue;
		cron_format_instant(cron_zone(j->schedule), t, when, sizeof when);
		json_array_append_new(next, json_pack("{s:s, s:s, s:s}", "job", j->name,
		    "schedule", j->schedule_text, "next", when));
	}
	if ((r = admin_connect(cfg, &c)) != 0)
		goto out;
	running = status_query(c, running_sql, zone, &qfail);
	recent = status_query(c, recent_sql, zone, &qfail);
	retry = status_query(c, retry_sql, zone, &qfail);
	failed = status_query(c, failed_sql, zone, &qfail);
	deliveries = status_query(c, deliveries_sql, zone, &qfail);
	if (qfail) {
		fprintf(stderr, "salesd: status: is the schema there? (salesd migrate)\n");
		r = 1;
		goto out;
	}
	wa = whatsapp_state(cfg);
	if (cli->json) {
		json_t *o = json_pack("{s:O, s:o, s:o, s:o, s:o, s:o, s:s?}", "next", next,
		    "running", rows_json(running), "recent", rows_json(recent),
		    "retries", rows_json(retry), "failures", rows_json(failed), "deliveries", rows_json(deliveries),
		    "whatsapp", wa);
		char *text = json_dumps(o, JSON_INDENT(2));

		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(o);
		goto out;
	}
	/* First: nothing goes to WhatsApp until a person scans the code. */
	if (wa != NULL)
		printf("WhatsApp: %s\n\n", wa);
	printf("Next runs (%s):\n", zone);
	for (size_t k = 0; k < json_array_size(next); k++) {
		json_t *o = json_array_get(next, k);

		printf("  %-20s %s  (%s)\n", json_string_value(json_object_get(o, "job")),
		    json_string_value(json_object_get(o, "next")),
		    json_string_value(json_object_get(o, "schedule")));
	}
	printf("\nRunning:\n");
	if (PQntuples(running) == 0)
		printf("  nothing\n");
	for (int i = 0; i < PQntuples(running); i++)
		printf("  %-20s %-10s %-14s attempt %s  since %s  on %s pid %s\n", PQgetvalue(running, i, 0),
		    PQgetvalue(running, i, 1), PQgetvalue(running, i, 2), PQgetvalue(running, i, 3),
		    PQgetvalue(running, i, 6), PQgetvalue(running, i, 4), PQgetvalue(running, i, 5));
	printf("\nRecent attempts (%s):\n", zone);
	if (PQntuples(recent) == 0)
		printf("  none yet\n");
	for (int i = 0; i < PQntuples(recent); i++)
		printf("  %s  %-20s %-10s %-14s #%s %-10s %6ss%s%s\n", PQgetvalue(recent, i, 0),
		    PQgetvalue(recent, i, 1), PQgetvalue(recent, i, 2), PQgetvalue(recent, i, 3),
		    PQgetvalue(recent, i, 4), PQgetvalue(recent, i, 5), PQgetvalue(recent, i, 6),
		    PQgetisnull(recent, i, 9) ? "" : "  ", PQgetisnull(recent, i, 9) ? "" : PQgetvalue(recent, i, 9));
	printf("\nPending retries:\n");
	if (PQntuples(retry) == 0)
		printf("  none\n");
	for (int i = 0; i < PQntuples(retry); i++)
		printf("  %-20s %-10s %-14s after %s attempts, next at %s: %s\n", PQgetvalue(retry, i, 0),
		    PQgetvalue(retry, i, 1), PQgetvalue(retry, i, 2), PQgetvalue(retry, i, 3),
		    PQgetvalue(retry, i, 4), PQgetvalue(retry, i, 5));
	printf("\nFailures (not retried; salesd run JOB --date D --force tries again):\n");
	if (PQntuples(failed) == 0)
		printf("  none\n");
	for (int i = 0; i < PQntuples(failed); i++)
		printf("  %-20s %-10s %-14s after %s attempts, %s: %s\n", PQgetvalue(failed, i, 0),
		    PQgetvalue(failed, i, 1), PQgetvalue(failed, i, 2), PQgetvalue(failed, i, 3),
		    PQgetvalue(failed, i, 4), PQgetvalue(failed, i, 5));
	printf("\nRecent deliveries (%s):\n", zone);
	if (PQntuples(deliveries) == 0)
		printf("  none yet\n");
	for (int i = 0; i < PQntuples(deliveries); i++)
		printf("  %s  %-7s %-10s %-14s %-8s %-30s %-7s #%s  %s\n", PQgetvalue(deliveries, i, 0),
		    PQgetvalue(deliveries, i, 1), PQgetvalue(deliveries, i, 2), PQgetvalue(deliveries, i, 3),
		    PQgetvalue(deliveries, i, 4), PQgetvalue(deliveries, i, 5), PQgetvalue(deliveries, i, 6),
		    PQgetvalue(deliveries, i, 7), PQgetvalue(deliveries, i, 8));
out:
	free(wa);
	json_decref(next);
	PQclear(running);
	PQclear(recent);
	PQclear(retry);
	PQclear(failed);
	PQclear(deliveries);
	PQfinish(c);
	dag_free(dag);
	config_free(cfg);
	return r;
}

static void
login_progress(void *arg, int priority, const char *message)
{
	(void)arg;
	(void)priority;
	printf("%s\n", message);
	fflush(stdout);
}

int
cmd_whatsapp_login(struct cli *cli)
{
	struct config *cfg;
	struct dag *dag;
	char *cause = NULL;
	int r;

	if (cli->nargs > 0) {
		fprintf(stderr, "salesd: whatsapp-login takes no arguments\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	if (isatty(STDOUT_FILENO))
		printf("Opening WhatsApp Web (%s) with the profile below %s/whatsapp ...\n",
		    cfg->whatsapp.url, cfg->salesd.state_dir);
	if ((r = whatsapp_login(cfg, login_progress, NULL, &cause)) < 0) {
		fprintf(stderr, "salesd: whatsapp-login: %s\n", cause ? cause : strerror(-r));
		r = r == -ETIME ? 1 : r == -EAGAIN ? EX_TEMPFAIL : 1;
	} else {
		printf("WhatsApp Web is logged in; the profile keeps the session for the next sends.\n");
		r = 0;
	}
	free(cause);
	dag_free(dag);
	config_free(cfg);
	return r;
}
