/*
 * engine: schedules, catch-up, dependencies, claims, children and retries
 * (see engine.h).
 *
 * Every task instance the engine cares about is a struct inst in one list,
 * kept in the order work should happen: oldest period first, then upstream
 * jobs before downstream ones. An instance moves through one state machine:
 *
 *   wanted -> claiming -> running -> finishing -> (done | waiting | failed)
 *   claiming -> waiting   (upstream not done, retry not due, or busy elsewhere)
 *   waiting -> wanted     (upstream succeeded, or its time came)
 *
 * Only inst_enter() changes a state, and it logs each change. Done and failed
 * instances leave the list at once: the ledger remembers them, so wanting one
 * again costs one claim that answers "done".
 *
 * One timer serves everything time-driven (schedules, retries, re-checks,
 * database back-off): after each event it is re-armed to the earliest
 * deadline, so the daemon wakes only when something is due.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/cron.h"
#include "base/db.h"
#include "engine/dbq.h"
#include "engine/engine.h"
#include "base/exitcode.h"
#include "engine/ledger.h"
#include "base/runner.h"
#include "base/tz.h"
#include "base/util.h"

#define USEC_PER_MS 1000LL
#define USEC_PER_SEC 1000000LL
#define BUSY_RECHECK_USEC (60 * USEC_PER_SEC)
#define FG_BUSY_RECHECK_USEC (2 * USEC_PER_SEC)
#define DB_BACKOFF_MIN_USEC (1 * USEC_PER_SEC)
#define DB_BACKOFF_MAX_USEC (60 * USEC_PER_SEC)
#define EARLY_WAKE_ABOVE_MS 1000

/* A configuration and its graph, shared by the work started under it. */
struct bundle {
	int refs;
	struct config *cfg;
	struct dag *dag;
};

enum inst_state {
	INST_WANTED,
	INST_CLAIMING,
	INST_RUNNING,
	INST_FINISHING,
	INST_WAITING,
	INST_DONE,
	INST_FAILED,
};

enum claim_answer {
	ANSWER_NONE,
	ANSWER_UPSTREAM,        /* an upstream instance has not succeeded yet */
	ANSWER_LEDGER,          /* see claim_result */
};

struct inst {
	struct engine *e;
	struct bundle *b;
	size_t job;                     /* index into b->dag */
	struct period period;
	char pstr[PERIOD_STRLEN];
	char *store;                    /* NULL: company-wide */
	bool force;
	enum inst_state state;
	int64_t not_before;             /* waiting: when to want again; 0: on upstream success */
	int64_t now;                    /* the clock when the claim was sent */
	enum claim_answer answer;
	enum ledger_claim_result claim_result;
	struct ledger_claim claim;
	char *missing;                  /* ANSWER_UPSTREAM: what is missing */
	struct runner_task *task;
	struct runner_result result;
	char *message;                  /* the child's last result message */
	char run_id[48];
	bool retry;                     /* finishing: another attempt will follow */
	int64_t retry_at;
	bool finish_pending;            /* finishing: ledger_finish must be (re)sent */
	int64_t finish_at;
	struct inst *next;
};

struct engine {
	uv_loop_t *loop;
	struct logger *log;
	struct bundle *b;               /* the newest configuration */
	struct engine_options opts;
	struct dbq *dbq;
	uv_timer_t timer;
	uv_timer_t stop_timer;
	struct inst *insts;
	int64_t *next_fire;             /* per job of b->dag; 0: not scheduled */
	size_t nfire;
	int64_t db_retry_at;            /* database back-off: no claims before */
	int64_t db_backoff;
	bool db_down_logged;
	bool started;
	bool stopping;
	bool hard_stop;
	bool done_called;
	int closing_handles;
	unsigned store_queries;         /* per-store fan-outs waiting for their store list */
	struct deferred *deferred;      /* foreground: fan-outs waiting for their upstream work */
	unsigned failed;                /* foreground: instances that gave up */
	unsigned failed_temp;           /* ... of which the last attempt failed for a passing reason (75) */
	bool db_unreachable;            /* foreground: the database could not be reached */
	char db_error[256];
};

static void engine_pump(struct engine *e);
static void engine_arm(struct engine *e);
static void engine_check_done(struct engine *e);

static const char *
inst_strstate(enum inst_state s)
{
	switch (s) {
	case INST_WANTED: return "wanted";
	case INST_CLAIMING: return "claiming";
	case INST_RUNNING: return "running";
	case INST_FINISHING: return "finishing";
	case INST_WAITING: return "waiting";
	case INST_DONE: return "done";
	case INST_FAILED: return "failed";
	}
	return "?";
}

static struct bundle *
bundle_ref(struct bundle *b)
{
	b->refs++;
	return b;
}

static void
bundle_unref(struct bundle *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	config_free(b->cfg);
	dag_free(b->dag);
	free(b);
}

int64_t
engine_now(const struct engine *e)
{
	return util_now_realtime_usec() + e->opts.clock_offset_usec;
}

static const struct dag_job *
inst_job(const struct inst *i)
{
	return dag_job(i->b->dag, i->job);
}

