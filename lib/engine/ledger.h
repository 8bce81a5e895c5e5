/*
 * ledger: the run ledger in PostgreSQL: one row per task instance (job,
 * period, store) and one per attempt. It makes runs idempotent (a succeeded
 * instance is not run again unless forced) and safe across processes and
 * hosts: an instance is claimed in a transaction and held by a session-level
 * advisory lock of the claiming connection for as long as the attempt runs.
 * When the claimer dies its connection closes and the lock goes with it, so
 * the next claimer finds a "running" instance nobody holds, marks that attempt
 * abandoned and takes over.
 *
 * Every function here blocks on the network: call them from a task child, a
 * foreground command, or a thread-pool worker, never from the event loop.
 */
#ifndef SALESD_LEDGER_H
#define SALESD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct ledger_key {
	const char *job;
	const char *period;     /* "2026-11-22", "2026-W47", "2026-11" */
	const char *store;      /* "" for a company-wide task */
};

enum ledger_claim_result {
	LEDGER_CLAIMED,         /* ours: run it, then ledger_finish */
	LEDGER_DONE,            /* succeeded before; not run again unless forced */
	LEDGER_GAVE_UP,         /* failed after its last retry; only --force runs it again */
	LEDGER_BUSY,            /* another live process holds it */
	LEDGER_NOT_YET,         /* waiting for its retry time (claim.not_before_usec) */
};

struct ledger_claim {
	long long id;           /* task_instance.id */
	int attempt;            /* this attempt's number, from 1, over the instance's whole life */
	int round_attempt;      /* its number in the current round (a forced run starts one): what retries count */
	int64_t not_before_usec;/* LEDGER_NOT_YET: when the retry is due */
	bool recovered;         /* an abandoned attempt of a dead process was found */
	bool redo;              /* forced, and it had succeeded: do it again in full (resend) */
};

enum ledger_outcome {
	LEDGER_SUCCEEDED,
	LEDGER_FAILED,
	LEDGER_TIMEOUT,
};

const char *ledger_strclaim(enum ledger_claim_result r);

/*
 * Try to claim an instance for a new attempt at time now_usec (the caller's
 * clock), recording host and pid. retries is the job's retry limit, used when
 * an abandoned attempt turns out to be the last allowed one. force runs it
 * whatever its state and starts a new retry round (claim->round_attempt 1). Returns 0 with
 * *result set (and *claim for LEDGER_CLAIMED / LEDGER_NOT_YET), or a database
 * error as db_check says (-EAGAIN: the connection lost; -EIO: refused).
 */
int ledger_claim(PGconn *c, const struct ledger_key *k, unsigned retries, bool force,
    int64_t now_usec, const char *host, int pid, enum ledger_claim_result *result,
    struct ledger_claim *claim, char **cause);

/*
 * Record how a claimed attempt ended and release the claim. With retry, the
 * instance waits until not_before_usec for its next attempt; without, a
 * failure is final. error may be NULL.
 */
int ledger_finish(PGconn *c, const struct ledger_claim *claim, enum ledger_outcome outcome,
    int exit_status, const char *error, bool retry, int64_t not_before_usec, char **cause);

/*
 * The state of an instance ("pending", "running", "retry", "succeeded",
 * "failed", or "" when it has no row) into state[16].
 */
int ledger_state(PGconn *c, const struct ledger_key *k, char *state, char **cause);

/* How many of the given periods of job (for store; NULL: any store) have succeeded. */
int ledger_count_succeeded(PGconn *c, const char *job, const char *const *periods, size_t n,
    const char *store, long *count, char **cause);

/* An instance as the ledger lists it; strings belong to the list. */
struct ledger_instance {
	char *job;
	char *period;
	char *store;            /* "" for a company-wide task */
	char *state;            /* pending, running, retry, succeeded, failed */
	int attempts;
	int64_t updated_usec;   /* its last change of state */
	int64_t not_before_usec;/* retry: when the next attempt is due; else 0 */
	char *error;            /* the last error, or NULL */
};

struct ledger_instance_list {
	struct ledger_instance *v;
	size_t n;
};

/* An attempt as the ledger lists it; strings belong to the list. */
struct ledger_attempt {
	char *job;
	char *period;
	char *store;
	int attempt;
	char *state;            /* running, succeeded, failed, timeout, abandoned */
	int64_t started_usec;
	double seconds;         /* how long it ran, or runs so far, to a tenth */
	char *host;
	int pid;
	char *error;            /* NULL when none */
};

struct ledger_attempt_list {
	struct ledger_attempt *v;
	size_t n;
};

/* Free what a list holds and empty it; NULL and an empty list are fine. */
void ledger_instance_list_done(struct ledger_instance_list *l);
void ledger_attempt_list_done(struct ledger_attempt_list *l);

/*
 * The lists below fill *out (untouched on failure), newest or most urgent
 * first as each says, at most limit entries.
 */

/* Instances left open (pending, running, retry), oldest period first: what a restart picks up. */
int ledger_list_open(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause);

/* Instances waiting for a retry, the next one due first. */
int ledger_list_retries(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause);

/* Instances that gave up (failed, not retried), the latest first. */
int ledger_list_failures(PGconn *c, unsigned limit, struct ledger_instance_list *out, char **cause);

/* The attempts running now (as the ledger knows it: a dead claimer's stays until claimed again), oldest first. */
int ledger_list_running(PGconn *c, struct ledger_attempt_list *out, char **cause);

/* The latest attempts of any instance, the latest first. */
int ledger_list_recent(PGconn *c, unsigned limit, struct ledger_attempt_list *out, char **cause);

/*
 * The latest succeeded company-wide period of job into *period (caller
 * frees), NULL when none has succeeded.
 */
int ledger_last_succeeded(PGconn *c, const char *job, char **period, char **cause);

#endif
