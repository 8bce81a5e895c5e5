/*
 * engine: the state machine of task instances (see engine.h; the schedules
 * are in engine_schedule.c, the task children in engine_task.c, the state
 * they share in engine_private.h).
 *
 * Every task instance the engine cares about is a struct inst in one list,
 * kept in the order work should happen: oldest period first, then upstream
 * jobs before downstream ones. An instance moves through one state machine:
 *
 *   wanted -> claiming -> running -> finishing -> (done | waiting | failed)
 *   claiming -> waiting   (upstream not done, retry not due, or busy elsewhere)
 *   waiting -> wanted     (upstream succeeded, or its time came)
 *
 * Only engine_inst_enter() changes a state, and it logs each change. Done
 * and failed instances leave the list at once: the ledger remembers them, so
 * wanting one again costs one claim that answers "done".
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

#include "base/db.h"
#include "base/exitcode.h"
#include "base/util.h"
#include "engine/cron.h"
#include "engine/engine_private.h"

#define BUSY_RECHECK_USEC (60 * USEC_PER_SEC)
#define FG_BUSY_RECHECK_USEC (2 * USEC_PER_SEC)
#define DB_BACKOFF_MIN_USEC (1 * USEC_PER_SEC)
#define DB_BACKOFF_MAX_USEC (60 * USEC_PER_SEC)
#define EARLY_WAKE_ABOVE_MS 1000

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

const struct dag *
engine_dag(const struct engine *e)
{
	return e->b->dag;
}

int64_t
engine_now(const struct engine *e)
{
	return util_now_realtime_usec() + e->opts.clock_offset_usec;
}

/* The one place an instance changes state. */
void
engine_inst_enter(struct inst *i, enum inst_state next)
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
	util_strv_free(i->restated);
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
	engine_inst_enter(i, INST_FAILED);
	engine_prune(e);
	engine_check_done(e);
}

