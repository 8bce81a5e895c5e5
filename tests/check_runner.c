/*
 * check_runner: task children on a private libuv loop: lines from stdout and
 * stderr, exit codes and signals, the timeout (SIGTERM, then SIGKILL when
 * SIGTERM is ignored), nothing of the child's process group left behind, a
 * failed start, and every loop closing cleanly (uv_loop_close() == 0).
 * The WhatsApp child's needs: lines written to stdin, the silence time-out
 * (fired, and held off by lines and runner_touch), the whole time-out apart
 * from it, a stop from outside with the reason in the result, and a
 * connection to a unix socket supervised like a child.
 */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "base/runner.h"
#include "base/util.h"
#include "testutil.h"

struct seen {
	char out[8192];
	char err[8192];
	struct runner_result result;
	int exits;
	size_t longest;
	bool long_valid;        /* the longest line is valid UTF-8 */
};

static void
on_line(void *arg, int stream, const char *line)
{
	struct seen *s = arg;
	char *buf = stream == 1 ? s->out : s->err;
	size_t len = strlen(line);

	if (len > s->longest) {
		s->longest = len;
		s->long_valid = util_utf8_valid(line, len) == len;
	}
	if (len > 100)
		line = "(long)";
	snprintf(buf + strlen(buf), 8192 - strlen(buf), "%s|", line);
}

static void
on_exit_cb(void *arg, const struct runner_result *r)
{
	struct seen *s = arg;

	s->result = *r;
	s->exits++;
}

static char path_env[] = "PATH=/usr/bin:/bin";
static char *const env[] = { path_env, NULL };

/* Run argv to completion on a fresh loop. */
static void
run(const char *const *argv, uint64_t timeout_ms, struct seen *s)
{
	struct runner_spec spec = {
		.file = argv[0], .argv = (char *const *)(uintptr_t)argv, .env = env,
		.timeout_ms = timeout_ms, .kill_grace_ms = 300,
		.on_line = on_line, .on_exit = on_exit_cb, .arg = s,
	};
	struct runner_task *t;
	uv_loop_t loop;
	char *cause = NULL;

	memset(s, 0, sizeof *s);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(runner_start(&loop, &spec, &t, &cause), 0);
	ck_assert_int_gt(runner_pid(t), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(s->exits, 1);
}

START_TEST(test_lines_and_status)
{
	const char *argv[] = { "/bin/sh", "-c", "echo one; echo two >&2; printf 'three'; exit 3", NULL };
	struct seen s;

	run(argv, 0, &s);
	ck_assert_str_eq(s.out, "one|three|");
	ck_assert_str_eq(s.err, "two|");
	ck_assert_int_eq(s.result.exit_status, 3);
	ck_assert_int_eq(s.result.term_signal, 0);
	ck_assert(!s.result.timed_out);
}
END_TEST

START_TEST(test_long_line_cut)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x; echo; echo after", NULL };
	struct seen s;

	run(argv, 0, &s);
	ck_assert_uint_eq(s.longest, RUNNER_MAX_LINE);
	ck_assert_str_eq(s.out, "(long)|after|");
	ck_assert_int_eq(s.result.exit_status, 0);
}
END_TEST

/* A line cut where a character straddles the limit loses the whole character. */
START_TEST(test_long_line_cut_utf8)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 65535 /dev/zero | tr '\\0' x; "
	    "printf '\\340\\244\\232yyy\\n'; echo after", NULL };
	struct seen s;

	run(argv, 0, &s);
	ck_assert_uint_eq(s.longest, RUNNER_MAX_LINE - 1);
	ck_assert(s.long_valid);
	ck_assert_str_eq(s.out, "(long)|after|");
}
END_TEST

