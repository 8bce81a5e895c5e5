/*
 * runner: the one supervisor of a child on a libuv loop, used for the
 * engine's task children and for the WhatsApp child (salesd-whatsapp).
 *
 * A spawned child runs in its own session and process group, so a time-out
 * or a stop can signal everything it started. Its stdout and stderr arrive as
 * lines (stderr may instead be inherited); optionally the owner writes lines
 * to its stdin. Two time-outs bound it: the whole run (timeout_ms) and the
 * silence (silence_ms: restarted by every line from the child and by
 * runner_touch). A time-out or runner_stop sends SIGTERM to the group and
 * SIGKILL after the grace; when the child exits, whatever it left behind in
 * its group is killed, so no orphan outlives it.
 *
 * runner_connect supervises a connected unix stream instead (a child that a
 * socket unit started for us): lines are read from and written to the
 * connection, the same time-outs apply, "SIGTERM" is shutting down our
 * writing side (the peer sees end of input and stops) and "SIGKILL" is
 * closing the connection. Its exit status is not known here (-1); a
 * protocol that needs it says it in a line.
 *
 * A child is finished when its exit status is reaped AND its pipes reached
 * end of file (a connection: its end of file), whichever comes last; only
 * then is on_exit called, once. Output still open a grace period after the
 * exit (a process that left the group holds it) is no longer waited for. The
 * runner frees the task itself after on_exit returns (libuv's rule: memory
 * goes in the close callback), so do not touch it afterwards.
 *
 * Writing to a child that is gone raises SIGPIPE: a program that writes to
 * its children ignores SIGPIPE (the runner does not change signal dispositions).
 */
#ifndef SALESD_RUNNER_H
#define SALESD_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

/* Longest line kept from a child; longer ones are cut (and marked). */
#define RUNNER_MAX_LINE 65536

/* Why the runner killed a child; the first reason is the one kept. */
enum runner_kill {
	RUNNER_KILL_NONE,       /* not killed by the runner */
	RUNNER_KILL_TIMEOUT,    /* it ran past timeout_ms */
	RUNNER_KILL_SILENCE,    /* no line and no runner_touch for silence_ms */
	RUNNER_KILL_STOP,       /* runner_stop */
};

struct runner_result {
	int exit_status;        /* exit code, or -1 when killed by a signal (or over a connection) */
	int term_signal;        /* the signal that killed it, or 0 */
	bool timed_out;         /* killed for timeout_ms or silence_ms */
	enum runner_kill killed;
	int error;              /* runner_connect: 0, or why the connection failed (a libuv error) */
	uint64_t duration_ms;
};

struct runner_spec {
	const char *file;                 /* executable (absolute path); runner_start only */
	char *const *argv;
	char *const *env;                 /* the whole environment of the child; NULL: ours */
	bool stdin_pipe;                  /* runner_write writes to its stdin (else /dev/null) */
	bool stderr_inherit;              /* its stderr is ours (else lines of stream 2) */
	uint64_t timeout_ms;              /* the whole run; 0: none */
	uint64_t silence_ms;              /* the longest without a line or runner_touch; 0: none */
	uint64_t kill_grace_ms;           /* SIGTERM -> SIGKILL */
	/* stream is 1 (stdout, or the connection) or 2 (stderr); line has no newline. */
	void (*on_line)(void *arg, int stream, const char *line);
	void (*on_exit)(void *arg, const struct runner_result *result);
	void *arg;
};

struct runner_task;

/* Start a child. On failure nothing was started and no callback will run. */
int runner_start(uv_loop_t *loop, const struct runner_spec *spec, struct runner_task **out,
    char **cause);

/*
 * Supervise a connection to the unix socket path (file, argv, env and the
 * stdio flags of spec are not used). A connection that fails is reported by
 * on_exit with result->error; lines written before it is up wait for it.
 */
int runner_connect(uv_loop_t *loop, const char *path, const struct runner_spec *spec,
    struct runner_task **out, char **cause);

/* The child's pid (also its process group id); 0 for a connection. */
pid_t runner_pid(const struct runner_task *t);

/*
 * Write line and a newline to the child's stdin (or the connection); the
 * line is copied. -EPIPE when the child cannot read any more.
 */
int runner_write(struct runner_task *t, const char *line);

/* Restart the silence time-out: the owner saw a sign of life. */
void runner_touch(struct runner_task *t);

/*
 * Ask the task to stop: SIGTERM to its group, SIGKILL after the grace period
 * (hard: SIGKILL now). Its on_exit still follows, with killed RUNNER_KILL_STOP
 * unless a time-out came first.
 */
void runner_stop(struct runner_task *t, bool hard);

/* Whether (and why) the runner is killing the child: lines still arrive until end of file. */
enum runner_kill runner_killing(const struct runner_task *t);

/* "timeout", "silence", "stop" or "none". */
const char *runner_strkill(enum runner_kill k);

#endif
