/*
 * runner: child processes (or a connection to one) on a libuv loop (see
 * runner.h). One timer serves every deadline: the whole run and the silence
 * before a kill starts, the grace while it goes on, and the wait for end of
 * file after the exit; it is re-armed to the earliest one that applies.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/runner.h"
#include "base/util.h"

struct runner_stream {
	uv_pipe_t pipe;
	struct runner_task *task;
	int number;             /* 1 stdout (or the connection), 2 stderr */
	char *buf;              /* the line being assembled */
	size_t len;
	bool cut;               /* the current line was longer than RUNNER_MAX_LINE */
	bool eof;
	char chunk[16384];      /* read buffer */
};

struct runner_task {
	uv_process_t process;   /* spawned only */
	uv_pipe_t in;           /* the child's stdin (spec.stdin_pipe) */
	uv_timer_t timer;       /* the earliest deadline, see runner_arm */
	uv_connect_t connect;
	uv_shutdown_t shutdown;
	struct runner_stream out, err;
	struct runner_spec spec;
	struct runner_result result;
	char *pending;          /* a connection: lines written before it was up */
	size_t pending_len;
	uint64_t started_ms;
	uint64_t whole_at;      /* loop times (ms) of each deadline */
	uint64_t silence_at;
	uint64_t kill_at;       /* SIGKILL after SIGTERM */
	uint64_t drain_at;      /* end of file no longer waited for after the exit */
	bool spawned;           /* a process (else a connection) */
	bool connecting;
	bool exited;            /* exit status reaped (a connection: its end of file) */
	bool killing;           /* SIGTERM sent (or shut down), SIGKILL pending */
	bool killed_hard;       /* SIGKILL sent: only the exit is left to wait for */
	bool shut;
	bool finished;          /* on_exit called */
	int open_handles;
};

static void runner_on_timer(uv_timer_t *timer);

pid_t
runner_pid(const struct runner_task *t)
{
	return t->spawned ? t->process.pid : 0;
}

enum runner_kill
runner_killing(const struct runner_task *t)
{
	return t->result.killed;
}

const char *
runner_strkill(enum runner_kill k)
{
	static const char *const n[] = { "none", "timeout", "silence", "stop" };

	return (size_t)k < UTIL_NELEM(n) ? n[k] : "?";
}

/* The last handle to close frees the task. */
static void
runner_closed(struct runner_task *t)
{
	if (--t->open_handles > 0)
		return;
	free(t->out.buf);
	free(t->err.buf);
	free(t->pending);
	free(t);
}

/* Close callback of the process, stdin and the timer, whose data is the task. */
static void
runner_on_close(uv_handle_t *h)
{
	runner_closed(h->data);
}

/* Close callback of an output pipe, whose data is its stream. */
static void
runner_on_close_stream(uv_handle_t *h)
{
	runner_closed(((struct runner_stream *)h->data)->task);
}

static void
runner_close_all(struct runner_task *t)
{
	if (t->spawned)
		uv_close((uv_handle_t *)&t->process, runner_on_close);
	uv_close((uv_handle_t *)&t->in, runner_on_close);
	uv_close((uv_handle_t *)&t->timer, runner_on_close);
	uv_close((uv_handle_t *)&t->out.pipe, runner_on_close_stream);
	uv_close((uv_handle_t *)&t->err.pipe, runner_on_close_stream);
}

/* Finish once both the exit status and both end-of-files are in. */
static void
runner_maybe_finish(struct runner_task *t)
{
	if (t->finished || !t->exited || !t->out.eof || !t->err.eof)
		return;
	t->finished = true;
	uv_timer_stop(&t->timer);
	t->spec.on_exit(t->spec.arg, &t->result);
	runner_close_all(t);
}

