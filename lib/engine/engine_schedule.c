/*
 * engine_schedule: what the engine wants, and when (see engine_private.h).
 * Cron fire times drive root jobs; each fire wants the period it closes.
 * After downtime, catch-up wants the periods whose fire time passed within
 * each job's window, reports the older ones it leaves out, and wants again
 * whatever a crash or a stop left open in the ledger. Wanting a period of a
 * per-store job fans out to its stores: the configured list, or the stores
 * that sold, read on the thread pool (and, in the foreground, only once the
 * upstream work of the period has run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tz.h"
#include "base/util.h"
#include "engine/cron.h"
#include "engine/engine_private.h"

/* Business-local date of an instant. */
static int32_t
engine_local_day(const struct engine *e, const struct tz *zone, int64_t usec)
{
	struct tz_local lt;

	if (tz_to_local(zone, usec / USEC_PER_SEC, &lt) < 0)
		return (int32_t)(usec / USEC_PER_SEC / 86400);
	(void)e;
	return period_day_from_civil(lt.year, lt.mon, lt.mday);
}

/* Last day that has ended in the business time zone. */
int32_t
engine_latest_closed_day(const struct engine *e)
{
	return engine_local_day(e, dag_zone(e->b->dag), engine_now(e)) - 1;
}

/*
 * Foreground ("salesd run"): the stores that sold in a period are known only
 * once its upstream work (the ETL of its days) has run, so the fan-out of a
 * job with upstream jobs waits until nothing else is left to do.
 */
struct deferred {
	char *job;
	struct period p;
	unsigned force;                 /* ENGINE_WANT_* */
	struct deferred *next;
};

/*
 * A per-store job without a configured store list runs for the stores that
 * sold in its period, as engine_options.stores_that_sold says (excluded
 * stores are not among them). The list is read on the thread pool like every
 * query.
 */
struct fanout {
	struct engine *e;
	char *job;                      /* by name: a reload may renumber the jobs */
	struct period p;
	unsigned force;                 /* ENGINE_WANT_* */
	engine_stores_fn list;          /* copied on the loop thread: the pool thread reads only this struct */
	char **stores;                  /* the answer */
	size_t n;
};

static int
req_stores(PGconn *c, void *arg, char **cause)
{
	struct fanout *fo = arg;

	if (fo->list == NULL)
		return util_fail(cause, -EINVAL, "no way to list the stores that sold (engine_options.stores_that_sold)");
	return fo->list(c, fo->p.first, fo->p.last, &fo->stores, &fo->n, cause);
}

static void
stores_done(void *arg, int r, const char *cause)
{
	struct fanout *fo = arg;
	struct engine *e = fo->e;
	size_t job;
	const struct dag_job *j;
	char pstr[PERIOD_STRLEN], date[16];
	struct log_fields f = { 0 };

	e->store_queries--;
	period_format(&fo->p, pstr);
	f.job = fo->job;
	f.period = pstr;
	period_format_date(fo->p.last, date);
	j = dag_find(e->b->dag, fo->job, &job);
	if (r == -ECANCELED || e->stopping || j == NULL) {
		/* Stopping, or the job is gone from the configuration. */
	} else if (r < 0) {
		log_at(e->log, LOG_ERR, &f, "%s %s: cannot list the stores that sold: %s; "
		    "to run it later: salesd run %s --date %s", fo->job, pstr, cause ? cause : strerror(-r),
		    fo->job, date);
		if (!e->opts.daemon)
			e->failed++;
	} else if (fo->n == 0) {
		log_at(e->log, LOG_NOTICE, &f, "%s %s: no store sold anything in the period; nothing to run", fo->job, pstr);
	} else {
		log_at(e->log, LOG_DEBUG, &f, "%s %s: %zu stores", fo->job, pstr, fo->n);
		for (size_t k = 0; k < fo->n; k++)
			engine_add(e, job, &fo->p, fo->stores[k], fo->force);
	}
	util_strv_free(fo->stores);
	free(fo->job);
	free(fo);
	engine_pump(e);
}

static void
engine_want_stores(struct engine *e, const char *job, const struct period *p, unsigned force)
{
	struct fanout *fo;

	if (e->stopping || e->dbq == NULL)
		return;
	if ((fo = calloc(1, sizeof *fo)) == NULL || (fo->job = strdup(job)) == NULL) {
		free(fo);
		log_at(e->log, LOG_ERR, NULL, "out of memory");
		return;
	}
	fo->e = e;
	fo->p = *p;
	fo->force = force;
	fo->list = e->opts.stores_that_sold;
	e->store_queries++;
	dbq_push(e->dbq, req_stores, stores_done, fo);
}

