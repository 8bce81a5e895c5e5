/*
 * dag: the jobs of a configuration as a validated graph. Built from a loaded
 * configuration, it checks what a single key cannot: "after" naming jobs that
 * exist, no cycles (the error names the cycle), periods that fit together,
 * schedules that parse, exactly one trigger per job. Every error names the
 * file and line it comes from.
 *
 * Jobs are kept in a topological order (every job after the jobs it waits
 * for), so walking the array from the start visits upstream work first.
 */
#ifndef SALESD_DAG_H
#define SALESD_DAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/period.h"

struct cron;
struct tz;

/* The store key of the company-wide instance of a job with scope = both. */
#define DAG_COMPANY "*"

enum job_kind {
	JOB_ETL,
	JOB_REPORT,
	JOB_EMAIL,
	JOB_WHATSAPP,
	JOB_WHATSAPP_CHECK,           /* salesd whatsapp-check on a schedule: a lost login known before the send */
	JOB_SELFTEST,
};

/* One job: plain values read from its [job NAME] section. */
struct dag_job {
	char *name;
	enum job_kind kind;
	enum period_kind period;
	bool per_store;               /* scope = stores or both: one task per store */
	bool with_company;            /* scope = both: and one for the company (store DAG_COMPANY) */
	struct cron *schedule;        /* root jobs only, else NULL */
	char *schedule_text;
	size_t *after;                /* indices of the jobs this one waits for */
	size_t nafter;
	size_t *dependents;           /* indices of the jobs that wait for this one */
	size_t ndependents;
	unsigned retries;
	uint64_t retry_delay_ms;
	uint64_t retry_max_delay_ms;
	uint64_t timeout_ms;
	uint64_t catchup_ms;
	char *action;                 /* selftest steps */
	char **stores;                /* fixed stores of a per-store job (NULL-terminated; may be empty) */
};

struct dag;

/*
 * Build the graph of cfg's jobs. Time zones are read below zoneinfo_dir
 * (NULL: the system's). Returns 0, or -EINVAL with every problem in *cause,
 * one per line, "FILE:LINE: [job NAME] key: what is wrong".
 */
int dag_build(struct dag **out, const struct config *cfg, const char *zoneinfo_dir, char **cause);
void dag_free(struct dag *d);

size_t dag_njobs(const struct dag *d);
/* The i-th job in topological order. */
const struct dag_job *dag_job(const struct dag *d, size_t i);
/* A job by name, or NULL; *index (may be NULL) gets its position. */
const struct dag_job *dag_find(const struct dag *d, const char *name, size_t *index);
/* The business time zone ([salesd] timezone). */
const struct tz *dag_zone(const struct dag *d);

const char *dag_kind_name(enum job_kind kind);

/* Whether an unclassified failure (exit 1) of this kind may heal by itself (exitcode.h). */
bool dag_kind_transient(enum job_kind kind);

/*
 * Check a selftest action ("sleep 2s, fail-until 2, marker /tmp/m, ...");
 * steps: succeed, fail, fail-until N, exit N (that exit status), crash, hang, hang-hard, sleep DURATION,
 * marker PATH, stamp PATH (the task's start time, for benchmarks), grandchild,
 * no-notify-env. Returns 0 or -EINVAL with *cause.
 */
int dag_check_action(const char *action, char **cause);

#endif