/* Re-arm the timer to the earliest deadline that still applies. */
static void
runner_arm(struct runner_task *t)
{
	uint64_t at = UINT64_MAX, now = uv_now(t->timer.loop);

	if (t->finished)
		return;
	if (t->exited) {
		if (!t->out.eof || !t->err.eof)
			at = t->drain_at;
	} else if (t->killing) {
		if (!t->killed_hard)
			at = t->kill_at;
	} else {
		if (t->spec.timeout_ms > 0)
			at = t->whole_at;
		if (t->spec.silence_ms > 0 && t->silence_at < at)
			at = t->silence_at;
	}
	if (at == UINT64_MAX)
		uv_timer_stop(&t->timer);
	else
		uv_timer_start(&t->timer, runner_on_timer, at > now ? at - now : 0, 0);
}

static void
runner_flush_line(struct runner_stream *s)
{
	struct runner_task *t = s->task;

	if (s->len == 0 && !s->cut)
		return;
	s->buf[s->len] = '\0';
	/*
	 * A cut line holds the first byte past the limit as well (see
	 * runner_on_read): enough to tell whether the limit falls inside a
	 * UTF-8 character, which then goes whole.
	 */
	if (s->cut)
		s->len = util_utf8_cut(s->buf, RUNNER_MAX_LINE);
	/* A line is a sign of life; the timer sees the later deadline when it fires. */
	runner_touch(t);
	t->spec.on_line(t->spec.arg, s->number, s->buf);
	s->len = 0;
	s->cut = false;
}

/* Stop waiting for the output: what was read goes out, the rest is lost. */
static void
runner_drain(struct runner_task *t)
{
	struct runner_stream *s[] = { &t->out, &t->err };

	for (size_t i = 0; i < UTIL_NELEM(s); i++) {
		if (s[i]->eof)
			continue;
		runner_flush_line(s[i]);
		uv_read_stop((uv_stream_t *)&s[i]->pipe);
		s[i]->eof = true;
	}
	runner_maybe_finish(t);
}

/* A connection's end: it counts as the exit, with no status to report. */
static void
runner_disconnected(struct runner_task *t)
{
	if (t->exited)
		return;
	t->exited = true;
	t->result.exit_status = -1;
	t->result.duration_ms = uv_now(t->timer.loop) - t->started_ms;
}

/*
 * SIGTERM (hard: SIGKILL) to the child's group. A connection is shut down
 * instead, so the peer reads end of input and stops while what it says is
 * still read; hard, or when a shutdown is impossible (still connecting), it
 * is closed.
 */
static void
runner_terminate(struct runner_task *t, bool hard)
{
	if (t->spawned) {
		/* The child leads its own process group: signal all of it. */
		if (t->process.pid > 0)
			kill(-t->process.pid, hard ? SIGKILL : SIGTERM);
		t->killed_hard = t->killed_hard || hard;
		return;
	}
	if (!hard && !t->shut && !t->connecting && uv_is_writable((uv_stream_t *)&t->out.pipe) &&
	    uv_shutdown(&t->shutdown, (uv_stream_t *)&t->out.pipe, NULL) == 0) {
		t->shut = true;
		return;
	}
	t->killed_hard = true;
	runner_disconnected(t);
	runner_drain(t);
}

/* Start killing the child for why: SIGTERM now, SIGKILL after the grace. */
static void
runner_kill(struct runner_task *t, enum runner_kill why)
{
	if (t->killing || t->exited)
		return;
	t->killing = true;
	t->result.killed = why;
	t->result.timed_out = why == RUNNER_KILL_TIMEOUT || why == RUNNER_KILL_SILENCE;
	t->kill_at = uv_now(t->timer.loop) + t->spec.kill_grace_ms;
	runner_terminate(t, false);
	runner_arm(t);
}

static void
runner_on_timer(uv_timer_t *timer)
{
	struct runner_task *t = timer->data;
	uint64_t now = uv_now(timer->loop);

	if (t->exited) {
		if (now >= t->drain_at) {
			runner_drain(t);
			return;
		}
	} else if (t->killing) {
		if (now >= t->kill_at)
			runner_terminate(t, true);
	} else if (t->spec.timeout_ms > 0 && now >= t->whole_at) {
		runner_kill(t, RUNNER_KILL_TIMEOUT);
		return;
	} else if (t->spec.silence_ms > 0 && now >= t->silence_at) {
		runner_kill(t, RUNNER_KILL_SILENCE);
		return;
	}
	runner_arm(t);
}

