/*
 * engine: the scheduler and executor of salesd's DAG on a libuv loop. It
 * fires root jobs on their cron schedules, catches up periods missed while
 * the daemon was down (within each job's catch-up window), runs every task
 * instance (job, period, store) as a child process once its upstream work has
 * succeeded, claims each instance in the ledger first (so several engines on
 * one database run it once), retries failures with exponential back-off and
 * jitter, and follows success downstream.
 *
 * The daemon runs one engine for its whole life ("serve"); "salesd run" and
 * "salesd backfill" run one with explicit targets and stop when those are
 * finished. Both go through the same code.
 *
 * The loop thread never blocks: the ledger is reached through dbq (thread
 * pool), tasks through runner (child processes).
 */
#ifndef SALESD_ENGINE_H
#define SALESD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#include "base/config.h"
#include "engine/dag.h"
#include "base/log.h"

struct engine;

/*
 * The stores that sold in the days first..last (days since 1970-01-01): a
 * NULL-terminated vector in *stores (the engine frees it with
 * util_strv_free) and its length in *n; 0 or a negative error with *cause.
 * It runs on the thread pool on the engine's connection, like every query.
 */
typedef int (*engine_stores_fn)(PGconn *c, int32_t first, int32_t last, char ***stores, size_t *n,
    char **cause);

struct engine_options {
	const char *exe;                   /* this binary, for task children */
	const char *const *child_args;     /* global options for children (--config, --set) */
	char *const *child_env;            /* the children's whole environment */
	const char *host;                  /* recorded with each attempt */
	int64_t clock_offset_usec;         /* added to the real clock (tests) */
	bool daemon;                       /* schedules and catch-up; runs until stopped */
	bool no_deliver;                   /* leave e-mail and WhatsApp jobs out */
	/*
	 * Who sold in a period, for a per-store job without a store list.
	 * The sales tables belong to a layer above the engine, so the caller
	 * (daemon/) hands their owner's function in: etl_stores_that_sold.
	 */
	engine_stores_fn stores_that_sold;
	/* Called when a foreground engine has nothing left to do, or after engine_stop. */
	void (*on_done)(void *arg, int exit_code);
	/* Called after work started or ended (for systemd's STATUS=); may be NULL. */
	void (*on_change)(void *arg);
	void *arg;
};

/* Takes a reference to cfg; dag is owned by the engine from here on. */
int engine_new(struct engine **out, uv_loop_t *loop, struct config *cfg, struct dag *dag,
    struct logger *lg, const struct engine_options *opts, char **cause);

/* Start: catch-up and timers (daemon), or the targets (foreground). */
void engine_start(struct engine *e);

/*
 * How a job is wanted. FORCE runs it again even if it succeeded, in full (a
 * delivery job resends). AGAIN runs it again too, but as an ordinary run (a
 * delivery job sends what the ledger does not hold, and corrections), and
 * what follows it when it succeeds is run again the same way: the reports
 * and deliveries of a restated day (docs/completeness.md).
 */
#define ENGINE_WANT_FORCE 1u
#define ENGINE_WANT_AGAIN 2u

/*
 * Foreground: want job for the period holding day (and, first, whatever it
 * waits for that has not succeeded). force: 0, true, or ENGINE_WANT_* bits.
 */
int engine_want(struct engine *e, const char *job, int32_t day, const char *store, unsigned force,
    char **cause);

/*
 * Swap in a new configuration: work already running keeps the one it started
 * with; waiting work follows the new jobs (and is dropped when its job is gone).
 */
void engine_reload(struct engine *e, struct config *cfg, struct dag *dag);

/*
 * Stop: start nothing new, let running tasks finish within grace_ms, then
 * SIGTERM/SIGKILL them (hard: SIGKILL now). on_done follows when everything
 * is closed; free the engine there.
 */
void engine_stop(struct engine *e, uint64_t grace_ms, bool hard);
void engine_free(struct engine *e);

/* One line for systemd's STATUS=: "idle; next: etl at 2026-11-24 01:30 IST". */
void engine_status(struct engine *e, char *buf, size_t len);

/* The graph of the newest configuration (owned by the engine). */
const struct dag *engine_dag(const struct engine *e);

/* The current time of the engine's clock, in microseconds since the epoch. */
int64_t engine_now(const struct engine *e);

#endif
