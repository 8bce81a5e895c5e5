/*
 * runner: task child processes on a libuv loop (see runner.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/runner.h"
#include "base/util.h"

struct runner_stream {
	uv_pipe_t pipe;
	struct runner_task *task;
	int number;             /* 1 stdout, 2 stderr */
	char *buf;              /* the line being assembled */
	size_t len;
	bool cut;               /* the current line was longer than RUNNER_MAX_LINE */
	bool eof;
	char chunk[16384];      /* read buffer */
};

struct runner_task {
	uv_process_t process;
	uv_timer_t timer;       /* timeout, then the grace period */
	struct runner_stream out, err;
	struct runner_spec spec;
	struct runner_result result;
	uint64_t started_ms;
	bool exited;            /* exit status reaped */
	bool killing;           /* SIGTERM sent, SIGKILL pending */
	bool finished;          /* on_exit called */
	int open_handles;
};

pid_t
runner_pid(const struct runner_task *t)
{
	return t->process.pid;
}

static void
runner_signal_group(struct runner_task *t, int sig)
{
	/* The child leads its own process group: signal all of it. */
	if (t->process.pid > 0)
		kill(-t->process.pid, sig);
}

/* The last of the four handles to close frees the task. */
static void
runner_closed(struct runner_task *t)
{
	if (--t->open_handles > 0)
		return;
	free(t->out.buf);
	free(t->err.buf);
	free(t);
}

/* Close callback of the process and the timer, whose data is the task. */
static void
runner_on_close(uv_handle_t *h)
{
	runner_closed(h->data);
}

/* Close callback of a pipe, whose data is its stream. */
static void
runner_on_close_stream(uv_handle_t *h)
{
	runner_closed(((struct runner_stream *)h->data)->task);
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
	uv_close((uv_handle_t *)&t->process, runner_on_close);
	uv_close((uv_handle_t *)&t->timer, runner_on_close);
	uv_close((uv_handle_t *)&t->out.pipe, runner_on_close_stream);
	uv_close((uv_handle_t *)&t->err.pipe, runner_on_close_stream);
}

static void
runner_flush_line(struct runner_stream *s)
{
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
	s->task->spec.on_line(s->task->spec.arg, s->number, s->buf);
	s->len = 0;
	s->cut = false;
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

	if (n < 0) {
		/* EOF or an error: either way nothing more comes. */
		runner_flush_line(s);
		uv_read_stop(stream);
		s->eof = true;
		runner_maybe_finish(s->task);
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
	/* Whatever the child left running in its group goes with it. */
	runner_signal_group(t, SIGKILL);
	runner_maybe_finish(t);
}

static void
runner_on_timer(uv_timer_t *timer)
{
	struct runner_task *t = timer->data;

	if (t->exited)
		return;
	if (!t->killing) {
		if (!t->result.timed_out && t->spec.timeout_ms > 0 &&
		    uv_now(timer->loop) - t->started_ms >= t->spec.timeout_ms)
			t->result.timed_out = true;
		t->killing = true;
		runner_signal_group(t, SIGTERM);
		uv_timer_start(&t->timer, runner_on_timer, t->spec.kill_grace_ms ? t->spec.kill_grace_ms : 1, 0);
		return;
	}
	runner_signal_group(t, SIGKILL);
}

void
runner_stop(struct runner_task *t, bool hard)
{
	if (t->exited)
		return;
	if (hard) {
		t->killing = true;
		runner_signal_group(t, SIGKILL);
		return;
	}
	if (!t->killing) {
		uv_timer_stop(&t->timer);
		runner_on_timer(&t->timer);
	}
}

int
runner_start(uv_loop_t *loop, const struct runner_spec *spec, struct runner_task **out,
    char **cause)
{
	uv_process_options_t opts = { 0 };
	uv_stdio_container_t stdio[3];
	struct runner_task *t;
	int r;

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
	uv_pipe_init(loop, &t->out.pipe, 0);
	uv_pipe_init(loop, &t->err.pipe, 0);
	uv_timer_init(loop, &t->timer);
	t->out.pipe.data = &t->out;
	t->err.pipe.data = &t->err;
	t->timer.data = t;
	t->process.data = t;

	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&t->out.pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&t->err.pipe;
	opts.file = spec->file;
	opts.args = (char **)(uintptr_t)spec->argv;
	opts.env = (char **)(uintptr_t)spec->env;
	opts.stdio = stdio;
	opts.stdio_count = 3;
	opts.exit_cb = runner_on_exit;
	/* setsid(): a session and process group of its own, away from our signals. */
	opts.flags = UV_PROCESS_DETACHED;

	t->started_ms = uv_now(loop);
	if ((r = uv_spawn(loop, &t->process, &opts)) < 0) {
		/* Nothing started: close what we opened and report. */
		util_fail(cause, r, "cannot start %s: %s", spec->file, uv_strerror(r));
		t->finished = true;
		t->open_handles = 4;
		uv_close((uv_handle_t *)&t->out.pipe, runner_on_close_stream);
		uv_close((uv_handle_t *)&t->err.pipe, runner_on_close_stream);
		uv_close((uv_handle_t *)&t->timer, runner_on_close);
		/* libuv: a process handle must be closed even when uv_spawn failed. */
		uv_close((uv_handle_t *)&t->process, runner_on_close);
		return r;
	}
	t->open_handles = 4;
	uv_read_start((uv_stream_t *)&t->out.pipe, runner_alloc, runner_on_read);
	uv_read_start((uv_stream_t *)&t->err.pipe, runner_alloc, runner_on_read);
	if (spec->timeout_ms > 0)
		uv_timer_start(&t->timer, runner_on_timer, spec->timeout_ms, 0);
	*out = t;
	return 0;
}
