/*
 * admin: "salesd migrate", "salesd status" and "salesd whatsapp-login": the
 * commands that talk to the ledger or the browser directly, in the foreground
 * (blocking is fine here: no event loop of the daemon). The tables' owners
 * (engine/ledger, deliver/delivery) read them; this file formats and prints.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "etl/etl.h"
#include "engine/cron.h"
#include "engine/ledger.h"
#include "base/db.h"
#include "base/exitcode.h"
#include "base/migrate.h"
#include "base/tz.h"
#include "base/util.h"
#include "deliver/delivery.h"
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

/* An instant of the ledger as local time in z, "YYYY-MM-DD HH:MM:SS"; "" for none (0). */
static const char *
admin_time(const struct tz *z, int64_t usec, char buf[32])
{
	struct tz_local lt;
	/* Whole seconds, rounded down, as the clock showed them. */
	int64_t sec = usec / 1000000 - (usec % 1000000 < 0);

	buf[0] = '\0';
	if (usec != 0 && tz_to_local(z, sec, &lt) == 0)
		snprintf(buf, 32, "%04d-%02d-%02d %02d:%02d:%02d", lt.year, lt.mon, lt.mday, lt.hour, lt.min, lt.sec);
	return buf;
}

/* A time for JSON: the string, or null for none. */
static json_t *
time_json(const struct tz *z, int64_t usec)
{
	char buf[32];

	return usec != 0 ? json_string(admin_time(z, usec, buf)) : json_null();
}

static json_t *
running_json(const struct ledger_attempt_list *l, const struct tz *z)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++) {
		const struct ledger_attempt *t = &l->v[k];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:o}", "job", t->job,
		    "period", t->period, "store", t->store, "attempt", t->attempt, "host", t->host, "pid", t->pid,
		    "started", time_json(z, t->started_usec)));
	}
	return a;
}

static json_t *
recent_json(const struct ledger_attempt_list *l, const struct tz *z)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++) {
		const struct ledger_attempt *t = &l->v[k];

		json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:s, s:i, s:s, s:f, s:s, s:i, s:s?}",
		    "started", time_json(z, t->started_usec), "job", t->job, "period", t->period, "store", t->store,
		    "attempt", t->attempt, "state", t->state, "seconds", t->seconds, "host", t->host, "pid", t->pid,
		    "error", t->error));
	}
	return a;
}

/* Retries (next_attempt: when) or failures (failed_at: when). */
static json_t *
instances_json(const struct ledger_instance_list *l, const struct tz *z, bool retries)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++) {
		const struct ledger_instance *i = &l->v[k];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:o, s:s?}", "job", i->job,
		    "period", i->period, "store", i->store, "attempts", i->attempts,
		    retries ? "next_attempt" : "failed_at",
		    time_json(z, retries ? i->not_before_usec : i->updated_usec), "error", i->error));
	}
	return a;
}

static json_t *
deliveries_json(const struct delivery_list *l, const struct tz *z)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++) {
		const struct delivery_row *d = &l->v[k];

		json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:s?, s:s?}",
		    "at", time_json(z, d->updated_usec), "report", d->report, "period", d->period, "store", d->store,
		    "channel", d->channel, "recipient", d->recipient, "version", d->version, "state", d->state,
		    "attempts", d->attempts, "reply", d->reply, "fallback_for", d->fallback_for));
	}
	return a;
}

static json_t *
incomplete_json(const struct etl_incomplete_list *l)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++) {
		const struct etl_incomplete *d = &l->v[k];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s}", "day", d->day,
		    "released", d->released[0] ? d->released : "no", "released_by", d->released_by, "gaps", d->gaps));
	}
	return a;
}

static json_t *
restated_json(const struct etl_restated_list *l, const struct tz *z)
{
	json_t *a = json_array();

	for (size_t k = 0; k < l->n; k++)
		json_array_append_new(a, json_pack("{s:s, s:i, s:o, s:s}", "day", l->v[k].day, "version",
		    l->v[k].version, "at", time_json(z, l->v[k].at_usec), "changes", l->v[k].changes));
	return a;
}