START_TEST(test_timeout_term)
{
	const char *argv[] = { "/bin/sleep", "60", NULL };
	struct seen s;

	run(argv, 200, &s);
	ck_assert(s.result.timed_out);
	ck_assert_int_eq(s.result.term_signal, SIGTERM);
	ck_assert_int_eq(s.result.exit_status, -1);
	ck_assert_uint_lt(s.result.duration_ms, 5000);
}
END_TEST

START_TEST(test_timeout_kill_when_term_ignored)
{
	/* Ignored signals stay ignored across exec: the whole group ignores SIGTERM. */
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 60", NULL };
	struct seen s;

	run(argv, 200, &s);
	ck_assert(s.result.timed_out);
	ck_assert_int_eq(s.result.term_signal, SIGKILL);
	ck_assert_uint_ge(s.result.duration_ms, 450);
}
END_TEST

/* A background process the child leaves behind dies with it. */
START_TEST(test_no_orphans)
{
	const char *argv[] = { "/bin/sh", "-c", "sleep 300 & echo $!; exit 0", NULL };
	struct seen s;
	pid_t orphan;
	char path[64], *stat;
	int alive = 1;

	run(argv, 0, &s);
	ck_assert_int_eq(s.result.exit_status, 0);
	orphan = (pid_t)atoi(s.out);
	ck_assert_int_gt(orphan, 0);
	/* Gone, or at worst a zombie waiting for init to reap it. */
	for (int i = 0; i < 100 && alive; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", (int)orphan);
		stat = tu_read(path);
		alive = stat != NULL && strstr(stat, ") Z ") == NULL;
		free(stat);
		if (alive)
			usleep(20000);
	}
	ck_assert_msg(!alive, "process %d outlived its task", (int)orphan);
}
END_TEST

START_TEST(test_stop)
{
	const char *argv[] = { "/bin/sleep", "60", NULL };
	struct runner_spec spec = {
		.file = argv[0], .argv = (char *const *)(uintptr_t)argv, .env = env,
		.kill_grace_ms = 300, .on_line = on_line, .on_exit = on_exit_cb,
	};
	struct runner_task *t;
	struct seen s = { 0 };
	uv_loop_t loop;

	spec.arg = &s;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(runner_start(&loop, &spec, &t, NULL), 0);
	runner_stop(t, true);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(s.exits, 1);
	ck_assert_int_eq(s.result.term_signal, SIGKILL);
	ck_assert(!s.result.timed_out);
}
END_TEST

START_TEST(test_start_failure)
{
	const char *argv[] = { "/nonexistent/program", NULL };
	struct runner_spec spec = {
		.file = argv[0], .argv = (char *const *)(uintptr_t)argv, .env = env,
		.on_line = on_line, .on_exit = on_exit_cb,
	};
	struct runner_task *t = NULL;
	struct seen s = { 0 };
	uv_loop_t loop;
	char *cause = NULL;

	spec.arg = &s;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(runner_start(&loop, &spec, &t, &cause), UV_ENOENT);
	ck_assert(tu_contains(cause, "cannot start /nonexistent/program"));
	free(cause);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(s.exits, 0);
}
END_TEST

/* ---- what the WhatsApp child needs ---------------------------------------- */

/* A conversation: each line from the child is answered by the next of replies. */
struct talk {
	struct seen seen;
	struct runner_task *task;
	const char *const *replies;
	size_t next;
	int touches;            /* runner_touch calls left, one per timer tick */
	uv_timer_t ticker;      /* touches the task now and then (test_silence_touch) */
	uv_timer_t stopper;     /* stops the task from outside (test_stop_from_outside) */
	enum runner_kill killing_seen;
};

static void
talk_line(void *arg, int stream, const char *line)
{
	struct talk *k = arg;

	on_line(&k->seen, stream, line);
	if (stream == 1 && k->replies != NULL && k->replies[k->next] != NULL)
		ck_assert_int_eq(runner_write(k->task, k->replies[k->next++]), 0);
	if (runner_killing(k->task) != RUNNER_KILL_NONE)
		k->killing_seen = runner_killing(k->task);
}