static void
inst_fields(const struct inst *i, struct log_fields *f)
{
	memset(f, 0, sizeof *f);
	f->job = inst_job(i)->name;
	f->period = i->pstr;
	f->store = i->store;
	f->run = i->run_id[0] ? i->run_id : NULL;
	f->attempt = i->state == INST_RUNNING || i->state == INST_FINISHING ? (unsigned)i->claim.attempt : 0;
}

/* The one place an instance changes state. */
static void
inst_enter(struct inst *i, enum inst_state next)
{
	struct log_fields f;

	inst_fields(i, &f);
	log_at(i->e->log, LOG_DEBUG, &f, "task %s %s%s%s: %s -> %s", inst_job(i)->name, i->pstr,
	    i->store ? " " : "", i->store ? i->store : "", inst_strstate(i->state), inst_strstate(next));
	i->state = next;
}

static void
inst_free(struct inst *i)
{
	bundle_unref(i->b);
	free(i->store);
	free(i->missing);
	free(i->message);
	free(i);
}

/* Take done and failed instances out of the list. */
static void
engine_prune(struct engine *e)
{
	struct inst **pp = &e->insts;

	while (*pp != NULL) {
		struct inst *i = *pp;

		if (i->state == INST_DONE || i->state == INST_FAILED) {
			*pp = i->next;
			inst_free(i);
		} else
			pp = &i->next;
	}
}

/* Give an instance up without running it (stopping, cancelled): it leaves the list. */
static void
engine_drop(struct engine *e, struct inst *i)
{
	inst_enter(i, INST_FAILED);
	engine_prune(e);
	engine_check_done(e);
}

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
static int32_t
engine_latest_closed_day(const struct engine *e)
{
	return engine_local_day(e, dag_zone(e->b->dag), engine_now(e)) - 1;
}