/* Want job for period p, one instance per store for a per-store job. */
void
engine_want_period(struct engine *e, size_t job, const struct period *p, const char *store, unsigned force)
{
	const struct dag_job *j = dag_job(e->b->dag, job);

	if (!j->per_store) {
		engine_add(e, job, p, NULL, force);
		return;
	}
	if (store != NULL) {
		/* The company instance goes on only to jobs that have one. */
		if (strcmp(store, DAG_COMPANY) != 0 || j->with_company)
			engine_add(e, job, p, store, force);
		return;
	}
	if (j->with_company)
		engine_add(e, job, p, DAG_COMPANY, force);
	if ((j->stores == NULL || j->stores[0] == NULL) && !e->opts.daemon && j->nafter > 0) {
		struct deferred *d = calloc(1, sizeof *d);

		if (d == NULL || (d->job = strdup(j->name)) == NULL) {
			free(d);
			log_at(e->log, LOG_ERR, NULL, "out of memory");
			return;
		}
		d->p = *p;
		d->force = force;
		d->next = e->deferred;
		e->deferred = d;
		return;
	}
	if (j->stores == NULL || j->stores[0] == NULL) {
		engine_want_stores(e, j->name, p, force);
		return;
	}
	for (char **s = j->stores; *s != NULL; s++)
		engine_add(e, job, p, *s, force);
}

/* Each fan-out that waited: its stores are known now, so ask for them. */
void
engine_want_deferred(struct engine *e)
{
	while (e->deferred != NULL) {
		struct deferred *d = e->deferred;

		e->deferred = d->next;
		engine_want_stores(e, d->job, &d->p, d->force);
		free(d->job);
		free(d);
	}
}

/* The fan-outs that never got their turn (a stop, a failure upstream). */
void
engine_free_deferred(struct engine *e)
{
	while (e->deferred != NULL) {
		struct deferred *d = e->deferred;

		e->deferred = d->next;
		free(d->job);
		free(d);
	}
}

/* Fire the schedules that are due; each fire wants the period it closes. */
void
engine_fire(struct engine *e, int64_t now)
{
	for (size_t k = 0; k < e->nfire; k++) {
		const struct dag_job *j = dag_job(e->b->dag, k);
		int64_t next;

		while (e->next_fire[k] != 0 && e->next_fire[k] <= now) {
			int32_t day = engine_local_day(e, cron_zone(j->schedule), e->next_fire[k]);
			struct period p = period_latest_closed(j->period, day - 1);
			char pstr[PERIOD_STRLEN];

			struct log_fields f = { 0 };

			period_format(&p, pstr);
			f.job = j->name;
			f.period = pstr;
			log_at(e->log, LOG_INFO, &f, "schedule of %s fired: running it for %s", j->name, pstr);
			engine_want_period(e, k, &p, NULL, false);
			if (cron_next(j->schedule, e->next_fire[k] / USEC_PER_SEC, &next) < 0)
				e->next_fire[k] = 0;
			else
				e->next_fire[k] = next * USEC_PER_SEC;
		}
	}
}

/* The next fire instant of every scheduled job, from now on. */
void
engine_schedule(struct engine *e)
{
	int64_t now = engine_now(e), next;

	free(e->next_fire);
	e->nfire = dag_njobs(e->b->dag);
	if ((e->next_fire = calloc(e->nfire ? e->nfire : 1, sizeof *e->next_fire)) == NULL) {
		e->nfire = 0;
		return;
	}
	for (size_t k = 0; k < e->nfire; k++) {
		const struct dag_job *j = dag_job(e->b->dag, k);

		if (j->schedule != NULL && cron_next(j->schedule, now / USEC_PER_SEC, &next) == 0)
			e->next_fire[k] = next * USEC_PER_SEC;
	}
}

/* After downtime: want the periods whose fire time passed within the window. */
void
engine_catch_up(struct engine *e)
{
	int64_t now = engine_now(e);

	for (size_t k = 0; k < dag_njobs(e->b->dag); k++) {
		const struct dag_job *j = dag_job(e->b->dag, k);
		int64_t t, f;

		if (j->schedule == NULL || j->catchup_ms == 0)
			continue;
		t = (now - (int64_t)j->catchup_ms * USEC_PER_MS) / USEC_PER_SEC;
		while (cron_next(j->schedule, t, &f) == 0 && f * USEC_PER_SEC <= now) {
			int32_t day = engine_local_day(e, cron_zone(j->schedule), f * USEC_PER_SEC);
			struct period p = period_latest_closed(j->period, day - 1);

			engine_want_period(e, k, &p, NULL, false);
			t = f;
		}
	}
}

/* Pool thread: instances left open in the ledger (by a crash, by a stop). */
struct open_list {
	struct engine *e;
	struct ledger_instance_list open;
	char **last;            /* per job of the dag: latest succeeded company period, or NULL */
	size_t njobs;
};