void
runner_touch(struct runner_task *t)
{
	if (t->spec.silence_ms > 0)
		t->silence_at = uv_now(t->timer.loop) + t->spec.silence_ms;
}

void
runner_stop(struct runner_task *t, bool hard)
{
	if (t->finished)
		return;
	if (t->exited) {
		/* Gone, and something still holds its output open: a hard stop waits no more. */
		if (hard)
			runner_drain(t);
		return;
	}
	if (!hard) {
		runner_kill(t, RUNNER_KILL_STOP);
		return;
	}
	if (!t->killing) {
		t->killing = true;
		t->result.killed = RUNNER_KILL_STOP;
	}
	runner_terminate(t, true);
	runner_arm(t);
}

static void
runner_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct runner_stream *s = h->data;

	/* Each read is consumed before the next starts: one buffer per stream. */
	(void)suggested;
	buf->base = s->chunk;
	buf->len = sizeof s->chunk;
}

static void
runner_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct runner_stream *s = stream->data;
	struct runner_task *t = s->task;

	if (n < 0) {
		/* EOF or an error: either way nothing more comes. */
		runner_flush_line(s);
		uv_read_stop(stream);
		s->eof = true;
		if (!t->spawned)
			runner_disconnected(t);
		runner_maybe_finish(t);
		runner_arm(t);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf->base[i];

		if (ch == '\n') {
			runner_flush_line(s);
			continue;
		}
		if (s->len >= RUNNER_MAX_LINE) {
			if (!s->cut)
				s->buf[s->len++] = ch;
			s->cut = true;
			continue;
		}
		s->buf[s->len++] = ch;
	}
}

static void
runner_on_exit(uv_process_t *p, int64_t status, int sig)
{
	struct runner_task *t = p->data;

	t->exited = true;
	t->result.exit_status = sig ? -1 : (int)status;
	t->result.term_signal = sig;
	t->result.duration_ms = uv_now(p->loop) - t->started_ms;
	t->drain_at = uv_now(p->loop) + t->spec.kill_grace_ms;
	/* Whatever the child left running in its group goes with it. */
	kill(-t->process.pid, SIGKILL);
	runner_maybe_finish(t);
	runner_arm(t);
}

struct runner_write_req {
	uv_write_t req;
	char data[];
};

static void
runner_write_done(uv_write_t *req, int status)
{
	/* A child that stopped reading shows in its exit and its output, not here. */
	(void)status;
	free(req);
}

/* Queue len bytes (copied) on the child's stdin or the connection. */
static int
runner_write_bytes(struct runner_task *t, const char *data, size_t len, bool newline)
{
	uv_stream_t *to = t->spawned ? (uv_stream_t *)&t->in : (uv_stream_t *)&t->out.pipe;
	struct runner_write_req *w;
	uv_buf_t b;
	int r;

	if ((w = malloc(sizeof *w + len + 1)) == NULL)
		return -ENOMEM;
	memcpy(w->data, data, len);
	if (newline)
		w->data[len++] = '\n';
	b = uv_buf_init(w->data, (unsigned)len);
	if ((r = uv_write(&w->req, to, &b, 1, runner_write_done)) < 0) {
		free(w);
		return r;
	}
	return 0;
}

int
runner_write(struct runner_task *t, const char *line)
{
	size_t n = strlen(line);
	char *p;

	if (t->exited || t->finished || (t->spawned && !t->spec.stdin_pipe))
		return -EPIPE;
	if (!t->connecting)
		return runner_write_bytes(t, line, n, true);
	if ((p = realloc(t->pending, t->pending_len + n + 1)) == NULL)
		return -ENOMEM;
	memcpy(p + t->pending_len, line, n);
	p[t->pending_len + n] = '\n';
	t->pending = p;
	t->pending_len += n + 1;
	return 0;
}

