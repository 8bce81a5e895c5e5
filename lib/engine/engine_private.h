/*
 * engine_private: what the engine's three files share, and nothing else
 * includes. The engine is one module with one public header (engine.h); its
 * code is split along its seams:
 *
 *   engine.c           the instance state machine: states, claims, finishing,
 *                      retries, the pump, the one timer, start, stop, reload
 *   engine_schedule.c  what is wanted and when: cron fire times, catch-up
 *                      after downtime, the instances a crash left open,
 *                      wanting a period, per-store fan-outs
 *   engine_task.c      task children through base/runner: starting them,
 *                      their output lines, their exit, stopping them
 *
 * The structs below are the engine's private state; only those three files
 * may touch their fields, and only through the functions declared here do
 * they call each other.
 */
#ifndef SALESD_ENGINE_PRIVATE_H
#define SALESD_ENGINE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <uv.h>

#include "base/config.h"
#include "base/log.h"
#include "base/period.h"
#include "base/runner.h"
#include "engine/dag.h"
#include "engine/dbq.h"
#include "engine/engine.h"
#include "engine/ledger.h"

#define USEC_PER_MS 1000LL
#define USEC_PER_SEC 1000000LL

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
	bool force;                     /* claim it whatever the ledger says (a new round) */
	bool again;                     /* ENGINE_WANT_AGAIN: forced, but no redo; what follows it, again too */
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
	int64_t hold_until;             /* the child's result held its work until then (usec; 0: not held) */
	char **restated;                /* the child's result: restated days (YYYY-MM-DD), or NULL */
	int held_attempts;              /* attempts of this round that were held: not failures, not counted */
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

/* The job an instance runs, in the configuration it was wanted under. */
static inline const struct dag_job *
inst_job(const struct inst *i)
{
	return dag_job(i->b->dag, i->job);
}

/* The journal fields of an instance's log lines. */
static inline void
inst_fields(const struct inst *i, struct log_fields *f)
{
	memset(f, 0, sizeof *f);
	f->job = inst_job(i)->name;
	f->period = i->pstr;
	f->store = i->store;
	f->run = i->run_id[0] ? i->run_id : NULL;
	f->attempt = i->state == INST_RUNNING || i->state == INST_FINISHING ? (unsigned)i->claim.attempt : 0;
}

/* engine.c: the state machine. */

/* The one place an instance changes state; it logs old -> new. */
void engine_inst_enter(struct inst *i, enum inst_state next);
/* Want one instance (deduplicated), inserted in work order; NULL if not wanted. */
struct inst *engine_add(struct engine *e, size_t job, const struct period *p, const char *store, unsigned force);
/* Claim and start what is due, re-arm the timer; after every event. */
void engine_pump(struct engine *e);
/* The database failed a request: back off and say so once per outage. */
void engine_db_failed(struct engine *e, int r, const char *cause);
/*
 * The child of i has exited (i->result): decide whether another attempt
 * follows, say what happened, and write the outcome to the ledger.
 */
void engine_exited(struct inst *i);

/* engine_schedule.c: what is wanted and when. */

/* The next fire instant of every scheduled job, from now on. */
void engine_schedule(struct engine *e);
/* Fire the schedules that are due; each fire wants the period it closes. */
void engine_fire(struct engine *e, int64_t now);
/* After downtime: want the periods whose fire time passed within the window. */
void engine_catch_up(struct engine *e);
/* Want what a crash or a stop left open in the ledger; report what catch-up leaves out. */
void engine_want_open(struct engine *e);
/* Want job for period p, one instance per store for a per-store job. */
void engine_want_period(struct engine *e, size_t job, const struct period *p, const char *store, unsigned force);
/* Foreground: want the fan-outs that waited for their upstream work (struct deferred). */
void engine_want_deferred(struct engine *e);
/* Forget the fan-outs still waiting (engine_free). */
void engine_free_deferred(struct engine *e);
/* Last day that has ended in the business time zone. */
int32_t engine_latest_closed_day(const struct engine *e);

/* engine_task.c: the task children. */

/* Start the child of a claimed instance; its exit comes to engine_exited. */
void engine_spawn(struct engine *e, struct inst *i);
/*
 * Stopping: the running children get grace_ms to finish, then SIGTERM and,
 * after kill_grace, SIGKILL (hard: at once).
 */
void engine_stop_tasks(struct engine *e, uint64_t grace_ms, bool hard);

#endif
