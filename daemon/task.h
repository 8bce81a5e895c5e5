/*
 * task: "salesd task JOB --period P [--store S] --attempt N", the child side
 * of one task instance. It reports to its parent as JSON lines on stdout
 * ({"event":"progress","message":...}, then {"event":"result","ok":...});
 * the exit code is the outcome: 0 done, 1 failed, 75 failed for a reason worth
 * retrying, 78 configuration error.
 */
#ifndef SALESD_TASK_H
#define SALESD_TASK_H

#include <stdbool.h>

#include "base/config.h"
#include "engine/dag.h"

struct task_args {
	const char *job;
	const char *period;
	const char *store;      /* NULL: company-wide */
	unsigned attempt;
	bool force;             /* deliveries: send again what the ledger holds */
	bool last;              /* no retry follows a failure of this attempt (--last-attempt) */
	bool again;             /* run again after a restatement: deliveries send corrections only */
	long long started_usec;  /* when the process began (wall clock, µs) */
};

/* Run the task in this process; returns the exit code. */
int task_main(const struct config *cfg, const struct dag *dag, const struct task_args *args);

#endif