/* Allocate a task with its pipes and timer initialised (not yet counted open). */
static int
runner_new(uv_loop_t *loop, const struct runner_spec *spec, struct runner_task **out, char **cause)
{
	struct runner_task *t;

	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->out.buf = malloc(RUNNER_MAX_LINE + 2)) == NULL ||
	    (t->err.buf = malloc(RUNNER_MAX_LINE + 2)) == NULL) {
		if (t != NULL) {
			free(t->out.buf);
			free(t);
		}
		return util_fail(cause, -ENOMEM, "out of memory");
	}
	t->spec = *spec;
	t->out.task = t->err.task = t;
	t->out.number = 1;
	t->err.number = 2;
	uv_pipe_init(loop, &t->in, 0);
	uv_pipe_init(loop, &t->out.pipe, 0);
	uv_pipe_init(loop, &t->err.pipe, 0);
	uv_timer_init(loop, &t->timer);
	t->in.data = t;
	t->out.pipe.data = &t->out;
	t->err.pipe.data = &t->err;
	t->timer.data = t;
	t->process.data = t;
	t->connect.data = t;
	t->started_ms = uv_now(loop);
	t->whole_at = t->started_ms + spec->timeout_ms;
	t->silence_at = t->started_ms + spec->silence_ms;
	*out = t;
	return 0;
}

int
runner_start(uv_loop_t *loop, const struct runner_spec *spec, struct runner_task **out,
    char **cause)
{
	uv_process_options_t opts = { 0 };
	uv_stdio_container_t stdio[3];
	struct runner_task *t;
	int r;

	if ((r = runner_new(loop, spec, &t, cause)) < 0)
		return r;
	t->spawned = true;
	if (spec->stdin_pipe) {
		stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		stdio[0].data.stream = (uv_stream_t *)&t->in;
	} else
		stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&t->out.pipe;
	if (spec->stderr_inherit) {
		stdio[2].flags = UV_INHERIT_FD;
		stdio[2].data.fd = STDERR_FILENO;
		t->err.eof = true;
	} else {
		stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[2].data.stream = (uv_stream_t *)&t->err.pipe;
	}
	opts.file = spec->file;
	opts.args = (char **)(uintptr_t)spec->argv;
	opts.env = (char **)(uintptr_t)spec->env;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = runner_on_exit;
	/* setsid(): a session and process group of its own, away from our signals. */
	opts.flags = UV_PROCESS_DETACHED;

	t->open_handles = 5;
	if ((r = uv_spawn(loop, &t->process, &opts)) < 0) {
		/* Nothing started: close what we opened (libuv: the process handle too) and report. */
		util_fail(cause, r, "cannot start %s: %s", spec->file, uv_strerror(r));
		t->finished = true;
		runner_close_all(t);
		return r;
	}
	uv_read_start((uv_stream_t *)&t->out.pipe, runner_alloc, runner_on_read);
	if (!spec->stderr_inherit)
		uv_read_start((uv_stream_t *)&t->err.pipe, runner_alloc, runner_on_read);
	runner_arm(t);
	*out = t;
	return 0;
}

static void
runner_on_connect(uv_connect_t *req, int status)
{
	struct runner_task *t = req->data;

	/* Closed while connecting (a stop): runner_terminate finished the task. */
	if (status == UV_ECANCELED || t->finished)
		return;
	t->connecting = false;
	if (status < 0) {
		t->result.error = status;
		runner_disconnected(t);
		t->out.eof = true;
		runner_maybe_finish(t);
		return;
	}
	uv_read_start((uv_stream_t *)&t->out.pipe, runner_alloc, runner_on_read);
	if (t->pending != NULL) {
		/* A failure shows as the peer's silence or end of file, as for any write. */
		runner_write_bytes(t, t->pending, t->pending_len, false);
		free(t->pending);
		t->pending = NULL;
		t->pending_len = 0;
	}
}

int
runner_connect(uv_loop_t *loop, const char *path, const struct runner_spec *spec,
    struct runner_task **out, char **cause)
{
	struct runner_task *t;
	int r;

	if ((r = runner_new(loop, spec, &t, cause)) < 0)
		return r;
	t->err.eof = true;
	t->connecting = true;
	t->open_handles = 4;
	/* libuv reports every outcome, a refused connection too, to runner_on_connect. */
	uv_pipe_connect(&t->connect, &t->out.pipe, path, runner_on_connect);
	runner_arm(t);
	*out = t;
	return 0;
}