static void
talk_exit(void *arg, const struct runner_result *r)
{
	struct talk *k = arg;

	on_exit_cb(&k->seen, r);
	k->task = NULL;
	if (!uv_is_closing((uv_handle_t *)&k->ticker))
		uv_close((uv_handle_t *)&k->ticker, NULL);
	if (!uv_is_closing((uv_handle_t *)&k->stopper))
		uv_close((uv_handle_t *)&k->stopper, NULL);
}

static void
talk_tick(uv_timer_t *timer)
{
	struct talk *k = timer->data;

	if (k->task == NULL || k->touches-- <= 0) {
		uv_timer_stop(timer);
		return;
	}
	runner_touch(k->task);
}

static void
talk_stop(uv_timer_t *timer)
{
	struct talk *k = timer->data;

	if (k->task != NULL)
		runner_stop(k->task, false);
}

/*
 * Run argv with a stdin pipe on a fresh loop, writing first (if any) at once;
 * touch_every_ms and stop_after_ms (0: not) drive the owner's side.
 */
static void
converse(const char *const *argv, const struct runner_spec *base, const char *first, uint64_t touch_every_ms,
    uint64_t stop_after_ms, struct talk *k)
{
	struct runner_spec spec = *base;
	uv_loop_t loop;
	char *cause = NULL;

	spec.file = argv[0];
	spec.argv = (char *const *)(uintptr_t)argv;
	spec.env = env;
	spec.stdin_pipe = true;
	spec.on_line = talk_line;
	spec.on_exit = talk_exit;
	spec.arg = k;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &k->ticker);
	uv_timer_init(&loop, &k->stopper);
	k->ticker.data = k->stopper.data = k;
	ck_assert_int_eq(runner_start(&loop, &spec, &k->task, &cause), 0);
	if (first != NULL)
		ck_assert_int_eq(runner_write(k->task, first), 0);
	if (touch_every_ms > 0)
		uv_timer_start(&k->ticker, talk_tick, touch_every_ms, touch_every_ms);
	if (stop_after_ms > 0)
		uv_timer_start(&k->stopper, talk_stop, stop_after_ms, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(k->seen.exits, 1);
}

/* Lines written to stdin come back from a cat-like child, each reply written from on_line. */
START_TEST(test_stdin_echo)
{
	/* cat, but unbuffered (the shell's echo writes at once) and done after three lines. */
	const char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 3 ] && read -r l; do echo \"$l\"; "
	    "i=$((i+1)); done", NULL };
	const char *replies[] = { "two", "three", NULL };
	struct runner_spec spec = { .kill_grace_ms = 300 };
	struct talk k = { .replies = replies };

	converse(argv, &spec, "one", 0, 0, &k);
	ck_assert_str_eq(k.seen.out, "one|two|three|");
	ck_assert_int_eq(k.seen.result.exit_status, 0);
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_NONE);
}
END_TEST

/* A child without stdin_pipe reads /dev/null and cannot be written to. */
START_TEST(test_stdin_none)
{
	const char *argv[] = { "/bin/cat", NULL };
	struct runner_spec spec = {
		.file = argv[0], .argv = (char *const *)(uintptr_t)argv, .env = env,
		.on_line = on_line, .on_exit = on_exit_cb,
	};
	struct runner_task *t;
	struct seen s = { 0 };
	uv_loop_t loop;

	spec.arg = &s;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(runner_start(&loop, &spec, &t, NULL), 0);
	ck_assert_int_eq(runner_write(t, "lost"), -EPIPE);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(s.exits, 1);
	ck_assert_str_eq(s.out, "");
	ck_assert_int_eq(s.result.exit_status, 0);
}
END_TEST