int
cmd_status(struct cli *cli)
{
	const char *zone;
	const struct tz *z;
	struct config *cfg;
	struct dag *dag;
	PGconn *c = NULL;
	char *wa = NULL, *cause = NULL, t1[32];
	struct ledger_attempt_list running = { 0 }, recent = { 0 };
	struct ledger_instance_list retry = { 0 }, failed = { 0 };
	struct delivery_list deliveries = { 0 };
	struct etl_incomplete_list incomplete = { 0 };
	struct etl_restated_list restated = { 0 };
	json_t *next = json_array();
	int r;
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
	z = dag_zone(dag);
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
	if ((r = ledger_list_running(c, &running, &cause)) < 0 ||
	    (r = ledger_list_recent(c, 20, &recent, &cause)) < 0 ||
	    (r = ledger_list_retries(c, 50, &retry, &cause)) < 0 ||
	    (r = ledger_list_failures(c, 20, &failed, &cause)) < 0 ||
	    (r = delivery_list_recent(c, 20, &deliveries, &cause)) < 0 ||
	    (r = etl_list_incomplete(c, 10, &incomplete, &cause)) < 0 ||
	    (r = etl_list_restated(c, 10, &restated, &cause)) < 0) {
		fprintf(stderr, "salesd: status: %s\n", cause ? cause : strerror(-r));
		if (r == -EIO)
			fprintf(stderr, "salesd: status: is the schema there? (salesd migrate)\n");
		r = exitcode_from_error(r);
		goto out;
	}
	wa = whatsapp_state(cfg);
	if (cli->json) {
		json_t *o = json_pack("{s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s?}", "next", next,
		    "running", running_json(&running, z), "recent", recent_json(&recent, z),
		    "retries", instances_json(&retry, z, true), "failures", instances_json(&failed, z, false),
		    "deliveries", deliveries_json(&deliveries, z), "incomplete", incomplete_json(&incomplete), "restated", restated_json(&restated, z),
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
	/* Then: days whose reports are held back, and days that went out incomplete. */
	if (incomplete.n > 0) {
		printf("Incomplete days (docs/completeness.md):\n");
		for (size_t i = 0; i < incomplete.n; i++) {
			const struct etl_incomplete *d = &incomplete.v[i];

			printf("  %s  %-40s %s\n", d->day, d->released[0] == '\0' ? "held or withheld: not delivered" :
			    strcmp(d->released, "warning") == 0 ? "delivered with a warning" : "accepted as it is",
			    d->gaps);
			if (d->released_by != NULL && strcmp(d->released, "accepted") == 0)
				printf("              released by %s\n", d->released_by);
		}
		printf("\n");
	}
	if (restated.n > 0) {
		printf("Restated days (the POS system changed them after they were loaded; %s):\n", zone);
		for (size_t i = 0; i < restated.n; i++)
			printf("  %s  version %d, %s: %s\n", restated.v[i].day, restated.v[i].version,
			    admin_time(z, restated.v[i].at_usec, t1), restated.v[i].changes);
		printf("\n");
	}
	printf("Next runs (%s):\n", zone);
	for (size_t k = 0; k < json_array_size(next); k++) {
		json_t *o = json_array_get(next, k);

		printf("  %-20s %s  (%s)\n", json_string_value(json_object_get(o, "job")),
		    json_string_value(json_object_get(o, "next")),
		    json_string_value(json_object_get(o, "schedule")));
	}
	printf("\nRunning:\n");
	if (running.n == 0)
		printf("  nothing\n");
	for (size_t i = 0; i < running.n; i++) {
		const struct ledger_attempt *t = &running.v[i];

		printf("  %-20s %-10s %-14s attempt %d  since %s  on %s pid %d\n", t->job, t->period, t->store,
		    t->attempt, admin_time(z, t->started_usec, t1), t->host, t->pid);
	}
	printf("\nRecent attempts (%s):\n", zone);
	if (recent.n == 0)
		printf("  none yet\n");
	for (size_t i = 0; i < recent.n; i++) {
		const struct ledger_attempt *t = &recent.v[i];

		printf("  %s  %-20s %-10s %-14s #%d %-10s %6.1fs%s%s\n", admin_time(z, t->started_usec, t1),
		    t->job, t->period, t->store, t->attempt, t->state, t->seconds, t->error ? "  " : "",
		    t->error ? t->error : "");
	}
	printf("\nPending retries:\n");
	if (retry.n == 0)
		printf("  none\n");
	for (size_t i = 0; i < retry.n; i++) {
		const struct ledger_instance *in = &retry.v[i];

		printf("  %-20s %-10s %-14s after %d attempts, next at %s: %s\n", in->job, in->period, in->store,
		    in->attempts, admin_time(z, in->not_before_usec, t1), in->error ? in->error : "");
	}
	printf("\nFailures (not retried; salesd run JOB --date D --force tries again):\n");
	if (failed.n == 0)
		printf("  none\n");
	for (size_t i = 0; i < failed.n; i++) {
		const struct ledger_instance *in = &failed.v[i];

		printf("  %-20s %-10s %-14s after %d attempts, %s: %s\n", in->job, in->period, in->store,
		    in->attempts, admin_time(z, in->updated_usec, t1), in->error ? in->error : "");
	}
	printf("\nRecent deliveries (%s):\n", zone);
	if (deliveries.n == 0)
		printf("  none yet\n");
	for (size_t i = 0; i < deliveries.n; i++) {
		const struct delivery_row *d = &deliveries.v[i];

		char version[16] = "";

		/* A correction shows its version; the original, as ever, none. */
		if (d->version > 1)
			snprintf(version, sizeof version, " v%d", d->version);
		printf("  %s  %-7s %-10s %-14s %-8s %-30s %-7s #%d%s  %s\n", admin_time(z, d->updated_usec, t1),
		    d->report, d->period, d->store, d->channel, d->recipient, d->state, d->attempts, version,
		    d->reply ? d->reply : "");
		/* An e-mail sent because WhatsApp could not: said on a line of its own. */
		if (d->fallback_for != NULL)
			printf("      ^ FALLBACK for the WhatsApp chat \"%s\"\n", d->fallback_for);
	}
out:
	free(wa);
	free(cause);
	json_decref(next);
	ledger_attempt_list_done(&running);
	ledger_attempt_list_done(&recent);
	ledger_instance_list_done(&retry);
	ledger_instance_list_done(&failed);
	delivery_list_done(&deliveries);
	etl_incomplete_list_done(&incomplete);
	etl_restated_list_done(&restated);
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

int
cmd_whatsapp_check(struct cli *cli)
{
	struct config *cfg;
	struct dag *dag;
	char *cause = NULL;
	int r;

	if (cli->nargs > 1) {
		fprintf(stderr, "salesd: whatsapp-check takes at most one argument, a chat's name\n");
		return EX_USAGE;
	}
	if ((r = cli_load(cli, &cfg, &dag)) != 0)
		return r;
	if ((r = whatsapp_check(cfg, cli->nargs == 1 ? cli->args[0] : NULL, login_progress, NULL, &cause)) < 0) {
		fprintf(stderr, "salesd: whatsapp-check: %s\n", cause ? cause : strerror(-r));
		/* Like the task: a lost login waits for a person (77); a browser that failed may do better later (75). */
		r = r == -EACCES ? EX_NOPERM : r == -EAGAIN ? EX_TEMPFAIL : 1;
	} else {
		printf("WhatsApp Web: every element checked was found; nothing was sent.\n");
		r = 0;
	}
	free(cause);
	dag_free(dag);
	config_free(cfg);
	return r;
}