static bool
same_store(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Want one instance (deduplicated), inserted in work order. */
struct inst *
engine_add(struct engine *e, size_t job, const struct period *p, const char *store, unsigned force)
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
			i->force = i->force || force != 0;
			i->again = i->again || (force & ENGINE_WANT_AGAIN) != 0;
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
	i->force = force != 0;
	i->again = (force & ENGINE_WANT_AGAIN) != 0;
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
void
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
			engine_inst_enter(i, INST_WANTED);
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
		    done->again ? ENGINE_WANT_AGAIN : 0);
	}
	/*
	 * Days the ETL found restated: the reports of every closed period
	 * holding one run again, and after them their deliveries, which send
	 * corrections to whoever got the old figures.
	 */
	for (size_t r = 0; done->restated != NULL && done->restated[r] != NULL; r++) {
		int32_t day;

		if (period_parse_date(done->restated[r], &day, NULL) < 0)
			continue;
		for (size_t k = 0; k < j->ndependents; k++) {
			const struct dag_job *dn = dag_job(e->b->dag, j->dependents[k]);
			struct period p = period_containing(dn->period, day);

			if (p.last <= closed)
				engine_want_period(e, j->dependents[k], &p, NULL, ENGINE_WANT_AGAIN);
		}
	}
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
		engine_inst_enter(i, INST_DONE);
		engine_follow(e, i);
	} else if (i->retry) {
		i->not_before = i->retry_at;
		engine_inst_enter(i, INST_WAITING);
	} else {
		if (!e->stopping) {
			e->failed++;
			if (i->result.exit_status == EX_TEMPFAIL)
				e->failed_temp++;
		}
		engine_inst_enter(i, INST_FAILED);
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

/* The longest wait between two attempts of a held task. */
#define HOLD_MAX_DELAY_USEC (15 * 60 * USEC_PER_SEC)

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

/* A child has exited: another attempt or not, said once, then the ledger. */
void
engine_exited(struct inst *i)
{
	struct engine *e = i->e;
	const struct dag_job *j = inst_job(i);
	const struct runner_result *res = &i->result;
	struct log_fields f;
	bool ok = res->exit_status == 0 && !res->timed_out, held;
	int counted;

	inst_fields(i, &f);
	/*
	 * A task cut short by a stop is retried at once after the restart.
	 * Otherwise the exit code says whether waiting may help (exitcode.h),
	 * and the retry limit counts the attempts of this round only.
	 */
	/* By hand ("salesd run") nobody waits hours: there a held task is retried like any other. */
	held = !ok && e->opts.daemon && !res->timed_out && res->exit_status == EX_TEMPFAIL &&
	    i->hold_until > engine_now(e);
	/* Waiting for data is not failing: the attempts held leave the round's retries whole. */
	if (held)
		i->held_attempts++;
	counted = i->claim.round_attempt - i->held_attempts;
	i->retry = !ok && (e->stopping || held || ((unsigned)counted <= j->retries &&
	    exitcode_retryable(res->exit_status, res->timed_out, res->term_signal, dag_kind_transient(j->kind))));
	i->retry_at = engine_now(e) + (e->stopping ? 0 : retry_delay_usec(j, i->claim.round_attempt));
	/*
	 * A held task waits for data, not for a failure to heal: it is tried
	 * again with the usual back-off (but at least every 15 minutes, so
	 * that data that arrives goes out soon) whatever its retry limit, and
	 * once more at the deadline it was held until, where it decides.
	 */
	if (held && !e->stopping && i->retry_at > engine_now(e) + HOLD_MAX_DELAY_USEC)
		i->retry_at = engine_now(e) + HOLD_MAX_DELAY_USEC;
	if (held && !e->stopping && i->retry_at > i->hold_until)
		i->retry_at = i->hold_until;
	if (held && !e->stopping) {
		log_at(e->log, LOG_WARNING, &f, "%s %s held: %s; trying again in %llds", j->name, i->pstr,
		    i->message ? i->message : "waiting", (long long)((i->retry_at - engine_now(e)) / USEC_PER_SEC));
	} else if (!ok) {
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
			if ((unsigned)counted <= j->retries && !e->stopping)
				log_at(e->log, LOG_ERR, &f, "%s %s: not retried (exit status %d: %s failure, "
				    "waiting will not fix it); to try again once it is fixed: %s", j->name, i->pstr,
				    res->exit_status, exitcode_strclass(exitcode_classify(res->exit_status)), hint);
			else
				log_at(e->log, LOG_ERR, &f, "%s %s: giving up after %d attempt%s; to try again: %s",
				    j->name, i->pstr, i->claim.round_attempt, i->claim.round_attempt == 1 ? "" : "s",
				    hint);
		}
	}
	engine_inst_enter(i, INST_FINISHING);
	engine_send_finish(i);
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
		engine_inst_enter(i, INST_WANTED);
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
			engine_inst_enter(i, INST_FINISHING);
			engine_send_finish(i);
			return;
		}
		engine_drop(e, i);
		return;
	}
	if (i->answer == ANSWER_UPSTREAM) {
		log_at(e->log, LOG_DEBUG, &f, "%s %s waits: %s", j->name, i->pstr, i->missing);
		i->not_before = 0;
		engine_inst_enter(i, INST_WAITING);
		engine_pump(e);
		return;
	}
	switch (i->claim_result) {
	case LEDGER_CLAIMED:
		/* The force is spent: it started this round; the round's retries are ordinary claims. */
		i->force = false;
		if (i->claim.round_attempt == 1)
			i->held_attempts = 0;
		if (i->claim.recovered)
			log_at(e->log, LOG_WARNING, &f, "%s %s: the process running its previous attempt "
			    "died; marked abandoned", j->name, i->pstr);
		engine_spawn(e, i);
		break;
	case LEDGER_DONE:
		log_at(e->log, LOG_DEBUG, &f, "%s %s already succeeded", j->name, i->pstr);
		engine_inst_enter(i, INST_DONE);
		engine_follow(e, i);
		break;
	case LEDGER_GAVE_UP: {
		char hint[512];

		rerun_hint(i, hint, sizeof hint);
		log_at(e->log, LOG_WARNING, &f, "%s %s failed before and will not be retried; "
		    "to try again: %s", j->name, i->pstr, hint);
		e->failed++;
		engine_inst_enter(i, INST_FAILED);
		break;
	}
	case LEDGER_BUSY:
		/* Another process runs it; look again later to follow it downstream. */
		i->not_before = engine_now(e) + (e->opts.daemon ? BUSY_RECHECK_USEC : FG_BUSY_RECHECK_USEC);
		engine_inst_enter(i, INST_WAITING);
		break;
	case LEDGER_NOT_YET:
		i->not_before = i->claim.not_before_usec;
		engine_inst_enter(i, INST_WAITING);
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

/* WhatsApp batches and checks open the one browser profile. */
static bool
uses_profile(const struct dag_job *j)
{
	return j->kind == JOB_WHATSAPP || j->kind == JOB_WHATSAPP_CHECK;
}

/* Whether a WhatsApp batch or check of ours is being claimed, runs or finishes (see engine_pump). */
static bool
engine_profile_busy(const struct engine *e)
{
	for (const struct inst *i = e->insts; i != NULL; i = i->next)
		if ((i->state == INST_CLAIMING || i->state == INST_RUNNING || i->state == INST_FINISHING) &&
		    uses_profile(inst_job(i)))
			return true;
	return false;
}

/* Claim what is wanted, as far as the parallelism limit allows. */
void
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
			engine_inst_enter(i, INST_WANTED);
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
			if (uses_profile(inst_job(i))) {
				if (profile_busy)
					continue;
				profile_busy = true;
			}
			i->now = now;
			engine_inst_enter(i, INST_CLAIMING);
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
			engine_want_deferred(e);
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

void
engine_stop(struct engine *e, uint64_t grace_ms, bool hard)
{
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
				engine_inst_enter(i, INST_DONE);
		engine_prune(e);
	}
	engine_stop_tasks(e, grace_ms, hard);
	if (hard && e->dbq != NULL)
		dbq_close(e->dbq, engine_dbq_closed, e);
	engine_check_done(e);
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
	e->started = true;
	if (e->opts.daemon) {
		engine_schedule(e);
		engine_catch_up(e);
		/* Work a crash or a stop left open, older than the window included. */
		engine_want_open(e);
	}
	engine_pump(e);
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
			engine_inst_enter(i, INST_DONE);
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
	engine_free_deferred(e);
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