/* Nothing said for silence_ms: killed, the reason in the result, lines read to the end. */
START_TEST(test_silence_fires)
{
	const char *argv[] = { "/bin/sh", "-c", "trap 'echo bye; exit 7' TERM; echo hi; "
	    "while :; do sleep 0.05; done", NULL };
	struct runner_spec spec = { .silence_ms = 300, .timeout_ms = 20000, .kill_grace_ms = 2000 };
	struct talk k = { 0 };

	converse(argv, &spec, NULL, 0, 0, &k);
	ck_assert_str_eq(k.seen.out, "hi|bye|");
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_SILENCE);
	ck_assert_int_eq(k.killing_seen, RUNNER_KILL_SILENCE);
	ck_assert(k.seen.result.timed_out);
	ck_assert_int_eq(k.seen.result.exit_status, 7);
	ck_assert_uint_ge(k.seen.result.duration_ms, 300);
	ck_assert_uint_lt(k.seen.result.duration_ms, 2000);
}
END_TEST

/* Every line from the child starts the silence again: a chatty child outlives it. */
START_TEST(test_silence_restarted_by_lines)
{
	const char *argv[] = { "/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 0.15; echo $i; done", NULL };
	struct runner_spec spec = { .silence_ms = 400, .kill_grace_ms = 300 };
	struct talk k = { 0 };

	converse(argv, &spec, NULL, 0, 0, &k);
	ck_assert_str_eq(k.seen.out, "1|2|3|4|5|6|");
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_NONE);
	ck_assert_int_eq(k.seen.result.exit_status, 0);
	ck_assert_uint_ge(k.seen.result.duration_ms, 800);
}
END_TEST

/* runner_touch starts it again too; once the owner stops touching, it fires. */
START_TEST(test_silence_restarted_by_touch)
{
	const char *argv[] = { "/bin/sleep", "60", NULL };
	struct runner_spec spec = { .silence_ms = 300, .kill_grace_ms = 300 };
	struct talk k = { .touches = 8 };

	converse(argv, &spec, NULL, 100, 0, &k);
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_SILENCE);
	ck_assert_int_eq(k.seen.result.term_signal, SIGTERM);
	/* Eight touches 100 ms apart, then 300 ms of silence. */
	ck_assert_uint_ge(k.seen.result.duration_ms, 1000);
	ck_assert_uint_lt(k.seen.result.duration_ms, 5000);
}
END_TEST

/* The whole time-out holds however chatty the child is, and says so apart from the silence. */
START_TEST(test_whole_timeout)
{
	const char *argv[] = { "/bin/sh", "-c", "while :; do echo tick; sleep 0.05; done", NULL };
	struct runner_spec spec = { .silence_ms = 300, .timeout_ms = 600, .kill_grace_ms = 300 };
	struct talk k = { 0 };

	converse(argv, &spec, NULL, 0, 0, &k);
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_TIMEOUT);
	ck_assert(k.seen.result.timed_out);
	ck_assert_int_eq(k.seen.result.term_signal, SIGTERM);
	ck_assert_uint_ge(k.seen.result.duration_ms, 600);
	ck_assert_uint_lt(k.seen.result.duration_ms, 5000);
}
END_TEST

/* A stop from outside: SIGTERM ignored by the group, so SIGKILL after the grace; not a time-out. */
START_TEST(test_stop_from_outside)
{
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; echo up; sleep 60", NULL };
	struct runner_spec spec = { .timeout_ms = 20000, .silence_ms = 20000, .kill_grace_ms = 300 };
	struct talk k = { 0 };

	converse(argv, &spec, NULL, 0, 200, &k);
	ck_assert_str_eq(k.seen.out, "up|");
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_STOP);
	ck_assert(!k.seen.result.timed_out);
	ck_assert_int_eq(k.seen.result.term_signal, SIGKILL);
	ck_assert_uint_ge(k.seen.result.duration_ms, 450);
	ck_assert_str_eq(runner_strkill(k.seen.result.killed), "stop");
}
END_TEST

/* ---- a connection instead of a child ----------------------------------------- */

