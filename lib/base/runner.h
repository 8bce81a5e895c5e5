/*
 * runner: one task child process on a libuv loop. The child runs in its own
 * session and process group, so a timeout or a stop can signal everything it
 * started; its stdout and stderr arrive as lines; a hard time limit sends
 * SIGTERM to the group and SIGKILL after a grace period; when the child exits,
 * whatever it left behind in its group is killed, so no orphan outlives it.
 *
 * A task is finished when its exit status is reaped AND both pipes reached
 * end of file, whichever comes last; only then is on_exit called, once. The
 * runner frees the task itself after on_exit returns (libuv's rule: memory
 * goes in the close callback), so do not touch it afterwards.
 */
#ifndef SALESD_RUNNER_H
#define SALESD_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

/* Longest line kept from a child; longer ones are cut (and marked). */
#define RUNNER_MAX_LINE 65536

struct runner_result {
	int exit_status;        /* exit code, or -1 when killed by a signal */
	int term_signal;        /* the signal that killed it, or 0 */
	bool timed_out;         /* killed because it ran past its timeout */
	uint64_t duration_ms;
};

struct runner_spec {
	const char *file;                 /* executable (absolute path) */
	char *const *argv;
	char *const *env;                 /* the whole environment of the child */
	uint64_t timeout_ms;              /* 0: none */
	uint64_t kill_grace_ms;           /* SIGTERM -> SIGKILL */
	/* stream is 1 (stdout) or 2 (stderr); line has no newline. */
	void (*on_line)(void *arg, int stream, const char *line);
	void (*on_exit)(void *arg, const struct runner_result *result);
	void *arg;
};

struct runner_task;

/* Start a child. On failure nothing was started and no callback will run. */
int runner_start(uv_loop_t *loop, const struct runner_spec *spec, struct runner_task **out,
    char **cause);

/* The child's pid (also its process group id). */
pid_t runner_pid(const struct runner_task *t);

/*
 * Ask the task to stop: SIGTERM to its group, SIGKILL after the grace period
 * (hard: SIGKILL now). Its on_exit still follows.
 */
void runner_stop(struct runner_task *t, bool hard);

#endif
