/*
 * check_runner: task children on a private libuv loop: lines from stdout and
 * stderr, exit codes and signals, the timeout (SIGTERM, then SIGKILL when
 * SIGTERM is ignored), nothing of the child's process group left behind, a
 * failed start, and every loop closing cleanly (uv_loop_close() == 0).
 */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