/* A peer in a forked process: echoes each line upper-cased... or nothing (hang) until end of input. */
static pid_t
peer_start(const char *path, bool hang)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c;
	pid_t pid;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	unlink(path);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	if ((pid = fork()) == 0) {
		char buf[256];
		ssize_t n;

		if ((c = accept(l, NULL, NULL)) < 0)
			_exit(1);
		while ((n = read(c, buf, sizeof buf)) > 0)
			if (!hang && write(c, buf, (size_t)n) != n)
				_exit(1);
		/* End of input (our shutdown): one last word, as salesd-whatsapp says its exit. */
		if (write(c, "exit\n", 5) != 5)
			_exit(1);
		_exit(0);
	}
	close(l);
	return pid;
}

static void
connect_run(const char *path, const struct runner_spec *base, const char *first, struct talk *k)
{
	struct runner_spec spec = *base;
	uv_loop_t loop;
	char *cause = NULL;

	spec.on_line = talk_line;
	spec.on_exit = talk_exit;
	spec.arg = k;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &k->ticker);
	uv_timer_init(&loop, &k->stopper);
	k->ticker.data = k->stopper.data = k;
	ck_assert_int_eq(runner_connect(&loop, path, &spec, &k->task, &cause), 0);
	ck_assert_int_eq(runner_pid(k->task), 0);
	/* Written before the connection is up: it waits for it. */
	ck_assert_int_eq(runner_write(k->task, first), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(k->seen.exits, 1);
}

/* Lines both ways; a silence shuts our side down and the peer's last words are still read. */
START_TEST(test_connection)
{
	char path[64];
	const char *replies[] = { "two", NULL };
	struct runner_spec spec = { .silence_ms = 300, .timeout_ms = 20000, .kill_grace_ms = 2000 };
	struct talk k = { .replies = replies };
	pid_t peer;
	int st;

	snprintf(path, sizeof path, "/tmp/check_runner.%d.sock", (int)getpid());
	peer = peer_start(path, false);
	connect_run(path, &spec, "one", &k);
	ck_assert_str_eq(k.seen.out, "one|two|exit|");
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_SILENCE);
	ck_assert_int_eq(k.seen.result.error, 0);
	ck_assert_int_eq(k.seen.result.exit_status, -1);
	ck_assert_int_eq(waitpid(peer, &st, 0), peer);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(path);
}
END_TEST

/* Nobody listening: on_exit says why, and nothing else happens. */
START_TEST(test_connection_refused)
{
	struct runner_spec spec = { .timeout_ms = 20000, .kill_grace_ms = 300 };
	struct talk k = { 0 };

	connect_run("/nonexistent/check_runner.sock", &spec, "one", &k);
	ck_assert_int_lt(k.seen.result.error, 0);
	ck_assert_str_eq(k.seen.out, "");
	ck_assert_int_eq(k.seen.result.killed, RUNNER_KILL_NONE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("runner");
	TCase *tc = tcase_create("children");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_lines_and_status);
	tcase_add_test(tc, test_long_line_cut);
	tcase_add_test(tc, test_long_line_cut_utf8);
	tcase_add_test(tc, test_timeout_term);
	tcase_add_test(tc, test_timeout_kill_when_term_ignored);
	tcase_add_test(tc, test_no_orphans);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_start_failure);
	suite_add_tcase(s, tc);
	tc = tcase_create("conversation");
	tcase_add_test(tc, test_stdin_echo);
	tcase_add_test(tc, test_stdin_none);
	tcase_add_test(tc, test_silence_fires);
	tcase_add_test(tc, test_silence_restarted_by_lines);
	tcase_add_test(tc, test_silence_restarted_by_touch);
	tcase_add_test(tc, test_whole_timeout);
	tcase_add_test(tc, test_stop_from_outside);
	suite_add_tcase(s, tc);
	tc = tcase_create("connection");
	tcase_add_test(tc, test_connection);
	tcase_add_test(tc, test_connection_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