/* The latest succeeded period of every scheduled job, to report what catch-up leaves out. */
static int
req_last_succeeded(PGconn *c, struct open_list *o, char **cause)
{
	const struct dag *d = o->e->b->dag;

	o->njobs = dag_njobs(d);
	if ((o->last = calloc(o->njobs + 1, sizeof *o->last)) == NULL)
		return util_fail(cause, -ENOMEM, "out of memory");
	for (size_t k = 0; k < o->njobs; k++) {
		int r;

		if (dag_job(d, k)->schedule == NULL)
			continue;
		if ((r = ledger_last_succeeded(c, dag_job(d, k)->name, &o->last[k], cause)) < 0)
			return r;
	}
	return 0;
}

/* Periods between the last success and the catch-up window are reported, not run. */
static void
engine_report_missed(struct engine *e, struct open_list *o)
{
	int64_t now = engine_now(e);

	for (size_t k = 0; k < o->njobs && k < dag_njobs(e->b->dag); k++) {
		const struct dag_job *j = dag_job(e->b->dag, k);
		struct period last, first_missed, window;
		char from[PERIOD_STRLEN], to[PERIOD_STRLEN], day[PERIOD_STRLEN];
		int64_t start = now - (int64_t)j->catchup_ms * USEC_PER_MS, f;

		if (o->last[k] == NULL || j->schedule == NULL || period_parse(o->last[k], &last, NULL) < 0 ||
		    last.kind != j->period)
			continue;
		/* The oldest period the catch-up runs is the one of the first fire in the window. */
		if (cron_next(j->schedule, start / USEC_PER_SEC, &f) < 0 || f * USEC_PER_SEC > now)
			continue;
		window = period_latest_closed(j->period, engine_local_day(e, cron_zone(j->schedule),
		    f * USEC_PER_SEC) - 1);
		first_missed = period_next(&last);
		if (first_missed.first >= window.first)
			continue;
		period_format(&first_missed, from);
		struct period before = period_prev(&window);
		period_format(&before, to);
		period_format_date(before.last, day);
		log_at(e->log, LOG_WARNING, &(struct log_fields){ .job = j->name }, "%s: periods %s to %s "
		    "were missed while salesd was down and lie beyond the catch-up window; "
		    "to run them: salesd backfill %s --from %s --to %s", j->name, from, to, j->name,
		    from, day);
	}
}

static int
req_open(PGconn *c, void *arg, char **cause)
{
	struct open_list *o = arg;
	int r;

	if ((r = ledger_list_open(c, 10000, &o->open, cause)) < 0)
		return r;
	return req_last_succeeded(c, o, cause);
}

static void
open_done(void *arg, int r, const char *cause)
{
	struct open_list *o = arg;
	struct engine *e = o->e;

	if (r < 0 && r != -ECANCELED)
		engine_db_failed(e, r, cause);
	if (r == 0)
		engine_report_missed(e, o);
	for (size_t k = 0; r == 0 && k < o->open.n; k++) {
		const char *job = o->open.v[k].job, *pstr = o->open.v[k].period, *store = o->open.v[k].store;
		struct period p;
		size_t idx;

		if (dag_find(e->b->dag, job, &idx) == NULL ||
		    period_parse(pstr, &p, NULL) < 0 || p.kind != dag_job(e->b->dag, idx)->period)
			continue;
		engine_add(e, idx, &p, *store ? store : NULL, false);
	}
	ledger_instance_list_done(&o->open);
	for (size_t k = 0; o->last != NULL && k < o->njobs; k++)
		free(o->last[k]);
	free(o->last);
	free(o);
	engine_pump(e);
}

/* Read the open instances and the last successes on the thread pool. */
void
engine_want_open(struct engine *e)
{
	struct open_list *o;

	if ((o = calloc(1, sizeof *o)) != NULL) {
		o->e = e;
		dbq_push(e->dbq, req_open, open_done, o);
	}
}

int
engine_want(struct engine *e, const char *job, int32_t day, const char *store, unsigned force,
    char **cause)
{
	const struct dag_job *j;
	struct period p;
	size_t idx;

	if ((j = dag_find(e->b->dag, job, &idx)) == NULL)
		return util_fail(cause, -ENOENT, "no job \"%s\" in the configuration", job);
	p = period_containing(j->period, day);
	/* What it needs first, unless it already succeeded (the claim will tell). */
	for (size_t k = 0; k < j->nafter; k++) {
		const struct dag_job *up = dag_job(e->b->dag, j->after[k]);
		struct period parts[400];
		size_t n = period_range(up->period, p.first, p.last, parts, 400);

		for (size_t m = 0; m < n && m < 400; m++) {
			int r = engine_want(e, up->name, parts[m].first,
			    up->per_store && j->per_store ? store : NULL, false, cause);

			if (r < 0)
				return r;
		}
	}
	engine_want_period(e, idx, &p, store, force);
	return 0;
}