static bool
same_store(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Want one instance (deduplicated), inserted in work order. */
static struct inst *
engine_add(struct engine *e, size_t job, const struct period *p, const char *store, bool force)
{
	const struct dag_job *j = dag_job(e->b->dag, job);
	struct inst *i, **pp;

	if (e->stopping)
		return NULL;
	if (e->opts.no_deliver && (j->kind == JOB_EMAIL || j->kind == JOB_WHATSAPP))
		return NULL;
	for (i = e->insts; i != NULL; i = i->next) {
		if (i->b == e->b && i->job == job && i->period.first == p->first &&
		    i->period.kind == p->kind && same_store(i->store, store)) {
			i->force = i->force || force;
			return i;
		}
	}
	if ((i = calloc(1, sizeof *i)) == NULL || (store != NULL && (i->store = strdup(store)) == NULL)) {
		free(i);
		log_at(e->log, LOG_ERR, NULL, "out of memory");
		return NULL;
	}
	i->e = e;
	i->b = bundle_ref(e->b);
	i->job = job;
	i->period = *p;
	i->force = force;
	period_format(p, i->pstr);
	i->state = INST_WANTED;
	/* Oldest period first; among equals, upstream jobs (lower index) first. */
	for (pp = &e->insts; *pp != NULL; pp = &(*pp)->next) {
		struct inst *o = *pp;

		if (o->period.first > p->first || (o->period.first == p->first && o->job > job))
			break;
	}
	i->next = *pp;
	*pp = i;
	return i;
}

/*
 * Foreground ("salesd run"): the stores that sold in a period are known only
 * once its upstream work (the ETL of its days) has run, so the fan-out of a
 * job with upstream jobs waits until nothing else is left to do.
 */
struct deferred {
	char *job;
	struct period p;
	bool force;
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
	bool force;
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
engine_want_stores(struct engine *e, const char *job, const struct period *p, bool force)
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
static void
engine_want_period(struct engine *e, size_t job, const struct period *p, const char *store, bool force)
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

/* Pool thread: is everything upstream done, and if so, can we claim it? */
static int
req_claim(PGconn *c, void *arg, char **cause)
{
	struct inst *i = arg;
	const struct dag_job *j = inst_job(i);
	int r;

	i->answer = ANSWER_NONE;
	for (size_t k = 0; k < j->nafter; k++) {
		const struct dag_job *up = dag_job(i->b->dag, j->after[k]);
		struct period parts[400];
		char strs[400][PERIOD_STRLEN];
		const char *ptrs[400];
		size_t n = period_range(up->period, i->period.first, i->period.last, parts, 400);
		long count = 0;

		for (size_t m = 0; m < n && m < 400; m++) {
			period_format(&parts[m], strs[m]);
			ptrs[m] = strs[m];
		}
		r = ledger_count_succeeded(c, up->name, ptrs, n, up->per_store ? i->store : "", &count, cause);
		if (r < 0)
			return r;
		if ((size_t)count < n) {
			free(i->missing);
			i->missing = util_printf("%s has succeeded for %ld of %zu %s%s", up->name, count, n,
			    n == 1 ? "period" : "periods", n == 1 ? "" : " in it");
			i->answer = ANSWER_UPSTREAM;
			return 0;
		}
	}
	r = ledger_claim(c, &(struct ledger_key){ j->name, i->pstr, i->store ? i->store : "" },
	    j->retries, i->force, i->now, i->e->opts.host, (int)getpid(), &i->claim_result, &i->claim, cause);
	if (r == 0)
		i->answer = ANSWER_LEDGER;
	return r;
}

/* The database failed a request: back off and say so once per outage. */
static void
engine_db_failed(struct engine *e, int r, const char *cause)
{
	int64_t now = engine_now(e);

	e->db_backoff = e->db_backoff ? e->db_backoff * 2 : DB_BACKOFF_MIN_USEC;
	if (e->db_backoff > DB_BACKOFF_MAX_USEC)
		e->db_backoff = DB_BACKOFF_MAX_USEC;
	e->db_retry_at = now + e->db_backoff;
	util_utf8_snprintf(e->db_error, sizeof e->db_error, "%s", cause ? cause : strerror(-r));
	if (!e->db_down_logged || !e->opts.daemon)
		log_at(e->log, LOG_WARNING, NULL, "database: %s; trying again in %llds",
		    e->db_error, (long long)(e->db_backoff / USEC_PER_SEC));
	e->db_down_logged = true;
	/* Unreachable, or lost under a request: the foreground gives up and says "try later" (75). */
	if (!e->opts.daemon && (r == -ECONNREFUSED || r == -EAGAIN))
		e->db_unreachable = true;
}

static void
engine_db_ok(struct engine *e)
{
	if (e->db_down_logged)
		log_at(e->log, LOG_NOTICE, NULL, "database: reachable again");
	e->db_down_logged = false;
	e->db_backoff = 0;
	e->db_retry_at = 0;
	e->db_error[0] = '\0';
}

/*
 * The command that runs an instance again, for the log: a date inside its
 * period (--date takes dates, not "2026-W47"), and the store, quoted for a
 * shell, when it has one.
 */
static void
rerun_hint(const struct inst *i, char *buf, size_t len)
{
	char date[PERIOD_STRLEN], *store = NULL;
	size_t n = 0;

	period_format_date(i->period.last, date);
	if (i->store != NULL && (store = malloc(strlen(i->store) * 4 + 1)) != NULL) {
		for (const char *c = i->store; *c != '\0'; c++) {
			if (*c == '\'') {
				memcpy(store + n, "'\\''", 4);
				n += 4;
			} else {
				store[n++] = *c;
			}
		}
		store[n] = '\0';
	}
	/* A store name too long for the line is cut between characters, never inside one. */
	util_utf8_snprintf(buf, len, "salesd run %s --date %s%s%s%s --force", inst_job(i)->name, date,
	    store ? " --store '" : "", store ? store : "", store ? "'" : "");
	free(store);
}

/* Success downstream: want what waited for this instance. */
static void
engine_follow(struct engine *e, struct inst *done)
{
	const struct dag_job *j = inst_job(done);
	int32_t closed = engine_latest_closed_day(e);
	size_t idx;

	/* Whatever waited on its upstream may be ready now. */
	for (struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_WAITING && i->not_before == 0)
			inst_enter(i, INST_WANTED);
	/* Downstream jobs only in the daemon; "salesd run JOB" runs JOB and what it needs. */
	if (!e->opts.daemon || done->b != e->b || dag_find(e->b->dag, j->name, &idx) == NULL)
		return;
	for (size_t k = 0; k < j->ndependents; k++) {
		const struct dag_job *dn = dag_job(e->b->dag, j->dependents[k]);
		struct period p = period_containing(dn->period, done->period.first);

		/* A week or month runs once it is over, when the day that closes it is done. */
		if (p.last > closed)
			continue;
		engine_want_period(e, j->dependents[k], &p, dn->per_store && j->per_store ? done->store : NULL,
		    false);
	}
}

static void
engine_log_child(void *arg, int stream, const char *line)
{
	struct inst *i = arg;
	struct log_fields f;
	json_t *o;

	inst_fields(i, &f);
	if (stream == 2) {
		log_at(i->e->log, LOG_WARNING, &f, "%s", line);
		return;
	}
	/* JSON lines: start, progress, result. Anything else is logged as is. */
	if ((o = json_loads(line, 0, NULL)) == NULL || !json_is_object(o)) {
		json_decref(o);
		log_at(i->e->log, LOG_INFO, &f, "%s", line);
		return;
	}
	const char *event = json_string_value(json_object_get(o, "event"));
	const char *msg = json_string_value(json_object_get(o, "message"));
	json_t *ok = json_object_get(o, "ok");

	if (event != NULL && strcmp(event, "result") == 0) {
		free(i->message);
		i->message = util_strdup(msg);
		/* A failure's result is said once, in the line that reports the exit. */
		if (!json_is_false(ok))
			log_at(i->e->log, LOG_INFO, &f, "%s", msg ? msg : "result");
	} else
		/*
		 * "warning": something an operator should see (a store without a
		 * recipient); "error": must act; "debug": details (a delivery's
		 * state changes) for --log-level debug.
		 */
		log_at(i->e->log, event != NULL && strcmp(event, "error") == 0 ? LOG_ERR : event != NULL &&
		    strcmp(event, "warning") == 0 ? LOG_WARNING : event != NULL && strcmp(event, "debug") == 0 ?
		    LOG_DEBUG : LOG_INFO, &f, "%s", msg ? msg : line);
	json_decref(o);
}

static int
req_finish(PGconn *c, void *arg, char **cause)
{
	struct inst *i = arg;
	enum ledger_outcome outcome;
	char *error = NULL;
	int r;

	if (i->result.timed_out)
		outcome = LEDGER_TIMEOUT;
	else if (i->result.exit_status == 0)
		outcome = LEDGER_SUCCEEDED;
	else
		outcome = LEDGER_FAILED;
	if (outcome == LEDGER_TIMEOUT)
		error = util_printf("timed out after %llus and was killed",
		    (unsigned long long)(inst_job(i)->timeout_ms / 1000));
	else if (i->result.term_signal)
		error = util_printf("killed by signal %d (%s)%s%s", i->result.term_signal,
		    strsignal(i->result.term_signal), i->message ? ": " : "", i->message ? i->message : "");
	else if (i->result.exit_status != 0)
		error = util_printf("exit status %d%s%s", i->result.exit_status,
		    i->message ? ": " : "", i->message ? i->message : "");
	r = ledger_finish(c, &i->claim, outcome, i->result.term_signal ? 128 + i->result.term_signal :
	    i->result.exit_status, error, i->retry, i->retry_at, cause);
	free(error);
	return r;
}

static void
finish_done(void *arg, int r, const char *cause)
{
	struct inst *i = arg;
	struct engine *e = i->e;
	struct log_fields f;

	inst_fields(i, &f);
	if (r == -ECANCELED) {
		/* Stopping hard: the claim will be found abandoned and retried. */
		engine_drop(e, i);
		return;
	}
	if (r < 0) {
		/* The outcome must be written: try again after a pause. */
		engine_db_failed(e, r, cause);
		i->finish_pending = true;
		i->finish_at = e->db_retry_at;
		engine_arm(e);
		engine_check_done(e);
		return;
	}
	engine_db_ok(e);
	if (i->result.exit_status == 0 && !i->result.timed_out) {
		log_at(e->log, LOG_NOTICE, &f, "%s %s%s%s succeeded (attempt %d, %.1fs)", inst_job(i)->name,
		    i->pstr, i->store ? " " : "", i->store ? i->store : "", i->claim.attempt,
		    (double)i->result.duration_ms / 1000.0);
		inst_enter(i, INST_DONE);
		engine_follow(e, i);
	} else if (i->retry) {
		i->not_before = i->retry_at;
		inst_enter(i, INST_WAITING);
	} else {
		if (!e->stopping) {
			e->failed++;
			if (i->result.exit_status == EX_TEMPFAIL)
				e->failed_temp++;
		}
		inst_enter(i, INST_FAILED);
	}
	engine_prune(e);
	engine_pump(e);
}

static void
engine_send_finish(struct inst *i)
{
	i->finish_pending = false;
	dbq_push(i->e->dbq, req_finish, finish_done, i);
}

/* Exponential back-off with "equal jitter": half fixed, half random. */
static int64_t
retry_delay_usec(const struct dag_job *j, int attempt)
{
	uint64_t delay = j->retry_delay_ms, half, rnd = 0;

	for (int k = 1; k < attempt && delay < j->retry_max_delay_ms; k++)
		delay *= 2;
	if (delay > j->retry_max_delay_ms)
		delay = j->retry_max_delay_ms;
	half = delay / 2;
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
		rnd = (uint64_t)util_now_monotonic_usec();
	return (int64_t)(half + (half ? rnd % (half + 1) : 0)) * USEC_PER_MS;
}

static void
engine_child_exit(void *arg, const struct runner_result *res)
{
	struct inst *i = arg;
	struct engine *e = i->e;
	const struct dag_job *j = inst_job(i);
	struct log_fields f;
	bool ok = res->exit_status == 0 && !res->timed_out;

	i->task = NULL;
	i->result = *res;
	inst_fields(i, &f);
	/*
	 * A task cut short by a stop is retried at once after the restart.
	 * Otherwise the exit code says whether waiting may help (exitcode.h),
	 * and the retry limit counts the attempts of this round only.
	 */
	i->retry = !ok && (e->stopping || ((unsigned)i->claim.round_attempt <= j->retries &&
	    exitcode_retryable(res->exit_status, res->timed_out, res->term_signal, dag_kind_transient(j->kind))));
	i->retry_at = engine_now(e) + (e->stopping ? 0 : retry_delay_usec(j, i->claim.round_attempt));
	if (!ok) {
		char when[64] = "";

		if (i->retry && !e->stopping)
			snprintf(when, sizeof when, "; retrying in %llds",
			    (long long)((i->retry_at - engine_now(e)) / USEC_PER_SEC));
		if (res->timed_out)
			log_at(e->log, LOG_ERR, &f, "%s %s timed out after %llus; its process group was killed%s",
			    j->name, i->pstr, (unsigned long long)(j->timeout_ms / 1000), when);
		else if (res->term_signal)
			log_at(e->log, LOG_ERR, &f, "%s %s died of signal %d (%s)%s", j->name, i->pstr,
			    res->term_signal, strsignal(res->term_signal), when);
		else
			log_at(e->log, LOG_ERR, &f, "%s %s failed with exit status %d%s%s%s", j->name, i->pstr,
			    res->exit_status, i->message ? ": " : "", i->message ? i->message : "", when);
		if (!i->retry) {
			char hint[512];

			rerun_hint(i, hint, sizeof hint);
			if ((unsigned)i->claim.round_attempt <= j->retries && !e->stopping)
				log_at(e->log, LOG_ERR, &f, "%s %s: not retried (exit status %d: %s failure, "
				    "waiting will not fix it); to try again once it is fixed: %s", j->name, i->pstr,
				    res->exit_status, exitcode_strclass(exitcode_classify(res->exit_status)), hint);
			else
				log_at(e->log, LOG_ERR, &f, "%s %s: giving up after %d attempt%s; to try again: %s",
				    j->name, i->pstr, i->claim.round_attempt, i->claim.round_attempt == 1 ? "" : "s",
				    hint);
		}
	}
	inst_enter(i, INST_FINISHING);
	engine_send_finish(i);
}

/* Start the child of a claimed instance. */
static void
engine_spawn(struct engine *e, struct inst *i)
{
	const struct dag_job *j = inst_job(i);
	const char *argv[64];
	char attempt[16], *cause = NULL;
	struct runner_spec spec = { 0 };
	struct log_fields f;
	size_t n = 0;

	snprintf(attempt, sizeof attempt, "%d", i->claim.attempt);
	snprintf(i->run_id, sizeof i->run_id, "%lld.%d", i->claim.id, i->claim.attempt);
	argv[n++] = e->opts.exe;
	for (const char *const *a = e->opts.child_args; a != NULL && *a != NULL && n < 50; a++)
		argv[n++] = *a;
	argv[n++] = "task";
	argv[n++] = j->name;
	argv[n++] = "--period";
	argv[n++] = i->pstr;
	if (i->store != NULL) {
		argv[n++] = "--store";
		argv[n++] = i->store;
	}
	argv[n++] = "--attempt";
	argv[n++] = attempt;
	/*
	 * A forced run of what succeeded does it all again (a delivery job
	 * resends); a forced run of what failed is a retry: it sends only what
	 * the delivery ledger does not hold yet.
	 */
	if (i->claim.redo)
		argv[n++] = "--force";
	argv[n] = NULL;
	spec.file = e->opts.exe;
	spec.argv = (char *const *)(uintptr_t)argv;
	spec.env = e->opts.child_env;
	spec.timeout_ms = j->timeout_ms;
	spec.kill_grace_ms = i->b->cfg->salesd.kill_grace_ms;
	spec.on_line = engine_log_child;
	spec.on_exit = engine_child_exit;
	spec.arg = i;
	inst_enter(i, INST_RUNNING);
	inst_fields(i, &f);
	log_at(e->log, LOG_INFO, &f, "starting %s %s%s%s, attempt %d", j->name, i->pstr,
	    i->store ? " for " : "", i->store ? i->store : "", i->claim.attempt);
	if (runner_start(e->loop, &spec, &i->task, &cause) < 0) {
		struct runner_result res = { .exit_status = EX_OSERR };

		log_at(e->log, LOG_ERR, &f, "%s", cause ? cause : "cannot start the task");
		free(cause);
		engine_child_exit(i, &res);
	}
}

static void
claim_done(void *arg, int r, const char *cause)
{
	struct inst *i = arg;
	struct engine *e = i->e;
	const struct dag_job *j = inst_job(i);
	struct log_fields f;

	inst_fields(i, &f);
	if (r == -ECANCELED) {
		engine_drop(e, i);
		return;
	}
	if (r < 0) {
		engine_db_failed(e, r, cause);
		inst_enter(i, INST_WANTED);
		engine_pump(e);
		return;
	}
	engine_db_ok(e);
	if (e->stopping) {
		/* Claimed just as we stop: give it back untouched for the next start. */
		if (i->answer == ANSWER_LEDGER && i->claim_result == LEDGER_CLAIMED) {
			i->result.exit_status = EX_TEMPFAIL;
			i->retry = true;
			i->retry_at = engine_now(e);
			inst_enter(i, INST_FINISHING);
			engine_send_finish(i);
			return;
		}
		engine_drop(e, i);
		return;
	}
	if (i->answer == ANSWER_UPSTREAM) {
		log_at(e->log, LOG_DEBUG, &f, "%s %s waits: %s", j->name, i->pstr, i->missing);
		i->not_before = 0;
		inst_enter(i, INST_WAITING);
		engine_pump(e);
		return;
	}
	switch (i->claim_result) {
	case LEDGER_CLAIMED:
		/* The force is spent: it started this round; the round's retries are ordinary claims. */
		i->force = false;
		if (i->claim.recovered)
			log_at(e->log, LOG_WARNING, &f, "%s %s: the process running its previous attempt "
			    "died; marked abandoned", j->name, i->pstr);
		engine_spawn(e, i);
		break;
	case LEDGER_DONE:
		log_at(e->log, LOG_DEBUG, &f, "%s %s already succeeded", j->name, i->pstr);
		inst_enter(i, INST_DONE);
		engine_follow(e, i);
		break;
	case LEDGER_GAVE_UP: {
		char hint[512];

		rerun_hint(i, hint, sizeof hint);
		log_at(e->log, LOG_WARNING, &f, "%s %s failed before and will not be retried; "
		    "to try again: %s", j->name, i->pstr, hint);
		e->failed++;
		inst_enter(i, INST_FAILED);
		break;
	}
	case LEDGER_BUSY:
		/* Another process runs it; look again later to follow it downstream. */
		i->not_before = engine_now(e) + (e->opts.daemon ? BUSY_RECHECK_USEC : FG_BUSY_RECHECK_USEC);
		inst_enter(i, INST_WAITING);
		break;
	case LEDGER_NOT_YET:
		i->not_before = i->claim.not_before_usec;
		inst_enter(i, INST_WAITING);
		break;
	}
	engine_prune(e);
	engine_pump(e);
}

static size_t
engine_active(const struct engine *e)
{
	size_t n = 0;

	for (const struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_CLAIMING || i->state == INST_RUNNING || i->state == INST_FINISHING)
			n++;
	return n;
}

/* Fire the schedules that are due; each fire wants the period it closes. */
static void
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

/*
 * May wanted instances be claimed now? Not while the database is in doubt
 * and its back-off runs, nor while a probing claim is still out.
 */
static bool
engine_may_claim(const struct engine *e, int64_t now)
{
	if (e->db_retry_at == 0)
		return true;
	if (e->db_retry_at > now)
		return false;
	for (const struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_CLAIMING)
			return false;
	return true;
}

/* Claim what is wanted, as far as the parallelism limit allows. */
/* Whether a WhatsApp batch of ours is being claimed, runs or finishes (see engine_pump). */
static bool
engine_profile_busy(const struct engine *e)
{
	for (const struct inst *i = e->insts; i != NULL; i = i->next)
		if ((i->state == INST_CLAIMING || i->state == INST_RUNNING || i->state == INST_FINISHING) &&
		    inst_job(i)->kind == JOB_WHATSAPP)
			return true;
	return false;
}

static void
engine_pump(struct engine *e)
{
	int64_t now = engine_now(e);
	size_t active, limit;
	bool profile_busy;

	if (e->stopping) {
		engine_check_done(e);
		return;
	}
	engine_fire(e, now);
	for (struct inst *i = e->insts; i != NULL; i = i->next) {
		if (i->state == INST_WAITING && i->not_before != 0 && i->not_before <= now)
			inst_enter(i, INST_WANTED);
		if (i->state == INST_FINISHING && i->finish_pending && i->finish_at <= now)
			engine_send_finish(i);
	}
	active = engine_active(e);
	limit = (size_t)e->b->cfg->salesd.max_parallel;
	profile_busy = engine_profile_busy(e);
	if (engine_may_claim(e, now)) {
		for (struct inst *i = e->insts; i != NULL && active < limit; i = i->next) {
			if (i->state != INST_WANTED)
				continue;
			/*
			 * One WhatsApp batch at a time: they share one browser profile,
			 * which Chromium (and the batch's lock) lets only one hold. The
			 * others wait here, unclaimed, so waiting costs no attempt.
			 */
			if (inst_job(i)->kind == JOB_WHATSAPP) {
				if (profile_busy)
					continue;
				profile_busy = true;
			}
			i->now = now;
			inst_enter(i, INST_CLAIMING);
			dbq_push(e->dbq, req_claim, claim_done, i);
			active++;
			/* One claim at a time while the database is in doubt. */
			if (e->db_retry_at != 0)
				break;
		}
	}
	engine_arm(e);
	if (e->opts.on_change != NULL)
		e->opts.on_change(e->opts.arg);
	engine_check_done(e);
}

static void
engine_on_timer(uv_timer_t *t)
{
	engine_pump(t->data);
}

/* Re-arm the one timer to the earliest deadline. */
static void
engine_arm(struct engine *e)
{
	int64_t now = engine_now(e), next = INT64_MAX;
	uint64_t delay;
	size_t limit = (size_t)e->b->cfg->salesd.max_parallel;
	/*
	 * Wanted instances need a wake-up only for the end of a database
	 * back-off; otherwise a finishing claim or child pumps again, and a
	 * timer here would spin while every slot is taken.
	 */
	bool wake_for_db = e->db_retry_at != 0 && engine_active(e) < limit &&
	    (e->db_retry_at > now || engine_may_claim(e, now));

	if (e->stopping)
		return;
	for (size_t k = 0; k < e->nfire; k++)
		if (e->next_fire[k] != 0 && e->next_fire[k] < next)
			next = e->next_fire[k];
	for (const struct inst *i = e->insts; i != NULL; i = i->next) {
		if (i->state == INST_WAITING && i->not_before != 0 && i->not_before < next)
			next = i->not_before;
		if (i->state == INST_FINISHING && i->finish_pending && i->finish_at < next)
			next = i->finish_at;
		if (i->state == INST_WANTED && wake_for_db && e->db_retry_at < next)
			next = e->db_retry_at;
	}
	if (next == INT64_MAX) {
		uv_timer_stop(&e->timer);
		return;
	}
	/* Round up, so the timer never fires a millisecond before it is due. */
	delay = next <= now ? 0 : (uint64_t)((next - now + USEC_PER_MS - 1) / USEC_PER_MS);
	/*
	 * The kernel lets a long epoll_wait() overrun by 0.1% of its timeout
	 * (up to 100 ms): 30 ms late after a 30 s sleep. So a long wait ends
	 * a little early, and the short wait that follows is precise.
	 */
	if (delay > EARLY_WAKE_ABOVE_MS)
		delay -= delay / 256 + 1;
	uv_timer_start(&e->timer, engine_on_timer, delay, 0);
}

static void
engine_on_handle_closed(uv_handle_t *h)
{
	struct engine *e = h->data;

	e->closing_handles--;
	engine_check_done(e);
}

static void
engine_dbq_closed(void *arg)
{
	struct engine *e = arg;

	e->dbq = NULL;
	engine_check_done(e);
}

/* Foreground: finished when nothing is left; stopping: when all is closed. */
static void
engine_check_done(struct engine *e)
{
	bool busy = false, wanted = false;

	if (e->done_called || !e->started)
		return;
	for (const struct inst *i = e->insts; i != NULL; i = i->next) {
		if (i->state == INST_CLAIMING || i->state == INST_RUNNING || i->state == INST_FINISHING)
			busy = true;
		if (i->state == INST_WANTED || (i->state == INST_WAITING && i->not_before != 0))
			wanted = true;
	}
	/* A store list on its way brings instances with it. */
	if (e->store_queries > 0)
		busy = true;
	if (!e->stopping) {
		if (e->opts.daemon || busy || (wanted && !e->db_unreachable))
			return;
		/* The upstream work has run: now the stores of those periods are known. */
		if (e->deferred != NULL && !e->db_unreachable) {
			while (e->deferred != NULL) {
				struct deferred *d = e->deferred;

				e->deferred = d->next;
				engine_want_stores(e, d->job, &d->p, d->force);
				free(d->job);
				free(d);
			}
			return;
		}
		/* What still waits for upstream work can no longer get it. */
		for (struct inst *i = e->insts; i != NULL; i = i->next) {
			if (i->state == INST_WAITING && i->not_before == 0) {
				struct log_fields f;

				inst_fields(i, &f);
				log_at(e->log, LOG_ERR, &f, "%s %s cannot run: %s", inst_job(i)->name, i->pstr,
				    i->missing ? i->missing : "its upstream work did not succeed");
				e->failed++;
			}
		}
		engine_stop(e, 0, false);
		return;
	}
	if (busy)
		return;
	if (e->dbq != NULL) {
		dbq_close(e->dbq, engine_dbq_closed, e);
		return;
	}
	if (e->closing_handles == 0 && !uv_is_closing((uv_handle_t *)&e->timer)) {
		e->closing_handles = 2;
		uv_close((uv_handle_t *)&e->timer, engine_on_handle_closed);
		uv_close((uv_handle_t *)&e->stop_timer, engine_on_handle_closed);
		return;
	}
	if (e->closing_handles > 0)
		return;
	e->done_called = true;
	if (e->opts.on_done != NULL)
		/* Only passing failures (a server unreachable): worth running again later. */
		e->opts.on_done(e->opts.arg, e->db_unreachable || (e->failed > 0 && e->failed == e->failed_temp) ?
		    EX_TEMPFAIL : e->failed ? 1 : 0);
}

static void
engine_on_stop_timer(uv_timer_t *t)
{
	struct engine *e = t->data;

	/* Grace is over: SIGTERM now, SIGKILL after kill_grace. */
	for (struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_RUNNING && i->task != NULL)
			runner_stop(i->task, e->hard_stop);
}

void
engine_stop(struct engine *e, uint64_t grace_ms, bool hard)
{
	bool running = false;

	if (e->stopping && !hard)
		return;
	/* A stop before the start still has to close everything. */
	e->started = true;
	e->hard_stop = e->hard_stop || hard;
	if (!e->stopping) {
		e->stopping = true;
		uv_timer_stop(&e->timer);
		/* Nothing new starts; what waits stays in the ledger for the next start. */
		for (struct inst *i = e->insts; i != NULL; i = i->next)
			if (i->state == INST_WANTED || i->state == INST_WAITING)
				inst_enter(i, INST_DONE);
		engine_prune(e);
	}
	for (struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_RUNNING)
			running = true;
	if (running) {
		if (hard)
			engine_on_stop_timer(&e->stop_timer);
		else {
			log_at(e->log, LOG_NOTICE, NULL, "waiting up to %llus for running tasks",
			    (unsigned long long)(grace_ms / 1000));
			uv_timer_start(&e->stop_timer, engine_on_stop_timer, grace_ms, 0);
		}
	}
	if (hard && e->dbq != NULL)
		dbq_close(e->dbq, engine_dbq_closed, e);
	engine_check_done(e);
}

/* The next fire instant of every scheduled job, from now on. */
static void
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
static void
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

int
engine_new(struct engine **out, uv_loop_t *loop, struct config *cfg, struct dag *dag,
    struct logger *lg, const struct engine_options *opts, char **cause)
{
	struct engine *e;
	int r;

	if ((e = calloc(1, sizeof *e)) == NULL || (e->b = calloc(1, sizeof *e->b)) == NULL) {
		free(e);
		dag_free(dag);
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	e->b->refs = 1;
	e->b->cfg = config_ref(cfg);
	e->b->dag = dag;
	e->loop = loop;
	e->log = lg;
	e->opts = *opts;
	if ((r = dbq_new(&e->dbq, loop, cfg->database.conninfo, cfg->database.schema, cause)) < 0) {
		bundle_unref(e->b);
		free(e);
		return r;
	}
	uv_timer_init(loop, &e->timer);
	uv_timer_init(loop, &e->stop_timer);
	e->timer.data = e->stop_timer.data = e;
	*out = e;
	return 0;
}

void
engine_start(struct engine *e)
{
	struct open_list *o;

	e->started = true;
	if (e->opts.daemon) {
		engine_schedule(e);
		engine_catch_up(e);
		/* Work a crash or a stop left open, older than the window included. */
		if ((o = calloc(1, sizeof *o)) != NULL) {
			o->e = e;
			dbq_push(e->dbq, req_open, open_done, o);
		}
	}
	engine_pump(e);
}

int
engine_want(struct engine *e, const char *job, int32_t day, const char *store, bool force,
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

void
engine_reload(struct engine *e, struct config *cfg, struct dag *dag)
{
	struct bundle *b = calloc(1, sizeof *b);

	if (b == NULL) {
		log_at(e->log, LOG_ERR, NULL, "out of memory: keeping the previous jobs");
		dag_free(dag);
		return;
	}
	b->refs = 1;
	b->cfg = config_ref(cfg);
	b->dag = dag;
	/* Waiting work moves to the new jobs; running work keeps its own. */
	for (struct inst *i = e->insts; i != NULL; i = i->next) {
		size_t idx;

		if (i->state != INST_WANTED && i->state != INST_WAITING)
			continue;
		if (dag_find(dag, inst_job(i)->name, &idx) == NULL ||
		    dag_job(dag, idx)->period != i->period.kind) {
			log_at(e->log, LOG_NOTICE, NULL, "job %s is gone from the configuration: "
			    "dropping its waiting work for %s", inst_job(i)->name, i->pstr);
			inst_enter(i, INST_DONE);
			continue;
		}
		bundle_unref(i->b);
		i->b = bundle_ref(b);
		i->job = idx;
	}
	bundle_unref(e->b);
	e->b = b;
	engine_prune(e);
	if (e->opts.daemon)
		engine_schedule(e);
	engine_pump(e);
}

void
engine_free(struct engine *e)
{
	struct inst *i, *next;

	if (e == NULL)
		return;
	for (i = e->insts; i != NULL; i = next) {
		next = i->next;
		inst_free(i);
	}
	while (e->deferred != NULL) {
		struct deferred *d = e->deferred;

		e->deferred = d->next;
		free(d->job);
		free(d);
	}
	bundle_unref(e->b);
	free(e->next_fire);
	free(e);
}

void
engine_status(struct engine *e, char *buf, size_t len)
{
	const struct dag_job *first = NULL;
	int64_t next = INT64_MAX;
	size_t running = 0;
	char when[64] = "";
	int at;

	for (size_t k = 0; k < e->nfire; k++) {
		if (e->next_fire[k] != 0 && e->next_fire[k] < next) {
			next = e->next_fire[k];
			first = dag_job(e->b->dag, k);
		}
	}
	for (const struct inst *i = e->insts; i != NULL; i = i->next)
		if (i->state == INST_RUNNING)
			running++;
	if (first != NULL) {
		char full[64];

		cron_format_instant(cron_zone(first->schedule), next / USEC_PER_SEC, full, sizeof full);
		/* "2026-11-24 01:30:00 +0530 IST" -> "2026-11-24 01:30 IST" */
		snprintf(when, sizeof when, "%.16s%s", full, strrchr(full, ' ') ? strrchr(full, ' ') : "");
	}
	if (e->db_error[0] != '\0')
		at = snprintf(buf, len, "database unreachable (%s); ", e->db_error);
	else
		at = 0;
	if (at < 0 || (size_t)at >= len)
		return;
	if (running > 0)
		at += snprintf(buf + at, len - (size_t)at, "running %zu task%s", running, running == 1 ? "" : "s");
	else
		at += snprintf(buf + at, len - (size_t)at, "idle");
	if (at >= 0 && (size_t)at < len && first != NULL)
		snprintf(buf + at, len - (size_t)at, "; next: %s at %s", first->name, when);
}
